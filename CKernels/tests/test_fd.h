/*
 * test_fd.h — the finite-difference gradient check harness.
 *
 * A case names its differentiable inputs (with their gradient buffers), an output buffer and two callbacks:
 * forward (fills out) and backward (runs forward's backward op with dout = the loss weights w, accumulating into
 * the gradient buffers). The loss is sum(out * w) in double. The harness pre-fills every gradient with random
 * values (so "backward accumulates" is checked too), runs backward, and compares each analytic gradient with
 * central differences (x ± h·max(1, |x|)) at up to FD_SAMPLES elements per input.
 */
#ifndef CK_TEST_FD_H
#define CK_TEST_FD_H

#include "test_util.h"

typedef struct fd_input {
    const char *name;
    float *x;
    float *g;
    size_t n;
} fd_input;

typedef struct fd_case fd_case;
struct fd_case {
    const char *op;
    fd_input in[8];
    int n_in;
    float *out;
    size_t n_out;
    float *w; /* loss weights = upstream gradient, n_out floats (set by the harness) */
    void (*forward)(fd_case *c);
    void (*backward)(fd_case *c);
    int i[12];    /* sizes and flags of the op */
    float f[4];   /* hyper-parameters */
    float *aux[8]; /* caches, scratch, constant inputs */
    float h;      /* relative step (default 1e-2) */
    float tol;    /* pass threshold on the error (default 1e-2) */
};

/** Adds a differentiable input of n floats filled uniformly in [lo, hi); returns its buffer. */
float *fd_add_input(fd_case *c, const char *name, size_t n, float lo, float hi);
/** Runs the check of one case and records its error under c->op. */
void fd_run(fd_case *c);

extern ck_backend *fd_backend;
extern test_rng fd_rng;

void run_fd_dense_tests(void);
void run_fd_sequence_tests(void);

#endif
