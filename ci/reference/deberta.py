"""DeBERTa-v2 and v3 (model_type "deberta-v2": microsoft/deberta-v3-xsmall/small/base/large, mdeberta-v3-base, the
NLI classifiers and cross-encoders fine-tuned from them), following transformers/models/deberta_v2/modeling_deberta_v2.py:

- DebertaV2Embeddings.forward: word embeddings, + position embeddings of 0 … T−1 when position_biased_input (v3:
  false, no table), + token type embeddings when type_vocab_size > 0, LayerNorm (layer_norm_eps), times the
  attention mask. (embed_proj, for embedding_size != hidden_size, is not drawn by any fixture.)
- DebertaV2Encoder: get_rel_embedding — rel_embeddings.weight, (2·pos_ebd_size, C), through encoder.LayerNorm when
  norm_rel_ebd has "layer_norm"; get_rel_pos — build_relative_position: arange(Tq)[:, None] − arange(Tk)[None, :]
  (query position − key position, the index in the padded row), make_log_bucket_position when position_buckets > 0
  and max_relative_positions > 0 (max_relative_positions < 1 means max_position_embeddings).
- DisentangledSelfAttention.forward: query_proj, key_proj, value_proj (all with biases); scale_factor = 1 + the
  number of pos_att_type terms; scores = q kᵀ / sqrt(head_size · scale_factor) + the disentangled bias; the mask
  (mask_i · mask_j) fills the dtype's minimum; softmax; · v.
- disentangled_attention_bias: span = pos_ebd_size (position_buckets when > 0, else max_relative_positions);
  P = rel_embeddings[: 2·span]; under share_att_key the layer's own query_proj / key_proj of P (with their biases),
  else pos_query_proj / pos_key_proj; c2p = gather(q · key_proj(P)ᵀ, index clamp(rel + span, 0, 2·span − 1)) / scale;
  p2c = gather(k · query_proj(P)ᵀ, index clamp(−rel[j, i] + span, …)) transposed / scale.
- DebertaV2Attention / DebertaV2Output: BERT's post-LN layers (dense, LayerNorm(· + input)); DebertaV2Intermediate:
  dense, ACT2FN[hidden_act].
- ContextPooler: dense(h[:, 0]) then ACT2FN[pooler_hidden_act] (default "gelu", the exact one); the sequence
  classifier a Linear on it. DebertaV2ForTokenClassification: classifier on every row.

make_log_bucket_position is computed with torch's float32 arithmetic (|rel| / mid and both logarithms in float32, the
ceiling of their float32 quotient times mid − 1), as transformers computes it; selfcheck.py checks that no distance
the fixtures meet lies near a ceiling boundary, where a last-bit difference in log would move it.

Padding: transformers masks a padded query row's every key (mask_i · mask_j): its output is 0 (4.x's XSoftmax) or
uniform weights (5.x's masked_fill + softmax) there. This reference masks keys only; the outputs agree at the tokens,
which is where the fixtures are compared."""
import numpy as np

import nn


def pos_att_types(cfg):
    """pos_att_type as DebertaV2Config reads it: "p2c|c2p" (4.x configs), or a list (as 5.x saves it)."""
    t = cfg.get("pos_att_type")
    if t is None:
        return []
    if isinstance(t, str):
        t = t.lower().split("|")
    return [x.strip() for x in t if x.strip()]


def spans(cfg):
    """(span, position_buckets, max_relative_positions) as DisentangledSelfAttention sets them."""
    max_rel = cfg.get("max_relative_positions", -1)
    if max_rel < 1:
        max_rel = cfg["max_position_embeddings"]
    buckets = cfg.get("position_buckets", -1)
    return (buckets if buckets > 0 else max_rel), buckets, max_rel


def make_log_bucket_position(rel, bucket_size, max_position):
    """transformers' make_log_bucket_position, in torch's float32 steps."""
    rel = np.asarray(rel, dtype=np.int64)
    sign = np.sign(rel)
    mid = bucket_size // 2
    abs_pos = np.where((rel < mid) & (rel > -mid), mid - 1, np.abs(rel))
    x = np.log(abs_pos.astype(np.float32) / np.float32(mid))
    d = np.log(np.float32((max_position - 1) / mid))
    log_pos = np.ceil(x / d * np.float32(mid - 1)) + mid
    return np.where(abs_pos <= mid, rel.astype(np.float32), log_pos * sign).astype(np.int64)


def build_relative_position(tq, tk, bucket_size, max_position):
    rel = np.arange(tq)[:, None] - np.arange(tk)[None, :]
    if bucket_size > 0 and max_position > 0:
        rel = make_log_bucket_position(rel, bucket_size, max_position)
    return rel


def rel_embeddings(cfg, P):
    """DebertaV2Encoder.get_rel_embedding."""
    e = P["encoder.rel_embeddings.weight"]
    norm = [x.strip() for x in str(cfg.get("norm_rel_ebd", "none")).lower().split("|")]
    if "layer_norm" in norm:
        e = nn.layer_norm(e, P["encoder.LayerNorm.weight"], P["encoder.LayerNorm.bias"], cfg.get("layer_norm_eps", 1e-7))
    return e


