/* Sweep CSV: formatting, parsing, locked appends and atomic rewrites (see
 * table.h). */
#define _POSIX_C_SOURCE 200809L
#include "table.h"
#include "columns.h"
#include "say.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char table_header[] =
    "run,teacher,norm,k,m,d,sigma,eta,eps_align,eps_deficit,steps,seed,"
    "status,iterations,final_loss,grad_norm,t1,t2,phase,switches,late_slope,ratio_min,ratio_max,"
    "groups_init,groups,wall_seconds";

void table_fmt_double(char *buf, size_t len, double x)
{
    if (isnan(x)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, len, x > 0 ? "inf" : "-inf");
        return;
    }
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

int table_prefix(strbuf *sb, const sweep_config *c)
{
    char norm[32], sigma[32], eta[32], ea[32], ed[32];
    table_fmt_double(norm, sizeof norm, c->norm);
    table_fmt_double(sigma, sizeof sigma, c->sigma);
    table_fmt_double(eta, sizeof eta, c->eta);
    table_fmt_double(ea, sizeof ea, c->eps_align);
    table_fmt_double(ed, sizeof ed, c->eps_deficit);
    return sb_printf(sb, "%zu,%s,%s,%zu,%zu,%zu,%s,%s,%s,%s,%llu,%llu", c->index, "orthogonal", norm, c->k,
                     c->m, c->d, sigma, eta, ea, ed, (unsigned long long)c->steps, (unsigned long long)c->seed);
}

/* ------------------------------------------------------------ parsing */

static int push_row(table *t, size_t *cap, size_t index, const char *line, size_t len)
{
    if (t->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        table_row *r = realloc(t->row, nc * sizeof *r);
        if (!r)
            return -1;
        t->row = r;
        *cap = nc;
    }
    t->row[t->n].index = index;
    t->row[t->n].line = line;
    t->row[t->n].len = len;
    t->n++;
    return 0;
}

int table_parse(table *t, const char *name, char *err, size_t errlen)
{
    size_t hlen = strlen(table_header), cap = 0;
    const char *d = t->data, *end = d + t->size;
    const char *nl = memchr(d, '\n', t->size);
    t->n = 0;
    t->valid = 0;
    if (!nl) { /* empty, or a header cut short by a kill */
        if (t->size > hlen || memcmp(d, table_header, t->size) != 0)
            return say_err(err, errlen, "%s: not a tsrelu-sweep CSV (unexpected first line)", name);
        return 0;
    }
    if ((size_t)(nl - d) != hlen || memcmp(d, table_header, hlen) != 0)
        return say_err(err, errlen, "%s: not a tsrelu-sweep CSV of this version (the header differs)", name);
    t->valid = hlen + 1;
    size_t lineno = 1;
    for (const char *p = nl + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* partial last line: not a row */
        lineno++;
        size_t len = (size_t)(nl - p), commas = 0;
        for (size_t i = 0; i < len; i++)
            commas += p[i] == ',';
        if (commas + 1 != TABLE_NCOLS)
            return say_err(err, errlen, "%s:%zu: %zu fields, %d expected", name, lineno, commas + 1, TABLE_NCOLS);
        size_t index = 0, i = 0;
        for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            if (index > (SIZE_MAX - 9) / 10)
                return say_err(err, errlen, "%s:%zu: run index out of range", name, lineno);
            index = 10 * index + (size_t)(p[i] - '0');
        }
        if (i == 0 || p[i] != ',')
            return say_err(err, errlen, "%s:%zu: the first field is not a run index", name, lineno);
        if (columns_check(p, len, name, lineno, err, errlen) != 0)
            return -1;
        if (push_row(t, &cap, index, p, len) != 0)
            return say_err(err, errlen, "out of memory");
        t->valid = (size_t)(nl + 1 - d);
    }
    return 0;
}

