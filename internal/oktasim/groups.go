package oktasim

import (
	"net/http"
	"strings"
	"time"
)

// group is an Okta group (OKTA_GROUP, or the BUILT_IN Everyone group).
type group struct {
	ID                    string
	Type                  string
	Profile               map[string]any
	Members               map[string]bool
	Created               time.Time
	LastUpdated           time.Time
	LastMembershipUpdated time.Time
	order                 int64
}

func (g *group) name() string { return strOf(g.Profile["name"]) }

func (s *Sim) groupRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/groups", s.listHandler("okta.groups.read", s.listGroups))
	mux.Handle("POST /api/v1/groups", s.api("okta.groups.manage", s.createGroupAPI))
	mux.Handle("GET /api/v1/groups/{groupId}", s.api("okta.groups.read", s.getGroup))
	mux.Handle("PUT /api/v1/groups/{groupId}", s.api("okta.groups.manage", s.updateGroup))
	mux.Handle("DELETE /api/v1/groups/{groupId}", s.api("okta.groups.manage", s.deleteGroup))
	mux.Handle("GET /api/v1/groups/{groupId}/users", s.listHandler("okta.groups.read", s.listGroupUsers))
	mux.Handle(
		"PUT /api/v1/groups/{groupId}/users/{userId}",
		s.api("okta.groups.manage", s.groupMember(true)),
	)
	mux.Handle(
		"DELETE /api/v1/groups/{groupId}/users/{userId}",
		s.api("okta.groups.manage", s.groupMember(false)),
	)
}

// everyone returns the BUILT_IN Everyone group, creating it on first use; callers hold s.mu.
func (s *Sim) everyone() *group {
	for _, g := range s.groups {
		if g.Type == "BUILT_IN" {
			return g
		}
	}
	now := s.now()
	g := &group{ID: newID("00g"), Type: "BUILT_IN", Members: map[string]bool{},
		Profile: map[string]any{"name": "Everyone", "description": "All users in your organization"},
		Created: now, LastUpdated: now, LastMembershipUpdated: now, order: s.nextOrder()}
	s.groups[g.ID] = g
	return g
}

func (s *Sim) renderGroup(g *group) map[string]any {
	return map[string]any{
		"id":                    g.ID,
		"type":                  g.Type,
		"created":               g.Created.UTC().Format(time.RFC3339),
		"lastUpdated":           g.LastUpdated.UTC().Format(time.RFC3339),
		"lastMembershipUpdated": g.LastMembershipUpdated.UTC().Format(time.RFC3339),
		"objectClass":           []any{"okta:user_group"},
		"profile":               clone(g.Profile),
		"_links": map[string]any{
			"self": map[string]any{"href": s.URL() + "/api/v1/groups/" + g.ID},
		},
	}
}

func (s *Sim) lookupGroup(id string) (*group, error) {
	if g, ok := s.groups[id]; ok {
		return g, nil
	}
	return nil, errNotFound(id, "UserGroup")
}

func (s *Sim) groupsInOrder() []*group {
	return valuesBy(s.groups, func(g *group) int64 { return g.order })
}

func (s *Sim) listGroups(w http.ResponseWriter, r *http.Request) error {
	f, err := filterParam(r)
	if err != nil {
		return err
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	s.mu.Lock()
	var docs []map[string]any
	for _, g := range s.groupsInOrder() {
		if q != "" && !strings.HasPrefix(strings.ToLower(g.name()), q) {
			continue
		}
		if !groupMatches(g, f) {
			continue
		}
		docs = append(docs, s.renderGroup(g))
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 10000, 10000)
}

func groupMatches(g *group, f map[string]string) bool {
	return matchesFilter(f, func(key string) (string, bool) {
		switch key {
		case "id":
			return g.ID, true
		case "type":
			return g.Type, true
		case "profile.name":
			return g.name(), true
		}
		return "", false
	})
}

func (s *Sim) getGroup(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.lookupGroup(r.PathValue("groupId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderGroup(g), nil
}

// validateGroupProfile requires a name that no other group has.
func (s *Sim) validateGroupProfile(p map[string]any, self *group) error {
	name := strings.TrimSpace(strOf(p["name"]))
	if name == "" {
		return errValidation("profile", "name: The field cannot be left blank")
	}
	for _, g := range s.groups {
		if g != self && strings.EqualFold(g.name(), name) {
			return errValidation(
				"profile",
				"name: An object with this field already exists in the current organization",
			)
		}
	}
	return nil
}

// createGroup stores an OKTA_GROUP; callers hold s.mu.
func (s *Sim) createGroup(profile map[string]any) (*group, error) {
	s.everyone()
	if err := s.validateGroupProfile(profile, nil); err != nil {
		return nil, err
	}
	now := s.now()
	g := &group{ID: newID("00g"), Type: "OKTA_GROUP", Members: map[string]bool{},
		Profile: clone(
			profile,
		), Created: now, LastUpdated: now, LastMembershipUpdated: now, order: s.nextOrder()}
	s.groups[g.ID] = g
	return g, nil
}

func (s *Sim) createGroupAPI(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.createGroup(objOf(body["profile"]))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderGroup(g), nil
}

func (s *Sim) updateGroup(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.lookupGroup(r.PathValue("groupId"))
	if err != nil {
		return 0, nil, err
	}
	if g.Type != "OKTA_GROUP" {
		return 0, nil, errValidation("group", "You cannot modify a group that is not an Okta group")
	}
	p := objOf(body["profile"])
	if err := s.validateGroupProfile(p, g); err != nil {
		return 0, nil, err
	}
	g.Profile = clone(p)
	g.LastUpdated = s.now()
	s.groupChanged(g)
	return http.StatusOK, s.renderGroup(g), nil
}

func (s *Sim) deleteGroup(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.lookupGroup(r.PathValue("groupId"))
	if err != nil {
		return 0, nil, err
	}
	if g.Type != "OKTA_GROUP" {
		return 0, nil, errValidation("group", "You cannot delete a group that is not an Okta group")
	}
	for _, a := range s.apps {
		if _, ok := a.groupAssign[g.ID]; ok {
			s.unassignGroup(a, g)
		}
	}
	delete(s.groups, g.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Sim) listGroupUsers(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	g, err := s.lookupGroup(r.PathValue("groupId"))
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var docs []map[string]any
	for _, u := range s.usersInOrder() {
		if g.Members[u.ID] {
			docs = append(docs, s.renderUser(u))
		}
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 1000, 1000)
}

func (s *Sim) groupMember(add bool) apiFunc {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		g, err := s.lookupGroup(r.PathValue("groupId"))
		if err != nil {
			return 0, nil, err
		}
		u, err := s.lookupUser(r.PathValue("userId"))
		if err != nil {
			return 0, nil, err
		}
		if g.Type != "OKTA_GROUP" {
			return 0, nil, errValidation("group", "The membership of a BUILT_IN group is managed by Okta")
		}
		if add {
			s.addMember(g, u)
		} else {
			s.removeMember(g, u)
		}
		return http.StatusNoContent, nil, nil
	}
}

// addMember and removeMember change membership and what follows from it: app assignments
// through the group and group push membership updates. Callers hold s.mu.
func (s *Sim) addMember(g *group, u *user) {
	if g.Members[u.ID] {
		return
	}
	g.Members[u.ID] = true
	g.LastMembershipUpdated = s.now()
	s.membershipChanged(g, u)
}

func (s *Sim) removeMember(g *group, u *user) {
	if !g.Members[u.ID] {
		return
	}
	delete(g.Members, u.ID)
	g.LastMembershipUpdated = s.now()
	s.membershipChanged(g, u)
}
