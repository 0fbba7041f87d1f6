"""ModernBERT (answerdotai/ModernBERT-base and its fine-tunes), following
transformers/models/modernbert/modeling_modernbert.py and configuration_modernbert.py.

ModernBertEmbeddings: tok_embeddings, then norm (nn.LayerNorm, eps norm_eps, a bias only when norm_bias); no
position embeddings. ModernBertEncoderLayer (pre-LN): attn_norm is the identity on layer 0 and a LayerNorm on
the others; h = h + attn(attn_norm(h)); h = h + mlp(mlp_norm(h)). ModernBertAttention: Wqkv (3C, C) viewed as
(3, heads, head_dim) on the output axis, so its rows are [q | k | v]; rotate_half RoPE (apply_rotary_pos_emb) with
one theta per layer kind; scores · head_dim**-0.5; keys with attention_mask 0 masked; on local layers only keys
with |i - j| <= local_attention // 2 (4.x: ModernBertModel._update_attention_mask's `distance <=`; 5.x:
masking_utils.sliding_window_bidirectional_overlay's `abs(q_idx - kv_idx) <= sliding_window`, the config's
sliding_window property being local_attention // 2); Wo (C, C); attention_bias on both. ModernBertMLP: Wi
(2F, C) chunked [input | gate], Wo(act(input) * gate), act = ACT2FN[hidden_activation], mlp_bias. final_norm
after the last layer. Positions: position_ids = arange(T) for every row (the eager / sdpa path; the
flash-attention path unpads and restarts each sequence at 0, the same thing for right padding).

Which layer is local: 4.x, layer i % global_attn_every_n_layers != 0 (ModernBertAttention), with
global_rope_theta on global layers and local_rope_theta (when not None, else the global one) on local ones;
5.x, config.layer_types[i] ("sliding_attention" / "full_attention"; derived from global_attn_every_n_layers,
default 3, when absent), with rope_parameters[layer_type] (the 4.x keys global_rope_theta / local_rope_theta
are folded into it on load: ModernBertConfig.convert_rope_params_to_dict).

Heads: ModernBertPredictionHead (dense (C, C) with bias classifier_bias, ACT2FN[classifier_activation], norm);
ModernBertForMaskedLM: decoder(head(h)) with the decoder tied to tok_embeddings and its bias decoder.bias when
decoder_bias; ModernBertForSequenceClassification: pooling of the final_norm output (classifier_pooling "cls":
h[:, 0]; "mean": sum of h * attention_mask over T / attention_mask.sum), then head, then classifier
(Linear(C, num_labels), always with a bias).

transformers computes cos/sin in float32 (autocast off), the eager softmax in float32 and, in 5.x,
apply_rotary_pos_emb on q.float(); here everything is float64."""
import numpy as np

import nn
import rope

GLOBAL, LOCAL = "full_attention", "sliding_attention"


def layer_types(cfg):
    """The kind of every layer: 5.x's layer_types when the config has them, else from global_attn_every_n_layers."""
    if cfg.get("layer_types"):
        return list(cfg["layer_types"])
    n = cfg.get("global_attn_every_n_layers", 3)
    return [LOCAL if i % n else GLOBAL for i in range(cfg["num_hidden_layers"])]


def rope_parameters(cfg):
    """{layer kind: rope settings} from either layout: 5.x's rope_parameters per kind, or 4.x's global_rope_theta
    (default 160000) and local_rope_theta (default 10000; None means the global one)."""
    rp = cfg.get("rope_parameters")
    if rp is not None:
        out = {k: dict(rp[k]) for k in (GLOBAL, LOCAL) if k in rp}
    else:
        if cfg.get("rope_scaling"):
            raise ValueError("a 4.x ModernBERT config with rope_scaling: the reference implements the default kind only there")
        g = cfg.get("global_rope_theta", 160000.0)
        loc = cfg.get("local_rope_theta", 10000.0)
        out = {GLOBAL: {"rope_theta": g}, LOCAL: {"rope_theta": g if loc is None else loc}}
    for p in out.values():
        p.setdefault("rope_type", "default")
    return out


