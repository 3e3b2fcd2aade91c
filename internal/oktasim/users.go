package oktasim

import (
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"
)

// user is an Okta user.
type user struct {
	ID            string
	Status        string
	Created       time.Time
	Activated     time.Time
	StatusChanged time.Time
	LastUpdated   time.Time
	Profile       map[string]any
	order         int64
}

func (u *user) login() string { return strOf(u.Profile["login"]) }

// userBaseProperties are the base properties of Okta's default user profile.
var userBaseProperties = []string{"login", "email", "firstName", "lastName", "middleName",
	"honorificPrefix", "honorificSuffix", "title", "displayName", "nickName", "profileUrl",
	"secondEmail", "mobilePhone", "primaryPhone", "streetAddress", "city", "state", "zipCode",
	"countryCode", "postalAddress", "preferredLanguage", "locale", "timezone", "userType",
	"employeeNumber", "costCenter", "organization", "division", "department", "managerId", "manager"}

func (s *Sim) directoryRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/users", s.listHandler("okta.users.read", s.listUsers))
	mux.Handle("POST /api/v1/users", s.api("okta.users.manage", s.createUserAPI))
	mux.Handle("GET /api/v1/users/{userId}", s.api("okta.users.read", s.getUser))
	mux.Handle("POST /api/v1/users/{userId}", s.api("okta.users.manage", s.updateUser(true)))
	mux.Handle("PUT /api/v1/users/{userId}", s.api("okta.users.manage", s.updateUser(false)))
	mux.Handle("DELETE /api/v1/users/{userId}", s.api("okta.users.manage", s.deleteUser))
	mux.Handle("GET /api/v1/users/{userId}/groups", s.api("okta.users.read", s.userGroups))
	for _, op := range []string{"activate", "deactivate", "suspend", "unsuspend"} {
		mux.Handle(
			"POST /api/v1/users/{userId}/lifecycle/"+op,
			s.api("okta.users.manage", s.userLifecycle(op)),
		)
	}
	mux.Handle("GET /api/v1/meta/types/user", s.api("okta.userTypes.read", s.listUserTypes))
	s.groupRoutes(mux)
}

func (s *Sim) renderUser(u *user) map[string]any {
	out := map[string]any{
		"id":            u.ID,
		"status":        u.Status,
		"created":       u.Created.UTC().Format(time.RFC3339),
		"statusChanged": u.StatusChanged.UTC().Format(time.RFC3339),
		"lastUpdated":   u.LastUpdated.UTC().Format(time.RFC3339),
		"profile":       clone(u.Profile),
		"credentials":   map[string]any{"provider": map[string]any{"type": "OKTA", "name": "OKTA"}},
		"type":          map[string]any{"id": s.userType},
		"_links":        map[string]any{"self": map[string]any{"href": s.URL() + "/api/v1/users/" + u.ID}},
	}
	if !u.Activated.IsZero() {
		out["activated"] = u.Activated.UTC().Format(time.RFC3339)
	}
	return out
}

// lookupUser finds a user by id or login (case-insensitive); callers hold s.mu.
func (s *Sim) lookupUser(idOrLogin string) (*user, error) {
	if u, ok := s.users[idOrLogin]; ok {
		return u, nil
	}
	for _, u := range s.users {
		if strings.EqualFold(u.login(), idOrLogin) {
			return u, nil
		}
	}
	return nil, errNotFound(idOrLogin, "User")
}

func (s *Sim) usersInOrder() []*user {
	return valuesBy(s.users, func(u *user) int64 { return u.order })
}

