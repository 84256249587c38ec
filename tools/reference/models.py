#!/usr/bin/env python3
"""PyTorch reference implementation of the three AITrader horizon models, straight from shared/design/models.md.

The parameter names here ARE the checkpoint names of the Swift models (Sources/Models): a state_dict of these
modules saved with safetensors.torch.save_file loads into `aitrader`, and the reverse.

    from models import ShortTerm, MediumTerm, LongTerm, config_defaults
    model = ShortTerm(config_defaults("short_term", input_features=32))
    alpha, beta, extras = model(x)                       # x (B, L, F)
    alpha, beta, extras = LongTerm(cfg)(x, close)       # close (B, L), long_term only

Every size comes from a config dict whose keys are those of configs/models/<model>.yaml; `config_defaults`
returns the design defaults. Conventions fixed by the design file (and followed here):
  - LSTM gate order i, f, g, o with bias_ih and bias_hh (nn.LSTM itself).
  - Attention projections have biases; no attention dropout; no causal mask.
  - BetaHead: Linear(d -> 2); alpha = softplus(z0) + 1e-3, beta = softplus(z1) + 1e-3.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BETA_EPSILON = 1e-3


def config_defaults(model_type: str, **overrides) -> dict:
    """The design-file defaults of a model's config (the same keys and values as configs/models/*.yaml)."""
    if model_type == "short_term":
        cfg = dict(sequence_length=64, input_features=32, conv_channels=[64, 128, 256], conv_kernels=[3, 5, 7],
                   conv_dropout=0.1, lstm_hidden=256, lstm_layers=2, lstm_dropout=0.3, attention_dim=256,
                   attention_heads=8, fc_hidden=128, fc_dropout=0.1, layer_norm_eps=1e-5)
    elif model_type == "medium_term":
        cfg = dict(sequence_length=96, input_features=32, d_model=128, attention_heads=4, layer_norm_eps=1e-5)
    elif model_type == "long_term":
        cfg = dict(sequence_length=128, input_features=32, forecast_horizon=8, trend_blocks=3, trend_degree=3,
                   seasonality_blocks=3, seasonality_harmonics=None, block_width=256, block_layers=4, d_model=128,
                   encoder_layers=2, attention_heads=4, feedforward=256, dropout=0.1, fusion_hidden=128,
                   regime_head=True, regime_classes=3, layer_norm_eps=1e-5)
    else:
        raise ValueError(f"unknown model type {model_type!r}")
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown config keys for {model_type}: {sorted(unknown)}")
    cfg.update(overrides)
    return cfg


class BetaHead(nn.Module):
    """Linear(d_in -> 2) then softplus + 1e-3 for alpha and beta."""

    def __init__(self, d_in: int):
        super().__init__()
        self.linear = nn.Linear(d_in, 2)

    def forward(self, h):
        z = F.softplus(self.linear(h))
        return z[:, 0] + BETA_EPSILON, z[:, 1] + BETA_EPSILON


# ---------------------------------------------------------------------------------------------------------------
# short_term: CNN -> BiLSTM -> multi-head attention

