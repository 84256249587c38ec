/*
 * layernorm.c — layer normalisation over the last dimension (PyTorch F.layer_norm / nn.LayerNorm).
 * Row statistics are accumulated in double (two passes), stored as float mean and rstd = 1/sqrt(var + eps)
 * with the biased variance, as PyTorch.  weight and bias may be NULL (ones and zeros).
 *
 *     cpu->layernorm_fwd(cpu, out, mean, rstd, x, gamma, beta, N, C, 1e-5f);
 *     cpu->layernorm_bwd(cpu, dx, dgamma, dbeta, dout, x, gamma, mean, rstd, N, C);   // accumulates
 */
#include "cpu_internal.h"

#include <math.h>
#include <string.h>

/* Rows are independent and each is normalised by one thread, so the split does not change any result. */
typedef struct layernorm_job {
    float *out, *mean, *rstd;
    const float *inp, *weight, *bias;
    int C;
    float eps;
} layernorm_job;

static void layernorm_fwd_rows(void *ctx, int begin, int end) {
    const layernorm_job *task = ctx;
    float *out = task->out, *mean = task->mean, *rstd = task->rstd;
    const float *inp = task->inp, *weight = task->weight, *bias = task->bias;
    const int C = task->C;
    const float eps = task->eps;
    for (int r = begin; r < end; r++) {
        const float *x = inp + (size_t)r * (size_t)C;
        float *y = out + (size_t)r * (size_t)C;
        double s = 0.0;
        for (int j = 0; j < C; j++) s += x[j];
        double mu = s / C;
        double ss = 0.0;
        for (int j = 0; j < C; j++) {
            double d = x[j] - mu;
            ss += d * d;
        }
        float m = (float)mu;
        float rs = (float)(1.0 / sqrt(ss / C + (double)eps));
        for (int j = 0; j < C; j++) {
            float n = (x[j] - m) * rs;
            y[j] = n * (weight ? weight[j] : 1.0f) + (bias ? bias[j] : 0.0f);
        }
        if (mean != NULL) mean[r] = m;
        if (rstd != NULL) rstd[r] = rs;
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
    /* At least ~32K elements per thread: below that a wake-up costs more than it saves. */
    int min_rows = (32768 + C - 1) / C;
    ck_cpu_parallel_for(N, min_rows, layernorm_fwd_rows, &job);
    return CK_OK;
}

typedef struct layernorm_bwd_job {
    float *dinp, *dweight, *dbias;
    const float *dout, *inp, *weight, *mean, *rstd;
    int N, C;
} layernorm_bwd_job;

/* dinp rows [begin, end) (rows are independent). */
static void layernorm_bwd_rows(void *ctx, int begin, int end) {
    const layernorm_bwd_job *j = ctx;
    const int C = j->C;
    const float *weight = j->weight;
    for (int r = begin; r < end; r++) {
        const float *x = j->inp + (size_t)r * (size_t)C, *dy = j->dout + (size_t)r * (size_t)C;
        float m = j->mean[r], rs = j->rstd[r];
        double s1 = 0.0, s2 = 0.0;
        for (int k = 0; k < C; k++) {
            float n = (x[k] - m) * rs;
            float dn = dy[k] * (weight ? weight[k] : 1.0f);
            s1 += dn;
            s2 += (double)dn * (double)n;
        }
        float mean_dn = (float)(s1 / C), mean_dnn = (float)(s2 / C);
        float *dx = j->dinp + (size_t)r * (size_t)C;
        for (int k = 0; k < C; k++) {
            float n = (x[k] - m) * rs;
            float dn = dy[k] * (weight ? weight[k] : 1.0f);
            dx[k] += rs * (dn - mean_dn - n * mean_dnn);
        }
    }
}

/* Parameter gradients of column blocks [begin, end): each column summed over all rows in order, in double. */
enum { LN_COLUMN_BLOCK = 64 };
static void layernorm_param_blocks(void *ctx, int begin, int end) {
    const layernorm_bwd_job *j = ctx;
    const int C = j->C;
    double acc_w[LN_COLUMN_BLOCK], acc_b[LN_COLUMN_BLOCK];
    for (int blk = begin; blk < end; blk++) {
        int c0 = blk * LN_COLUMN_BLOCK, width = C - c0 < LN_COLUMN_BLOCK ? C - c0 : LN_COLUMN_BLOCK;
        for (int k = 0; k < width; k++) acc_w[k] = acc_b[k] = 0.0;
        for (int r = 0; r < j->N; r++) {
            const float *x = j->inp + (size_t)r * (size_t)C + c0, *dy = j->dout + (size_t)r * (size_t)C + c0;
            float m = j->mean[r], rs = j->rstd[r];
            for (int k = 0; k < width; k++) {
                acc_w[k] += (double)dy[k] * (double)((x[k] - m) * rs);
                acc_b[k] += dy[k];
            }
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
        int blocks = (C + LN_COLUMN_BLOCK - 1) / LN_COLUMN_BLOCK;
        long long per_block = (long long)N * LN_COLUMN_BLOCK;
        int min_blocks = (int)((CK_SPLIT_ELEMENTS + per_block - 1) / per_block);
        ck_cpu_parallel_for(blocks, min_blocks < 1 ? 1 : min_blocks, layernorm_param_blocks, &job);
    }
    return CK_OK;
}
