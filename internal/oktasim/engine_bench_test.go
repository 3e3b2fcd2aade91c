package oktasim_test

import (
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/provisioning-dev/scim-operator/internal/oktasim/roster"
)

// BenchmarkEngine_PushRoster measures a full push of the committed 500-person roster (every
// division assigned) to an in-memory SCIM receiver: lookup + POST per user, over loopback.
func BenchmarkEngine_PushRoster(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		o := setupOrg(b)
		rc := newReceiver(b, o.sim.URL())
		if err := o.sim.ConfigureProvisioning(b.Context(), o.appID, o.provisioning(rc)); err != nil {
			b.Fatal(err)
		}
		o.mapAxonAttributes(b)
		full, err := roster.Load("../../testdata/roster.json")
		if err != nil {
			b.Fatal(err)
		}
		res := o.sim.SeedRoster(full)
		for _, d := range roster.Divisions {
			_, _, err := o.c.Application.CreateApplicationGroupAssignment(o.ctx, o.appID, res.GroupIDs[d],
				okta.ApplicationGroupAssignment{})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := o.sim.Sync(o.appID); err != nil {
			b.Fatal(err)
		}
		waitIdle(b, o.sim)
		b.StopTimer()
		p := o.sim.Progress(o.appID)
		b.ReportMetric(float64(p.Pushed), "pushed/op")
		b.ReportMetric(float64(p.Failed), "failed/op")
		b.StartTimer()
	}
}
