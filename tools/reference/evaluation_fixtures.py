#!/usr/bin/env python3
"""Reference classification and calibration figures for AITrader's `aitrader evaluate` (Training/Evaluation).

Synthetic predictions (seeded): p(up), a 0/1 label and a confidence per sample, in several cases (calibrated,
over-confident, one-sided, with p exactly 0.5 and ties in the confidence). The figures:

- accuracy, precision, recall, F1 of the call p > 0.5 (sklearn, zero_division=0),
- log loss and Brier score of p (sklearn),
- ECE / MCE over 10 equal-width bins of p (bin = min(floor(10 p), 9)), numpy,
- ROC AUC of the confidence and of the concentration alpha + beta for "the call was right" (sklearn
  roc_auc_score; the concentrations, drawn from their own generator so the other cases stay as they were, are
  rounded to one decimal for ties and shifted up on right calls in some cases).

Writes Tests/TrainingTests/Fixtures/evaluation_sklearn.json (CI reads the committed file; sklearn is only needed
to regenerate it).

    .venv/bin/pip install scikit-learn==1.9.1
    .venv/bin/python tools/reference/evaluation_fixtures.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, brier_score_loss, f1_score, log_loss, precision_score, recall_score,
                             roc_auc_score)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def calibration(p, y, bins=10):
    idx = np.minimum((p * bins).astype(int), bins - 1)
    ece, mce, table = 0.0, 0.0, []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        if n == 0:
            table.append({"count": 0, "mean_p": None, "frequency": None})
            continue
        mp, fr = float(p[mask].mean()), float(y[mask].mean())
        ece += n / len(p) * abs(mp - fr)
        mce = max(mce, abs(mp - fr))
        table.append({"count": n, "mean_p": mp, "frequency": fr})
    return ece, mce, table


CONCENTRATION_RNG = np.random.default_rng(20250615)


def case(name, p, y, confidence, separation=0.0):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=int)
    confidence = np.asarray(confidence, dtype=float)
    calls = (p > 0.5).astype(int)
    correct = (calls == y).astype(int)
    concentration = np.round(np.exp(CONCENTRATION_RNG.normal(1.0, 0.6, len(p))) + separation * correct, 1)
    ece, mce, table = calibration(p, y)
    return {
        "name": name, "p": p.tolist(), "y": y.tolist(), "confidence": confidence.tolist(),
        "concentration": concentration.tolist(),
        "accuracy": float(accuracy_score(y, calls)),
        "precision": float(precision_score(y, calls, zero_division=0)),
        "recall": float(recall_score(y, calls, zero_division=0)),
        "f1": float(f1_score(y, calls, zero_division=0)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": ece, "mce": mce, "bins": table,
        "confidence_auc": float(roc_auc_score(correct, confidence)) if 0 < correct.sum() < len(correct) else None,
        "concentration_auc": float(roc_auc_score(correct, concentration)) if 0 < correct.sum() < len(correct) else None,
    }


def main():
    rng = np.random.default_rng(20240917)
    cases = []
    # Calibrated: y ~ Bernoulli(p).
    p = rng.uniform(0.05, 0.95, 400)
    y = (rng.uniform(size=400) < p).astype(int)
    cases.append(case("calibrated", p, y, np.abs(p - 0.5) * 2 + rng.normal(0, 0.05, 400), separation=1.0))
    # Over-confident: the true probability is pulled towards 0.5.
    p = rng.uniform(0.01, 0.99, 300)
    y = (rng.uniform(size=300) < 0.5 + (p - 0.5) * 0.3).astype(int)
    cases.append(case("overconfident", p, y, rng.uniform(size=300), separation=0.3))
    # Near 0.5, with p exactly 0.5 and bin edges (0.1, 0.5, 0.9), confidences on a coarse grid (ties).
    p = np.concatenate([rng.uniform(0.45, 0.55, 120), [0.5, 0.5, 0.1, 0.9, 0.3, 0.7]])
    y = rng.integers(0, 2, len(p))
    cases.append(case("near_half_ties", p, y, np.round(rng.uniform(size=len(p)), 1)))
    # Every call "down" (precision / F1 with no predicted positives).
    p = rng.uniform(0.1, 0.49, 50)
    y = rng.integers(0, 2, 50)
    cases.append(case("all_down", p, y, rng.uniform(size=50)))
    out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}
    path = os.path.join(ROOT, "Tests", "TrainingTests", "Fixtures", "evaluation_sklearn.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
