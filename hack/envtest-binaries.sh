#!/usr/bin/env bash
# envtest-binaries.sh builds the control-plane binaries that envtest, the demo and the
# install tests need (kube-apiserver and etcd; with --cluster also kube-controller-manager,
# kube-scheduler, kwok and a kubectl of the same version) from the Go module proxy, and
# caches them under bin/k8s/<version>-<os>-<arch>/, the layout setup-envtest uses.
#
# It prints the cache directory on its last line, so callers can do
#   KUBEBUILDER_ASSETS=$(hack/envtest-binaries.sh | tail -n1)
#
# Kubernetes' own module replaces its staging modules with local paths, so
# `go install k8s.io/kubernetes/cmd/...` is refused by the proxy. A scratch module that
# requires k8s.io/kubernetes and replaces each staging module with its published v0.x.y
# builds the same binaries.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.7.0}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
os="$(go env GOOS)"
arch="$(go env GOARCH)"
dest="${ENVTEST_DIR:-${root}/bin/k8s/${K8S_VERSION}-${os}-${arch}}"
cluster=false
for arg in "$@"; do
  case "$arg" in
    --cluster) cluster=true ;;
    -h | --help)
      echo "usage: hack/envtest-binaries.sh [--cluster]   (prints the binaries' directory last)"
      exit 0
      ;;
    *)
      echo "envtest-binaries: unknown argument '$arg'; the only one is --cluster" >&2
      exit 2
      ;;
  esac
done

log() { echo "envtest-binaries: $*" >&2; }

want=(kube-apiserver etcd)
$cluster && want+=(kube-controller-manager kube-scheduler kwok kubectl)

missing=()
for b in "${want[@]}"; do
  [[ -x "${dest}/${b}" ]] || missing+=("$b")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "using cached binaries in ${dest}"
  echo "${dest}"
  exit 0
fi

mkdir -p "${dest}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
export GOFLAGS=-mod=mod GOWORK=off
minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
staging="0.${minor}.${K8S_VERSION##*.}"

needs_k8s=false
for b in "${missing[@]}"; do
  case "$b" in kube-* | kubectl) needs_k8s=true ;; esac
done

if $needs_k8s; then
  log "preparing a scratch module for k8s.io/kubernetes v${K8S_VERSION} (staging modules at v${staging})"
  mkdir -p "${work}/k8s"
  (
    cd "${work}/k8s"
    go mod init scratch/k8s >/dev/null 2>&1
    modfile="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    [[ -n "${modfile}" ]] || { log "could not download k8s.io/kubernetes v${K8S_VERSION}"; exit 1; }
    # Copy the go and godebug directives, and turn every ./staging replace into a published version.
    {
      echo "module scratch/k8s"
      echo
      grep -E '^go [0-9]' "${modfile}"
      awk '/^godebug \(/{p=1} p{print} p&&/^\)/{p=0} /^godebug [^(]/{print}' "${modfile}"
      echo
      echo "require k8s.io/kubernetes v${K8S_VERSION}"
      echo
      grep -oE '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging' "${modfile}" | awk '{print $1}' |
        grep -vE '^k8s\.io/(sample-controller|sample-cli-plugin)$' |
        while read -r m; do echo "replace ${m} => ${m} v${staging}"; done
    } > go.mod
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=${K8S_VERSION%%.*} -X ${pkg}.gitMinor=${minor}"
    done
    for b in "${missing[@]}"; do
      case "$b" in
        kube-* | kubectl)
          log "building ${b} v${K8S_VERSION} (the first build takes a few minutes)"
          go get "k8s.io/kubernetes/cmd/${b}@v${K8S_VERSION}" >/dev/null 2>&1 || go get "k8s.io/kubernetes/cmd/${b}@v${K8S_VERSION}"
          CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "${ldflags}" \
            -o "${dest}/${b}" "k8s.io/kubernetes/cmd/${b}"
          ;;
      esac
    done
  )
fi

for b in "${missing[@]}"; do
  case "$b" in
    etcd)
      log "building etcd v${ETCD_VERSION}"
      mkdir -p "${work}/etcd"
      (
        cd "${work}/etcd"
        go mod init scratch/etcd >/dev/null 2>&1
        go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" >/dev/null 2>&1 || go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
        CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${dest}/etcd" go.etcd.io/etcd/server/v3
      )
      ;;
    kwok)
      log "building kwok v${KWOK_VERSION}"
      GOBIN="${dest}" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v${KWOK_VERSION}"
      ;;
  esac
done

log "binaries ready in ${dest}"
echo "${dest}"
