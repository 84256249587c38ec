#!/usr/bin/env python3
"""Loss-trajectory fixtures (as llm.c's `expected_losses`): PyTorch takes 10 training steps of each model and
records the loss of every step; Tests/TrainingTests/LossTrajectoryTests.swift takes the same 10 steps with our
engine from the same weights and batches and checks every loss within 1e-4.

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch==2.15.0 numpy safetensors==0.8.0
    .venv-torch/bin/python tools/reference/trajectory_fixtures.py Tests/TrainingTests/Fixtures
    (or .venv/bin/python after `make reference-venv`; requirements.txt pins the versions)

One training step is exactly Sources/Training/Trainer.swift's `Trainer.optimize`:
  zero the gradients; forward in training mode (every dropout is 0 in these configs, so training mode is
  deterministic on both sides); the trainer's objective, TradingLoss with its default weights:
      BetaNLL(alpha, beta, label; label eps 0.05) + 0.1 CalibrationLoss(p = alpha / (alpha + beta), label; 10 bins)
      (+ 0.5 MSE(forecast, realised path) for long_term, whose batches carry the path; the regime term is off,
      as in the trainer);
  backward; global-norm clipping (torch.nn.utils.clip_grad_norm_: scale = min(1, max_norm / (norm + 1e-6)));
  AdamW (torch.optim.AdamW: betas (0.9, 0.999), eps 1e-8, decoupled weight decay) with the learning rate and beta1
  of torch.optim.lr_scheduler.OneCycleLR(max_lr, total_steps=10) and its defaults (pct_start 0.3, cosine,
  div_factor 25, final_div_factor 1e4, momentum cycling 0.95 -> 0.85 -> 0.95), stepped after every optimizer step.
The recorded loss of step k is the objective of batch k under the weights after k updates (what the trainer's
step returns).

Per model (short_term, medium_term, long_term), `<model>_trajectory.safetensors` holds:
  the initial weights under their checkpoint names (the reduced-width configs of model_fixtures.py with every
  dropout 0; PyTorch's default init, seeded), the 10 batches `batch.<k>.x` (B, L, F), `batch.<k>.label` (B)
  [+ `batch.<k>.close` (B, L) as ln(close / last close) and `batch.<k>.forecast` (B, H), the realised
  ln(c[t+j] / c[t]), for long_term], and `losses` (10), `grad_norms` (10, before clipping) and `learning_rates`
  (10); metadata: the model config (checkpoint JSON), max_lr, weight_decay, gradient_clip, steps, the smallest
  distance of any p to a calibration-bin edge (the binning is piecewise constant: a p within rounding of an edge
  would make float32 and float64 bin differently; the script refuses batches closer than 1e-3).

Weights and batches are float32; PyTorch trains in float64 from exactly those float32 values, so the fixture is
the exact arithmetic and the Swift test measures float32's distance from it.
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models as M  # noqa: E402

SMALL = {  # model_fixtures.SMALL with every dropout 0
    "short_term": dict(sequence_length=10, input_features=5, conv_channels=[6, 8, 12], conv_kernels=[3, 5, 7],
                       lstm_hidden=7, lstm_layers=2, attention_dim=12, attention_heads=3, fc_hidden=6,
                       conv_dropout=0.0, lstm_dropout=0.0, fc_dropout=0.0),
    "medium_term": dict(sequence_length=9, input_features=5, d_model=8, attention_heads=2),
    "long_term": dict(sequence_length=16, input_features=5, forecast_horizon=6, trend_blocks=2, trend_degree=3,
                      seasonality_blocks=2, block_width=12, block_layers=4, d_model=8, encoder_layers=2,
                      attention_heads=2, feedforward=16, fusion_hidden=6, dropout=0.0),
}
STEPS = 10
BATCH = 8
# A learning rate 30x the design configs' 1e-4 so the 10 steps move the loss well beyond the tolerance (at 1e-4 the
# trajectory would be nearly flat and the check weak); weight decay large enough to matter; a clip that binds.
HYPER = {"max_lr": 3e-3, "weight_decay": 0.1, "gradient_clip": 0.5}
LOSS_WEIGHTS = {"direction": 1.0, "calibration": 0.1, "forecast": 0.5}
BIN_MARGIN = 1e-3
LOG_RETURN_SD = 0.01


def batches(model_type: str, cfg: dict, seed: int):
    """STEPS seeded batches: standard-normal features (the scaler's output), labels tied to the features (so the
    steps have something to learn) with noise; long_term: a log-price walk, its last L values as ln(close / last
    close), the next H as the forecast path and the label its sign at H."""
    g = torch.Generator().manual_seed(seed)
    out = []
    length, features = cfg["sequence_length"], cfg["input_features"]
    for _ in range(STEPS):
        x = torch.randn(BATCH, length, features, generator=g)
        b = {"x": x}
        if model_type == "long_term":
            h = cfg["forecast_horizon"]
            walk = torch.cumsum(torch.randn(BATCH, length + h, generator=g) * LOG_RETURN_SD, dim=1)
            b["close"] = walk[:, :length] - walk[:, length - 1:length]
            b["forecast"] = walk[:, length:] - walk[:, length - 1:length]
            b["label"] = (b["forecast"][:, -1] > 0).float()
        else:
            score = x[:, -3:, 0].mean(dim=1) + 0.5 * torch.randn(BATCH, generator=g)
            b["label"] = (score > 0).float()
        out.append(b)
    return out


def objective(model_type: str, alpha, beta, extras, batch):
    label = batch["label"].double()
    p = alpha / (alpha + beta)
    edges = (p.detach() * 10).numpy()
    margin = float(np.min(np.abs(edges - np.round(edges))))
    total = LOSS_WEIGHTS["direction"] * M.beta_nll(alpha, beta, label) \
        + LOSS_WEIGHTS["calibration"] * M.calibration_loss(p, label)
    if model_type == "long_term":
        total = total + LOSS_WEIGHTS["forecast"] * ((extras["forecast"] - batch["forecast"].double()) ** 2).mean()
    return total, margin


def trajectory(model_type: str, out_dir: str) -> dict:
    torch.manual_seed(2026)
    cfg = M.config_defaults(model_type, **SMALL[model_type])
    model = M.build(model_type, cfg)
    initial = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    data = batches(model_type, cfg, seed=77)

    model = model.double().train()
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(params, lr=HYPER["max_lr"], betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=HYPER["weight_decay"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=HYPER["max_lr"], total_steps=STEPS)
    losses, norms, rates, margins = [], [], [], []
    for batch in data:
        optimizer.zero_grad(set_to_none=False)
        x = batch["x"].double()
        if model_type == "long_term":
            alpha, beta, extras = model(x, batch["close"].double())
        else:
            alpha, beta, extras = model(x)
        loss, margin = objective(model_type, alpha, beta, extras, batch)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, HYPER["gradient_clip"])
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        norms.append(norm.item())
        margins.append(margin)
    if min(margins) < BIN_MARGIN:
        raise SystemExit(f"{model_type}: a p lies {min(margins):.2e} from a calibration-bin edge; change the seed")

    tensors = dict(initial)
    for k, batch in enumerate(data):
        for name, t in batch.items():
            tensors[f"batch.{k}.{name}"] = t.float().contiguous()
    tensors["losses"] = torch.tensor(losses, dtype=torch.float64)
    tensors["grad_norms"] = torch.tensor(norms, dtype=torch.float64)
    tensors["learning_rates"] = torch.tensor(rates, dtype=torch.float64)
    meta = {
        "model_type": model_type,
        "config": json.dumps(dict(cfg, model_type=model_type), sort_keys=True, separators=(",", ":")),
        "steps": str(STEPS), "batch_size": str(BATCH),
        "max_lr": repr(HYPER["max_lr"]), "weight_decay": repr(HYPER["weight_decay"]),
        "gradient_clip": repr(HYPER["gradient_clip"]), "loss_weights": json.dumps(LOSS_WEIGHTS),
        "min_bin_margin": f"{min(margins):.3e}",
        "created_by": f"tools/reference/trajectory_fixtures.py (PyTorch {torch.__version__}, float64)",
    }
    path = os.path.join(out_dir, f"{model_type}_trajectory.safetensors")
    save_file(tensors, path, metadata=meta)
    print(f"{model_type}: losses {' '.join(f'{v:.6f}' for v in losses)}")
    print(f"  grad norms {' '.join(f'{v:.3f}' for v in norms)}; bin margin {min(margins):.2e}; "
          f"{os.path.getsize(path) / 1e3:.1f} kB")
    return meta


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for model_type in M.MODELS:
        trajectory(model_type, out_dir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/TrainingTests/Fixtures")
