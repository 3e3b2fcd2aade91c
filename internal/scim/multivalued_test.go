package scim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// TestUsers_EveryAdvertisedMultiValuedAttributeIsKept: ims and photos were stored and
// rendered but missing from the schema, so a POST dropped them and a PATCH was 400; roles was
// in the schema but never stored, so a PATCH answered 200 and kept nothing.
func TestUsers_EveryAdvertisedMultiValuedAttributeIsKept(t *testing.T) {
	tests := []struct {
		name  string
		attr  string
		value string
	}{
		{name: "ims", attr: "ims", value: `{"value": "officer@im.example", "type": "xmpp"}`},
		{name: "photos", attr: "photos", value: `{"value": "https://photos.example/1.jpg", "type": "photo"}`},
		{name: "roles (Entra's app role assignments)", attr: "roles",
			value: `{"value": "Supervisor", "type": "WindowsAzureActiveDirectoryRole", "primary": "True"}`},
	}
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, scimconfig.SyncModeUsersAndGroups)
			for i, tt := range tests {
				t.Run(tt.name+" in a POST", func(t *testing.T) {
					n := 200 + i
					body := fmt.Sprintf(`{"userName": "mv%d@agency.example", "%s": [%s]}`, n, tt.attr, tt.value)
					r := h.do(http.MethodPost, "/Users", withBadge(t, body, n))
					if r.status != http.StatusCreated {
						t.Fatalf("status %d: %s", r.status, r.body)
					}
					wantValue(t, h, r.json(t)["id"].(string), tt.attr, tt.value)
				})
				t.Run(tt.name+" in a PATCH add", func(t *testing.T) {
					id := h.createUser(210+i, nil)
					body := fmt.Sprintf(`{"Operations": [{"op": "Add", "path": "%s", "value": [%s]}]}`,
						tt.attr, tt.value)
					if r := h.do(http.MethodPatch, "/Users/"+id, body); r.status != http.StatusOK {
						t.Fatalf("status %d: %s", r.status, r.body)
					}
					wantValue(t, h, id, tt.attr, tt.value)
				})
			}
			t.Run("the User schema lists them", func(t *testing.T) {
				r := h.do(http.MethodGet, "/Schemas/"+SchemaUser, "")
				for _, tt := range tests {
					if !strings.Contains(string(r.body), `"name":"`+tt.attr+`"`) {
						t.Errorf("schema does not list %s: %s", tt.attr, r.body)
					}
				}
			})
		})
	}
}

// wantValue checks that a read of the user shows attr with the value's "value".
func wantValue(t *testing.T, h *harness, id, attr, value string) {
	t.Helper()
	r := h.do(http.MethodGet, "/Users/"+id, "")
	list, _ := r.json(t)[attr].([]any)
	want := strings.Split(value, `"`)[3]
	if len(list) != 1 || list[0].(map[string]any)["value"] != want {
		t.Fatalf("%s = %v, want one value %q: %s", attr, list, want, r.body)
	}
}
