/* GD runs whose results test_isa.sh compares across the dispatch paths
 * (TSRELU_ISA): every number printed in hexadecimal, so that equal output
 * means bit-identical results.
 *   isa_trace isa                  the path tsrelu_isa() reports
 *   isa_trace run STEPS            W, a and the loss after STEPS steps at
 *                                  several sizes (tails of every block)
 *   isa_trace save STEPS FILE      (20,4,16) after STEPS steps, saved
 *   isa_trace resume FILE STEPS    load FILE, STEPS more steps, print
 *   isa_trace straight STEPS       (20,4,16) after STEPS steps, print */
#include <tsrelu.h>

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

int main(int argc, char **argv)
{
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
        fprintf(stderr, "usage: isa_trace isa | run N | save N FILE | resume FILE N | straight N\n");
        return 2;
    }
    tsrelu_gd_free(gd);
    return 0;
}