def encode(cfg, P, ids, attention_mask=None, token_type_ids=None):
    """DebertaV2Model.forward -> last_hidden_state. P: names without the 'deberta.' prefix."""
    ids = np.asarray(ids)
    b, t = ids.shape
    c = cfg["hidden_size"]
    if cfg.get("embedding_size", c) != c:
        raise ValueError("embed_proj is not drawn by these fixtures")
    eps = cfg.get("layer_norm_eps", 1e-7)
    mask = np.ones((b, t)) if attention_mask is None else np.asarray(attention_mask, dtype=np.float64)
    h = P["embeddings.word_embeddings.weight"][ids]
    if cfg.get("position_biased_input", True):
        h = h + P["embeddings.position_embeddings.weight"][np.arange(t)][None]
    if cfg.get("type_vocab_size", 0) > 0:
        types = np.zeros_like(ids) if token_type_ids is None else np.asarray(token_type_ids)
        h = h + P["embeddings.token_type_embeddings.weight"][types]
    h = nn.layer_norm(h, P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], eps)
    h = h * mask[:, :, None]
    nh = cfg["num_attention_heads"]
    hs = cfg.get("attention_head_size", c // nh)
    kinds = pos_att_types(cfg)
    scale = np.sqrt(hs * (1 + len(kinds)))
    relative = cfg.get("relative_attention", False)
    span, buckets, max_rel = spans(cfg)
    if relative:
        pe = rel_embeddings(cfg, P)[: 2 * span][None]                               # (1, 2·span, C)
        rel = build_relative_position(t, t, buckets, max_rel)                       # (T, T): query − key
        c2p_pos = np.clip(rel + span, 0, 2 * span - 1)
        p2c_pos = np.clip(-rel + span, 0, 2 * span - 1)                             # indexed [j, i] below
    allowed = nn.padding(mask)
    act = nn.ACT[cfg.get("hidden_act", "gelu")]
    share = cfg.get("share_att_key", False)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        a = p + "attention.self."
        q = nn.heads(nn.linear(h, P[a + "query_proj.weight"], P[a + "query_proj.bias"]), nh, hs)   # (B, H, T, D)
        k = nn.heads(nn.linear(h, P[a + "key_proj.weight"], P[a + "key_proj.bias"]), nh, hs)
        v = nn.heads(nn.linear(h, P[a + "value_proj.weight"], P[a + "value_proj.bias"]), nh, hs)
        s = q @ k.transpose(0, 1, 3, 2) / scale
        if relative:
            kp = "key_proj" if share else "pos_key_proj"
            qp = "query_proj" if share else "pos_query_proj"
            if "c2p" in kinds:
                pk = nn.heads(nn.linear(pe, P[a + kp + ".weight"], P[a + kp + ".bias"]), nh, hs)       # (1, H, 2·span, D)
                c2p = q @ pk.transpose(0, 1, 3, 2)                                                      # (B, H, Tq, 2·span)
                s = s + np.take_along_axis(c2p, np.broadcast_to(c2p_pos, (b, nh, t, t)), axis=-1) / scale
            if "p2c" in kinds:
                pq = nn.heads(nn.linear(pe, P[a + qp + ".weight"], P[a + qp + ".bias"]), nh, hs)
                p2c = k @ pq.transpose(0, 1, 3, 2)                                                      # (B, H, Tk, 2·span)
                g = np.take_along_axis(p2c, np.broadcast_to(p2c_pos, (b, nh, t, t)), axis=-1)          # [j, i]
                s = s + g.transpose(0, 1, 3, 2) / scale
        s = np.where(allowed, s, -np.inf)
        ctx = nn.merge(nn.softmax(s) @ v)
        o = nn.linear(ctx, P[p + "attention.output.dense.weight"], P[p + "attention.output.dense.bias"])
        h = nn.layer_norm(o + h, P[p + "attention.output.LayerNorm.weight"], P[p + "attention.output.LayerNorm.bias"], eps)
        f = act(nn.linear(h, P[p + "intermediate.dense.weight"], P[p + "intermediate.dense.bias"]))
        f = nn.linear(f, P[p + "output.dense.weight"], P[p + "output.dense.bias"])
        h = nn.layer_norm(f + h, P[p + "output.LayerNorm.weight"], P[p + "output.LayerNorm.bias"], eps)
    return h


def pooled(cfg, P, h):
    """ContextPooler: ACT2FN[pooler_hidden_act](dense(h[:, 0]))."""
    return nn.ACT[cfg.get("pooler_hidden_act", "gelu")](nn.linear(h[:, 0], P["pooler.dense.weight"], P["pooler.dense.bias"]))


def classification(cfg, P, h):
    """DebertaV2ForSequenceClassification: classifier(ContextPooler(h))."""
    return nn.linear(pooled(cfg, P, h), P["classifier.weight"], P["classifier.bias"])


def token_classification(P, h):
    """DebertaV2ForTokenClassification: classifier on every row."""
    return nn.linear(h, P["classifier.weight"], P["classifier.bias"])
