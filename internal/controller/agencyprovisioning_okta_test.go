package controller

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// oktaSuiteLabel selects the AgencyProvisionings and ScimUserMappings one Okta test's manager
// reconciles; the workload tests' manager ignores them.
const oktaSuiteLabel = workloadSuiteLabel

// fakeReports is the SCIM servers' reports as the test sets them, keyed by AgencyProvisioning
// name. A missing entry reads as an unreachable server.
type fakeReports struct {
	mu      sync.Mutex
	reports map[string]scimconfig.Report
	// reads counts ReadReport calls.
	reads atomic.Int64
}

func (f *fakeReports) set(name string, r scimconfig.Report) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports[name] = r
}

// ReadReport implements ReportReader.
func (f *fakeReports) ReadReport(_ context.Context, ap *scimv1alpha1.AgencyProvisioning) (*scimconfig.Report, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reports[ap.Name]
	if !ok {
		return nil, fmt.Errorf("dial tcp: connection refused")
	}
	return &r, nil
}

// callCounter counts the Okta management calls under the okta client, by method and status.
type callCounter struct {
	next   http.RoundTripper
	reads  atomic.Int64
	writes atomic.Int64
	limits atomic.Int64
	checks atomic.Int64
}

func (c *callCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/api/") {
		if req.Method == http.MethodGet {
			c.reads.Add(1)
		} else {
			c.writes.Add(1)
		}
		if req.Method == http.MethodGet && req.URL.Path == "/api/v1/apps" && req.URL.Query().Get("limit") == "1" {
			c.checks.Add(1)
		}
	}
	resp, err := c.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		c.limits.Add(1)
	}
	return resp, err
}

// oktaEnv is one test's world: an oktasim org, a namespace, and a manager running the
// AgencyProvisioning (with its Okta steps) and ScimUserMapping controllers for the test's
// objects.
type oktaEnv struct {
	t       *testing.T
	sim     *oktasim.Sim
	ns      string
	label   string
	reports *fakeReports
	calls   *callCounter
	org     *okta.Client // the test's own view of the org
	sync    *OktaSync
}

type envOptions struct {
	simOpts     []oktasim.Option
	resync      time.Duration
	maxWait     time.Duration
	concurrency int
	apWorkers   int
	// callTimeout bounds one Okta request (default 2s).
	callTimeout time.Duration
	reportPoll  time.Duration
	// realReports reads the SCIM servers' reports over HTTP from the report-url annotation.
	realReports bool
	// ownNamespaceOnly narrows the cache to the test's namespace, as --watch-namespaces does.
	ownNamespaceOnly bool
}

