/* GD runs whose results test_isa.sh compares across the dispatch paths
 * (TSRELU_ISA): every number printed in hexadecimal, so that equal output
 * means bit-identical results.
 *   isa_trace isa                  the path tsrelu_isa() reports
 *   isa_trace run STEPS            W, a and the loss after STEPS steps at
 *                                  several sizes (tails of every block)
 *   isa_trace save STEPS FILE      (20,4,16) after STEPS steps, saved
 *   isa_trace resume FILE STEPS    load FILE, STEPS more steps, print
 *   isa_trace straight STEPS       (20,4,16) after STEPS steps, print
 *   isa_trace hessian STEPS        after STEPS steps at several sizes: the
 *                                  dense Hessian's FNV-1a hash of its bits
 *                                  and a Hessian-vector product
 *   isa_trace family               fused or unfused (the chosen path's
 *                                  multiply-adds: src/simd/kernels_impl.h)
 *   isa_trace close A B TOL        A and B (outputs of the above) alike
 *                                  within TOL: every number of a block (a
 *                                  line "m=..." or "N=..." and those after
 *                                  it) within TOL times the block's largest
 *                                  magnitude, the other words equal, the
 *                                  hashes H=... ignored; prints the worst
 *                                  ratio, exit status 1 beyond TOL */
#include <tsrelu.h>

#include "simd/simd.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x)                                                                      \
    do {                                                                            \
        tsrelu_status st_ = (x);                                                    \
        if (st_ < 0) {                                                              \
            fprintf(stderr, "isa_trace: %s: %s\n", #x, tsrelu_last_error());        \
            exit(2);                                                                \
        }                                                                           \
    } while (0)

static tsrelu_gd *make(size_t m, size_t k, size_t d, double eta, int train_a)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    TRY(tsrelu_teacher_create_orthogonal(k, d, 1.0, 7, &t));
    TRY(tsrelu_student_create_gaussian(m, d, 0.1, 11, &s));
    TRY(tsrelu_gd_create(t, s, eta, &gd));
    if (train_a)
        TRY(tsrelu_gd_set_train_output(gd, 1));
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
    return gd;
}

static void print(const tsrelu_gd *gd)
{
    const tsrelu_student *s = tsrelu_gd_student(gd);
    size_t m = tsrelu_student_width(s), d = tsrelu_student_dim(s);
    double *W = malloc(m * d * sizeof *W), *a = malloc(m * sizeof *a), loss;
    if (!W || !a)
        exit(2);
    TRY(tsrelu_student_weights(s, W, m * d));
    TRY(tsrelu_student_output_weights(s, a, m));
    TRY(tsrelu_gd_loss(gd, &loss));
    printf("m=%zu d=%zu loss=%a\n", m, d, loss);
    for (size_t i = 0; i < m * d; i++)
        printf("%a%c", W[i], (i + 1) % d ? ' ' : '\n');
    for (size_t i = 0; i < m; i++)
        printf("%a%c", a[i], i + 1 < m ? ' ' : '\n');
    free(W);
    free(a);
}

/* FNV-1a over the bytes of x: equal hashes of the Hessians say equal bits
 * (its hex would be megabytes). */
