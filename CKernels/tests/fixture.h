/*
 * fixture.h — reader of the .ckfix files written by tools/reference/kernel_fixtures.py:
 *   "CKFIX <case> <key>=<number> ... | <name>:<d0>x<d1>... ...\n" then float32 little-endian data in order.
 *
 *     fixture fx;
 *     if (fixture_load(&fx, "fixtures/linear.ckfix") == 0) {
 *         int N = fixture_int(&fx, "N");
 *         const float *w = fixture_tensor(&fx, "weight", NULL);
 *         fixture_free(&fx);
 *     }
 */
#ifndef CK_FIXTURE_H
#define CK_FIXTURE_H

#include <stddef.h>

enum { FIXTURE_MAX_ITEMS = 32 };

typedef struct fixture {
    char case_name[64];
    int n_params;
    char param_names[FIXTURE_MAX_ITEMS][32];
    double param_values[FIXTURE_MAX_ITEMS];
    int n_tensors;
    char tensor_names[FIXTURE_MAX_ITEMS][32];
    size_t tensor_sizes[FIXTURE_MAX_ITEMS];
    float *tensor_data[FIXTURE_MAX_ITEMS];
    float *blob;
} fixture;

/** 0 on success; otherwise prints why (file, header field) and returns -1. */
int fixture_load(fixture *fx, const char *path);
void fixture_free(fixture *fx);
/** Named tensor, its element count in *n (may be NULL); aborts the test run when absent (a fixture bug). */
const float *fixture_tensor(const fixture *fx, const char *name, size_t *n);
double fixture_param(const fixture *fx, const char *name);
int fixture_int(const fixture *fx, const char *name);

#endif
