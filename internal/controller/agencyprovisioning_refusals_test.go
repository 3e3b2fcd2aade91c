package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// notes collects what an EventRecorder is asked to record.
type notes []string

func (n *notes) Eventf(_, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	*n = append(*n, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func TestRefusalEventReader_RecordsEachRefusalOnceAsWarning(t *testing.T) {
	ap := newAgency("ns", "refusals")
	ap.UID = types.UID("uid-" + t.Name())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rank := scimconfig.Refusal{Resource: "Users", Method: "POST", Status: 400, ScimType: "invalidValue",
		Detail: `rankName: rank "Sgt" does not exist in the agency`, Count: 1, Time: t0}
	badge := scimconfig.Refusal{Resource: "Users", Method: "POST", Status: 400, ScimType: "invalidValue",
		Detail: "badgeId: badgeId is required", Count: 3, Time: t0.Add(time.Second)}
	var got notes
	reports := &fixedReports{}
	r := &RefusalEventReader{Reader: reports, Recorder: &got}
	for _, refusals := range [][]scimconfig.Refusal{{rank}, {rank, badge}, {rank, badge}} {
		reports.rep = &scimconfig.Report{AgencyID: ap.Spec.AgencyID, Refusals: refusals}
		if _, err := r.ReadReport(t.Context(), ap); err != nil {
			t.Fatal(err)
		}
	}

	if len(got) != 2 {
		t.Fatalf("events = %q, want one per refusal", got)
	}
	for i, want := range []string{`rank "Sgt" does not exist`, "badgeId is required"} {
		if !strings.HasPrefix(got[i], "Warning "+ReasonProvisioningRefused+" ") || !strings.Contains(got[i], want) {
			t.Errorf("event %d = %q, want a %s warning naming %q", i, got[i], ReasonProvisioningRefused, want)
		}
	}
	// Only a missing attribute points at the ScimUserMapping.
	const mappingHint = "the ScimUserMapping was not Ready when Okta pushed"
	if strings.Contains(got[0], mappingHint) || !strings.Contains(got[1], mappingHint) {
		t.Errorf("events %q: want the mapping hint on the missing badgeId only", got)
	}
}

func TestRefusalEventReader_IgnoresAnotherAgencysReport(t *testing.T) {
	ap := newAgency("ns", "other")
	ap.UID = types.UID("uid-" + t.Name())
	var got notes
	r := &RefusalEventReader{Recorder: &got, Reader: &fixedReports{rep: &scimconfig.Report{AgencyID: "elsewhere",
		Refusals: []scimconfig.Refusal{{Detail: "x", Time: time.Now()}}}}}
	if _, err := r.ReadReport(t.Context(), ap); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("events = %q, want none for another agency's report", got)
	}
}

// fixedReports answers every ReadReport with rep.
type fixedReports struct{ rep *scimconfig.Report }

func (f *fixedReports) ReadReport(context.Context, *scimv1alpha1.AgencyProvisioning) (*scimconfig.Report, error) {
	return f.rep, nil
}

func TestRefusalsSeen_OncePerRefusalPerAgencyAndForgottenWithIt(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	rep := &scimconfig.Report{Refusals: []scimconfig.Refusal{{Time: t0}, {Time: t0.Add(time.Second)}}}
	ap := testAP()
	ap.UID = "uid-1"
	var r refusalsSeen
	if got := r.newRefusals(ap, rep); len(got) != 2 {
		t.Fatalf("first read: %d refusals, want 2", len(got))
	}
	if got := r.newRefusals(ap, rep); len(got) != 0 {
		t.Fatalf("second read of the same report: %d refusals, want 0", len(got))
	}
	again := ap.DeepCopy()
	again.UID = "uid-2"
	if got := r.newRefusals(again, rep); len(got) != 2 {
		t.Fatalf("an agency made again under the same name: %d refusals, want 2", len(got))
	}
	r.forget(types.NamespacedName{Namespace: ap.Namespace, Name: ap.Name})
	if len(r.latest) != 0 {
		t.Fatalf("remembered after forget: %v", r.latest)
	}
}
