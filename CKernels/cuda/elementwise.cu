/* Element-wise ops: activations, GLU, dropout (Philox, bit-identical to the CPU backend's mask), products,
 * axpy, scale-shift. Grid-stride loops; backward ops accumulate (+=) as ckernels.h requires. */
#include "ck_cuda.h"
#include "../common/philox4x32.h"

__device__ __forceinline__ float act_forward(float x, int act) {
    switch (act) {
    case CK_ACT_RELU: return x > 0.f ? x : 0.f;
    case CK_ACT_GELU: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case CK_ACT_ELU: return x > 0.f ? x : expm1f(x);
    case CK_ACT_SIGMOID: return 1.f / (1.f + expf(-x));
    case CK_ACT_TANH: return tanhf(x);
    case CK_ACT_SOFTPLUS: return x > 20.f ? x : log1pf(expf(x));
    default: return x;
    }
}

/* d out / d inp, from whichever of inp (x) and out (y) is cheaper. */
__device__ __forceinline__ float act_derivative(float x, float y, int act) {
    switch (act) {
    case CK_ACT_RELU: return x > 0.f ? 1.f : 0.f;
    case CK_ACT_GELU: {
        float cdf = 0.5f * (1.f + erff(x * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
        return cdf + x * pdf;
    }
    case CK_ACT_ELU: return x > 0.f ? 1.f : expf(x);
    case CK_ACT_SIGMOID: return y * (1.f - y);
    case CK_ACT_TANH: return 1.f - y * y;
    case CK_ACT_SOFTPLUS: return x > 20.f ? 1.f : 1.f / (1.f + expf(-x));
    default: return 1.f;
    }
}

__global__ void activation_fwd_kernel(float *out, const float *inp, size_t n, int act) {
    CK_GRID_STRIDE(i, n) out[i] = act_forward(inp[i], act);
}

__global__ void activation_bwd_kernel(float *dinp, const float *dout, const float *inp, const float *out, size_t n,
                                      int act) {
    CK_GRID_STRIDE(i, n) {
        float x = inp ? inp[i] : 0.f, y = out ? out[i] : 0.f;
        dinp[i] += dout[i] * act_derivative(x, y, act);
    }
}

static bool valid_activation(ck_activation act) { return act >= CK_ACT_IDENTITY && act <= CK_ACT_SOFTPLUS; }
static bool needs_output(ck_activation act) { return act == CK_ACT_SIGMOID || act == CK_ACT_TANH; }

static ck_status activation_fwd(ck_backend *b, float *out, const float *inp, size_t n, ck_activation act) {
    ck_cuda *cu = ck_cuda_of(b);
    if (!valid_activation(act)) return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "activation_fwd", "unknown activation %d", (int)act);
    if (n == 0) return CK_OK;
    activation_fwd_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(out, inp, n, (int)act);
    return ck_cuda_launched(cu, "activation_fwd");
}

static ck_status activation_bwd(ck_backend *b, float *dinp, const float *dout, const float *inp, const float *out,
                                size_t n, ck_activation act) {
    ck_cuda *cu = ck_cuda_of(b);
    if (!valid_activation(act)) return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "activation_bwd", "unknown activation %d", (int)act);
    if (n == 0 || dinp == nullptr) return CK_OK;
    if (needs_output(act) ? out == nullptr : (act != CK_ACT_IDENTITY && inp == nullptr))
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "activation_bwd", "activation %d needs its %s", (int)act,
                            needs_output(act) ? "output" : "input");
    activation_bwd_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(dinp, dout, inp, out, n, (int)act);
    return ck_cuda_launched(cu, "activation_bwd");
}

/* ---- GLU: inp (N, 2C) = [a | g], out = a * sigmoid(g) ---------------------------------------------------- */
__global__ void glu_fwd_kernel(float *out, const float *inp, size_t total, int C) {
    CK_GRID_STRIDE(i, total) {
        size_t row = i / C, col = i % C;
        float a = inp[row * 2 * C + col], g = inp[row * 2 * C + C + col];
        out[i] = a / (1.f + expf(-g));
    }
}

__global__ void glu_bwd_kernel(float *dinp, const float *dout, const float *inp, size_t total, int C) {
    CK_GRID_STRIDE(i, total) {
        size_t row = i / C, col = i % C;
        float a = inp[row * 2 * C + col], g = inp[row * 2 * C + C + col];
        float s = 1.f / (1.f + expf(-g)), d = dout[i];
        dinp[row * 2 * C + col] += d * s;
        dinp[row * 2 * C + C + col] += d * a * s * (1.f - s);
    }
}

static ck_status glu_fwd(ck_backend *b, float *out, const float *inp, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C >= 0, "glu_fwd");
    size_t total = (size_t)N * C;
    if (total == 0) return CK_OK;
    glu_fwd_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(out, inp, total, C);
    return ck_cuda_launched(cu, "glu_fwd");
}

static ck_status glu_bwd(ck_backend *b, float *dinp, const float *dout, const float *inp, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C >= 0, "glu_bwd");
    size_t total = (size_t)N * C;
    if (total == 0 || dinp == nullptr) return CK_OK;
    glu_bwd_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(dinp, dout, inp, total, C);
    return ck_cuda_launched(cu, "glu_bwd");
}