// startSim starts an Okta simulator for org "testorg" on 127.0.0.1, stopped when the test ends,
// and a client of its management API.
func startSim(t *testing.T, opts ...oktasim.Option) (*oktasim.Sim, *okta.Client) {
	t.Helper()
	sim, err := oktasim.New(append([]oktasim.Option{oktasim.WithOrgName("testorg")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	org, err := okta.New(okta.Credentials{OrgURL: sim.URL(), APIToken: sim.APIToken()}, okta.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sim, org
}

func newOktaEnv(t *testing.T, o envOptions) *oktaEnv {
	t.Helper()
	sim, org := startSim(t, o.simOpts...)
	e := &oktaEnv{
		t: t, sim: sim,
		ns:      "okta-" + strings.ToLower(fmt.Sprintf("%x", time.Now().UnixNano()))[8:],
		label:   "okta-" + strings.ToLower(strings.ReplaceAll(t.Name(), "_", "-")),
		reports: &fakeReports{reports: map[string]scimconfig.Report{}},
		calls:   &callCounter{next: http.DefaultTransport.(*http.Transport).Clone()},
	}
	if len(e.label) > 63 {
		e.label = e.label[:63]
	}
	if err := k8sClient.Create(t.Context(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	e.org = org
	e.createSecret("okta-creds", sim.APIToken())
	e.startManager(o)
	return e
}

func (e *oktaEnv) startManager(o envOptions) {
	t := e.t
	selector := labels.SelectorFromSet(labels.Set{oktaSuiteLabel: e.label})
	cfg := rest.CopyConfig(restConfig)
	cfg.QPS, cfg.Burst = 200, 400 // 50 agencies' workloads and statuses, without client-side throttling
	cacheOpts := cache.Options{ByObject: agencyCache(selector)}
	if o.ownNamespaceOnly {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{e.ns: {}}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:                  cacheOpts,
		Client:                 ClientOptions(),
	})
	if err != nil {
		t.Fatal(err)
	}
	factory := okta.NewFactory(okta.Options{
		Transport:        e.calls,
		CallTimeout:      cmp.Or(o.callTimeout, 2*time.Second),
		MaxRateLimitWait: max(o.maxWait, time.Second),
		RetryBackoff:     50 * time.Millisecond,
		MaxConcurrent:    o.concurrency,
	})
	resync := o.resync
	if resync == 0 {
		resync = time.Hour
	}
	poll := o.reportPoll
	if poll == 0 {
		poll = 200 * time.Millisecond
	}
	e.sync = &OktaSync{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), NewOrg: factory.NewOrg, Reports: e.reports,
		ResyncPeriod: resync, ReportPollInterval: poll, RetryInterval: 300 * time.Millisecond,
		SecretMetadata: mgr.GetCache(),
	}
	if o.realReports {
		e.sync.Reports = &HTTPReportReader{AllowAnnotation: true}
	}
	ap := &AgencyProvisioningReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), ScimServerImage: testImage, Okta: e.sync,
		Workers: o.apWorkers,
	}
	if err := ap.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	sum := &ScimUserMappingReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), NewOrg: factory.NewOrg,
		ResyncPeriod: resync, RetryInterval: 300 * time.Millisecond,
	}
	if err := sum.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func (e *oktaEnv) createSecret(name, token string) {
	e.t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Data:       map[string][]byte{scimv1alpha1.CredentialsKeyAPIToken: []byte(token)},
	}
	if err := k8sClient.Create(e.t.Context(), s); err != nil {
		e.t.Fatal(err)
	}
}

func (e *oktaEnv) setToken(name, token string) {
	e.t.Helper()
	var s corev1.Secret
	if err := k8sClient.Get(e.t.Context(), client.ObjectKey{Namespace: e.ns, Name: name}, &s); err != nil {
		e.t.Fatal(err)
	}
	s.Data[scimv1alpha1.CredentialsKeyAPIToken] = []byte(token)
	if err := k8sClient.Update(e.t.Context(), &s); err != nil {
		e.t.Fatal(err)
	}
}

// simGroup creates an Okta group in the simulator through its management API.
func (e *oktaEnv) simGroup(name string) string {
	e.t.Helper()
	var g struct {
		ID string `json:"id"`
	}
	e.simAPI(http.MethodPost, "/api/v1/groups", map[string]any{"profile": map[string]any{"name": name}}, &g)
	return g.ID
}

func (e *oktaEnv) simAPI(method, path string, body, out any) int {
	e.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, _ := http.NewRequestWithContext(e.t.Context(), method, e.sim.URL()+path, &buf)
	req.Header.Set("Authorization", "SSWS "+e.sim.APIToken())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// syncedDeletableAP creates an AgencyProvisioning with deletionPolicy Delete (then mutate) and
// waits for its first Okta sync.
func (e *oktaEnv) syncedDeletableAP(
	name string,
	mutate func(*scimv1alpha1.AgencyProvisioning),
) *scimv1alpha1.AgencyProvisioning {
	e.t.Helper()
	e.newAP(name, func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.DeletionPolicy = scimv1alpha1.DeletionPolicyDelete
		if mutate != nil {
			mutate(ap)
		}
	})
	return e.waitCondition(name, scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
}

func (e *oktaEnv) newAP(name string, mutate func(*scimv1alpha1.AgencyProvisioning)) *scimv1alpha1.AgencyProvisioning {
	e.t.Helper()
	ap := &scimv1alpha1.AgencyProvisioning{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns,
			Labels: map[string]string{oktaSuiteLabel: e.label}},
		Spec: scimv1alpha1.AgencyProvisioningSpec{
			AgencyID: name,
			Okta: scimv1alpha1.OktaSpec{
				OrgURL:               e.sim.URL(),
				CredentialsSecretRef: scimv1alpha1.OktaCredentialsRef{Name: "okta-creds"},
				ResyncPeriod:         metav1.Duration{Duration: 10 * time.Minute},
			},
			ScimServer: scimv1alpha1.ScimServerSpec{ExternalURL: "https://scim.example.test"},
		},
	}
	if mutate != nil {
		mutate(ap)
	}
	if err := k8sClient.Create(e.t.Context(), ap); err != nil {
		e.t.Fatal(err)
	}
	return ap
}

