/* Check suite for src/record.c: every recorded value against the metric
 * functions at the same iterate (a twin state replayed to it), the
 * schedule against an observer's, capacity exhaustion, the CSV read back,
 * batches, checkpoints, lifetimes and bad input with the exact status. */
#include "suites.h"
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsrelu.h"

#define M 20
#define K 4
#define D 16
#define ZERO_ROW 3 /* a zero student stays zero: the -1 / NaN path */

static tsrelu_teacher *T;
static tsrelu_student *S;

static void setup(void)
{
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 7, &T), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-2, 8, &S), TSRELU_OK);
    double W[M * D];
    ck_assert_int_eq(tsrelu_student_weights(S, W, M * D), TSRELU_OK);
    memset(W + ZERO_ROW * D, 0, D * sizeof(double));
    ck_assert_int_eq(tsrelu_student_set_weights(S, W, M * D), TSRELU_OK);
}

static void teardown(void)
{
    tsrelu_student_free(S);
    tsrelu_teacher_free(T);
}

/* A state on (T, S) with trained output weights. */
static tsrelu_gd *make_gd(void)
{
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_gd_create(T, S, 0.05, &gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_train_output(gd, 1), TSRELU_OK);
    return gd;
}

static int nan_or_eq(double x, double y, double tol)
{
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y);
    return fabs(x - y) <= tol * fmax(1.0, fabs(y));
}

/* Every field of row n of r against the metric functions of the state gd
 * (at the same iterate). */
static void check_row(const tsrelu_record *r, size_t n, const tsrelu_gd *gd, const tsrelu_teacher *mean)
{
    size_t size = tsrelu_record_size(r);
    const tsrelu_student *s = tsrelu_gd_student(gd);
    const tsrelu_teacher *t = tsrelu_gd_teacher(gd);
    double *col = malloc(size * M * sizeof(double));
    double L, Lacc, g, theta[M * K], th_mean[M], rad[M], tan_[M], H[K], W[M * D], a[M];
    int tau[M];
    ck_assert_int_eq(tsrelu_loss(s, t, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss_accurate(s, t, &Lacc), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_gradient_norm(gd, &g), TSRELU_OK);
    ck_assert_int_eq(tsrelu_angles(s, t, theta, M * K), TSRELU_OK);
    ck_assert_int_eq(tsrelu_angles(s, mean, th_mean, M), TSRELU_OK);
    ck_assert_int_eq(tsrelu_nearest_teacher(s, t, tau, M), TSRELU_OK);
    ck_assert_int_eq(tsrelu_components(s, t, NULL, 0, rad, tan_, M), TSRELU_OK);
    ck_assert_int_eq(tsrelu_deficit(s, t, NULL, 0, H, K), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(s, W, M * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(s, a, M), TSRELU_OK);

    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_LOSS, col, size), TSRELU_OK);
    ck_assert_msg(col[n] == L, "row %zu: loss %.17g, tsrelu_loss %.17g", n, col[n], L);
    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_LOSS_ACCURATE, col, size), TSRELU_OK);
    ck_assert_msg(col[n] == Lacc, "row %zu: accurate loss %.17g, want %.17g", n, col[n], Lacc);
    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_GRAD_NORM, col, size), TSRELU_OK);
    ck_assert_msg(col[n] == g, "row %zu: grad norm %.17g, want %.17g", n, col[n], g);

    double *f[7];
    for (int k = 0; k < 7; k++) {
        f[k] = malloc(size * M * sizeof(double));
        ck_assert_int_eq(tsrelu_record_student(r, TSRELU_RECORD_NORM + k, f[k], size * M), TSRELU_OK);
    }
    for (size_t i = 0; i < M; i++) {
        size_t c = n * M + i;
        double nw = 0.0;
        for (size_t j = 0; j < D; j++)
            nw += W[i * D + j] * W[i * D + j];
        nw = sqrt(nw);
        ck_assert_msg(nan_or_eq(f[0][c], nw, 1e-15), "row %zu student %zu: norm %.17g, want %.17g", n, i, f[0][c], nw);
        ck_assert_msg(f[1][c] == a[i], "row %zu student %zu: a", n, i);
        ck_assert_msg(f[2][c] == tau[i], "row %zu student %zu: nearest %g, want %d", n, i, f[2][c], tau[i]);
        double want_angle = tau[i] < 0 ? NAN : theta[i * K + (size_t)tau[i]];
        ck_assert_msg(nan_or_eq(f[3][c], want_angle, 1e-13), "row %zu student %zu: angle %.17g, want %.17g", n, i,
                      f[3][c], want_angle);
        ck_assert_msg(nan_or_eq(f[4][c], rad[i], 1e-13), "row %zu student %zu: radial %.17g, want %.17g", n, i,
                      f[4][c], rad[i]);
        ck_assert_msg(nan_or_eq(f[5][c], tan_[i], 1e-13), "row %zu student %zu: tangential %.17g, want %.17g", n,
                      i, f[5][c], tan_[i]);
        ck_assert_msg(nan_or_eq(f[6][c], th_mean[i], 1e-13), "row %zu student %zu: mean angle %.17g, want %.17g",
                      n, i, f[6][c], th_mean[i]);
    }
    for (int k = 0; k < 7; k++)
        free(f[k]);
    double *h = malloc(size * K * sizeof(double)), *cnt = malloc(size * K * sizeof(double));
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_DEFICIT, h, size * K), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_GROUP_SIZE, cnt, size * K), TSRELU_OK);
    for (size_t l = 0; l < K; l++) {
        double ml = 0;
        for (size_t i = 0; i < M; i++)
            ml += tau[i] == (int)l;
        ck_assert_msg(nan_or_eq(h[n * K + l], H[l], 1e-13), "row %zu teacher %zu: deficit %.17g, want %.17g", n, l,
                      h[n * K + l], H[l]);
        ck_assert_msg(cnt[n * K + l] == ml, "row %zu teacher %zu: group size %g, want %g", n, l, cnt[n * K + l], ml);
    }
    free(h);
    free(cnt);
    free(col);
}

