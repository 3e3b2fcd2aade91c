package oktasim

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// ruleGrantTypes are the grant types an authorization server policy rule can name.
var ruleGrantTypes = []string{"authorization_code", "implicit", "password", "client_credentials",
	"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange",
	"urn:ietf:params:oauth:grant-type:saml2-bearer", "interaction_code"}

// Token lifetime bounds of policy rules, in minutes.
const (
	minAccessLifetime  = 5
	maxAccessLifetime  = 1440
	maxRefreshLifetime = 5 * 365 * 24 * 60
	minRefreshWindow   = 5
	// defaultRefreshLifetime is used when a rule is sent without refreshTokenLifetimeMinutes
	// (the SDK sends null for 0 unless its pointer field is set); 0 means unlimited.
	defaultRefreshLifetime = 90 * 24 * 60
	defaultRefreshWindow   = 7 * 24 * 60
)

func rulePriority(r map[string]any) int64 { return int64(numOf(r["priority"])) }

func rulesInOrder(p *policy) []map[string]any {
	out := make([]map[string]any, 0, len(p.rules))
	for _, r := range p.rules {
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y map[string]any) int { return int(rulePriority(x) - rulePriority(y)) })
	return out
}

// validateRule checks grant types, people, scopes and token lifetimes, and fills the
// defaults Okta fills.
func validateRule(doc map[string]any) error {
	var causes []string
	if strOf(doc["name"]) == "" {
		causes = append(causes, "name: The field cannot be left blank")
	}
	if t := strOf(doc["type"]); t != "RESOURCE_ACCESS" {
		causes = append(causes, fmt.Sprintf("type: %q is not RESOURCE_ACCESS", t))
	}
	cond := ensure(doc, "conditions")
	grants := strList(path(cond, "grantTypes", "include"))
	if len(grants) == 0 {
		causes = append(causes, "conditions.grantTypes.include: The field cannot be left blank")
	}
	for _, g := range grants {
		if !contains(ruleGrantTypes, g) {
			causes = append(
				causes,
				fmt.Sprintf("conditions.grantTypes.include: %q is not a valid grant type for a rule", g),
			)
		}
	}
	if path(cond, "people") == nil {
		cond["people"] = map[string]any{"groups": map[string]any{"include": []any{"EVERYONE"}}}
	}
	if len(strList(path(cond, "scopes", "include"))) == 0 {
		cond["scopes"] = map[string]any{"include": []any{"*"}}
	}
	token := ensure(ensure(doc, "actions"), "token")
	access := numOr(token["accessTokenLifetimeMinutes"], 60)
	refresh := numOr(token["refreshTokenLifetimeMinutes"], defaultRefreshLifetime)
	window := numOr(token["refreshTokenWindowMinutes"], defaultRefreshWindow)
	if access < minAccessLifetime || access > maxAccessLifetime {
		causes = append(
			causes,
			fmt.Sprintf(
				"accessTokenLifetimeMinutes: must be between %d and %d",
				minAccessLifetime,
				maxAccessLifetime,
			),
		)
	}
	if refresh != 0 && (refresh < access || refresh > maxRefreshLifetime) {
		causes = append(
			causes,
			"refreshTokenLifetimeMinutes: must be 0 (unlimited) or between the access token lifetime and five years",
		)
	}
	if window < minRefreshWindow || window > maxRefreshLifetime || (refresh != 0 && window > refresh) {
		causes = append(
			causes,
			"refreshTokenWindowMinutes: must be at least 5 minutes and no longer than the refresh token lifetime",
		)
	}
	if len(causes) > 0 {
		return errValidation("rule", causes...)
	}
	token["accessTokenLifetimeMinutes"] = float64(access)
	token["refreshTokenLifetimeMinutes"] = float64(refresh)
	token["refreshTokenWindowMinutes"] = float64(window)
	return nil
}

// numOr reads a JSON number; missing or null gives def.
func numOr(v any, def int) int {
	f, ok := v.(float64)
	if !ok {
		return def
	}
	return int(f)
}

func (s *Sim) lookupRule(r *http.Request) (*policy, map[string]any, error) {
	_, p, err := s.lookupPolicy(r)
	if err != nil {
		return nil, nil, err
	}
	rule, ok := p.rules[r.PathValue("ruleId")]
	if !ok {
		return nil, nil, errNotFound(r.PathValue("ruleId"), "PolicyRule")
	}
	return p, rule, nil
}

func (s *Sim) listRules(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := s.lookupPolicy(r)
	if err != nil {
		return 0, nil, err
	}
	out := []any{}
	for _, rule := range rulesInOrder(p) {
		out = append(out, clone(rule))
	}
	return http.StatusOK, out, nil
}

func (s *Sim) getRule(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rule, err := s.lookupRule(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, clone(rule), nil
}

func (s *Sim) placeRule(p *policy, rule map[string]any, want int64) {
	var others []map[string]any
	for _, o := range p.rules {
		if strOf(o["id"]) != strOf(rule["id"]) {
			others = append(others, o)
		}
	}
	placePriority(
		others,
		rule,
		want,
		rulePriority,
		func(x map[string]any, n int64) { x["priority"] = float64(n) },
	)
}

func (s *Sim) createRule(r *http.Request) (int, any, error) {
	doc := map[string]any{}
	if err := decode(r, &doc); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := s.lookupPolicy(r)
	if err != nil {
		return 0, nil, err
	}
	if err := validateRule(doc); err != nil {
		return 0, nil, err
	}
	now := s.now().UTC().Format(time.RFC3339)
	doc["id"], doc["created"], doc["lastUpdated"], doc["system"] = newID("0pr"), now, now, false
	if strOf(doc["status"]) == "" {
		doc["status"] = "ACTIVE"
	}
	s.placeRule(p, doc, rulePriority(doc))
	p.rules[strOf(doc["id"])] = doc
	return http.StatusOK, clone(doc), nil
}

func (s *Sim) updateRule(r *http.Request) (int, any, error) {
	doc := map[string]any{}
	if err := decode(r, &doc); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, rule, err := s.lookupRule(r)
	if err != nil {
		return 0, nil, err
	}
	if err := validateRule(doc); err != nil {
		return 0, nil, err
	}
	for _, k := range []string{"id", "created", "system"} {
		doc[k] = rule[k]
	}
	if strOf(doc["status"]) == "" {
		doc["status"] = rule["status"]
	}
	doc["lastUpdated"] = s.now().UTC().Format(time.RFC3339)
	delete(doc, "_links")
	p.rules[strOf(doc["id"])] = doc
	s.placeRule(p, doc, rulePriority(doc))
	return http.StatusOK, clone(doc), nil
}

func (s *Sim) deleteRule(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, rule, err := s.lookupRule(r)
	if err != nil {
		return 0, nil, err
	}
	delete(p.rules, strOf(rule["id"]))
	return http.StatusNoContent, nil, nil
}

func (s *Sim) ruleLifecycle(status string) apiFunc {
	return func(r *http.Request) (int, any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, rule, err := s.lookupRule(r)
		if err != nil {
			return 0, nil, err
		}
		rule["status"] = status
		return http.StatusNoContent, nil, nil
	}
}
