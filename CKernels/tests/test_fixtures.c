/*
 * test_fixtures.c — PyTorch parity: every op's outputs and gradients against float64 PyTorch results
 * (fixtures/<case>.ckfix from tools/reference/kernel_fixtures.py). Inputs are identical float32 values; a value
 * passes when |got - want| <= PARITY_TOL * max(|want|, 1e-2 * max|want| + 1e-6) (relative, with a floor).
 */
#include "fixture.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PARITY_TOL 1e-4

static ck_backend *cpu;
static const char *fixture_dir;

/* Compares n floats with the fixture's tensor `name`, records the error under op. */
static void expect_close(const char *op, const fixture *fx, const char *name, const float *got, size_t n) {
    size_t want_n = 0;
    const float *want = fixture_tensor(fx, name, &want_n);
    CHECK(want_n == n, "%s %s: %zu values, fixture has %zu", op, name, n, want_n);
    if (want_n != n) return;
    double err = test_rel_error(got, want, n, 1e-2, 1e-6);
    test_record_error(op, "torch", err);
    CHECK(err <= PARITY_TOL, "torch parity %s %s (%s): error %.3e", op, name, fx->case_name, err);
}

static int load(fixture *fx, const char *case_name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.ckfix", fixture_dir, case_name);
    int rc = fixture_load(fx, path);
    CHECK(rc == 0, "fixture %s could not be loaded", path);
    return rc;
}

#define T(name) fixture_tensor(&fx, name, NULL)
#define I(name) fixture_int(&fx, name)

static void parity_linear(void) {
    fixture fx;
    if (load(&fx, "linear")) return;
    int N = I("N"), IN = I("IN"), OUT = I("OUT");
    float *out = test_buffer((size_t)N * OUT), *dx = test_buffer((size_t)N * IN), *dw = test_buffer((size_t)OUT * IN),
          *db = test_buffer(OUT);
    CHECK_OK(cpu, cpu->linear_fwd(cpu, out, T("inp"), T("weight"), T("bias"), N, IN, OUT));
    CHECK_OK(cpu, cpu->linear_bwd(cpu, dx, dw, db, T("dout"), T("inp"), T("weight"), N, IN, OUT));
    expect_close("linear", &fx, "out", out, (size_t)N * OUT);
    expect_close("linear", &fx, "dinp", dx, (size_t)N * IN);
    expect_close("linear", &fx, "dweight", dw, (size_t)OUT * IN);
    expect_close("linear", &fx, "dbias", db, OUT);
    fixture_free(&fx);
}

static void parity_conv1d(const char *case_name) {
    fixture fx;
    if (load(&fx, case_name)) return;
    int B = I("B"), L = I("L"), CIN = I("CIN"), COUT = I("COUT"), K = I("K");
    size_t nx = (size_t)B * L * CIN, ny = (size_t)B * L * COUT, nw = (size_t)COUT * CIN * K;
    float *out = test_buffer(ny), *dx = test_buffer(nx), *dw = test_buffer(nw), *db = test_buffer(COUT);
    CHECK_OK(cpu, cpu->conv1d_fwd(cpu, out, T("inp"), T("weight"), T("bias"), B, L, CIN, COUT, K));
    CHECK_OK(cpu, cpu->conv1d_bwd(cpu, dx, dw, db, T("dout"), T("inp"), T("weight"), B, L, CIN, COUT, K));
    expect_close("conv1d", &fx, "out", out, ny);
    expect_close("conv1d", &fx, "dinp", dx, nx);
    expect_close("conv1d", &fx, "dweight", dw, nw);
    expect_close("conv1d", &fx, "dbias", db, COUT);
    fixture_free(&fx);
}

