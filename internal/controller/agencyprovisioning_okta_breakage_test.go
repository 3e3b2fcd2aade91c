package controller

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// These tests break the Okta side and the SCIM server the way a real org and a real cluster
// do, and check what an admin then reads in the conditions.

func TestOkta_ScimServerRestartKeepsProvisioningConnected(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	e.newAP("restart", nil)
	e.waitCondition("restart", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	e.connect("restart")
	e.waitCondition("restart", scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded)
	e.waitPolls(3) // the operator's cache has the True condition too

	// A new SCIM server pod (rollout, reschedule) has seen no request from Okta yet.
	e.reports.set("restart", scimconfig.Report{AgencyID: "restart", Users: 2, ActiveUsers: 2})
	e.waitPolls(5)
	c := meta.FindStatusCondition(e.get("restart").Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
	if c == nil || c.Status != condTrue {
		t.Fatalf("after a SCIM server restart ProvisioningConnected = %+v; the manual step was done once", c)
	}
}

// waitPolls waits until the operator has read SCIM server reports n more times.
func (e *oktaEnv) waitPolls(n int64) {
	e.t.Helper()
	polls := e.reports.reads.Load()
	waitFor(e.t, 10*time.Second, func() error {
		if got := e.reports.reads.Load() - polls; got < n {
			return fmt.Errorf("%d report polls so far, want %d", got, n)
		}
		return nil
	})
}

func TestOkta_RecreatedSAMLAppNeedsTheManualStepAgain(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Second})
	e.newAP("resaml", nil)
	ap := e.waitCondition("resaml", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	e.connect("resaml")
	e.waitCondition("resaml", scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded)

	// Someone deletes the SAML app in Okta; the operator makes a new one, without provisioning.
	old := ap.Status.Okta.SAMLAppID
	e.simAPI(http.MethodPost, "/api/v1/apps/"+old+"/lifecycle/deactivate", nil, nil)
	if code := e.simAPI(http.MethodDelete, "/api/v1/apps/"+old, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete the SAML app: HTTP %d", code)
	}
	ap = e.waitCondition("resaml", scimv1alpha1.ConditionProvisioningConnected, condFalse,
		scimv1alpha1.ReasonManualStepRequired, "resaml SCIM")
	if ap.Status.Okta.SAMLAppID == old || ap.Status.Okta.SAMLAppID == "" {
		t.Fatalf("SAML app id = %q, want a new app", ap.Status.Okta.SAMLAppID)
	}
	// Okta reaches the SCIM server through the new app: connected again.
	e.connect("resaml")
	e.waitCondition("resaml", scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded)
}

func TestOkta_DeactivatedAppsAreReported(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Second})
	for _, tc := range []struct {
		name  string
		appID func(scimv1alpha1.OktaStatus) string
		label string
	}{
		{name: "SAML app", appID: func(s scimv1alpha1.OktaStatus) string { return s.SAMLAppID }, label: "saml SCIM"},
		{name: "OIDC app", appID: func(s scimv1alpha1.OktaStatus) string { return s.OIDCAppID },
			label: "oidc SCIM OAuth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer e.use(t)()
			name := strings.Fields(tc.label)[0]
			e.newAP(name, nil)
			ap := e.waitCondition(name, scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
				scimv1alpha1.ReasonSucceeded)
			id := tc.appID(ap.Status.Okta)
			if code := e.simAPI(http.MethodPost, "/api/v1/apps/"+id+"/lifecycle/deactivate", nil, nil); code !=
				http.StatusOK {
				t.Fatalf("deactivate: HTTP %d", code)
			}
			e.waitCondition(name, scimv1alpha1.ConditionOktaAppsConfigured, condFalse, scimv1alpha1.ReasonAppsOutOfSync,
				id, tc.label, "INACTIVE")
			if code := e.simAPI(http.MethodPost, "/api/v1/apps/"+id+"/lifecycle/activate", nil, nil); code !=
				http.StatusOK {
				t.Fatalf("activate: HTTP %d", code)
			}
			ap = e.waitCondition(name, scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
				scimv1alpha1.ReasonSucceeded)
			if got := tc.appID(ap.Status.Okta); got != id {
				t.Fatalf("app id %s after reactivation, want %s (no duplicate)", got, id)
			}
		})
	}
}

