"""PyTorch reference fixtures for the Swift engine's layers and optimizers (Tests/EngineTests/Fixtures/engine).

Run:  .venv/bin/python tools/reference/engine_fixtures.py

Every layer fixture is one safetensors file holding, with the module's own state_dict names:
  param.<name>   the parameter values (random, so zero-initialised biases are exercised too)
  input          the layer input, channels last (B, L, C) or (N, C)
  dout           a random upstream gradient
  output         module(input)
  dinput         d(sum(output * dout)) / d input
  grad.<name>    d(sum(output * dout)) / d parameter
plus layer-specific extras (attention weights). References are computed in float64 from float32 values, so they
are exact to fp32 and a Swift error is the Swift side's own.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EngineTests", "Fixtures", "engine")
torch.manual_seed(1234)


def rand(*shape, scale=1.0):
    return (torch.rand(*shape) * 2 - 1) * scale


def randomize(module, scale=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(rand(*p.shape, scale=scale))


def run_layer(name, module, x, forward=None, extras=None):
    """Saves params, input, dout, output, dinput and grads of `module` (float64 evaluation)."""
    randomize(module)
    params = {k: v.detach().float().clone() for k, v in module.state_dict().items()}
    module = module.double()
    xd = x.double().clone().requires_grad_(True)
    out = forward(module, xd) if forward else module(xd)
    extra = {}
    if isinstance(out, tuple):
        out, extra = out
    dout = rand(*out.shape)
    (out * dout.double()).sum().backward()
    tensors = {"input": x.float(), "dout": dout.float(), "output": out.detach().float(), "dinput": xd.grad.float()}
    for k, v in params.items():
        tensors["param." + k] = v
    for k, p in module.named_parameters():
        tensors["grad." + k] = p.grad.float()
    for k, v in extra.items():
        tensors[k] = v.detach().float()
    save(name, tensors)


def save(name, tensors):
    os.makedirs(OUT, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, name + ".safetensors"))


class Conv1dChannelsLast(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, k, padding=k // 2)

    def forward(self, x):
        return self.conv(x.transpose(1, 2)).transpose(1, 2)


class GatedLinearUnit(nn.Module):
    """pytorch-forecasting's GatedLinearUnit without dropout."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.fc = nn.Linear(n_in, 2 * n_out)

    def forward(self, x):
        return F.glu(self.fc(x), dim=-1)


class GRN(nn.Module):
    """models.md: LayerNorm(skip(x) + GLU(fc2(ELU(fc1(x))))), skip a Linear when widths differ."""

    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.gate = GatedLinearUnit(hidden, n_out)
        self.skip = nn.Linear(n_in, n_out) if n_in != n_out else None
        self.norm = nn.LayerNorm(n_out)

    def forward(self, x):
        residual = self.skip(x) if self.skip is not None else x
        return self.norm(residual + self.gate(self.fc2(F.elu(self.fc1(x)))))


class InterpretableMHA(nn.Module):
    """TFT interpretable attention as pytorch-forecasting (per-head q/k Linears, one shared v, heads averaged,
    w_h back to d_model), no dropout. Stored under the packed names the Swift layer uses: q_proj.weight stacks
    the per-head query weights by rows."""

    def __init__(self, d_model, n_head):
        super().__init__()
        self.n_head, self.d_k = n_head, d_model // n_head
        self.q_proj = nn.Linear(d_model, n_head * self.d_k)
        self.k_proj = nn.Linear(d_model, n_head * self.d_k)
        self.v_proj = nn.Linear(d_model, self.d_k)
        self.out_proj = nn.Linear(self.d_k, d_model)

    def forward(self, x):
        v = self.v_proj(x)
        heads, attns = [], []
        for h in range(self.n_head):
            rows = slice(h * self.d_k, (h + 1) * self.d_k)
            q = F.linear(x, self.q_proj.weight[rows], self.q_proj.bias[rows])
            k = F.linear(x, self.k_proj.weight[rows], self.k_proj.bias[rows])
            attn = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.d_k), dim=-1)
            heads.append(attn @ v)
            attns.append(attn)
        out = self.out_proj(torch.stack(heads, dim=2).mean(dim=2))
        return out, {"attention": torch.stack(attns, dim=1)}


