package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// ManualStep waits until the operator asks for the admin's manual step
// (ProvisioningConnected=False, ManualStepRequired, with the client id and its Secret in
// status), then does in oktasim exactly what status.manualStep lists. The connector base URL
// is the one thing translated: status.scimEndpoint names the public endpoint (Ingress or
// external URL), which here is the local SCIM server's address with the same path.
func (e *Env) ManualStep(ctx context.Context) (*scimv1alpha1.ManualStep, oktasim.Provisioning, error) {
	ap, err := e.WaitAP(ctx, time.Minute, "ProvisioningConnected=False/ManualStepRequired with the OIDC client",
		func(ap *scimv1alpha1.AgencyProvisioning) error {
			if err := conditionIs(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected,
				metav1.ConditionFalse, scimv1alpha1.ReasonManualStepRequired); err != nil {
				return err
			}
			if m := ap.Status.ManualStep; m == nil || m.ClientID == "" || ap.Status.Okta.ClientSecretName == "" ||
				ap.Status.Okta.SAMLAppID == "" {
				return fmt.Errorf("%w: status.manualStep is not complete yet", errNotYet)
			}
			return nil
		})
	if err != nil {
		return nil, oktasim.Provisioning{}, err
	}
	m := ap.Status.ManualStep
	var sec corev1.Secret
	key := types.NamespacedName{Namespace: ap.Namespace, Name: ap.Status.Okta.ClientSecretName}
	if err := e.Client.Get(ctx, key, &sec); err != nil {
		return m, oktasim.Provisioning{}, fmt.Errorf("read the OIDC client Secret %s: %w", key, err)
	}
	p, err := e.provisioningFrom(ap, m, string(sec.Data[controller.ClientSecretKeyClientSecret]))
	if err != nil {
		return m, p, err
	}
	if err := e.Sim.ConfigureProvisioning(ctx, ap.Status.Okta.SAMLAppID, p); err != nil {
		return m, p, fmt.Errorf("switch provisioning on in oktasim: %w", err)
	}
	return m, p, nil
}

// provisioningFrom turns status.manualStep into what the admin enters in Okta.
func (e *Env) provisioningFrom(ap *scimv1alpha1.AgencyProvisioning, m *scimv1alpha1.ManualStep, secret string,
) (oktasim.Provisioning, error) {
	endpoint, err := url.Parse(m.ScimConnectorBaseURL)
	if err != nil || endpoint.Path != controller.ScimEndpointPath(ap.Spec.AgencyID) {
		return oktasim.Provisioning{}, fmt.Errorf("status.manualStep.scimConnectorBaseURL %q does not end in %s",
			m.ScimConnectorBaseURL, controller.ScimEndpointPath(ap.Spec.AgencyID))
	}
	token, err := url.Parse(m.TokenEndpointURL)
	if err != nil {
		return oktasim.Provisioning{}, fmt.Errorf("status.manualStep.tokenEndpointURL: %w", err)
	}
	authorize, err := url.Parse(m.AuthorizeEndpointURL)
	if err != nil {
		return oktasim.Provisioning{}, fmt.Errorf("status.manualStep.authorizeEndpointURL: %w", err)
	}
	server := strings.TrimSuffix(strings.TrimPrefix(token.Path, "/oauth2/"), "/v1/token")
	unique := "email"
	if strings.EqualFold(m.UniqueIdentifierField, "userName") {
		unique = "userName"
	}
	return oktasim.Provisioning{
		BaseURL:               e.ScimBaseURL(ap.Spec.AgencyID),
		UniqueIdentifier:      unique,
		CreateUsers:           slices.Contains(m.ToAppActions, "Create Users"),
		UpdateUserAttributes:  slices.Contains(m.ToAppActions, "Update User Attributes"),
		DeactivateUsers:       slices.Contains(m.ToAppActions, "Deactivate Users"),
		PushGroups:            slices.Contains(m.SupportedActions, "Push Groups"),
		ClientID:              m.ClientID,
		ClientSecret:          secret,
		Scope:                 authorize.Query().Get("scope"),
		AuthorizationServerID: server,
		RedirectURI:           m.RedirectURI,
	}, nil
}

// WaitConnected waits for ProvisioningConnected=True, for the ScimUserMapping's attributes and
// mappings to be in Okta (Ready=True; without them Okta would push users without their badge)
// and, with UsersAndGroups, for the group push mappings the operator creates once provisioning
// is on.
func (e *Env) WaitConnected(ctx context.Context) (*scimv1alpha1.AgencyProvisioning, error) {
	if err := e.waitMappingReady(ctx); err != nil {
		return nil, err
	}
	return e.WaitAP(ctx, time.Minute, "ProvisioningConnected=True", func(ap *scimv1alpha1.AgencyProvisioning) error {
		if err := conditionIs(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected,
			metav1.ConditionTrue, ""); err != nil {
			return err
		}
		if ap.Status.Okta.GroupPushWaiting {
			return fmt.Errorf("%w: the group push mappings are not created yet", errNotYet)
		}
		return conditionIs(ap.Status.Conditions, scimv1alpha1.ConditionOktaAppsConfigured, metav1.ConditionTrue, "")
	})
}

