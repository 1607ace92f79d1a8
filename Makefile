# Airlock — build, demo, test, bench. Every target installs what it is missing.
SWIFT        ?= swift
BUILD_DIR    := .build/debug
RELEASE_DIR  := .build/release
AIRLOCK      := $(BUILD_DIR)/airlock
PROBE        := .build/airlock-probe
CFLAGS_HELPER := -O2 -static -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong
# The release build links the Swift runtime and Foundation into `airlock` statically: a
# one-shot `airlock exec` then spends no start-up binding a dozen shared Swift libraries (see
# README, Benchmarks). Not the debug build: `swift test` builds without the flag, and the two
# would rebuild every module for each other on each `make test`.
RELEASE_FLAGS ?= --static-swift-stdlib

.PHONY: all deps build release helper demo test test-unit bench lint format clean

all: build

deps:
	@scripts/install-deps.sh

# SwiftPM builds everything, including airlock-helper (plain C, but linked by swiftc). The
# helper is then rebuilt with cc as a static binary, without the Swift runtime or ld.so:
# it starts faster (see README, Benchmarks).
build: deps
	$(SWIFT) build
	@$(MAKE) --no-print-directory helper DIR=$(BUILD_DIR)

release: deps
	$(SWIFT) build -c release $(RELEASE_FLAGS)
	@$(MAKE) --no-print-directory helper DIR=$(RELEASE_DIR)

helper:
	cc $(CFLAGS_HELPER) -o $(DIR)/airlock-helper Sources/airlock-helper/*.c

$(PROBE): Tests/Probes/airlock-probe.c
	@mkdir -p .build
	cc -O2 -Wall -Wextra -o $@ $<

# The demo: build, run the hello-c example job in a sandbox (signing its provenance with the
# runner's key, generated on first use), verify the artifact against it, run what it built.
demo: build
	$(AIRLOCK) run Examples/hello-c/job.yaml --out .build/demo/hello-c
	$(AIRLOCK) keys public > .build/demo/signing.pub
	$(AIRLOCK) verify --provenance .build/demo/hello-c/hello-c.intoto.jsonl --key .build/demo/signing.pub \
	  .build/demo/hello-c/hello
	@echo "--- running the artifact the sandbox built:"
	./.build/demo/hello-c/hello

# All tests. As root this includes the integration tests (namespaces, cgroups, the rootless
# path via an unprivileged uid); as a user it runs the unit tests and the rootless subset.
test: build $(PROBE)
	@scripts/fetch-reference-profiles.sh >/dev/null
	@scripts/install-python-tools.sh
	@scripts/start-services.sh
	AIRLOCK_PROBE=$(CURDIR)/$(PROBE) AIRLOCK_HELPER=$(CURDIR)/$(BUILD_DIR)/airlock-helper \
	  $(SWIFT) test; rc=$$?; scripts/stop-services.sh; exit $$rc
	@scripts/test-unprivileged.sh

test-unit: deps
	$(SWIFT) test --filter 'AirlockCoreTests|AirlockProfileTests|AirlockOSTests|RepoChecksTests'

bench: release
	@scripts/start-services.sh
	$(RELEASE_DIR)/airlock-bench | tee Benchmarks/results.md; rc=$$?; scripts/stop-services.sh; exit $$rc

# Formatting, the helper's warnings, and the layering: every import in Sources must be an edge
# Layers.txt allows, and declared in Package.swift (scripts/check-layers).
lint:
	swift format lint --strict --recursive Sources Tests Package.swift
	cc -fsyntax-only -Wall -Wextra -Werror Sources/airlock-helper/*.c
	scripts/check-layers

format:
	swift format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