def layers():
    run_layer("linear", nn.Linear(5, 4), rand(2, 3, 5))
    run_layer("linear_nobias", nn.Linear(3, 6, bias=False), rand(4, 3))
    conv = Conv1dChannelsLast(3, 4, 3)
    run_layer("conv1d_k3", conv, rand(2, 7, 3), forward=lambda m, x: m(x))
    run_layer("conv1d_k5", Conv1dChannelsLast(2, 3, 5), rand(2, 6, 2))
    run_layer("lstm", nn.LSTM(4, 5, batch_first=True), rand(2, 6, 4), forward=lambda m, x: m(x)[0])
    run_layer("lstm_bi2", nn.LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True), rand(2, 5, 4),
              forward=lambda m, x: m(x)[0])
    mha = nn.MultiheadAttention(8, 2, batch_first=True)

    def mha_forward(m, x):
        out, w = m(x, x, x, need_weights=True, average_attn_weights=False)
        return out, {"attention": w}

    run_layer("mha", mha, rand(2, 5, 8), forward=mha_forward)
    run_layer("interpretable_mha", InterpretableMHA(8, 2), rand(2, 5, 8))
    run_layer("layernorm", nn.LayerNorm(6), rand(2, 3, 6, scale=2.0))
    run_layer("glu", GatedLinearUnit(5, 4), rand(3, 5))
    run_layer("grn_skip", GRN(5, 8, 4), rand(2, 3, 5))
    run_layer("grn_identity", GRN(4, 8, 4), rand(2, 3, 4))


def lstm_state():
    """2-layer BiLSTM from a given (h_0, c_0), with gradients flowing into (h_n, c_n) as well."""
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    randomize(lstm)
    params = {k: v.detach().float().clone() for k, v in lstm.state_dict().items()}
    lstm = lstm.double()
    x, h0, c0 = rand(2, 5, 3), rand(4, 2, 4), rand(4, 2, 4)
    xd, h0d, c0d = (t.double().clone().requires_grad_(True) for t in (x, h0, c0))
    out, (hn, cn) = lstm(xd, (h0d, c0d))
    dout, dhn, dcn = rand(*out.shape), rand(*hn.shape), rand(*cn.shape)
    ((out * dout.double()).sum() + (hn * dhn.double()).sum() + (cn * dcn.double()).sum()).backward()
    tensors = {"input": x, "h0": h0, "c0": c0, "dout": dout, "dhn": dhn, "dcn": dcn, "output": out.detach().float(),
               "hn": hn.detach().float(), "cn": cn.detach().float(), "dinput": xd.grad.float(),
               "dh0": h0d.grad.float(), "dc0": c0d.grad.float()}
    for k, v in params.items():
        tensors["param." + k] = v
    for k, p in lstm.named_parameters():
        tensors["grad." + k] = p.grad.float()
    save("lstm_state", tensors)


def activations():
    x = rand(64, scale=4.0)
    x[0], x[1] = 25.0, -25.0  # softplus threshold
    tensors = {"input": x}
    for name, fn in [("relu", F.relu), ("gelu", F.gelu), ("elu", F.elu), ("sigmoid", torch.sigmoid),
                     ("tanh", torch.tanh), ("softplus", F.softplus)]:
        xd = x.double().clone().requires_grad_(True)
        dout = rand(64)
        out = fn(xd)
        (out * dout.double()).sum().backward()
        tensors[name + ".dout"], tensors[name + ".output"], tensors[name + ".dinput"] = dout, out.detach().float(), xd.grad.float()
    save("activations", tensors)


def positional():
    length, d = 7, 6
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    x = rand(2, length, d)
    save("positional", {"input": x, "output": (x.double() + pe).float(), "table": pe.float()})


def optimizers():
    # AdamW over 5 steps with fixed gradients per step, torch defaults except lr.
    p = nn.Parameter(rand(10))
    start = p.detach().clone()
    opt = torch.optim.AdamW([p], lr=0.01)
    grads = rand(5, 10)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    tensors = {"adamw.start": start, "adamw.grads": grads, "adamw.final": p.detach().clone()}
    # OneCycleLR defaults with Adam: lr and beta1 per step.
    q = nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([q], lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=20)
    lrs, moms = [], []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["betas"][0])
        opt.step()
        sched.step()
    tensors["onecycle.lr"] = torch.tensor(lrs, dtype=torch.float64).float()
    tensors["onecycle.momentum"] = torch.tensor(moms, dtype=torch.float64).float()
    # clip_grad_norm_.
    a, b = nn.Parameter(torch.zeros(6)), nn.Parameter(torch.zeros(4))
    a.grad, b.grad = rand(6, scale=3.0), rand(4, scale=3.0)
    tensors["clip.grads"] = torch.cat([a.grad, b.grad]).clone()
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    tensors["clip.norm"] = norm.reshape(1).float()
    tensors["clip.clipped"] = torch.cat([a.grad, b.grad]).clone()
    save("optimizers", tensors)


class PoolConcat(nn.Module):
    """cat([last step, mean over time], -1) of a (B, L, C) sequence (the short_term pooling)."""

    def forward(self, x):
        return torch.cat([x[:, -1], x.mean(dim=1)], dim=-1)


class SoftmaxLast(nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


def small_ops():
    run_layer("pool_concat", PoolConcat(), rand(2, 5, 3))
    run_layer("softmax", SoftmaxLast(), rand(3, 2, 6, scale=3.0))


if __name__ == "__main__":
    layers()
    activations()
    positional()
    optimizers()
    lstm_state()
    small_ops()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} fixtures, {total} bytes, to {os.path.normpath(OUT)}")
