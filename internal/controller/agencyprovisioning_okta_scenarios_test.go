package controller

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

const (
	condTrue  = metav1.ConditionTrue
	condFalse = metav1.ConditionFalse
)

func TestOkta_HappyPathConfiguresEveryObjectAndConnects(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()
	patrol := e.simGroup("Patrol")
	e.newAP("pd", func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.Okta.AssignGroups = []string{"Patrol"}
	})

	e.waitCondition("pd", scimv1alpha1.ConditionOktaAuthenticated, condTrue, scimv1alpha1.ReasonSucceeded)
	e.waitCondition("pd", scimv1alpha1.ConditionIssuerVerified, condTrue, scimv1alpha1.ReasonSucceeded)
	e.waitCondition("pd", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	ap := e.waitCondition("pd", scimv1alpha1.ConditionProvisioningConnected, condFalse,
		scimv1alpha1.ReasonManualStepRequired, "OAuth 2", "/oauth2/default/v1/token", "pd-okta-oidc")
	st := ap.Status.Okta

	// Every Okta object as wanted.
	saml, err := e.org.GetApp(ctx, st.SAMLAppID)
	if err != nil || saml.Label != "pd SCIM" {
		t.Fatalf("SAML app = %+v, %v", saml, err)
	}
	oidc, err := e.org.GetApp(ctx, st.OIDCAppID)
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect := "https://system-admin.okta.com/admin/app/cpc/" + saml.Name + "/oauth/callback"
	if oidc.ClientID != st.OIDCClientID || !slices.Equal(oidc.RedirectURIs, []string{wantRedirect}) ||
		!slices.Contains(oidc.GrantTypes, okta.GrantRefreshToken) || !slices.Contains(oidc.GrantTypes,
		okta.GrantAuthorizationCode) {
		t.Fatalf("OIDC app = %+v", oidc)
	}
	policies, err := e.org.ListPolicies(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(policies, func(p okta.Policy) bool {
		return p.ID == st.AccessPolicyID && slices.Equal(p.ClientIDs, []string{st.OIDCClientID})
	}) {
		t.Fatalf("policies = %+v", policies)
	}
	rules, err := e.org.ListPolicyRules(ctx, "default", st.AccessPolicyID)
	if err != nil || len(rules) != 1 || rules[0].RefreshTokenLifetimeMinutes != 0 ||
		!slices.Equal(rules[0].GrantTypes, []string{okta.GrantAuthorizationCode}) {
		t.Fatalf("rules = %+v, %v", rules, err)
	}
	groups, err := e.org.ListGroupAssignments(ctx, st.SAMLAppID)
	if err != nil || !slices.Equal(groups, []string{patrol}) {
		t.Fatalf("assignments = %v, %v", groups, err)
	}
	if len(st.CreatedObjects) != 5 {
		t.Fatalf("createdObjects = %+v", st.CreatedObjects)
	}
	var sec corev1.Secret
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: st.ClientSecretName}, &sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data[ClientSecretKeyClientID]) != st.OIDCClientID || len(sec.Data[ClientSecretKeyClientSecret]) == 0 {
		t.Fatalf("client Secret keys = %v", sortedSecretKeys(sec))
	}
	if ap.Status.ManualStep == nil || ap.Status.ManualStep.ClientID != st.OIDCClientID {
		t.Fatalf("manualStep = %+v", ap.Status.ManualStep)
	}

	// The admin's manual step done: Okta reaches the SCIM server.
	e.connect("pd")
	e.waitCondition("pd", scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded,
		st.OIDCClientID)
	ap = e.waitCondition("pd", scimv1alpha1.ConditionScimAuthenticated, condTrue, scimv1alpha1.ReasonTokensAccepted)
	if ap.Status.Users == nil || *ap.Status.Users != 2 {
		t.Fatalf("users = %v", ap.Status.Users)
	}
}

