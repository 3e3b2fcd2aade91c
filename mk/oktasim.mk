##@ Okta simulator

OKTASIM_LISTEN ?= 127.0.0.1:0
OKTASIM_TOKEN ?=

.PHONY: oktasim
oktasim: ## Build bin/oktasim, the local Okta org simulator.
	go build -o bin/oktasim ./cmd/oktasim

.PHONY: oktasim-roster
oktasim-roster: ## Regenerate testdata/roster.json (deterministic; the roster test fails when it is stale).
	go run ./cmd/rostergen -out testdata/roster.json

.PHONY: test-oktasim
test-oktasim: ## Test the simulator with okta-sdk-golang, its SCIM push engine, the roster and the command.
	go test ./internal/oktasim/... ./cmd/oktasim/... ./cmd/rostergen/...

.PHONY: oktasim-run
oktasim-run: oktasim ## Serve a simulated org seeded with the roster (OKTASIM_LISTEN, OKTASIM_TOKEN).
	bin/oktasim --listen $(OKTASIM_LISTEN) $(if $(OKTASIM_TOKEN),--api-token $(OKTASIM_TOKEN)) --roster testdata/roster.json -v
