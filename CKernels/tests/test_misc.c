/*
 * test_misc.c — what gradients and fixtures do not cover: gemm against a double reference (all transposes,
 * strides, alpha/beta, batches), reductions, digamma values, dropout (keep rate, determinism from (seed, offset),
 * the Philox mask formula of ckernels.h), thread determinism, memory functions, argument errors.
 */
#include "test_util.h"
#include "../cpu/cpu_math.h"
#include "../cpu/cpu_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

double ck_cpu_digamma(double x); /* CKernels/cpu/distributions.c */

static ck_backend *cpu;

/* ---- gemm ------------------------------------------------------------------------------------------------- */
static void gemm_reference(double *C, const float *A, const float *Bm, const float *C0, int M, int N, int K, int ta,
                           int tb, int lda, int ldb, int ldc, float alpha, float beta) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[k * lda + i] : A[i * lda + k];
                double b = tb ? Bm[j * ldb + k] : Bm[k * ldb + j];
                s += a * b;
            }
            C[i * N + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)C0[i * ldc + j]);
        }
}

/* A product under test: computes C and returns 1, or returns 0 when it does not apply (no AVX-512). */
typedef int (*product_fn)(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *Bm,
                          int ldb, float beta, float *C, int ldc);

static int table_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *Bm,
                      int ldb, float beta, float *C, int ldc) {
    CHECK_OK(cpu, cpu->gemm(cpu, C, A, Bm, M, N, K, ta, tb, lda, ldb, ldc, alpha, beta));
    return 1;
}

/* One product shape against the double reference: every transpose, padded leading dimensions, alpha/beta (beta 0
 * must not read C). Returns whether `product` applied. */
static int check_product_shape(const char *name, product_fn product, test_rng *rngp, int M, int N, int K) {
    test_rng rng = *rngp;
    int ran = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
            float *A = test_buffer((size_t)(ta ? K : M) * lda), *Bm = test_buffer((size_t)(tb ? N : K) * ldb);
            float *C = test_buffer((size_t)M * ldc), *C0 = test_buffer((size_t)M * ldc);
            double *ref = (double *)test_buffer(2u * (size_t)M * N);
            test_fill(&rng, A, (size_t)(ta ? K : M) * lda, -1, 1);
            test_fill(&rng, Bm, (size_t)(tb ? N : K) * ldb, -1, 1);
            test_fill(&rng, C0, (size_t)M * ldc, -1, 1);
            float alphas[2] = {1.0f, -0.5f}, betas[2] = {0.0f, 0.75f};
            for (int s = 0; s < 2; s++) {
                memcpy(C, C0, (size_t)M * ldc * sizeof(float));
                if (betas[s] == 0.0f) C[0] = NAN; /* beta = 0 must not read C */
                if (!product(ta, tb, M, N, K, alphas[s], A, lda, Bm, ldb, betas[s], C, ldc)) continue;
                ran = 1;
                gemm_reference(ref, A, Bm, C0, M, N, K, ta, tb, lda, ldb, ldc, alphas[s], betas[s]);
                double err = 0.0;
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) err = fmax(err, fabs(C[i * ldc + j] - ref[i * N + j]));
                double tol = 1e-6 * sqrt((double)K) * 4 + 1e-6;
                CHECK(err < tol, "%s M=%d N=%d K=%d ta=%d tb=%d alpha=%g beta=%g: max error %.3e", name, M, N, K, ta,
                      tb, (double)alphas[s], (double)betas[s], err);
                CHECK(C[N] == C0[N], "%s wrote past N columns", name);
                test_record_error(name, "double", err);
            }
        }
    *rngp = rng;
    return ran;
}

/* The attention-size AVX-512 tiles (small_gemm.c): ragged rows (M % 4) and columns (N % 32), every transpose.
 * Skipped where the CPU has no AVX-512. */
static void test_small_gemm(void) {
    test_rng rng = test_rng_make(41);
    const int shapes[][3] = {{5, 7, 3}, {96, 96, 32}, {33, 50, 17}, {64, 32, 64}, {1, 1, 1}, {4, 33, 9}};
    int ran = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        ran |= check_product_shape("small_gemm", ck_cpu_small_gemm, &rng, shapes[s][0], shapes[s][1], shapes[s][2]);
    if (!ran) printf("  (small_gemm: no AVX-512 on this CPU, OpenBLAS serves)\n");
}

/* The packed products (packed_gemm.c) behind a gemm-shaped adapter: op(A) packed in two column ranges (threads
 * pack disjoint ranges of one operand), op(B) packed, the panels computed in two calls, then alpha/beta applied
 * here (the packed product itself only overwrites or adds). Also checked: adding onto C (beta 1), bit for bit
 * against overwrite + a separate add. */
