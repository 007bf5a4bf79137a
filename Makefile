# cairn's Makefile. `make help` lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin
CACHE     := .cache
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
FUZZTIME  ?= 10s

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/cairn.
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/cairn ./cmd/cairn

.PHONY: demo
demo: build ## Validate and render the example repository (and show a broken one).
	@echo "==> cairn validate examples/config-repo"
	@$(BIN)/cairn validate examples/config-repo
	@echo
	@echo "==> cairn render examples/config-repo --out-dir $(CACHE)/demo/rendered"
	@rm -rf $(CACHE)/demo/rendered
	@$(BIN)/cairn render examples/config-repo --out-dir $(CACHE)/demo/rendered
	@find $(CACHE)/demo/rendered -name '*.yaml' | sort | sed 's|^|    |'
	@echo "    $$(grep -h '^kind:' -r $(CACHE)/demo/rendered | sort | uniq -c | tr -s ' ' | paste -sd, -)"
	@echo
	@echo "==> cairn render examples/config-repo --adapter prod/client-northwind-acceptor (its NetworkPolicy)"
	@$(BIN)/cairn render examples/config-repo --adapter prod/client-northwind-acceptor | awk '/^kind: NetworkPolicy/,/^---/' | sed -n '1,60p'
	@echo
	@echo "==> cairn validate examples/invalid/jsonnet-schema   (a broken repository: exit code 1 is expected)"
	@$(BIN)/cairn validate examples/invalid/jsonnet-schema || true
	@echo
	@echo "cairn's reconciler is not built yet: today the demo validates and renders the"
	@echo "example repository. Applying to a cluster, the audit trail, the API and the portal"
	@echo "arrive in later releases (see CHANGELOG.md)."

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

.PHONY: schemas
schemas: build ## Export the JSON Schemas into schemas/ for editors.
	$(BIN)/cairn schema export schemas

.PHONY: clean
clean: ## Remove build output (keeps the tool cache).
	rm -rf $(BIN)
