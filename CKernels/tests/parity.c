/* parity — every op of the backend table, forward and backward, on random inputs at two shapes, run on the CPU
 * backend (the reference) and on the CUDA backend, compared element by element with per-op tolerances.
 * Needs no Swift: `make cuda-check` builds and runs it (on a GPU machine).
 *
 *     ./parity [path/to/libaitrader_cuda.so] [--tf32]
 *
 * The library path defaults to $AITRADER_CUDA_LIB, then build/cuda/libaitrader_cuda.so. Gradients start from
 * random values (not zeros), so the backward ops' accumulate (+=) contract is checked too.
 * Exit status: 0 all match; 1 a mismatch, an op error, or a library that cannot serve on any machine (does not
 * load, is not a backend, another ABI version); 2 the library is fine but the CUDA backend cannot run here (the
 * reason is printed: no driver, no device, no cuBLAS) — what CI without a GPU accepts; 3 a setup failure. */
#include "dual.h"

#include <stdint.h>

static const dual_tol T_EXACT = {0, 0};          /* data movement, dropout masks */
static const dual_tol T_ELEM = {1e-6, 1e-5};      /* element-wise maths (libm vs CUDA intrinsics, ~2 ulp) */
static const dual_tol T_ROW = {1e-5, 1e-4};       /* row reductions: softmax, layer norm, pooling */
static const dual_tol T_GEMM = {1e-4, 1e-4};      /* fp32 products with K up to 256 (summation order differs) */
static const dual_tol T_SEQ = {2e-4, 2e-4};       /* LSTM / attention: products + non-linearities, over L steps */
static const dual_tol T_LOSS = {1e-4, 1e-5};      /* lgamma / digamma */
static const dual_tol T_TF32 = {5e-2, 5e-2};      /* any product when --tf32 (10-bit mantissa inputs) */

static int use_tf32 = 0;
static dual_tol gemm_tol(dual_tol t) { return use_tf32 ? T_TF32 : t; }

/* ---- matrix products ------------------------------------------------------------------------------------- */
static void check_gemm(dual_ctx *x, int M, int N, int K) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
            dual A = dual_uniform(x, (size_t)(ta ? K : M) * lda, -1, 1);
            dual B = dual_uniform(x, (size_t)(tb ? N : K) * ldb, -1, 1);
            dual C = dual_uniform(x, (size_t)M * ldc, -1, 1);
            char shape[64];
            snprintf(shape, sizeof shape, "M=%d N=%d K=%d ta=%d tb=%d", M, N, K, ta, tb);
            DUAL_RUN(x, "gemm", bk->gemm(bk, SIDE(C), SIDE(A), SIDE(B), M, N, K, ta, tb, lda, ldb, ldc, 0.75f, 0.5f));
            dual_compare(x, "gemm", shape, "C", &C, gemm_tol(T_GEMM));
            dual_free(x, &A); dual_free(x, &B); dual_free(x, &C);
        }
    int batch = 3;
    dual A = dual_uniform(x, (size_t)batch * M * K, -1, 1), B = dual_uniform(x, (size_t)batch * N * K, -1, 1);
    dual C = dual_uniform(x, (size_t)batch * M * N, -1, 1);
    char shape[64];
    snprintf(shape, sizeof shape, "batch=%d M=%d N=%d K=%d tb=1", batch, M, N, K);
    DUAL_RUN(x, "gemm_strided_batched", bk->gemm_strided_batched(bk, SIDE(C), SIDE(A), SIDE(B), M, N, K, 0, 1, K, K, N,
                                                                 (long long)M * K, (long long)N * K, (long long)M * N,
                                                                 batch, 1.f, 1.f));
    dual_compare(x, "gemm_strided_batched", shape, "C", &C, gemm_tol(T_GEMM));
    dual_free(x, &A); dual_free(x, &B); dual_free(x, &C);
}

