package scim

import (
	"net/http"
	"strings"
)

type spcOut struct {
	Schemas               []string        `json:"schemas"`
	DocumentationURI      string          `json:"documentationUri,omitempty"`
	Patch                 supported       `json:"patch"`
	Bulk                  bulkOut         `json:"bulk"`
	Filter                filterOut       `json:"filter"`
	ChangePassword        supported       `json:"changePassword"`
	Sort                  supported       `json:"sort"`
	ETag                  supported       `json:"etag"`
	AuthenticationSchemes []authSchemeOut `json:"authenticationSchemes"`
	Meta                  map[string]any  `json:"meta"`
}

type supported struct {
	Supported bool `json:"supported"`
}

type bulkOut struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

type filterOut struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

type authSchemeOut struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Primary     bool   `json:"primary"`
}

func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, spcOut{
		Schemas: []string{schemaSPC},
		Patch:   supported{true}, Bulk: bulkOut{Supported: false}, ChangePassword: supported{false},
		Filter: filterOut{Supported: true, MaxResults: MaxResults}, Sort: supported{true}, ETag: supported{true},
		AuthenticationSchemes: []authSchemeOut{{Type: "oauthbearertoken", Name: "OAuth Bearer Token",
			Description: "Access tokens from the agency's Okta org authorization server.", Primary: true}},
		Meta: map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     s.baseURL(r) + "/ServiceProviderConfig",
		},
	})
}

type resourceTypeOut struct {
	Schemas          []string       `json:"schemas"`
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Endpoint         string         `json:"endpoint"`
	Description      string         `json:"description"`
	Schema           string         `json:"schema"`
	SchemaExtensions []extensionRef `json:"schemaExtensions,omitempty"`
	Meta             map[string]any `json:"meta"`
}

type extensionRef struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

func (s *Server) resourceTypeList(base string) []resourceTypeOut {
	meta := func(id string) map[string]any {
		return map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + id}
	}
	out := []resourceTypeOut{{Schemas: []string{schemaResType}, ID: "User", Name: "User", Endpoint: "/Users",
		Description: "Agency members", Schema: SchemaUser,
		SchemaExtensions: []extensionRef{{Schema: SchemaEnterprise}, {Schema: s.extURN, Required: true}},
		Meta:             meta("User")}}
	if s.groups {
		out = append(out, resourceTypeOut{Schemas: []string{schemaResType}, ID: "Group", Name: "Group",
			Endpoint: "/Groups", Description: "Agency groups", Schema: SchemaGroup, Meta: meta("Group")})
	}
	return out
}

func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request, id string) {
	list := s.resourceTypeList(s.baseURL(r))
	if id == "" {
		writeListOf(w, list)
		return
	}
	for _, rt := range list {
		if rt.ID == id {
			writeJSON(w, http.StatusOK, rt)
			return
		}
	}
	writeError(w, notFound("resource type", id))
}

type schemaOut struct {
	Schemas []string `json:"schemas"`
	schema
	Meta map[string]any `json:"meta"`
}

func (s *Server) schemas(w http.ResponseWriter, r *http.Request, id string) {
	base := s.baseURL(r)
	all := []schema{s.users.core, enterpriseSchema(), extensionSchema(s.extURN)}
	if s.groups {
		all = append(all, s.groupSet.core)
	}
	list := make([]schemaOut, 0, len(all))
	for _, sc := range all {
		list = append(list, schemaOut{Schemas: []string{schemaSchema}, schema: sc,
			Meta: map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + sc.ID}})
	}
	if id == "" {
		writeListOf(w, list)
		return
	}
	for _, sc := range list {
		if strings.EqualFold(sc.ID, id) {
			writeJSON(w, http.StatusOK, sc)
			return
		}
	}
	writeError(w, notFound("schema", id))
}

func writeListOf[T any](w http.ResponseWriter, items []T) {
	writeJSON(w, http.StatusOK, struct {
		Schemas      []string `json:"schemas"`
		TotalResults int      `json:"totalResults"`
		StartIndex   int      `json:"startIndex"`
		ItemsPerPage int      `json:"itemsPerPage"`
		Resources    []T      `json:"Resources"`
	}{[]string{schemaListResp}, len(items), 1, len(items), items})
}
