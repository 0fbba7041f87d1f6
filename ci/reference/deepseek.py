"""DeepSeek-V2 and DeepSeek-V3 (multi-head latent attention + DeepSeek MoE), float64 numpy, written line by line from
transformers' models/deepseek_v2/modeling_deepseek_v2.py (modular_deepseek_v2.py, configuration_deepseek_v2.py) and
models/deepseek_v3/modeling_deepseek_v3.py (modular_deepseek_v3.py, configuration_deepseek_v3.py), with
modeling_rope_utils.py's yarn:

- DeepseekV{2,3}ForCausalLM: embed_tokens, the layers, the final norm (DeepseekV{2,3}RMSNorm, rms_norm_eps), lm_head
  (untied as the published folders have it; the token table when tie_word_embeddings).
- DeepseekV{2,3}DecoderLayer: pre-norm: input_layernorm → self_attn → + residual, post_attention_layernorm → mlp →
  + residual; mlp is the MoE block when layer_idx >= first_k_dense_replace, else a dense DeepseekV{2,3}MLP of
  intermediate_size. transformers does not read moe_layer_freq (DeepSeek's remote code and vLLM also require
  layer_idx % moe_layer_freq == 0; the fixtures publish moe_layer_freq 1, where the rules agree).
- DeepseekV{2,3}RMSNorm: x · rsqrt(mean(x²) + eps) · w (variance in float32 in transformers). q_a_layernorm and
  kv_a_layernorm are built without an eps argument: 1e-6 whatever rms_norm_eps says.
- DeepseekV{2,3}Attention (MLA): q = q_proj(x) when q_lora_rank is null (no bias), else
  q_b_proj(q_a_layernorm(q_a_proj(x))) (q_a_proj biased by attention_bias, q_b_proj never); per head
  [q_nope (qk_nope_head_dim) | q_pe (qk_rope_head_dim)]. compressed = kv_a_proj_with_mqa(x) (bias by attention_bias) =
  [c (kv_lora_rank) | k_pe (qk_rope_head_dim)]; kv_b_proj(kv_a_layernorm(c)) per head [k_nope | v (v_head_dim)]. RoPE
  on q_pe and the one shared k_pe (B, 1, T, r), k_pe expanded to every head; query = cat(q_nope, q_pe), key =
  cat(k_nope, k_pe); eager_attention_forward with the causal mask and scaling; o_proj (bias by attention_bias) over
  heads · v_head_dim.
  Scaling: qk_head_dim ** -0.5, times mscale² with mscale = yarn_get_mscale(factor, mscale_all_dim) =
  0.1 · mscale_all_dim · ln(factor) + 1 (1 when factor <= 1) when the rope type is not default and mscale_all_dim is
  set: DeepseekV3Attention's rule, and DeepseekV2Attention's since transformers PR #47435 (2026-07; before it V2 used
  qk_head_dim ** -0.5 alone; DeepSeek's remote code and vLLM apply mscale² to both).
- The rotary (DeepseekV{2,3}RotaryEmbedding): the config's head_dim is qk_rope_head_dim (DeepseekV{2,3}Config), so
  inv_freq is modeling_rope_utils' over qk_rope_head_dim dims (default or yarn; rope.py), cos/sin (V3) or freqs_cis
  (V2) × attention_scaling (yarn's mscale / mscale_all_dim ratio, 1 in the published folders).
  V2 apply_rotary_emb: view_as_complex over the pairs (2i, 2i + 1) times freqs_cis[i] = e^(i·pos·inv_freq[i]):
  out[2i] = x[2i] cos − x[2i+1] sin, out[2i+1] = x[2i] sin + x[2i+1] cos (the result stays interleaved).
  V3 with rope_interleave (default true): apply_rotary_pos_emb_interleave: q viewed (d/2, 2) and transposed, i.e.
  [x0, x2, …, x1, x3, …], then rotate_half with cos = cat(freqs, freqs): out[i] = x[2i] cos_i − x[2i+1] sin_i,
  out[i + d/2] = x[2i+1] cos_i + x[2i] sin_i — V2's numbers in the halves layout (q·k identical, see selfcheck);
  rope_interleave false: Llama's apply_rotary_pos_emb on the halves as stored.
- DeepseekV2Moe: router logits = x Wᵀ in float32, softmax in float32; topk_method "greedy": torch.topk of the
  probabilities; "group_limited_greedy": group score = max over each of n_group contiguous groups, the topk_group
  best groups kept, the others' probabilities masked_fill 0.0, torch.topk of that; weights = the chosen probabilities
  × routed_scaling_factor; no renormalization (transformers' V2 does not read norm_topk_prob; DeepSeek's remote code
  divides by the sum instead of scaling when norm_topk_prob and top_k > 1 — false in every published V2 folder).
  transformers' group_limited_greedy branch names self.num_experts, which DeepseekV2Moe does not set (the stored
  versions would raise AttributeError): followed here as n_routed_experts // n_group, DeepSeek's remote code.
- DeepseekV3TopkRouter (noaux_tc): logits in float32, scores = sigmoid; scores_for_choice = scores +
  e_score_correction_bias; group score = sum of the 2 largest biased scores of each of n_group groups; topk_group
  groups kept, the rest masked_fill 0.0 (some later versions −inf: equal whenever the k-th chosen biased score is > 0,
  which make_fixtures requires); top-k indices of the masked biased scores; weights = the UNBIASED scores there,
  divided by (their sum + 1e-20) when norm_topk_prob, × routed_scaling_factor.
- Both MoE blocks: Σ_j w_j · expert_{id_j}(x) (experts down(silu(gate x) · up x) of moe_intermediate_size) +
  shared_experts(x) (one MLP of moe_intermediate_size · n_shared_experts, always added, ungated). V3 sums the routed
  experts in the weights' float32.

transformers computes in float32: the RMSNorm variance, the router (logits, softmax / sigmoid, weights), inv_freq and
cos/sin (V2: the complex product itself: x.float()), the attention softmax. Here everything is float64."""
import math

