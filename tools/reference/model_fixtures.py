#!/usr/bin/env python3
"""Parity fixtures for Tests/ModelsTests: the three models and the losses computed by PyTorch / scipy.

    .venv/bin/python tools/reference/model_fixtures.py Tests/ModelsTests/Fixtures

Per model (short_term, medium_term, long_term):
  <model>_small.safetensors     an AITrader checkpoint written from PyTorch: reduced widths, PyTorch default init
                                (seeded), parameter names = our checkpoint names, metadata as Sources/Models writes it
                                (format, model_type, config, feature_names, scaler, run_id).
  <model>_small_io.safetensors  x (B, L, F) [+ close (B, L)], label (B), the outputs in eval mode (alpha, beta and the
                                extras), loss = BetaNLL(alpha, beta, label) and grad.<name> for every parameter (and
                                grad.x, grad.close) of that loss.
  <model>_full_io.safetensors   forward-only parity at the design's full sizes. The weights are NOT stored (a full
                                short_term model is 13 MB): both sides fill them with models.fill_deterministic(seed)
                                (splitmix64 bits per parameter name, exact in float32, documented there); the file
                                holds the seed in its metadata, the input batch and PyTorch's outputs.
losses.safetensors: BetaNLL per sample against scipy.stats.beta.logpdf (float64) and its gradients (torch float64),
CalibrationLoss and its gradient, Dirichlet NLL against torch.distributions.Dirichlet, TradingLoss with all terms.
"""
import json
import os
import sys

import numpy as np
import scipy.stats
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models as M  # noqa: E402

SMALL = {
    "short_term": dict(sequence_length=10, input_features=5, conv_channels=[6, 8, 12], conv_kernels=[3, 5, 7],
                       lstm_hidden=7, lstm_layers=2, attention_dim=12, attention_heads=3, fc_hidden=6),
    "medium_term": dict(sequence_length=9, input_features=5, d_model=8, attention_heads=2),
    "long_term": dict(sequence_length=16, input_features=5, forecast_horizon=6, trend_blocks=2, trend_degree=3,
                      seasonality_blocks=2, block_width=12, block_layers=4, d_model=8, encoder_layers=2,
                      attention_heads=2, feedforward=16, fusion_hidden=6),
}
FULL_SEED = 20261126
BATCH_SMALL = 3
BATCH_FULL = 2


def checkpoint_metadata(model_type: str, cfg: dict, run_id: str) -> dict:
    """Metadata of an AITrader checkpoint (see Sources/Models/Checkpoint/Checkpoint.swift)."""
    f = cfg["input_features"]
    cfg = dict(cfg, model_type=model_type)
    return {
        "format": "aitrader.checkpoint",
        "format_version": "1",
        "model_type": model_type,
        "config": json.dumps(cfg, sort_keys=True, separators=(",", ":")),
        "feature_names": json.dumps([f"feature_{i}" for i in range(f)], separators=(",", ":")),
        "scaler": json.dumps({"kind": "standard", "mean": [0.25 * i for i in range(f)],
                              "scale": [1.0 + 0.5 * i for i in range(f)]}, separators=(",", ":")),
        "run_id": run_id,
        "created_by": f"tools/reference/model_fixtures.py (PyTorch {torch.__version__})",
    }


def inputs(model_type: str, cfg: dict, batch: int, generator: torch.Generator):
    x = torch.randn(batch, cfg["sequence_length"], cfg["input_features"], generator=generator)
    close = None
    if model_type == "long_term":
        walk = torch.cumsum(torch.randn(batch, cfg["sequence_length"], generator=generator) * 0.1, dim=1)
        close = (walk - walk.mean(dim=1, keepdim=True)) / (walk.std(dim=1, keepdim=True) + 1e-6)
    return x, close


def run(model, x, close):
    return model(x) if close is None else model(x, close)


def extras_tensors(extras: dict) -> dict:
    return {k: v.detach().contiguous() for k, v in extras.items()}


