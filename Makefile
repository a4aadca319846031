# Osprey — the two commands are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/osprey
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Every Go package of the module (node_modules can hold stray .go files; never build those).
GOPKGS     = $(shell $(GO) list ./... | grep -v /node_modules/)
SERVICES  := deploy/scripts/services.sh
SVC_ENV   := .cache/services/env.sh
# Packages with concurrent code run their tests under the race detector.
RACE_PKGS  = $(shell $(GO) list ./broker/... ./collector/... ./admin/... ./server/... ./alert/... 2>/dev/null | grep -v /node_modules/)
FUZZTIME  ?= 10s
# The fault suite (chaos/) runs on its own, not beside other packages: its faults are timed.
CHAOS_PKG  = $(shell $(GO) list ./chaos/ 2>/dev/null)
CHAOS_SEEDS ?= 5
CHAOS_CYCLES ?= 2

.PHONY: image help run build web web-deps go-build test test-go test-race test-faults test-chaos test-fuzz test-web test-e2e deps services-start services-stop lint gen-api check-api bench clean

help:
	@echo "make run    build the web UI and the binary, start the console on :8048 (embedded defaults)"
	@echo "make test   install test services if missing, start them, run every test"
	@echo "make build  build bin/osprey with the web UI embedded"
	@echo "make lint   gofmt, go vet, staticcheck, generated API files up to date"
	@echo "make test-chaos  the long fault suite: every fault, both metadata modes, CHAOS_SEEDS random seeds each (root); the 1,000-cycle soak"
	@echo "make gen-api  write web/src/api/openapi.json and the web types generated from it (schema.d.ts)"
	@echo "make bench  run the benchmarks and write docs/BENCHMARKS.md"
	@echo "make image  build the container image localhost/osprey:dev with buildah (no Docker daemon, no base image pulled)"

run: build
	./$(BIN) serve

build: web go-build

node_modules/.package-lock.json: package-lock.json package.json web/package.json
	npm ci --no-audit --no-fund
	@touch $@

web-deps: node_modules/.package-lock.json

web: web-deps
	npm run build

go-build:
	$(GO) build -tags spa -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/osprey

# The image: the web UI, then deploy/scripts/image.sh builds the static binary (CGO_ENABLED=0) and
# runs buildah on deploy/Dockerfile (FROM scratch).
image: web
	deploy/scripts/image.sh build

deps:
	deploy/scripts/install-deps.sh

services-start: deps
	$(SERVICES) start

services-stop:
	$(SERVICES) stop

# make test: services up, lint, every suite, services down (also on failure).
test: services-start
	@status=0; \
	$(MAKE) --no-print-directory lint test-go test-faults test-fuzz test-web test-e2e || status=$$?; \
	$(SERVICES) stop || true; \
	exit $$status

test-go:
	. $(SVC_ENV) && $(GO) test -count=1 -timeout 20m $(filter-out $(RACE_PKGS) $(CHAOS_PKG),$(GOPKGS))
	. $(SVC_ENV) && if [ -n "$(RACE_PKGS)" ]; then $(GO) test -race -count=1 -timeout 25m $(RACE_PKGS); fi

# The fault suite's short version (part of make test): each fault once (seed 1) in both metadata
# modes, about 2 minutes. Needs root (network namespaces, iptables); docs/FAULTS.md.
test-faults: deps
	$(GO) test -count=1 -timeout 10m ./chaos/

# The long fault suite: CHAOS_SEEDS random seeds per fault and mode, each injecting its fault
# CHAOS_CYCLES times; every run's seed is in the output (OSPREY_CHAOS_SEED=<seed> reproduces one).
test-chaos: deps
	mkdir -p .cache
	OSPREY_CHAOS_SEEDS=$(CHAOS_SEEDS) OSPREY_CHAOS_CYCLES=$(CHAOS_CYCLES) $(GO) test -count=1 -timeout 120m -v ./chaos/ 2>&1 | tee .cache/chaos.log
	OSPREY_SOAK_CYCLES=1000 $(GO) test -count=1 -timeout 30m -run 'TestSoakNoLeaks' -v ./server/ 2>&1 | tee -a .cache/chaos.log

# Each fuzz target runs briefly; a crasher fails the build and is saved under testdata/fuzz.
test-fuzz:
	FUZZTIME=$(FUZZTIME) deploy/scripts/fuzz.sh

test-web: web-deps
	npm test

test-e2e: build
	OSPREY_BIN=$(CURDIR)/$(BIN) npm run e2e

lint: check-api
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(GOPKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(GOPKGS)

# The console's OpenAPI document (what GET /api/openapi.json serves, printed by `osprey openapi`) and
# the web's types generated from it with openapi-typescript, both committed under $(API_DIR).
API_DIR := web/src/api
define gen_api
$(GO) run ./cmd/osprey openapi > $(1)/openapi.json.tmp && mv $(1)/openapi.json.tmp $(1)/openapi.json && npx --no-install openapi-typescript $(1)/openapi.json -o $(1)/schema.d.ts
endef

gen-api: web-deps
	$(call gen_api,$(API_DIR))

# check-api (part of lint): regenerate into a temporary folder and compare with what is committed.
check-api: web-deps
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(call gen_api,$$tmp) >/dev/null 2>"$$tmp/gen.log" || { cat "$$tmp/gen.log"; exit 1; }; \
	for f in openapi.json schema.d.ts; do \
		if ! diff -u "$(API_DIR)/$$f" "$$tmp/$$f" >"$$tmp/diff"; then \
			echo "$(API_DIR)/$$f is out of date with the endpoint declarations: run 'make gen-api' and commit the result"; \
			head -n 40 "$$tmp/diff"; exit 1; \
		fi; \
	done

# make bench: every benchmark beside its reference in one run (about 50 min: half of it the kraft section, 10 min the soak), table on stdout, report in
# docs/BENCHMARKS.md. BENCH_FLAGS passes flags, e.g. BENCH_FLAGS="-quick" or BENCH_FLAGS="-only broker,collector".
bench: deps
	deploy/scripts/bench.sh $(BENCH_FLAGS)

clean:
	rm -rf bin web/dist .cache/services