// listUsers serves GET /api/v1/users with q, filter and search (eq clauses only).
func (s *Sim) listUsers(w http.ResponseWriter, r *http.Request) error {
	f, err := filterParam(r)
	if err != nil {
		return err
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	s.mu.Lock()
	var docs []map[string]any
	for _, u := range s.usersInOrder() {
		if len(f) == 0 && u.Status == "DEPROVISIONED" {
			continue
		}
		if q != "" && !userMatchesQ(u, q) {
			continue
		}
		if !userMatches(u, f) {
			continue
		}
		docs = append(docs, s.renderUser(u))
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 200, 200)
}

func userMatchesQ(u *user, q string) bool {
	for _, k := range []string{"login", "email", "firstName", "lastName"} {
		if strings.HasPrefix(strings.ToLower(strOf(u.Profile[k])), q) {
			return true
		}
	}
	return false
}

func userMatches(u *user, f map[string]string) bool {
	return matchesFilter(f, func(key string) (string, bool) {
		switch {
		case key == "id":
			return u.ID, true
		case key == "status":
			return u.Status, true
		case strings.HasPrefix(key, "profile."):
			return fmt.Sprint(u.Profile[strings.TrimPrefix(key, "profile.")]), true
		}
		return "", false
	})
}

func (s *Sim) getUser(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.lookupUser(r.PathValue("userId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderUser(u), nil
}

// validateProfile applies Okta's default user profile rules: login (email format) and email
// required and valid, firstName and lastName required, login unique, every property defined.
func (s *Sim) validateProfile(p map[string]any, self *user) error {
	var causes []string
	for _, k := range []string{"login", "email", "firstName", "lastName"} {
		if strings.TrimSpace(strOf(p[k])) == "" {
			causes = append(causes, k+": The field cannot be left blank")
		}
	}
	if l := strOf(p["login"]); l != "" {
		if _, err := mail.ParseAddress(l); err != nil {
			causes = append(causes, "login: Username must be in the form of an email address")
		}
		for _, u := range s.users {
			if u != self && strings.EqualFold(u.login(), l) {
				causes = append(
					causes,
					"login: An object with this field already exists in the current organization",
				)
			}
		}
	}
	if e := strOf(p["email"]); e != "" {
		if _, err := mail.ParseAddress(e); err != nil {
			causes = append(causes, "email: Does not match required pattern")
		}
	}
	for _, k := range sortedKeys(p) {
		if !contains(userBaseProperties, k) && s.userCustomProperty(k) == nil {
			causes = append(causes, fmt.Sprintf("Property name '%s' is not defined in profile", k))
		}
	}
	if len(causes) > 0 {
		return errValidation("profile", causes...)
	}
	return nil
}

// CreateUser adds a user the way POST /api/v1/users does; activate makes it ACTIVE.
func (s *Sim) CreateUser(profile map[string]any, activate bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status := "STAGED"
	if activate {
		status = "ACTIVE"
	}
	u, err := s.createUser(profile, status)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// createUser validates and stores a user; callers hold s.mu.
func (s *Sim) createUser(profile map[string]any, status string) (*user, error) {
	if err := s.validateProfile(profile, nil); err != nil {
		return nil, err
	}
	now := s.now()
	u := &user{ID: newID("00u"), Status: status, Created: now, StatusChanged: now,
		LastUpdated: now, Profile: clone(profile), order: s.nextOrder()}
	if status == "ACTIVE" || status == "PROVISIONED" {
		u.Activated = now
	}
	s.users[u.ID] = u
	if eg := s.everyone(); eg != nil {
		eg.Members[u.ID] = true
	}
	return u, nil
}

func (s *Sim) createUserAPI(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status := "STAGED"
	if queryBool(r, "activate", true) {
		status = "PROVISIONED"
		if path(body, "credentials", "password", "value") != nil {
			status = "ACTIVE"
		}
	}
	u, err := s.createUser(objOf(body["profile"]), status)
	if err != nil {
		return 0, nil, err
	}
	for _, gid := range strList(body["groupIds"]) {
		if g, ok := s.groups[gid]; ok {
			s.addMember(g, u)
		}
	}
	return http.StatusOK, s.renderUser(u), nil
}

// updateUser serves POST (partial) and PUT (full) profile updates.
func (s *Sim) updateUser(partial bool) apiFunc {
	return func(r *http.Request) (int, any, error) {
		body := map[string]any{}
		if err := decode(r, &body); err != nil {
			return 0, nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		u, err := s.lookupUser(r.PathValue("userId"))
		if err != nil {
			return 0, nil, err
		}
		if err := s.setProfile(u, objOf(body["profile"]), partial); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.renderUser(u), nil
	}
}

// setProfile changes a user's profile and queues pushes to provisioned apps; callers hold s.mu.
func (s *Sim) setProfile(u *user, changes map[string]any, partial bool) error {
	next := map[string]any{}
	if partial {
		next = clone(u.Profile)
	}
	for k, v := range changes {
		if v == nil {
			delete(next, k)
			continue
		}
		next[k] = v
	}
	if err := s.validateProfile(next, u); err != nil {
		return err
	}
	u.Profile = next
	u.LastUpdated = s.now()
	s.userChanged(u)
	return nil
}

func (s *Sim) deleteUser(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.lookupUser(r.PathValue("userId"))
	if err != nil {
		return 0, nil, err
	}
	if u.Status != "DEPROVISIONED" {
		s.setUserStatus(u, "DEPROVISIONED")
		return http.StatusNoContent, nil, nil
	}
	delete(s.users, u.ID)
	for _, g := range s.groups {
		delete(g.Members, u.ID)
	}
	for _, a := range s.apps {
		delete(a.userAssign, u.ID)
	}
	return http.StatusNoContent, nil, nil
}

func (s *Sim) userLifecycle(op string) apiFunc {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		u, err := s.lookupUser(r.PathValue("userId"))
		if err != nil {
			return 0, nil, err
		}
		want, from := map[string]string{
			"activate": "ACTIVE", "deactivate": "DEPROVISIONED", "suspend": "SUSPENDED", "unsuspend": "ACTIVE",
		}[op], map[string][]string{
			"activate": {"STAGED", "PROVISIONED", "DEPROVISIONED"},
			"deactivate": {
				"STAGED", "PROVISIONED", "ACTIVE", "SUSPENDED", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED",
			},
			"suspend":   {"ACTIVE"},
			"unsuspend": {"SUSPENDED"},
		}[op]
		if !contains(from, u.Status) {
			return 0, nil, newAPIError(
				http.StatusForbidden,
				"E0000016",
				"Activation failed because the user is already active",
				fmt.Sprintf("user status %s does not allow %s", u.Status, op),
			)
		}
		s.setUserStatus(u, want)
		return http.StatusOK, map[string]any{}, nil
	}
}

// setUserStatus changes a user's status and queues the pushes it causes; callers hold s.mu.
func (s *Sim) setUserStatus(u *user, status string) {
	u.Status = status
	now := s.now()
	u.StatusChanged, u.LastUpdated = now, now
	if status == "ACTIVE" && u.Activated.IsZero() {
		u.Activated = now
	}
	s.userChanged(u)
}

func (s *Sim) userGroups(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.lookupUser(r.PathValue("userId"))
	if err != nil {
		return 0, nil, err
	}
	out := []any{}
	for _, g := range s.groupsInOrder() {
		if g.Members[u.ID] {
			out = append(out, s.renderGroup(g))
		}
	}
	return http.StatusOK, out, nil
}

func (s *Sim) listUserTypes(_ *http.Request) (int, any, error) {
	return http.StatusOK, []any{map[string]any{
		"id": s.userType, "name": "user", "displayName": "User", "default": true,
		"description": "Okta User Profile",
		"_links": map[string]any{"schema": map[string]any{
			"href": s.URL() + "/api/v1/meta/schemas/user/default"}},
	}}, nil
}