static int packed_product(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *Bm,
                          int ldb, float beta, float *C, int ldc) {
    float *a = test_buffer((size_t)M * (size_t)(K > 0 ? K : 1)), *t = test_buffer((size_t)M * N);
    float *u = test_buffer((size_t)M * N);
    float *Ap = test_buffer(ck_cpu_packed_a_floats(M, K) + 16), *P = test_buffer(ck_cpu_packed_floats(K, N) + 16);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) a[(size_t)i * K + k] = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
    ck_cpu_pack_a_cols(Ap, a, K, M, K, 0, K / 3);
    ck_cpu_pack_a_cols(Ap, a, K, M, K, K / 3, K);
    ck_cpu_pack_b(P, Bm, ldb, tb, K, N);
    int panels = ck_cpu_panels(N);
    ck_cpu_packed_gemm(M, 0, panels / 2, K, Ap, P, N, 0.0f, t, N);
    ck_cpu_packed_gemm(M, panels / 2, panels, K, Ap, P, N, 0.0f, t, N);
    for (size_t i = 0; i < (size_t)M * N; i++) u[i] = (float)(i % 7) - 3.0f;
    ck_cpu_packed_gemm(M, 0, panels, K, Ap, P, N, 1.0f, u, N);
    size_t wrong = 0;
    for (size_t i = 0; i < (size_t)M * N; i++) wrong += u[i] != ((float)(i % 7) - 3.0f) + t[i];
    CHECK(wrong == 0, "packed_gemm M=%d N=%d K=%d: beta 1 is not C + product at %zu places", M, N, K, wrong);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float *c = &C[(size_t)i * ldc + j];
            *c = alpha * t[(size_t)i * N + j] + (beta == 0.0f ? 0.0f : beta * *c);
        }
    return 1;
}

/* Rows around the 8-row tiles (and the 4/2/1 tails), columns around the 32-wide panels, K around the 16-wide
 * transposes; on any CPU (without AVX-512 the plain loops run). */
static void test_packed_gemm(void) {
    test_rng rng = test_rng_make(43);
    const int shapes[][3] = {{1, 1, 1}, {8, 32, 16}, {11, 37, 35}, {64, 64, 256}, {15, 96, 17}, {7, 5, 3}, {9, 33, 48}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        check_product_shape("packed_gemm", packed_product, &rng, shapes[s][0], shapes[s][1], shapes[s][2]);
}

/* ck_cpu_sgemm's packed route (A not transposed, alpha 1, beta 0 or 1): two k blocks (K > 256), beta 1
 * adding onto C, both layouts of B, row and panel splits; the same bits at 1 and 2 threads. */
static void test_packed_sgemm(void) {
    test_rng rng = test_rng_make(47);
    ck_device_info info;
    CHECK_OK(cpu, cpu->device_info(cpu, &info));
    const int shapes[][3] = {{40, 96, 384}, {300, 64, 300}, {17, 33, 16}, {64, 512, 300}, {129, 200, 257}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        for (int tb = 0; tb < 2; tb++) {
            const int lda = K + 1, ldb = (tb ? K : N) + 3, ldc = N + 2;
            float *A = test_buffer((size_t)M * lda), *Bm = test_buffer((size_t)(tb ? N : K) * ldb);
            float *C0 = test_buffer((size_t)M * ldc), *C = test_buffer((size_t)M * ldc), *C1 = test_buffer((size_t)M * ldc);
            test_fill(&rng, A, (size_t)M * lda, -1, 1);
            test_fill(&rng, Bm, (size_t)(tb ? N : K) * ldb, -1, 1);
            test_fill(&rng, C0, (size_t)M * ldc, -1, 1);
            if (!ck_cpu_packed_gemm_available()) { /* no AVX-512: the route declines, OpenBLAS serves */
                CHECK(ck_cpu_packed_sgemm(0, tb, M, N, K, 1.0f, A, lda, Bm, ldb, 1.0f, C, ldc) == 0,
                      "packed_sgemm taken without AVX-512");
                return;
            }
            double err = 0.0;
            for (int t = 1; t <= 2; t++) {
                CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, t));
                memcpy(C, C0, (size_t)M * ldc * sizeof(float));
                CHECK(ck_cpu_packed_sgemm(0, tb, M, N, K, 1.0f, A, lda, Bm, ldb, 1.0f, C, ldc) == 1,
                      "packed_sgemm M=%d N=%d K=%d: not taken", M, N, K);
                if (t == 1) memcpy(C1, C, (size_t)M * ldc * sizeof(float));
                else CHECK(memcmp(C1, C, (size_t)M * ldc * sizeof(float)) == 0,
                           "packed_sgemm M=%d N=%d K=%d tb=%d: 1 and 2 threads differ", M, N, K, tb);
            }
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double ref = C0[(size_t)i * ldc + j];
                    for (int k = 0; k < K; k++)
                        ref += (double)A[(size_t)i * lda + k] *
                               (tb ? Bm[(size_t)j * ldb + k] : Bm[(size_t)k * ldb + j]);
                    err = fmax(err, fabs(C[(size_t)i * ldc + j] - ref));
                }
            CHECK(err < 1e-6 * sqrt((double)K) * 4 + 1e-6, "packed_sgemm M=%d N=%d K=%d tb=%d: max error %.3e", M,
                  N, K, tb, err);
            CHECK(C[N] == C0[N], "packed_sgemm wrote past N columns");
            test_record_error("packed_sgemm", "double", err);
        }
    }
    CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, info.threads));
    /* outside the route: OpenBLAS's (declined, nothing written) */
    float c = 7.0f, a[600] = {0}, b[600 * 32] = {0};
    CHECK(ck_cpu_packed_sgemm(0, 0, 16, 32, 600, 1.0f, a, 600, b, 32, 0.0f, &c, 32) == 0 && c == 7.0f,
          "packed_sgemm must decline K > 384");
    CHECK(ck_cpu_packed_sgemm(1, 0, 16, 32, 16, 1.0f, a, 16, b, 32, 0.0f, &c, 32) == 0, "packed_sgemm: A^T declines");
    CHECK(ck_cpu_packed_sgemm(0, 0, 16, 32, 16, 0.5f, a, 16, b, 32, 0.0f, &c, 32) == 0, "packed_sgemm: alpha declines");
    CHECK(ck_cpu_packed_sgemm(0, 0, 8, 32, 16, 1.0f, a, 16, b, 32, 0.0f, &c, 32) == 0, "packed_sgemm: M < 16 declines");
}