import numpy as np

import nn
import rope

KINDS = ("deepseek_v2", "deepseek_v3")
LATENT_EPS = 1e-6   # DeepseekV2RMSNorm(config.q_lora_rank) / (config.kv_lora_rank): the class default, not rms_norm_eps


def rope_cfg(cfg):
    """The config as rope.py reads it: head_dim = qk_rope_head_dim (DeepseekV{2,3}Config sets it), no partial factor."""
    return dict(cfg, head_dim=cfg["qk_rope_head_dim"], partial_rotary_factor=1.0)


def yarn_get_mscale(scale=1.0, mscale=1.0):
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def softmax_scale(cfg):
    """qk_head_dim ** -0.5, × mscale² when the rope type is not default and mscale_all_dim is set."""
    s = (cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]) ** -0.5
    p = rope.parameters(cfg)
    if p["rope_type"] != "default" and p.get("mscale_all_dim"):
        m = yarn_get_mscale(p["factor"], p["mscale_all_dim"])
        s = s * m * m
    return s


def rotary_tables(cfg, t):
    """(freqs (T, r/2) = pos · inv_freq, attention_scaling) of one pass over positions 0..t-1."""
    rc = rope_cfg(cfg)
    inv = rope.inv_freq(rc, t)
    return np.arange(t, dtype=np.float64)[:, None] * inv[None, :], rope.attention_factor(rc)


def rotate_v2(x, freqs, a):
    """DeepSeek-V2's apply_rotary_emb: pairs (2i, 2i+1) as complex numbers times a·e^(i·freqs[:, i]); x (..., T, r)."""
    c, s = np.cos(freqs) * a, np.sin(freqs) * a
    ev, od = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = ev * c - od * s
    out[..., 1::2] = ev * s + od * c
    return out


def rotate_v3(x, freqs, a, interleave=True):
    """DeepSeek-V3: apply_rotary_pos_emb_interleave (x regrouped [evens | odds], then rotate_half) or, with
    rope_interleave false, apply_rotary_pos_emb on x as it is; cos = cat(freqs, freqs).cos() · a."""
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb) * a, np.sin(emb) * a
    if interleave:
        x = np.concatenate([x[..., 0::2], x[..., 1::2]], axis=-1)
    return x * cos + rope.rotate_half(x) * sin


def _b(P, k):
    return P.get(k)


