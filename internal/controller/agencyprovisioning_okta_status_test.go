package controller

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

func TestIssuerCondition(t *testing.T) {
	tests := []struct {
		name       string
		orgURL     string
		server     okta.AuthorizationServer
		wantStatus metav1.ConditionStatus
		wantReason string
		wantInMsg  []string
	}{
		{name: "issuer on the org host is verified", orgURL: "https://pd.okta.com",
			server: okta.AuthorizationServer{Issuer: "https://pd.okta.com/oauth2/default",
				Status: okta.StatusActive},
			wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonSucceeded},
		{name: "issuer on another host names both values", orgURL: "https://pd.okta.com",
			server: okta.AuthorizationServer{Issuer: "https://login.other.gov/oauth2/default",
				Status: okta.StatusActive},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonIssuerMismatch,
			wantInMsg: []string{"https://login.other.gov/oauth2/default", "https://pd.okta.com"}},
		{name: "look-alike host is a mismatch", orgURL: "https://pd.okta.com",
			server: okta.AuthorizationServer{Issuer: "https://pd.okta.com.evil.example/oauth2/default",
				Status: okta.StatusActive},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonIssuerMismatch},
		{name: "other scheme is a mismatch", orgURL: "http://127.0.0.1:8080",
			server: okta.AuthorizationServer{Issuer: "https://127.0.0.1:8080/oauth2/default",
				Status: okta.StatusActive},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonIssuerMismatch},
		{name: "inactive server", orgURL: "https://pd.okta.com",
			server: okta.AuthorizationServer{Issuer: "https://pd.okta.com/oauth2/default",
				Status: okta.StatusInactive},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonAuthorizationServerInactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reason, msg := issuerCondition(tt.orgURL, "default", &tt.server)
			if status != tt.wantStatus || reason != tt.wantReason {
				t.Fatalf("got %s/%s (%s), want %s/%s", status, reason, msg, tt.wantStatus, tt.wantReason)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(msg, s) {
					t.Fatalf("message %q does not name %q", msg, s)
				}
			}
		})
	}
}

func testAP() *scimv1alpha1.AgencyProvisioning {
	ap := &scimv1alpha1.AgencyProvisioning{}
	ap.Name, ap.Namespace, ap.Generation = "pd", "agencies", 3
	ap.Spec.AgencyID = "examplepd"
	ap.Spec.SyncMode = scimv1alpha1.SyncModeUsersAndGroups
	ap.Spec.Okta.OrgURL = "https://pd.okta.com"
	ap.Status.ScimEndpoint = "https://scim.pd.gov/api/v2/agencies/examplepd/scim"
	ap.Status.Okta = scimv1alpha1.OktaStatus{
		OIDCClientID: "0oaclient", ClientSecretName: "pd-okta-oidc", SAMLAppName: "pdorg_examplepdscim_1",
		Issuer: "https://pd.okta.com/oauth2/default",
	}
	return ap
}

func TestProvisioningConnected_ManualStepListsWhatTheAdminEnters(t *testing.T) {
	ap := testAP()
	setProvisioningConnected(ap, &scimconfig.Report{AgencyID: "examplepd"}, nil)
	c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != scimv1alpha1.ReasonManualStepRequired {
		t.Fatalf("condition = %+v", c)
	}
	for _, want := range []string{
		"https://scim.pd.gov/api/v2/agencies/examplepd/scim", "Email", "Push New Users", "Push Profile Updates",
		"Push Groups", "OAuth 2", "https://pd.okta.com/oauth2/default/v1/token",
		"https://pd.okta.com/oauth2/default/v1/authorize?scope=openid%20profile%20offline_access",
		"0oaclient", "agencies/pd-okta-oidc", "Create Users", "Update User Attributes", "Deactivate Users",
	} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, c.Message)
		}
	}
	if ap.Status.ManualStep == nil || ap.Status.ManualStep.RedirectURI !=
		"https://system-admin.okta.com/admin/app/cpc/pdorg_examplepdscim_1/oauth/callback" {
		t.Fatalf("manualStep = %+v", ap.Status.ManualStep)
	}
}

