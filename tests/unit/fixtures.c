/* Helpers shared by the Check suites: temporary directories for the
 * checkpoint tests, and little-endian words for hand-made files. */
#define _DEFAULT_SOURCE
#include "fixtures.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fixture_mkdtemp(char *dir, size_t len, const char *prefix)
{
    ck_assert_int_lt(snprintf(dir, len, "/tmp/%s_XXXXXX", prefix), (int)len);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

void fixture_rmtree(const char *dir)
{
    DIR *dp = opendir(dir);
    if (dp) {
        struct dirent *e;
        char p[4096 + 256];
        while ((e = readdir(dp)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                if (unlink(p) != 0)
                    rmdir(p);
            }
        closedir(dp);
    }
    rmdir(dir);
}

int fixture_entries(const char *dir)
{
    DIR *dp = opendir(dir);
    ck_assert_ptr_nonnull(dp);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dp)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(dp);
    return n;
}

void fixture_put64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

void fixture_reseal(unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 32; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    fixture_put64(p + 24, h);
}

int fixture_quick(void)
{
    return getenv("TSRELU_TEST_QUICK") != NULL;
}
