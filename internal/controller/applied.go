package controller

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// appliedObjects remembers, for each object applied on an agency's behalf, a digest of the
// configuration sent and the resourceVersion the API server answered with. Applying the same
// configuration again to an object still at that resourceVersion would change nothing, since
// nobody has written the object in between, so the apply can be left out. This spares the API
// server a no-op apply of every object at each report poll. Any write by anyone (an edit to
// repair, a status update, a delete) moves the resourceVersion, and the next reconcile applies.
type appliedObjects struct {
	mu sync.Mutex
	// byOwner holds each agency's objects, so they are forgotten with the agency.
	byOwner map[types.NamespacedName]map[appliedKey]appliedState
}

type appliedKey struct {
	gvk  schema.GroupVersionKind
	name types.NamespacedName
}

type appliedState struct {
	digest          [sha256.Size]byte
	resourceVersion string
}

// applyDigest is the digest of an apply configuration; encoding/json writes map keys sorted,
// so equal configurations have equal digests.
func applyDigest(u *unstructured.Unstructured) ([sha256.Size]byte, error) {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("encode %s %q: %w", u.GetKind(), u.GetName(), err)
	}
	return sha256.Sum256(b), nil
}

func appliedKeyOf(u *unstructured.Unstructured) appliedKey {
	return appliedKey{gvk: u.GroupVersionKind(), name: types.NamespacedName{Namespace: u.GetNamespace(),
		Name: u.GetName()}}
}

// upToDate says whether configuration digest was the last one applied to the object and the
// API server answered with resourceVersion, the object's current one.
func (a *appliedObjects) upToDate(owner types.NamespacedName, k appliedKey, digest [sha256.Size]byte,
	resourceVersion string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.byOwner[owner][k]
	return ok && resourceVersion != "" && last.digest == digest && last.resourceVersion == resourceVersion
}

// remember records an apply and the resourceVersion it answered with.
func (a *appliedObjects) remember(owner types.NamespacedName, k appliedKey, digest [sha256.Size]byte,
	resourceVersion string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byOwner == nil {
		a.byOwner = map[types.NamespacedName]map[appliedKey]appliedState{}
	}
	if a.byOwner[owner] == nil {
		a.byOwner[owner] = map[appliedKey]appliedState{}
	}
	a.byOwner[owner][k] = appliedState{digest: digest, resourceVersion: resourceVersion}
}

// forget drops what was remembered for an agency that is gone.
func (a *appliedObjects) forget(owner types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.byOwner, owner)
}
