"""MPNet (e.g. sentence-transformers/all-mpnet-base-v2, microsoft/mpnet-base), following
transformers/models/mpnet/modeling_mpnet.py:

- MPNetEmbeddings.forward: word + position embeddings (no token types), position ids from
  create_position_ids_from_input_ids with padding_idx fixed at 1 (the class sets self.padding_idx = 1 whatever
  pad_token_id says), then LayerNorm (layer_norm_eps).
- MPNetEncoder.compute_position_bias: relative_position = memory - context over arange(T) (the index in the
  padded row, not the position ids), bucketed by MPNetEncoder.relative_position_bucket with num_buckets=32 and
  max_distance=128 (the call passes neither: the defaults, whatever relative_attention_num_buckets says; the
  table relative_attention_bias has that many rows), the table's (T, T, H) permuted to (1, H, T, T) and shared by
  every layer.
- MPNetSelfAttention.forward: q, k, v, o with biases; scores q kᵀ / sqrt(head_size), + position_bias, + the
  extended attention mask (masked keys get the dtype's minimum: weight exactly 0), softmax, · v, o.
- MPNetAttention: LayerNorm(o + input); MPNetIntermediate (dense, ACT2FN[hidden_act]); MPNetOutput
  (LayerNorm(dense + attention output)): BERT's post-LN layer.
- MPNetPooler: tanh(dense(h[:, 0])). MPNetLMHead: dense, gelu (the exact gelu, imported as a function: not
  hidden_act), layer_norm (layer_norm_eps), decoder tied to the word embeddings + its bias (lm_head.bias).
  MPNetClassificationHead: dense → tanh → out_proj on h[:, 0]. MPNetForTokenClassification: classifier on every row.

The bucket is computed here with torch's float32 arithmetic (log of a float32 tensor, the Python float
log(max_distance / max_exact) as a float32 operand, truncation to int64), as transformers computes it; it is
written from MPNet's own function (n = -(memory - context), buckets for n < 0 in the upper half), not from T5's,
and selfcheck.py checks that the two agree."""
import math

import numpy as np

import nn

PADDING_IDX = 1          # MPNetEmbeddings.padding_idx
BUCKETS = 32             # compute_position_bias(…, num_buckets=32)
MAX_DISTANCE = 128       # relative_position_bucket(…, max_distance=128)


def create_position_ids_from_input_ids(ids, padding_idx=PADDING_IDX):
    """modeling_mpnet.create_position_ids_from_input_ids: cumsum of ids != padding_idx, times that mask, + padding_idx."""
    m = (np.asarray(ids) != padding_idx).astype(np.int64)
    return np.cumsum(m, axis=1) * m + padding_idx


def relative_position_bucket(relative_position, num_buckets=BUCKETS, max_distance=MAX_DISTANCE):
    """MPNetEncoder.relative_position_bucket, in torch's dtypes."""
    ret = np.zeros_like(np.asarray(relative_position, dtype=np.int64))
    n = -np.asarray(relative_position, dtype=np.int64)
    num_buckets //= 2
    ret += (n < 0).astype(np.int64) * num_buckets
    n = np.abs(n)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    with np.errstate(divide="ignore"):
        f = np.log(n.astype(np.float32) / np.float32(max_exact))
    f = f / np.float32(math.log(max_distance / max_exact)) * np.float32(num_buckets - max_exact)
    val_if_large = max_exact + np.where(is_small, 0, f).astype(np.int64)
    val_if_large = np.minimum(val_if_large, num_buckets - 1)
    return ret + np.where(is_small, n, val_if_large)


def position_bias(table, t):
    """compute_position_bias without position_ids: (1, H, T, T) from the (buckets, H) table."""
    rel = np.arange(t)[None, :] - np.arange(t)[:, None]             # memory - context
    return table[relative_position_bucket(rel)].transpose(2, 0, 1)[None]


def encode(cfg, P, ids, attention_mask=None):
    """MPNetModel.forward -> last_hidden_state. P: names without the 'mpnet.' prefix."""
    ids = np.asarray(ids)
    t = ids.shape[1]
    eps = cfg.get("layer_norm_eps", 1e-12)
    pos = create_position_ids_from_input_ids(ids)
    h = P["embeddings.word_embeddings.weight"][ids] + P["embeddings.position_embeddings.weight"][pos]
    h = nn.layer_norm(h, P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], eps)
    bias = position_bias(P["encoder.relative_attention_bias.weight"], t)
    allowed = None if attention_mask is None else nn.padding(attention_mask)
    nh = cfg["num_attention_heads"]
    hs = cfg["hidden_size"] // nh
    act = nn.ACT[cfg.get("hidden_act", "gelu")]
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        a = p + "attention.attn."
        q = nn.heads(nn.linear(h, P[a + "q.weight"], P[a + "q.bias"]), nh, hs)
        k = nn.heads(nn.linear(h, P[a + "k.weight"], P[a + "k.bias"]), nh, hs)
        v = nn.heads(nn.linear(h, P[a + "v.weight"], P[a + "v.bias"]), nh, hs)
        o = nn.linear(nn.merge(nn.attention(q, k, v, 1.0 / math.sqrt(hs), allowed, bias)), P[a + "o.weight"], P[a + "o.bias"])
        h = nn.layer_norm(o + h, P[p + "attention.LayerNorm.weight"], P[p + "attention.LayerNorm.bias"], eps)
        f = act(nn.linear(h, P[p + "intermediate.dense.weight"], P[p + "intermediate.dense.bias"]))
        f = nn.linear(f, P[p + "output.dense.weight"], P[p + "output.dense.bias"])
        h = nn.layer_norm(f + h, P[p + "output.LayerNorm.weight"], P[p + "output.LayerNorm.bias"], eps)
    return h


def pooler(P, h):
    """MPNetPooler: tanh(dense(h[:, 0]))."""
    return np.tanh(nn.linear(h[:, 0], P["pooler.dense.weight"], P["pooler.dense.bias"]))


def mlm_logits(cfg, P, h):
    """MPNetLMHead on every row: dense, exact gelu, layer_norm, the tied decoder + lm_head.bias."""
    x = nn.gelu(nn.linear(h, P["lm_head.dense.weight"], P["lm_head.dense.bias"]))
    x = nn.layer_norm(x, P["lm_head.layer_norm.weight"], P["lm_head.layer_norm.bias"], cfg.get("layer_norm_eps", 1e-12))
    return x @ P["embeddings.word_embeddings.weight"].T + P["lm_head.bias"]


def classification(P, h):
    """MPNetClassificationHead: dense → tanh → out_proj on h[:, 0] (dropout the identity at eval)."""
    x = np.tanh(nn.linear(h[:, 0], P["classifier.dense.weight"], P["classifier.dense.bias"]))
    return nn.linear(x, P["classifier.out_proj.weight"], P["classifier.out_proj.bias"])


def token_classification(P, h):
    """MPNetForTokenClassification: classifier on every row."""
    return nn.linear(h, P["classifier.weight"], P["classifier.bias"])
