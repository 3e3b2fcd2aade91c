package oktasim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// profileMapping maps one profile onto another with Okta expressions.
type profileMapping struct {
	id                               string
	sourceID, sourceType, sourceName string
	targetID, targetType, targetName string
	props                            map[string]map[string]any
	order                            int64
}

func (s *Sim) mappingRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/mappings", s.listHandler("okta.profileMappings.read", s.listMappings))
	mux.Handle("GET /api/v1/mappings/{mappingId}", s.api("okta.profileMappings.read", s.getMapping))
	mux.Handle("POST /api/v1/mappings/{mappingId}", s.api("okta.profileMappings.manage", s.updateMapping))
}

// createAppMappings makes the two mappings Okta creates with an app: Okta user to app user
// (what is pushed) and app user to Okta user (what is imported). Callers hold s.mu.
func (s *Sim) createAppMappings(a *app) {
	push := &profileMapping{
		id: newID("prm"), sourceID: s.userType, sourceType: "user", sourceName: "user",
		targetID: a.id(), targetType: "appuser", targetName: a.name(), order: s.nextOrder(),
		props: map[string]map[string]any{},
	}
	pull := &profileMapping{
		id: newID("prm"), sourceID: a.id(), sourceType: "appuser", sourceName: a.name(),
		targetID: s.userType, targetType: "user", targetName: "user", order: s.nextOrder(),
		props: map[string]map[string]any{},
	}
	if a.isCustomSAML() {
		for target, expr := range map[string]string{"givenName": "user.firstName", "familyName": "user.lastName",
			"email": "user.email", "displayName": "user.displayName"} {
			push.props[target] = map[string]any{"expression": expr, "pushStatus": "PUSH"}
		}
		for target, expr := range map[string]string{"firstName": "appuser.givenName", "lastName": "appuser.familyName",
			"email": "appuser.email"} {
			pull.props[target] = map[string]any{"expression": expr, "pushStatus": "DONT_PUSH"}
		}
	}
	s.mappings[push.id] = push
	s.mappings[pull.id] = pull
}

func (s *Sim) renderMapping(m *profileMapping, withProps bool) map[string]any {
	end := func(id, typ, name string) map[string]any {
		href := s.URL() + "/api/v1/apps/" + id
		if typ == "user" {
			href = s.URL() + "/api/v1/meta/types/user/" + id
		}
		return map[string]any{"id": id, "type": typ, "name": name,
			"_links": map[string]any{"self": map[string]any{"href": href}}}
	}
	out := map[string]any{
		"id":     m.id,
		"source": end(m.sourceID, m.sourceType, m.sourceName),
		"target": end(m.targetID, m.targetType, m.targetName),
		"_links": map[string]any{"self": map[string]any{"href": s.URL() + "/api/v1/mappings/" + m.id}},
	}
	if withProps {
		props := map[string]any{}
		for k, v := range m.props {
			props[k] = clone(v)
		}
		out["properties"] = props
	}
	return out
}

func (s *Sim) mappingsInOrder() []*profileMapping {
	return valuesBy(s.mappings, func(m *profileMapping) int64 { return m.order })
}

// listMappings serves GET /api/v1/mappings filtered by sourceId and/or targetId.
func (s *Sim) listMappings(w http.ResponseWriter, r *http.Request) error {
	src, tgt := r.URL.Query().Get("sourceId"), r.URL.Query().Get("targetId")
	s.mu.Lock()
	var docs []map[string]any
	for _, m := range s.mappingsInOrder() {
		if (src != "" && m.sourceID != src) || (tgt != "" && m.targetID != tgt) {
			continue
		}
		docs = append(docs, s.renderMapping(m, false))
	}
	s.mu.Unlock()
	return list(s, r, w, docs, func(d map[string]any) string { return strOf(d["id"]) }, 20, 200)
}

func (s *Sim) getMapping(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.mappings[r.PathValue("mappingId")]
	if !ok {
		return 0, nil, errNotFound(r.PathValue("mappingId"), "PropertyMapping")
	}
	return http.StatusOK, s.renderMapping(m, true), nil
}

