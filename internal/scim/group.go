package scim

import (
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

// renderGroup returns the JSON form of g; members appear when they were loaded.
func renderGroup(g *directory.Group, base string) []byte {
	w := jsonWriter{b: make([]byte, 0, 256+160*len(g.Members))}
	w.begin('{')
	w.key("schemas")
	w.begin('[')
	w.str(SchemaGroup)
	w.end(']')
	w.field("id", g.ID)
	w.optional("externalId", g.ExternalID)
	w.field("displayName", g.DisplayName)
	if len(g.Members) > 0 {
		w.key("members")
		w.begin('[')
		for _, m := range g.Members {
			path := "/Users/"
			if m.Type == directory.MemberGroup {
				path = "/Groups/"
			}
			writeRef(&w, base, path, m.Value, m.Display, string(m.Type))
		}
		w.end(']')
	}
	writeMeta(&w, "Group", base, "/Groups/", g.ID, g.Meta)
	w.end('}')
	return w.b
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
