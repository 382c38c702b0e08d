/* Command-line parsing (see options.h). Axis flags are kept as text and
 * applied to the grid after the grid file, so that they replace its axes. */
#include "options.h"

#include "grid.h"
#include "progress.h"
#include "say.h"
#include "traj.h"
#include "values.h"

#include <tsrelu.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tsrelu-sweep [--grid FILE] [AXIS FLAGS] --out FILE [--threads N] [--chunk N]\n"
            "                    [--shard I/N] [--progress auto|always|never]\n"
            "                    [--trajectories DIR [--per-decade P]]\n"
            "       tsrelu-sweep [--grid FILE] [AXIS FLAGS] [--shard I/N] --list\n"
            "       tsrelu-sweep --merge OUT IN... [--grid FILE] [AXIS FLAGS] [--allow-missing]\n"
            "Runs every configuration of a grid with exact population GD (libtsrelu batch API)\n"
            "and writes one CSV row per run: configuration, summary, wall time (last column).\n"
            "An existing output is resumed: recorded runs are skipped. See docs/sweeps.md.\n"
            "Axis flags (each a list: 1,2,5  ranges A:B  A:B:STEP  A:B*FACTOR; they replace\n"
            "the same axis of the grid file):\n"
            "  --teacher orthogonal[:NORM]  (default orthogonal:1)   --k LIST (required)\n"
            "  --m LIST (required)   --d LIST (16)   --sigma LIST (1e-6)   --eta LIST (0.1)\n"
            "  --eps-align LIST (0.05)   --eps-deficit LIST (0.05)   --steps LIST (100000)\n"
            "  --seed LIST (1)\n"
            "  --grid FILE      grid file: lines 'axis = list', '#' comments\n"
            "  --out FILE       the CSV (created, or resumed when it exists)\n"
            "  --threads N      threads per batch, 0 = all online CPUs (default 0)\n"
            "  --chunk N        runs per batch = most runs lost by a kill (default: threads)\n"
            "  --shard I/N      this job's share of the runs (job arrays), 0 <= I < N: runs are\n"
            "                   sorted by cost (largest first, ties by index) and dealt like\n"
            "                   cards, position mod N == I, so every shard gets the same mix\n"
            "  --progress MODE  auto: a live line when stderr is a terminal (default);\n"
            "                   always: also plain lines per chunk in logs; never\n"
            "  --trajectories DIR  also record every run on a log schedule and write\n"
            "                   DIR/run_<index>.csv (created if missing; same CSV rows)\n"
            "  --per-decade P   points per decade of that schedule, 1 to %d (default %d)\n"
            "  --list           print the runs of the grid (or shard) and exit\n"
            "  --merge OUT IN.. merge shard CSVs into OUT (sorted, checked for gaps)\n"
            "  --allow-missing  let --merge write OUT although runs are missing\n"
            "  -h, --help       this text;   --version  the tool's and the library's version\n"
            "Figures from a sweep: tools/sweep/plot_sweep.py (docs/sweeps.md).\n",
            TRAJ_MAX_PER_DECADE, TRAJ_DEFAULT_PER_DECADE);
}

