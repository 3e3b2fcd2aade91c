# scim-operator. `make help` lists the targets. Tools are pinned and built from the Go module
# proxy into ./bin; nothing is downloaded from anywhere else.

# Image of the operator for docker-build and deploy.
IMG ?= controller:latest
# YEAR is substituted into the boilerplate header of generated files.
YEAR ?= $(shell date +%Y)

CONTAINER_TOOL ?= docker

# Recipes run in bash and stop at the first failing command, pipes included.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRDs (config/crd/bases) and the manager's ClusterRole (config/rbac/role.yaml).
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd webhook paths="{./api/...,./internal/controller/...}" output:crd:artifacts:config=config/crd/bases
	@$(MAKE) --no-print-directory chart-copy

.PHONY: generate
generate: controller-gen ## Generate the API types' DeepCopy methods.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt",year=$(YEAR) paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt -w on the tree.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (config: .golangci.yml).
	"$(GOLANGCI_LINT)" run ./...

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	"$(GOLANGCI_LINT)" run --fix ./...

.PHONY: verify-generated
verify-generated: manifests generate ## Fail if go mod tidy, make manifests or make generate would change a tracked file.
	@go mod tidy -diff >/dev/null 2>&1 || { \
	  echo "go mod tidy would change go.mod or go.sum:"; go mod tidy -diff || true; exit 1; }
	@changed="$$(git status --porcelain -- api config/crd config/rbac)"; \
	if [ -n "$$changed" ]; then \
	  echo "make manifests generate changed these files; commit the regenerated output:"; \
	  echo "$$changed"; git --no-pager diff --stat -- api config/crd config/rbac; exit 1; \
	fi

# GO_TEST_FLAGS are passed to go test (hack/go-test.sh adds -v to count the results).
GO_TEST_FLAGS ?= -count=1
# GO_TEST_PACKAGES are the packages make test runs.
GO_TEST_PACKAGES ?= ./...

.PHONY: test
test: verify-generated lint envtest-assets ## Check generated files, lint, then run every test against envtest (and PostgreSQL when hack/postgres.sh exists).
	@assets="$$(hack/envtest-binaries.sh | tail -n1)"; \
	run=""; \
	if [ -x hack/postgres.sh ]; then run="hack/postgres.sh run --"; fi; \
	echo "KUBEBUILDER_ASSETS=$$assets $$run hack/go-test.sh $(GO_TEST_FLAGS) $(GO_TEST_PACKAGES)"; \
	KUBEBUILDER_ASSETS="$$assets" $$run hack/go-test.sh $(GO_TEST_FLAGS) $(GO_TEST_PACKAGES) && \
	echo "Fuzzing each parser and request body briefly ($(TEST_FUZZTIME) a target)" && \
	$$run $(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

# TEST_FUZZTIME is how much make test fuzzes each target after the tests: an execution
# count, because a duration races the fuzz coordinator's deadline in Go 1.26 (golang/go#75804)
# and fails spuriously on a loaded machine.
TEST_FUZZTIME ?= 10000x

.PHONY: fuzz
fuzz: fuzz-store fuzz-scim ## Run every fuzz target for FUZZTIME (the parsers, the SQL filter translation, SCIM request bodies).

.PHONY: test-unit
test-unit: envtest-assets ## Run the tests only (no generation check, no lint).
	KUBEBUILDER_ASSETS="$$(hack/envtest-binaries.sh | tail -n1)" hack/go-test.sh $(GO_TEST_FLAGS) $(GO_TEST_PACKAGES)

.PHONY: envtest-assets
envtest-assets: ## Build kube-apiserver and etcd into bin/k8s (cached; about 5 minutes the first time).
	@hack/envtest-binaries.sh >/dev/null

##@ Build

# COMMANDS are the directories under cmd/, each a main package; the manager is cmd/main.go.
COMMANDS := $(notdir $(patsubst %/,%,$(wildcard cmd/*/)))

.PHONY: build
build: ## Build bin/manager and one binary per cmd/* directory (bin/scim-server, bin/oktasim, ...).
	go build -o bin/manager ./cmd
	@for c in $(COMMANDS); do echo "go build -o bin/$$c ./cmd/$$c"; go build -o "bin/$$c" "./cmd/$$c"; done

.PHONY: run
run: manifests generate ## Run the manager against the current kubeconfig context ($KUBECONFIG, else ~/.kube/config).
	go run ./cmd

.PHONY: docker-build
docker-build: ## Build the manager's container image.
	$(CONTAINER_TOOL) build -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push the manager's container image.
	$(CONTAINER_TOOL) push ${IMG}

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml: the CRDs and the operator's deployment.
	mkdir -p dist
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install the CRDs into the current kubeconfig context ($KUBECONFIG, else ~/.kube/config).
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" apply -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRDs from the cluster (ignore-not-found=true to ignore missing ones).
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator to the current kubeconfig context ($KUBECONFIG, else ~/.kube/config).
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" apply -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator from the cluster.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

KUBECTL ?= kubectl
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
KUBEBUILDER ?= $(LOCALBIN)/kubebuilder

# Pinned tool versions. kustomize v5.8.3 needs Go 1.27, so v5.8.2.
KUSTOMIZE_VERSION ?= v5.8.2
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.13.1
KUBEBUILDER_VERSION ?= v4.16.0

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Build kustomize into ./bin if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Build controller-gen into ./bin if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Build golangci-lint (plain build, no plugins) into ./bin if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: kubebuilder
kubebuilder: $(KUBEBUILDER) ## Build the kubebuilder CLI into ./bin if necessary (to scaffold new APIs).
$(KUBEBUILDER): $(LOCALBIN)
	$(call go-install-tool,$(KUBEBUILDER),sigs.k8s.io/kubebuilder/v4,$(KUBEBUILDER_VERSION))

# go-install-tool builds a pinned tool into ./bin as <name>-<version> and points <name> at it,
# so changing a version above rebuilds it. $1: target path, $2: package, $3: version.
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$$(realpath "$(1)-$(3)")" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Building $${package} into $(LOCALBIN)" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef

# Each area of the project keeps its own targets in mk/<area>.mk.
-include mk/*.mk
