/* Grid axes: the grid file, defaults, validation, and the mixed-radix
 * expansion of a run index (see grid.h); value lists are parsed by values.c. */
#include "grid.h"
#include "say.h"

#include "values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static const struct {
    const char *name;
    int type;
    const char *dflt; /* NULL: required */
} axis_info[AX_COUNT] = {
    [AX_TEACHER] = {"teacher", VALUES_TEACHER, "orthogonal:1"},
    [AX_K] = {"k", VALUES_INT, NULL},
    [AX_M] = {"m", VALUES_INT, NULL},
    [AX_D] = {"d", VALUES_INT, "16"},
    [AX_SIGMA] = {"sigma", VALUES_REAL, "1e-6"},
    [AX_ETA] = {"eta", VALUES_REAL, "0.1"},
    [AX_EPS_ALIGN] = {"eps_align", VALUES_REAL, "0.05"},
    [AX_EPS_DEFICIT] = {"eps_deficit", VALUES_REAL, "0.05"},
    [AX_STEPS] = {"steps", VALUES_INT, "100000"},
    [AX_SEED] = {"seed", VALUES_INT, "1"},
};

int grid_axis_id(const char *name)
{
    if (!strcmp(name, "seeds"))
        return AX_SEED;
    for (int i = 0; i < AX_COUNT; i++)
        if (!strcmp(name, axis_info[i].name))
            return i;
    return -1;
}

const char *grid_axis_name(int id)
{
    return id >= 0 && id < AX_COUNT ? axis_info[id].name : "?";
}

int grid_set(sweep_grid *g, int id, const char *spec, char *err, size_t errlen)
{
    g->ax[id].set = 1;
    return values_parse(&g->ax[id], axis_info[id].name, axis_info[id].type, spec, err, errlen);
}

int grid_parse_text(sweep_grid *g, const char *text, const char *source, char *err, size_t errlen)
{
    int seen[AX_COUNT] = {0};
    char msg[512];
    size_t lineno = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
        const char *hash = memchr(p, '#', (size_t)(end - p)), *stop = hash ? hash : end;
        lineno++;
        char line[4096];
        size_t n = (size_t)(stop - p);
        if (n >= sizeof line)
            return say_err(err, errlen, "%s:%zu: line too long", source, lineno);
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl ? nl + 1 : end;
        char *eq = strchr(line, '='), name[64];
        if (values_blank(line, n))
            continue;
        if (!eq || values_token(line, (size_t)(eq - line), name, sizeof name) != 0)
            return say_err(err, errlen, "%s:%zu: expected 'axis = values'", source, lineno);
        int id = grid_axis_id(name);
        if (id < 0)
            return say_err(err, errlen, "%s:%zu: unknown axis '%s' (axes: teacher k m d sigma eta eps_align "
                        "eps_deficit steps seed)", source, lineno, name);
        if (seen[id]++)
            return say_err(err, errlen, "%s:%zu: axis %s given twice", source, lineno, name);
        char *val = eq + 1, *cr = strchr(val, '\r');
        if (cr)
            *cr = '\0';
        if (grid_set(g, id, val, msg, sizeof msg) != 0)
            return say_err(err, errlen, "%s:%zu: %s", source, lineno, msg);
    }
    return 0;
}

static uint64_t axis_max(const grid_axis *a)
{
    uint64_t x = 0;
    for (size_t i = 0; i < a->n; i++)
        x = a->u[i] > x ? a->u[i] : x;
    return x;
}

static uint64_t axis_min(const grid_axis *a)
{
    uint64_t x = UINT64_MAX;
    for (size_t i = 0; i < a->n; i++)
        x = a->u[i] < x ? a->u[i] : x;
    return x;
}

static int check_values(const sweep_grid *g, char *err, size_t errlen)
{
    static const int sizes[] = {AX_K, AX_M, AX_D, AX_STEPS};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const grid_axis *a = &g->ax[sizes[s]];
        if (axis_min(a) == 0)
            return say_err(err, errlen, "axis %s: values must be >= 1", axis_info[sizes[s]].name);
        if (sizes[s] != AX_STEPS && axis_max(a) > (uint64_t)(SIZE_MAX / 8))
            return say_err(err, errlen, "axis %s: %llu is too large", axis_info[sizes[s]].name,
                        (unsigned long long)axis_max(a));
    }
    for (size_t i = 0; i < g->ax[AX_SIGMA].n; i++)
        if (!(g->ax[AX_SIGMA].v[i] >= 0))
            return say_err(err, errlen, "axis sigma: %g must be >= 0", g->ax[AX_SIGMA].v[i]);
    for (size_t i = 0; i < g->ax[AX_ETA].n; i++)
        if (!(g->ax[AX_ETA].v[i] > 0))
            return say_err(err, errlen, "axis eta: %g must be > 0", g->ax[AX_ETA].v[i]);
    for (size_t i = 0; i < g->ax[AX_EPS_ALIGN].n; i++)
        if (!(g->ax[AX_EPS_ALIGN].v[i] > 0 && g->ax[AX_EPS_ALIGN].v[i] < PI))
            return say_err(err, errlen, "axis eps_align: %g must be in (0, pi)", g->ax[AX_EPS_ALIGN].v[i]);
    for (size_t i = 0; i < g->ax[AX_EPS_DEFICIT].n; i++)
        if (!(g->ax[AX_EPS_DEFICIT].v[i] > 0))
            return say_err(err, errlen, "axis eps_deficit: %g must be > 0", g->ax[AX_EPS_DEFICIT].v[i]);
    /* every teacher construction is orthogonal: k orthonormal directions need k <= d */
    if (axis_max(&g->ax[AX_K]) > axis_min(&g->ax[AX_D]))
        return say_err(err, errlen, "k = %llu with d = %llu: orthogonal teachers need k <= d in every "
                    "combination of the grid", (unsigned long long)axis_max(&g->ax[AX_K]),
                    (unsigned long long)axis_min(&g->ax[AX_D]));
    return 0;
}

