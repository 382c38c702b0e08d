/* Checkpoints of a GD state: a versioned little-endian file with an FNV-1a
 * 64 checksum, written to a temporary file that is synced and renamed into
 * place, and read back with every size and value validated before use.
 * Format: docs/checkpoints.md. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "TSRELUCK"
#define FORMAT_VERSION 1u
#define HEADER_BYTES 32u /* magic, version, reserved, payload length, checksum */
#define MAX_FILE_BYTES ((uint64_t)1 << 40)

/* ---------------- byte buffer ---------------- */

typedef struct {
    unsigned char *p;
    size_t len, cap, pos;
    int oom, short_read;
} buf;

static void put_u64(buf *b, uint64_t x)
{
    if (b->oom)
        return;
    if (b->len + 8 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    for (int i = 0; i < 8; i++)
        b->p[b->len++] = (unsigned char)(x >> (8 * i));
}

static void put_f64(buf *b, double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    put_u64(b, u);
}

static void put_f64s(buf *b, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_f64(b, x[i]);
}

static uint64_t get_u64(buf *b)
{
    if (b->len - b->pos < 8) {
        b->short_read = 1;
        return 0;
    }
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)b->p[b->pos++] << (8 * i);
    return x;
}

static double get_f64(buf *b)
{
    uint64_t u = get_u64(b);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static void get_f64s(buf *b, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = get_f64(b);
}

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---------------- save ---------------- */

static void serialise(const tsrelu_gd *gd, buf *b)
{
    const tsrelu_teacher *t = gd->teacher;
    size_t m = gd->view.m, k = t->k, d = t->d;
    put_u64(b, m);
    put_u64(b, k);
    put_u64(b, d);
    put_f64(b, gd->eta);
    put_u64(b, (uint64_t)gd->train_a);
    put_f64(b, gd->tol_loss);
    put_f64(b, gd->tol_grad);
    put_u64(b, gd->iter);
    put_u64(b, (uint64_t)gd->schedule);
    put_u64(b, gd->param);
    put_u64(b, (uint64_t)gd->observed_any);
    put_u64(b, gd->last_observed);
    const tsrelu__phases *ph = &gd->ph;
    put_f64(b, ph->eps_align);
    put_f64(b, ph->eps_deficit);
    put_u64(b, (uint64_t)ph->t1);
    put_u64(b, (uint64_t)ph->t2);
    put_u64(b, (uint64_t)ph->phase);
    put_u64(b, (uint64_t)ph->have_tau0);
    put_u64(b, ph->switches);
    for (size_t i = 0; i < m; i++)
        put_u64(b, (uint64_t)(int64_t)ph->tau0[i]);
    for (size_t i = 0; i < m; i++)
        put_u64(b, (uint64_t)(int64_t)ph->tau[i]);
    put_f64s(b, t->V, k * d);
    put_f64s(b, t->b, k);
    put_f64s(b, gd->view.W, m * d);
    put_f64s(b, gd->view.a, m);
    /* a state loaded but not yet claimed is still the step rule's state */
    const double *st = gd->step_state ? gd->step_state : gd->loaded_state;
    size_t sl = gd->step_state ? gd->step_state_len : gd->loaded_len;
    put_u64(b, sl);
    put_f64s(b, st, sl);
}

static tsrelu_status write_all(int fd, const unsigned char *p, size_t n, const char *tmp)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: writing %s: %s", tmp, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return TSRELU_OK;
}

/* fsync the directory holding `path`, so that the rename itself is durable. */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    if (!slash)
        strcpy(dir, ".");
    else if (n < sizeof dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    } else
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

TSRELU_API tsrelu_status tsrelu_gd_save(const tsrelu_gd *gd, const char *path)
{
    if (!gd || !path)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_save: %s is NULL", gd ? "path" : "gd");
    buf b = {0};
    for (int i = 0; i < 4; i++) /* header placeholder */
        put_u64(&b, 0);
    serialise(gd, &b);
    if (b.oom) {
        free(b.p);
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_save: out of memory");
    }
    uint64_t payload = b.len - HEADER_BYTES;
    memcpy(b.p, MAGIC, 8);
    for (int i = 0; i < 8; i++) {
        b.p[8 + i] = (unsigned char)((uint64_t)FORMAT_VERSION >> (8 * i));
        b.p[16 + i] = (unsigned char)(payload >> (8 * i));
        b.p[24 + i] = (unsigned char)(fnv1a64(b.p + HEADER_BYTES, payload) >> (8 * i));
    }
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 8);
    if (!tmp) {
        free(b.p);
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_save: out of memory");
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".XXXXXX", 8);
    tsrelu_status st = TSRELU_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: cannot create a temporary file next to %s: %s",
                          path, strerror(errno));
    } else {
        st = write_all(fd, b.p, b.len, tmp);
        if (st == TSRELU_OK && fsync(fd) != 0)
            st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: fsync %s: %s", tmp, strerror(errno));
        if (close(fd) != 0 && st == TSRELU_OK)
            st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: close %s: %s", tmp, strerror(errno));
        if (st == TSRELU_OK && rename(tmp, path) != 0)
            st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: rename %s to %s: %s", tmp, path,
                              strerror(errno));
        if (st != TSRELU_OK)
            unlink(tmp);
        else
            sync_dir(path);
    }
    free(tmp);
    free(b.p);
    return st;
}