/* Small products, matrix-vector shapes (M = 1, N = 1: gemm.c's own loops, split over the pool when large) and
 * products large enough to be split over threads, at 1 and 2 threads. */
static void test_gemm(void) {
    test_rng rng = test_rng_make(7);
    ck_device_info info;
    CHECK_OK(cpu, cpu->device_info(cpu, &info));
    const int shapes[][3] = {{13, 11, 9}, {1, 77, 37}, {1, 1024, 256}, {1, 5, 3}, {77, 1, 37}, {600, 1, 300},
                             {64, 300, 40}, {300, 64, 40}, {33, 1, 1}, {1, 33, 1}};
    for (int t = 1; t <= 2; t++) {
        CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, t));
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check_product_shape("gemm", table_gemm, &rng, shapes[i][0], shapes[i][1], shapes[i][2]);
    }
    CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, info.threads));
    int M = 13, N = 11, K = 9;
    /* strided batched = a loop of gemms */
    int batch = 3;
    float *A = test_buffer((size_t)batch * M * K), *Bm = test_buffer((size_t)batch * N * K);
    float *C = test_buffer((size_t)batch * M * N), *C1 = test_buffer((size_t)M * N);
    test_fill(&rng, A, (size_t)batch * M * K, -1, 1);
    test_fill(&rng, Bm, (size_t)batch * N * K, -1, 1);
    CHECK_OK(cpu, cpu->gemm_strided_batched(cpu, C, A, Bm, M, N, K, 0, 1, K, K, N, (long long)M * K, (long long)N * K,
                                            (long long)M * N, batch, 1.0f, 0.0f));
    for (int i = 0; i < batch; i++) {
        CHECK_OK(cpu, cpu->gemm(cpu, C1, A + (size_t)i * M * K, Bm + (size_t)i * N * K, M, N, K, 0, 1, K, K, N, 1.0f,
                                0.0f));
        CHECK(memcmp(C1, C + (size_t)i * M * N, (size_t)M * N * sizeof(float)) == 0, "batched gemm %d differs", i);
    }
    /* K = 0: C = beta C */
    float c2[4] = {1, 2, 3, 4};
    CHECK_OK(cpu, cpu->gemm(cpu, c2, NULL, NULL, 2, 2, 0, 0, 0, 1, 2, 2, 1.0f, 0.5f));
    CHECK(c2[0] == 0.5f && c2[3] == 2.0f, "gemm with K = 0 must scale C by beta");
}

/* ---- reductions, digamma ---------------------------------------------------------------------------------- */
static void test_reductions(void) {
    test_rng rng = test_rng_make(9);
    size_t n = 10007;
    float *x = test_buffer(n);
    test_fill(&rng, x, n, -2, 3);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) { s += x[i]; s2 += (double)x[i] * x[i]; }
    float sum, sq, norm;
    CHECK_OK(cpu, cpu->reduce_sum(cpu, &sum, x, n));
    CHECK_OK(cpu, cpu->reduce_sum_squares(cpu, &sq, x, n));
    CHECK_OK(cpu, cpu->global_norm(cpu, &norm, x, n));
    CHECK(fabs(sum - s) <= 1e-6 * fabs(s) + 1e-4, "reduce_sum %g vs %g", (double)sum, s);
    CHECK(fabs(sq - s2) <= 1e-6 * s2, "reduce_sum_squares %g vs %g", (double)sq, s2);
    CHECK(fabs(norm - sqrt(s2)) <= 1e-6 * sqrt(s2), "global_norm %g vs %g", (double)norm, sqrt(s2));
    CHECK_OK(cpu, cpu->reduce_sum(cpu, &sum, NULL, 0));
    CHECK(sum == 0.0f, "reduce_sum of nothing is 0");
}

