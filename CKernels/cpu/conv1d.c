/*
 * conv1d.c — 1-D convolution over time, stride 1, 'same' zero padding, channels last (B, L, C).
 *
 * Implementation: im2col + one sgemm per chunk of sequences. The weight (COUT, CIN, K) is repacked to
 * (COUT, K, CIN) so that row (b, t) of the column matrix is the K*CIN window inp[b, t-pad .. t+pad, :]
 * (zeros outside the sequence), and out (B*L, COUT) = cols (B*L, K*CIN) @ wr^T.
 *
 *     cpu->conv1d_fwd(cpu, out, inp, weight, bias, B, L, CIN, COUT, K);     // K odd, pad K/2
 */
#include "cpu_internal.h"

#include <string.h>

/* Column matrices are built for at most this many floats at once (32 MiB); longer inputs run in chunks. */
#define CONV_COLS_BUDGET ((size_t)8 << 20)

static ck_status check_conv(const char *op, int B, int L, int CIN, int COUT, int K) {
    CK_REQUIRE(B >= 0 && L >= 0 && CIN >= 0 && COUT >= 0, "%s: sizes must be >= 0 (B=%d L=%d CIN=%d COUT=%d)", op, B,
               L, CIN, COUT);
    CK_REQUIRE(K >= 1 && K % 2 == 1, "%s: K must be odd and >= 1 for 'same' padding (got %d)", op, K);
    return CK_OK;
}

/* wr (COUT, K, CIN) <- w (COUT, CIN, K): one small transpose per output channel (CIN x K, in L1), written in
 * order and split over the pool by output channels (at batch 1 this copy costs as much as the product). */
typedef struct repack_job {
    float *dst;       /* repack: (COUT, K, CIN); unpack_add: (COUT, CIN, K) */
    const float *src; /* the other layout */
    int CIN, K;
} repack_job;

static void repack_range(void *ctx, int begin, int end) {
    const repack_job *j = ctx;
    const size_t CIN = (size_t)j->CIN, K = (size_t)j->K;
    for (int co = begin; co < end; co++) {
        const float *restrict src = j->src + (size_t)co * CIN * K;
        float *restrict dst = j->dst + (size_t)co * K * CIN;
        for (size_t k = 0; k < K; k++)
            for (size_t ci = 0; ci < CIN; ci++) dst[k * CIN + ci] = src[ci * K + k];
    }
}

/* The way back for a weight gradient: dst (COUT, CIN, K) += src (COUT, K, CIN). */
static void unpack_add_range(void *ctx, int begin, int end) {
    const repack_job *j = ctx;
    const size_t CIN = (size_t)j->CIN, K = (size_t)j->K;
    for (int co = begin; co < end; co++) {
        const float *restrict src = j->src + (size_t)co * K * CIN;
        float *restrict dst = j->dst + (size_t)co * CIN * K;
        for (size_t ci = 0; ci < CIN; ci++)
            for (size_t k = 0; k < K; k++) dst[ci * K + k] += src[k * CIN + ci];
    }
}

static void repack_weight(float *wr, const float *w, int CIN, int COUT, int K) {
    repack_job j = {wr, w, CIN, K};
    ck_cpu_parallel_items(COUT, (long long)CIN * K, repack_range, &j);
}

/* Sequences [b0, b1) of an im2col or col2im: sequences are independent, so the pool splits them. */
typedef struct cols_job {
    float *dst;
    const float *src;
    int L, CIN, K;
} cols_job;

/* cols (nb*L, K*CIN) <- windows of inp (nb, L, CIN), sequences [b0, b1) */
static void im2col_range(void *ctx, int b0, int b1) {
    const cols_job *j = ctx;
    float *cols = j->dst;
    const float *inp = j->src;
    const int L = j->L, CIN = j->CIN, K = j->K;
    int pad = K / 2;
    size_t width = (size_t)K * (size_t)CIN;
    for (int b = b0; b < b1; b++) {
        const float *seq = inp + (size_t)b * (size_t)L * (size_t)CIN;
        for (int t = 0; t < L; t++) {
            float *row = cols + ((size_t)b * (size_t)L + (size_t)t) * width;
            for (int k = 0; k < K; k++) {
                int s = t + k - pad;
                float *dst = row + (size_t)k * (size_t)CIN;
                if (s < 0 || s >= L) memset(dst, 0, (size_t)CIN * sizeof(float));
                else memcpy(dst, seq + (size_t)s * (size_t)CIN, (size_t)CIN * sizeof(float));
            }
        }
    }
}

