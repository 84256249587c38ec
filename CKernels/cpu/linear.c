/*
 * linear.c — fully connected layer (PyTorch nn.Linear layout) and the broadcast bias add.
 *
 *     // out (N, OUT) = inp (N, IN) @ weight^T + bias
 *     cpu->linear_fwd(cpu, out, inp, weight, bias, N, IN, OUT);
 *     cpu->linear_bwd(cpu, dinp, dweight, dbias, dout, inp, weight, N, IN, OUT);   // accumulates
 */
#include "cpu_internal.h"

#include <stdlib.h>
#include <string.h>

void ck_cpu_column_sums_add(float *acc, const float *x, int N, int C, int ldx) {
    /* Blocks of columns summed in double, so long batches do not lose low bits. */
    enum { BLOCK = 256 };
    double sums[BLOCK];
    for (int c0 = 0; c0 < C; c0 += BLOCK) {
        int width = C - c0 < BLOCK ? C - c0 : BLOCK;
        for (int j = 0; j < width; j++) sums[j] = 0.0;
        for (int i = 0; i < N; i++) {
            const float *row = x + (size_t)i * (size_t)ldx + c0;
            for (int j = 0; j < width; j++) sums[j] += (double)row[j];
        }
        for (int j = 0; j < width; j++) acc[c0 + j] += (float)sums[j];
    }
}

ck_status ck_cpu_bias_add_fwd(ck_backend *b, float *x, const float *bias, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "bias_add_fwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(x != NULL && bias != NULL, "bias_add_fwd: x or bias is NULL");
    for (int i = 0; i < N; i++) {
        float *row = x + (size_t)i * (size_t)C;
        for (int j = 0; j < C; j++) row[j] += bias[j];
    }
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
        for (int i = 0; i < N; i++) memcpy(out + (size_t)i * (size_t)OUT, bias, (size_t)OUT * sizeof(float));
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