static void test_digamma(void) {
    const double euler = 0.57721566490153286061;
    struct { double x, want; } cases[] = {
        {1.0, -euler}, {0.5, -euler - 2.0 * log(2.0)}, {2.0, 1.0 - euler}, {10.0, 2.251752589066721107647},
        {0.01, -100.56088545786867}, {100.0, 4.600161852738087}, {-0.5, 0.03648997397857652}, {1e-6, -1000000.5772140},
    };
    double worst = 0.0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = ck_cpu_digamma(cases[i].x);
        double err = fabs(got - cases[i].want) / fmax(1.0, fabs(cases[i].want));
        worst = fmax(worst, err);
        CHECK(err < 1e-12, "digamma(%g) = %.17g, want %.17g", cases[i].x, got, cases[i].want);
    }
    test_record_error("digamma", "exact", worst);
    CHECK(isinf(ck_cpu_digamma(0.0)) && isnan(ck_cpu_digamma(-2.0)), "digamma poles");
}

/* The vectorised exp / sigmoid / tanh of cpu_math.h against double-precision libm. */
static void test_fast_math(void) {
    double e_exp = 0, e_sig = 0, e_tanh = 0;
    for (int i = 0; i <= 400000; i++) {
        float x = -87.0f + 175.0f * (float)i / 400000.0f;
        double want = exp((double)x);
        e_exp = fmax(e_exp, fabs(ck_expf(x) - want) / want);
        float y = -30.0f + 60.0f * (float)i / 400000.0f;
        double s = 1.0 / (1.0 + exp(-(double)y));
        e_sig = fmax(e_sig, fabs(ck_sigmoidf(y) - s) / s);
        float z = -10.0f + 20.0f * (float)i / 400000.0f;
        double t = tanh((double)z);
        if (z != 0.0f) e_tanh = fmax(e_tanh, fabs(ck_tanhf(z) - t) / fabs(t));
    }
    CHECK(e_exp < 5e-7 && e_sig < 5e-7 && e_tanh < 5e-7, "fast math: exp %.3e sigmoid %.3e tanh %.3e", e_exp, e_sig,
          e_tanh);
    CHECK(ck_expf(-INFINITY) == 0.0f && ck_expf(-100.0f) == 0.0f && isinf(ck_expf(INFINITY)) == 0,
          "ck_expf limits: -inf -> 0, large -> finite saturation");
    CHECK(ck_tanhf(50.0f) == 1.0f && ck_tanhf(-50.0f) == -1.0f && ck_sigmoidf(-200.0f) >= 0.0f, "saturation");
    test_record_error("fast_expf", "double", e_exp);
    test_record_error("fast_sigmoidf", "double", e_sig);
    test_record_error("fast_tanhf", "double", e_tanh);
}

