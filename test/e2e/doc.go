// Package e2e runs scim-operator's main job end to end and asserts on it: a local cluster
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok), the CRDs, oktasim
// seeded with the Riverbend roster, the operator, config/samples, the SCIM server the operator
// rendered, the admin's manual step, the roster push, an unassignment, the IssuerMismatch fault
// and its recovery, and a clean stop. It drives the same steps as `make demo` (test/demo).
//
// It needs the cluster binaries (hack/envtest-binaries.sh --cluster); without them it skips,
// except when CI is set, where it fails.
package e2e
