"""Decoder-only LLMs: Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma and Gemma 2, one function following each family's
modeling file in transformers (models/<family>/modeling_<family>.py):

- <Family>Model.forward: embed_tokens (Gemma: times the normalizer sqrt(hidden_size) as a tensor of the
  hidden states' dtype, i.e. float32(sqrt(H)) for a float32 model, used as such here), position_ids 0..T-1,
  one rotary cos/sin for all layers, the layers, the final norm; <Family>ForCausalLM: lm_head, or the
  token table when tie_word_embeddings.
- <Family>DecoderLayer: pre-norm: input_layernorm → self_attn → + residual, post_attention_layernorm → mlp →
  + residual.
- <Family>RMSNorm: x * rsqrt(mean(x²) + eps) * weight (GemmaRMSNorm: * (1 + weight)); transformers
  computes the variance in float32.
- <Family>Attention: q_proj, k_proj, v_proj (bias: Llama attention_bias, Qwen2 always on q/k/v, Qwen3
  attention_bias; Phi-3 one fused qkv_proj split [q | k | v]), Qwen3's q_norm / k_norm (RMSNorm over
  head_dim, per head, before RoPE), apply_rotary_pos_emb, repeat_kv for GQA, scaling head_dim**-0.5,
  eager_attention_forward with the causal mask or, on sliding layers, the sliding-window causal mask of
  masking_utils (a query sees `sliding_window` keys, itself included), o_proj.
- <Family>MLP: down(act(gate(x)) * up(x)); Phi-3 one fused gate_up_proj whose first half is the gate;
  Gemma's act is gelu_pytorch_tanh, the others' silu (config hidden_act).

Gemma 2 (models/gemma2/modeling_gemma2.py) adds: scaling query_pre_attn_scalar**-0.5; attention scores
soft-capped (s / cap, tanh, * cap: attn_logit_softcapping) before the mask; Gemma2DecoderLayer's extra norms
(post_attention_layernorm on the attention output before the residual, pre_feedforward_layernorm and
post_feedforward_layernorm around the MLP); final logits soft-capped by final_logit_softcapping; layer i
slides when (i + 1) % 2, i.e. even layers, unless layer_types says otherwise.

Gemma 3 text (models/gemma3/modeling_gemma3.py, Gemma3ForCausalLM): Gemma 2's norms, embedding scale, scaling and
final soft-capping (None by default), no attention soft-capping (Gemma3Attention passes none), q_norm / k_norm
(Gemma RMSNorm, 1 + w) per head before RoPE, and RoPE per layer type (Gemma3RotaryEmbedding): sliding layers
with rope_local_base_freq (default 10000, default kind), full layers with rope_theta (default 1e6) and
rope_scaling (5.x: rope_parameters[layer_type]); the default kind over head_dim (no partial rotary); layer i
slides unless (i + 1) % sliding_window_pattern (6) == 0, or as layer_types says.

Granite (models/granite/modeling_granite.py): Llama's blocks with the embeddings × embedding_multiplier, attention
scaling attention_multiplier (not head_dim**-0.5), each sublayer's output × residual_multiplier before its residual
add, and the logits ÷ logits_scaling.

SmolLM3 (models/smollm3/modular_smollm3.py): Llama's blocks (Qwen2's model) with RoPE only where no_rope_layers[i]
is 1 (by default every no_rope_layer_interval-th layer, 4, goes without), tied embeddings by default.

OLMo 2 (models/olmo2/modeling_olmo2.py): Llama's projections, q_norm / k_norm RMSNorms over the whole q and k
projections (num_heads · head_dim, num_key_value_heads · head_dim) before the heads are split, no input norms: each
sublayer's output is normed (post_attention_layernorm, post_feedforward_layernorm) before its residual add.

Which layers slide: config "layer_types" when present (recent 4.x and 5.x); else Mistral and Phi-3 every
layer when sliding_window is set; Qwen2 / Qwen3 layer i when use_sliding_window and i >= max_window_layers
(their config drops sliding_window unless use_sliding_window)."""
import numpy as np

import nn
import rope


def sliding_layers(cfg):
    n = cfg["num_hidden_layers"]
    if cfg.get("layer_types") is not None:
        return [t == "sliding_attention" for t in cfg["layer_types"]]
    mt, w = cfg["model_type"], cfg.get("sliding_window")
    if mt == "gemma3_text":                          # Gemma3TextConfig: layer i slides unless (i + 1) % pattern == 0
        pattern = cfg.get("sliding_window_pattern", 6)
        return [bool((i + 1) % pattern) for i in range(n)]
    if mt == "gemma2":
        return [w is not None and bool((i + 1) % 2) for i in range(n)]
    if mt in ("mistral", "phi3"):
        return [w is not None] * n
    if mt in ("qwen2", "qwen3"):
        return [bool(cfg.get("use_sliding_window")) and w is not None and i >= cfg.get("max_window_layers", n) for i in range(n)]
    return [False] * n


def uses_rope(cfg, i):
    """SmolLM3Config: no_rope_layers[i] (1: RoPE, 0: none), by default 0 on every no_rope_layer_interval-th layer."""
    if cfg["model_type"] != "smollm3":
        return True
    flags = cfg.get("no_rope_layers")
    if flags is None:
        flags = [int((j + 1) % cfg.get("no_rope_layer_interval", 4) != 0) for j in range(cfg["num_hidden_layers"])]
    return bool(flags[i])


