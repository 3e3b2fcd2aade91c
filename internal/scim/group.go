package scim

import (
	"encoding/json"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

type groupOut struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
	Members     []refOut `json:"members,omitempty"`
	Meta        metaOut  `json:"meta"`
}

// renderGroup returns the JSON form of g; members appear when they were loaded.
func renderGroup(g *directory.Group, base string) []byte {
	out := groupOut{Schemas: []string{SchemaGroup}, ID: g.ID, ExternalID: g.ExternalID,
		DisplayName: g.DisplayName, Meta: newMeta("Group", base+"/Groups/"+g.ID, g.Meta)}
	for _, m := range g.Members {
		kind := "Users"
		if m.Type == directory.MemberGroup {
			kind = "Groups"
		}
		out.Members = append(out.Members, refOut{Value: m.Value, Ref: base + "/" + kind + "/" + m.Value,
			Display: m.Display, Type: string(m.Type)})
	}
	body, err := json.Marshal(out)
	if err != nil {
		// groupOut holds only strings; Marshal cannot fail on it.
		return []byte(`{}`)
	}
	return body
}

// groupFromDocument reads a group from a canonical document.
func groupFromDocument(d document) (directory.Group, error) {
	r := reader{}
	g := directory.Group{DisplayName: r.str(d, "displayName"), ExternalID: r.str(d, "externalId")}
	g.Members = memberList(&r, d)
	return g, r.err
}

// memberList reads members as member values; display and type are the directory's to know.
func memberList(r *reader, d map[string]any) []directory.Member {
	items := r.list(d, "members")
	out := make([]directory.Member, 0, len(items))
	for _, m := range items {
		v := r.str(m, "value")
		if v == "" {
			r.fail("members.value", "a non-empty member id")
			return nil
		}
		var kind directory.MemberType
		switch t := r.str(m, "type"); {
		case strings.EqualFold(t, string(directory.MemberUser)):
			kind = directory.MemberUser
		case strings.EqualFold(t, string(directory.MemberGroup)):
			kind = directory.MemberGroup
		}
		out = append(out, directory.Member{Value: v, Type: kind})
	}
	return out
}

func memberIDs(ms []directory.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.Value
	}
	return ids
}
