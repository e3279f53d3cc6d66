# ringflow — see README.md. `make demo` and `make test` install what is missing.

GO        ?= go
BIN       := bin/ringflow
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/ringflow/ringflow/pkg/cli.version=$(VERSION)

# Every nix call of the tests and the demo: flakes on, no binary caches
# (these machines have no network), no sandbox (builders use /bin/sh).
# An operator's own NIX_CONFIG wins.
define NIX_TEST_CONFIG
experimental-features = nix-command flakes
substituters =
sandbox = false
endef
NIX_CONFIG ?= $(NIX_TEST_CONFIG)
export NIX_CONFIG

.PHONY: all deps build test test-short test-matrix lint demo man bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ringflow

# The whole suite on this machine's Nix, then the Nix-facing tests on Nix
# 2.26 and 2.34 in Debian roots made on first use (README: Nix versions).
# The trixie root is made first: it is the remote builder of
# test/remotebuilder on this machine's Nix. test/crash's kill -9 loop takes
# minutes, more on a busy machine: past go test's default 10m per package.
test: deps lint
	scripts/nix-matrix.sh --setup trixie
	$(GO) test -count=1 -timeout 30m ./...
	scripts/nix-matrix.sh

test-matrix: deps
	scripts/nix-matrix.sh

test-short:
	$(GO) test -short ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) tool staticcheck ./...

demo: deps build
	scripts/demo.sh $(BIN)

man:
	$(GO) run ./scripts/mkman docs/man

# The benchmarks of docs/benchmarks.md: ringflow build against nix's own
# CLI on generated 100-host fleets, then git ancestry on a 100 000-commit
# repository against the git CLI. Several minutes; not part of make test.
bench: deps build
	$(GO) run ./scripts/benchbuild -ringflow $(BIN)
	scripts/bench-git.sh

# Each fuzz target for FUZZTIME (make fuzz FUZZTIME=10m). A failing input is
# saved under the package's testdata/fuzz/FuzzX/ and from then on runs with
# every go test as a regression test.
FUZZTIME ?= 1m
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) ./pkg/config/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./pkg/flakelock/
	$(GO) test -run='^$$' -fuzz='^FuzzDiff$$' -fuzztime=$(FUZZTIME) ./pkg/flakelock/
	$(GO) test -run='^$$' -fuzz='^FuzzAssign$$' -fuzztime=$(FUZZTIME) ./pkg/membership/
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./pkg/ledger/

clean:
	rm -rf bin docs/man
