package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// AnnotationReportURL overrides where the operator reads the SCIM server's report, for runs
// where the SCIM server is a local process (tests, the demo). It is honoured only when the
// manager runs with --scim-report-url-annotation (HTTPReportReader.AllowAnnotation).
const AnnotationReportURL = "scim.provisioning.dev/report-url"

// ReportReader reads a SCIM server's report for an AgencyProvisioning.
type ReportReader interface {
	ReadReport(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) (*scimconfig.Report, error)
}

// HTTPReportReader reads the report over HTTP from the SCIM server's metrics port.
type HTTPReportReader struct {
	// HTTP is the client (default: 5s timeout).
	HTTP *http.Client
	// BaseURL returns the metrics port's base URL for ap, for example
	// http://<scim-server Service>.<namespace>.svc:9090 (see DefaultReportBaseURL).
	BaseURL func(ap *scimv1alpha1.AgencyProvisioning) string
	// AllowAnnotation reads the report where AnnotationReportURL says, and nowhere without it,
	// instead of at BaseURL; for out-of-cluster runs only.
	AllowAnnotation bool
}

// DefaultReportBaseURL is the SCIM server's report Service inside the cluster: it routes to
// pods that are not ready too, so that a pod whose store is down can say why.
func DefaultReportBaseURL(ap *scimv1alpha1.AgencyProvisioning) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", ReportServiceName(ap), ap.Namespace, metricsPort)
}

// maxReportBytes bounds the report answer.
const maxReportBytes = 1 << 20

// ReadReport implements ReportReader.
func (h *HTTPReportReader) ReadReport(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) (*scimconfig.Report,
	error) {
	if h.AllowAnnotation && ap.Annotations[AnnotationReportURL] == "" {
		// Outside the cluster the report Service's name does not resolve: asking the resolver
		// would only send the cluster's names to whatever DNS server the machine uses.
		return nil, fmt.Errorf("the annotation %s is not set: with --scim-report-url-annotation (the manager "+
			"runs outside the cluster) the report is read only where it says", AnnotationReportURL)
	}
	target := h.reportURL(ap)
	hc := h.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("report URL %q: %w", target, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read SCIM server report: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read SCIM server report at %s: HTTP %d", target, resp.StatusCode)
	}
	var rep scimconfig.Report
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxReportBytes)).Decode(&rep); err != nil {
		return nil, fmt.Errorf("decode SCIM server report from %s: %w", target, err)
	}
	return &rep, nil
}

func (h *HTTPReportReader) reportURL(ap *scimv1alpha1.AgencyProvisioning) string {
	if u := ap.Annotations[AnnotationReportURL]; h.AllowAnnotation && u != "" {
		return u
	}
	base := DefaultReportBaseURL
	if h.BaseURL != nil {
		base = h.BaseURL
	}
	return strings.TrimRight(base(ap), "/") + scimconfig.ReportPath
}

// issuerCondition is IssuerVerified for an authorization server: True when it is active and
// its issuer is on the org URL's scheme and host.
func issuerCondition(orgURL, serverID string, s *okta.AuthorizationServer) (metav1.ConditionStatus, string, string) {
	if s.Status != "" && s.Status != okta.StatusActive {
		return metav1.ConditionFalse, scimv1alpha1.ReasonAuthorizationServerInactive,
			fmt.Sprintf("authorization server %q is %s; activate it in Okta (Security > API > Authorization Servers)",
				serverID, s.Status)
	}
	org, _ := url.Parse(orgURL)
	iss, err := url.Parse(s.Issuer)
	if err != nil || org == nil || iss.Scheme != org.Scheme || !strings.EqualFold(iss.Host, org.Host) {
		return metav1.ConditionFalse, scimv1alpha1.ReasonIssuerMismatch,
			fmt.Sprintf("authorization server %q issues tokens as %q, which is not on the org URL %q; "+
				"the SCIM server accepts only issuers on spec.okta.orgURL: "+
				"set it to the org the issuer names, or fix the issuer (custom domain) in Okta",
				serverID, s.Issuer, orgURL)
	}
	return metav1.ConditionTrue, scimv1alpha1.ReasonSucceeded,
		fmt.Sprintf("authorization server %q issues tokens as %s, on the org URL", serverID, s.Issuer)
}

