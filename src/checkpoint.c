/* Checkpoints of a GD state: a versioned little-endian file with an FNV-1a
 * 64 checksum, written to a temporary file that is synced and renamed into
 * place, and read back in a stream whose every declared size is checked
 * against the real file size before anything is allocated. The state goes
 * through gd.c's export and restore hooks only. Format: docs/checkpoints.md. */
#define _POSIX_C_SOURCE 200809L
#include "gd.h"
#include "sgd.h"
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "TSRELUCK"
#define FORMAT_VERSION 1u /* exact GD: the 1.0 layout, unchanged */
#define FORMAT_SAMPLED 2u /* version 1 followed by the sampler (sgd.h) */
#define SAMPLER_BYTES ((TSRELU__SGD_WORDS + 1u) * 8u) /* its words and the training-set length */
#define HEADER_BYTES 32u /* magic, version, payload length, checksum */
#define SCALAR_BYTES (19u * 8u) /* m, k, d and the 16 settings before the groups */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv1a64(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

static void put_le64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

/* ---------------- save ---------------- */

typedef struct {
    unsigned char *p;
    size_t len, cap;
} outbuf;

static void put(outbuf *b, uint64_t x)
{
    put_le64(b->p + b->len, x);
    b->len += 8;
}

static void put_f64s(outbuf *b, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(b, tsrelu__f64_bits(x[i]));
}

/* Payload length of a state of these sizes, 0 if it overflows size_t. */
static size_t payload_bytes(size_t m, size_t k, size_t d, size_t sl)
{
    size_t words = SCALAR_BYTES / 8, md, kd;
    if (tsrelu__mul_size(m, d, "m*d", &md) != TSRELU_OK ||
        tsrelu__mul_size(k, d, "k*d", &kd) != TSRELU_OK)
        return 0;
    size_t parts[] = {2 * m, kd, k, md, m, 1, sl};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (words > SIZE_MAX / 8 - parts[i])
            return 0;
        words += parts[i];
    }
    return words > (SIZE_MAX - HEADER_BYTES) / 8 ? 0 : 8 * words;
}

static void serialise(const tsrelu__gd_image *im, outbuf *b)
{
    size_t m = im->m, k = im->k, d = im->d;
    put(b, m);
    put(b, k);
    put(b, d);
    put(b, tsrelu__f64_bits(im->eta));
    put(b, (uint64_t)im->train_a);
    put(b, tsrelu__f64_bits(im->tol_loss));
    put(b, tsrelu__f64_bits(im->tol_grad));
    put(b, im->iter);
    put(b, (uint64_t)im->schedule);
    put(b, im->param);
    put(b, (uint64_t)im->observed_any);
    put(b, im->last_observed);
    put(b, tsrelu__f64_bits(im->eps_align));
    put(b, tsrelu__f64_bits(im->eps_deficit));
    put(b, (uint64_t)im->t1);
    put(b, (uint64_t)im->t2);
    put(b, (uint64_t)im->phase);
    put(b, (uint64_t)im->have_tau0);
    put(b, im->switches);
    for (size_t i = 0; i < m; i++)
        put(b, (uint64_t)(int64_t)im->tau0[i]);
    for (size_t i = 0; i < m; i++)
        put(b, (uint64_t)(int64_t)im->tau[i]);
    put_f64s(b, im->V, k * d);
    put_f64s(b, im->b, k);
    put_f64s(b, im->W, m * d);
    put_f64s(b, im->a, m);
    put(b, im->step_len);
    put_f64s(b, im->step_state, im->step_len);
    if (im->sampled) {
        for (size_t i = 0; i < TSRELU__SGD_WORDS; i++)
            put(b, im->sgd_words[i]);
        put(b, im->sgd_X_len);
        put_f64s(b, im->sgd_X, im->sgd_X_len);
    }
}

static tsrelu_status write_all(int fd, const unsigned char *p, size_t n, const char *path)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: writing the temporary file for %s: %s",
                                path, w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return TSRELU_OK;
}

/* The directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, !slash ? "." : path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* fsync the directory, so that the rename itself is durable. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* A new temporary file in `dir`, named .tsrelu-<16 hex>.tmp whatever the
 * length of the final name (which may be NAME_MAX long itself), created
 * with mode 0666 so that the umask applies as for any new file. */