/* ---- dropout ---------------------------------------------------------------------------------------------- */
static void test_dropout(void) {
    size_t n = 200003;
    float p = 0.3f, scale = 1.0f / (1.0f - p);
    float *x = test_buffer(n), *y = test_buffer(n), *y2 = test_buffer(n), *g = test_buffer(n), *ones = test_buffer(n);
    for (size_t i = 0; i < n; i++) { x[i] = 1.0f + (float)(i % 7); ones[i] = 1.0f; }
    CHECK_OK(cpu, cpu->dropout_fwd(cpu, y, x, n, p, 0x123456789abcdefull, 5));
    size_t kept = 0, scaled_ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0.0f) {
            kept++;
            scaled_ok &= y[i] == x[i] * scale;
        }
    }
    double rate = (double)kept / (double)n;
    CHECK(fabs(rate - 0.7) < 0.005, "dropout keep rate %.4f, want 0.7 +- 0.005", rate);
    CHECK(scaled_ok, "kept values must be scaled by 1 / (1 - p)");
    /* determinism from (seed, offset) */
    CHECK_OK(cpu, cpu->dropout_fwd(cpu, y2, x, n, p, 0x123456789abcdefull, 5));
    CHECK(memcmp(y, y2, n * sizeof(float)) == 0, "same (seed, offset) must give the same mask");
    CHECK_OK(cpu, cpu->dropout_fwd(cpu, y2, x, n, p, 0x123456789abcdefull, 6));
    size_t same = 0;
    for (size_t i = 0; i < n; i++) same += (y[i] != 0.0f) == (y2[i] != 0.0f);
    double agree = (double)same / (double)n; /* independent masks agree with probability p^2 + (1-p)^2 = 0.58 */
    CHECK(fabs(agree - 0.58) < 0.01, "another offset must give an independent mask (agreement %.4f)", agree);
    /* backward reuses forward's mask: with dout = 1, dinp = 1/(1-p) where kept, 0 where dropped */
    CHECK_OK(cpu, cpu->dropout_bwd(cpu, g, ones, n, p, 0x123456789abcdefull, 5));
    size_t mismatches = 0;
    for (size_t i = 0; i < n; i++) mismatches += y[i] != 0.0f ? g[i] != scale : g[i] != 0.0f;
    CHECK(mismatches == 0, "dropout backward mask differs from forward at %zu elements", mismatches);
    /* the formula of ckernels.h, element by element, with offset and seed high words in use */
    uint64_t seed = 0xfedcba9876543210ull, offset = (1ull << 40) + 3;
    CHECK_OK(cpu, cpu->dropout_fwd(cpu, y, x, 1003, 0.5f, seed, offset)); /* 15 vector blocks of 64 + a tail */
    int formula_ok = 1;
    for (uint64_t i = 0; i < 1003; i++) {
        uint32_t ctr[4] = {(uint32_t)(i >> 2), (uint32_t)(i >> 34), (uint32_t)offset, (uint32_t)(offset >> 32)};
        uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, r[4];
        ck_philox4x32_10(ctr, key, r);
        float u = (float)(r[i & 3] >> 8) * 0x1p-24f;
        formula_ok &= (y[i] != 0.0f) == (u >= 0.5f);
    }
    CHECK(formula_ok, "dropout mask does not follow the Philox formula of ckernels.h");
    /* p = 0 copies, p = 1 drops everything */
    CHECK_OK(cpu, cpu->dropout_fwd(cpu, y, x, n, 0.0f, 1, 2));
    CHECK(memcmp(y, x, n * sizeof(float)) == 0, "p = 0 must copy");
    CHECK_OK(cpu, cpu->dropout_fwd(cpu, y, x, 100, 1.0f, 1, 2));
    int zeros = 1;
    for (int i = 0; i < 100; i++) zeros &= y[i] == 0.0f;
    CHECK(zeros, "p = 1 must drop every element");
    CHECK(cpu->dropout_fwd(cpu, y, x, 10, 1.5f, 1, 2) == CK_ERR_INVALID_ARGUMENT, "p > 1 must be rejected");
}

/* ---- determinism across thread counts ------------------------------------------------------------------- */
/* Every op that runs matrix products, at 1, 2 and 3 threads: bit-identical. How a product is split depends on
 * its shape alone (gemm.c, lstm.c), never on the thread count, so this holds whichever OpenBLAS kernel serves the
 * products (OpenBLAS's own result for an element depends on the shape of its call: Haswell / Zen kernels). CI
 * also runs this suite with OPENBLAS_CORETYPE forced to other kernel families. */
enum { DET_OUTPUTS = 11 };
typedef struct det_run {
    float *out[DET_OUTPUTS];
} det_run;

static const char *const det_names[DET_OUTPUTS] = {"conv1d", "conv1d_bwd", "lstm", "lstm_bwd", "attention",
                                                   "attention_bwd", "linear", "linear_bwd", "gemm_tn", "gemm_nt_wide",
                                                   "lstm_bwd_weights"};

static void det_compute(det_run *r, const float *x, const float *w, int B, int L, int C) {
    size_t n = (size_t)B * L * C;
    float *bias = test_buffer(4u * C), *cache = test_buffer(CK_LSTM_CACHE_FLOATS(B, L, C));
    float *scr = test_buffer(CK_LSTM_BWD_SCRATCH_FLOATS(B, L, C)), *probs = test_buffer((size_t)B * 4 * L * L);
    float *ascr = test_buffer(CK_ATTENTION_BWD_SCRATCH_FLOATS(B, 4, L)), *dw = test_buffer((size_t)16 * C * C);
    for (int i = 0; i < DET_OUTPUTS; i++) r->out[i] = test_buffer(n > (size_t)16 * C * C ? n : (size_t)16 * C * C);
    float **o = r->out;
    CHECK_OK(cpu, cpu->conv1d_fwd(cpu, o[0], x, w, bias, B, L, C, C, 5));
    CHECK_OK(cpu, cpu->conv1d_bwd(cpu, o[1], dw, bias, x, x, w, B, L, C, C, 5));
    CHECK_OK(cpu, cpu->lstm_fwd(cpu, o[2], NULL, cache, x, w, w, NULL, NULL, NULL, NULL, B, L, C, C, 0));
    CHECK_OK(cpu, cpu->lstm_bwd(cpu, o[3], o[10], dw, NULL, NULL, NULL, NULL, scr, x, NULL, x, w, w, NULL, NULL,
                                cache, o[2], B, L, C, C, 0));
    CHECK_OK(cpu, cpu->attention_fwd(cpu, o[4], probs, x, x, x, NULL, B, L, 4, C / 4, C, C, C, C, 0));
    CHECK_OK(cpu, cpu->attention_bwd(cpu, o[5], o[5], o[5], ascr, x, x, x, x, probs, B, L, 4, C / 4, C, C, C, C, 0));
    CHECK_OK(cpu, cpu->linear_fwd(cpu, o[6], x, w, NULL, B * L, C, C));
    CHECK_OK(cpu, cpu->linear_bwd(cpu, o[7], dw, NULL, x, x, w, B * L, C, C));
    /* A weight-gradient shape (A transposed, long k) and a wide product past the packed tiles' N range. */
    CHECK_OK(cpu, cpu->gemm(cpu, o[8], x, x, C, C, B * L, 1, 0, C, C, C, 1.0f, 0.0f));
    CHECK_OK(cpu, cpu->gemm(cpu, o[9], x, w, B, 16 * C, C, 0, 1, C, C, 16 * C, 1.0f, 0.0f));
}

