/* Runs every Check suite; the exit status is the number of failures. */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
    SRunner *sr = srunner_create(status_suite());
    srunner_add_suite(sr, kernel_suite());
    srunner_add_suite(sr, network_suite());
    srunner_add_suite(sr, init_suite());
    srunner_add_suite(sr, population_suite());
    srunner_add_suite(sr, gd_suite());
    srunner_add_suite(sr, reference_suite());
    srunner_add_suite(sr, metrics_suite());
    srunner_add_suite(sr, checkpoint_suite());
    srunner_add_suite(sr, batch_suite());
    srunner_add_suite(sr, errors_suite());
    srunner_add_suite(sr, roundtrip_suite());
    srunner_add_suite(sr, reentry_suite());
    srunner_add_suite(sr, record_suite());
    srunner_add_suite(sr, flow_suite());
    srunner_add_suite(sr, hessian_suite());
    srunner_add_suite(sr, spectrum_suite());
    srunner_add_suite(sr, newton_suite());
    srunner_add_suite(sr, events_suite());
    srunner_add_suite(sr, simd_suite());
    srunner_add_suite(sr, sgd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
