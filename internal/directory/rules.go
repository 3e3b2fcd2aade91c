package directory

import (
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// Role values with a meaning of their own.
const (
	// RoleBlank is what Okta sends for an unset role; it is ignored.
	RoleBlank = "Blank"
	// RoleDefault is the role of a user that has none.
	RoleDefault = "User"
	// LanguageDefault is the language of a user that sends none, when the agency sets none.
	LanguageDefault = "EN_US"
)

// Rules are the agency's lookup data and settings the directory enforces. Lookups compare
// names case-insensitively and store the agency's spelling.
type Rules struct {
	// ExtensionSchema is the URN of the agency's extension; it names fields in errors and
	// qualifies filter paths. filter.AxonExtensionSchema when empty.
	ExtensionSchema string
	// DefaultLanguage is given to users that send neither preferredLanguage nor locale;
	// LanguageDefault when empty.
	DefaultLanguage string
	// Ranks, Roles and EvidenceGroups list the names a user's rankName, axonRole and
	// evidenceGroupName may take. An empty list accepts no value (the default role "User" is
	// always accepted).
	Ranks          []string
	Roles          []string
	EvidenceGroups []string
	// UserGroups are groups created at Open when missing, so they exist before any push. A
	// user's userGroupName must name an existing group (one of these or one pushed by Okta).
	UserGroups []string
	// CommandHierarchy names groups that cannot be deleted.
	CommandHierarchy []string
}

// RulesFromConfig takes the rules from the SCIM server's configuration file.
func RulesFromConfig(c *scimconfig.Config) Rules {
	return Rules{
		ExtensionSchema:  c.ExtensionSchema,
		DefaultLanguage:  c.DefaultLanguage,
		Ranks:            c.Ranks,
		Roles:            c.Roles,
		EvidenceGroups:   c.EvidenceGroups,
		UserGroups:       c.UserGroups,
		CommandHierarchy: c.CommandHierarchy,
	}
}
