#!/usr/bin/env python3
"""Reference values of the ensemble combiner (Sources/Models/Ensemble), written independently in numpy from the
formulas documented in TechnicalEnsemble.swift, BetaMixture.swift and DynamicWeightCalculator.swift.

Cases: the worked example of TechnicalEnsemble's documentation, then seeded random ones (alpha, beta in
[0.3, 40], Platt calibrations or the identity, dynamic weights, penalty, floor, weight scale, threshold). For each:
every model's raw and calibrated p, confidence, base and effective weight, and the mixture's mean, variance,
alpha, beta, the agreement, the penalty, the confidence and the direction. The moment match is also checked here
against scipy.stats.beta (mean and variance of the matched Beta equal the mixture's). Performance multipliers of
DynamicWeightCalculator on seeded outcome lists are included. Writes Tests/ModelsTests/Fixtures/ensemble_numpy.json.

    ./.venv/bin/python tools/reference/ensemble_fixtures.py
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPS = 1e-12
LIMIT = 1e-6


def platt(p, a, b):
    c = min(max(p, EPS), 1 - EPS)
    z = a * (np.log(c) - np.log1p(-c)) + b
    return 1 / (1 + np.exp(-z)) if z >= 0 else np.exp(z) / (1 + np.exp(z))


def combine(models, weights, penalty_lambda, floor, scale, threshold):
    alpha = np.array([m["alpha"] for m in models])
    beta = np.array([m["beta"] for m in models])
    kappa = alpha + beta
    raw = alpha / kappa
    p = np.array([platt(r, m["platt"][0], m["platt"][1]) if m["platt"] else r for r, m in zip(raw, models)])
    p = np.clip(p, LIMIT, 1 - LIMIT)
    sd = np.sqrt(p * (1 - p) / (kappa + 1))
    conf = np.clip(np.abs(2 * p - 1) * (1 - 2 * sd), 0, 1)
    base = np.array(weights, dtype=np.float64)
    base = base / base.sum()
    rw = base * np.maximum(conf, floor)
    w = rw / rw.sum()
    m = float(np.sum(w * p))
    var_i = p * (1 - p) / (kappa + 1)
    V = float(np.sum(w * (var_i + p * p)) - m * m)
    k = m * (1 - m) / V - 1
    up = float(w[p > 0.5].sum())
    down = float(w[p < 0.5].sum())
    pen = penalty_lambda * 2 * min(up, down)
    c = min(1.0, max(0.0, abs(2 * m - 1) * (1 - 2 * np.sqrt(V)))) * (1 - pen) * scale
    side = 1 if m > 0.5 else (-1 if m < 0.5 else 0)
    try:
        from scipy.stats import beta as B
        mm, vv = B.stats(m * k, (1 - m) * k, moments="mv")
        assert abs(mm - m) < 1e-12 and abs(vv - V) < 1e-12 * max(1, V)
    except ImportError:
        pass
    return {
        "p_raw": raw.tolist(), "p": p.tolist(), "confidence": conf.tolist(), "base_weight": base.tolist(), "weight": w.tolist(),
        "mean": m, "variance": V, "alpha": m * k, "beta": (1 - m) * k, "agreement": max(up, down), "penalty": pen,
        "ensemble_confidence": c, "direction": side if c >= threshold else 0,
    }


def performance(outcomes, prior, sensitivity, pnl_share, lo, hi):
    d = np.array([o[0] for o in outcomes], dtype=np.float64)
    r = np.array([o[1] for o in outcomes], dtype=np.float64)
    n = len(outcomes)
    hits = int(np.sum(d * r > 0))
    acc = 2 * (hits + prior / 2) / (n + prior) - 1 if n + prior > 0 else 0.0
    absolute = float(np.abs(r).sum())
    pnl = float(np.sum(d * r))
    pnl_edge = pnl / absolute * n / (n + prior) if absolute > 0 else 0.0
    score = (1 - pnl_share) * acc + pnl_share * pnl_edge
    return {"hits": hits, "pnl": pnl, "accuracy_edge": acc, "pnl_edge": pnl_edge,
            "multiplier": float(min(max(1 + sensitivity * score, lo), hi))}


def main():
    rng = np.random.default_rng(20240716)
    cases = []
    worked = {"models": [{"alpha": 6.0, "beta": 4.0, "platt": None}, {"alpha": 3.3, "beta": 2.7, "platt": None},
                         {"alpha": 1.2, "beta": 2.8, "platt": None}],
              "weights": [0.3, 0.35, 0.35], "lambda": 0.5, "floor": 0.05, "scale": 1.0, "threshold": 0.05}
    cases.append(worked)
    for _ in range(40):
        models = []
        for _ in range(3):
            a, b = rng.uniform(0.3, 40, size=2)
            cal = None if rng.random() < 0.3 else [float(rng.uniform(0.3, 3)), float(rng.uniform(-0.4, 0.4))]
            models.append({"alpha": float(a), "beta": float(b), "platt": cal})
        cases.append({"models": models, "weights": rng.uniform(0.05, 1, size=3).tolist(),
                      "lambda": float(rng.uniform(0, 1)), "floor": float(rng.choice([0.0, 0.05, 0.2])),
                      "scale": float(rng.choice([1.0, 0.7])), "threshold": float(rng.choice([0.0, 0.05, 0.1]))})
    for c in cases:
        c["expected"] = combine(c["models"], c["weights"], c["lambda"], c["floor"], c["scale"], c["threshold"])
    perf = []
    for n in [0, 1, 7, 50]:
        outcomes = [[int(rng.choice([-1, 1])), float(rng.normal(0, 0.01))] for _ in range(n)]
        params = {"prior": 10.0, "sensitivity": float(rng.uniform(0.5, 2)), "pnl_share": float(rng.uniform(0, 1)),
                  "min": 0.25, "max": 2.0}
        perf.append({"outcomes": outcomes, **params,
                     "expected": performance(outcomes, params["prior"], params["sensitivity"], params["pnl_share"],
                                             params["min"], params["max"])})
    out = os.path.join(ROOT, "Tests/ModelsTests/Fixtures/ensemble_numpy.json")
    with open(out, "w") as f:
        json.dump({"generator": "tools/reference/ensemble_fixtures.py", "numpy": np.__version__, "cases": cases,
                   "performance": perf}, f, indent=1)
        f.write("\n")
    print("wrote", out, len(cases), "cases")
    e = cases[0]["expected"]
    print(json.dumps(e, indent=1))


if __name__ == "__main__":
    main()
