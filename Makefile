# The README's two commands: `go run . demo` runs the portal, `make test`
# installs what the tests need and runs them all.

GO      ?= go
export GOFLAGS ?= -buildvcs=false
# The browser tests use Debian's Chromium; never a browser a tool downloads.
export PORTAL_CHROMIUM ?= /usr/bin/chromium
export PORTAL_AXE ?= $(CURDIR)/node_modules/axe-core/axe.min.js

.PHONY: test deps deps-apt deps-npm vet bench demo

test: deps vet
	$(GO) test -race -count=1 -timeout 30m ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

deps: deps-apt deps-npm

# Chromium for the browser tests, poppler-utils (pdftotext) for the PDF tests.
deps-apt:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make test: run as root (or install chromium poppler-utils fonts-dejavu-core yourself)"; exit 1; fi; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends \
	    chromium fonts-dejavu-core poppler-utils; \
	fi

# axe-core, pinned in package.json and package-lock.json.
deps-npm: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

demo:
	$(GO) run . demo