func sortedSecretKeys(s corev1.Secret) []string {
	var out []string
	for k := range s.Data {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestScimUserMapping_SyncsSchemaAndMappingAndRefusesDroppingBadgeID(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()
	e.newAP("pd", nil)
	ap := e.waitCondition("pd", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	appID := ap.Status.Okta.SAMLAppID

	sum := &scimv1alpha1.ScimUserMapping{
		ObjectMeta: metav1.ObjectMeta{Name: "pd-map", Namespace: e.ns,
			Labels: map[string]string{oktaSuiteLabel: e.label}},
		Spec: scimv1alpha1.ScimUserMappingSpec{
			AgencyProvisioningRef: scimv1alpha1.LocalObjectRef{Name: "pd"},
			Attributes: []scimv1alpha1.CustomAttribute{
				{DisplayName: "Badge ID", VariableName: "badgeId", Required: true},
				{DisplayName: "Rank Name", VariableName: "rankName"},
			},
			Mappings: []scimv1alpha1.AttributeMapping{{Target: "rankName", Expression: "user.title"}},
		},
	}
	if err := k8sClient.Create(ctx, sum); err != nil {
		t.Fatal(err)
	}
	// Provisioning is not on in this org: the attributes exist, their external names wait for it
	// (TestOkta_EndToEndWithOktaSimAndScimServer covers the rest).
	waitSUM(t, e, "pd-map", scimv1alpha1.ConditionSchemaSynced, condFalse, scimv1alpha1.ReasonWaitingForProvisioning)
	waitSUM(t, e, "pd-map", scimv1alpha1.ConditionMappingsSynced, condTrue, scimv1alpha1.ReasonSucceeded)

	attrs, err := e.org.GetAppUserAttributes(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	if !attrs["badgeId"].Required || attrs["badgeId"].Title != "Badge ID" || attrs["rankName"].Title != "Rank Name" {
		t.Fatalf("attributes = %+v", attrs)
	}
	m, err := e.org.FindProfileMapping(ctx, e.sim.DefaultUserTypeID(), appID)
	if err != nil {
		t.Fatal(err)
	}
	for target, expr := range map[string]string{
		"badgeId": "user.employeeNumber", "givenName": "user.firstName", "familyName": "user.lastName",
		"rankName": "user.title",
	} {
		if m.Properties[target].Expression != expr {
			t.Errorf("mapping %s = %q, want %q", target, m.Properties[target].Expression, expr)
		}
	}

	// A spec that makes badgeId optional is refused with a condition; Okta keeps it required.
	setBadgeIDRequired := func(required bool) {
		t.Helper()
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sum), sum); err != nil {
			t.Fatal(err)
		}
		sum.Spec.Attributes[0].Required = required
		if err := k8sClient.Update(ctx, sum); err != nil {
			t.Fatal(err)
		}
	}
	setBadgeIDRequired(false)
	waitSUM(t, e, "pd-map", scimv1alpha1.ConditionReady, condFalse, scimv1alpha1.ReasonBadgeIDRequired)
	attrs, err = e.org.GetAppUserAttributes(ctx, appID)
	if err != nil || !attrs["badgeId"].Required {
		t.Fatalf("badgeId in Okta after the refused spec = %+v, %v", attrs["badgeId"], err)
	}

	// Fixed spec, but Okta's schema API fails: MappingsSynced does not keep the badgeId message,
	// whose cause is gone; it waits for the schema.
	if _, err := e.sim.InjectFault(oktasim.Fault{Kind: oktasim.FaultServerError, Method: http.MethodGet,
		PathPrefix: "/api/v1/meta/schemas/apps/"}); err != nil {
		t.Fatal(err)
	}
	setBadgeIDRequired(true)
	waitSUM(t, e, "pd-map", scimv1alpha1.ConditionSchemaSynced, condFalse, scimv1alpha1.ReasonOktaError)
	waitSUM(t, e, "pd-map", scimv1alpha1.ConditionMappingsSynced, metav1.ConditionUnknown,
		scimv1alpha1.ReasonReconciling)
	e.sim.ClearFaults()
	waitSUM(t, e, "pd-map", scimv1alpha1.ConditionMappingsSynced, condTrue, scimv1alpha1.ReasonSucceeded)

	// Someone removes an attribute in Okta; the agency's sync request repairs the mapping too,
	// long before the resync period (an hour here).
	if _, err := e.org.UpdateAppUserAttributes(ctx, appID, nil, []string{"rankName"}); err != nil {
		t.Fatal(err)
	}
	cur := e.get("pd")
	patch := client.MergeFrom(cur.DeepCopy())
	cur.Annotations = map[string]string{AnnotationSyncRequest: "repair-1"}
	if err := k8sClient.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() error {
		attrs, err := e.org.GetAppUserAttributes(ctx, appID)
		if err != nil {
			return err
		}
		if _, ok := attrs["rankName"]; !ok {
			return fmt.Errorf("rankName is still missing from the app's schema")
		}
		return nil
	})
}

func waitSUM(t *testing.T, e *oktaEnv, name, condType string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	waitFor(t, 30*time.Second, func() error {
		var sum scimv1alpha1.ScimUserMapping
		if err := k8sClient.Get(t.Context(), client.ObjectKey{Namespace: e.ns, Name: name}, &sum); err != nil {
			return err
		}
		for _, c := range sum.Status.Conditions {
			if c.Type == condType && c.Status == status && c.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("conditions %s", describeConditions(sum.Status.Conditions))
	})
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// serviceAppSecret registers an OAuth service app with a new key in the simulator and stores
// its client id and private key in a Secret.
// newAPWithBadToken creates an AgencyProvisioning whose own credentials Secret holds a token
// Okta refuses, and waits until OktaAuthenticated says so.
func (e *oktaEnv) newAPWithBadToken(name string) {
	e.t.Helper()
	e.createSecret(name+"-creds", "not-a-token")
	e.newAP(name, func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.Okta.CredentialsSecretRef.Name = name + "-creds"
	})
	e.waitCondition(name, scimv1alpha1.ConditionOktaAuthenticated, condFalse, scimv1alpha1.ReasonInvalidCredentials)
}

func (e *oktaEnv) serviceAppSecret(name string) oktasim.ServiceApp {
	e.t.Helper()
	return e.serviceAppSecretWithScopes(name, okta.DefaultScopes)
}

// serviceAppSecretWithScopes creates a service app granted scopes and a PrivateKey Secret for
// it that asks for those scopes.
func (e *oktaEnv) serviceAppSecretWithScopes(name string, scopes []string) oktasim.ServiceApp {
	e.t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		e.t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		e.t.Fatal(err)
	}
	svc, err := e.sim.CreateServiceApp("scim-operator", &key.PublicKey, "kid-1", scopes)
	if err != nil {
		e.t.Fatal(err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Data: map[string][]byte{
			scimv1alpha1.CredentialsKeyClientID:   []byte(svc.ClientID),
			scimv1alpha1.CredentialsKeyPrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
			scimv1alpha1.CredentialsKeyKeyID:      []byte("kid-1"),
			okta.SecretKeyScopes:                  []byte(strings.Join(scopes, " ")),
		},
	}
	if err := k8sClient.Create(e.t.Context(), s); err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// TestOkta_RevokedCredentialsAreReportedAndRecover: an API token revoked in Okta, or a service
// app deactivated there, turns OktaAuthenticated False with InvalidCredentials at the next
// resync; a new token in the Secret, or the app reactivated, brings it back.
func TestOkta_RevokedCredentialsAreReportedAndRecover(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Second})

	t.Run("API token revoked, then replaced in the Secret", func(t *testing.T) {
		defer e.use(t)()
		_, token := e.sim.IssueAPIToken("scim-operator")
		e.createSecret("revocable-creds", token)
		e.newAP("revoked", func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.Okta.CredentialsSecretRef.Name = "revocable-creds"
		})
		e.waitCondition("revoked", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
		if err := e.sim.RevokeAPIToken(token); err != nil {
			t.Fatal(err)
		}
		ap := e.waitCondition("revoked", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
			scimv1alpha1.ReasonInvalidCredentials, "revocable-creds")
		if msg := conditionMessage(ap, scimv1alpha1.ConditionOktaAuthenticated); strings.Contains(msg, token) {
			t.Fatalf("the condition message shows the token: %s", msg)
		}
		_, replacement := e.sim.IssueAPIToken("scim-operator, rotated")
		e.setToken("revocable-creds", replacement)
		e.waitCondition("revoked", scimv1alpha1.ConditionOktaAuthenticated, condTrue, scimv1alpha1.ReasonSucceeded)
		e.waitCondition("revoked", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	})

	t.Run("service app deactivated, then reactivated", func(t *testing.T) {
		defer e.use(t)()
		svc := e.serviceAppSecret("deactivated-creds")
		e.newAP("deactivated", func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.Okta.CredentialsSecretRef = scimv1alpha1.OktaCredentialsRef{
				Name: "deactivated-creds", AuthMode: scimv1alpha1.OktaAuthModePrivateKey}
		})
		e.waitCondition("deactivated", scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
			scimv1alpha1.ReasonSucceeded)
		if code := e.simAPI(http.MethodPost, "/api/v1/apps/"+svc.ID+"/lifecycle/deactivate", nil, nil); code !=
			http.StatusOK {
			t.Fatalf("deactivate the service app: HTTP %d", code)
		}
		e.waitCondition("deactivated", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
			scimv1alpha1.ReasonInvalidCredentials, "deactivated-creds")
		// The access token the operator held was revoked with the app; it must fetch a new one.
		if code := e.simAPI(http.MethodPost, "/api/v1/apps/"+svc.ID+"/lifecycle/activate", nil, nil); code !=
			http.StatusOK {
			t.Fatalf("activate the service app: HTTP %d", code)
		}
		e.waitCondition("deactivated", scimv1alpha1.ConditionOktaAuthenticated, condTrue,
			scimv1alpha1.ReasonSucceeded)
	})
}

func TestOkta_FailureModesFlipTheRightConditionAndRecover(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()

	t.Run("wrong token", func(t *testing.T) {
		defer e.use(t)()
		e.createSecret("bad-creds", "not-a-token")
		e.newAP("wrongtoken", func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.Okta.CredentialsSecretRef.Name = "bad-creds"
		})
		e.waitCondition("wrongtoken", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
			scimv1alpha1.ReasonInvalidCredentials, "bad-creds")
		e.setToken("bad-creds", e.sim.APIToken())
		e.waitCondition("wrongtoken", scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
			scimv1alpha1.ReasonSucceeded)
	})

	t.Run("service app key authenticates", func(t *testing.T) {
		defer e.use(t)()
		e.serviceAppSecret("svc-creds")
		e.newAP("svcapp", func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.Okta.CredentialsSecretRef = scimv1alpha1.OktaCredentialsRef{
				Name: "svc-creds", AuthMode: scimv1alpha1.OktaAuthModePrivateKey}
		})
		e.waitCondition("svcapp", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
		e.waitCondition("svcapp", scimv1alpha1.ConditionOktaAuthenticated, condTrue, scimv1alpha1.ReasonSucceeded)
	})

	t.Run("missing credentials Secret", func(t *testing.T) {
		defer e.use(t)()
		e.newAP("nosecret", func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.Okta.CredentialsSecretRef.Name = "later-creds"
		})
		e.waitCondition("nosecret", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
			scimv1alpha1.ReasonCredentialsSecretMissing, "later-creds")
		e.createSecret("later-creds", e.sim.APIToken())
		e.waitCondition("nosecret", scimv1alpha1.ConditionOktaAuthenticated, condTrue, scimv1alpha1.ReasonSucceeded)
	})

	t.Run("org unreachable", func(t *testing.T) {
		defer e.use(t)()
		dead := "http://" + closedPort(t)
		e.newAP("unreachable", func(ap *scimv1alpha1.AgencyProvisioning) { ap.Spec.Okta.OrgURL = dead })
		e.waitCondition("unreachable", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
			scimv1alpha1.ReasonOrgUnreachable, dead)
		ap := e.get("unreachable")
		patch := client.MergeFrom(ap.DeepCopy())
		ap.Spec.Okta.OrgURL = e.sim.URL()
		if err := k8sClient.Patch(ctx, ap, patch); err != nil {
			t.Fatal(err)
		}
		e.waitCondition("unreachable", scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
			scimv1alpha1.ReasonSucceeded)
	})

	t.Run("issuer mismatch", func(t *testing.T) {
		defer e.use(t)()
		foreign := "https://login.other-agency.example/oauth2/default"
		if err := e.sim.SetIssuer("default", foreign); err != nil {
			t.Fatal(err)
		}
		e.newAP("issuer", nil)
		e.waitCondition("issuer", scimv1alpha1.ConditionIssuerVerified, condFalse,
			scimv1alpha1.ReasonIssuerMismatch, foreign, e.sim.URL())
		if err := e.sim.SetIssuer("default", ""); err != nil {
			t.Fatal(err)
		}
		e.waitCondition("issuer", scimv1alpha1.ConditionIssuerVerified, condTrue, scimv1alpha1.ReasonSucceeded)
	})

	t.Run("the SCIM server's report still counts while Okta refuses the credentials", func(t *testing.T) {
		defer e.use(t)()
		e.newAPWithBadToken("reportwhilebroken")
		e.reports.set("reportwhilebroken", scimconfig.Report{AgencyID: "reportwhilebroken", Users: 7,
			Rejections: map[string]scimconfig.Rejection{scimconfig.ReasonWrongAudience: {
				Reason: scimconfig.ReasonWrongAudience, Message: "token audience not accepted",
				Expected: "api://default", Seen: "api://other", Count: 2, Time: time.Now()}}})
		ap := e.waitCondition("reportwhilebroken", scimv1alpha1.ConditionScimAuthenticated, condFalse,
			scimv1alpha1.ReasonWrongAudience, "api://other")
		if ap.Status.Users == nil || *ap.Status.Users != 7 {
			t.Errorf("status.users = %v, want the report's 7", ap.Status.Users)
		}
		if c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected); c != nil {
			t.Errorf("ProvisioningConnected = %+v before any Okta sync: its values are not known yet", c)
		}
	})

	t.Run("an unknown authorization server is a spec problem, not a retried 404", func(t *testing.T) {
		defer e.use(t)()
		e.newAP("noserver", func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.Okta.AuthorizationServerID = "nosuchserver"
		})
		e.waitCondition("noserver", scimv1alpha1.ConditionIssuerVerified, condFalse, scimv1alpha1.ReasonInvalidSpec,
			`no authorization server "nosuchserver"`)
		e.waitCondition("noserver", scimv1alpha1.ConditionOktaAppsConfigured, condFalse,
			scimv1alpha1.ReasonAppsOutOfSync, `access policy: authorization server "nosuchserver" does not exist`)
	})

	t.Run("a service app without the apps scope is a credentials problem", func(t *testing.T) {
		defer e.use(t)()
		e.serviceAppSecretWithScopes("narrow-creds", []string{"okta.schemas.manage"})
		e.newAP("narrowscopes", func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Spec.Okta.CredentialsSecretRef = scimv1alpha1.OktaCredentialsRef{Name: "narrow-creds",
				AuthMode: scimv1alpha1.OktaAuthModePrivateKey}
		})
		e.waitCondition("narrowscopes", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
			scimv1alpha1.ReasonInvalidCredentials, "but refused the first request", "grant the service app every "+
				"scope the operator asks for", "Okta org http://")
	})

	t.Run("an app create whose answer a gateway lost makes one app", func(t *testing.T) {
		defer e.use(t)()
		id, err := e.sim.InjectFault(oktasim.Fault{Kind: oktasim.FaultLostResponse, Method: http.MethodPost,
			PathPrefix: "/api/v1/apps", Count: 1, Status: http.StatusGatewayTimeout})
		if err != nil {
			t.Fatal(err)
		}
		e.newAP("lostanswer", nil)
		ap := e.waitCondition("lostanswer", scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
			scimv1alpha1.ReasonSucceeded)
		for _, f := range e.sim.Faults() {
			if f.ID == id {
				t.Fatalf("the fault was not hit: %+v", f)
			}
		}
		for _, label := range []string{samlLabel(ap), oidcLabel(ap)} {
			var apps []struct {
				ID    string `json:"id"`
				Label string `json:"label"`
			}
			e.simAPI(http.MethodGet, "/api/v1/apps?q="+url.QueryEscape(label), nil, &apps)
			n := 0
			for _, a := range apps {
				if a.Label == label {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d Okta apps labelled %q, want 1: %+v", n, label, apps)
			}
		}
	})

	t.Run("SCIM server reports its store, even while Okta refuses the credentials", func(t *testing.T) {
		defer e.use(t)()
		e.newAPWithBadToken("storedown")
		since := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
		e.reports.set("storedown", scimconfig.Report{AgencyID: "storedown", CountsUnavailable: true,
			Store: &scimconfig.StoreProblem{Reason: scimconfig.StoreUnreachable, Since: since,
				Message: "open postgres: failed to connect to `user=scim database=agency`: connection refused"}})
		e.waitCondition("storedown", scimv1alpha1.ConditionScimServerAvailable, condFalse,
			scimv1alpha1.ReasonStoreUnreachable, "since 2026-12-04T23:00:00Z", "connection refused",
			"; Deployment storedown-scim")
		e.reports.set("storedown", scimconfig.Report{AgencyID: "storedown", CountsUnavailable: true,
			Store: &scimconfig.StoreProblem{Reason: scimconfig.MigrationFailed, Since: since,
				Message: "migration 0002_x.sql: permission denied for schema public"}})
		e.waitCondition("storedown", scimv1alpha1.ConditionScimServerAvailable, condFalse,
			scimv1alpha1.ReasonMigrationFailed, "permission denied for schema public")
		// The store answers again: the Deployment's own state is back (envtest runs no
		// Deployment controller, so its rollout is never observed).
		e.reports.set("storedown", scimconfig.Report{AgencyID: "storedown"})
		e.waitCondition("storedown", scimv1alpha1.ConditionScimServerAvailable, metav1.ConditionUnknown,
			scimv1alpha1.ReasonDeploymentProgressing)
		var svc corev1.Service
		name := ReportServiceName(e.get("storedown"))
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &svc); err != nil ||
			!svc.Spec.PublishNotReadyAddresses {
			t.Fatalf("report Service %s: %v, publishNotReadyAddresses %v", name, err, svc.Spec.PublishNotReadyAddresses)
		}
	})

	t.Run("SCIM server rejects a foreign-issuer token", func(t *testing.T) {
		defer e.use(t)()
		e.newAP("foreigntoken", nil)
		ap := e.waitCondition("foreigntoken", scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
			scimv1alpha1.ReasonSucceeded)
		seen := "https://evil.example/oauth2/default"
		e.reports.set("foreigntoken", scimconfig.Report{AgencyID: "foreigntoken",
			Rejections: map[string]scimconfig.Rejection{
				scimconfig.ReasonIssuerMismatch: {
					Reason: scimconfig.ReasonIssuerMismatch, Message: "issuer not accepted",
					Expected: e.sim.URL(), Seen: seen, Count: 4, Time: time.Now()},
			}})
		e.waitCondition("foreigntoken", scimv1alpha1.ConditionScimAuthenticated, condFalse,
			scimv1alpha1.ReasonIssuerMismatch, e.sim.URL(), seen)
		// A later request with a good token clears it.
		rep := scimconfig.Report{AgencyID: "foreigntoken", LastAuthenticated: &scimconfig.AuthenticatedRequest{
			ClientID: ap.Status.Okta.OIDCClientID, Method: http.MethodGet, Path: "/Users", Status: http.StatusOK,
			Time: time.Now().Add(time.Second)}}
		rep.Rejections = map[string]scimconfig.Rejection{scimconfig.ReasonIssuerMismatch: {
			Reason: scimconfig.ReasonIssuerMismatch, Expected: e.sim.URL(), Seen: seen, Count: 4, Time: time.Now()}}
		e.reports.set("foreigntoken", rep)
		e.waitCondition("foreigntoken", scimv1alpha1.ConditionScimAuthenticated, condTrue,
			scimv1alpha1.ReasonTokensAccepted)
	})
}

