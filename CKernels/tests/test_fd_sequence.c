/* test_fd_sequence.c — finite-difference gradient checks of the sequence ops: conv1d, LSTM, attention. */
#include "test_fd.h"

#include <math.h>
#include <string.h>

#define B_ fd_backend
#define IN(k) (c->in[k].x)
#define G(k) (c->in[k].g)

/* ---- conv1d: i = {B, L, CIN, COUT, K} --------------------------------------------------------------------- */
static void conv_f(fd_case *c) {
    B_->conv1d_fwd(B_, c->out, IN(0), IN(1), IN(2), c->i[0], c->i[1], c->i[2], c->i[3], c->i[4]);
}
static void conv_b(fd_case *c) {
    CHECK_OK(B_, B_->conv1d_bwd(B_, G(0), G(1), G(2), c->w, IN(0), IN(1), c->i[0], c->i[1], c->i[2], c->i[3],
                                c->i[4]));
}
static void fd_conv1d(int K) {
    int B = 2, L = 7, CIN = 3, COUT = 4;
    fd_case c = {.op = "conv1d", .forward = conv_f, .backward = conv_b, .i = {B, L, CIN, COUT, K}};
    fd_add_input(&c, "inp", (size_t)B * L * CIN, -1, 1);
    fd_add_input(&c, "weight", (size_t)COUT * CIN * K, -1, 1);
    fd_add_input(&c, "bias", COUT, -1, 1);
    c.n_out = (size_t)B * L * COUT;
    c.out = test_buffer(c.n_out);
    fd_run(&c);
}

/* ---- lstm: i = {B, L, IN, H, reverse, with_state}; out = [h_out (B, L, H) | c_final (B, H)] ------------- */
static void lstm_f(fd_case *c) {
    int B = c->i[0], L = c->i[1], IN = c->i[2], H = c->i[3];
    const float *h0 = c->i[5] ? IN(5) : NULL, *c0 = c->i[5] ? IN(6) : NULL;
    CHECK_OK(B_, B_->lstm_fwd(B_, c->out, c->out + (size_t)B * L * H, c->aux[0], IN(0), IN(1), IN(2), IN(3), IN(4),
                              h0, c0, B, L, IN, H, c->i[4]));
}
static void lstm_b(fd_case *c) {
    int B = c->i[0], L = c->i[1], IN = c->i[2], H = c->i[3];
    const float *h0 = c->i[5] ? IN(5) : NULL, *c0 = c->i[5] ? IN(6) : NULL;
    float *dh0 = c->i[5] ? G(5) : NULL, *dc0 = c->i[5] ? G(6) : NULL;
    CHECK_OK(B_, B_->lstm_bwd(B_, G(0), G(1), G(2), G(3), G(4), dh0, dc0, c->aux[1], c->w, c->w + (size_t)B * L * H,
                              IN(0), IN(1), IN(2), h0, c0, c->aux[0], c->out, B, L, IN, H, c->i[4]));
}
static void fd_lstm(int reverse, int with_state) {
    int B = 2, L = 5, IN = 3, H = 4;
    fd_case c = {.op = "lstm", .forward = lstm_f, .backward = lstm_b, .i = {B, L, IN, H, reverse, with_state}};
    fd_add_input(&c, "inp", (size_t)B * L * IN, -1, 1);
    fd_add_input(&c, "w_ih", (size_t)4 * H * IN, -0.7f, 0.7f);
    fd_add_input(&c, "w_hh", (size_t)4 * H * H, -0.7f, 0.7f);
    fd_add_input(&c, "b_ih", (size_t)4 * H, -0.3f, 0.3f);
    fd_add_input(&c, "b_hh", (size_t)4 * H, -0.3f, 0.3f);
    if (with_state) {
        fd_add_input(&c, "h0", (size_t)B * H, -1, 1);
        fd_add_input(&c, "c0", (size_t)B * H, -1, 1);
    }
    c.aux[0] = test_buffer(CK_LSTM_CACHE_FLOATS(B, L, H));
    c.aux[1] = test_buffer(CK_LSTM_BWD_SCRATCH_FLOATS(B, L, H));
    c.n_out = (size_t)B * L * H + (size_t)B * H;
    c.out = test_buffer(c.n_out);
    fd_run(&c);
}

