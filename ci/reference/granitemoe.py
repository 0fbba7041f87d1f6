"""IBM Granite mixtures of experts (model_type granitemoe, GraniteMoeForCausalLM: ibm-granite/granite-3.0-1b-a400m-*,
granite-3.0-3b-a800m-*, granite-3.1-1b-a400m-*, granite-3.1-3b-a800m-*; model_type granitemoeshared,
GraniteMoeSharedForCausalLM: the same plus a shared MLP), float64 numpy, written from transformers'
models/granitemoe (modeling_granitemoe.py, modular_granitemoe.py, configuration_granitemoe.py) and models/granitemoeshared
(modular_granitemoeshared.py, configuration_granitemoeshared.py), 4.x and 5.x alike (5.x keeps the JetMoe-style
ParallelExperts and TopKGating modules and their tensor names; its conversion_mapping.py has no granitemoe entry):

- GraniteMoeConfig: vocab 32000, hidden 4096, intermediate 11008 (each expert's width), 32 layers, 32 heads,
  num_key_value_heads = heads when absent, silu, max positions 2048, rms_norm_eps 1e-6, bos 1, eos 2, no pad, untied,
  rope_theta 10000 (rope_scaling as modeling_rope_utils reads it), attention_bias False (on q, k, v AND o), the four
  multipliers 1.0 (embedding_multiplier, logits_scaling, residual_multiplier, attention_multiplier), num_local_experts 8,
  num_experts_per_tok 2. No mlp_bias (the experts are bias-free). GraniteMoeSharedConfig adds shared_intermediate_size 0
  (0: no shared MLP).
- GraniteMoeModel: embed_tokens × embedding_multiplier; one rotary for all layers (head_dim = hidden // heads: 4.x's
  GraniteMoeAttention; 5.x's LlamaAttention reads a head_dim key first, the published folders have none); the layers;
  norm. GraniteMoeForCausalLM: lm_head (the token table when tied), logits / logits_scaling.
- GraniteMoeDecoderLayer: h = h + attn(input_layernorm(h)) × residual_multiplier; h = h + moe(post_attention_layernorm(h))
  × residual_multiplier; GraniteMoeShared: h + (moe(x) + shared_mlp(x)) × residual_multiplier.
- GraniteMoeAttention: Llama's with scaling = attention_multiplier (not head_dim**-0.5); rotate_half rotary on whole heads.
- GraniteMoeTopKGating (JetMoeTopKGating): logits = router.layer(x) (no bias), top-k OF THE LOGITS, weights = softmax over
  those k logits (in float32 there); no softmax over all experts.
- GraniteMoeMoE: input_linear = ParallelExperts weight (E, 2F, C), per expert h = x W_e^T (2F), chunked in two along the
  last dimension: activation(first half) × second half; output_linear weight (E, C, F); Σ_j gate_j · expert_j(x).
- GraniteMoeSharedMLP: input_linear nn.Linear (2S, C) (no bias), the same chunk order, output_linear (C, S).

transformers computes the router's softmax, the RMSNorm variance, the rotary tables and the attention softmax in float32;
here everything is float64. forward(..., scale_residual=False / halves="swapped" / routing_rule="softmax-all-no-renorm")
give deliberately wrong readings for selfcheck / make_fixtures."""
import numpy as np

import deepseek
import nn
import rope

KINDS = ("granitemoe", "granitemoeshared")


def head_dim(cfg):
    """GraniteMoeAttention: hidden_size // num_attention_heads (the reference refuses a different head_dim key)."""
    hd = cfg.get("hidden_size", 4096) // cfg.get("num_attention_heads", 32)
    if cfg.get("head_dim") not in (None, hd):
        raise ValueError(f"head_dim {cfg['head_dim']} != hidden // heads {hd}: transformers 4.x and 5.x read it differently")
    return hd


def rope_cfg(cfg):
    """The config as rope.py reads it: this head_dim over the whole head, rope_theta 10000 when not given."""
    out = dict(cfg, head_dim=head_dim(cfg), partial_rotary_factor=1.0)
    if cfg.get("rope_parameters") is None:
        out["rope_theta"] = cfg.get("rope_theta", 10000.0)
    return out


def route(cfg, logits, rule="granite"):
    """GraniteMoeTopKGating over N tokens (logits (N, E)): {"ids" (N, k) in descending logit order, "weights" (N, k) the
    softmax of those k logits, "gap" (N,) the k-th minus (k+1)-th logit}. rule "softmax-all-no-renorm": the softmax over
    all E at the picks (a wrong reading)."""
    k = cfg.get("num_experts_per_tok", 2)
    ids, gap = deepseek._topk(logits, k)
    top = np.take_along_axis(logits, ids, -1)
    w = nn.softmax(top) if rule == "granite" else np.take_along_axis(nn.softmax(logits), ids, -1)
    return {"ids": ids, "weights": w, "gap": gap}


def glu(x, w_in, w_out, halves="granite"):
    """One expert or the shared MLP: h = x w_in^T (2F), activation(h[:F]) * h[F:], then w_out (C, F); halves "swapped"
    activates the second half (a wrong reading)."""
    h = x @ w_in.T
    a, b = np.split(h, 2, axis=-1)
    if halves != "granite":
        a, b = b, a
    return (nn.silu(a) * b) @ w_out.T