static void test_thread_determinism(void) {
    ck_device_info info;
    CHECK_OK(cpu, cpu->device_info(cpu, &info));
    int saved = info.threads;
    int B = 8, L = 32, C = 64;
    size_t n = (size_t)B * L * C, size = n > (size_t)16 * C * C ? n : (size_t)16 * C * C;
    test_rng rng = test_rng_make(11);
    float *x = test_buffer(n), *w = test_buffer((size_t)4 * C * C * 5);
    test_fill(&rng, x, n, -1, 1);
    test_fill(&rng, w, (size_t)4 * C * C * 5, -0.2f, 0.2f);
    det_run one, one_again, more[2];
    CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, 1));
    det_compute(&one, x, w, B, L, C);
    det_compute(&one_again, x, w, B, L, C);
    for (int t = 0; t < 2; t++) {
        CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, t + 2));
        det_compute(&more[t], x, w, B, L, C);
    }
    double worst = 0;
    for (int i = 0; i < DET_OUTPUTS; i++) {
        CHECK(memcmp(one.out[i], one_again.out[i], size * sizeof(float)) == 0,
              "%s: two runs with 1 thread are not bit-identical", det_names[i]);
        for (int t = 0; t < 2; t++) {
            double err = test_rel_error(more[t].out[i], one.out[i], size, 1e-3, 1e-6);
            if (err > worst) worst = err;
            CHECK(memcmp(more[t].out[i], one.out[i], size * sizeof(float)) == 0,
                  "%s: 1 vs %d threads not bit-identical (relative difference %.3e; OpenBLAS core %s)", det_names[i],
                  t + 2, err, openblas_get_corename());
        }
    }
    test_record_error("threads_1v2v3", "rel", worst);
    CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, saved));
}

/* Element-wise activations and layernorm rows split over the thread pool: bit-identical for 1, 2 and 3 threads
 * (each element or row is computed by one thread, the same way), on sizes above the split thresholds. */
static void test_pool_split_bit_identical(void) {
    ck_device_info info;
    CHECK_OK(cpu, cpu->device_info(cpu, &info));
    int saved = info.threads;
    const int N = 1531, C = 173; /* 264863 elements: many 2048-element blocks plus a ragged tail */
    size_t n = (size_t)N * C;
    test_rng rng = test_rng_make(29);
    float *x = test_buffer(n), *dy = test_buffer(n), *g = test_buffer((size_t)C), *be = test_buffer((size_t)C);
    test_fill(&rng, x, n, -4, 4);
    test_fill(&rng, dy, n, -1, 1);
    test_fill(&rng, g, (size_t)C, 0.5f, 1.5f);
    test_fill(&rng, be, (size_t)C, -0.5f, 0.5f);
    const ck_activation acts[5] = {CK_ACT_GELU, CK_ACT_ELU, CK_ACT_SOFTPLUS, CK_ACT_SIGMOID, CK_ACT_TANH};
    float *ref[3][5], *dref[3][5], *ln[3], *mean[3], *rstd[3];
    for (int t = 0; t < 3; t++) {
        CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, t + 1));
        for (int a = 0; a < 5; a++) {
            ref[t][a] = test_buffer(n);
            dref[t][a] = test_buffer(n);
            memcpy(dref[t][a], dy, n * sizeof(float)); /* bwd accumulates */
            CHECK_OK(cpu, cpu->activation_fwd(cpu, ref[t][a], x, n, acts[a]));
            CHECK_OK(cpu, cpu->activation_bwd(cpu, dref[t][a], dy, x, ref[t][a], n, acts[a]));
        }
        ln[t] = test_buffer(n);
        mean[t] = test_buffer((size_t)N);
        rstd[t] = test_buffer((size_t)N);
        CHECK_OK(cpu, cpu->layernorm_fwd(cpu, ln[t], mean[t], rstd[t], x, g, be, N, C, 1e-5f));
    }
    for (int t = 1; t < 3; t++) {
        for (int a = 0; a < 5; a++) {
            CHECK(memcmp(ref[t][a], ref[0][a], n * sizeof(float)) == 0, "activation %d fwd: %d threads differ from 1",
                  (int)acts[a], t + 1);
            CHECK(memcmp(dref[t][a], dref[0][a], n * sizeof(float)) == 0,
                  "activation %d bwd: %d threads differ from 1", (int)acts[a], t + 1);
        }
        CHECK(memcmp(ln[t], ln[0], n * sizeof(float)) == 0 && memcmp(mean[t], mean[0], N * sizeof(float)) == 0 &&
                  memcmp(rstd[t], rstd[0], N * sizeof(float)) == 0,
              "layernorm_fwd: %d threads differ from 1", t + 1);
    }
    /* In place (out == inp) on the split path too. */
    float *inplace = test_buffer(n);
    memcpy(inplace, x, n * sizeof(float));
    CHECK_OK(cpu, cpu->activation_fwd(cpu, inplace, inplace, n, CK_ACT_SIGMOID));
    CHECK(memcmp(inplace, ref[2][3], n * sizeof(float)) == 0, "sigmoid in place on 3 threads differs");
    CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_THREADS, saved));
}

