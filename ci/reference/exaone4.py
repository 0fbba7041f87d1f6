"""EXAONE 4.0 decoder (float64 numpy), following transformers 5.x's models/exaone4/modular_exaone4.py (modeling_exaone4.py,
configuration_exaone4.py; Exaone4ForCausalLM, model_type exaone4: LGAI-EXAONE/EXAONE-4.0-1.2B, EXAONE-4.0-32B):

- Exaone4Config's defaults: vocab 102400, hidden 4096, intermediate 16384, 32 layers, 32 heads, 32 key/value heads (not
  the number of heads), silu, max positions 2048, rms_norm_eps 1e-5, bos 0, eos 2, pad None, untied, sliding_window 4096,
  sliding_window_pattern 4, rope_theta 10000 (RotaryEmbeddingConfigMixin.default_theta, rope_parameters or
  rope_theta + rope_scaling).
- layer_types: as given; else (__post_init__) a null sliding_window sets the pattern to 0, and layer i is
  "sliding_attention" when (i + 1) % sliding_window_pattern != 0, else "full_attention". That expression only works for an
  int pattern: a string ("LLLG", as the docstring describes) raises TypeError, and a null sliding_window without
  layer_types divides by zero, so such configs do not load in transformers (ValueError here).
- Exaone4Model: embed_tokens, one rotary cos / sin for all layers (Gemma2RotaryEmbedding: Llama's, over
  head_dim = config.head_dim or hidden // heads, rope_parameters' kind), the layers, the final RMSNorm; lm_head (the token
  table when tie_word_embeddings).
- Exaone4DecoderLayer (Olmo2DecoderLayer): no input norm; h = h + post_attention_layernorm(attn(h)); h = h +
  post_feedforward_layernorm(mlp(h)).
- Exaone4Attention: q_proj, k_proj, v_proj, o_proj without biases; head_dim = getattr(config, "head_dim", hidden // heads)
  (a null head_dim fails there); q_norm / k_norm RMSNorms over head_dim, per head (Qwen3's, not OLMo 2's whole-projection
  ones), after the projections; RoPE only when config.sliding_window is None or the layer is sliding: with a sliding window
  configured the full ("global") layers take no position embedding at all (NoPE); with none, every layer rotates; eager
  attention with scaling head_dim**-0.5, causal, sliding layers over sliding_window keys (itself included).
- Exaone4MLP (Olmo2MLP): down(silu(gate(x)) * up(x)).

forward(..., calls=[...]) runs the sequence as generate runs it through the cache: each call's queries over all keys so far,
positions continuing from the cache (the same as one pass in exact arithmetic). The keyword arguments rope_on_full (RoPE on
the full layers too), input_norms (Llama's pre-norm layers reading post_attention_layernorm as the MLP's input norm: a
wrong reading) and sliding (override the window) give deliberately wrong readings for selfcheck."""
import numpy as np

import alibi
import nn
import rope


def head_dim(cfg):
    """Exaone4Attention: getattr(config, "head_dim", hidden_size // num_attention_heads): the key's value when present."""
    return nn.config_head_dim(cfg, 4096, 32, "head_dim null: Exaone4Attention's scaling None ** -0.5 fails in transformers")


def sliding_window(cfg):
    return cfg.get("sliding_window", 4096)


def layer_types(cfg):
    """Exaone4Config.__post_init__'s layer_types."""
    n = cfg.get("num_hidden_layers", 32)
    if cfg.get("layer_types") is not None:
        return list(cfg["layer_types"])
    pattern = 0 if sliding_window(cfg) is None else cfg.get("sliding_window_pattern", 4)
    if not isinstance(pattern, int) or pattern == 0:
        raise ValueError(f"sliding_window_pattern {pattern!r} (sliding_window {sliding_window(cfg)!r}) without layer_types: "
                         "(i + 1) % pattern fails in Exaone4Config")
    return ["sliding_attention" if (i + 1) % pattern != 0 else "full_attention" for i in range(n)]


