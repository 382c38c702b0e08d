/* Check suite for src/network.c — placeholder, to be filled. */
#include "suites.h"

Suite *network_suite(void)
{
    Suite *s = suite_create("network");
    return s;
}
