/* Reference values for test_bitexact.py: the same computations as the
 * Python binding, through the C API directly, printed exactly (%a). One
 * record per line: a key, then the values. */
#include "tsrelu.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define CK(call)                                                               \
    do {                                                                       \
        tsrelu_status st_ = (call);                                            \
        if (st_ < 0) {                                                         \
            fprintf(stderr, "%s: %s\n", #call, tsrelu_last_error());           \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static void put(const char *key, const double *x, size_t n)
{
    printf("%s", key);
    for (size_t i = 0; i < n; i++)
        printf(" %a", x[i]);
    printf("\n");
}

static void put_int(const char *key, const int *x, size_t n)
{
    printf("%s", key);
    for (size_t i = 0; i < n; i++)
        printf(" %d", x[i]);
    printf("\n");
}

enum { K = 3, D = 7, M = 9 };

/* records "obs ITERATION LOSS LOSS_ACCURATE" at each observation */
static int observe(const tsrelu_gd *gd, void *user_data)
{
    double L, La;
    (void)user_data;
    CK(tsrelu_gd_loss(gd, &L));
    CK(tsrelu_loss_accurate(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &La));
    printf("obs %" PRIu64 " %a %a\n", tsrelu_gd_iteration(gd), L, La);
    return 0;
}

int main(void)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    double V[K * D], b[K], W[M * D], a[M], gW[M * D], ga[M], L, th[M * K];
    double rad[M], tan_[M], H[K], rmin[K], rmax[K], ex[K];
    int tau[M], size[K];

    CK(tsrelu_teacher_create_orthogonal(K, D, 1.5, 5, &t));
    CK(tsrelu_student_create_gaussian(M, D, 0.3, 6, &s));
    CK(tsrelu_teacher_weights(t, V, K * D));
    CK(tsrelu_teacher_output_weights(t, b, K));
    CK(tsrelu_student_weights(s, W, M * D));
    CK(tsrelu_student_output_weights(s, a, M));
    put("V", V, K * D);
    put("b", b, K);
    put("W", W, M * D);
    put("a", a, M);
    CK(tsrelu_loss(s, t, &L));
    put("loss", &L, 1);
    CK(tsrelu_loss_accurate(s, t, &L));
    put("loss_accurate", &L, 1);
    CK(tsrelu_gradient(s, t, gW, M * D, ga, M));
    put("gW", gW, M * D);
    put("ga", ga, M);
    CK(tsrelu_angles(s, t, th, M * K));
    put("angles", th, M * K);
    CK(tsrelu_nearest_teacher(s, t, tau, M));
    put_int("nearest", tau, M);
    CK(tsrelu_components(s, t, NULL, 0, rad, tan_, M));
    put("radial", rad, M);
    put("tangential", tan_, M);
    int tau2[M];
    for (int i = 0; i < M; i++)
        tau2[i] = i % K - (i == 4);
    CK(tsrelu_deficit(s, t, tau2, M, H, K));
    put("deficit_tau", H, K);
    CK(tsrelu_balance(s, t, NULL, 0, size, rmin, rmax, ex, K));
    put_int("balance_size", size, K);
    put("balance_min", rmin, K);
    put("balance_max", rmax, K);
    put("balance_excess", ex, K);

    /* explicit weights: V2 = V with b = (1, -0.5, 2); W2 = W * 0.5 with a_i = 1 + i/8 */
    double b2[K] = {1.0, -0.5, 2.0}, W2[M * D], a2[M];
    for (int i = 0; i < M * D; i++)
        W2[i] = W[i] * 0.5;
    for (int i = 0; i < M; i++)
        a2[i] = 1.0 + i / 8.0;
    tsrelu_teacher *t2;
    tsrelu_student *s2;
    CK(tsrelu_teacher_create(K, D, V, b2, &t2));
    CK(tsrelu_student_create(M, D, W2, a2, &s2));
    CK(tsrelu_loss(s2, t2, &L));
    put("loss2", &L, 1);
    CK(tsrelu_loss_accurate(s2, t2, &L));
    put("loss2_accurate", &L, 1);

    /* GD: 300 steps with trained output weights, then 200 more without */
    tsrelu_gd *gd;
    CK(tsrelu_gd_create(t, s, 0.05, &gd));
    CK(tsrelu_gd_set_train_output(gd, 1));
    CK(tsrelu_gd_run(gd, 300));
    CK(tsrelu_gd_set_train_output(gd, 0));
    CK(tsrelu_gd_run(gd, 200));
    CK(tsrelu_student_weights(tsrelu_gd_student(gd), W, M * D));
    CK(tsrelu_student_output_weights(tsrelu_gd_student(gd), a, M));
    put("gd_W", W, M * D);
    put("gd_a", a, M);
    CK(tsrelu_gd_loss(gd, &L));
    put("gd_loss", &L, 1);
    CK(tsrelu_gd_gradient_norm(gd, &L));
    put("gd_gnorm", &L, 1);
    CK(tsrelu_loss_accurate(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &L));
    put("gd_loss_accurate", &L, 1);
    printf("gd_iteration %" PRIu64 "\n", tsrelu_gd_iteration(gd));
    int64_t t1, t2_;
    CK(tsrelu_gd_phase_times(gd, &t1, &t2_));
    printf("gd_phase %d %" PRId64 " %" PRId64 " %zu\n", tsrelu_gd_phase(gd), t1, t2_,
           tsrelu_gd_group_switches(gd));
    CK(tsrelu_gd_groups(gd, 1, tau, M));
    put_int("gd_groups0", tau, M);
    CK(tsrelu_gd_groups(gd, 0, tau, M));
    put_int("gd_groups", tau, M);

    double tt[6] = {1, 10, 100, 1000, 0, 5}, LL[6] = {1, 2e-3, 1.5e-6, 1e-9, 7, 0};
    double slope, icpt;
    CK(tsrelu_rate_fit(tt, LL, 6, 0.0, 1e300, &slope, &icpt));
    put("rate_fit", (double[]){slope, icpt}, 2);

    /* a second GD state on the explicit weights, log-scheduled observer */
    tsrelu_gd *gd2;
    CK(tsrelu_gd_create(t2, s2, 0.02, &gd2));
    CK(tsrelu_gd_set_observer(gd2, observe, NULL, TSRELU_SCHEDULE_LOG, 3));
    CK(tsrelu_gd_run(gd2, 1000));
    CK(tsrelu_student_weights(tsrelu_gd_student(gd2), W2, M * D));
    put("gd2_W", W2, M * D);

    tsrelu_gd_free(gd2);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s2);
    tsrelu_teacher_free(t2);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return 0;
}
