/*
 * gemm.c — matrix products on OpenBLAS (cblas_sgemm), row-major, as the table's gemm and gemm_strided_batched.
 *
 *     // C (M, N) = A (M, K) @ B^T where B is stored (N, K)
 *     cpu->gemm(cpu, C, A, B, M, N, K, 0, 1, K, K, N, 1.0f, 0.0f);
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <string.h>

/* ---- matrix-vector products ----------------------------------------------------------------------------------
 * OpenBLAS 0.3.21 runs a 1-row sgemm through its packing GEMM (the whole weight matrix copied per call) and its
 * sgemv at ~12 GFLOP/s; a recurrent step at batch 1 is exactly such a product. With AVX-512, 16 rows per pass
 * (below); otherwise, and for the last rows, 16 lanes of partial sums per row (vectorised without reassociation,
 * summed in a fixed order), 4 rows per pass. */

#ifdef CK_AVX512_KERNELS
#include <immintrin.h>
/* Sixteen rows at once on AVX-512: one accumulator per row (x loaded once per 16 columns for all of them), then
 * the 16 accumulators are folded into one vector of 16 row sums by a fixed shuffle tree (4 levels, ~2
 * instructions per row instead of a horizontal sum each). K % 16 columns go through a masked load. The tree's
 * order is fixed, so a row's result does not depend on anything but its data. */
CK_TARGET_AVX512 static void gemv_rows16_avx512(float *restrict sums, int K, const float *restrict W, int ldw,
                                                const float *restrict x) {
    __m512 acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 xv = _mm512_loadu_ps(x + k);
        for (int i = 0; i < 16; i++)
            acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(W + (size_t)i * (size_t)ldw + k), xv, acc[i]);
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1u);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
        for (int i = 0; i < 16; i++)
            acc[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, W + (size_t)i * (size_t)ldw + k), xv, acc[i]);
    }
    __m512 w[8], v[4];
    for (int i = 0; i < 8; i++) /* [acc_i 4+4 lanes folded | acc_{i+8} folded] */
        w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(acc[i], acc[i + 8], 0x44),
                             _mm512_shuffle_f32x4(acc[i], acc[i + 8], 0xEE));
    for (int i = 0; i < 4; i++) /* 128-bit blocks: rows i, i+8, i+4, i+12 (4 lanes each) */
        v[i] = _mm512_add_ps(_mm512_shuffle_f32x4(w[i], w[i + 4], 0x88), _mm512_shuffle_f32x4(w[i], w[i + 4], 0xDD));
    __m512 y0 = _mm512_add_ps(_mm512_unpacklo_ps(v[0], v[1]), _mm512_unpackhi_ps(v[0], v[1]));
    __m512 y1 = _mm512_add_ps(_mm512_unpacklo_ps(v[2], v[3]), _mm512_unpackhi_ps(v[2], v[3]));
    __m512 z = _mm512_add_ps(_mm512_shuffle_ps(y0, y1, 0x44), _mm512_shuffle_ps(y0, y1, 0xEE));
    /* z's blocks hold rows 0-3, 8-11, 4-7, 12-15: swap the middle two */
    _mm512_storeu_ps(sums, _mm512_shuffle_f32x4(z, z, 0xD8));
}

void ck_cpu_gemv_rows16(float *sums, int K, const float *W, int ldw, const float *x) {
    gemv_rows16_avx512(sums, K, W, ldw, x);
}
#endif

/* y[r] = alpha * dot(W[r, :K], x (stride incx)) + beta * y[r * incy] for rows [r0, r1) of W (row stride ldw). */
CK_VECTOR_CLONES
static void gemv_rows(int r0, int r1, int K, float alpha, const float *restrict W, int ldw, const float *restrict x,
                      int incx, float beta, float *restrict y, int incy, float *restrict xbuf) {
    const float *xv = x;
    if (incx != 1) {
        for (int k = 0; k < K; k++) xbuf[k] = x[(size_t)k * (size_t)incx];
        xv = xbuf;
    }
    const int K16 = K & ~15;
    int r = r0;
#ifdef CK_AVX512_KERNELS
    if (ck_cpu_has_avx512f()) {
        float sums[16];
        for (; r + 16 <= r1; r += 16) {
            gemv_rows16_avx512(sums, K, W + (size_t)r * (size_t)ldw, ldw, xv);
            for (int q = 0; q < 16; q++) {
                float *out = y + (size_t)(r + q) * (size_t)incy;
                *out = alpha * sums[q] + (beta == 0.0f ? 0.0f : beta * *out);
            }
        }
    }
#endif
    for (; r + 4 <= r1; r += 4) {
        const float *w0 = W + (size_t)r * (size_t)ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        float a0[16] = {0}, a1[16] = {0}, a2[16] = {0}, a3[16] = {0};
        for (int k = 0; k < K16; k += 16) {
            for (int l = 0; l < 16; l++) {
                float xk = xv[k + l];
                a0[l] += w0[k + l] * xk;
                a1[l] += w1[k + l] * xk;
                a2[l] += w2[k + l] * xk;
                a3[l] += w3[k + l] * xk;
            }
        }
        float s[4] = {0, 0, 0, 0};
        for (int l = 0; l < 16; l++) {
            s[0] += a0[l];
            s[1] += a1[l];
            s[2] += a2[l];
            s[3] += a3[l];
        }
        for (int k = K16; k < K; k++) {
            s[0] += w0[k] * xv[k];
            s[1] += w1[k] * xv[k];
            s[2] += w2[k] * xv[k];
            s[3] += w3[k] * xv[k];
        }
        for (int q = 0; q < 4; q++) {
            float *out = y + (size_t)(r + q) * (size_t)incy;
            *out = alpha * s[q] + (beta == 0.0f ? 0.0f : beta * *out);
        }
    }
    for (; r < r1; r++) {
        const float *w0 = W + (size_t)r * (size_t)ldw;
        float a0[16] = {0};
        for (int k = 0; k < K16; k += 16)
            for (int l = 0; l < 16; l++) a0[l] += w0[k + l] * xv[k + l];
        float s0 = 0;
        for (int l = 0; l < 16; l++) s0 += a0[l];
        for (int k = K16; k < K; k++) s0 += w0[k] * xv[k];
        float *out = y + (size_t)r * (size_t)incy;
        *out = alpha * s0 + (beta == 0.0f ? 0.0f : beta * *out);
    }
}