/* ---------------- load ---------------- */

static tsrelu_status read_file(const char *path, buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is not a regular file of sensible size", path);
    }
    size_t n = (size_t)sb.st_size;
    b->p = malloc(n ? n : 1);
    if (!b->p) {
        fclose(f);
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_load: out of memory for %zu bytes", n);
    }
    b->len = fread(b->p, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (err)
        return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: reading %s failed", path);
    return TSRELU_OK;
}

static tsrelu_status check_header(const char *path, buf *b)
{
    if (b->len < HEADER_BYTES || memcmp(b->p, MAGIC, 8) != 0)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is not a libtsrelu checkpoint", path);
    b->pos = 8;
    uint64_t version = get_u64(b), payload = get_u64(b), sum = get_u64(b);
    if (version != FORMAT_VERSION)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has format version %llu, this library reads %u",
                            path, (unsigned long long)version, FORMAT_VERSION);
    if (payload != b->len - HEADER_BYTES)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is truncated or padded (%llu payload bytes expected, %zu present)",
                            path, (unsigned long long)payload, b->len - HEADER_BYTES);
    if (fnv1a64(b->p + HEADER_BYTES, payload) != sum)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is corrupted (checksum mismatch)", path);
    return TSRELU_OK;
}

/* Sizes first, checked against the bytes present before anything is
 * allocated from them. */
static tsrelu_status read_sizes(const char *path, buf *b, size_t *m, size_t *k, size_t *d)
{
    uint64_t M = get_u64(b), K = get_u64(b), D = get_u64(b);
    uint64_t left = b->len - b->pos;
    /* (m + k) d + m + k doubles must fit in the bytes left */
    if (M == 0 || K == 0 || D == 0 || M > left / 8 || K > left / 8 || D > left / 8 ||
        D > left / 8 / (M + K) || (M + K) * D + M + K > left / 8)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has impossible sizes m=%llu, k=%llu, d=%llu",
                            path, (unsigned long long)M, (unsigned long long)K, (unsigned long long)D);
    *m = (size_t)M;
    *k = (size_t)K;
    *d = (size_t)D;
    return TSRELU_OK;
}

typedef struct {
    double eta, tol_loss, tol_grad, eps_align, eps_deficit;
    uint64_t train_a, iter, schedule, param, observed_any, last_observed;
    int64_t t1, t2;
    uint64_t phase, have_tau0, switches;
} saved_scalars;

static void read_scalars(buf *b, saved_scalars *s)
{
    s->eta = get_f64(b);
    s->train_a = get_u64(b);
    s->tol_loss = get_f64(b);
    s->tol_grad = get_f64(b);
    s->iter = get_u64(b);
    s->schedule = get_u64(b);
    s->param = get_u64(b);
    s->observed_any = get_u64(b);
    s->last_observed = get_u64(b);
    s->eps_align = get_f64(b);
    s->eps_deficit = get_f64(b);
    s->t1 = (int64_t)get_u64(b);
    s->t2 = (int64_t)get_u64(b);
    s->phase = get_u64(b);
    s->have_tau0 = get_u64(b);
    s->switches = get_u64(b);
}

static int scalars_valid(const saved_scalars *s, size_t m)
{
    return isfinite(s->eta) && s->eta > 0.0 && s->train_a <= 1 && s->tol_loss >= 0.0 &&
           s->tol_grad >= 0.0 && isfinite(s->tol_loss) && isfinite(s->tol_grad) &&
           (s->schedule == 0 || s->schedule == TSRELU_SCHEDULE_LINEAR || s->schedule == TSRELU_SCHEDULE_LOG) &&
           s->observed_any <= 1 && s->eps_align > 0.0 && s->eps_align < TSRELU_PI &&
           s->eps_deficit > 0.0 && isfinite(s->eps_deficit) && s->t1 >= -1 && s->t2 >= -1 &&
           s->phase >= 1 && s->phase <= 3 && s->have_tau0 <= 1 && s->switches <= m;
}

static int read_groups(buf *b, int *tau, size_t m, size_t k)
{
    for (size_t i = 0; i < m; i++) {
        int64_t v = (int64_t)get_u64(b);
        if (v < -1 || v >= (int64_t)k)
            return 0;
        tau[i] = (int)v;
    }
    return 1;
}