/* dinp (nb, L, CIN) += scatter of dcols (nb*L, K*CIN), sequences [b0, b1) */
static void col2im_add_range(void *ctx, int b0, int b1) {
    const cols_job *j = ctx;
    float *dinp = j->dst;
    const float *dcols = j->src;
    const int L = j->L, CIN = j->CIN, K = j->K;
    int pad = K / 2;
    size_t width = (size_t)K * (size_t)CIN;
    for (int b = b0; b < b1; b++) {
        float *seq = dinp + (size_t)b * (size_t)L * (size_t)CIN;
        for (int t = 0; t < L; t++) {
            const float *row = dcols + ((size_t)b * (size_t)L + (size_t)t) * width;
            for (int k = 0; k < K; k++) {
                int s = t + k - pad;
                if (s < 0 || s >= L) continue;
                float *dst = seq + (size_t)s * (size_t)CIN;
                const float *src = row + (size_t)k * (size_t)CIN;
                for (int ci = 0; ci < CIN; ci++) dst[ci] += src[ci];
            }
        }
    }
}

static void im2col(float *cols, const float *inp, int nb, int L, int CIN, int K) {
    cols_job j = {cols, inp, L, CIN, K};
    ck_cpu_parallel_rows(nb, L * K * CIN, im2col_range, &j);
}

static void col2im_add(float *dinp, const float *dcols, int nb, int L, int CIN, int K) {
    cols_job j = {dinp, dcols, L, CIN, K};
    ck_cpu_parallel_rows(nb, L * K * CIN, col2im_add_range, &j);
}

static int sequences_per_chunk(int B, int L, int CIN, int K) {
    size_t per_seq = (size_t)L * (size_t)K * (size_t)CIN;
    if (per_seq == 0) return B > 0 ? B : 1;
    size_t n = CONV_COLS_BUDGET / per_seq;
    if (n < 1) n = 1;
    return n > (size_t)B ? (B > 0 ? B : 1) : (int)n;
}

ck_status ck_cpu_conv1d_fwd(ck_backend *b, float *out, const float *inp, const float *weight, const float *bias,
                            int B, int L, int CIN, int COUT, int K) {
    (void)b;
    ck_status st = check_conv("conv1d_fwd", B, L, CIN, COUT, K);
    if (st != CK_OK) return st;
    if (B == 0 || L == 0 || COUT == 0) return CK_OK;
    CK_REQUIRE(out != NULL, "conv1d_fwd: out is NULL");
    size_t rows = (size_t)B * (size_t)L;
    if (bias != NULL) {
        for (size_t r = 0; r < rows; r++) memcpy(out + r * (size_t)COUT, bias, (size_t)COUT * sizeof(float));
    } else {
        memset(out, 0, rows * (size_t)COUT * sizeof(float));
    }
    if (CIN == 0) return CK_OK;
    CK_REQUIRE(inp != NULL && weight != NULL, "conv1d_fwd: inp or weight is NULL");
    int KC = K * CIN;
    const float *wr = weight;
    if (K > 1) {
        float *w = ck_cpu_workspace(0, (size_t)COUT * (size_t)KC);
        if (w == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "conv1d_fwd: no memory for the repacked weight");
        repack_weight(w, weight, CIN, COUT, K);
        wr = w;
    }
    int chunk = sequences_per_chunk(B, L, CIN, K);
    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        const float *x = inp + (size_t)b0 * (size_t)L * (size_t)CIN;
        const float *cols = x;
        if (K > 1) {
            float *c = ck_cpu_workspace(1, (size_t)nb * (size_t)L * (size_t)KC);
            if (c == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "conv1d_fwd: no memory for the column matrix");
            im2col(c, x, nb, L, CIN, K);
            cols = c;
        }
        ck_cpu_sgemm(0, 1, nb * L, COUT, KC, 1.0f, cols, KC, wr, KC, 1.0f,
                     out + (size_t)b0 * (size_t)L * (size_t)COUT, COUT);
    }
    return CK_OK;
}

