/* conv1d, stride 1, 'same' zero padding, channels last, as im2col + one cuBLAS gemm:
 *   col (B*L, CIN*K), col[(b,t), ci*K + k] = inp[b, t + k - K/2, ci] (0 outside), so that
 *   out (B*L, COUT) = col @ weight^T with weight (COUT, CIN*K) exactly PyTorch's (COUT, CIN, K) layout.
 * Backward: dweight += dout^T @ col; dcol = dout @ weight; dinp gathers dcol back (col2im without atomics, so the
 * result is deterministic). */
#include "ck_cuda.h"

__global__ void im2col_kernel(float *col, const float *inp, int B, int L, int CIN, int K) {
    size_t total = (size_t)B * L * CIN * K;
    int pad = K / 2;
    CK_GRID_STRIDE(i, total) {
        int k = (int)(i % K);
        size_t rest = i / K;
        int ci = (int)(rest % CIN);
        size_t bt = rest / CIN;
        int t = (int)(bt % L);
        size_t bb = bt / L;
        int s = t + k - pad;
        col[i] = (s >= 0 && s < L) ? inp[(bb * L + s) * CIN + ci] : 0.f;
    }
}

/* dinp[b, s, ci] += sum_k dcol[(b, s - k + pad), ci*K + k] */
__global__ void col2im_kernel(float *dinp, const float *dcol, int B, int L, int CIN, int K) {
    size_t total = (size_t)B * L * CIN;
    int pad = K / 2;
    CK_GRID_STRIDE(i, total) {
        int ci = (int)(i % CIN);
        size_t bs = i / CIN;
        int s = (int)(bs % L);
        size_t bb = bs / L;
        float acc = 0.f;
        for (int k = 0; k < K; k++) {
            int t = s - k + pad;
            if (t >= 0 && t < L) acc += dcol[((bb * L + t) * CIN + ci) * K + k];
        }
        dinp[i] += acc;
    }
}

static ck_status check(ck_cuda *cu, const char *what, int B, int L, int CIN, int COUT, int K) {
    if (B < 0 || L < 0 || CIN <= 0 || COUT <= 0 || K <= 0 || K % 2 == 0)
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "need B, L >= 0, CIN, COUT > 0 and odd K; got B=%d L=%d CIN=%d COUT=%d K=%d",
                            B, L, CIN, COUT, K);
    return CK_OK;
}

static ck_status im2col(ck_cuda *cu, ck_scratch &col, const float *inp, int B, int L, int CIN, int K) {
    size_t total = (size_t)B * L * CIN * K;
    CK_TRY(col.get(total * sizeof(float)));
    im2col_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(col.f(), inp, B, L, CIN, K);
    return ck_cuda_launched(cu, "im2col");
}

static ck_status conv1d_fwd(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias, int B,
                            int L, int CIN, int COUT, int K) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY(check(cu, "conv1d_fwd", B, L, CIN, COUT, K));
    int rows = B * L, ck = CIN * K;
    if (rows == 0) return CK_OK;
    ck_scratch col(cu);
    CK_TRY(im2col(cu, col, inp, B, L, CIN, K));
    CK_TRY(ck_cuda_gemm(cu, out, col.f(), weight, rows, COUT, ck, 0, 1, ck, ck, COUT, 1.f, 0.f));
    return bias ? b->bias_add_fwd(b, out, bias, rows, COUT) : CK_OK;
}

static ck_status conv1d_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int B, int L, int CIN, int COUT, int K) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY(check(cu, "conv1d_bwd", B, L, CIN, COUT, K));
    int rows = B * L, ck = CIN * K;
    if (rows == 0) return CK_OK;
    if (dbias) CK_TRY(ck_cuda_column_sum(cu, dbias, dout, rows, COUT, COUT, 1.f));
    ck_scratch col(cu);
    if (dweight) {
        CK_TRY(im2col(cu, col, inp, B, L, CIN, K));
        CK_TRY(ck_cuda_gemm(cu, dweight, dout, col.f(), COUT, ck, rows, 1, 0, COUT, ck, ck, 1.f, 1.f));
    }
    if (dinp) {
        if (col.ptr == nullptr) CK_TRY(col.get((size_t)rows * ck * sizeof(float)));
        CK_TRY(ck_cuda_gemm(cu, col.f(), dout, weight, rows, ck, COUT, 0, 0, COUT, ck, ck, 1.f, 0.f));
        size_t total = (size_t)rows * CIN;
        col2im_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(dinp, col.f(), B, L, CIN, K);
        CK_TRY(ck_cuda_launched(cu, "col2im"));
    }
    return CK_OK;
}

void ck_cuda_fill_conv_ops(ck_backend *t) {
    t->conv1d_fwd = conv1d_fwd;
    t->conv1d_bwd = conv1d_bwd;
}