/* A one-neuron teacher along sum_j v_j/|v_j|: tsrelu_angles against it is
 * the angle to the mean teacher direction. */
static tsrelu_teacher *mean_teacher(void)
{
    double V[K * D], u[D] = {0};
    ck_assert_int_eq(tsrelu_teacher_weights(T, V, K * D), TSRELU_OK);
    for (size_t j = 0; j < K; j++) {
        double n = 0;
        for (size_t c = 0; c < D; c++)
            n += V[j * D + c] * V[j * D + c];
        for (size_t c = 0; c < D; c++)
            u[c] += V[j * D + c] / sqrt(n);
    }
    tsrelu_teacher *mt;
    ck_assert_int_eq(tsrelu_teacher_create(1, D, u, NULL, &mt), TSRELU_OK);
    return mt;
}

/* Every recorded row against the metrics of a twin run; eps_deficit > 0
 * sets the tracker's deficit threshold (which decides where phase 2 ends). */
static void values_match(double eps_deficit)
{
    tsrelu_gd *gd = make_gd(), *twin = make_gd();
    tsrelu_record *r;
    if (eps_deficit > 0)
        ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.05 /* the default */, eps_deficit), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_create(gd, 64, TSRELU_RECORD_ACCURATE_LOSS, &r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 3000), TSRELU_OK);
    size_t size = tsrelu_record_size(r);
    ck_assert_uint_eq(size, 34); /* 0, the 32 distinct log points 1 ... 2512, and 3000 */
    uint64_t it[64];
    ck_assert_int_eq(tsrelu_record_iterations(r, it, size), TSRELU_OK);
    ck_assert_uint_eq(it[size - 1], 3000);
    tsrelu_teacher *mt = mean_teacher();
    for (size_t n = 0; n < size; n++) {
        ck_assert_int_eq(tsrelu_gd_run(twin, it[n] - tsrelu_gd_iteration(twin)), TSRELU_OK);
        ck_assert_uint_eq(tsrelu_gd_iteration(twin), it[n]);
        check_row(r, n, twin, mt);
    }
    ck_assert_uint_eq(tsrelu_record_missed(r), 0);
    /* the tracker computes the deficits itself only in phase 2, the
     * recorder asks for them in the others: rows in phase 1 and, with the
     * default threshold, phase 3 (t2 = t1 here), with a tiny one, phase 2 */
    int64_t t1, t2;
    ck_assert_int_eq(tsrelu_gd_phase_times(gd, &t1, &t2), TSRELU_OK);
    ck_assert_msg(t1 > (int64_t)it[1] && t1 < (int64_t)it[size - 1], "t1 %lld", (long long)t1);
    if (eps_deficit > 0)
        ck_assert_msg(t2 < 0, "t2 %lld", (long long)t2);
    else
        ck_assert_msg(t2 >= t1 && t2 < (int64_t)it[size - 1], "t2 %lld", (long long)t2);
    tsrelu_teacher_free(mt);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
    tsrelu_gd_free(twin);
}