/* y[c] = alpha * sum_k x[k * incx] W[k, c] + beta * y[c] for columns [c0, c1) of W (K rows, stride ldw); y is
 * contiguous. Accumulates in k order (one axpy per row of W) into a local copy of the output columns. */
CK_VECTOR_CLONES
static void gemv_columns(int c0, int c1, int K, float alpha, const float *restrict W, int ldw,
                         const float *restrict x, int incx, float beta, float *restrict y, float *restrict acc) {
    const int n = c1 - c0;
    for (int c = 0; c < n; c++) acc[c] = 0.0f;
    for (int k = 0; k < K; k++) {
        const float xk = x[(size_t)k * (size_t)incx];
        const float *restrict w = W + (size_t)k * (size_t)ldw + c0;
        for (int c = 0; c < n; c++) acc[c] += xk * w[c];
    }
    for (int c = 0; c < n; c++) y[c0 + c] = alpha * acc[c] + (beta == 0.0f ? 0.0f : beta * y[c0 + c]);
}

typedef struct gemv_job {
    int by_rows; /* 1: y = W x with W (n, K); 0: y = W^T x with W (K, n), y contiguous */
    int K, ldw, incx, incy;
    float alpha, beta;
    const float *W, *x;
    float *y;
} gemv_job;

enum { GEMV_UNIT = 16 }; /* outputs per work item */

static void gemv_range(void *ctx, int begin, int end, int n_total) {
    const gemv_job *j = ctx;
    int r0 = begin * GEMV_UNIT, r1 = end * GEMV_UNIT;
    if (r1 > n_total) r1 = n_total;
    if (j->by_rows) {
        float *xbuf = j->incx != 1 ? ck_cpu_workspace(4, (size_t)j->K) : NULL;
        gemv_rows(r0, r1, j->K, j->alpha, j->W, j->ldw, j->x, j->incx, j->beta, j->y, j->incy, xbuf);
    } else {
        float *acc = ck_cpu_workspace(4, (size_t)(r1 - r0));
        gemv_columns(r0, r1, j->K, j->alpha, j->W, j->ldw, j->x, j->incx, j->beta, j->y, acc);
    }
}

typedef struct gemv_split {
    gemv_job job;
    int n;
} gemv_split;

static void gemv_split_range(void *ctx, int begin, int end) {
    gemv_split *s = ctx;
    gemv_range(&s->job, begin, end, s->n);
}

/* One output vector of n values from a K-long input: split over the pool in blocks of 16 outputs when the
 * product is large enough to pay for a split (~ 64K multiply-adds). */
static void gemv(gemv_job job, int n) {
    int units = (n + GEMV_UNIT - 1) / GEMV_UNIT;
    gemv_split s = {job, n};
    long long work = (long long)n * (long long)job.K;
    int min_units = work >= (1 << 16) ? (int)((units * (long long)(1 << 15) + work - 1) / work) : units;
    if (min_units < 1) min_units = 1;
    ck_cpu_parallel_for(units, min_units, gemv_split_range, &s);
}

/* ---- GEMM threading -------------------------------------------------------------------------------------------
 * OpenBLAS runs single-threaded (cpu_backend.c); a large product is cut here into blocks of rows (C taller than
 * wide) or columns, one cblas_sgemm per block, and the backend's own pool runs the blocks. The cut depends on the
 * shape alone, never on the thread count or on whether the caller is itself inside a pool job: OpenBLAS's result
 * for an element depends on the shape of the call that computes it (its Haswell / Zen kernels and its
 * small-matrix paths sum in another order for another M or N: 256 x 64 x 320 computed whole and as two halves of
 * 128 rows differ by up to 3e-6 in 1793 of 16384 elements with OPENBLAS_CORETYPE=Haswell). With a cut that
 * followed the thread count, results followed it too; with this one, every element is computed by the same call
 * whatever thread runs it, and results are bit-identical for any thread count. */