ck_status ck_cpu_conv1d_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int B, int L, int CIN, int COUT, int K) {
    (void)b;
    ck_status st = check_conv("conv1d_bwd", B, L, CIN, COUT, K);
    if (st != CK_OK) return st;
    if (B == 0 || L == 0 || COUT == 0) return CK_OK;
    CK_REQUIRE(dout != NULL, "conv1d_bwd: dout is NULL");
    if (dbias != NULL) ck_cpu_column_sums_add(dbias, dout, B * L, COUT, COUT);
    if (CIN == 0 || (dinp == NULL && dweight == NULL)) return CK_OK;
    CK_REQUIRE(dinp == NULL || weight != NULL, "conv1d_bwd: weight is NULL");
    CK_REQUIRE(dweight == NULL || inp != NULL, "conv1d_bwd: inp is NULL");
    int KC = K * CIN;

    const float *wr = weight;
    if (dinp != NULL && K > 1) {
        float *w = ck_cpu_workspace(0, (size_t)COUT * (size_t)KC);
        if (w == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "conv1d_bwd: no memory for the repacked weight");
        repack_weight(w, weight, CIN, COUT, K);
        wr = w;
    }
    /* Weight gradient in the repacked layout (COUT, K, CIN), added to dweight (COUT, CIN, K) at the end. */
    float *dwr = NULL;
    if (dweight != NULL) {
        if (K > 1) {
            dwr = ck_cpu_workspace(3, (size_t)COUT * (size_t)KC);
            if (dwr == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "conv1d_bwd: no memory for the weight gradient");
            memset(dwr, 0, (size_t)COUT * (size_t)KC * sizeof(float));
        } else {
            dwr = dweight; /* K = 1: both layouts are (COUT, CIN) */
        }
    }
    int chunk = sequences_per_chunk(B, L, CIN, K);
    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        int rows = nb * L;
        const float *g = dout + (size_t)b0 * (size_t)L * (size_t)COUT;
        if (dweight != NULL) {
            const float *x = inp + (size_t)b0 * (size_t)L * (size_t)CIN;
            const float *cols = x;
            if (K > 1) {
                float *c = ck_cpu_workspace(1, (size_t)rows * (size_t)KC);
                if (c == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "conv1d_bwd: no memory for the column matrix");
                im2col(c, x, nb, L, CIN, K);
                cols = c;
            }
            /* dwr (COUT, KC) += g^T (COUT, rows) @ cols (rows, KC) */
            ck_cpu_sgemm(1, 0, COUT, KC, rows, 1.0f, g, COUT, cols, KC, 1.0f, dwr, KC);
        }
        if (dinp != NULL) {
            float *dx = dinp + (size_t)b0 * (size_t)L * (size_t)CIN;
            if (K == 1) {
                ck_cpu_sgemm(0, 0, rows, CIN, COUT, 1.0f, g, COUT, wr, CIN, 1.0f, dx, CIN);
            } else {
                float *dcols = ck_cpu_workspace(2, (size_t)rows * (size_t)KC);
                if (dcols == NULL)
                    return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "conv1d_bwd: no memory for the column gradient");
                /* dcols (rows, KC) = g (rows, COUT) @ wr (COUT, KC) */
                ck_cpu_sgemm(0, 0, rows, KC, COUT, 1.0f, g, COUT, wr, KC, 0.0f, dcols, KC);
                col2im_add(dx, dcols, nb, L, CIN, K);
            }
        }
    }
    if (dweight != NULL && K > 1) { /* dweight (COUT, CIN, K) += dwr (COUT, K, CIN) */
        repack_job j = {dweight, dwr, CIN, K};
        ck_cpu_parallel_items(COUT, KC, unpack_add_range, &j);
    }
    return CK_OK;
}
