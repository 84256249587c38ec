/*
 * distributions.c — negative log-likelihoods of the Beta and Dirichlet distributions and their gradients with
 * respect to the concentrations (torch.distributions.Beta / Dirichlet .log_prob, negated). Evaluated in double:
 * lgamma from libm (lgamma_r, thread-safe), digamma below (recurrence + asymptotic series).
 * The targets y must lie strictly inside (0, 1) / the open simplex; the caller clamps them.
 *
 *     cpu->beta_nll_fwd(cpu, loss, alpha, beta, y, N);
 *     cpu->beta_nll_bwd(cpu, dalpha, dbeta, dloss, alpha, beta, y, N);   // accumulates
 *     cpu->evidential_beta_fwd(cpu, nll, kl, alpha, beta, y, N);          // Beta-Bernoulli NLL + evidence KL
 *     cpu->evidential_beta_bwd(cpu, dalpha, dbeta, dnll, dkl, alpha, beta, y, N);
 */
#include "cpu_internal.h"

#include <math.h>

static double log_gamma(double x) {
    int sign;
    return lgamma_r(x, &sign);
}

double ck_cpu_digamma(double x) {
    if (isnan(x) || x == -INFINITY) return NAN;
    if (x == INFINITY) return INFINITY;
    if (x <= 0.0) {
        if (x == floor(x)) return x == 0.0 ? -INFINITY : NAN; /* poles (PyTorch: -inf at 0, nan below) */
        /* Reflection: psi(x) = psi(1 - x) - pi / tan(pi x) */
        return ck_cpu_digamma(1.0 - x) - M_PI / tan(M_PI * x);
    }
    double result = 0.0;
    /* Recurrence psi(x) = psi(x + 1) - 1/x until the asymptotic series is accurate to double precision. */
    while (x < 10.0) {
        result -= 1.0 / x;
        x += 1.0;
    }
    /* psi(x) ~ ln x - 1/(2x) - sum_k B_2k / (2k x^2k) */
    double f = 1.0 / (x * x);
    double series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
    return result + log(x) - 0.5 / x - series;
}

/* trigamma(x) for x > 0: recurrence psi1(x) = psi1(x + 1) + 1/x^2 up to x >= 10, then the asymptotic series
 * 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1) (error below 1e-13 there). NaN for x <= 0 (never reached: alpha, beta > 0). */
double ck_cpu_trigamma(double x) {
    if (isnan(x) || x <= 0.0) return NAN;
    if (x == INFINITY) return 0.0;
    double result = 0.0;
    while (x < 10.0) {
        result += 1.0 / (x * x);
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double series = 1.0 / x + 0.5 * f +
                    f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f * (1.0 / 30 - f * (5.0 / 66)))));
    return result + series;
}

/* KL(Beta(a, b) || Beta(1, 1)) (log B(1, 1) = 0). */
static double beta_kl_uniform(double a, double b) {
    double psi_ab = ck_cpu_digamma(a + b);
    return log_gamma(a + b) - log_gamma(a) - log_gamma(b) + (a - 1.0) * (ck_cpu_digamma(a) - psi_ab) +
           (b - 1.0) * (ck_cpu_digamma(b) - psi_ab);
}

ck_status ck_cpu_evidential_beta_fwd(ck_backend *b, float *nll, float *kl, const float *alpha, const float *beta,
                                     const float *y, int N) {
    (void)b;
    CK_REQUIRE(N >= 0, "evidential_beta_fwd: N must be >= 0 (got %d)", N);
    if (N == 0) return CK_OK;
    CK_REQUIRE(nll != NULL && alpha != NULL && beta != NULL && y != NULL, "evidential_beta_fwd: NULL argument");
    for (int i = 0; i < N; i++) {
        double a = alpha[i], bb = beta[i], yi = y[i];
        nll[i] = (float)(log(a + bb) - yi * log(a) - (1.0 - yi) * log(bb));
        if (kl != NULL) kl[i] = (float)beta_kl_uniform(yi + (1.0 - yi) * a, (1.0 - yi) + yi * bb);
    }
    return CK_OK;
}