enum {
    GEMM_SPLIT_WORK = 1 << 16,  /* products from 2^16 multiply-adds on are cut in (at least two) blocks */
    GEMM_BLOCK_WORK = 1 << 17,  /* one block per 2^17 multiply-adds (a cblas call costs ~1 us plus its packing) */
    GEMM_MAX_BLOCKS = 16,       /* ... and at most this many blocks */
    GEMM_MIN_EXTENT = 256,      /* ... of at least 256 rows / columns beyond two blocks: each call packs the other
                                 * operand again (a 1024 x 32 x 4096 weight gradient, one thread: 4.23 ms whole,
                                 * 4.27 / 4.48 / 4.69 / 5.33 ms in 2 / 4 / 8 / 16 row blocks; OpenBLAS 0.3.21) */
    GEMM_ROW_UNIT = 8,          /* block edges fall on multiples of these (the kernels' register tiles) */
    GEMM_COLUMN_UNIT = 16,
};

typedef struct gemm_job {
    int trans_a, trans_b, M, N, K, lda, ldb, ldc, by_rows, block; /* block: rows or columns per block */
    float alpha, beta;
    const float *A, *Bm;
    float *C;
} gemm_job;

/* Blocks [begin, end): one cblas_sgemm each. */
static void gemm_blocks_range(void *ctx, int begin, int end) {
    const gemm_job *j = ctx;
    const CBLAS_TRANSPOSE ta = j->trans_a ? CblasTrans : CblasNoTrans, tb = j->trans_b ? CblasTrans : CblasNoTrans;
    for (int blk = begin; blk < end; blk++) {
        int lo = blk * j->block, hi = lo + j->block;
        if (j->by_rows) {
            if (hi > j->M) hi = j->M;
            const float *A = j->trans_a ? j->A + lo : j->A + (size_t)lo * (size_t)j->lda;
            cblas_sgemm(CblasRowMajor, ta, tb, hi - lo, j->N, j->K, j->alpha, A, j->lda, j->Bm, j->ldb, j->beta,
                        j->C + (size_t)lo * (size_t)j->ldc, j->ldc);
        } else {
            if (hi > j->N) hi = j->N;
            const float *Bm = j->trans_b ? j->Bm + (size_t)lo * (size_t)j->ldb : j->Bm + lo;
            cblas_sgemm(CblasRowMajor, ta, tb, j->M, hi - lo, j->K, j->alpha, j->A, j->lda, Bm, j->ldb, j->beta,
                        j->C + lo, j->ldc);
        }
    }
}

/* How the product is cut: returns the number of blocks, sets the direction and the rows / columns per block. */
static int gemm_block_count(int M, int N, int K, int *by_rows, int *block) {
    const long long work = (long long)M * (long long)N * (long long)K;
    *by_rows = M > N;
    const int extent = *by_rows ? M : N, unit = *by_rows ? GEMM_ROW_UNIT : GEMM_COLUMN_UNIT;
    const int units = (extent + unit - 1) / unit;
    long long blocks = work < GEMM_SPLIT_WORK ? 1 : work / GEMM_BLOCK_WORK;
    if (blocks > GEMM_MAX_BLOCKS) blocks = GEMM_MAX_BLOCKS;
    if (blocks > extent / GEMM_MIN_EXTENT) blocks = extent / GEMM_MIN_EXTENT;
    if (work >= GEMM_SPLIT_WORK && blocks < 2) blocks = 2;
    if (blocks > units) blocks = units;
    if (blocks < 1) blocks = 1;
    const int units_per_block = (int)((units + blocks - 1) / blocks);
    *block = units_per_block * unit;
    return (extent + *block - 1) / *block;
}

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
    if (M == 1) {
        /* C (1, N) = a (K) @ op(B): a is A's row (trans_a = 0) or column (trans_a = 1, stride lda). */
        int inca = trans_a ? lda : 1;
        if (trans_b) gemv((gemv_job){1, K, ldb, inca, 1, alpha, beta, Bm, A, C}, N);      /* B (N, K) */
        else gemv((gemv_job){0, K, ldb, inca, 1, alpha, beta, Bm, A, C}, N);              /* B (K, N) */
        return;
    }
    if (N == 1 && !trans_a) {
        /* C (M, 1) = A (M, K) @ b: b is B's column (trans_b = 0, stride ldb) or row (trans_b = 1). */
        gemv((gemv_job){1, K, lda, trans_b ? 1 : ldb, ldc, alpha, beta, A, Bm, C}, M);
        return;
    }
    if (ck_cpu_packed_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc)) return;
    gemm_job j = {trans_a, trans_b, M, N, K, lda, ldb, ldc, 0, 0, alpha, beta, A, Bm, C};
    const int blocks = gemm_block_count(M, N, K, &j.by_rows, &j.block);
    if (blocks == 1) gemm_blocks_range(&j, 0, 1);
    else ck_cpu_parallel_for(blocks, 1, gemm_blocks_range, &j);
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
