# libopenaimodel - build, test, install.
#   make            release library: .build/release/libopenaimodel.so (+ .so.1)
#   make test       every test suite (Swift, C, Python, examples) against the test server
#   make demo       the demo (examples/demo.c), end to end; demo-python: examples/python/demo.py
#   make examples   the C examples, into examples/bin, against the library built here
#   make bench      benchmarks against the official SDK and a bare libcurl loop
#                   (bench/run.py; BENCH_QUICK=1 for a short run)
#   make install PREFIX=/usr/local
#   make dist       a library with the Swift runtime linked in, into dist/
#   make sanitize   Swift and C tests under AddressSanitizer, the threads test
#                   under ThreadSanitizer (separate builds in .build-asan, .build-tsan)
#   make fuzz       libFuzzer targets, FUZZ_RUNS inputs each (default 1,000,000)

PREFIX   ?= /usr/local
SWIFT    ?= swift
PYTHON   ?= python3
CC       ?= cc
BUILD    := .build/release
LIB      := $(BUILD)/libopenaimodel.so
VERSION  := 1.0.0
SOVER    := 1

# The examples' warnings; `make test` builds them with -Werror too.
EXAMPLE_CFLAGS ?= -std=c99 -O2 -g -Wall -Wextra
# The toolchain's static Swift libraries (for make dist).
SWIFT_STATIC ?= $(abspath $(dir $(realpath $(shell command -v $(SWIFT))))/../lib/swift_static/linux)
DIST       := dist
DIST_BUILD := .build-dist/release

.PHONY: all lib deps test test-swift test-c test-python test-examples examples demo demo-python \
	bench install uninstall dist clean sanitize sanitize-address sanitize-thread fuzz fuzz-build fuzz-short

all: lib

deps:
	@sh scripts/deps.sh

lib: deps
	$(SWIFT) build -c release --product openaimodel
	ln -sf libopenaimodel.so $(BUILD)/libopenaimodel.so.$(SOVER)

# pytest's "no tests ran" (exit 5) is not a failure.
PYTEST = OPENAIMODEL_LIBRARY=$(CURDIR)/$(LIB) $(PYTHON) -m pytest -q -p no:cacheprovider

test: lib test-swift fuzz-short
	$(PYTEST) Tests || [ $$? -eq 5 ]

test-swift: deps
	$(SWIFT) test

test-c: lib
	$(PYTEST) Tests/c || [ $$? -eq 5 ]

test-python: lib
	$(PYTEST) Tests/python || [ $$? -eq 5 ]

test-examples: lib
	$(PYTEST) Tests/examples || [ $$? -eq 5 ]

examples: lib
	$(MAKE) -C examples CC="$(CC)" CFLAGS="$(EXAMPLE_CFLAGS)" OM_CFLAGS="-I$(CURDIR)/include" \
		OM_LIBS="-L$(CURDIR)/$(BUILD) -lopenaimodel -Wl,-rpath,$(CURDIR)/$(BUILD)"

# Without OPENAI_API_KEY (or OPENAI_BASE_URL) the demo runs against the local test server.
demo: examples
	@sh scripts/demo.sh examples/bin/demo

demo-python: lib
	@OPENAIMODEL_LIBRARY=$(CURDIR)/$(LIB) PYTHONPATH=$(CURDIR)/bindings/python \
		sh scripts/demo.sh $(PYTHON) examples/python/demo.py

# Takes several minutes; no part of `make test`.
bench: lib
	$(PYTHON) bench/run.py

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libopenaimodel.so.$(SOVER)
	ln -sf libopenaimodel.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libopenaimodel.so
	install -m 0644 include/openaimodel.h $(DESTDIR)$(PREFIX)/include/openaimodel.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' openaimodel.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/openaimodel.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libopenaimodel.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libopenaimodel.so \
		$(DESTDIR)$(PREFIX)/include/openaimodel.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/openaimodel.pc