ck_status ck_cpu_evidential_beta_bwd(ck_backend *b, float *dalpha, float *dbeta, const float *dnll, const float *dkl,
                                     const float *alpha, const float *beta, const float *y, int N) {
    (void)b;
    CK_REQUIRE(N >= 0, "evidential_beta_bwd: N must be >= 0 (got %d)", N);
    if (N == 0 || (dalpha == NULL && dbeta == NULL)) return CK_OK;
    CK_REQUIRE(dnll != NULL && alpha != NULL && beta != NULL && y != NULL, "evidential_beta_bwd: NULL argument");
    for (int i = 0; i < N; i++) {
        double a = alpha[i], bb = beta[i], yi = y[i], g = dnll[i];
        double inv_sum = 1.0 / (a + bb);
        double ga = g * (inv_sum - yi / a), gb = g * (inv_sum - (1.0 - yi) / bb);
        if (dkl != NULL) {
            double at = yi + (1.0 - yi) * a, bt = (1.0 - yi) + yi * bb, k = dkl[i];
            double tri_sum = ck_cpu_trigamma(at + bt) * (at + bt - 2.0);
            ga += k * (1.0 - yi) * ((at - 1.0) * ck_cpu_trigamma(at) - tri_sum);
            gb += k * yi * ((bt - 1.0) * ck_cpu_trigamma(bt) - tri_sum);
        }
        if (dalpha != NULL) dalpha[i] += (float)ga;
        if (dbeta != NULL) dbeta[i] += (float)gb;
    }
    return CK_OK;
}

ck_status ck_cpu_beta_nll_fwd(ck_backend *b, float *loss, const float *alpha, const float *beta, const float *y,
                              int N) {
    (void)b;
    CK_REQUIRE(N >= 0, "beta_nll_fwd: N must be >= 0 (got %d)", N);
    if (N == 0) return CK_OK;
    CK_REQUIRE(loss != NULL && alpha != NULL && beta != NULL && y != NULL, "beta_nll_fwd: NULL argument");
    for (int i = 0; i < N; i++) {
        double a = alpha[i], bb = beta[i], yi = y[i];
        double lbeta = log_gamma(a) + log_gamma(bb) - log_gamma(a + bb);
        loss[i] = (float)(lbeta - (a - 1.0) * log(yi) - (bb - 1.0) * log1p(-yi));
    }
    return CK_OK;
}

ck_status ck_cpu_beta_nll_bwd(ck_backend *b, float *dalpha, float *dbeta, const float *dloss, const float *alpha,
                              const float *beta, const float *y, int N) {
    (void)b;
    CK_REQUIRE(N >= 0, "beta_nll_bwd: N must be >= 0 (got %d)", N);
    if (N == 0 || (dalpha == NULL && dbeta == NULL)) return CK_OK;
    CK_REQUIRE(dloss != NULL && alpha != NULL && beta != NULL && y != NULL, "beta_nll_bwd: NULL argument");
    for (int i = 0; i < N; i++) {
        double a = alpha[i], bb = beta[i], yi = y[i], g = dloss[i];
        double psi_ab = ck_cpu_digamma(a + bb);
        if (dalpha != NULL) dalpha[i] += (float)(g * (ck_cpu_digamma(a) - psi_ab - log(yi)));
        if (dbeta != NULL) dbeta[i] += (float)(g * (ck_cpu_digamma(bb) - psi_ab - log1p(-yi)));
    }
    return CK_OK;
}

ck_status ck_cpu_dirichlet_nll_fwd(ck_backend *b, float *loss, const float *conc, const float *y, int N, int K) {
    (void)b;
    CK_REQUIRE(N >= 0 && K >= 1, "dirichlet_nll_fwd: need N >= 0 and K >= 1 (N=%d K=%d)", N, K);
    if (N == 0) return CK_OK;
    CK_REQUIRE(loss != NULL && conc != NULL && y != NULL, "dirichlet_nll_fwd: NULL argument");
    for (int i = 0; i < N; i++) {
        const float *c = conc + (size_t)i * (size_t)K, *yi = y + (size_t)i * (size_t)K;
        double total = 0.0, acc = 0.0;
        for (int k = 0; k < K; k++) {
            total += c[k];
            acc += log_gamma(c[k]) - ((double)c[k] - 1.0) * log((double)yi[k]);
        }
        loss[i] = (float)(acc - log_gamma(total));
    }
    return CK_OK;
}

ck_status ck_cpu_dirichlet_nll_bwd(ck_backend *b, float *dconc, const float *dloss, const float *conc,
                                   const float *y, int N, int K) {
    (void)b;
    CK_REQUIRE(N >= 0 && K >= 1, "dirichlet_nll_bwd: need N >= 0 and K >= 1 (N=%d K=%d)", N, K);
    if (N == 0 || dconc == NULL) return CK_OK;
    CK_REQUIRE(dloss != NULL && conc != NULL && y != NULL, "dirichlet_nll_bwd: NULL argument");
    for (int i = 0; i < N; i++) {
        const float *c = conc + (size_t)i * (size_t)K, *yi = y + (size_t)i * (size_t)K;
        float *dc = dconc + (size_t)i * (size_t)K;
        double total = 0.0;
        for (int k = 0; k < K; k++) total += c[k];
        double psi_total = ck_cpu_digamma(total), g = dloss[i];
        for (int k = 0; k < K; k++)
            dc[k] += (float)(g * (ck_cpu_digamma(c[k]) - psi_total - log((double)yi[k])));
    }
    return CK_OK;
}