static void check_linear(dual_ctx *x, int N, int IN, int OUT) {
    char shape[64];
    snprintf(shape, sizeof shape, "N=%d IN=%d OUT=%d", N, IN, OUT);
    dual inp = dual_uniform(x, (size_t)N * IN, -1, 1), w = dual_uniform(x, (size_t)OUT * IN, -0.5f, 0.5f);
    dual bias = dual_uniform(x, OUT, -1, 1), out = dual_zeros(x, (size_t)N * OUT);
    DUAL_RUN(x, "linear_fwd", bk->linear_fwd(bk, SIDE(out), SIDE(inp), SIDE(w), SIDE(bias), N, IN, OUT));
    dual_compare(x, "linear_fwd", shape, "out", &out, gemm_tol(T_GEMM));
    dual dout = dual_uniform(x, (size_t)N * OUT, -1, 1), dinp = dual_uniform(x, (size_t)N * IN, -1, 1);
    dual dw = dual_uniform(x, (size_t)OUT * IN, -1, 1), db = dual_uniform(x, OUT, -1, 1);
    DUAL_RUN(x, "linear_bwd", bk->linear_bwd(bk, SIDE(dinp), SIDE(dw), SIDE(db), SIDE(dout), SIDE(inp), SIDE(w), N, IN, OUT));
    dual_compare(x, "linear_bwd", shape, "dinp", &dinp, gemm_tol(T_GEMM));
    dual_compare(x, "linear_bwd", shape, "dweight", &dw, gemm_tol(T_GEMM));
    dual_compare(x, "linear_bwd", shape, "dbias", &db, T_ROW);
    DUAL_RUN(x, "bias_add_fwd", bk->bias_add_fwd(bk, SIDE(dout), SIDE(bias), N, OUT));
    dual_compare(x, "bias_add_fwd", shape, "x", &dout, T_ELEM);
    DUAL_RUN(x, "bias_add_bwd", bk->bias_add_bwd(bk, SIDE(db), SIDE(dout), N, OUT));
    dual_compare(x, "bias_add_bwd", shape, "dbias", &db, T_ROW);
    dual_free(x, &inp); dual_free(x, &w); dual_free(x, &bias); dual_free(x, &out);
    dual_free(x, &dout); dual_free(x, &dinp); dual_free(x, &dw); dual_free(x, &db);
}

static void check_basis(dual_ctx *x, int N, int P, int T) {
    char shape[64];
    snprintf(shape, sizeof shape, "N=%d P=%d T=%d", N, P, T);
    dual theta = dual_uniform(x, (size_t)N * P, -1, 1), basis = dual_uniform(x, (size_t)P * T, -1, 1);
    dual out = dual_uniform(x, (size_t)N * T, -1, 1), dtheta = dual_uniform(x, (size_t)N * P, -1, 1);
    DUAL_RUN(x, "basis_expand_fwd", bk->basis_expand_fwd(bk, SIDE(out), SIDE(theta), SIDE(basis), N, P, T, -1.f, 1));
    dual_compare(x, "basis_expand_fwd", shape, "out", &out, gemm_tol(T_GEMM));
    DUAL_RUN(x, "basis_expand_bwd", bk->basis_expand_bwd(bk, SIDE(dtheta), SIDE(out), SIDE(basis), N, P, T, 0.5f));
    dual_compare(x, "basis_expand_bwd", shape, "dtheta", &dtheta, gemm_tol(T_GEMM));
    dual_free(x, &theta); dual_free(x, &basis); dual_free(x, &out); dual_free(x, &dtheta);
}

/* ---- layers ---------------------------------------------------------------------------------------------- */
static void check_conv1d(dual_ctx *x, int B, int L, int CIN, int COUT, int K) {
    char shape[64];
    snprintf(shape, sizeof shape, "B=%d L=%d CIN=%d COUT=%d K=%d", B, L, CIN, COUT, K);
    dual inp = dual_uniform(x, (size_t)B * L * CIN, -1, 1), w = dual_uniform(x, (size_t)COUT * CIN * K, -0.3f, 0.3f);
    dual bias = dual_uniform(x, COUT, -1, 1), out = dual_zeros(x, (size_t)B * L * COUT);
    DUAL_RUN(x, "conv1d_fwd", bk->conv1d_fwd(bk, SIDE(out), SIDE(inp), SIDE(w), SIDE(bias), B, L, CIN, COUT, K));
    dual_compare(x, "conv1d_fwd", shape, "out", &out, gemm_tol(T_GEMM));
    dual dout = dual_uniform(x, out.n, -1, 1), dinp = dual_uniform(x, inp.n, -1, 1), dw = dual_uniform(x, w.n, -1, 1);
    dual db = dual_uniform(x, COUT, -1, 1);
    DUAL_RUN(x, "conv1d_bwd", bk->conv1d_bwd(bk, SIDE(dinp), SIDE(dw), SIDE(db), SIDE(dout), SIDE(inp), SIDE(w), B, L, CIN, COUT, K));
    dual_compare(x, "conv1d_bwd", shape, "dinp", &dinp, gemm_tol(T_GEMM));
    dual_compare(x, "conv1d_bwd", shape, "dweight", &dw, gemm_tol(T_GEMM));
    dual_compare(x, "conv1d_bwd", shape, "dbias", &db, T_ROW);
    dual_free(x, &inp); dual_free(x, &w); dual_free(x, &bias); dual_free(x, &out);
    dual_free(x, &dout); dual_free(x, &dinp); dual_free(x, &dw); dual_free(x, &db);
}

