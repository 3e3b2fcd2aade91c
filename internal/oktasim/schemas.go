package oktasim

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// schemaProps are the custom properties of a user or app user profile, in creation order.
type schemaProps struct {
	props map[string]map[string]any
	order []string
	// visible is when a new property becomes visible to profile mappings.
	visible map[string]time.Time
}

func newSchemaProps() *schemaProps {
	return &schemaProps{props: map[string]map[string]any{}, visible: map[string]time.Time{}}
}

func (sp *schemaProps) set(name string, def map[string]any) {
	if _, ok := sp.props[name]; !ok {
		sp.order = append(sp.order, name)
	}
	sp.props[name] = def
}

// settled reports whether a property exists and is visible at now.
func (sp *schemaProps) settled(name string, now time.Time) bool {
	_, ok := sp.props[name]
	return ok && !now.Before(sp.visible[name])
}

func (sp *schemaProps) remove(name string) {
	delete(sp.props, name)
	out := sp.order[:0]
	for _, n := range sp.order {
		if n != name {
			out = append(out, n)
		}
	}
	sp.order = out
}

// appBaseProperties are the base properties of a custom app's user profile.
var appBaseProperties = map[string]map[string]any{
	"userName":  {"title": "Username", "type": "string", "required": true, "scope": "NONE", "maxLength": 100},
	"givenName": {"title": "Given name", "type": "string", "scope": "NONE"},
	"familyName": {
		"title": "Family name", "type": "string", "scope": "NONE"},
	"email":       {"title": "Email", "type": "string", "scope": "NONE"},
	"displayName": {"title": "Display name", "type": "string", "scope": "NONE"},
}

var appBaseOrder = []string{"userName", "givenName", "familyName", "email", "displayName"}

var (
	variableName   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	schemaTypes    = []string{"string", "boolean", "number", "integer", "array"}
	schemaPassKeys = []string{
		"description",
		"enum",
		"oneOf",
		"minLength",
		"maxLength",
		"pattern",
		"permissions",
		"master",
		"unique",
		"union",
		"items",
		"mutability",
	}
	scimCoreUserURN = "urn:ietf:params:scim:schemas:core:2.0:User"
)

func (s *Sim) schemaRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/meta/schemas/apps/{appId}/default", s.api("okta.schemas.read", s.getAppSchema))
	mux.Handle(
		"POST /api/v1/meta/schemas/apps/{appId}/default",
		s.api("okta.schemas.manage", s.updateAppSchema),
	)
	mux.Handle("GET /api/v1/meta/schemas/user/default", s.api("okta.schemas.read", s.getUserSchema))
	mux.Handle("POST /api/v1/meta/schemas/user/default", s.api("okta.schemas.manage", s.updateUserSchema))
	mux.Handle("GET /api/v1/meta/schemas/user/{typeId}", s.api("okta.schemas.read", s.getUserSchema))
	mux.Handle("POST /api/v1/meta/schemas/user/{typeId}", s.api("okta.schemas.manage", s.updateUserSchema))
	s.mappingRoutes(mux)
}

func renderSchema(
	id, name, title string,
	base map[string]map[string]any,
	baseOrder []string,
	custom *schemaProps,
) map[string]any {
	baseProps := map[string]any{}
	var baseReq []any
	for _, k := range baseOrder {
		def := clone(base[k])
		def["master"] = map[string]any{"type": "PROFILE_MASTER"}
		baseProps[k] = def
		if def["required"] == true {
			baseReq = append(baseReq, k)
		}
	}
	customProps := map[string]any{}
	customReq := []any{}
	for _, k := range custom.order {
		customProps[k] = clone(custom.props[k])
		if custom.props[k]["required"] == true {
			customReq = append(customReq, k)
		}
	}
	return map[string]any{
		"id":      id,
		"$schema": "http://json-schema.org/draft-04/schema#",
		"name":    name,
		"title":   title,
		"type":    "object",
		"definitions": map[string]any{
			"base": map[string]any{
				"id":         "#base",
				"type":       "object",
				"properties": baseProps,
				"required":   baseReq,
			},
			"custom": map[string]any{
				"id":         "#custom",
				"type":       "object",
				"properties": customProps,
				"required":   customReq,
			},
		},
		"properties": map[string]any{"profile": map[string]any{"allOf": []any{
			map[string]any{"$ref": "#/definitions/custom"}, map[string]any{"$ref": "#/definitions/base"}}}},
	}
}

func (s *Sim) renderAppSchema(a *app) map[string]any {
	return renderSchema(s.URL()+"/meta/schemas/apps/"+a.id()+"/default", a.name(), a.label()+" User",
		appBaseProperties, appBaseOrder, a.custom)
}

