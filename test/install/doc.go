// Package install holds the tests of the two ways a platform team installs scim-operator:
// the Helm chart in charts/scim-operator and the kustomize build of config/default. The chart
// tests render it with helm; the install tests install both for real into a local cluster
// (test/localcluster) and uninstall them again. Run them with `make test-install`.
package install
