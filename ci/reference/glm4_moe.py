"""GLM-4.5 / GLM-4.6 (model_type glm4_moe, Glm4MoeForCausalLM: zai-org/GLM-4.5-Air, GLM-4.5, GLM-4.6), float64 numpy,
written line by line from transformers' models/glm4_moe/modular_glm4_moe.py (the @strict 5.x version whose
Glm4MoeConfig has n_routed_experts, n_shared_experts, routed_scaling_factor, first_k_dense_replace and use_qk_norm) and its
generated modeling_glm4_moe.py / configuration_glm4_moe.py:

- Glm4MoeConfig: vocab 151552, hidden 4096, intermediate 10944, 46 layers, 96 heads over num_key_value_heads 8, hidden_act
  silu, rms_norm_eps 1e-5, untied, attention_bias false, moe_intermediate_size 1408, num_experts_per_tok 8,
  n_shared_experts 1, n_routed_experts 128 (attribute_map: num_local_experts), routed_scaling_factor 1.0, n_group 1,
  topk_group 1, first_k_dense_replace 1, norm_topk_prob true, use_qk_norm false, partial_rotary_factor 0.5 (__post_init__'s
  kwargs.setdefault; 5.x moves it into rope_parameters), rope_theta 10000. head_dim is no field of its own:
  Glm4MoeAttention reads getattr(config, "head_dim", hidden_size // num_attention_heads), the rotary
  getattr(config, "head_dim", None) or hidden_size // num_attention_heads (the published folders give 128).
- Glm4MoeForCausalLM = DeepseekV3ForCausalLM (untied lm_head), Glm4MoeModel = DeepseekV3Model (embed_tokens, the first
  num_hidden_layers layers, norm; the multi-token-prediction layer that GLM-4.5 folders store at index num_hidden_layers
  (46 / 92) is never run: _keys_to_ignore_on_load_unexpected, or appended past self.layers[:num_hidden_layers]).
- Glm4MoeDecoderLayer = DeepseekV3DecoderLayer: pre-norm, input_layernorm → self_attn → + residual,
  post_attention_layernorm → mlp → + residual; mlp is Glm4MoeMoE (DeepseekV3MoE) iff layer_idx >= first_k_dense_replace,
  else Glm4MoeMLP of intermediate_size.
- Glm4MoeAttention (CohereAttention's forward with GPT-NeoX's apply_rotary_pos_emb): q/k/v_proj with bias by
  attention_bias, o_proj never biased; q and k viewed per head, q_norm / k_norm (Glm4MoeRMSNorm over head_dim,
  rms_norm_eps) per head when use_qk_norm, BEFORE the rotary; apply_rotary_pos_emb (gpt_neox): rotary_dim = cos.shape[-1] =
  int(head_dim × partial_rotary_factor), q_rot = q[..., :rotary_dim] turned by rotate_half on its two halves (NeoX style;
  GLM-4 dense turns interleaved pairs instead), q[..., rotary_dim:] passed; cos / sin = cat(freqs, freqs) from
  GlmRotaryEmbedding (inv_freq over int(head_dim × partial_rotary_factor) dims); scaling head_dim ** -0.5, the causal
  eager softmax, repeat_kv for GQA. vLLM's glm4_moe.py agrees: get_rope(head_dim, rope_parameters with
  partial_rotary_factor 0.5), is_neox_style by default.
- Glm4MoeTopkRouter / DeepseekV3MoE.route_tokens_to_experts: DeepSeek-V3's (deepseek.route: sigmoid of the float32
  logits, + e_score_correction_bias for the choice, n_group groups scored by their two best, topk_group kept, top-k of the
  masked biased scores, weights the unbiased scores / (sum + 1e-20) when norm_topk_prob, × routed_scaling_factor);
  Σ w_j · expert_j(x) + shared_experts(x) (one MLP of moe_intermediate_size × n_shared_experts, ungated): deepseek.moe.
- Glm4MoeRMSNorm = DeepseekV3RMSNorm: x · rsqrt(mean(x²) + eps) · w.

transformers computes in float32: the RMSNorm variance, the router, inv_freq and cos/sin, the attention softmax. Here
everything is float64. The keyword argument rotation ("pairs": GLM-4's interleaved rotary over the same dims) gives a
deliberately wrong reading for selfcheck."""
import numpy as np

import deepseek
import glm
import nn
import rope

KINDS = ("glm4_moe",)


def head_dim(cfg):
    """Glm4MoeAttention: config.head_dim when the config carries it (null fails in transformers), else hidden // heads."""
    return nn.config_head_dim(cfg, 4096, 96, "head_dim null: Glm4MoeAttention's view(…, -1, None) fails in transformers")


