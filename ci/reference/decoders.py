"""Decoder-only LLMs: Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma, Gemma 2/3, Granite, SmolLM3, OLMo, OLMo 2, OLMo 3 and the
mixture-of-experts Mixtral, Qwen2-MoE, Qwen3-MoE and OLMoE, one function following each family's modeling file in
transformers (models/<family>/modeling_<family>.py):

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

EmbeddingGemma (Gemma3TextModel with use_bidirectional_attention, e.g. google/embeddinggemma-300m): Gemma3TextModel.forward
builds the full layers' mask with an or_mask_function that is always true (every key) and the sliding layers' with
_bidirectional_window_overlay (|q_idx - kv_idx| < sliding_window, on both sides of the query); Gemma3Attention.is_causal
false. The reference returns the final norm's output (last_hidden_state); such a model has no causal head.

Granite (models/granite/modeling_granite.py): Llama's blocks with the embeddings × embedding_multiplier, attention
scaling attention_multiplier (not head_dim**-0.5), each sublayer's output × residual_multiplier before its residual
add, and the logits ÷ logits_scaling.

SmolLM3 (models/smollm3/modular_smollm3.py): Llama's blocks (Qwen2's model) with RoPE only where no_rope_layers[i]
is 1 (by default every no_rope_layer_interval-th layer, 4, goes without), tied embeddings by default.

OLMo (models/olmo/modular_olmo.py, OlmoForCausalLM; allenai/OLMo-*-hf): Llama's blocks with OlmoLayerNorm for
input_layernorm, post_attention_layernorm and the final norm: F.layer_norm(x.float(), (hidden,), None, None, eps=1e-5), a
LayerNorm with neither weight nor bias and its eps fixed (the config has none; transformers computes it in float32);
OlmoMLP without biases; OlmoAttention clamps q, k and v to [-clip_qkv, clip_qkv] right after q_proj / k_proj / v_proj
(before the heads are split and RoPE) when clip_qkv is not None (configuration_olmo.py: None by default).

OLMo 2 (models/olmo2/modeling_olmo2.py): Llama's projections, q_norm / k_norm RMSNorms over the whole q and k
projections (num_heads · head_dim, num_key_value_heads · head_dim) before the heads are split, no input norms: each
sublayer's output is normed (post_attention_layernorm, post_feedforward_layernorm) before its residual add.

OLMo 3 (models/olmo3/modular_olmo3.py, Olmo3ForCausalLM; allenai/Olmo-3-*): OLMo 2's layers (rms_norm_eps 1e-5 by
default) with layer_types (default: layer i slides unless (i + 1) % 4 == 0) and sliding_window (default 4096), and RoPE
per layer type (Olmo3RotaryEmbedding over Gemma 3's, Olmo3Config.convert_rope_params_to_dict): the sliding layers the
default kind at theta 500000, the full ones rope_theta (default 500000) with rope_scaling (the long-context releases'
yarn); 5.x: rope_parameters[layer_type]. Scaling is not applied to sliding layers (the Olmo 3 paper's choice; some 5.x
releases between the rope refactor and its fix gave every layer the scaled rope).

Mixture of experts (moe_block): the MLP of a sparse layer is a router `gate` (Linear C→E, no bias), softmax over
all E experts (transformers: in float32, F.softmax(…, dtype=torch.float) or .float()), torch.topk of k =
num_experts_per_tok (descending), the k probabilities renormalized to sum 1 (Mixtral always; the others when
norm_topk_prob) and cast back to the hidden dtype (4.x), then Σ_j w_j · expert_{id_j}(x) with each expert
down(act(gate(x)) * up(x)). Here every expert runs on every token with weight 0 where not chosen (the same sum).
- Mixtral (models/mixtral/modeling_mixtral.py): Mistral's attention and layers; MixtralSparseMoeBlock under
  block_sparse_moe. (4.x: experts.{e}.w1 gate, w3 up, w2 down); every layer sparse.
- Qwen2-MoE (models/qwen2_moe/modeling_qwen2_moe.py): Qwen2's attention (q/k/v bias); Qwen2MoeSparseMoeBlock
  under mlp. (experts.{e}.gate_proj / up_proj / down_proj, moe_intermediate_size) plus shared_expert
  (shared_expert_intermediate_size) × sigmoid(shared_expert_gate(x)) (Linear C→1, no bias); Qwen2MoeDecoderLayer:
  layer i sparse iff i not in mlp_only_layers and num_experts > 0 and (i + 1) % decoder_sparse_step == 0, else
  a dense Qwen2MoeMLP of intermediate_size.
- Qwen3-MoE (models/qwen3_moe/modular_qwen3_moe.py): Qwen3's attention (per-head q_norm / k_norm), Qwen2-MoE's
  layer choice, no shared expert.
- OLMoE (models/olmoe/modular_olmoe.py): Llama's pre-norm layers; OlmoeAttention's q_norm / k_norm over the whole
  q and k projections (as OLMo 2's), clip_qkv (clamp of q, k, v) when set; OlmoeSparseMoeBlock (experts of
  intermediate_size); every layer sparse.
- transformers 5.x (conversion_mapping.py) loads the experts fused: mlp.experts.gate_up_proj (E, 2F, C), expert
  e's [gate ; up] along dim 1, and mlp.experts.down_proj (E, C, F), no .weight suffix; Mixtral's
  block_sparse_moe.gate becomes mlp.gate. Both layouts are read here (expert_weights).

StableLM (models/stablelm/modeling_stablelm.py, StableLmForCausalLM; stabilityai/stablelm-2-1_6b, stablelm-zephyr-3b): Llama's
names and gated SiLU MLP without biases, nn.LayerNorm (weight and bias, layer_norm_eps) for every norm, q/k/v biases when
use_qkv_bias, o_proj without, partial rotary over int(head_dim · partial_rotary_factor) (default 0.25); StableLmDecoderLayer
with use_parallel_residual: x + attn(input_layernorm(x)) + mlp(input_layernorm(x)), no post_attention_layernorm.

Starcoder2 (models/starcoder2/modeling_starcoder2.py, Starcoder2ForCausalLM): Llama's attention names with biases on q/k/v/o
(use_bias), Starcoder2MLP c_proj(act(c_fc(x))) with biases (hidden_act gelu_pytorch_tanh), nn.LayerNorm (norm_epsilon)
for every norm, every layer sliding when sliding_window is set, tied embeddings by default.

Seed-OSS (models/seed_oss/modular_seed_oss.py, SeedOssForCausalLM): Llama's layers; SeedOssAttention's q/k/v biases by
attention_bias (SeedOssConfig: True), o_proj's by attention_out_bias (False), SeedOssMLP's by mlp_bias (False), read from
the config (seed_oss_params), head_dim 128 unless given (null: hidden // heads), scaling head_dim ** -0.5; the dropouts
(0.1 by default) are training-only; untied head, rms_norm_eps 1e-6.

Which layers slide: config "layer_types" when present (recent 4.x and 5.x); else Mistral, Mixtral and Phi-3 every
layer when sliding_window is set; Qwen2 / Qwen3 (and Qwen2-MoE / Qwen3-MoE as 4.x has them) layer i
when use_sliding_window and i >= max_window_layers (their config drops sliding_window unless use_sliding_window)."""
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
    if mt == "olmo3":                                # Olmo3Config: every fourth layer full, the others sliding
        return [bool((i + 1) % 4) for i in range(n)]
    if mt in ("mistral", "mixtral", "phi3", "starcoder2"):
        return [w is not None] * n
    if mt in ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe"):
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


