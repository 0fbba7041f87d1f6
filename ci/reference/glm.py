"""GLM and GLM-4 decoders, following transformers' modeling files (float64 numpy):

- models/glm/modular_glm.py / modeling_glm.py (GlmForCausalLM, model_type glm; THUDM/glm-4-9b-chat-hf, glm-4-9b-hf,
  glm-edge-*): Llama's pre-norm layers (input_layernorm → self_attn → + residual, post_attention_layernorm → mlp →
  + residual), GlmRMSNorm (x · rsqrt(mean(x²) + eps) · weight, variance in float32), the final norm, lm_head (untied by
  default: GlmConfig.tie_word_embeddings False).
  GlmAttention: q_proj, k_proj, v_proj with biases when attention_bias (GlmConfig default True), o_proj without;
  head_dim = config.head_dim (GlmConfig default 128 — NOT hidden_size // heads when the key is absent), GQA over
  num_key_value_heads (default 2), scaling head_dim**-0.5, causal, softmax in float32.
  GlmRotaryEmbedding: Llama's inv_freq over dim = int(head_dim · partial_rotary_factor) (GlmConfig sets 0.5 when the
  config does not say; 5.x keeps it in rope_parameters), freqs = position · inv_freq, emb = cat(freqs, freqs).
  apply_rotary_pos_emb (GLM's own): cos = cos[..., :dim // 2].repeat_interleave(2) (so (f0, f0, f1, f1, …)), the same
  for sin; the first dim dims of each head rotate, the rest pass; rotate_half interleaved: x1 = x[..., 0::2],
  x2 = x[..., 1::2], stack((-x2, x1), -1).flatten(-2): (x0, x1, x2, x3, …) → (-x1, x0, -x3, x2, …), i.e. the pairs
  (2i, 2i + 1) of the rotary dims rotate by position · inv_freq[i] (GPT-J's rotate_every_two).
  GlmMLP (Phi3MLP): gate_up_proj (2 · intermediate, hidden) without bias, gate, up = chunk(2) — the first half is the
  gate — down_proj(up · act(gate)), hidden_act silu.
- models/glm4/modular_glm4.py (Glm4ForCausalLM, model_type glm4; THUDM/GLM-4-9B-0414, GLM-Z1-9B-0414, GLM-4-32B-0414):
  GLM's attention, MLP, rotary and config defaults; Glm4DecoderLayer adds two norms on the sublayers' outputs before
  their residual adds: h = h + post_self_attn_layernorm(attn(input_layernorm(h))); h = h +
  post_mlp_layernorm(mlp(post_attention_layernorm(h))).

forward(..., calls=[...]) runs the sequence as generate runs it through the cache: each call's queries over all keys so
far, positions continuing from the cache (the same as one pass in exact arithmetic). The keyword arguments rotation
("halves": Llama's rotate_half on cat(freqs, freqs)) and sandwich (False: GLM-4 without its post norms) give deliberately
wrong readings for selfcheck."""
import numpy as np

import alibi
import nn
import rope

KINDS = ("glm", "glm4")


def head_dim(cfg):
    """GlmConfig / Glm4Config: head_dim defaults to 128 (the attention reads config.head_dim, not hidden // heads)."""
    hd = cfg.get("head_dim", 128)
    if hd is None:
        raise ValueError("head_dim null: GlmAttention's view(…, -1, None) fails in transformers")
    return hd


def partial_factor(cfg):
    """partial_rotary_factor: 5.x's rope_parameters entry, else the top-level key, else GlmConfig's 0.5."""
    rp = cfg.get("rope_parameters") or {}
    return rp.get("partial_rotary_factor", cfg.get("partial_rotary_factor", 0.5))


def rope_cfg(cfg):
    """The config as rope.py reads it: GLM's head_dim and rotary fraction; rope_theta 10000 when neither layout gives it
    (4.x GlmConfig(rope_theta=10000.0); 5.x's RotaryEmbeddingConfigMixin.default_theta)."""
    out = dict(cfg, head_dim=head_dim(cfg), partial_rotary_factor=partial_factor(cfg))
    if cfg.get("rope_parameters") is not None:
        out["rope_parameters"] = dict({"rope_theta": 10000.0}, **cfg["rope_parameters"])
    return out


def rotary_dim(cfg):
    return int(head_dim(cfg) * partial_factor(cfg))


def cos_sin(cfg, positions, seq_len):
    """cos, sin (T, rotary_dim) as apply_rotary_pos_emb uses them: each frequency repeated twice (f0, f0, f1, f1, …)."""
    return rope.interleaved_cos_sin(rope_cfg(cfg), positions, seq_len)


# modeling_glm.rotate_half: (x0, x1, x2, x3, …) → (-x1, x0, -x3, x2, …)
rotate_interleaved = rope.rotate_pairs

# x (B, H, T, D): the first cos.shape[-1] dims rotated, the rest passed; rotation "halves": a wrong reading (selfcheck)
apply = rope.apply_interleaved


def forward(cfg, P, ids, calls=None, rotation="interleaved", sandwich=None):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: the ForCausalLM's state_dict names
    (model.…, lm_head.weight when untied). sandwich: GLM-4's post norms (default: when model_type is glm4)."""
    mt = cfg["model_type"]
    if mt not in KINDS:
        raise ValueError(mt)
    sandwich = mt == "glm4" if sandwich is None else sandwich
    ids = np.asarray(ids)
    b, t = ids.shape
    nh = cfg.get("num_attention_heads", 32)
    nkv = cfg.get("num_key_value_heads", 2)
    hd = head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1.5625e-07)
    act = nn.ACT[cfg.get("hidden_act", "silu")]
    norm = lambda x, w: nn.rms_norm(x, w, eps)
    cos_all, sin_all = cos_sin(cfg, np.arange(t), t)
    cache = [([], []) for _ in range(cfg["num_hidden_layers"])]
    out = []
    for start, end in alibi.spans(t, calls):
        cos, sin = cos_all[start:end], sin_all[start:end]
        h = P["model.embed_tokens.weight"][ids[:, start:end]]
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            a, m = p + "self_attn.", p + "mlp."
            x = norm(h, P[p + "input_layernorm.weight"])
            q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias")), nh, hd)
            k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias")), nkv, hd)
            v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias")), nkv, hd)
            q, k = apply(q, cos, sin, rotation), apply(k, cos, sin, rotation)
            cache[i][0].append(k)
            cache[i][1].append(v)
            o = nn.attention(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), hd ** -0.5,
                             nn.causal(end - start, end))
            o = nn.linear(nn.merge(o), P[a + "o_proj.weight"])
            h = h + (norm(o, P[p + "post_self_attn_layernorm.weight"]) if sandwich else o)
            x = norm(h, P[p + "post_attention_layernorm.weight"])
            gate, up = np.split(nn.linear(x, P[m + "gate_up_proj.weight"]), 2, axis=-1)
            f = nn.linear(up * act(gate), P[m + "down_proj.weight"])
            h = h + (norm(f, P[p + "post_mlp_layernorm.weight"]) if sandwich else f)
        out.append(norm(h, P["model.norm.weight"]))
    h = np.concatenate(out, 1)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T
