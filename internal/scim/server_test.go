package scim

import (
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// TestNew_RefusesAnExtensionSchemaThatShadowsItsOwn: with the enterprise URN as the agency
// extension, badgeId could never be sent (every create was 400) and /Schemas listed the URN
// twice.
func TestNew_RefusesAnExtensionSchemaThatShadowsItsOwn(t *testing.T) {
	tests := []struct {
		name string
		urn  string
		ok   bool
	}{
		{name: "the agency extension", urn: scimconfig.DefaultExtensionSchema, ok: true},
		{name: "another agency's URN", urn: "urn:example:agency:2.0:User", ok: true},
		{name: "core User", urn: SchemaUser},
		{name: "core Group", urn: SchemaGroup},
		{name: "enterprise User in another case", urn: strings.ToUpper(SchemaEnterprise)},
	}
	org := newTestOrg(t)
	verifier, err := auth.NewVerifier(org.srv.URL, auth.WithHTTPClient(org.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckExtensionSchema(tt.urn); (err == nil) != tt.ok {
				t.Fatalf("CheckExtensionSchema(%q) = %v, want ok %v", tt.urn, err, tt.ok)
			}
			cfg := testConfig(org.srv.URL, scimconfig.SyncModeUsersAndGroups)
			cfg.ExtensionSchema = tt.urn
			st := openStore(t, "sqlite", cfg)
			_, err := New(cfg, st, verifier, WithLogger(discardLogger()))
			if (err == nil) != tt.ok {
				t.Fatalf("New with extension %q: %v, want ok %v", tt.urn, err, tt.ok)
			}
		})
	}
}