func provisioningConnected(ap *scimv1alpha1.AgencyProvisioning) bool {
	return meta.IsStatusConditionTrue(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
}

// ReportRead is one reading of a SCIM server's report: the report, or why it could not be read.
type ReportRead struct {
	Report *scimconfig.Report
	Err    error
}

// storeProblem is the store problem the report names, nil when there is none or no report.
func (rr ReportRead) storeProblem() *scimconfig.StoreProblem {
	if rr.Err != nil || rr.Report == nil {
		return nil
	}
	return rr.Report.Store
}

// ReadReport implements OktaStep: it reads the report and checks that it is this agency's.
func (s *OktaSync) ReadReport(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) ReportRead {
	if s.Reports == nil {
		return ReportRead{Err: errors.New("no report reader configured")}
	}
	rep, err := s.Reports.ReadReport(ctx, ap)
	if err == nil && rep.AgencyID != "" && rep.AgencyID != ap.Spec.AgencyID {
		err = fmt.Errorf("the report is for agency %q, not %q", rep.AgencyID, ap.Spec.AgencyID)
	}
	if err != nil {
		return ReportRead{Err: err}
	}
	return ReportRead{Report: rep}
}

// reportDespiteOkta applies what the SCIM server's report says that does not depend on the
// Okta steps, when one of them failed: the counts, ScimAuthenticated, and ProvisioningConnected
// once it has been set (before the first sync the manual step's values are not known yet).
func reportDespiteOkta(ap *scimv1alpha1.AgencyProvisioning, report ReportRead) {
	applyReport(ap, report,
		meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected) != nil)
}

// applyReport copies the report's counts into status and sets ScimAuthenticated, and
// ProvisioningConnected when connection is set (the manual step's values are known).
func applyReport(ap *scimv1alpha1.AgencyProvisioning, report ReportRead, connection bool) {
	if report.Err == nil {
		applyReportCounts(ap, report.Report)
	}
	if connection {
		setProvisioningConnected(ap, report.Report, report.Err)
	}
	setScimAuthenticated(ap, report.Report, report.Err)
}

// reconcileReport sets ProvisioningConnected and ScimAuthenticated from the SCIM server's
// report (step 7). It makes no Okta call.
func (s *OktaSync) reconcileReport(ap *scimv1alpha1.AgencyProvisioning, report ReportRead) ctrl.Result {
	applyReport(ap, report, true)
	if provisioningConnected(ap) && ap.Status.Okta.GroupPushWaiting {
		// Provisioning just connected: the group push mappings can be created now.
		return ctrl.Result{RequeueAfter: time.Second}
	}
	// Come back for the next report poll, or for the full sync when that is sooner.
	return ctrl.Result{RequeueAfter: min(s.reportPoll(), s.untilResync(ap))}
}

func (s *OktaSync) reportPoll() time.Duration {
	if s.ReportPollInterval > 0 {
		return s.ReportPollInterval
	}
	return DefaultReportPollInterval
}

func (s *OktaSync) untilResync(ap *scimv1alpha1.AgencyProvisioning) time.Duration {
	last := ap.Status.Okta.LastSyncTime
	if last == nil {
		return time.Second
	}
	return max(s.resync(ap)-s.now().Sub(last.Time), time.Second)
}

// applyReportCounts copies the report's directory counts and last provisioning request into
// status; counts the store could not give leave the last known ones.
func applyReportCounts(ap *scimv1alpha1.AgencyProvisioning, rep *scimconfig.Report) {
	if !rep.CountsUnavailable {
		users, active, groups := rep.Users, rep.ActiveUsers, rep.Groups
		ap.Status.Users, ap.Status.ActiveUsers, ap.Status.Groups = &users, &active, &groups
	}
	if la := rep.LastAuthenticated; la != nil {
		ap.Status.LastProvisioningRequest = &scimv1alpha1.ProvisioningRequest{
			ClientID: la.ClientID, Method: la.Method, Path: la.Path,
			Status: int32(la.Status), Time: metav1.NewTime(la.Time),
		}
	}
}

