# cairn's Makefile. `make help` lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin
CACHE     := .cache
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
FUZZTIME  ?= 10s
DEMO_LISTEN ?= 127.0.0.1:8080

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/cairn.
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/cairn ./cmd/cairn

.PHONY: demo
demo: build cluster-bins ## Run cairn serve against a local control plane and a Git repository made from examples/config-repo (Ctrl-C stops).
	$(GO) build -trimpath -o $(BIN)/cairn-demo ./cmd/cairn-demo
	$(BIN)/cairn-demo -root . -cairn $(BIN)/cairn -listen $(DEMO_LISTEN)

.PHONY: demo-offline
demo-offline: build ## Validate and render the example repository without a cluster (and show a broken one).
	@echo "==> cairn validate examples/config-repo"
	@$(BIN)/cairn validate examples/config-repo
	@echo
	@echo "==> cairn render examples/config-repo --out-dir $(CACHE)/render"
	@rm -rf $(CACHE)/render
	@$(BIN)/cairn render examples/config-repo --out-dir $(CACHE)/render
	@find $(CACHE)/render -name '*.yaml' | sort | sed 's|^|    |'
	@echo
	@echo "==> cairn validate examples/invalid/jsonnet-schema   (a broken repository: exit code 1 is expected)"
	@$(BIN)/cairn validate examples/invalid/jsonnet-schema || true

.PHONY: test
test: lint cluster-bins ## Run every test, with the race detector.
	$(GO) test -race -count=1 ./...

# The local Kubernetes control plane that internal/testcluster starts: built from
# the versions pinned in hack/tools, rebuilt only when those change.
CLUSTER_BINS_DIR := $(CACHE)/cluster-bins
CLUSTER_BINS     := $(addprefix $(CLUSTER_BINS_DIR)/,etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwok-stages.yaml)

.PHONY: cluster-bins
cluster-bins: $(CLUSTER_BINS) ## Build the local Kubernetes control plane into .cache/cluster-bins (about 8 minutes cold).

$(CLUSTER_BINS) &: hack/tools/go.mod hack/tools/go.sum hack/cluster-bins.sh
	GO=$(GO) bash hack/cluster-bins.sh $(CLUSTER_BINS_DIR)

.PHONY: test-short
test-short: ## Run the quick unit tests (seconds).
	$(GO) test -short ./...

.PHONY: lint
lint: ## Check formatting and go vet.
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: fuzz-smoke
fuzz-smoke: ## Run every fuzz target for FUZZTIME (default 10s) each.
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for fn in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "==> $$pkg $$fn"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

.PHONY: bench-validate
bench-validate: ## Compare `cairn validate` with kubeconform on 10,000 generated adapters.
	bash bench/validate.sh

.PHONY: bench-render
bench-render: ## Compare `cairn render` with `helm template` on 1,000 generated adapters.
	bash bench/render.sh

.PHONY: bench-plan
bench-plan: ## Time `cairn plan` on a 1,000-adapter repository.
	bash bench/plan.sh

.PHONY: bench-reconcile
bench-reconcile: cluster-bins ## Reconcile 1,000 generated adapters onto a local control plane, beside a loop over Helm's install action.
	bash bench/reconcile.sh

.PHONY: schemas
schemas: build ## Export the JSON Schemas into schemas/ for editors.
	$(BIN)/cairn schema export schemas

.PHONY: clean
clean: ## Remove build output (keeps the tool cache).
	rm -rf $(BIN)