def moe(cfg, P, m, x, routing=None, halves="granite", rule="granite"):
    """GraniteMoeMoE over x (B, T, C) under prefix m ("model.layers.{i}.block_sparse_moe.")."""
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    r = route(cfg, flat @ P[m + "router.layer.weight"].T, rule)
    if routing is not None:
        routing.append(r)
    w_in, w_out = P[m + "input_linear.weight"], P[m + "output_linear.weight"]
    out = np.zeros_like(flat)
    for e in range(w_in.shape[0]):
        we = (r["weights"] * (r["ids"] == e)).sum(-1)
        if we.any():
            out = out + we[:, None] * glu(flat, w_in[e], w_out[e], halves)
    return out.reshape(shape)


def sparse_layers(cfg):
    """Every GraniteMoeDecoderLayer's MLP is the mixture (num_local_experts > 0, as every published folder has)."""
    return [True] * cfg.get("num_hidden_layers", 32)


def shared_width(cfg):
    return cfg.get("shared_intermediate_size", 0) if cfg["model_type"] == "granitemoeshared" else 0


def forward(cfg, P, ids, routing=None, calls=None, scale_residual=True, halves="granite", rule="granite", shared=True):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). routing: a list that gets each layer's
    route() dict; calls: the sequence split into successive calls through a KV cache (as generate runs it)."""
    if cfg["model_type"] not in KINDS:
        raise ValueError(cfg["model_type"])
    if cfg.get("hidden_act", "silu") != "silu":
        raise ValueError("the reference follows hidden_act silu (every published Granite MoE folder)")
    ids = np.asarray(ids)
    t = ids.shape[1]
    nh = cfg.get("num_attention_heads", 32)
    nkv = cfg.get("num_key_value_heads") or nh
    hd = head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1e-6)
    res = cfg.get("residual_multiplier", 1.0) if scale_residual else 1.0
    lin = lambda x, key: nn.linear(x, P[key + ".weight"], P.get(key + ".bias"))   # noqa: E731
    cos_all, sin_all = rope.cos_sin(rope_cfg(cfg), np.arange(t))
    has_shared = shared and shared_width(cfg) > 0
    spans = [(0, t)] if calls is None else [(sum(calls[:j]), sum(calls[:j + 1])) for j in range(len(calls))]
    cache = [([], []) for _ in range(cfg["num_hidden_layers"])]
    out = []
    for start, end in spans:
        cos, sin = cos_all[start:end], sin_all[start:end]
        h = P["model.embed_tokens.weight"][ids[:, start:end]] * cfg.get("embedding_multiplier", 1.0)
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            a = p + "self_attn."
            x = nn.rms_norm(h, P[p + "input_layernorm.weight"], eps)
            q = rope.apply(nn.heads(lin(x, a + "q_proj"), nh, hd), cos, sin)
            k = rope.apply(nn.heads(lin(x, a + "k_proj"), nkv, hd), cos, sin)
            v = nn.heads(lin(x, a + "v_proj"), nkv, hd)
            cache[i][0].append(k)
            cache[i][1].append(v)
            o = nn.attention(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2),
                             cfg.get("attention_multiplier", 1.0), nn.causal(end - start, end))
            h = h + lin(nn.merge(o), a + "o_proj") * res
            x = nn.rms_norm(h, P[p + "post_attention_layernorm.weight"], eps)
            f = moe(cfg, P, p + "block_sparse_moe.", x, routing, halves, rule)
            if has_shared:
                f = f + glu(x, P[p + "shared_mlp.input_linear.weight"], P[p + "shared_mlp.output_linear.weight"], halves)
            h = h + f * res
        out.append(nn.rms_norm(h, P["model.norm.weight"], eps))
    h = np.concatenate(out, 1)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, (h @ head.T) / cfg.get("logits_scaling", 1.0)


def tensor_names(cfg):
    """GraniteMoe(Shared)ForCausalLM's state_dict names with shapes (lm_head.weight only when untied: a tied folder's
    save_pretrained drops it)."""
    c, v, nh = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"]
    nkv, hd = cfg.get("num_key_value_heads") or nh, head_dim(cfg)
    e, f, s = cfg["num_local_experts"], cfg["intermediate_size"], shared_width(cfg)
    ab = cfg.get("attention_bias", False)
    out = {"model.embed_tokens.weight": (v, c), "model.norm.weight": (c,)}
    if not cfg.get("tie_word_embeddings", False):
        out["lm_head.weight"] = (v, c)
    for i in range(cfg["num_hidden_layers"]):
        p, a, m = f"model.layers.{i}.", f"model.layers.{i}.self_attn.", f"model.layers.{i}.block_sparse_moe."
        out[p + "input_layernorm.weight"] = (c,)
        out[p + "post_attention_layernorm.weight"] = (c,)
        for name, rows, cols in (("q_proj", nh * hd, c), ("k_proj", nkv * hd, c), ("v_proj", nkv * hd, c), ("o_proj", c, nh * hd)):
            out[a + name + ".weight"] = (rows, cols)
            if ab:
                out[a + name + ".bias"] = (rows,)
        out[m + "router.layer.weight"] = (e, c)
        out[m + "input_linear.weight"] = (e, 2 * f, c)
        out[m + "output_linear.weight"] = (e, c, f)
        if s > 0:
            out[p + "shared_mlp.input_linear.weight"] = (2 * s, c)
            out[p + "shared_mlp.output_linear.weight"] = (c, s)
    return out
