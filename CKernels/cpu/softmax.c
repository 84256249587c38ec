/*
 * softmax.c — softmax over the last dimension, numerically stable (the row maximum is subtracted first).
 * A row whose entries are all -inf (a fully masked attention row) gives zeros instead of NaN.
 *
 *     cpu->softmax_fwd(cpu, probs, logits, N, C);
 *     cpu->softmax_bwd(cpu, dlogits, dprobs, probs, N, C);   // dlogits += probs * (dprobs - <dprobs, probs>)
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <math.h>
#include <string.h>

/* One row, in place. Max and sum run in CK_LANES independent lanes (a fixed order, so results do not depend on
 * the vector width or thread count) which the compiler maps onto vector registers. */
CK_VECTOR_CLONES
static void softmax_row(float *restrict row, int C) {
    float lane[CK_LANES];
    for (int l = 0; l < CK_LANES; l++) lane[l] = -INFINITY;
    int j = 0;
    for (; j + CK_LANES <= C; j += CK_LANES)
        for (int l = 0; l < CK_LANES; l++) lane[l] = row[j + l] > lane[l] ? row[j + l] : lane[l];
    float mx = -INFINITY;
    for (int l = 0; l < CK_LANES; l++) mx = lane[l] > mx ? lane[l] : mx;
    for (int t = j; t < C; t++) mx = row[t] > mx ? row[t] : mx;
    if (mx == -INFINITY) { /* fully masked row */
        for (int t = 0; t < C; t++) row[t] = 0.0f;
        return;
    }
    for (int l = 0; l < CK_LANES; l++) lane[l] = 0.0f;
    for (j = 0; j + CK_LANES <= C; j += CK_LANES)
        for (int l = 0; l < CK_LANES; l++) {
            float e = ck_expf(row[j + l] - mx);
            row[j + l] = e;
            lane[l] += e;
        }
    float sum = 0.0f;
    for (int t = j; t < C; t++) {
        float e = ck_expf(row[t] - mx);
        row[t] = e;
        sum += e;
    }
    sum += ck_lane_sum(lane);
    float inv = 1.0f / sum;
    for (int t = 0; t < C; t++) row[t] *= inv;
}

typedef struct softmax_job {
    float *x;
    const float *dout, *out;
    int C, ld;
} softmax_job;

static void softmax_fwd_rows(void *ctx, int begin, int end) {
    const softmax_job *j = ctx;
    for (int r = begin; r < end; r++) softmax_row(j->x + (size_t)r * (size_t)j->ld, j->C);
}

void ck_cpu_softmax_rows(float *x, int rows, int C, int ld) {
    softmax_job job = {x, NULL, NULL, C, ld};
    ck_cpu_parallel_rows(rows, C, softmax_fwd_rows, &job);
}

static void softmax_bwd_rows(void *ctx, int begin, int end) {
    const softmax_job *j = ctx;
    const int C = j->C;
    for (int r = begin; r < end; r++) {
        const float *y = j->out + (size_t)r * (size_t)C, *dy = j->dout + (size_t)r * (size_t)C;
        float *dx = j->x + (size_t)r * (size_t)C;
        double dot = 0.0;
        for (int k = 0; k < C; k++) dot += (double)dy[k] * (double)y[k];
        float d = (float)dot;
        for (int k = 0; k < C; k++) dx[k] += y[k] * (dy[k] - d);
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
    softmax_job job = {dinp, dout, out, C, C};
    ck_cpu_parallel_rows(N, C, softmax_bwd_rows, &job);
    return CK_OK;
}
