"""Cohere and Cohere 2 decoders, following transformers' modeling files (float64 numpy):

- models/cohere/modeling_cohere.py (CohereForCausalLM; CohereForAI/c4ai-command-r-v01, command-r-plus, aya-23-8B / 35B,
  aya-expanse-8b / 32b): CohereModel.forward: embed_tokens, position_ids 0..T-1, one rotary cos/sin for all layers
  (CohereRotaryEmbedding), the layers, the final norm; CohereForCausalLM: lm_head (tied to embed_tokens by default:
  CohereConfig.tie_word_embeddings defaults to True, unlike Llama), then `logits * logit_scale` (CohereConfig default
  0.0625; aya-expanse-8b 0.125).
  CohereLayerNorm: mean-centred LayerNorm with a weight and NO bias, eps layer_norm_eps (default 1e-5), computed in
  float32: (x - mean) · rsqrt(mean((x - mean)²) + eps) · weight.
  CohereDecoderLayer: PARALLEL with one norm: n = input_layernorm(x); x + attn(n) + mlp(n) (residual + attention +
  MLP, in that order); no post_attention_layernorm.
  CohereRotaryEmbedding: Llama's inv_freq (modeling_rope_utils, rope_theta, rope_scaling / 5.x rope_parameters) over the
  whole head, freqs = position · inv_freq, emb = torch.repeat_interleave(freqs, 2, dim=-1) — cos/sin laid out
  (f0, f0, f1, f1, …), not Llama's cat(freqs, freqs) — times attention_scaling; computed in float32.
  rotate_half (Cohere's own): x1 = x[..., ::2], x2 = x[..., 1::2], stack([-x2, x1], -1).flatten(-2): (x0, x1, x2, x3, …) →
  (-x1, x0, -x3, x2, …), i.e. GPT-J's rotate_every_two: the pairs (2i, 2i + 1) rotate by position · inv_freq[i].
  apply_rotary_pos_emb: q · cos + rotate_half(q) · sin (q and k upcast to float32), on the whole head: a
  partial_rotary_factor < 1 would give cos narrower than the head and fails there (refused here).
  CohereAttention: q_proj, k_proj, v_proj, o_proj with bias only when attention_bias; head_dim =
  getattr(config, "head_dim", hidden // heads); num_key_value_heads for GQA (repeat_kv); use_qk_norm (command-r-plus):
  q_norm / k_norm are CohereLayerNorms over head_dim with a weight per head, shapes (num_attention_heads, head_dim) and
  (num_key_value_heads, head_dim), applied to the (B, T, heads, head_dim) projections BEFORE the rotary; scaling
  head_dim**-0.5; causal; softmax in float32. CohereMLP: down_proj(act(gate_proj(x)) · up_proj(x)), no biases,
  hidden_act silu.
- models/cohere2/modular_cohere2.py (Cohere2ForCausalLM; c4ai-command-r7b-12-2024, command-a-03-2025): Cohere's layer,
  norm, MLP, rotary and logit_scale; Cohere2Attention has no use_qk_norm; Cohere2Config forces head_dim = hidden // heads
  (whatever config.json says); layer i's type is layer_types[i], by default (and from 4.x's sliding_window_pattern,
  default 4) "sliding_attention" when (i + 1) % pattern else "full_attention" — with pattern 4 layers 3, 7, 11, … are full.
  Sliding layers: the rotary as Cohere's and a causal window of sliding_window keys, the query included
  (masking_utils.sliding_window_overlay: kv_idx > q_idx - sliding_window; 4.4x's Cohere2DecoderLayer masked
  tril(diagonal=-sliding_window), the same keys). Full layers: NO rotary at all (NoPE: apply_rotary_pos_emb only when
  self.sliding_window is not None) and plain causal attention.

forward(..., calls=[...]) runs the sequence as generate runs it through the cache: each call's queries over all keys so
far (a sliding layer's still within its window), positions continuing from the cache; in exact arithmetic the same as
one pass (RoPE of absolute positions, no state but the keys). The keyword arguments rotation / block / norm /
rope_layers give deliberately wrong readings for selfcheck."""
import numpy as np

import alibi
import nn
import rope

KINDS = ("cohere", "cohere2")


def head_dim(cfg):
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    if cfg["model_type"] == "cohere2":               # Cohere2Config: self.head_dim = hidden_size // num_attention_heads
        return c // nh
    return cfg.get("head_dim") or c // nh


def layer_types(cfg):
    """Cohere: every layer full with rotary. Cohere 2: layer_types, or from sliding_window_pattern (default 4)."""
    n = cfg["num_hidden_layers"]
    if cfg["model_type"] == "cohere":
        return ["full_attention"] * n
    if cfg.get("layer_types") is not None:
        return list(cfg["layer_types"])
    pattern = cfg.get("sliding_window_pattern", 4)
    return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n)]


