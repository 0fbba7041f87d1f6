"""Parallel-residual decoders: GPT-NeoX (Pythia, GPT-NeoX-20B, Dolly v2, RedPajama-INCITE) and Phi (phi-1, phi-1.5,
phi-2), one function following each modeling file in transformers:

- models/gpt_neox/modeling_gpt_neox.py (GPTNeoXForCausalLM): GPTNeoXModel.forward: embed_in, position_ids 0..T-1, one
  rotary cos/sin for all layers (GPTNeoXRotaryEmbedding = LlamaRotaryEmbedding over int(head_size · partial rotary
  factor) dimensions), the layers, final_layer_norm; embed_out (untied unless tie_word_embeddings).
  GPTNeoXAttention: query_key_value (bias when attention_bias, default true) viewed as (B, T, heads, 3·head_size) and
  chunked along the last dimension into q, k, v — the rows of the stored matrix interleave per head [q_h | k_h | v_h];
  apply_rotary_pos_emb on the first rotary dimensions of each head (rotate_half within them), the rest passed; scaling
  head_size**-0.5, causal; dense. GPTNeoXMLP: dense_4h_to_h(act(dense_h_to_4h(x))), hidden_act default gelu (erf).
  GPTNeoXLayer: use_parallel_residual (default true): x + attn(input_layernorm(x)) + mlp(post_attention_layernorm(x));
  false: x = x + attn(input_layernorm(x)); x = x + mlp(post_attention_layernorm(x)). LayerNorms with bias, layer_norm_eps.
  Config (configuration_gpt_neox.py): 4.x rotary_emb_base (10000) and rotary_pct (0.25) at the top level, rope_scaling;
  5.x rope_parameters {rope_theta, partial_rotary_factor, rope_type} (convert_rope_params_to_dict folds the 4.x names in).
- models/phi/modeling_phi.py (PhiForCausalLM): PhiModel.forward: embed_tokens, the layers, final_layernorm; lm_head
  WITH a bias. PhiAttention: q_proj, k_proj, v_proj, dense, all with bias; num_key_value_heads (default the heads)
  for GQA; qk_layernorm (default false, a LayerNorm per head; not used by the published phi-1 / 1.5 / 2 and not
  implemented here); partial rotary over int(head_dim · partial_rotary_factor) (default 0.5; phi-2 0.4); scaling
  head_dim**-0.5. PhiMLP: fc2(act(fc1(x))), hidden_act default gelu_new. PhiDecoderLayer: one input_layernorm whose
  output feeds both: x + attn(n) + mlp(n).
- models/gptj/modeling_gptj.py (GPTJForCausalLM; EleutherAI/gpt-j-6b): GPTJModel.forward: wte, the blocks, ln_f; lm_head
  with a bias, untied. GPTJAttention: q_proj, k_proj, v_proj, out_proj without bias; the first rotary_dim dimensions of each
  head of q and k rotated the GPT-J way — create_sinusoidal_positions (inv_freq 10000^(-2i/rotary_dim), sin | cos),
  apply_rotary_pos_emb with sin / cos repeat_interleave'd by 2 and rotate_every_two (pairs (2i, 2i + 1), not the halves);
  scores / sqrt(head_dim) in float32, causal. GPTJMLP: fc_out(gelu_new(fc_in(x))). GPTJBlock: one ln_1 feeding both,
  attn + mlp + residual.
- models/codegen/modeling_codegen.py (CodeGenForCausalLM; Salesforce/codegen-350M-mono ... 16B, multi / nl / mono): GPT-J's
  model (CodeGenBlock, the GPT-J rotary over rotary_dim, scores / sqrt(head_dim) in float32, fc_in / fc_out, lm_head with
  a bias) except the attention's one bias-free qkv_proj (3C, C): CodeGenAttention views its output as (mp_num = 4,
  3C / 4) and splits each group into query | value | key of local_dim = C / 4 (in that order); _split_heads then makes
  head h = g * (NH / 4) + j of group g's j-th head_dim slice."""