// Push queues a full push of the SAML app (as Okta does once provisioning is switched on)
// and calls progress every interval until every task was tried.
func (e *Env) Push(
	ctx context.Context,
	interval time.Duration,
	progress func(oktasim.Progress),
) (oktasim.Progress, error) {
	ap, err := e.GetAP(ctx)
	if err != nil {
		return oktasim.Progress{}, err
	}
	app := ap.Status.Okta.SAMLAppID
	if err := e.Sim.Sync(app); err != nil {
		return oktasim.Progress{}, fmt.Errorf("start the push: %w", err)
	}
	return e.WaitIdle(ctx, app, interval, progress)
}

// WaitIdle calls progress every interval until oktasim's provisioning queue is empty.
func (e *Env) WaitIdle(ctx context.Context, app string, interval time.Duration,
	progress func(oktasim.Progress),
) (oktasim.Progress, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	idle := make(chan error, 1)
	go func() { idle <- e.Sim.WaitIdle(ctx) }()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case err := <-idle:
			p := e.Sim.Progress(app)
			if progress != nil {
				progress(p)
			}
			if err != nil {
				return p, fmt.Errorf("wait for the provisioning queue: %w", err)
			}
			return p, nil
		case <-tick.C:
			if progress != nil {
				progress(e.Sim.Progress(app))
			}
		}
	}
}

// Failures returns oktasim's failed pushes, as Okta's provisioning tasks list them.
func (e *Env) Failures(app string) []oktasim.PushRecord {
	var out []oktasim.PushRecord
	for _, r := range e.Sim.PushLog(app) {
		if r.Outcome == oktasim.OutcomeFailure {
			out = append(out, r)
		}
	}
	return out
}

// WaitCounts waits until the AgencyProvisioning's status counts equal the SCIM server's
// report, i.e. the operator has read the report after the push.
func (e *Env) WaitCounts(ctx context.Context) (*scimv1alpha1.AgencyProvisioning, *scimconfig.Report, error) {
	var rep *scimconfig.Report
	ap, err := e.WaitAP(ctx, 30*time.Second, "the status counts to match the SCIM server's report",
		func(ap *scimv1alpha1.AgencyProvisioning) error {
			var err error
			if rep, err = e.Report(ctx); err != nil {
				return err
			}
			st := ap.Status
			if st.Users == nil || st.Groups == nil || st.ActiveUsers == nil || *st.Users != rep.Users ||
				*st.Groups != rep.Groups || *st.ActiveUsers != rep.ActiveUsers {
				return fmt.Errorf("%w: status counts differ from the report", errNotYet)
			}
			return nil
		})
	return ap, rep, err
}

// Fault says how the SCIM server was misconfigured and what the operator made of it.
type Fault struct {
	// WrongOrgURL is the org URL the SCIM server was switched to; RightOrgURL the real one.
	WrongOrgURL, RightOrgURL string
	// User is the Okta user whose profile change made Okta call the SCIM server.
	User string
	// Condition is ScimAuthenticated once the operator noticed.
	Condition metav1.Condition
}

// InjectIssuerMismatch restarts the SCIM server with an org URL no org here serves, makes
// Okta push a profile change (a promotion of user to rank), and waits for
// ScimAuthenticated=False, IssuerMismatch.
func (e *Env) InjectIssuerMismatch(ctx context.Context, user, rank string) (Fault, error) {
	wrong, err := freeAddr()
	if err != nil {
		return Fault{}, err
	}
	f := Fault{WrongOrgURL: "http://" + wrong, RightOrgURL: e.Sim.URL(), User: user}
	if err := e.RestartScimServer(ctx, func(c *scimconfig.Config) { c.OktaOrgURL = f.WrongOrgURL }); err != nil {
		return f, err
	}
	if err := e.Sim.SetProfile(user, map[string]any{"title": rank}); err != nil {
		return f, fmt.Errorf("change the profile of %s in oktasim: %w", user, err)
	}
	ap, err := e.WaitAP(ctx, time.Minute, "ScimAuthenticated=False/IssuerMismatch",
		func(ap *scimv1alpha1.AgencyProvisioning) error {
			return conditionIs(ap.Status.Conditions, scimv1alpha1.ConditionScimAuthenticated,
				metav1.ConditionFalse, scimv1alpha1.ReasonIssuerMismatch)
		})
	if ap != nil {
		if c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionScimAuthenticated); c != nil {
			f.Condition = *c
		}
	}
	return f, err
}

