package controller

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
)

func TestSetMappingReady_FalseWinsOverAnEarlierUnknown(t *testing.T) {
	schema, mappings := scimv1alpha1.ConditionSchemaSynced, scimv1alpha1.ConditionMappingsSynced
	tests := []struct {
		name       string
		conds      []metav1.Condition
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{name: "nothing observed", wantStatus: metav1.ConditionUnknown, wantReason: scimv1alpha1.ReasonReconciling},
		{name: "both true", conds: []metav1.Condition{cond(schema, metav1.ConditionTrue, "Succeeded"),
			cond(mappings, metav1.ConditionTrue, "Succeeded")}, wantStatus: metav1.ConditionTrue,
			wantReason: scimv1alpha1.ReasonSucceeded},
		{name: "a False second wins over an Unknown first", conds: []metav1.Condition{
			cond(schema, metav1.ConditionUnknown, scimv1alpha1.ReasonReconciling),
			cond(mappings, metav1.ConditionFalse, scimv1alpha1.ReasonOktaError)},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonOktaError},
		{name: "a second not set yet is Unknown", conds: []metav1.Condition{
			cond(schema, metav1.ConditionTrue, "Succeeded")},
			wantStatus: metav1.ConditionUnknown, wantReason: scimv1alpha1.ReasonReconciling},
		{name: "a False first beats a missing second", conds: []metav1.Condition{
			cond(schema, metav1.ConditionFalse, scimv1alpha1.ReasonBadgeIDRequired)},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonBadgeIDRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := &scimv1alpha1.ScimUserMapping{}
			sum.Status.Conditions = tt.conds
			setMappingReady(sum)
			c := meta.FindStatusCondition(sum.Status.Conditions, scimv1alpha1.ConditionReady)
			if c == nil || c.Status != tt.wantStatus || c.Reason != tt.wantReason {
				t.Fatalf("Ready = %+v, want %s/%s", c, tt.wantStatus, tt.wantReason)
			}
		})
	}
}

func TestMappingOktaFailure_ALasting400WaitsForTheRetryInterval(t *testing.T) {
	refused := fmt.Errorf("update profile mapping: %w", okta.ErrInvalidRequest)
	tests := []struct {
		name         string
		err          error
		justWritten  bool
		wantRequeue  time.Duration
		wantReason   string
		wantReturned bool
	}{
		{name: "right after a schema write Okta may lag: soon", err: refused, justWritten: true,
			wantRequeue: 5 * time.Second, wantReason: scimv1alpha1.ReasonOktaError},
		{name: "otherwise the request is wrong: the retry interval", err: refused,
			wantRequeue: time.Minute, wantReason: scimv1alpha1.ReasonOktaError},
		{name: "a server error goes back to the controller's backoff",
			err: fmt.Errorf("x: %w", okta.ErrServer), wantReason: scimv1alpha1.ReasonOktaError, wantReturned: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &ScimUserMappingReconciler{RetryInterval: time.Minute}
			sum := &scimv1alpha1.ScimUserMapping{}
			res, err := r.oktaFailure(sum, scimv1alpha1.ConditionMappingsSynced, tt.err, tt.justWritten)
			if res.RequeueAfter != tt.wantRequeue || (err != nil) != tt.wantReturned {
				t.Fatalf("oktaFailure = %+v, %v; want requeue after %s, error returned %v", res, err, tt.wantRequeue,
					tt.wantReturned)
			}
			c := meta.FindStatusCondition(sum.Status.Conditions, scimv1alpha1.ConditionMappingsSynced)
			if c == nil || c.Reason != tt.wantReason {
				t.Errorf("MappingsSynced = %+v, want reason %s", c, tt.wantReason)
			}
		})
	}
}