import numpy as np

import nn
import rope

FAMILIES = ("gpt_neox", "phi", "gptj", "codegen")

MP_NUM = 4                                             # modeling_codegen.py: mp_num = 4 (CodeGen's TPU-v4 cores)


def rotate_every_two(x):
    """modeling_gptj.rotate_every_two: (x0, x1, x2, x3, …) → (-x1, x0, -x3, x2, …)."""
    out = np.empty_like(x)
    out[..., 0::2] = -x[..., 1::2]
    out[..., 1::2] = x[..., 0::2]
    return out


def gptj_rotary(x, t, rot):
    """GPT-J's rotation of the first rot dimensions of each head of x (B, H, T, D) at positions 0..T-1."""
    inv = 1.0 / (10000.0 ** (np.arange(0, rot, 2, dtype=np.float64) / rot))
    ang = np.arange(t, dtype=np.float64)[:, None] * inv[None, :]              # (T, rot/2)
    sin, cos = np.repeat(np.sin(ang), 2, axis=-1), np.repeat(np.cos(ang), 2, axis=-1)
    r, rest = x[..., :rot], x[..., rot:]
    return np.concatenate([r * cos + rotate_every_two(r) * sin, rest], axis=-1)


def gptj_forward(cfg, P, ids):
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["n_embd"], cfg["n_head"]
    hd = c // nh
    rot = cfg.get("rotary_dim") or hd
    act = nn.ACT[cfg.get("activation_function", "gelu_new")]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    mask = nn.causal(t)
    h = P["transformer.wte.weight"][ids]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        x = nn.layer_norm(h, P[p + "ln_1.weight"], P[p + "ln_1.bias"], eps)
        q = gptj_rotary(nn.heads(nn.linear(x, P[p + "attn.q_proj.weight"]), nh, hd), t, rot)
        k = gptj_rotary(nn.heads(nn.linear(x, P[p + "attn.k_proj.weight"]), nh, hd), t, rot)
        v = nn.heads(nn.linear(x, P[p + "attn.v_proj.weight"]), nh, hd)
        o = nn.linear(nn.merge(nn.attention(q, k, v, hd ** -0.5, mask)), P[p + "attn.out_proj.weight"])
        f = nn.linear(act(nn.linear(x, P[p + "mlp.fc_in.weight"], P[p + "mlp.fc_in.bias"])), P[p + "mlp.fc_out.weight"],
                      P[p + "mlp.fc_out.bias"])
        h = o + f + h
    h = nn.layer_norm(h, P["transformer.ln_f.weight"], P["transformer.ln_f.bias"], eps)
    return h, h @ P["lm_head.weight"].T + P["lm_head.bias"]


def codegen_as_gptj(cfg, P):
    """CodeGen's parameters under GPT-J's names: q_proj, v_proj and k_proj rows as CodeGenAttention reads them from
    qkv_proj: output row g * 3L + part * L + i (L = C / mp_num; part 0 query, 1 value, 2 key) is row g * L + i of that
    projection, whose heads _split_heads then takes in order."""
    c = cfg["n_embd"]
    ld = c // MP_NUM
    Q = dict(P)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}.attn."
        w = P[p + "qkv_proj.weight"].reshape(MP_NUM, 3 * ld, c)
        for part, name in enumerate(("q_proj", "v_proj", "k_proj")):
            Q[p + name + ".weight"] = w[:, part * ld:(part + 1) * ld].reshape(c, c)
    return Q