func TestOkta_GroupPushRefusedIsReportedWithoutRetryStorm(t *testing.T) {
	e := newOktaEnv(t, envOptions{reportPoll: 2 * time.Second})
	e.simGroup("Patrol")
	e.newAP("nopush", func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.Okta.AssignGroups = []string{"Patrol"}
		ap.Spec.SyncMode = scimv1alpha1.SyncModeUsersAndGroups
	})
	e.waitCondition("nopush", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	// Okta reached the SCIM server, but the admin did not tick Push Groups: Okta refuses group
	// push on the app.
	e.connect("nopush")
	e.waitCondition("nopush", scimv1alpha1.ConditionOktaAppsConfigured, condFalse, scimv1alpha1.ReasonAppsOutOfSync,
		"Push Groups")
	checks := e.calls.checks.Load()
	time.Sleep(3 * time.Second)
	// Only a person can fix it: one full sync per report poll (2 s here), not an error backoff
	// that starts at 5 ms.
	if syncs := e.calls.checks.Load() - checks; syncs > 2 {
		t.Fatalf("%d full Okta syncs in 3 s while waiting for an admin", syncs)
	}
}

func TestOkta_NamespaceDeletionDoesNotHangOnTheOktaFinalizer(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()
	ap := e.syncedDeletableAP("nsgone", nil)

	// The namespace is deleted: its Secrets go first, and nothing can be created in it any more,
	// so the credentials can never come back.
	if err := k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "okta-creds", Namespace: e.ns}}
	if err := k8sClient.Delete(ctx, creds); err != nil {
		t.Fatal(err)
	}
	e.deleteAP("nsgone")
	// The Okta objects stay (the operator logs which); nothing else could remove them.
	if _, err := e.org.GetApp(ctx, ap.Status.Okta.SAMLAppID); err != nil {
		t.Fatalf("SAML app after the namespace went: %v", err)
	}
}

func TestOkta_MissingCredentialsStillHoldTheOktaFinalizer(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()
	e.createSecret("held-creds", e.sim.APIToken())
	ap := e.syncedDeletableAP("held", func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.Okta.CredentialsSecretRef.Name = "held-creds"
	})
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "held-creds", Namespace: e.ns}}
	if err := k8sClient.Delete(ctx, creds); err != nil {
		t.Fatal(err)
	}
	// A full sync shows the operator has seen the Secret go (its cache may lag the delete). A
	// patch, not an update: the Secret's deletion alone starts a sync whose status write makes
	// the copy in hand stale.
	patch := client.MergeFrom(ap.DeepCopy())
	ap.Annotations = map[string]string{AnnotationSyncRequest: "secret-gone"}
	if err := k8sClient.Patch(ctx, ap, patch); err != nil {
		t.Fatal(err)
	}
	ap = e.waitCondition("held", scimv1alpha1.ConditionOktaAuthenticated, condFalse,
		scimv1alpha1.ReasonCredentialsSecretMissing)
	if err := k8sClient.Delete(ctx, ap); err != nil {
		t.Fatal(err)
	}
	// In a live namespace the admin can bring the Secret back, so the finalizer waits for it.
	time.Sleep(2 * time.Second)
	if got := e.get("held"); got.DeletionTimestamp.IsZero() {
		t.Fatal("the AgencyProvisioning is not being deleted")
	}
	e.createSecret("held-creds", e.sim.APIToken())
	waitFor(t, 30*time.Second, func() error {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ap), &scimv1alpha1.AgencyProvisioning{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("AgencyProvisioning still there (err %w)", err)
	})
	if _, err := e.org.GetApp(ctx, ap.Status.Okta.SAMLAppID); !errors.Is(err, okta.ErrNotFound) {
		t.Fatalf("SAML app after deletion with its credentials back: %v", err)
	}
}

func TestScimUserMapping_SecondMappingForOneAgencyIsRefused(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Second})
	ctx := t.Context()
	e.newAP("twomaps", nil)
	ap := e.waitCondition("twomaps", scimv1alpha1.ConditionOktaAppsConfigured, condTrue,
		scimv1alpha1.ReasonSucceeded)
	newMapping := func(name, givenName string) {
		sum := &scimv1alpha1.ScimUserMapping{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns,
				Labels: map[string]string{oktaSuiteLabel: e.label}},
			Spec: scimv1alpha1.ScimUserMappingSpec{
				AgencyProvisioningRef: scimv1alpha1.LocalObjectRef{Name: "twomaps"},
				Attributes: []scimv1alpha1.CustomAttribute{{DisplayName: "Badge ID", VariableName: "badgeId",
					Required: true}},
				Mappings: []scimv1alpha1.AttributeMapping{{Target: "givenName", Expression: givenName}},
			},
		}
		if err := k8sClient.Create(ctx, sum); err != nil {
			t.Fatal(err)
		}
	}
	newMapping("first-map", "user.firstName")
	waitSUM(t, e, "first-map", scimv1alpha1.ConditionMappingsSynced, condTrue, scimv1alpha1.ReasonSucceeded)
	newMapping("second-map", "user.nickName")
	waitSUM(t, e, "second-map", scimv1alpha1.ConditionReady, condFalse, scimv1alpha1.ReasonDuplicateMapping)

	// The first mapping's expression holds across resyncs: the two do not take turns in Okta.
	writes := e.calls.writes.Load()
	time.Sleep(3 * time.Second)
	if w := e.calls.writes.Load() - writes; w != 0 {
		t.Fatalf("%d Okta writes in 3 s of resyncs with two mappings for one agency", w)
	}
	m, err := e.org.FindProfileMapping(ctx, e.sim.DefaultUserTypeID(), ap.Status.Okta.SAMLAppID)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Properties["givenName"].Expression; got != "user.firstName" {
		t.Fatalf("givenName <- %q, want the first mapping's user.firstName", got)
	}
}

