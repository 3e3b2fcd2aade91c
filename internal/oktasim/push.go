package oktasim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SCIM schema URNs the engine sends.
const (
	scimUserURN     = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupURN    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimPatchURN    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimContentType = "application/scim+json"
	scimUserAgent   = "Okta SCIM Client 1.0.0"
)

// PushRecord is one request the engine sent to a SCIM server and what came back, like an
// entry of Okta's provisioning log. Filter values are left out: they carry personal data.
type PushRecord struct {
	Seq            int       `json:"seq"`
	Time           time.Time `json:"time"`
	AppID          string    `json:"appId"`
	Task           string    `json:"task"`
	OktaID         string    `json:"oktaId,omitempty"`
	Method         string    `json:"method"`
	Path           string    `json:"path"`
	Status         int       `json:"status"`
	Outcome        string    `json:"outcome"`
	Error          string    `json:"error,omitempty"`
	DurationMillis int64     `json:"durationMillis"`
	TokenFault     string    `json:"tokenFault,omitempty"`
}

// Outcomes of a push record.
const (
	OutcomeSuccess = "SUCCESS"
	OutcomeFailure = "FAILURE"
)

// PushLog returns the engine's records for an app (every app when appID is empty), oldest first.
func (s *Sim) PushLog(appID string) []PushRecord {
	e := s.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []PushRecord{}
	for _, rec := range e.log {
		if appID == "" || rec.AppID == appID {
			out = append(out, rec)
		}
	}
	return out
}

// scimResponse is what a SCIM call returned.
type scimResponse struct {
	status int
	body   map[string]any
}

// scimCall sends one SCIM request with the app's access token and records it.
func (s *Sim) scimCall(
	ctx context.Context,
	appID, taskName, oktaID, method, rel string,
	body any,
) (scimResponse, error) {
	s.mu.Lock()
	a, ok := s.apps[appID]
	var base string
	if ok && a.provisioning != nil {
		base = strings.TrimRight(a.provisioning.BaseURL, "/")
	}
	s.mu.Unlock()
	if base == "" {
		return scimResponse{}, errNotConnected
	}
	token, fault, err := s.engine.bearer(ctx, appID)
	if err != nil {
		s.record(
			PushRecord{AppID: appID, Task: taskName, OktaID: oktaID, Method: method, Path: redactPath(rel),
				Outcome: OutcomeFailure, Error: "get access token: " + err.Error()},
		)
		return scimResponse{}, err
	}
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return scimResponse{}, fmt.Errorf("encode SCIM body: %w", err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+rel, rdr)
	if err != nil {
		return scimResponse{}, fmt.Errorf("build SCIM request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", scimContentType)
	req.Header.Set("User-Agent", scimUserAgent)
	if body != nil {
		req.Header.Set("Content-Type", scimContentType)
	}
	start := time.Now()
	resp, err := s.engine.client.Do(req)
	rec := PushRecord{AppID: appID, Task: taskName, OktaID: oktaID, Method: method, Path: redactPath(rel),
		TokenFault: fault}
	if err != nil {
		rec.Outcome, rec.Error = OutcomeFailure, err.Error()
		rec.DurationMillis = time.Since(start).Milliseconds()
		s.record(rec)
		return scimResponse{}, fmt.Errorf("%s %s: %w", method, rec.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	rec.Status = resp.StatusCode
	rec.DurationMillis = time.Since(start).Milliseconds()
	out := scimResponse{status: resp.StatusCode}
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &out.body)
	}
	if resp.StatusCode >= http.StatusBadRequest {
		rec.Outcome = OutcomeFailure
		rec.Error = scimErrorText(resp.StatusCode, out.body, raw)
		s.record(rec)
		return out, fmt.Errorf("%s %s: %s", method, rec.Path, rec.Error)
	}
	rec.Outcome = OutcomeSuccess
	s.record(rec)
	return out, nil
}

func (s *Sim) record(rec PushRecord) {
	e := s.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	rec.Seq = len(e.log) + 1
	if rec.Time.IsZero() {
		rec.Time = s.now().UTC()
	}
	e.log = append(e.log, rec)
}

// redactPath drops filter values, which name people, and keeps the rest of the query.
func redactPath(rel string) string {
	p, q, ok := strings.Cut(rel, "?")
	if !ok || !strings.Contains(q, "filter=") {
		return rel
	}
	parts := strings.Split(q, "&")
	for i, part := range parts {
		v, found := strings.CutPrefix(part, "filter=")
		if !found {
			continue
		}
		f, err := url.QueryUnescape(v)
		attr, _, hasEq := strings.Cut(f, " eq ")
		if err != nil || !hasEq {
			attr = "…"
		}
		parts[i] = "filter=" + attr + ` eq "…"`
	}
	return p + "?" + strings.Join(parts, "&")
}

// lookupQuery is the query Okta sends to find a resource: filter, then startIndex=1&count=100.
func lookupQuery(filter string) string {
	return "filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20") + "&startIndex=1&count=100"
}

