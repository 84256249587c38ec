/* Data movement and broadcast products: strided 2-D copies (concat/split), per-row scaling, pooling over time. */
#include "ck_cuda.h"

__global__ void copy2d_kernel(float *dst, int ldd, const float *src, int lds, int rows, int cols, int accumulate) {
    size_t total = (size_t)rows * cols;
    CK_GRID_STRIDE(i, total) {
        size_t r = i / cols, c = i % cols;
        float v = src[r * lds + c];
        if (accumulate) dst[r * ldd + c] += v;
        else dst[r * ldd + c] = v;
    }
}

static ck_status copy2d(ck_backend *b, float *dst, int ldd, const float *src, int lds, int rows, int cols, int accumulate) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, rows >= 0 && cols >= 0 && ldd >= cols && lds >= cols, "copy2d");
    CK_REQUIRE(cu, accumulate == 0 || accumulate == 1, "copy2d");
    size_t total = (size_t)rows * cols;
    if (total == 0) return CK_OK;
    if (!accumulate) {
        CK_TRY_CUDA(cu, cudaMemcpy2DAsync(dst, (size_t)ldd * sizeof(float), src, (size_t)lds * sizeof(float),
                                          (size_t)cols * sizeof(float), (size_t)rows, cudaMemcpyDeviceToDevice, cu->stream));
        return CK_OK;
    }
    copy2d_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(dst, ldd, src, lds, rows, cols, accumulate);
    return ck_cuda_launched(cu, "copy2d");
}

/* ---- row scale: out (N, C) = x (N, C) * w (N) ------------------------------------------------------------ */
__global__ void row_scale_fwd_kernel(float *out, const float *x, const float *w, size_t total, int C) {
    CK_GRID_STRIDE(i, total) out[i] = x[i] * w[i / C];
}

/* One warp per row: dx += dout * w[n]; dw[n] += sum_c dout * x. */
__global__ void row_scale_bwd_kernel(float *dx, float *dw, const float *dout, const float *x, const float *w, int N, int C) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= N) return;
    const float *drow = dout + (size_t)row * C;
    float wr = w[row], acc = 0.f;
    for (int c = lane; c < C; c += 32) {
        float d = drow[c];
        if (dx) dx[(size_t)row * C + c] += d * wr;
        acc += d * x[(size_t)row * C + c];
    }
    acc = ck_warp_sum(acc);
    if (dw && lane == 0) dw[row] += acc;
}

static ck_status row_scale_fwd(ck_backend *b, float *out, const float *x, const float *w, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C >= 0, "row_scale_fwd");
    size_t total = (size_t)N * C;
    if (total == 0) return CK_OK;
    row_scale_fwd_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(out, x, w, total, C);
    return ck_cuda_launched(cu, "row_scale_fwd");
}

static ck_status row_scale_bwd(ck_backend *b, float *dx, float *dw, const float *dout, const float *x, const float *w,
                               int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C >= 0, "row_scale_bwd");
    if (N == 0 || C == 0 || (dx == nullptr && dw == nullptr)) return CK_OK;
    row_scale_bwd_kernel<<<ck_warp_rows_grid(N), 256, 0, cu->stream>>>(dx, dw, dout, x, w, N, C);
    return ck_cuda_launched(cu, "row_scale_bwd");
}

/* ---- pooling over time: (B, L, C) -> (B, C) ---------------------------------------------------------------- */
__global__ void mean_pool_fwd_kernel(float *out, const float *inp, int B, int L, int C) {
    size_t total = (size_t)B * C;
    CK_GRID_STRIDE(i, total) {
        size_t bb = i / C, c = i % C;
        const float *p = inp + bb * (size_t)L * C + c;
        float acc = 0.f;
        for (int t = 0; t < L; t++) acc += p[(size_t)t * C];
        out[i] = acc / (float)L;
    }
}

__global__ void mean_pool_bwd_kernel(float *dinp, const float *dout, int B, int L, int C) {
    size_t total = (size_t)B * L * C;
    float inv = 1.f / (float)L;
    CK_GRID_STRIDE(i, total) {
        size_t c = i % C, bb = i / ((size_t)L * C);
        dinp[i] += dout[bb * C + c] * inv;
    }
}

__global__ void step_pool_kernel(float *dst, const float *src, int B, int L, int C, int t, int backward) {
    size_t total = (size_t)B * C;
    CK_GRID_STRIDE(i, total) {
        size_t bb = i / C, c = i % C;
        size_t seq = (bb * (size_t)L + t) * C + c;
        if (backward) dst[seq] += src[i];
        else dst[i] = src[seq];
    }
}

static ck_status mean_pool_fwd(ck_backend *b, float *out, const float *inp, int B, int L, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, B >= 0 && L > 0 && C >= 0, "mean_pool_fwd");
    if ((size_t)B * C == 0) return CK_OK;
    mean_pool_fwd_kernel<<<ck_grid((size_t)B * C), CK_BLOCK, 0, cu->stream>>>(out, inp, B, L, C);
    return ck_cuda_launched(cu, "mean_pool_fwd");
}
static ck_status mean_pool_bwd(ck_backend *b, float *dinp, const float *dout, int B, int L, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, B >= 0 && L > 0 && C >= 0, "mean_pool_bwd");
    if ((size_t)B * C == 0 || dinp == nullptr) return CK_OK;
    mean_pool_bwd_kernel<<<ck_grid((size_t)B * L * C), CK_BLOCK, 0, cu->stream>>>(dinp, dout, B, L, C);
    return ck_cuda_launched(cu, "mean_pool_bwd");
}
static ck_status step_pool_fwd(ck_backend *b, float *out, const float *inp, int B, int L, int C, int t) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, B >= 0 && C >= 0 && t >= 0 && t < L, "step_pool_fwd");
    if ((size_t)B * C == 0) return CK_OK;
    step_pool_kernel<<<ck_grid((size_t)B * C), CK_BLOCK, 0, cu->stream>>>(out, inp, B, L, C, t, 0);
    return ck_cuda_launched(cu, "step_pool_fwd");
}
static ck_status step_pool_bwd(ck_backend *b, float *dinp, const float *dout, int B, int L, int C, int t) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, B >= 0 && C >= 0 && t >= 0 && t < L, "step_pool_bwd");
    if ((size_t)B * C == 0 || dinp == nullptr) return CK_OK;
    step_pool_kernel<<<ck_grid((size_t)B * C), CK_BLOCK, 0, cu->stream>>>(dinp, dout, B, L, C, t, 1);
    return ck_cuda_launched(cu, "step_pool_bwd");
}

void ck_cuda_fill_algebra_ops(ck_backend *t) {
    t->copy2d = copy2d;
    t->row_scale_fwd = row_scale_fwd;
    t->row_scale_bwd = row_scale_bwd;
    t->mean_pool_fwd = mean_pool_fwd;
    t->mean_pool_bwd = mean_pool_bwd;
    t->step_pool_fwd = step_pool_fwd;
    t->step_pool_bwd = step_pool_bwd;
}