/* ---- dropout: thread j draws one Philox block for elements 4j .. 4j+3 ------------------------------------ */
template <bool Backward>
__global__ void dropout_kernel(float *dst, const float *src, size_t n, float p, float scale, uint64_t seed,
                               uint64_t offset) {
    size_t groups = (n + 3) / 4;
    CK_GRID_STRIDE(j, groups) {
        float u[4];
        ck_dropout_uniforms4(j, seed, offset, u);
#pragma unroll
        for (int w = 0; w < 4; w++) {
            size_t i = 4 * j + w;
            if (i >= n) break;
            float v = u[w] >= p ? src[i] * scale : 0.f;
            if (Backward) dst[i] += v;
            else dst[i] = v;
        }
    }
}

static ck_status dropout_launch(ck_backend *b, bool backward, float *dst, const float *src, size_t n, float p,
                                uint64_t seed, uint64_t offset) {
    ck_cuda *cu = ck_cuda_of(b);
    const char *what = backward ? "dropout_bwd" : "dropout_fwd";
    if (!(p >= 0.f && p <= 1.f)) return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "p = %g is outside [0, 1]", (double)p);
    if (n == 0 || dst == nullptr) return CK_OK;
    float scale = p < 1.f ? 1.f / (1.f - p) : 0.f;
    size_t groups = (n + 3) / 4;
    if (backward) dropout_kernel<true><<<ck_grid(groups), CK_BLOCK, 0, cu->stream>>>(dst, src, n, p, scale, seed, offset);
    else dropout_kernel<false><<<ck_grid(groups), CK_BLOCK, 0, cu->stream>>>(dst, src, n, p, scale, seed, offset);
    return ck_cuda_launched(cu, what);
}

static ck_status dropout_fwd(ck_backend *b, float *out, const float *inp, size_t n, float p, uint64_t seed, uint64_t offset) {
    return dropout_launch(b, false, out, inp, n, p, seed, offset);
}
static ck_status dropout_bwd(ck_backend *b, float *dinp, const float *dout, size_t n, float p, uint64_t seed, uint64_t offset) {
    return dropout_launch(b, true, dinp, dout, n, p, seed, offset);
}

/* ---- products and linear algebra on vectors ------------------------------------------------------------- */
__global__ void mul_fwd_kernel(float *out, const float *x, const float *y, size_t n) { CK_GRID_STRIDE(i, n) out[i] = x[i] * y[i]; }
__global__ void mul_bwd_kernel(float *dx, float *dy, const float *dout, const float *x, const float *y, size_t n) {
    CK_GRID_STRIDE(i, n) {
        float d = dout[i];
        if (dx) dx[i] += d * y[i];
        if (dy) dy[i] += d * x[i];
    }
}
__global__ void axpy_kernel(float *y, const float *x, float alpha, size_t n) { CK_GRID_STRIDE(i, n) y[i] += alpha * x[i]; }
__global__ void scale_shift_kernel(float *x, float alpha, float beta, size_t n) { CK_GRID_STRIDE(i, n) x[i] = alpha * x[i] + beta; }

static ck_status mul_fwd(ck_backend *b, float *out, const float *x, const float *y, size_t n) {
    ck_cuda *cu = ck_cuda_of(b);
    if (n == 0) return CK_OK;
    mul_fwd_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(out, x, y, n);
    return ck_cuda_launched(cu, "mul_fwd");
}
static ck_status mul_bwd(ck_backend *b, float *dx, float *dy, const float *dout, const float *x, const float *y, size_t n) {
    ck_cuda *cu = ck_cuda_of(b);
    if (n == 0 || (dx == nullptr && dy == nullptr)) return CK_OK;
    mul_bwd_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(dx, dy, dout, x, y, n);
    return ck_cuda_launched(cu, "mul_bwd");
}
static ck_status axpy(ck_backend *b, float *y, const float *x, float alpha, size_t n) {
    ck_cuda *cu = ck_cuda_of(b);
    if (n == 0) return CK_OK;
    axpy_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(y, x, alpha, n);
    return ck_cuda_launched(cu, "axpy");
}
static ck_status scale_shift(ck_backend *b, float *x, float alpha, float beta, size_t n) {
    ck_cuda *cu = ck_cuda_of(b);
    if (n == 0) return CK_OK;
    scale_shift_kernel<<<ck_grid(n), CK_BLOCK, 0, cu->stream>>>(x, alpha, beta, n);
    return ck_cuda_launched(cu, "scale_shift");
}

void ck_cuda_fill_elementwise_ops(ck_backend *t) {
    t->activation_fwd = activation_fwd;
    t->activation_bwd = activation_bwd;
    t->glu_fwd = glu_fwd;
    t->glu_bwd = glu_bwd;
    t->dropout_fwd = dropout_fwd;
    t->dropout_bwd = dropout_bwd;
    t->mul_fwd = mul_fwd;
    t->mul_bwd = mul_bwd;
    t->axpy = axpy;
    t->scale_shift = scale_shift;
}