/* ---- memory, options, errors ----------------------------------------------------------------------------- */
static void test_backend_basics(void) {
    CHECK(cpu->abi_version == CK_ABI_VERSION && strcmp(cpu->name, "cpu") == 0, "table identity");
    CHECK(cpu->caps & CK_CAP_HOST_MEMORY, "cpu backend has host memory");
    void *p = (void *)1;
    CHECK_OK(cpu, cpu->alloc(cpu, &p, 0));
    CHECK(p == NULL, "alloc of 0 bytes gives NULL");
    CHECK_OK(cpu, cpu->alloc(cpu, &p, 1000));
    CHECK(p != NULL && ((uintptr_t)p % 256) == 0, "alloc is 256-byte aligned");
    float host[250], back[250];
    for (int i = 0; i < 250; i++) host[i] = (float)i;
    CHECK_OK(cpu, cpu->copy_h2d(cpu, p, host, sizeof host));
    CHECK_OK(cpu, cpu->copy_d2h(cpu, back, p, sizeof back));
    CHECK(memcmp(host, back, sizeof host) == 0, "copy round trip");
    CHECK_OK(cpu, cpu->memset_zero(cpu, p, sizeof host));
    CHECK(((float *)p)[249] == 0.0f, "memset_zero");
    CHECK_OK(cpu, cpu->free(cpu, p));
    CHECK_OK(cpu, cpu->free(cpu, NULL));
    CHECK_OK(cpu, cpu->sync(cpu));
    ck_device_info info;
    CHECK_OK(cpu, cpu->device_info(cpu, &info));
    CHECK(strstr(info.name, "OpenBLAS") != NULL && info.threads >= 1 && info.total_memory > 0, "device_info: %s",
          info.name);

    float x[8] = {0};
    CHECK(cpu->conv1d_fwd(cpu, x, x, x, NULL, 1, 2, 1, 1, 2) == CK_ERR_INVALID_ARGUMENT, "even K must be rejected");
    CHECK(strstr(cpu->last_error(cpu), "conv1d_fwd") != NULL, "last_error names the op: '%s'", cpu->last_error(cpu));
    CHECK(cpu->gemm(cpu, x, x, x, 2, 2, 2, 0, 0, 1, 2, 2, 1, 0) == CK_ERR_INVALID_ARGUMENT, "lda < K rejected");
    CHECK(cpu->set_option(cpu, CK_OPT_THREADS, 0) == CK_ERR_INVALID_ARGUMENT, "0 threads rejected");
    CHECK(cpu->set_option(cpu, CK_OPT_ALLOW_TF32, 1) == CK_ERR_UNSUPPORTED, "no TF32 on the CPU");
    CHECK_OK(cpu, cpu->set_option(cpu, CK_OPT_ALLOW_TF32, 0));
    CHECK(cpu->attention_fwd(cpu, x, x, x, x, x, NULL, 1, 2, 2, 2, 3, 4, 4, 4, 0) == CK_ERR_INVALID_ARGUMENT,
          "ldq < NH*HS rejected");
    CHECK(cpu->adamw_step(cpu, x, x, x, x, 8, 1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0, 1) == CK_ERR_INVALID_ARGUMENT,
          "step 0 rejected");
    CHECK(cpu->step_pool_fwd(cpu, x, x, 1, 2, 2, 2) == CK_ERR_INVALID_ARGUMENT, "t >= L rejected");

    /* softmax of a fully masked row is zeros, not NaN */
    float row[3] = {-INFINITY, -INFINITY, -INFINITY}, out[3];
    CHECK_OK(cpu, cpu->softmax_fwd(cpu, out, row, 1, 3));
    CHECK(out[0] == 0.0f && out[1] == 0.0f && out[2] == 0.0f, "masked softmax row");
    float big[3] = {1000.0f, 999.0f, -1000.0f};
    CHECK_OK(cpu, cpu->softmax_fwd(cpu, out, big, 1, 3));
    CHECK(fabsf(out[0] - 0.7310586f) < 1e-6f && out[2] == 0.0f, "softmax of large logits");
}