START_TEST(values_match_metrics)
{
    values_match(0.0);
}
END_TEST

START_TEST(values_match_metrics_in_phase_two)
{
    values_match(1e-12);
}
END_TEST

typedef struct {
    uint64_t it[256];
    size_t n;
} seen;

static int note(const tsrelu_gd *gd, void *ud)
{
    seen *s = ud;
    if (s->n < 256)
        s->it[s->n++] = tsrelu_gd_iteration(gd);
    return 0;
}

/* The recorder's iterates are the observer's, over several runs. */
static void same_as_observer(int schedule, uint64_t param)
{
    tsrelu_gd *gd = make_gd();
    tsrelu_record *r;
    seen obs = {{0}, 0};
    ck_assert_int_eq(tsrelu_record_create(gd, 256, 0, &r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, schedule, param), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, note, &obs, schedule, param), TSRELU_OK);
    static const uint64_t runs[] = {37, 100, 1, 0, 463, 2400};
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++)
        ck_assert_int_eq(tsrelu_gd_run(gd, runs[k]), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK); /* records nothing */
    ck_assert_uint_eq(tsrelu_record_size(r), obs.n);
    uint64_t it[256];
    ck_assert_int_eq(tsrelu_record_iterations(r, it, obs.n), TSRELU_OK);
    for (size_t n = 0; n < obs.n; n++)
        ck_assert_msg(it[n] == obs.it[n], "row %zu: recorded %llu, observed %llu", n, (unsigned long long)it[n],
                      (unsigned long long)obs.it[n]);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}

START_TEST(schedule_is_the_observers)
{
    same_as_observer(TSRELU_SCHEDULE_LOG, 10);
    same_as_observer(TSRELU_SCHEDULE_LOG, 3);
    same_as_observer(TSRELU_SCHEDULE_LINEAR, 50);
    same_as_observer(TSRELU_SCHEDULE_LINEAR, 1);
}
END_TEST

START_TEST(schedule_converged_run)
{
    /* a run that stops converged: its final iterate is recorded, as observed */
    tsrelu_gd *gd = make_gd();
    tsrelu_record *r;
    seen obs = {{0}, 0};
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, 1e30), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_create(gd, 8, 0, &r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LINEAR, 1000), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, note, &obs, TSRELU_SCHEDULE_LINEAR, 1000), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 10), TSRELU_CONVERGED);
    ck_assert_uint_eq(tsrelu_record_size(r), 1);
    ck_assert_uint_eq(obs.n, 1);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(capacity_exhaustion)
{
    tsrelu_gd *gd = make_gd();
    tsrelu_record *r;
    seen obs = {{0}, 0};
    ck_assert_int_eq(tsrelu_record_create(gd, 5, 0, &r), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_record_capacity(r), 5);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, note, &obs, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 1000), TSRELU_OK); /* the run goes on */
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 1000);
    ck_assert_uint_eq(tsrelu_record_size(r), 5);
    ck_assert_uint_eq(tsrelu_record_missed(r), obs.n - 5);
    uint64_t it[5];
    ck_assert_int_eq(tsrelu_record_iterations(r, it, 5), TSRELU_OK);
    for (size_t n = 0; n < 5; n++)
        ck_assert_uint_eq(it[n], obs.it[n]);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

