# Sourced by the scripts in this directory: BLAS_CFLAGS and BLAS_LIBS for the
# CBLAS the Makefile would pick (pkg-config: openblas, then cblas, then blas),
# and CHECK_CFLAGS / CHECK_LIBS when Check is installed.
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
blas_pc=""
for p in openblas cblas blas; do
  if $PKG_CONFIG --exists "$p" 2>/dev/null; then blas_pc=$p; break; fi
done
if [ -n "$blas_pc" ]; then
  BLAS_CFLAGS=$($PKG_CONFIG --cflags "$blas_pc"); BLAS_LIBS=$($PKG_CONFIG --libs "$blas_pc")
else
  BLAS_CFLAGS=""; BLAS_LIBS="-lblas"
fi
CHECK_CFLAGS=$($PKG_CONFIG --cflags check 2>/dev/null || true)
CHECK_LIBS=$($PKG_CONFIG --libs check 2>/dev/null || true)
