/* events — the phase events of one run, each timed on its own.
 *
 * A student of m = 20 neurons (sigma = 1e-6) learns k = 4 orthogonal unit
 * teachers in d = 16 by GD (eta = 0.05), the paper's Figure-1 setting at
 * k = 4, m = 20. A recorder stores the trajectory at 20 rows per decade;
 * an on-line event callback prints the group switches as they happen; after
 * the run, the event times are computed from the record with thresholds
 * chosen then (and re-applied with a second threshold), and summarised by
 * the median and the max over students. Times are iterations; multiply by
 * eta for gradient-flow time.
 *
 * Build:  cc events.c $(pkg-config --cflags --libs libtsrelu) -lm
 * Run:    ./events           10^6 steps (a few seconds)
 *         ./events --quick   20000 steps (used by `make check`) */
#include <tsrelu.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K = 4, D = 16, M = 20 };

static int failed(tsrelu_status st, const char *what)
{
    if (st >= 0)
        return 0;
    fprintf(stderr, "events: %s: %s (%s)\n", what, tsrelu_status_string(st), tsrelu_last_error());
    return 1;
}

/* On line: report every group switch (a "left" then an "entered"); the
 * first row's entries into the initial groups are counted, not printed. */
static int on_event(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher, double time,
                    void *user_data)
{
    (void)gd, (void)kind;
    int *initial = user_data;
    if (time == 0.0) {
        ++*initial;
        return 0;
    }
    printf("  on line: t=%-8.0f student %2zu %s group %d\n", time, index,
           transition == TSRELU_EVENT_ENTERED ? "entered" : "left   ", teacher);
    return 0;
}

/* Median and max over n per-item times (NaN = never). */
static void summary(const char *name, const double *t, size_t n)
{
    double med, max;
    if (failed(tsrelu_event_quantile(t, n, 0.5, &med), "quantile") ||
        failed(tsrelu_event_quantile(t, n, 1.0, &max), "quantile"))
        return;
    size_t never = 0;
    for (size_t i = 0; i < n; i++)
        never += isnan(t[i]);
    printf("  %-42s median %-10.6g max %-10.6g (never: %zu of %zu)\n", name, med, max, never, n);
}

static int report(const tsrelu_record *r, double eps)
{
    double t[M], h[K];
    char name[96];
    printf("thresholds: eps = %g (alignment, deficit), 0.6 rad (mean direction), q = 0.5 (norms)\n", eps);
#define TIMES(kind, mode, thr, out, len, label)                                                  \
    do {                                                                                         \
        if (failed(tsrelu_record_event_times(r, kind, mode, thr, out, len), label))              \
            return 1;                                                                            \
        snprintf(name, sizeof name, "%s", label);                                                \
        summary(name, out, len);                                                                 \
    } while (0)
    TIMES(TSRELU_EVENT_NORM, TSRELU_EVENT_FIRST, 0.5, t, M, "norm reaches 1/2 of final");
    TIMES(TSRELU_EVENT_NORM_SHARE, TSRELU_EVENT_FIRST, 0.5, t, M, "norm reaches 1/2 of |v|/m_l");
    TIMES(TSRELU_EVENT_MEAN, TSRELU_EVENT_FIRST, 0.6, t, M, "condenses (within 0.6 of the mean dir.)");
    TIMES(TSRELU_EVENT_MEAN, TSRELU_EVENT_LEAVE, 0.6, t, M, "splits (leaves it for good)");
    TIMES(TSRELU_EVENT_GROUP, TSRELU_EVENT_SETTLE, 0.0, t, M, "joins its final group for good");
    TIMES(TSRELU_EVENT_ALIGN, TSRELU_EVENT_SETTLE, eps, t, M, "aligns with its final teacher for good");
    TIMES(TSRELU_EVENT_DEFICIT, TSRELU_EVENT_SETTLE, eps, h, K, "deficit |H_l| <= eps |v_l| for good");
#undef TIMES
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t steps = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            steps = 20000;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    tsrelu_gd *gd = NULL;
    tsrelu_record *r = NULL;
    int rc = 1, initial = 0;
    if (failed(tsrelu_teacher_create_orthogonal(K, D, 1.0, 1, &t), "teacher") ||
        failed(tsrelu_student_create_gaussian(M, D, 1e-6, 2, &s), "student") ||
        failed(tsrelu_gd_create(t, s, 0.05, &gd), "gd") ||
        failed(tsrelu_record_create(gd, 200, TSRELU_RECORD_ACCURATE_LOSS, &r), "recorder") ||
        failed(tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, 20), "attach") ||
        failed(tsrelu_record_set_event_callback(r, TSRELU_EVENT_BIT(TSRELU_EVENT_GROUP), on_event, &initial),
               "event callback"))
        goto out;
    printf("k=%d m=%d d=%d sigma=1e-6 eta=0.05, %llu steps\n", K, M, D, (unsigned long long)steps);
    if (failed(tsrelu_gd_run(gd, steps), "run"))
        goto out;
    size_t n;
    if (failed(tsrelu_record_switches(r, NULL, 0, &n), "switches"))
        goto out;
    printf("%zu rows recorded; %d initial group entries; %zu group switches\n", tsrelu_record_size(r), initial, n);
    if (report(r, 0.05) || report(r, 0.01))
        goto out;
    int64_t t1, t2;
    double onset, slope;
    if (failed(tsrelu_gd_phase_times(gd, &t1, &t2), "phase times") ||
        failed(tsrelu_record_rate_onset(r, 0.1, &onset, &slope), "rate onset"))
        goto out;
    /* NaN: the local slope still drifts by more than 0.1 from the decade's fit */
    printf("late rate: slope %.4f over the last decade, within 0.1 from T = %g\n", slope, onset);
    printf("1.0 tracker (gated, eps 0.05): t1 = %lld, t2 = %lld\n", (long long)t1, (long long)t2);
    rc = 0;
out:
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return rc;
}
