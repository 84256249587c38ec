"""`bench_torch.py --suite models`: the PyTorch reference models (tools/reference/models.py) at the design sizes,
on the same shapes, names and synthetic inputs as `aitrader bench --suite models` (shared/design/benchmarks.md):

- <model>_train_step {B: 64, L, F: 32}: forward + BetaNLL + backward + AdamW (lr 1e-4, torch defaults otherwise),
  train mode (dropout active), no clipping; samples_per_s.
- <model>_infer {B: 1} and {B: 256}: eval mode under torch.inference_mode(), results copied to the host.
- ensemble_infer {B: 1}: the three models one after another.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models as M  # noqa: E402

FEATURES = 32
TRAIN_BATCH = 64
SCORING_BATCH = 256


def _inputs(model_type, cfg, batch, device, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, cfg["sequence_length"], cfg["input_features"], generator=g)
    close = None
    if model_type == "long_term":
        walk = torch.cumsum(torch.randn(batch, cfg["sequence_length"], generator=g) * 0.1, dim=1)
        close = (walk - walk.mean(dim=1, keepdim=True)) / (walk.std(dim=1, keepdim=True) + 1e-6)
        close = close.to(device)
    return x.to(device), close


def _shape(cfg, batch):
    return {"B": batch, "L": cfg["sequence_length"], "F": cfg["input_features"]}


def suite_models(device, runs, warmup, timed, result, quick=False):
    dev = torch.device(device)
    out, inference = [], {}
    train_runs, infer1_runs, infer256_runs, ensemble_runs = (2, 5, 1, 5) if quick else (10, 200, 5, 100)
    for model_type in ("short_term", "medium_term", "long_term"):
        cfg = M.config_defaults(model_type, input_features=FEATURES)
        torch.manual_seed(3)
        model = M.build(model_type, cfg).to(dev).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        x, close = _inputs(model_type, cfg, TRAIN_BATCH, dev, 11)
        labels = (torch.arange(TRAIN_BATCH) % 2).float().to(dev)

        def step():
            optimizer.zero_grad(set_to_none=False)
            alpha, beta, _ = model(x) if close is None else model(x, close)
            loss = M.beta_nll(alpha, beta, labels)
            loss.item()  # read the loss, as the Swift step does
            loss.backward()
            optimizer.step()

        ms = timed(step, device, train_runs, 2 if not quick else 1)
        out.append(result(f"{model_type}_train_step", _shape(cfg, TRAIN_BATCH), ms, train_runs,
                          samples_per_s=TRAIN_BATCH / (ms / 1e3)))

        torch.manual_seed(7)
        model = M.build(model_type, cfg).to(dev).eval()
        inference[model_type] = (model, cfg)
        for batch, n in ((1, infer1_runs), (SCORING_BATCH, infer256_runs)):
            xi, ci = _inputs(model_type, cfg, batch, dev, 13)

            def infer():
                with torch.inference_mode():
                    alpha, beta, _ = model(xi) if ci is None else model(xi, ci)
                    alpha.cpu(), beta.cpu()

            ms = timed(infer, device, n, 10 if batch == 1 and not quick else 1)
            out.append(result(f"{model_type}_infer", _shape(cfg, batch), ms, n, samples_per_s=batch / (ms / 1e3)))

    ensemble_inputs = {t: _inputs(t, cfg, 1, dev, 17) for t, (_, cfg) in inference.items()}

    def ensemble():
        with torch.inference_mode():
            for t, (model, _) in inference.items():
                xi, ci = ensemble_inputs[t]
                alpha, beta, _ = model(xi) if ci is None else model(xi, ci)
                alpha.cpu(), beta.cpu()

    ms = timed(ensemble, device, ensemble_runs, 5 if not quick else 1)
    out.append(result("ensemble_infer", {"B": 1}, ms, ensemble_runs, samples_per_s=1 / (ms / 1e3)))
    return out