// setProvisioningConnected: True once the SCIM server accepted a request carrying a token of
// the operator's OIDC client; until then ManualStepRequired with the values to enter.
func setProvisioningConnected(ap *scimv1alpha1.AgencyProvisioning, rep *scimconfig.Report, repErr error) {
	clientID := ap.Status.Okta.OIDCClientID
	// A spec change that alters what the admin entered in Okta needs the admin again: Okta
	// keeps the old values.
	changed := manualStepChanges(enteredInOkta(ap), manualStep(ap))
	if changed != "" && provisioningConnected(ap) {
		setCondition(ap, scimv1alpha1.ConditionProvisioningConnected, metav1.ConditionFalse,
			scimv1alpha1.ReasonManualStepRequired, "A value entered in Okta changed in the spec")
	}
	if entered := ap.Status.ConnectedManualStep; entered != nil && !provisioningConnected(ap) &&
		equality.Semantic.DeepEqual(*entered, *manualStep(ap)) {
		// A spec change undone: Okta holds the values it connected with, which are the spec's
		// again (a replaced app clears ConnectedManualStep, see requireManualStep).
		ap.Status.ManualStep = manualStep(ap)
		setCondition(ap, scimv1alpha1.ConditionProvisioningConnected, metav1.ConditionTrue,
			scimv1alpha1.ReasonSucceeded, "The spec again gives the values Okta connected with "+
				"(status.connectedManualStep); Okta needs no change")
		return
	}
	if repErr == nil && clientID != "" && rep.LastAuthenticated != nil && rep.LastAuthenticated.ClientID == clientID &&
		!beforeDisconnect(ap, rep.LastAuthenticated.Time) {
		la := rep.LastAuthenticated
		ap.Status.ConnectedManualStep = manualStep(ap)
		setCondition(ap, scimv1alpha1.ConditionProvisioningConnected, metav1.ConditionTrue,
			scimv1alpha1.ReasonSucceeded,
			fmt.Sprintf("Okta reached the SCIM server with a token from client %s (%s %s answered %d at %s)",
				clientID, la.Method, la.Path, la.Status, la.Time.UTC().Format(time.RFC3339)))
		return
	}
	if provisioningConnected(ap) && (repErr != nil || rep.LastAuthenticated == nil) {
		// Keep True while the report is briefly unreadable, or while a new SCIM server pod has
		// seen no request yet: the manual step was done, and Okta calls only when something
		// changes.
		return
	}
	step := manualStep(ap)
	ap.Status.ManualStep = step
	// The notes come before the step's long list of values, so that an Event, which keeps the
	// first 1024 bytes, shows them.
	msg := strings.Join(append(manualStepNotes(ap, rep, repErr, changed), manualStepMessage(step)), " ")
	setCondition(ap, scimv1alpha1.ConditionProvisioningConnected, metav1.ConditionFalse,
		scimv1alpha1.ReasonManualStepRequired, msg)
}

// manualStepNotes are what ManualStepRequired says before the values to enter: an address Okta
// cannot reach, values changed since Okta connected, and what the report says of the last
// request.
func manualStepNotes(ap *scimv1alpha1.AgencyProvisioning, rep *scimconfig.Report, repErr error,
	changed string) []string {
	var notes []string
	if srv := ap.Spec.ScimServer; srv.Ingress == nil && srv.ExternalURL == "" {
		notes = append(notes, "First give the SCIM server an address Okta can reach: set "+
			"spec.scimServer.ingress or spec.scimServer.externalURL; until then the connector base URL below is "+
			"the in-cluster Service, which Okta cannot call.")
	}
	if changed != "" {
		notes = append(notes, fmt.Sprintf("Changed in the spec since Okta connected: %s; change it in Okta too.",
			changed))
	}
	clientID := ap.Status.Okta.OIDCClientID
	switch {
	case repErr != nil:
		notes = append(notes, fmt.Sprintf("The SCIM server's report could not be read: %v.", repErr))
	case rep.LastAuthenticated != nil && clientID != "" && rep.LastAuthenticated.ClientID != clientID:
		notes = append(notes, fmt.Sprintf("The last accepted request came from client %s, not %s.",
			rep.LastAuthenticated.ClientID, clientID))
	}
	return notes
}

// enteredInOkta is the manual step Okta last connected with; nil while it never has. An agency
// connected before status kept those values falls back to the step shown last.
func enteredInOkta(ap *scimv1alpha1.AgencyProvisioning) *scimv1alpha1.ManualStep {
	if ap.Status.ConnectedManualStep != nil {
		return ap.Status.ConnectedManualStep
	}
	if provisioningConnected(ap) {
		return ap.Status.ManualStep
	}
	return nil
}