class ShortTerm(nn.Module):
    model_type = "short_term"

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        chans = [cfg["input_features"]] + list(cfg["conv_channels"])
        kernels = cfg["conv_kernels"]
        self.convs = nn.ModuleList(nn.Conv1d(chans[i], chans[i + 1], kernels[i], padding=kernels[i] // 2)
                                   for i in range(len(kernels)))
        self.conv_dropout = nn.Dropout(cfg["conv_dropout"])
        h = cfg["lstm_hidden"]
        self.lstm = nn.LSTM(chans[-1], h, num_layers=cfg["lstm_layers"], batch_first=True, bidirectional=True,
                            dropout=cfg["lstm_dropout"] if cfg["lstm_layers"] > 1 else 0.0)
        d = cfg["attention_dim"]
        self.proj = nn.Linear(2 * h, d)
        self.attn = nn.MultiheadAttention(d, cfg["attention_heads"], dropout=0.0, bias=True, batch_first=True)
        self.norm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        self.fc = nn.Linear(2 * d, cfg["fc_hidden"])
        self.fc_dropout = nn.Dropout(cfg["fc_dropout"])
        self.head = BetaHead(cfg["fc_hidden"])

    def forward(self, x):
        h = x.transpose(1, 2)  # (B, F, L)
        for conv in self.convs:
            h = F.relu(conv(h))
        h = self.conv_dropout(h).transpose(1, 2)  # (B, L, C)
        h, _ = self.lstm(h)  # (B, L, 2H)
        h = self.proj(h)
        a, weights = self.attn(h, h, h, need_weights=True, average_attn_weights=False)
        h = self.norm(h + a)
        pooled = torch.cat([h[:, -1], h.mean(dim=1)], dim=1)
        z = self.fc_dropout(F.relu(self.fc(pooled)))
        alpha, beta = self.head(z)
        return alpha, beta, {"attention": weights}


# ---------------------------------------------------------------------------------------------------------------
# medium_term: simplified Temporal Fusion Transformer

class GatedLinearUnit(nn.Module):
    """GLU(u) = Linear_a(u) * sigmoid(Linear_b(u)), stored as ONE Linear(d_in -> 2 d_out) named `fc`, rows [a | b]
    (pytorch-forecasting's GatedLinearUnit; Engine.GatedLinearUnit)."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.fc = nn.Linear(d_in, 2 * d_out)

    def forward(self, u):
        return F.glu(self.fc(u), dim=-1)


class GRN(nn.Module):
    """GRN(x) = LayerNorm(x + GLU(Linear(ELU(Linear(x))))) with identity skip (d_in == d_out here)."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, eps: float):
        super().__init__()
        assert d_in == d_out, "the design's GRNs have an identity skip"
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.gate = GatedLinearUnit(d_hidden, d_out)
        self.norm = nn.LayerNorm(d_out, eps=eps)

    def forward(self, x):
        return self.norm(x + self.gate(self.fc2(F.elu(self.fc1(x)))))


class GateAddNorm(nn.Module):
    """LayerNorm(residual + GLU(x))."""

    def __init__(self, d: int, eps: float):
        super().__init__()
        self.gate = GatedLinearUnit(d, d)
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, x, residual):
        return self.norm(residual + self.gate(x))


class VariableSelection(nn.Module):
    """Per-variable Linear(1 -> d) embeddings (stored packed: embed_weight (F, d), embed_bias (F, d)) weighted by
    softmax(GRN(x)) over the F variables: selected = (w * x) @ W + w @ b."""

    def __init__(self, n_features: int, d: int, eps: float):
        super().__init__()
        self.embed_weight = nn.Parameter(torch.empty(n_features, d))
        self.embed_bias = nn.Parameter(torch.empty(n_features, d))
        bound = 1.0  # nn.Linear(1, d) default init: U(-1/sqrt(1), 1/sqrt(1))
        nn.init.uniform_(self.embed_weight, -bound, bound)
        nn.init.uniform_(self.embed_bias, -bound, bound)
        self.grn = GRN(n_features, d, n_features, eps)

    def forward(self, x):
        weights = torch.softmax(self.grn(x), dim=-1)  # (B, L, F)
        selected = (weights * x) @ self.embed_weight + weights @ self.embed_bias
        return selected, weights


