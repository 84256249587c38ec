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

ck_status ck_cpu_layernorm_bwd(ck_backend *b, float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean, const float *rstd, int N,
                               int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 1, "layernorm_bwd: need N >= 0 and C >= 1 (N=%d C=%d)", N, C);
    if (N == 0) return CK_OK;
    CK_REQUIRE(dout != NULL && inp != NULL && mean != NULL && rstd != NULL,
               "layernorm_bwd: dout, inp, mean or rstd is NULL");
    /* Parameter gradients summed over rows in double. */
    double *acc = NULL;
    if (dweight != NULL || dbias != NULL) {
        acc = (double *)ck_cpu_workspace(0, 4u * (size_t)C);
        if (acc == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "layernorm_bwd: no memory for the accumulators");
        memset(acc, 0, 2u * (size_t)C * sizeof(double));
    }
    for (int r = 0; r < N; r++) {
        const float *x = inp + (size_t)r * (size_t)C, *dy = dout + (size_t)r * (size_t)C;
        float m = mean[r], rs = rstd[r];
        if (acc != NULL) {
            for (int j = 0; j < C; j++) {
                acc[j] += (double)dy[j] * (double)((x[j] - m) * rs);
                acc[C + j] += dy[j];
            }
        }
        if (dinp == NULL) continue;
        double s1 = 0.0, s2 = 0.0;
        for (int j = 0; j < C; j++) {
            float n = (x[j] - m) * rs;
            float dn = dy[j] * (weight ? weight[j] : 1.0f);
            s1 += dn;
            s2 += (double)dn * (double)n;
        }
        float mean_dn = (float)(s1 / C), mean_dnn = (float)(s2 / C);
        float *dx = dinp + (size_t)r * (size_t)C;
        for (int j = 0; j < C; j++) {
            float n = (x[j] - m) * rs;
            float dn = dy[j] * (weight ? weight[j] : 1.0f);
            dx[j] += rs * (dn - mean_dn - n * mean_dnn);
        }
    }
    if (acc != NULL) {
        if (dweight != NULL)
            for (int j = 0; j < C; j++) dweight[j] += (float)acc[j];
        if (dbias != NULL)
            for (int j = 0; j < C; j++) dbias[j] += (float)acc[C + j];
    }
    return CK_OK;
}