func TestProvisioningConnected_SaysWhenOktaCannotReachTheEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*scimv1alpha1.AgencyProvisioning)
		wantNote bool
	}{
		{name: "external URL", mutate: func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.ScimServer.ExternalURL = "https://scim.pd.gov"
		}},
		{name: "ingress", mutate: func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.ScimServer.Ingress = &scimv1alpha1.IngressSpec{Host: "scim.pd.gov"}
		}},
		{name: "neither: the in-cluster Service", wantNote: true, mutate: func(*scimv1alpha1.AgencyProvisioning) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := testAP()
			tt.mutate(ap)
			setProvisioningConnected(ap, &scimconfig.Report{AgencyID: "examplepd"}, nil)
			c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
			if c == nil || c.Reason != scimv1alpha1.ReasonManualStepRequired {
				t.Fatalf("condition = %+v", c)
			}
			note := strings.HasPrefix(c.Message, "First give the SCIM server an address Okta can reach: "+
				"set spec.scimServer.ingress or spec.scimServer.externalURL")
			if note != tt.wantNote {
				t.Errorf("message %q: starts with the address note %v, want %v", c.Message, note, tt.wantNote)
			}
		})
	}
}

func TestProvisioningConnected_TrueOnlyForTheOperatorsClient(t *testing.T) {
	tests := []struct {
		name     string
		client   string
		before   time.Duration // when the request came, from now
		want     metav1.ConditionStatus
		wantNote string // "" when the message must not name the last client
	}{
		{name: "request from the operator's OIDC client connects", client: "0oaclient", want: metav1.ConditionTrue},
		{name: "request from another client does not", client: "0oaother", want: metav1.ConditionFalse,
			wantNote: "The last accepted request came from client 0oaother, not 0oaclient."},
		{name: "the operator's client before the step was asked again is not named as another",
			client: "0oaclient", before: time.Hour, want: metav1.ConditionFalse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := testAP()
			// The step was asked again a minute ago (an app was replaced).
			ap.Status.Conditions = []metav1.Condition{{Type: scimv1alpha1.ConditionProvisioningConnected,
				Status: metav1.ConditionFalse, Reason: scimv1alpha1.ReasonManualStepRequired,
				LastTransitionTime: metav1.NewTime(time.Now().Add(-time.Minute))}}
			rep := &scimconfig.Report{LastAuthenticated: &scimconfig.AuthenticatedRequest{
				ClientID: tt.client, Method: "GET", Path: "/Users", Status: 200, Time: time.Now().Add(-tt.before),
			}}
			setProvisioningConnected(ap, rep, nil)
			c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
			if c.Status != tt.want {
				t.Fatalf("status = %s, want %s", c.Status, tt.want)
			}
			if named := strings.Contains(c.Message, "came from client"); named != (tt.wantNote != "") ||
				!strings.Contains(c.Message, tt.wantNote) {
				t.Errorf("message %q: want the note %q", c.Message, tt.wantNote)
			}
		})
	}
}

// TestProvisioningConnected_ASpecChangeIsNamedUntilOktaConnectsAgain moves the SCIM endpoint
// of a connected agency: every report read until Okta calls with the new values names what
// changed and what Okta was set up with, and the next accepted request clears it.
func TestProvisioningConnected_ASpecChangeIsNamedUntilOktaConnectsAgain(t *testing.T) {
	ap := testAP()
	connectedAt := time.Now().Add(-time.Hour)
	accepted := func(at time.Time) *scimconfig.Report {
		return &scimconfig.Report{LastAuthenticated: &scimconfig.AuthenticatedRequest{
			ClientID: "0oaclient", Method: "GET", Path: "/Users", Status: 200, Time: at}}
	}
	setProvisioningConnected(ap, accepted(connectedAt), nil)
	if !provisioningConnected(ap) || ap.Status.ConnectedManualStep == nil ||
		ap.Status.ConnectedManualStep.ScimConnectorBaseURL != "https://scim.pd.gov/api/v2/agencies/examplepd/scim" {
		t.Fatalf("after Okta's request: conditions %+v, connectedManualStep %+v", ap.Status.Conditions,
			ap.Status.ConnectedManualStep)
	}

	ap.Status.ScimEndpoint = "https://scim2.pd.gov/api/v2/agencies/examplepd/scim"
	const note = "Changed in the spec since Okta connected: SCIM connector base URL, was " +
		"https://scim.pd.gov/api/v2/agencies/examplepd/scim; change it in Okta too."
	for read := 1; read <= 3; read++ {
		setProvisioningConnected(ap, accepted(connectedAt), nil)
		c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
		if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, note) {
			t.Fatalf("report read %d after the change: %s %q, want False with %q", read, c.Status, c.Message, note)
		}
	}

	// Undone before anyone touched Okta: Okta holds the values the spec gives again.
	ap.Status.ScimEndpoint = "https://scim.pd.gov/api/v2/agencies/examplepd/scim"
	setProvisioningConnected(ap, accepted(connectedAt), nil)
	c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
	if c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "again gives the values Okta connected with") {
		t.Fatalf("after the change was undone: %s %q", c.Status, c.Message)
	}

	ap.Status.ScimEndpoint = "https://scim2.pd.gov/api/v2/agencies/examplepd/scim"
	setProvisioningConnected(ap, accepted(connectedAt), nil)
	setProvisioningConnected(ap, accepted(time.Now().Add(time.Second)), nil)
	c = meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
	if c.Status != metav1.ConditionTrue || ap.Status.ConnectedManualStep.ScimConnectorBaseURL !=
		"https://scim2.pd.gov/api/v2/agencies/examplepd/scim" {
		t.Fatalf("after Okta called with the new values: %s %q, connectedManualStep %+v", c.Status, c.Message,
			ap.Status.ConnectedManualStep)
	}
}

