/* Online SGD beside exact GD (docs/sgd.md): the paper's k = 2, m = 20,
 * d = 16 configuration from one initialisation, with the same eta, one
 * state stepping on the closed-form gradient, the other on batches of B
 * fresh Gaussian inputs. At log-spaced iterations it prints the exact
 * population loss of both iterates (quad precision), the last batch loss of the sampled
 * run, the samples it consumed, and T^3 L (flat where L ~ T^-3).
 *
 *     build/examples/sgd [--quick] [--steps N] [--batch B] [--eta E] [--sigma S]
 *                        [--k K] [--m M] [--d D] [--out FILE]
 *
 * --out FILE writes the table to FILE instead of standard output.
 * examples/plot_sgd.py draws the outputs of several runs on one figure;
 * `make demo` runs the four Figure-1 configurations into demo-output/ and
 * examples/plot_demo.py draws them as its panel (i).
 */
#include <tsrelu.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, tsrelu_status st)
{
    fprintf(stderr, "sgd: %s: %s (%s)\n", what, tsrelu_status_name(st), tsrelu_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    unsigned long long steps = 100000, batch = 512;
    double eta = 0.1, sigma = 1e-6;
    size_t k = 2, m = 20, d = 16;
    const char *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            steps = 3000;
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--eta") && i + 1 < argc)
            eta = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--sigma") && i + 1 < argc)
            sigma = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--k") && i + 1 < argc)
            k = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--m") && i + 1 < argc)
            m = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--d") && i + 1 < argc)
            d = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out_path = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--steps N] [--batch B] [--eta E] [--sigma S] [--k K] [--m M] [--d D]"
                            " [--out FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        perror(out_path);
        return 1;
    }
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *exact, *sampled;
    tsrelu_status st;
    if ((st = tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t)) != TSRELU_OK)
        return fail("teacher", st);
    if ((st = tsrelu_student_create_gaussian(m, d, sigma, 2, &s)) != TSRELU_OK)
        return fail("student", st);
    if ((st = tsrelu_gd_create(t, s, eta, &exact)) != TSRELU_OK ||
        (st = tsrelu_gd_create(t, s, eta, &sampled)) != TSRELU_OK)
        return fail("gd", st);
    if ((st = tsrelu_gd_set_sampling(sampled, batch, 0, 3, 0)) != TSRELU_OK)
        return fail("tsrelu_gd_set_sampling", st);
    fprintf(out, "# k=%zu m=%zu d=%zu sigma=%g eta=%g, SGD batch %llu (online)\n", k, m, d, sigma, eta, batch);
    fprintf(out, "%10s %13s %13s %13s %13s %13s %13s\n", "T", "L_exact", "L_sgd", "L_batch", "samples",
           "T^3 L_exact", "T^3 L_sgd");
    for (int j = 0;; j++) {
        unsigned long long T = (unsigned long long)ceil(pow(10.0, j / 4.0));
        if (T > steps)
            break;
        if ((st = tsrelu_gd_run(exact, T - tsrelu_gd_iteration(exact))) != TSRELU_OK)
            return fail("exact run", st);
        if ((st = tsrelu_gd_run(sampled, T - tsrelu_gd_iteration(sampled))) != TSRELU_OK)
            return fail("sampled run", st);
        double Le, Ls, Lb = NAN;
        /* quad precision: the late losses are below the double-precision floor (~1e-16) */
        if ((st = tsrelu_loss_accurate(tsrelu_gd_student(exact), t, &Le)) != TSRELU_OK ||
            (st = tsrelu_loss_accurate(tsrelu_gd_student(sampled), t, &Ls)) != TSRELU_OK)
            return fail("loss", st);
        if (T > 0 && (st = tsrelu_gd_sample_loss(sampled, &Lb)) != TSRELU_OK)
            return fail("sample loss", st);
        double T3 = (double)T * (double)T * (double)T;
        fprintf(out, "%10llu %13.6e %13.6e %13.6e %13.6e %13.6e %13.6e\n", T, Le, Ls, Lb, (double)T * (double)batch,
               T3 * Le, T3 * Ls);
        if (!isfinite(Ls) || !isfinite(Le))
            return 1;
    }
    if (out != stdout && fclose(out) != 0) {
        perror(out_path);
        return 1;
    }
    tsrelu_gd_free(exact);
    tsrelu_gd_free(sampled);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return 0;
}