def plan(cfg):
    """Per layer: (half window or None for a global layer, the rope settings of its kind)."""
    rp = rope_parameters(cfg)
    half = cfg.get("local_attention", 128) // 2
    return [(half if t == LOCAL else None, rp[t]) for t in layer_types(cfg)]


def window(t, half):
    """(T, T) bool: key j visible to query i iff |i - j| <= half."""
    i = np.arange(t)
    return np.abs(i[:, None] - i[None, :]) <= half


def _norm(P, name, x, cfg):
    b = P.get(name + ".bias")
    return nn.layer_norm(x, P[name + ".weight"], 0.0 if b is None else b, cfg.get("norm_eps", 1e-5))


def encode(cfg, P, ids, attention_mask=None, layers=None):
    """ModernBertModel -> last_hidden_state (B, T, C). P: names without the 'model.' prefix. layers: plan(cfg) unless
    given (selfcheck swaps windows and thetas through it)."""
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = c // nh
    mask = np.ones((b, t), dtype=np.int64) if attention_mask is None else np.asarray(attention_mask)
    keys = nn.padding(mask)                                            # (B, 1, 1, T)
    pos = np.arange(t)
    h = _norm(P, "embeddings.norm", P["embeddings.tok_embeddings.weight"][ids], cfg)
    for i, (half, rp) in enumerate(plan(cfg) if layers is None else layers):
        p = f"layers.{i}."
        x = h if i == 0 else _norm(P, p + "attn_norm", h, cfg)
        qkv = nn.linear(x, P[p + "attn.Wqkv.weight"], P.get(p + "attn.Wqkv.bias"))
        q, k, v = (nn.heads(qkv[..., j * c:(j + 1) * c], nh, hd) for j in range(3))
        sub = {"rope_parameters": rp, "hidden_size": c, "num_attention_heads": nh,
               "max_position_embeddings": cfg.get("max_position_embeddings", 8192)}
        cos, sin = rope.cos_sin(sub, pos)
        q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
        allowed = keys if half is None else keys & window(t, half)[None, None]
        a = nn.merge(nn.attention(q, k, v, hd ** -0.5, allowed))
        h = h + nn.linear(a, P[p + "attn.Wo.weight"], P.get(p + "attn.Wo.bias"))
        x = _norm(P, p + "mlp_norm", h, cfg)
        y = nn.linear(x, P[p + "mlp.Wi.weight"], P.get(p + "mlp.Wi.bias"))
        f = y.shape[-1] // 2
        g = nn.ACT[cfg.get("hidden_activation", "gelu")](y[..., :f]) * y[..., f:]
        h = h + nn.linear(g, P[p + "mlp.Wo.weight"], P.get(p + "mlp.Wo.bias"))
    return _norm(P, "final_norm", h, cfg)


def head(cfg, P, x):
    """ModernBertPredictionHead: norm(act(dense(x)))."""
    y = nn.linear(x, P["head.dense.weight"], P.get("head.dense.bias"))
    return _norm(P, "head.norm", nn.ACT[cfg.get("classifier_activation", "gelu")](y), cfg)


def mlm_logits(cfg, P, h):
    """ModernBertForMaskedLM: decoder(head(h)) on every row, the decoder's weight the token table, its bias decoder.bias."""
    y = head(cfg, P, h) @ P["embeddings.tok_embeddings.weight"].T
    return y + P["decoder.bias"] if "decoder.bias" in P else y


def pool(cfg, h, attention_mask=None):
    """ModernBertForSequenceClassification's pooling of last_hidden_state."""
    if cfg.get("classifier_pooling", "cls") == "cls":
        return h[:, 0]
    m = np.ones(h.shape[:2]) if attention_mask is None else np.asarray(attention_mask, dtype=np.float64)
    return (h * m[..., None]).sum(1) / m.sum(1, keepdims=True)


def classification_logits(cfg, P, h, attention_mask=None):
    """ModernBertForSequenceClassification: classifier(head(pool(h)))."""
    return nn.linear(head(cfg, P, pool(cfg, h, attention_mask)), P["classifier.weight"], P["classifier.bias"])
