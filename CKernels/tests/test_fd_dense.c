/* test_fd_dense.c — finite-difference gradient checks of the row-wise and element-wise ops. */
#include "test_fd.h"

#include <math.h>
#include <string.h>

#define B_ fd_backend
#define IN(k) (c->in[k].x)
#define G(k) (c->in[k].g)

/* ---- linear ---------------------------------------------------------------------------------------------- */
static void linear_f(fd_case *c) { B_->linear_fwd(B_, c->out, IN(0), IN(1), IN(2), c->i[0], c->i[1], c->i[2]); }
static void linear_b(fd_case *c) {
    CHECK_OK(B_, B_->linear_bwd(B_, G(0), G(1), G(2), c->w, IN(0), IN(1), c->i[0], c->i[1], c->i[2]));
}
static void fd_linear(void) {
    fd_case c = {.op = "linear", .forward = linear_f, .backward = linear_b, .i = {6, 5, 4}};
    fd_add_input(&c, "inp", 30, -1, 1);
    fd_add_input(&c, "weight", 20, -1, 1);
    fd_add_input(&c, "bias", 4, -1, 1);
    c.n_out = 24;
    c.out = test_buffer(c.n_out);
    fd_run(&c);
}

/* ---- bias_add (the input x passes through; only dbias comes from the op) --------------------------------- */
static void bias_f(fd_case *c) {
    memcpy(c->out, c->aux[0], c->n_out * sizeof(float));
    B_->bias_add_fwd(B_, c->out, IN(0), c->i[0], c->i[1]);
}
static void bias_b(fd_case *c) { CHECK_OK(B_, B_->bias_add_bwd(B_, G(0), c->w, c->i[0], c->i[1])); }
static void fd_bias_add(void) {
    fd_case c = {.op = "bias_add", .forward = bias_f, .backward = bias_b, .i = {7, 5}};
    fd_add_input(&c, "bias", 5, -1, 1);
    c.n_out = 35;
    c.out = test_buffer(35);
    c.aux[0] = test_buffer(35);
    test_fill(&fd_rng, c.aux[0], 35, -1, 1);
    fd_run(&c);
}

/* ---- layernorm ------------------------------------------------------------------------------------------- */
static void ln_f(fd_case *c) {
    B_->layernorm_fwd(B_, c->out, c->aux[0], c->aux[1], IN(0), IN(1), IN(2), c->i[0], c->i[1], 1e-5f);
}
static void ln_b(fd_case *c) {
    CHECK_OK(B_, B_->layernorm_bwd(B_, G(0), G(1), G(2), c->w, IN(0), IN(1), c->aux[0], c->aux[1], c->i[0], c->i[1]));
}
static void fd_layernorm(void) {
    fd_case c = {.op = "layernorm", .forward = ln_f, .backward = ln_b, .i = {5, 8}};
    fd_add_input(&c, "inp", 40, -2, 3);
    fd_add_input(&c, "weight", 8, 0.5f, 1.5f);
    fd_add_input(&c, "bias", 8, -1, 1);
    c.n_out = 40;
    c.out = test_buffer(40);
    c.aux[0] = test_buffer(5);
    c.aux[1] = test_buffer(5);
    fd_run(&c);
}

/* ---- activations ----------------------------------------------------------------------------------------- */
static void act_f(fd_case *c) { B_->activation_fwd(B_, c->out, IN(0), c->n_out, (ck_activation)c->i[0]); }
static void act_b(fd_case *c) {
    CHECK_OK(B_, B_->activation_bwd(B_, G(0), c->w, IN(0), c->out, c->n_out, (ck_activation)c->i[0]));
}
static void fd_activation(const char *name, ck_activation act) {
    fd_case c = {.op = name, .forward = act_f, .backward = act_b, .i = {(int)act}, .h = 1e-3f};
    float *x = fd_add_input(&c, "inp", 48, -4, 4);
    test_fill_away_from_zero(&fd_rng, x, 48, -4, 4, 0.05f); /* ReLU's kink */
    if (act == CK_ACT_SOFTPLUS) { x[0] = 21.0f; x[1] = 30.0f; x[2] = -30.0f; }
    c.n_out = 48;
    c.out = test_buffer(48);
    fd_run(&c);
}

