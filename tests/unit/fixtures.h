/* Helpers shared by the Check suites (fixtures.c). */
#ifndef TSRELU_TEST_FIXTURES_H
#define TSRELU_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/* A new empty directory /tmp/PREFIX_XXXXXX into dir (len >= 64). */
void fixture_mkdtemp(char *dir, size_t len, const char *prefix);
/* Remove dir with every file and empty directory in it. */
void fixture_rmtree(const char *dir);
/* The entries of dir other than . and .. (a stray dotfile counts). */
int fixture_entries(const char *dir);
/* x as 8 little-endian bytes at p. */
void fixture_put64(unsigned char *p, uint64_t x);
/* Rewrite the FNV-1a checksum of a checkpoint image of n bytes, so that a
 * deliberately inconsistent payload passes the integrity test and must be
 * caught by validation. */
void fixture_reseal(unsigned char *p, size_t n);
/* 1 under TSRELU_TEST_QUICK (scripts/valgrind.sh sets it): long runs are
 * shortened, asserting what the shorter run can show. */
int fixture_quick(void);

#endif
