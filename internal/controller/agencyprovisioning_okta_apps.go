package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
)

// Kinds of Okta objects recorded in status.okta.createdObjects.
const (
	OktaKindOIDCApp          = "OIDCApp"
	OktaKindSAMLApp          = "SAMLApp"
	OktaKindAccessPolicy     = "AccessPolicy"
	OktaKindAccessPolicyRule = "AccessPolicyRule"
	OktaKindGroupAssignment  = "GroupAssignment"
	OktaKindGroupPushMapping = "GroupPushMapping"
)

// Keys of the Secret that holds the OIDC app's client credentials.
const (
	ClientSecretKeyClientID     = "clientID"
	ClientSecretKeyClientSecret = "clientSecret"
)

// The access policy rule the operator wants: authorization code, 60-minute access tokens and
// refresh tokens that never expire (0), revoked if unused for 7 days.
const (
	ruleAccessTokenMinutes  = 60
	ruleRefreshTokenMinutes = 0
	ruleRefreshWindowMins   = 7 * 24 * 60
)

// specProblem is an Okta state the operator must not fix by itself (an object it did not create
// is in the way, a group does not exist). It becomes a condition, not a retry storm.
type specProblem struct{ msg string }

func (e *specProblem) Error() string { return e.msg }

func oidcLabel(ap *scimv1alpha1.AgencyProvisioning) string {
	if l := ap.Spec.Okta.OIDCAppLabel; l != "" {
		return l
	}
	return ap.Spec.AgencyID + " SCIM OAuth"
}

func samlLabel(ap *scimv1alpha1.AgencyProvisioning) string {
	if l := ap.Spec.Okta.SAMLAppLabel; l != "" {
		return l
	}
	return ap.Spec.AgencyID + " SCIM"
}

// RedirectURI is the OIDC app's redirect URI: the override, or the provisioning OAuth
// callback of the SAML app named appName.
func RedirectURI(ap *scimv1alpha1.AgencyProvisioning, appName string) string {
	if ap.Spec.Okta.RedirectURI != "" {
		return ap.Spec.Okta.RedirectURI
	}
	return "https://system-admin.okta.com/admin/app/cpc/" + appName + "/oauth/callback"
}

func clientSecretName(ap *scimv1alpha1.AgencyProvisioning) string { return ap.Name + "-okta-oidc" }

// reconcileIssuer reads the authorization server and sets IssuerVerified (step 2).
func (s *OktaSync) reconcileIssuer(ctx context.Context, sc *oktaScope) error {
	server, err := sc.org.GetAuthorizationServer(ctx, sc.serverID)
	if errors.Is(err, okta.ErrNotFound) {
		setCondition(sc.ap, scimv1alpha1.ConditionIssuerVerified, metav1.ConditionFalse,
			scimv1alpha1.ReasonInvalidSpec,
			fmt.Sprintf("Okta org %s has no authorization server %q (spec.okta.authorizationServerId)",
				sc.orgURL.Host, sc.serverID))
		sc.serverMissing = true
		return nil
	}
	if err != nil {
		return err
	}
	sc.ap.Status.Okta.Issuer = server.Issuer
	status, reason, msg := issuerCondition(sc.ap.Spec.Okta.OrgURL, sc.serverID, server)
	setCondition(sc.ap, scimv1alpha1.ConditionIssuerVerified, status, reason, msg)
	return nil
}

