/* Trajectory files of a sweep (see traj.h). */
#include "traj.h"

#include "say.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Split points of a batch run, which are recorded as final iterates: the
 * batch samples its summary at most this many times in the last decade
 * (MAX_SAMPLES in src/batch.c). Only a bound on the capacity: a truncated
 * record is still caught by traj_write. */
#define BATCH_SPLITS 64

int traj_prepare(const char *dir, char *err, size_t errlen)
{
    struct stat sb;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return say_err(err, errlen, "--trajectories: cannot create directory '%s': %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0)
        return say_err(err, errlen, "--trajectories: '%s': %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return say_err(err, errlen, "--trajectories: '%s' is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return say_err(err, errlen, "--trajectories: directory '%s' is not writable: %s", dir, strerror(errno));
    return 0;
}

/* Rows a log schedule with P points per decade can take in [0, steps]: step
 * 0, the points ceil(10^(j/P)) <= steps (j <= P log10(steps), two more for
 * rounding), and the batch's split points; never more than steps + 1. */
static size_t capacity(uint64_t steps, unsigned P)
{
    double logs = steps > 0 ? floor((double)P * log10((double)steps)) + 3 : 1;
    double cap = 1 + logs + BATCH_SPLITS;
    if ((double)steps + 1 < cap)
        cap = (double)steps + 1;
    return (size_t)cap;
}

int traj_attach(const sweep_traj *t, tsrelu_gd *gd, uint64_t steps, size_t index, tsrelu_record **out,
                char *err, size_t errlen)
{
    tsrelu_status st;
    *out = NULL;
    if ((st = tsrelu_record_create(gd, capacity(steps, t->per_decade), 0, out)) != TSRELU_OK ||
        (st = tsrelu_gd_set_recorder(gd, *out, TSRELU_SCHEDULE_LOG, t->per_decade)) != TSRELU_OK) {
        tsrelu_record_free(*out);
        *out = NULL;
        return say_err(err, errlen, "run %zu: recorder: %s (%s)", index, tsrelu_status_name(st),
                       tsrelu_last_error());
    }
    return 0;
}

int traj_write(const sweep_traj *t, const tsrelu_record *r, size_t index, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    uint64_t missed = tsrelu_record_missed(r);
    if (missed)
        return say_err(err, errlen, "run %zu: the trajectory missed %llu iterates (capacity %zu)", index,
                       (unsigned long long)missed, tsrelu_record_capacity(r));
    if ((size_t)snprintf(path, sizeof path, "%s/run_%zu.csv", t->dir, index) >= sizeof path)
        return say_err(err, errlen, "--trajectories: path too long in '%s'", t->dir);
    /* one name per run: only one process runs a given run at a time */
    snprintf(tmp, sizeof tmp, "%s/.run_%zu.csv.tmp", t->dir, index);
    tsrelu_status st = tsrelu_record_write_csv(r, tmp);
    if (st != TSRELU_OK) {
        unlink(tmp);
        return say_err(err, errlen, "%s: %s (%s)", tmp, tsrelu_status_name(st), tsrelu_last_error());
    }
    /* on disk before the rename, or a crash could leave an empty file */
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return say_err(err, errlen, "%s: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return say_err(err, errlen, "%s: rename to %s: %s", tmp, path, strerror(e));
    }
    return 0;
}