/* Split a CSV line in place into at most nf fields. */
static size_t split(char *line, char **f, size_t nf)
{
    size_t n = 0;
    for (char *p = line; n < nf; n++) {
        f[n] = p;
        char *c = strchr(p, ',');
        if (!c) {
            p[strcspn(p, "\n")] = 0;
            return n + 1;
        }
        *c = 0;
        p = c + 1;
    }
    return n;
}

static void csv_roundtrip(unsigned flags)
{
    tsrelu_gd *gd = make_gd();
    tsrelu_record *r;
    ck_assert_int_eq(tsrelu_record_create(gd, 40, flags, &r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, 5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 500), TSRELU_OK);
    char dir[64], path[128];
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_rec");
    snprintf(path, sizeof path, "%s/r.csv", dir);
    ck_assert_int_eq(tsrelu_record_write_csv(r, path), TSRELU_OK);

    size_t size = tsrelu_record_size(r), acc = flags != 0;
    uint64_t it[40];
    double g[3][40], s[7][40 * M], t[2][40 * K];
    ck_assert_int_eq(tsrelu_record_iterations(r, it, size), TSRELU_OK);
    for (int k = 0; k < 2 + (int)acc; k++)
        ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_LOSS + k, g[k], size), TSRELU_OK);
    for (int k = 0; k < 7; k++)
        ck_assert_int_eq(tsrelu_record_student(r, TSRELU_RECORD_NORM + k, s[k], size * M), TSRELU_OK);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_DEFICIT + k, t[k], size * K), TSRELU_OK);

    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096], *fld[16];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, acc ? "iteration,student,norm,output_weight,nearest,angle,radial,tangential,angle_mean,"
                                 "deficit,group_size,loss,grad_norm,loss_accurate\n"
                               : "iteration,student,norm,output_weight,nearest,angle,radial,tangential,angle_mean,"
                                 "deficit,group_size,loss,grad_norm\n");
    size_t rows = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = rows / M, i = rows % M, c = n * M + i;
        ck_assert_uint_eq(split(line, fld, 16), 13 + acc);
        ck_assert_uint_eq(strtoull(fld[0], NULL, 10), it[n]);
        ck_assert_uint_eq(strtoull(fld[1], NULL, 10), i);
        for (int k = 0; k < 7; k++)
            ck_assert_msg(nan_or_eq(strtod(fld[2 + k], NULL), s[k][c], 0.0), "line %zu field %d", rows + 2, 2 + k);
        int l = (int)s[2][c];
        ck_assert(nan_or_eq(strtod(fld[9], NULL), l < 0 ? NAN : t[0][n * K + (size_t)l], 0.0));
        ck_assert(strtod(fld[10], NULL) == (l < 0 ? 0.0 : t[1][n * K + (size_t)l]));
        for (size_t k = 0; k < 2 + acc; k++)
            ck_assert(strtod(fld[11 + k], NULL) == g[k][n]);
        rows++;
    }
    ck_assert_uint_eq(rows, size * M);
    fclose(f);
    fixture_rmtree(dir);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}

START_TEST(csv_reads_back)
{
    csv_roundtrip(0);
    csv_roundtrip(TSRELU_RECORD_ACCURATE_LOSS);
}
END_TEST

