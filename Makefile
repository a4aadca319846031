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

.PHONY: help run build web web-deps go-build test test-go test-race test-fuzz test-web test-e2e deps services-start services-stop lint bench clean

help:
	@echo "make run    build the web UI and the binary, start the console on :8048 (embedded defaults)"
	@echo "make test   install test services if missing, start them, run every test"
	@echo "make build  build bin/osprey with the web UI embedded"
	@echo "make lint   gofmt, go vet, staticcheck"
	@echo "make bench  run the benchmarks and write docs/BENCHMARKS.md"

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

deps:
	deploy/scripts/install-deps.sh

services-start: deps
	$(SERVICES) start

services-stop:
	$(SERVICES) stop

# make test: services up, lint, every suite, services down (also on failure).
test: services-start
	@status=0; \
	$(MAKE) --no-print-directory lint test-go test-fuzz test-web test-e2e || status=$$?; \
	$(SERVICES) stop || true; \
	exit $$status

test-go:
	. $(SVC_ENV) && $(GO) test -count=1 -timeout 20m $(filter-out $(RACE_PKGS),$(GOPKGS))
	. $(SVC_ENV) && if [ -n "$(RACE_PKGS)" ]; then $(GO) test -race -count=1 -timeout 25m $(RACE_PKGS); fi

# Each fuzz target runs briefly; a crasher fails the build and is saved under testdata/fuzz.
test-fuzz:
	FUZZTIME=$(FUZZTIME) deploy/scripts/fuzz.sh

test-web: web-deps
	npm test

test-e2e: build
	OSPREY_BIN=$(CURDIR)/$(BIN) npm run e2e

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(GOPKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(GOPKGS)

# make bench: every benchmark beside its reference in one run (under 15 min), table on stdout, report in
# docs/BENCHMARKS.md. BENCH_FLAGS passes flags, e.g. BENCH_FLAGS="-quick" or BENCH_FLAGS="-only broker,collector".
bench: deps
	deploy/scripts/bench.sh $(BENCH_FLAGS)

clean:
	rm -rf bin web/dist .cache/services