MOES = ("mixtral", "qwen2_moe", "qwen3_moe", "olmoe")


def layer_names(p, c, nh, nkv, hd, bias):
    """A Llama-shaped layer's norm and attention names under p ("model.layers.{i}.") with shapes: input_layernorm and
    post_attention_layernorm weights (c,), self_attn.q / k / v / o_proj weights, and their biases when bias (Arcee's
    attention_bias, Dots1's)."""
    out = {p + "input_layernorm.weight": (c,), p + "post_attention_layernorm.weight": (c,)}
    for x, rows, cols in (("q", nh * hd, c), ("k", nkv * hd, c), ("v", nkv * hd, c), ("o", c, nh * hd)):
        out[p + "self_attn." + x + "_proj.weight"] = (rows, cols)
        if bias:
            out[p + "self_attn." + x + "_proj.bias"] = (rows,)
    return out


def sparse_layers(cfg):
    """Which layers' MLP is a mixture of experts: Mixtral and OLMoE every layer; Qwen2MoeDecoderLayer (also
    Qwen3-MoE's): i not in mlp_only_layers (default []) and num_experts > 0 and (i + 1) % decoder_sparse_step
    (default 1) == 0."""
    n, mt = cfg["num_hidden_layers"], cfg["model_type"]
    if mt in ("mixtral", "olmoe"):
        return [True] * n
    if mt in ("qwen2_moe", "qwen3_moe"):
        only = cfg.get("mlp_only_layers") or []
        return [i not in only and cfg["num_experts"] > 0 and (i + 1) % cfg.get("decoder_sparse_step", 1) == 0 for i in range(n)]
    return [False] * n


