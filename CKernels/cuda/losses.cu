/* Distribution losses on the device: Beta and Dirichlet negative log-likelihoods, the evidential Beta-Bernoulli
 * loss with its evidence regulariser, and their gradients, with lgamma, digamma and trigamma evaluated in double
 * precision (one thread per sample; the work is tiny next to the models, and double keeps the GPU within float
 * rounding of the CPU backend). */
#include "ck_cuda.h"

/** digamma(x) for x > 0: recurrence up to x >= 6, then the asymptotic series (error < 1e-15). */
__device__ double ck_digamma(double x) {
    double shift = 0.0;
    while (x < 6.0) {
        shift -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double tail = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
    return shift + log(x) - 0.5 / x - tail;
}

/** trigamma(x) for x > 0: recurrence up to x >= 10, then the asymptotic series (error < 1e-13). */
__device__ double ck_trigamma(double x) {
    double shift = 0.0;
    while (x < 10.0) {
        shift += 1.0 / (x * x);
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    return shift + 1.0 / x + 0.5 * f + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f * (1.0 / 30 - f * (5.0 / 66)))));
}

/** KL(Beta(a, b) || Beta(1, 1)). */
__device__ double ck_beta_kl_uniform(double a, double b) {
    double dsum = ck_digamma(a + b);
    return lgamma(a + b) - lgamma(a) - lgamma(b) + (a - 1.0) * (ck_digamma(a) - dsum) + (b - 1.0) * (ck_digamma(b) - dsum);
}

__global__ void evidential_beta_fwd_kernel(float *nll, float *kl, const float *alpha, const float *beta, const float *y,
                                           int N) {
    CK_GRID_STRIDE(i, (size_t)N) {
        double a = alpha[i], b = beta[i], t = y[i];
        nll[i] = (float)(log(a + b) - t * log(a) - (1.0 - t) * log(b));
        if (kl) kl[i] = (float)ck_beta_kl_uniform(t + (1.0 - t) * a, (1.0 - t) + t * b);
    }
}

__global__ void evidential_beta_bwd_kernel(float *dalpha, float *dbeta, const float *dnll, const float *dkl,
                                           const float *alpha, const float *beta, const float *y, int N) {
    CK_GRID_STRIDE(i, (size_t)N) {
        double a = alpha[i], b = beta[i], t = y[i], g = dnll[i];
        double inv_sum = 1.0 / (a + b);
        double ga = g * (inv_sum - t / a), gb = g * (inv_sum - (1.0 - t) / b);
        if (dkl) {
            double at = t + (1.0 - t) * a, bt = (1.0 - t) + t * b, k = dkl[i];
            double tri_sum = ck_trigamma(at + bt) * (at + bt - 2.0);
            ga += k * (1.0 - t) * ((at - 1.0) * ck_trigamma(at) - tri_sum);
            gb += k * t * ((bt - 1.0) * ck_trigamma(bt) - tri_sum);
        }
        if (dalpha) dalpha[i] += (float)ga;
        if (dbeta) dbeta[i] += (float)gb;
    }
}

__global__ void beta_nll_fwd_kernel(float *loss, const float *alpha, const float *beta, const float *y, int N) {
    CK_GRID_STRIDE(i, (size_t)N) {
        double a = alpha[i], b = beta[i], t = y[i];
        loss[i] = (float)(lgamma(a) + lgamma(b) - lgamma(a + b) - (a - 1.0) * log(t) - (b - 1.0) * log1p(-t));
    }
}

__global__ void beta_nll_bwd_kernel(float *dalpha, float *dbeta, const float *dloss, const float *alpha,
                                    const float *beta, const float *y, int N) {
    CK_GRID_STRIDE(i, (size_t)N) {
        double a = alpha[i], b = beta[i], t = y[i], d = dloss[i];
        double dsum = ck_digamma(a + b);
        if (dalpha) dalpha[i] += (float)(d * (ck_digamma(a) - dsum - log(t)));
        if (dbeta) dbeta[i] += (float)(d * (ck_digamma(b) - dsum - log1p(-t)));
    }
}

__global__ void dirichlet_nll_fwd_kernel(float *loss, const float *conc, const float *y, int N, int K) {
    CK_GRID_STRIDE(i, (size_t)N) {
        const float *c = conc + i * K, *t = y + i * K;
        double total = 0.0, acc = 0.0;
        for (int k = 0; k < K; k++) {
            double ck = c[k];
            total += ck;
            acc += lgamma(ck) - (ck - 1.0) * log((double)t[k]);
        }
        loss[i] = (float)(acc - lgamma(total));
    }
}