func TestMappingSyncDue_FollowsTheAgencysSyncRequest(t *testing.T) {
	now := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	synced := func(request string) *scimv1alpha1.ScimUserMapping {
		sum := &scimv1alpha1.ScimUserMapping{}
		sum.Generation = 2
		sum.Status = scimv1alpha1.ScimUserMappingStatus{ObservedGeneration: 2, SAMLAppID: "0oasaml",
			LastSyncTime: &metav1.Time{Time: now.Add(-time.Minute)}, SyncRequest: request,
			Conditions: []metav1.Condition{
				{Type: scimv1alpha1.ConditionSchemaSynced, Status: metav1.ConditionTrue, Reason: "Succeeded"},
				{Type: scimv1alpha1.ConditionMappingsSynced, Status: metav1.ConditionTrue, Reason: "Succeeded"},
			}}
		return sum
	}
	tests := []struct {
		name    string
		served  string
		request string
		want    bool
	}{
		{name: "no request, none served: wait for the resync"},
		{name: "the request already served", served: "r1", request: "r1"},
		{name: "a new request", served: "r1", request: "r2", want: true},
		{name: "a first request", request: "r1", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := &scimv1alpha1.AgencyProvisioning{}
			ap.Status.Okta.SAMLAppID = "0oasaml"
			ap.Spec.Okta.ResyncPeriod = metav1.Duration{Duration: time.Hour}
			if tt.request != "" {
				ap.Annotations = map[string]string{AnnotationSyncRequest: tt.request}
			}
			r := &ScimUserMappingReconciler{Now: func() time.Time { return now }}
			if got := r.syncDue(synced(tt.served), ap); got != tt.want {
				t.Fatalf("syncDue = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSchemaNotKept_NamesWhatOktasAnswerLacks(t *testing.T) {
	const ns = "urn:ietf:params:scim:schemas:extension:2.0:axon"
	rank := okta.SchemaAttribute{Name: "rankName", Title: "Rank Name", Type: "string", ExternalName: "rankName",
		ExternalNamespace: ns}
	badge := okta.SchemaAttribute{Name: "badgeId", Title: "Badge ID", Type: "string", Required: true,
		ExternalName: "badgeId", ExternalNamespace: ns}
	without := func(a okta.SchemaAttribute) okta.SchemaAttribute {
		a.ExternalName, a.ExternalNamespace = "", ""
		return a
	}
	optional := badge
	optional.Required = false
	tests := []struct {
		name           string
		set            []okta.SchemaAttribute
		remove         []string
		kept           map[string]okta.SchemaAttribute
		provisioningOn bool
		wantLost       []string
		wantDropped    []string
	}{
		{name: "kept as written", set: []okta.SchemaAttribute{rank, badge}, provisioningOn: true,
			kept: map[string]okta.SchemaAttribute{"rankName": rank, "badgeId": badge}},
		{name: "an attribute missing from the answer", set: []okta.SchemaAttribute{rank, badge},
			kept: map[string]okta.SchemaAttribute{"badgeId": without(badge)}, wantLost: []string{"rankName (missing)"}},
		{name: "a base field that differs", set: []okta.SchemaAttribute{badge},
			kept:     map[string]okta.SchemaAttribute{"badgeId": optional},
			wantLost: []string{`badgeId (required "false", not "true")`}},
		{name: "a removed attribute still there", remove: []string{"oldRank"},
			kept:     map[string]okta.SchemaAttribute{"oldRank": rank},
			wantLost: []string{"oldRank (still there after its removal)"}},
		{name: "external names dropped while provisioning is off are expected",
			set: []okta.SchemaAttribute{rank}, kept: map[string]okta.SchemaAttribute{"rankName": without(rank)}},
		{name: "external names dropped although provisioning is on", provisioningOn: true,
			set: []okta.SchemaAttribute{rank, badge}, kept: map[string]okta.SchemaAttribute{
				"rankName": without(rank), "badgeId": badge}, wantDropped: []string{"rankName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lost, dropped := schemaNotKept(tt.set, tt.remove, tt.kept, tt.provisioningOn)
			if !slices.Equal(lost, tt.wantLost) || !slices.Equal(dropped, tt.wantDropped) {
				t.Fatalf("schemaNotKept = %q, %q; want %q, %q", lost, dropped, tt.wantLost, tt.wantDropped)
			}
		})
	}
}

func TestMappingOktaFailure_SchemaNotKeptIsWrittenAgainAfterTheRetryInterval(t *testing.T) {
	r := &ScimUserMappingReconciler{RetryInterval: time.Minute}
	sum := &scimv1alpha1.ScimUserMapping{}
	err := fmt.Errorf("sync: %w", &schemaNotKeptError{appID: "0oasaml", lost: []string{"rankName (missing)"}})
	res, got := r.oktaFailure(sum, scimv1alpha1.ConditionSchemaSynced, err, true)
	if got != nil || res.RequeueAfter != time.Minute {
		t.Fatalf("oktaFailure = %+v, %v; want a requeue after 1m and no error", res, got)
	}
	c := meta.FindStatusCondition(sum.Status.Conditions, scimv1alpha1.ConditionSchemaSynced)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != scimv1alpha1.ReasonSchemaNotKept ||
		!strings.Contains(c.Message, "app 0oasaml but did not keep rankName (missing)") {
		t.Fatalf("SchemaSynced = %+v", c)
	}
}

// TestReconcileSchema_ReadsOktasAnswerToTheWrite writes the schema of an app whose SCIM
// provisioning is off in Okta, for an agency whose status still says it is connected (an admin
// switched it off since): Okta's answer lacks the external names, and SchemaSynced says so at
// once instead of claiming them.
func TestReconcileSchema_ReadsOktasAnswerToTheWrite(t *testing.T) {
	_, org := startSim(t)
	app, err := org.CreateSAMLApp(t.Context(), okta.SAMLAppSpec{Label: "PD SCIM", Owner: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, connected := range []bool{false, true} {
		t.Run(fmt.Sprintf("ProvisioningConnected %v", connected), func(t *testing.T) {
			ap := &scimv1alpha1.AgencyProvisioning{}
			if connected {
				ap.Status.Conditions = []metav1.Condition{{Type: scimv1alpha1.ConditionProvisioningConnected,
					Status: metav1.ConditionTrue, Reason: scimv1alpha1.ReasonSucceeded}}
			}
			sum := &scimv1alpha1.ScimUserMapping{Spec: scimv1alpha1.ScimUserMappingSpec{
				Attributes: []scimv1alpha1.CustomAttribute{
					{DisplayName: "Badge ID", VariableName: "badgeId", Required: true},
					{DisplayName: "Rank Name " + strconv.FormatBool(connected), VariableName: "rankName"},
				}}}
			r := &ScimUserMappingReconciler{}
			sc := &mappingScope{sum: sum, ap: ap, org: org, appID: app.ID}
			if err := r.reconcileSchema(t.Context(), sc); err != nil {
				t.Fatal(err)
			}
			c := meta.FindStatusCondition(sum.Status.Conditions, scimv1alpha1.ConditionSchemaSynced)
			if c == nil || c.Reason != scimv1alpha1.ReasonWaitingForProvisioning || !sc.written {
				t.Fatalf("SchemaSynced = %+v, written %v", c, sc.written)
			}
			saysNotKept := strings.Contains(c.Message, "did not keep the external name and namespace of badgeId, "+
				"rankName although the agency's ProvisioningConnected is True")
			if saysNotKept != connected {
				t.Fatalf("SchemaSynced message = %q; naming what Okta did not keep: %v, want %v", c.Message,
					saysNotKept, connected)
			}
		})
	}
}

func TestAgencyChangedForMappings_PassesWhatAMappingActsOn(t *testing.T) {
	withCondition := func(ap *scimv1alpha1.AgencyProvisioning, typ string, status metav1.ConditionStatus) {
		meta.SetStatusCondition(&ap.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: "x"})
	}
	tests := []struct {
		name   string
		change func(*scimv1alpha1.AgencyProvisioning)
		want   bool
	}{
		{name: "nothing a mapping uses", change: func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Status.Users = ptr.To[int64](3)
		}},
		{name: "a new SAML app", want: true, change: func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Status.Okta.SAMLAppID = "0oanew"
		}},
		{name: "provisioning connected", want: true, change: func(ap *scimv1alpha1.AgencyProvisioning) {
			withCondition(ap, scimv1alpha1.ConditionProvisioningConnected, metav1.ConditionTrue)
		}},
		{name: "the credentials work again", want: true, change: func(ap *scimv1alpha1.AgencyProvisioning) {
			withCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionTrue)
		}},
		{name: "a sync request", want: true, change: func(ap *scimv1alpha1.AgencyProvisioning) {
			ap.Annotations = map[string]string{AnnotationSyncRequest: "now"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := &scimv1alpha1.AgencyProvisioning{}
			old.Status.Okta.SAMLAppID = "0oasaml"
			withCondition(old, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse)
			cur := old.DeepCopy()
			tt.change(cur)
			got := agencyChangedForMappings().Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur})
			if got != tt.want {
				t.Fatalf("passes = %v, want %v", got, tt.want)
			}
		})
	}
}