def num_experts(cfg):
    return cfg["num_local_experts"] if cfg["model_type"] == "mixtral" else cfg["num_experts"]


def expert_weights(P, m, n):
    """[(gate, up, down)] of the n experts under module prefix m: 5.x's fused experts.gate_up_proj (E, 2F, C),
    [gate ; up] along dim 1, and experts.down_proj (E, C, F); or 4.x's experts.{e}.w1 / w3 / w2 (Mixtral) or
    experts.{e}.gate_proj / up_proj / down_proj."""
    if m + "experts.gate_up_proj" in P:
        gu, dn = P[m + "experts.gate_up_proj"], P[m + "experts.down_proj"]
        f = gu.shape[1] // 2
        return [(np.ascontiguousarray(gu[e, :f]), np.ascontiguousarray(gu[e, f:]), np.ascontiguousarray(dn[e])) for e in range(n)]
    names = ("w1", "w3", "w2") if m + "experts.0.w1.weight" in P else ("gate_proj", "up_proj", "down_proj")
    return [tuple(P[f"{m}experts.{e}.{k}.weight"] for k in names) for e in range(n)]


def route(logits, k, renormalize):
    """The router: softmax over all experts, torch.topk (descending), renormalized to sum 1 when asked.
    Returns (ids (N, k), weights (N, k), gap (N,): the k-th minus the (k+1)-th largest probability, inf when k = E)."""
    probs = nn.softmax(logits)
    order = np.argsort(-probs, axis=-1, kind="stable")
    ids = order[:, :k]
    w = np.take_along_axis(probs, ids, -1)
    if renormalize:
        w = w / w.sum(-1, keepdims=True)
    srt = np.take_along_axis(probs, order, -1)
    gap = srt[:, k - 1] - srt[:, k] if k < probs.shape[-1] else np.full(len(probs), np.inf)
    return ids, w, gap


def moe_block(cfg, P, m, x, act, routing=None):
    """The sparse MLP of one layer: x (B, T, C) under module prefix m. routing: a list that gets
    {"ids": (B·T, k), "gap": (B·T,)} of this layer appended."""
    mt = cfg["model_type"]
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    n, k = num_experts(cfg), cfg["num_experts_per_tok"]
    ids, w, gap = route(nn.linear(flat, P[m + "gate.weight"]), k, mt == "mixtral" or bool(cfg.get("norm_topk_prob", False)))
    if routing is not None:
        routing.append({"ids": ids, "gap": gap})
    out = np.zeros_like(flat)
    for e, (g, u, d) in enumerate(expert_weights(P, m, n)):
        we = (w * (ids == e)).sum(-1)                # the weight of expert e per token, 0 where not chosen
        out = out + we[:, None] * nn.linear(act(nn.linear(flat, g)) * nn.linear(flat, u), d)
    if mt == "qwen2_moe":                            # Qwen2MoeSparseMoeBlock: + sigmoid(shared_expert_gate(x)) · shared_expert(x)
        s = m + "shared_expert."
        shared = nn.linear(act(nn.linear(flat, P[s + "gate_proj.weight"])) * nn.linear(flat, P[s + "up_proj.weight"]),
                           P[s + "down_proj.weight"])
        out = out + shared / (1.0 + np.exp(-nn.linear(flat, P[m + "shared_expert_gate.weight"])))
    return out.reshape(shape)


