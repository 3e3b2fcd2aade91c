package scim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// TestAttributes_SchemaQualifiedGroupsAndMembersAreReturned checks that an attribute named
// with its schema URN (RFC 7644 section 3.10) selects the same thing as its short name: a
// user's groups and a group's members are loaded for lists, searches and single reads alike.
func TestAttributes_SchemaQualifiedGroupsAndMembersAreReturned(t *testing.T) {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersAndGroups)
	id := h.createUser(1, func(u map[string]any) {
		u[scimconfig.DefaultExtensionSchema].(map[string]any)["userGroupName"] = "Patrol-A"
	})
	gr := h.do(http.MethodGet, "/Groups?filter="+url.QueryEscape(`displayName eq "Patrol-A"`), "")
	var groups struct{ Resources []struct{ ID string } }
	if err := json.Unmarshal(gr.body, &groups); err != nil || len(groups.Resources) != 1 {
		t.Fatalf("find group: %d %s", gr.status, gr.body)
	}
	gid := groups.Resources[0].ID
	tests := []struct {
		name   string
		path   string
		search string
		member string
	}{
		{name: "user by id", path: "/Users/" + id + "?attributes=" + SchemaUser + ":groups", member: "groups"},
		{name: "user list", member: "groups",
			path: "/Users?attributes=" + SchemaUser + ":groups&filter=" + url.QueryEscape(`id eq "`+id+`"`)},
		{name: "user search", path: "/Users/.search", member: "groups",
			search: `{"filter": "id eq \"` + id + `\"", "attributes": ["` + SchemaUser + `:groups.display"]}`},
		{name: "group by id", path: "/Groups/" + gid + "?attributes=" + SchemaGroup + ":members", member: "members"},
		{name: "group list", member: "members",
			path: "/Groups?attributes=" + SchemaGroup + ":members&filter=" + url.QueryEscape(`id eq "`+gid+`"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			if tt.search != "" {
				method = http.MethodPost
			}
			r := h.do(method, tt.path, tt.search)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			if res, ok := m["Resources"].([]any); ok && len(res) == 1 {
				m = res[0].(map[string]any)
			}
			if list, _ := m[tt.member].([]any); len(list) != 1 {
				t.Errorf("%s: want one of %s, got %s", tt.path, tt.member, r.body)
			}
		})
	}
}

// TestQuery_ParametersPastTenThousandStillCount: url.ParseQuery drops every parameter of a
// query with more than 10,000 of them, which would turn a lookup into a list of everyone; the
// server reads its parameters itself, so the filter and the attribute selection still apply,
// to lists and single reads alike.
func TestQuery_ParametersPastTenThousandStillCount(t *testing.T) {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersOnly)
	id := h.createUser(1, nil)
	h.createUser(2, nil)
	padding := strings.Repeat("&", 10001)
	r := h.do(http.MethodGet, "/Users?attributes=userName&filter="+url.QueryEscape(`id eq "`+id+`"`)+padding, "")
	if r.status != http.StatusOK {
		t.Fatalf("lookup: %d %s", r.status, r.body)
	}
	list := r.json(t)
	res, _ := list["Resources"].([]any)
	if len(res) != 1 || list["totalResults"] != float64(1) {
		t.Fatalf("lookup by id answered %s", r.body)
	}
	if _, ok := res[0].(map[string]any)["emails"]; ok {
		t.Errorf("attributes=userName was ignored in a list: %s", r.body)
	}
	one := h.do(http.MethodGet, "/Users/"+id+"?attributes=userName"+padding, "").json(t)
	if _, ok := one["emails"]; ok {
		t.Errorf("attributes=userName was ignored in a single read: %v", one)
	}
}