static int make_temp(const char *dir, const void *salt, char **name_out)
{
    static atomic_uint_fast64_t counter;
    size_t n = strlen(dir);
    char *name = malloc(n + 32);
    if (!name) {
        errno = ENOMEM;
        return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int attempt = 0; attempt < 64; attempt++) {
        /* splitmix64 of pid, time, a per-process counter and the state's address */
        uint64_t z = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_nsec ^
                     ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)salt ^
                     (atomic_fetch_add(&counter, 1) + 1) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        memcpy(name, dir, n);
        static const char hex[] = "0123456789abcdef";
        char *q = name + n;
        q += sizeof "/.tsrelu-" - 1;
        memcpy(name + n, "/.tsrelu-", sizeof "/.tsrelu-" - 1);
        for (int i = 0; i < 16; i++)
            *q++ = hex[(z >> (60 - 4 * i)) & 15];
        memcpy(q, ".tmp", 5);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            if (fd >= 0)
                *name_out = name;
            else
                free(name);
            return fd;
        }
    }
    free(name);
    errno = EEXIST;
    return -1;
}

/* Write, flush, keep the mode of a file being replaced, rename into place. */
static tsrelu_status commit_file(const tsrelu_gd *gd, const unsigned char *p, size_t n,
                                 const char *path)
{
    char *dir = dir_of(path), *tmp = NULL;
    if (!dir)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_save: out of memory");
    tsrelu_status st = TSRELU_OK;
    int fd = make_temp(dir, gd, &tmp);
    if (fd < 0) {
        st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: cannot create a temporary file in %s for %s: %s",
                          dir, path, strerror(errno));
        free(dir);
        return st;
    }
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode) && fchmod(fd, old.st_mode & 07777) != 0)
        st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: cannot keep the mode of %s: %s", path, strerror(errno));
    if (st == TSRELU_OK)
        st = write_all(fd, p, n, path);
    if (st == TSRELU_OK && fsync(fd) != 0)
        st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: fsync of the temporary file for %s: %s", path,
                          strerror(errno));
    if (close(fd) != 0 && st == TSRELU_OK)
        st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: close of the temporary file for %s: %s", path,
                          strerror(errno));
    if (st == TSRELU_OK && rename(tmp, path) != 0)
        st = tsrelu__fail(TSRELU_EIO, "tsrelu_gd_save: rename %s to %s: %s", tmp, path, strerror(errno));
    if (st != TSRELU_OK)
        unlink(tmp);
    else
        sync_dir(dir);
    free(tmp);
    free(dir);
    return st;
}

TSRELU_API tsrelu_status tsrelu_gd_save(const tsrelu_gd *gd, const char *path)
{
    if (!gd || !path)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_save: %s is NULL", gd ? "path" : "gd");
    if (!*path)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_save: path is empty");
    tsrelu__gd_image im;
    tsrelu__gd_export(gd, &im);
    size_t payload = payload_bytes(im.m, im.k, im.d, im.step_len);
    if (payload && im.sampled)
        payload = im.sgd_X_len > (SIZE_MAX - HEADER_BYTES - payload - SAMPLER_BYTES) / 8
                      ? 0
                      : payload + SAMPLER_BYTES + 8 * im.sgd_X_len;
    outbuf b = {payload ? malloc(HEADER_BYTES + payload) : NULL, HEADER_BYTES, 0};
    if (!b.p)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_save: out of memory for %zu bytes", payload);
    serialise(&im, &b);
    memcpy(b.p, MAGIC, 8);
    put_le64(b.p + 8, im.sampled ? FORMAT_SAMPLED : FORMAT_VERSION);
    put_le64(b.p + 16, payload);
    put_le64(b.p + 24, fnv1a64(FNV_OFFSET, b.p + HEADER_BYTES, payload));
    tsrelu_status st = commit_file(gd, b.p, b.len, path);
    free(b.p);
    return st;
}

/* ---------------- load ---------------- */

/* A buffered reader of the payload that hashes every byte it hands out. */
typedef struct {
    int fd;
    unsigned char buf[1 << 16];
    size_t pos, len;
    uint64_t hash;
    int failed;           /* a read error or the file ended early */
    int err;              /* errno of a read error */
} reader;