// reconcileApps runs steps 3-6 and sets OktaAppsConfigured. Okta errors that concern the whole
// org (credentials, reachability, rate limit) are returned; a specProblem is reported in the
// condition.
func (s *OktaSync) reconcileApps(ctx context.Context, sc *oktaScope) error {
	steps := []struct {
		what string
		run  func(context.Context, *oktaScope) error
	}{
		{"agency", s.checkOneProvisioningPerAgency},
		{"SAML app", s.reconcileSAMLApp},
		{"OIDC app", s.reconcileOIDCApp},
		{"OIDC client secret", s.reconcileClientSecret},
		{"access policy", s.reconcileAccessPolicy},
		{"group assignments", s.reconcileAssignments},
		{"group push", s.reconcileGroupPush},
	}
	for _, st := range steps {
		err := st.run(ctx, sc)
		var sp *specProblem
		if errors.As(err, &sp) {
			setCondition(sc.ap, scimv1alpha1.ConditionOktaAppsConfigured, metav1.ConditionFalse,
				scimv1alpha1.ReasonAppsOutOfSync, fmt.Sprintf("%s: %s", st.what, sp.msg))
			return nil
		}
		if err != nil {
			if isOrgWide(err) {
				return err
			}
			setCondition(sc.ap, scimv1alpha1.ConditionOktaAppsConfigured, metav1.ConditionFalse,
				scimv1alpha1.ReasonAppsOutOfSync, fmt.Sprintf("%s: %v", st.what, err))
			return err
		}
	}
	o := sc.ap.Status.Okta
	setCondition(sc.ap, scimv1alpha1.ConditionOktaAppsConfigured, metav1.ConditionTrue, scimv1alpha1.ReasonSucceeded,
		fmt.Sprintf("OIDC app %s (client %s), access policy %s with rule %s, SAML app %s with %d group(s) assigned",
			o.OIDCAppID, o.OIDCClientID, o.AccessPolicyID, o.AccessPolicyRuleID, o.SAMLAppID,
			len(sc.ap.Spec.Okta.AssignGroups)))
	return nil
}

func isOrgWide(err error) bool {
	return errors.Is(err, okta.ErrRateLimited) || errors.Is(err, okta.ErrInvalidCredentials) ||
		errors.Is(err, okta.ErrUnreachable)
}

// ownApp returns the app the operator manages under id or label: nil when it must be created,
// a specProblem when an app with that label belongs to someone else.
func (s *OktaSync) ownApp(ctx context.Context, sc *oktaScope, kind, id, label string) (*okta.App, error) {
	if id != "" {
		app, err := sc.org.GetApp(ctx, id)
		if err == nil {
			return app, nil
		}
		if !errors.Is(err, okta.ErrNotFound) {
			return nil, err
		}
		logf.FromContext(ctx).Info("Okta app was deleted outside the operator; recreating it", "kind", kind, "id", id)
		forgetCreated(sc.ap, kind, id)
	}
	apps, err := sc.org.FindApps(ctx, label)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if a.Owner == sc.owner {
			return sc.org.GetApp(ctx, a.ID)
		}
	}
	if len(apps) > 0 {
		return nil, s.foreignApp(ctx, sc, label, apps)
	}
	return nil, nil
}

// checkOneProvisioningPerAgency is a specProblem when another AgencyProvisioning, created
// earlier (createdFirst), provisions the same agency from the same Okta org: a second would make a second pair
// of Okta apps and a second directory for the same people.
func (s *OktaSync) checkOneProvisioningPerAgency(ctx context.Context, sc *oktaScope) error {
	var list scimv1alpha1.AgencyProvisioningList
	if err := s.Client.List(ctx, &list); err != nil {
		return fmt.Errorf("list AgencyProvisionings: %w", err)
	}
	for i := range list.Items {
		other := &list.Items[i]
		if other.UID == sc.ap.UID || other.Spec.AgencyID != sc.ap.Spec.AgencyID ||
			!other.DeletionTimestamp.IsZero() || !createdFirst(other, sc.ap) {
			continue
		}
		u, err := okta.ParseOrgURL(other.Spec.Okta.OrgURL)
		if err != nil || !strings.EqualFold(u.Host, sc.orgURL.Host) {
			continue
		}
		return &specProblem{fmt.Sprintf("AgencyProvisioning %s/%s, created earlier, already provisions agency %q "+
			"from Okta org %s: a second would make a second pair of Okta apps and a second directory for the "+
			"same people; delete this one, or give it another agencyId", other.Namespace, other.Name,
			sc.ap.Spec.AgencyID, sc.orgURL.Host)}
	}
	return nil
}

