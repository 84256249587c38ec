/* Matrix products through cuBLAS (row-major mapped onto column-major: C^T = op(B)^T op(A)^T), the linear layer,
 * N-BEATS basis expansion, and the deterministic column sum that bias gradients use. TF32 only when the instance
 * was given CK_OPT_ALLOW_TF32 = 1 (cublasSetMathMode); exact fp32 otherwise. */
#include "ck_cuda.h"

static inline cublasOperation_t op_of(int trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

static ck_status check_gemm_args(ck_cuda *cu, const char *what, const float *C, const float *A, const float *B, int M,
                                 int N, int K, int trans_a, int trans_b, int lda, int ldb, int ldc) {
    if (M < 0 || N < 0 || K < 0)
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "negative size M=%d N=%d K=%d", M, N, K);
    if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1))
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "trans_a/trans_b must be 0 or 1");
    int min_lda = trans_a ? M : K, min_ldb = trans_b ? K : N;
    if (lda < (min_lda > 1 ? min_lda : 1) || ldb < (min_ldb > 1 ? min_ldb : 1) || ldc < (N > 1 ? N : 1))
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "leading dimensions too small: lda=%d (>= %d) ldb=%d (>= %d) ldc=%d (>= %d)",
                            lda, min_lda, ldb, min_ldb, ldc, N);
    if (M > 0 && N > 0 && (C == nullptr || (K > 0 && (A == nullptr || B == nullptr))))
        return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, what, "NULL matrix");
    return CK_OK;
}

ck_status ck_cuda_gemm(ck_cuda *cu, float *C, const float *A, const float *B, int M, int N, int K, int trans_a,
                       int trans_b, int lda, int ldb, int ldc, float alpha, float beta) {
    CK_TRY(check_gemm_args(cu, "gemm", C, A, B, M, N, K, trans_a, trans_b, lda, ldb, ldc));
    if (M == 0 || N == 0) return CK_OK;
    cublasStatus_t st = cu->api->sgemm(cu->blas, op_of(trans_b), op_of(trans_a), N, M, K, &alpha, B, ldb, A, lda,
                                       &beta, C, ldc);
    return st == CUBLAS_STATUS_SUCCESS ? CK_OK : ck_cublas_error(cu, st, "cublasSgemm");
}

ck_status ck_cuda_gemm_batched(ck_cuda *cu, float *C, const float *A, const float *B, int M, int N, int K,
                               int trans_a, int trans_b, int lda, int ldb, int ldc, long long stride_a,
                               long long stride_b, long long stride_c, int batch, float alpha, float beta) {
    CK_TRY(check_gemm_args(cu, "gemm_strided_batched", C, A, B, M, N, K, trans_a, trans_b, lda, ldb, ldc));
    if (batch < 0) return ck_cuda_fail(cu, CK_ERR_INVALID_ARGUMENT, "gemm_strided_batched", "batch_count %d < 0", batch);
    if (M == 0 || N == 0 || batch == 0) return CK_OK;
    cublasStatus_t st = cu->api->sgemm_strided_batched(cu->blas, op_of(trans_b), op_of(trans_a), N, M, K, &alpha, B,
                                                       ldb, stride_b, A, lda, stride_a, &beta, C, ldc, stride_c, batch);
    return st == CUBLAS_STATUS_SUCCESS ? CK_OK : ck_cublas_error(cu, st, "cublasSgemmStridedBatched");
}

/* dst[c] += scale * sum_n src[n * ld + c]: 32 columns per block, 32 row lanes per column, fixed summation order. */
__global__ void column_sum_kernel(float *dst, const float *src, int N, int C, int ld, float scale) {
    __shared__ float partial[32][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    float acc = 0.f;
    if (c < C)
        for (int n = threadIdx.y; n < N; n += blockDim.y) acc += src[(size_t)n * ld + c];
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float total = 0.f;
        for (int r = 0; r < (int)blockDim.y; r++) total += partial[r][threadIdx.x];
        dst[c] += scale * total;
    }
}

ck_status ck_cuda_column_sum(ck_cuda *cu, float *dst, const float *src, int N, int C, int ld, float scale) {
    if (N <= 0 || C <= 0 || dst == nullptr) return CK_OK;
    dim3 block(32, 32), grid((C + 31) / 32);
    column_sum_kernel<<<grid, block, 0, cu->stream>>>(dst, src, N, C, ld, scale);
    return ck_cuda_launched(cu, "column_sum_kernel");
}