// TestProvisioningConnected_NoChangeNoteBeforeOktaEverConnected: a spec edit before the first
// connection is not a change to anything entered in Okta.
func TestProvisioningConnected_NoChangeNoteBeforeOktaEverConnected(t *testing.T) {
	ap := testAP()
	setProvisioningConnected(ap, &scimconfig.Report{}, nil)
	ap.Status.ScimEndpoint = "https://scim2.pd.gov/api/v2/agencies/examplepd/scim"
	setProvisioningConnected(ap, &scimconfig.Report{}, nil)
	c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
	if c.Status != metav1.ConditionFalse || strings.Contains(c.Message, "Changed in the spec") ||
		!strings.Contains(c.Message, "https://scim2.pd.gov/") {
		t.Fatalf("ProvisioningConnected = %s %q", c.Status, c.Message)
	}
}

func TestScimAuthenticated(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	mismatch := scimconfig.Rejection{Reason: scimconfig.ReasonIssuerMismatch, Message: "issuer not accepted",
		Expected: "https://pd.okta.com", Seen: "https://other.okta.com/oauth2/default", Count: 3, Time: t0}
	tests := []struct {
		name       string
		rep        scimconfig.Report
		wantStatus metav1.ConditionStatus
		wantReason string
		wantInMsg  []string
	}{
		{name: "no rejection is true", rep: scimconfig.Report{},
			wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonTokensAccepted},
		{name: "foreign issuer names expected and seen",
			rep: scimconfig.Report{Rejections: map[string]scimconfig.Rejection{
				scimconfig.ReasonIssuerMismatch: mismatch}},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonIssuerMismatch,
			wantInMsg: []string{"https://pd.okta.com", "https://other.okta.com/oauth2/default"}},
		{name: "later accepted request clears it",
			rep: scimconfig.Report{
				Rejections:        map[string]scimconfig.Rejection{scimconfig.ReasonIssuerMismatch: mismatch},
				LastAuthenticated: &scimconfig.AuthenticatedRequest{ClientID: "c", Time: t0.Add(time.Minute)},
			},
			wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonTokensAccepted},
		{name: "requests without a token are not Okta's",
			rep: scimconfig.Report{Rejections: map[string]scimconfig.Rejection{
				scimconfig.ReasonMissingToken: {Reason: scimconfig.ReasonMissingToken, Count: 9, Time: t0}}},
			wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonTokensAccepted},
		{name: "latest of several reasons wins",
			rep: scimconfig.Report{Rejections: map[string]scimconfig.Rejection{
				scimconfig.ReasonIssuerMismatch: mismatch,
				scimconfig.ReasonTokenExpired: {Reason: scimconfig.ReasonTokenExpired, Count: 1,
					Time: t0.Add(time.Second)},
			}},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := testAP()
			setScimAuthenticated(ap, &tt.rep, nil)
			c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionScimAuthenticated)
			if c.Status != tt.wantStatus || c.Reason != tt.wantReason {
				t.Fatalf("got %s/%s (%s)", c.Status, c.Reason, c.Message)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(c.Message, s) {
					t.Fatalf("message %q lacks %q", c.Message, s)
				}
			}
		})
	}
}