def rope_cfg(cfg):
    """The config as rope.py reads it: this head_dim, the rotary fraction as GLM reads it (rope_parameters', the top-level
    key, else 0.5), rope_theta 10000 when neither layout gives it."""
    out = dict(cfg, head_dim=head_dim(cfg), partial_rotary_factor=glm.partial_factor(cfg))
    if cfg.get("rope_parameters") is not None:
        out["rope_parameters"] = dict({"rope_theta": 10000.0}, **cfg["rope_parameters"])
    return out


def rotary_dim(cfg):
    return int(head_dim(cfg) * glm.partial_factor(cfg))


def sparse_layers(cfg):
    """DeepseekV3DecoderLayer: a MoE block iff layer_idx >= first_k_dense_replace (Glm4MoeConfig: 1)."""
    return [i >= cfg.get("first_k_dense_replace", 1) for i in range(cfg["num_hidden_layers"])]


def moe_cfg(cfg):
    """The config as deepseek.route / deepseek.moe read it, with Glm4MoeConfig's defaults."""
    return dict({"n_routed_experts": 128, "num_experts_per_tok": 8, "n_group": 1, "topk_group": 1, "norm_topk_prob": True,
                 "routed_scaling_factor": 1.0}, **cfg)


def forward(cfg, P, ids, routing=None, rotation="halves"):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). routing: a list that gets each sparse
    layer's deepseek.route dict. rotation "pairs": GLM-4's interleaved pairs over the same dims (a wrong reading)."""
    if cfg["model_type"] not in KINDS:
        raise ValueError(cfg["model_type"])
    ids = np.asarray(ids)
    t = ids.shape[1]
    nh = cfg.get("num_attention_heads", 96)
    nkv = cfg.get("num_key_value_heads", 8)
    hd = head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1e-5)
    if cfg.get("hidden_act", "silu") != "silu":
        raise ValueError("the reference follows hidden_act silu (every published GLM-4.5 / 4.6 folder)")
    rc = rope_cfg(cfg)
    if rotation == "halves":
        cos, sin = rope.cos_sin(rc, np.arange(t))
        turn = rope.apply
    else:
        cos, sin = rope.interleaved_cos_sin(rc, np.arange(t), t)
        turn = rope.apply_interleaved
    mc = moe_cfg(cfg)
    sparse = sparse_layers(cfg)
    h = P["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "mlp."
        x = nn.rms_norm(h, P[p + "input_layernorm.weight"], eps)
        q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias")), nh, hd)
        k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias")), nkv, hd)
        v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias")), nkv, hd)
        if cfg.get("use_qk_norm", False):            # per head, over head_dim, before the rotary
            q = nn.rms_norm(q, P[a + "q_norm.weight"], eps)
            k = nn.rms_norm(k, P[a + "k_norm.weight"], eps)
        q, k = turn(q, cos, sin), turn(k, cos, sin)
        o = nn.attention(q, k, v, hd ** -0.5, nn.causal(t))
        h = h + nn.linear(nn.merge(o), P[a + "o_proj.weight"])
        x = nn.rms_norm(h, P[p + "post_attention_layernorm.weight"], eps)
        h = h + (deepseek.moe(mc, P, m, x, routing) if sparse[i] else deepseek.mlp(P, m, x))
    h = nn.rms_norm(h, P["model.norm.weight"], eps)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T


def tensor_names(cfg):
    """Glm4MoeForCausalLM's state_dict names in the 4.x per-expert layout the published folders carry, with shapes (no MTP
    layer)."""
    c, v, nh, nkv, hd = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    mc = moe_cfg(cfg)
    f, fm, n = cfg["intermediate_size"], cfg["moe_intermediate_size"], mc["n_routed_experts"]
    out = {"model.embed_tokens.weight": (v, c), "model.norm.weight": (c,)}
    if not cfg.get("tie_word_embeddings", False):
        out["lm_head.weight"] = (v, c)
    for i, sp in enumerate(sparse_layers(cfg)):
        p, a, m = f"model.layers.{i}.", f"model.layers.{i}.self_attn.", f"model.layers.{i}.mlp."
        out[p + "input_layernorm.weight"] = (c,)
        out[p + "post_attention_layernorm.weight"] = (c,)
        for x, rows in (("q", nh * hd), ("k", nkv * hd), ("v", nkv * hd)):
            out[a + x + "_proj.weight"] = (rows, c)
            if cfg.get("attention_bias", False):
                out[a + x + "_proj.bias"] = (rows,)
        out[a + "o_proj.weight"] = (c, nh * hd)
        if cfg.get("use_qk_norm", False):
            out[a + "q_norm.weight"] = (hd,)
            out[a + "k_norm.weight"] = (hd,)
        out.update(deepseek.mlp_tensor_names(m, c, sp, f, fm, n, fm * cfg.get("n_shared_experts", 1), True))
    return out
