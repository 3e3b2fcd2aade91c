# mk/install.mk: installing the operator the way a platform team does (Helm chart, kustomize),
# the local cluster the install tests run against, and the tools both need.

##@ Install

HELM ?= $(LOCALBIN)/helm
HELM_VERSION ?= v4.3.2
# The install tests use kustomize v5.8.2 (v5.8.3 needs Go 1.27); this wins over the Makefile's
# KUSTOMIZE_VERSION ?= default, so the two cannot disagree.
KUSTOMIZE_VERSION := v5.8.2

.PHONY: helm
helm: $(HELM) ## Build helm into ./bin if necessary.
$(HELM): $(LOCALBIN)
	@[ -f "$(HELM)-$(HELM_VERSION)" ] && [ "$$(readlink -- "$(HELM)" 2>/dev/null)" = "$(HELM)-$(HELM_VERSION)" ] || { \
	  set -e; \
	  echo "Building helm $(HELM_VERSION) (about 2 minutes the first time)"; \
	  rm -f "$(HELM)"; \
	  GOBIN="$(LOCALBIN)" CGO_ENABLED=0 go install -trimpath \
	    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)" \
	    helm.sh/helm/v4/cmd/helm@$(HELM_VERSION); \
	  mv "$(HELM)" "$(HELM)-$(HELM_VERSION)"; \
	}; \
	ln -sf "$$(realpath "$(HELM)-$(HELM_VERSION)")" "$(HELM)"

CHART_DIR := charts/scim-operator
CHART_EXAMPLES := $(wildcard $(CHART_DIR)/examples/*.yaml)
K8S_CLUSTER_BIN_DIR ?= $(LOCALBIN)/k8s/1.37.2-$(shell go env GOOS)-$(shell go env GOARCH)

.PHONY: cluster-binaries
cluster-binaries: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and kubectl into bin/k8s (cached).
	hack/envtest-binaries.sh --cluster

.PHONY: chart-sync
chart-sync: manifests chart-copy ## Regenerate the CRDs and RBAC, and copy them into the Helm chart.

# chart-copy copies config/'s generated CRDs and ClusterRole into the chart, without
# regenerating them (for the end of `make manifests`).
.PHONY: chart-copy
chart-copy:
	rm -f $(CHART_DIR)/crds/*.yaml
	cp config/crd/bases/*.yaml $(CHART_DIR)/crds/
	cp config/rbac/role.yaml $(CHART_DIR)/files/manager-role.yaml

.PHONY: chart-check
chart-check: ## Fail if the chart's CRDs or RBAC rules differ from config/ (run make chart-sync).
	@diff -r -q config/crd/bases $(CHART_DIR)/crds >/dev/null && \
	  diff -q config/rbac/role.yaml $(CHART_DIR)/files/manager-role.yaml >/dev/null || { \
	  echo "The chart's CRDs or RBAC rules differ from config/crd/bases and config/rbac/role.yaml:"; \
	  diff -r -u config/crd/bases $(CHART_DIR)/crds || true; \
	  diff -u config/rbac/role.yaml $(CHART_DIR)/files/manager-role.yaml || true; \
	  echo "Run 'make chart-sync' and commit the result."; exit 1; }

.PHONY: helm-lint
helm-lint: helm chart-check ## Lint the chart (strict) and render it with the default values and each example.
	"$(HELM)" lint --strict $(CHART_DIR)
	@for f in $(CHART_EXAMPLES); do echo "helm lint --strict -f $$f"; "$(HELM)" lint --strict $(CHART_DIR) -f "$$f" || exit 1; done
	"$(HELM)" template scim-operator $(CHART_DIR) --namespace scim-operator-system >/dev/null
	@for f in $(CHART_EXAMPLES); do echo "helm template -f $$f"; \
	  "$(HELM)" template scim-operator $(CHART_DIR) --namespace scim-operator-system -f "$$f" >/dev/null || exit 1; done

.PHONY: test-install
test-install: helm kustomize cluster-binaries chart-check ## Install the chart and the kustomize build into a local cluster, and uninstall them.
	HELM="$(HELM)" KUSTOMIZE="$(KUSTOMIZE)" LOCALCLUSTER_BIN_DIR="$(K8S_CLUSTER_BIN_DIR)" \
	  go test ./test/install/... ./test/localcluster/... -count=1 -v -timeout 15m

# `make test` (the README's and CI's test command) runs `go test ./...`, which includes the
# install tests: build what they need first, and lint the chart.
test: helm kustomize cluster-binaries helm-lint

.PHONY: local-cluster-up
local-cluster-up: cluster-binaries ## Start a local cluster in tmp/localcluster/ and print its kubeconfig path.
	@go run ./test/localcluster/cmd/localcluster up --dir tmp/localcluster --bin-dir "$(K8S_CLUSTER_BIN_DIR)"

.PHONY: local-cluster-down
local-cluster-down: ## Stop the local cluster started by local-cluster-up.
	go run ./test/localcluster/cmd/localcluster down --dir tmp/localcluster
