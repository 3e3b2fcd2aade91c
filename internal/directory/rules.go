package directory

import (
	"errors"
	"fmt"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/filter"
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

// Validate reports a rule the directory cannot keep in both stores: a user group named with
// U+0000 or longer than MaxIndexedValueBytes, which a client could not create either (and
// which PostgreSQL would refuse at every start). The error names the configuration key.
func (r Rules) Validate() error {
	for i, name := range r.UserGroups {
		if err := checkGroupValue("name", name); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return fmt.Errorf("userGroups[%d]: %s", i, e.Detail)
			}
			return fmt.Errorf("userGroups[%d]: %w", i, err)
		}
	}
	return nil
}

// compiledRules are Rules ready for lookups.
type compiledRules struct {
	extension        string
	defaultLanguage  string
	ranks            map[string]string
	roles            map[string]string
	evidenceGroups   map[string]string
	userGroups       []string
	userGroupSet     map[string]string // lower-cased name -> name
	commandHierarchy map[string]bool
}

func compileRules(r Rules) compiledRules {
	c := compiledRules{
		extension:        r.ExtensionSchema,
		defaultLanguage:  r.DefaultLanguage,
		ranks:            lookup(r.Ranks),
		roles:            lookup(r.Roles),
		evidenceGroups:   lookup(r.EvidenceGroups),
		userGroups:       r.UserGroups,
		userGroupSet:     lookup(r.UserGroups),
		commandHierarchy: make(map[string]bool, len(r.CommandHierarchy)),
	}
	if c.extension == "" {
		c.extension = filter.AxonExtensionSchema
	}
	if c.defaultLanguage == "" {
		c.defaultLanguage = LanguageDefault
	}
	for _, name := range r.CommandHierarchy {
		c.commandHierarchy[strings.ToLower(name)] = true
	}
	return c
}

// protectedGroup says why a group cannot be deleted or renamed, or "" when it can: it is in
// the command hierarchy, or it is one of the configured user groups, which users join by name
// (userGroupName) and which the server creates at every start.
func (c *compiledRules) protectedGroup(name string) string {
	lower := strings.ToLower(name)
	switch {
	case c.commandHierarchy[lower]:
		return "is in the agency's command hierarchy"
	case c.userGroupSet[lower] != "":
		return "is one of the agency's user groups (userGroups in the configuration; users join it by userGroupName)"
	}
	return ""
}

func lookup(names []string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}

// extField names an extension attribute the way SCIM errors name it.
func (c *compiledRules) extField(attr string) string {
	return c.extension + ":" + attr
}

// applyUserRules checks u against the agency's rules and normalises it in place: lookup
// values take the agency's spelling, the role and language get their defaults. old is the
// stored user for a replace, nil for a create. It does not check userGroupName, which needs
// the database.
func (c *compiledRules) applyUserRules(u *User, old *User) error {
	if strings.TrimSpace(u.UserName) == "" {
		return errorf(KindInvalidValue, "userName", "userName is required")
	}
	if strings.TrimSpace(u.Extension.BadgeID) == "" {
		return errorf(KindInvalidValue, c.extField("badgeId"), "badgeId is required")
	}
	if err := checkUserIndexedLengths(u); err != nil {
		return err
	}
	if err := c.applyRole(u, old); err != nil {
		return err
	}
	var oldExt Extension
	if old != nil {
		oldExt = old.Extension
	}
	if err := c.lookUp(&u.Extension.RankName, oldExt.RankName, c.ranks, "rankName", "rank"); err != nil {
		return err
	}
	err := c.lookUp(&u.Extension.EvidenceGroupName, oldExt.EvidenceGroupName, c.evidenceGroups,
		"evidenceGroupName", "evidence group")
	if err != nil {
		return err
	}
	if u.PreferredLanguage == "" {
		u.PreferredLanguage = u.Locale
	}
	if u.PreferredLanguage == "" {
		u.PreferredLanguage = c.defaultLanguage
	}
	u.Emails = compactEmails(u.Emails)
	u.PhoneNumbers = compactValues(u.PhoneNumbers)
	u.IMs = compactValues(u.IMs)
	u.Photos = compactValues(u.Photos)
	u.Roles = compactValues(u.Roles)
	return nil
}