static void parity_lstm(const char *case_name) {
    fixture fx;
    if (load(&fx, case_name)) return;
    int B = I("B"), L = I("L"), IN = I("IN"), H = I("H"), rev = I("reverse");
    size_t BLH = (size_t)B * L * H, BH = (size_t)B * H, G = 4u * (size_t)H;
    float *h = test_buffer(BLH), *cf = test_buffer(BH), *cache = test_buffer(CK_LSTM_CACHE_FLOATS(B, L, H));
    float *scratch = test_buffer(CK_LSTM_BWD_SCRATCH_FLOATS(B, L, H));
    float *dx = test_buffer((size_t)B * L * IN), *dwih = test_buffer(G * IN), *dwhh = test_buffer(G * H);
    float *dbih = test_buffer(G), *dbhh = test_buffer(G), *dh0 = test_buffer(BH), *dc0 = test_buffer(BH);
    CHECK_OK(cpu, cpu->lstm_fwd(cpu, h, cf, cache, T("inp"), T("w_ih"), T("w_hh"), T("b_ih"), T("b_hh"), T("h0"),
                                T("c0"), B, L, IN, H, rev));
    CHECK_OK(cpu, cpu->lstm_bwd(cpu, dx, dwih, dwhh, dbih, dbhh, dh0, dc0, scratch, T("dh_out"), T("dc_final"),
                                T("inp"), T("w_ih"), T("w_hh"), T("h0"), T("c0"), cache, h, B, L, IN, H, rev));
    expect_close("lstm", &fx, "h_out", h, BLH);
    expect_close("lstm", &fx, "c_final", cf, BH);
    expect_close("lstm", &fx, "dinp", dx, (size_t)B * L * IN);
    expect_close("lstm", &fx, "dw_ih", dwih, G * IN);
    expect_close("lstm", &fx, "dw_hh", dwhh, G * H);
    expect_close("lstm", &fx, "db_ih", dbih, G);
    expect_close("lstm", &fx, "db_hh", dbhh, G);
    expect_close("lstm", &fx, "dh0", dh0, BH);
    expect_close("lstm", &fx, "dc0", dc0, BH);
    fixture_free(&fx);
}

/* Standard attention runs on a packed qkv (B, L, 3D) to exercise the strides; v_shared on separate tensors. */
static void parity_attention(const char *case_name) {
    fixture fx;
    if (load(&fx, case_name)) return;
    int B = I("B"), L = I("L"), NH = I("NH"), HS = I("HS"), masked = I("masked"), shared = I("v_shared");
    int D = NH * HS, DV = shared ? HS : D;
    size_t rows = (size_t)B * L;
    float *mask = NULL;
    if (masked) {
        mask = test_buffer((size_t)L * L);
        for (int i = 0; i < L; i++)
            for (int j = 0; j < L; j++) mask[i * L + j] = j > i ? -INFINITY : 0.0f;
    }
    float *probs = test_buffer((size_t)B * NH * L * L), *out = test_buffer(rows * DV);
    float *scratch = test_buffer(CK_ATTENTION_BWD_SCRATCH_FLOATS(B, NH, L));
    float *dq = test_buffer(rows * D), *dk = test_buffer(rows * D), *dv = test_buffer(rows * DV);
    if (shared) {
        CHECK_OK(cpu, cpu->attention_fwd(cpu, out, probs, T("q"), T("k"), T("v"), mask, B, L, NH, HS, D, D, HS, HS, 1));
        CHECK_OK(cpu, cpu->attention_bwd(cpu, dq, dk, dv, scratch, T("dout"), T("q"), T("k"), T("v"), probs, B, L, NH,
                                         HS, D, D, HS, HS, 1));
    } else {
        float *qkv = test_buffer(rows * 3 * D), *dqkv = test_buffer(rows * 3 * D);
        CHECK_OK(cpu, cpu->copy2d(cpu, qkv, 3 * D, T("q"), D, (int)rows, D, 0));
        CHECK_OK(cpu, cpu->copy2d(cpu, qkv + D, 3 * D, T("k"), D, (int)rows, D, 0));
        CHECK_OK(cpu, cpu->copy2d(cpu, qkv + 2 * D, 3 * D, T("v"), D, (int)rows, D, 0));
        CHECK_OK(cpu, cpu->attention_fwd(cpu, out, probs, qkv, qkv + D, qkv + 2 * D, mask, B, L, NH, HS, 3 * D, 3 * D,
                                         3 * D, D, 0));
        CHECK_OK(cpu, cpu->attention_bwd(cpu, dqkv, dqkv + D, dqkv + 2 * D, scratch, T("dout"), qkv, qkv + D,
                                         qkv + 2 * D, probs, B, L, NH, HS, 3 * D, 3 * D, 3 * D, D, 0));
        CHECK_OK(cpu, cpu->copy2d(cpu, dq, D, dqkv, 3 * D, (int)rows, D, 0));
        CHECK_OK(cpu, cpu->copy2d(cpu, dk, D, dqkv + D, 3 * D, (int)rows, D, 0));
        CHECK_OK(cpu, cpu->copy2d(cpu, dv, D, dqkv + 2 * D, 3 * D, (int)rows, D, 0));
    }
    expect_close("attention", &fx, "out", out, rows * DV);
    expect_close("attention", &fx, "probs", probs, (size_t)B * NH * L * L);
    expect_close("attention", &fx, "dq", dq, rows * D);
    expect_close("attention", &fx, "dk", dk, rows * D);
    expect_close("attention", &fx, "dv", dv, rows * DV);
    fixture_free(&fx);
}

