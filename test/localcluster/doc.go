// Package localcluster starts a small but complete Kubernetes cluster on 127.0.0.1 from
// locally built binaries: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok, which plays the kubelet of one simulated node so that Deployments really roll out
// (their pods are reported Running and Ready; their programs do not run).
//
// The install tests, the e2e test and the demo use it through [Start], [Cluster.Kubeconfig],
// [Cluster.RESTConfig] and [Cluster.Stop]; shell scripts use the localcluster command in
// ./cmd/localcluster, which leaves the cluster running between "up" and "down".
// hack/envtest-binaries.sh --cluster builds the binaries.
package localcluster
