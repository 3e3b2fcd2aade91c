package e2e

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/test/demo"
	"github.com/provisioning-dev/scim-operator/test/localcluster"
)

// unassignedGroup is taken out of spec.okta.assignGroups half way through.
const unassignedGroup = "Training Academy"

// TestMainJob_ProvisionsTheRosterFromOktaAndExplainsFaults runs the demo's path and checks
// every outcome an agency cares about.
func TestMainJob_ProvisionsTheRosterFromOktaAndExplainsFaults(t *testing.T) {
	requireClusterBinaries(t)
	root, err := demo.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := workDir(t)
	env, err := demo.New(demo.Options{Root: root, Dir: dir, ScimServerBinary: buildScimServer(t, root),
		Out: logWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = env.Stop()
		}
	})
	ctx := t.Context()
	run := newRun(t, ctx, env)

	run.startAndPush()
	t.Run("assigned users carry their roster values", run.checkUsers)
	t.Run("entries breaking an agency rule are refused with the reason", run.checkRefusals)
	t.Run("pushed groups have exactly their members", run.checkGroups)
	t.Run("status counts match the SCIM server", run.checkCounts)
	t.Run("unassigned users are inactive and kept", run.checkUnassignment)
	t.Run("IssuerMismatch is reported with both issuers and recovers", run.checkIssuerMismatch)
	t.Run("nothing is left running after Stop", func(t *testing.T) {
		run.checkStop(t)
		stopped = true
	})
}

// run carries the state the checks share.
type run struct {
	t   *testing.T
	ctx context.Context
	env *demo.Env
	ap  *scimv1alpha1.AgencyProvisioning
	exp expectation
	sc  *demo.ScimClient
	// users and groups are the SCIM server's resources after the push, by lower-cased
	// userName and by displayName.
	users  map[string]map[string]any
	groups map[string]map[string]any
}

func newRun(t *testing.T, ctx context.Context, env *demo.Env) *run {
	return &run{t: t, ctx: ctx, env: env}
}

func (r *run) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

// startAndPush runs the demo's steps up to the end of the roster push and reads both sides.
func (r *run) startAndPush() {
	env, ctx := r.env, r.ctx
	r.must(env.Start(ctx))
	r.must(env.StartScimServer(ctx))
	_, _, err := env.ManualStep(ctx)
	r.must(err)
	_, err = env.WaitConnected(ctx)
	r.must(err)
	p, err := env.Push(ctx, 5*time.Second, func(p oktasim.Progress) {
		r.t.Logf("pushed %d, failed %d, total %d", p.Pushed, p.Failed, p.Total)
	})
	r.must(err)
	if p.Pending != 0 {
		r.t.Fatalf("the push ended with %d tasks pending", p.Pending)
	}
	r.ap, _, err = env.WaitCounts(ctx)
	r.must(err)
	ids, err := env.OktaUserIDs(ctx)
	r.must(err)
	r.exp, err = expect(env.Roster, env.Seed, ids, r.ap.Spec.Directory)
	r.must(err)
	r.sc, err = env.NewScimClient(ctx)
	r.must(err)
	r.readDirectory()
}

func (r *run) readDirectory() {
	users, err := r.sc.List(r.ctx, "Users")
	r.must(err)
	groups, err := r.sc.List(r.ctx, "Groups")
	r.must(err)
	r.users = map[string]map[string]any{}
	for _, u := range users {
		r.users[strings.ToLower(str(u["userName"]))] = u
	}
	r.groups = map[string]map[string]any{}
	for _, g := range groups {
		r.groups[str(g["displayName"])] = g
	}
}

func (r *run) checkUsers(t *testing.T) {
	g := NewWithT(t)
	g.Expect(r.users).To(HaveLen(len(r.exp.users)), "one SCIM user per valid roster email")
	for email, want := range r.exp.users {
		u, ok := r.users[email]
		if !ok {
			t.Errorf("roster user %s (Okta %s) is missing from the SCIM server", email, want.oktaID)
			continue
		}
		p := want.person
		ext := obj(u[scimv1alpha1.DefaultExtensionSchema])
		got := map[string]any{
			"givenName": obj(u["name"])["givenName"], "familyName": obj(u["name"])["familyName"],
			"active": u["active"], "externalId": u["externalId"], "preferredLanguage": u["preferredLanguage"],
			"badgeId": ext["badgeId"], "rankName": ext["rankName"], "axonRole": ext["axonRole"],
			"userGroupName": ext["userGroupName"], "groups": displays(u["groups"]),
		}
		wanted := map[string]any{
			"givenName": p.FirstName, "familyName": p.LastName, "active": true, "externalId": want.oktaID,
			"preferredLanguage": wantLanguage(p), "badgeId": p.EmployeeNumber, "rankName": p.Title,
			"axonRole": wantRole(p), "userGroupName": p.Division, "groups": want.groups,
		}
		if r.exp.shared[email] {
			// Several Okta users share this email; Okta linked them all to one SCIM user,
			// which holds the values of the last one pushed.
			t.Logf("%s is shared by several roster people (a roster fault); checking the last one pushed", email)
		}
		g.Expect(got).To(Equal(wanted), "SCIM user %s", email)
	}
}

