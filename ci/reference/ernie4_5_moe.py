"""ERNIE 4.5 mixture of experts (model_type ernie4_5_moe, Ernie4_5_MoeForCausalLM: baidu/ERNIE-4.5-21B-A3B-PT, -Base-PT,
ERNIE-4.5-300B-A47B-PT), float64 numpy, written from transformers' models/ernie4_5_moe (modular_ernie4_5_moe.py and the
generated modeling_ernie4_5_moe.py / configuration_ernie4_5_moe.py; the 4.x per-expert version and the 5.x one with
Ernie4_5_MoeExperts / Ernie4_5_MoeTopKRouter compute the same):

- Ernie4_5_MoeConfig: vocab 103424, hidden 2560, intermediate 12288, 28 layers, 20 heads over num_key_value_heads 4, silu,
  rms_norm_eps 1e-5, tied embeddings, use_bias false, rope_theta 500000 (default_theta), moe_intermediate_size 1536, moe_k 6,
  moe_num_experts 64, moe_num_shared_experts 2, moe_layer_start_index 1, moe_layer_end_index -1 (num_hidden_layers - 1),
  moe_layer_interval 1, moe_norm_min 1e-12. No head_dim field: Ernie4_5_MoeAttention reads getattr(config, "head_dim",
  hidden_size // num_attention_heads) (null fails in transformers).
- Ernie4_5_MoeDecoderLayer (Qwen3-MoE's): pre-norm, input_layernorm → self_attn → + residual, post_attention_layernorm →
  mlp → + residual; mlp is the sparse block iff (layer_idx + 1) % moe_layer_interval == 0 and moe_layer_start_index <=
  layer_idx <= moe_layer_end_index, else Ernie4_5_MoeMLP of intermediate_size.
- Ernie4_5_MoeAttention = dense ERNIE's (q/k/v/o_proj biased by use_bias, scaling head_dim**-0.5, GQA) with the dense
  model's rotary (ernie4_5.py: GLM's interleaved pairs over the whole head).
- Ernie4_5_MoeSparseMoeBlock / Ernie4_5_MoeTopKRouter: router_logits = gate(x.float()) (no bias); p = softmax(logits) in
  fp32; selected = topk(moe_statics(p)) = topk of p + e_score_correction_bias (stored (1, E), squeezed); weights =
  gather(p, selected) (the UNBIASED softmax) / clamp(sum, min=moe_norm_min); Σ w_j · expert_j(x) (silu(gate) · up → down,
  biased by use_bias) + shared_experts(x) (one MLP of moe_intermediate_size × moe_num_shared_experts, when > 0).
- lm_head: nn.Linear(bias=use_bias), the embedding table when tied. Tensors whose names contain "mtp" (the multi-token-
  prediction block the published folders carry) are ignored on load (_keys_to_ignore_on_load_unexpected).

transformers computes the router, the RMSNorm variance, the rotary tables and the attention softmax in float32; here
everything is float64. forward(..., bias=False) drops the correction bias (a deliberately wrong reading for selfcheck)."""
import numpy as np

import deepseek
import nn
import rope

KINDS = ("ernie4_5_moe",)


def head_dim(cfg):
    """Ernie4_5_MoeAttention: getattr(config, "head_dim", hidden_size // num_attention_heads) (null fails in transformers)."""
    return nn.config_head_dim(cfg, 2560, 20, "head_dim null: Ernie4_5_MoeAttention's getattr returns None and the view fails")


def rope_cfg(cfg):
    """The config as rope.py reads it: this head_dim, the whole head turning, theta 500000 when not given."""
    out = dict(cfg, head_dim=head_dim(cfg), partial_rotary_factor=1.0)
    if cfg.get("rope_parameters") is not None:
        out["rope_parameters"] = dict({"rope_theta": 500000.0}, **cfg["rope_parameters"])
    else:
        out["rope_theta"] = cfg.get("rope_theta", 500000.0)
    return out


def sparse_layers(cfg):
    """Ernie4_5_MoeDecoderLayer's rule, moe_layer_end_index -1 meaning the last layer."""
    n = cfg.get("num_hidden_layers", 28)
    end = cfg.get("moe_layer_end_index", -1)
    end = n - 1 if end == -1 else end
    start, every = cfg.get("moe_layer_start_index", 1), cfg.get("moe_layer_interval", 1)
    return [(i + 1) % every == 0 and start <= i <= end for i in range(n)]


def route(cfg, logits, bias):
    """Ernie4_5_MoeTopKRouter over N tokens (logits (N, E)): {"ids" (N, k) descending by p + bias, "weights" (N, k),
    "gap" (N,) the k-th minus (k+1)-th biased score, "unbiased_ids" (N, k) the plain softmax top-k}."""
    k = cfg.get("moe_k", 6)
    p = nn.softmax(logits)
    choice = p + (0.0 if bias is None else np.reshape(bias, -1)[None, :])
    ids, gap = deepseek._topk(choice, k)
    w = np.take_along_axis(p, ids, -1)
    w = w / np.maximum(w.sum(-1, keepdims=True), cfg.get("moe_norm_min", 1e-12))
    return {"ids": ids, "weights": w, "gap": gap, "unbiased_ids": deepseek._topk(p, k)[0]}