// MaxIndexedValueBytes is the longest value, in bytes, of the attributes the directory
// indexes for filters and uniqueness: a user's userName, externalId, displayName and emails,
// a group's displayName and externalId. PostgreSQL cannot index values much longer (about
// 2.7 kB once compressed); both stores refuse longer ones, so they behave alike.
const MaxIndexedValueBytes = 1024

// checkIndexedLength refuses a value of field longer than MaxIndexedValueBytes.
func checkIndexedLength(field, value string) error {
	if len(value) > MaxIndexedValueBytes {
		return errorf(KindInvalidValue, field, "%s is longer than %d bytes", field, MaxIndexedValueBytes)
	}
	return nil
}

func checkUserIndexedLengths(u *User) error {
	for _, f := range [...]struct{ field, value string }{
		{"userName", u.UserName}, {"externalId", u.ExternalID}, {"displayName", u.DisplayName},
	} {
		if err := checkIndexedLength(f.field, f.value); err != nil {
			return err
		}
	}
	for _, e := range u.Emails {
		if err := checkIndexedLength("emails", e.Value); err != nil {
			return err
		}
	}
	return nil
}

// applyRole: "Blank" is ignored (a replace keeps the stored role), no role means "User",
// and any other role must exist in the agency.
// lookUp gives *value the spelling the agency's list has, or refuses it when the list does
// not have it. A value a write leaves as it was stored (compared case-insensitively) is kept
// without a lookup: removing a rank from the configuration must not make every later write
// of its holders fail, deactivation included.
func (c *compiledRules) lookUp(value *string, stored string, names map[string]string, attr, what string) error {
	if *value == "" {
		return nil
	}
	if stored != "" && strings.EqualFold(*value, stored) {
		*value = stored
		return nil
	}
	name, ok := names[strings.ToLower(*value)]
	if !ok {
		return errorf(KindInvalidValue, c.extField(attr), "%s %q does not exist in the agency", what, *value)
	}
	*value = name
	return nil
}

func (c *compiledRules) applyRole(u *User, old *User) error {
	role := u.Extension.AxonRole
	if strings.EqualFold(role, RoleBlank) {
		role = ""
		if old != nil {
			role = old.Extension.AxonRole
		}
	}
	// "User" is every user's role when none is given, so it is valid whether or not the
	// agency lists it; a PATCH starts from the stored user and sends it back.
	if role == "" || strings.EqualFold(role, RoleDefault) {
		if name, ok := c.roles[strings.ToLower(RoleDefault)]; ok {
			role = name
		} else {
			role = RoleDefault
		}
		u.Extension.AxonRole = role
		return nil
	}
	u.Extension.AxonRole = role
	stored := ""
	if old != nil {
		stored = old.Extension.AxonRole
	}
	return c.lookUp(&u.Extension.AxonRole, stored, c.roles, "axonRole", "role")
}

// compactEmails drops emails without a value.
func compactEmails(in []Email) []Email {
	out := in[:0:0]
	for _, e := range in {
		if strings.TrimSpace(e.Value) != "" {
			out = append(out, e)
		}
	}
	return out
}

// compactValues drops phone numbers, IMs, photos and roles without a value, as compactEmails
// does emails: a PATCH removing phoneNumbers[type eq "fax"].value (Entra clearing a number)
// leaves a value-less entry that names nothing.
func compactValues(in []MultiValue) []MultiValue {
	out := in[:0:0]
	for _, v := range in {
		if strings.TrimSpace(v.Value) != "" {
			out = append(out, v)
		}
	}
	return out
}

// primaryEmail is the email flagged primary, else the first one; "" when there is none.
func primaryEmail(emails []Email) string {
	for _, e := range emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(emails) > 0 {
		return emails[0].Value
	}
	return ""
}
