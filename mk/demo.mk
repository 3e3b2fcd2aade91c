# mk/demo.mk: the main job on one machine, `make demo` (test/demo), and the e2e test that runs
# the same path with assertions (test/e2e).

##@ Demo

# DEMO_DIR keeps the demo's logs and state; empty means a new directory under $TMPDIR.
DEMO_DIR ?=

.PHONY: demo-binaries
demo-binaries: ## Build bin/scim-server, bin/demo and the local cluster's binaries (cached).
	@echo "demo: building bin/scim-server and bin/demo"
	go build -o bin/scim-server ./cmd/scim-server
	go build -o bin/demo ./test/demo/cmd/demo
	@echo "demo: local cluster binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, kubectl); the first build takes several minutes"
	hack/envtest-binaries.sh --cluster

.PHONY: demo
demo: demo-binaries ## Run the main job locally: cluster, oktasim, operator, samples, SCIM server, manual step, push, fault and recovery.
	bin/demo $(if $(DEMO_DIR),--dir "$(DEMO_DIR)")

.PHONY: test-e2e
test-e2e: demo-binaries ## Run only the e2e test (test/e2e) against a fresh local cluster.
	go test ./test/e2e/ -count=1 -v
