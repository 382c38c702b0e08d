/* No allocation inside a GD run: malloc, calloc, realloc, aligned_alloc
 * and free are interposed (glibc's __libc_* entry points do the work) and counted while
 * tsrelu_gd_run advances states of several sizes, with the default update,
 * a step rule, output training, an observer and a trajectory recorder
 * (with the accurate loss and an event callback on every on-line kind,
 * filled past its capacity); and while
 * tsrelu_flow_run integrates a gradient flow (dense and Krylov solvers,
 * observer, recorder, output training) after its first run; and sampled training
 * (online, a generated set in minibatches, the caller's set). */
#include <tsrelu.h>

#include "simd/simd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static volatile long allocations;

void *malloc(size_t n)
{
    allocations++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t s)
{
    allocations++;
    return __libc_calloc(n, s);
}

void *realloc(void *p, size_t n)
{
    allocations++;
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n) /* the library's aligned blocks (src/model.h) */
{
    allocations++;
    return __libc_memalign(align, n);
}

void free(void *p)
{
    if (p)
        allocations++;
    __libc_free(p);
}

static int step_rule(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga, void *ud)
{
    size_t n = tsrelu_student_width(tsrelu_gd_student(gd)) * tsrelu_student_dim(tsrelu_gd_student(gd));
    (void)ud;
    for (size_t i = 0; i < n; i++)
        W[i] -= tsrelu_gd_eta(gd) * gW[i];
    if (a)
        for (size_t i = 0; i < n / tsrelu_student_dim(tsrelu_gd_student(gd)); i++)
            a[i] -= tsrelu_gd_eta(gd) * ga[i];
    return 0;
}

static int observer(const tsrelu_gd *gd, void *ud)
{
    double L;
    (void)ud;
    return tsrelu_gd_loss(gd, &L) != TSRELU_OK; /* cached at observed iterates */
}

static int on_event(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher, double time,
                    void *ud)
{
    (void)gd, (void)kind, (void)transition, (void)index, (void)teacher, (void)time;
    ++*(long *)ud;
    return 0;
}

static int flow_observer(const tsrelu_flow *fl, void *ud)
{
    double L;
    (void)ud;
    return tsrelu_flow_loss(fl, &L) != TSRELU_OK;
}

/* A flow run after a warm-up run: CVODE allocates its workspaces when it is
 * built (creation, tsrelu_flow_set_flags), never while it steps. */
