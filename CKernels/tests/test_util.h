/*
 * test_util.h — shared helpers of the C backend tests: CHECK, a deterministic random source, buffers on a
 * backend, per-op error records (printed at the end: the largest relative error seen per op and check kind).
 */
#ifndef CK_TEST_UTIL_H
#define CK_TEST_UTIL_H

#include "ckernels.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int test_failures;
extern int test_passes;

#define CHECK(cond, ...)                                                                                              \
    do {                                                                                                              \
        if (cond) {                                                                                                   \
            test_passes++;                                                                                            \
        } else {                                                                                                      \
            test_failures++;                                                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                     \
            fprintf(stderr, __VA_ARGS__);                                                                             \
            fprintf(stderr, "\n");                                                                                    \
        }                                                                                                             \
    } while (0)

/** CHECK that a backend call returned CK_OK, printing last_error otherwise. */
#define CHECK_OK(b, call)                                                                                             \
    do {                                                                                                              \
        ck_status st_ = (call);                                                                                       \
        CHECK(st_ == CK_OK, "%s -> %d (%s)", #call, (int)st_, (b)->last_error(b));                                    \
    } while (0)

/** xorshift64* stream; uniform floats in [lo, hi). */
typedef struct test_rng {
    uint64_t state;
} test_rng;
test_rng test_rng_make(uint64_t seed);
float test_uniform(test_rng *r, float lo, float hi);
void test_fill(test_rng *r, float *x, size_t n, float lo, float hi);
/** Like test_fill but keeps |x| >= gap (avoids kinks, e.g. ReLU at 0). */
void test_fill_away_from_zero(test_rng *r, float *x, size_t n, float lo, float hi, float gap);

/** Host buffer of n floats (zeroed), freed by test_free_all(). */
float *test_buffer(size_t n);
void test_free_all(void);

/** Records an error value for (op, kind); kind is "fd" (finite differences) or "torch" (PyTorch fixtures). */
void test_record_error(const char *op, const char *kind, double err);
/** Prints the table of the largest errors per op. */
void test_print_errors(void);

/** max over i of |got - want| / max(|want|, floor), with floor = rel_floor * max|want| + abs_floor. */
double test_rel_error(const float *got, const float *want, size_t n, double rel_floor, double abs_floor);

/* The groups of tests, one per file. */
void run_philox_tests(void);
void run_fd_tests(void);
void run_fixture_tests(const char *fixture_dir);
void run_misc_tests(void);

#endif
