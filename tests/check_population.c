/* Check suite for src/population.c — placeholder, to be filled. */
#include "suites.h"

Suite *population_suite(void)
{
    Suite *s = suite_create("population");
    return s;
}
