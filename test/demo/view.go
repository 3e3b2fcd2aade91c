package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/test/localcluster"
)

// Kubectl runs the kubectl built next to the cluster binaries against the local cluster and
// returns its output; ok is false when no kubectl was built.
func (e *Env) Kubectl(ctx context.Context, args ...string) (out string, ok bool, err error) {
	dir, err := localcluster.BinDir()
	if err != nil {
		return "", false, err
	}
	bin := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(bin); err != nil {
		return "", false, nil
	}
	args = append([]string{"--kubeconfig", e.Cluster.Kubeconfig(), "-n", e.opts.Namespace}, args...)
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return buf.String(), true, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, buf.String())
	}
	return buf.String(), true, nil
}

// PrintAdminView writes what an admin looks at after the push: the resources as kubectl
// lists them, their conditions, the counts on both sides, one provisioned user as SCIM JSON
// and the failed pushes with their reasons.
func (e *Env) PrintAdminView(ctx context.Context, w io.Writer) error {
	ap, err := e.GetAP(ctx)
	if err != nil {
		return err
	}
	sum, err := e.GetMapping(ctx)
	if err != nil {
		return err
	}
	out, ok, err := e.Kubectl(ctx, "get", "ap,sum", "-o", "wide")
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintf(w, "\n$ kubectl get ap,sum -o wide\n%s", out)
	}
	fmt.Fprintf(w, "\nAgencyProvisioning %s conditions:\n%s", ap.Name, FormatConditions(ap.Status.Conditions, "  "))
	fmt.Fprintf(w, "ScimUserMapping %s conditions:\n%s", sum.Name, FormatConditions(sum.Status.Conditions, "  "))

	rep, err := e.Report(ctx)
	if err != nil {
		return err
	}
	app := ap.Status.Okta.SAMLAppID
	st := e.Sim.Snapshot()
	assigned := 0
	for _, a := range st.Apps {
		if a.ID == app {
			assigned = a.Assigned
		}
	}
	prog := e.Sim.Progress(app)
	fmt.Fprintln(w, "\nCounts:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Okta (oktasim)\tusers %d, groups %d, people assigned to %s: %d\n", st.Users, st.Groups,
		ap.Status.Okta.SAMLAppName, assigned)
	fmt.Fprintf(tw, "  Okta push tasks\tpushed %d, failed %d, total %d\n", prog.Pushed, prog.Failed, prog.Total)
	fmt.Fprintf(tw, "  SCIM server /report\tusers %d (active %d), groups %d\n", rep.Users, rep.ActiveUsers, rep.Groups)
	if ap.Status.Users != nil && ap.Status.ActiveUsers != nil && ap.Status.Groups != nil {
		fmt.Fprintf(tw, "  AgencyProvisioning status\tusers %d (active %d), groups %d\n", *ap.Status.Users,
			*ap.Status.ActiveUsers, *ap.Status.Groups)
	}
	_ = tw.Flush()

	if err := e.printOneUser(ctx, w); err != nil {
		return err
	}
	printFailures(w, e.Failures(app))
	return e.printRefusalEvents(ctx, w, ap)
}

// printRefusalEvents shows the Warning Events the operator recorded for refused writes, as
// `kubectl describe ap` lists them among the others.
func (e *Env) printRefusalEvents(ctx context.Context, w io.Writer, ap client.Object) error {
	events, err := e.Events(ctx, ap)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThe same refusals as %s Events on the AgencyProvisioning (kubectl describe ap %s):\n",
		controller.ReasonProvisioningRefused, ap.GetName())
	for _, ev := range events {
		if ev.Type == corev1.EventTypeWarning && ev.Reason == controller.ReasonProvisioningRefused {
			fmt.Fprintf(w, "  %s  %s\n", ev.Reason, ev.Message)
		}
	}
	return nil
}

// printOneUser shows a provisioned user who has a rank, a division, a preferred language and
// group memberships, as the SCIM server returns it.
func (e *Env) printOneUser(ctx context.Context, w io.Writer) error {
	sc, err := e.NewScimClient(ctx)
	if err != nil {
		return err
	}
	users, err := sc.List(ctx, "Users")
	if err != nil {
		return err
	}
	id := ""
	for _, u := range users {
		groups, _ := u["groups"].([]any)
		if id == "" || (len(groups) > 1 && u["preferredLanguage"] != nil) {
			id, _ = u["id"].(string)
		}
		if len(groups) > 1 && u["preferredLanguage"] != nil {
			break
		}
	}
	if id == "" {
		return fmt.Errorf("the SCIM server holds no user")
	}
	raw, err := sc.Get(ctx, "/Users/"+id)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "  ", "  "); err != nil {
		return fmt.Errorf("format the user: %w", err)
	}
	fmt.Fprintf(w, "\nOne provisioned user (GET /Users/%s, with a token of the operator's OIDC client):\n  %s\n",
		id, pretty.String())
	return nil
}

// printFailures lists failed pushes, grouped by reason, as Okta's provisioning tasks show them.
func printFailures(w io.Writer, failures []oktasim.PushRecord) {
	fmt.Fprintf(w, "\nFailed pushes (Okta's provisioning tasks): %d\n", len(failures))
	byReason := map[string][]string{}
	for _, f := range failures {
		reason := fmt.Sprintf("%s %s -> %d: %s", f.Method, f.Path, f.Status, f.Error)
		byReason[reason] = append(byReason[reason], f.OktaID)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  %s  (Okta users %s)\n", r, strings.Join(byReason[r], ", "))
	}
}
