/*
 * packed_gemm.c — products against a right-hand operand packed once and used many times: the recurrent
 * weights of an LSTM, which every step of a call multiplies by the (B, H) state. OpenBLAS packs both operands
 * on every call, so a 64-step call re-packed a 1 MB w_hh 64 times (its copy routines were 11-14 % of a
 * short_term training step); here the weight is packed once per call and each step runs register tiles of
 * 8 rows x 32 columns over it. The same tiles serve ck_cpu_sgemm's products of linear-layer shapes (the last
 * section, ck_cpu_packed_sgemm), which pack both operands per block.
 *
 * Packed layouts:
 * - right operand op(B) (K, N): panels of 32 columns, panel p = K rows of 32 floats (columns 32p ... 32p+31,
 *   zero beyond N) (each panel row is a 64-byte line when the buffer is 64-byte aligned);
 * - left operand A (M, K): tiles of 8 rows, tile t = K groups of 8 floats (A[8t + r, k] at (t K + k) 8 + r), so
 *   a register tile broadcasts consecutive floats. The rows of an LSTM's state or gate gradients lie L rows
 *   apart in memory (64-256 KB, the same L1 set for all 8), and read in place they cost 10-15 %; a step packs
 *   its columns in 8 x 16 register transposes as soon as it computes them (ck_cpu_pack_a_cols).
 * Every output is one sum over k in order, whichever thread computes it and whichever panel range a call
 * covers, so results do not depend on the thread count.
 *
 *     ck_cpu_pack_b(P, w_hh, H, 1, H, 4 * H);                  // op(B) = w_hh^T: K = H, N = 4H
 *     ck_cpu_pack_a_cols(Ap, h, H, B, H, 0, H);                // the state (B, H)
 *     ck_cpu_packed_gemm(B, 0, ck_cpu_panels(4 * H), H, Ap, P, 4 * H, 1.0f, pre, 4 * H);  // pre += h w_hh^T
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <stdlib.h>
#include <string.h>

size_t ck_cpu_packed_floats(int K, int N) { return (size_t)ck_cpu_panels(N) * CK_PANEL * (size_t)(K > 0 ? K : 0); }

#ifdef CK_AVX512_KERNELS
CK_TARGET_AVX512 static void pack_bt_avx512(float *P, const float *Bm, size_t ldb, int K, int N, int p0, int p1);
#endif

void ck_cpu_pack_b_panels(float *restrict P, const float *restrict Bm, int ldb, int trans_b, int K, int N, int p0,
                          int p1) {
#ifdef CK_AVX512_KERNELS
    if (trans_b && ck_cpu_has_avx512f()) {
        pack_bt_avx512(P, Bm, (size_t)ldb, K, N, p0, p1);
        return;
    }
#endif
    for (int p = p0; p < p1; p++) {
        float *dst = P + (size_t)p * CK_PANEL * (size_t)K;
        const int n0 = p * CK_PANEL, nn = N - n0 < CK_PANEL ? N - n0 : CK_PANEL;
        if (!trans_b) { /* B (K, N): each panel row is a contiguous piece of a row of B */
            for (int k = 0; k < K; k++) {
                float *d = dst + (size_t)k * CK_PANEL;
                memcpy(d, Bm + (size_t)k * (size_t)ldb + n0, (size_t)nn * sizeof(float));
                if (nn < CK_PANEL) memset(d + nn, 0, (size_t)(CK_PANEL - nn) * sizeof(float));
            }
        } else { /* B stored (N, K): column n of op(B) is row n of the storage, read contiguously */
            if (nn < CK_PANEL) memset(dst, 0, (size_t)CK_PANEL * (size_t)K * sizeof(float));
            for (int j = 0; j < nn; j++) {
                const float *src = Bm + (size_t)(n0 + j) * (size_t)ldb;
                for (int k = 0; k < K; k++) dst[(size_t)k * CK_PANEL + j] = src[k];
            }
        }
    }
}

void ck_cpu_pack_b(float *P, const float *Bm, int ldb, int trans_b, int K, int N) {
    ck_cpu_pack_b_panels(P, Bm, ldb, trans_b, K, N, 0, ck_cpu_panels(N));
}

size_t ck_cpu_packed_a_floats(int M, int K) {
    return M > 0 && K > 0 ? (size_t)((M + CK_TILE_ROWS - 1) / CK_TILE_ROWS) * CK_TILE_ROWS * (size_t)K : 0;
}

