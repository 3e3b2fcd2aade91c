package okta

import (
	"context"
	"errors"
	"fmt"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// GetAppUserAttributes implements Schemas.
func (c *Client) GetAppUserAttributes(ctx context.Context, appID string) (map[string]SchemaAttribute, error) {
	s, resp, err := c.sdk.UserSchema.GetApplicationUserSchema(ctx, appID)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("get user schema of app %s: %w", appID, err)
	}
	return customAttributes(s), nil
}

// customAttributes reads an app user schema's custom attributes by variable name.
func customAttributes(s *sdk.UserSchema) map[string]SchemaAttribute {
	out := map[string]SchemaAttribute{}
	if s == nil || s.Definitions == nil || s.Definitions.Custom == nil {
		return out
	}
	required := map[string]bool{}
	for _, n := range s.Definitions.Custom.Required {
		required[n] = true
	}
	for name, a := range s.Definitions.Custom.Properties {
		if a == nil {
			continue
		}
		out[name] = SchemaAttribute{
			Name: name, Title: a.Title, Type: a.Type, Description: a.Description,
			Required:     (a.Required != nil && *a.Required) || required[name],
			ExternalName: a.ExternalName, ExternalNamespace: a.ExternalNamespace,
		}
	}
	return out
}

// UpdateAppUserAttributes implements Schemas with one partial schema update: set attributes are
// written whole, removed ones are sent as null. Okta answers with the whole schema as it now
// is; when the answer carries none, the schema is read again.
func (c *Client) UpdateAppUserAttributes(ctx context.Context, appID string, set []SchemaAttribute,
	remove []string) (map[string]SchemaAttribute, error) {
	if len(set) == 0 && len(remove) == 0 {
		return nil, errors.New("update user schema: nothing to change")
	}
	props := map[string]*sdk.UserSchemaAttribute{}
	var required []string
	for _, a := range set {
		props[a.Name] = &sdk.UserSchemaAttribute{
			Title: a.Title, Type: a.Type, Description: a.Description,
			Required:     boolPtr(a.Required),
			ExternalName: a.ExternalName, ExternalNamespace: a.ExternalNamespace,
			Scope:  "NONE",
			Master: &sdk.UserSchemaAttributeMaster{Type: "PROFILE_MASTER"},
		}
		if a.Required {
			required = append(required, a.Name)
		}
	}
	for _, n := range remove {
		props[n] = nil
	}
	body := sdk.UserSchema{Definitions: &sdk.UserSchemaDefinitions{Custom: &sdk.UserSchemaPublic{
		Id: "#custom", Type: "object", Properties: props, Required: required,
	}}}
	got, resp, err := c.sdk.UserSchema.UpdateApplicationUserProfile(ctx, appID, body)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("update user schema of app %s: %w", appID, err)
	}
	if got == nil || got.Definitions == nil {
		return c.GetAppUserAttributes(ctx, appID)
	}
	return customAttributes(got), nil
}