static int refill(reader *r)
{
    for (;;) {
        ssize_t n = read(r->fd, r->buf, sizeof r->buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r->failed = 1;
            r->err = n < 0 ? errno : 0;
            return 0;
        }
        r->pos = 0;
        r->len = (size_t)n;
        return 1;
    }
}

static uint64_t next_u64(reader *r)
{
    unsigned char w[8];
    for (int i = 0; i < 8; i++) {
        if (r->pos == r->len && (r->failed || !refill(r)))
            return 0;
        w[i] = r->buf[r->pos++];
    }
    r->hash = fnv1a64(r->hash, w, 8);
    return le64(w);
}

static void next_f64s(reader *r, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = tsrelu__bits_f64(next_u64(r));
}

static int next_groups(reader *r, int *tau, size_t m, size_t k)
{
    int ok = 1;
    for (size_t i = 0; i < m; i++) {
        int64_t v = (int64_t)next_u64(r);
        ok &= v >= -1 && v < (int64_t)k;
        tau[i] = ok ? (int)v : -1;
    }
    return ok;
}

/* Open `path` without blocking (a FIFO would block a plain open) and accept
 * only a regular file. */
static tsrelu_status open_regular(const char *path, int *fd_out, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    const char *kind = NULL;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: cannot stat %s: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode))
        kind = "is a directory";
    else if (S_ISFIFO(sb.st_mode))
        kind = "is a FIFO (named pipe)";
    else if (S_ISSOCK(sb.st_mode))
        kind = "is a socket";
    else if (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode))
        kind = "is a device";
    else if (!S_ISREG(sb.st_mode))
        kind = "is not a regular file";
    if (kind) {
        close(fd);
        return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: cannot load %s: it %s, not a checkpoint file (%s)",
                            path, kind, strerror(S_ISDIR(sb.st_mode) ? EISDIR : EINVAL));
    }
    /* reads block no more on a regular file; clear the flag all the same */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    *size = (uint64_t)sb.st_size;
    return TSRELU_OK;
}

static tsrelu_status read_exact(int fd, unsigned char *p, size_t n, off_t at, const char *path)
{
    while (n > 0) {
        ssize_t r = pread(fd, p, n, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: reading %s: %s", path, strerror(errno));
        if (r == 0)
            return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is truncated", path);
        p += r;
        n -= (size_t)r;
        at += r;
    }
    return TSRELU_OK;
}

/* The header and every declared size against the real file size, reading
 * only the header, the sizes and the step-state length: a hostile or
 * sparse file is refused before anything is allocated. */
static tsrelu_status check_layout(int fd, uint64_t size, const char *path, size_t dims[6],
                                  uint64_t *sum)
{
    unsigned char h[HEADER_BYTES + 24];
    if (size < 8 || read_exact(fd, h, 8, 0, path) != TSRELU_OK || memcmp(h, MAGIC, 8) != 0)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is not a libtsrelu checkpoint", path);
    if (size < HEADER_BYTES)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is truncated (%llu bytes)", path,
                            (unsigned long long)size);
    tsrelu_status st = read_exact(fd, h, HEADER_BYTES, 0, path);
    if (st != TSRELU_OK)
        return st;
    uint64_t version = le64(h + 8), payload = le64(h + 16);
    *sum = le64(h + 24);
    if (version != FORMAT_VERSION && version != FORMAT_SAMPLED)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has format version %llu, this library reads %u and %u",
                            path, (unsigned long long)version, FORMAT_VERSION, FORMAT_SAMPLED);
    if (payload != size - HEADER_BYTES)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is truncated or padded (%llu payload bytes expected, %llu present)",
                            path, (unsigned long long)payload, (unsigned long long)(size - HEADER_BYTES));
    if (payload < SCALAR_BYTES + 8)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is truncated (%llu payload bytes)", path,
                            (unsigned long long)payload);
    if ((st = read_exact(fd, h + HEADER_BYTES, 24, HEADER_BYTES, path)) != TSRELU_OK)
        return st;
    uint64_t M = le64(h + 32), K = le64(h + 40), D = le64(h + 48), words = payload / 8;
    /* (m + k) d + 3m + k words must fit in the payload: bound each factor first */
    if (M == 0 || K == 0 || D == 0 || M > words || K > words || D > words ||
        D > words / (M + K) || (M + K) * D + 3 * M + K > words || M + K > INT32_MAX || D > INT32_MAX)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has impossible sizes m=%llu, k=%llu, d=%llu",
                            path, (unsigned long long)M, (unsigned long long)K, (unsigned long long)D);
    size_t fixed = payload_bytes((size_t)M, (size_t)K, (size_t)D, 0);
    unsigned char w[8];
    if (fixed == 0 || fixed > payload ||
        (st = read_exact(fd, w, 8, (off_t)(HEADER_BYTES + fixed - 8), path)) != TSRELU_OK)
        return st != TSRELU_OK ? st
                               : tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has inconsistent lengths", path);
    uint64_t sl = le64(w), tail = version == FORMAT_SAMPLED ? SAMPLER_BYTES : 0, xl = 0;
    if (payload - fixed < tail || sl > (payload - fixed - tail) / 8)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has inconsistent lengths (step state of %llu doubles)",
                            path, (unsigned long long)sl);
    if (tail && (st = read_exact(fd, w, 8, (off_t)(HEADER_BYTES + fixed + 8 * sl + tail - 8), path)) != TSRELU_OK)
        return st;
    if (tail)
        xl = le64(w);
    if (xl > (payload - fixed - tail) / 8 - sl || fixed + tail + 8 * (sl + xl) != payload)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s has inconsistent lengths (step state of %llu "
                            "doubles, training set of %llu)", path, (unsigned long long)sl, (unsigned long long)xl);
    dims[4] = tail != 0;
    dims[5] = (size_t)xl;
    dims[0] = (size_t)M;
    dims[1] = (size_t)K;
    dims[2] = (size_t)D;
    dims[3] = (size_t)sl;
    return TSRELU_OK;
}