def _norm(cfg, x, w):
    eps = cfg.get("rms_norm_eps", 1e-6)
    return nn.rms_norm(x, 1.0 + w, eps) if cfg["model_type"] in GEMMAS else nn.rms_norm(x, w, eps)


GEMMAS = ("gemma", "gemma2", "gemma3_text")


def _b(P, key):
    return P.get(key)


def forward(cfg, P, ids, rope_lens=None):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: names as
    <Family>ForCausalLM's state_dict (model.… and lm_head.weight). rope_lens (T,): the sequence length of
    the call that processed each position (see rope.cos_sin), for the rotations a KV cache keeps when the
    frequencies depend on the length (dynamic NTK, LongRoPE); None: one pass over all T."""
    ids = np.asarray(ids)
    b, t = ids.shape
    mt = cfg["model_type"]
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = rope.head_dim(cfg)
    gemma = mt in GEMMAS
    sandwich = mt in ("gemma2", "gemma3_text", "olmo2")
    olmo2 = mt == "olmo2"
    act = nn.ACT[cfg.get("hidden_activation") or cfg.get("hidden_act", "silu")] if gemma else nn.ACT[cfg.get("hidden_act", "silu")]
    scale = cfg.get("query_pre_attn_scalar", 256) ** -0.5 if mt in ("gemma2", "gemma3_text") else hd ** -0.5
    granite = mt == "granite"
    if granite:                                      # GraniteAttention: scaling = attention_multiplier
        scale = cfg.get("attention_multiplier", 1.0)
    res = cfg.get("residual_multiplier", 1.0) if granite else 1.0
    cap = cfg.get("attn_logit_softcapping") if mt == "gemma2" else None
    h = P["model.embed_tokens.weight"][ids]
    if gemma:
        h = h * float(np.float32(c ** 0.5))
    if granite:                                      # GraniteModel: inputs_embeds * embedding_multiplier
        h = h * cfg.get("embedding_multiplier", 1.0)
    slide = sliding_layers(cfg)
    # Gemma 3: rope settings per layer type (rope.parameters(cfg, layer_type)); the others: one for all layers
    kinds = ("sliding_attention", "full_attention") if mt == "gemma3_text" else (None,)
    rot = {kind: rope.cos_sin(cfg, np.arange(t), rope_lens, layer_type=kind) for kind in kinds}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = h if olmo2 else _norm(cfg, h, P[p + "input_layernorm.weight"])       # OLMo 2: no input norm
        a = p + "self_attn."
        if mt == "phi3":
            qkv = nn.linear(x, P[a + "qkv_proj.weight"])
            q, k, v = np.split(qkv, [nh * hd, nh * hd + nkv * hd], axis=-1)
        else:
            q = nn.linear(x, P[a + "q_proj.weight"], _b(P, a + "q_proj.bias"))
            k = nn.linear(x, P[a + "k_proj.weight"], _b(P, a + "k_proj.bias"))
            v = nn.linear(x, P[a + "v_proj.weight"], _b(P, a + "v_proj.bias"))
        if olmo2:                                    # Olmo2Attention: q_norm / k_norm over the whole projection
            q, k = _norm(cfg, q, P[a + "q_norm.weight"]), _norm(cfg, k, P[a + "k_norm.weight"])
        q, k, v = nn.heads(q, nh, hd), nn.heads(k, nkv, hd), nn.heads(v, nkv, hd)
        if mt in ("qwen3", "gemma3_text"):
            q = _norm(cfg, q, P[a + "q_norm.weight"])
            k = _norm(cfg, k, P[a + "k_norm.weight"])
        cos, sin = rot[None if mt != "gemma3_text" else "sliding_attention" if slide[i] else "full_attention"]
        if uses_rope(cfg, i):                        # SmolLM3: no_rope_layers[i] == 0 is a NoPE layer
            q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
        mask = nn.causal(t, window=cfg["sliding_window"] if slide[i] else None)
        o = nn.linear(nn.merge(nn.attention(q, k, v, scale, mask, softcap=cap)), P[a + "o_proj.weight"], _b(P, a + "o_proj.bias"))
        if sandwich:
            h = h + _norm(cfg, o, P[p + "post_attention_layernorm.weight"])
            x = h if olmo2 else _norm(cfg, h, P[p + "pre_feedforward_layernorm.weight"])
        else:
            h = h + o * res                          # GraniteDecoderLayer: residual + out * residual_multiplier
            x = _norm(cfg, h, P[p + "post_attention_layernorm.weight"])
        m = p + "mlp."
        if mt == "phi3":
            gate, up = np.split(nn.linear(x, P[m + "gate_up_proj.weight"]), 2, axis=-1)
            f = up * act(gate)
        else:
            f = act(nn.linear(x, P[m + "gate_proj.weight"], _b(P, m + "gate_proj.bias"))) \
                * nn.linear(x, P[m + "up_proj.weight"], _b(P, m + "up_proj.bias"))
        f = nn.linear(f, P[m + "down_proj.weight"], _b(P, m + "down_proj.bias"))
        h = h + (_norm(cfg, f, P[p + "post_feedforward_layernorm.weight"]) if sandwich else f * res)
    h = _norm(cfg, h, P["model.norm.weight"])
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", gemma) else P["lm_head.weight"]
    logits = h @ head.T
    if granite:                                      # GraniteForCausalLM: logits / logits_scaling
        logits = logits / cfg.get("logits_scaling", 1.0)
    if mt in ("gemma2", "gemma3_text") and cfg.get("final_logit_softcapping") is not None:
        c = cfg["final_logit_softcapping"]
        logits = np.tanh(logits / c) * c
    return h, logits