static uint64_t fnv1a(const double *x, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    const unsigned char *b = (const unsigned char *)x;
    for (size_t i = 0; i < n * sizeof *x; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static void print_hessian(const tsrelu_gd *gd, const tsrelu_teacher *t, unsigned flags)
{
    const tsrelu_student *s = tsrelu_gd_student(gd);
    size_t m = tsrelu_student_width(s), N = m * tsrelu_student_dim(s) + (flags ? m : 0);
    double *H = malloc(N * N * sizeof *H), *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    if (!H || !x || !y)
        exit(2);
    for (size_t i = 0; i < N; i++)
        x[i] = (double)((i * 7919) % 17) / 17.0 - 0.5;
    TRY(tsrelu_hessian(s, t, flags, H, N * N));
    TRY(tsrelu_hessian_vector(s, t, flags, x, N, y, N));
    printf("N=%zu flags=%u H=%016llx\n", N, flags, (unsigned long long)fnv1a(H, N * N));
    for (size_t i = 0; i < N; i++)
        printf("%a%c", y[i], i + 1 < N ? ' ' : '\n');
    free(H);
    free(x);
    free(y);
}

/* The worst |a - b| / (largest |b| of its block) over files A and B, or
 * -1 if their words differ other than in numbers and hashes. */
static double worst_ratio(const char *pa, const char *pb)
{
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    if (!fa || !fb)
        exit(2);
    char wa[128], wb[128];
    double worst = 0.0, diff = 0.0, mag = 0.0;
    int ra, rb;
    for (;;) {
        ra = fscanf(fa, "%127s", wa);
        rb = fscanf(fb, "%127s", wb);
        if (ra != 1 || rb != 1)
            break;
        const char *va = strchr(wa, '='), *vb = strchr(wb, '=');
        int block = strncmp(wa, "m=", 2) == 0 || strncmp(wa, "N=", 2) == 0;
        if (block) { /* a new block: close the last one */
            worst = fmax(worst, mag > 0.0 ? diff / mag : diff);
            diff = mag = 0.0;
        }
        if (strncmp(wa, "H=", 2) == 0 && strncmp(wb, "H=", 2) == 0)
            continue;
        if ((va == NULL) != (vb == NULL) || (va && (va - wa != vb - wb || strncmp(wa, wb, (size_t)(va - wa)))))
            return -1.0;
        char *ea, *eb;
        double a = strtod(va ? va + 1 : wa, &ea), b = strtod(vb ? vb + 1 : wb, &eb);
        if (*ea || *eb) { /* not numbers: equal words */
            if (strcmp(wa, wb))
                return -1.0;
            continue;
        }
        diff = fmax(diff, fabs(a - b));
        mag = fmax(mag, fabs(b));
    }
    worst = fmax(worst, mag > 0.0 ? diff / mag : diff);
    fclose(fa);
    fclose(fb);
    return ra == rb ? worst : -1.0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "family") == 0) {
        tsrelu_isa(); /* the choice, once */
        printf("%s\n", tsrelu__simd()->fused ? "fused" : "unfused");
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "close") == 0) {
        double w = worst_ratio(argv[2], argv[3]), tol = strtod(argv[4], NULL);
        printf("worst %.3g (bound %.3g)\n", w, tol);
        return w >= 0.0 && w <= tol ? 0 : 1;
    }
    static const size_t sizes[][3] = {{6, 2, 8}, {20, 4, 16}, {40, 4, 64}, {7, 3, 13}, {33, 5, 70}};
    if (argc == 2 && strcmp(argv[1], "isa") == 0) {
        printf("%s\n", tsrelu_isa());
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "run") == 0) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            tsrelu_gd *gd = make(sizes[z][0], sizes[z][1], sizes[z][2], 0.05, z % 2);
            TRY(tsrelu_gd_run(gd, strtoull(argv[2], NULL, 10)));
            print(gd);
            tsrelu_gd_free(gd);
        }
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "hessian") == 0) {
        for (size_t z = 0; z < 4; z++) { /* not the two largest: N^2 doubles */
            size_t m = sizes[z][0], k = sizes[z][1], d = sizes[z][2];
            tsrelu_teacher *t;
            TRY(tsrelu_teacher_create_orthogonal(k, d, 1.0, 7, &t));
            tsrelu_gd *g = make(m, k, d, 0.05, z % 2);
            TRY(tsrelu_gd_run(g, strtoull(argv[2], NULL, 10)));
            print_hessian(g, t, 0);
            print_hessian(g, t, TSRELU_HESSIAN_OUTPUT);
            tsrelu_gd_free(g);
            tsrelu_teacher_free(t);
        }
        return 0;
    }
    tsrelu_gd *gd = NULL;
    if (argc == 4 && strcmp(argv[1], "save") == 0) {
        gd = make(20, 4, 16, 0.1, 0);
        TRY(tsrelu_gd_run(gd, strtoull(argv[2], NULL, 10)));
        TRY(tsrelu_gd_save(gd, argv[3]));
    } else if (argc == 4 && strcmp(argv[1], "resume") == 0) {
        TRY(tsrelu_gd_load(argv[2], &gd));
        TRY(tsrelu_gd_run(gd, strtoull(argv[3], NULL, 10)));
        print(gd);
    } else if (argc == 3 && strcmp(argv[1], "straight") == 0) {
        gd = make(20, 4, 16, 0.1, 0);
        TRY(tsrelu_gd_run(gd, strtoull(argv[2], NULL, 10)));
        print(gd);
    } else {
        fprintf(stderr, "usage: isa_trace isa | run N | save N FILE | resume FILE N | straight N | hessian N\n");
        return 2;
    }
    tsrelu_gd_free(gd);
    return 0;
}
