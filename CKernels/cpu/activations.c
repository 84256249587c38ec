/*
 * activations.c — element-wise activations (ck_activation) and GLU, with PyTorch's definitions:
 * exact GELU (x Phi(x), Phi by a vectorisable erfc fit of relative error ~1e-7, see cpu_math.h), ELU with
 * alpha 1, softplus with beta 1 and threshold 20 (x > 20 returns x).
 *
 *     cpu->activation_fwd(cpu, y, x, n, CK_ACT_GELU);
 *     cpu->activation_bwd(cpu, dx, dy, x, y, n, CK_ACT_GELU);   // dx += dy * gelu'(x)
 *     cpu->glu_fwd(cpu, out, x, N, C);                          // x (N, 2C) = [a | g] -> a * sigmoid(g)
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <math.h>
#include <string.h>

#define SOFTPLUS_THRESHOLD 20.0f

/* Loops over the vectorised sigmoid / tanh of cpu_math.h. */
CK_VECTOR_CLONES
static void sigmoid_loop(float *restrict out, const float *restrict inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = ck_sigmoidf(inp[i]);
}

CK_VECTOR_CLONES
static void tanh_loop(float *restrict out, const float *restrict inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = ck_tanhf(inp[i]);
}

/* The per-element formulas, shared by the vectorised loops (distinct buffers) and the in-place ones. */
static inline float elu_value(float x) { return x > 0.0f ? x : ck_expm1f(x); }
static inline float gelu_value(float x) { return 0.5f * x * ck_two_normal_cdf(x); }
/* d/dx x Phi(x) = Phi(x) + x phi(x) */
static inline float gelu_derivative(float x) {
    const float inv_sqrt_2pi = 0.3989422804014327f;
    return 0.5f * ck_two_normal_cdf(x) + x * (inv_sqrt_2pi * ck_expf(-0.5f * x * x));
}

CK_VECTOR_CLONES
static void elu_loop(float *restrict out, const float *restrict inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = elu_value(inp[i]);
}

CK_VECTOR_CLONES
static void glu_row(float *restrict y, const float *restrict a, const float *restrict g, int C) {
    for (int j = 0; j < C; j++) y[j] = a[j] * ck_sigmoidf(g[j]);
}

CK_VECTOR_CLONES
static void glu_row_backward(float *restrict da, float *restrict dg, const float *restrict dy,
                             const float *restrict a, const float *restrict g, int C) {
    for (int j = 0; j < C; j++) {
        float s = ck_sigmoidf(g[j]);
        da[j] += dy[j] * s;
        dg[j] += dy[j] * a[j] * s * (1.0f - s);
    }
}

CK_VECTOR_CLONES
static void gelu_loop(float *restrict out, const float *restrict inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = gelu_value(inp[i]);
}

CK_VECTOR_CLONES
static void gelu_backward_loop(float *restrict dinp, const float *restrict dout, const float *restrict inp, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * gelu_derivative(inp[i]);
}

/* Element-wise work is split over the pool by spans (ck_cpu_parallel_span) for the activations with a transcendental
 * function (the cheap ones are memory-bound). Each element is computed the same way by whichever thread, so results
 * do not depend on the thread count. */
static int activation_is_costly(ck_activation act) {
    return act == CK_ACT_GELU || act == CK_ACT_ELU || act == CK_ACT_SOFTPLUS || act == CK_ACT_SIGMOID ||
           act == CK_ACT_TANH;
}

typedef struct activation_job {
    float *dinp_or_out;
    const float *dout, *inp, *out;
    size_t n;
    ck_activation act;
} activation_job;

static ck_status activation_fwd_span(float *out, const float *inp, size_t n, ck_activation act);
static ck_status activation_bwd_span(float *dinp, const float *dout, const float *inp, const float *out, size_t n,
                                     ck_activation act);

static void activation_fwd_range(void *ctx, size_t lo, size_t hi) {
    const activation_job *j = ctx;
    (void)activation_fwd_span(j->dinp_or_out + lo, j->inp + lo, hi - lo, j->act);
}

static void activation_bwd_range(void *ctx, size_t lo, size_t hi) {
    const activation_job *j = ctx;
    (void)activation_bwd_span(j->dinp_or_out + lo, j->dout + lo, j->inp ? j->inp + lo : NULL,
                              j->out ? j->out + lo : NULL, hi - lo, j->act);
}

ck_status ck_cpu_activation_fwd(ck_backend *b, float *out, const float *inp, size_t n, ck_activation act) {
    (void)b;
    if (n == 0) return CK_OK;
    CK_REQUIRE(out != NULL && inp != NULL, "activation_fwd: out or inp is NULL");
    if (activation_is_costly(act)) {
        activation_job job = {out, NULL, inp, NULL, n, act};
        ck_cpu_parallel_span(n, activation_fwd_range, &job);
        return CK_OK;
    }
    return activation_fwd_span(out, inp, n, act);
}