/* Hash the payload in a stream (nothing allocated but the reader): a file
 * whose sizes agree with its length but whose contents are not a saved
 * state costs a read, never an allocation of its size. */
static tsrelu_status verify_checksum(int fd, uint64_t payload, uint64_t sum, const char *path)
{
    reader *r = malloc(sizeof *r);
    if (!r)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_load: out of memory for %s", path);
    tsrelu_status st = TSRELU_OK;
    uint64_t h = FNV_OFFSET, at = HEADER_BYTES, left = payload;
    while (left > 0 && st == TSRELU_OK) {
        size_t n = left < sizeof r->buf ? (size_t)left : sizeof r->buf;
        if ((st = read_exact(fd, r->buf, n, (off_t)at, path)) == TSRELU_OK) {
            h = fnv1a64(h, r->buf, n);
            at += n;
            left -= n;
        }
    }
    free(r);
    if (st == TSRELU_OK && h != sum)
        st = tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is corrupted (checksum mismatch)", path);
    return st;
}

/* The sizes and settings, in serialise()'s order. */
static void read_settings(reader *r, tsrelu__gd_image *im)
{
    im->m = (size_t)next_u64(r);
    im->k = (size_t)next_u64(r);
    im->d = (size_t)next_u64(r);
    im->eta = tsrelu__bits_f64(next_u64(r));
    uint64_t train = next_u64(r);
    im->tol_loss = tsrelu__bits_f64(next_u64(r));
    im->tol_grad = tsrelu__bits_f64(next_u64(r));
    im->iter = next_u64(r);
    uint64_t schedule = next_u64(r);
    im->param = next_u64(r);
    uint64_t observed = next_u64(r);
    im->last_observed = next_u64(r);
    im->eps_align = tsrelu__bits_f64(next_u64(r));
    im->eps_deficit = tsrelu__bits_f64(next_u64(r));
    im->t1 = (int64_t)next_u64(r);
    im->t2 = (int64_t)next_u64(r);
    uint64_t phase = next_u64(r), have_tau0 = next_u64(r);
    im->switches = (size_t)next_u64(r);
    /* out-of-range flags become values the restore refuses */
    im->train_a = train <= 1 ? (int)train : 2;
    im->schedule = schedule <= 2 ? (int)schedule : -1;
    im->observed_any = observed <= 1 ? (int)observed : 2;
    im->phase = phase <= 3 ? (int)phase : 0;
    im->have_tau0 = have_tau0 <= 1 ? (int)have_tau0 : 2;
}

