package directory

import (
	"slices"
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

func TestRulesFromConfig_TakesTheAgencysLookupData(t *testing.T) {
	cfg := &scimconfig.Config{
		ExtensionSchema:  "urn:agency:ext:1.0",
		DefaultLanguage:  "FR_CA",
		Ranks:            []string{"Officer"},
		Roles:            []string{"User", "Admin"},
		EvidenceGroups:   []string{"Evidence-North"},
		UserGroups:       []string{"Patrol-A"},
		CommandHierarchy: []string{"Patrol Division"},
	}
	r := RulesFromConfig(cfg)
	if r.ExtensionSchema != cfg.ExtensionSchema || r.DefaultLanguage != cfg.DefaultLanguage ||
		!slices.Equal(r.Ranks, cfg.Ranks) || !slices.Equal(r.Roles, cfg.Roles) ||
		!slices.Equal(r.EvidenceGroups, cfg.EvidenceGroups) || !slices.Equal(r.UserGroups, cfg.UserGroups) ||
		!slices.Equal(r.CommandHierarchy, cfg.CommandHierarchy) {
		t.Fatalf("RulesFromConfig = %+v", r)
	}
	c := compileRules(r)
	u := oktaUser(1)
	u.Extension.RankName = "Sergeant"
	err := c.applyUserRules(&u, nil)
	detail := wantKind(t, err, KindInvalidValue, "urn:agency:ext:1.0:rankName")
	if !strings.Contains(detail, "Sergeant") {
		t.Fatalf("detail %q", detail)
	}
}

func TestPrefixUpperBound_BoundsEveryStringWithThePrefix(t *testing.T) {
	cases := []struct {
		name, prefix, want string
		ok                 bool
	}{
		{name: "ascii", prefix: "abc", want: "abd", ok: true},
		{name: "multi-byte rune", prefix: "zoë", want: "zoì", ok: true},
		{name: "before the surrogate gap", prefix: "a\ud7ff", want: "a\ue000", ok: true},
		{name: "last rune carries", prefix: "a\U0010FFFF", want: "b", ok: true},
		{name: "empty has no bound", prefix: "", ok: false},
		{name: "only the last rune has no bound", prefix: "\U0010FFFF", ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := prefixUpperBound(tc.prefix)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("prefixUpperBound(%q) = %q, %v; want %q, %v", tc.prefix, got, ok, tc.want, tc.ok)
			}
			if ok && (got <= tc.prefix+"\U0010FFFF" || got <= tc.prefix) {
				t.Fatalf("%q does not bound strings starting with %q", got, tc.prefix)
			}
		})
	}
}

// TestRules_UserGroupsTheStoreCannotKeepAreRefusedAtOpen: a user group named with U+0000
// made every PostgreSQL open fail (the server retried forever) while SQLite stored it; one
// over the length limit was a group no client could have created.
func TestRules_UserGroupsTheStoreCannotKeepAreRefusedAtOpen(t *testing.T) {
	tests := []struct {
		name   string
		groups []string
		want   string // "" when the rules are valid
	}{
		{name: "ordinary names", groups: []string{"Patrol-A", "Évidence Nord"}},
		{name: "a name at the length limit", groups: []string{strings.Repeat("g", MaxIndexedValueBytes)}},
		{name: "U+0000", groups: []string{"Patrol-A", "Patrol\x00B"}, want: "userGroups[1]"},
		{name: "over the length limit", groups: []string{strings.Repeat("g", MaxIndexedValueBytes+1)},
			want: "userGroups[0]"},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				rules := agencyRules()
				rules.UserGroups = tc.groups
				err := rules.Validate()
				if tc.want == "" {
					if err != nil {
						t.Fatalf("Validate: %v", err)
					}
					st := open(t, rules)
					page, err := st.ListGroups(t.Context(), Query{StartIndex: 1, Count: 100})
					if err != nil {
						t.Fatal(err)
					}
					for _, g := range tc.groups {
						named := func(have Group) bool { return have.DisplayName == g }
						if !slices.ContainsFunc(page.Resources, named) {
							t.Fatalf("user group %.20q not created", g)
						}
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
				}
				if _, err := Open(t.Context(), "sqlite://"+t.TempDir()+"/x.db", rules); err == nil {
					t.Fatal("Open accepted rules that Validate refuses")
				}
			})
		}
	})
}
