# libtsrelu — plain Makefile. Targets: all (default), check, demo, bench,
# install, uninstall, clean. See README.md.

VERSION_MAJOR := $(shell sed -n 's/^\#define TSRELU_VERSION_MAJOR \([0-9]*\).*/\1/p' include/tsrelu.h)
VERSION_MINOR := $(shell sed -n 's/^\#define TSRELU_VERSION_MINOR \([0-9]*\).*/\1/p' include/tsrelu.h)
VERSION_PATCH := $(shell sed -n 's/^\#define TSRELU_VERSION_PATCH \([0-9]*\).*/\1/p' include/tsrelu.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
PCDIR   ?= $(LIBDIR)/pkgconfig
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

PYTHON  ?= /usr/bin/python3
# Debian's interpreter searches PREFIX/lib/pythonX.Y/dist-packages for
# PREFIX=/usr/local; install-python puts the package there by default.
PYVER   := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHONDIR ?= $(PREFIX)/lib/python$(PYVER)/dist-packages
PKG_CONFIG ?= pkg-config
CLANG   ?= clang

# CBLAS: the first of openblas, cblas, blas known to pkg-config; override with
# BLAS_PC=name or BLAS_CFLAGS=... BLAS_LIBS=...
BLAS_PC ?= $(shell for p in openblas cblas blas; do $(PKG_CONFIG) --exists $$p 2>/dev/null && { echo $$p; break; }; done)
BLAS_CFLAGS ?= $(if $(BLAS_PC),$(shell $(PKG_CONFIG) --cflags $(BLAS_PC)))
BLAS_LIBS   ?= $(if $(BLAS_PC),$(shell $(PKG_CONFIG) --libs $(BLAS_PC)),-lblas)
# SUNDIALS CVODE (gradient flow, src/flow.c): Debian's libsundials-dev ships
# no .pc file; libsundials_cvode 6.x carries the serial N_Vector, the dense
# matrix and the dense and SPGMR linear solvers it uses. Override with
# SUNDIALS_CFLAGS=... SUNDIALS_LIBS=...
SUNDIALS_CFLAGS ?=
SUNDIALS_LIBS ?= -lsundials_cvode
# LAPACK (dsyevr for the spectrum, dgetrf/dgetrs for the flow): OpenBLAS ships it inside
# libopenblas, so nothing is added for BLAS_PC=openblas; the reference build
# (BLAS_PC=blas-netlib) takes Debian's reference LAPACK (lapack-netlib), any
# other BLAS the `lapack` alternative. Override with LAPACK_PC=name or
# LAPACK_LIBS=...
LAPACK_PC ?= $(if $(filter openblas,$(BLAS_PC)),,$(if $(filter %-netlib,$(BLAS_PC)),lapack-netlib,lapack))
LAPACK_LIBS ?= $(if $(LAPACK_PC),$(shell $(PKG_CONFIG) --libs $(LAPACK_PC) 2>/dev/null || echo -llapack))
CHECK_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   ?= $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

# Build variants, each in its own directory so that instrumented objects never
# mix with the normal ones (Python and Julia cannot dlopen a sanitized
# library). `make BUILD=asan variant` builds what scripts/sanitize.sh runs,
# and likewise tsan (scripts/tsan.sh), fuzz (scripts/fuzz.sh) and valgrind
# (scripts/valgrind.sh). The release build is the default: objects in
# build/obj, libraries in lib/.
BUILD ?= release
SANFLAGS := -O1 -g -fno-omit-frame-pointer
ifeq ($(BUILD),release)
  B := build
  LIBOUT := lib
  EX_RPATH := $$ORIGIN/../../lib
  CFLAGS ?= -O3 -g
else ifeq ($(BUILD),asan)
  B := build/asan
  CFLAGS := $(SANFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(BUILD),tsan)
  B := build/tsan
  CC := $(CLANG)
  CFLAGS := $(SANFLAGS) -fsanitize=thread
else ifeq ($(BUILD),fuzz)
  B := build/fuzz
  CC := $(CLANG)
  CFLAGS := $(SANFLAGS) -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all $(FUZZ_DEFS)
else ifeq ($(BUILD),valgrind)
  B := build/valgrind
  CFLAGS := -O1 -g
else
  $(error BUILD=$(BUILD): use release, asan, tsan, fuzz or valgrind)
endif
LIBOUT ?= $(B)/lib
EX_RPATH ?= $$ORIGIN/../lib

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# No FMA contraction: results must not depend on what the compiler fuses.
BASEFLAGS := -std=c11 -ffp-contract=off $(WARN)
LIB_CFLAGS := $(BASEFLAGS) -fPIC -fvisibility=hidden -Iinclude $(BLAS_CFLAGS) $(SUNDIALS_CFLAGS)
LIB_LIBS := $(SUNDIALS_LIBS) $(LAPACK_LIBS) $(BLAS_LIBS) -lquadmath -lm -pthread
TEST_CFLAGS = $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Wno-missing-prototypes -Iinclude -Isrc \
              $(CHECK_CFLAGS) $(BLAS_CFLAGS)

# `make check SANITIZE=1` runs scripts/sanitize.sh instead (BUILD=asan).

# src/simd/: one kernel template compiled per instruction set; only the files
# of a path get its -m flags, and dispatch.c picks a path at run time, so one
# library runs on any x86-64. Other targets build the portable path alone.
SIMD_X86 := $(if $(filter x86_64-% amd64-%,$(shell $(CC) -dumpmachine 2>/dev/null)),1)
SIMD_SRCS := src/simd/dispatch.c src/simd/kernels_portable.c \
             $(if $(SIMD_X86),src/simd/kernels_avx2.c src/simd/kernels_avx512.c)
SRCS := $(wildcard src/*.c) $(SIMD_SRCS)
OBJS := $(SRCS:src/%.c=$(B)/obj/%.o)
# -fno-math-errno -fno-trapping-math: the branch-free angle kernel computes
# every range in every lane (a sqrt or a division of a discarded lane may be
# invalid); these let the compiler do so with vectors. Neither changes a
# computed value (errno and the exception flags are never read).
$(B)/obj/simd/%.o: LIB_CFLAGS += -Isrc -fno-math-errno -fno-trapping-math $(if $(SIMD_X86),-DTSRELU_SIMD_X86)
$(B)/obj/simd/kernels_avx2.o: LIB_CFLAGS += -mavx2 -mfma
$(B)/obj/simd/kernels_avx512.o: LIB_CFLAGS += -mavx2 -mfma -mavx512f -mavx512dq -mavx512vl \
  -mprefer-vector-width=512
SONAME := libtsrelu.so.$(VERSION_MAJOR)
SHLIB  := $(LIBOUT)/libtsrelu.so.$(VERSION)
STLIB  := $(LIBOUT)/libtsrelu.a

TEST_SRCS := $(wildcard tests/unit/check_*.c) tests/unit/fixtures.c
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLES := $(EXAMPLE_SRCS:examples/%.c=$(B)/examples/%)

.PHONY: all check demo bench install uninstall clean deps-check deps-demo deps-bench \
        check-steps test-c test-examples test-bindings abi-check test-abi-break test-install \
        install-python uninstall-python sanitize valgrind tsan fuzz sweep test-sweep variant

all: $(SHLIB) $(LIBOUT)/$(SONAME) $(LIBOUT)/libtsrelu.so $(STLIB) $(if $(filter release,$(BUILD)),pkgconfig/libtsrelu.pc)

# -MMD -MP: every object depends on every header it includes (a touched
# kernel.h rebuilds what inlines it).
$(B)/obj/%.o: src/%.c | $(B)/obj $(B)/obj/simd
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

-include $(OBJS:.o=.d)

$(sort build $(B)/obj $(B)/obj/simd $(B)/examples $(LIBOUT)):
	mkdir -p $@

$(SHLIB): $(OBJS) src/libtsrelu.map | $(LIBOUT)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libtsrelu.map \
	  -Wl,--no-undefined -o $@ $(OBJS) $(LIB_LIBS)

$(LIBOUT)/$(SONAME): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@

$(LIBOUT)/libtsrelu.so: $(LIBOUT)/$(SONAME)
	ln -sf $(SONAME) $@

$(STLIB): $(OBJS) | $(LIBOUT)
	rm -f $@
	ar rcs $@ $(OBJS)

# The .pc file for the PREFIX of this make invocation (install rewrites it).
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCDIR@|$(INCDIR)|g' \
	     -e 's|@VERSION@|$(VERSION)|g' -e 's|@BLAS_PC@|$(BLAS_PC)|g' \
	     -e 's|@LAPACK_LIBS@|$(LAPACK_LIBS)|g' pkgconfig/libtsrelu.pc.in

pkgconfig/libtsrelu.pc: pkgconfig/libtsrelu.pc.in include/tsrelu.h Makefile
	$(PC_SED) > $@

# ---------------------------------------------------------------- tests
# x86-64: the portable kernel template compiled with FMA, as the portable
# path is on targets with the instruction (aarch64, ...), for check_simd.c
# to hold it to the AVX paths' bits; the flags of the kernels above (its
# object matches their pattern) plus -mfma.
FMA2_OBJ := $(if $(SIMD_X86),$(B)/obj/simd/kernels_fma2.o)
$(B)/obj/simd/kernels_fma2.o: tests/unit/kernels_fma2.c src/simd/kernels_impl.h src/simd/asin_rational.h src/simd/simd.h src/kernel.h | $(B)/obj/simd
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -mfma -c $< -o $@

$(B)/run_checks: tests/unit/test_main.c tests/unit/suites.h tests/unit/fixtures.h $(TEST_SRCS) $(STLIB) $(FMA2_OBJ)
	$(CC) $(TEST_CFLAGS) $(if $(FMA2_OBJ),-DTSRELU_TEST_FMA2) -o $@ tests/unit/test_main.c $(TEST_SRCS) \
	  $(FMA2_OBJ) $(STLIB) $(CHECK_LIBS) $(LIB_LIBS)

# No allocation inside a run; OpenBLAS allocates per call when it goes
# multi-threaded, so its thread count is pinned for this test, except on the
# sizes that never call the BLAS (--blas-free).
$(B)/test_noalloc: tests/integration/test_noalloc.c $(STLIB)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

$(B)/isa_trace: tests/integration/isa_trace.c $(STLIB)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

$(B)/thread_test: tests/integration/thread_test.c $(STLIB)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(STLIB) $(LIB_LIBS)

# examples link the shared library, as users do
$(B)/examples/%: examples/%.c $(SHLIB) $(LIBOUT)/libtsrelu.so | $(B)/examples
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude -o $@ $< -L$(LIBOUT) -ltsrelu -Wl,-rpath,'$(EX_RPATH)' -lm

# the libFuzzer harness (BUILD=fuzz) and its plain replayer (for valgrind)
$(B)/fuzz_api: tests/fuzz/fuzz_api.c $(STLIB)
	$(CC) $(TEST_CFLAGS) -fsanitize=fuzzer -o $@ $< $(STLIB) $(LIB_LIBS)

$(B)/fuzz_replay: tests/fuzz/fuzz_api.c $(STLIB)
	$(CC) $(TEST_CFLAGS) -DFUZZ_STANDALONE -o $@ $< $(STLIB) $(LIB_LIBS)

# What each variant's script runs.
VARIANT_asan := all $(B)/run_checks $(EXAMPLES) $(B)/thread_test
VARIANT_tsan := $(B)/thread_test
VARIANT_fuzz := $(B)/fuzz_api
VARIANT_valgrind := $(B)/run_checks $(B)/thread_test $(B)/fuzz_replay $(B)/examples/quickstart
VARIANT_release := all $(B)/run_checks $(B)/test_noalloc $(EXAMPLES)
variant: $(VARIANT_$(BUILD))

deps-check:
	@sh scripts/deps.sh check

deps-demo:
	@sh scripts/deps.sh demo

deps-bench:
	@sh scripts/deps.sh bench

test-c: $(B)/run_checks $(B)/test_noalloc $(B)/isa_trace
	TSRELU_TEST_DATA=tests/data/reference ./$(B)/run_checks
	OPENBLAS_NUM_THREADS=1 ./$(B)/test_noalloc
	./$(B)/test_noalloc --blas-free
	sh tests/integration/test_isa.sh

# The Figure-1 configurations (k m) that the demo runs as exact GD beside
# online SGD at B = 512 (examples/sgd.c; panel (i) of the demo figure).
SGD_DEMO_KM := 2:20 4:12 4:20 4:40
SGD_DEMO_STEPS ?= 31623
# $(call sgd_demo,FLAGS,DIR): one build/examples/sgd run per configuration
sgd_demo = @mkdir -p $(2) && for km in $(SGD_DEMO_KM); do k=$${km%:*}; m=$${km\#*:}; \
	  echo "== sgd $(1) --k $$k --m $$m --out $(2)/sgd_k$${k}_m$$m.txt"; \
	  ./$(B)/examples/sgd $(1) --k $$k --m $$m --out $(2)/sgd_k$${k}_m$$m.txt || exit 1; done

test-examples: $(EXAMPLES)
	@for e in $(EXAMPLES); do echo "== $$e --quick"; $$e --quick > /dev/null || exit 1; done
	$(call sgd_demo,--quick,build/demo-quick)
	$(PYTHON) examples/plot_demo.py build/demo-quick
	$(PYTHON) examples/plot_flow.py build/demo-quick

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
	sh tests/integration/test_symbols.sh
	$(PYTHON) tests/integration/test_docs.py
	$(PYTHON) tests/integration/test_version.py
	$(MAKE) build/tsrelu-sweep
	$(PYTHON) tests/integration/test_docblocks.py
	sh scripts/first-figure.sh
	$(PYTHON) tests/integration/test_theory_data.py
	$(PYTHON) tests/integration/test_sgd_theory_data.py
	sh tests/integration/test_kill_resume.sh
	$(MAKE) test-sweep
	$(MAKE) test-bindings abi-check test-abi-break test-install

# Python package tests (with examples/quickstart.py, second_order.py, flow.py, sgd.py) and the Julia ccall check
test-bindings: all
	sh tests/integration/test_python.sh
	$(PYTHON) tests/integration/test_julia_ccall.py

# The ABI against the committed baseline (abi/): docs/abi.md
abi-check: all
	sh scripts/abi-check.sh

# abi-check must fail on deliberately broken builds
test-abi-break: all
	sh tests/integration/test_abi_break.sh

# install into a temporary prefix; build with pkg-config; import the package
test-install:
	sh tests/integration/test_install.sh

demo: deps-demo
	$(MAKE) all build/examples/paper_demo build/examples/flow_demo build/examples/sgd
	./build/examples/paper_demo --out demo-output
	./build/examples/flow_demo --out demo-output
	$(call sgd_demo,--steps $(SGD_DEMO_STEPS),demo-output)
	$(PYTHON) examples/plot_demo.py demo-output

# ---------------------------------------------------------------- bench
build/bench_%: bench/bench_%.c bench/bench_time.h $(SHLIB) $(LIBOUT)/libtsrelu.so | build
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude $(BLAS_CFLAGS) -o $@ $< -Llib -ltsrelu \
	  -Wl,-rpath,'$$ORIGIN/../lib' $(BLAS_LIBS) -lm

# the kernels alone (internal: linked statically) for the estimated limit
build/bench_kernels: bench/bench_kernels.c bench/bench_time.h $(STLIB) | build
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude -Isrc -o $@ $< $(STLIB) $(LIB_LIBS)

# two builds of the library in one process, timed alternately (bench/ab_step.sh)
build/ab_step: bench/ab_step.c bench/bench_time.h | build
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude -o $@ $< -ldl

bench: deps-bench
	$(MAKE) all build/bench_step build/bench_batch build/bench_kernels build/bench_hessian build/bench_flow build/bench_sgd
	$(PYTHON) bench/run_bench.py
	$(PYTHON) bench/run_bench_sgd.py

# ---------------------------------------------------------------- sweep tool
# tools/sweep -> build/tsrelu-sweep (threads, shards, merge) and, where mpicc
# exists, build/tsrelu-sweep-mpi (the same program on MPI). docs/sweeps.md.
# The library itself never links MPI.
MPICC ?= mpicc
SWEEP_SRCS := $(filter-out tools/sweep/sweep_mpi.c,$(wildcard tools/sweep/*.c))
SWEEP_HDRS := $(wildcard tools/sweep/*.h)

build/tsrelu-sweep: $(SWEEP_SRCS) $(SWEEP_HDRS) $(SHLIB) $(LIBOUT)/libtsrelu.so | build
	$(CC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -Iinclude -o $@ $(SWEEP_SRCS) -Llib -ltsrelu \
	  -Wl,-rpath,'$$ORIGIN/../lib' -lm -pthread

build/tsrelu-sweep-mpi: $(SWEEP_SRCS) tools/sweep/sweep_mpi.c $(SWEEP_HDRS) $(SHLIB) $(LIBOUT)/libtsrelu.so | build
	$(MPICC) $(CFLAGS) $(LDFLAGS) $(BASEFLAGS) -DTSRELU_SWEEP_MPI -Iinclude -o $@ $(SWEEP_SRCS) \
	  tools/sweep/sweep_mpi.c -Llib -ltsrelu -Wl,-rpath,'$$ORIGIN/../lib' -lm -pthread

sweep: build/tsrelu-sweep $(if $(shell command -v $(MPICC) 2>/dev/null),build/tsrelu-sweep-mpi)

# Without mpicc the MPI binary is missing and tests/integration/test_sweep.sh fails its MPI checks.
test-sweep: build/tsrelu-sweep
	@$(MAKE) --no-print-directory build/tsrelu-sweep-mpi || \
	  echo "test-sweep: build/tsrelu-sweep-mpi not built (mpicc: package libopenmpi-dev)"
	sh tests/integration/test_sweep.sh

# ---------------------------------------------------------------- install
# The library, header, .pc file, tsrelu-sweep (and tsrelu-sweep-mpi when it
# was built) with their man page, and the sweep's Python tools as commands:
# tools/sweep/plot_sweep.py as tsrelu-plot-sweep, summarize.py as
# tsrelu-summarize (both #!/usr/bin/python3, Debian's interpreter with
# matplotlib; their man entries point to tsrelu-sweep(1)). Installing to the live system (no DESTDIR)
# as root refreshes the loader cache, so that programs find libtsrelu.so.1
# at once (a LIBDIR outside the loader's paths still needs ld.so.conf.d or
# LD_LIBRARY_PATH: README).
install: all build/tsrelu-sweep
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(PCDIR) $(DESTDIR)$(BINDIR) \
	  $(DESTDIR)$(MANDIR)/man1
	install -m 644 include/tsrelu.h $(DESTDIR)$(INCDIR)/tsrelu.h
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libtsrelu.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	$(PC_SED) > $(DESTDIR)$(PCDIR)/libtsrelu.pc
	install -m 755 build/tsrelu-sweep $(DESTDIR)$(BINDIR)/
	if [ -x build/tsrelu-sweep-mpi ]; then install -m 755 build/tsrelu-sweep-mpi $(DESTDIR)$(BINDIR)/; fi
	install -m 755 tools/sweep/plot_sweep.py $(DESTDIR)$(BINDIR)/tsrelu-plot-sweep
	install -m 755 tools/sweep/summarize.py $(DESTDIR)$(BINDIR)/tsrelu-summarize
	install -m 644 tools/sweep/tsrelu-sweep.1 $(DESTDIR)$(MANDIR)/man1/
	for t in tsrelu-sweep-mpi tsrelu-plot-sweep tsrelu-summarize; do \
	  echo '.so man1/tsrelu-sweep.1' > $(DESTDIR)$(MANDIR)/man1/$$t.1; done
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null 2>&1; then ldconfig; fi

# The Python package through pip (bindings/python/pyproject.toml), offline,
# with Debian's pip and setuptools; `pip show tsrelu` knows it afterwards.
PIP_INSTALL = $(PYTHON) -m pip install --no-build-isolation --no-index --no-deps --upgrade \
	      --disable-pip-version-check --root-user-action=ignore -q
install-python:
	$(PIP_INSTALL) --target $(DESTDIR)$(PYTHONDIR) ./bindings/python
	rm -rf bindings/python/build bindings/python/tsrelu.egg-info

uninstall-python:
	rm -rf $(DESTDIR)$(PYTHONDIR)/tsrelu $(DESTDIR)$(PYTHONDIR)/tsrelu-*.dist-info

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/tsrelu.h $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libtsrelu.so \
	      $(DESTDIR)$(LIBDIR)/libtsrelu.a $(DESTDIR)$(PCDIR)/libtsrelu.pc \
	      $(DESTDIR)$(BINDIR)/tsrelu-sweep $(DESTDIR)$(BINDIR)/tsrelu-sweep-mpi \
	      $(DESTDIR)$(BINDIR)/tsrelu-plot-sweep $(DESTDIR)$(BINDIR)/tsrelu-summarize \
	      $(DESTDIR)$(MANDIR)/man1/tsrelu-sweep.1 $(DESTDIR)$(MANDIR)/man1/tsrelu-sweep-mpi.1 \
	      $(DESTDIR)$(MANDIR)/man1/tsrelu-plot-sweep.1 $(DESTDIR)$(MANDIR)/man1/tsrelu-summarize.1

clean:
	rm -rf build lib/libtsrelu.* pkgconfig/libtsrelu.pc demo-output