static void parity_layernorm(void) {
    fixture fx;
    if (load(&fx, "layernorm")) return;
    int N = I("N"), C = I("C");
    float eps = (float)fixture_param(&fx, "eps");
    size_t n = (size_t)N * C;
    float *out = test_buffer(n), *mean = test_buffer(N), *rstd = test_buffer(N);
    float *dx = test_buffer(n), *dw = test_buffer(C), *db = test_buffer(C);
    CHECK_OK(cpu, cpu->layernorm_fwd(cpu, out, mean, rstd, T("inp"), T("weight"), T("bias"), N, C, eps));
    CHECK_OK(cpu, cpu->layernorm_bwd(cpu, dx, dw, db, T("dout"), T("inp"), T("weight"), mean, rstd, N, C));
    expect_close("layernorm", &fx, "out", out, n);
    expect_close("layernorm", &fx, "dinp", dx, n);
    expect_close("layernorm", &fx, "dweight", dw, C);
    expect_close("layernorm", &fx, "dbias", db, C);
    fixture_free(&fx);
}

static void parity_activation(const char *name) {
    char case_name[64];
    snprintf(case_name, sizeof case_name, "act_%s", name);
    fixture fx;
    if (load(&fx, case_name)) return;
    size_t n = (size_t)I("n");
    ck_activation act = (ck_activation)I("act");
    float *out = test_buffer(n), *dx = test_buffer(n);
    CHECK_OK(cpu, cpu->activation_fwd(cpu, out, T("inp"), n, act));
    CHECK_OK(cpu, cpu->activation_bwd(cpu, dx, T("dout"), T("inp"), out, n, act));
    expect_close(case_name, &fx, "out", out, n);
    expect_close(case_name, &fx, "dinp", dx, n);
    fixture_free(&fx);
}

static void parity_glu_softmax(void) {
    fixture fx;
    if (load(&fx, "glu") == 0) {
        int N = I("N"), C = I("C");
        float *out = test_buffer((size_t)N * C), *dx = test_buffer((size_t)N * 2 * C);
        CHECK_OK(cpu, cpu->glu_fwd(cpu, out, T("inp"), N, C));
        CHECK_OK(cpu, cpu->glu_bwd(cpu, dx, T("dout"), T("inp"), N, C));
        expect_close("glu", &fx, "out", out, (size_t)N * C);
        expect_close("glu", &fx, "dinp", dx, (size_t)N * 2 * C);
        fixture_free(&fx);
    }
    if (load(&fx, "softmax") == 0) {
        int N = I("N"), C = I("C");
        float *out = test_buffer((size_t)N * C), *dx = test_buffer((size_t)N * C);
        CHECK_OK(cpu, cpu->softmax_fwd(cpu, out, T("inp"), N, C));
        CHECK_OK(cpu, cpu->softmax_bwd(cpu, dx, T("dout"), out, N, C));
        expect_close("softmax", &fx, "out", out, (size_t)N * C);
        expect_close("softmax", &fx, "dinp", dx, (size_t)N * C);
        fixture_free(&fx);
    }
}

static void parity_pool(void) {
    fixture fx;
    if (load(&fx, "pool")) return;
    int B = I("B"), L = I("L"), C = I("C"), t = I("t");
    float *mean = test_buffer((size_t)B * C), *step = test_buffer((size_t)B * C);
    float *dm = test_buffer((size_t)B * L * C), *ds = test_buffer((size_t)B * L * C);
    CHECK_OK(cpu, cpu->mean_pool_fwd(cpu, mean, T("inp"), B, L, C));
    CHECK_OK(cpu, cpu->mean_pool_bwd(cpu, dm, T("dmean"), B, L, C));
    CHECK_OK(cpu, cpu->step_pool_fwd(cpu, step, T("inp"), B, L, C, t));
    CHECK_OK(cpu, cpu->step_pool_bwd(cpu, ds, T("dstep"), B, L, C, t));
    expect_close("mean_pool", &fx, "mean", mean, (size_t)B * C);
    expect_close("mean_pool", &fx, "dinp_mean", dm, (size_t)B * L * C);
    expect_close("step_pool", &fx, "step", step, (size_t)B * C);
    expect_close("step_pool", &fx, "dinp_step", ds, (size_t)B * L * C);
    fixture_free(&fx);
}

