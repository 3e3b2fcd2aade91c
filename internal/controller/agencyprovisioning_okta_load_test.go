package controller

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

// TestOkta_SteadyStateMakesNoWritesAndFewReads counts the Okta calls of reconciles once
// everything converged: between resyncs none at all, and a resync only reads.
func TestOkta_SteadyStateMakesNoWritesAndFewReads(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Second})
	e.simGroup("Patrol")
	e.simGroup("Detectives")
	e.newAP("steady", func(ap *scimv1alpha1.AgencyProvisioning) {
		ap.Spec.Okta.AssignGroups = []string{"Patrol", "Detectives"}
	})
	e.waitCondition("steady", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	e.connect("steady")
	e.waitCondition("steady", scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded)
	time.Sleep(1500 * time.Millisecond) // let the sync after connecting finish

	reads0, writes0, syncs0 := e.calls.reads.Load(), e.calls.writes.Load(), e.calls.checks.Load()
	time.Sleep(5 * time.Second)
	reads, writes, syncs := e.calls.reads.Load()-reads0, e.calls.writes.Load()-writes0, e.calls.checks.Load()-syncs0
	if writes != 0 {
		t.Fatalf("steady state made %d Okta writes", writes)
	}
	if syncs < 2 {
		t.Fatalf("only %d resyncs in 5s with a 1s resync period", syncs)
	}
	perSync := float64(reads) / float64(syncs)
	t.Logf("steady state: %d resyncs, %d reads (%.1f per resync), 0 writes", syncs, reads, perSync)
	// credentials, authorization server, 2 apps, policies, rules, assignments, 2 group lookups
	if want := 9.0; perSync > want {
		t.Fatalf("%.1f reads per resync, want at most %.0f", perSync, want)
	}

	// Between resyncs a reconcile reads only the SCIM server's report: no Okta call at all. The
	// quiet copy counts its own calls, apart from the manager's resyncs.
	quiet := *e.sync
	quiet.ResyncPeriod = time.Hour
	quietCalls := &callCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	quiet.NewOrg = okta.NewFactory(okta.Options{Transport: quietCalls}).NewOrg
	var ap scimv1alpha1.AgencyProvisioning
	if err := k8sClient.Get(t.Context(), client.ObjectKey{Namespace: e.ns, Name: "steady"}, &ap); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := quiet.Reconcile(t.Context(), &ap); err != nil {
			t.Fatal(err)
		}
	}
	if n := quietCalls.reads.Load() + quietCalls.writes.Load(); n != 0 {
		t.Fatalf("3 reconciles between resyncs made %d Okta calls", n)
	}
	if !meta.IsStatusConditionTrue(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected) {
		t.Fatalf("conditions after quiet reconciles: %s", describeConditions(ap.Status.Conditions))
	}
}

// TestOkta_FiftyAgenciesAtOnceRespectTheRateLimit reconciles 50 AgencyProvisionings on one org
// whose rate limit they exceed together; they all converge, and the shared gate keeps the
// operator from hammering the org with requests it would refuse.
func TestOkta_FiftyAgenciesAtOnceRespectTheRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a one-minute Okta rate-limit window")
	}
	const n = 50
	const limit = 250 // per minute and endpoint family; 50 agencies need more "apps" calls than this
	e := newOktaEnv(t, envOptions{
		simOpts:     []oktasim.Option{oktasim.WithRateLimit(limit)},
		maxWait:     5 * time.Second,
		concurrency: 8,
		apWorkers:   8,
	})
	start := time.Now()
	for i := range n {
		e.newAP(fmt.Sprintf("agency%02d", i), nil)
	}
	waitFor(t, 240*time.Second, func() error {
		var list scimv1alpha1.AgencyProvisioningList
		if err := k8sClient.List(t.Context(), &list, client.InNamespace(e.ns)); err != nil {
			return err
		}
		done, pending := 0, ""
		for _, ap := range list.Items {
			if meta.IsStatusConditionTrue(ap.Status.Conditions, scimv1alpha1.ConditionOktaAppsConfigured) {
				done++
			} else {
				pending = ap.Name + ": " + describeConditions(ap.Status.Conditions)
			}
		}
		if done < n {
			return fmt.Errorf("%d of %d agencies configured; %d calls, %d answered 429; pending %s",
				done, n, e.calls.reads.Load()+e.calls.writes.Load(), e.calls.limits.Load(), pending)
		}
		return nil
	})
	calls, limited := e.calls.reads.Load()+e.calls.writes.Load(), e.calls.limits.Load()
	t.Logf("%d agencies converged in %s with %d Okta calls (%.1f per agency), %d answered 429",
		n, time.Since(start).Round(time.Second), calls, float64(calls)/n, limited)
	// Once the org announced its reset, only requests already in flight can draw a 429.
	if limited > 8 {
		t.Fatalf("%d requests drew 429: the operator kept calling a rate-limited org", limited)
	}
}