/* Columns [k0, k1) of rows [r0, r1) of one tile, one float at a time. */
static void pack_a_plain(float *restrict tile, const float *restrict A, size_t lda, int r0, int r1, int k0, int k1) {
    for (int k = k0; k < k1; k++)
        for (int r = r0; r < r1; r++) tile[(size_t)k * CK_TILE_ROWS + (r - r0)] = A[(size_t)r * lda + (size_t)k];
}

#ifdef CK_AVX512_KERNELS
#include <immintrin.h>

/* 8 rows x 16 columns of A (row stride lda) -> out[k * ldo + r]: three rounds of two-source permutes (pairs of
 * rows, then fours, then eights; the index vectors interleave 1, 2 and 4 floats at a time); each result holds
 * two k's of 8 floats, stored as one vector when ldo = 8, as two halves otherwise. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void transpose_8x16(const float *A, size_t lda,
                                                                                 float *out, size_t ldo) {
    const __m512i i1[2] = {_mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0),
                           _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8)};
    const __m512i i2[2] = {_mm512_set_epi32(23, 22, 7, 6, 21, 20, 5, 4, 19, 18, 3, 2, 17, 16, 1, 0),
                           _mm512_set_epi32(31, 30, 15, 14, 29, 28, 13, 12, 27, 26, 11, 10, 25, 24, 9, 8)};
    const __m512i i3[2] = {_mm512_set_epi32(23, 22, 21, 20, 7, 6, 5, 4, 19, 18, 17, 16, 3, 2, 1, 0),
                           _mm512_set_epi32(31, 30, 29, 28, 15, 14, 13, 12, 27, 26, 25, 24, 11, 10, 9, 8)};
    __m512 u[4][2], v[2][2][2];
    for (int p = 0; p < 4; p++) {
        __m512 a = _mm512_loadu_ps(A + (size_t)(2 * p) * lda), b = _mm512_loadu_ps(A + (size_t)(2 * p + 1) * lda);
        u[p][0] = _mm512_permutex2var_ps(a, i1[0], b);
        u[p][1] = _mm512_permutex2var_ps(a, i1[1], b);
    }
    for (int q = 0; q < 2; q++)
        for (int h = 0; h < 2; h++)
            for (int e = 0; e < 2; e++) v[q][h][e] = _mm512_permutex2var_ps(u[2 * q][h], i2[e], u[2 * q + 1][h]);
    for (int h = 0; h < 2; h++)
        for (int e = 0; e < 2; e++)
            for (int f = 0; f < 2; f++) {
                const size_t k = (size_t)(8 * h + 4 * e + 2 * f);
                const __m512 w = _mm512_permutex2var_ps(v[0][h][e], i3[f], v[1][h][e]);
                if (ldo == 8) {
                    _mm512_storeu_ps(out + k * 8, w);
                } else {
                    _mm256_storeu_ps(out + k * ldo, _mm512_castps512_ps256(w));
                    _mm256_storeu_ps(out + (k + 1) * ldo,
                                     _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(w), 1)));
                }
            }
}

/* Panels [p0, p1) of op(B) = B^T, B stored (N, K): 8 stored rows x 16 k at a time into a panel's 32-float rows. */
CK_TARGET_AVX512 static void pack_bt_avx512(float *P, const float *Bm, size_t ldb, int K, int N, int p0, int p1) {
    for (int p = p0; p < p1; p++) {
        float *dst = P + (size_t)p * CK_PANEL * (size_t)K;
        const int n0 = p * CK_PANEL, nn = N - n0 < CK_PANEL ? N - n0 : CK_PANEL;
        if (nn < CK_PANEL) memset(dst, 0, (size_t)CK_PANEL * (size_t)K * sizeof(float));
        int g = 0;
        for (; g + 8 <= nn; g += 8) {
            const float *src = Bm + (size_t)(n0 + g) * ldb;
            int k = 0;
            for (; k + 16 <= K; k += 16) transpose_8x16(src + k, ldb, dst + (size_t)k * CK_PANEL + g, CK_PANEL);
            for (; k < K; k++)
                for (int r = 0; r < 8; r++) dst[(size_t)k * CK_PANEL + g + r] = src[(size_t)r * ldb + (size_t)k];
        }
        for (; g < nn; g++) {
            const float *src = Bm + (size_t)(n0 + g) * ldb;
            for (int k = 0; k < K; k++) dst[(size_t)k * CK_PANEL + g] = src[k];
        }
    }
}