def mla(cfg, P, a, x, freqs, af, parts=None):
    """DeepseekV{2,3}Attention over x (B, T, C) under prefix a ("model.layers.{i}.self_attn."). parts: a dict that gets
    the per-head query, key, value (B, H, T, ·) as attention sees them."""
    b, t, _ = x.shape
    nh, dn, dr, dv = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    kvr = cfg["kv_lora_rank"]
    if cfg.get("q_lora_rank") is None:
        q = nn.linear(x, P[a + "q_proj.weight"])
    else:
        qa = nn.linear(x, P[a + "q_a_proj.weight"], _b(P, a + "q_a_proj.bias"))
        q = nn.linear(nn.rms_norm(qa, P[a + "q_a_layernorm.weight"], LATENT_EPS), P[a + "q_b_proj.weight"])
    q = q.reshape(b, t, nh, dn + dr).transpose(0, 2, 1, 3)
    q_nope, q_pe = q[..., :dn], q[..., dn:]
    comp = nn.linear(x, P[a + "kv_a_proj_with_mqa.weight"], _b(P, a + "kv_a_proj_with_mqa.bias"))
    c, k_pe = comp[..., :kvr], comp[..., kvr:]
    kv = nn.linear(nn.rms_norm(c, P[a + "kv_a_layernorm.weight"], LATENT_EPS), P[a + "kv_b_proj.weight"])
    kv = kv.reshape(b, t, nh, dn + dv).transpose(0, 2, 1, 3)
    k_nope, v = kv[..., :dn], kv[..., dn:]
    k_pe = k_pe.reshape(b, 1, t, dr)
    if cfg["model_type"] == "deepseek_v2":
        q_pe, k_pe = rotate_v2(q_pe, freqs, af), rotate_v2(k_pe, freqs, af)
    else:
        il = cfg.get("rope_interleave", True)
        q_pe, k_pe = rotate_v3(q_pe, freqs, af, il), rotate_v3(k_pe, freqs, af, il)
    k_pe = np.broadcast_to(k_pe, (b, nh, t, dr))
    query = np.concatenate([q_nope, q_pe], axis=-1)
    key = np.concatenate([k_nope, k_pe], axis=-1)
    if parts is not None:
        parts.update(query=query, key=key, value=v)
    o = nn.attention(query, key, v, softmax_scale(cfg), nn.causal(t))
    return nn.linear(nn.merge(o), P[a + "o_proj.weight"], _b(P, a + "o_proj.bias"))


def _topk(choice, k):
    """torch.topk's ids in descending order, and the gap between the k-th and (k+1)-th value (inf when k = E)."""
    order = np.argsort(-choice, axis=-1, kind="stable")
    srt = np.take_along_axis(choice, order, -1)
    gap = srt[:, k - 1] - srt[:, k] if k < choice.shape[-1] else np.full(len(choice), np.inf)
    return order[:, :k], gap


def _groups(gs, kg):
    """The topk_group best groups as a mask (N, G), and the gap between the kg-th and (kg+1)-th group score."""
    order = np.argsort(-gs, axis=-1, kind="stable")
    mask = np.zeros(gs.shape, dtype=bool)
    np.put_along_axis(mask, order[:, :kg], True, axis=-1)
    srt = np.take_along_axis(gs, order, -1)
    gap = srt[:, kg - 1] - srt[:, kg] if kg < gs.shape[-1] else np.full(len(gs), np.inf)
    return mask, gap