func TestOkta_RateLimitStormIsReportedAndWaitedOut(t *testing.T) {
	e := newOktaEnv(t, envOptions{maxWait: time.Second})
	if _, err := e.sim.InjectFault(oktasim.Fault{Kind: oktasim.FaultRateLimit, PathPrefix: "/api/v1",
		ResetAfter: 4 * time.Second}); err != nil {
		t.Fatal(err)
	}
	e.newAP("storm", nil)
	e.waitCondition("storm", scimv1alpha1.ConditionOktaAuthenticated, condFalse, scimv1alpha1.ReasonRateLimited,
		"429")
	limited := e.calls.limits.Load()
	e.sim.ClearFaults()
	e.waitCondition("storm", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	// While the org said "wait", nobody called it: one 429 per announced reset at most.
	if limited > 2 {
		t.Fatalf("the operator drew %d 429 answers during the storm; it should wait for the reset", limited)
	}
}

func TestOkta_DriftIsRepairedOnResync(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Second})
	ctx := t.Context()
	e.newAP("drift", nil)
	ap := e.waitCondition("drift", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	st := ap.Status.Okta

	// Someone deletes the access policy rule in Okta.
	code := e.simAPI(http.MethodDelete, fmt.Sprintf("/api/v1/authorizationServers/default/policies/%s/rules/%s",
		st.AccessPolicyID, st.AccessPolicyRuleID), nil, nil)
	if code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("delete rule: HTTP %d", code)
	}
	waitFor(t, 20*time.Second, func() error {
		rules, err := e.org.ListPolicyRules(ctx, "default", st.AccessPolicyID)
		if err != nil {
			return err
		}
		if len(rules) != 1 || rules[0].RefreshTokenLifetimeMinutes != 0 {
			return fmt.Errorf("rules = %+v", rules)
		}
		return nil
	})

	// Someone edits the OIDC app's redirect URI.
	if _, err := e.org.UpdateOIDCApp(ctx, st.OIDCAppID, okta.OIDCAppSpec{Label: "drift SCIM OAuth",
		RedirectURIs: []string{"https://attacker.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() error {
		app, err := e.org.GetApp(ctx, st.OIDCAppID)
		if err != nil {
			return err
		}
		if !slices.Equal(app.RedirectURIs, []string{RedirectURI(ap, st.SAMLAppName)}) {
			return fmt.Errorf("redirect URIs = %v", app.RedirectURIs)
		}
		return nil
	})

	// Someone edits the profile mapping.
	sum := &scimv1alpha1.ScimUserMapping{
		ObjectMeta: metav1.ObjectMeta{Name: "drift-map", Namespace: e.ns,
			Labels: map[string]string{oktaSuiteLabel: e.label}},
		Spec: scimv1alpha1.ScimUserMappingSpec{
			AgencyProvisioningRef: scimv1alpha1.LocalObjectRef{Name: "drift"},
			Attributes: []scimv1alpha1.CustomAttribute{{DisplayName: "Badge ID", VariableName: "badgeId",
				Required: true}},
		},
	}
	if err := k8sClient.Create(ctx, sum); err != nil {
		t.Fatal(err)
	}
	// Provisioning is not on in this org, so the schema waits for it; the mapping is synced.
	waitSUM(t, e, "drift-map", scimv1alpha1.ConditionMappingsSynced, condTrue, scimv1alpha1.ReasonSucceeded)
	m, err := e.org.FindProfileMapping(ctx, e.sim.DefaultUserTypeID(), st.SAMLAppID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.org.UpdateProfileMapping(ctx, m.ID, map[string]okta.MappingProperty{
		"badgeId": {Expression: "user.nickName"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() error {
		m, err := e.org.FindProfileMapping(ctx, e.sim.DefaultUserTypeID(), st.SAMLAppID)
		if err != nil {
			return err
		}
		if got := m.Properties["badgeId"].Expression; got != "user.employeeNumber" {
			return fmt.Errorf("badgeId mapping = %q", got)
		}
		return nil
	})
}

func TestOkta_DeletionPolicies(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()

	t.Run("Retain leaves Okta untouched", func(t *testing.T) {
		defer e.use(t)()
		e.newAP("keep", nil)
		ap := e.waitCondition("keep", scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
			scimv1alpha1.ReasonSucceeded)
		if controllerutil.ContainsFinalizer(ap, OktaFinalizer) {
			t.Fatal("Retain must not set the Okta finalizer")
		}
		before := e.calls.writes.Load()
		e.deleteAP("keep")
		if w := e.calls.writes.Load() - before; w != 0 {
			t.Fatalf("deleting with Retain made %d Okta writes", w)
		}
		for _, id := range []string{ap.Status.Okta.SAMLAppID, ap.Status.Okta.OIDCAppID} {
			if _, err := e.org.GetApp(ctx, id); err != nil {
				t.Fatalf("app %s after Retain: %v", id, err)
			}
		}
	})

	t.Run("Delete removes exactly what the operator created", func(t *testing.T) {
		defer e.use(t)()
		// An app the operator did not create, which must survive.
		other, err := e.org.CreateSAMLApp(ctx, okta.SAMLAppSpec{Label: "someone else's app"})
		if err != nil {
			t.Fatal(err)
		}
		ap := e.syncedDeletableAP("gone", nil)
		if !controllerutil.ContainsFinalizer(ap, OktaFinalizer) {
			t.Fatal("Delete must set the Okta finalizer")
		}
		st := ap.Status.Okta
		e.deleteAP("gone")
		for _, id := range []string{st.SAMLAppID, st.OIDCAppID} {
			if _, err := e.org.GetApp(ctx, id); !errors.Is(err, okta.ErrNotFound) {
				t.Fatalf("app %s after Delete: %v", id, err)
			}
		}
		policies, err := e.org.ListPolicies(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(policies, func(p okta.Policy) bool { return p.ID == st.AccessPolicyID }) {
			t.Fatalf("access policy %s survived", st.AccessPolicyID)
		}
		if _, err := e.org.GetApp(ctx, other.ID); err != nil {
			t.Fatalf("the foreign app was touched: %v", err)
		}
	})

	t.Run("an app with the wanted label that is not ours is reported, not adopted", func(t *testing.T) {
		defer e.use(t)()
		if _, err := e.org.CreateSAMLApp(ctx, okta.SAMLAppSpec{Label: "taken SCIM"}); err != nil {
			t.Fatal(err)
		}
		e.newAP("taken", nil)
		e.waitCondition("taken", scimv1alpha1.ConditionOktaAppsConfigured, condFalse,
			scimv1alpha1.ReasonAppsOutOfSync,
			`"taken SCIM"`, "did not create")
	})
}

// TestOkta_AnAppOfAnotherAgencyIsNamedWithItsOwner: an app with the wanted label made for
// another AgencyProvisioning is named with that owner, and whether it still exists, so that an
// admin does not delete an app another agency uses.
func TestOkta_AnAppOfAnotherAgencyIsNamedWithItsOwner(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	e.newAP("first", nil)
	e.waitCondition("first", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)

	e.newAP("second", func(ap *scimv1alpha1.AgencyProvisioning) { ap.Spec.Okta.SAMLAppLabel = "first SCIM" })
	e.waitCondition("second", scimv1alpha1.ConditionOktaAppsConfigured, condFalse,
		scimv1alpha1.ReasonAppsOutOfSync, `"first SCIM"`, "belongs to AgencyProvisioning "+e.ns+"/first, which "+
			"uses it", "do not delete that app")

	if _, err := e.org.CreateSAMLApp(t.Context(), okta.SAMLAppSpec{Label: "ghost SCIM",
		Owner: e.ns + "/ghost/0d7c1e0a-0000-4000-8000-000000000000"}); err != nil {
		t.Fatal(err)
	}
	e.newAP("third", func(ap *scimv1alpha1.AgencyProvisioning) { ap.Spec.Okta.SAMLAppLabel = "ghost SCIM" })
	e.waitCondition("third", scimv1alpha1.ConditionOktaAppsConfigured, condFalse,
		scimv1alpha1.ReasonAppsOutOfSync, `"ghost SCIM"`, "created for AgencyProvisioning "+e.ns+"/ghost",
		"which no longer exists")
}

// TestOkta_AnAppOfAnAgencyOutsideTheWatchedNamespacesIsNotCalledForeign: with the cache narrowed
// to some namespaces (--watch-namespaces), an app made for an AgencyProvisioning elsewhere (by
// another installation of the operator) cannot be looked up; it is named with its owner, and the
// admin is told not to delete it, as it may be in use.
func TestOkta_AnAppOfAnAgencyOutsideTheWatchedNamespacesIsNotCalledForeign(t *testing.T) {
	e := newOktaEnv(t, envOptions{ownNamespaceOnly: true})
	if _, err := e.org.CreateSAMLApp(t.Context(), okta.SAMLAppSpec{Label: "elsewhere SCIM",
		Owner: "team-b/elsewhere/0d7c1e0a-0000-4000-8000-000000000000"}); err != nil {
		t.Fatal(err)
	}
	e.newAP("here", func(ap *scimv1alpha1.AgencyProvisioning) { ap.Spec.Okta.SAMLAppLabel = "elsewhere SCIM" })
	ap := e.waitCondition("here", scimv1alpha1.ConditionOktaAppsConfigured, condFalse,
		scimv1alpha1.ReasonAppsOutOfSync, `"elsewhere SCIM"`, "AgencyProvisioning team-b/elsewhere",
		"do not delete that app")
	if msg := conditionMessage(ap, scimv1alpha1.ConditionOktaAppsConfigured); strings.Contains(msg, "remove that app") {
		t.Fatalf("an app that may be in use is called removable: %s", msg)
	}
}

func TestParseOwnerMark(t *testing.T) {
	tests := []struct {
		mark, ns, name, uid string
		ok                  bool
	}{
		{mark: "riverbend/riverbend-pd/0d7c", ns: "riverbend", name: "riverbend-pd", uid: "0d7c", ok: true},
		{mark: ""},
		{mark: "riverbend/riverbend-pd"},
		{mark: "a/b/c/d"},
		{mark: "//uid"},
	}
	for _, tt := range tests {
		t.Run(tt.mark, func(t *testing.T) {
			ns, name, uid, ok := parseOwnerMark(tt.mark)
			if ns != tt.ns || name != tt.name || uid != tt.uid || ok != tt.ok {
				t.Fatalf("parseOwnerMark(%q) = %q, %q, %q, %v", tt.mark, ns, name, uid, ok)
			}
		})
	}
}

// TestOkta_ACredentialsSecretChangedWhileSyncedIsActedOnAtOnce: with every Okta condition True
// and an hour to the next resync, a credentials Secret that loses its key, then one that is
// deleted, then one created again, are each acted on through the Secret watch, not at the
// resync.
func TestOkta_ACredentialsSecretChangedWhileSyncedIsActedOnAtOnce(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Hour})
	ctx := t.Context()
	e.newAP("pd", nil)
	e.waitCondition("pd", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)

	var sec corev1.Secret
	key := client.ObjectKey{Namespace: e.ns, Name: "okta-creds"}
	if err := k8sClient.Get(ctx, key, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"apitoken": sec.Data[scimv1alpha1.CredentialsKeyAPIToken]}
	if err := k8sClient.Update(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	e.waitCondition("pd", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
		scimv1alpha1.ReasonCredentialsSecretMissing, `has no key "apiToken"`)

	if err := k8sClient.Delete(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	e.waitCondition("pd", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
		scimv1alpha1.ReasonCredentialsSecretMissing, "does not exist")

	e.createSecret("okta-creds", e.sim.APIToken())
	e.waitCondition("pd", scimv1alpha1.ConditionOktaAuthenticated, condTrue, scimv1alpha1.ReasonSucceeded)
}

// TestOkta_ADeletionWaitingOnCredentialsSaysSoInReady: deletionPolicy Delete with credentials
// that no longer work keeps the object, and Ready says why and what lets the deletion finish;
// switching to Retain does.
func TestOkta_ADeletionWaitingOnCredentialsSaysSoInReady(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()
	e.createSecret("pd-creds", e.sim.APIToken())
	e.syncedDeletableAP("pd", func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.Okta.CredentialsSecretRef.Name = "pd-creds"
	})
	if err := k8sClient.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns,
		Name: "pd-creds"}}); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, e.get("pd")); err != nil {
		t.Fatal(err)
	}
	e.waitCondition("pd", scimv1alpha1.ConditionReady, condFalse, scimv1alpha1.ReasonDeletionBlocked,
		"being deleted, but cannot delete the Okta objects", "set spec.deletionPolicy to Retain")

	ap := e.get("pd")
	patch := client.MergeFrom(ap.DeepCopy())
	ap.Spec.DeletionPolicy = scimv1alpha1.DeletionPolicyRetain
	if err := k8sClient.Patch(ctx, ap, patch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() error {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ap), &scimv1alpha1.AgencyProvisioning{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (err %w)", err)
	})
}