/* x (N, C) += bias (C) */
__global__ void bias_add_kernel(float *x, const float *bias, size_t total, int C) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        x[i] += bias[i % C];
}

static ck_status bias_add_fwd(ck_backend *b, float *x, const float *bias, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C >= 0, "bias_add_fwd");
    size_t total = (size_t)N * C;
    if (total == 0 || bias == nullptr) return CK_OK;
    bias_add_kernel<<<ck_grid(total), CK_BLOCK, 0, cu->stream>>>(x, bias, total, C);
    return ck_cuda_launched(cu, "bias_add_fwd");
}

static ck_status bias_add_bwd(ck_backend *b, float *dbias, const float *dout, int N, int C) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && C >= 0, "bias_add_bwd");
    return ck_cuda_column_sum(cu, dbias, dout, N, C, C, 1.f);
}

static ck_status gemm(ck_backend *b, float *C, const float *A, const float *Bm, int M, int N, int K, int trans_a,
                      int trans_b, int lda, int ldb, int ldc, float alpha, float beta) {
    return ck_cuda_gemm(ck_cuda_of(b), C, A, Bm, M, N, K, trans_a, trans_b, lda, ldb, ldc, alpha, beta);
}

static ck_status gemm_strided_batched(ck_backend *b, float *C, const float *A, const float *Bm, int M, int N, int K,
                                      int trans_a, int trans_b, int lda, int ldb, int ldc, long long stride_a,
                                      long long stride_b, long long stride_c, int batch, float alpha, float beta) {
    return ck_cuda_gemm_batched(ck_cuda_of(b), C, A, Bm, M, N, K, trans_a, trans_b, lda, ldb, ldc, stride_a, stride_b,
                                stride_c, batch, alpha, beta);
}

static ck_status linear_fwd(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias, int N,
                            int IN, int OUT) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_TRY(ck_cuda_gemm(cu, out, inp, weight, N, OUT, IN, 0, 1, IN, IN, OUT, 1.f, 0.f));
    return bias ? bias_add_fwd(b, out, bias, N, OUT) : CK_OK;
}

static ck_status linear_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int N, int IN, int OUT) {
    ck_cuda *cu = ck_cuda_of(b);
    if (dinp) CK_TRY(ck_cuda_gemm(cu, dinp, dout, weight, N, IN, OUT, 0, 0, OUT, IN, IN, 1.f, 1.f));
    if (dweight) CK_TRY(ck_cuda_gemm(cu, dweight, dout, inp, OUT, IN, N, 1, 0, OUT, IN, IN, 1.f, 1.f));
    if (dbias) CK_TRY(ck_cuda_column_sum(cu, dbias, dout, N, OUT, OUT, 1.f));
    return CK_OK;
}

static ck_status basis_expand_fwd(ck_backend *b, float *out, const float *theta, const float *basis, int N, int P,
                                  int T, float scale, int accumulate) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, accumulate == 0 || accumulate == 1, "basis_expand_fwd");
    return ck_cuda_gemm(cu, out, theta, basis, N, T, P, 0, 0, P, T, T, scale, accumulate ? 1.f : 0.f);
}

static ck_status basis_expand_bwd(ck_backend *b, float *dtheta, const float *dout, const float *basis, int N, int P,
                                  int T, float scale) {
    ck_cuda *cu = ck_cuda_of(b);
    if (dtheta == nullptr) return CK_OK;
    return ck_cuda_gemm(cu, dtheta, dout, basis, N, P, T, 0, 1, T, T, P, scale, 1.f);
}

void ck_cuda_fill_gemm_ops(ck_backend *t) {
    t->gemm = gemm;
    t->gemm_strided_batched = gemm_strided_batched;
    t->linear_fwd = linear_fwd;
    t->linear_bwd = linear_bwd;
    t->bias_add_fwd = bias_add_fwd;
    t->bias_add_bwd = bias_add_bwd;
    t->basis_expand_fwd = basis_expand_fwd;
    t->basis_expand_bwd = basis_expand_bwd;
}