static tsrelu_status build(const char *path, buf *b, tsrelu_gd **out)
{
    size_t m = 0, k = 0, d = 0;
    tsrelu_status st = read_sizes(path, b, &m, &k, &d);
    if (st != TSRELU_OK)
        return st;
    saved_scalars sc;
    read_scalars(b, &sc);
    if (b->short_read || !scalars_valid(&sc, m))
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s holds invalid settings", path);
    int *tau0 = malloc(2 * m * sizeof(int));
    double *V = malloc((k * d + k + m * d + m) * sizeof(double));
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    tsrelu_gd *gd = NULL;
    double *state = NULL;
    if (!tau0 || !V) {
        st = tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_load: out of memory");
        goto done;
    }
    int *tau = tau0 + m;
    double *bw = V + k * d, *W = bw + k, *a = W + m * d;
    if (!read_groups(b, tau0, m, k) || !read_groups(b, tau, m, k)) {
        st = tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s holds an invalid group index", path);
        goto done;
    }
    get_f64s(b, V, k * d);
    get_f64s(b, bw, k);
    get_f64s(b, W, m * d);
    get_f64s(b, a, m);
    uint64_t sl = get_u64(b);
    if (b->short_read || sl != (b->len - b->pos) / 8 || (b->len - b->pos) % 8 != 0) {
        st = tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has inconsistent lengths", path);
        goto done;
    }
    if (sl > 0) {
        if (!(state = malloc((size_t)sl * sizeof(double)))) {
            st = tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_load: out of memory");
            goto done;
        }
        get_f64s(b, state, (size_t)sl);
    }
    if ((st = tsrelu_teacher_create(k, d, V, bw, &t)) != TSRELU_OK ||
        (st = tsrelu_student_create(m, d, W, a, &s)) != TSRELU_OK ||
        (st = tsrelu_gd_create(t, s, sc.eta, &gd)) != TSRELU_OK) {
        if (st != TSRELU_ENOMEM)
            st = tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s holds invalid weights: %s", path,
                              tsrelu_last_error());
        goto done;
    }
    if ((st = tsrelu_gd_set_tolerances(gd, sc.tol_loss, sc.tol_grad)) != TSRELU_OK ||
        (st = tsrelu_gd_set_train_output(gd, (int)sc.train_a)) != TSRELU_OK)
        goto done;
    gd->iter = sc.iter;
    gd->schedule = (int)sc.schedule;
    gd->param = sc.param;
    gd->observed_any = (int)sc.observed_any;
    gd->last_observed = sc.last_observed;
    gd->resumed = 1;
    gd->ph.eps_align = sc.eps_align;
    gd->ph.eps_deficit = sc.eps_deficit;
    gd->ph.t1 = sc.t1;
    gd->ph.t2 = sc.t2;
    gd->ph.phase = (int)sc.phase;
    gd->ph.have_tau0 = (int)sc.have_tau0;
    gd->ph.switches = (size_t)sc.switches;
    memcpy(gd->ph.tau0, tau0, m * sizeof(int));
    memcpy(gd->ph.tau, tau, m * sizeof(int));
    gd->loaded_state = state;
    gd->loaded_len = (size_t)sl;
    state = NULL;
    *out = gd;
    gd = NULL;
done:
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    free(state);
    free(tau0);
    free(V);
    return st;
}

TSRELU_API tsrelu_status tsrelu_gd_load(const char *path, tsrelu_gd **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_load: out is NULL");
    *out = NULL;
    if (!path)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_load: path is NULL");
    buf b = {0};
    tsrelu_status st = read_file(path, &b);
    if (st == TSRELU_OK)
        st = check_header(path, &b);
    if (st == TSRELU_OK)
        st = build(path, &b, out);
    free(b.p);
    return st;
}

TSRELU_API tsrelu_status tsrelu_gd_set_step_state(tsrelu_gd *gd, double *state, size_t len)
{
    if (!gd)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_set_step_state: gd is NULL");
    if (!state && len > 0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_set_step_state: state is NULL but len=%zu", len);
    if (gd->loaded_state && state) {
        if (len != gd->loaded_len)
            return tsrelu__fail(TSRELU_ELENGTH,
                                "tsrelu_gd_set_step_state: the checkpoint holds a step state of length %zu, %zu given",
                                gd->loaded_len, len);
        memcpy(state, gd->loaded_state, len * sizeof(double));
        free(gd->loaded_state);
        gd->loaded_state = NULL;
        gd->loaded_len = 0;
    }
    gd->step_state = state;
    gd->step_state_len = state ? len : 0;
    return TSRELU_OK;
}
