"""rednote-hilab dots.llm1 (model_type dots1, Dots1ForCausalLM: rednote-hilab/dots.llm1.base, dots.llm1.inst), float64
numpy, written from transformers' models/dots1/modular_dots1.py (5.x: Qwen3's attention, model and rotary, DeepSeek-V3's
MLP, router, MoE and decoder layer) and the generated modeling_dots1.py / configuration_dots1.py (4.x: the same classes
spelled out, Dots1Config.__init__ with rope_theta / rope_scaling):

- Dots1Config: vocab 152064, hidden 4608, intermediate 10944, moe_intermediate_size 1408, 62 layers, 32 heads,
  num_key_value_heads 32 (None -> heads), n_shared_experts None, n_routed_experts None (attribute_map:
  num_local_experts), n_group 1, topk_group 1, num_experts_per_tok None, first_k_dense_replace 0, norm_topk_prob False,
  hidden_act silu, max positions 2048, rms_norm_eps 1e-6, untied, rope_theta 10000, attention_bias False,
  routed_scaling_factor 1.0, sliding_window 4096, max_window_layers 62, layer_types None -> layer i "sliding_attention" iff
  sliding_window is not None and i >= max_window_layers (no use_sliding_window switch, unlike Qwen2 / Qwen3), else
  "full_attention". No head_dim field: the attention reads getattr(config, "head_dim", hidden // heads), so a config.json
  head_dim is taken, a null one fails.
- Dots1Model = Qwen3Model: embed_tokens, one rotary cos / sin for every layer (Qwen3RotaryEmbedding, whole heads), a causal
  mask for full_attention layers and a sliding one (kv > q - sliding_window) for sliding_attention layers, the layers,
  norm; Dots1ForCausalLM: lm_head (untied by default).
- Dots1DecoderLayer = DeepseekV3DecoderLayer: pre-norm; mlp is Dots1MoE (DeepseekV3MoE) iff layer_idx >=
  first_k_dense_replace, else Dots1MLP (DeepseekV3MLP, gated silu) of intermediate_size.
- Dots1Attention = Qwen3Attention: q / k / v / o_proj biased iff attention_bias; q_norm / k_norm (RMSNorm over head_dim,
  rms_norm_eps) per head BEFORE the rotary; rotate_half; scaling head_dim ** -0.5; sliding_window on sliding layers.
- Dots1TopkRouter / DeepseekV3MoE: DeepSeek-V3's router (deepseek.route: logits F.linear in float32, sigmoid, +
  e_score_correction_bias for the choice only, n_group groups scored by their two best, topk_group kept, top-k, weights the
  unbiased scores / (sum + 1e-20) when norm_topk_prob, x routed_scaling_factor); sum of the weighted experts (gated silu of
  moe_intermediate_size) + shared_experts (one gated MLP of moe_intermediate_size x n_shared_experts, ungated by any
  sigmoid): deepseek.moe.

transformers computes the RMSNorm variance, the router, the rotary tables and the softmax in float32; here everything is
float64. The keyword argument qk_norm=False gives a deliberately wrong reading for selfcheck (no q / k norms)."""
import numpy as np

import alibi
import decoders
import deepseek
import nn
import rope

KINDS = ("dots1",)


def head_dim(cfg):
    return nn.config_head_dim(cfg, 4608, 32, "head_dim null: Qwen3Attention's view(…, -1, None) fails in transformers")


def kv_heads(cfg):
    return cfg.get("num_key_value_heads") or cfg.get("num_attention_heads", 32)


def layer_types(cfg):
    """Dots1Config's layer_types: as given, else sliding from max_window_layers on when sliding_window is not None."""
    n = cfg.get("num_hidden_layers", 62)
    if cfg.get("layer_types") is not None:
        return list(cfg["layer_types"])
    w = cfg.get("sliding_window", 4096)
    return ["sliding_attention" if w is not None and i >= cfg.get("max_window_layers", 62) else "full_attention" for i in range(n)]


def sparse_layers(cfg):
    """DeepseekV3DecoderLayer: a MoE block iff layer_idx >= first_k_dense_replace (Dots1Config: 0)."""
    return [i >= cfg.get("first_k_dense_replace", 0) for i in range(cfg["num_hidden_layers"])]


