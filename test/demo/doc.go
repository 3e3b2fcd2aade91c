// Package demo runs scim-operator's main job on one machine: a local cluster (etcd,
// kube-apiserver, controllers, scheduler and kwok), the CRDs, oktasim seeded with the
// Riverbend roster, the operator, the samples from config/samples, the SCIM server the
// operator rendered (as a local process, since no kubelet runs pods here), the Okta admin's
// manual step, the roster push, and the IssuerMismatch fault with its recovery.
//
// The demo command (test/demo/cmd/demo, `make demo`) narrates each step; the e2e test
// (test/e2e) runs the same steps and asserts on the outcome. Both go through Env.
package demo
