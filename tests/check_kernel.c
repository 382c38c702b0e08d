/* Check suite for src/kernel.c — placeholder, to be filled. */
#include "suites.h"

Suite *kernel_suite(void)
{
    Suite *s = suite_create("kernel");
    return s;
}