func scimErrorText(status int, body map[string]any, raw []byte) string {
	if d := strOf(body["detail"]); d != "" {
		if t := strOf(body["scimType"]); t != "" {
			return fmt.Sprintf("%d %s: %s", status, t, d)
		}
		return fmt.Sprintf("%d: %s", status, d)
	}
	text := strings.TrimSpace(string(raw))
	if len(text) > 200 {
		text = text[:200]
	}
	return fmt.Sprintf("%d %s %s", status, http.StatusText(status), text)
}

// process runs one task; it reports success, a skip (the action is switched off or there
// is nothing to do) or the error.
func (s *Sim) process(ctx context.Context, t *task) (bool, bool, error) {
	s.mu.Lock()
	a, ok := s.apps[t.appID]
	if !ok || a.provisioning == nil || a.status() != "ACTIVE" {
		// Okta does not provision through an inactive app.
		s.mu.Unlock()
		return false, true, nil
	}
	p := *a.provisioning
	s.mu.Unlock()
	var err error
	skipped := false
	switch t.kind {
	case TaskCreateUser:
		skipped, err = s.pushCreate(ctx, t, p)
	case TaskUpdateUser:
		skipped, err = s.pushUpdate(ctx, t, p)
	case TaskDeactivateUser, TaskReactivateUser:
		skipped, err = s.pushActive(ctx, t, p, t.kind == TaskReactivateUser)
	case TaskPushGroup:
		skipped, err = s.pushGroup(ctx, t, p)
	case TaskDeleteGroup:
		_, err = s.scimCall(
			ctx,
			t.appID,
			t.kind,
			t.groupID,
			http.MethodDelete,
			"/Groups/"+url.PathEscape(t.targetID),
			nil,
		)
	}
	s.mu.Lock()
	if au := s.appUserOf(t.appID, t.userID); au != nil {
		au.LastSync = s.now()
		au.SyncState = "SYNCHRONIZED"
		if err != nil {
			au.SyncState = "ERROR"
		}
	}
	s.mu.Unlock()
	return err == nil && !skipped, skipped && err == nil, err
}

func (s *Sim) appUserOf(appID, userID string) *appUser {
	a, ok := s.apps[appID]
	if !ok || userID == "" {
		return nil
	}
	return a.userAssign[userID]
}

// userSnapshot is what a user push needs, read under s.mu.
type userSnapshot struct {
	scim       map[string]any
	userName   string
	externalID string
	active     bool
	assigned   bool
}

func (s *Sim) snapshotUser(appID, userID string) (userSnapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appID]
	u, uok := s.users[userID]
	if !ok || !uok {
		return userSnapshot{}, false
	}
	au := a.userAssign[userID]
	snap := userSnapshot{scim: s.scimUser(a, u), userName: s.appUserName(a, u),
		active: u.Status == "ACTIVE" || u.Status == "PROVISIONED"}
	if au != nil {
		snap.externalID = au.ExternalID
		snap.assigned = au.assigned()
		snap.active = snap.active && au.assigned()
	}
	return snap, true
}

// scimUser builds the SCIM user Okta sends for a custom app: core attributes from the app
// user profile, and custom attributes only when their app-profile property has an
// externalNamespace (under that namespace, or at the top level for the core schema).
func (s *Sim) scimUser(a *app, u *user) map[string]any {
	profile := s.appUserProfile(a, u)
	given, family := strOf(profile["givenName"]), strOf(profile["familyName"])
	display := strOf(profile["displayName"])
	if display == "" {
		display = strings.TrimSpace(given + " " + family)
	}
	out := map[string]any{
		"userName":    s.appUserName(a, u),
		"name":        map[string]any{"givenName": given, "familyName": family},
		"displayName": display,
		"locale":      "en-US",
		"externalId":  u.ID,
	}
	if email := strOf(profile["email"]); email != "" {
		out["emails"] = []any{map[string]any{"primary": true, "value": email, "type": "work"}}
	}
	schemas := []any{scimUserURN}
	for _, name := range a.custom.order {
		def := a.custom.props[name]
		ns, ext := strOf(def["externalNamespace"]), strOf(def["externalName"])
		v, ok := profile[name]
		if ns == "" || ext == "" || !ok {
			continue
		}
		if ns == scimCoreUserURN {
			out[ext] = v
			continue
		}
		if _, seen := out[ns]; !seen {
			out[ns] = map[string]any{}
			schemas = append(schemas, ns)
		}
		objOf(out[ns])[ext] = v
	}
	out["schemas"] = schemas
	return out
}

func (s *Sim) link(appID, userID, scimID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if au := s.appUserOf(appID, userID); au != nil {
		au.ExternalID = scimID
		au.Deactivated = false
	}
}