/* with_state: h0, c0, c_final, dh0, dc0 and dc_final given (else NULL). repeat: run forward twice more on the
 * GPU (the cached-graph path for small B) and require bitwise-equal outputs. */
static void check_lstm(dual_ctx *x, int B, int L, int IN, int H, int reverse, int with_state) {
    char shape[64];
    snprintf(shape, sizeof shape, "B=%d L=%d IN=%d H=%d rev=%d st=%d", B, L, IN, H, reverse, with_state);
    size_t BH = (size_t)B * H, H4 = 4 * (size_t)H;
    dual inp = dual_uniform(x, (size_t)B * L * IN, -1, 1);
    dual w_ih = dual_uniform(x, H4 * IN, -0.3f, 0.3f), w_hh = dual_uniform(x, H4 * H, -0.3f, 0.3f);
    dual b_ih = dual_uniform(x, H4, -0.2f, 0.2f), b_hh = dual_uniform(x, H4, -0.2f, 0.2f);
    dual h0 = dual_uniform(x, BH, -1, 1), c0 = dual_uniform(x, BH, -1, 1), c_final = dual_zeros(x, BH);
    dual h_out = dual_zeros(x, (size_t)B * L * H), cache = dual_zeros(x, CK_LSTM_CACHE_FLOATS(B, L, H));
#define ST(t) (with_state ? SIDE(t) : NULL)
    DUAL_RUN(x, "lstm_fwd", bk->lstm_fwd(bk, SIDE(h_out), ST(c_final), SIDE(cache), SIDE(inp), SIDE(w_ih), SIDE(w_hh),
                                         SIDE(b_ih), SIDE(b_hh), ST(h0), ST(c0), B, L, IN, H, reverse));
    dual_compare(x, "lstm_fwd", shape, "h_out", &h_out, gemm_tol(T_SEQ));
    if (with_state) dual_compare(x, "lstm_fwd", shape, "c_final", &c_final, gemm_tol(T_SEQ));
    {
        float *first = (float *)malloc(h_out.n * sizeof(float));
        x->gpu->copy_d2h(x->gpu, first, h_out.g, h_out.n * sizeof(float));
        for (int again = 0; again < 2; again++)
            x->gpu->lstm_fwd(x->gpu, h_out.g, with_state ? c_final.g : NULL, cache.g, inp.g, w_ih.g, w_hh.g, b_ih.g,
                             b_hh.g, with_state ? h0.g : NULL, with_state ? c0.g : NULL, B, L, IN, H, reverse);
        dual_gpu_bitwise(x, "lstm_fwd(replay)", shape, &h_out, first);
        free(first);
    }
    dual dh_out = dual_uniform(x, h_out.n, -1, 1), dc_final = dual_uniform(x, BH, -1, 1);
    dual dinp = dual_uniform(x, inp.n, -1, 1), dw_ih = dual_uniform(x, w_ih.n, -1, 1), dw_hh = dual_uniform(x, w_hh.n, -1, 1);
    dual db_ih = dual_uniform(x, H4, -1, 1), db_hh = dual_uniform(x, H4, -1, 1);
    dual dh0 = dual_uniform(x, BH, -1, 1), dc0 = dual_uniform(x, BH, -1, 1);
    dual scratch = dual_zeros(x, CK_LSTM_BWD_SCRATCH_FLOATS(B, L, H));
    DUAL_RUN(x, "lstm_bwd", bk->lstm_bwd(bk, SIDE(dinp), SIDE(dw_ih), SIDE(dw_hh), SIDE(db_ih), SIDE(db_hh), ST(dh0),
                                         ST(dc0), SIDE(scratch), SIDE(dh_out), ST(dc_final), SIDE(inp), SIDE(w_ih),
                                         SIDE(w_hh), ST(h0), ST(c0), SIDE(cache), SIDE(h_out), B, L, IN, H, reverse));
#undef ST
    dual_compare(x, "lstm_bwd", shape, "dinp", &dinp, gemm_tol(T_SEQ));
    dual_compare(x, "lstm_bwd", shape, "dw_ih", &dw_ih, gemm_tol(T_SEQ));
    dual_compare(x, "lstm_bwd", shape, "dw_hh", &dw_hh, gemm_tol(T_SEQ));
    dual_compare(x, "lstm_bwd", shape, "db_ih", &db_ih, gemm_tol(T_SEQ));
    dual_compare(x, "lstm_bwd", shape, "db_hh", &db_hh, gemm_tol(T_SEQ));
    if (with_state) {
        dual_compare(x, "lstm_bwd", shape, "dh0", &dh0, gemm_tol(T_SEQ));
        dual_compare(x, "lstm_bwd", shape, "dc0", &dc0, gemm_tol(T_SEQ));
    }
    dual *all[] = {&inp, &w_ih, &w_hh, &b_ih, &b_hh, &h0, &c0, &c_final, &h_out, &cache, &dh_out, &dc_final,
                   &dinp, &dw_ih, &dw_hh, &db_ih, &db_hh, &dh0, &dc0, &scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) dual_free(x, all[i]);
}

