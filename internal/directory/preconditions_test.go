package directory

import (
	"fmt"
	"testing"
)

// TestWrites_PreconditionsDecideInTheTransaction holds every conditional write (user PUT,
// PATCH and DELETE, group PUT, PATCH and DELETE) to If-Match (one tag or a list) and
// If-None-Match (a tag or *), against a resource at version 2.
func TestWrites_PreconditionsDecideInTheTransaction(t *testing.T) {
	tests := []struct {
		name   string
		opts   []WriteOption
		failed bool
	}{
		{name: "no condition", opts: nil},
		{name: "If-Match names the version", opts: []WriteOption{IfVersion(2)}},
		{name: "If-Match names another version", opts: []WriteOption{IfVersion(1)}, failed: true},
		{name: "If-Match list naming the version second", opts: []WriteOption{IfVersion(7), IfVersion(2)}},
		{name: "If-Match list naming other versions", opts: []WriteOption{IfVersion(7), IfVersion(1)}, failed: true},
		{name: "If-None-Match names the version", opts: []WriteOption{IfNotVersion(2)}, failed: true},
		{name: "If-None-Match names another version", opts: []WriteOption{IfNotVersion(1)}},
		{name: "If-None-Match list naming the version", opts: []WriteOption{IfNotVersion(1), IfNotVersion(2)},
			failed: true},
		{name: "If-None-Match star on an existing resource", opts: []WriteOption{IfAbsent()}, failed: true},
		{name: "both headers hold", opts: []WriteOption{IfVersion(2), IfNotVersion(1)}},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		n := 0
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for _, w := range conditionalWrites {
					t.Run(w.name, func(t *testing.T) {
						n++
						id := w.setup(t, st, n)
						err := w.write(t, st, id, tc.opts)
						if !tc.failed {
							if err != nil {
								t.Fatalf("write: %v", err)
							}
							return
						}
						wantKind(t, err, KindPreconditionFailed, "")
						if v := w.version(t, st, id); v != 2 {
							t.Fatalf("a failed precondition must not write: version %d, want 2", v)
						}
					})
				}
			})
		}
	})
}

// conditionalWrite is one kind of write that takes WriteOptions, with a setup that leaves a
// resource at version 2.
type conditionalWrite struct {
	name    string
	setup   func(t *testing.T, st Store, n int) string
	write   func(t *testing.T, st Store, id string, opts []WriteOption) error
	version func(t *testing.T, st Store, id string) int64
}

func userAtVersion2(t *testing.T, st Store, n int) string {
	t.Helper()
	u := mustCreateUser(t, st, oktaUser(1000+n))
	u.Title = "Sergeant"
	if _, err := st.ReplaceUser(t.Context(), u.ID, *u); err != nil {
		t.Fatalf("replace: %v", err)
	}
	return u.ID
}

func groupAtVersion2(t *testing.T, st Store, n int) string {
	t.Helper()
	g := mustCreateGroup(t, st, Group{DisplayName: fmt.Sprintf("Precondition %d", n)})
	if _, err := st.PatchGroup(t.Context(), g.ID, []GroupOp{{Kind: OpSetExternalID, Value: g.ID}}); err != nil {
		t.Fatalf("patch: %v", err)
	}
	return g.ID
}

func userVersion(t *testing.T, st Store, id string) int64 {
	t.Helper()
	u, err := st.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("get user: %v", err)
	}
	return u.Meta.Version
}

func groupVersion(t *testing.T, st Store, id string) int64 {
	t.Helper()
	g, err := st.GetGroup(t.Context(), id, false)
	if err != nil {
		t.Fatalf("get group: %v", err)
	}
	return g.Meta.Version
}

var conditionalWrites = []conditionalWrite{
	{name: "user replace", setup: userAtVersion2, version: userVersion,
		write: func(t *testing.T, st Store, id string, opts []WriteOption) error {
			u, err := st.GetUser(t.Context(), id)
			if err != nil {
				return err
			}
			u.Title = "Lieutenant"
			_, err = st.ReplaceUser(t.Context(), id, *u, opts...)
			return err
		}},
	{name: "user patch", setup: userAtVersion2, version: userVersion,
		write: func(t *testing.T, st Store, id string, opts []WriteOption) error {
			_, err := st.PatchUser(t.Context(), id, func(u *User) error { u.Title = "Captain"; return nil }, opts...)
			return err
		}},
	{name: "user deactivate", setup: userAtVersion2, version: userVersion,
		write: func(t *testing.T, st Store, id string, opts []WriteOption) error {
			_, err := st.DeactivateUser(t.Context(), id, opts...)
			return err
		}},
	{name: "group replace", setup: groupAtVersion2, version: groupVersion,
		write: func(t *testing.T, st Store, id string, opts []WriteOption) error {
			g, err := st.GetGroup(t.Context(), id, true)
			if err != nil {
				return err
			}
			g.ExternalID = "replaced-" + id
			_, err = st.ReplaceGroup(t.Context(), id, *g, opts...)
			return err
		}},
	{name: "group patch", setup: groupAtVersion2, version: groupVersion,
		write: func(t *testing.T, st Store, id string, opts []WriteOption) error {
			op := GroupOp{Kind: OpSetExternalID, Value: "patched-" + id}
			_, err := st.PatchGroup(t.Context(), id, []GroupOp{op}, opts...)
			return err
		}},
	{name: "group delete", setup: groupAtVersion2, version: groupVersion,
		write: func(t *testing.T, st Store, id string, opts []WriteOption) error {
			return st.DeleteGroup(t.Context(), id, opts...)
		}},
}
