# libtsrelu — plain Makefile. Targets: all (default), check, demo, bench,
# install, uninstall, clean. See README.md.

VERSION_MAJOR := $(shell sed -n 's/^\#define TSRELU_VERSION_MAJOR \([0-9]*\).*/\1/p' include/tsrelu.h)
VERSION_MINOR := $(shell sed -n 's/^\#define TSRELU_VERSION_MINOR \([0-9]*\).*/\1/p' include/tsrelu.h)
VERSION_PATCH := $(shell sed -n 's/^\#define TSRELU_VERSION_PATCH \([0-9]*\).*/\1/p' include/tsrelu.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX  ?= /usr/local
PYTHONDIR ?= $(PREFIX)/lib/python3/dist-packages
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
PCDIR   ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC      ?= cc
PYTHON  ?= /usr/bin/python3
PKG_CONFIG ?= pkg-config

# CBLAS: the first of openblas, cblas, blas known to pkg-config; override with
# BLAS_PC=name or BLAS_CFLAGS=... BLAS_LIBS=...
BLAS_PC ?= $(shell for p in openblas cblas blas; do $(PKG_CONFIG) --exists $$p 2>/dev/null && { echo $$p; break; }; done)
BLAS_CFLAGS ?= $(if $(BLAS_PC),$(shell $(PKG_CONFIG) --cflags $(BLAS_PC)))
BLAS_LIBS   ?= $(if $(BLAS_PC),$(shell $(PKG_CONFIG) --libs $(BLAS_PC)),-lblas)
CHECK_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   ?= $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= -O3 -g
# No FMA contraction: results must not depend on what the compiler fuses.
BASEFLAGS := -std=c11 -ffp-contract=off $(WARN)
LIB_CFLAGS := $(BASEFLAGS) -fPIC -fvisibility=hidden -Iinclude $(BLAS_CFLAGS)
LIB_LIBS := $(BLAS_LIBS) -lquadmath -lm -pthread

# `make check SANITIZE=1` runs scripts/sanitize.sh: an ASan+UBSan build of
# the library, every Check suite, the examples and the thread test in its own
# directory (build/sanitize), so instrumented objects never reach build/ or
# lib/ (Python and Julia cannot dlopen an instrumented lib/libtsrelu.so).

SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=build/%.o)
SONAME := libtsrelu.so.$(VERSION_MAJOR)
SHLIB  := lib/libtsrelu.so.$(VERSION)
STLIB  := lib/libtsrelu.a

TEST_SRCS := $(wildcard tests/check_*.c)
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLES := $(EXAMPLE_SRCS:examples/%.c=build/examples/%)

.PHONY: all check demo bench install uninstall clean deps-check deps-demo deps-bench \
        check-steps test-c test-examples test-bindings abi-check test-abi-break test-install \
        install-python uninstall-python sanitize valgrind tsan fuzz sweep test-sweep

all: $(SHLIB) lib/$(SONAME) lib/libtsrelu.so $(STLIB) pkgconfig/libtsrelu.pc

build/%.o: src/%.c src/internal.h include/tsrelu.h | build
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -c $< -o $@

build build/examples lib:
	mkdir -p $@

$(SHLIB): $(OBJS) src/libtsrelu.map | lib
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libtsrelu.map \
	  -Wl,--no-undefined -o $@ $(OBJS) $(LIB_LIBS)

lib/$(SONAME): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@

lib/libtsrelu.so: lib/$(SONAME)
	ln -sf $(SONAME) $@

$(STLIB): $(OBJS) | lib
	rm -f $@
	ar rcs $@ $(OBJS)

# The .pc file for the PREFIX of this make invocation (install rewrites it).
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCDIR@|$(INCDIR)|g' \
	     -e 's|@VERSION@|$(VERSION)|g' -e 's|@BLAS_PC@|$(BLAS_PC)|g' pkgconfig/libtsrelu.pc.in

pkgconfig/libtsrelu.pc: pkgconfig/libtsrelu.pc.in include/tsrelu.h Makefile
	$(PC_SED) > $@

# ---------------------------------------------------------------- tests
build/run_checks: tests/test_main.c tests/suites.h $(TEST_SRCS) $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Wno-missing-prototypes -Iinclude -Isrc $(CHECK_CFLAGS) $(BLAS_CFLAGS) \
	  -o $@ tests/test_main.c $(TEST_SRCS) $(STLIB) $(CHECK_LIBS) $(LIB_LIBS)

# No allocation inside a run; OpenBLAS allocates per call when it goes
# multi-threaded, so its thread count is pinned for this test.
build/test_noalloc: tests/test_noalloc.c $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Wno-missing-prototypes -Iinclude -o $@ $< $(STLIB) $(LIB_LIBS)

build/examples/%: examples/%.c $(SHLIB) lib/libtsrelu.so | build/examples
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude -o $@ $< -Llib -ltsrelu -Wl,-rpath,'$$ORIGIN/../../lib' -lm

deps-check:
	@sh scripts/deps.sh check

deps-demo:
	@sh scripts/deps.sh demo

deps-bench:
	@sh scripts/deps.sh bench

test-c: build/run_checks build/test_noalloc
	TSRELU_TEST_DATA=tests/reference ./build/run_checks
	OPENBLAS_NUM_THREADS=1 ./build/test_noalloc

