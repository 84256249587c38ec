/*
 * pooling.c — pooling over time of a sequence (B, L, C) to (B, C): the mean over steps, or one selected step
 * (last-step pooling is t = L-1).
 *
 *     cpu->mean_pool_fwd(cpu, pooled, seq, B, L, C);
 *     cpu->step_pool_fwd(cpu, last, seq, B, L, C, L - 1);
 */
#include "cpu_internal.h"

#include <string.h>

ck_status ck_cpu_mean_pool_fwd(ck_backend *b, float *out, const float *inp, int B, int L, int C) {
    (void)b;
    CK_REQUIRE(B >= 0 && L >= 1 && C >= 0, "mean_pool_fwd: need B, C >= 0 and L >= 1 (B=%d L=%d C=%d)", B, L, C);
    if (B == 0 || C == 0) return CK_OK;
    CK_REQUIRE(out != NULL && inp != NULL, "mean_pool_fwd: out or inp is NULL");
    for (int bi = 0; bi < B; bi++) {
        float *o = out + (size_t)bi * (size_t)C;
        memset(o, 0, (size_t)C * sizeof(float));
        ck_cpu_column_sums_add(o, inp + (size_t)bi * (size_t)L * (size_t)C, L, C, C);
        float inv = 1.0f / (float)L;
        for (int c = 0; c < C; c++) o[c] *= inv;
    }
    return CK_OK;
}

ck_status ck_cpu_mean_pool_bwd(ck_backend *b, float *dinp, const float *dout, int B, int L, int C) {
    (void)b;
    CK_REQUIRE(B >= 0 && L >= 1 && C >= 0, "mean_pool_bwd: need B, C >= 0 and L >= 1 (B=%d L=%d C=%d)", B, L, C);
    if (B == 0 || C == 0 || dinp == NULL) return CK_OK;
    CK_REQUIRE(dout != NULL, "mean_pool_bwd: dout is NULL");
    float inv = 1.0f / (float)L;
    for (int bi = 0; bi < B; bi++) {
        const float *g = dout + (size_t)bi * (size_t)C;
        for (int t = 0; t < L; t++) {
            float *d = dinp + ((size_t)bi * (size_t)L + (size_t)t) * (size_t)C;
            for (int c = 0; c < C; c++) d[c] += g[c] * inv;
        }
    }
    return CK_OK;
}

ck_status ck_cpu_step_pool_fwd(ck_backend *b, float *out, const float *inp, int B, int L, int C, int t) {
    (void)b;
    CK_REQUIRE(B >= 0 && L >= 1 && C >= 0, "step_pool_fwd: need B, C >= 0 and L >= 1 (B=%d L=%d C=%d)", B, L, C);
    CK_REQUIRE(t >= 0 && t < L, "step_pool_fwd: step t=%d is outside 0..%d", t, L - 1);
    if (B == 0 || C == 0) return CK_OK;
    CK_REQUIRE(out != NULL && inp != NULL, "step_pool_fwd: out or inp is NULL");
    for (int bi = 0; bi < B; bi++)
        memcpy(out + (size_t)bi * (size_t)C, inp + ((size_t)bi * (size_t)L + (size_t)t) * (size_t)C,
               (size_t)C * sizeof(float));
    return CK_OK;
}

ck_status ck_cpu_step_pool_bwd(ck_backend *b, float *dinp, const float *dout, int B, int L, int C, int t) {
    (void)b;
    CK_REQUIRE(B >= 0 && L >= 1 && C >= 0, "step_pool_bwd: need B, C >= 0 and L >= 1 (B=%d L=%d C=%d)", B, L, C);
    CK_REQUIRE(t >= 0 && t < L, "step_pool_bwd: step t=%d is outside 0..%d", t, L - 1);
    if (B == 0 || C == 0 || dinp == NULL) return CK_OK;
    CK_REQUIRE(dout != NULL, "step_pool_bwd: dout is NULL");
    for (int bi = 0; bi < B; bi++) {
        float *d = dinp + ((size_t)bi * (size_t)L + (size_t)t) * (size_t)C;
        const float *g = dout + (size_t)bi * (size_t)C;
        for (int c = 0; c < C; c++) d[c] += g[c];
    }
    return CK_OK;
}