/* q, k, v as column slices of one packed (B, L, 3D) tensor (ld = 3D); causal mask when masked. */
static void check_attention(dual_ctx *x, int B, int L, int NH, int HS, int v_shared, int masked) {
    char shape[64];
    snprintf(shape, sizeof shape, "B=%d L=%d NH=%d HS=%d vs=%d mask=%d", B, L, NH, HS, v_shared, masked);
    int D = NH * HS, ld = 3 * D, DV = v_shared ? HS : D;
    dual qkv = dual_uniform(x, (size_t)B * L * ld, -1, 1);
    float *mask_h = (float *)malloc((size_t)L * L * sizeof(float));
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++) mask_h[i * L + j] = j > i ? -INFINITY : 0.f;
    dual mask = dual_from(x, mask_h, (size_t)L * L);
    free(mask_h);
    dual out = dual_zeros(x, (size_t)B * L * DV), probs = dual_zeros(x, (size_t)B * NH * L * L);
#define QP(o) (SIDE(qkv) + (o))
#define MASK (masked ? SIDE(mask) : NULL)
    DUAL_RUN(x, "attention_fwd", bk->attention_fwd(bk, SIDE(out), SIDE(probs), QP(0), QP(D), QP(2 * D), MASK, B, L, NH,
                                                   HS, ld, ld, ld, DV, v_shared));
    dual_compare(x, "attention_fwd", shape, "probs", &probs, gemm_tol(T_SEQ));
    dual_compare(x, "attention_fwd", shape, "out", &out, gemm_tol(T_SEQ));
    dual dout = dual_uniform(x, out.n, -1, 1), dqkv = dual_uniform(x, qkv.n, -1, 1);
    dual scratch = dual_zeros(x, CK_ATTENTION_BWD_SCRATCH_FLOATS(B, NH, L));
    DUAL_RUN(x, "attention_bwd", bk->attention_bwd(bk, SIDE(dqkv), SIDE(dqkv) + D, SIDE(dqkv) + 2 * D, SIDE(scratch),
                                                   SIDE(dout), QP(0), QP(D), QP(2 * D), SIDE(probs), B, L, NH, HS, ld,
                                                   ld, ld, DV, v_shared));
#undef QP
#undef MASK
    dual_compare(x, "attention_bwd", shape, "dqkv", &dqkv, gemm_tol(T_SEQ));
    dual_free(x, &qkv); dual_free(x, &mask); dual_free(x, &out); dual_free(x, &probs);
    dual_free(x, &dout); dual_free(x, &dqkv); dual_free(x, &scratch);
}

static void check_rows(dual_ctx *x, int N, int C) {
    char shape[64];
    snprintf(shape, sizeof shape, "N=%d C=%d", N, C);
    size_t n = (size_t)N * C;
    dual inp = dual_uniform(x, n, -3, 3), w = dual_uniform(x, C, 0.5f, 1.5f), bias = dual_uniform(x, C, -1, 1);
    dual out = dual_zeros(x, n), mean = dual_zeros(x, N), rstd = dual_zeros(x, N);
    DUAL_RUN(x, "layernorm_fwd", bk->layernorm_fwd(bk, SIDE(out), SIDE(mean), SIDE(rstd), SIDE(inp), SIDE(w), SIDE(bias), N, C, 1e-5f));
    dual_compare(x, "layernorm_fwd", shape, "out", &out, T_ROW);
    dual_compare(x, "layernorm_fwd", shape, "mean", &mean, T_ROW);
    dual_compare(x, "layernorm_fwd", shape, "rstd", &rstd, T_ROW);
    dual dout = dual_uniform(x, n, -1, 1), dinp = dual_uniform(x, n, -1, 1), dw = dual_uniform(x, C, -1, 1);
    dual db = dual_uniform(x, C, -1, 1);
    DUAL_RUN(x, "layernorm_bwd", bk->layernorm_bwd(bk, SIDE(dinp), SIDE(dw), SIDE(db), SIDE(dout), SIDE(inp), SIDE(w),
                                                   SIDE(mean), SIDE(rstd), N, C));
    dual_compare(x, "layernorm_bwd", shape, "dinp", &dinp, T_ROW);
    dual_compare(x, "layernorm_bwd", shape, "dweight", &dw, T_ROW);
    dual_compare(x, "layernorm_bwd", shape, "dbias", &db, T_ROW);
    DUAL_RUN(x, "softmax_fwd", bk->softmax_fwd(bk, SIDE(out), SIDE(inp), N, C));
    dual_compare(x, "softmax_fwd", shape, "out", &out, T_ROW);
    DUAL_RUN(x, "softmax_bwd", bk->softmax_bwd(bk, SIDE(dinp), SIDE(dout), SIDE(out), N, C));
    dual_compare(x, "softmax_bwd", shape, "dinp", &dinp, T_ROW);
    dual_free(x, &inp); dual_free(x, &w); dual_free(x, &bias); dual_free(x, &out); dual_free(x, &mean);
    dual_free(x, &rstd); dual_free(x, &dout); dual_free(x, &dinp); dual_free(x, &dw); dual_free(x, &db);
}

