package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
)

// setupSuiteLabel marks the objects of the manager TestSetup_* starts.
const setupSuiteLabel = "setup"

// newSetupManager is a manager that sees only the AgencyProvisionings and ScimUserMappings
// labelled for the Setup tests, so the other tests' managers and this one never share objects.
func newSetupManager(t *testing.T) ctrl.Manager {
	t.Helper()
	selector := labels.SelectorFromSet(labels.Set{workloadSuiteLabel: setupSuiteLabel})
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:                  cache.Options{ByObject: agencyCache(selector)},
		Client:                 ClientOptions(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

func TestSetup_RefusesMissingOktaClientAndBothIssuerKinds(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "no Okta client constructor", opts: Options{}, wantErr: "Options.NewOrg"},
		{
			name:    "both default issuer kinds",
			opts:    Options{NewOrg: refusingOrg(nil), Ingress: IngressDefaults{ClusterIssuer: "le", Issuer: "ca"}},
			wantErr: "at most one",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Setup(newSetupManager(t), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Setup() = %v, want an error naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestSetup_ReadsReportsThroughRefusalEventsWithTheAnnotationAsConfigured(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("annotation allowed %v", allow), func(t *testing.T) {
			ap, _, err := newReconcilers(newSetupManager(t), Options{NewOrg: refusingOrg(nil),
				AllowReportAnnotation: allow})
			if err != nil {
				t.Fatal(err)
			}
			sync, ok := ap.Okta.(*OktaSync)
			if !ok {
				t.Fatalf("Okta step = %T, want *OktaSync", ap.Okta)
			}
			events, ok := sync.Reports.(*RefusalEventReader)
			if !ok || events.Recorder == nil {
				t.Fatalf("reports = %#v, want a RefusalEventReader with a recorder", sync.Reports)
			}
			reader, ok := events.Reader.(*HTTPReportReader)
			if !ok || reader.AllowAnnotation != allow {
				t.Fatalf("report reader = %#v, want an HTTPReportReader with AllowAnnotation %v", events.Reader, allow)
			}
		})
	}
}

func TestSetup_RunsTheWorkloadOktaAndMappingControllers(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	var tokens tokenLog
	mgr := newSetupManager(t)
	g.Expect(Setup(mgr, Options{
		ScimServerImage: testImage,
		Ingress:         IngressDefaults{ClassName: "nginx", ClusterIssuer: "letsencrypt"},
		NewOrg:          refusingOrg(&tokens),
		RetryInterval:   time.Hour,
	})).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "okta-api"},
		StringData: map[string]string{scimv1alpha1.CredentialsKeyAPIToken: "setup-test-token"}}
	g.Expect(k8sClient.Create(t.Context(), secret)).To(Succeed())
	ap := newAgency(ns, "wired")
	ap.Labels = map[string]string{workloadSuiteLabel: setupSuiteLabel}
	ap.Spec.ScimServer.Ingress = &scimv1alpha1.IngressSpec{Host: "scim.examplepd.gov", TLSSecretName: "tls"}
	g.Expect(k8sClient.Create(t.Context(), ap)).To(Succeed())
	sum := manifest(t, validMapping, edit{"metadata.namespace", ns},
		edit{"spec.agencyProvisioningRef.name", ap.Name})
	sum.SetLabels(map[string]string{workloadSuiteLabel: setupSuiteLabel})
	g.Expect(k8sClient.Create(t.Context(), sum)).To(Succeed())

	// The workload controller renders the Ingress with the operator-wide defaults.
	g.Eventually(func(g Gomega) {
		var in networkingv1.Ingress
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: ScimServerName(ap)}, &in)).
			To(Succeed())
		g.Expect(in.Spec.IngressClassName).To(HaveValue(Equal("nginx")))
		g.Expect(in.Annotations).To(HaveKeyWithValue(AnnotationCertManagerClusterIssuer, "letsencrypt"))
	}).WithTimeout(20 * time.Second).Should(Succeed())
	// The Okta step builds its client from the agency's Secret through Options.NewOrg.
	g.Eventually(func(g Gomega) {
		var got scimv1alpha1.AgencyProvisioning
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), &got)).To(Succeed())
		c := apimeta.FindStatusCondition(got.Status.Conditions, scimv1alpha1.ConditionOktaAuthenticated)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(scimv1alpha1.ReasonInvalidCredentials))
		g.Expect(c.Message).To(ContainSubstring(errRefusedByTest.Error()))
	}).WithTimeout(20 * time.Second).Should(Succeed())
	g.Expect(tokens.seen()).To(ContainElement("setup-test-token"))
	// The ScimUserMapping controller runs and waits for the agency's SAML app.
	g.Eventually(func(g Gomega) {
		var got scimv1alpha1.ScimUserMapping
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(sum), &got)).To(Succeed())
		c := apimeta.FindStatusCondition(got.Status.Conditions, scimv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(scimv1alpha1.ReasonWaitingForAgency))
	}).WithTimeout(20 * time.Second).Should(Succeed())
}

func TestDefaultReportBaseURL_NamesTheReportService(t *testing.T) {
	long := newAgency("ns", strings.Repeat("a", 70))
	tests := []struct {
		name string
		ap   *scimv1alpha1.AgencyProvisioning
		want string
	}{
		{name: "short name", ap: newAgency("ns", "pd"), want: "http://pd-scim-report.ns.svc:9090"},
		{
			name: "a long name is shortened like the Service's",
			ap:   long,
			want: "http://" + ReportServiceName(long) + ".ns.svc:9090",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(DefaultReportBaseURL(tt.ap)).To(Equal(tt.want))
			g.Expect(renderReportService(tt.ap).Name).To(Equal(ReportServiceName(tt.ap)))
		})
	}
}

var errRefusedByTest = errors.New("credentials refused by the Setup test")

// tokenLog records the API tokens an Okta client was built with.
type tokenLog struct {
	mu     sync.Mutex
	tokens []string
}

func (l *tokenLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.tokens...)
}

// refusingOrg is an Okta client constructor that records the token (when log is set) and
// refuses the credentials.
func refusingOrg(log *tokenLog) okta.NewOrgFunc {
	return func(_ context.Context, creds okta.Credentials) (okta.Org, error) {
		if log != nil {
			log.mu.Lock()
			log.tokens = append(log.tokens, creds.APIToken)
			log.mu.Unlock()
		}
		return nil, errRefusedByTest
	}
}