/* ---- glu ------------------------------------------------------------------------------------------------- */
static void glu_f(fd_case *c) { B_->glu_fwd(B_, c->out, IN(0), c->i[0], c->i[1]); }
static void glu_b(fd_case *c) { CHECK_OK(B_, B_->glu_bwd(B_, G(0), c->w, IN(0), c->i[0], c->i[1])); }
static void fd_glu(void) {
    fd_case c = {.op = "glu", .forward = glu_f, .backward = glu_b, .i = {4, 6}};
    fd_add_input(&c, "inp", 48, -3, 3);
    c.n_out = 24;
    c.out = test_buffer(24);
    fd_run(&c);
}

/* ---- dropout (linear for a fixed mask: the check fails unless backward regenerates forward's mask) -------- */
static void drop_f(fd_case *c) { B_->dropout_fwd(B_, c->out, IN(0), c->n_out, c->f[0], 1234, 77); }
static void drop_b(fd_case *c) { CHECK_OK(B_, B_->dropout_bwd(B_, G(0), c->w, c->n_out, c->f[0], 1234, 77)); }
static void fd_dropout(void) {
    fd_case c = {.op = "dropout", .forward = drop_f, .backward = drop_b, .f = {0.3f}};
    fd_add_input(&c, "inp", 103, -1, 1);
    c.n_out = 103;
    c.out = test_buffer(103);
    fd_run(&c);
}

/* ---- softmax --------------------------------------------------------------------------------------------- */
static void sm_f(fd_case *c) { B_->softmax_fwd(B_, c->out, IN(0), c->i[0], c->i[1]); }
static void sm_b(fd_case *c) { CHECK_OK(B_, B_->softmax_bwd(B_, G(0), c->w, c->out, c->i[0], c->i[1])); }
static void fd_softmax(void) {
    fd_case c = {.op = "softmax", .forward = sm_f, .backward = sm_b, .i = {4, 9}};
    fd_add_input(&c, "inp", 36, -4, 4);
    c.n_out = 36;
    c.out = test_buffer(36);
    fd_run(&c);
}

/* ---- pooling --------------------------------------------------------------------------------------------- */
static void mp_f(fd_case *c) { B_->mean_pool_fwd(B_, c->out, IN(0), c->i[0], c->i[1], c->i[2]); }
static void mp_b(fd_case *c) { CHECK_OK(B_, B_->mean_pool_bwd(B_, G(0), c->w, c->i[0], c->i[1], c->i[2])); }
static void sp_f(fd_case *c) { B_->step_pool_fwd(B_, c->out, IN(0), c->i[0], c->i[1], c->i[2], c->i[3]); }
static void sp_b(fd_case *c) { CHECK_OK(B_, B_->step_pool_bwd(B_, G(0), c->w, c->i[0], c->i[1], c->i[2], c->i[3])); }
static void fd_pooling(void) {
    fd_case m = {.op = "mean_pool", .forward = mp_f, .backward = mp_b, .i = {3, 5, 4}};
    fd_add_input(&m, "inp", 60, -1, 1);
    m.n_out = 12;
    m.out = test_buffer(12);
    fd_run(&m);
    fd_case s = {.op = "step_pool", .forward = sp_f, .backward = sp_b, .i = {3, 5, 4, 2}};
    fd_add_input(&s, "inp", 60, -1, 1);
    s.n_out = 12;
    s.out = test_buffer(12);
    fd_run(&s);
}