START_TEST(batch_records)
{
    /* a recorder on a batch's state sees every scheduled iterate of the
     * same run alone, with the same values (the batch adds its split
     * points as final iterates) */
    tsrelu_batch *b;
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_set_threads(b, 2), TSRELU_OK);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(tsrelu_batch_add(b, T, S, 0.05, 2000, NULL), TSRELU_OK);
    tsrelu_record *rb, *ra;
    ck_assert_int_eq(tsrelu_record_create(tsrelu_batch_state(b, 1), 100, 0, &rb), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(tsrelu_batch_state(b, 1), rb, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_OK);

    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_gd_create(T, S, 0.05, &gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_create(gd, 100, 0, &ra), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, ra, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 2000), TSRELU_OK);

    size_t na = tsrelu_record_size(ra), nb = tsrelu_record_size(rb);
    ck_assert_uint_ge(nb, na);
    uint64_t ia[100], ib[100];
    double la[100], lb[100], wa[100 * M], wb[100 * M];
    ck_assert_int_eq(tsrelu_record_iterations(ra, ia, na), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_iterations(rb, ib, nb), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_global(ra, TSRELU_RECORD_LOSS, la, na), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_global(rb, TSRELU_RECORD_LOSS, lb, nb), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_student(ra, TSRELU_RECORD_TANGENTIAL, wa, na * M), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_student(rb, TSRELU_RECORD_TANGENTIAL, wb, nb * M), TSRELU_OK);
    size_t q = 0;
    for (size_t p = 0; p < na; p++) {
        while (q < nb && ib[q] < ia[p])
            q++;
        ck_assert_msg(q < nb && ib[q] == ia[p], "iteration %llu missing from the batch's record",
                      (unsigned long long)ia[p]);
        ck_assert(la[p] == lb[q]);
        ck_assert(memcmp(wa + p * M, wb + q * M, M * sizeof(double)) == 0);
    }
    tsrelu_batch_free(b); /* frees the state: rb stays readable */
    ck_assert_uint_eq(tsrelu_record_size(rb), nb);
    tsrelu_record_free(rb);
    tsrelu_record_free(ra);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(checkpoint_has_no_recorder)
{
    tsrelu_gd *gd = make_gd(), *loaded;
    tsrelu_record *r;
    ck_assert_int_eq(tsrelu_record_create(gd, 50, 0, &r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 30), TSRELU_OK);
    char dir[64], path[128];
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_rec");
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    ck_assert_int_eq(tsrelu_gd_save(gd, path), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_load(path, &loaded), TSRELU_OK);
    size_t before = tsrelu_record_size(r);
    ck_assert_int_eq(tsrelu_gd_run(loaded, 100), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_record_size(r), before);
    /* the recorder stays with its state; the loaded one takes another */
    ck_assert_int_eq(tsrelu_gd_set_recorder(loaded, r, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_EINVAL);
    tsrelu_gd_free(loaded);
    fixture_rmtree(dir);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(lifetimes)
{
    tsrelu_gd *gd = make_gd(), *other = make_gd();
    tsrelu_record *r, *r2;
    ck_assert_int_eq(tsrelu_record_create(gd, 10, 0, &r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_create(gd, 10, 0, &r2), TSRELU_OK);
    /* freeing the recorder detaches it: the state runs on */
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    tsrelu_record_free(r);
    ck_assert_int_eq(tsrelu_gd_run(gd, 20), TSRELU_OK);
    /* replacing detaches the old one; detaching keeps the rows */
    ck_assert_int_eq(tsrelu_gd_set_recorder(other, r2, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r2, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_run(other, 3), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(other, NULL, 0, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(other, 3), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_record_size(r2), 4);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r2, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 2), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_record_size(r2), 7); /* appended: 20, 21, 22 */
    /* freeing the state first leaves the recorder readable */
    tsrelu_gd_free(gd);
    uint64_t it[7];
    ck_assert_int_eq(tsrelu_record_iterations(r2, it, 7), TSRELU_OK);
    ck_assert_uint_eq(it[6], 22);
    ck_assert_int_eq(tsrelu_gd_set_recorder(other, r2, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    tsrelu_record_free(r2);
    tsrelu_gd_free(other);
}
END_TEST

static int attach_from_observer(const tsrelu_gd *gd, void *ud)
{
    tsrelu_status *st = ud;
    *st = tsrelu_gd_set_recorder((tsrelu_gd *)gd, NULL, 0, 0);
    return 0;
}

START_TEST(limits)
{
    tsrelu_gd *gd = make_gd();
    tsrelu_record *r = (tsrelu_record *)gd;
    ck_assert_int_eq(tsrelu_record_create(NULL, 10, 0, &r), TSRELU_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(tsrelu_record_create(gd, 10, 0, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_create(gd, 0, 0, &r), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_create(gd, 10, 2u, &r), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_create(gd, SIZE_MAX / 2, 0, &r), TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_record_create(gd, 10, 0, &r), TSRELU_OK);

    ck_assert_int_eq(tsrelu_gd_set_recorder(NULL, r, TSRELU_SCHEDULE_LOG, 10), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, 0, 10), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, TSRELU_LOG_MAX_PER_DECADE + 1),
                     TSRELU_EINVAL);
    tsrelu_teacher *t2;
    tsrelu_student *s2;
    tsrelu_gd *small;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 1, &t2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M - 1, D, 1e-2, 1, &s2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t2, s2, 0.1, &small), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(small, r, TSRELU_SCHEDULE_LOG, 10), TSRELU_EDIM);
    tsrelu_gd_free(small);
    tsrelu_student_free(s2);
    tsrelu_teacher_free(t2);

    tsrelu_status from_cb = TSRELU_OK;
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, attach_from_observer, &from_cb, TSRELU_SCHEDULE_LINEAR, 1),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 2), TSRELU_OK);
    ck_assert_int_eq(from_cb, TSRELU_EBUSY);
    ck_assert_uint_eq(tsrelu_record_size(r), 3);

    double out[3 * M];
    uint64_t it[3];
    ck_assert_int_eq(tsrelu_record_iterations(NULL, it, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_iterations(r, it, 2), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_record_iterations(r, NULL, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_global(NULL, TSRELU_RECORD_LOSS, out, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_NORM, out, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_global(r, 0, out, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_LOSS_ACCURATE, out, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_LOSS, out, 4), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_LOSS, NULL, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_student(NULL, TSRELU_RECORD_NORM, out, 3 * M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_student(r, TSRELU_RECORD_DEFICIT, out, 3 * M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_student(r, TSRELU_RECORD_ANGLE_MEAN + 1, out, 3 * M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_student(r, TSRELU_RECORD_NORM, out, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_record_teacher(NULL, TSRELU_RECORD_DEFICIT, out, 3 * K), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_LOSS, out, 3 * K), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_GROUP_SIZE + 1, out, 3 * K), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_DEFICIT, out, 3 * M), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_DEFICIT, out, 3 * K), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_write_csv(NULL, "/tmp/x.csv"), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_write_csv(r, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_write_csv(r, "/nonexistent-dir/r.csv"), TSRELU_EIO);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "/nonexistent-dir/r.csv"));
    ck_assert_uint_eq(tsrelu_record_size(NULL), 0);
    ck_assert_uint_eq(tsrelu_record_capacity(NULL), 0);
    ck_assert_uint_eq(tsrelu_record_missed(NULL), 0);
    tsrelu_record_free(NULL);

    /* an empty recorder: zero-length copies with NULL buffers */
    tsrelu_record *e;
    ck_assert_int_eq(tsrelu_record_create(gd, 1, 0, &e), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_iterations(e, NULL, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_student(e, TSRELU_RECORD_NORM, NULL, 0), TSRELU_OK);
    tsrelu_record_free(e);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 60);
    tcase_add_test(core, values_match_metrics);
    tcase_add_test(core, values_match_metrics_in_phase_two);
    tcase_add_test(core, schedule_is_the_observers);
    tcase_add_test(core, schedule_converged_run);
    tcase_add_test(core, capacity_exhaustion);
    tcase_add_test(core, csv_reads_back);
    tcase_add_test(core, batch_records);
    tcase_add_test(core, checkpoint_has_no_recorder);
    tcase_add_test(core, lifetimes);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("limits");
    tcase_add_checked_fixture(lim, setup, teardown);
    tcase_add_test(lim, limits);
    suite_add_tcase(s, lim);
    return s;
}
