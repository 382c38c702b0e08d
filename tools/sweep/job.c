/* Shared run queue and recorder (see job.h). */
#include "job.h"

#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t job_take(sweep_job *j, size_t max, size_t *idx)
{
    pthread_mutex_lock(&j->lock);
    size_t n = 0;
    while (!j->failed && n < max && j->next < j->ntodo)
        idx[n++] = j->todo[j->next++];
    pthread_mutex_unlock(&j->lock);
    return n;
}

void job_fail(sweep_job *j, const char *msg)
{
    pthread_mutex_lock(&j->lock);
    if (!j->failed)
        snprintf(j->err, sizeof j->err, "%s", msg);
    j->failed = 1;
    pthread_mutex_unlock(&j->lock);
}

/* Summed grid_cost() of complete rows (each starts with its run index). */
static double rows_cost(const sweep_grid *g, const char *text, size_t len)
{
    double cost = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        size_t index = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            index = 10 * index + (size_t)(*p - '0');
        if (index < g->total) {
            sweep_config c;
            grid_config(g, index, &c);
            cost += grid_cost(&c);
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    return cost;
}

int job_record(sweep_job *j, const char *text, size_t len, size_t runs, size_t not_ok)
{
    char err[1024];
    double cost = rows_cost(j->grid, text, len);
    pthread_mutex_lock(&j->lock);
    int rc = table_out_append(j->out, text, len, err, sizeof err);
    if (rc == 0)
        progress_add(j->prog, runs, not_ok, cost);
    else if (!j->failed) {
        snprintf(j->err, sizeof j->err, "%s", err);
        j->failed = 1;
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int job_run_local(sweep_job *j)
{
    size_t *idx = malloc(j->chunk * sizeof *idx), n, not_ok;
    strbuf rows = {0};
    char err[1024];
    int rc = 0;
    if (!idx) {
        job_fail(j, "out of memory");
        return -1;
    }
    while (rc == 0 && (n = job_take(j, j->chunk, idx)) > 0) {
        sb_clear(&rows);
        if (runner_run(j->grid, idx, n, j->threads, j->traj, j->prog, &rows, &not_ok, err, sizeof err) != 0) {
            job_fail(j, err);
            rc = -1;
        } else {
            rc = job_record(j, rows.s, rows.len, n, not_ok);
        }
    }
    free(idx);
    sb_free(&rows);
    return rc;
}