def _norm(cfg, x, w, b=None):
    if cfg["model_type"] == "olmo":                  # OlmoLayerNorm: no weight, no bias, eps 1e-5 whatever the config says
        return nn.layer_norm(x, 1.0, 0.0, 1e-5)
    if cfg["model_type"] in LAYERNORMS:              # nn.LayerNorm(hidden, eps=layer_norm_eps / norm_epsilon)
        return nn.layer_norm(x, w, b, cfg.get("layer_norm_eps", cfg.get("norm_epsilon", 1e-5)))
    eps = cfg.get("rms_norm_eps", 1e-5 if cfg["model_type"] == "olmo3" else 1e-6)   # Olmo3Config(rms_norm_eps=1e-5)
    return nn.rms_norm(x, 1.0 + w, eps) if cfg["model_type"] in GEMMAS else nn.rms_norm(x, w, eps)


LAYERNORMS = ("stablelm", "starcoder2")


GEMMAS = ("gemma", "gemma2", "gemma3_text")


SEED_OSS_BIASES = (("attention_bias", True, ("q_proj", "k_proj", "v_proj")), ("attention_out_bias", False, ("o_proj",)),
                   ("mlp_bias", False, ("gate_proj", "up_proj", "down_proj")))


def seed_oss_params(cfg, P):
    """P with each linear bias as SeedOssConfig's flags say: a flagged bias must be there (KeyError otherwise), an unflagged
    one is dropped (nn.Linear(bias=False) has none; transformers leaves such a stored tensor unused)."""
    out = dict(P)
    for i in range(cfg["num_hidden_layers"]):
        for flag, dflt, names in SEED_OSS_BIASES:
            for n in names:
                key = f"model.layers.{i}.{'mlp' if flag == 'mlp_bias' else 'self_attn'}.{n}.bias"
                if cfg.get(flag, dflt):
                    out[key] = P[key]
                else:
                    out.pop(key, None)
    return out


def _b(P, key):
    return P.get(key)


def _w(cfg, P, key):
    """A norm's weight: OLMo's norms have none (its checkpoints hold no such tensor)."""
    return None if cfg["model_type"] == "olmo" else P[key]


