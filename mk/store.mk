##@ Directory store and filter grammar

STORE_PKGS := ./internal/filter/... ./internal/directory/...
FUZZTIME ?= 10s

.PHONY: test-store
test-store: ## Test the filter parsers and the directory store (PostgreSQL too when SCIM_TEST_POSTGRES_URL is set).
	go test $(STORE_PKGS)

.PHONY: test-store-pg
test-store-pg: ## Test the directory against SQLite and a throwaway PostgreSQL 15 started by hack/postgres.sh.
	hack/postgres.sh run -- go test -count=1 $(STORE_PKGS)

.PHONY: fuzz-store
fuzz-store: ## Fuzz the filter and PATCH path parsers, the SQL filter translation and the stored-user reader briefly (FUZZTIME each).
	go test ./internal/filter -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	go test ./internal/filter -run '^$$' -fuzz '^FuzzParsePath$$' -fuzztime $(FUZZTIME)
	go test ./internal/filter -run '^$$' -fuzz '^FuzzUnquote$$' -fuzztime $(FUZZTIME)
	go test ./internal/directory -run '^$$' -fuzz '^FuzzListUsersFilter$$' -fuzztime $(FUZZTIME)
	go test ./internal/directory -run '^$$' -fuzz '^FuzzDecodeUserDoc$$' -fuzztime $(FUZZTIME)
	go test ./internal/directory -run '^$$' -fuzz '^FuzzParseTime$$' -fuzztime $(FUZZTIME)

.PHONY: bench-store
bench-store: ## Go benchmarks of the directory: lookup at 1k/100k users, create vs raw insert, paging vs one read.
	go test ./internal/directory -run '^$$' -bench 'Lookup|Create|Raw' -benchtime 2000x -timeout 60m
	go test ./internal/directory -run '^$$' -bench 'ReadAllUsers|PagingVsOneRead' -benchtime 3x -timeout 60m
