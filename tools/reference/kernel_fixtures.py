#!/usr/bin/env python3
"""PyTorch reference fixtures for the C kernels' tests (CKernels/tests/test_fixtures.c).

For each op of CKernels/include/ckernels.h, small fixed inputs and upstream gradients are pushed through the
PyTorch equivalent (in float64, so the reference carries no float32 rounding) and the outputs and input
gradients are written, as float32, to one file per case:

    .venv/bin/python tools/reference/kernel_fixtures.py CKernels/tests/fixtures

File format (trivial to parse from C): one ASCII header line
    CKFIX <case> <key>=<number> ... | <tensor>:<d0>x<d1>x... <tensor>:...
followed by the tensors' float32 values, little-endian, in header order. Sizes and hyper-parameters are the
key=value pairs; tensor names starting with "d" are gradients of the loss sum(out * dout).

PyTorch equivalents: linear = F.linear; conv1d = F.conv1d on inp.transpose(1, 2) with padding K//2;
lstm = nn.LSTM(batch_first) (reverse: time flipped before and after); attention = softmax(q k^T / sqrt(HS) + mask) v
per head (v_shared: mean over heads, TFT); layernorm = F.layer_norm; activations = F.relu, F.gelu (exact),
F.elu, torch.sigmoid, torch.tanh, F.softplus; glu = F.glu(dim=-1); softmax = torch.softmax(dim=-1);
beta_nll = -Beta(a, b).log_prob(y); dirichlet_nll = -Dirichlet(c).log_prob(y); adamw = torch.optim.AdamW with
clip_grad_norm_; basis_expand = theta @ basis.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
RNG = np.random.default_rng(20261126)


def rand(*shape, lo=-1.0, hi=1.0):
    """float32-representable values, returned as a float64 tensor (so C gets exactly the same inputs)."""
    return torch.tensor(RNG.uniform(lo, hi, size=shape).astype(np.float32).astype(np.float64))


def leaf(t):
    return t.clone().requires_grad_(True)


def write(out_dir, case, params, tensors):
    header = "CKFIX " + case
    for k, v in params.items():
        header += f" {k}={v!r}" if isinstance(v, float) else f" {k}={v}"
    header += " |"
    blobs = []
    for name, t in tensors:
        arr = t.detach().to(torch.float64).numpy().astype("<f4")
        shape = "x".join(str(d) for d in arr.shape) if arr.ndim else "1"
        header += f" {name}:{shape}"
        blobs.append(arr.tobytes())
    with open(os.path.join(out_dir, case + ".ckfix"), "wb") as f:
        f.write(header.encode("ascii") + b"\n")
        for b in blobs:
            f.write(b)


def backward(out, dout, *inputs):
    grads = torch.autograd.grad(out, inputs, grad_outputs=dout, allow_unused=True)
    return [g if g is not None else torch.zeros_like(x) for g, x in zip(grads, inputs)]


def case_linear(d):
    N, IN, OUT = 5, 7, 4
    x, w, b = leaf(rand(N, IN)), leaf(rand(OUT, IN)), leaf(rand(OUT))
    out = F.linear(x, w, b)
    dout = rand(N, OUT)
    dx, dw, db = backward(out, dout, x, w, b)
    write(d, "linear", dict(N=N, IN=IN, OUT=OUT),
          [("inp", x), ("weight", w), ("bias", b), ("dout", dout), ("out", out), ("dinp", dx), ("dweight", dw),
           ("dbias", db)])


def case_conv1d(d, K, name):
    B, L, CIN, COUT = 2, 9, 3, 4
    x, w, b = leaf(rand(B, L, CIN)), leaf(rand(COUT, CIN, K)), leaf(rand(COUT))
    out = F.conv1d(x.transpose(1, 2), w, b, padding=K // 2).transpose(1, 2)
    dout = rand(B, L, COUT)
    dx, dw, db = backward(out, dout, x, w, b)
    write(d, name, dict(B=B, L=L, CIN=CIN, COUT=COUT, K=K),
          [("inp", x), ("weight", w), ("bias", b), ("dout", dout), ("out", out), ("dinp", dx), ("dweight", dw),
           ("dbias", db)])


def case_lstm(d, reverse, name, B=2, L=6, IN=3, H=4):
    lstm = torch.nn.LSTM(IN, H, batch_first=True)
    x = leaf(rand(B, L, IN))
    w_ih, w_hh = leaf(rand(4 * H, IN, lo=-0.6, hi=0.6)), leaf(rand(4 * H, H, lo=-0.6, hi=0.6))
    b_ih, b_hh = leaf(rand(4 * H, lo=-0.3, hi=0.3)), leaf(rand(4 * H, lo=-0.3, hi=0.3))
    h0, c0 = leaf(rand(B, H)), leaf(rand(B, H))
    params = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    seq = torch.flip(x, [1]) if reverse else x
    h, (hn, cn) = torch.func.functional_call(lstm, params, (seq, (h0.unsqueeze(0), c0.unsqueeze(0))))
    if reverse:
        h = torch.flip(h, [1])
    c_final = cn.squeeze(0)
    dh, dc = rand(B, L, H), rand(B, H)
    grads = torch.autograd.grad((h * dh).sum() + (c_final * dc).sum(), (x, w_ih, w_hh, b_ih, b_hh, h0, c0))
    write(d, name, dict(B=B, L=L, IN=IN, H=H, reverse=int(reverse)),
          [("inp", x), ("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh), ("h0", h0), ("c0", c0),
           ("dh_out", dh), ("dc_final", dc), ("h_out", h), ("c_final", c_final), ("dinp", grads[0]),
           ("dw_ih", grads[1]), ("dw_hh", grads[2]), ("db_ih", grads[3]), ("db_hh", grads[4]), ("dh0", grads[5]),
           ("dc0", grads[6])])


def attention_ref(q, k, v, mask, NH, HS, v_shared):
    B, L, _ = q.shape
    qh = q.view(B, L, NH, HS).transpose(1, 2)
    kh = k.view(B, L, NH, HS).transpose(1, 2)
    scores = qh @ kh.transpose(-1, -2) / math.sqrt(HS)
    if mask is not None:
        scores = scores + mask
    probs = torch.softmax(scores, dim=-1)
    if v_shared:
        out = (probs @ v.unsqueeze(1)).mean(dim=1)
    else:
        vh = v.view(B, L, NH, HS).transpose(1, 2)
        out = (probs @ vh).transpose(1, 2).reshape(B, L, NH * HS)
    return out, probs


def case_attention(d, masked, v_shared, name):
    B, L, NH, HS = 2, 5, 2, 3
    D = NH * HS
    q, k = leaf(rand(B, L, D, lo=-2, hi=2)), leaf(rand(B, L, D, lo=-2, hi=2))
    v = leaf(rand(B, L, HS if v_shared else D))
    mask = torch.triu(torch.full((L, L), -math.inf), diagonal=1) if masked else None
    out, probs = attention_ref(q, k, v, mask, NH, HS, v_shared)
    dout = rand(*out.shape)
    dq, dk, dv = backward(out, dout, q, k, v)
    tensors = [("q", q), ("k", k), ("v", v), ("dout", dout), ("out", out), ("probs", probs), ("dq", dq),
               ("dk", dk), ("dv", dv)]
    write(d, name, dict(B=B, L=L, NH=NH, HS=HS, masked=int(masked), v_shared=int(v_shared)), tensors)


def case_layernorm(d):
    N, C, eps = 4, 10, 1e-5
    x = leaf(rand(N, C, lo=-3, hi=3) + 0.5)
    w, b = leaf(rand(C, lo=0.5, hi=1.5)), leaf(rand(C))
    out = F.layer_norm(x, (C,), w, b, eps)
    dout = rand(N, C)
    dx, dw, db = backward(out, dout, x, w, b)
    write(d, "layernorm", dict(N=N, C=C, eps=eps),
          [("inp", x), ("weight", w), ("bias", b), ("dout", dout), ("out", out), ("dinp", dx), ("dweight", dw),
           ("dbias", db)])


ACTIVATIONS = {  # ck_activation value, torch function
    "relu": (1, F.relu), "gelu": (2, F.gelu), "elu": (3, F.elu), "sigmoid": (4, torch.sigmoid),
    "tanh": (5, torch.tanh), "softplus": (6, F.softplus),
}


def case_activation(d, name):
    act, fn = ACTIVATIONS[name]
    n = 64
    x = rand(n, lo=-6, hi=6)
    if name == "softplus":  # cover the threshold-20 branch
        x[:4] = torch.tensor([19.5, 20.5, 25.0, -25.0])
    x = leaf(x)
    out = fn(x)
    dout = rand(n)
    (dx,) = backward(out, dout, x)
    write(d, "act_" + name, dict(n=n, act=act), [("inp", x), ("dout", dout), ("out", out), ("dinp", dx)])


def case_glu(d):
    N, C = 3, 5
    x = leaf(rand(N, 2 * C, lo=-3, hi=3))
    out = F.glu(x, dim=-1)
    dout = rand(N, C)
    (dx,) = backward(out, dout, x)
    write(d, "glu", dict(N=N, C=C), [("inp", x), ("dout", dout), ("out", out), ("dinp", dx)])


def case_softmax(d):
    N, C = 4, 7
    x = leaf(rand(N, C, lo=-5, hi=5) * 3)
    out = torch.softmax(x, dim=-1)
    dout = rand(N, C)
    (dx,) = backward(out, dout, x)
    write(d, "softmax", dict(N=N, C=C), [("inp", x), ("dout", dout), ("out", out), ("dinp", dx)])


def case_pool(d):
    B, L, C, t = 2, 5, 3, 4
    x = leaf(rand(B, L, C))
    mean, step = x.mean(dim=1), x[:, t, :]
    dmean, dstep = rand(B, C), rand(B, C)
    (dx_mean,) = backward(mean, dmean, x)
    (dx_step,) = backward(step, dstep, x)
    write(d, "pool", dict(B=B, L=L, C=C, t=t),
          [("inp", x), ("dmean", dmean), ("dstep", dstep), ("mean", mean), ("step", step), ("dinp_mean", dx_mean),
           ("dinp_step", dx_step)])


def case_beta_nll(d):
    N = 24
    a = leaf(rand(N, lo=0.05, hi=40))
    b = leaf(rand(N, lo=0.05, hi=40))
    y = rand(N, lo=0.001, hi=0.999)
    y[:3] = torch.tensor([1e-4, 0.9999, 0.5])
    loss = -torch.distributions.Beta(a, b).log_prob(y)
    dloss = rand(N)
    da, db = backward(loss, dloss, a, b)
    write(d, "beta_nll", dict(N=N), [("alpha", a), ("beta", b), ("y", y), ("dloss", dloss), ("loss", loss),
                                     ("dalpha", da), ("dbeta", db)])


def case_dirichlet_nll(d):
    N, K = 5, 4
    c = leaf(rand(N, K, lo=0.2, hi=20))
    y = torch.tensor(RNG.dirichlet(np.ones(K), size=N).astype(np.float32).astype(np.float64))
    y = y / y.sum(dim=-1, keepdim=True)
    loss = -torch.distributions.Dirichlet(c).log_prob(y)
    dloss = rand(N)
    (dc,) = backward(loss, dloss, c)
    write(d, "dirichlet_nll", dict(N=N, K=K), [("conc", c), ("y", y), ("dloss", dloss), ("loss", loss), ("dconc", dc)])


def case_adamw(d):
    n, steps = 40, 4
    lr, b1, b2, eps, wd, max_norm = 1e-2, 0.9, 0.999, 1e-8, 0.05, 1.5
    p0 = rand(n)
    grads = [rand(n, lo=-0.8, hi=0.8) * (1 + s) for s in range(steps)]  # growing: later steps are clipped
    p = p0.clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    norms = []
    for g in grads:
        p.grad = g.clone()
        norms.append(torch.nn.utils.clip_grad_norm_([p], max_norm))
        opt.step()
    st = opt.state[p]
    write(d, "adamw", dict(n=n, steps=steps, lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd,
                           max_norm=max_norm),
          [("params0", p0), ("grads", torch.stack(grads)), ("norms", torch.stack(norms)), ("params", p),
           ("m", st["exp_avg"]), ("v", st["exp_avg_sq"])])


def case_basis_expand(d):
    N, P, T, scale = 3, 4, 6, -1.0
    theta = leaf(rand(N, P))
    t = torch.arange(T) / T
    basis = torch.stack([t ** i for i in range(P)])  # polynomial trend basis (P, T)
    base = rand(N, T)
    out = base + scale * theta @ basis
    dout = rand(N, T)
    (dtheta,) = backward(out, dout, theta)
    write(d, "basis_expand", dict(N=N, P=P, T=T, scale=scale),
          [("theta", theta), ("basis", basis), ("base", base), ("dout", dout), ("out", out), ("dtheta", dtheta)])


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    case_linear(out_dir)
    case_conv1d(out_dir, 3, "conv1d_k3")
    case_conv1d(out_dir, 5, "conv1d_k5")
    case_conv1d(out_dir, 1, "conv1d_k1")
    case_lstm(out_dir, False, "lstm")
    case_lstm(out_dir, True, "lstm_reverse")
    case_attention(out_dir, False, False, "attention")
    case_attention(out_dir, True, False, "attention_causal")
    case_attention(out_dir, True, True, "attention_shared")
    case_layernorm(out_dir)
    for name in ACTIVATIONS:
        case_activation(out_dir, name)
    case_glu(out_dir)
    case_softmax(out_dir)
    case_pool(out_dir)
    case_beta_nll(out_dir)
    case_dirichlet_nll(out_dir)
    case_adamw(out_dir)
    case_basis_expand(out_dir)
    # B >= 4 runs the CPU backend's packed recurrent steps: 11 rows = a full 8-row tile + 2 + 1, H = 37 = one
    # 32-unit panel + a 5-unit tail (appended last, so the cases above keep their random draws)
    case_lstm(out_dir, False, "lstm_batch", B=11, L=5, IN=3, H=37)
    case_lstm(out_dir, True, "lstm_batch_reverse", B=11, L=5, IN=3, H=37)
    # B = 1 with H % 16 == 0: the batch-1 forward on w_hh rearranged into 16-unit blocks
    case_lstm(out_dir, False, "lstm_single", B=1, L=6, IN=5, H=48)
    case_lstm(out_dir, True, "lstm_single_reverse", B=1, L=6, IN=5, H=48)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join("CKernels", "tests", "fixtures"))
