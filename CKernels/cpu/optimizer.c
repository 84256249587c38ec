/*
 * optimizer.c — AdamW exactly as torch.optim.AdamW (single-tensor path, decoupled weight decay) and the global
 * gradient norm used by clip_grad_norm_.
 *
 *     float norm;  cpu->global_norm(cpu, &norm, grads, n);
 *     float clip = norm > max_norm ? max_norm / (norm + 1e-6f) : 1.0f;
 *     cpu->adamw_step(cpu, params, m, v, grads, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, step, clip);
 */
#include "cpu_internal.h"

#include <math.h>

typedef struct adamw_job {
    float *params, *m, *v;
    const float *grads;
    float grad_scale, decay, one_minus_b1, beta2, one_minus_b2, bc2_sqrt, eps, step_size;
} adamw_job;

/* Elements [lo, hi): each element's update is independent (bit-identical for any split). */
static void adamw_span(void *ctx, size_t lo, size_t hi) {
    const adamw_job *j = ctx;
    for (size_t i = lo; i < hi; i++) {
        float g = j->grads[i] * j->grad_scale;
        float p = j->params[i] * j->decay;
        float mi = j->m[i] + j->one_minus_b1 * (g - j->m[i]); /* exp_avg.lerp_(grad, 1 - beta1) */
        float vi = j->v[i] * j->beta2 + j->one_minus_b2 * g * g;
        float denom = sqrtf(vi) / j->bc2_sqrt + j->eps;
        j->params[i] = p - j->step_size * mi / denom;
        j->m[i] = mi;
        j->v[i] = vi;
    }
}

ck_status ck_cpu_adamw_step(ck_backend *b, float *params, float *m, float *v, const float *grads, size_t n,
                            float lr, float beta1, float beta2, float eps, float weight_decay, int t,
                            float grad_scale) {
    (void)b;
    CK_REQUIRE(t >= 1, "adamw_step: step t must be >= 1 (got %d)", t);
    CK_REQUIRE(lr >= 0.0f && eps >= 0.0f && weight_decay >= 0.0f,
               "adamw_step: lr, eps and weight_decay must be >= 0 (lr=%g eps=%g wd=%g)", (double)lr, (double)eps,
               (double)weight_decay);
    CK_REQUIRE(beta1 >= 0.0f && beta1 < 1.0f && beta2 >= 0.0f && beta2 < 1.0f,
               "adamw_step: beta1 and beta2 must be in [0, 1) (got %g, %g)", (double)beta1, (double)beta2);
    if (n == 0) return CK_OK;
    CK_REQUIRE(params != NULL && m != NULL && v != NULL && grads != NULL, "adamw_step: NULL argument");
    /* As PyTorch: bias corrections in double from the Python-float step, then used as floats. */
    double bc1 = 1.0 - pow((double)beta1, (double)t);
    double bc2 = 1.0 - pow((double)beta2, (double)t);
    const float step_size = (float)((double)lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float decay = 1.0f - lr * weight_decay;
    const float one_minus_b1 = 1.0f - beta1, one_minus_b2 = 1.0f - beta2;
    adamw_job job = {params, m, v, grads, grad_scale, decay, one_minus_b1, beta2, one_minus_b2, bc2_sqrt, eps,
                     step_size};
    ck_cpu_parallel_span(n, adamw_span, &job);
    return CK_OK;
}

ck_status ck_cpu_global_norm(ck_backend *b, float *norm_out, const float *grads, size_t n) {
    (void)b;
    CK_REQUIRE(norm_out != NULL, "global_norm: norm_out is NULL");
    CK_REQUIRE(n == 0 || grads != NULL, "global_norm: grads is NULL");
    *norm_out = (float)sqrt(ck_cpu_sum_squares_double(grads, n));
    return CK_OK;
}