def route(cfg, logits, bias=None):
    """The router of N tokens (logits (N, E)): {"ids" (N, k) descending by the choosing score, "weights" (N, k),
    "gap" (N,) the k-th minus (k+1)-th choosing score, "group_gap" (N,) or None, "kth" (N,) the k-th choosing score}."""
    n_e, k = logits.shape[-1], cfg["num_experts_per_tok"]
    rsf = cfg.get("routed_scaling_factor", 1.0)
    if cfg["model_type"] == "deepseek_v2":
        probs = nn.softmax(logits)
        if cfg.get("topk_method", "greedy") == "greedy":
            choice, ggap = probs, None
        elif cfg["topk_method"] == "group_limited_greedy":
            g = cfg["n_group"]
            gs = probs.reshape(len(probs), g, n_e // g).max(-1)
            gmask, ggap = _groups(gs, cfg["topk_group"])
            choice = np.where(np.repeat(gmask, n_e // g, axis=-1), probs, 0.0)
        else:
            raise ValueError(f"topk_method {cfg['topk_method']!r}: DeepseekV2Moe knows greedy and group_limited_greedy")
        ids, gap = _topk(choice, k)
        w = np.take_along_axis(probs, ids, -1) * rsf
    else:
        scores = 1.0 / (1.0 + np.exp(-logits))
        sfc = scores + bias[None, :]
        g = cfg["n_group"]
        gs = np.sort(sfc.reshape(len(sfc), g, n_e // g), axis=-1)[..., -2:].sum(-1)
        gmask, ggap = _groups(gs, cfg["topk_group"])
        choice = np.where(np.repeat(gmask, n_e // g, axis=-1), sfc, 0.0)
        ids, gap = _topk(choice, k)
        w = np.take_along_axis(scores, ids, -1)
        if cfg.get("norm_topk_prob", True):
            w = w / (w.sum(-1, keepdims=True) + 1e-20)
        w = w * rsf
    kth = np.take_along_axis(choice, ids[:, -1:], -1)[:, 0]
    return {"ids": ids, "weights": w, "gap": gap, "group_gap": ggap, "kth": kth}


def mlp(P, m, x):
    return nn.linear(nn.silu(nn.linear(x, P[m + "gate_proj.weight"])) * nn.linear(x, P[m + "up_proj.weight"]), P[m + "down_proj.weight"])


def moe(cfg, P, m, x, routing=None):
    """DeepseekV2Moe / DeepseekV3MoE over x (B, T, C) under prefix m ("model.layers.{i}.mlp.")."""
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    bias = P.get(m + "gate.e_score_correction_bias")
    r = route(cfg, nn.linear(flat, P[m + "gate.weight"]), bias)
    if routing is not None:
        routing.append(r)
    out = np.zeros_like(flat)
    for e in range(cfg["n_routed_experts"]):
        we = (r["weights"] * (r["ids"] == e)).sum(-1)
        if we.any():
            out = out + we[:, None] * mlp(P, f"{m}experts.{e}.", flat)
    out = out + mlp(P, m + "shared_experts.", flat)
    return out.reshape(shape)


def sparse_layers(cfg):
    """DeepseekV{2,3}DecoderLayer: a MoE block iff layer_idx >= first_k_dense_replace."""
    return [i >= cfg.get("first_k_dense_replace", 0) for i in range(cfg["num_hidden_layers"])]


def forward(cfg, P, ids, routing=None):
    """(last_hidden_state (B, T, C), logits (B, T, V)); routing: a list that gets each sparse layer's route() dict."""
    ids = np.asarray(ids)
    eps = cfg.get("rms_norm_eps", 1e-6)
    h = P["model.embed_tokens.weight"][ids]
    freqs, af = rotary_tables(cfg, ids.shape[1])
    sparse = sparse_layers(cfg)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = nn.rms_norm(h, P[p + "input_layernorm.weight"], eps)
        h = h + mla(cfg, P, p + "self_attn.", x, freqs, af)
        x = nn.rms_norm(h, P[p + "post_attention_layernorm.weight"], eps)
        h = h + (moe(cfg, P, p + "mlp.", x, routing) if sparse[i] else mlp(P, p + "mlp.", x))
    h = nn.rms_norm(h, P["model.norm.weight"], eps)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T


def tensor_names(cfg):
    """The state_dict names of DeepseekV{2,3}ForCausalLM in the 4.x per-expert layout published folders carry, with
    shapes."""
    c, v, nh = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"]
    dn, dr, dv, kvr = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"], cfg["kv_lora_rank"]
    qr, f, fm, n = cfg.get("q_lora_rank"), cfg["intermediate_size"], cfg["moe_intermediate_size"], cfg["n_routed_experts"]
    out = {"model.embed_tokens.weight": (v, c), "model.norm.weight": (c,)}
    if not cfg.get("tie_word_embeddings", False):
        out["lm_head.weight"] = (v, c)
    for i, sp in enumerate(sparse_layers(cfg)):
        p, a, m = f"model.layers.{i}.", f"model.layers.{i}.self_attn.", f"model.layers.{i}.mlp."
        out[p + "input_layernorm.weight"] = (c,)
        out[p + "post_attention_layernorm.weight"] = (c,)
        if qr is None:
            out[a + "q_proj.weight"] = (nh * (dn + dr), c)
        else:
            out[a + "q_a_proj.weight"] = (qr, c)
            out[a + "q_a_layernorm.weight"] = (qr,)
            out[a + "q_b_proj.weight"] = (nh * (dn + dr), qr)
        out[a + "kv_a_proj_with_mqa.weight"] = (kvr + dr, c)
        out[a + "kv_a_layernorm.weight"] = (kvr,)
        out[a + "kv_b_proj.weight"] = (nh * (dn + dv), kvr)
        out[a + "o_proj.weight"] = (c, nh * dv)
        if cfg.get("attention_bias"):
            if qr is not None:
                out[a + "q_a_proj.bias"] = (qr,)
            out[a + "kv_a_proj_with_mqa.bias"] = (kvr + dr,)
            out[a + "o_proj.bias"] = (c,)
        out.update(mlp_tensor_names(m, c, sp, f, fm, n, fm * cfg["n_shared_experts"], cfg["model_type"] == "deepseek_v3"))
    return out


def mlp_tensor_names(m, c, sparse, f, fm, n, fs, bias):
    """One layer's mlp names under m with shapes: DeepseekV{2,3}MoE's (Glm4MoeMoE's the same) when sparse (n experts.{e}.*
    of fm, gate.weight, gate.e_score_correction_bias when bias, shared_experts.* of fs), else the dense MLP of f."""
    if not sparse:
        return {m + "gate_proj.weight": (f, c), m + "up_proj.weight": (f, c), m + "down_proj.weight": (c, f)}
    out = {m + "gate.weight": (n, c)}
    if bias:
        out[m + "gate.e_score_correction_bias"] = (n,)
    for e in range(n):
        out.update({f"{m}experts.{e}.gate_proj.weight": (fm, c), f"{m}experts.{e}.up_proj.weight": (fm, c),
                    f"{m}experts.{e}.down_proj.weight": (c, fm)})
    out.update({m + "shared_experts.gate_proj.weight": (fs, c), m + "shared_experts.up_proj.weight": (fs, c),
                m + "shared_experts.down_proj.weight": (c, fs)})
    return out