// pushCreate looks the user up by the unique identifier and creates it when absent; a
// match is linked and updated instead, as Okta does.
func (s *Sim) pushCreate(ctx context.Context, t *task, p Provisioning) (bool, error) {
	snap, ok := s.snapshotUser(t.appID, t.userID)
	if !ok || !snap.assigned {
		return true, nil
	}
	if snap.externalID != "" {
		return s.pushUpdate(ctx, t, p)
	}
	if !p.CreateUsers {
		return true, nil
	}
	found, err := s.scimCall(ctx, t.appID, t.kind, t.userID, http.MethodGet,
		"/Users?"+lookupQuery(fmt.Sprintf("userName eq %q", snap.userName)), nil)
	if err != nil {
		return false, err
	}
	if res := asSlice(found.body["Resources"]); len(res) > 0 {
		s.link(t.appID, t.userID, strOf(objOf(res[0])["id"]))
		t2 := *t
		t2.kind = TaskUpdateUser
		return s.pushUpdate(ctx, &t2, p)
	}
	body := snap.scim
	body["active"] = true
	body["password"] = randomToken(20)
	body["groups"] = []any{}
	created, err := s.scimCall(ctx, t.appID, t.kind, t.userID, http.MethodPost, "/Users", body)
	if err != nil {
		return false, err
	}
	id := strOf(created.body["id"])
	if created.status != http.StatusCreated || id == "" {
		err := fmt.Errorf("POST /Users answered %d without the created user", created.status)
		s.markLastFailed(err)
		return false, err
	}
	s.link(t.appID, t.userID, id)
	s.pushGroupsOf(t.appID, t.userID)
	return false, nil
}

// markLastFailed turns the last push record into a failure: the status was fine but the
// answer was not what Okta needs.
func (s *Sim) markLastFailed(err error) {
	e := s.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := len(e.log); n > 0 {
		e.log[n-1].Outcome = OutcomeFailure
		e.log[n-1].Error = err.Error()
	}
}

// pushGroupsOf queues membership pushes of the groups a newly linked user belongs to.
func (s *Sim) pushGroupsOf(appID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appID]
	if !ok {
		return
	}
	for _, pm := range a.pushMappingsInOrder() {
		if g, ok := s.groups[pm.SourceGroupID]; ok && g.Members[userID] && pm.Status == "ACTIVE" {
			s.engine.enqueue(&task{appID: appID, kind: TaskPushGroup, groupID: g.ID, mappingID: pm.ID})
		}
	}
}

// pushUpdate sends GET then PUT of the whole user.
func (s *Sim) pushUpdate(ctx context.Context, t *task, p Provisioning) (bool, error) {
	snap, ok := s.snapshotUser(t.appID, t.userID)
	if !ok {
		return true, nil
	}
	if snap.externalID == "" {
		if snap.assigned && p.CreateUsers {
			t2 := *t
			t2.kind = TaskCreateUser
			return s.pushCreate(ctx, &t2, p)
		}
		return true, nil
	}
	if !p.UpdateUserAttributes {
		return true, nil
	}
	return false, s.putUser(ctx, t, snap, snap.active)
}

func (s *Sim) putUser(ctx context.Context, t *task, snap userSnapshot, active bool) error {
	rel := "/Users/" + url.PathEscape(snap.externalID)
	if _, err := s.scimCall(ctx, t.appID, t.kind, t.userID, http.MethodGet, rel, nil); err != nil {
		return err
	}
	body := snap.scim
	body["id"] = snap.externalID
	body["active"] = active
	_, err := s.scimCall(ctx, t.appID, t.kind, t.userID, http.MethodPut, rel, body)
	return err
}

// pushActive deactivates or reactivates a linked user: GET + PUT for custom apps, a
// path-less PATCH for catalogue-style apps.
func (s *Sim) pushActive(ctx context.Context, t *task, p Provisioning, active bool) (bool, error) {
	snap, ok := s.snapshotUser(t.appID, t.userID)
	if !ok || snap.externalID == "" || !p.DeactivateUsers {
		return true, nil
	}
	if active && !snap.active {
		return true, nil
	}
	var err error
	if p.PatchStyle {
		_, err = s.scimCall(
			ctx,
			t.appID,
			t.kind,
			t.userID,
			http.MethodPatch,
			"/Users/"+url.PathEscape(snap.externalID),
			map[string]any{"schemas": []any{scimPatchURN}, "Operations": []any{
				map[string]any{"op": "replace", "value": map[string]any{"active": active}}}},
		)
	} else {
		err = s.putUser(ctx, t, snap, active)
	}
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	if au := s.appUserOf(t.appID, t.userID); au != nil {
		au.Deactivated = !active
		if !active && !au.assigned() {
			delete(s.apps[t.appID].userAssign, t.userID)
		}
	}
	s.mu.Unlock()
	return false, nil
}
