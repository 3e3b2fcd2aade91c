package okta

import (
	"context"
	"errors"
	"fmt"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// GetAuthorizationServer implements AuthorizationServers.
func (c *Client) GetAuthorizationServer(ctx context.Context, id string) (*AuthorizationServer, error) {
	s, resp, err := c.sdk.AuthorizationServer.GetAuthorizationServer(ctx, id)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("get authorization server %q: %w", id, err)
	}
	return &AuthorizationServer{ID: s.Id, Name: s.Name, Issuer: s.Issuer, Status: s.Status}, nil
}

// ListPolicies implements Policies.
func (c *Client) ListPolicies(ctx context.Context, serverID string) ([]Policy, error) {
	ps, resp, err := c.sdk.AuthorizationServer.ListAuthorizationServerPolicies(ctx, serverID)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("list access policies of %q: %w", serverID, err)
	}
	out := make([]Policy, 0, len(ps))
	for _, p := range ps {
		out = append(out, fromPolicy(p))
	}
	return out, nil
}

func fromPolicy(p *sdk.AuthorizationServerPolicy) Policy {
	out := Policy{ID: p.Id, Name: p.Name, Description: p.Description, Status: p.Status, Priority: p.Priority}
	if p.PriorityPtr != nil {
		out.Priority = *p.PriorityPtr
	}
	if p.Conditions != nil && p.Conditions.Clients != nil {
		out.ClientIDs = p.Conditions.Clients.Include
	}
	return out
}

func toPolicy(p Policy) sdk.AuthorizationServerPolicy {
	out := sdk.AuthorizationServerPolicy{
		Name:        p.Name,
		Description: p.Description,
		Type:        "OAUTH_AUTHORIZATION_POLICY",
		Status:      StatusActive,
		Conditions: &sdk.PolicyRuleConditions{
			Clients: &sdk.ClientPolicyCondition{Include: p.ClientIDs},
		},
	}
	if p.Priority > 0 {
		out.PriorityPtr = &p.Priority
	}
	return out
}

// CreatePolicy implements Policies.
func (c *Client) CreatePolicy(ctx context.Context, serverID string, p Policy) (*Policy, error) {
	got, resp, err := c.sdk.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, serverID, toPolicy(p))
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("create access policy %q: %w", p.Name, err)
	}
	out := fromPolicy(got)
	return &out, nil
}

// UpdatePolicy implements Policies.
func (c *Client) UpdatePolicy(ctx context.Context, serverID string, p Policy) (*Policy, error) {
	body := toPolicy(p)
	body.Id = p.ID
	got, resp, err := c.sdk.AuthorizationServer.UpdateAuthorizationServerPolicy(ctx, serverID, p.ID, body)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("update access policy %s: %w", p.ID, err)
	}
	out := fromPolicy(got)
	return &out, nil
}

// DeletePolicy implements Policies; its rules go with it. A missing policy counts as deleted.
func (c *Client) DeletePolicy(ctx context.Context, serverID, policyID string) error {
	resp, err := c.sdk.AuthorizationServer.DeleteAuthorizationServerPolicy(ctx, serverID, policyID)
	if err := classify(resp, err); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete access policy %s: %w", policyID, err)
	}
	return nil
}

// ListPolicyRules implements Policies.
func (c *Client) ListPolicyRules(ctx context.Context, serverID, policyID string) ([]PolicyRule, error) {
	rs, resp, err := c.sdk.AuthorizationServer.ListAuthorizationServerPolicyRules(ctx, serverID, policyID)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("list rules of access policy %s: %w", policyID, err)
	}
	out := make([]PolicyRule, 0, len(rs))
	for _, r := range rs {
		out = append(out, fromRule(r))
	}
	return out, nil
}

func fromRule(r *sdk.AuthorizationServerPolicyRule) PolicyRule {
	out := PolicyRule{ID: r.Id, Name: r.Name, Status: r.Status, Priority: r.Priority}
	if r.PriorityPtr != nil {
		out.Priority = *r.PriorityPtr
	}
	if cond := r.Conditions; cond != nil {
		if cond.GrantTypes != nil {
			out.GrantTypes = cond.GrantTypes.Include
		}
		if cond.Scopes != nil {
			out.Scopes = cond.Scopes.Include
		}
		if cond.People != nil && cond.People.Groups != nil {
			out.GroupIDs = cond.People.Groups.Include
		}
	}
	if r.Actions != nil && r.Actions.Token != nil {
		t := r.Actions.Token
		out.AccessTokenLifetimeMinutes = t.AccessTokenLifetimeMinutes
		out.RefreshTokenLifetimeMinutes = t.RefreshTokenLifetimeMinutes
		out.RefreshTokenWindowMinutes = t.RefreshTokenWindowMinutes
	}
	return out
}

// toRule builds the SDK body. The lifetimes go through the pointer fields, because the SDK
// drops a zero value, and a zero refresh token lifetime is how Okta spells "unlimited".
func toRule(r PolicyRule) sdk.AuthorizationServerPolicyRule {
	out := sdk.AuthorizationServerPolicyRule{
		Name:   r.Name,
		Type:   "RESOURCE_ACCESS",
		Status: StatusActive,
		Conditions: &sdk.AuthorizationServerPolicyRuleConditions{
			GrantTypes: &sdk.GrantTypePolicyRuleCondition{Include: r.GrantTypes},
			Scopes:     &sdk.OAuth2ScopesMediationPolicyRuleCondition{Include: r.Scopes},
			People:     &sdk.PolicyPeopleCondition{Groups: &sdk.GroupCondition{Include: r.GroupIDs}},
		},
		Actions: &sdk.AuthorizationServerPolicyRuleActions{Token: &sdk.TokenAuthorizationServerPolicyRuleAction{
			AccessTokenLifetimeMinutesPtr:  sdk.Int64Ptr(r.AccessTokenLifetimeMinutes),
			RefreshTokenLifetimeMinutesPtr: sdk.Int64Ptr(r.RefreshTokenLifetimeMinutes),
			RefreshTokenWindowMinutesPtr:   sdk.Int64Ptr(r.RefreshTokenWindowMinutes),
		}},
	}
	if r.Priority > 0 {
		out.PriorityPtr = &r.Priority
	}
	return out
}

// CreatePolicyRule implements Policies.
func (c *Client) CreatePolicyRule(ctx context.Context, serverID, policyID string, r PolicyRule) (*PolicyRule, error) {
	got, resp, err := c.sdk.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, serverID, policyID,
		toRule(r))
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("create rule %q in access policy %s: %w", r.Name, policyID, err)
	}
	out := fromRule(got)
	return &out, nil
}

// UpdatePolicyRule implements Policies.
func (c *Client) UpdatePolicyRule(ctx context.Context, serverID, policyID string, r PolicyRule) (*PolicyRule, error) {
	body := toRule(r)
	body.Id = r.ID
	got, resp, err := c.sdk.AuthorizationServer.UpdateAuthorizationServerPolicyRule(ctx, serverID, policyID, r.ID,
		body)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("update rule %s in access policy %s: %w", r.ID, policyID, err)
	}
	out := fromRule(got)
	return &out, nil
}
