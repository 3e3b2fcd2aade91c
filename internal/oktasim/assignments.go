package oktasim

import (
	"net/http"
	"slices"
	"time"
)

// groupAssignment is a group assigned to an app.
type groupAssignment struct {
	GroupID     string
	Priority    int64
	Profile     map[string]any
	LastUpdated time.Time
	order       int64
}

// appUser is a user's assignment to an app, directly (scope USER) or through groups.
type appUser struct {
	UserID  string
	Direct  bool
	Groups  map[string]bool
	Created time.Time
	// ExternalID is the id the SCIM server gave the user; empty until pushed.
	ExternalID  string
	SyncState   string
	LastSync    time.Time
	LastUpdated time.Time
	// Deactivated is true once the user was pushed inactive.
	Deactivated bool
	order       int64
}

func (au *appUser) scope() string {
	if au.Direct {
		return "USER"
	}
	return "GROUP"
}

func (au *appUser) assigned() bool { return au.Direct || len(au.Groups) > 0 }

func (s *Sim) assignmentRoutes(mux *http.ServeMux) {
	g := "/api/v1/apps/{appId}/groups"
	mux.Handle("GET "+g, s.listHandler("okta.apps.read", s.listGroupAssignments))
	mux.Handle("GET "+g+"/{groupId}", s.api("okta.apps.read", s.getGroupAssignment))
	mux.Handle("PUT "+g+"/{groupId}", s.api("okta.apps.manage", s.putGroupAssignment))
	mux.Handle("DELETE "+g+"/{groupId}", s.api("okta.apps.manage", s.deleteGroupAssignment))
	u := "/api/v1/apps/{appId}/users"
	mux.Handle("GET "+u, s.listHandler("okta.apps.read", s.listAppUsers))
	mux.Handle("POST "+u, s.api("okta.apps.manage", s.assignUserAPI))
	mux.Handle("GET "+u+"/{userId}", s.api("okta.apps.read", s.getAppUser))
	mux.Handle("POST "+u+"/{userId}", s.api("okta.apps.manage", s.getAppUser))
	mux.Handle("DELETE "+u+"/{userId}", s.api("okta.apps.manage", s.deleteAppUser))
}

func (s *Sim) renderGroupAssignment(a *app, ga *groupAssignment) map[string]any {
	profile := ga.Profile
	if profile == nil {
		profile = map[string]any{}
	}
	return map[string]any{
		"id":          ga.GroupID,
		"priority":    ga.Priority,
		"profile":     clone(profile),
		"lastUpdated": ga.LastUpdated.UTC().Format(time.RFC3339),
		"_links": map[string]any{
			"app":   map[string]any{"href": s.URL() + "/api/v1/apps/" + a.id()},
			"group": map[string]any{"href": s.URL() + "/api/v1/groups/" + ga.GroupID},
		},
	}
}

func (s *Sim) listGroupAssignments(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		s.mu.Unlock()
		return err
	}
	gas := make([]*groupAssignment, 0, len(a.groupAssign))
	for _, ga := range a.groupAssign {
		gas = append(gas, ga)
	}
	slices.SortFunc(gas, func(x, y *groupAssignment) int { return int(x.order - y.order) })
	docs := make([]map[string]any, 0, len(gas))
	for _, ga := range gas {
		docs = append(docs, s.renderGroupAssignment(a, ga))
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 20, 200)
}

func (s *Sim) getGroupAssignment(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	ga, ok := a.groupAssign[r.PathValue("groupId")]
	if !ok {
		return 0, nil, errNotFound(r.PathValue("groupId"), "ApplicationGroupAssignment")
	}
	return http.StatusOK, s.renderGroupAssignment(a, ga), nil
}

