/* test_fd.c — the finite-difference harness (test_fd.h) and its entry point. */
#include "test_fd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FD_SAMPLES 60

ck_backend *fd_backend = NULL;
test_rng fd_rng;

float *fd_add_input(fd_case *c, const char *name, size_t n, float lo, float hi) {
    fd_input *in = &c->in[c->n_in++];
    in->name = name;
    in->n = n;
    in->x = test_buffer(n);
    in->g = test_buffer(n);
    test_fill(&fd_rng, in->x, n, lo, hi);
    return in->x;
}

static double loss_of(fd_case *c) {
    c->forward(c);
    double s = 0.0;
    for (size_t i = 0; i < c->n_out; i++) s += (double)c->out[i] * (double)c->w[i];
    return s;
}

void fd_run(fd_case *c) {
    if (c->h == 0.0f) c->h = 1e-2f;
    if (c->tol == 0.0f) c->tol = 1e-2f;
    c->w = test_buffer(c->n_out);
    test_fill(&fd_rng, c->w, c->n_out, -1.0f, 1.0f);
    float *g0[8];
    for (int k = 0; k < c->n_in; k++) {
        g0[k] = test_buffer(c->in[k].n);
        test_fill(&fd_rng, g0[k], c->in[k].n, -0.5f, 0.5f);
        memcpy(c->in[k].g, g0[k], c->in[k].n * sizeof(float));
    }
    c->forward(c);
    c->backward(c);
    double worst = 0.0;
    for (int k = 0; k < c->n_in; k++) {
        fd_input *in = &c->in[k];
        size_t samples = in->n < FD_SAMPLES ? in->n : FD_SAMPLES;
        double *num = calloc(samples, sizeof(double)), *ana = calloc(samples, sizeof(double));
        double maxnum = 0.0;
        for (size_t s = 0; s < samples; s++) {
            size_t i = in->n <= FD_SAMPLES ? s : (size_t)(test_uniform(&fd_rng, 0.0f, 1.0f) * (float)in->n) % in->n;
            float x0 = in->x[i];
            float h = c->h * fmaxf(1.0f, fabsf(x0));
            in->x[i] = x0 + h;
            double hp = (double)in->x[i] - x0; /* the step actually taken in float */
            double lp = loss_of(c);
            in->x[i] = x0 - h;
            double hm = x0 - (double)in->x[i];
            double lm = loss_of(c);
            in->x[i] = x0;
            num[s] = (lp - lm) / (hp + hm);
            ana[s] = (double)in->g[i] - (double)g0[k][i];
            maxnum = fmax(maxnum, fabs(num[s]));
        }
        double floor = 0.05 * maxnum + 1e-3;
        double err = 0.0;
        for (size_t s = 0; s < samples; s++) {
            double e = fabs(ana[s] - num[s]) / fmax(fabs(num[s]), floor);
            if (!(e <= err)) err = e;
        }
        CHECK(err <= c->tol, "fd %s d%s: error %.3e > %.1e", c->op, in->name, err, (double)c->tol);
        if (!(err <= worst)) worst = err;
        free(num);
        free(ana);
    }
    test_record_error(c->op, "fd", worst);
}

void run_fd_tests(void) {
    fd_backend = ck_cpu_backend();
    fd_rng = test_rng_make(42);
    run_fd_dense_tests();
    run_fd_sequence_tests();
}