/* ---- attention: i = {B, L, NH, HS, masked, v_shared}
 *  standard: input qkv (B, L, 3D) packed, out with row stride D + 2 (strided views everywhere);
 *  v_shared: input qk (B, L, 2D) packed and v (B, L, HS). aux[0] = probs, aux[1] = mask, aux[2] = scratch. */
static void attn_views(fd_case *c, const float **q, const float **k, const float **v, float **dq, float **dk,
                       float **dv, int *ldq, int *ldv, int *ldo) {
    int D = c->i[2] * c->i[3];
    if (c->i[5]) {
        *q = IN(0); *k = IN(0) + D; *v = IN(1);
        *dq = G(0); *dk = G(0) + D; *dv = G(1);
        *ldq = 2 * D; *ldv = c->i[3]; *ldo = c->i[3];
    } else {
        *q = IN(0); *k = IN(0) + D; *v = IN(0) + 2 * D;
        *dq = G(0); *dk = G(0) + D; *dv = G(0) + 2 * D;
        *ldq = 3 * D; *ldv = 3 * D; *ldo = D + 2;
    }
}
static void attn_f(fd_case *c) {
    const float *q, *k, *v;
    float *dq, *dk, *dv;
    int ldq, ldv, ldo;
    attn_views(c, &q, &k, &v, &dq, &dk, &dv, &ldq, &ldv, &ldo);
    CHECK_OK(B_, B_->attention_fwd(B_, c->out, c->aux[0], q, k, v, c->i[4] ? c->aux[1] : NULL, c->i[0], c->i[1],
                                   c->i[2], c->i[3], ldq, ldq, ldv, ldo, c->i[5]));
}
static void attn_b(fd_case *c) {
    const float *q, *k, *v;
    float *dq, *dk, *dv;
    int ldq, ldv, ldo;
    attn_views(c, &q, &k, &v, &dq, &dk, &dv, &ldq, &ldv, &ldo);
    CHECK_OK(B_, B_->attention_bwd(B_, dq, dk, dv, c->aux[2], c->w, q, k, v, c->aux[0], c->i[0], c->i[1], c->i[2],
                                   c->i[3], ldq, ldq, ldv, ldo, c->i[5]));
}
static void fd_attention(int masked, int v_shared) {
    int B = 2, L = 5, NH = 2, HS = 3, D = NH * HS;
    fd_case c = {.op = "attention", .forward = attn_f, .backward = attn_b, .i = {B, L, NH, HS, masked, v_shared}};
    if (v_shared) {
        fd_add_input(&c, "qk", (size_t)B * L * 2 * D, -1.5f, 1.5f);
        fd_add_input(&c, "v", (size_t)B * L * HS, -1, 1);
        c.n_out = (size_t)B * L * HS;
    } else {
        fd_add_input(&c, "qkv", (size_t)B * L * 3 * D, -1.5f, 1.5f);
        c.n_out = (size_t)B * L * (D + 2);
    }
    c.aux[0] = test_buffer((size_t)B * NH * L * L);
    c.aux[1] = test_buffer((size_t)L * L);
    for (int i = 0; i < L; i++) /* causal, and row 0 fully masked (its output must be 0, not NaN) */
        for (int j = 0; j < L; j++) c.aux[1][i * L + j] = (j > i || i == 0) ? -INFINITY : 0.0f;
    c.aux[2] = test_buffer(CK_ATTENTION_BWD_SCRATCH_FLOATS(B, NH, L));
    c.out = test_buffer(c.n_out);
    fd_run(&c);
    if (masked) {
        int finite = 1;
        for (size_t i = 0; i < c.n_out; i++) finite &= isfinite(c.out[i]);
        CHECK(finite, "attention with a fully masked row produced a non-finite output");
    }
}

void run_fd_sequence_tests(void) {
    fd_conv1d(1);
    fd_conv1d(3);
    fd_conv1d(5);
    fd_lstm(0, 1);
    fd_lstm(1, 1);
    fd_lstm(0, 0);
    fd_lstm(1, 0);
    fd_attention(0, 0);
    fd_attention(1, 0);
    fd_attention(0, 1);
    fd_attention(1, 1);
}