/* A count in decimal digits (values_digits), at most max. */
static int parse_count(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
    uint64_t v;
    if (values_digits(s, n, &v) != 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int options_parse(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->shard_n = 1;
    o->progress = PROGRESS_AUTO;
    o->inputs = calloc((size_t)argc, sizeof *o->inputs);
    if (!o->inputs)
        return 2;
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *val = NULL, *eq;
        if (!strcmp(a, "-h"))
            a = "--help";
        if (strncmp(a, "--", 2) != 0) {
            if (!o->merge_out) {
                say("unexpected argument '%s' (input files go after --merge OUT)", a);
                return 2;
            }
            o->inputs[o->ninputs++] = a;
            continue;
        }
        eq = strchr(a, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
        for (char *c = name; *c; c++)
            if (*c == '-')
                *c = '_';
        if (!strcmp(name, "help")) {
            if (say_enabled())
                usage(stdout);
            return 1;
        }
        if (!strcmp(name, "version")) {
            if (say_enabled())
                printf("tsrelu-sweep (libtsrelu %s)\n", tsrelu_version_string());
            return 1;
        }
        if (!strcmp(name, "list")) {
            o->list = 1;
            continue;
        }
        if (!strcmp(name, "allow_missing")) {
            o->allow_missing = 1;
            continue;
        }
        static const char *const valued[] = {"grid", "out", "merge", "threads", "chunk", "shard", "progress",
                                             "trajectories", "per_decade"};
        int known = grid_axis_id(name) >= 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= !strcmp(name, valued[k]);
        if (!known) {
            say("unknown option '%s'", a);
            return 2;
        }
        val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!val) {
            say("option '%s' needs a value", a);
            return 2;
        }
        unsigned long long v;
        int id = grid_axis_id(name);
        if (id >= 0) {
            if (o->naxes == MAX_AXIS_FLAGS) {
                say("too many axis flags");
                return 2;
            }
            o->axis_id[o->naxes] = id;
            o->axis_spec[o->naxes++] = val;
        } else if (!strcmp(name, "grid")) {
            o->grid_file = val;
        } else if (!strcmp(name, "out")) {
            o->out = val;
        } else if (!strcmp(name, "merge")) {
            o->merge_out = val;
        } else if (!strcmp(name, "threads")) {
            if (parse_count(val, strlen(val), 4096, &v) != 0) {
                say("--threads: '%s' is not a count from 0 to 4096", val);
                return 2;
            }
            o->threads = (unsigned)v;
        } else if (!strcmp(name, "chunk")) {
            if (parse_count(val, strlen(val), MAX_CHUNK, &v) != 0 || v == 0) {
                say("--chunk: '%s' is not a count from 1 to %d", val, MAX_CHUNK);
                return 2;
            }
            o->chunk = (size_t)v;
        } else if (!strcmp(name, "shard")) {
            const char *slash = strchr(val, '/');
            unsigned long long si, sn;
            if (!slash || parse_count(val, (size_t)(slash - val), SIZE_MAX, &si) != 0 ||
                parse_count(slash + 1, strlen(slash + 1), SIZE_MAX, &sn) != 0 || sn == 0 || si >= sn) {
                say("--shard: '%s' is not I/N with 0 <= I < N", val);
                return 2;
            }
            o->shard_i = (size_t)si;
            o->shard_n = (size_t)sn;
        } else if (!strcmp(name, "trajectories")) {
            if (!*val) {
                say("--trajectories: give a directory");
                return 2;
            }
            o->traj_dir = val;
        } else if (!strcmp(name, "per_decade")) {
            if (parse_count(val, strlen(val), TRAJ_MAX_PER_DECADE, &v) != 0 || v == 0) {
                say("--per-decade: '%s' is not a count from 1 to %d", val, TRAJ_MAX_PER_DECADE);
                return 2;
            }
            o->per_decade = (unsigned)v;
        } else { /* progress */
            if ((o->progress = progress_mode(val)) < 0) {
                say("--progress: '%s' is not auto, always or never", val);
                return 2;
            }
        }
    }
    if (o->merge_out && o->ninputs == 0) {
        say("--merge OUT needs input files");
        return 2;
    }
    if (o->per_decade && !o->traj_dir) {
        say("--per-decade needs --trajectories DIR");
        return 2;
    }
    if (o->traj_dir && (o->merge_out || o->list)) {
        say("--trajectories records a sweep's runs: not with --merge or --list");
        return 2;
    }
    if (!o->merge_out && !o->list && !o->out) {
        say("give --out FILE (or --list, --merge; see --help)");
        return 2;
    }
    return 0;
}

void options_free(options *o)
{
    free(o->inputs);
    o->inputs = NULL;
}
