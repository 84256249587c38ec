#!/usr/bin/env python3
"""Reference values for the evidential Beta-Bernoulli loss (Sources/Models/Losses/EvidentialBetaLoss.swift, the
backend's evidential_beta kernels) and the rank-target BetaNLL, independent of AITrader's derivation:

- nll: -log P(y | alpha, beta) of Beta-Bernoulli = -scipy.stats.betabinom(1, alpha, beta).logpmf(y) for hard labels;
  for soft labels y in (0, 1) the same expression's continuation log(a+b) - y log a - (1-y) log b;
- kl: KL(Beta(a~, b~) || Beta(1, 1)) with a~ = y + (1-y) alpha, b~ = (1-y) + y beta, from scipy.special gammaln /
  digamma, cross-checked by integrating p log p over (0, 1) with scipy.integrate.quad (-> `kl_quad_error`);
- gradients: central finite differences in float64 of those reference functions (h = 1e-6 relative), not the
  analytic trigamma formulas the kernels use.
- rank: BetaNLL of the empirical-CDF rank target -scipy.stats.beta(a, b).logpdf(eps + (1 - 2 eps) r).

Inputs are float32-representable, so the Swift test feeds exactly these values. Writes
Tests/ModelsTests/Fixtures/evidential_loss.json.

    python3 -m venv .venv-ref && .venv-ref/bin/pip install numpy scipy==1.17.1
    .venv-ref/bin/python tools/reference/loss_fixtures.py
"""
import json
import os

import numpy as np
import scipy
from scipy import integrate, stats
from scipy.special import digamma, gammaln

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RNG = np.random.default_rng(20250615)


def nll(a, b, y):
    if y in (0.0, 1.0):
        return -float(stats.betabinom(1, a, b).logpmf(int(y)))
    return float(np.log(a + b) - y * np.log(a) - (1 - y) * np.log(b))


def kl_uniform(a, b):
    s = a + b
    return float(gammaln(s) - gammaln(a) - gammaln(b) + (a - 1) * (digamma(a) - digamma(s)) + (b - 1) * (digamma(b) - digamma(s)))


def kl(a, b, y):
    return kl_uniform(y + (1 - y) * a, (1 - y) + y * b)


def kl_quad(a, b, y):
    at, bt = y + (1 - y) * a, (1 - y) + y * b
    dist = stats.beta(at, bt)
    value, _ = integrate.quad(lambda p: dist.pdf(p) * dist.logpdf(p) if 0 < p < 1 else 0.0, 0, 1, limit=200)
    return value


def grad(f, a, b, y):
    ha, hb = 1e-6 * a, 1e-6 * b
    return ((f(a + ha, b, y) - f(a - ha, b, y)) / (2 * ha), (f(a, b + hb, y) - f(a, b - hb, y)) / (2 * hb))


def main():
    n = 40
    alpha = np.exp(RNG.uniform(np.log(0.05), np.log(40), n)).astype(np.float32)
    beta = np.exp(RNG.uniform(np.log(0.05), np.log(40), n)).astype(np.float32)
    y = np.concatenate([np.tile([1.0, 0.0], 15), RNG.uniform(0, 1, n - 30)]).astype(np.float32)
    alpha[:4] = [1.0, 0.5, 2.0, 1.0]
    beta[:4] = [3.0, 1.0, 0.25, 1.0]
    a64, b64, y64 = alpha.astype(np.float64), beta.astype(np.float64), y.astype(np.float64)
    cases = []
    quad_error = 0.0
    for a, b, t in zip(a64, b64, y64):
        t = float(t)
        dn, dk = grad(nll, a, b, t), grad(kl, a, b, t)
        k = kl(a, b, t)
        if min(t + (1 - t) * a, (1 - t) + t * b) >= 0.2:  # quad is accurate away from strong edge singularities
            quad_error = max(quad_error, abs(kl_quad(a, b, t) - k) / max(1.0, abs(k)))
        cases.append(dict(alpha=float(a), beta=float(b), y=t, nll=nll(a, b, t), kl=k, dnll_dalpha=dn[0],
                          dnll_dbeta=dn[1], dkl_dalpha=dk[0], dkl_dbeta=dk[1]))
    # Rank targets: BetaNLL of eps + (1 - 2 eps) r, r the empirical CDF rank.
    eps = 0.05
    ranks = [0.0, 0.25, 0.5, 0.9, 1.0]
    rank_cases = [dict(alpha=float(a), beta=float(b), rank=r,
                       nll=-float(stats.beta(a, b).logpdf(np.float64(np.float32(eps + (1 - 2 * eps) * r)))))
                  for a, b, r in zip(a64[:5], b64[:5], ranks)]
    out = dict(scipy=scipy.__version__, numpy=np.__version__, kl_quad_error=quad_error, cases=cases,
               rank_epsilon=eps, rank_cases=rank_cases)
    path = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures", "evidential_loss.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: {n} cases, kl vs quad {quad_error:.2e}")


if __name__ == "__main__":
    main()