class InterpretableAttention(nn.Module):
    """TFT interpretable multi-head attention: per-head q/k (d -> d, head dim d/heads), ONE value projection
    shared by all heads (d -> d/heads), heads averaged, output projection (d/heads -> d)."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        assert d % heads == 0
        self.heads, self.head_dim = heads, d // heads
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, self.head_dim)
        self.out_proj = nn.Linear(self.head_dim, d)

    def forward(self, x):
        b, l, _ = x.shape
        q = self.q_proj(x).view(b, l, self.heads, self.head_dim).transpose(1, 2)  # (B, NH, L, HS)
        k = self.k_proj(x).view(b, l, self.heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x)  # (B, L, HS)
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.head_dim), dim=-1)  # (B, NH, L, L)
        out = (probs @ v.unsqueeze(1)).mean(dim=1)  # (B, L, HS)
        return self.out_proj(out), probs


class MediumTerm(nn.Module):
    model_type = "medium_term"

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        d, eps = cfg["d_model"], cfg["layer_norm_eps"]
        self.vsn = VariableSelection(cfg["input_features"], d, eps)
        self.lstm = nn.LSTM(d, d, num_layers=1, batch_first=True)
        self.post_lstm = GateAddNorm(d, eps)
        self.attn = InterpretableAttention(d, cfg["attention_heads"])
        self.post_attn = GateAddNorm(d, eps)
        self.grn = GRN(d, d, d, eps)
        self.head = BetaHead(d)

    def forward(self, x):
        selected, weights = self.vsn(x)
        h, _ = self.lstm(selected)
        h = self.post_lstm(h, selected)
        a, probs = self.attn(h)
        h = self.post_attn(a, h)
        h = self.grn(h)
        alpha, beta = self.head(h[:, -1])
        return alpha, beta, {"importance": weights.mean(dim=(0, 1)), "variable_weights": weights,
                             "attention": probs}


# ---------------------------------------------------------------------------------------------------------------
# long_term: N-BEATS (trend + seasonality stacks) + Transformer encoder

def trend_basis(degree: int, n: int) -> torch.Tensor:
    """(degree + 1, n): rows t^i, t = arange(n) / n."""
    t = np.arange(n, dtype=np.float64) / n
    return torch.tensor(np.stack([t ** i for i in range(degree + 1)]), dtype=torch.float32)


def seasonality_basis(harmonics: int, n: int, horizon: int) -> torch.Tensor:
    """(2 * (harmonics + 1), n): rows cos(2 pi i t) for i = 0..harmonics, then sin(2 pi i t), t = arange(n) / H
    (the N-BEATS authors' grid for both backcast and forecast)."""
    t = np.arange(n, dtype=np.float64) / horizon
    rows = [np.cos(2 * np.pi * i * t) for i in range(harmonics + 1)] + \
           [np.sin(2 * np.pi * i * t) for i in range(harmonics + 1)]
    return torch.tensor(np.stack(rows), dtype=torch.float32)


class NBeatsBlock(nn.Module):
    """4 x (Linear, ReLU), then bias-free theta layers for backcast and forecast through fixed bases."""

    def __init__(self, backcast_basis: torch.Tensor, forecast_basis: torch.Tensor, width: int, layers: int):
        super().__init__()
        length, p = backcast_basis.shape[1], backcast_basis.shape[0]
        self.layers = nn.ModuleList(nn.Linear(length if i == 0 else width, width) for i in range(layers))
        self.theta_b = nn.Linear(width, p, bias=False)
        self.theta_f = nn.Linear(width, forecast_basis.shape[0], bias=False)
        self.register_buffer("backcast_basis", backcast_basis, persistent=False)
        self.register_buffer("forecast_basis", forecast_basis, persistent=False)

    def forward(self, x):
        h = x
        for layer in self.layers:
            h = F.relu(layer(h))
        return self.theta_b(h) @ self.backcast_basis, self.theta_f(h) @ self.forecast_basis


class EncoderLayer(nn.Module):
    """Pre-LayerNorm Transformer encoder layer with PyTorch's nn.TransformerEncoderLayer parameter names, GELU,
    dropout on the attention output and in the feed-forward, and NO attention dropout (design convention)."""

    def __init__(self, d: int, heads: int, ff: int, dropout: float, eps: float):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads, dropout=0.0, bias=True, batch_first=True)
        self.linear1 = nn.Linear(d, ff)
        self.linear2 = nn.Linear(ff, d)
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x):
        h = self.norm1(x)
        a, _ = self.self_attn(h, h, h, need_weights=False)
        x = x + self.dropout1(a)
        h = self.linear2(self.dropout(F.gelu(self.linear1(self.norm2(x)))))
        return x + self.dropout2(h)


def sinusoidal_positions(length: int, d: int) -> torch.Tensor:
    """(L, d): pe[p, 2i] = sin(p / 10000^(2i/d)), pe[p, 2i+1] = cos(same) (interleaved, not scaled)."""
    position = torch.arange(length, dtype=torch.float64)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)
    return pe.to(torch.float32)