def rotates(cfg, i):
    """Exaone4Attention.forward: apply_rotary_pos_emb when self.sliding_window is None or self.is_sliding."""
    return sliding_window(cfg) is None or layer_types(cfg)[i] == "sliding_attention"


def rope_cfg(cfg):
    """The config as rope.py reads it: EXAONE 4's head_dim, rope_theta 10000 where neither layout gives it."""
    rp = cfg.get("rope_parameters") or {}
    if rp.get("partial_rotary_factor", cfg.get("partial_rotary_factor", 1.0)) != 1.0:
        raise ValueError("partial_rotary_factor: Exaone4RotaryEmbedding's default kind ignores it, the scaled kinds read it")
    out = {k: v for k, v in cfg.items() if k != "partial_rotary_factor"}
    out.update(head_dim=head_dim(cfg), max_position_embeddings=cfg.get("max_position_embeddings", 2048))
    if cfg.get("rope_parameters") is not None:
        out["rope_parameters"] = dict({"rope_theta": 10000.0}, **cfg["rope_parameters"])
    return out


def forward(cfg, P, ids, calls=None, rope_on_full=False, input_norms=False, sliding=None):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: Exaone4ForCausalLM's state_dict names
    (model.…, lm_head.weight when untied)."""
    if cfg["model_type"] != "exaone4":
        raise ValueError(cfg["model_type"])
    ids = np.asarray(ids)
    b, t = ids.shape
    n = cfg.get("num_hidden_layers", 32)
    nh = cfg.get("num_attention_heads", 32)
    nkv = cfg.get("num_key_value_heads", 32)
    hd = head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1e-5)
    act = nn.ACT[cfg.get("hidden_act", "silu")]
    norm = lambda x, w: nn.rms_norm(x, w, eps)
    kinds = layer_types(cfg)
    window = sliding_window(cfg) if sliding is None else sliding
    rc = rope_cfg(cfg)
    if rope.parameters(rc)["rope_type"] in ("dynamic", "longrope", "su"):
        raise ValueError("dynamic / longrope: state-dependent in transformers' cache, not followed here")
    cos_all, sin_all = rope.cos_sin(rc, np.arange(t))
    cache = [([], []) for _ in range(n)]
    out = []
    for start, end in alibi.spans(t, calls):
        cos, sin = cos_all[start:end], sin_all[start:end]
        h = P["model.embed_tokens.weight"][ids[:, start:end]]
        for i in range(n):
            p = f"model.layers.{i}."
            a, m = p + "self_attn.", p + "mlp."
            x = norm(h, P[p + "post_attention_layernorm.weight"]) if input_norms else h
            q = norm(nn.heads(nn.linear(x, P[a + "q_proj.weight"]), nh, hd), P[a + "q_norm.weight"])
            k = norm(nn.heads(nn.linear(x, P[a + "k_proj.weight"]), nkv, hd), P[a + "k_norm.weight"])
            v = nn.heads(nn.linear(x, P[a + "v_proj.weight"]), nkv, hd)
            if rotates(cfg, i) or rope_on_full:
                q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
            cache[i][0].append(k)
            cache[i][1].append(v)
            slides = kinds[i] == "sliding_attention"
            mask = nn.causal(end - start, end, window=window if slides else None)
            o = nn.linear(nn.merge(nn.attention(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), hd ** -0.5,
                                                mask)), P[a + "o_proj.weight"])
            if input_norms:
                h = h + o
                x = norm(h, P[p + "post_feedforward_layernorm.weight"])
                h = h + nn.linear(act(nn.linear(x, P[m + "gate_proj.weight"])) * nn.linear(x, P[m + "up_proj.weight"]),
                                  P[m + "down_proj.weight"])
                continue
            h = h + norm(o, P[p + "post_attention_layernorm.weight"])
            f = nn.linear(act(nn.linear(h, P[m + "gate_proj.weight"])) * nn.linear(h, P[m + "up_proj.weight"]),
                          P[m + "down_proj.weight"])
            h = h + norm(f, P[p + "post_feedforward_layernorm.weight"])
        out.append(norm(h, P["model.norm.weight"]))
    h = np.concatenate(out, 1)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T
