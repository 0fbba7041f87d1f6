"""nn — the float64 building blocks of the reference models (numpy only). Each function names the
PyTorch / transformers function it stands for; everything computes in float64, including the places where
transformers upcasts to float32 (RMSNorm's variance, softmax, rotary cos/sin), which only makes the
reference more exact than a float32 run of transformers."""
import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def config_head_dim(cfg, hidden, heads, null):
    """getattr(config, "head_dim", hidden_size // num_attention_heads) as an attention class reads it: the key's value when
    the config carries it (null: ValueError(null), transformers fails on it), else hidden // heads, hidden and heads the
    class's defaults when the config lacks them."""
    if "head_dim" in cfg:
        if cfg["head_dim"] is None:
            raise ValueError(null)
        return cfg["head_dim"]
    return cfg.get("hidden_size", hidden) // cfg.get("num_attention_heads", heads)


def linear(x, w, b=None):
    """torch.nn.Linear: x @ w.T + b, w stored [out, in]."""
    y = x @ w.T
    return y if b is None else y + b


def conv1d(x, w, b):
    """transformers.pytorch_utils.Conv1D (GPT-2): x @ w + b, w stored [in, out]."""
    return x @ w + b


def layer_norm(x, w, b, eps):
    """torch.nn.LayerNorm: biased variance over the last dimension."""
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    """LlamaRMSNorm / T5LayerNorm: x * rsqrt(mean(x²) + eps) * w (no mean subtraction, no bias)."""
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def gelu(x):
    """ACT2FN["gelu"] = torch.nn.functional.gelu (exact, erf)."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    """ACT2FN["gelu_new"] / ["gelu_pytorch_tanh"]: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def relu(x):
    return np.maximum(x, 0.0)


def silu(x):
    return x / (1.0 + np.exp(-x))


ACT = {"gelu": gelu, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "relu": relu, "silu": silu, "swish": silu}


def softmax(x):
    m = x.max(-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(-1, keepdims=True)


def heads(x, n, d):
    """(B, T, n·d) -> (B, n, T, d)."""
    b, t, _ = x.shape
    return x.reshape(b, t, n, d).transpose(0, 2, 1, 3)


def merge(x):
    """(B, n, T, d) -> (B, T, n·d)."""
    b, n, t, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, n * d)


def attention(q, k, v, scale, allowed=None, bias=None, softcap=None):
    """eager_attention_forward: softmax(q kᵀ·scale + bias, masked) v. q (B, H, Tq, D); k, v (B, Hkv, Tk, D)
    with H a multiple of Hkv (repeat_kv: query head h reads kv head h // (H/Hkv)); allowed: bool
    broadcastable to (B, H, Tq, Tk), False where the mask adds the dtype's minimum (its softmax weight is 0
    here, as it is, to the last bit, in float32 transformers); softcap: Gemma 2's tanh(s / cap) * cap on the
    scaled scores, before the mask."""
    rep = q.shape[1] // k.shape[1]
    if rep > 1:
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
    s = (q @ k.transpose(0, 1, 3, 2)) * scale
    if softcap is not None:
        s = np.tanh(s / softcap) * softcap
    if bias is not None:
        s = s + bias
    if allowed is not None:
        s = np.where(allowed, s, -np.inf)
    return softmax(s) @ v


def causal(tq, tk=None, window=None):
    """masking_utils.causal_mask_function (kv_idx <= q_idx), and with sliding_window_overlay
    (kv_idx > q_idx - window: a query sees `window` keys, itself included). (Tq, Tk) bool."""
    tk = tq if tk is None else tk
    qi = np.arange(tq)[:, None] + (tk - tq)
    ki = np.arange(tk)[None, :]
    m = ki <= qi
    if window is not None:
        m &= ki > qi - window
    return m


def padding(mask):
    """A 2-D attention_mask (B, Tk) of 0/1 -> (B, 1, 1, Tk) bool (keys with 0 are masked)."""
    return (np.asarray(mask) != 0)[:, None, None, :]
