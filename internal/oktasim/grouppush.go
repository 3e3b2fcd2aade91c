package oktasim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// pushMapping is a group push mapping: an Okta group pushed to the app's SCIM server.
type pushMapping struct {
	ID            string `json:"id"`
	SourceGroupID string `json:"sourceGroupId"`
	TargetGroupID string `json:"targetGroupId,omitempty"`
	Status        string `json:"status"`
	Created       string `json:"created"`
	LastUpdated   string `json:"lastUpdated"`
	LastPush      string `json:"lastPush,omitempty"`
	ErrorSummary  string `json:"errorSummary,omitempty"`
	// targetName is the name asked for at creation; pushed members is what the SCIM
	// server last got, to compute PATCH adds and removes.
	targetName string
	pushed     map[string]bool
	order      int64
}

func (a *app) pushMappingsInOrder() []*pushMapping {
	return valuesBy(a.pushMappings, func(pm *pushMapping) int64 { return pm.order })
}

func (s *Sim) groupPushRoutes(mux *http.ServeMux) {
	base := "/api/v1/apps/{appId}/group-push/mappings"
	mux.Handle("GET "+base, s.listHandler("okta.apps.read+okta.groups.read", s.listPushMappings))
	mux.Handle("POST "+base, s.api("okta.apps.manage+okta.groups.manage", s.createPushMapping))
	mux.Handle("GET "+base+"/{mappingId}", s.api("okta.apps.read+okta.groups.read", s.getPushMapping))
	mux.Handle("PATCH "+base+"/{mappingId}", s.api("okta.apps.manage+okta.groups.manage", s.patchPushMapping))
	mux.Handle("DELETE "+base+"/{mappingId}", s.api("okta.apps.manage+okta.groups.manage", s.deletePushMapping))
}

func (s *Sim) renderPushMapping(a *app, pm *pushMapping) map[string]any {
	out := map[string]any{"id": pm.ID, "sourceGroupId": pm.SourceGroupID, "status": pm.Status,
		"created": pm.Created, "lastUpdated": pm.LastUpdated,
		"_links": map[string]any{
			"app":         map[string]any{"href": s.URL() + "/api/v1/apps/" + a.id()},
			"sourceGroup": map[string]any{"href": s.URL() + "/api/v1/groups/" + pm.SourceGroupID},
		}}
	if pm.TargetGroupID != "" {
		out["targetGroupId"] = pm.TargetGroupID
	}
	if pm.LastPush != "" {
		out["lastPush"] = pm.LastPush
	}
	if pm.ErrorSummary != "" {
		out["errorSummary"] = pm.ErrorSummary
	}
	return out
}

// groupPushApp returns the app when group push can be used: Okta refuses group push
// mappings until provisioning (with Push Groups) is enabled for the app.
func (s *Sim) groupPushApp(r *http.Request) (*app, error) {
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return nil, err
	}
	if a.provisioning == nil || !a.provisioning.PushGroups {
		return nil, errValidation("group push",
			"Group push is not enabled for this app: enable provisioning with Push Groups first")
	}
	return a, nil
}