def small_fixture(model_type: str, out_dir: str) -> None:
    torch.manual_seed(1234)
    cfg = M.config_defaults(model_type, **SMALL[model_type])
    model = M.build(model_type, cfg).eval()
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out_dir, f"{model_type}_small.safetensors"),
              metadata=checkpoint_metadata(model_type, cfg, f"pytorch-reference-{model_type}-small"))

    g = torch.Generator().manual_seed(99)
    x, close = inputs(model_type, cfg, BATCH_SMALL, g)
    # The reference values are computed in float64 from exactly the float32 weights and inputs: Swift's float32
    # results are then measured against the exact math, not against another float32 rounding path.
    model = model.double()
    x = x.double()
    close = close.double() if close is not None else None
    x.requires_grad_(True)
    if close is not None:
        close.requires_grad_(True)
    label = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    alpha, beta, extras = run(model, x, close)
    loss = M.beta_nll(alpha, beta, label)
    loss.backward()
    io = {"x": x.detach(), "label": label, "alpha": alpha.detach(), "beta": beta.detach(), "loss": loss.detach()}
    if close is not None:
        io["close"] = close.detach()
        io["grad.close"] = close.grad
    io["grad.x"] = x.grad
    io.update(extras_tensors(extras))
    for name, p in model.named_parameters():
        io[f"grad.{name}"] = p.grad.detach().contiguous() if p.grad is not None else torch.zeros_like(p)
    io = {k: v.to(torch.float32).contiguous() for k, v in io.items()}
    save_file(io, os.path.join(out_dir, f"{model_type}_small_io.safetensors"),
              metadata={"config": json.dumps(dict(cfg, model_type=model_type), sort_keys=True),
                        "loss": "BetaNLL eps=0.05, mean over the batch", "mode": "eval (dropout off)",
                        "precision": "computed in float64 from the float32 weights and inputs, stored as float32"})


def full_fixture(model_type: str, out_dir: str) -> None:
    cfg = M.config_defaults(model_type)
    model = M.build(model_type, cfg).eval()
    M.fill_deterministic(model, FULL_SEED)
    g = torch.Generator().manual_seed(7)
    x, close = inputs(model_type, cfg, BATCH_FULL, g)
    with torch.no_grad():  # float64 reference from the float32 weights and inputs
        alpha, beta, extras = run(model.double(), x.double(), close.double() if close is not None else None)
    io = {"x": x, "alpha": alpha, "beta": beta}
    if close is not None:
        io["close"] = close
    extras = extras_tensors(extras)
    extras.pop("variable_weights", None)  # (B, L, F) is implied by importance; keep the file small
    io.update(extras)
    io = {k: v.to(torch.float32).contiguous() for k, v in io.items()}
    save_file(io, os.path.join(out_dir, f"{model_type}_full_io.safetensors"),
              metadata={"seed": str(FULL_SEED), "weights": "models.fill_deterministic(seed)",
                        "config": json.dumps(dict(cfg, model_type=model_type), sort_keys=True), "mode": "eval"})


