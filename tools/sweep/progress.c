/* Progress line and closing summary on stderr (see progress.h). */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "1h02m", "3m07s", "12s" */
static void duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

int progress_mode(const char *s)
{
    return !strcmp(s, "auto") ? PROGRESS_AUTO : !strcmp(s, "always") ? PROGRESS_ALWAYS
                                               : !strcmp(s, "never") ? PROGRESS_NEVER : -1;
}

void progress_start(progress *p, int mode, size_t total, size_t before, double cost_todo)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->tty = isatty(STDERR_FILENO);
    p->total = total;
    p->before = before;
    p->cost_todo = cost_todo;
    p->t0 = now();
    pthread_mutex_init(&p->lock, NULL);
}

int progress_live(const progress *p)
{
    return p->tty && p->mode != PROGRESS_NEVER;
}

/* The progress line (p->lock held). */
static void draw(progress *p)
{
    double el = now() - p->t0;
    size_t left = p->total - p->before - p->done;
    char e[32], r[64] = "", f[64] = "";
    duration(e, sizeof e, el);
    if (p->cost_done > 0 && left > 0 && p->cost_todo > p->cost_done) {
        char l[32];
        duration(l, sizeof l, el * (p->cost_todo - p->cost_done) / p->cost_done);
        snprintf(r, sizeof r, ", about %s left", l);
    }
    if (p->tty && p->steps_all > 0)
        snprintf(f, sizeof f, "; runs in flight %.0f%% done",
                 100.0 * (double)p->steps_done / (double)p->steps_all);
    fprintf(stderr, "%stsrelu-sweep: %zu/%zu runs recorded (%zu before this start), %s%s%s%s",
            p->tty ? "\r" : "", p->before + p->done, p->total, p->before, e, r, f, p->tty ? "\033[K" : "\n");
    fflush(stderr);
    p->shown = p->tty;
    p->drawn = now();
}

void progress_add(progress *p, size_t runs, size_t not_ok, double cost)
{
    pthread_mutex_lock(&p->lock);
    p->done += runs;
    p->not_ok += not_ok;
    p->cost_done += cost;
    p->steps_done = p->steps_all = 0;
    if (p->mode != PROGRESS_NEVER && (p->mode != PROGRESS_AUTO || p->tty))
        draw(p);
    pthread_mutex_unlock(&p->lock);
}

void progress_steps(progress *p, uint64_t done, uint64_t all)
{
    pthread_mutex_lock(&p->lock);
    p->steps_done = done;
    p->steps_all = all;
    if (progress_live(p) && now() - p->drawn >= 0.25)
        draw(p);
    pthread_mutex_unlock(&p->lock);
}

void progress_end(progress *p, const char *out)
{
    char e[32];
    duration(e, sizeof e, now() - p->t0);
    if (p->shown)
        fputc('\n', stderr);
    fprintf(stderr, "tsrelu-sweep: %zu/%zu runs recorded in %s (%zu now, %zu before) in %s", p->before + p->done,
            p->total, out, p->done, p->before, e);
    if (p->not_ok)
        fprintf(stderr, "; %zu of the new runs did not end with TSRELU_OK (see the status column)", p->not_ok);
    fputc('\n', stderr);
    pthread_mutex_destroy(&p->lock);
}
