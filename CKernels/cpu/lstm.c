/*
 * lstm.c — one LSTM layer, one direction, over a whole sequence (PyTorch nn.LSTM equations, gates i, f, g, o):
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(...)   g = tanh(...)   o = σ(...)
 *   c_t = f ⊙ c_{t-1} + i ⊙ g              h_t = o ⊙ tanh(c_t)
 *
 * Forward: one sgemm projects every step's input at once (B*L, IN) @ w_ih^T into the cache; then, per step,
 * one sgemm adds h_{t-1} @ w_hh^T and a fused loop applies the gates. Backward keeps every step's gate gradients
 * (scratch) so that dinp, dw_ih, dw_hh and the biases are each one sgemm / sum over all steps.
 *
 * Cache layout (private to this backend; CK_LSTM_CACHE_FLOATS): (B, L, 5H), row (b, t) = activated gates
 * [i | f | g | o] (4H) followed by the cell state c_t (H).
 *
 *     cpu->lstm_fwd(cpu, h_out, NULL, cache, x, w_ih, w_hh, b_ih, b_hh, NULL, NULL, B, L, IN, H, 0);
 */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <string.h>

/* One sequence's step: row = pre-activations [i|f|g|o] (4H) -> activated gates, then c (H) and h (H). */
CK_VECTOR_CLONES
static void lstm_cell_forward(float *restrict row, const float *restrict cprev, float *restrict h, int H) {
    float *restrict gi = row, *restrict gf = row + H, *restrict gg = row + 2 * H, *restrict go = row + 3 * H;
    float *restrict c = row + 4 * H;
    for (int j = 0; j < H; j++) {
        float i = ck_sigmoidf(gi[j]), f = ck_sigmoidf(gf[j]), g = ck_tanhf(gg[j]), o = ck_sigmoidf(go[j]);
        float cn = f * cprev[j] + i * g;
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        c[j] = cn;
        h[j] = o * ck_tanhf(cn);
    }
}

/* One sequence's step backward: gate gradients dg (4H) from dh (this step's output gradient + the carry dhn)
 * and the cell carry dcn, which is replaced by the carry to the previous step. */
CK_VECTOR_CLONES
static void lstm_cell_backward(const float *restrict row, const float *restrict cprev, const float *restrict dh_step,
                               const float *restrict dhn, float *restrict dcn, float *restrict dg, int H) {
    const float *restrict gi = row, *restrict gf = row + H, *restrict gg = row + 2 * H, *restrict go = row + 3 * H;
    const float *restrict c = row + 4 * H;
    for (int j = 0; j < H; j++) {
        float i = gi[j], f = gf[j], g = gg[j], o = go[j];
        float tc = ck_tanhf(c[j]);
        float dh = dh_step[j] + dhn[j];
        float dc = dcn[j] + dh * o * (1.0f - tc * tc);
        dg[j] = dc * g * i * (1.0f - i);
        dg[H + j] = dc * cprev[j] * f * (1.0f - f);
        dg[2 * H + j] = dc * i * (1.0f - g * g);
        dg[3 * H + j] = dh * tc * o * (1.0f - o);
        dcn[j] = dc * f;
    }
}

/* H zeros: the initial cell state when c0 is NULL (per-thread workspace slot 1). */
static const float *zeros(int H) {
    float *z = ck_cpu_workspace(1, (size_t)H);
    if (z != NULL) memset(z, 0, (size_t)H * sizeof(float));
    return z;
}

static ck_status check_lstm(const char *op, int B, int L, int IN, int H, int reverse) {
    CK_REQUIRE(B >= 0 && L >= 0 && IN >= 0 && H >= 0, "%s: sizes must be >= 0 (B=%d L=%d IN=%d H=%d)", op, B, L, IN,
               H);
    CK_REQUIRE(reverse == 0 || reverse == 1, "%s: reverse must be 0 or 1 (got %d)", op, reverse);
    return CK_OK;
}

