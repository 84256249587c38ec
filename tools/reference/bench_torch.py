#!/usr/bin/env python3
"""PyTorch timings of the work `aitrader bench` measures, printed in the same JSON shape
(shared/design/benchmarks.md), so the two can be compared line by line:

    OPENBLAS_NUM_THREADS=2 .venv/bin/python tools/reference/bench_torch.py --suite kernels --threads 2
    .venv/bin/python tools/reference/bench_torch.py --suite kernels --device cuda

One function per suite (`suite_<name>`); each returns the list of results. Timing: median wall time of `runs`
calls after `warmup` calls, synchronising CUDA after each call. fp32 throughout, TF32 off (exact fp32, as the
AITrader backends by default).

kernels: PyTorch in its native layouts (conv1d channels-first (B, C, L); nn.LSTM batch_first; attention as
softmax(q k^T / sqrt(hs)) v with the probabilities materialised, as the AITrader op keeps them), forward +
backward for the input and every parameter. `attention_sdpa_fwd_bwd` adds F.scaled_dot_product_attention
(fused, no probabilities) for reference.

models: tools/reference/bench_torch_models.py (the reference models of models.py at the design sizes).
"""
import argparse
import json
import math
import platform
import statistics
import time

import torch
import torch.nn.functional as F


def timed(fn, device, runs, warmup):
    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def result(name, shape, ms, runs, **extra):
    r = {"name": name, "shape": shape, "ms": round(ms, 6), "runs": runs}
    r.update({k: round(v, 6) for k, v in extra.items()})
    return r


def suite_kernels(device, runs, warmup):
    dev = torch.device(device)
    out = []
    for M, N, K in ((512, 512, 512), (64, 1024, 256)):
        a, b = torch.randn(M, K, device=dev), torch.randn(K, N, device=dev)
        c = torch.empty(M, N, device=dev)
        ms = timed(lambda: torch.mm(a, b, out=c), device, runs, warmup)
        out.append(result("gemm", {"M": M, "N": N, "K": K}, ms, runs, gflops=2.0 * M * N * K / (ms * 1e6)))

    B, L, CIN, COUT, KS = 64, 64, 128, 256, 7
    x = torch.randn(B, CIN, L, device=dev, requires_grad=True)
    conv = torch.nn.Conv1d(CIN, COUT, KS, padding=KS // 2).to(dev)
    dy = torch.randn(B, COUT, L, device=dev)

    def conv_step():
        y = conv(x)
        torch.autograd.grad(y, (x, conv.weight, conv.bias), dy)

    ms = timed(conv_step, device, runs, warmup)
    out.append(result("conv1d_fwd_bwd", {"B": B, "L": L, "in": CIN, "out": COUT, "k": KS}, ms, runs,
                      gflops=3 * 2.0 * B * L * COUT * CIN * KS / (ms * 1e6)))

    B, L, IN, H = 64, 64, 256, 256
    lstm = torch.nn.LSTM(IN, H, batch_first=True).to(dev)
    x = torch.randn(B, L, IN, device=dev, requires_grad=True)
    dh = torch.randn(B, L, H, device=dev)

    def lstm_step():
        h, _ = lstm(x)
        torch.autograd.grad(h, (x, *lstm.parameters()), dh)

    ms = timed(lstm_step, device, runs, warmup)
    out.append(result("lstm_fwd_bwd", {"B": B, "L": L, "in": IN, "hidden": H}, ms, runs,
                      gflops=3 * 2.0 * B * L * 4 * H * (IN + H) / (ms * 1e6)))

    B, L, D, NH = 64, 64, 256, 8
    HS = D // NH
    q, k, v = (torch.randn(B, L, D, device=dev, requires_grad=True) for _ in range(3))
    dout = torch.randn(B, L, D, device=dev)

    def heads(t):
        return t.view(B, L, NH, HS).transpose(1, 2)

    def attention_step():
        probs = torch.softmax(heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(HS), dim=-1)
        o = (probs @ heads(v)).transpose(1, 2).reshape(B, L, D)
        torch.autograd.grad(o, (q, k, v), dout)

    def sdpa_step():
        o = F.scaled_dot_product_attention(heads(q), heads(k), heads(v)).transpose(1, 2).reshape(B, L, D)
        torch.autograd.grad(o, (q, k, v), dout)

    flops = 3 * 2.0 * 2.0 * B * NH * L * L * HS
    ms = timed(attention_step, device, runs, warmup)
    out.append(result("attention_fwd_bwd", {"B": B, "L": L, "d": D, "heads": NH}, ms, runs, gflops=flops / (ms * 1e6)))
    ms = timed(sdpa_step, device, runs, warmup)
    out.append(result("attention_sdpa_fwd_bwd", {"B": B, "L": L, "d": D, "heads": NH}, ms, runs,
                      gflops=flops / (ms * 1e6)))
    return out


def suite_models(device, runs, warmup):
    from bench_torch_models import suite_models as run_models
    return run_models(device, runs, warmup, timed, result, quick=runs < 5)


SUITES = {"kernels": suite_kernels, "models": suite_models}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", required=True, choices=sorted(SUITES))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if args.device == "cuda":
        name = torch.cuda.get_device_name(0)
    else:
        name = f"{platform.machine()}, {torch.get_num_threads()} threads, PyTorch {torch.__version__}"
    results = SUITES[args.suite](args.device, args.runs, args.warmup)
    report = {"suite": args.suite, "device": args.device, "device_name": name, "threads": torch.get_num_threads(),
              "results": results}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