// createdFirst orders AgencyProvisionings: one that already has its Okta apps before one that
// has none, then by creation (whole seconds, so often equal), then namespace and name.
func createdFirst(a, b *scimv1alpha1.AgencyProvisioning) bool {
	if hasA, hasB := a.Status.Okta.SAMLAppID != "", b.Status.Okta.SAMLAppID != ""; hasA != hasB {
		return hasA
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}

// foreignApp is the specProblem for apps with the wanted label that are not this
// AgencyProvisioning's. The owner marker says whose an app is: one left by an earlier
// AgencyProvisioning of the same name (deleted with deletionPolicy Retain) is named as such and
// not adopted, since its marker carries the earlier one's uid; one of another AgencyProvisioning
// is named with whether that one still exists, so that nobody deletes an app in use.
func (s *OktaSync) foreignApp(ctx context.Context, sc *oktaScope, label string, apps []okta.App) error {
	for _, a := range apps {
		ns, name, uid, ok := parseOwnerMark(a.Owner)
		if !ok {
			continue
		}
		if ns == sc.ap.Namespace && name == sc.ap.Name {
			return &specProblem{fmt.Sprintf("the Okta app labelled %q (id %s) was created for an earlier "+
				"AgencyProvisioning %s/%s (uid %s) and left in Okta when it was deleted (deletionPolicy Retain); "+
				"the operator does not adopt it: delete that app in Okta (the manual step must then be done "+
				"again) or choose another label in spec.okta", label, a.ID, ns, name, uid)}
		}
		var other scimv1alpha1.AgencyProvisioning
		err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &other)
		if err == nil && string(other.UID) == uid {
			return &specProblem{fmt.Sprintf("the Okta app labelled %q (id %s) belongs to AgencyProvisioning "+
				"%s/%s, which uses it: two agencies cannot share an Okta app; give this one other labels "+
				"(spec.okta.samlAppLabel, spec.okta.oidcAppLabel), and do not delete that app", label, a.ID, ns,
				name)}
		}
		if err == nil || apierrors.IsNotFound(err) {
			return &specProblem{fmt.Sprintf("the Okta app labelled %q (id %s) was created for AgencyProvisioning "+
				"%s/%s (uid %s), which no longer exists; the operator does not adopt it: delete that app in Okta "+
				"or choose another label in spec.okta", label, a.ID, ns, name, uid)}
		}
		// The cache cannot tell: a namespace outside --watch-namespaces, as with another installation
		// of the operator on the same org. That agency may well use the app.
		return &specProblem{fmt.Sprintf("the Okta app labelled %q (id %s) was created for AgencyProvisioning "+
			"%s/%s (uid %s), which this operator cannot look up (outside its watched namespaces?); if it still "+
			"exists it uses that app: give this one other labels (spec.okta.samlAppLabel, spec.okta.oidcAppLabel), "+
			"and do not delete that app unless that AgencyProvisioning is gone", label, a.ID, ns, name, uid)}
	}
	return &specProblem{fmt.Sprintf("an Okta app labelled %q (id %s) exists that this operator did not create; "+
		"choose another label in spec.okta or remove that app in Okta", label, apps[0].ID)}
}

