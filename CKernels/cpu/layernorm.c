/*
 * layernorm.c — layer normalisation over the last dimension (PyTorch F.layer_norm / nn.LayerNorm).
 * Row statistics are accumulated in double (two passes, 8 lanes), stored as float mean and rstd = 1/sqrt(var + eps)
 * with the biased variance, as PyTorch.  weight and bias may be NULL (ones and zeros).
 *
 *     cpu->layernorm_fwd(cpu, out, mean, rstd, x, gamma, beta, N, C, 1e-5f);
 *     cpu->layernorm_bwd(cpu, dx, dgamma, dbeta, dout, x, gamma, mean, rstd, N, C);   // accumulates
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <math.h>
#include <string.h>

/* Rows are independent and each is normalised by one thread, so the split does not change any result. */
typedef struct layernorm_job {
    float *out, *mean, *rstd;
    const float *inp, *weight, *bias;
    int C;
    float eps;
} layernorm_job;

/* Row reductions run in 8 double lanes summed in a fixed order: vectorised, and the same for any thread count
 * or vector width. */
enum { LN_LANES = 8 };
static inline double ln_lane_sum(const double l[LN_LANES]) {
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

CK_VECTOR_CLONES
static void layernorm_row(float *restrict y, float *restrict mean_out, float *restrict rstd_out,
                          const float *restrict x, const float *restrict weight, const float *restrict bias, int C,
                          float eps) {
    double lane[LN_LANES] = {0};
    int j = 0;
    for (; j + LN_LANES <= C; j += LN_LANES)
        for (int l = 0; l < LN_LANES; l++) lane[l] += x[j + l];
    double s = ln_lane_sum(lane);
    for (int t = j; t < C; t++) s += x[t];
    double mu = s / C;
    for (int l = 0; l < LN_LANES; l++) lane[l] = 0.0;
    for (j = 0; j + LN_LANES <= C; j += LN_LANES)
        for (int l = 0; l < LN_LANES; l++) {
            double d = x[j + l] - mu;
            lane[l] += d * d;
        }
    double ss = ln_lane_sum(lane);
    for (int t = j; t < C; t++) {
        double d = x[t] - mu;
        ss += d * d;
    }
    float m = (float)mu;
    float rs = (float)(1.0 / sqrt(ss / C + (double)eps));
    if (weight != NULL && bias != NULL) {
        for (int t = 0; t < C; t++) y[t] = (x[t] - m) * rs * weight[t] + bias[t];
    } else {
        for (int t = 0; t < C; t++) y[t] = (x[t] - m) * rs * (weight ? weight[t] : 1.0f) + (bias ? bias[t] : 0.0f);
    }
    if (mean_out != NULL) *mean_out = m;
    if (rstd_out != NULL) *rstd_out = rs;
}

static void layernorm_fwd_rows(void *ctx, int begin, int end) {
    const layernorm_job *task = ctx;
    const int C = task->C;
    for (int r = begin; r < end; r++) {
        layernorm_row(task->out + (size_t)r * (size_t)C, task->mean ? task->mean + r : NULL,
                      task->rstd ? task->rstd + r : NULL, task->inp + (size_t)r * (size_t)C, task->weight, task->bias,
                      C, task->eps);
    }
}

ck_status ck_cpu_layernorm_fwd(ck_backend *b, float *out, float *mean, float *rstd, const float *inp,
                               const float *weight, const float *bias, int N, int C, float eps) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 1, "layernorm_fwd: need N >= 0 and C >= 1 (N=%d C=%d)", N, C);
    CK_REQUIRE(eps >= 0.0f, "layernorm_fwd: eps must be >= 0 (got %g)", (double)eps);
    if (N == 0) return CK_OK;
    CK_REQUIRE(out != NULL && inp != NULL, "layernorm_fwd: out or inp is NULL");
    layernorm_job job = {out, mean, rstd, inp, weight, bias, C, eps};
    ck_cpu_parallel_rows(N, C, layernorm_fwd_rows, &job);
    return CK_OK;
}

typedef struct layernorm_bwd_job {
    float *dinp, *dweight, *dbias;
    const float *dout, *inp, *weight, *mean, *rstd;
    int N, C;
} layernorm_bwd_job;

