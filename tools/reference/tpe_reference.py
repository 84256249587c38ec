"""Optuna's TPESampler (defaults) and RandomSampler on Branin (2-D) and Hartmann (6-D), the median over seeds of
the best value after N trials: the reference Tests/TrainingTests/TPESamplerTests.swift compares our TPE against.

    .venv/bin/python tools/reference/tpe_reference.py > Tests/TrainingTests/Fixtures/tpe_reference.json

Needs optuna==5.1.0 (tools/reference/requirements.txt).
"""
import json
import math
import statistics

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

SEEDS = list(range(20))
BUDGET = {"branin": 60, "hartmann6": 100}

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(trial):
    x = [trial.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    total = 0.0
    for i in range(4):
        total += ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6)))
    return -total


def run(objective, sampler, n):
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n)
    return study.best_value


out = {"optuna": optuna.__version__, "seeds": len(SEEDS)}
for name, objective in [("branin", branin), ("hartmann6", hartmann6)]:
    n = BUDGET[name]
    tpe = [run(objective, optuna.samplers.TPESampler(seed=s), n) for s in SEEDS]
    rnd = [run(objective, optuna.samplers.RandomSampler(seed=s), n) for s in SEEDS]
    out[name] = {"trials": n, "tpe_median": statistics.median(tpe), "random_median": statistics.median(rnd),
                 "tpe": tpe, "random": rnd}
# The committed fixture keeps the medians; the per-seed lists are for inspection.
print(json.dumps(out, indent=1))