// parseOwnerMark reads an app's owner marker, "<namespace>/<name>/<uid>".
func parseOwnerMark(mark string) (namespace, name, uid string, ok bool) {
	parts := strings.Split(mark, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// reconcileSAMLApp ensures the custom SAML app (step 5, first half: the OIDC redirect URI needs
// its name).
func (s *OktaSync) reconcileSAMLApp(ctx context.Context, sc *oktaScope) error {
	st := &sc.ap.Status.Okta
	label := samlLabel(sc.ap)
	app, err := s.ownApp(ctx, sc, OktaKindSAMLApp, st.SAMLAppID, label)
	if err != nil {
		return err
	}
	if app == nil {
		if app, err = sc.org.CreateSAMLApp(ctx, okta.SAMLAppSpec{Label: label, Owner: sc.owner}); err != nil {
			return err
		}
		logf.FromContext(ctx).Info("Created the Okta SAML app", "id", app.ID)
		if st.SAMLAppID != "" {
			requireManualStep(sc.ap) // the new app has no provisioning settings
		}
	}
	// Recorded also when found by its owner mark: the status that listed it may have been lost.
	recordCreated(sc.ap, OktaKindSAMLApp, app.ID, label)
	st.SAMLAppID, st.SAMLAppName = app.ID, app.Name
	return inactiveApp(app)
}

// inactiveApp is a specProblem for an app of the operator's that someone deactivated in Okta:
// Okta then issues no token for it and pushes nothing through it. The operator does not
// reactivate it, since an admin may have had a reason.
func inactiveApp(app *okta.App) error {
	if app.Status == "" || app.Status == okta.StatusActive {
		return nil
	}
	return &specProblem{fmt.Sprintf("the Okta app %q (id %s) is %s, so Okta neither issues its tokens nor "+
		"provisions through it; activate it in Okta (Applications > Applications), or delete it to have a new "+
		"one created (the manual step must then be done again)", app.Label, app.ID, app.Status)}
}

// reconcileOIDCApp ensures the OIDC web app and corrects its label, grants and redirect URI
// (step 3).
func (s *OktaSync) reconcileOIDCApp(ctx context.Context, sc *oktaScope) error {
	st := &sc.ap.Status.Okta
	spec := okta.OIDCAppSpec{
		Label:        oidcLabel(sc.ap),
		RedirectURIs: []string{RedirectURI(sc.ap, st.SAMLAppName)},
		Owner:        sc.owner,
	}
	app, err := s.ownApp(ctx, sc, OktaKindOIDCApp, st.OIDCAppID, spec.Label)
	if err != nil {
		return err
	}
	switch {
	case app == nil:
		if app, err = sc.org.CreateOIDCApp(ctx, spec); err != nil {
			return err
		}
		logf.FromContext(ctx).Info("Created the Okta OIDC app", "id", app.ID, "clientID", app.ClientID)
		sc.newSecret = app.ClientSecret
		if st.OIDCAppID != "" {
			requireManualStep(sc.ap) // Okta must be given the new client id and secret
		}
	case oidcDrifted(app, spec):
		if app, err = sc.org.UpdateOIDCApp(ctx, app.ID, spec); err != nil {
			return err
		}
		logf.FromContext(ctx).Info("Corrected the Okta OIDC app", "id", app.ID)
	}
	recordCreated(sc.ap, OktaKindOIDCApp, app.ID, spec.Label)
	st.OIDCAppID, st.OIDCClientID = app.ID, app.ClientID
	return inactiveApp(app)
}

func oidcDrifted(app *okta.App, want okta.OIDCAppSpec) bool {
	if app.Label != want.Label || !sameSet(app.RedirectURIs, want.RedirectURIs) {
		return true
	}
	return !slices.Contains(app.GrantTypes, okta.GrantAuthorizationCode) ||
		!slices.Contains(app.GrantTypes, okta.GrantRefreshToken)
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// reconcileClientSecret keeps the OIDC client id and secret in a Secret the admin reads for the
// manual step. A new client secret is made only when the Secret is missing or stale.
func (s *OktaSync) reconcileClientSecret(ctx context.Context, sc *oktaScope) error {
	st := &sc.ap.Status.Okta
	name := clientSecretName(sc.ap)
	var sec corev1.Secret
	err := s.Client.Get(ctx, types.NamespacedName{Namespace: sc.ap.Namespace, Name: name}, &sec)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("read Secret %q: %w", name, err)
	}
	exists := err == nil
	current := exists && string(sec.Data[ClientSecretKeyClientID]) == st.OIDCClientID &&
		len(sec.Data[ClientSecretKeyClientSecret]) > 0
	if current && sc.newSecret == "" {
		st.ClientSecretName = name
		return nil
	}
	secret := sc.newSecret
	if secret == "" {
		if secret, err = sc.org.NewClientSecret(ctx, st.OIDCAppID); err != nil {
			return err
		}
	}
	sec.Name, sec.Namespace = name, sc.ap.Namespace
	sec.Type = corev1.SecretTypeOpaque
	sec.Data = map[string][]byte{
		ClientSecretKeyClientID:     []byte(st.OIDCClientID),
		ClientSecretKeyClientSecret: []byte(secret),
	}
	if err := controllerutil.SetOwnerReference(sc.ap, &sec, s.Client.Scheme()); err != nil {
		return fmt.Errorf("own Secret %q: %w", name, err)
	}
	if exists {
		err = s.Client.Update(ctx, &sec)
	} else {
		err = s.Client.Create(ctx, &sec)
	}
	if err != nil {
		return fmt.Errorf("write Secret %q: %w", name, err)
	}
	st.ClientSecretName = name
	return nil
}

// reconcileAccessPolicy ensures the access policy for the OIDC client and its rule on the
// authorization server, correcting drift (step 4).
func (s *OktaSync) reconcileAccessPolicy(ctx context.Context, sc *oktaScope) error {
	if sc.serverMissing {
		// Okta would answer 404 to every policy call: a spec problem, not one to retry.
		return &specProblem{fmt.Sprintf("authorization server %q does not exist (see IssuerVerified); fix "+
			"spec.okta.authorizationServerId", sc.serverID)}
	}
	st := &sc.ap.Status.Okta
	want := okta.Policy{
		Name:        oidcLabel(sc.ap),
		Description: "Managed by scim-operator for " + sc.owner,
		Status:      okta.StatusActive,
		ClientIDs:   []string{st.OIDCClientID},
	}
	policies, err := sc.org.ListPolicies(ctx, sc.serverID)
	if err != nil {
		return err
	}
	var cur *okta.Policy
	for i, p := range policies {
		if (st.AccessPolicyID != "" && p.ID == st.AccessPolicyID) || p.Description == want.Description {
			cur = &policies[i]
			break
		}
	}
	if cur == nil {
		forgetCreated(sc.ap, OktaKindAccessPolicy, st.AccessPolicyID)
		forgetCreated(sc.ap, OktaKindAccessPolicyRule, st.AccessPolicyRuleID)
		st.AccessPolicyRuleID = ""
		earlier := "Managed by scim-operator for " + sc.ap.Namespace + "/" + sc.ap.Name + "/"
		for _, p := range policies {
			if p.Name == want.Name && strings.HasPrefix(p.Description, earlier) {
				return &specProblem{fmt.Sprintf("the access policy named %q (id %s) on authorization server %q was "+
					"created for an earlier AgencyProvisioning %s/%s and left in Okta when it was deleted "+
					"(deletionPolicy Retain); the operator does not adopt it: delete that policy in Okta or rename "+
					"spec.okta.oidcAppLabel", want.Name, p.ID, sc.serverID, sc.ap.Namespace, sc.ap.Name)}
			}
			if p.Name == want.Name {
				return &specProblem{fmt.Sprintf("an access policy named %q (id %s) exists on authorization server "+
					"%q that "+
					"this operator did not create; rename spec.okta.oidcAppLabel or remove that policy",
					want.Name, p.ID, sc.serverID)}
			}
		}
		if cur, err = sc.org.CreatePolicy(ctx, sc.serverID, want); err != nil {
			return err
		}
	} else if cur.Name != want.Name || cur.Status != okta.StatusActive || !sameSet(cur.ClientIDs, want.ClientIDs) {
		want.ID, want.Priority = cur.ID, cur.Priority
		if cur, err = sc.org.UpdatePolicy(ctx, sc.serverID, want); err != nil {
			return err
		}
		logf.FromContext(ctx).Info("Corrected the Okta access policy", "id", cur.ID)
	}
	recordCreated(sc.ap, OktaKindAccessPolicy, cur.ID, want.Name)
	st.AccessPolicyID = cur.ID
	return s.reconcilePolicyRule(ctx, sc)
}

func wantRule(ap *scimv1alpha1.AgencyProvisioning) okta.PolicyRule {
	return okta.PolicyRule{
		Name:                        "Authorization code for " + samlLabel(ap),
		Status:                      okta.StatusActive,
		GrantTypes:                  []string{okta.GrantAuthorizationCode},
		Scopes:                      []string{"*"},
		GroupIDs:                    []string{"EVERYONE"},
		AccessTokenLifetimeMinutes:  ruleAccessTokenMinutes,
		RefreshTokenLifetimeMinutes: ruleRefreshTokenMinutes,
		RefreshTokenWindowMinutes:   ruleRefreshWindowMins,
	}
}

func ruleDrifted(cur, want okta.PolicyRule) bool {
	return cur.Name != want.Name || cur.Status != want.Status || !sameSet(cur.GrantTypes, want.GrantTypes) ||
		cur.AccessTokenLifetimeMinutes != want.AccessTokenLifetimeMinutes ||
		cur.RefreshTokenLifetimeMinutes != want.RefreshTokenLifetimeMinutes ||
		cur.RefreshTokenWindowMinutes != want.RefreshTokenWindowMinutes
}

func (s *OktaSync) reconcilePolicyRule(ctx context.Context, sc *oktaScope) error {
	st := &sc.ap.Status.Okta
	want := wantRule(sc.ap)
	rules, err := sc.org.ListPolicyRules(ctx, sc.serverID, st.AccessPolicyID)
	if err != nil {
		return err
	}
	cur := ownRule(rules, st.AccessPolicyRuleID, want.Name)
	if cur == nil {
		if st.AccessPolicyRuleID != "" {
			logf.FromContext(ctx).Info("Okta access policy rule was deleted outside the operator; recreating it",
				"id", st.AccessPolicyRuleID)
			forgetCreated(sc.ap, OktaKindAccessPolicyRule, st.AccessPolicyRuleID)
		}
		if cur, err = sc.org.CreatePolicyRule(ctx, sc.serverID, st.AccessPolicyID, want); err != nil {
			return err
		}
	} else if ruleDrifted(*cur, want) {
		want.ID, want.Priority, want.Scopes, want.GroupIDs = cur.ID, cur.Priority, orDefault(cur.Scopes,
			want.Scopes), orDefault(cur.GroupIDs, want.GroupIDs)
		if cur, err = sc.org.UpdatePolicyRule(ctx, sc.serverID, st.AccessPolicyID, want); err != nil {
			return err
		}
		logf.FromContext(ctx).Info("Corrected the Okta access policy rule", "id", cur.ID)
	}
	recordCreated(sc.ap, OktaKindAccessPolicyRule, cur.ID, want.Name)
	st.AccessPolicyRuleID = cur.ID
	return nil
}

// ownRule finds the operator's rule among its own policy's rules: the one recorded in status,
// else the one with the wanted name. Status can be behind Okta (a status patch that met a newer
// object is dropped, and the reconcile runs again), so a rule created then is found by name
// instead of being created a second time.
func ownRule(rules []okta.PolicyRule, id, name string) *okta.PolicyRule {
	byName := -1
	for i, r := range rules {
		if id != "" && r.ID == id {
			return &rules[i]
		}
		if byName < 0 && r.Name == name {
			byName = i
		}
	}
	if byName < 0 {
		return nil
	}
	return &rules[byName]
}

func orDefault(v, def []string) []string {
	if len(v) == 0 {
		return def
	}
	return v
}

// wantedGroups resolves spec.okta.assignGroups to Okta group ids.
func (s *OktaSync) wantedGroups(ctx context.Context, sc *oktaScope) (map[string]string, error) {
	if sc.groups != nil {
		return sc.groups, nil
	}
	out := map[string]string{}
	for _, name := range sc.ap.Spec.Okta.AssignGroups {
		g, err := sc.org.FindGroup(ctx, name)
		if errors.Is(err, okta.ErrNotFound) {
			return nil, &specProblem{fmt.Sprintf("Okta has no group named %q (spec.okta.assignGroups)", name)}
		}
		if err != nil {
			return nil, err
		}
		out[g.ID] = name
	}
	sc.groups = out
	return out, nil
}

// reconcileAssignments assigns the spec's groups to the SAML app and removes the assignments
// the operator made that the spec no longer lists (step 5, second half).
func (s *OktaSync) reconcileAssignments(ctx context.Context, sc *oktaScope) error {
	appID := sc.ap.Status.Okta.SAMLAppID
	want, err := s.wantedGroups(ctx, sc)
	if err != nil {
		return err
	}
	have, err := sc.org.ListGroupAssignments(ctx, appID)
	if err != nil {
		return err
	}
	for _, id := range sortedKeys(want) {
		if slices.Contains(have, id) {
			continue
		}
		if err := sc.org.AssignGroup(ctx, appID, id); err != nil {
			return err
		}
		recordCreated(sc.ap, OktaKindGroupAssignment, id, want[id])
	}
	for _, ref := range createdOfKind(sc.ap, OktaKindGroupAssignment) {
		if _, ok := want[ref.ID]; ok {
			continue
		}
		if slices.Contains(have, ref.ID) {
			if err := sc.org.UnassignGroup(ctx, appID, ref.ID); err != nil {
				return err
			}
		}
		forgetCreated(sc.ap, OktaKindGroupAssignment, ref.ID)
	}
	return nil
}

// reconcileGroupPush pushes the assigned groups when syncMode is UsersAndGroups, once Okta
// reaches the SCIM server (Okta refuses push mappings before provisioning is on); it removes
// the push mappings it made that are no longer wanted (step 6).
func (s *OktaSync) reconcileGroupPush(ctx context.Context, sc *oktaScope) error {
	want := map[string]string{}
	sc.ap.Status.Okta.GroupPushWaiting = false
	if sc.ap.Spec.SyncMode == scimv1alpha1.SyncModeUsersAndGroups && len(sc.ap.Spec.Okta.AssignGroups) > 0 {
		if !provisioningConnected(sc.ap) {
			sc.ap.Status.Okta.GroupPushWaiting = true
			return nil
		}
		var err error
		if want, err = s.wantedGroups(ctx, sc); err != nil {
			return err
		}
	}
	created := createdOfKind(sc.ap, OktaKindGroupPushMapping)
	if len(want) == 0 && len(created) == 0 {
		return nil
	}
	appID := sc.ap.Status.Okta.SAMLAppID
	have, err := sc.org.ListGroupPushMappings(ctx, appID)
	if err != nil {
		return groupPushRefused(sc.ap, err)
	}
	bySource := map[string]okta.GroupPushMapping{}
	for _, m := range have {
		bySource[m.SourceGroupID] = m
	}
	for _, id := range sortedKeys(want) {
		if _, ok := bySource[id]; ok {
			continue
		}
		m, err := sc.org.CreateGroupPushMapping(ctx, appID, id)
		if err != nil {
			return groupPushRefused(sc.ap, err)
		}
		recordCreated(sc.ap, OktaKindGroupPushMapping, m.ID, want[id])
	}
	for _, ref := range created {
		if m, ok := findMapping(have, ref.ID); ok {
			if _, wanted := want[m.SourceGroupID]; wanted {
				continue
			}
			if err := sc.org.DeleteGroupPushMapping(ctx, appID, ref.ID); err != nil {
				return err
			}
		}
		forgetCreated(sc.ap, OktaKindGroupPushMapping, ref.ID)
	}
	return nil
}

// groupPushRefused turns Okta's refusal of group push on the SAML app (400: provisioning is on
// but Push Groups is not among its supported actions) into a specProblem an admin can act on.
func groupPushRefused(ap *scimv1alpha1.AgencyProvisioning, err error) error {
	if !errors.Is(err, okta.ErrInvalidRequest) {
		return err
	}
	return &specProblem{fmt.Sprintf("Okta refuses group push on the SAML app %q (%v); in Okta open the app, "+
		"Provisioning > Integration > Edit, tick Push Groups under Supported provisioning actions and Save, or set "+
		"spec.syncMode to UsersOnly", samlLabel(ap), err)}
}

func findMapping(ms []okta.GroupPushMapping, id string) (okta.GroupPushMapping, bool) {
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return okta.GroupPushMapping{}, false
}

// deleteCreated removes the Okta objects listed in status.okta.createdObjects, and only those.
func (s *OktaSync) deleteCreated(ctx context.Context, sc *oktaScope) error {
	st := &sc.ap.Status.Okta
	order := []string{OktaKindGroupPushMapping, OktaKindGroupAssignment, OktaKindAccessPolicyRule,
		OktaKindAccessPolicy, OktaKindOIDCApp, OktaKindSAMLApp}
	for _, kind := range order {
		for _, ref := range createdOfKind(sc.ap, kind) {
			var err error
			switch kind {
			case OktaKindGroupPushMapping:
				err = sc.org.DeleteGroupPushMapping(ctx, st.SAMLAppID, ref.ID)
			case OktaKindGroupAssignment:
				err = sc.org.UnassignGroup(ctx, st.SAMLAppID, ref.ID)
			case OktaKindAccessPolicy:
				err = sc.org.DeletePolicy(ctx, sc.serverID, ref.ID)
			case OktaKindOIDCApp, OktaKindSAMLApp:
				err = sc.org.DeleteApp(ctx, ref.ID)
			}
			// A rule goes with its policy; a group push mapping or assignment with its app.
			if err != nil && !errors.Is(err, okta.ErrNotFound) {
				return fmt.Errorf("delete Okta %s %s: %w", kind, ref.ID, err)
			}
			forgetCreated(sc.ap, kind, ref.ID)
		}
	}
	return nil
}

func recordCreated(ap *scimv1alpha1.AgencyProvisioning, kind, id, name string) {
	for _, r := range ap.Status.Okta.CreatedObjects {
		if r.Kind == kind && r.ID == id {
			return
		}
	}
	ap.Status.Okta.CreatedObjects = append(ap.Status.Okta.CreatedObjects,
		scimv1alpha1.OktaObjectRef{Kind: kind, ID: id, Name: name})
}

func forgetCreated(ap *scimv1alpha1.AgencyProvisioning, kind, id string) {
	if id == "" {
		return
	}
	ap.Status.Okta.CreatedObjects = slices.DeleteFunc(ap.Status.Okta.CreatedObjects,
		func(r scimv1alpha1.OktaObjectRef) bool { return r.Kind == kind && r.ID == id })
}

func createdOfKind(ap *scimv1alpha1.AgencyProvisioning, kind string) []scimv1alpha1.OktaObjectRef {
	var out []scimv1alpha1.OktaObjectRef
	for _, r := range ap.Status.Okta.CreatedObjects {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
