"""Falcon, following transformers/models/falcon/modeling_falcon.py (FalconForCausalLM): FalconModel.forward
(word_embeddings, the layers, ln_f; lm_head tied by default), FalconRotaryEmbedding (Llama's, rope_theta, over the whole
head), FalconAttention._split_heads for the three layouts of query_key_value — new_decoder_architecture: per key/value
group [q_1 … q_G | k | v] (G = heads / num_kv_heads); multi_query: [q (all heads) | k | v] with one key/value head; else per
head [q | k | v] — scaled dot-product attention (head_dim**-0.5, causal), dense; FalconMLP dense_4h_to_h(act(dense_h_to_4h));
FalconDecoderLayer: new_decoder_architecture with num_ln_in_parallel_attn 2 (the default there): ln_attn and ln_mlp of the
input, x + attn + mlp; with 1, or parallel_attn in the old architecture: one input_layernorm feeding both; parallel_attn
false: x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(·)). nn.LayerNorm(layer_norm_epsilon) with bias;
Linear biases by config.bias.

alibi true (tiiuae/falcon-rw-1b / 7b: multi_query false, per-head [q | k | v], parallel_attn false, bias true): no rotary; the
slopes of build_alibi_tensor (BLOOM's, alibi.py) times the key position, rounded as slopes[..., None].bfloat16() * position
rounds (exact below 256 for power-of-two slopes); FalconModel puts alibi / sqrt(head_dim) with the causal mask into the
attention mask and FalconAttention's SDPA path scales q·k by 1/sqrt(head_dim) and adds it — softmax((q·k + alibi) /
sqrt(head_dim)), the bias divided by sqrt(head_dim) where BLOOM's is not; the eager alibi branch (attention_logits =
(scores + alibi) · inv_norm_factor) agrees in 4.3x, when the mask held no alibi (4.4x+ with head_mask None add that mask on
top: alibi twice; not followed). forward(..., calls=[...]) runs the sequence as generate runs it through the cache."""
import math

import numpy as np

import alibi
import nn
import rope


def split(cfg, qkv, b, t):
    nh, c = cfg["num_attention_heads"], cfg["hidden_size"]
    hd = c // nh
    if cfg.get("new_decoder_architecture"):
        nkv = cfg.get("num_kv_heads") or nh
        g = nh // nkv
        x = qkv.reshape(b, t, nkv, g + 2, hd)
        q = x[:, :, :, :g].reshape(b, t, nh, hd)
        k, v = x[:, :, :, g], x[:, :, :, g + 1]                       # (B, T, nkv, hd); repeat_kv-equivalent grouping
        return [a.transpose(0, 2, 1, 3) for a in (q, k, v)]
    if cfg.get("multi_query", True):
        x = qkv.reshape(b, t, nh + 2, hd)
        return [a.transpose(0, 2, 1, 3) for a in (x[:, :, :nh], x[:, :, nh:nh + 1], x[:, :, nh + 1:])]
    x = qkv.reshape(b, t, nh, 3, hd)
    return [x[:, :, :, j].transpose(0, 2, 1, 3) for j in range(3)]


def _mlp(cfg, P, m, act, y):
    return nn.linear(act(nn.linear(y, P[m + "dense_h_to_4h.weight"], P.get(m + "dense_h_to_4h.bias"))),
                     P[m + "dense_4h_to_h.weight"], P.get(m + "dense_4h_to_h.bias"))