def forward(cfg, P, ids, rope_lens=None, routing=None, clipped=None):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: names as
    <Family>ForCausalLM's state_dict (model.… and lm_head.weight). rope_lens (T,): the sequence length of
    the call that processed each position (see rope.cos_sin), for the rotations a KV cache keeps when the
    frequencies depend on the length (dynamic NTK, LongRoPE); None: one pass over all T. routing: a list that
    gets each sparse layer's routing (see moe_block) appended, in layer order. clipped: a dict whose "q", "k", "v"
    and "all" counts gain, with clip_qkv, how many elements the clamp changes and how many it saw."""
    ids = np.asarray(ids)
    b, t = ids.shape
    mt = cfg["model_type"]
    if mt == "seed_oss":                             # the biases by the config's flags, not by which tensors P holds
        P = seed_oss_params(cfg, P)
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = rope.head_dim(cfg)
    gemma = mt in GEMMAS
    sandwich = mt in ("gemma2", "gemma3_text", "olmo2", "olmo3")
    olmo2 = mt in ("olmo2", "olmo3")                 # OLMo 3: OLMo 2's layers
    wide_qk = mt in ("olmo2", "olmo3", "olmoe")               # q_norm / k_norm over the whole projections
    sparse = sparse_layers(cfg)
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
    per_type = mt in ("gemma3_text", "olmo3")
    kinds = ("sliding_attention", "full_attention") if per_type else (None,)
    rot = {kind: rope.cos_sin(cfg, np.arange(t), rope_lens, layer_type=kind) for kind in kinds}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = h if olmo2 else _norm(cfg, h, _w(cfg, P, p + "input_layernorm.weight"), _b(P, p + "input_layernorm.bias"))   # OLMo 2: no input norm
        a = p + "self_attn."
        if mt == "phi3":
            qkv = nn.linear(x, P[a + "qkv_proj.weight"])
            q, k, v = np.split(qkv, [nh * hd, nh * hd + nkv * hd], axis=-1)
        else:
            q = nn.linear(x, P[a + "q_proj.weight"], _b(P, a + "q_proj.bias"))
            k = nn.linear(x, P[a + "k_proj.weight"], _b(P, a + "k_proj.bias"))
            v = nn.linear(x, P[a + "v_proj.weight"], _b(P, a + "v_proj.bias"))
        if wide_qk:                                  # Olmo2Attention / OlmoeAttention: q_norm / k_norm over the whole projection
            q, k = _norm(cfg, q, P[a + "q_norm.weight"]), _norm(cfg, k, P[a + "k_norm.weight"])
        if mt in ("olmo", "olmoe") and cfg.get("clip_qkv") is not None:   # OLMo: after the projections; OLMoE: after its norms
            lim = cfg["clip_qkv"]
            if clipped is not None:
                for name, z in (("q", q), ("k", k), ("v", v)):
                    clipped[name] = clipped.get(name, 0) + int((np.abs(z) > lim).sum())
                clipped["all"] = clipped.get("all", 0) + q.size + k.size + v.size
            q, k, v = np.clip(q, -lim, lim), np.clip(k, -lim, lim), np.clip(v, -lim, lim)
        q, k, v = nn.heads(q, nh, hd), nn.heads(k, nkv, hd), nn.heads(v, nkv, hd)
        if mt in ("qwen3", "qwen3_moe", "gemma3_text"):
            q = _norm(cfg, q, P[a + "q_norm.weight"])
            k = _norm(cfg, k, P[a + "k_norm.weight"])
        cos, sin = rot[None if not per_type else "sliding_attention" if slide[i] else "full_attention"]
        if uses_rope(cfg, i):                        # SmolLM3: no_rope_layers[i] == 0 is a NoPE layer
            q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
        if mt == "gemma3_text" and cfg.get("use_bidirectional_attention"):
            dist = np.abs(np.arange(t)[:, None] - np.arange(t)[None, :])
            mask = dist < cfg["sliding_window"] if slide[i] else np.ones((t, t), dtype=bool)
        else:
            mask = nn.causal(t, window=cfg.get("sliding_window", 4096 if mt == "olmo3" else None) if slide[i] else None)
        o = nn.linear(nn.merge(nn.attention(q, k, v, scale, mask, softcap=cap)), P[a + "o_proj.weight"], _b(P, a + "o_proj.bias"))
        parallel = mt == "stablelm" and cfg.get("use_parallel_residual", False)
        if sandwich:
            h = h + _norm(cfg, o, P[p + "post_attention_layernorm.weight"])
            x = h if olmo2 else _norm(cfg, h, P[p + "pre_feedforward_layernorm.weight"])
        elif parallel:                               # StableLmDecoderLayer: residual + attn(ln(x)) + mlp(ln(x)), one norm
            pass
        else:
            h = h + o * res                          # GraniteDecoderLayer: residual + out * residual_multiplier
            x = _norm(cfg, h, _w(cfg, P, p + "post_attention_layernorm.weight"), _b(P, p + "post_attention_layernorm.bias"))
        m = p + "mlp."
        if sparse[i]:                                # Mixtral 4.x: block_sparse_moe.; 5.x and the others: mlp.
            m = p + "block_sparse_moe." if p + "block_sparse_moe.gate.weight" in P else m
            f = moe_block(cfg, P, m, x, act, routing)
        elif mt == "phi3":
            gate, up = np.split(nn.linear(x, P[m + "gate_up_proj.weight"]), 2, axis=-1)
            f = up * act(gate)
        elif mt == "starcoder2":                     # Starcoder2MLP: c_proj(act(c_fc(x)))
            f = nn.linear(act(nn.linear(x, P[m + "c_fc.weight"], _b(P, m + "c_fc.bias"))), P[m + "c_proj.weight"], _b(P, m + "c_proj.bias"))
        else:
            f = act(nn.linear(x, P[m + "gate_proj.weight"], _b(P, m + "gate_proj.bias"))) \
                * nn.linear(x, P[m + "up_proj.weight"], _b(P, m + "up_proj.bias"))
        if not sparse[i] and mt != "starcoder2":
            f = nn.linear(f, P[m + "down_proj.weight"], _b(P, m + "down_proj.bias"))
        if parallel:
            h = h + o + f
        else:
            h = h + (_norm(cfg, f, P[p + "post_feedforward_layernorm.weight"]) if sandwich else f * res)
    h = _norm(cfg, h, _w(cfg, P, "model.norm.weight"), _b(P, "model.norm.bias"))
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", gemma) else P["lm_head.weight"]
    logits = h @ head.T
    if granite:                                      # GraniteForCausalLM: logits / logits_scaling
        logits = logits / cfg.get("logits_scaling", 1.0)
    if mt in ("gemma2", "gemma3_text") and cfg.get("final_logit_softcapping") is not None:
        c = cfg["final_logit_softcapping"]
        logits = np.tanh(logits / c) * c
    return h, logits
