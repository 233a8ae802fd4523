# port-server — every target installs what it needs, so a fresh clone just works.
BUN := node_modules/.bin/bun
PREFIX ?= /usr/local
# Where `make install` takes the binaries from (tests point it at their own build).
BUILT ?= bin
# `make install PREFIX=~/.local` may reach make with the ~ unexpanded; expand it here.
BINDIR = $(patsubst ~/%,$(HOME)/%,$(PREFIX))/bin
# all, host, or a comma-separated list such as bun-linux-x64,bun-darwin-arm64
TARGETS ?= all

.PHONY: all install-deps build test check start stop clean bench install install-skill release screenshots

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install-deps: node_modules/.installed

build: install-deps
	$(BUN) scripts/build.ts

test: install-deps
	$(BUN) run typecheck
	$(BUN) run lint
	$(BUN) scripts/build.ts
	$(BUN) test

check: install-deps
	$(BUN) run check

# A daemon that is already running (ours, on this address or another) is left as it is, so
# `make start` twice is no error; status then names it, and warns when it is older than this
# build. `portctl start` alone keeps exit 1 for "already running".
start: build
	@$(BUILT)/portctl status --json | grep -Eq '^  "(running": true|elsewhere")' || $(BUILT)/portctl start
	@$(BUILT)/portctl status

stop:
	$(BUILT)/portctl stop

# Cross-compiles every platform into dist/: archives, SHA256SUMS, port-server.rb.
release: install-deps
	$(BUN) scripts/release.ts --targets $(TARGETS)

# One binary under two names; remove first so a running daemon's file is never rewritten.
install: build
	mkdir -p "$(BINDIR)"
	rm -f "$(BINDIR)/portctl" "$(BINDIR)/port-server"
	cp "$(BUILT)/portctl" "$(BINDIR)/portctl"
	chmod 755 "$(BINDIR)/portctl"
	ln "$(BINDIR)/portctl" "$(BINDIR)/port-server" 2>/dev/null || \
		cp "$(BINDIR)/portctl" "$(BINDIR)/port-server"
	@echo "installed portctl and port-server into $(BINDIR)"

install-skill: build
	./bin/portctl skill install --global

bench: build
	$(BUN) bench/run.ts

# The README's dashboard pictures (docs/dashboard*.png), taken anew by the browser tests.
screenshots: install-deps
	UPDATE_SCREENSHOTS=1 $(BUN) test test/ui/dashboard.test.ts

clean:
	rm -rf bin dist