func TestBadgeIDProblem(t *testing.T) {
	badge := scimv1alpha1.CustomAttribute{DisplayName: "Badge ID", VariableName: "badgeId", Required: true}
	rank := scimv1alpha1.CustomAttribute{DisplayName: "Rank", VariableName: "rankName"}
	notRequired := badge
	notRequired.Required = false
	otherNS := badge
	otherNS.ExternalNamespace = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	tests := []struct {
		name    string
		spec    scimv1alpha1.ScimUserMappingSpec
		refused bool
	}{
		{name: "badgeId required with default mapping is fine", spec: scimv1alpha1.ScimUserMappingSpec{
			Attributes: []scimv1alpha1.CustomAttribute{badge, rank}}},
		{name: "missing badgeId is refused", spec: scimv1alpha1.ScimUserMappingSpec{
			Attributes: []scimv1alpha1.CustomAttribute{rank}}, refused: true},
		{name: "optional badgeId is refused", spec: scimv1alpha1.ScimUserMappingSpec{
			Attributes: []scimv1alpha1.CustomAttribute{notRequired}}, refused: true},
		{name: "badgeId outside the extension schema is refused", spec: scimv1alpha1.ScimUserMappingSpec{
			Attributes: []scimv1alpha1.CustomAttribute{otherNS}}, refused: true},
		{name: "badgeId not pushed is refused", spec: scimv1alpha1.ScimUserMappingSpec{
			Attributes: []scimv1alpha1.CustomAttribute{badge},
			Mappings: []scimv1alpha1.AttributeMapping{{Target: "badgeId", Expression: "user.employeeNumber",
				PushStatus: scimv1alpha1.PushStatusDontPush}}}, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := badgeIDProblem(&tt.spec, scimv1alpha1.DefaultExtensionSchema)
			if (msg != "") != tt.refused {
				t.Fatalf("problem = %q, refused want %v", msg, tt.refused)
			}
		})
	}
}

func TestRuleDrift(t *testing.T) {
	want := wantRule(testAP())
	tests := []struct {
		name   string
		mutate func(*okta.PolicyRule)
		drift  bool
	}{
		{name: "same rule is no drift", mutate: func(*okta.PolicyRule) {}},
		{name: "refresh lifetime limited is drift",
			mutate: func(r *okta.PolicyRule) { r.RefreshTokenLifetimeMinutes = 90 }, drift: true},
		{name: "grant type removed is drift",
			mutate: func(r *okta.PolicyRule) { r.GrantTypes = []string{"implicit"} }, drift: true},
		{name: "deactivated is drift", mutate: func(r *okta.PolicyRule) { r.Status = okta.StatusInactive },
			drift: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := want
			cur.GrantTypes = append([]string(nil), want.GrantTypes...)
			tt.mutate(&cur)
			if got := ruleDrifted(cur, want); got != tt.drift {
				t.Fatalf("drift = %v, want %v", got, tt.drift)
			}
		})
	}
}

func TestApplyReportCounts_KeepsTheLastCountsWhenTheStoreCannotCount(t *testing.T) {
	tests := []struct {
		name      string
		rep       scimconfig.Report
		wantUsers int64
	}{
		{name: "counted report replaces the counts", rep: scimconfig.Report{Users: 7, ActiveUsers: 6, Groups: 2},
			wantUsers: 7},
		{name: "uncounted report keeps them", rep: scimconfig.Report{CountsUnavailable: true}, wantUsers: 490},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := newAgency("ns", "pd")
			known := int64(490)
			ap.Status.Users, ap.Status.ActiveUsers, ap.Status.Groups = &known, &known, &known
			applyReportCounts(ap, &tt.rep)
			if *ap.Status.Users != tt.wantUsers {
				t.Fatalf("status.users = %d, want %d", *ap.Status.Users, tt.wantUsers)
			}
		})
	}
}

func TestOwnRule_FindsTheRuleByIDElseByName(t *testing.T) {
	rules := []okta.PolicyRule{
		{ID: "0pr1", Name: "other"}, {ID: "0pr2", Name: "pd SCIM"}, {ID: "0pr3", Name: "pd SCIM"}}
	tests := []struct {
		name, id, want string
	}{
		{name: "recorded id", id: "0pr3", want: "0pr3"},
		{name: "recorded id wins over the name", id: "0pr1", want: "0pr1"},
		{name: "stale id falls back to the first rule with the name", id: "0prGone", want: "0pr2"},
		{name: "no id, by name", want: "0pr2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownRule(rules, tt.id, "pd SCIM"); got == nil || got.ID != tt.want {
				t.Fatalf("ownRule = %+v, want %s", got, tt.want)
			}
		})
	}
	if got := ownRule(rules, "0prGone", "missing"); got != nil {
		t.Fatalf("ownRule found %+v for a rule that is not there", got)
	}
}

