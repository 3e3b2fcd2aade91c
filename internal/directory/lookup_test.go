package directory

import (
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

func TestUniqueLookup_OnlyEqualityOnAUniqueUserAttribute(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		{name: "userName eq", filter: `userName eq "a@agency.example"`, want: true},
		{name: "qualified userName", filter: `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, want: true},
		{name: "externalId eq", filter: `externalId eq "00u1"`, want: true},
		{name: "id eq", filter: `id eq "5d3c"`, want: true},
		{name: "userName sw scans a range", filter: `userName sw "a"`, want: false},
		{name: "displayName is not unique", filter: `displayName eq "A"`, want: false},
		{name: "or of two lookups", filter: `userName eq "a" or userName eq "b"`, want: false},
		{name: "emails value path", filter: `emails[value eq "a"]`, want: false},
		{name: "extension", filter: `urn:ietf:params:scim:schemas:extension:2.0:axon:badgeId eq "1"`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := uniqueLookup(e); got != tt.want {
				t.Fatalf("uniqueLookup(%s) = %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
	if uniqueLookup(nil) {
		t.Fatal("no filter is not a lookup")
	}
}
