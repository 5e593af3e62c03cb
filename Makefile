# The README's two commands: `go run . demo` runs the portal, `make test`
# installs what the tests need and runs them all.

GO      ?= go
export GOFLAGS ?= -buildvcs=false
# The browser tests use Debian's Chromium; never a browser a tool downloads.
export PORTAL_CHROMIUM ?= /usr/bin/chromium
export PORTAL_AXE ?= $(CURDIR)/node_modules/axe-core/axe.min.js

# Static-analysis tools, pinned, installed into .cache/tools.
TOOLS   := $(CURDIR)/.cache/tools
# The offline copy of the Go vulnerability database that sits beside the
# project on the build machines; elsewhere govulncheck uses its own default.
VULNDB  := $(wildcard $(CURDIR)/../shared/vulndb)

.PHONY: test short deps deps-apt deps-npm vet lint bench demo

# Every package on SQLite (and the store's contract on PostgreSQL too), then
# the end-to-end tests again on a throwaway PostgreSQL (app/pgtest).
test: deps vet lint
	$(GO) test -race -count=1 -timeout 30m ./...
	PORTAL_TEST_DB=postgres $(GO) test -race -count=1 -timeout 60m ./e2e/

# The fast inner loop: every test but the browser ones, no race detector.
short:
	$(GO) test -short -count=1 ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

deps: deps-apt deps-npm

# go vet, staticcheck, gosec (each exclusion is a #nosec comment with its
# reason, next to the code) and govulncheck: zero findings, or the build fails.
lint: $(TOOLS)/staticcheck $(TOOLS)/gosec $(TOOLS)/govulncheck
	$(TOOLS)/staticcheck ./...
	$(TOOLS)/gosec -quiet -exclude-generated ./...
	$(TOOLS)/govulncheck $(if $(VULNDB),-db file://$(VULNDB)) ./...

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
$(TOOLS)/gosec:
	GOBIN=$(TOOLS) $(GO) install github.com/securego/gosec/v2/cmd/gosec@v2.29.0
$(TOOLS)/govulncheck:
	GOBIN=$(TOOLS) $(GO) install golang.org/x/vuln/cmd/govulncheck@v1.8.0

# Chromium for the browser tests, poppler-utils (pdftotext) for the PDF
# tests, Debian's PostgreSQL server for the PostgreSQL tests (the tests run
# initdb themselves; the package's own cluster is not used).
deps-apt:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make test: run as root (or install chromium poppler-utils fonts-dejavu-core postgresql yourself)"; exit 1; fi; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends \
	    chromium fonts-dejavu-core poppler-utils postgresql; \
	fi

# axe-core, pinned in package.json and package-lock.json.
deps-npm: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Every hot path beside its raw limit, measured in the same run, as one
# table, with the dashboard at 100,000 and at 1,000,000 employees (on SQLite
# and on PostgreSQL), signing on PostgreSQL by one node and by two, and the
# evidence log at a million records (PORTAL_BENCH_1M=0 leaves the millions out).
bench:
	{ $(GO) test -run '^$$' -bench 'CertificateVsBare' -benchtime 2s ./app/pdf/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkSign$$|SignConcurrent' -benchtime 4000x ./e2e/ && \
	  $(GO) test -run '^$$' -bench 'Pages' -benchtime 3s ./e2e/ && \
	  $(GO) test -run '^$$' -bench 'CertificateZip1000' -benchtime 3x ./e2e/ && \
	  PORTAL_BENCH_1M=$${PORTAL_BENCH_1M:-1} $(GO) test -run '^$$' -bench 'Dashboard|Import100k|ReminderPass|AuthorizationSync|^BenchmarkLog$$' -benchtime 3x -timeout 30m ./app/store/ && \
	  $(GO) test -run '^$$' -bench 'ExportMemory' -benchtime 1x ./app/store/ && \
	  $(GO) test -run '^$$' -bench 'SignPostgres' -benchtime 2000x -timeout 30m ./e2e/ && \
	  $(GO) test -run '^$$' -bench 'CopyToPostgres' -benchtime 1x -timeout 20m ./app/store/ && \
	  PORTAL_BENCH_DB=postgres PORTAL_BENCH_1M=$${PORTAL_BENCH_1M:-1} $(GO) test -run '^$$' -bench 'Dashboard' -benchtime 3x -timeout 60m ./app/store/ && \
	  $(GO) test -run '^$$' -bench 'Drain' -benchtime 2x ./app/mail/ ; } | tee bench-results.txt | $(GO) run ./tools/benchtable

demo:
	$(GO) run . demo