__global__ void dirichlet_nll_bwd_kernel(float *dconc, const float *dloss, const float *conc, const float *y, int N, int K) {
    CK_GRID_STRIDE(i, (size_t)N) {
        const float *c = conc + i * K, *t = y + i * K;
        double total = 0.0;
        for (int k = 0; k < K; k++) total += c[k];
        double dsum = ck_digamma(total), d = dloss[i];
        for (int k = 0; k < K; k++)
            dconc[i * K + k] += (float)(d * (ck_digamma((double)c[k]) - dsum - log((double)t[k])));
    }
}

static ck_status beta_nll_fwd(ck_backend *b, float *loss, const float *alpha, const float *beta, const float *y, int N) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0, "beta_nll_fwd");
    if (N == 0) return CK_OK;
    beta_nll_fwd_kernel<<<ck_grid(N), CK_BLOCK, 0, cu->stream>>>(loss, alpha, beta, y, N);
    return ck_cuda_launched(cu, "beta_nll_fwd");
}

static ck_status beta_nll_bwd(ck_backend *b, float *dalpha, float *dbeta, const float *dloss, const float *alpha,
                              const float *beta, const float *y, int N) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0, "beta_nll_bwd");
    if (N == 0 || (dalpha == nullptr && dbeta == nullptr)) return CK_OK;
    beta_nll_bwd_kernel<<<ck_grid(N), CK_BLOCK, 0, cu->stream>>>(dalpha, dbeta, dloss, alpha, beta, y, N);
    return ck_cuda_launched(cu, "beta_nll_bwd");
}

static ck_status evidential_beta_fwd(ck_backend *b, float *nll, float *kl, const float *alpha, const float *beta,
                                     const float *y, int N) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0, "evidential_beta_fwd");
    if (N == 0) return CK_OK;
    evidential_beta_fwd_kernel<<<ck_grid(N), CK_BLOCK, 0, cu->stream>>>(nll, kl, alpha, beta, y, N);
    return ck_cuda_launched(cu, "evidential_beta_fwd");
}

static ck_status evidential_beta_bwd(ck_backend *b, float *dalpha, float *dbeta, const float *dnll, const float *dkl,
                                     const float *alpha, const float *beta, const float *y, int N) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0, "evidential_beta_bwd");
    if (N == 0 || (dalpha == nullptr && dbeta == nullptr)) return CK_OK;
    evidential_beta_bwd_kernel<<<ck_grid(N), CK_BLOCK, 0, cu->stream>>>(dalpha, dbeta, dnll, dkl, alpha, beta, y, N);
    return ck_cuda_launched(cu, "evidential_beta_bwd");
}

static ck_status dirichlet_nll_fwd(ck_backend *b, float *loss, const float *conc, const float *y, int N, int K) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && K >= 2, "dirichlet_nll_fwd");
    if (N == 0) return CK_OK;
    dirichlet_nll_fwd_kernel<<<ck_grid(N), CK_BLOCK, 0, cu->stream>>>(loss, conc, y, N, K);
    return ck_cuda_launched(cu, "dirichlet_nll_fwd");
}

static ck_status dirichlet_nll_bwd(ck_backend *b, float *dconc, const float *dloss, const float *conc, const float *y,
                                   int N, int K) {
    ck_cuda *cu = ck_cuda_of(b);
    CK_REQUIRE(cu, N >= 0 && K >= 2, "dirichlet_nll_bwd");
    if (N == 0 || dconc == nullptr) return CK_OK;
    dirichlet_nll_bwd_kernel<<<ck_grid(N), CK_BLOCK, 0, cu->stream>>>(dconc, dloss, conc, y, N, K);
    return ck_cuda_launched(cu, "dirichlet_nll_bwd");
}

void ck_cuda_fill_loss_ops(ck_backend *t) {
    t->beta_nll_fwd = beta_nll_fwd;
    t->beta_nll_bwd = beta_nll_bwd;
    t->evidential_beta_fwd = evidential_beta_fwd;
    t->evidential_beta_bwd = evidential_beta_bwd;
    t->dirichlet_nll_fwd = dirichlet_nll_fwd;
    t->dirichlet_nll_bwd = dirichlet_nll_bwd;
}