def rope_cfg(cfg):
    """The config as rope.py reads it: GPT-NeoX's 4.x rotary_emb_base / rotary_pct under the common names (4.x
    GPTNeoXConfig stores them as rope_theta / partial_rotary_factor; 5.x's rope_parameters holds both), Phi's
    partial_rotary_factor (default 0.5) likewise; rope.inv_freq reads partial_rotary_factor at the top level."""
    r = dict(cfg)
    rp = cfg.get("rope_parameters")
    if cfg["model_type"] == "gpt_neox":
        if rp is None:
            r["rope_theta"] = cfg.get("rotary_emb_base", 10000.0)
            r["partial_rotary_factor"] = cfg.get("rotary_pct", 0.25)
        else:
            r["partial_rotary_factor"] = rp.get("partial_rotary_factor", 0.25)
    else:
        r["partial_rotary_factor"] = (rp or {}).get("partial_rotary_factor", cfg.get("partial_rotary_factor", 0.5))
    return r


def _ln(cfg, P, name, x):
    return nn.layer_norm(x, P[name + ".weight"], P[name + ".bias"], cfg.get("layer_norm_eps", 1e-5))


def forward(cfg, P, ids):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: the ForCausalLM's state_dict names."""
    if cfg["model_type"] == "gptj":
        return gptj_forward(cfg, P, ids)
    if cfg["model_type"] == "codegen":
        return gptj_forward(cfg, codegen_as_gptj(cfg, P), ids)
    ids = np.asarray(ids)
    b, t = ids.shape
    mt = cfg["model_type"]
    neox = mt == "gpt_neox"
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = nh if neox else cfg.get("num_key_value_heads") or nh
    hd = c // nh
    act = nn.ACT[cfg.get("hidden_act", "gelu" if neox else "gelu_new")]
    rc = rope_cfg(cfg)
    cos, sin = rope.cos_sin(rc, np.arange(t))
    mask = nn.causal(t)
    root = "gpt_neox." if neox else "model."
    h = P[root + ("embed_in.weight" if neox else "embed_tokens.weight")][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"{root}layers.{i}."
        x = _ln(cfg, P, p + "input_layernorm", h)
        if neox:
            a = p + "attention."
            qkv = nn.linear(x, P[a + "query_key_value.weight"], P.get(a + "query_key_value.bias"))
            qkv = qkv.reshape(b, t, nh, 3 * hd).transpose(0, 2, 1, 3)          # (B, heads, T, 3·hd)
            q, k, v = qkv[..., :hd], qkv[..., hd:2 * hd], qkv[..., 2 * hd:]
            out_w, out_b = P[a + "dense.weight"], P.get(a + "dense.bias")
        else:
            a = p + "self_attn."
            q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P[a + "q_proj.bias"]), nh, hd)
            k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P[a + "k_proj.bias"]), nkv, hd)
            v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P[a + "v_proj.bias"]), nkv, hd)
            out_w, out_b = P[a + "dense.weight"], P[a + "dense.bias"]
        q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
        o = nn.linear(nn.merge(nn.attention(q, k, v, hd ** -0.5, mask)), out_w, out_b)
        m = p + "mlp."
        up, down = ("dense_h_to_4h", "dense_4h_to_h") if neox else ("fc1", "fc2")

        def mlp(y):
            return nn.linear(act(nn.linear(y, P[m + up + ".weight"], P[m + up + ".bias"])), P[m + down + ".weight"], P[m + down + ".bias"])

        if not neox:                                   # PhiDecoderLayer: one norm feeds both
            h = o + mlp(x) + h
        elif cfg.get("use_parallel_residual", True):   # GPTNeoXLayer: mlp_output + attn_output + hidden_states
            h = mlp(_ln(cfg, P, p + "post_attention_layernorm", h)) + o + h
        else:
            h = o + h
            h = mlp(_ln(cfg, P, p + "post_attention_layernorm", h)) + h
    h = _ln(cfg, P, root + ("final_layer_norm" if neox else "final_layernorm"), h)
    if neox:
        head = P["gpt_neox.embed_in.weight"] if cfg.get("tie_word_embeddings", False) else P["embed_out.weight"]
        return h, h @ head.T
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T + P["lm_head.bias"]