func (r *run) checkRefusals(t *testing.T) {
	g := NewWithT(t)
	g.Expect(r.exp.refused).NotTo(BeEmpty(), "the roster carries entries that break the agency's rules")
	failures := r.env.Failures(r.ap.Status.Okta.SAMLAppID)
	got := map[string]string{}
	for _, f := range failures {
		got[f.OktaID] = f.Error
		g.Expect(f.Status).To(Equal(400), "refusal of %s: %s", f.OktaID, f.Error)
		g.Expect(f.Error).To(ContainSubstring("invalidValue"), "refusal of %s", f.OktaID)
	}
	g.Expect(got).To(HaveLen(len(r.exp.refused)), "one failed push per rule-breaking roster entry")
	for id, reason := range r.exp.refused {
		g.Expect(got).To(HaveKeyWithValue(id, ContainSubstring(reason)), "Okta user %s", id)
	}
	// The refusals must also reach the admin through the resource: a Warning Event per cause
	// (Events are recorded asynchronously, hence Eventually).
	refusalNotes := func() []string {
		events, err := r.env.Events(r.ctx, r.ap)
		g.Expect(err).NotTo(HaveOccurred())
		var notes []string
		for _, ev := range events {
			if ev.Reason == controller.ReasonProvisioningRefused && ev.Type == corev1.EventTypeWarning {
				notes = append(notes, ev.Message)
			}
		}
		return notes
	}
	for _, reason := range r.exp.refused {
		g.Eventually(refusalNotes).WithTimeout(15*time.Second).Should(ContainElement(ContainSubstring(reason)),
			"a %s Event of AgencyProvisioning %s names %q", controller.ReasonProvisioningRefused, r.ap.Name, reason)
	}
}

func (r *run) checkGroups(t *testing.T) {
	g := NewWithT(t)
	for name, want := range r.exp.members {
		grp, ok := r.groups[name]
		if !ok {
			t.Errorf("group %q is missing from the SCIM server", name)
			continue
		}
		var got []string
		for _, m := range list(grp["members"]) {
			got = append(got, r.userNameOf(str(obj(m)["value"])))
		}
		slices.Sort(got)
		g.Expect(got).To(Equal(want), "members of %q", name)
	}
}

func (r *run) checkCounts(t *testing.T) {
	g := NewWithT(t)
	rep, err := r.env.Report(r.ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rep.Users).To(BeNumerically("==", len(r.exp.users)))
	g.Expect(rep.ActiveUsers).To(BeNumerically("==", len(r.exp.users)))
	g.Expect(rep.Groups).To(BeNumerically("==", len(r.groups)))
	ap, err := r.env.GetAP(r.ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ap.Status.Users).To(HaveValue(BeNumerically("==", rep.Users)))
	g.Expect(ap.Status.Groups).To(HaveValue(BeNumerically("==", rep.Groups)))
	for _, typ := range []string{scimv1alpha1.ConditionReady, scimv1alpha1.ConditionScimServerAvailable,
		scimv1alpha1.ConditionProvisioningConnected, scimv1alpha1.ConditionScimAuthenticated} {
		g.Expect(conditionStatus(ap.Status.Conditions, typ)).To(Equal(metav1.ConditionTrue), typ)
	}
}

func (r *run) checkUnassignment(t *testing.T) {
	g := NewWithT(t)
	g.Expect(r.env.StopAssigning(r.ctx, unassignedGroup)).To(Succeed())
	r.readDirectory()
	leaving, staying := 0, 0
	for email, want := range r.exp.users {
		if r.exp.shared[email] || !slices.Contains(want.groups, unassignedGroup) {
			continue
		}
		u, ok := r.users[email]
		if !ok {
			t.Errorf("%s was removed from the SCIM server; an unassigned user must stay, inactive", email)
			continue
		}
		stillAssigned := slices.ContainsFunc(want.groups, func(grp string) bool {
			return grp != unassignedGroup && slices.Contains(r.ap.Spec.Okta.AssignGroups, grp)
		})
		if stillAssigned {
			staying++
		} else {
			leaving++
		}
		g.Expect(u["active"]).To(Equal(stillAssigned), "active of %s (groups %v)", email, want.groups)
	}
	g.Expect(leaving).To(BeNumerically(">", 0), "someone was only in %s", unassignedGroup)
	rep, err := r.env.Report(r.ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rep.Users).To(BeNumerically("==", len(r.exp.users)), "no user is deleted")
	t.Logf("%d users left with %s, %d stayed through another group", leaving, unassignedGroup, staying)
}

