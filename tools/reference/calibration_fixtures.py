#!/usr/bin/env python3
"""Reference post-hoc calibrations for AITrader's calibration tests (Sources/Models/Calibration).

On committed synthetic (p, y) data:
- isotonic: sklearn 1.9.1 IsotonicRegression(increasing=True, out_of_bounds="clip") fitted on (p, y): its
  thresholds X_thresholds_ / y_thresholds_ and predict() on a grid that includes points outside the fitted range;
- platt: a, b of p' = sigmoid(a * logit(p) + b) minimising the mean log loss, by scipy 1.17.1
  optimize.minimize (Newton-CG with the exact gradient and Hessian, xtol 1e-15), and the transformed grid;
- temperature: the same with b = 0.
p is clipped to [1e-12, 1 - 1e-12] before the logit, as PlattScaling does. Writes
Tests/ModelsTests/Fixtures/calibration_sklearn.json.

    ./.venv/bin/pip install scikit-learn==1.9.1 scipy==1.17.1
    ./.venv/bin/python tools/reference/calibration_fixtures.py
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPS = 1e-12


def logit(p):
    c = np.clip(p, EPS, 1 - EPS)
    return np.log(c) - np.log1p(-c)


def fit_platt(p, y, temperature_only):
    x = logit(p)

    def unpack(theta):
        return (theta[0], 0.0) if temperature_only else (theta[0], theta[1])

    def loss(theta):
        a, b = unpack(theta)
        z = a * x + b
        return float(np.mean(np.logaddexp(0, z) - y * z))

    def grad(theta):
        a, b = unpack(theta)
        r = expit(a * x + b) - y
        g = np.array([np.mean(r * x), np.mean(r)])
        return g[:1] if temperature_only else g

    def hess(theta):
        a, b = unpack(theta)
        q = expit(a * x + b)
        w = q * (1 - q)
        h = np.array([[np.mean(w * x * x), np.mean(w * x)], [np.mean(w * x), np.mean(w)]])
        return h[:1, :1] if temperature_only else h

    start = np.array([1.0]) if temperature_only else np.array([1.0, 0.0])
    res = minimize(loss, start, jac=grad, hess=hess, method="Newton-CG", options={"xtol": 1e-15, "maxiter": 500})
    a, b = unpack(res.x)
    return float(a), float(b), res


def case(name, p, y, grid, separable=False):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=int)
    grid = np.asarray(grid, dtype=float)
    iso = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(p, y)
    out = {
        "name": name, "p": p.tolist(), "y": y.tolist(), "grid": grid.tolist(),
        "isotonic": {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist(),
                     "fitted": iso.predict(p).tolist(), "grid": iso.predict(grid).tolist()},
        "platt": None, "temperature": None,
    }
    if separable:  # a threshold separates the classes: the log loss has no finite minimiser (PlattScaling throws)
        return out
    pa, pb, _ = fit_platt(p, y, False)
    ta, _, _ = fit_platt(p, y, True)
    return {
        "name": name, "p": p.tolist(), "y": y.tolist(), "grid": grid.tolist(),
        "isotonic": {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist(),
                     "fitted": iso.predict(p).tolist(), "grid": iso.predict(grid).tolist()},
        "platt": {"a": pa, "b": pb, "grid": expit(pa * logit(grid) + pb).tolist()},
        "temperature": {"a": ta, "grid": expit(ta * logit(grid)).tolist()},
    }


def main():
    rng = np.random.default_rng(20240611)
    grid = np.concatenate([[0.0, 1e-15, 0.01, 0.2, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.8, 0.99, 1.0],
                           rng.uniform(0, 1, 20)])
    cases = []
    # A network pulled towards 0.5 (p = 0.5 + 0.2 (q - 0.5) + noise), half the values rounded to 3 decimals (ties).
    q = rng.uniform(0.05, 0.95, 600)
    y = (rng.uniform(0, 1, 600) < q).astype(int)
    p = np.clip(0.5 + 0.2 * (q - 0.5) + rng.normal(0, 0.01, 600), 0, 1)
    p[:300] = np.round(p[:300], 3)
    cases.append(case("shrunk_towards_half", p, y, grid))
    # Over-confident: logit scaled by 3 and shifted, heavy ties (2 decimals).
    q = rng.uniform(0.1, 0.9, 300)
    y = (rng.uniform(0, 1, 300) < q).astype(int)
    p = np.round(expit(3 * logit(q) + 0.4), 2)
    cases.append(case("overconfident_ties", p, y, grid))
    # The documentation example and a tiny case with violators at both ends.
    cases.append(case("doc_example", [0.1, 0.3, 0.2, 0.8], [0, 1, 0, 1], grid, separable=True))
    cases.append(case("violators", [0.9, 0.1, 0.5, 0.5, 0.2, 0.7, 0.3, 0.6], [0, 1, 1, 0, 0, 1, 0, 1], grid))
    out = {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "epsilon": EPS, "cases": cases}
    path = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures", "calibration_sklearn.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path, [(c["name"], len(c["p"]), len(c["isotonic"]["x"]), c["platt"]) for c in cases if c["platt"]])


if __name__ == "__main__":
    main()
