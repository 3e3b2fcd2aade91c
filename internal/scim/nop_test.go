package scim

import (
	"context"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/directory"
)

// nopStore and nopAuth satisfy New for benchmarks of pure functions; they are never called.
type nopStore struct{ directory.Store }

type nopAuth struct{}

func (nopAuth) Verify(context.Context, string) (*auth.Claims, error) { return nil, auth.ErrRejected }
