/*
 * gemm.c — matrix products on OpenBLAS (cblas_sgemm), row-major, as the table's gemm and gemm_strided_batched.
 *
 *     // C (M, N) = A (M, K) @ B^T where B is stored (N, K)
 *     cpu->gemm(cpu, C, A, B, M, N, K, 0, 1, K, K, N, 1.0f, 0.0f);
 */
#include "cpu_internal.h"

#include <string.h>

void ck_cpu_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *Bm, int ldb, float beta, float *C, int ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == 0.0f) {
        /* No product: C = beta * C, with beta = 0 writing exact zeros (BLAS semantics: C is not read). */
        for (int i = 0; i < M; i++) {
            float *row = C + (size_t)i * (size_t)ldc;
            if (beta == 0.0f) {
                memset(row, 0, (size_t)N * sizeof(float));
            } else if (beta != 1.0f) {
                for (int j = 0; j < N; j++) row[j] *= beta;
            }
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, Bm, ldb, beta, C, ldc);
}

/* Checks the shapes of one row-major product; returns CK_OK or records the reason. */
static ck_status check_gemm(const char *op, const float *C, const float *A, const float *Bm, int M, int N, int K,
                            int trans_a, int trans_b, int lda, int ldb, int ldc) {
    CK_REQUIRE(M >= 0 && N >= 0 && K >= 0, "%s: sizes must be >= 0 (M=%d N=%d K=%d)", op, M, N, K);
    CK_REQUIRE((trans_a == 0 || trans_a == 1) && (trans_b == 0 || trans_b == 1),
               "%s: trans_a and trans_b must be 0 or 1 (got %d, %d)", op, trans_a, trans_b);
    int a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
    CK_REQUIRE(lda >= (a_cols > 1 ? a_cols : 1), "%s: lda=%d is smaller than A's %d columns", op, lda, a_cols);
    CK_REQUIRE(ldb >= (b_cols > 1 ? b_cols : 1), "%s: ldb=%d is smaller than B's %d columns", op, ldb, b_cols);
    CK_REQUIRE(ldc >= (N > 1 ? N : 1), "%s: ldc=%d is smaller than C's %d columns", op, ldc, N);
    if (M > 0 && N > 0) {
        CK_REQUIRE(C != NULL, "%s: C is NULL", op);
        if (K > 0) CK_REQUIRE(A != NULL && Bm != NULL, "%s: A or B is NULL", op);
    }
    return CK_OK;
}

ck_status ck_cpu_gemm(ck_backend *b, float *C, const float *A, const float *Bm, int M, int N, int K, int trans_a,
                      int trans_b, int lda, int ldb, int ldc, float alpha, float beta) {
    (void)b;
    ck_status st = check_gemm("gemm", C, A, Bm, M, N, K, trans_a, trans_b, lda, ldb, ldc);
    if (st != CK_OK) return st;
    ck_cpu_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc);
    return CK_OK;
}

ck_status ck_cpu_gemm_strided_batched(ck_backend *b, float *C, const float *A, const float *Bm, int M, int N, int K,
                                      int trans_a, int trans_b, int lda, int ldb, int ldc, long long stride_a,
                                      long long stride_b, long long stride_c, int batch_count, float alpha,
                                      float beta) {
    (void)b;
    CK_REQUIRE(batch_count >= 0, "gemm_strided_batched: batch_count must be >= 0 (got %d)", batch_count);
    if (batch_count == 0) return CK_OK;
    ck_status st = check_gemm("gemm_strided_batched", C, A, Bm, M, N, K, trans_a, trans_b, lda, ldb, ldc);
    if (st != CK_OK) return st;
    for (int i = 0; i < batch_count; i++) {
        ck_cpu_sgemm(trans_a, trans_b, M, N, K, alpha, A + (ptrdiff_t)i * stride_a, lda, Bm + (ptrdiff_t)i * stride_b,
                     ldb, beta, C + (ptrdiff_t)i * stride_c, ldc);
    }
    return CK_OK;
}