# A release library that needs no Swift toolchain on the host: the Swift
# runtime is linked in statically (its symbols stay hidden: only om_* is
# exported). Built in its own scratch folder, so it never invalidates the
# normal build. dist/: lib/libopenaimodel.so.1 (stripped), the .so link,
# include/openaimodel.h, lib/pkgconfig/openaimodel.pc (relocatable), and a
# tarball of those.
dist: deps
	$(SWIFT) build -c release --product openaimodel --scratch-path .build-dist \
		-Xswiftc -static-stdlib -Xlinker -L$(SWIFT_STATIC)
	rm -rf $(DIST)
	install -d $(DIST)/lib/pkgconfig $(DIST)/include
	strip --strip-unneeded -o $(DIST)/lib/libopenaimodel.so.$(SOVER) $(DIST_BUILD)/libopenaimodel.so
	ln -sf libopenaimodel.so.$(SOVER) $(DIST)/lib/libopenaimodel.so
	install -m 0644 include/openaimodel.h $(DIST)/include/openaimodel.h
	sed -e 's|@PREFIX@|$${pcfiledir}/../..|g' -e 's|@VERSION@|$(VERSION)|g' openaimodel.pc.in \
		> $(DIST)/lib/pkgconfig/openaimodel.pc
	tar -C $(DIST) -czf $(DIST)/libopenaimodel-$(VERSION)-linux-$$(uname -m).tar.gz lib include
	@if readelf -d $(DIST)/lib/libopenaimodel.so.$(SOVER) | grep -q 'NEEDED.*libswift'; then \
		echo "dist: the library still needs a Swift runtime library" >&2; exit 1; fi
	@echo "dist: $(DIST)/lib/libopenaimodel.so.$(SOVER), $$(stat -c %s $(DIST)/lib/libopenaimodel.so.$(SOVER)) bytes, needs:" \
		$$(readelf -d $(DIST)/lib/libopenaimodel.so.$(SOVER) | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p')

clean:
	rm -rf .build .build-dist .build-asan .build-tsan $(DIST) Tests/c/bin Tests/c/bin-* Tests/fuzz/bin examples/bin

# ---- sanitizers ----
# The library and the Swift tests are built with the sanitizer (debug, own
# scratch folders); the C programs by the toolchain's clang with the same one
# (Tests/c/test_c.py reads OM_TEST_SANITIZE). Any report fails the run.
ASAN_LIB := $(CURDIR)/.build-asan/debug/libopenaimodel.so
TSAN_LIB := $(CURDIR)/.build-tsan/debug/libopenaimodel.so
SAN_PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider
# LeakSanitizer on; reports are fatal; the C tests' own allocations that
# live until exit (a few static buffers) are not leaks of the library.
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/sanitize/lsan.supp:print_suppressions=0
TSAN_ENV = TSAN_OPTIONS=halt_on_error=0:exitcode=66:suppressions=$(CURDIR)/Tests/sanitize/tsan.supp

sanitize: sanitize-address sanitize-thread

sanitize-address: deps
	$(SWIFT) build --sanitize=address --scratch-path .build-asan --product openaimodel
	ln -sf libopenaimodel.so .build-asan/debug/libopenaimodel.so.$(SOVER)
	$(ASAN_ENV) $(SWIFT) test --sanitize=address --scratch-path .build-asan
	$(ASAN_ENV) OM_TEST_SANITIZE=address OM_TEST_LEAK_CYCLES=1000 OPENAIMODEL_LIBRARY=$(ASAN_LIB) \
		$(SAN_PYTEST) Tests/c

sanitize-thread: deps
	$(SWIFT) build --sanitize=thread --scratch-path .build-tsan --product openaimodel
	ln -sf libopenaimodel.so .build-tsan/debug/libopenaimodel.so.$(SOVER)
	$(TSAN_ENV) OM_TEST_SANITIZE=thread OM_TEST_THREAD_ITERATIONS=60 OPENAIMODEL_LIBRARY=$(TSAN_LIB) \
		$(SAN_PYTEST) Tests/c -k "test_threads or test_faults or test_spine"

# ---- fuzzing ----
# libFuzzer targets (Tests/fuzz): the library's sources and the targets built
# as one module with -sanitize=fuzzer,address. `make fuzz` runs each for
# FUZZ_RUNS inputs; `make test` runs each for FUZZ_SHORT_RUNS.
FUZZ_RUNS ?= 1000000
FUZZ_SHORT_RUNS ?= 20000
FUZZ_TARGETS := sse csv reply replyscan sniff retry errorbody
FUZZ_BIN := Tests/fuzz/bin/omfuzz
FUZZ_SOURCES := $(shell find Sources/OpenAIModel -name '*.swift') Tests/fuzz/FuzzTargets.swift \
	Tests/fuzz/build.sh include/openaimodel.h

$(FUZZ_BIN): $(FUZZ_SOURCES)
	sh Tests/fuzz/build.sh

fuzz-build: deps $(FUZZ_BIN)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do sh Tests/fuzz/run.sh $$t $(FUZZ_RUNS) || exit 1; done

fuzz-short: fuzz-build
	@for t in $(FUZZ_TARGETS); do sh Tests/fuzz/run.sh $$t $(FUZZ_SHORT_RUNS) || exit 1; done
