/* Distribution losses on the device: Beta and Dirichlet negative log-likelihoods and their gradients, with
 * lgamma and digamma evaluated in double precision (one thread per sample; the work is tiny next to the models,
 * and double keeps the GPU within float rounding of the CPU backend). */
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
    t->dirichlet_nll_fwd = dirichlet_nll_fwd;
    t->dirichlet_nll_bwd = dirichlet_nll_bwd;
}