// TestHTTPReportReader_ReadsWhereItShould: in the cluster the report Service; with the
// annotation allowed, the annotated URL, and without an annotation nothing at all (the
// Service's name would go to the machine's resolver).
func TestHTTPReportReader_ReadsWhereItShould(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"agencyID":"examplepd","users":3}`))
	}))
	defer srv.Close()
	base := func(*scimv1alpha1.AgencyProvisioning) string { return srv.URL }
	tests := []struct {
		name       string
		allow      bool
		annotation string
		wantErr    string
		wantHits   int32
	}{
		{name: "in the cluster: the report Service", wantHits: 1},
		{name: "annotation not allowed: ignored", annotation: "http://127.0.0.1:1/report", wantHits: 1},
		{name: "annotation allowed and set", allow: true, annotation: srv.URL + "/report", wantHits: 1},
		{name: "annotation allowed but missing: no request", allow: true,
			wantErr: "the annotation scim.provisioning.dev/report-url is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			ap := testAP()
			if tt.annotation != "" {
				ap.Annotations = map[string]string{AnnotationReportURL: tt.annotation}
			}
			r := &HTTPReportReader{BaseURL: base, AllowAnnotation: tt.allow}
			rep, err := r.ReadReport(t.Context(), ap)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil || rep.Users != 3 {
				t.Fatalf("report = %+v, %v", rep, err)
			}
			if hits.Load() != tt.wantHits {
				t.Fatalf("requests = %d, want %d", hits.Load(), tt.wantHits)
			}
		})
	}
}

func TestOktaFailure_RejectedCredentialsNameWhatToCheckForTheMode(t *testing.T) {
	tests := []struct {
		mode scimv1alpha1.OktaAuthMode
		want string
	}{
		{mode: "", want: "replace it in the Secret"},
		{mode: scimv1alpha1.OktaAuthModeAPIToken, want: "replace it in the Secret"},
		{mode: scimv1alpha1.OktaAuthModePrivateKey, want: "check the Secret's clientID against the service app's " +
			"client ID in Okta, and its privateKey (and keyID)"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			ap := testAP()
			ap.Spec.Okta.CredentialsSecretRef = scimv1alpha1.OktaCredentialsRef{Name: "pd-okta", AuthMode: tt.mode}
			s := &OktaSync{}
			_, _ = s.oktaFailure(ap, fmt.Errorf("get token: %w", okta.ErrInvalidCredentials))
			c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionOktaAuthenticated)
			if c == nil || c.Reason != scimv1alpha1.ReasonInvalidCredentials || !strings.Contains(c.Message, tt.want) {
				t.Fatalf("OktaAuthenticated = %+v, want a message with %q", c, tt.want)
			}
		})
	}
}

// TestProvisioningConnected_AReplacedAppWaitsForOktaEvenWithTheSameValues: an app the operator
// had to make again has no provisioning settings in Okta, however alike its values look, so
// only a request after the replacement connects it.
func TestProvisioningConnected_AReplacedAppWaitsForOktaEvenWithTheSameValues(t *testing.T) {
	ap := testAP()
	connectedAt := time.Now().Add(-time.Hour)
	rep := &scimconfig.Report{LastAuthenticated: &scimconfig.AuthenticatedRequest{
		ClientID: "0oaclient", Method: "GET", Path: "/Users", Status: 200, Time: connectedAt}}
	setProvisioningConnected(ap, rep, nil)
	if !provisioningConnected(ap) {
		t.Fatal("not connected after Okta's request")
	}
	requireManualStep(ap)
	if ap.Status.ConnectedManualStep != nil {
		t.Fatalf("connectedManualStep kept for a replaced app: %+v", ap.Status.ConnectedManualStep)
	}
	setProvisioningConnected(ap, rep, nil)
	c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
	if c.Status != metav1.ConditionFalse || c.Reason != scimv1alpha1.ReasonManualStepRequired {
		t.Fatalf("after the app was replaced: %s %s %q", c.Status, c.Reason, c.Message)
	}
}
