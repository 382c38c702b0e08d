/* Check suite for src/gd.c — placeholder, to be filled. */
#include "suites.h"

Suite *gd_suite(void)
{
    Suite *s = suite_create("gd");
    return s;
}
