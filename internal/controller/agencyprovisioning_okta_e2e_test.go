package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/internal/scim"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// scimServer is an agency's SCIM server run in-process the way cmd/scim-server composes it:
// SQLite store, token verifier for the org, SCIM API, and the /report the operator reads.
type scimServer struct {
	baseURL   string // the SCIM connector base URL
	reportURL string
}

func startScimServer(t *testing.T, agencyID, orgURL, syncMode string) *scimServer {
	t.Helper()
	cfg := &scimconfig.Config{
		AgencyID: agencyID, OktaOrgURL: orgURL, SyncMode: syncMode,
		ListenAddress: "127.0.0.1:1", MetricsAddress: "127.0.0.1:2", // not listened on: httptest serves
		Database:        "sqlite://" + filepath.Join(t.TempDir(), "directory.db"),
		ExtensionSchema: scimconfig.DefaultExtensionSchema,
		Ranks:           []string{"Officer"}, Roles: []string{"User"},
	}
	ctx := context.Background()
	store, err := directory.Open(ctx, cfg.Database, directory.RulesFromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	monitor, err := scim.NewMonitor(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(orgURL)
	if err != nil {
		t.Fatal(err)
	}
	api, err := scim.New(cfg, store, verifier, scim.WithMonitor(monitor))
	if err != nil {
		t.Fatal(err)
	}
	apiSrv := httptest.NewServer(api.Handler())
	t.Cleanup(apiSrv.Close)
	reportSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, _ := monitor.Report(r.Context(), agencyID, store)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rep)
	}))
	t.Cleanup(reportSrv.Close)
	return &scimServer{baseURL: apiSrv.URL + scim.BasePath(agencyID),
		reportURL: reportSrv.URL + scimconfig.ReportPath}
}

// TestOkta_EndToEndWithOktaSimAndScimServer runs the whole path: the operator configures the
// simulated org, the admin's manual step (done in the simulator) authenticates through the
// operator's OIDC app and access policy and reaches the real SCIM server, the operator sees it
// in the SCIM server's report, pushes groups, completes the schema, and explains a foreign-
// issuer token the SCIM server rejects.
func TestOkta_EndToEndWithOktaSimAndScimServer(t *testing.T) {
	e := newOktaEnv(t, envOptions{realReports: true, resync: 2 * time.Second})
	ctx := t.Context()
	srv := startScimServer(t, "e2e", e.sim.URL(), scimconfig.SyncModeUsersAndGroups)
	patrol := e.simGroup("Patrol")
	uid, err := e.sim.CreateUser(map[string]any{"login": "officer.one@pd.example", "email": "officer.one@pd.example",
		"firstName": "Officer", "lastName": "One", "employeeNumber": "B-1001"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if code := e.simAPI(http.MethodPut, "/api/v1/groups/"+patrol+"/users/"+uid, nil,
		nil); code != http.StatusNoContent {
		t.Fatalf("add user to group: HTTP %d", code)
	}
	e.newAP("e2e", func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Annotations = map[string]string{AnnotationReportURL: srv.reportURL}
		ap.Spec.SyncMode = scimv1alpha1.SyncModeUsersAndGroups
		ap.Spec.Okta.AssignGroups = []string{"Patrol"}
	})
	sum := &scimv1alpha1.ScimUserMapping{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-map", Namespace: e.ns,
			Labels: map[string]string{oktaSuiteLabel: e.label}},
		Spec: scimv1alpha1.ScimUserMappingSpec{
			AgencyProvisioningRef: scimv1alpha1.LocalObjectRef{Name: "e2e"},
			Attributes: []scimv1alpha1.CustomAttribute{{DisplayName: "Badge ID", VariableName: "badgeId",
				Required: true}},
		},
	}
	if err := k8sClient.Create(ctx, sum); err != nil {
		t.Fatal(err)
	}
	e.waitCondition("e2e", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	ap := e.waitCondition("e2e", scimv1alpha1.ConditionProvisioningConnected, condFalse,
		scimv1alpha1.ReasonManualStepRequired)
	waitSUM(t, e, "e2e-map", scimv1alpha1.ConditionSchemaSynced, condFalse, scimv1alpha1.ReasonWaitingForProvisioning)
	if !ap.Status.Okta.GroupPushWaiting {
		t.Fatal("group push should wait for ProvisioningConnected")
	}

	// The admin's manual step, with the values the operator published.
	var sec corev1.Secret
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: ap.Status.Okta.ClientSecretName},
		&sec); err != nil {
		t.Fatal(err)
	}
	step := ap.Status.ManualStep
	if err := e.sim.ConfigureProvisioning(ctx, ap.Status.Okta.SAMLAppID, oktasim.Provisioning{
		BaseURL:          srv.baseURL, // the published endpoint is a public URL; the test's server is local
		UniqueIdentifier: "email", CreateUsers: true, UpdateUserAttributes: true, DeactivateUsers: true,
		PushGroups:   true,
		ClientID:     step.ClientID,
		ClientSecret: string(sec.Data[ClientSecretKeyClientSecret]),
	}); err != nil {
		t.Fatalf("the manual step failed in the simulator: %v", err)
	}

	e.waitCondition("e2e", scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded,
		step.ClientID)
	e.waitCondition("e2e", scimv1alpha1.ConditionScimAuthenticated, condTrue, scimv1alpha1.ReasonTokensAccepted)
	waitFor(t, 30*time.Second, func() error {
		ap := e.get("e2e")
		if n := len(createdOfKind(ap, OktaKindGroupPushMapping)); n != 1 || ap.Status.Okta.GroupPushWaiting {
			return fmt.Errorf("group push mappings created: %d (waiting %v); %s", n, ap.Status.Okta.GroupPushWaiting,
				describeConditions(ap.Status.Conditions))
		}
		return nil
	})
	waitSUM(t, e, "e2e-map", scimv1alpha1.ConditionReady, condTrue, scimv1alpha1.ReasonSucceeded)
	attrs, err := e.org.GetAppUserAttributes(ctx, ap.Status.Okta.SAMLAppID)
	if err != nil || attrs["badgeId"].ExternalNamespace != scimv1alpha1.DefaultExtensionSchema {
		t.Fatalf("badgeId after provisioning = %+v, %v", attrs["badgeId"], err)
	}

	// A foreign-issuer token reaches the SCIM server: ScimAuthenticated says so, with both values.
	if err := e.sim.InjectTokenFault(oktasim.TokenFault{Kind: oktasim.TokenForeignIssuer}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Sync(ap.Status.Okta.SAMLAppID); err != nil {
		t.Fatal(err)
	}
	e.waitCondition("e2e", scimv1alpha1.ConditionScimAuthenticated, condFalse, scimv1alpha1.ReasonIssuerMismatch,
		"foreign-org.oktasim.invalid")
	e.sim.ClearTokenFaults()
	time.Sleep(1100 * time.Millisecond) // the next accepted request must be later than the rejection
	if err := e.sim.Sync(ap.Status.Okta.SAMLAppID); err != nil {
		t.Fatal(err)
	}
	e.waitCondition("e2e", scimv1alpha1.ConditionScimAuthenticated, condTrue, scimv1alpha1.ReasonTokensAccepted)
}