// updateMapping serves the partial update of a mapping's properties. Targets must exist in
// the target profile and expressions must parse and name existing source properties.
func (s *Sim) updateMapping(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.mappings[r.PathValue("mappingId")]
	if !ok {
		return 0, nil, errNotFound(r.PathValue("mappingId"), "PropertyMapping")
	}
	changes := objOf(body["properties"])
	var causes []string
	for _, target := range sortedKeys(changes) {
		if !s.profileHas(m.targetType, m.targetID, target) {
			causes = append(
				causes,
				fmt.Sprintf("properties.%s: Property does not exist in the target profile", target),
			)
			continue
		}
		if changes[target] == nil {
			continue
		}
		def := objOf(changes[target])
		e, err := parseExpression(strOf(def["expression"]))
		if err != nil {
			causes = append(causes, fmt.Sprintf("properties.%s: %v", target, err))
			continue
		}
		for _, ref := range e.refs() {
			if !s.profileHas(ref.kind, m.sourceID, ref.name) {
				causes = append(
					causes,
					fmt.Sprintf(
						"properties.%s: %s.%s is not a property of the source profile",
						target,
						ref.kind,
						ref.name,
					),
				)
			}
		}
		if ps := strOf(def["pushStatus"]); ps != "" && ps != "PUSH" && ps != "DONT_PUSH" {
			causes = append(
				causes,
				fmt.Sprintf("properties.%s: pushStatus %q is not PUSH or DONT_PUSH", target, ps),
			)
		}
	}
	if len(causes) > 0 {
		return 0, nil, errValidation("updateMapping", causes...)
	}
	for _, target := range sortedKeys(changes) {
		if changes[target] == nil {
			delete(m.props, target)
			continue
		}
		def := objOf(changes[target])
		ps := strOf(def["pushStatus"])
		if ps == "" {
			ps = "PUSH"
		}
		m.props[target] = map[string]any{"expression": strOf(def["expression"]), "pushStatus": ps}
	}
	return http.StatusOK, s.renderMapping(m, true), nil
}

// profileHas reports whether a user or app user profile defines a property.
func (s *Sim) profileHas(kind, id, name string) bool {
	switch kind {
	case "user":
		return contains(userBaseProperties, name) || s.userCustomProperty(name) != nil
	case "appuser":
		a, ok := s.apps[id]
		return ok && a.hasProperty(name, s.now())
	default:
		return false
	}
}

// expression is the subset of the Okta Expression Language the simulator evaluates:
// property references (user.x, appuser.x), string literals and + concatenation.
type expression struct {
	terms []term
}

type term struct {
	kind    string // "user", "appuser" or "" for a literal
	name    string
	literal string
}

func (e expression) refs() []term {
	var out []term
	for _, t := range e.terms {
		if t.kind != "" {
			out = append(out, t)
		}
	}
	return out
}

func parseExpression(src string) (expression, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return expression{}, fmt.Errorf("expression: The field cannot be left blank")
	}
	var e expression
	for _, part := range splitConcat(src) {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, `"`) || strings.HasPrefix(part, `'`):
			lit := part
			if strings.HasPrefix(lit, `'`) {
				lit = `"` + strings.ReplaceAll(strings.Trim(lit, `'`), `"`, `\"`) + `"`
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				return expression{}, fmt.Errorf("expression %q: bad string literal", src)
			}
			e.terms = append(e.terms, term{literal: v})
		default:
			kind, name, ok := strings.Cut(part, ".")
			if !ok || (kind != "user" && kind != "appuser") || !variableName.MatchString(name) {
				return expression{}, fmt.Errorf(
					"expression %q: the simulator evaluates user.x, appuser.x, string literals and +",
					src,
				)
			}
			e.terms = append(e.terms, term{kind: kind, name: name})
		}
	}
	return e, nil
}

// splitConcat splits on + outside string literals.
func splitConcat(src string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	for _, c := range src {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '+':
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(c)
	}
	return append(out, cur.String())
}

// eval evaluates the expression; a single reference keeps its JSON type, a missing one is nil.
func (e expression) eval(profiles map[string]map[string]any) any {
	if len(e.terms) == 1 {
		t := e.terms[0]
		if t.kind == "" {
			return t.literal
		}
		return profiles[t.kind][t.name]
	}
	var b strings.Builder
	for _, t := range e.terms {
		if t.kind == "" {
			b.WriteString(t.literal)
			continue
		}
		if v := profiles[t.kind][t.name]; v != nil {
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// pushMapping returns the Okta user to app user mapping of an app; callers hold s.mu.
func (s *Sim) pushMappingOf(a *app) *profileMapping {
	for _, m := range s.mappings {
		if m.sourceType == "user" && m.targetID == a.id() {
			return m
		}
	}
	return nil
}

// appUserProfile evaluates the app's push mapping for a user; callers hold s.mu.
func (s *Sim) appUserProfile(a *app, u *user) map[string]any {
	out := map[string]any{}
	m := s.pushMappingOf(a)
	if m == nil {
		return out
	}
	profiles := map[string]map[string]any{"user": u.Profile}
	for target, def := range m.props {
		e, err := parseExpression(strOf(def["expression"]))
		if err != nil {
			continue
		}
		if v := e.eval(profiles); v != nil && v != "" {
			out[target] = v
		}
	}
	return out
}

// appUserName is the app username: the Okta login, or the email when the admin chose email
// as the unique identifier; callers hold s.mu.
func (s *Sim) appUserName(a *app, u *user) string {
	if a.provisioning != nil && a.provisioning.UniqueIdentifier == "email" {
		return strOf(u.Profile["email"])
	}
	return u.login()
}