int grid_finish(sweep_grid *g, char *err, size_t errlen)
{
    for (int id = 0; id < AX_COUNT; id++) {
        if (g->ax[id].set && g->ax[id].n > 0)
            continue;
        if (!axis_info[id].dflt)
            return say_err(err, errlen, "the grid needs axis %s (flag --%s or a line '%s = ...' in the grid file)",
                        axis_info[id].name, axis_info[id].name, axis_info[id].name);
        if (grid_set(g, id, axis_info[id].dflt, err, errlen) != 0)
            return -1;
    }
    if (check_values(g, err, errlen) != 0)
        return -1;
    size_t total = 1;
    for (int id = 0; id < AX_COUNT; id++) {
        if (g->ax[id].n > SIZE_MAX / total)
            return say_err(err, errlen, "the grid has too many runs");
        total *= g->ax[id].n;
    }
    g->total = total;
    return 0;
}

void grid_config(const sweep_grid *g, size_t index, sweep_config *c)
{
    size_t pos[AX_COUNT], rem = index;
    for (int id = AX_COUNT - 1; id >= 0; id--) {
        pos[id] = rem % g->ax[id].n;
        rem /= g->ax[id].n;
    }
    c->index = index;
    c->teacher = (int)g->ax[AX_TEACHER].u[pos[AX_TEACHER]];
    c->norm = g->ax[AX_TEACHER].v[pos[AX_TEACHER]];
    c->k = (size_t)g->ax[AX_K].u[pos[AX_K]];
    c->m = (size_t)g->ax[AX_M].u[pos[AX_M]];
    c->d = (size_t)g->ax[AX_D].u[pos[AX_D]];
    c->sigma = g->ax[AX_SIGMA].v[pos[AX_SIGMA]];
    c->eta = g->ax[AX_ETA].v[pos[AX_ETA]];
    c->eps_align = g->ax[AX_EPS_ALIGN].v[pos[AX_EPS_ALIGN]];
    c->eps_deficit = g->ax[AX_EPS_DEFICIT].v[pos[AX_EPS_DEFICIT]];
    c->steps = g->ax[AX_STEPS].u[pos[AX_STEPS]];
    c->seed = g->ax[AX_SEED].u[pos[AX_SEED]];
}

double grid_cost(const sweep_config *c)
{
    double pairs = (double)c->m * (double)(c->m + c->k);
    return (double)c->steps * (75.0 + pairs * (16.0 + (double)c->d) / 32.0);
}

typedef struct {
    double cost;
    size_t index;
} costed;

static int cmp_costed(const void *x, const void *y)
{
    const costed *p = x, *q = y;
    if (p->cost != q->cost)
        return p->cost > q->cost ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

size_t *grid_order(const sweep_grid *g)
{
    costed *c = malloc(g->total * sizeof *c);
    size_t *order = malloc(g->total * sizeof *order);
    if (!c || !order) {
        free(c);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < g->total; i++) {
        sweep_config cfg;
        grid_config(g, i, &cfg);
        c[i].cost = grid_cost(&cfg);
        c[i].index = i;
    }
    qsort(c, g->total, sizeof *c, cmp_costed);
    for (size_t i = 0; i < g->total; i++)
        order[i] = c[i].index;
    free(c);
    return order;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

uint64_t grid_fingerprint(const sweep_grid *g)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int id = 0; id < AX_COUNT; id++) {
        uint64_t n = g->ax[id].n;
        h = fnv(h, &n, sizeof n);
        for (size_t i = 0; i < g->ax[id].n; i++) {
            h = fnv(h, &g->ax[id].v[i], sizeof(double));
            h = fnv(h, &g->ax[id].u[i], sizeof(uint64_t));
        }
    }
    return h;
}

void grid_free(sweep_grid *g)
{
    for (int id = 0; id < AX_COUNT; id++) {
        free(g->ax[id].v);
        free(g->ax[id].u);
    }
    memset(g, 0, sizeof *g);
}
