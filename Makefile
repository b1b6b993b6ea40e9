# Cesivi: the two commands are `make run` and `make test`; see README.md.
SHELL := bash
GO    ?= go
BIN   := $(CURDIR)/bin

# Packages with concurrency run under the race detector. The edge and the
# farm tests link all of Caddy, whose race build alone would double CI time;
# they, and every package not listed here, run without it.
RACE_DIRS  := internal appserver keyring cmd/cesivi-server caddymodule
ALL_PKGS   := $(shell $(GO) list ./... 2>/dev/null)
MODULE     := $(shell $(GO) list -m 2>/dev/null)
RACE_PKGS  := $(filter $(foreach d,$(RACE_DIRS),$(MODULE)/$(d) $(MODULE)/$(d)/%),$(ALL_PKGS))
# The budget guard runs once, by its own target (bench-smoke), not here.
SMOKE_PKG  := $(MODULE)/tests/benchsmoke
PLAIN_PKGS := $(filter-out $(RACE_PKGS) $(SMOKE_PKG),$(ALL_PKGS))

.PHONY: all build run test test-unit test-e2e vet fmt fuzz bench bench-smoke farm farm-down clean

all: build

build: bin/cesivi-server bin/cesivi-edge

# go build is incremental; always ask it, it knows what changed.
.PHONY: bin/cesivi-server bin/cesivi-edge bin/cesivi-devidp
bin/cesivi-server:
	$(GO) build -o $@ ./cmd/cesivi-server
bin/cesivi-edge:
	$(GO) build -o $@ ./cmd/cesivi-edge
# The local OpenID provider of the farm and the end-to-end tests.
bin/cesivi-devidp:
	$(GO) build -o $@ ./internal/testenv/cmd/devidp

# Single-node Cesivi: server on 127.0.0.1:5000 with InMemory providers, the
# edge on http://localhost:8080 and https://localhost:8443, and a local
# development OpenID provider (users alice and bob) on 127.0.0.1:9998 so sign-in works
# with no external service. Ctrl-C stops all three.
run: build bin/cesivi-devidp
	@echo "Cesivi: http://localhost:8080  https://localhost:8443  (server 127.0.0.1:5000; Ctrl-C stops)"
	@echo "Sign in at http://localhost:8080/oauth2/login as alice / alice-password (the administrator) or bob / bob-password (local development provider on 127.0.0.1:9998)"
	@secret=$$(head -c 24 /dev/urandom | base64 | tr -d '/+='); \
	 bin/cesivi-devidp -addr 127.0.0.1:9998 -client-secret "$$secret" \
	   -redirect-uris http://localhost:8080/oauth2/callback,https://localhost:8443/oauth2/callback,http://127.0.0.1:8080/oauth2/callback \
	   -post-logout-uris http://localhost:8080/,https://localhost:8443/,http://127.0.0.1:8080/ >/dev/null & idp=$$!; \
	 Cesivi__Server__Address=127.0.0.1:5000 \
	 Cesivi__Storage__Provider=InMemory \
	 Cesivi__DistributedState__Provider=InMemory \
	 Cesivi__Sites__Administrators=u-alice \
	 Cesivi__Webhooks__AllowPrivateNetworks=true \
	 bin/cesivi-server & srv=$$!; \
	 trap 'kill -TERM $$srv $$idp 2>/dev/null; wait $$srv $$idp' EXIT; \
	 CESIVI_UPSTREAMS=127.0.0.1:5000 CESIVI_OIDC_ISSUER=http://127.0.0.1:9998/ CESIVI_OIDC_CLIENT_ID=web \
	 CESIVI_OIDC_CLIENT_SECRET="$$secret" bin/cesivi-edge run --config Caddyfile.example --adapter caddyfile

# Everything: vet, formatting, unit and integration tests against real
# Redis/PostgreSQL/Caddy/OpenID provider (started by the tests), short fuzz
# runs, and the farm end-to-end tests. May install redis-server and
# postgresql with apt-get when run as root on Debian.
test: vet build bin/cesivi-devidp
	CESIVI_BIN=$(BIN) $(GO) test -count=1 -timeout 30m -race -v $(RACE_PKGS)
	CESIVI_BIN=$(BIN) $(GO) test -count=1 -timeout 30m -v $(PLAIN_PKGS)
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory fuzz FUZZTIME=60000x

vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

fmt:
	gofmt -w .

# Every fuzz target in the module (found by name) for FUZZTIME each; go test
# runs one -fuzz target at a time. CI gives each target an execution count
# (60000x, a few seconds each) rather than a duration: with a duration,
# Go 1.26's fuzz coordinator can report a spurious "context deadline
# exceeded" failure at the deadline (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 30s
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  pkg=./$$(dirname $${f#./}); \
	  for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

# Micro-benchmarks (ns/op, allocs/op), then the edge against plain Caddy
# reverse_proxy in the same run (six configurations, 10 interleaved
# rounds, each cut into slices; the edges on a CPU of their own, -pin=false
# to share every core) and the document library transfers; writes docs/benchmarks.md
# and its charts, which state how long the run took (printed at the end
# too; the clock starts when make reads this file, so the build counts).
# The Go benchmarks run one package at a time (go test serializes them),
# before the edge benchmark, never beside it; only packages that have
# benchmarks are compiled. BENCH_FLAGS go to cesivi-bench, e.g.
# BENCH_FLAGS="-rounds 12 -note 'Measured on a shared machine.'";
# BENCH_GO_FLAGS to go test, e.g. BENCH_GO_FLAGS=-benchtime=2s.
BENCH_FLAGS ?=
BENCH_GO_FLAGS ?=
BENCH_PKGS = $(sort $(patsubst %/,%,$(dir $(shell grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir=.farm '^func Benchmark' .))))
ifneq ($(filter bench,$(MAKECMDGOALS)),)
BENCH_BEGAN := $(shell date +%s)
endif
bench: build
	@began=$(or $(BENCH_BEGAN),$$(date +%s)); gb=$$(date +%s); \
	echo "CESIVI_BIN=$(BIN) $(GO) test -run='^$$' -bench=. -benchmem $(BENCH_GO_FLAGS) $(BENCH_PKGS)"; \
	CESIVI_BIN=$(BIN) $(GO) test -run='^$$' -bench=. -benchmem $(BENCH_GO_FLAGS) $(BENCH_PKGS) || exit 1; \
	gt=$$(( $$(date +%s) - gb )); \
	echo "$(GO) run ./tests/cmd/cesivi-bench -bin $(BIN) -out docs/benchmarks.md -began $$began -go-bench $${gt}s $(BENCH_FLAGS)"; \
	$(GO) run ./tests/cmd/cesivi-bench -bin $(BIN) -out docs/benchmarks.md -began $$began -go-bench $${gt}s $(BENCH_FLAGS) || exit 1; \
	t=$$(( $$(date +%s) - began )); printf 'make bench took %dm%02ds (Go benchmarks %dm%02ds)\n' $$((t/60)) $$((t%60)) $$((gt/60)) $$((gt%60))

# The CI guard of the budget (docs/bench-smoke.md): counts round trips per
# request (Redis commands through the edge, Redis reads per hot-session
# expiry, SQL statements per item GET and add, introspections per repeated
# bearer token) on a real edge and app server, and fails when a count
# exceeds the budget. Counts, not times; under a minute.
bench-smoke: build
	CESIVI_BIN=$(BIN) $(GO) test -count=1 -timeout 5m -v ./tests/benchsmoke

# The seed's topology as local processes: Redis and PostgreSQL in a
# temporary directory, 3 servers on 5001-5003, 2 edges on 8080/8081 and a
# local OpenID provider. Writes .farm/farm.json; `make farm-down` stops it.
# `make farm FARM_REDIS=hardened` runs Redis as the seed's "Redis Security"
# section configures it (password, renamed commands, TLS only, an ACL user).
# `make farm FARM_SETTINGS=appsettings.json` gives every server that file
# (the seed's Serilog section, say: its File sink writes .farm/logs/server-N/).
FARM_REDIS ?= plain
FARM_SETTINGS ?=
farm: build bin/cesivi-devidp
	$(GO) run ./tests/cmd/cesivi-farm up -bin $(BIN) -state .farm -redis $(FARM_REDIS) $(if $(FARM_SETTINGS),-settings $(FARM_SETTINGS))

farm-down:
	$(GO) run ./tests/cmd/cesivi-farm down -state .farm

clean:
	rm -rf bin .farm

include xcaddy.mk
