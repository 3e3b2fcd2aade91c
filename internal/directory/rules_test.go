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
