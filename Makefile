# libopenaimodel - build, test, install.
#   make            release library: .build/release/libopenaimodel.so (+ .so.1)
#   make test       every test suite (Swift, C, Python) against the test server
#   make demo       the demo (examples/demo.c), end to end
#   make bench      benchmarks against the official SDK and a bare libcurl loop
#                   (bench/run.py; BENCH_QUICK=1 for a short run)
#   make install PREFIX=/usr/local

PREFIX   ?= /usr/local
SWIFT    ?= swift
PYTHON   ?= python3
CC       ?= cc
BUILD    := .build/release
LIB      := $(BUILD)/libopenaimodel.so
VERSION  := 1.0.0
SOVER    := 1

.PHONY: all lib deps test test-swift test-c test-python bench install uninstall clean

all: lib

deps:
	@sh scripts/deps.sh

lib: deps
	$(SWIFT) build -c release --product openaimodel
	ln -sf libopenaimodel.so $(BUILD)/libopenaimodel.so.$(SOVER)

# pytest's "no tests ran" (exit 5) is not a failure.
PYTEST = OPENAIMODEL_LIBRARY=$(CURDIR)/$(LIB) $(PYTHON) -m pytest -q -p no:cacheprovider

test: lib test-swift
	$(PYTEST) Tests || [ $$? -eq 5 ]

test-swift: deps
	$(SWIFT) test

test-c: lib
	$(PYTEST) Tests/c || [ $$? -eq 5 ]

test-python: lib
	$(PYTEST) Tests/python || [ $$? -eq 5 ]

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

clean:
	rm -rf .build Tests/c/bin examples/bin
