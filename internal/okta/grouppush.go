package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// The SDK v2 has no group push mappings; these calls are built on its request executor, so
// they share its authentication, our transport and our error handling.

func groupPushPath(appID string) string {
	return "/api/v1/apps/" + escapePath(appID) + "/group-push/mappings"
}

// ListGroupPushMappings implements GroupPush.
func (c *Client) ListGroupPushMappings(ctx context.Context, appID string) ([]GroupPushMapping, error) {
	var out []GroupPushMapping
	if err := c.raw(ctx, http.MethodGet, groupPushPath(appID), nil, &out); err != nil {
		return nil, fmt.Errorf("list group push mappings of app %s: %w", appID, err)
	}
	return out, nil
}

// CreateGroupPushMapping implements GroupPush: it pushes the Okta group under its own name.
func (c *Client) CreateGroupPushMapping(ctx context.Context, appID, sourceGroupID string) (*GroupPushMapping, error) {
	body := map[string]string{"sourceGroupId": sourceGroupID, "status": StatusActive}
	var out GroupPushMapping
	if err := c.raw(ctx, http.MethodPost, groupPushPath(appID), body, &out); err != nil {
		return nil, fmt.Errorf("create group push mapping for group %s on app %s: %w", sourceGroupID, appID, err)
	}
	return &out, nil
}

// DeleteGroupPushMapping implements GroupPush: it deactivates the mapping, then deletes it and
// leaves the pushed group in the app. A missing mapping counts as deleted.
func (c *Client) DeleteGroupPushMapping(ctx context.Context, appID, mappingID string) error {
	path := groupPushPath(appID) + "/" + escapePath(mappingID)
	err := c.raw(ctx, http.MethodPatch, path, map[string]string{"status": StatusInactive}, nil)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("deactivate group push mapping %s: %w", mappingID, err)
	}
	err = c.raw(ctx, http.MethodDelete, path+"?deleteTargetGroup=false", nil, nil)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete group push mapping %s: %w", mappingID, err)
	}
	return nil
}

// raw sends one request through the SDK's request executor and decodes the answer into out.
func (c *Client) raw(ctx context.Context, method, path string, body, out any) error {
	re := c.sdk.CloneRequestExecutor()
	req, err := re.WithAccept("application/json").WithContentType("application/json").NewRequest(method, path, body)
	if err != nil {
		return classify(nil, err)
	}
	var resp any
	if out != nil {
		resp = out
	}
	r, err := re.Do(ctx, req, resp)
	return classify(r, err)
}
