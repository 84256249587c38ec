/* Row-wise normalisations: layer norm and softmax over the last dimension. One warp per row with shuffle
 * reductions (8 rows per 256-thread block); parameter gradients through a fixed-order column reduction. */
#include "ck_cuda.h"

#include <math_constants.h>

__global__ void layernorm_fwd_kernel(float *out, float *mean_out, float *rstd_out, const float *inp,
                                     const float *weight, const float *bias, int N, int C, float eps) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= N) return;
    const float *x = inp + (size_t)row * C;
    float sum = 0.f;
    for (int c = lane; c < C; c += 32) sum += x[c];
    float mean = ck_warp_sum(sum) / (float)C;
    float sq = 0.f;
    for (int c = lane; c < C; c += 32) {
        float d = x[c] - mean;
        sq += d * d;
    }
    float rstd = rsqrtf(ck_warp_sum(sq) / (float)C + eps);
    float *y = out + (size_t)row * C;
    for (int c = lane; c < C; c += 32) {
        float v = (x[c] - mean) * rstd;
        y[c] = v * (weight ? weight[c] : 1.f) + (bias ? bias[c] : 0.f);
    }
    if (lane == 0) {
        if (mean_out) mean_out[row] = mean;
        if (rstd_out) rstd_out[row] = rstd;
    }
}

__global__ void layernorm_bwd_input_kernel(float *dinp, const float *dout, const float *inp, const float *weight,
                                           const float *mean, const float *rstd, int N, int C) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= N) return;
    const float *x = inp + (size_t)row * C, *dy = dout + (size_t)row * C;
    float m = mean[row], r = rstd[row];
    float sum_dn = 0.f, sum_dn_xhat = 0.f;
    for (int c = lane; c < C; c += 32) {
        float dn = dy[c] * (weight ? weight[c] : 1.f);
        sum_dn += dn;
        sum_dn_xhat += dn * (x[c] - m) * r;
    }
    float mean_dn = ck_warp_sum(sum_dn) / (float)C;
    float mean_dn_xhat = ck_warp_sum(sum_dn_xhat) / (float)C;
    float *dx = dinp + (size_t)row * C;
    for (int c = lane; c < C; c += 32) {
        float dn = dy[c] * (weight ? weight[c] : 1.f);
        float xhat = (x[c] - m) * r;
        dx[c] += (dn - mean_dn - xhat * mean_dn_xhat) * r;
    }
}

/* dweight[c] += sum_n dout * xhat, dbias[c] += sum_n dout: 32 columns per block, fixed order. */
__global__ void layernorm_bwd_params_kernel(float *dweight, float *dbias, const float *dout, const float *inp,
                                            const float *mean, const float *rstd, int N, int C) {
    __shared__ float pw[32][33], pb[32][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    float aw = 0.f, ab = 0.f;
    if (c < C)
        for (int n = threadIdx.y; n < N; n += blockDim.y) {
            float d = dout[(size_t)n * C + c];
            aw += d * (inp[(size_t)n * C + c] - mean[n]) * rstd[n];
            ab += d;
        }
    pw[threadIdx.y][threadIdx.x] = aw;
    pb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float tw = 0.f, tb = 0.f;
        for (int r = 0; r < (int)blockDim.y; r++) {
            tw += pw[r][threadIdx.x];
            tb += pb[r][threadIdx.x];
        }
        if (dweight) dweight[c] += tw;
        if (dbias) dbias[c] += tb;
    }
}

static ck_status layernorm_fwd(ck_backend *b, float *out, float *mean, float *rstd, const float *inp, const float *weight,
                               const float *bias, int N, int C, float eps) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C > 0 && eps >= 0.f, "layernorm_fwd");
    if (N == 0) return CK_OK;
    layernorm_fwd_kernel<<<ck_warp_rows_grid(N), 256, 0, cu->stream>>>(out, mean, rstd, inp, weight, bias, N, C, eps);
    return ck_cuda_launched(cu, "layernorm_fwd");
}

static ck_status layernorm_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean, const float *rstd, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C > 0, "layernorm_bwd");
    CK_REQUIRE(cu, mean != nullptr && rstd != nullptr, "layernorm_bwd");
    if (N == 0) return CK_OK;
    if (dinp) {
        layernorm_bwd_input_kernel<<<ck_warp_rows_grid(N), 256, 0, cu->stream>>>(dinp, dout, inp, weight, mean, rstd, N, C);
        CK_TRY(ck_cuda_launched(cu, "layernorm_bwd(input)"));
    }
    if (dweight || dbias) {
        layernorm_bwd_params_kernel<<<(C + 31) / 32, dim3(32, 32), 0, cu->stream>>>(dweight, dbias, dout, inp, mean, rstd, N, C);
        CK_TRY(ck_cuda_launched(cu, "layernorm_bwd(params)"));
    }
    return CK_OK;
}

/* ---- softmax over the last dimension ------------------------------------------------------------------- */
/** Softmax of each row, one warp per row. A row whose entries are all -inf (fully masked) gives zeros, not NaN. */
__global__ void softmax_fwd_kernel(float *out, const float *inp, int N, int C) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= N) return;
    const float *x = inp + (size_t)row * C;
    float m = -CUDART_INF_F;
    for (int c = lane; c < C; c += 32) m = fmaxf(m, x[c]);
    m = ck_warp_max(m);
    float *y = out + (size_t)row * C;
    if (m == -CUDART_INF_F) {
        for (int c = lane; c < C; c += 32) y[c] = 0.f;
        return;
    }
    float s = 0.f;
    for (int c = lane; c < C; c += 32) s += expf(x[c] - m);
    float inv = 1.f / ck_warp_sum(s);
    for (int c = lane; c < C; c += 32) y[c] = expf(x[c] - m) * inv;
}

__global__ void softmax_bwd_kernel(float *dinp, const float *dout, const float *out, int N, int C) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= N) return;
    const float *dy = dout + (size_t)row * C, *y = out + (size_t)row * C;
    float dot = 0.f;
    for (int c = lane; c < C; c += 32) dot += dy[c] * y[c];
    dot = ck_warp_sum(dot);
    float *dx = dinp + (size_t)row * C;
    for (int c = lane; c < C; c += 32) dx[c] += y[c] * (dy[c] - dot);
}

static ck_status softmax_fwd(ck_backend *b, float *out, const float *inp, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C > 0, "softmax_fwd");
    if (N == 0) return CK_OK;
    softmax_fwd_kernel<<<ck_warp_rows_grid(N), 256, 0, cu->stream>>>(out, inp, N, C);
    return ck_cuda_launched(cu, "softmax_fwd");
}

static ck_status softmax_bwd(ck_backend *b, float *dinp, const float *dout, const float *out, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C > 0, "softmax_bwd");
    if (N == 0 || dinp == nullptr) return CK_OK;
    softmax_bwd_kernel<<<ck_warp_rows_grid(N), 256, 0, cu->stream>>>(dinp, dout, out, N, C);
    return ck_cuda_launched(cu, "softmax_bwd");
}

void ck_cuda_fill_norm_ops(ck_backend *t) {
    t->layernorm_fwd = layernorm_fwd;
    t->layernorm_bwd = layernorm_bwd;
    t->softmax_fwd = softmax_fwd;
    t->softmax_bwd = softmax_bwd;
}