// TestOkta_OneAgencyProvisioningPerAgencyAndOrg: a second AgencyProvisioning for the same
// agency and org, with other app labels, stops before making any Okta app and names the first.
func TestOkta_OneAgencyProvisioningPerAgencyAndOrg(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	e.newAP("first", nil)
	e.waitCondition("first", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	apps, err := e.org.FindApps(t.Context(), "copy SCIM")
	if err != nil || len(apps) != 0 {
		t.Fatalf("apps labelled for the copy before it exists: %v, %v", apps, err)
	}

	e.newAP("copy", func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.AgencyID = "first"
		ap.Spec.Okta.SAMLAppLabel, ap.Spec.Okta.OIDCAppLabel = "copy SCIM", "copy SCIM OAuth"
	})
	e.waitCondition("copy", scimv1alpha1.ConditionOktaAppsConfigured, condFalse, scimv1alpha1.ReasonAppsOutOfSync,
		"agency: AgencyProvisioning "+e.ns+"/first, created earlier, already provisions agency \"first\"")
	if apps, err := e.org.FindApps(t.Context(), "copy SCIM"); err != nil || len(apps) != 0 {
		t.Fatalf("the copy made Okta apps: %v, %v", apps, err)
	}
	e.waitCondition("first", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
}

func TestCreatedFirst_AnAgencyWithItsAppsComesFirst(t *testing.T) {
	at := func(sec int64) metav1.Time { return metav1.NewTime(time.Unix(sec, 0)) }
	ap := func(name string, created metav1.Time, app string) *scimv1alpha1.AgencyProvisioning {
		a := &scimv1alpha1.AgencyProvisioning{}
		a.Namespace, a.Name, a.CreationTimestamp = "ns", name, created
		a.Status.Okta.SAMLAppID = app
		return a
	}
	tests := []struct {
		name string
		a, b *scimv1alpha1.AgencyProvisioning
		want bool
	}{
		{name: "the one with apps, created in the same second", a: ap("z", at(5), "0oa1"), b: ap("a", at(5), ""),
			want: true},
		{name: "the one with apps, created later", a: ap("b", at(9), "0oa1"), b: ap("a", at(5), ""), want: true},
		{name: "neither has apps: the earlier", a: ap("b", at(4), ""), b: ap("a", at(5), ""), want: true},
		{name: "both have apps, same second: by name", a: ap("b", at(5), "0oa1"), b: ap("a", at(5), "0oa2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := createdFirst(tt.a, tt.b); got != tt.want {
				t.Fatalf("createdFirst = %v, want %v", got, tt.want)
			}
			if tt.want && createdFirst(tt.b, tt.a) {
				t.Fatal("both come first")
			}
		})
	}
}

// TestOkta_NoCredentialsVersionInStatusStartsNoFullSyncAtEachPoll: status.okta.credentialsVersion
// can be missing though the agency is synced: an operator upgraded before its CRD (Helm never
// upgrades CRDs) has the API server drop the field at every status patch. That is no credentials
// change: report polls must not each become a full Okta sync.
func TestOkta_NoCredentialsVersionInStatusStartsNoFullSyncAtEachPoll(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Hour})
	ctx := t.Context()
	e.newAP("pd", nil)
	e.waitCondition("pd", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	waitFor(t, 10*time.Second, func() error {
		if v := e.get("pd").Status.Okta.CredentialsVersion; v == "" {
			return errors.New("no credentialsVersion yet")
		}
		return nil
	})

	// Drop the field as an older CRD's schema would, through several report polls (200ms).
	checks := e.calls.checks.Load()
	drop := client.RawPatch(types.MergePatchType, []byte(`{"status":{"okta":{"credentialsVersion":null}}}`))
	for range 15 {
		if err := k8sClient.Status().Patch(ctx, e.get("pd"), drop); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := e.calls.checks.Load() - checks; n > 0 {
		t.Fatalf("%d full Okta syncs for a status without credentialsVersion, want none", n)
	}
}
