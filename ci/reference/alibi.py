"""ALiBi — the slopes and additive attention biases of the three ALiBi decoder families transformers ships, each written
from its modeling file (float64 numpy):

- models/bloom/modeling_bloom.py build_alibi_tensor (BLOOM) and models/falcon/modeling_falcon.py build_alibi_tensor (the
  same slopes; Falcon-RW): with p = 2^floor(log2 n), base = 2^(-(2^-(log2 p - 3))) = 2^(-8/p), the slopes base^1 .. base^p,
  and when n is not a power of two min(p, n - p) more from extra_base = 2^(-8/(2p)) at the odd powers 1, 3, 5, …; the
  bias of key j is slope · ((cumsum(attention_mask) - 1) · attention_mask)[j] = slope · j for an unpadded row, the same
  for every query (softmax's translation invariance makes it slope · (j - i)). Falcon multiplies slopes[..., None].bfloat16()
  by that integer position, so the bias is bf16(bf16(slope) · bf16(j)) — exact for the power-of-two slopes of 8, 16, 32,
  64 … (and 6, 12, 24 …) heads while j < 256 (bfloat16 holds 8 significant bits), rounded beyond.
- models/mpt/modeling_mpt.py build_mpt_alibi_tensor (gen_slopes in older releases): N = 2^ceil(log2 n), m = (1 .. N) ·
  alibi_bias_max / N, slopes 2^-m, and when N != n the reorder concat(slopes[1::2], slopes[::2])[:n]; the bias is built
  once for max_seq_len keys as slope · (k - (max_seq_len - 1)) and MptAttention keeps its last key_length columns:
  slope · (j - (L - 1)), relative to the call's last key L - 1. MptModel.forward calls it without alibi_bias_max, so
  transformers always uses 8 whatever attn_config.alibi_bias_max says. With alibi_bias_max 8 these are BLOOM's slopes for
  every n (the even m are the p = N/2 powers of 2^(-8/p), the odd ones extra_base's odd powers).

`bias` gives the additive (heads, Tq, Tk) term of one call — the queries at positions start .. end - 1 over the keys
0 .. end - 1, as a call with `start` cached keys sees them — with -inf above the diagonal (the causal mask's weight is 0 in
float32 transformers too). form "hf" is what transformers adds; "relative" is slope · (j - i), what a kernel that keys the
bias on the query's position computes; the two give the same softmax."""
import math

import numpy as np

import safetensors_np


def bloom_slopes(n):
    """build_alibi_tensor's slopes for n heads (BLOOM, Falcon), float64 (exact powers of two when n is a power of two or a
    power of two times 3 / 2; float32 in transformers, which rounds the others, e.g. 12 heads' 2^-0.5)."""
    p = 2 ** math.floor(math.log2(n))
    base = 2.0 ** (-(2.0 ** -(math.log2(p) - 3)))
    slopes = base ** np.arange(1, p + 1, dtype=np.float64)
    if p != n:
        extra = 2.0 ** (-(2.0 ** -(math.log2(2 * p) - 3)))
        slopes = np.concatenate([slopes, extra ** np.arange(1, 1 + 2 * min(p, n - p), 2, dtype=np.float64)])
    return slopes


def mpt_slopes(n, alibi_bias_max=8):
    """build_mpt_alibi_tensor's slopes for n heads, float64."""
    big = 2 ** math.ceil(math.log2(n))
    m = np.arange(1, big + 1, dtype=np.float64) * (alibi_bias_max / big)
    slopes = 1.0 / 2.0 ** m
    if big != n:
        slopes = np.concatenate([slopes[1::2], slopes[::2]])[:n]
    return slopes


def spans(t, calls=None):
    """The [start, end) of each call: `calls` lists their lengths (default: one call of all t positions)."""
    calls = [t] if calls is None else list(calls)
    if sum(calls) != t or min(calls) < 1:
        raise ValueError(f"calls {calls} do not cover {t} positions")
    ends = np.cumsum(calls)
    return [(int(e - c), int(e)) for c, e in zip(calls, ends)]


def bias(kind, slopes, start, end, form="hf"):
    """The additive bias (heads, end - start, end) of a call: kind "bloom" (slope · j), "mpt" (slope · (j - (end - 1))),
    "falcon" (bf16(bf16(slope) · bf16(j)), which the caller scales with the scores); form "relative": slope · (j - i)."""
    s = np.asarray(slopes, dtype=np.float64)[:, None, None]
    i = np.arange(start, end, dtype=np.float64)[:, None]
    j = np.arange(end, dtype=np.float64)[None, :]
    if form == "relative":
        b = s * (j - i)
    elif kind == "bloom":
        b = s * j + 0.0 * i
    elif kind == "mpt":
        b = s * (j - (end - 1)) + 0.0 * i
    elif kind == "falcon":
        r = safetensors_np.bf16_round
        prod = r(s.astype(np.float32)) * r(np.broadcast_to(j, (1, 1, end)).astype(np.float32))   # exact in float32: 8 x 8 bits
        b = r(prod).astype(np.float64) + 0.0 * i
    else:
        raise ValueError(kind)
    return np.where(j <= i, b, -np.inf)


def attend(q, k, v, scale, b):
    """softmax(q kᵀ · scale + b) v over one call: q (B, H, Tq, D), k, v (B, H, Tk, D), b (H, Tq, Tk) with -inf masked."""
    s = (q @ k.transpose(0, 1, 3, 2)) * scale + b[None]
    m = s.max(-1, keepdims=True)
    e = np.exp(s - m)
    return (e / e.sum(-1, keepdims=True)) @ v