func (s *Sim) putGroupAssignment(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if r.ContentLength != 0 {
		if err := decode(r, &body); err != nil {
			return 0, nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	g, err := s.lookupGroup(r.PathValue("groupId"))
	if err != nil {
		return 0, nil, err
	}
	ga := s.assignGroup(a, g)
	if p, ok := body["priority"].(float64); ok {
		ga.Priority = int64(p)
	}
	if p := objOf(body["profile"]); p != nil {
		ga.Profile = p
	}
	return http.StatusOK, s.renderGroupAssignment(a, ga), nil
}

// assignGroup assigns a group and, through it, its members; callers hold s.mu.
func (s *Sim) assignGroup(a *app, g *group) *groupAssignment {
	if ga, ok := a.groupAssign[g.ID]; ok {
		return ga
	}
	ga := &groupAssignment{
		GroupID:     g.ID,
		Priority:    int64(len(a.groupAssign)),
		LastUpdated: s.now(),
		order:       s.nextOrder(),
	}
	a.groupAssign[g.ID] = ga
	for _, u := range s.usersInOrder() {
		if g.Members[u.ID] {
			s.assignUser(a, u, g.ID)
		}
	}
	return ga
}

// unassignGroup removes a group assignment and the assignments that came only from it.
func (s *Sim) unassignGroup(a *app, g *group) {
	delete(a.groupAssign, g.ID)
	for _, u := range s.usersInOrder() {
		if au, ok := a.userAssign[u.ID]; ok && au.Groups[g.ID] {
			s.unassignUser(a, u, g.ID)
		}
	}
}

func (s *Sim) deleteGroupAssignment(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	g, err := s.lookupGroup(r.PathValue("groupId"))
	if err != nil {
		return 0, nil, err
	}
	if _, ok := a.groupAssign[g.ID]; !ok {
		return 0, nil, errNotFound(g.ID, "ApplicationGroupAssignment")
	}
	s.unassignGroup(a, g)
	return http.StatusNoContent, nil, nil
}

// assignUser records an assignment (viaGroup empty for a direct one) and queues the create
// push when the user is newly assigned; callers hold s.mu.
func (s *Sim) assignUser(a *app, u *user, viaGroup string) *appUser {
	au, ok := a.userAssign[u.ID]
	if !ok {
		now := s.now()
		au = &appUser{
			UserID:      u.ID,
			Groups:      map[string]bool{},
			Created:     now,
			LastUpdated: now,
			order:       s.nextOrder(),
		}
		a.userAssign[u.ID] = au
	}
	wasAssigned := au.assigned()
	if viaGroup == "" {
		au.Direct = true
	} else {
		au.Groups[viaGroup] = true
	}
	if !wasAssigned {
		s.engine.userAssigned(a, u)
	}
	return au
}

// unassignUser removes one source of an assignment; the last one queues the deactivation.
func (s *Sim) unassignUser(a *app, u *user, viaGroup string) {
	au, ok := a.userAssign[u.ID]
	if !ok {
		return
	}
	if viaGroup == "" {
		au.Direct = false
	} else {
		delete(au.Groups, viaGroup)
	}
	if au.assigned() {
		return
	}
	s.engine.userUnassigned(a, u)
	if au.ExternalID == "" {
		delete(a.userAssign, u.ID)
	}
}

func (s *Sim) renderAppUser(a *app, u *user, au *appUser) map[string]any {
	status := "STAGED"
	if au.ExternalID != "" {
		status = "PROVISIONED"
	}
	if !au.assigned() {
		status = "INACTIVE"
	}
	syncState := au.SyncState
	if syncState == "" {
		syncState = "DISABLED"
		if a.provisioning != nil {
			syncState = "PENDING"
		}
	}
	out := map[string]any{
		"id":          u.ID,
		"scope":       au.scope(),
		"status":      status,
		"syncState":   syncState,
		"created":     au.Created.UTC().Format(time.RFC3339),
		"lastUpdated": au.LastUpdated.UTC().Format(time.RFC3339),
		"credentials": map[string]any{"userName": s.appUserName(a, u)},
		"profile":     s.appUserProfile(a, u),
		"_links": map[string]any{
			"app":  map[string]any{"href": s.URL() + "/api/v1/apps/" + a.id()},
			"user": map[string]any{"href": s.URL() + "/api/v1/users/" + u.ID},
		},
	}
	if au.ExternalID != "" {
		out["externalId"] = au.ExternalID
		out["lastSync"] = au.LastSync.UTC().Format(time.RFC3339)
	}
	return out
}

func (s *Sim) listAppUsers(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var docs []map[string]any
	for _, u := range s.usersInOrder() {
		if au, ok := a.userAssign[u.ID]; ok && au.assigned() {
			docs = append(docs, s.renderAppUser(a, u, au))
		}
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 50, 500)
}

func (s *Sim) assignUserAPI(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	u, err := s.lookupUser(strOf(body["id"]))
	if err != nil {
		return 0, nil, err
	}
	au := s.assignUser(a, u, "")
	return http.StatusOK, s.renderAppUser(a, u, au), nil
}

// lookupAppUser finds the app, the user and the user's live assignment to the app named in
// the request path, or returns the 404 for whichever is missing; callers hold s.mu.
func (s *Sim) lookupAppUser(r *http.Request) (*app, *user, *appUser, error) {
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := s.lookupUser(r.PathValue("userId"))
	if err != nil {
		return nil, nil, nil, err
	}
	au, ok := a.userAssign[u.ID]
	if !ok || !au.assigned() {
		return nil, nil, nil, errNotFound(u.ID, "AppUser")
	}
	return a, u, au, nil
}

func (s *Sim) getAppUser(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, u, au, err := s.lookupAppUser(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderAppUser(a, u, au), nil
}

func (s *Sim) deleteAppUser(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, u, au, err := s.lookupAppUser(r)
	if err != nil {
		return 0, nil, err
	}
	if !au.Direct {
		return 0, nil, errValidation("app user",
			"A user assigned through a group cannot be unassigned individually; remove them from the group")
	}
	s.unassignUser(a, u, "")
	return http.StatusNoContent, nil, nil
}

// userChanged queues the pushes a profile or status change causes; callers hold s.mu.
func (s *Sim) userChanged(u *user) {
	for _, a := range s.appsInOrder() {
		au, ok := a.userAssign[u.ID]
		if !ok || !au.assigned() {
			continue
		}
		s.engine.userUpdated(a, u)
	}
}

// membershipChanged follows a group membership change into app assignments and group
// pushes; callers hold s.mu.
func (s *Sim) membershipChanged(g *group, u *user) {
	for _, a := range s.appsInOrder() {
		if _, ok := a.groupAssign[g.ID]; ok {
			if g.Members[u.ID] {
				s.assignUser(a, u, g.ID)
			} else {
				s.unassignUser(a, u, g.ID)
			}
		}
		s.engine.groupMembersChanged(a, g)
	}
}

// groupChanged queues group pushes after a rename; callers hold s.mu.
func (s *Sim) groupChanged(g *group) {
	for _, a := range s.appsInOrder() {
		s.engine.groupMembersChanged(a, g)
	}
}
