"""GPT-OSS (OpenAI's gpt-oss; transformers model_type "gpt_oss", GptOssForCausalLM), following
models/gpt_oss/modeling_gpt_oss.py, configuration_gpt_oss.py and integrations/mxfp4.py in transformers:

- GptOssModel.forward: embed_tokens, position_ids 0..T-1, one rotary cos/sin for all layers
  (GptOssRotaryEmbedding: LlamaRotaryEmbedding's frequencies, here yarn; emb = freqs, cos/sin × attention_scaling),
  the layers, the final norm; GptOssForCausalLM: lm_head (untied: tie_word_embeddings false).
- GptOssDecoderLayer (Llama's pre-norm): h = x + self_attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h)).
- GptOssRMSNorm: weight * (x * rsqrt(mean(x²) + eps)); transformers computes it in float32 and multiplies the weight
  in float32 before casting back (Llama casts first); here float64.
- GptOssAttention: q_proj / k_proj / v_proj / o_proj with bias (attention_bias, true), head_dim from the config,
  GQA (repeat_kv), apply_rotary_pos_emb = _apply_rotary_emb (first half x1, second half x2: x1 cos − x2 sin,
  x2 cos + x1 sin: rotate_half's rotation), scaling head_dim**-0.5; the causal mask, on sliding layers
  masking_utils' sliding window (key j visible to query i when i − W < j ≤ i); eager_attention_forward with
  sinks: the scaled, masked scores get one more column, the head's learned logit self_attn.sinks[h], the row's
  maximum is subtracted, softmax (float32 in transformers), the sink column dropped: the kept weights sum to < 1.
- Which layers slide (GptOssConfig): layer_types, by default "sliding_attention" for layer i when (i + 1) % 2,
  i.e. the even layers; sliding_window null: no layer slides.
- GptOssMLP: GptOssTopKRouter: logits = x Wᵀ + b (router.weight (E, C), router.bias (E)), torch.topk of the
  LOGITS (k = num_experts_per_tok, descending), softmax over those k values (float32 in transformers) → weights;
  GptOssExperts: per chosen expert e, gate_up = x @ gate_up_proj[e] + gate_up_proj_bias[e] (gate_up_proj
  (E, C, 2I): x on the left, no transpose), gate = gate_up[..., ::2], up = gate_up[..., 1::2] (interleaved),
  gate = min(gate, limit), up = clamp(up, −limit, limit), glu = gate · sigmoid(gate · alpha),
  y = ((up + 1) · glu) @ down_proj[e] + down_proj_bias[e] (down_proj (E, I, C)); out = Σ_k w_k y_k.
  alpha = swiglu_alpha (default 1.702), limit = swiglu_limit (default 7.0); transformers before the config fields
  existed hard-coded 1.702 and 7.0 in GptOssExperts (the fixtures use those values, so both read the same).
- integrations/mxfp4.py convert_moe_packed_tensors (what the published checkpoints store): *_blocks uint8
  (E, R, G, 16) and *_scales uint8 (E, R, G); each byte's low nibble is the earlier element, its high nibble the
  next, each nibble an index into FP4_VALUES (e2m1), times 2^(scale − 127) (torch.ldexp); (E, R, G·16·2) is then
  transposed to (E, G·32, R): gate_up_proj_blocks (E, 2I, C/32, 16) → gate_up_proj (E, C, 2I), down_proj_blocks
  (E, C, I/32, 16) → down_proj (E, I, C). The biases are stored unquantized under their own names.

Here every expert runs on every token with weight 0 where not chosen (the same sum as transformers' loop over
the experts hit)."""
import numpy as np

import nn
import rope

FP4_VALUES = (+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0)


def dequantize(blocks, scales):
    """convert_moe_packed_tensors: blocks (E, R, G, 16) uint8, scales (E, R, G) uint8 -> float64 (E, G·32, R)."""
    blocks = np.asarray(blocks)
    scales = np.asarray(scales)
    if blocks.dtype != np.uint8:                     # a float64 copy of the bytes (Draw.f64): back to the bytes
        if not np.all((blocks >= 0) & (blocks <= 255) & (blocks == np.floor(blocks))):
            raise ValueError("MXFP4 blocks must be bytes")
        blocks = blocks.astype(np.uint8)
    if blocks.shape[:-1] != scales.shape:
        raise ValueError(f"blocks {blocks.shape} do not match scales {scales.shape}")
    lut = np.array(FP4_VALUES, dtype=np.float64)
    vals = np.empty(blocks.shape[:-1] + (blocks.shape[-1] * 2,), dtype=np.float64)
    vals[..., 0::2] = lut[blocks & 0x0F]             # the low nibble first
    vals[..., 1::2] = lut[blocks >> 4]
    vals = np.ldexp(vals, (np.asarray(scales).astype(np.int64) - 127)[..., None])
    e, r, g = blocks.shape[:3]
    return vals.reshape(e, r, g * blocks.shape[-1] * 2).transpose(0, 2, 1)


def quantize(nibbles, scales):
    """The inverse packing, for the generator: nibbles (E, R, K) of FP4 indices 0..15 (K a multiple of 32), scales
    (E, R, K/32) -> (blocks (E, R, K/32, 16) uint8, scales uint8); dequantize(*quantize(n, s)) is
    FP4_VALUES[n] · 2^(s − 127) transposed to (E, K, R)."""
    nibbles = np.asarray(nibbles, dtype=np.uint8)
    e, r, k = nibbles.shape
    packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)
    return packed.reshape(e, r, k // 32, 16), np.asarray(scales, dtype=np.uint8)


def experts(P, m):
    """(gate_up_proj (E, C, 2I), gate_up_proj_bias (E, 2I), down_proj (E, I, C), down_proj_bias (E, C)) under module
    prefix m ("model.layers.{i}.mlp."), from MXFP4 blocks/scales or from the unquantized tensors."""
    x = m + "experts."
    if x + "gate_up_proj_blocks" in P:
        gu = dequantize(P[x + "gate_up_proj_blocks"], P[x + "gate_up_proj_scales"])
        dn = dequantize(P[x + "down_proj_blocks"], P[x + "down_proj_scales"])
    else:
        gu, dn = P[x + "gate_up_proj"], P[x + "down_proj"]
    return gu, P[x + "gate_up_proj_bias"], dn, P[x + "down_proj_bias"]


def layer_types(cfg):
    lt = cfg.get("layer_types")
    if lt is None:
        lt = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(cfg["num_hidden_layers"])]
    return list(lt)