int table_load(table *t, const char *path, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        return say_err(err, errlen, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0) {
        say_err(err, errlen, "%s: %s", path, strerror(errno));
        goto done;
    }
    t->data = malloc((size_t)st.st_size + 1);
    if (!t->data) {
        say_err(err, errlen, "%s: out of memory", path);
        goto done;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, t->data + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    t->size = got;
    t->data[got] = '\0';
    rc = table_parse(t, path, err, errlen);
done:
    close(fd);
    return rc;
}

int table_check_grid(const table *t, const sweep_grid *g, const unsigned char *mine, const char *shard,
                     const char *name, char *err, size_t errlen)
{
    strbuf sb = {0};
    int rc = 0;
    for (size_t r = 0; r < t->n && rc == 0; r++) {
        const table_row *row = &t->row[r];
        if (row->index >= g->total) {
            rc = say_err(err, errlen, "%s: run %zu is recorded but the grid has %zu runs: the file was written "
                      "for another grid", name, row->index, g->total);
            break;
        }
        if (mine && !mine[row->index]) {
            rc = say_err(err, errlen, "%s: run %zu is recorded but does not belong to shard %s", name, row->index,
                      shard);
            break;
        }
        sweep_config c;
        grid_config(g, row->index, &c);
        sb_clear(&sb);
        if (table_prefix(&sb, &c) != 0) {
            rc = say_err(err, errlen, "out of memory");
            break;
        }
        if (row->len <= sb.len || memcmp(row->line, sb.s, sb.len) != 0 || row->line[sb.len] != ',') {
            size_t plen = 0;
            for (int commas = 0; plen < row->len && (row->line[plen] != ',' || ++commas < TABLE_PREFIX_COLS);)
                plen++;
            rc = say_err(err, errlen, "%s: the row of run %zu does not match the grid\n  recorded: %.*s\n  grid:     %s\n"
                      "(rows written for another grid: give the same grid, or another output)", name,
                      row->index, (int)plen, row->line, sb.s);
        }
    }
    sb_free(&sb);
    return rc;
}

/* ------------------------------------------------------------ canonical order */

static int cmp_row(const void *x, const void *y)
{
    const table_row *p = x, *q = y;
    if (p->index != q->index)
        return p->index < q->index ? -1 : 1;
    return p->line < q->line ? -1 : p->line > q->line; /* first recorded first */
}

/* Length of a row without its last (wall time) field. */
static size_t stem(const table_row *r)
{
    size_t n = r->len;
    while (n > 0 && r->line[n - 1] != ',')
        n--;
    return n;
}

int table_sort(table *t, char *err, size_t errlen)
{
    if (t->n == 0)
        return 0;
    qsort(t->row, t->n, sizeof *t->row, cmp_row);
    size_t out = 1;
    for (size_t i = 1; i < t->n; i++) {
        table_row *prev = &t->row[out - 1], *cur = &t->row[i];
        if (cur->index != prev->index) {
            t->row[out++] = *cur;
            continue;
        }
        if (stem(cur) != stem(prev) || memcmp(cur->line, prev->line, stem(cur)) != 0)
            return say_err(err, errlen, "run %zu is recorded twice with different results:\n  %.*s\n  %.*s",
                        cur->index, (int)prev->len, prev->line, (int)cur->len, cur->line);
    }
    t->n = out;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync the directory holding path, so that a create or rename is durable. */
static int sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int table_write(const table *t, const char *path, char *err, size_t errlen)
{
    strbuf sb = {0}, tmp = {0};
    int rc = -1, fd = -1;
    if (sb_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()) != 0 || sb_printf(&sb, "%s\n", table_header) != 0) {
        say_err(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < t->n; i++)
        if (sb_append(&sb, t->row[i].line, t->row[i].len) != 0 || sb_append(&sb, "\n", 1) != 0) {
            say_err(err, errlen, "out of memory");
            goto done;
        }
    fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0 || write_all(fd, sb.s, sb.len) != 0 || fsync(fd) != 0) {
        say_err(err, errlen, "%s: %s", tmp.s, strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        say_err(err, errlen, "%s: %s", tmp.s, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp.s, path) != 0) {
        say_err(err, errlen, "rename %s to %s: %s", tmp.s, path, strerror(errno));
        goto done;
    }
    sync_dir(path);
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp.s)
        unlink(tmp.s);
    sb_free(&sb);
    sb_free(&tmp);
    return rc;
}

void table_free(table *t)
{
    free(t->data);
    free(t->row);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------ live output */

int table_out_open(table_out *o, const char *path, table *existing, char *err, size_t errlen)
{
    memset(existing, 0, sizeof *existing);
    o->path = path;
    o->dropped = 0;
    o->fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0666);
    if (o->fd < 0)
        return say_err(err, errlen, "%s: %s", path, strerror(errno));
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(o->fd, F_SETLK, &fl) != 0) {
        say_err(err, errlen, "%s: %s (is another tsrelu-sweep writing it?)", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(o->fd, &st) != 0 || !(existing->data = malloc((size_t)st.st_size + 1))) {
        say_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(o->fd, existing->data + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    existing->size = got;
    existing->data[got] = '\0';
    if (table_parse(existing, path, err, errlen) != 0)
        goto fail;
    if (existing->valid < existing->size) {
        o->dropped = existing->size - existing->valid;
        if (ftruncate(o->fd, (off_t)existing->valid) != 0) {
            say_err(err, errlen, "%s: cannot cut the partial last line: %s", path, strerror(errno));
            goto fail;
        }
    }
    if (existing->valid == 0) {
        char line[sizeof table_header + 1];
        snprintf(line, sizeof line, "%s\n", table_header);
        if (table_out_append(o, line, strlen(line), err, errlen) != 0)
            goto fail;
        sync_dir(path);
    }
    return 0;
fail:
    close(o->fd);
    o->fd = -1;
    table_free(existing);
    return -1;
}

int table_out_append(table_out *o, const char *text, size_t len, char *err, size_t errlen)
{
    if (write_all(o->fd, text, len) != 0 || fsync(o->fd) != 0)
        return say_err(err, errlen, "%s: cannot append: %s", o->path, strerror(errno));
    return 0;
}

void table_out_close(table_out *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
}
