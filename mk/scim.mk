##@ SCIM server

BENCH_USERS ?= 100000
BENCH_SMALL_USERS ?= 1000
BENCH_CONCURRENCY ?= 16
BENCH_DURATION ?= 10s

.PHONY: scim-server
scim-server: ## Build bin/scim-server, the per-agency SCIM server.
	go build -o bin/scim-server ./cmd/scim-server

.PHONY: scim-loadgen
scim-loadgen: ## Build bin/scim-loadgen, the SCIM load generator.
	go build -o bin/scim-loadgen ./cmd/scim-loadgen

.PHONY: test-scim
test-scim: ## Test the SCIM server packages (PostgreSQL too when SCIM_TEST_POSTGRES_URL is set).
	go test ./internal/scim/... ./internal/auth/... ./internal/scimconfig/... ./cmd/scim-server/...

.PHONY: fuzz-scim
fuzz-scim: ## Fuzz the SCIM request bodies, query parameters and JSON writer briefly (FUZZTIME each).
	go test ./internal/scim/ -run '^$$' -fuzz '^FuzzUserBodies$$' -fuzztime $(or $(FUZZTIME),15s)
	go test ./internal/scim/ -run '^$$' -fuzz '^FuzzGroupBodies$$' -fuzztime $(or $(FUZZTIME),15s)
	go test ./internal/scim/ -run '^$$' -fuzz '^FuzzQueryParameters$$' -fuzztime $(or $(FUZZTIME),15s)
	go test ./internal/scim/ -run '^$$' -fuzz '^FuzzQueryParamsGet$$' -fuzztime $(or $(FUZZTIME),15s)
	go test ./internal/scim/ -run '^$$' -fuzz '^FuzzRenderUser$$' -fuzztime $(or $(FUZZTIME),15s)
	go test ./internal/scim/ -run '^$$' -fuzz '^FuzzAppendJSONString$$' -fuzztime $(or $(FUZZTIME),15s)

.PHONY: bench
bench: bench-go bench-store bench-load ## Go benchmarks of the SCIM hot paths and the store, then the load generator (writes docs/benchmarks.md).

.PHONY: bench-go
bench-go: ## Go benchmarks: token checks, rendering, PATCH, lookup and create through the handler.
	go test -run '^$$' -bench . -benchmem ./internal/auth/ ./internal/scim/

.PHONY: bench-load
bench-load: scim-server scim-loadgen ## Start scim-server on 127.0.0.1, load BENCH_USERS users, measure, write docs/benchmarks.md.
	bin/scim-loadgen --server bin/scim-server --users $(BENCH_USERS) --small-users $(BENCH_SMALL_USERS) \
		--concurrency $(BENCH_CONCURRENCY) --duration $(BENCH_DURATION) --out docs/benchmarks.md