ck_status ck_cpu_lstm_fwd(ck_backend *b, float *h_out, float *c_final, float *cache, const float *inp,
                          const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, const float *h0,
                          const float *c0, int B, int L, int IN, int H, int reverse) {
    (void)b;
    ck_status st = check_lstm("lstm_fwd", B, L, IN, H, reverse);
    if (st != CK_OK) return st;
    if (B == 0 || H == 0) return CK_OK;
    if (L == 0) {
        /* An empty sequence leaves the state unchanged. */
        if (c_final != NULL) {
            if (c0 != NULL) memcpy(c_final, c0, (size_t)B * (size_t)H * sizeof(float));
            else memset(c_final, 0, (size_t)B * (size_t)H * sizeof(float));
        }
        return CK_OK;
    }
    CK_REQUIRE(h_out != NULL && cache != NULL && w_hh != NULL, "lstm_fwd: h_out, cache or w_hh is NULL");
    CK_REQUIRE(IN == 0 || (inp != NULL && w_ih != NULL), "lstm_fwd: inp or w_ih is NULL");
    const size_t G = 4u * (size_t)H, ROW = 5u * (size_t)H;
    const size_t rows = (size_t)B * (size_t)L;
    const float *zero = zeros(H);
    if (zero == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_fwd: no memory for the zero state");

    /* Pre-activations of all steps: bias sum, then + inp @ w_ih^T (written straight into the cache). */
    for (size_t r = 0; r < rows; r++) {
        float *pre = cache + r * ROW;
        for (size_t j = 0; j < G; j++) pre[j] = (b_ih ? b_ih[j] : 0.0f) + (b_hh ? b_hh[j] : 0.0f);
    }
    ck_cpu_sgemm(0, 1, (int)rows, (int)G, IN, 1.0f, inp, IN > 0 ? IN : 1, w_ih, IN > 0 ? IN : 1, 1.0f, cache,
                 (int)ROW);

    for (int s = 0; s < L; s++) {
        int t = reverse ? L - 1 - s : s;
        int tp = reverse ? t + 1 : t - 1; /* the previous step in processing order */
        float *pre_t = cache + (size_t)t * ROW;
        /* + h_{prev} @ w_hh^T for all sequences at once (rows of stride L*5H in the cache). */
        if (s > 0) {
            ck_cpu_sgemm(0, 1, B, (int)G, H, 1.0f, h_out + (size_t)tp * (size_t)H, L * H, w_hh, H, 1.0f, pre_t,
                         (int)((size_t)L * ROW));
        } else if (h0 != NULL) {
            ck_cpu_sgemm(0, 1, B, (int)G, H, 1.0f, h0, H, w_hh, H, 1.0f, pre_t, (int)((size_t)L * ROW));
        }
        for (int bi = 0; bi < B; bi++) {
            float *row = cache + ((size_t)bi * (size_t)L + (size_t)t) * ROW;
            const float *cprev = zero;
            if (s > 0) cprev = cache + ((size_t)bi * (size_t)L + (size_t)tp) * ROW + 4 * H;
            else if (c0 != NULL) cprev = c0 + (size_t)bi * (size_t)H;
            lstm_cell_forward(row, cprev, h_out + ((size_t)bi * (size_t)L + (size_t)t) * (size_t)H, H);
        }
    }
    if (c_final != NULL) {
        int tlast = reverse ? 0 : L - 1;
        for (int bi = 0; bi < B; bi++)
            memcpy(c_final + (size_t)bi * (size_t)H, cache + ((size_t)bi * (size_t)L + (size_t)tlast) * ROW + 4 * H,
                   (size_t)H * sizeof(float));
    }
    return CK_OK;
}

ck_status ck_cpu_lstm_bwd(ck_backend *b, float *dinp, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                          float *dh0, float *dc0, float *scratch, const float *dh_out, const float *dc_final,
                          const float *inp, const float *w_ih, const float *w_hh, const float *h0, const float *c0,
                          const float *cache, const float *h_out, int B, int L, int IN, int H, int reverse) {
    (void)b;
    ck_status st = check_lstm("lstm_bwd", B, L, IN, H, reverse);
    if (st != CK_OK) return st;
    if (B == 0 || H == 0) return CK_OK;
    const size_t BH = (size_t)B * (size_t)H;
    if (L == 0) {
        /* h_out is empty; the final cell is c0, so its gradient flows straight through. */
        if (dc0 != NULL && dc_final != NULL)
            for (size_t j = 0; j < BH; j++) dc0[j] += dc_final[j];
        return CK_OK;
    }
    CK_REQUIRE(scratch != NULL && cache != NULL && h_out != NULL && w_hh != NULL,
               "lstm_bwd: scratch, cache, h_out or w_hh is NULL");
    CK_REQUIRE(dh_out != NULL, "lstm_bwd: dh_out is NULL");
    CK_REQUIRE(IN == 0 || dinp == NULL || w_ih != NULL, "lstm_bwd: w_ih is NULL");
    CK_REQUIRE(IN == 0 || dw_ih == NULL || inp != NULL, "lstm_bwd: inp is NULL");
    const size_t G = 4u * (size_t)H, ROW = 5u * (size_t)H;
    const size_t rows = (size_t)B * (size_t)L;
    float *dgates = scratch;          /* (B, L, 4H) pre-activation gradients */
    float *dh_next = scratch + rows * G; /* (B, H) gradient reaching h of the current step from the next one */
    float *dc_next = dh_next + BH;    /* (B, H) gradient reaching c of the current step from the next one */
    const float *zero = zeros(H);
    if (zero == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_bwd: no memory for the zero state");
    memset(dh_next, 0, BH * sizeof(float));
    if (dc_final != NULL) memcpy(dc_next, dc_final, BH * sizeof(float));
    else memset(dc_next, 0, BH * sizeof(float));

    for (int s = L - 1; s >= 0; s--) {
        int t = reverse ? L - 1 - s : s;
        int tp = reverse ? t + 1 : t - 1;
        for (int bi = 0; bi < B; bi++) {
            size_t r = (size_t)bi * (size_t)L + (size_t)t;
            const float *cprev = zero;
            if (s > 0) cprev = cache + ((size_t)bi * (size_t)L + (size_t)tp) * ROW + 4 * H;
            else if (c0 != NULL) cprev = c0 + (size_t)bi * (size_t)H;
            lstm_cell_backward(cache + r * ROW, cprev, dh_out + r * (size_t)H, dh_next + (size_t)bi * (size_t)H,
                               dc_next + (size_t)bi * (size_t)H, dgates + r * G, H);
        }
        /* dh reaching the previous step: dgates_t (B, 4H) @ w_hh (4H, H). */
        if (s > 0 || dh0 != NULL) {
            ck_cpu_sgemm(0, 0, B, H, (int)G, 1.0f, dgates + (size_t)t * G, (int)((size_t)L * G), w_hh, H, 0.0f,
                         dh_next, H);
        }
    }
    if (dh0 != NULL)
        for (size_t j = 0; j < BH; j++) dh0[j] += dh_next[j];
    if (dc0 != NULL)
        for (size_t j = 0; j < BH; j++) dc0[j] += dc_next[j];

    if (IN > 0 && dinp != NULL) /* dinp (B*L, IN) += dgates (B*L, 4H) @ w_ih (4H, IN) */
        ck_cpu_sgemm(0, 0, (int)rows, IN, (int)G, 1.0f, dgates, (int)G, w_ih, IN, 1.0f, dinp, IN);
    if (IN > 0 && dw_ih != NULL) /* dw_ih (4H, IN) += dgates^T @ inp */
        ck_cpu_sgemm(1, 0, (int)G, IN, (int)rows, 1.0f, dgates, (int)G, inp, IN, 1.0f, dw_ih, IN);
    if (dw_hh != NULL) {
        /* dw_hh (4H, H) += dgates^T @ h_prev, with h_prev (B*L, H) the state each step started from. */
        float *hprev = ck_cpu_workspace(0, rows * (size_t)H);
        if (hprev == NULL) return ck_cpu_fail(CK_ERR_OUT_OF_MEMORY, "lstm_bwd: no memory for the previous states");
        for (int bi = 0; bi < B; bi++) {
            for (int t = 0; t < L; t++) {
                int tp = reverse ? t + 1 : t - 1;
                float *dst = hprev + ((size_t)bi * (size_t)L + (size_t)t) * (size_t)H;
                if (tp >= 0 && tp < L) memcpy(dst, h_out + ((size_t)bi * (size_t)L + (size_t)tp) * (size_t)H,
                                              (size_t)H * sizeof(float));
                else if (h0 != NULL) memcpy(dst, h0 + (size_t)bi * (size_t)H, (size_t)H * sizeof(float));
                else memset(dst, 0, (size_t)H * sizeof(float));
            }
        }
        ck_cpu_sgemm(1, 0, (int)G, H, (int)rows, 1.0f, dgates, (int)G, hprev, H, 1.0f, dw_hh, H);
    }
    if (db_ih != NULL) ck_cpu_column_sums_add(db_ih, dgates, (int)rows, (int)G, (int)G);
    if (db_hh != NULL) ck_cpu_column_sums_add(db_hh, dgates, (int)rows, (int)G, (int)G);
    return CK_OK;
}
