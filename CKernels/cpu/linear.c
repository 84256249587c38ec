/*
 * linear.c — fully connected layer (PyTorch nn.Linear layout) and the broadcast bias add.
 *
 *     // out (N, OUT) = inp (N, IN) @ weight^T + bias
 *     cpu->linear_fwd(cpu, out, inp, weight, bias, N, IN, OUT);
 *     cpu->linear_bwd(cpu, dinp, dweight, dbias, dout, inp, weight, N, IN, OUT);   // accumulates
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <stdlib.h>
#include <string.h>

/* Column sums of one block of at most COLUMN_BLOCK columns, in double, rows in order. */
enum { COLUMN_BLOCK = 64 };
CK_VECTOR_CLONES
static void column_block_sums(float *restrict acc, const float *restrict x, int N, int width, int ldx) {
    double sums[COLUMN_BLOCK];
    for (int j = 0; j < width; j++) sums[j] = 0.0;
    for (int i = 0; i < N; i++) {
        const float *row = x + (size_t)i * (size_t)ldx;
        for (int j = 0; j < width; j++) sums[j] += (double)row[j];
    }
    for (int j = 0; j < width; j++) acc[j] += (float)sums[j];
}

typedef struct column_sums_job {
    float *acc;
    const float *x;
    int N, C, ldx;
} column_sums_job;

#ifdef CK_AVX512_KERNELS
#include <immintrin.h>
/* A full block of 64 columns with its 64 double sums held in eight registers across all rows (the portable loop
 * above reloads and stores them every row). Same order of additions per column, so the same result. */
CK_TARGET_AVX512 static void column_block64_avx512(float *acc, const float *x, int N, int ldx) {
    __m512d s[8];
    for (int q = 0; q < 8; q++) s[q] = _mm512_setzero_pd();
    for (int i = 0; i < N; i++) {
        const float *row = x + (size_t)i * (size_t)ldx;
        for (int q = 0; q < 4; q++) {
            __m512 v = _mm512_loadu_ps(row + 16 * q);
            s[2 * q] = _mm512_add_pd(s[2 * q], _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
            s[2 * q + 1] = _mm512_add_pd(s[2 * q + 1],
                                         _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
        }
    }
    for (int q = 0; q < 8; q++) {
        __m256 f = _mm512_cvtpd_ps(s[q]);
        _mm256_storeu_ps(acc + 8 * q, _mm256_add_ps(_mm256_loadu_ps(acc + 8 * q), f));
    }
}

#endif

static void column_sums_range(void *ctx, int begin, int end) {
    const column_sums_job *j = ctx;
    for (int blk = begin; blk < end; blk++) {
        int c0 = blk * COLUMN_BLOCK, width = j->C - c0 < COLUMN_BLOCK ? j->C - c0 : COLUMN_BLOCK;
#ifdef CK_AVX512_KERNELS
        if (width == COLUMN_BLOCK && ck_cpu_has_avx512f()) {
            column_block64_avx512(j->acc + c0, j->x + c0, j->N, j->ldx);
            continue;
        }
#endif
        column_block_sums(j->acc + c0, j->x + c0, j->N, width, j->ldx);
    }
}

void ck_cpu_column_sums_add(float *acc, const float *x, int N, int C, int ldx) {
    /* Blocks of 64 columns summed in double (long batches keep their low bits), split over the pool by block:
     * each column is summed by one thread in row order, so the result does not depend on the thread count. */
    column_sums_job job = {acc, x, N, C, ldx};
    ck_cpu_parallel_items((C + COLUMN_BLOCK - 1) / COLUMN_BLOCK, (long long)N * COLUMN_BLOCK, column_sums_range, &job);
}

typedef struct bias_job {
    float *x;
    const float *bias;
    int C;
} bias_job;

static void bias_add_rows(void *ctx, int begin, int end) {
    const bias_job *j = ctx;
    for (int i = begin; i < end; i++) {
        float *row = j->x + (size_t)i * (size_t)j->C;
        for (int k = 0; k < j->C; k++) row[k] += j->bias[k];
    }
}

static void bias_fill_rows(void *ctx, int begin, int end) {
    const bias_job *j = ctx;
    for (int i = begin; i < end; i++) memcpy(j->x + (size_t)i * (size_t)j->C, j->bias, (size_t)j->C * sizeof(float));
}

ck_status ck_cpu_bias_add_fwd(ck_backend *b, float *x, const float *bias, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "bias_add_fwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(x != NULL && bias != NULL, "bias_add_fwd: x or bias is NULL");
    bias_job job = {x, bias, C};
    ck_cpu_parallel_rows(N, C, bias_add_rows, &job);
    return CK_OK;
}

ck_status ck_cpu_bias_add_bwd(ck_backend *b, float *dbias, const float *dout, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "bias_add_bwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0 || dbias == NULL) return CK_OK;
    CK_REQUIRE(dout != NULL, "bias_add_bwd: dout is NULL");
    ck_cpu_column_sums_add(dbias, dout, N, C, C);
    return CK_OK;
}

ck_status ck_cpu_linear_fwd(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias,
                            int N, int IN, int OUT) {
    (void)b;
    CK_REQUIRE(N >= 0 && IN >= 0 && OUT >= 0, "linear_fwd: sizes must be >= 0 (N=%d IN=%d OUT=%d)", N, IN, OUT);
    if (N == 0 || OUT == 0) return CK_OK;
    CK_REQUIRE(out != NULL && (IN == 0 || (inp != NULL && weight != NULL)), "linear_fwd: out, inp or weight is NULL");
    float beta = 0.0f;
    if (bias != NULL) {
        bias_job job = {out, bias, OUT};
        ck_cpu_parallel_rows(N, OUT, bias_fill_rows, &job);
        beta = 1.0f;
    }
    ck_cpu_sgemm(0, 1, N, OUT, IN, 1.0f, inp, IN > 0 ? IN : 1, weight, IN > 0 ? IN : 1, beta, out, OUT);
    return CK_OK;
}

ck_status ck_cpu_linear_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int N, int IN, int OUT) {
    (void)b;
    CK_REQUIRE(N >= 0 && IN >= 0 && OUT >= 0, "linear_bwd: sizes must be >= 0 (N=%d IN=%d OUT=%d)", N, IN, OUT);
    if (N == 0 || OUT == 0) return CK_OK;
    CK_REQUIRE(dout != NULL, "linear_bwd: dout is NULL");
    if (IN > 0) {
        if (dinp != NULL) {
            CK_REQUIRE(weight != NULL, "linear_bwd: weight is NULL");
            /* dinp (N, IN) += dout (N, OUT) @ weight (OUT, IN) */
            ck_cpu_sgemm(0, 0, N, IN, OUT, 1.0f, dout, OUT, weight, IN, 1.0f, dinp, IN);
        }
        if (dweight != NULL) {
            CK_REQUIRE(inp != NULL, "linear_bwd: inp is NULL");
            /* dweight (OUT, IN) += dout^T (OUT, N) @ inp (N, IN) */
            ck_cpu_sgemm(1, 0, OUT, IN, N, 1.0f, dout, OUT, inp, IN, 1.0f, dweight, IN);
        }
    }
    if (dbias != NULL) ck_cpu_column_sums_add(dbias, dout, N, OUT, OUT);
    return CK_OK;
}