/* dinp of one row: dx += rstd * (dn - mean(dn) - n * mean(dn * n)) with n the normalised input, dn = dy * w. */
CK_VECTOR_CLONES
static void layernorm_row_backward(float *restrict dx, const float *restrict x, const float *restrict dy,
                                   const float *restrict weight, float m, float rs, int C) {
    double l1[LN_LANES] = {0}, l2[LN_LANES] = {0};
    int j = 0;
    for (; j + LN_LANES <= C; j += LN_LANES)
        for (int l = 0; l < LN_LANES; l++) {
            float n = (x[j + l] - m) * rs;
            float dn = dy[j + l] * (weight ? weight[j + l] : 1.0f);
            l1[l] += dn;
            l2[l] += (double)dn * (double)n;
        }
    double s1 = ln_lane_sum(l1), s2 = ln_lane_sum(l2);
    for (int t = j; t < C; t++) {
        float n = (x[t] - m) * rs;
        float dn = dy[t] * (weight ? weight[t] : 1.0f);
        s1 += dn;
        s2 += (double)dn * (double)n;
    }
    float mean_dn = (float)(s1 / C), mean_dnn = (float)(s2 / C);
    for (int t = 0; t < C; t++) {
        float n = (x[t] - m) * rs;
        float dn = dy[t] * (weight ? weight[t] : 1.0f);
        dx[t] += rs * (dn - mean_dn - n * mean_dnn);
    }
}

/* dinp rows [begin, end) (rows are independent). */
static void layernorm_bwd_rows(void *ctx, int begin, int end) {
    const layernorm_bwd_job *j = ctx;
    const int C = j->C;
    for (int r = begin; r < end; r++) {
        layernorm_row_backward(j->dinp + (size_t)r * (size_t)C, j->inp + (size_t)r * (size_t)C,
                               j->dout + (size_t)r * (size_t)C, j->weight, j->mean[r], j->rstd[r], C);
    }
}

/* Parameter gradients of column blocks [begin, end): each column summed over all rows in order, in double. */
enum { LN_COLUMN_BLOCK = 64 };
CK_VECTOR_CLONES
static void layernorm_param_rows(double *restrict acc_w, double *restrict acc_b, const float *restrict x,
                                 const float *restrict dy, float m, float rs, int width) {
    for (int k = 0; k < width; k++) {
        acc_w[k] += (double)dy[k] * (double)((x[k] - m) * rs);
        acc_b[k] += dy[k];
    }
}

static void layernorm_param_blocks(void *ctx, int begin, int end) {
    const layernorm_bwd_job *j = ctx;
    const int C = j->C;
    double acc_w[LN_COLUMN_BLOCK], acc_b[LN_COLUMN_BLOCK];
    for (int blk = begin; blk < end; blk++) {
        int c0 = blk * LN_COLUMN_BLOCK, width = C - c0 < LN_COLUMN_BLOCK ? C - c0 : LN_COLUMN_BLOCK;
        for (int k = 0; k < width; k++) acc_w[k] = acc_b[k] = 0.0;
        for (int r = 0; r < j->N; r++) {
            const float *x = j->inp + (size_t)r * (size_t)C + c0, *dy = j->dout + (size_t)r * (size_t)C + c0;
            layernorm_param_rows(acc_w, acc_b, x, dy, j->mean[r], j->rstd[r], width);
        }
        if (j->dweight != NULL)
            for (int k = 0; k < width; k++) j->dweight[c0 + k] += (float)acc_w[k];
        if (j->dbias != NULL)
            for (int k = 0; k < width; k++) j->dbias[c0 + k] += (float)acc_b[k];
    }
}

ck_status ck_cpu_layernorm_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean, const float *rstd, int N,
                               int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 1, "layernorm_bwd: need N >= 0 and C >= 1 (N=%d C=%d)", N, C);
    if (N == 0) return CK_OK;
    CK_REQUIRE(dout != NULL && inp != NULL && mean != NULL && rstd != NULL,
               "layernorm_bwd: dout, inp, mean or rstd is NULL");
    layernorm_bwd_job job = {dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C};
    if (dinp != NULL) ck_cpu_parallel_rows(N, C, layernorm_bwd_rows, &job);
    if (dweight != NULL || dbias != NULL) {
        ck_cpu_parallel_items((C + LN_COLUMN_BLOCK - 1) / LN_COLUMN_BLOCK, (long long)N * LN_COLUMN_BLOCK,
                              layernorm_param_blocks, &job);
    }
    return CK_OK;
}
