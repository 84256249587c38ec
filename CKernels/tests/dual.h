/* dual.h — the same tensors on two backends (the CPU reference and the CUDA backend under test), for parity.c.
 *
 *     dual_ctx ctx = {cpu, gpu};
 *     dual x = dual_uniform(&ctx, 64, -1, 1);      // same random values on both backends
 *     DUAL_RUN(&ctx, "softmax_fwd", bk->softmax_fwd(bk, SIDE(y), SIDE(x), 8, 8));
 *     dual_compare(&ctx, "softmax_fwd", "N=8 C=8", "out", &y, tol_elementwise);
 *
 * SIDE(t) is t's pointer on the backend the current pass of DUAL_RUN runs on (bk). Every value is compared as
 * |gpu - cpu| <= atol + rtol * |cpu|; the report keeps, per check, the worst ratio of error to allowance. */
#ifndef CK_TESTS_DUAL_H
#define CK_TESTS_DUAL_H

#include "ckernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dual_tol {
    double atol, rtol;
} dual_tol;

typedef struct dual_ctx {
    ck_backend *cpu, *gpu;
    int side;            /* 0: cpu, 1: gpu (the pass DUAL_RUN is in) */
    int checks, failures, errors;
    uint64_t rng;
    int verbose;
} dual_ctx;

typedef struct dual {
    size_t n;
    float *c, *g; /* backend pointers: cpu, gpu */
} dual;

static inline uint64_t dual_next(dual_ctx *x) { /* splitmix64 */
    uint64_t z = (x->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline float dual_uniform01(dual_ctx *x) { return (float)(dual_next(x) >> 40) * (1.0f / 16777216.0f); }

static void dual_die(const char *what, ck_backend *b, ck_status st) {
    fprintf(stderr, "parity: %s failed on %s (status %d): %s\n", what, b->name, (int)st, b->last_error(b));
    exit(3);
}

/** Uploads host values to both backends. */
static dual dual_from(dual_ctx *x, const float *host, size_t n) {
    dual t = {n, NULL, NULL};
    ck_status st;
    if ((st = x->cpu->alloc(x->cpu, (void **)&t.c, n * sizeof(float))) != CK_OK) dual_die("alloc", x->cpu, st);
    if ((st = x->gpu->alloc(x->gpu, (void **)&t.g, n * sizeof(float))) != CK_OK) dual_die("alloc", x->gpu, st);
    if ((st = x->cpu->copy_h2d(x->cpu, t.c, host, n * sizeof(float))) != CK_OK) dual_die("copy_h2d", x->cpu, st);
    if ((st = x->gpu->copy_h2d(x->gpu, t.g, host, n * sizeof(float))) != CK_OK) dual_die("copy_h2d", x->gpu, st);
    return t;
}

/** n values uniform in [lo, hi), identical on both backends. */
static dual dual_uniform(dual_ctx *x, size_t n, float lo, float hi) {
    float *h = (float *)malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) h[i] = lo + (hi - lo) * dual_uniform01(x);
    dual t = dual_from(x, h, n);
    free(h);
    return t;
}

static dual dual_zeros(dual_ctx *x, size_t n) { return dual_uniform(x, n, 0.f, 0.f); }

static void dual_free(dual_ctx *x, dual *t) {
    x->cpu->free(x->cpu, t->c);
    x->gpu->free(x->gpu, t->g);
    t->c = t->g = NULL;
}

#define SIDE(t) (ctx_->side ? (t).g : (t).c)
/** Runs `call` (an expression using bk and SIDE) on the CPU, then on the GPU; a non-OK status is a failure. */
#define DUAL_RUN(ctx, what, call)                                                                                   \
    do {                                                                                                            \
        dual_ctx *ctx_ = (ctx);                                                                                     \
        for (ctx_->side = 0; ctx_->side < 2; ctx_->side++) {                                                        \
            ck_backend *bk = ctx_->side ? ctx_->gpu : ctx_->cpu;                                                    \
            ck_status st_ = (call);                                                                                 \
            if (st_ != CK_OK) {                                                                                     \
                printf("%-22s %-34s ERROR on %s: status %d: %s\n", (what), "", bk->name, (int)st_,                 \
                       bk->last_error(bk));                                                                         \
                ctx_->errors++;                                                                                     \
            }                                                                                                       \
        }                                                                                                           \
        ctx_->side = 0;                                                                                             \
    } while (0)

/** Compares t on both backends; prints one table row; returns 1 when it matches. */
static int dual_compare(dual_ctx *x, const char *op, const char *shape, const char *tensor, const dual *t,
                        dual_tol tol) {
    size_t n = t->n;
    float *a = (float *)malloc((n ? n : 1) * sizeof(float)), *b = (float *)malloc((n ? n : 1) * sizeof(float));
    ck_status st;
    if ((st = x->cpu->copy_d2h(x->cpu, a, t->c, n * sizeof(float))) != CK_OK) dual_die("copy_d2h", x->cpu, st);
    if ((st = x->gpu->copy_d2h(x->gpu, b, t->g, n * sizeof(float))) != CK_OK) dual_die("copy_d2h", x->gpu, st);
    double max_abs = 0, worst = 0;
    size_t worst_i = 0, nonfinite = 0;
    for (size_t i = 0; i < n; i++) {
        double ref = a[i], got = b[i];
        if (isnan(ref) && isnan(got)) continue;
        if (isinf(ref) && ref == got) continue;
        if (!isfinite(got) || !isfinite(ref)) {
            nonfinite++;
            worst = INFINITY;
            worst_i = i;
            continue;
        }
        double err = fabs(got - ref), ratio = err / (tol.atol + tol.rtol * fabs(ref));
        if (err > max_abs) max_abs = err;
        if (ratio > worst) {
            worst = ratio;
            worst_i = i;
        }
    }
    int ok = worst <= 1.0;
    x->checks++;
    if (!ok) x->failures++;
    printf("%-22s %-34s %-8s %9.2e  %5.2f  atol %.0e rtol %.0e  %s", op, shape, tensor, max_abs, worst, tol.atol,
           tol.rtol, ok ? "ok" : "MISMATCH");
    if (!ok && n) printf("  [%zu] cpu %.9g gpu %.9g%s", worst_i, a[worst_i], b[worst_i], nonfinite ? " (non-finite)" : "");
    printf("\n");
    free(a);
    free(b);
    return ok;
}

/** Bitwise equality of t on the GPU against a host copy taken earlier (determinism checks). */
static int dual_gpu_bitwise(dual_ctx *x, const char *op, const char *shape, const dual *t, const float *before) {
    size_t n = t->n;
    float *now = (float *)malloc((n ? n : 1) * sizeof(float));
    ck_status st;
    if ((st = x->gpu->copy_d2h(x->gpu, now, t->g, n * sizeof(float))) != CK_OK) dual_die("copy_d2h", x->gpu, st);
    int ok = memcmp(now, before, n * sizeof(float)) == 0;
    x->checks++;
    if (!ok) x->failures++;
    printf("%-22s %-34s %-8s %-37s %s\n", op, shape, "gpu", "bitwise equal on a second run", ok ? "ok" : "MISMATCH");
    free(now);
    return ok;
}

#endif /* CK_TESTS_DUAL_H */