def moe_cfg(cfg):
    """The config as deepseek.route / deepseek.moe read it, with Dots1Config's defaults (norm_topk_prob False)."""
    out = dict({"n_group": 1, "topk_group": 1, "norm_topk_prob": False, "routed_scaling_factor": 1.0}, **cfg)
    for key in ("n_group", "topk_group", "n_routed_experts", "num_experts_per_tok", "n_shared_experts"):
        if out.get(key) is None:
            raise ValueError(f"{key} is None: Dots1MoE / Dots1TopkRouter fail on it in transformers")
    return out


def forward(cfg, P, ids, routing=None, calls=None, qk_norm=True):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). routing: a list that gets each sparse
    layer's deepseek.route dict; calls: the spans a cache would run."""
    if cfg["model_type"] not in KINDS:
        raise ValueError(cfg["model_type"])
    if cfg.get("hidden_act", "silu") != "silu":
        raise ValueError("the reference follows hidden_act silu (dots.llm1's)")
    ids = np.asarray(ids)
    t = ids.shape[1]
    nh, nkv, hd = cfg.get("num_attention_heads", 32), kv_heads(cfg), head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1e-6)
    cos_all, sin_all = rope.cos_sin(dict(cfg, head_dim=hd), np.arange(t))
    sparse, kinds = sparse_layers(cfg), layer_types(cfg)
    mc = moe_cfg(cfg) if any(sparse) else cfg
    cache = [([], []) for _ in range(cfg["num_hidden_layers"])]
    out = []
    for start, end in alibi.spans(t, calls):
        cos, sin = cos_all[start:end], sin_all[start:end]
        h = P["model.embed_tokens.weight"][ids[:, start:end]]
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            a, m = p + "self_attn.", p + "mlp."
            x = nn.rms_norm(h, P[p + "input_layernorm.weight"], eps)
            q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias")), nh, hd)
            k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias")), nkv, hd)
            v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias")), nkv, hd)
            if qk_norm:                              # per head, over head_dim, before the rotary
                q = nn.rms_norm(q, P[a + "q_norm.weight"], eps)
                k = nn.rms_norm(k, P[a + "k_norm.weight"], eps)
            q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
            cache[i][0].append(k)
            cache[i][1].append(v)
            window = cfg.get("sliding_window", 4096) if kinds[i] == "sliding_attention" else None
            o = nn.attention(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), hd ** -0.5,
                             nn.causal(end - start, end, window))
            h = h + nn.linear(nn.merge(o), P[a + "o_proj.weight"], P.get(a + "o_proj.bias"))
            x = nn.rms_norm(h, P[p + "post_attention_layernorm.weight"], eps)
            h = h + (deepseek.moe(mc, P, m, x, routing) if sparse[i] else deepseek.mlp(P, m, x))
        out.append(nn.rms_norm(h, P["model.norm.weight"], eps))
    h = np.concatenate(out, 1)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T


def tensor_names(cfg):
    """Dots1ForCausalLM's state_dict names in the 4.x per-expert layout the published folders carry, with shapes."""
    c, v, nh, nkv, hd = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], kv_heads(cfg), head_dim(cfg)
    f, fm, n = cfg["intermediate_size"], cfg["moe_intermediate_size"], cfg["n_routed_experts"]
    ab = cfg.get("attention_bias", False)
    out = {"model.embed_tokens.weight": (v, c), "model.norm.weight": (c,)}
    if not cfg.get("tie_word_embeddings", False):
        out["lm_head.weight"] = (v, c)
    for i, sp in enumerate(sparse_layers(cfg)):
        p, a, m = f"model.layers.{i}.", f"model.layers.{i}.self_attn.", f"model.layers.{i}.mlp."
        out.update(decoders.layer_names(p, c, nh, nkv, hd, ab))
        out[a + "q_norm.weight"] = (hd,)
        out[a + "k_norm.weight"] = (hd,)
        out.update(deepseek.mlp_tensor_names(m, c, sp, f, fm, n, fm * cfg["n_shared_experts"], True))
    return out
