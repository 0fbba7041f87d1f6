"""Rotary position embeddings, following transformers/modeling_rope_utils.py (_compute_default_rope_parameters,
_compute_linear_scaling_rope_parameters, _compute_dynamic_ntk_parameters, _compute_llama3_parameters,
_compute_yarn_parameters, _compute_longrope_parameters), the dynamic update of
modeling_rope_utils.dynamic_rope_update (the frequencies of a forward pass over positions 0..T-1 are those
of seq_len = T when T > max_position_embeddings; LongRoPE takes its long factors when T > the original max
positions, its short ones otherwise), 5.x's standardize_rope_params (the original max positions of llama3,
yarn and longrope: a top-level original_max_position_embeddings first, as Phi-3 keeps it, then the rope
settings', then max_position_embeddings), LlamaRotaryEmbedding.forward (freqs = position · inv_freq,
emb = cat(freqs, freqs), cos/sin times attention_scaling: yarn's and longrope's attention factor, 1 for
the other types) and
apply_rotary_pos_emb / rotate_half (Phi-3's variant rotates the first rotary_dim dimensions and passes the
rest). transformers computes inv_freq and cos/sin in float32 (autocast off); here float64.

The config's rope settings are read from either layout: 4.x (rope_theta and rope_scaling at the top level,
rope_scaling naming its kind under "rope_type" or the older "type") or 5.x (rope_parameters, which holds
rope_theta, rope_type and the scaling fields)."""
import math

import numpy as np


def parameters(cfg, layer_type=None):
    """The rope settings as one dict {rope_type, rope_theta, factor, ...} from either config layout; with
    layer_type (Gemma 3), that type's: 5.x rope_parameters[layer_type], or 4.x's rope_local_base_freq (default
    10000, default kind) for sliding_attention and rope_theta (default 1e6) + rope_scaling for full_attention; OLMo 3:
    the default kind at theta 500000 for sliding_attention, rope_theta (default 500000) + rope_scaling for
    full_attention (5.x: rope_parameters[layer_type])."""
    rp = cfg.get("rope_parameters")
    if layer_type is not None and cfg.get("model_type") == "olmo3":
        # Olmo3Config.convert_rope_params_to_dict (5.x): rope_parameters[layer_type] (an absent entry: the default kind),
        # rope_theta default_theta 500000 where unset; a 4.x config's rope_scaling goes to full_attention only, and its
        # rope_theta too: the sliding entry's kwargs.pop("rope_theta", 500000) runs after the full entry's has taken it
        if rp is not None:
            p = dict(rp.get(layer_type) or {"rope_type": "default"})
            p.setdefault("rope_theta", 500000.0)
        elif layer_type == "sliding_attention":
            p = {"rope_type": "default", "rope_theta": 500000.0}
        else:
            p = dict(cfg.get("rope_scaling") or {})
            p["rope_theta"] = cfg.get("rope_theta", 500000.0)
    elif layer_type is not None:
        if rp is not None and layer_type in rp:
            p = dict(rp[layer_type])
        elif layer_type == "sliding_attention":
            p = {"rope_type": "default", "rope_theta": cfg.get("rope_local_base_freq", 10000.0)}
        else:
            p = dict(cfg.get("rope_scaling") or {})
            p["rope_theta"] = cfg.get("rope_theta", 1e6)
    elif rp is not None:
        p = dict(rp)
    else:
        p = dict(cfg.get("rope_scaling") or {})
        p["rope_theta"] = cfg.get("rope_theta", 10000.0)
    p["rope_type"] = p.get("rope_type", p.get("type", "default"))
    return p


def original_max(cfg, p):
    if cfg.get("original_max_position_embeddings") is not None:
        return cfg["original_max_position_embeddings"]
    return p.get("original_max_position_embeddings") or cfg["max_position_embeddings"]


def _mscale(scale, m=1.0):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def attention_factor(cfg, layer_type=None):
    """The factor cos and sin are multiplied by: yarn's and longrope's, 1 for the other types."""
    p = parameters(cfg, layer_type)
    kind = p["rope_type"]
    if kind not in ("yarn", "longrope", "su"):
        return 1.0
    orig = original_max(cfg, p)
    factor = p.get("factor")
    if factor is None:
        factor = cfg["max_position_embeddings"] / orig
    if p.get("attention_factor") is not None:
        return p["attention_factor"]
    if kind == "yarn":
        if p.get("mscale") and p.get("mscale_all_dim"):
            return _mscale(factor, p["mscale"]) / _mscale(factor, p["mscale_all_dim"])
        return _mscale(factor)
    return 1.0 if factor <= 1 else math.sqrt(1 + math.log(factor) / math.log(orig))