static int flow_case(size_t m, size_t k, size_t d, unsigned flags, int *failed)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_flow *fl;
    tsrelu_record *r = NULL;
    if (tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) || tsrelu_student_create_gaussian(m, d, 1e-3, 2, &s) ||
        tsrelu_flow_create(t, s, 1e-8, 1e-14, &fl) || tsrelu_flow_set_flags(fl, flags) ||
        tsrelu_flow_set_observer(fl, flow_observer, NULL, TSRELU_SCHEDULE_LOG, 5) ||
        tsrelu_record_create_flow(fl, 8, TSRELU_RECORD_ACCURATE_LOSS, &r) ||
        tsrelu_flow_set_recorder(fl, r, TSRELU_SCHEDULE_LOG, 3))
        return 2;
    if (tsrelu_flow_run(fl, 10.0) != TSRELU_OK)
        return 2;
    allocations = 0;
    tsrelu_status st = tsrelu_flow_run(fl, 1e4);
    long seen = allocations;
    if (st != TSRELU_OK || seen != 0) {
        printf("noalloc: flow (m,k,d)=(%zu,%zu,%zu) flags %u: status %d, %ld allocation calls\n", m, k, d, flags,
               st, seen);
        ++*failed;
    }
    tsrelu_record_free(r);
    tsrelu_flow_free(fl);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return st != TSRELU_OK || seen != 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    /* --blas-free: only the sizes that never call the BLAS, which then
     * holds whatever the BLAS thread count */
    int blas_free = argc > 1 && strcmp(argv[1], "--blas-free") == 0;
    static const size_t sizes[][3] = {{6, 2, 8}, {20, 4, 16}, {40, 4, 64}, {100, 10, 100}};
    int failed = 0, passed = 0;
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (int variant = 0; variant < 7; variant++) {
            size_t m = sizes[c][0], k = sizes[c][1], d = sizes[c][2];
            if (blas_free && (!tsrelu__simd_small(m, k, d) || variant >= 4)) /* a sampler always calls dgemm */
                continue;
            tsrelu_teacher *t;
            tsrelu_student *s;
            tsrelu_gd *gd;
            if (tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) || tsrelu_student_create_gaussian(m, d, 1e-3, 2, &s) ||
                tsrelu_gd_create(t, s, 0.01, &gd))
                return 2;
            if (variant >= 1 && (tsrelu_gd_set_step(gd, step_rule, NULL) || tsrelu_gd_set_train_output(gd, 1)))
                return 2;
            if (variant == 2 && (tsrelu_gd_set_observer(gd, observer, NULL, TSRELU_SCHEDULE_LINEAR, 7) ||
                                 tsrelu_gd_set_tolerances(gd, 1e-300, 1e-300)))
                return 2;
            tsrelu_record *r = NULL;
            long events = 0;
            if (variant == 3 && (tsrelu_gd_set_train_output(gd, 1) ||
                                 tsrelu_gd_set_observer(gd, observer, NULL, TSRELU_SCHEDULE_LOG, 10) ||
                                 tsrelu_record_create(gd, 40, TSRELU_RECORD_ACCURATE_LOSS, &r) ||
                                 tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LINEAR, 5) ||
                                 tsrelu_record_set_event_callback(r, TSRELU_EVENT_ALL_ONLINE, on_event, &events)))
                return 2;
            /* sampled (1.2): online at B = 512, a generated set in minibatches
             * with an observer of the exact loss, the caller's set in full batch */
            static double X[50 * 100];
            for (size_t i = 0; i < 50 * d; i++)
                X[i] = 0.1 * ((double)((i * 7919) % 101) / 50.0 - 1.0); /* small: rows are correlated */
            if ((variant == 4 && tsrelu_gd_set_sampling(gd, 512, 0, 3, 0)) ||
                (variant == 5 && (tsrelu_gd_set_sampling(gd, 64, 1000, 4, 0) ||
                                  tsrelu_gd_set_observer(gd, observer, NULL, TSRELU_SCHEDULE_LOG, 10))) ||
                (variant == 6 && tsrelu_gd_set_training_set(gd, X, 50 * d, 50, 5, 0)))
                return 2;
            if (tsrelu_gd_run(gd, 20) != TSRELU_OK) /* warm-up: the BLAS sets up its buffers */
                return 2;
            allocations = 0;
            tsrelu_status st = tsrelu_gd_run(gd, 300);
            long seen = allocations;
            if (r && events < (long)m) { /* at least the first row's group entries */
                printf("noalloc: only %ld events reported\n", events);
                failed++;
            }
            if (r && (tsrelu_record_size(r) != 40 || tsrelu_record_missed(r) == 0)) {
                printf("noalloc: the recorder holds %zu rows, missed %llu\n", tsrelu_record_size(r),
                       (unsigned long long)tsrelu_record_missed(r));
                failed++;
            }
            if (st != TSRELU_OK || seen != 0) {
                printf("noalloc: (m,k,d)=(%zu,%zu,%zu) variant %d: status %d, %ld allocation calls\n", m, k, d,
                       variant, st, seen);
                failed++;
            } else
                passed++;
            tsrelu_record_free(r);
            tsrelu_gd_free(gd);
            tsrelu_student_free(s);
            tsrelu_teacher_free(t);
        }
    /* The one-shot evaluations allocate their workspace as one block per
     * call (one malloc, one free): a dozen blocks freed at the top of the
     * heap let glibc return the pages every call, and a program calling
     * tsrelu_hessian_vector in a loop spent most of its time in page
     * faults (docs/secondorder.md) */
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        size_t m = sizes[c][0], k = sizes[c][1], d = sizes[c][2], md = m * d, N = md + m;
        if (blas_free && !tsrelu__simd_small(m, k, d))
            continue;
        tsrelu_teacher *t;
        tsrelu_student *s;
        double *g = malloc(N * sizeof(double)), *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double));
        double *H = c < 2 ? malloc(N * N * sizeof(double)) : NULL;
        if (!g || !x || !y || tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) ||
            tsrelu_student_create_gaussian(m, d, 0.3, 2, &s))
            return 2;
        for (size_t i = 0; i < N; i++)
            x[i] = (double)((i * 7919) % 17) / 17.0 - 0.5;
        for (int f = 0; f < 5; f++) {
            static const char *name[] = {"tsrelu_gradient", "tsrelu_loss", "tsrelu_hessian_vector",
                                         "tsrelu_hessian_vector (output)", "tsrelu_hessian"};
            if (f == 4 && !H)
                continue;
            double L;
            long seen = 0;
            for (int rep = 0; rep < 11; rep++) { /* the first call warms the BLAS up */
                allocations = 0;
                tsrelu_status st = f == 0   ? tsrelu_gradient(s, t, g, md, g + md, m)
                                   : f == 1 ? tsrelu_loss(s, t, &L)
                                   : f == 4 ? tsrelu_hessian(s, t, 0, H, md * md)
                                            : tsrelu_hessian_vector(s, t, f == 3 ? TSRELU_HESSIAN_OUTPUT : 0,
                                                                    x, f == 3 ? N : md, y, f == 3 ? N : md);
                if (st != TSRELU_OK)
                    return 2;
                seen += rep > 0 ? allocations : 0;
            }
            if (seen != 2 * 10) {
                printf("noalloc: (m,k,d)=(%zu,%zu,%zu) %s: %ld allocation calls in 10 calls, not 20\n", m, k,
                       d, name[f], seen);
                failed++;
            } else
                passed++;
        }
        free(g);
        free(x);
        free(y);
        free(H);
        tsrelu_student_free(s);
        tsrelu_teacher_free(t);
    }
    static const unsigned flow_flags[] = {0, TSRELU_FLOW_KRYLOV, TSRELU_FLOW_TRAIN_OUTPUT,
                                          TSRELU_FLOW_ACCURATE | TSRELU_FLOW_DQ_JACOBIAN};
    for (size_t c = 0; c < 2 && !blas_free; c++) /* the flow calls LAPACK */
        for (size_t v = 0; v < 4; v++) {
            int rc = flow_case(sizes[c][0], sizes[c][1], sizes[c][2], flow_flags[v], &failed);
            if (rc == 2)
                return 2;
            passed += rc == 0;
        }
    printf("noalloc: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