/* ---- element-wise ---------------------------------------------------------------------------------------- */
static void check_elementwise(dual_ctx *x, size_t n) {
    static const char *names[] = {"identity", "relu", "gelu", "elu", "sigmoid", "tanh", "softplus"};
    char shape[64];
    for (int act = CK_ACT_IDENTITY; act <= CK_ACT_SOFTPLUS; act++) {
        snprintf(shape, sizeof shape, "n=%zu act=%s", n, names[act]);
        dual inp = dual_uniform(x, n, -25, 25), out = dual_zeros(x, n), dout = dual_uniform(x, n, -1, 1);
        dual dinp = dual_uniform(x, n, -1, 1);
        DUAL_RUN(x, "activation_fwd", bk->activation_fwd(bk, SIDE(out), SIDE(inp), n, (ck_activation)act));
        dual_compare(x, "activation_fwd", shape, "out", &out, T_ELEM);
        DUAL_RUN(x, "activation_bwd", bk->activation_bwd(bk, SIDE(dinp), SIDE(dout), SIDE(inp), SIDE(out), n, (ck_activation)act));
        dual_compare(x, "activation_bwd", shape, "dinp", &dinp, T_ELEM);
        dual_free(x, &inp); dual_free(x, &out); dual_free(x, &dout); dual_free(x, &dinp);
    }
    snprintf(shape, sizeof shape, "n=%zu", n);
    dual a = dual_uniform(x, n, -2, 2), b = dual_uniform(x, n, -2, 2), out = dual_zeros(x, n);
    dual da = dual_uniform(x, n, -1, 1), db = dual_uniform(x, n, -1, 1), d = dual_uniform(x, n, -1, 1);
    DUAL_RUN(x, "mul_fwd", bk->mul_fwd(bk, SIDE(out), SIDE(a), SIDE(b), n));
    dual_compare(x, "mul_fwd", shape, "out", &out, T_ELEM);
    DUAL_RUN(x, "mul_bwd", bk->mul_bwd(bk, SIDE(da), SIDE(db), SIDE(d), SIDE(a), SIDE(b), n));
    dual_compare(x, "mul_bwd", shape, "dx", &da, T_ELEM);
    dual_compare(x, "mul_bwd", shape, "dy", &db, T_ELEM);
    DUAL_RUN(x, "axpy", bk->axpy(bk, SIDE(a), SIDE(b), -0.37f, n));
    dual_compare(x, "axpy", shape, "y", &a, T_ELEM);
    DUAL_RUN(x, "scale_shift", bk->scale_shift(bk, SIDE(a), 1.5f, -0.25f, n));
    dual_compare(x, "scale_shift", shape, "x", &a, T_ELEM);
    /* dropout: the mask must be bit-identical (same Philox stream); offsets above 2^32 and odd n included */
    const uint64_t seed = 0x0123456789ABCDEFull, offset = (1ull << 33) + 7;
    DUAL_RUN(x, "dropout_fwd", bk->dropout_fwd(bk, SIDE(out), SIDE(b), n, 0.3f, seed, offset));
    dual_compare(x, "dropout_fwd", shape, "out", &out, T_EXACT);
    DUAL_RUN(x, "dropout_bwd", bk->dropout_bwd(bk, SIDE(da), SIDE(d), n, 0.3f, seed, offset));
    dual_compare(x, "dropout_bwd", shape, "dinp", &da, T_ELEM);
    dual_free(x, &a); dual_free(x, &b); dual_free(x, &out); dual_free(x, &da); dual_free(x, &db); dual_free(x, &d);
}

