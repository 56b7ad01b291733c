# certmint: build, test, demo, bench.
# Everything runs with CGO disabled, as the release binaries are built.
export CGO_ENABLED := 0
export GOFLAGS := -buildvcs=false

GO       ?= go
BIN      := bin/certmint
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: all build test test-race test-postgres test-short stress fuzz demo bench release man lint fmt vet clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/certmint

# The whole suite: unit, CLI, interop (openssl, keytool, crypto/tls),
# cross-compilation for windows and darwin, and the vendored go-pkcs12 patch.
# The PostgreSQL tests run when CERTMINT_TEST_DATABASE_URL names a server
# (.ci/run starts one; so does `make test-postgres`), and skip otherwise.
test:
	$(GO) vet ./...
	@[ -n "$$CERTMINT_TEST_DATABASE_URL" ] || echo "note: CERTMINT_TEST_DATABASE_URL is not set: the PostgreSQL tests skip (.ci/run and make test-postgres start a server)"
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory test-race
	cd third_party/go-pkcs12 && $(GO) test -count=1 ./...

# The race detector over the code that runs goroutines: batch's workers and
# recorder, concurrent issuance and CRL publication on one home, serve's
# CRL refresher and republisher, its OCSP responder, doctor's repairs, concurrent metrics scrapes. It needs cgo
# (only for the test binary; certmint itself stays CGO_ENABLED=0).
test-race:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m ./store ./crl ./batch ./metrics ./internal/fsutil ./internal/secret ./ocspresp
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m \
		-run 'Concurrent|Batch|PublishCRL|RecordBeforeRelease|KeepCRLs|Killed' ./ca ./doctor

# The PostgreSQL tests alone, against a throwaway server that .ci/with-postgres
# starts and removes (needs PostgreSQL's server binaries: apt-get install postgresql).
test-postgres:
	CERTMINT_REQUIRE_POSTGRES=1 ./.ci/with-postgres $(GO) test -count=1 -timeout 10m -run 'Postgres|Database' -v ./store ./ca ./doctor ./metrics ./cmd/certmint ./ocspresp ./interop

test-short:
	$(GO) test -short ./...

# The harnesses in their long runs, printing their figures (-v): 8 issue, a
# batch, two revoke and a crl at once on one CA home, for 5 rounds
# (TestStress*); SIGKILL at random moments, 50 times (TestCrash*); `certmint
# serve` answering 200 clients for 10 s while the CRL is re-signed every
# second (TestServeLoad), and its OCSP responder under 200 clients while a
# certificate is revoked every second (TestOCSPLoad). `make test` runs each
# in a short mode.
stress:
	CERTMINT_STRESS=long CERTMINT_REQUIRE_INTEROP=1 $(GO) test -count=1 -timeout 60m -v \
		-run '^(TestStress|TestCrash|TestServeLoad|TestOCSPLoad)' ./interop

# Every fuzzer for FUZZTIME, one at a time: go test -fuzz takes one package
# and one target per run. A crasher is written to the package's
# testdata/fuzz/<target>/: fix the bug and commit the input as a seed.
# Minimizing each new input is capped (FUZZMINIMIZETIME) so the time goes to
# exploring. Exit status 1 if any fuzzer failed.
FUZZTIME         ?= 60s
FUZZMINIMIZETIME ?= 5s
FUZZ_TARGETS     := templates:FuzzParse san:FuzzParse batch:FuzzReader ca:FuzzParseCSR ca:FuzzSignCSR \
                    inspect:FuzzInspect check:FuzzLoad
fuzz:
	@failed=; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "== go test ./$$pkg -fuzz '^$$fn\$$' -fuzztime $(FUZZTIME)"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) \
			|| failed="$$failed ./$$pkg:$$fn"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

# Build, create a CA in ./demo/pki, issue one bundle per built-in template,
# verify each with openssl, and print where the files are.
demo: build
	./scripts/demo.sh $(BIN) demo

# Go benchmarks, then certmint against OpenSSL (and cfssl, mkcert) and the
# in-process floor, side by side in one run (scripts/bench.sh, whose last
# section is OCSP: serve's responder against cfssl ocspserve and openssl ocsp,
# scripts/bench-ocsp.sh); and the OCSP load test in its 10-second run.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 20x ./ca ./crl
	./scripts/bench.sh
	CERTMINT_STRESS=long $(GO) test -count=1 -run '^TestOCSPLoad$$' -v ./interop

# Static binaries (CGO disabled) for every desktop and server certmint runs on,
# with the version stamped in (certmint --version), into dist/.
RELEASE_TARGETS := linux/amd64 linux/arm64 windows/amd64 darwin/amd64 darwin/arm64
release:
	@mkdir -p dist
	@for t in $(RELEASE_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		out=dist/certmint-$(VERSION)-$$os-$$arch$$ext; \
		echo "go build $$out"; \
		GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./cmd/certmint || exit 1; \
	done
	@cd dist && sha256sum certmint-$(VERSION)-* > SHA256SUMS-$(VERSION) && cat SHA256SUMS-$(VERSION)

# The manual page, dist/certmint.1, written by certmint from the same command
# definitions as --help (install: cp dist/certmint.1 /usr/local/share/man/man1/).
man: build
	@mkdir -p dist
	$(BIN) man > dist/certmint.1

lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

clean:
	rm -rf bin demo dist
