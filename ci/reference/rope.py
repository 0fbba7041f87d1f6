"""Rotary position embeddings, following transformers/modeling_rope_utils.py (_compute_default_rope_parameters,
_compute_linear_scaling_rope_parameters, _compute_dynamic_ntk_parameters, _compute_llama3_parameters), the
dynamic update of modeling_rope_utils.dynamic_rope_update (the frequencies of a forward pass over positions
0..T-1 are those of seq_len = T when T > max_position_embeddings), LlamaRotaryEmbedding.forward (freqs =
position · inv_freq, emb = cat(freqs, freqs), cos/sin times attention_scaling = 1 for these types) and
apply_rotary_pos_emb / rotate_half (Phi-3's variant rotates the first rotary_dim dimensions and passes the
rest). transformers computes inv_freq and cos/sin in float32 (autocast off); here float64.

The config's rope settings are read from either layout: 4.x (rope_theta and rope_scaling at the top level,
rope_scaling naming its kind under "rope_type" or the older "type") or 5.x (rope_parameters, which holds
rope_theta, rope_type and the scaling fields)."""
import math

import numpy as np


def parameters(cfg):
    """The rope settings as one dict {rope_type, rope_theta, factor, ...} from either config layout."""
    if cfg.get("rope_parameters") is not None:
        p = dict(cfg["rope_parameters"])
    else:
        p = dict(cfg.get("rope_scaling") or {})
        p["rope_theta"] = cfg.get("rope_theta", 10000.0)
    p["rope_type"] = p.get("rope_type", p.get("type", "default"))
    return p


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def inv_freq(cfg, seq_len):
    """The inverse frequencies (rotary_dim / 2,) for a forward pass over seq_len positions."""
    p = parameters(cfg)
    dim = int(head_dim(cfg) * cfg.get("partial_rotary_factor", 1.0))
    base = p["rope_theta"]
    kind = p["rope_type"]
    exps = np.arange(0, dim, 2, dtype=np.int64).astype(np.float64) / dim
    if kind == "dynamic":
        mpe = cfg["max_position_embeddings"]
        factor = p["factor"]
        sl = seq_len if seq_len > mpe else mpe
        base = base * ((factor * sl / mpe) - (factor - 1)) ** (dim / (dim - 2))
    inv = 1.0 / (base ** exps)
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / p["factor"]
    if kind == "dynamic":
        return inv
    if kind == "llama3":
        factor, lo, hi = p["factor"], p["low_freq_factor"], p["high_freq_factor"]
        old = p["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / lo, old / hi
        wavelen = 2 * math.pi / inv
        scaled = np.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        return np.where(medium, smoothed, scaled)
    raise ValueError(f"rope_type {kind!r}: the reference implements default, linear, dynamic and llama3")


def cos_sin(cfg, positions):
    """cos, sin (T, rotary_dim) for positions (T,)."""
    positions = np.asarray(positions, dtype=np.float64)
    inv = inv_freq(cfg, int(positions.max()) + 1)
    f = positions[:, None] * inv[None, :]
    emb = np.concatenate([f, f], axis=-1)
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def apply(x, cos, sin):
    """x (B, H, T, D): rotary on the first cos.shape[-1] dimensions of each head, the rest passed through."""
    r = cos.shape[-1]
    rot, rest = x[..., :r], x[..., r:]
    return np.concatenate([rot * cos + rotate_half(rot) * sin, rest], axis=-1)