def head_dim(cfg):
    if cfg.get("model_type") == "seed_oss" and "head_dim" not in cfg:
        return 128                                   # SeedOssConfig(head_dim=128); a null one: hidden // heads
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def inv_freq(cfg, seq_len, layer_type=None):
    """The inverse frequencies (rotary_dim / 2,) for a forward pass over seq_len positions."""
    p = parameters(cfg, layer_type)
    dim = int(head_dim(cfg) * cfg.get("partial_rotary_factor", 0.25 if cfg.get("model_type") == "stablelm" else 1.0))   # StableLmConfig: 0.25
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
    if kind in ("longrope", "su"):
        ext = p["long_factor"] if seq_len > original_max(cfg, p) else p["short_factor"]
        return 1.0 / (np.asarray(ext, dtype=np.float64) * base ** exps)
    if kind == "yarn":
        factor = p.get("factor")
        orig = original_max(cfg, p)
        if factor is None:
            factor = cfg["max_position_embeddings"] / orig
        fast, slow = p.get("beta_fast") or 32, p.get("beta_slow") or 1

        def correction_dim(rotations):
            return dim * math.log(orig / (rotations * 2 * math.pi)) / (2 * math.log(base))

        lo, hi = correction_dim(fast), correction_dim(slow)
        if p.get("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - lo) / (hi - lo), 0, 1)
        extrapolation = 1 - ramp
        return inv / factor * (1 - extrapolation) + inv * extrapolation
    if kind == "llama3":
        factor, lo, hi = p["factor"], p["low_freq_factor"], p["high_freq_factor"]
        old = original_max(cfg, p)
        low_wavelen, high_wavelen = old / lo, old / hi
        wavelen = 2 * math.pi / inv
        scaled = np.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        return np.where(medium, smoothed, scaled)
    raise ValueError(f"rope_type {kind!r}: the reference implements default, linear, dynamic, llama3, yarn and longrope")


def cos_sin(cfg, positions, lens=None, layer_type=None):
    """cos, sin (T, rotary_dim) for positions (T,), all with the frequencies of one pass over them (seq_len =
    max position + 1), or with lens (T,) each row with those of the pass that processed it (seq_len lens[t]):
    what a KV cache holds when a prompt and then single tokens went through the model one call at a time."""
    positions = np.asarray(positions, dtype=np.float64)
    if lens is None:
        inv = inv_freq(cfg, int(positions.max()) + 1, layer_type)[None, :]
    else:
        inv = np.stack([inv_freq(cfg, int(n), layer_type) for n in lens])
    f = positions[:, None] * inv
    emb = np.concatenate([f, f], axis=-1)
    a = attention_factor(cfg, layer_type)
    return np.cos(emb) * a, np.sin(emb) * a


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def apply(x, cos, sin):
    """x (B, H, T, D): rotary on the first cos.shape[-1] dimensions of each head, the rest passed through."""
    r = cos.shape[-1]
    rot, rest = x[..., :r], x[..., r:]
    return np.concatenate([rot * cos + rotate_half(rot) * sin, rest], axis=-1)


# ---- the interleaved (pairwise) layout: GPT-J's rotate_every_two, as Cohere, GLM and ERNIE 4.5 compute it -------------

def interleaved_cos_sin(cfg, positions, seq_len):
    """cos, sin (T, rotary_dim) of one pass over seq_len positions, each frequency repeated twice (f0, f0, f1, f1, …:
    repeat_interleave); the state-dependent kinds (dynamic, longrope) are refused."""
    p = parameters(cfg)
    if p["rope_type"] in ("dynamic", "longrope", "su"):
        raise ValueError(f"rope_type {p['rope_type']}: state-dependent in transformers' cache, not followed here")
    f = np.asarray(positions, dtype=np.float64)[:, None] * inv_freq(cfg, seq_len)[None, :]
    emb = np.repeat(f, 2, axis=-1)
    a = attention_factor(cfg)
    return np.cos(emb) * a, np.sin(emb) * a


def rotate_pairs(x):
    """The pairwise rotate_half: (x0, x1, x2, x3, …) → (-x1, x0, -x3, x2, …)."""
    out = np.empty_like(x)
    out[..., 0::2] = -x[..., 1::2]
    out[..., 1::2] = x[..., 0::2]
    return out


def apply_interleaved(x, cos, sin, rotation="interleaved"):
    """x (B, H, T, D): the first cos.shape[-1] dims turned pairwise, the rest passed. rotation "halves" is Llama's reading
    of the same frequencies (cat layout, rotate_half on halves): a wrong one, for selfcheck to show it moves the logits."""
    r = cos.shape[-1]
    rot, rest = x[..., :r], x[..., r:]
    if rotation == "interleaved":
        out = rot * cos + rotate_pairs(rot) * sin
    else:
        c, s = np.concatenate([cos[..., 0::2]] * 2, -1), np.concatenate([sin[..., 0::2]] * 2, -1)
        out = rot * c + np.concatenate([-rot[..., r // 2:], rot[..., :r // 2]], -1) * s
    return np.concatenate([out, rest], axis=-1)