func (r *run) checkIssuerMismatch(t *testing.T) {
	g := NewWithT(t)
	var target wantUser
	for email, u := range r.exp.users {
		if !r.exp.shared[email] && u.person.Title == "Officer" &&
			!slices.Contains(u.groups, unassignedGroup) {
			target = u
			break
		}
	}
	g.Expect(target.oktaID).NotTo(BeEmpty())
	f, err := r.env.InjectIssuerMismatch(r.ctx, target.oktaID, "Corporal")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.Condition.Reason).To(Equal(scimv1alpha1.ReasonIssuerMismatch))
	g.Expect(f.Condition.Message).To(
		And(ContainSubstring(f.WrongOrgURL), ContainSubstring(f.RightOrgURL+"/oauth2/default")),
		"the message names the expected and the seen issuer")
	ap, err := r.env.GetAP(r.ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(conditionStatus(ap.Status.Conditions, scimv1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))

	c, err := r.env.Recover(r.ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	raw, err := r.sc.FindUser(r.ctx, strings.ToLower(target.person.Email))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(raw)).To(ContainSubstring(`"rankName":"Corporal"`),
		"the promotion refused during the fault arrived")
	ap, err = r.env.WaitAP(r.ctx, time.Minute, "Ready=True", func(ap *scimv1alpha1.AgencyProvisioning) error {
		if conditionStatus(ap.Status.Conditions, scimv1alpha1.ConditionReady) != metav1.ConditionTrue {
			return errors.New("not ready")
		}
		return nil
	})
	g.Expect(err).NotTo(HaveOccurred())
	events, err := r.env.Events(r.ctx, ap)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(events).To(ContainElement(HaveField("Reason", scimv1alpha1.ReasonIssuerMismatch)),
		"the transition to IssuerMismatch is recorded as an Event")
}

func (r *run) checkStop(t *testing.T) {
	g := NewWithT(t)
	env := r.env
	pids := map[string]int{"scim-server": env.ScimServerPID()}
	for _, p := range env.Cluster.Components() {
		pids[p.Name] = p.PID
	}
	api, err := url.Parse(env.Cluster.Server())
	g.Expect(err).NotTo(HaveOccurred())
	sim, err := url.Parse(env.Sim.URL())
	g.Expect(err).NotTo(HaveOccurred())
	scim, err := url.Parse(env.ScimBaseURL("x"))
	g.Expect(err).NotTo(HaveOccurred())
	metrics, err := url.Parse(env.ScimMetricsURL())
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(env.Stop()).To(Succeed())
	g.Expect(pids).To(HaveLen(6), "scim-server and the five cluster components")
	for name, pid := range pids {
		g.Expect(pid).To(BeNumerically(">", 0), name)
		g.Expect(syscall.Kill(pid, 0)).To(MatchError(syscall.ESRCH), "%s (pid %d) still runs", name, pid)
	}
	for _, addr := range []string{api.Host, sim.Host, scim.Host, metrics.Host} {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
		}
		g.Expect(err).To(HaveOccurred(), "%s still accepts connections", addr)
	}
}

func (r *run) userNameOf(id string) string {
	for name, u := range r.users {
		if str(u["id"]) == id {
			return name
		}
	}
	return "unknown id " + id
}

// requireClusterBinaries skips without the local cluster's binaries, except under CI.
func requireClusterBinaries(t *testing.T) {
	dir, err := localcluster.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			msg := "the local cluster's binaries are missing (" + b + " in " + dir +
				"); build them with hack/envtest-binaries.sh --cluster"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// buildScimServer builds cmd/scim-server into the test's temporary directory, so the test
// never runs a stale bin/scim-server.
func buildScimServer(t *testing.T, root string) string {
	out := filepath.Join(t.TempDir(), "scim-server")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/scim-server")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build scim-server: %v\n%s", err, b)
	}
	return out
}

// workDir is removed after a passing run and kept, with its logs, after a failure.
func workDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "scim-operator-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs kept in %s/logs and %s/cluster/logs", dir, dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

// logWriter sends the demo's narration to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func conditionStatus(conds []metav1.Condition, typ string) metav1.ConditionStatus {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status
		}
	}
	return metav1.ConditionUnknown
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// displays returns the sorted display names of a user's groups.
func displays(v any) []string {
	out := []string{}
	for _, g := range list(v) {
		out = append(out, str(obj(g)["display"]))
	}
	slices.Sort(out)
	return out
}