/* Stream the verified payload into the image's arrays (one block holding
 * no more bytes than the file), hashing again in case the file changed. */
static tsrelu_status read_payload(int fd, const size_t dims[6], uint64_t sum, const char *path,
                                  tsrelu__gd_image *im, void **block)
{
    size_t m = dims[0], k = dims[1], d = dims[2], sl = dims[3], xl = dims[5];
    size_t doubles = k * d + k + m * d + m + sl + xl; /* bounded by the file size */
    double *x = malloc(doubles * sizeof(double) + 2 * m * sizeof(int) + 8);
    reader *r = malloc(sizeof *r);
    *block = x;
    if (!x || !r) {
        free(r);
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_load: out of memory for %s", path);
    }
    memset(im, 0, sizeof *im);
    r->fd = fd;
    r->pos = r->len = 0;
    r->hash = FNV_OFFSET;
    r->failed = r->err = 0;
    if (lseek(fd, HEADER_BYTES, SEEK_SET) < 0) {
        free(r);
        return tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: seeking in %s: %s", path, strerror(errno));
    }
    read_settings(r, im);
    double *V = x, *b = V + k * d, *W = b + k, *a = W + m * d, *state = a + m, *X = state + sl;
    int *tau0 = (int *)(X + xl), *tau = tau0 + m;
    int groups_ok = next_groups(r, tau0, m, k);
    groups_ok &= next_groups(r, tau, m, k);
    next_f64s(r, V, k * d);
    next_f64s(r, b, k);
    next_f64s(r, W, m * d);
    next_f64s(r, a, m);
    (void)next_u64(r); /* the step-state length, checked by check_layout */
    next_f64s(r, state, sl);
    if (dims[4]) {
        for (size_t i = 0; i < TSRELU__SGD_WORDS; i++)
            im->sgd_words[i] = next_u64(r);
        (void)next_u64(r); /* the training-set length, checked by check_layout */
        next_f64s(r, X, xl);
    }
    int failed = r->failed, err = r->err;
    uint64_t hash = r->hash;
    free(r);
    if (failed)
        return err ? tsrelu__fail(TSRELU_EIO, "tsrelu_gd_load: reading %s: %s", path, strerror(err))
                   : tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is truncated", path);
    if (hash != sum)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s is corrupted (checksum mismatch)", path);
    if (!groups_ok)
        return tsrelu__fail(TSRELU_EFORMAT, "tsrelu_gd_load: %s holds an invalid group index", path);
    im->V = V;
    im->b = b;
    im->W = W;
    im->a = a;
    im->tau0 = tau0;
    im->tau = tau;
    im->step_state = state;
    im->step_len = sl;
    im->sampled = dims[4] != 0;
    im->sgd_X = X;
    im->sgd_X_len = xl;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_load(const char *path, tsrelu_gd **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_load: out is NULL");
    *out = NULL;
    if (!path)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_load: path is NULL");
    int fd = -1;
    uint64_t size = 0, sum = 0;
    size_t dims[6] = {0, 0, 0, 0, 0, 0};
    void *block = NULL;
    tsrelu__gd_image im;
    tsrelu_status st = open_regular(path, &fd, &size);
    if (st != TSRELU_OK)
        return st;
    if ((st = check_layout(fd, size, path, dims, &sum)) == TSRELU_OK &&
        (st = verify_checksum(fd, size - HEADER_BYTES, sum, path)) == TSRELU_OK &&
        (st = read_payload(fd, dims, sum, path, &im, &block)) == TSRELU_OK) {
        size_t n = strlen(path);
        char *what = malloc(n + sizeof "tsrelu_gd_load: ");
        if (!what)
            st = tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_load: out of memory");
        else {
            memcpy(what, "tsrelu_gd_load: ", sizeof "tsrelu_gd_load: " - 1);
            memcpy(what + sizeof "tsrelu_gd_load: " - 1, path, n + 1);
            st = tsrelu__gd_restore(&im, what, out);
            free(what);
        }
    }
    free(block);
    close(fd);
    return st;
}