// Recover restarts the SCIM server with the rendered configuration, retries Okta's failed
// tasks (the Retry button of Okta's Tasks tab) and waits for ScimAuthenticated=True.
func (e *Env) Recover(ctx context.Context) (metav1.Condition, error) {
	if err := e.RestartScimServer(ctx, nil); err != nil {
		return metav1.Condition{}, err
	}
	ap, err := e.GetAP(ctx)
	if err != nil {
		return metav1.Condition{}, err
	}
	e.Sim.RetryFailed(ap.Status.Okta.SAMLAppID)
	if _, err := e.WaitIdle(ctx, ap.Status.Okta.SAMLAppID, time.Second, nil); err != nil {
		return metav1.Condition{}, err
	}
	ap, err = e.WaitAP(ctx, time.Minute, "ScimAuthenticated=True", func(ap *scimv1alpha1.AgencyProvisioning) error {
		return conditionIs(ap.Status.Conditions, scimv1alpha1.ConditionScimAuthenticated, metav1.ConditionTrue, "")
	})
	var c metav1.Condition
	if ap != nil {
		found := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionScimAuthenticated)
		if found != nil {
			c = *found
		}
	}
	return c, err
}

// ProvisionedOktaUser returns the Okta id of the first user oktasim created in the SCIM
// server and has not deactivated since, or "" when there is none.
func (e *Env) ProvisionedOktaUser() string {
	log := e.Sim.PushLog("")
	last := map[string]string{}
	for _, r := range log {
		if r.Outcome == oktasim.OutcomeSuccess {
			last[r.OktaID] = r.Task
		}
	}
	for _, r := range log {
		if r.Task == oktasim.TaskCreateUser && r.Method == http.MethodPost && r.Outcome == oktasim.OutcomeSuccess &&
			last[r.OktaID] != oktasim.TaskDeactivateUser {
			return r.OktaID
		}
	}
	return ""
}

// OktaUserIDs lists the org's users through the management API (as the SDK would, page by
// page) and returns their ids by login.
func (e *Env) OktaUserIDs(ctx context.Context) (map[string]string, error) {
	ids := map[string]string{}
	next := e.Sim.URL() + "/api/v1/users?limit=200"
	for next != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, fmt.Errorf("build GET %s: %w", next, err)
		}
		req.Header.Set("Authorization", "SSWS "+e.Sim.APIToken())
		req.Header.Set("Accept", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("list Okta users: %w", err)
		}
		var page []struct {
			ID      string `json:"id"`
			Profile struct {
				Login string `json:"login"`
			} `json:"profile"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&page)
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("decode the Okta users page (%d): %w", resp.StatusCode, err)
		}
		for _, u := range page {
			ids[u.Profile.Login] = u.ID
		}
		next = ""
		for _, link := range resp.Header.Values("Link") {
			if target, ok := strings.CutSuffix(link, `>; rel="next"`); ok {
				next = strings.TrimPrefix(target, "<")
			}
		}
	}
	return ids, nil
}

// StopAssigning removes group from the AgencyProvisioning's spec.okta.assignGroups, as an
// admin edits the manifest; the operator then removes the group's assignment from the SAML
// app, and Okta deactivates the members who have no other assignment. It waits until the
// operator has unassigned the group and Okta's queue is empty again.
func (e *Env) StopAssigning(ctx context.Context, group string) error {
	ap, err := e.GetAP(ctx)
	if err != nil {
		return err
	}
	patch := client.MergeFrom(ap.DeepCopy())
	ap.Spec.Okta.AssignGroups = slices.DeleteFunc(ap.Spec.Okta.AssignGroups, func(g string) bool { return g == group })
	if err := e.Client.Patch(ctx, ap, patch); err != nil {
		return fmt.Errorf("remove %q from spec.okta.assignGroups: %w", group, err)
	}
	groupID := e.Seed.GroupIDs[group]
	app := ap.Status.Okta.SAMLAppID
	if _, err := e.WaitAP(ctx, time.Minute, "the operator to unassign "+group,
		func(ap *scimv1alpha1.AgencyProvisioning) error {
			if ap.Status.Okta.SyncedGeneration < ap.Generation {
				return fmt.Errorf("%w: generation %d not synced", errNotYet, ap.Generation)
			}
			for _, o := range ap.Status.Okta.CreatedObjects {
				if o.ID == groupID && o.Kind == controller.OktaKindGroupAssignment {
					return fmt.Errorf("%w: the assignment of %s is still recorded", errNotYet, group)
				}
			}
			return nil
		}); err != nil {
		return err
	}
	_, err = e.WaitIdle(ctx, app, time.Second, nil)
	return err
}

// waitMappingReady waits until the ScimUserMapping is Ready for its current generation.
func (e *Env) waitMappingReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		sum, err := e.GetMapping(ctx)
		if err == nil {
			last = conditionIs(sum.Status.Conditions, scimv1alpha1.ConditionReady, metav1.ConditionTrue, "")
			if last == nil && sum.Status.ObservedGeneration != sum.Generation {
				last = fmt.Errorf("%w: generation %d not observed", errNotYet, sum.Generation)
			}
			if last == nil {
				return nil
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for ScimUserMapping %s to be Ready: %w (last: %w)", e.Mapping, ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}