static void parity_distributions(void) {
    fixture fx;
    if (load(&fx, "beta_nll") == 0) {
        int N = I("N");
        float *loss = test_buffer(N), *da = test_buffer(N), *db = test_buffer(N);
        CHECK_OK(cpu, cpu->beta_nll_fwd(cpu, loss, T("alpha"), T("beta"), T("y"), N));
        CHECK_OK(cpu, cpu->beta_nll_bwd(cpu, da, db, T("dloss"), T("alpha"), T("beta"), T("y"), N));
        expect_close("beta_nll", &fx, "loss", loss, N);
        expect_close("beta_nll", &fx, "dalpha", da, N);
        expect_close("beta_nll", &fx, "dbeta", db, N);
        fixture_free(&fx);
    }
    if (load(&fx, "dirichlet_nll") == 0) {
        int N = I("N"), K = I("K");
        float *loss = test_buffer(N), *dc = test_buffer((size_t)N * K);
        CHECK_OK(cpu, cpu->dirichlet_nll_fwd(cpu, loss, T("conc"), T("y"), N, K));
        CHECK_OK(cpu, cpu->dirichlet_nll_bwd(cpu, dc, T("dloss"), T("conc"), T("y"), N, K));
        expect_close("dirichlet_nll", &fx, "loss", loss, N);
        expect_close("dirichlet_nll", &fx, "dconc", dc, (size_t)N * K);
        fixture_free(&fx);
    }
}

/* AdamW with clip_grad_norm_ over several steps: global_norm gives the norm, grad_scale the clip factor. */
static void parity_adamw(void) {
    fixture fx;
    if (load(&fx, "adamw")) return;
    int n = I("n"), steps = I("steps");
    float lr = (float)fixture_param(&fx, "lr"), b1 = (float)fixture_param(&fx, "beta1");
    float b2 = (float)fixture_param(&fx, "beta2"), eps = (float)fixture_param(&fx, "eps");
    float wd = (float)fixture_param(&fx, "weight_decay"), max_norm = (float)fixture_param(&fx, "max_norm");
    float *p = test_buffer(n), *m = test_buffer(n), *v = test_buffer(n), *norms = test_buffer(steps);
    memcpy(p, T("params0"), (size_t)n * sizeof(float));
    for (int s = 0; s < steps; s++) {
        const float *g = T("grads") + (size_t)s * n;
        CHECK_OK(cpu, cpu->global_norm(cpu, &norms[s], g, (size_t)n));
        float clip = max_norm / (norms[s] + 1e-6f);
        CHECK_OK(cpu, cpu->adamw_step(cpu, p, m, v, g, (size_t)n, lr, b1, b2, eps, wd, s + 1, clip < 1 ? clip : 1));
    }
    expect_close("global_norm", &fx, "norms", norms, steps);
    expect_close("adamw", &fx, "params", p, n);
    expect_close("adamw", &fx, "m", m, n);
    expect_close("adamw", &fx, "v", v, n);
    fixture_free(&fx);
}

static void parity_basis_expand(void) {
    fixture fx;
    if (load(&fx, "basis_expand")) return;
    int N = I("N"), P = I("P"), Tn = I("T");
    float scale = (float)fixture_param(&fx, "scale");
    float *out = test_buffer((size_t)N * Tn), *dtheta = test_buffer((size_t)N * P);
    memcpy(out, T("base"), (size_t)N * Tn * sizeof(float));
    CHECK_OK(cpu, cpu->basis_expand_fwd(cpu, out, T("theta"), T("basis"), N, P, Tn, scale, 1));
    CHECK_OK(cpu, cpu->basis_expand_bwd(cpu, dtheta, T("dout"), T("basis"), N, P, Tn, scale));
    expect_close("basis_expand", &fx, "out", out, (size_t)N * Tn);
    expect_close("basis_expand", &fx, "dtheta", dtheta, (size_t)N * P);
    fixture_free(&fx);
}

void run_fixture_tests(const char *dir) {
    cpu = ck_cpu_backend();
    fixture_dir = dir;
    parity_linear();
    parity_conv1d("conv1d_k1");
    parity_conv1d("conv1d_k3");
    parity_conv1d("conv1d_k5");
    parity_lstm("lstm");
    parity_lstm("lstm_reverse");
    parity_lstm("lstm_batch"); /* the packed recurrent steps (B >= 4) */
    parity_lstm("lstm_batch_reverse");
    parity_lstm("lstm_single"); /* batch 1 on 16-unit blocks */
    parity_lstm("lstm_single_reverse");
    parity_attention("attention");
    parity_attention("attention_causal");
    parity_attention("attention_shared");
    parity_layernorm();
    const char *acts[] = {"relu", "gelu", "elu", "sigmoid", "tanh", "softplus"};
    for (int i = 0; i < 6; i++) parity_activation(acts[i]);
    parity_glu_softmax();
    parity_pool();
    parity_distributions();
    parity_adamw();
    parity_basis_expand();
}
