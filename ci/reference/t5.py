"""T5 (v1.0 and v1.1 / Flan-T5), following transformers/models/t5/modeling_t5.py:
T5Attention._relative_position_bucket and compute_bias (buckets computed in float32 as torch does: the
bucket is an integer, so this is the only float32 arithmetic kept here), T5Attention.forward (no 1/sqrt(d)
scaling; the bias is computed by layer 0 of each stack and reused by every layer; cross-attention has no
relative bias), T5LayerNorm (RMS, no mean, no bias; its variance is float32 in transformers),
T5DenseActDense (wi → relu → wo) and T5DenseGatedActDense (act(wi_0) * wi_1 → wo, act = gelu_new for
"gated-gelu"), T5Stack.forward (pre-norm, residual, final_layer_norm), T5ForConditionalGeneration.forward
(sequence_output * d_model**-0.5 when tie_word_embeddings, then lm_head)."""
import math

import numpy as np

import nn


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """T5Attention._relative_position_bucket, with torch's dtypes: the log term in float32, truncated to int64."""
    rp = np.asarray(relative_position, dtype=np.int64)
    buckets = np.zeros_like(rp)
    if bidirectional:
        num_buckets //= 2
        buckets += (rp > 0).astype(np.int64) * num_buckets
        rp = np.abs(rp)
    else:
        rp = -np.minimum(rp, 0)
    max_exact = num_buckets // 2
    is_small = rp < max_exact
    with np.errstate(divide="ignore"):
        f = np.log(rp.astype(np.float32) / np.float32(max_exact))              # torch.log on a float32 tensor
    f = f / np.float32(math.log(max_distance / max_exact)) * np.float32(num_buckets - max_exact)
    large = max_exact + np.where(is_small, 0, f).astype(np.int64)             # .to(torch.long) truncates
    large = np.minimum(large, num_buckets - 1)
    return buckets + np.where(is_small, rp, large)


def compute_bias(table, tq, tk, bidirectional, num_buckets, max_distance):
    """(1, H, Tq, Tk) from the (buckets, H) table: relative_position = memory - context."""
    rel = np.arange(tk)[None, :] - np.arange(tq)[:, None]
    bucket = relative_position_bucket(rel, bidirectional, num_buckets, max_distance)
    return table[bucket].transpose(2, 0, 1)[None]


def _ff(cfg, P, p, x):
    ffn = cfg.get("feed_forward_proj", "relu")
    if ffn.startswith("gated-"):
        act = nn.ACT["gelu_new" if ffn == "gated-gelu" else ffn[len("gated-"):]]
        g = act(nn.linear(x, P[p + "DenseReluDense.wi_0.weight"])) * nn.linear(x, P[p + "DenseReluDense.wi_1.weight"])
    else:
        g = nn.ACT[ffn](nn.linear(x, P[p + "DenseReluDense.wi.weight"]))
    return nn.linear(g, P[p + "DenseReluDense.wo.weight"])


def _attn(cfg, P, p, x, kv, bias, allowed):
    nh, d = cfg["num_heads"], cfg["d_kv"]
    q = nn.heads(nn.linear(x, P[p + "q.weight"]), nh, d)
    k = nn.heads(nn.linear(kv, P[p + "k.weight"]), nh, d)
    v = nn.heads(nn.linear(kv, P[p + "v.weight"]), nh, d)
    return nn.linear(nn.merge(nn.attention(q, k, v, 1.0, allowed, bias)), P[p + "o.weight"])


def encode(cfg, P, ids, mask=None):
    """T5Stack (encoder) -> last hidden state (B, T, C). mask: optional (B, T) 0/1 attention_mask."""
    ids = np.asarray(ids)
    t = ids.shape[1]
    eps, nb, md = cfg.get("layer_norm_epsilon", 1e-6), cfg.get("relative_attention_num_buckets", 32), cfg.get("relative_attention_max_distance", 128)
    h = P["shared.weight"][ids]
    bias = compute_bias(P["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], t, t, True, nb, md)
    allowed = None if mask is None else nn.padding(mask)
    for i in range(cfg["num_layers"]):
        p = f"encoder.block.{i}.layer."
        h = h + _attn(cfg, P, p + "0.SelfAttention.", *_self(P, p, h, eps), bias, allowed)
        h = h + _ff(cfg, P, p + "1.", nn.rms_norm(h, P[p + "1.layer_norm.weight"], eps))
    return nn.rms_norm(h, P["encoder.final_layer_norm.weight"], eps)


def _self(P, p, h, eps):
    """T5LayerSelfAttention: the normed states are both the queries' and the keys' input."""
    x = nn.rms_norm(h, P[p + "0.layer_norm.weight"], eps)
    return x, x


def decode(cfg, P, enc, dec_ids, enc_mask=None):
    """T5Stack (decoder) + head -> (decoder last hidden state, logits (B, Tt, V))."""
    dec_ids = np.asarray(dec_ids)
    t = dec_ids.shape[1]
    eps, nb, md = cfg.get("layer_norm_epsilon", 1e-6), cfg.get("relative_attention_num_buckets", 32), cfg.get("relative_attention_max_distance", 128)
    h = P["shared.weight"][dec_ids]
    bias = compute_bias(P["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], t, t, False, nb, md)
    causal = nn.causal(t)
    cross = None if enc_mask is None else nn.padding(enc_mask)
    for i in range(cfg.get("num_decoder_layers", cfg["num_layers"])):
        p = f"decoder.block.{i}.layer."
        h = h + _attn(cfg, P, p + "0.SelfAttention.", *_self(P, p, h, eps), bias, causal)
        x = nn.rms_norm(h, P[p + "1.layer_norm.weight"], eps)
        h = h + _attn(cfg, P, p + "1.EncDecAttention.", x, enc, None, cross)
        h = h + _ff(cfg, P, p + "2.", nn.rms_norm(h, P[p + "2.layer_norm.weight"], eps))
    h = nn.rms_norm(h, P["decoder.final_layer_norm.weight"], eps)
    if cfg.get("tie_word_embeddings", True):
        return h, (h * cfg["d_model"] ** -0.5) @ P["shared.weight"].T
    return h, h @ P["lm_head.weight"].T