/* ---- element-wise algebra --------------------------------------------------------------------------------- */
static void copy2d_f(fd_case *c) { /* out (4, 3) = columns 2..4 of src (4, 7) */
    B_->copy2d(B_, c->out, 3, IN(0) + 2, 7, 4, 3, 0);
}
static void copy2d_b(fd_case *c) { CHECK_OK(B_, B_->copy2d(B_, G(0) + 2, 7, c->w, 3, 4, 3, 1)); }
static void axpy_f(fd_case *c) {
    memcpy(c->out, IN(1), c->n_out * sizeof(float));
    B_->axpy(B_, c->out, IN(0), c->f[0], c->n_out);
}
static void axpy_b(fd_case *c) {
    CHECK_OK(B_, B_->axpy(B_, G(0), c->w, c->f[0], c->n_out));
    CHECK_OK(B_, B_->axpy(B_, G(1), c->w, 1.0f, c->n_out));
}
static void ss_f(fd_case *c) {
    memcpy(c->out, IN(0), c->n_out * sizeof(float));
    B_->scale_shift(B_, c->out, c->f[0], c->f[1], c->n_out);
}
static void ss_b(fd_case *c) { CHECK_OK(B_, B_->axpy(B_, G(0), c->w, c->f[0], c->n_out)); }
static void mul_f(fd_case *c) { B_->mul_fwd(B_, c->out, IN(0), IN(1), c->n_out); }
static void mul_b(fd_case *c) { CHECK_OK(B_, B_->mul_bwd(B_, G(0), G(1), c->w, IN(0), IN(1), c->n_out)); }
static void rs_f(fd_case *c) { B_->row_scale_fwd(B_, c->out, IN(0), IN(1), c->i[0], c->i[1]); }
static void rs_b(fd_case *c) {
    CHECK_OK(B_, B_->row_scale_bwd(B_, G(0), G(1), c->w, IN(0), IN(1), c->i[0], c->i[1]));
}
static void fd_elementwise(void) {
    fd_case cp = {.op = "copy2d", .forward = copy2d_f, .backward = copy2d_b};
    fd_add_input(&cp, "src", 28, -1, 1);
    cp.n_out = 12;
    cp.out = test_buffer(12);
    fd_run(&cp);
    fd_case ax = {.op = "axpy", .forward = axpy_f, .backward = axpy_b, .f = {-0.7f}};
    fd_add_input(&ax, "x", 17, -1, 1);
    fd_add_input(&ax, "y", 17, -1, 1);
    ax.n_out = 17;
    ax.out = test_buffer(17);
    fd_run(&ax);
    fd_case ss = {.op = "scale_shift", .forward = ss_f, .backward = ss_b, .f = {1.7f, -0.3f}};
    fd_add_input(&ss, "x", 17, -1, 1);
    ss.n_out = 17;
    ss.out = test_buffer(17);
    fd_run(&ss);
    fd_case mu = {.op = "mul", .forward = mul_f, .backward = mul_b};
    fd_add_input(&mu, "x", 19, -1, 1);
    fd_add_input(&mu, "y", 19, -1, 1);
    mu.n_out = 19;
    mu.out = test_buffer(19);
    fd_run(&mu);
    fd_case rs = {.op = "row_scale", .forward = rs_f, .backward = rs_b, .i = {5, 6}};
    fd_add_input(&rs, "x", 30, -1, 1);
    fd_add_input(&rs, "w", 5, -1, 1);
    rs.n_out = 30;
    rs.out = test_buffer(30);
    fd_run(&rs);
}

/* ---- N-BEATS basis expansion (accumulating into a residual with scale -1) --------------------------------- */
static void be_f(fd_case *c) {
    memcpy(c->out, c->aux[1], c->n_out * sizeof(float));
    B_->basis_expand_fwd(B_, c->out, IN(0), c->aux[0], c->i[0], c->i[1], c->i[2], -1.0f, 1);
}
static void be_b(fd_case *c) {
    CHECK_OK(B_, B_->basis_expand_bwd(B_, G(0), c->w, c->aux[0], c->i[0], c->i[1], c->i[2], -1.0f));
}
static void fd_basis_expand(void) {
    fd_case c = {.op = "basis_expand", .forward = be_f, .backward = be_b, .i = {3, 4, 7}};
    fd_add_input(&c, "theta", 12, -1, 1);
    c.aux[0] = test_buffer(28);
    c.aux[1] = test_buffer(21);
    test_fill(&fd_rng, c.aux[0], 28, -1, 1);
    test_fill(&fd_rng, c.aux[1], 21, -1, 1);
    c.n_out = 21;
    c.out = test_buffer(21);
    fd_run(&c);
}