def loss_fixture(out_dir: str) -> None:
    rng = np.random.default_rng(5)
    n = 40
    alpha = np.concatenate([[1e-3 + 1e-4, 0.5, 1.0, 2.0, 30.0, 150.0], rng.uniform(0.05, 20.0, n - 6)])
    beta = np.concatenate([[0.7, 1e-3 + 2e-4, 1.0, 5.0, 0.2, 170.0], rng.uniform(0.05, 20.0, n - 6)])
    label = np.concatenate([[1, 0, 1, 0, 0.5, 1], rng.integers(0, 2, n - 6).astype(np.float64)])
    label[10:14] = [0.25, 0.75, 0.0, 1.0]
    eps = 0.05
    y = eps + (1 - 2 * eps) * label
    # Inputs stored as float32; references computed in float64 from exactly those float32 values.
    alpha = alpha.astype(np.float32).astype(np.float64)
    beta = beta.astype(np.float32).astype(np.float64)
    scipy_nll = -scipy.stats.beta.logpdf(y, alpha, beta)
    a = torch.tensor(alpha, requires_grad=True)
    b = torch.tensor(beta, requires_grad=True)
    loss = M.beta_nll(a, b, torch.tensor(label), eps)
    loss.backward()
    out = {
        "beta.alpha": torch.tensor(alpha, dtype=torch.float32), "beta.beta": torch.tensor(beta, dtype=torch.float32),
        "beta.label": torch.tensor(label, dtype=torch.float32),
        "beta.nll_scipy": torch.tensor(scipy_nll), "beta.loss": loss.detach().reshape(()),
        "beta.grad_alpha": a.grad, "beta.grad_beta": b.grad,
    }

    p = np.concatenate([[0.0, 0.1, 0.0999, 0.95, 1.0], rng.uniform(0.0, 1.0, 45)]).astype(np.float32)
    p[20:25] = rng.uniform(0.3, 0.4, 5)  # a crowded bin; several bins stay empty (0.6-0.7 range filled sparsely)
    cal_label = rng.integers(0, 2, p.size).astype(np.float32)
    pt = torch.tensor(p.astype(np.float64), requires_grad=True)
    cal = M.calibration_loss(pt, torch.tensor(cal_label, dtype=torch.float64))
    cal.backward()
    out.update({"calibration.p": torch.tensor(p), "calibration.label": torch.tensor(cal_label),
                "calibration.loss": cal.detach().reshape(()), "calibration.grad_p": pt.grad})

    k, smooth = 3, 0.1
    conc = rng.uniform(1.0, 12.0, (12, k)).astype(np.float32)
    conc[0] = [1.0, 1.0, 1.0]
    regime = rng.integers(0, k, 12)
    target = np.full((12, k), smooth / k)
    target[np.arange(12), regime] += 1 - smooth
    c = torch.tensor(conc.astype(np.float64), requires_grad=True)
    dir_per = -torch.distributions.Dirichlet(c).log_prob(torch.tensor(target))
    dir_loss = dir_per.mean()
    dir_loss.backward()
    out.update({"dirichlet.conc": torch.tensor(conc), "dirichlet.regime": torch.tensor(regime, dtype=torch.int64),
                "dirichlet.target": torch.tensor(target), "dirichlet.nll": dir_per.detach(),
                "dirichlet.loss": dir_loss.detach().reshape(()), "dirichlet.grad_conc": c.grad})

    # TradingLoss = w_dir BetaNLL + w_cal Calibration + w_fc MSE(forecast, target) + w_reg DirichletNLL.
    nb, h = 12, 6
    weights = {"direction": 1.0, "calibration": 0.1, "forecast": 0.5, "regime": 0.2}
    ta = torch.tensor(rng.uniform(0.5, 6.0, nb).astype(np.float32).astype(np.float64), requires_grad=True)
    tb = torch.tensor(rng.uniform(0.5, 6.0, nb).astype(np.float32).astype(np.float64), requires_grad=True)
    tl = torch.tensor(rng.integers(0, 2, nb).astype(np.float64))
    tf = torch.tensor(rng.normal(0, 1, (nb, h)).astype(np.float32).astype(np.float64), requires_grad=True)
    tft = torch.tensor(rng.normal(0, 1, (nb, h)).astype(np.float32).astype(np.float64))
    tc = torch.tensor(rng.uniform(1.0, 8.0, (nb, k)).astype(np.float32).astype(np.float64), requires_grad=True)
    tr = rng.integers(0, k, nb)
    ttarget = np.full((nb, k), smooth / k)
    ttarget[np.arange(nb), tr] += 1 - smooth
    parts = {
        "direction": M.beta_nll(ta, tb, tl),
        "calibration": M.calibration_loss(ta / (ta + tb), tl),
        "forecast": ((tf - tft) ** 2).mean(),
        "regime": M.dirichlet_nll(tc, torch.tensor(ttarget)),
    }
    total = sum(weights[n] * parts[n] for n in parts)
    total.backward()
    out.update({"trading.alpha": ta.detach().float(), "trading.beta": tb.detach().float(),
                "trading.label": tl.float(), "trading.forecast": tf.detach().float(),
                "trading.forecast_target": tft.float(), "trading.regime_conc": tc.detach().float(),
                "trading.regime": torch.tensor(tr, dtype=torch.int64),
                "trading.total": total.detach().reshape(()),
                "trading.grad_alpha": ta.grad, "trading.grad_beta": tb.grad, "trading.grad_forecast": tf.grad,
                "trading.grad_regime_conc": tc.grad})
    for n in parts:
        out[f"trading.part.{n}"] = parts[n].detach().reshape(())
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(out_dir, "losses.safetensors"),
              metadata={"weights": json.dumps(weights), "label_eps": "0.05", "regime_smoothing": str(smooth),
                        "calibration_bins": "10"})


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for model_type in M.MODELS:
        small_fixture(model_type, out_dir)
        full_fixture(model_type, out_dir)
    loss_fixture(out_dir)
    total = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"wrote {len(os.listdir(out_dir))} files, {total / 1e6:.2f} MB, to {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/ModelsTests/Fixtures")