def sliding_layers(cfg):
    return [t == "sliding_attention" and cfg.get("sliding_window") is not None for t in layer_types(cfg)]


def sink_attention(q, k, v, scale, allowed, sinks):
    """eager_attention_forward with sinks: q (B, H, Tq, D), k / v (B, Hkv, Tk, D), allowed (Tq, Tk) bool, sinks (H,).
    Returns (out (B, H, Tq, D), the sink column's softmax weight (B, H, Tq))."""
    rep = q.shape[1] // k.shape[1]
    if rep > 1:
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
    s = (q @ k.transpose(0, 1, 3, 2)) * scale
    s = np.where(allowed, s, -np.inf)
    b, h, tq, _ = s.shape
    sink = np.broadcast_to(np.asarray(sinks, dtype=np.float64).reshape(1, h, 1, 1), (b, h, tq, 1))
    combined = np.concatenate([s, sink], axis=-1)
    combined = combined - combined.max(-1, keepdims=True)
    probs = nn.softmax(combined)
    return probs[..., :-1] @ v, probs[..., -1]


def route(logits, k):
    """GptOssTopKRouter after the linear: torch.topk of the logits (descending), softmax over the k values.
    Returns (ids (N, k), weights (N, k), gap (N,): the k-th minus the (k+1)-th largest logit, inf when k = E)."""
    order = np.argsort(-logits, axis=-1, kind="stable")
    ids = order[:, :k]
    w = nn.softmax(np.take_along_axis(logits, ids, -1))
    srt = np.take_along_axis(logits, order, -1)
    gap = srt[:, k - 1] - srt[:, k] if k < logits.shape[-1] else np.full(len(logits), np.inf)
    return ids, w, gap


def moe(cfg, P, m, x, routing=None, clamps=None):
    """GptOssMLP of one layer: x (B, T, C). routing: a list that gets {"ids", "gap"} appended; clamps: a list that
    gets {"gate_above", "up_above", "up_below", "elements"} of this layer appended, counted over the chosen
    (token, expert) pairs only."""
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    k = cfg["num_experts_per_tok"]
    alpha, limit = cfg.get("swiglu_alpha", 1.702), cfg.get("swiglu_limit", 7.0)
    ids, w, gap = route(nn.linear(flat, P[m + "router.weight"], P[m + "router.bias"]), k)
    if routing is not None:
        routing.append({"ids": ids, "gap": gap})
    gu_w, gu_b, dn_w, dn_b = experts(P, m)
    out = np.zeros_like(flat)
    counts = {"gate_above": 0, "up_above": 0, "up_below": 0, "elements": 0}
    for e in range(gu_w.shape[0]):
        chosen = (ids == e).any(-1)
        we = (w * (ids == e)).sum(-1)                # expert e's weight per token, 0 where not chosen
        gate_up = flat @ gu_w[e] + gu_b[e]
        gate, up = gate_up[..., ::2], gate_up[..., 1::2]
        counts["gate_above"] += int((gate[chosen] > limit).sum())
        counts["up_above"] += int((up[chosen] > limit).sum())
        counts["up_below"] += int((up[chosen] < -limit).sum())
        counts["elements"] += int(gate[chosen].size)
        gate = np.minimum(gate, limit)
        up = np.clip(up, -limit, limit)
        glu = gate / (1.0 + np.exp(-gate * alpha))
        out = out + we[:, None] * (((up + 1.0) * glu) @ dn_w[e] + dn_b[e])
    if clamps is not None:
        clamps.append(counts)
    return out.reshape(shape)


def forward(cfg, P, ids, routing=None, clamps=None, sinks=None):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: GptOssForCausalLM's state_dict
    names (model.… and lm_head.weight), experts as MXFP4 blocks/scales or unquantized. routing / clamps: lists that
    get each layer's routing and clamp counts (see moe); sinks: a list that gets each layer's sink weights
    (B, H, T) appended."""
    ids = np.asarray(ids)
    t = ids.shape[1]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = rope.head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1e-5)
    slide = sliding_layers(cfg)
    cos, sin = rope.cos_sin(cfg, np.arange(t))
    h = P["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        x = nn.rms_norm(h, P[p + "input_layernorm.weight"], eps)
        q = nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias"))
        k = nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias"))
        v = nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias"))
        q, k, v = nn.heads(q, nh, hd), nn.heads(k, nkv, hd), nn.heads(v, nkv, hd)
        q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
        mask = nn.causal(t, window=cfg["sliding_window"] if slide[i] else None)
        o, sink_w = sink_attention(q, k, v, hd ** -0.5, mask, P[a + "sinks"])
        if sinks is not None:
            sinks.append(sink_w)
        h = h + nn.linear(nn.merge(o), P[a + "o_proj.weight"], P.get(a + "o_proj.bias"))
        x = nn.rms_norm(h, P[p + "post_attention_layernorm.weight"], eps)
        h = h + moe(cfg, P, p + "mlp.", x, routing, clamps)
    h = nn.rms_norm(h, P["model.norm.weight"], eps)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T
