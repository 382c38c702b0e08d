/* MPI distribution of a sweep (see sweep_mpi.h). Messages:
 *   request (rank r -> 0, TAG_REQUEST): uint64 want, runs, not_ok, then the
 *           CSV lines of the `runs` runs finished since the last request;
 *   work    (0 -> rank r, TAG_WORK): uint64 run indices; none = stop. */
#define _POSIX_C_SOURCE 200809L
#include "sweep_mpi.h"

#include "runner.h"
#include "strbuf.h"

#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_REQUEST = 101, TAG_WORK = 102 };
#define HEADER_BYTES (3 * sizeof(uint64_t))

int smpi_init(int *argc, char ***argv, int *rank, int *size)
{
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    if (provided < MPI_THREAD_FUNNELED) {
        if (*rank == 0)
            fprintf(stderr, "tsrelu-sweep: the MPI library does not support MPI_THREAD_FUNNELED\n");
        MPI_Finalize();
        return -1;
    }
    return 0;
}

void smpi_finalize(void)
{
    MPI_Finalize();
}

void smpi_abort(int code)
{
    MPI_Abort(MPI_COMM_WORLD, code);
}

int smpi_bcast_int(int v)
{
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v;
}

char *smpi_bcast_text(char *text)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long len = text ? (long)strlen(text) : -1;
    MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (len < 0)
        return NULL;
    if (rank != 0 && !(text = malloc((size_t)len + 1)))
        smpi_abort(1);
    MPI_Bcast(text, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
    text[len] = '\0';
    return text;
}

int smpi_same(uint64_t fingerprint)
{
    uint64_t lo = fingerprint, hi = fingerprint;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

static void *local_main(void *arg)
{
    job_run_local(arg);
    return NULL;
}

/* One request from a worker: record its rows, answer with its next chunk.
 * @return the number of runs handed out (0 = the worker stops). */
static size_t serve(sweep_job *j, const MPI_Status *st, uint64_t **work, size_t *cap, size_t *ran)
{
    int count;
    MPI_Get_count(st, MPI_BYTE, &count);
    if (count < (int)HEADER_BYTES) {
        fprintf(stderr, "tsrelu-sweep: bad request from rank %d\n", st->MPI_SOURCE);
        smpi_abort(1);
    }
    char *msg = malloc((size_t)count);
    if (!msg)
        smpi_abort(1);
    MPI_Recv(msg, count, MPI_BYTE, st->MPI_SOURCE, TAG_REQUEST, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    uint64_t head[3];
    memcpy(head, msg, sizeof head);
    if (head[1] > 0 && job_record(j, msg + HEADER_BYTES, (size_t)count - HEADER_BYTES, (size_t)head[1],
                                  (size_t)head[2]) == 0)
        ran[st->MPI_SOURCE] += (size_t)head[1];
    free(msg);
    size_t want = head[0] ? (size_t)head[0] : 1, n;
    if (want > *cap) {
        uint64_t *w = realloc(*work, want * sizeof *w);
        if (!w)
            smpi_abort(1);
        *work = w;
        *cap = want;
    }
    size_t *idx = malloc(want * sizeof *idx);
    if (!idx)
        smpi_abort(1);
    n = job_take(j, want, idx);
    for (size_t i = 0; i < n; i++)
        (*work)[i] = idx[i];
    free(idx);
    MPI_Send(*work, (int)n, MPI_UINT64_T, st->MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
    return n;
}

int smpi_coordinate(sweep_job *j, int size)
{
    pthread_t local;
    size_t *ran = calloc((size_t)size, sizeof *ran);
    if (!ran)
        smpi_abort(1);
    int have_local = pthread_create(&local, NULL, local_main, j) == 0;
    if (!have_local)
        fprintf(stderr, "tsrelu-sweep: rank 0 could not start its compute thread; it only coordinates\n");
    int active = size - 1;
    uint64_t *work = NULL;
    size_t cap = 0, remote = 0;
    const struct timespec nap = {0, 1000000}; /* 1 ms: MPI_Recv would spin a core */
    while (active > 0) {
        int flag;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, MPI_COMM_WORLD, &flag, &st);
        if (!flag) {
            nanosleep(&nap, NULL);
            continue;
        }
        if (serve(j, &st, &work, &cap, ran) == 0)
            active--;
    }
    if (have_local)
        pthread_join(local, NULL);
    /* runs per rank, to see how the work spread (the rest is rank 0's) */
    for (int r = 1; r < size; r++)
        remote += ran[r];
    ran[0] = j->prog->done - remote;
    fprintf(stderr, "tsrelu-sweep: runs per rank:");
    for (int r = 0; r < size; r++)
        fprintf(stderr, " %d:%zu", r, ran[r]);
    fputc('\n', stderr);
    free(ran);
    free(work);
    return j->failed ? -1 : 0;
}

int smpi_work(const sweep_grid *g, unsigned threads, size_t chunk, const sweep_traj *traj, char *err,
              size_t errlen)
{
    strbuf msg = {0};
    uint64_t *work = malloc(chunk * sizeof *work);
    size_t *idx = malloc(chunk * sizeof *idx);
    uint64_t head[3] = {chunk, 0, 0};
    int rc = -1;
    if (!work || !idx || sb_append(&msg, (const char *)head, sizeof head) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (;;) {
        MPI_Send(msg.s, (int)msg.len, MPI_BYTE, 0, TAG_REQUEST, MPI_COMM_WORLD);
        MPI_Status st;
        int n;
        MPI_Recv(work, (int)chunk, MPI_UINT64_T, 0, TAG_WORK, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, MPI_UINT64_T, &n);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            idx[i] = (size_t)work[i];
        size_t not_ok;
        sb_clear(&msg);
        if (sb_append(&msg, (const char *)head, sizeof head) != 0 ||
            runner_run(g, idx, (size_t)n, threads, traj, NULL, &msg, &not_ok, err, errlen) != 0)
            goto done;
        head[1] = (uint64_t)n;
        head[2] = not_ok;
        memcpy(msg.s, head, sizeof head);
    }
    rc = 0;
done:
    sb_free(&msg);
    free(work);
    free(idx);
    return rc;
}
