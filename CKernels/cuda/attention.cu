/* Scaled dot-product multi-head attention. Scores and value products through cuBLAS strided-batched gemms (one
 * call per head, batched over B, so q/k/v may be column slices of a packed tensor); scale + additive mask +
 * softmax fused into one warp-per-row kernel, and its backward (dS = P * (dP - rowsum(P*dP)) * scale) likewise.
 * The interpretable variant (v_shared = 1, TFT) averages the heads' outputs over one shared value matrix. */
#include "ck_cuda.h"

#include <math_constants.h>

/* probs rows (B*NH*L of length L) hold raw q.k scores; replaced in place by softmax(scale * s + mask[i, :]). */
__global__ void attention_softmax_kernel(float *probs, const float *mask, int rows, int L, float scale) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    int i = row % L;
    float *p = probs + (size_t)row * L;
    const float *mrow = mask ? mask + (size_t)i * L : nullptr;
    float m = -CUDART_INF_F;
    for (int j = lane; j < L; j += 32) {
        float s = p[j] * scale + (mrow ? mrow[j] : 0.f);
        p[j] = s;
        m = fmaxf(m, s);
    }
    m = ck_warp_max(m);
    if (m == -CUDART_INF_F) { /* fully masked row: attend to nothing */
        for (int j = lane; j < L; j += 32) p[j] = 0.f;
        return;
    }
    float sum = 0.f;
    for (int j = lane; j < L; j += 32) {
        float e = expf(p[j] - m);
        p[j] = e;
        sum += e;
    }
    float inv = 1.f / ck_warp_sum(sum);
    for (int j = lane; j < L; j += 32) p[j] *= inv;
}

/* dS (in place over dP) = P * (dP - sum_j P dP) * scale */
__global__ void attention_softmax_bwd_kernel(float *dp, const float *probs, int rows, int L, float scale) {
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    float *d = dp + (size_t)row * L;
    const float *p = probs + (size_t)row * L;
    float dot = 0.f;
    for (int j = lane; j < L; j += 32) dot += p[j] * d[j];
    dot = ck_warp_sum(dot);
    for (int j = lane; j < L; j += 32) d[j] = p[j] * (d[j] - dot) * scale;
}

static ck_status check(ck_cuda *cu, const char *what, int B, int L, int NH, int HS, int ldq, int ldk, int ldv, int ldo,
                       int v_shared) {
    int width = NH * HS, vwidth = v_shared ? HS : NH * HS;
    if (B < 0 || L < 0 || NH <= 0 || HS <= 0 || (v_shared != 0 && v_shared != 1) || ldq < width || ldk < width ||
        ldv < vwidth || ldo < vwidth)
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what,
                            "bad sizes B=%d L=%d NH=%d HS=%d ldq=%d ldk=%d ldv=%d ldo=%d v_shared=%d", B, L, NH, HS, ldq,
                            ldk, ldv, ldo, v_shared);
    return CK_OK;
}

static ck_status attention_fwd(ck_backend *b, float *out, float *probs, const float *q, const float *k, const float *v,
                               const float *mask, int B, int L, int NH, int HS, int ldq, int ldk, int ldv, int ldo,
                               int v_shared) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY(check(cu, "attention_fwd", B, L, NH, HS, ldq, ldk, ldv, ldo, v_shared));
    if (B == 0 || L == 0) return CK_OK;
    long long LL = (long long)L * L, head_stride = (long long)NH * LL;
    for (int h = 0; h < NH; h++)
        CK_TRY(ck_cuda_gemm_batched(cu, probs + h * LL, q + h * HS, k + h * HS, L, L, HS, 0, 1, ldq, ldk, L,
                                    (long long)L * ldq, (long long)L * ldk, head_stride, B, 1.f, 0.f));
    int rows = B * NH * L;
    attention_softmax_kernel<<<ck_warp_rows_grid(rows), 256, 0, cu->stream>>>(probs, mask, rows, L, 1.f / sqrtf((float)HS));
    CK_TRY(ck_cuda_launched(cu, "attention_fwd(softmax)"));
    for (int h = 0; h < NH; h++) {
        const float *vh = v_shared ? v : v + h * HS;
        float *oh = v_shared ? out : out + h * HS;
        float alpha = v_shared ? 1.f / (float)NH : 1.f, beta = (v_shared && h > 0) ? 1.f : 0.f;
        CK_TRY(ck_cuda_gemm_batched(cu, oh, probs + h * LL, vh, L, HS, L, 0, 0, L, ldv, ldo, head_stride,
                                    (long long)L * ldv, (long long)L * ldo, B, alpha, beta));
    }
    return CK_OK;
}

static ck_status attention_bwd(ck_backend *b, float *dq, float *dk, float *dv, float *scratch, const float *dout,
                               const float *q, const float *k, const float *v, const float *probs, int B, int L, int NH,
                               int HS, int ldq, int ldk, int ldv, int ldo, int v_shared) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY(check(cu, "attention_bwd", B, L, NH, HS, ldq, ldk, ldv, ldo, v_shared));
    if (B == 0 || L == 0) return CK_OK;
    CK_REQUIRE(cu, scratch != nullptr, "attention_bwd");
    long long LL = (long long)L * L, head_stride = (long long)NH * LL;
    float head_weight = v_shared ? 1.f / (float)NH : 1.f;
    for (int h = 0; h < NH; h++) {
        const float *doh = v_shared ? dout : dout + h * HS;
        const float *vh = v_shared ? v : v + h * HS;
        /* dP_h = dout_h @ v_h^T */
        CK_TRY(ck_cuda_gemm_batched(cu, scratch + h * LL, doh, vh, L, L, HS, 0, 1, ldo, ldv, L, (long long)L * ldo,
                                    (long long)L * ldv, head_stride, B, head_weight, 0.f));
        /* dv_h += P_h^T @ dout_h */
        if (dv)
            CK_TRY(ck_cuda_gemm_batched(cu, v_shared ? dv : dv + h * HS, probs + h * LL, doh, L, HS, L, 1, 0, L, ldo, ldv,
                                        head_stride, (long long)L * ldo, (long long)L * ldv, B, head_weight, 1.f));
    }
    if (dq == nullptr && dk == nullptr) return CK_OK;
    int rows = B * NH * L;
    attention_softmax_bwd_kernel<<<ck_warp_rows_grid(rows), 256, 0, cu->stream>>>(scratch, probs, rows, L,
                                                                                   1.f / sqrtf((float)HS));
    CK_TRY(ck_cuda_launched(cu, "attention_bwd(softmax)"));
    for (int h = 0; h < NH; h++) {
        /* dq_h += dS_h @ k_h ; dk_h += dS_h^T @ q_h */
        if (dq)
            CK_TRY(ck_cuda_gemm_batched(cu, dq + h * HS, scratch + h * LL, k + h * HS, L, HS, L, 0, 0, L, ldk, ldq,
                                        head_stride, (long long)L * ldk, (long long)L * ldq, B, 1.f, 1.f));
        if (dk)
            CK_TRY(ck_cuda_gemm_batched(cu, dk + h * HS, scratch + h * LL, q + h * HS, L, HS, L, 1, 0, L, ldq, ldk,
                                        head_stride, (long long)L * ldq, (long long)L * ldk, B, 1.f, 1.f));
    }
    return CK_OK;
}

void ck_cuda_fill_attention_ops(ck_backend *t) {
    t->attention_fwd = attention_fwd;
    t->attention_bwd = attention_bwd;
}