/* ---- distribution losses ---------------------------------------------------------------------------------- */
static void beta_f(fd_case *c) { B_->beta_nll_fwd(B_, c->out, IN(0), IN(1), c->aux[0], (int)c->n_out); }
static void beta_b(fd_case *c) {
    CHECK_OK(B_, B_->beta_nll_bwd(B_, G(0), G(1), c->w, IN(0), IN(1), c->aux[0], (int)c->n_out));
}
static void dir_f(fd_case *c) { B_->dirichlet_nll_fwd(B_, c->out, IN(0), c->aux[0], c->i[0], c->i[1]); }
static void dir_b(fd_case *c) {
    CHECK_OK(B_, B_->dirichlet_nll_bwd(B_, G(0), c->w, IN(0), c->aux[0], c->i[0], c->i[1]));
}
/* evidential_beta: output 0 is nll (dkl NULL), output 1 the KL regulariser (dnll zero); aux[1] the other output */
static void evi_nll_f(fd_case *c) {
    B_->evidential_beta_fwd(B_, c->out, NULL, IN(0), IN(1), c->aux[0], (int)c->n_out);
}
static void evi_nll_b(fd_case *c) {
    CHECK_OK(B_, B_->evidential_beta_bwd(B_, G(0), G(1), c->w, NULL, IN(0), IN(1), c->aux[0], (int)c->n_out));
}
static void evi_kl_f(fd_case *c) {
    B_->evidential_beta_fwd(B_, c->aux[1], c->out, IN(0), IN(1), c->aux[0], (int)c->n_out);
}
static void evi_kl_b(fd_case *c) {
    CHECK_OK(B_, B_->evidential_beta_bwd(B_, G(0), G(1), c->aux[2], c->w, IN(0), IN(1), c->aux[0], (int)c->n_out));
}
static void fd_evidential(void (*forward)(fd_case *), void (*backward)(fd_case *), const char *op) {
    fd_case c = {.op = op, .forward = forward, .backward = backward, .h = 2e-3f};
    fd_add_input(&c, "alpha", 20, 0.3f, 30);
    fd_add_input(&c, "beta", 20, 0.3f, 30);
    c.aux[0] = test_buffer(20);
    test_fill(&fd_rng, c.aux[0], 20, 0.0f, 1.0f);
    for (int i = 0; i < 12; i++) c.aux[0][i] = (float)(i % 2); /* hard labels, then soft ones */
    c.aux[1] = test_buffer(20);
    c.aux[2] = test_buffer(20);
    for (int i = 0; i < 20; i++) c.aux[2][i] = 0.0f;
    c.n_out = 20;
    c.out = test_buffer(20);
    fd_run(&c);
}

static void fd_distributions(void) {
    fd_evidential(evi_nll_f, evi_nll_b, "evidential_beta_nll");
    fd_evidential(evi_kl_f, evi_kl_b, "evidential_beta_kl");
    fd_case be = {.op = "beta_nll", .forward = beta_f, .backward = beta_b, .h = 2e-3f};
    fd_add_input(&be, "alpha", 20, 0.3f, 30);
    fd_add_input(&be, "beta", 20, 0.3f, 30);
    be.aux[0] = test_buffer(20);
    test_fill(&fd_rng, be.aux[0], 20, 0.01f, 0.99f);
    be.n_out = 20;
    be.out = test_buffer(20);
    fd_run(&be);
    fd_case di = {.op = "dirichlet_nll", .forward = dir_f, .backward = dir_b, .i = {4, 5}, .h = 2e-3f};
    fd_add_input(&di, "conc", 20, 0.3f, 15);
    di.aux[0] = test_buffer(20);
    for (int r = 0; r < 4; r++) {
        float *y = di.aux[0] + r * 5, s = 0;
        test_fill(&fd_rng, y, 5, 0.05f, 1.0f);
        for (int k = 0; k < 5; k++) s += y[k];
        for (int k = 0; k < 5; k++) y[k] /= s;
    }
    di.n_out = 4;
    di.out = test_buffer(4);
    fd_run(&di);
}

void run_fd_dense_tests(void) {
    fd_linear();
    fd_bias_add();
    fd_layernorm();
    fd_activation("act_identity", CK_ACT_IDENTITY);
    fd_activation("act_relu", CK_ACT_RELU);
    fd_activation("act_gelu", CK_ACT_GELU);
    fd_activation("act_elu", CK_ACT_ELU);
    fd_activation("act_sigmoid", CK_ACT_SIGMOID);
    fd_activation("act_tanh", CK_ACT_TANH);
    fd_activation("act_softplus", CK_ACT_SOFTPLUS);
    fd_glu();
    fd_dropout();
    fd_softmax();
    fd_pooling();
    fd_elementwise();
    fd_basis_expand();
    fd_distributions();
}
