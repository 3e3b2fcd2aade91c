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
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// TestOkta_SteadyStateMakesNoWritesAndFewReads counts the Okta calls of reconciles once
// everything converged: the report polls between resyncs make none at all, and a resync only
// reads.
func TestOkta_SteadyStateMakesNoWritesAndFewReads(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Second, reportPoll: 200 * time.Millisecond})
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
	polls0 := e.reports.reads.Load()
	time.Sleep(5 * time.Second)
	reads, writes, syncs := e.calls.reads.Load()-reads0, e.calls.writes.Load()-writes0, e.calls.checks.Load()-syncs0
	polls := e.reports.reads.Load() - polls0
	if writes != 0 {
		t.Fatalf("steady state made %d Okta writes", writes)
	}
	if syncs < 2 {
		t.Fatalf("only %d resyncs in 5s with a 1s resync period", syncs)
	}
	// Every reconcile reads the report; those that are not resyncs are the report polls.
	if polls <= syncs {
		t.Fatalf("%d report reads for %d resyncs in 5s: the report is not polled between resyncs", polls, syncs)
	}
	perSync := float64(reads) / float64(syncs)
	t.Logf("steady state: %d resyncs, %d report reads, %d Okta reads (%.1f per resync), 0 writes",
		syncs, polls, reads, perSync)
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
		if _, err := quiet.Reconcile(t.Context(), &ap, quiet.ReadReport(t.Context(), &ap)); err != nil {
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

// TestOkta_ScimAuthenticatedFollowsTheReportBetweenResyncs: once provisioning is connected, a
// SCIM server that starts rejecting Okta's tokens shows in ScimAuthenticated within a report
// poll, long before the next resync, and the polls make no Okta call.
func TestOkta_ScimAuthenticatedFollowsTheReportBetweenResyncs(t *testing.T) {
	e := newOktaEnv(t, envOptions{resync: time.Hour, reportPoll: 300 * time.Millisecond})
	e.newAP("polled", nil)
	e.waitCondition("polled", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	e.connect("polled")
	e.waitCondition("polled", scimv1alpha1.ConditionProvisioningConnected, condTrue, scimv1alpha1.ReasonSucceeded)
	ap := e.waitCondition("polled", scimv1alpha1.ConditionScimAuthenticated, condTrue,
		scimv1alpha1.ReasonTokensAccepted)
	waitFor(t, 10*time.Second, func() error { // the sync right after connecting (group push) ends
		if e.get("polled").Status.Okta.GroupPushWaiting {
			return fmt.Errorf("group push mappings still waiting")
		}
		return nil
	})
	time.Sleep(time.Second)
	calls0 := e.calls.reads.Load() + e.calls.writes.Load()
	polls0 := e.reports.reads.Load()

	seen := "https://login.other-agency.example/oauth2/default"
	rep := scimconfig.Report{AgencyID: ap.Spec.AgencyID,
		LastAuthenticated: &scimconfig.AuthenticatedRequest{ClientID: ap.Status.Okta.OIDCClientID,
			Method: http.MethodGet, Path: "/Users", Status: http.StatusOK, Time: time.Now().Add(-time.Minute)},
		Rejections: map[string]scimconfig.Rejection{scimconfig.ReasonIssuerMismatch: {
			Reason: scimconfig.ReasonIssuerMismatch, Message: "issuer not accepted",
			Expected: e.sim.URL() + "/oauth2/default", Seen: seen, Count: 1, Time: time.Now()}},
	}
	e.reports.set("polled", rep)
	e.waitCondition("polled", scimv1alpha1.ConditionScimAuthenticated, condFalse,
		scimv1alpha1.ReasonIssuerMismatch, seen)
	rep.LastAuthenticated.Time = time.Now().Add(time.Second)
	e.reports.set("polled", rep)
	e.waitCondition("polled", scimv1alpha1.ConditionScimAuthenticated, condTrue,
		scimv1alpha1.ReasonTokensAccepted)

	if n := e.calls.reads.Load() + e.calls.writes.Load() - calls0; n != 0 {
		t.Fatalf("the report polls between resyncs made %d Okta calls", n)
	}
	if polls := e.reports.reads.Load() - polls0; polls < 2 {
		t.Fatalf("the report was read %d times while the conditions changed twice", polls)
	}
}

// TestOkta_FiftyAgenciesAtOnceRespectTheRateLimit reconciles 50 AgencyProvisionings on one org
// whose rate limit they exceed together many times over: the org admits limit requests per
// bucket every window seconds, so converging needs several windows by design (about 15-30 s).
// All 50 converge, and the shared gate keeps the operator from calling an org that announced
// its budget was spent: only requests already in flight when a window ran out may draw a 429.
func TestOkta_FiftyAgenciesAtOnceRespectTheRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("spends several rate-limit windows")
	}
	const (
		n           = 50
		limit       = 80 // per bucket and window; 50 agencies need several times this many "apps" calls
		window      = 5 * time.Second
		concurrency = 8
	)
	e := newOktaEnv(t, envOptions{
		simOpts: []oktasim.Option{
			oktasim.WithRateLimit(limit), oktasim.WithRateLimitWindow(window),
		},
		maxWait:     2 * window,
		concurrency: concurrency,
		apWorkers:   8,
		reportPoll:  5 * time.Second, // 50 agencies polling every 200ms would only load the machine
	})
	start := time.Now()
	for i := range n {
		e.newAP(fmt.Sprintf("agency%02d", i), nil)
	}
	// The bound is generous for a loaded machine; the test asserts on the org's counters, not on
	// how long it took.
	waitFor(t, 4*time.Minute, func() error {
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
			st := e.sim.RateLimitStats()
			return fmt.Errorf("%d of %d agencies configured; org admitted %d, refused %d, budget spent %d times; "+
				"pending %s", done, n, st.Admitted, st.Refused, st.Exhausted, pending)
		}
		return nil
	})
	st := e.sim.RateLimitStats()
	calls := e.calls.reads.Load() + e.calls.writes.Load()
	t.Logf("%d agencies converged in %s with %d Okta calls (%.1f per agency); the org admitted %d, "+
		"spent a bucket's budget %d times, answered 429 %d times (client saw %d)",
		n, time.Since(start).Round(time.Second), calls, float64(calls)/n, st.Admitted, st.Exhausted, st.Refused,
		e.calls.limits.Load())
	// The load must exceed the limit, or this test proves nothing about respecting it.
	if st.Exhausted < 1 {
		t.Fatalf("a bucket's budget ran out %d times; the test needs a load above the rate limit", st.Exhausted)
	}
	// When a window's budget runs out, the answer says Remaining 0 and the gate holds every
	// further request until the reset; only the requests already in flight can be refused.
	if budget := int64(concurrency) * st.Exhausted; st.Refused > budget {
		t.Fatalf("the org refused %d requests over %d spent windows (at most %d in flight each): "+
			"the operator kept calling a rate-limited org", st.Refused, st.Exhausted, concurrency)
	}
}