func (s *Sim) listPushMappings(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	a, err := s.groupPushApp(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var docs []map[string]any
	for _, pm := range a.pushMappingsInOrder() {
		if src := r.URL.Query().Get("sourceGroupId"); src != "" && pm.SourceGroupID != src {
			continue
		}
		docs = append(docs, s.renderPushMapping(a, pm))
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 100, 1000)
}

func (s *Sim) createPushMapping(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.groupPushApp(r)
	if err != nil {
		return 0, nil, err
	}
	g, err := s.lookupGroup(strOf(body["sourceGroupId"]))
	if err != nil {
		return 0, nil, errValidation("sourceGroupId", "sourceGroupId: "+err.Error())
	}
	if g.Type != "OKTA_GROUP" {
		return 0, nil, errValidation("sourceGroupId", "sourceGroupId: only Okta groups can be pushed")
	}
	for _, pm := range a.pushMappings {
		if pm.SourceGroupID == g.ID {
			return 0, nil, errValidation(
				"sourceGroupId",
				"sourceGroupId: the group already has a push mapping for this app",
			)
		}
	}
	status := strOf(body["status"])
	if status == "" {
		status = "ACTIVE"
	}
	if status != "ACTIVE" && status != "INACTIVE" {
		return 0, nil, errValidation("status", "status: must be ACTIVE or INACTIVE")
	}
	now := s.now().UTC().Format(time.RFC3339)
	pm := &pushMapping{ID: newID("gPm"), SourceGroupID: g.ID, TargetGroupID: strOf(body["targetGroupId"]),
		Status: status, Created: now, LastUpdated: now, targetName: strOf(body["targetGroupName"]),
		pushed: map[string]bool{}, order: s.nextOrder()}
	a.pushMappings[pm.ID] = pm
	if status == "ACTIVE" {
		s.engine.enqueue(&task{appID: a.id(), kind: TaskPushGroup, groupID: g.ID, mappingID: pm.ID})
	}
	return http.StatusCreated, s.renderPushMapping(a, pm), nil
}

func (s *Sim) lookupPushMapping(r *http.Request) (*app, *pushMapping, error) {
	a, err := s.groupPushApp(r)
	if err != nil {
		return nil, nil, err
	}
	pm, ok := a.pushMappings[r.PathValue("mappingId")]
	if !ok {
		return nil, nil, errNotFound(r.PathValue("mappingId"), "GroupPushMapping")
	}
	return a, pm, nil
}

func (s *Sim) getPushMapping(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, pm, err := s.lookupPushMapping(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderPushMapping(a, pm), nil
}

func (s *Sim) patchPushMapping(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, pm, err := s.lookupPushMapping(r)
	if err != nil {
		return 0, nil, err
	}
	status := strOf(body["status"])
	if status != "ACTIVE" && status != "INACTIVE" {
		return 0, nil, errValidation("status", "status: must be ACTIVE or INACTIVE")
	}
	pm.Status = status
	pm.LastUpdated = s.now().UTC().Format(time.RFC3339)
	if status == "ACTIVE" {
		s.engine.enqueue(
			&task{appID: a.id(), kind: TaskPushGroup, groupID: pm.SourceGroupID, mappingID: pm.ID},
		)
	}
	return http.StatusOK, s.renderPushMapping(a, pm), nil
}

// deletePushMapping removes an INACTIVE mapping; deleteTargetGroup=true also deletes the
// pushed group from the SCIM server.
func (s *Sim) deletePushMapping(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, pm, err := s.lookupPushMapping(r)
	if err != nil {
		return 0, nil, err
	}
	if pm.Status == "ACTIVE" {
		return 0, nil, errValidation(
			"status",
			"An ACTIVE group push mapping must be deactivated before it is deleted",
		)
	}
	delete(a.pushMappings, pm.ID)
	if queryBool(r, "deleteTargetGroup", false) && pm.TargetGroupID != "" {
		s.engine.enqueue(&task{appID: a.id(), kind: TaskDeleteGroup, groupID: pm.SourceGroupID,
			mappingID: pm.ID, targetID: pm.TargetGroupID})
	}
	return http.StatusNoContent, nil, nil
}

// groupSnapshot is what a group push needs, read under s.mu.
type groupSnapshot struct {
	name     string
	targetID string
	members  map[string]string // SCIM id -> display name
	pushed   map[string]bool
}

func (s *Sim) snapshotGroup(appID, mappingID string) (groupSnapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appID]
	if !ok {
		return groupSnapshot{}, false
	}
	pm, ok := a.pushMappings[mappingID]
	if !ok || pm.Status != "ACTIVE" {
		return groupSnapshot{}, false
	}
	g, ok := s.groups[pm.SourceGroupID]
	if !ok {
		return groupSnapshot{}, false
	}
	snap := groupSnapshot{
		name:     g.name(),
		targetID: pm.TargetGroupID,
		members:  map[string]string{},
		pushed:   map[string]bool{},
	}
	if pm.targetName != "" && pm.TargetGroupID == "" {
		snap.name = pm.targetName
	}
	for uid := range g.Members {
		au := a.userAssign[uid]
		u := s.users[uid]
		if au == nil || au.ExternalID == "" || au.Deactivated || u == nil {
			continue
		}
		snap.members[au.ExternalID] = s.appUserName(a, u)
	}
	for id := range pm.pushed {
		snap.pushed[id] = true
	}
	return snap, true
}

// pushGroup creates (or links) the group, then pushes its membership: PUT with the full
// member list for custom apps, or PATCH with a path-less replace of id and displayName and
// add/remove member operations for catalogue-style apps.
func (s *Sim) pushGroup(ctx context.Context, t *task, p Provisioning) (bool, error) {
	if !p.PushGroups {
		return true, nil
	}
	snap, ok := s.snapshotGroup(t.appID, t.mappingID)
	if !ok {
		return true, nil
	}
	if snap.targetID == "" {
		id, err := s.createOrLinkGroup(ctx, t, snap.name)
		if err != nil {
			s.pushFailed(t, err)
			return false, err
		}
		snap.targetID = id
	}
	rel := "/Groups/" + url.PathEscape(snap.targetID)
	var err error
	if p.PatchStyle {
		_, err = s.scimCall(ctx, t.appID, t.kind, t.groupID, http.MethodPatch, rel, groupPatch(snap))
	} else {
		members := []any{}
		for _, id := range sortedKeys(snap.members) {
			members = append(members, map[string]any{"value": id, "display": snap.members[id]})
		}
		_, err = s.scimCall(ctx, t.appID, t.kind, t.groupID, http.MethodPut, rel, map[string]any{
			"schemas": []any{scimGroupURN}, "id": snap.targetID, "displayName": snap.name, "members": members})
	}
	if err != nil {
		s.pushFailed(t, err)
		return false, err
	}
	s.mu.Lock()
	if a, ok := s.apps[t.appID]; ok {
		if pm, ok := a.pushMappings[t.mappingID]; ok {
			pm.pushed = map[string]bool{}
			for id := range snap.members {
				pm.pushed[id] = true
			}
			pm.LastPush = s.now().UTC().Format(time.RFC3339)
			pm.ErrorSummary = ""
		}
	}
	s.mu.Unlock()
	return false, nil
}

func groupPatch(snap groupSnapshot) map[string]any {
	ops := []any{
		map[string]any{
			"op":    "replace",
			"value": map[string]any{"id": snap.targetID, "displayName": snap.name},
		},
	}
	var add []any
	for _, id := range sortedKeys(snap.members) {
		if !snap.pushed[id] {
			add = append(add, map[string]any{"value": id, "display": snap.members[id]})
		}
	}
	if len(add) > 0 {
		ops = append(ops, map[string]any{"op": "add", "path": "members", "value": add})
	}
	for _, id := range sortedKeys(snap.pushed) {
		if _, still := snap.members[id]; !still {
			ops = append(ops, map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", id)})
		}
	}
	return map[string]any{"schemas": []any{scimPatchURN}, "Operations": ops}
}

func (s *Sim) createOrLinkGroup(ctx context.Context, t *task, name string) (string, error) {
	found, err := s.scimCall(ctx, t.appID, t.kind, t.groupID, http.MethodGet,
		"/Groups?"+lookupQuery(fmt.Sprintf("displayName eq %q", name)), nil)
	if err != nil {
		return "", err
	}
	id := ""
	if res := asSlice(found.body["Resources"]); len(res) > 0 {
		id = strOf(objOf(res[0])["id"])
	} else {
		created, err := s.scimCall(ctx, t.appID, t.kind, t.groupID, http.MethodPost, "/Groups",
			map[string]any{"schemas": []any{scimGroupURN}, "displayName": name, "members": []any{}})
		if err != nil {
			return "", err
		}
		id = strOf(created.body["id"])
		if created.status != http.StatusCreated || id == "" {
			err := fmt.Errorf("POST /Groups answered %d without the created group", created.status)
			s.markLastFailed(err)
			return "", err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[t.appID]; ok {
		if pm, ok := a.pushMappings[t.mappingID]; ok {
			pm.TargetGroupID = id
		}
	}
	return id, nil
}

func (s *Sim) pushFailed(t *task, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[t.appID]; ok {
		if pm, ok := a.pushMappings[t.mappingID]; ok {
			pm.ErrorSummary = err.Error()
		}
	}
}