CK_TARGET_AVX512 static void pack_a_avx512(float *Ap, const float *A, size_t lda, int M, int K, int k0, int k1) {
    for (int t = 0; t * CK_TILE_ROWS < M; t++) {
        float *tile = Ap + (size_t)t * CK_TILE_ROWS * (size_t)K;
        const int r0 = t * CK_TILE_ROWS, r1 = r0 + CK_TILE_ROWS < M ? r0 + CK_TILE_ROWS : M;
        const float *At = A + (size_t)r0 * lda;
        int k = k0;
        if (r1 - r0 == CK_TILE_ROWS)
            for (; k + 16 <= k1; k += 16) transpose_8x16(At + k, lda, tile + (size_t)k * CK_TILE_ROWS, CK_TILE_ROWS);
        pack_a_plain(tile, A, lda, r0, r1, k, k1);
    }
}

/* C[0:R, 0:32] = A[0:R, 0:K] @ panel (+ C when accumulate), R <= 8 rows (a compile-time constant at every
 * call site, so the accumulators live in registers) of a packed tile (row r of k at A[8 k + r]); masks m0/m1
 * cover the columns that exist. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
panel_tile(const int R, int K, const float *restrict A, const float *restrict panel, float *restrict C, size_t ldc,
           int accumulate, __mmask16 m0, __mmask16 m1) {
    __m512 c0[8], c1[8];
    for (int r = 0; r < R; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    if (accumulate) /* the C rows this tile adds to: fetched while the products run (rows lie ldc apart) */
        for (int r = 0; r < R; r++) {
            _mm_prefetch((const char *)(C + (size_t)r * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(C + (size_t)r * ldc + 16), _MM_HINT_T0);
        }
    for (int k = 0; k < K; k++) {
        const __m512 b0 = _mm512_loadu_ps(panel + (size_t)k * CK_PANEL);
        const __m512 b1 = _mm512_loadu_ps(panel + (size_t)k * CK_PANEL + 16);
        for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(A[(size_t)k * CK_TILE_ROWS + (size_t)r]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        float *c = C + (size_t)r * ldc;
        __m512 o0 = c0[r], o1 = c1[r];
        if (accumulate) {
            o0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c), o0);
            o1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + 16), o1);
        }
        _mm512_mask_storeu_ps(c, m0, o0);
        _mm512_mask_storeu_ps(c + 16, m1, o1);
    }
}

CK_TARGET_AVX512 static void packed_avx512(int M, int p0, int p1, int K, const float *Ap, const float *P, int N,
                                           int accumulate, float *C, int ldc) {
    for (int p = p0; p < p1; p++) {
        const float *panel = P + (size_t)p * CK_PANEL * (size_t)K;
        const int n0 = p * CK_PANEL, nn = N - n0 < CK_PANEL ? N - n0 : CK_PANEL;
        const __mmask16 m0 = nn >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nn) - 1u);
        const __mmask16 m1 = nn >= 32 ? (__mmask16)0xFFFF : (nn > 16 ? (__mmask16)((1u << (nn - 16)) - 1u) : 0);
        float *Cp = C + n0;
        for (int t = 0; t * CK_TILE_ROWS < M; t++) {
            const float *tile = Ap + (size_t)t * CK_TILE_ROWS * (size_t)K;
            const int i0 = t * CK_TILE_ROWS, rows = M - i0 < CK_TILE_ROWS ? M - i0 : CK_TILE_ROWS;
            float *Ct = Cp + (size_t)i0 * (size_t)ldc;
            if (rows == 8) {
                panel_tile(8, K, tile, panel, Ct, (size_t)ldc, accumulate, m0, m1);
                continue;
            }
            int r = 0;
            if (rows - r >= 4) {
                panel_tile(4, K, tile + r, panel, Ct + (size_t)r * (size_t)ldc, (size_t)ldc, accumulate, m0, m1);
                r += 4;
            }
            if (rows - r >= 2) {
                panel_tile(2, K, tile + r, panel, Ct + (size_t)r * (size_t)ldc, (size_t)ldc, accumulate, m0, m1);
                r += 2;
            }
            if (rows - r >= 1)
                panel_tile(1, K, tile + r, panel, Ct + (size_t)r * (size_t)ldc, (size_t)ldc, accumulate, m0, m1);
        }
    }
}

int ck_cpu_packed_gemm_available(void) { return ck_cpu_has_avx512f(); }

#else

int ck_cpu_packed_gemm_available(void) { return 0; }

#endif

/* The same sums in plain C (each output a sum over k in order): what a CPU without AVX-512 runs if it is ever
 * called there, and the tests' reference for the tile kernel's bookkeeping. */