static void check_shapes(dual_ctx *x, int B, int L, int C) {
    char shape[64];
    snprintf(shape, sizeof shape, "B=%d L=%d C=%d", B, L, C);
    size_t n = (size_t)B * L * C;
    dual inp = dual_uniform(x, n, -1, 1), out = dual_zeros(x, (size_t)B * C), dout = dual_uniform(x, (size_t)B * C, -1, 1);
    dual dinp = dual_uniform(x, n, -1, 1);
    DUAL_RUN(x, "mean_pool_fwd", bk->mean_pool_fwd(bk, SIDE(out), SIDE(inp), B, L, C));
    dual_compare(x, "mean_pool_fwd", shape, "out", &out, T_ROW);
    DUAL_RUN(x, "mean_pool_bwd", bk->mean_pool_bwd(bk, SIDE(dinp), SIDE(dout), B, L, C));
    dual_compare(x, "mean_pool_bwd", shape, "dinp", &dinp, T_ELEM);
    DUAL_RUN(x, "step_pool_fwd", bk->step_pool_fwd(bk, SIDE(out), SIDE(inp), B, L, C, L - 1));
    dual_compare(x, "step_pool_fwd", shape, "out", &out, T_EXACT);
    DUAL_RUN(x, "step_pool_bwd", bk->step_pool_bwd(bk, SIDE(dinp), SIDE(dout), B, L, C, L / 2));
    dual_compare(x, "step_pool_bwd", shape, "dinp", &dinp, T_ELEM);
    /* copy2d into / out of a column slice, then accumulate; row_scale on (B*L, C) rows */
    int rows = B * L, wide = 2 * C + 3;
    dual big = dual_uniform(x, (size_t)rows * wide, -1, 1);
    DUAL_RUN(x, "copy2d", bk->copy2d(bk, SIDE(big) + C, wide, SIDE(inp), C, rows, C, 0));
    dual_compare(x, "copy2d", shape, "dst", &big, T_EXACT);
    DUAL_RUN(x, "copy2d(accumulate)", bk->copy2d(bk, SIDE(inp), C, SIDE(big) + 1, wide, rows, C, 1));
    dual_compare(x, "copy2d(accumulate)", shape, "dst", &inp, T_ELEM);
    dual w = dual_uniform(x, rows, -2, 2), y = dual_zeros(x, n), dw = dual_uniform(x, rows, -1, 1);
    DUAL_RUN(x, "row_scale_fwd", bk->row_scale_fwd(bk, SIDE(y), SIDE(inp), SIDE(w), rows, C));
    dual_compare(x, "row_scale_fwd", shape, "out", &y, T_ELEM);
    DUAL_RUN(x, "row_scale_bwd", bk->row_scale_bwd(bk, SIDE(dinp), SIDE(dw), SIDE(y), SIDE(inp), SIDE(w), rows, C));
    dual_compare(x, "row_scale_bwd", shape, "dx", &dinp, T_ELEM);
    dual_compare(x, "row_scale_bwd", shape, "dw", &dw, T_ROW);
    dual_free(x, &inp); dual_free(x, &out); dual_free(x, &dout); dual_free(x, &dinp); dual_free(x, &big);
    dual_free(x, &w); dual_free(x, &y); dual_free(x, &dw);
}

static void check_glu(dual_ctx *x, int N, int C) {
    char shape[64];
    snprintf(shape, sizeof shape, "N=%d C=%d", N, C);
    dual inp = dual_uniform(x, (size_t)N * 2 * C, -4, 4), out = dual_zeros(x, (size_t)N * C);
    dual dout = dual_uniform(x, out.n, -1, 1), dinp = dual_uniform(x, inp.n, -1, 1);
    DUAL_RUN(x, "glu_fwd", bk->glu_fwd(bk, SIDE(out), SIDE(inp), N, C));
    dual_compare(x, "glu_fwd", shape, "out", &out, T_ELEM);
    DUAL_RUN(x, "glu_bwd", bk->glu_bwd(bk, SIDE(dinp), SIDE(dout), SIDE(inp), N, C));
    dual_compare(x, "glu_bwd", shape, "dinp", &dinp, T_ELEM);
    dual_free(x, &inp); dual_free(x, &out); dual_free(x, &dout); dual_free(x, &dinp);
}