class LongTerm(nn.Module):
    model_type = "long_term"

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        L, H, width, nl = cfg["sequence_length"], cfg["forecast_horizon"], cfg["block_width"], cfg["block_layers"]
        harmonics = cfg["seasonality_harmonics"]
        if harmonics is None:
            harmonics = int(math.floor(H / 2 - 1))
        self.trend_blocks = nn.ModuleList(
            NBeatsBlock(trend_basis(cfg["trend_degree"], L), trend_basis(cfg["trend_degree"], H), width, nl)
            for _ in range(cfg["trend_blocks"]))
        self.seasonality_blocks = nn.ModuleList(
            NBeatsBlock(seasonality_basis(harmonics, L, H), seasonality_basis(harmonics, H, H), width, nl)
            for _ in range(cfg["seasonality_blocks"]))
        d, eps = cfg["d_model"], cfg["layer_norm_eps"]
        self.input_proj = nn.Linear(cfg["input_features"], d)
        self.register_buffer("positions", sinusoidal_positions(L, d), persistent=False)
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(EncoderLayer(d, cfg["attention_heads"], cfg["feedforward"], cfg["dropout"], eps)
                                            for _ in range(cfg["encoder_layers"]))
        self.fusion = nn.Linear(H + d, cfg["fusion_hidden"])
        self.head = BetaHead(cfg["fusion_hidden"])
        self.regime = nn.Linear(cfg["fusion_hidden"], cfg["regime_classes"]) if cfg["regime_head"] else None

    def forward(self, x, close):
        residual = close
        forecast = torch.zeros(close.shape[0], self.cfg["forecast_horizon"], dtype=close.dtype)
        for block in list(self.trend_blocks) + list(self.seasonality_blocks):
            backcast, f = block(residual)
            residual = residual - backcast
            forecast = forecast + f
        h = self.input_proj(x) + self.positions
        for layer in self.encoder.layers:
            h = layer(h)
        pooled = h.mean(dim=1)
        z = F.relu(self.fusion(torch.cat([forecast, pooled], dim=1)))
        alpha, beta = self.head(z)
        extras = {"forecast": forecast}
        if self.regime is not None:
            extras["regime"] = F.softplus(self.regime(z)) + 1.0
        return alpha, beta, extras


MODELS = {"short_term": ShortTerm, "medium_term": MediumTerm, "long_term": LongTerm}


def build(model_type: str, cfg: dict) -> nn.Module:
    return MODELS[model_type](cfg)


# ---------------------------------------------------------------------------------------------------------------
# Losses (shared/design/models.md)

def beta_nll(alpha, beta, label, eps: float = 0.05):
    """-mean(log Beta(y | alpha, beta)), y = eps + (1 - 2 eps) * label."""
    y = eps + (1 - 2 * eps) * label
    log_pdf = (torch.lgamma(alpha + beta) - torch.lgamma(alpha) - torch.lgamma(beta)
               + (alpha - 1) * torch.log(y) + (beta - 1) * torch.log1p(-y))
    return -log_pdf.mean()


def calibration_loss(p, label, bins: int = 10):
    """Mean over non-empty equal-width bins of (mean p - mean label)^2; bin = min(floor(p * bins), bins - 1)."""
    index = torch.clamp((p.detach() * bins).floor().long(), 0, bins - 1)
    terms = []
    for k in range(bins):
        mask = index == k
        if mask.any():
            terms.append((p[mask].mean() - label[mask].float().mean()) ** 2)
    return torch.stack(terms).mean()


def dirichlet_nll(conc, target):
    """-mean(log Dir(target | conc)), conc and target (N, K)."""
    return -torch.distributions.Dirichlet(conc).log_prob(target).mean()


# ---------------------------------------------------------------------------------------------------------------
# Deterministic weights shared with Swift (full-size forward fixtures; no 14 MB of weights in the repository)

MASK64 = (1 << 64) - 1


def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def splitmix64_uniforms(seed: int, count: int) -> np.ndarray:
    """count values u in [-1, 1) with 24 random bits each (exact in float32): u = (r >> 40) / 2^23 - 1, where r
    is the i-th output of splitmix64 started at `seed` (state_i = seed + (i + 1) * 0x9E3779B97F4A7C15 mod 2^64)."""
    with np.errstate(over="ignore"):
        state = np.uint64(seed & MASK64) + (np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) / 8388608.0 - 1.0).astype(np.float32)


def deterministic_values(name: str, shape, seed: int) -> np.ndarray:
    """The value of parameter `name`: u from splitmix64(fnv1a64(name) ^ seed), then
      - 1-D tensors whose name ends in 'norm.weight' or 'norm1.weight'/'norm2.weight': 1 + 0.1 u
      - other 1-D tensors (biases): 0.1 u
      - tensors of 2 or more dimensions: u / sqrt(fan_in), fan_in = prod(shape[1:])
    all in float32 arithmetic (correctly rounded, so Swift computes the same bits)."""
    n = int(np.prod(shape))
    u = splitmix64_uniforms(fnv1a64(name) ^ seed, n)
    last = name.rsplit(".", 1)
    if len(shape) == 1:
        if last[-1] == "weight" and last[0].split(".")[-1].startswith("norm"):
            values = np.float32(1) + np.float32(0.1) * u
        else:
            values = np.float32(0.1) * u
    else:
        fan_in = int(np.prod(shape[1:]))
        values = u / np.sqrt(np.float32(fan_in))
    return values.astype(np.float32).reshape(shape)


def fill_deterministic(model: nn.Module, seed: int) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(deterministic_values(name, tuple(p.shape), seed)))