static void packed_portable(int M, int p0, int p1, int K, const float *Ap, const float *P, int N, int accumulate,
                            float *C, int ldc) {
    for (int p = p0; p < p1; p++) {
        const float *panel = P + (size_t)p * CK_PANEL * (size_t)K;
        const int n0 = p * CK_PANEL, nn = N - n0 < CK_PANEL ? N - n0 : CK_PANEL;
        for (int i = 0; i < M; i++) {
            float acc[CK_PANEL] = {0};
            const float *a = Ap + (size_t)(i / CK_TILE_ROWS) * CK_TILE_ROWS * (size_t)K + (size_t)(i % CK_TILE_ROWS);
            for (int k = 0; k < K; k++)
                for (int j = 0; j < CK_PANEL; j++) acc[j] += a[(size_t)k * CK_TILE_ROWS] * panel[(size_t)k * CK_PANEL + j];
            float *c = C + (size_t)i * (size_t)ldc + n0;
            for (int j = 0; j < nn; j++) c[j] = accumulate ? c[j] + acc[j] : acc[j];
        }
    }
}

void ck_cpu_pack_a_cols(float *Ap, const float *A, int lda, int M, int K, int k0, int k1) {
    if (M <= 0 || k1 <= k0) return;
#ifdef CK_AVX512_KERNELS
    if (ck_cpu_has_avx512f()) {
        pack_a_avx512(Ap, A, (size_t)lda, M, K, k0, k1);
        return;
    }
#endif
    for (int t = 0; t * CK_TILE_ROWS < M; t++) {
        const int r0 = t * CK_TILE_ROWS, r1 = r0 + CK_TILE_ROWS < M ? r0 + CK_TILE_ROWS : M;
        pack_a_plain(Ap + (size_t)t * CK_TILE_ROWS * (size_t)K, A, (size_t)lda, r0, r1, k0, k1);
    }
}

void ck_cpu_packed_gemm(int M, int p0, int p1, int K, const float *Ap, const float *P, int N, float beta, float *C,
                        int ldc) {
    if (M <= 0 || p1 <= p0) return;
    const int accumulate = beta != 0.0f;
#ifdef CK_AVX512_KERNELS
    if (ck_cpu_has_avx512f()) {
        packed_avx512(M, p0, p1, K, Ap, P, N, accumulate, C, ldc);
        return;
    }
#endif
    packed_portable(M, p0, p1, K, Ap, P, N, accumulate, C, ldc);
}

/* ---- general products on the packed tiles ----------------------------------------------------------------------
 * For C = A B^(T) (A not transposed), alpha 1 and beta 0 or 1, at least 16 rows, 32..512 columns, k 16..384
 * (linear layers, im2col convolutions, the projections of attention and N-BEATS; OpenBLAS's packing copies and
 * call overhead weigh on these, and it reached 50-85 GFLOP/s where the tiles reach 65-95 on one core here).
 * Blocking: k in blocks of GEMM_KC (a block of op(B) packed per thread: GEMM_KC x up to GEMM_NC columns, in L2),
 * rows in blocks of GEMM_MC (packed A, in L2), a 32-column panel (GEMM_KC x 32 floats) reused from L1 by every
 * 8-row tile of the row block. The blocks are fixed by the shape alone, so every output is the same sum in the
 * same order whichever thread computes it: results are bit-identical for any thread count. Threads split row
 * tiles (M >= N) or panels and pack what they read themselves. */
enum { GEMM_KC = 256, GEMM_MC = 192, GEMM_NC = 512 };
/* Wider and deeper products stay on OpenBLAS (each k block of ours re-reads and re-writes C): at N = 1024 or
 * K >= 512 OpenBLAS ran 1.06-1.15x faster than these tiles on a quiet core here. */
#ifndef CK_PACKED_SGEMM_MAX_N
#define CK_PACKED_SGEMM_MAX_N 512
#endif
#ifndef CK_PACKED_SGEMM_MAX_K
#define CK_PACKED_SGEMM_MAX_K 384
#endif

typedef struct packed_sgemm_job {
    int trans_b, M, N, K, lda, ldb, ldc, by_rows, accumulate;
    const float *A, *Bm;
    float *C;
} packed_sgemm_job;