// beforeDisconnect says whether an accepted request at t came before ProvisioningConnected
// turned False: such a request went to an Okta app or client the operator has replaced since.
func beforeDisconnect(ap *scimv1alpha1.AgencyProvisioning, t time.Time) bool {
	c := meta.FindStatusCondition(ap.Status.Conditions, scimv1alpha1.ConditionProvisioningConnected)
	return c != nil && c.Status == metav1.ConditionFalse && t.Before(c.LastTransitionTime.Time)
}

// requireManualStep turns ProvisioningConnected False when the operator replaced an Okta app
// the manual step was done on; from then on only requests after this moment count as connected.
// The step that reads the report fills in the message with the values to enter.
func requireManualStep(ap *scimv1alpha1.AgencyProvisioning) {
	// What Okta was connected with belongs to the old app.
	ap.Status.ConnectedManualStep = nil
	setCondition(ap, scimv1alpha1.ConditionProvisioningConnected, metav1.ConditionFalse,
		scimv1alpha1.ReasonManualStepRequired, "An Okta app was replaced; the manual step must be done again")
}

// manualStepChanges says which values the admin entered in Okta differ between the manual step
// Okta connected with (old) and the one the spec gives now; "" when none does.
func manualStepChanges(old, cur *scimv1alpha1.ManualStep) string {
	if old == nil {
		return ""
	}
	var out []string
	if old.ScimConnectorBaseURL != cur.ScimConnectorBaseURL {
		out = append(out, fmt.Sprintf("SCIM connector base URL, was %s", old.ScimConnectorBaseURL))
	}
	if old.UniqueIdentifierField != cur.UniqueIdentifierField {
		out = append(out, fmt.Sprintf("Unique identifier field for users, was %s", old.UniqueIdentifierField))
	}
	if !slices.Equal(old.SupportedActions, cur.SupportedActions) {
		out = append(out, "Supported provisioning actions, were "+strings.Join(old.SupportedActions, ", "))
	}
	return strings.Join(out, "; ")
}

// Values of the manual step.
var (
	toAppActions = []string{"Create Users", "Update User Attributes", "Deactivate Users"}
)