/* ---- losses, reductions, optimizer ---------------------------------------------------------------------- */
static void check_losses(dual_ctx *x, int N, int K) {
    char shape[64];
    snprintf(shape, sizeof shape, "N=%d", N);
    dual a = dual_uniform(x, N, 0.3f, 20), b = dual_uniform(x, N, 0.3f, 20), y = dual_uniform(x, N, 0.01f, 0.99f);
    dual loss = dual_zeros(x, N), dloss = dual_uniform(x, N, -1, 1), da = dual_uniform(x, N, -1, 1), db = dual_uniform(x, N, -1, 1);
    DUAL_RUN(x, "beta_nll_fwd", bk->beta_nll_fwd(bk, SIDE(loss), SIDE(a), SIDE(b), SIDE(y), N));
    dual_compare(x, "beta_nll_fwd", shape, "loss", &loss, T_LOSS);
    DUAL_RUN(x, "beta_nll_bwd", bk->beta_nll_bwd(bk, SIDE(da), SIDE(db), SIDE(dloss), SIDE(a), SIDE(b), SIDE(y), N));
    dual_compare(x, "beta_nll_bwd", shape, "dalpha", &da, T_LOSS);
    dual_compare(x, "beta_nll_bwd", shape, "dbeta", &db, T_LOSS);
    dual kl = dual_zeros(x, N), dkl = dual_uniform(x, N, -1, 1);
    float *lh = (float *)malloc((size_t)N * sizeof(float));
    for (int i = 0; i < N; i++) lh[i] = i % 3 == 2 ? dual_uniform01(x) : (float)(i % 3); /* 0, 1 and soft labels */
    dual lab = dual_from(x, lh, (size_t)N);
    free(lh);
    DUAL_RUN(x, "evidential_beta_fwd", bk->evidential_beta_fwd(bk, SIDE(loss), SIDE(kl), SIDE(a), SIDE(b), SIDE(lab), N));
    dual_compare(x, "evidential_beta_fwd", shape, "nll", &loss, T_LOSS);
    dual_compare(x, "evidential_beta_fwd", shape, "kl", &kl, T_LOSS);
    DUAL_RUN(x, "evidential_beta_bwd", bk->evidential_beta_bwd(bk, SIDE(da), SIDE(db), SIDE(dloss), SIDE(dkl), SIDE(a),
                                                                SIDE(b), SIDE(lab), N));
    dual_compare(x, "evidential_beta_bwd", shape, "dalpha", &da, T_LOSS);
    dual_compare(x, "evidential_beta_bwd", shape, "dbeta", &db, T_LOSS);
    dual_free(x, &kl); dual_free(x, &dkl); dual_free(x, &lab);
    snprintf(shape, sizeof shape, "N=%d K=%d", N, K);
    float *yh = (float *)malloc((size_t)N * K * sizeof(float));
    for (int i = 0; i < N; i++) {
        float s = 0;
        for (int k = 0; k < K; k++) s += (yh[i * K + k] = 0.05f + dual_uniform01(x));
        for (int k = 0; k < K; k++) yh[i * K + k] /= s;
    }
    dual yd = dual_from(x, yh, (size_t)N * K);
    free(yh);
    dual conc = dual_uniform(x, (size_t)N * K, 0.3f, 20), dconc = dual_uniform(x, (size_t)N * K, -1, 1);
    DUAL_RUN(x, "dirichlet_nll_fwd", bk->dirichlet_nll_fwd(bk, SIDE(loss), SIDE(conc), SIDE(yd), N, K));
    dual_compare(x, "dirichlet_nll_fwd", shape, "loss", &loss, T_LOSS);
    DUAL_RUN(x, "dirichlet_nll_bwd", bk->dirichlet_nll_bwd(bk, SIDE(dconc), SIDE(dloss), SIDE(conc), SIDE(yd), N, K));
    dual_compare(x, "dirichlet_nll_bwd", shape, "dconc", &dconc, T_LOSS);
    dual *all[] = {&a, &b, &y, &loss, &dloss, &da, &db, &yd, &conc, &dconc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) dual_free(x, all[i]);
}