def rotary_layers(cfg):
    """Which layers rotate q and k: every Cohere layer; a Cohere 2 layer only when it slides."""
    return [cfg["model_type"] == "cohere" or t == "sliding_attention" for t in layer_types(cfg)]


def cohere_layer_norm(x, w, eps):
    """CohereLayerNorm: mean-centred, weight only (no bias)."""
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w


# modeling_cohere.rotate_half: (x0, x1, x2, x3, …) → (-x1, x0, -x3, x2, …)
rotate_half = rope.rotate_pairs


def rope_cfg(cfg):
    """The config as rope.py reads it, with Cohere's head_dim; a partial rotary factor is refused (transformers'
    apply_rotary_pos_emb multiplies the whole head by cos / sin, which would be narrower)."""
    rp = cfg.get("rope_parameters") or {}
    factor = rp.get("partial_rotary_factor", cfg.get("partial_rotary_factor", 1.0))
    if factor != 1.0:
        raise ValueError(f"partial_rotary_factor {factor}: Cohere rotates the whole head (transformers fails otherwise)")
    return dict(cfg, head_dim=head_dim(cfg), partial_rotary_factor=1.0)


def cos_sin(cfg, positions, seq_len):
    """CohereRotaryEmbedding: cos, sin (T, head_dim) with each frequency repeated twice (repeat_interleave)."""
    return rope.interleaved_cos_sin(rope_cfg(cfg), positions, seq_len)


# apply_rotary_pos_emb on x (B, H, T, D), over the whole head; rotation "halves": Llama's reading, a wrong one (selfcheck)
apply = rope.apply_interleaved


def forward(cfg, P, ids, calls=None, rotation="interleaved", block="parallel", norm="layer", rope_layers=None):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V) · logit_scale). P: the ForCausalLM's
    state_dict names (model.…, lm_head.weight when untied). rope_layers overrides which layers rotate (selfcheck)."""
    if cfg["model_type"] not in KINDS:
        raise ValueError(cfg["model_type"])
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = head_dim(cfg)
    eps = cfg.get("layer_norm_eps", 1e-5)
    act = nn.ACT[cfg.get("hidden_act", "silu")]
    kinds = layer_types(cfg)
    rotates = rotary_layers(cfg) if rope_layers is None else list(rope_layers)
    qk_norm = cfg["model_type"] == "cohere" and bool(cfg.get("use_qk_norm", False))
    ln = (lambda x, w: cohere_layer_norm(x, w, eps)) if norm == "layer" else (lambda x, w: nn.rms_norm(x, w, eps))
    cos_all, sin_all = cos_sin(cfg, np.arange(t), t)
    cache = [([], []) for _ in range(cfg["num_hidden_layers"])]
    out = []
    for start, end in alibi.spans(t, calls):
        cos, sin = cos_all[start:end], sin_all[start:end]
        h = P["model.embed_tokens.weight"][ids[:, start:end]]
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            a = p + "self_attn."
            w_in = P[p + "input_layernorm.weight"]

            def attn(x):
                q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias")), nh, hd)
                k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias")), nkv, hd)
                v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias")), nkv, hd)
                if qk_norm:                          # per-head weights (heads, head_dim), before the rotary
                    q = cohere_layer_norm(q, P[a + "q_norm.weight"][None, :, None, :], eps)
                    k = cohere_layer_norm(k, P[a + "k_norm.weight"][None, :, None, :], eps)
                if rotates[i]:
                    q, k = apply(q, cos, sin, rotation), apply(k, cos, sin, rotation)
                cache[i][0].append(k)
                cache[i][1].append(v)
                window = cfg["sliding_window"] if kinds[i] == "sliding_attention" else None
                mask = nn.causal(end - start, end, window=window)
                o = nn.attention(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), hd ** -0.5, mask)
                return nn.linear(nn.merge(o), P[a + "o_proj.weight"], P.get(a + "o_proj.bias"))

            def mlp(x):
                m = p + "mlp."
                return nn.linear(act(nn.linear(x, P[m + "gate_proj.weight"])) * nn.linear(x, P[m + "up_proj.weight"]),
                                 P[m + "down_proj.weight"])

            if block == "parallel":                  # CohereDecoderLayer: residual + attention + MLP of one norm
                x = ln(h, w_in)
                h = h + attn(x) + mlp(x)
            else:                                    # a wrong reading: sequential, the one norm used twice (selfcheck)
                h = h + attn(ln(h, w_in))
                h = h + mlp(ln(h, w_in))
        out.append(ln(h, P["model.norm.weight"]))
    h = np.concatenate(out, 1)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", True) else P["lm_head.weight"]
    return h, (h @ head.T) * cfg.get("logit_scale", 0.0625)