def mlp(P, m, x):
    lin = lambda y, key: nn.linear(y, P[key + ".weight"], P.get(key + ".bias"))
    return lin(nn.silu(lin(x, m + "gate_proj")) * lin(x, m + "up_proj"), m + "down_proj")


def moe(cfg, P, m, x, routing=None, bias=True):
    """Ernie4_5_MoeSparseMoeBlock over x (B, T, C) under prefix m ("model.layers.{i}.mlp.")."""
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    r = route(cfg, nn.linear(flat, P[m + "gate.weight"]), P[m + "moe_statics.e_score_correction_bias"] if bias else None)
    if routing is not None:
        routing.append(r)
    out = np.zeros_like(flat)
    for e in range(cfg.get("moe_num_experts", 64)):
        we = (r["weights"] * (r["ids"] == e)).sum(-1)
        if we.any():
            out = out + we[:, None] * mlp(P, f"{m}experts.{e}.", flat)
    if cfg.get("moe_num_shared_experts", 2) > 0:
        out = out + mlp(P, m + "shared_experts.", flat)
    return out.reshape(shape)


def forward(cfg, P, ids, routing=None, bias=True, shared=True):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). routing: a list that gets each sparse
    layer's route() dict. bias False: the correction bias dropped; shared False: the shared experts dropped (wrong readings)."""
    if cfg["model_type"] not in KINDS:
        raise ValueError(cfg["model_type"])
    if cfg.get("hidden_act", "silu") != "silu":
        raise ValueError("the reference follows hidden_act silu (every published ERNIE 4.5 folder)")
    ids = np.asarray(ids)
    t = ids.shape[1]
    nh, nkv, hd = cfg.get("num_attention_heads", 20), cfg.get("num_key_value_heads", 4), head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1e-5)
    cos, sin = rope.interleaved_cos_sin(rope_cfg(cfg), np.arange(t), t)
    lin = lambda x, key: nn.linear(x, P[key + ".weight"], P.get(key + ".bias"))
    mc = cfg if shared else dict(cfg, moe_num_shared_experts=0)
    sparse = sparse_layers(cfg)
    h = P["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "mlp."
        x = nn.rms_norm(h, P[p + "input_layernorm.weight"], eps)
        q = rope.apply_interleaved(nn.heads(lin(x, a + "q_proj"), nh, hd), cos, sin)
        k = rope.apply_interleaved(nn.heads(lin(x, a + "k_proj"), nkv, hd), cos, sin)
        v = nn.heads(lin(x, a + "v_proj"), nkv, hd)
        o = nn.attention(q, k, v, hd ** -0.5, nn.causal(t))
        h = h + lin(nn.merge(o), a + "o_proj")
        x = nn.rms_norm(h, P[p + "post_attention_layernorm.weight"], eps)
        h = h + (moe(mc, P, m, x, routing, bias) if sparse[i] else mlp(P, m, x))
    h = nn.rms_norm(h, P["model.norm.weight"], eps)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", True) else P["lm_head.weight"]
    return h, nn.linear(h, head, P.get("lm_head.bias"))


def tensor_names(cfg):
    """Ernie4_5_MoeForCausalLM's state_dict names in the 4.x per-expert layout the published folders carry, with shapes
    (no mtp_* tensors)."""
    c, v, nh, nkv, hd = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    f, fm, n = cfg["intermediate_size"], cfg["moe_intermediate_size"], cfg["moe_num_experts"]
    b = cfg.get("use_bias", False)
    out = {"model.embed_tokens.weight": (v, c), "model.norm.weight": (c,)}
    if not cfg.get("tie_word_embeddings", True):
        out["lm_head.weight"] = (v, c)

    def linear(key, rows, cols):
        out[key + ".weight"] = (rows, cols)
        if b:
            out[key + ".bias"] = (rows,)
    for i, sp in enumerate(sparse_layers(cfg)):
        p, a, m = f"model.layers.{i}.", f"model.layers.{i}.self_attn.", f"model.layers.{i}.mlp."
        out[p + "input_layernorm.weight"] = (c,)
        out[p + "post_attention_layernorm.weight"] = (c,)
        linear(a + "q_proj", nh * hd, c)
        linear(a + "k_proj", nkv * hd, c)
        linear(a + "v_proj", nkv * hd, c)
        linear(a + "o_proj", c, nh * hd)
        widths = [(m, f)]
        if sp:
            out[m + "gate.weight"] = (n, c)
            out[m + "moe_statics.e_score_correction_bias"] = (1, n)
            widths = [(f"{m}experts.{e}.", fm) for e in range(n)]
            if cfg.get("moe_num_shared_experts", 2) > 0:
                widths.append((m + "shared_experts.", fm * cfg["moe_num_shared_experts"]))
        for pre, w in widths:
            linear(pre + "gate_proj", w, c)
            linear(pre + "up_proj", w, c)
            linear(pre + "down_proj", c, w)
    return out
