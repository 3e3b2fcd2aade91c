package okta

import (
	"context"
	"fmt"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// DefaultUserTypeID implements Mappings.
func (c *Client) DefaultUserTypeID(ctx context.Context) (string, error) {
	ts, resp, err := c.sdk.UserType.ListUserTypes(ctx)
	if err := classify(resp, err); err != nil {
		return "", fmt.Errorf("list user types: %w", err)
	}
	for _, t := range ts {
		if t.Default != nil && *t.Default {
			return t.Id, nil
		}
	}
	for _, t := range ts {
		if t.Name == "user" {
			return t.Id, nil
		}
	}
	return "", fmt.Errorf("find the default user type: %w", ErrNotFound)
}

// FindProfileMapping implements Mappings. It asks for both ends and checks both ends in the
// answer, because a mapping looked up by one end alone can be the wrong one.
func (c *Client) FindProfileMapping(ctx context.Context, sourceID, targetID string) (*ProfileMapping, error) {
	qp := query.NewQueryParams(query.WithSourceId(sourceID), query.WithTargetId(targetID))
	ms, resp, err := c.sdk.ProfileMapping.ListProfileMappings(ctx, qp)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("list profile mappings %s -> %s: %w", sourceID, targetID, err)
	}
	for _, m := range ms {
		if m.Source == nil || m.Target == nil || m.Source.Id != sourceID || m.Target.Id != targetID {
			continue
		}
		// The list answer carries no properties; read the mapping itself.
		full, resp, err := c.sdk.ProfileMapping.GetProfileMapping(ctx, m.Id)
		if err := classify(resp, err); err != nil {
			return nil, fmt.Errorf("get profile mapping %s: %w", m.Id, err)
		}
		return fromMapping(full), nil
	}
	return nil, fmt.Errorf("profile mapping %s -> %s: %w", sourceID, targetID, ErrNotFound)
}

func fromMapping(m *sdk.ProfileMapping) *ProfileMapping {
	out := &ProfileMapping{ID: m.Id, Properties: map[string]MappingProperty{}}
	if m.Source != nil {
		out.SourceID = m.Source.Id
	}
	if m.Target != nil {
		out.TargetID = m.Target.Id
	}
	for k, p := range m.Properties {
		if p != nil {
			out.Properties[k] = MappingProperty{Expression: p.Expression, PushStatus: p.PushStatus}
		}
	}
	return out
}

// UpdateProfileMapping implements Mappings.
func (c *Client) UpdateProfileMapping(ctx context.Context, mappingID string,
	properties map[string]MappingProperty) (*ProfileMapping, error) {
	props := map[string]*sdk.ProfileMappingProperty{}
	for k, p := range properties {
		if p.Expression == "" {
			props[k] = nil
			continue
		}
		push := p.PushStatus
		if push == "" {
			push = "PUSH"
		}
		props[k] = &sdk.ProfileMappingProperty{Expression: p.Expression, PushStatus: push}
	}
	got, resp, err := c.sdk.ProfileMapping.UpdateProfileMapping(ctx, mappingID, sdk.ProfileMapping{Properties: props})
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("update profile mapping %s: %w", mappingID, err)
	}
	return fromMapping(got), nil
}
