package controller

import (
	"net"
	"sync"
	"testing"
	"time"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

// silentOrg accepts connections on 127.0.0.1 and never answers, until the test ends: an Okta
// org behind a firewall that drops packets. The channel receives each accepted connection.
func silentOrg(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	accepted := make(chan struct{}, 64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + l.Addr().String(), accepted
}

// TestOkta_ASilentOrgDoesNotHoldUpOtherAgencies: with two workers, an agency whose org never
// answers (each call waits its whole timeout, here two minutes) holds one of them, and another
// agency created after it is configured meanwhile. With one worker it would wait minutes.
func TestOkta_ASilentOrgDoesNotHoldUpOtherAgencies(t *testing.T) {
	e := newOktaEnv(t, envOptions{apWorkers: 2, callTimeout: 2 * time.Minute})
	silent, accepted := silentOrg(t)
	e.newAP("cut-off", func(ap *scimv1alpha1.AgencyProvisioning) { ap.Spec.Okta.OrgURL = silent })
	// The cut-off agency's reconcile is waiting on its org before the other agency exists.
	select {
	case <-accepted:
	case <-time.After(30 * time.Second):
		t.Fatal("the cut-off agency never called its org")
	}
	e.newAP("pd", nil)
	e.waitCondition("pd", scimv1alpha1.ConditionOktaAppsConfigured, condTrue, scimv1alpha1.ReasonSucceeded)
	if c := e.get("cut-off"); len(c.Status.Conditions) > 0 {
		for _, cond := range c.Status.Conditions {
			if cond.Type == scimv1alpha1.ConditionOktaAuthenticated {
				t.Fatalf("the cut-off agency's Okta call ended early: %+v", cond)
			}
		}
	}
}
