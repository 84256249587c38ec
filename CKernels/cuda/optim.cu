/* Optimizer and reductions: AdamW (torch.optim.AdamW semantics), sums, sums of squares and the global gradient
 * norm. Reductions are two-pass and atomics-free: a fixed grid writes per-block partials (double), one block
 * adds them in a fixed order, so the result is bit-reproducible run to run. */
#include "ck_cuda.h"

enum { REDUCE_SUM = 0, REDUCE_SQUARES = 1 };
enum { FINISH_PLAIN = 0, FINISH_SQRT = 1 };

template <int Kind>
__global__ void reduce_partials_kernel(double *partials, const float *x, size_t n) {
    __shared__ double shared[32];
    double acc = 0.0;
    CK_GRID_STRIDE(i, n) {
        double v = x[i];
        acc += Kind == REDUCE_SQUARES ? v * v : v;
    }
    acc = ck_block_sum(acc, shared);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

__global__ void reduce_finish_kernel(float *out, const double *partials, int count, int finish) {
    __shared__ double shared[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    acc = ck_block_sum(acc, shared);
    if (threadIdx.x == 0) *out = (float)(finish == FINISH_SQRT ? sqrt(acc) : acc);
}

static ck_status reduce(ck_cuda *cu, float *out, const float *x, size_t n, int kind, int finish, const char *what) {
    if (out == nullptr) return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "NULL output");
    unsigned blocks = ck_grid(n);
    if (blocks > CK_REDUCE_BLOCKS) blocks = CK_REDUCE_BLOCKS;
    if (n == 0) {
        CK_TRY_CUDA(cu, cudaMemsetAsync(out, 0, sizeof(float), cu->stream));
        return CK_OK;
    }
    if (kind == REDUCE_SQUARES)
        reduce_partials_kernel<REDUCE_SQUARES><<<blocks, CK_BLOCK, 0, cu->stream>>>(cu->reduce_partials, x, n);
    else
        reduce_partials_kernel<REDUCE_SUM><<<blocks, CK_BLOCK, 0, cu->stream>>>(cu->reduce_partials, x, n);
    CK_TRY(ck_cuda_launched(cu, what));
    reduce_finish_kernel<<<1, 1024, 0, cu->stream>>>(out, cu->reduce_partials, (int)blocks, finish);
    return ck_cuda_launched(cu, what);
}

static ck_status reduce_sum(ck_backend *b, float *out, const float *x, size_t n) {
    return reduce(ck_cuda_of(b), out, x, n, REDUCE_SUM, FINISH_PLAIN, "reduce_sum");
}
static ck_status reduce_sum_squares(ck_backend *b, float *out, const float *x, size_t n) {
    return reduce(ck_cuda_of(b), out, x, n, REDUCE_SQUARES, FINISH_PLAIN, "reduce_sum_squares");
}
static ck_status global_norm(ck_backend *b, float *norm_out, const float *grads, size_t n) {
    return reduce(ck_cuda_of(b), norm_out, grads, n, REDUCE_SQUARES, FINISH_SQRT, "global_norm");
}

__global__ void adamw_kernel(float *params, float *m, float *v, const float *grads, size_t n, float lr, float beta1,
                             float beta2, float eps, float weight_decay, float bias1, float bias2, float grad_scale) {
    CK_GRID_STRIDE(i, n) {
        float g = grads[i] * grad_scale;
        float p = params[i] - lr * weight_decay * params[i];
        float mi = beta1 * m[i] + (1.f - beta1) * g;
        float vi = beta2 * v[i] + (1.f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = p - lr * (mi / bias1) / (sqrtf(vi / bias2) + eps);
    }
}

static ck_status adamw_step(ck_backend *b, float *params, float *m, float *v, const float *grads, size_t n, float lr,
                            float beta1, float beta2, float eps, float weight_decay, int t, float grad_scale) {
    ck_cuda *cu = ck_cuda_of(b);
    if (t < 1 || !(beta1 >= 0.f && beta1 < 1.f) || !(beta2 >= 0.f && beta2 < 1.f) || !(eps >= 0.f) || !(lr >= 0.f))
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "adamw_step",
                            "need t >= 1, 0 <= beta1, beta2 < 1, eps >= 0, lr >= 0; got t=%d beta1=%g beta2=%g eps=%g lr=%g",
                            t, (double)beta1, (double)beta2, (double)eps, (double)lr);
    if (n == 0) return CK_OK;
    float bias1 = (float)(1.0 - pow((double)beta1, t)), bias2 = (float)(1.0 - pow((double)beta2, t));
    adamw_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(params, m, v, grads, n, lr, beta1, beta2, eps, weight_decay,
                                                         bias1, bias2, grad_scale);
    return ck_cuda_launched(cu, "adamw_step");
}

void ck_cuda_fill_optim_ops(ck_backend *t) {
    t->adamw_step = adamw_step;
    t->global_norm = global_norm;
    t->reduce_sum = reduce_sum;
    t->reduce_sum_squares = reduce_sum_squares;
}