func (e *oktaEnv) get(name string) *scimv1alpha1.AgencyProvisioning {
	e.t.Helper()
	var ap scimv1alpha1.AgencyProvisioning
	if err := k8sClient.Get(e.t.Context(), client.ObjectKey{Namespace: e.ns, Name: name}, &ap); err != nil {
		e.t.Fatal(err)
	}
	return &ap
}

// waitFor polls until check passes (nil) or the timeout ends, then fails with check's last
// complaint.
func waitFor(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if last = check(); last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("after %s: %v", timeout, last)
}

// waitCondition waits until the AgencyProvisioning's condition has status and reason and, when
// given, a message containing every want string.
func (e *oktaEnv) waitCondition(name, condType string, status metav1.ConditionStatus, reason string,
	want ...string) *scimv1alpha1.AgencyProvisioning {
	e.t.Helper()
	var ap *scimv1alpha1.AgencyProvisioning
	waitFor(e.t, 30*time.Second, func() error {
		ap = &scimv1alpha1.AgencyProvisioning{}
		if err := k8sClient.Get(e.t.Context(), client.ObjectKey{Namespace: e.ns, Name: name}, ap); err != nil {
			return err
		}
		c := meta.FindStatusCondition(ap.Status.Conditions, condType)
		if c == nil {
			return fmt.Errorf("%s not set; conditions %s", condType, describeConditions(ap.Status.Conditions))
		}
		if c.Status != status || c.Reason != reason {
			return fmt.Errorf("%s = %s/%s (%s), want %s/%s", condType, c.Status, c.Reason, c.Message, status, reason)
		}
		for _, w := range want {
			if !strings.Contains(c.Message, w) {
				return fmt.Errorf("%s message %q lacks %q", condType, c.Message, w)
			}
		}
		return nil
	})
	return ap
}

func describeConditions(cs []metav1.Condition) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "[%s=%s %s: %s] ", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// connect makes the SCIM server's report say Okta called with the app's client id.
func (e *oktaEnv) connect(name string) {
	e.t.Helper()
	ap := e.get(name)
	e.reports.set(name, scimconfig.Report{AgencyID: ap.Spec.AgencyID, Users: 2, ActiveUsers: 2,
		LastAuthenticated: &scimconfig.AuthenticatedRequest{
			ClientID: ap.Status.Okta.OIDCClientID, Issuer: e.sim.URL() + "/oauth2/default",
			Method: http.MethodGet, Path: "/Users", Status: http.StatusOK, Time: time.Now(),
		}})
}

func (e *oktaEnv) deleteAP(name string) {
	e.t.Helper()
	ap := e.get(name)
	if err := k8sClient.Delete(e.t.Context(), ap); err != nil {
		e.t.Fatal(err)
	}
	waitFor(e.t, 30*time.Second, func() error {
		err := k8sClient.Get(e.t.Context(), client.ObjectKeyFromObject(ap), &scimv1alpha1.AgencyProvisioning{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("AgencyProvisioning still there (err %w)", err)
	})
}

// use points the env's helpers at a subtest's t until the returned func restores the parent's.
func (e *oktaEnv) use(t *testing.T) func() {
	parent := e.t
	e.t = t
	return func() { e.t = parent }
}