func TestOkta_RecreatedAgencyNamesTheAppsItsPredecessorLeft(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	e.newAP("again", nil)
	ap := e.waitCondition("again", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	e.deleteAP("again") // deletionPolicy Retain: the apps stay in Okta
	e.newAP("again", nil)
	e.waitCondition("again", scimv1alpha1.ConditionOktaAppsConfigured, condFalse, scimv1alpha1.ReasonAppsOutOfSync,
		ap.Status.Okta.SAMLAppID, "earlier AgencyProvisioning "+e.ns+"/again", string(ap.UID))
}

func TestOkta_ChangedManualStepValuesAfterConnectingAreReported(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()
	tests := []struct {
		name   string
		mutate func(*scimv1alpha1.AgencyProvisioning)
		want   []string
	}{
		{name: "the SCIM endpoint moves", want: []string{"https://scim2.example.test/api/v2/agencies/"},
			mutate: func(ap *scimv1alpha1.AgencyProvisioning) {
				ap.Spec.ScimServer.ExternalURL = "https://scim2.example.test"
			}},
		{name: "the unique identifier changes", want: []string{"Unique identifier field for users = userName"},
			mutate: func(ap *scimv1alpha1.AgencyProvisioning) {
				ap.Spec.Okta.UniqueIdentifier = scimv1alpha1.UniqueIdentifierUserName
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer e.use(t)()
			name := fmt.Sprintf("moved%d", i)
			e.newAP(name, nil)
			e.waitCondition(name, scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
			e.connect(name)
			e.waitCondition(name, scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded)
			e.waitPolls(3)

			ap := e.get(name)
			patch := client.MergeFrom(ap.DeepCopy())
			tt.mutate(ap)
			if err := k8sClient.Patch(ctx, ap, patch); err != nil {
				t.Fatal(err)
			}
			// Okta keeps what the admin entered: it must be changed there by hand.
			ap = e.waitCondition(name, scimv1alpha1.ConditionProvisioningConnected, condFalse,
				scimv1alpha1.ReasonManualStepRequired, tt.want...)
			if ap.Status.ManualStep == nil || !strings.Contains(manualStepMessage(ap.Status.ManualStep), tt.want[0]) {
				t.Fatalf("status.manualStep = %+v, want the new value %q", ap.Status.ManualStep, tt.want[0])
			}
			// The next request Okta makes after the change counts as connected again.
			e.connect(name)
			e.waitCondition(name, scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded)
		})
	}
}

func TestOkta_LostStatusStillRecordsTheObjectsToDelete(t *testing.T) {
	e := newOktaEnv(t, envOptions{})
	ctx := t.Context()
	ap := e.syncedDeletableAP("lost", nil)
	want := ap.Status.Okta

	// The status patch after the first sync was lost (API server hiccup, restore from a
	// backup without status): the operator finds its objects again by their owner marks.
	ap.Status.Okta = scimv1alpha1.OktaStatus{}
	if err := k8sClient.Status().Update(ctx, ap); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() error {
		got := e.get("lost").Status.Okta
		for _, kind := range []string{OktaKindSAMLApp, OktaKindOIDCApp, OktaKindAccessPolicy} {
			if len(createdOfKind(&scimv1alpha1.AgencyProvisioning{Status: scimv1alpha1.AgencyProvisioningStatus{
				Okta: got}}, kind)) != 1 {
				return fmt.Errorf("createdObjects = %+v, want one %s", got.CreatedObjects, kind)
			}
		}
		return nil
	})
	e.deleteAP("lost")
	for _, id := range []string{want.SAMLAppID, want.OIDCAppID} {
		if _, err := e.org.GetApp(ctx, id); !errors.Is(err, okta.ErrNotFound) {
			t.Fatalf("app %s after deletion with deletionPolicy Delete: %v", id, err)
		}
	}
}
