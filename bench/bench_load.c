/* bench_load: how fast and with how little memory tsrelu_gd_load refuses
 * hostile checkpoint files (issue 11, item 3): a sparse 8 GiB file with a
 * valid header and zero sizes, and a sparse 256 MiB file whose sizes agree
 * with its length (refused by the checksum after one streamed read). Prints
 * the status, the time and the growth of the peak resident set.
 *
 *   make build/bench_load && build/bench_load [DIR]      (DIR: /tmp) */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void put64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static int sparse(const char *path, uint64_t size, uint64_t m, uint64_t k, uint64_t d)
{
    unsigned char h[56] = "TSRELUCK";
    put64(h + 8, 1);
    put64(h + 16, size - 32);
    put64(h + 24, 0x1234);
    put64(h + 32, m);
    put64(h + 40, k);
    put64(h + 48, d);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, h, sizeof h) != (ssize_t)sizeof h || ftruncate(fd, (off_t)size) != 0)
        return -1;
    return close(fd);
}

static void measure(const char *what, const char *path)
{
    struct rusage r0, r1;
    struct timespec a, b;
    tsrelu_gd *gd = NULL;
    getrusage(RUSAGE_SELF, &r0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    tsrelu_status st = tsrelu_gd_load(path, &gd);
    clock_gettime(CLOCK_MONOTONIC, &b);
    getrusage(RUSAGE_SELF, &r1);
    printf("%-40s %-16s %9.4f s  peak RSS +%ld KiB\n    (%s)\n", what, tsrelu_status_name(st),
           (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec),
           r1.ru_maxrss - r0.ru_maxrss, tsrelu_last_error());
    tsrelu_gd_free(gd);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s/bench_load_8g.ckpt", dir);
    snprintf(p2, sizeof p2, "%s/bench_load_256m.ckpt", dir);
    uint64_t d = ((uint64_t)1 << 24) - 2;
    if (sparse(p1, (uint64_t)8 << 30, 0, 0, 0) != 0 ||
        sparse(p2, 32 + 8 * (19 + 2 + d + 1 + d + 1 + 1), 1, 1, d) != 0) {
        perror("bench_load: creating the sparse files");
        return 1;
    }
    measure("8 GiB sparse, valid header, sizes 0", p1);
    measure("256 MiB sparse, consistent sizes", p2);
    unlink(p1);
    unlink(p2);
    return 0;
}
