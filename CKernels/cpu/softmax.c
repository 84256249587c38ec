/*
 * softmax.c — softmax over the last dimension, numerically stable (the row maximum is subtracted first).
 * A row whose entries are all -inf (a fully masked attention row) gives zeros instead of NaN.
 *
 *     cpu->softmax_fwd(cpu, probs, logits, N, C);
 *     cpu->softmax_bwd(cpu, dlogits, dprobs, probs, N, C);   // dlogits += probs * (dprobs - <dprobs, probs>)
 */
#include "cpu_internal.h"

#include <math.h>
#include <string.h>

void ck_cpu_softmax_rows(float *x, int rows, int C, int ld) {
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * (size_t)ld;
        float mx = -INFINITY;
        for (int j = 0; j < C; j++) mx = row[j] > mx ? row[j] : mx;
        if (mx == -INFINITY) {
            memset(row, 0, (size_t)C * sizeof(float));
            continue;
        }
        double sum = 0.0;
        for (int j = 0; j < C; j++) {
            float e = expf(row[j] - mx);
            row[j] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < C; j++) row[j] *= inv;
    }
}

ck_status ck_cpu_softmax_fwd(ck_backend *b, float *out, const float *inp, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "softmax_fwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0) return CK_OK;
    CK_REQUIRE(out != NULL && inp != NULL, "softmax_fwd: out or inp is NULL");
    if (out != inp) memcpy(out, inp, (size_t)N * (size_t)C * sizeof(float));
    ck_cpu_softmax_rows(out, N, C, C);
    return CK_OK;
}

ck_status ck_cpu_softmax_bwd(ck_backend *b, float *dinp, const float *dout, const float *out, int N, int C) {
    (void)b;
    CK_REQUIRE(N >= 0 && C >= 0, "softmax_bwd: sizes must be >= 0 (N=%d C=%d)", N, C);
    if (N == 0 || C == 0 || dinp == NULL) return CK_OK;
    CK_REQUIRE(dout != NULL && out != NULL, "softmax_bwd: dout or out is NULL");
    for (int r = 0; r < N; r++) {
        const float *y = out + (size_t)r * (size_t)C, *dy = dout + (size_t)r * (size_t)C;
        float *dx = dinp + (size_t)r * (size_t)C;
        double dot = 0.0;
        for (int j = 0; j < C; j++) dot += (double)dy[j] * (double)y[j];
        float d = (float)dot;
        for (int j = 0; j < C; j++) dx[j] += y[j] * (dy[j] - d);
    }
    return CK_OK;
}