def forward(cfg, P, ids, calls=None, form="hf", slopes=None, layout=None):
    """ids (B, T) -> (last_hidden_state after ln_f, logits). calls, form, slopes and layout (the query_key_value reading:
    "blocks" reads [q | k | v] blocks, selfcheck's wrong layout) apply to alibi folders only."""
    if cfg.get("alibi"):
        return _alibi_forward(cfg, P, ids, calls, form, slopes, layout)
    ids = np.asarray(ids)
    b, t = ids.shape
    nh, hd, eps, act, two, parallel = _block(cfg)
    rc = dict(cfg, head_dim=hd)
    cos, sin = rope.cos_sin(rc, np.arange(t))
    mask = nn.causal(t)
    ln = lambda name, x: nn.layer_norm(x, P[name + ".weight"], P[name + ".bias"], eps)
    h = P["transformer.word_embeddings.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"transformer.h.{i}."
        x = ln(p + "ln_attn", h) if two else ln(p + "input_layernorm", h)
        a = p + "self_attention."
        q, k, v = split(cfg, nn.linear(x, P[a + "query_key_value.weight"], P.get(a + "query_key_value.bias")), b, t)
        q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
        o = nn.linear(nn.merge(nn.attention(q, k, v, hd ** -0.5, mask)), P[a + "dense.weight"], P.get(a + "dense.bias"))
        m = p + "mlp."
        mlp = lambda y: _mlp(cfg, P, m, act, y)
        if parallel:
            h = h + o + mlp(ln(p + "ln_mlp", h) if two else x)
        else:
            h = h + o
            h = h + mlp(ln(p + "post_attention_layernorm", h))
    h = ln("transformer.ln_f", h)
    head = P["transformer.word_embeddings.weight"] if cfg.get("tie_word_embeddings", True) else P["lm_head.weight"]
    return h, h @ head.T


def _block(cfg):
    """What both forward passes read from FalconConfig: heads, head size, LayerNorm eps, activation, whether the new
    architecture's two norms (num_ln_in_parallel_attn 2) feed attention and MLP, whether the two run in parallel."""
    nh = cfg["num_attention_heads"]
    new = cfg.get("new_decoder_architecture", False)
    return (nh, cfg["hidden_size"] // nh, cfg.get("layer_norm_epsilon", 1e-5), nn.ACT[cfg.get("activation", "gelu")],
            new and (cfg.get("num_ln_in_parallel_attn") or 2) == 2, new or cfg.get("parallel_attn", True))


def _alibi_forward(cfg, P, ids, calls, form, slopes, layout):
    ids = np.asarray(ids)
    b, t = ids.shape
    nh, hd, eps, act, two, parallel = _block(cfg)
    inv = 1.0 / math.sqrt(hd)
    slopes = alibi.bloom_slopes(nh) if slopes is None else slopes
    ln = lambda name, x: nn.layer_norm(x, P[name + ".weight"], P[name + ".bias"], eps)
    cache = [([], []) for _ in range(cfg["num_hidden_layers"])]
    out = []
    for start, end in alibi.spans(t, calls):
        h = P["transformer.word_embeddings.weight"][ids[:, start:end]]
        bias = alibi.bias("falcon", slopes, start, end, form) * inv
        for i in range(cfg["num_hidden_layers"]):
            p = f"transformer.h.{i}."
            x = ln(p + "ln_attn", h) if two else ln(p + "input_layernorm", h)
            a = p + "self_attention."
            qkv = nn.linear(x, P[a + "query_key_value.weight"], P.get(a + "query_key_value.bias"))
            if layout == "blocks":
                q, k, v = (nn.heads(qkv[..., s * nh * hd:(s + 1) * nh * hd], nh, hd) for s in range(3))
            else:
                q, k, v = split(cfg, qkv, b, end - start)
            cache[i][0].append(k)
            cache[i][1].append(v)
            k_all, v_all = np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2)
            rep = nh // k_all.shape[1]
            o = alibi.attend(q, np.repeat(k_all, rep, 1), np.repeat(v_all, rep, 1), inv, bias)
            o = nn.linear(nn.merge(o), P[a + "dense.weight"], P.get(a + "dense.bias"))
            m = p + "mlp."
            if parallel:
                h = h + o + _mlp(cfg, P, m, act, ln(p + "ln_mlp", h) if two else x)
            else:
                h = h + o
                h = h + _mlp(cfg, P, m, act, ln(p + "post_attention_layernorm", h))
        out.append(ln("transformer.ln_f", h))
    h = np.concatenate(out, 1)
    head = P["transformer.word_embeddings.weight"] if cfg.get("tie_word_embeddings", True) else P["lm_head.weight"]
    return h, h @ head.T