static ck_status activation_fwd_span(float *out, const float *inp, size_t n, ck_activation act) {
    switch (act) {
    case CK_ACT_IDENTITY:
        if (out != inp) memmove(out, inp, n * sizeof(float));
        return CK_OK;
    case CK_ACT_RELU:
        for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
        return CK_OK;
    case CK_ACT_GELU:
        if (out == inp) { /* in place: element by element (the restrict loop needs distinct buffers) */
            for (size_t i = 0; i < n; i++) out[i] = gelu_value(inp[i]);
        } else {
            gelu_loop(out, inp, n);
        }
        return CK_OK;
    case CK_ACT_ELU:
        if (out == inp) { /* in place: element by element (the restrict loop needs distinct buffers) */
            for (size_t i = 0; i < n; i++) out[i] = elu_value(inp[i]);
        } else {
            elu_loop(out, inp, n);
        }
        return CK_OK;
    case CK_ACT_SIGMOID:
        if (out == inp) { /* in place: the restrict loop needs distinct buffers, so go element by element */
            for (size_t i = 0; i < n; i++) out[i] = ck_sigmoidf(inp[i]);
        } else {
            sigmoid_loop(out, inp, n);
        }
        return CK_OK;
    case CK_ACT_TANH:
        if (out == inp) {
            for (size_t i = 0; i < n; i++) out[i] = ck_tanhf(inp[i]);
        } else {
            tanh_loop(out, inp, n);
        }
        return CK_OK;
    case CK_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++) {
            float x = inp[i];
            out[i] = x > SOFTPLUS_THRESHOLD ? x : log1pf(expf(x));
        }
        return CK_OK;
    }
    return ck_cpu_fail(CK_ERR_INVALID_ARGUMENT, "activation_fwd: unknown activation %d", (int)act);
}

ck_status ck_cpu_activation_bwd(ck_backend *b, float *dinp, const float *dout, const float *inp, const float *out,
                                size_t n, ck_activation act) {
    (void)b;
    if (n == 0 || dinp == NULL) return CK_OK;
    CK_REQUIRE(dout != NULL, "activation_bwd: dout is NULL");
    /* GELU and softplus are the costly backward ones (a transcendental per element); a missing inp is reported
     * by the serial path. */
    if ((act == CK_ACT_GELU || act == CK_ACT_SOFTPLUS) && inp != NULL) {
        activation_job job = {dinp, dout, inp, out, n, act};
        ck_cpu_parallel_span(n, activation_bwd_range, &job);
        return CK_OK;
    }
    return activation_bwd_span(dinp, dout, inp, out, n, act);
}

static ck_status activation_bwd_span(float *dinp, const float *dout, const float *inp, const float *out, size_t n,
                                     ck_activation act) {
    switch (act) {
    case CK_ACT_IDENTITY:
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i];
        return CK_OK;
    case CK_ACT_RELU:
        CK_REQUIRE(out != NULL, "activation_bwd(relu): out is NULL");
        for (size_t i = 0; i < n; i++) dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f;
        return CK_OK;
    case CK_ACT_GELU: {
        CK_REQUIRE(inp != NULL, "activation_bwd(gelu): inp is NULL");
        if (dinp == dout || dinp == inp) { /* aliased: element by element (the loop needs distinct buffers) */
            for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * gelu_derivative(inp[i]);
        } else {
            gelu_backward_loop(dinp, dout, inp, n);
        }
        return CK_OK;
    }
    case CK_ACT_ELU:
        CK_REQUIRE(out != NULL, "activation_bwd(elu): out is NULL");
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (out[i] > 0.0f ? 1.0f : out[i] + 1.0f);
        return CK_OK;
    case CK_ACT_SIGMOID:
        CK_REQUIRE(out != NULL, "activation_bwd(sigmoid): out is NULL");
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
        return CK_OK;
    case CK_ACT_TANH:
        CK_REQUIRE(out != NULL, "activation_bwd(tanh): out is NULL");
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
        return CK_OK;
    case CK_ACT_SOFTPLUS:
        CK_REQUIRE(inp != NULL, "activation_bwd(softplus): inp is NULL");
        for (size_t i = 0; i < n; i++) {
            float x = inp[i];
            dinp[i] += x > SOFTPLUS_THRESHOLD ? dout[i] : dout[i] * ck_sigmoidf(x);
        }
        return CK_OK;
    }
    return ck_cpu_fail(CK_ERR_INVALID_ARGUMENT, "activation_bwd: unknown activation %d", (int)act);
}

typedef struct glu_job {
    float *out;
    const float *inp, *dout;
    int C;
} glu_job;

static void glu_fwd_rows(void *ctx, int begin, int end) {
    const glu_job *j = ctx;
    for (int r = begin; r < end; r++) {
        const float *a = j->inp + (size_t)r * 2u * (size_t)j->C, *g = a + j->C;
        glu_row(j->out + (size_t)r * (size_t)j->C, a, g, j->C);
    }
}

static void glu_bwd_rows(void *ctx, int begin, int end) {
    const glu_job *j = ctx;
    for (int r = begin; r < end; r++) {
        const float *a = j->inp + (size_t)r * 2u * (size_t)j->C, *g = a + j->C;
        float *da = j->out + (size_t)r * 2u * (size_t)j->C, *dg = da + j->C;
        glu_row_backward(da, dg, j->dout + (size_t)r * (size_t)j->C, a, g, j->C);
    }
}

ck_status ck_cpu_glu_fwd(ck_backend *b, float *out, const float *inp, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "glu_fwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(out != NULL && inp != NULL, "glu_fwd: out or inp is NULL");
    glu_job job = {out, inp, NULL, C};
    ck_cpu_parallel_rows(N, 2 * C, glu_fwd_rows, &job);
    return CK_OK;
}

ck_status ck_cpu_glu_bwd(ck_backend *b, float *dinp, const float *dout, const float *inp, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "glu_bwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0 || dinp == NULL) return CK_OK;
    CK_REQUIRE(dout != NULL && inp != NULL, "glu_bwd: dout or inp is NULL");
    glu_job job = {dinp, inp, dout, C};
    ck_cpu_parallel_rows(N, 2 * C, glu_bwd_rows, &job);
    return CK_OK;
}
