/* One Check suite per library module; test_main.c runs them all. */
#ifndef TSRELU_TEST_SUITES_H
#define TSRELU_TEST_SUITES_H
#include <check.h>

Suite *status_suite(void);     /* tests/unit/check_status.c */
Suite *kernel_suite(void);     /* tests/unit/check_kernel.c */
Suite *network_suite(void);    /* tests/unit/check_network.c */
Suite *init_suite(void);       /* tests/unit/check_init.c */
Suite *population_suite(void); /* tests/unit/check_population.c */
Suite *gd_suite(void);         /* tests/unit/check_gd.c */
Suite *reference_suite(void);  /* tests/unit/check_reference.c */
Suite *metrics_suite(void);    /* tests/unit/check_metrics.c */
Suite *checkpoint_suite(void); /* tests/unit/check_checkpoint.c */
Suite *batch_suite(void);      /* tests/unit/check_batch.c */
Suite *errors_suite(void);     /* tests/unit/check_errors.c */
Suite *roundtrip_suite(void);  /* tests/unit/check_roundtrip.c */
Suite *reentry_suite(void);    /* tests/unit/check_reentry.c */
Suite *record_suite(void);     /* tests/unit/check_record.c */
Suite *flow_suite(void);       /* tests/unit/check_flow.c */
Suite *hessian_suite(void);    /* tests/unit/check_hessian.c */
Suite *spectrum_suite(void);   /* tests/unit/check_spectrum.c */
Suite *newton_suite(void);     /* tests/unit/check_newton.c */
Suite *events_suite(void);     /* tests/unit/check_events.c */
Suite *simd_suite(void);       /* tests/unit/check_simd.c */
Suite *sgd_suite(void);       /* tests/unit/check_sgd.c */

#endif
