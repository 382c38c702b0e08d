/* Check suite for src/reference.c — placeholder, to be filled. */
#include "suites.h"

Suite *reference_suite(void)
{
    Suite *s = suite_create("reference");
    return s;
}