/* Rows [i0, i1) x panels [q0, q1) of C. */
static void packed_sgemm_block(const packed_sgemm_job *j, int i0, int i1, int q0, int q1) {
    float *Ap = ck_cpu_workspace(5, ck_cpu_packed_a_floats(GEMM_MC, GEMM_KC));
    float *Bp = ck_cpu_workspace(6, ck_cpu_packed_floats(GEMM_KC, GEMM_NC));
    const int N = j->N, K = j->K;
    const int n_lo = q0 * CK_PANEL, n_hi = q1 * CK_PANEL < N ? q1 * CK_PANEL : N;
    if (Ap == NULL || Bp == NULL) { /* no memory for the blocks: OpenBLAS computes this part */
        const float *Bm = j->trans_b ? j->Bm + (size_t)n_lo * (size_t)j->ldb : j->Bm + n_lo;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, j->trans_b ? CblasTrans : CblasNoTrans, i1 - i0, n_hi - n_lo, K,
                    1.0f, j->A + (size_t)i0 * (size_t)j->lda, j->lda, Bm, j->ldb, j->accumulate ? 1.0f : 0.0f,
                    j->C + (size_t)i0 * (size_t)j->ldc + n_lo, j->ldc);
        return;
    }
    const int nc_panels = GEMM_NC / CK_PANEL;
    for (int p0 = 0; p0 < K; p0 += GEMM_KC) {
        const int kk = K - p0 < GEMM_KC ? K - p0 : GEMM_KC;
        const float beta = (j->accumulate || p0 > 0) ? 1.0f : 0.0f;
        for (int c0 = q0; c0 < q1; c0 += nc_panels) {
            const int c1 = c0 + nc_panels < q1 ? c0 + nc_panels : q1;
            const int n0 = c0 * CK_PANEL, nb = (c1 * CK_PANEL < N ? c1 * CK_PANEL : N) - n0;
            const float *Bb = j->trans_b ? j->Bm + (size_t)n0 * (size_t)j->ldb + p0
                                         : j->Bm + (size_t)p0 * (size_t)j->ldb + n0;
            ck_cpu_pack_b_panels(Bp, Bb, j->ldb, j->trans_b, kk, nb, 0, c1 - c0);
            for (int r0 = i0; r0 < i1; r0 += GEMM_MC) {
                const int mm = i1 - r0 < GEMM_MC ? i1 - r0 : GEMM_MC;
                ck_cpu_pack_a_cols(Ap, j->A + (size_t)r0 * (size_t)j->lda + p0, j->lda, mm, kk, 0, kk);
                ck_cpu_packed_gemm(mm, 0, c1 - c0, kk, Ap, Bp, nb, beta, j->C + (size_t)r0 * (size_t)j->ldc + n0,
                                   j->ldc);
            }
        }
    }
}

static void packed_sgemm_range(void *ctx, int begin, int end) {
    const packed_sgemm_job *j = ctx;
    if (j->by_rows) {
        int i1 = end * CK_TILE_ROWS < j->M ? end * CK_TILE_ROWS : j->M;
        packed_sgemm_block(j, begin * CK_TILE_ROWS, i1, 0, ck_cpu_panels(j->N));
    } else {
        packed_sgemm_block(j, 0, j->M, begin, end);
    }
}

int ck_cpu_packed_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *Bm, int ldb, float beta, float *C, int ldc) {
    static int off = -1; /* CK_CPU_PACKED_SGEMM=0: OpenBLAS for everything (to compare the two) */
    if (off < 0) {
        const char *env = getenv("CK_CPU_PACKED_SGEMM");
        off = env != NULL && strcmp(env, "0") == 0;
    }
    if (off) return 0;
    if (!ck_cpu_packed_gemm_available() || trans_a || alpha != 1.0f || (beta != 0.0f && beta != 1.0f)) return 0;
    if (M < 2 * CK_TILE_ROWS || N < CK_PANEL || N > CK_PACKED_SGEMM_MAX_N || K < 16 || K > CK_PACKED_SGEMM_MAX_K)
        return 0;
    packed_sgemm_job j = {trans_b, M, N, K, lda, ldb, ldc, M >= N, beta != 0.0f, A, Bm, C};
    const int units = j.by_rows ? (M + CK_TILE_ROWS - 1) / CK_TILE_ROWS : ck_cpu_panels(N);
    /* at least ~2^17 multiply-adds per thread: each thread packs its own copy of one operand */
    const long long per_unit = (long long)M * N * K / units;
    long long min_units = ((1LL << 17) + per_unit - 1) / (per_unit > 0 ? per_unit : 1);
    ck_cpu_parallel_for(units, min_units < 1 ? 1 : (int)min_units, packed_sgemm_range, &j);
    return 1;
}
