"""ERNIE 4.5 dense decoder, following transformers 5.x's models/ernie4_5 (float64 numpy):

- configuration_ernie4_5.py (Ernie4_5Config, model_type ernie4_5; baidu/ERNIE-4.5-0.3B-PT, -0.3B-Base-PT): vocab 103424,
  hidden 1024, intermediate 3072, 18 layers, 16 heads over num_key_value_heads 2 (null: as many as the heads), head_dim 128
  (null: hidden_size // heads — the default is 128, not hidden // heads), silu, rms_norm_eps 1e-5, pad 0, bos 1, eos 2,
  tie_word_embeddings True, use_bias False, rope_theta 500000 (4.x argument; 5.x default_theta).
- modular_ernie4_5.py / modeling_ernie4_5.py (Ernie4_5ForCausalLM): Llama's pre-norm layers (input_layernorm →
  self_attn → + residual, post_attention_layernorm → mlp → + residual), RMSNorm, final norm, lm_head (bias-free; the
  embedding table when tied). Ernie4_5Attention: q_proj, k_proj, v_proj AND o_proj biased by use_bias; scaling
  head_dim**-0.5, causal, GQA. Ernie4_5MLP: gate_proj, up_proj, down_proj all biased by use_bias; down(silu(gate) · up).
  Rotary: Llama's inv_freq over the whole head_dim (freqs = position · inv_freq, emb = cat(freqs, freqs)); its own
  apply_rotary_pos_emb takes cos[..., :D/2].repeat_interleave(2) (f0, f0, f1, f1, …) and GLM's interleaved rotate_half
  ((x0, x1, x2, x3, …) → (-x1, x0, -x3, x2, …)), in float32 then cast back: the pairs (2i, 2i + 1) of every head turn by
  position · inv_freq[i] (GLM's rotary over the whole head, no partial factor).

forward(..., calls=[...]) runs the sequence as generate does through the cache. rotation="halves" (Llama's rotate_half on
the same frequencies) is a deliberately wrong reading for selfcheck."""
import numpy as np

import alibi
import nn
import rope

DEFAULT_THETA = 500000.0


def head_dim(cfg):
    """Ernie4_5Config: 128 when absent, hidden_size // num_attention_heads when null."""
    hd = cfg.get("head_dim", 128)
    return cfg.get("hidden_size", 1024) // cfg.get("num_attention_heads", 16) if hd is None else hd


def kv_heads(cfg):
    n = cfg.get("num_key_value_heads", 2)
    return cfg.get("num_attention_heads", 16) if n is None else n


def rope_cfg(cfg):
    """The config as rope.py reads it: ERNIE's head_dim, the whole head rotating, theta 500000 when not given."""
    if cfg.get("model_type") == "ernie4_5_moe":
        raise ValueError("ernie4_5_moe is the mixture-of-experts model, not this one")
    out = dict(cfg, head_dim=head_dim(cfg))
    rp = cfg.get("rope_parameters")
    f = (rp or {}).get("partial_rotary_factor", cfg.get("partial_rotary_factor", 1.0))
    if f != 1.0:
        raise ValueError("partial_rotary_factor: Ernie4_5's apply_rotary_pos_emb multiplies the whole head by cos")
    out["partial_rotary_factor"] = 1.0
    if rp is not None:
        out["rope_parameters"] = dict({"rope_theta": DEFAULT_THETA}, **rp)
    else:
        out["rope_theta"] = cfg.get("rope_theta", DEFAULT_THETA)
    return out


def cos_sin(cfg, positions, seq_len):
    """cos, sin (T, head_dim): frequency i at dims 2i and 2i + 1."""
    return rope.interleaved_cos_sin(rope_cfg(cfg), positions, seq_len)


# x (B, H, T, D) rotated over all D dims: pairs (2i, 2i + 1); "halves" pairs (i, i + D/2) instead (wrong)
turn = rope.apply_interleaved


def forward(cfg, P, ids, calls=None, rotation="interleaved"):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: Ernie4_5ForCausalLM's state_dict names
    (biases where present are applied: use_bias decides which the checkpoint holds)."""
    if cfg["model_type"] != "ernie4_5":
        raise ValueError(cfg["model_type"])
    ids = np.asarray(ids)
    t = ids.shape[1]
    nh, nkv, hd = cfg.get("num_attention_heads", 16), kv_heads(cfg), head_dim(cfg)
    eps = cfg.get("rms_norm_eps", 1e-5)
    act = nn.ACT[cfg.get("hidden_act", "silu")]
    cos_all, sin_all = cos_sin(cfg, np.arange(t), t)
    lin = lambda x, key: nn.linear(x, P[key + ".weight"], P.get(key + ".bias"))
    cache = [([], []) for _ in range(cfg["num_hidden_layers"])]
    out = []
    for start, end in alibi.spans(t, calls):
        cos, sin = cos_all[start:end], sin_all[start:end]
        h = P["model.embed_tokens.weight"][ids[:, start:end]]
        for i in range(cfg["num_hidden_layers"]):
            a, m = f"model.layers.{i}.self_attn.", f"model.layers.{i}.mlp."
            x = nn.rms_norm(h, P[f"model.layers.{i}.input_layernorm.weight"], eps)
            q = turn(nn.heads(lin(x, a + "q_proj"), nh, hd), cos, sin, rotation)
            k = turn(nn.heads(lin(x, a + "k_proj"), nkv, hd), cos, sin, rotation)
            cache[i][0].append(k)
            cache[i][1].append(nn.heads(lin(x, a + "v_proj"), nkv, hd))
            o = nn.attention(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), hd ** -0.5,
                             nn.causal(end - start, end))
            h = h + lin(nn.merge(o), a + "o_proj")
            x = nn.rms_norm(h, P[f"model.layers.{i}.post_attention_layernorm.weight"], eps)
            h = h + lin(act(lin(x, m + "gate_proj")) * lin(x, m + "up_proj"), m + "down_proj")
        out.append(nn.rms_norm(h, P["model.norm.weight"], eps))
    h = np.concatenate(out, 1)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", True) else P["lm_head.weight"]
    return h, h @ head.T