test-examples: $(EXAMPLES)
	@for e in $(EXAMPLES); do echo "== $$e --quick"; $$e --quick > /dev/null || exit 1; done
	$(PYTHON) examples/plot_demo.py build/demo-quick

# Every test; the last line adds up the counts every runner printed.
check: deps-check
ifeq ($(SANITIZE),1)
	sh scripts/sanitize.sh
else
	@mkdir -p build
	@{ $(MAKE) check-steps; echo $$? > build/check.rc; } 2>&1 | tee build/check.log
	@sh tests/summary.sh build/check.log "$$(cat build/check.rc)"
endif

# Hostile input and faults (docs/fuzzing.md); each builds in its own build/ subdirectory.
sanitize:
	sh scripts/sanitize.sh
valgrind:
	sh scripts/valgrind.sh
tsan:
	sh scripts/tsan.sh
fuzz:
	sh scripts/fuzz.sh $(FUZZ_SECONDS)

check-steps:
	$(MAKE) all
	$(MAKE) test-c
	$(MAKE) test-examples
	sh tests/test_symbols.sh
	sh tests/test_kill_resume.sh
	$(MAKE) test-sweep
	$(MAKE) test-bindings abi-check test-abi-break test-install

# Python package tests (with examples/quickstart.py) and the Julia ccall check
test-bindings: all
	sh tests/test_python.sh
	$(PYTHON) tests/test_julia_ccall.py

# The ABI against the committed baseline (abi/): docs/abi.md
abi-check: all
	sh scripts/abi-check.sh

# abi-check must fail on deliberately broken builds
test-abi-break: all
	sh tests/test_abi_break.sh

# install into a temporary prefix; build with pkg-config; import the package
test-install:
	sh tests/test_install.sh

demo: deps-demo
	$(MAKE) all build/examples/paper_demo
	./build/examples/paper_demo --out demo-output
	$(PYTHON) examples/plot_demo.py demo-output

# ---------------------------------------------------------------- bench
build/bench_%: bench/bench_%.c $(SHLIB) lib/libtsrelu.so | build
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude $(BLAS_CFLAGS) -o $@ $< -Llib -ltsrelu \
	  -Wl,-rpath,'$$ORIGIN/../lib' $(BLAS_LIBS) -lm

bench: deps-bench
	$(MAKE) all build/bench_step build/bench_batch
	$(PYTHON) bench/run_bench.py

# ---------------------------------------------------------------- sweep tool
# tools/sweep -> build/tsrelu-sweep (threads, shards, merge) and, where mpicc
# exists, build/tsrelu-sweep-mpi (the same program on MPI). docs/sweeps.md.
# The library itself never links MPI.
MPICC ?= mpicc
SWEEP_SRCS := $(filter-out tools/sweep/sweep_mpi.c,$(wildcard tools/sweep/*.c))
SWEEP_HDRS := $(wildcard tools/sweep/*.h)

build/tsrelu-sweep: $(SWEEP_SRCS) $(SWEEP_HDRS) $(SHLIB) lib/libtsrelu.so | build
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude -o $@ $(SWEEP_SRCS) -Llib -ltsrelu \
	  -Wl,-rpath,'$$ORIGIN/../lib' -lm -pthread

build/tsrelu-sweep-mpi: $(SWEEP_SRCS) tools/sweep/sweep_mpi.c $(SWEEP_HDRS) $(SHLIB) lib/libtsrelu.so | build
	$(MPICC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -DTSRELU_SWEEP_MPI -Iinclude -o $@ $(SWEEP_SRCS) \
	  tools/sweep/sweep_mpi.c -Llib -ltsrelu -Wl,-rpath,'$$ORIGIN/../lib' -lm -pthread

sweep: build/tsrelu-sweep $(if $(shell command -v $(MPICC) 2>/dev/null),build/tsrelu-sweep-mpi)

# Without mpicc the MPI binary is missing and tests/test_sweep.sh fails its MPI checks.
test-sweep: build/tsrelu-sweep
	@$(MAKE) --no-print-directory build/tsrelu-sweep-mpi || \
	  echo "test-sweep: build/tsrelu-sweep-mpi not built (mpicc: package libopenmpi-dev)"
	sh tests/test_sweep.sh

# ---------------------------------------------------------------- install
install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(PCDIR)
	install -m 644 include/tsrelu.h $(DESTDIR)$(INCDIR)/tsrelu.h
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libtsrelu.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	$(PC_SED) > $(DESTDIR)$(PCDIR)/libtsrelu.pc

install-python:
	install -d $(DESTDIR)$(PYTHONDIR)/tsrelu
	install -m 644 bindings/python/tsrelu/*.py $(DESTDIR)$(PYTHONDIR)/tsrelu/

uninstall-python:
	rm -rf $(DESTDIR)$(PYTHONDIR)/tsrelu

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/tsrelu.h $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libtsrelu.so \
	      $(DESTDIR)$(LIBDIR)/libtsrelu.a $(DESTDIR)$(PCDIR)/libtsrelu.pc

clean:
	rm -rf build lib/libtsrelu.* pkgconfig/libtsrelu.pc demo-output