func manualStep(ap *scimv1alpha1.AgencyProvisioning) *scimv1alpha1.ManualStep {
	st := ap.Status.Okta
	issuer := st.Issuer
	if issuer == "" {
		server := ap.Spec.Okta.AuthorizationServerID
		if server == "" {
			server = "default"
		}
		issuer = strings.TrimRight(ap.Spec.Okta.OrgURL, "/") + "/oauth2/" + server
	}
	unique := "Email"
	if ap.Spec.Okta.UniqueIdentifier == scimv1alpha1.UniqueIdentifierUserName {
		unique = "userName"
	}
	actions := []string{"Push New Users", "Push Profile Updates"}
	if ap.Spec.SyncMode == scimv1alpha1.SyncModeUsersAndGroups {
		actions = append(actions, "Push Groups")
	}
	endpoint := ap.Status.ScimEndpoint
	if endpoint == "" {
		endpoint = "(not known yet: set spec.scimServer.ingress or spec.scimServer.externalURL)"
	}
	secretRef := "(not created yet)"
	if st.ClientSecretName != "" {
		secretRef = fmt.Sprintf("Secret %s/%s, key %s", ap.Namespace, st.ClientSecretName,
			ClientSecretKeyClientSecret)
	}
	return &scimv1alpha1.ManualStep{
		AppName:               samlLabel(ap),
		ScimConnectorBaseURL:  endpoint,
		UniqueIdentifierField: unique,
		SupportedActions:      actions,
		AuthenticationMode:    "OAuth 2",
		AuthorizeEndpointURL:  issuer + "/v1/authorize?scope=openid%20profile%20offline_access",
		TokenEndpointURL:      issuer + "/v1/token",
		ClientID:              st.OIDCClientID,
		ClientSecretRef:       secretRef,
		RedirectURI:           RedirectURI(ap, st.SAMLAppName),
		ToAppActions:          slicesClone(toAppActions),
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func manualStepMessage(m *scimv1alpha1.ManualStep) string {
	return fmt.Sprintf("An Okta admin must switch provisioning on by hand (the Okta API cannot): in Okta open app "+
		"%q, "+
		"General > App Settings > Edit, enable SCIM provisioning, Save; then Provisioning > Integration > Edit and "+
		"enter: "+
		"SCIM connector base URL = %s; Unique identifier field for users = %s; Supported provisioning actions = %s; "+
		"Authentication Mode = %s; Access token endpoint URI = %s; Authorization endpoint URI = %s; Client ID = %s; "+
		"Client Secret = the value in %s. Save, click Authenticate with OAuth, then under To App enable %s. "+
		"The same values are in status.manualStep.",
		m.AppName, m.ScimConnectorBaseURL, m.UniqueIdentifierField, strings.Join(m.SupportedActions, ", "),
		m.AuthenticationMode, m.TokenEndpointURL, m.AuthorizeEndpointURL, m.ClientID, m.ClientSecretRef,
		strings.Join(m.ToAppActions, ", "))
}

// ignoredRejections are rejections that do not come from Okta's tokens (requests without any
// token, garbage in the header): anyone on the internet can cause them.
var ignoredRejections = map[string]bool{
	scimconfig.ReasonMissingToken:   true,
	scimconfig.ReasonMalformedToken: true,
}

// setScimAuthenticated: False with the latest rejection's reason while the SCIM server has
// rejected tokens since its last accepted request; True otherwise.
func setScimAuthenticated(ap *scimv1alpha1.AgencyProvisioning, rep *scimconfig.Report, repErr error) {
	if repErr != nil {
		setCondition(ap, scimv1alpha1.ConditionScimAuthenticated, metav1.ConditionUnknown,
			scimv1alpha1.ReasonReconciling,
			fmt.Sprintf("The SCIM server's report could not be read: %v", repErr))
		return
	}
	var since time.Time
	if rep.LastAuthenticated != nil {
		since = rep.LastAuthenticated.Time
	}
	var recent []scimconfig.Rejection
	for reason, r := range rep.Rejections {
		if r.Reason == "" {
			r.Reason = reason
		}
		if !ignoredRejections[r.Reason] && r.Time.After(since) {
			recent = append(recent, r)
		}
	}
	if len(recent) == 0 {
		msg := "The SCIM server has rejected no token from Okta"
		if rep.LastAuthenticated != nil {
			msg = fmt.Sprintf("The SCIM server accepted Okta's token at %s and rejected none since",
				rep.LastAuthenticated.Time.UTC().Format(time.RFC3339))
		}
		setCondition(ap, scimv1alpha1.ConditionScimAuthenticated, metav1.ConditionTrue,
			scimv1alpha1.ReasonTokensAccepted, msg)
		return
	}
	slices.SortFunc(recent, func(a, b scimconfig.Rejection) int { return b.Time.Compare(a.Time) })
	latest := recent[0]
	msg := fmt.Sprintf("The SCIM server is rejecting Okta's tokens (%s, %d time(s), last at %s): %s",
		latest.Reason, latest.Count, latest.Time.UTC().Format(time.RFC3339), latest.Message)
	if latest.Expected != "" || latest.Seen != "" {
		msg += fmt.Sprintf("; expected %q, seen %q", latest.Expected, latest.Seen)
	}
	msg += rejectionHint(latest.Reason)
	setCondition(ap, scimv1alpha1.ConditionScimAuthenticated, metav1.ConditionFalse, latest.Reason, msg)
}

func rejectionHint(reason string) string {
	switch reason {
	case scimconfig.ReasonIssuerMismatch:
		return ". The token comes from another org or authorization server: check spec.okta.orgURL and the " +
			"Authorization endpoint URI entered in Okta"
	case scimconfig.ReasonUnknownClient:
		return ". Okta uses another OIDC client: enter the Client ID from status.manualStep in the SAML app's " +
			"Provisioning tab"
	case scimconfig.ReasonWrongAudience:
		return ". Check spec.okta.audience against the authorization server's audience"
	case scimconfig.ReasonTokenExpired, scimconfig.ReasonTokenNotYetValid:
		return ". Check the clocks, and re-authenticate the SAML app's Provisioning integration in Okta"
	}
	return ""
}