/* NULL biases equal zero biases; empty sequences leave the state alone; NULL gradients are skipped. */
static void test_optional_arguments(void) {
    test_rng rng = test_rng_make(13);
    int B = 2, L = 5, C = 3, O = 4, K = 3, H = 3;
    float *x = test_buffer((size_t)B * L * C), *w = test_buffer((size_t)O * C * K), *zero = test_buffer(4u * H + O);
    float *y1 = test_buffer((size_t)B * L * O), *y2 = test_buffer((size_t)B * L * O);
    test_fill(&rng, x, (size_t)B * L * C, -1, 1);
    test_fill(&rng, w, (size_t)O * C * K, -1, 1);
    for (size_t i = 0; i < (size_t)B * L * O; i++) y1[i] = NAN; /* forward must overwrite, not accumulate */
    CHECK_OK(cpu, cpu->conv1d_fwd(cpu, y1, x, w, NULL, B, L, C, O, K));
    CHECK_OK(cpu, cpu->conv1d_fwd(cpu, y2, x, w, zero, B, L, C, O, K));
    CHECK(memcmp(y1, y2, (size_t)B * L * O * sizeof(float)) == 0, "conv1d: NULL bias differs from a zero bias");
    for (size_t i = 0; i < (size_t)B * L * O; i++) y1[i] = NAN;
    CHECK_OK(cpu, cpu->linear_fwd(cpu, y1, x, w, NULL, B * L, C, O));
    CHECK_OK(cpu, cpu->linear_fwd(cpu, y2, x, w, zero, B * L, C, O));
    CHECK(memcmp(y1, y2, (size_t)B * L * O * sizeof(float)) == 0, "linear: NULL bias differs from a zero bias");
    /* LSTM: NULL biases / states equal zeros; L = 0 passes c0 through to c_final */
    float *wih = test_buffer(4u * H * C), *whh = test_buffer(4u * H * H), *h1 = test_buffer((size_t)B * L * H);
    float *h2 = test_buffer((size_t)B * L * H), *cache = test_buffer(CK_LSTM_CACHE_FLOATS(B, L, H));
    float *c0 = test_buffer((size_t)B * H), *cf = test_buffer((size_t)B * H);
    test_fill(&rng, wih, 4u * H * C, -1, 1);
    test_fill(&rng, whh, 4u * H * H, -1, 1);
    test_fill(&rng, c0, (size_t)B * H, -1, 1);
    CHECK_OK(cpu, cpu->lstm_fwd(cpu, h1, NULL, cache, x, wih, whh, NULL, NULL, NULL, NULL, B, L, C, H, 1));
    CHECK_OK(cpu, cpu->lstm_fwd(cpu, h2, NULL, cache, x, wih, whh, zero, zero, zero, zero, B, L, C, H, 1));
    CHECK(memcmp(h1, h2, (size_t)B * L * H * sizeof(float)) == 0, "lstm: NULL biases/states differ from zeros");
    CHECK_OK(cpu, cpu->lstm_fwd(cpu, h1, cf, cache, x, wih, whh, NULL, NULL, NULL, c0, B, 0, C, H, 0));
    CHECK(memcmp(cf, c0, (size_t)B * H * sizeof(float)) == 0, "lstm with L = 0: c_final must equal c0");
    /* backward with every optional gradient NULL is a no-op that succeeds */
    float *scratch = test_buffer(CK_LSTM_BWD_SCRATCH_FLOATS(B, L, H));
    CHECK_OK(cpu, cpu->lstm_fwd(cpu, h1, NULL, cache, x, wih, whh, NULL, NULL, NULL, NULL, B, L, C, H, 0));
    CHECK_OK(cpu, cpu->lstm_bwd(cpu, NULL, NULL, NULL, NULL, NULL, NULL, NULL, scratch, h1, NULL, x, wih, whh, NULL,
                                NULL, cache, h1, B, L, C, H, 0));
    CHECK_OK(cpu, cpu->conv1d_bwd(cpu, NULL, NULL, NULL, y1, x, w, B, L, C, O, K));
    CHECK_OK(cpu, cpu->linear_bwd(cpu, NULL, NULL, NULL, y1, x, w, B * L, C, O));
}

void run_misc_tests(void) {
    cpu = ck_cpu_backend();
    test_gemm();
    test_small_gemm();
    test_packed_gemm();
    test_packed_sgemm();
    test_reductions();
    test_digamma();
    test_fast_math();
    test_dropout();
    test_thread_determinism();
    test_pool_split_bit_identical();
    test_backend_basics();
    test_optional_arguments();
}
