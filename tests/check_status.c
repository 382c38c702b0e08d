/* Check suite for src/status.c — placeholder, to be filled. */
#include "suites.h"

Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    return s;
}