func (s *Sim) getAppSchema(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupApp(r.PathValue("appId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderAppSchema(a), nil
}

// updateAppSchema serves the partial update of an app user schema's custom properties (a
// null property removes it). Before SCIM provisioning is switched on for the app, Okta keeps
// no externalName or externalNamespace, so neither does the simulator.
func (s *Sim) updateAppSchema(r *http.Request) (int, any, error) {
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
	changes := objOf(path(body, "definitions", "custom", "properties"))
	before := map[string]bool{}
	for _, name := range a.custom.order {
		before[name] = true
	}
	if err := applySchemaChanges(a.custom, changes, appBaseProperties, a.provisioning != nil); err != nil {
		return 0, nil, err
	}
	for _, name := range a.custom.order {
		if !before[name] {
			a.custom.visible[name] = s.now().Add(s.settle)
		}
	}
	a.doc["lastUpdated"] = s.now().UTC().Format(time.RFC3339)
	return http.StatusOK, s.renderAppSchema(a), nil
}

// applySchemaChanges validates every change before applying any of them.
func applySchemaChanges(
	sp *schemaProps,
	changes map[string]any,
	base map[string]map[string]any,
	external bool,
) error {
	var causes []string
	valid := map[string]map[string]any{}
	for _, name := range sortedKeys(changes) {
		if changes[name] == nil {
			if _, ok := sp.props[name]; !ok {
				causes = append(
					causes,
					fmt.Sprintf("%s: Property does not exist and cannot be removed", name),
				)
			}
			continue
		}
		def, ok := changes[name].(map[string]any)
		if !ok {
			causes = append(causes, fmt.Sprintf("%s: A property must be an object or null", name))
			continue
		}
		out, cs := validateSchemaProperty(name, def, base, external)
		causes = append(causes, cs...)
		valid[name] = out
	}
	if len(causes) > 0 {
		return errValidation("schema", causes...)
	}
	for _, name := range sortedKeys(changes) {
		if changes[name] == nil {
			sp.remove(name)
			continue
		}
		sp.set(name, valid[name])
	}
	return nil
}

func validateSchemaProperty(
	name string,
	def map[string]any,
	base map[string]map[string]any,
	external bool,
) (map[string]any, []string) {
	var causes []string
	if !variableName.MatchString(name) {
		causes = append(causes, name+": Variable name must start with a letter and contain only letters, "+
			"digits and underscores")
	}
	if _, ok := base[name]; ok {
		causes = append(causes, name+": A base property cannot be changed through the custom definitions")
	}
	out := map[string]any{}
	causes = append(causes, typeCauses(name, def, out)...)
	causes = append(causes, externalCauses(name, def, out, external)...)
	for _, k := range schemaPassKeys {
		if v, ok := def[k]; ok {
			out[k] = v
		}
	}
	return out, causes
}

// typeCauses checks title, type, scope and required, and copies them into out.
func typeCauses(name string, def, out map[string]any) []string {
	var causes []string
	title := strings.TrimSpace(strOf(def["title"]))
	if title == "" {
		causes = append(causes, name+": title: The field cannot be left blank")
	}
	out["title"] = title
	typ := strOf(def["type"])
	if !contains(schemaTypes, typ) {
		causes = append(causes, fmt.Sprintf("%s: type: %q is not one of %s",
			name, typ, strings.Join(schemaTypes, ", ")))
	}
	out["type"] = typ
	if typ == "array" && strOf(path(def, "items", "type")) == "" {
		causes = append(causes, name+": items.type: An array property needs the type of its items")
	}
	scope := strOf(def["scope"])
	if scope == "" {
		scope = "NONE"
	}
	if scope != "NONE" && scope != "SELF" {
		causes = append(causes, fmt.Sprintf("%s: scope: %q is not NONE or SELF", name, scope))
	}
	out["scope"] = scope
	if req, ok := def["required"]; ok {
		b, isBool := req.(bool)
		if !isBool {
			causes = append(causes, name+": required: must be true or false")
		}
		out["required"] = b
	}
	return causes
}

// externalCauses checks externalName and externalNamespace; they are kept only when the
// app's SCIM provisioning is on.
func externalCauses(name string, def, out map[string]any, external bool) []string {
	var causes []string
	extName, extNS := strOf(def["externalName"]), strOf(def["externalNamespace"])
	if extNS != "" && extName == "" {
		causes = append(causes, name+": externalName: An external namespace needs an external name")
	}
	if extName != "" && !variableName.MatchString(extName) {
		causes = append(causes, fmt.Sprintf("%s: externalName: %q is not a valid attribute name", name, extName))
	}
	if external && extName != "" {
		out["externalName"] = extName
		if extNS != "" {
			out["externalNamespace"] = extNS
		}
	}
	return causes
}

func (s *Sim) userBase() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, k := range userBaseProperties {
		out[k] = map[string]any{"title": k, "type": "string", "scope": "NONE"}
	}
	for _, k := range []string{"login", "email", "firstName", "lastName"} {
		out[k]["required"] = true
	}
	return out
}

func (s *Sim) getUserSchema(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := r.PathValue("typeId"); id != "" && id != s.userType {
		return 0, nil, errNotFound(id, "UserType")
	}
	return http.StatusOK, s.renderUserSchema(), nil
}

func (s *Sim) renderUserSchema() map[string]any {
	return renderSchema(
		s.URL()+"/meta/schemas/user/default",
		"user",
		"User",
		s.userBase(),
		userBaseProperties,
		s.userCustom,
	)
}

func (s *Sim) updateUserSchema(r *http.Request) (int, any, error) {
	body := map[string]any{}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := r.PathValue("typeId"); id != "" && id != s.userType {
		return 0, nil, errNotFound(id, "UserType")
	}
	changes := objOf(path(body, "definitions", "custom", "properties"))
	if err := applySchemaChanges(s.userCustom, changes, s.userBase(), false); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderUserSchema(), nil
}

func (s *Sim) userCustomProperty(name string) map[string]any { return s.userCustom.props[name] }

// hasProperty reports whether the app user profile defines name and the definition has
// settled (see WithSchemaSettle).
func (a *app) hasProperty(name string, now time.Time) bool {
	if _, ok := appBaseProperties[name]; ok {
		return true
	}
	return a.custom.settled(name, now)
}
