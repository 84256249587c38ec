/*
 * small_gemm.c — products of attention-head size (L x L x head_size, L <= a few hundred, head_size ~32) on
 * AVX-512: register tiles of 4 rows x 32 columns, every element a sum over k in order (so a head's result does not
 * depend on the thread that computes it). OpenBLAS reaches ~30 GFLOP/s on a 96 x 96 x 32 product on this class of
 * machine (call and packing overhead); these tiles skip the packing. A transposed A is read in place; a
 * transposed B (head_size x L) is copied once into a per-thread buffer.
 *
 *     if (!ck_cpu_small_gemm(0, 1, L, L, HS, scale, q, ldq, k, ldk, 0.0f, s, L))   // S = scale Q K^T
 *         ck_cpu_sgemm(0, 1, L, L, HS, scale, q, ldq, k, ldk, 0.0f, s, L);        // no AVX-512: OpenBLAS
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#ifdef CK_AVX512_KERNELS
#include <immintrin.h>

/* C (M, N) = alpha op(A) (M, K) B (K, N) + beta C, row-major; op(A)[i, k] = A[i * sa + k * sk] (A itself:
 * sa = lda, sk = 1; A stored (K, M), transposed: sa = 1, sk = lda, so no copy). beta = 0 does not read C. */
CK_TARGET_AVX512 static void small_nn_avx512(int M, int N, int K, float alpha, const float *A, size_t sa, size_t sk,
                                             const float *B, int ldb, float beta, float *C, int ldc) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int j0 = 0; j0 < N; j0 += 32) {
        const int nj = N - j0 < 32 ? N - j0 : 32;
        const __mmask16 m0 = nj >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nj) - 1u);
        const __mmask16 m1 = nj >= 32 ? (__mmask16)0xFFFF : (nj > 16 ? (__mmask16)((1u << (nj - 16)) - 1u) : 0);
        const float *Bj = B + j0;
        int i = 0;
        for (; i + 4 <= M; i += 4) {
            const float *a0 = A + (size_t)i * sa, *a1 = a0 + sa, *a2 = a1 + sa, *a3 = a2 + sa;
            __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
                   c31 = c00;
            for (int k = 0; k < K; k++) {
                const float *bk = Bj + (size_t)k * (size_t)ldb;
                __m512 b0 = _mm512_maskz_loadu_ps(m0, bk), b1 = _mm512_maskz_loadu_ps(m1, bk + 16);
                const size_t ko = (size_t)k * sk;
                __m512 x = _mm512_set1_ps(a0[ko]);
                c00 = _mm512_fmadd_ps(x, b0, c00);
                c01 = _mm512_fmadd_ps(x, b1, c01);
                x = _mm512_set1_ps(a1[ko]);
                c10 = _mm512_fmadd_ps(x, b0, c10);
                c11 = _mm512_fmadd_ps(x, b1, c11);
                x = _mm512_set1_ps(a2[ko]);
                c20 = _mm512_fmadd_ps(x, b0, c20);
                c21 = _mm512_fmadd_ps(x, b1, c21);
                x = _mm512_set1_ps(a3[ko]);
                c30 = _mm512_fmadd_ps(x, b0, c30);
                c31 = _mm512_fmadd_ps(x, b1, c31);
            }
            __m512 acc[8] = {c00, c01, c10, c11, c20, c21, c30, c31};
            for (int r = 0; r < 4; r++) {
                float *c = C + (size_t)(i + r) * (size_t)ldc + j0;
                __m512 o0 = _mm512_mul_ps(va, acc[2 * r]), o1 = _mm512_mul_ps(va, acc[2 * r + 1]);
                if (beta != 0.0f) {
                    o0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c), o0);
                    o1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16), o1);
                }
                _mm512_mask_storeu_ps(c, m0, o0);
                _mm512_mask_storeu_ps(c + 16, m1, o1);
            }
        }
        for (; i < M; i++) {
            const float *a0 = A + (size_t)i * sa;
            __m512 c0 = _mm512_setzero_ps(), c1 = c0;
            for (int k = 0; k < K; k++) {
                const float *bk = Bj + (size_t)k * (size_t)ldb;
                __m512 x = _mm512_set1_ps(a0[(size_t)k * sk]);
                c0 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m0, bk), c0);
                c1 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m1, bk + 16), c1);
            }
            float *c = C + (size_t)i * (size_t)ldc + j0;
            __m512 o0 = _mm512_mul_ps(va, c0), o1 = _mm512_mul_ps(va, c1);
            if (beta != 0.0f) {
                o0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c), o0);
                o1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16), o1);
            }
            _mm512_mask_storeu_ps(c, m0, o0);
            _mm512_mask_storeu_ps(c + 16, m1, o1);
        }
    }
}

/* dst (cols, rows) = src (rows, cols)^T, src with leading dimension ld. */
static void transpose(float *restrict dst, const float *restrict src, int rows, int cols, int ld) {
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int c0 = 0; c0 < cols; c0 += 16) {
            int r1 = r0 + 16 < rows ? r0 + 16 : rows, c1 = c0 + 16 < cols ? c0 + 16 : cols;
            for (int r = r0; r < r1; r++)
                for (int c = c0; c < c1; c++) dst[(size_t)c * (size_t)rows + r] = src[(size_t)r * (size_t)ld + c];
        }
}

int ck_cpu_small_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *Bm, int ldb, float beta, float *C, int ldc) {
    if (!ck_cpu_has_avx512f() || M <= 0 || N <= 0 || K <= 0) return 0;
    if (trans_b) { /* B is stored (N, K) */
        float *bt = ck_cpu_workspace(1, (size_t)K * (size_t)N);
        if (bt == NULL) return 0;
        transpose(bt, Bm, N, K, ldb);
        Bm = bt;
        ldb = N;
    }
    /* op(A) is read in place: A (M, K) by rows, or A stored (K, M) by columns (4 rows of a tile are then 4
     * adjacent values of one stored row). */
    size_t sa = trans_a ? 1 : (size_t)lda, sk = trans_a ? (size_t)lda : 1;
    small_nn_avx512(M, N, K, alpha, A, sa, sk, Bm, ldb, beta, C, ldc);
    return 1;
}

#else

int ck_cpu_small_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *Bm, int ldb, float beta, float *C, int ldc) {
    (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)Bm, (void)ldb,
        (void)beta, (void)C, (void)ldc;
    return 0;
}

#endif