static void check_reductions(dual_ctx *x, size_t n) {
    char shape[64];
    snprintf(shape, sizeof shape, "n=%zu", n);
    dual v = dual_uniform(x, n, -1, 1), out = dual_zeros(x, 1);
    const dual_tol T_SUM = {1e-4, 1e-5};
    DUAL_RUN(x, "reduce_sum", bk->reduce_sum(bk, SIDE(out), SIDE(v), n));
    dual_compare(x, "reduce_sum", shape, "sum", &out, T_SUM);
    DUAL_RUN(x, "reduce_sum_squares", bk->reduce_sum_squares(bk, SIDE(out), SIDE(v), n));
    dual_compare(x, "reduce_sum_squares", shape, "sum", &out, T_SUM);
    DUAL_RUN(x, "global_norm", bk->global_norm(bk, SIDE(out), SIDE(v), n));
    dual_compare(x, "global_norm", shape, "norm", &out, T_SUM);
    float first;
    x->gpu->copy_d2h(x->gpu, &first, out.g, sizeof first);
    x->gpu->global_norm(x->gpu, out.g, v.g, n);
    dual_gpu_bitwise(x, "global_norm(again)", shape, &out, &first);
    /* three AdamW steps with weight decay and a clipping scale */
    dual p = dual_uniform(x, n, -1, 1), m = dual_zeros(x, n), s = dual_zeros(x, n);
    for (int t = 1; t <= 3; t++)
        DUAL_RUN(x, "adamw_step", bk->adamw_step(bk, SIDE(p), SIDE(m), SIDE(s), SIDE(v), n, 1e-2f, 0.9f, 0.999f, 1e-8f,
                                                 0.01f, t, 0.8f));
    dual_compare(x, "adamw_step", shape, "params", &p, T_ROW);
    dual_compare(x, "adamw_step", shape, "m", &m, T_ELEM);
    dual_compare(x, "adamw_step", shape, "v", &s, T_ELEM);
    dual_free(x, &v); dual_free(x, &out); dual_free(x, &p); dual_free(x, &m); dual_free(x, &s);
}

int main(int argc, char **argv) {
    const char *lib = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tf32") == 0) use_tf32 = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [libaitrader_cuda.so] [--tf32]\n", argv[0]);
            return 3;
        } else lib = argv[i];
    }
    if (lib == NULL) lib = getenv("AITRADER_CUDA_LIB");
    if (lib == NULL || !*lib) lib = "build/cuda/libaitrader_cuda.so";

    ck_backend *gpu = NULL;
    char why[1024];
    ck_status st = ck_load_backend(lib, 0, &gpu, why, sizeof why);
    if (st != CK_OK) {
        char broken[1024];
        if (ck_check_backend_library(lib, broken, sizeof broken) != CK_OK) {
            printf("CUDA library unusable: %s\n", broken); /* not a missing GPU: a broken build */
            return 1;
        }
        printf("CUDA backend unavailable (status %d): %s\n", (int)st, why);
        return 2;
    }
    ck_device_info info;
    if (gpu->device_info(gpu, &info) == CK_OK)
        printf("GPU: %s, %.1f GiB, compute %d.%d\n", info.name, (double)info.total_memory / (1 << 30),
               info.compute_major, info.compute_minor);
    if (gpu->set_option(gpu, CK_OPT_ALLOW_TF32, use_tf32) != CK_OK) dual_die("set_option(TF32)", gpu, CK_ERR_DEVICE);
    dual_ctx ctx = {ck_cpu_backend(), gpu, 0, 0, 0, 0, 0x5EEDull, 0};
    printf("%-22s %-34s %-8s %9s  %5s  %-20s\n", "op", "shape", "tensor", "max|err|", "ratio", "tolerance");

    check_gemm(&ctx, 17, 33, 9);
    check_gemm(&ctx, 128, 96, 256);
    check_linear(&ctx, 7, 13, 5);
    check_linear(&ctx, 256, 128, 64);
    check_basis(&ctx, 5, 4, 11);
    check_basis(&ctx, 64, 16, 48);
    check_conv1d(&ctx, 2, 9, 3, 5, 3);
    check_conv1d(&ctx, 8, 64, 32, 48, 7);
    check_lstm(&ctx, 1, 12, 8, 16, 0, 1);   /* B = 1: the CUDA-graph path */
    check_lstm(&ctx, 3, 7, 5, 9, 1, 1);
    check_lstm(&ctx, 16, 32, 32, 64, 0, 0);
    check_lstm(&ctx, 16, 32, 32, 64, 1, 1);
    check_attention(&ctx, 2, 5, 2, 3, 0, 1);
    check_attention(&ctx, 4, 48, 4, 16, 0, 1);
    check_attention(&ctx, 3, 24, 4, 8, 1, 1);
    check_attention(&ctx, 2, 33, 8, 8, 0, 0);
    check_rows(&ctx, 5, 7);
    check_rows(&ctx, 300, 257);
    check_elementwise(&ctx, 1001);
    check_elementwise(&ctx, 1 << 18);
    check_shapes(&ctx, 3, 5, 7);
    check_shapes(&ctx, 32, 64, 48);
    check_glu(&ctx, 3, 5);
    check_glu(&ctx, 512, 96);
    check_losses(&ctx, 37, 3);
    check_losses(&ctx, 4096, 5);
    check_reductions(&ctx, 1001);
    check_reductions(&ctx, 3 << 20);

    printf("%d passed, %d failed\n", ctx.checks - ctx.failures, ctx.failures + ctx.errors);
    gpu->destroy(gpu);
    return ctx.failures == 0 && ctx.errors == 0 ? 0 : 1;
}
