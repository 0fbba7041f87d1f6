"""Arcee AFM (model_type arcee, ArceeForCausalLM: arcee-ai/AFM-4.5B, AFM-4.5B-Base), float64 numpy, written from
transformers' models/arcee/modular_arcee.py (4.x: ArceeConfig(LlamaConfig) with rope_theta / rope_scaling; 5.x: the
@strict ArceeConfig with rope_parameters) and the generated modeling_arcee.py / configuration_arcee.py:

- ArceeConfig: vocab 32000, hidden 2560, intermediate 18432, 32 layers, 32 heads, num_key_value_heads None -> the number
  of heads, head_dim None -> hidden // heads, hidden_act "relu2", max positions 4096, rms_norm_eps 1e-5, pad None,
  bos 128000, eos 128001, untied, rope_theta 10000 (rope_scaling / rope_parameters: any kind modeling_rope_utils knows;
  the class documents default and yarn), attention_bias False, mlp_bias False.
- ArceeForCausalLM = LlamaForCausalLM: embed_tokens, one rotary cos / sin for all layers, the layers, norm (ArceeRMSNorm =
  LlamaRMSNorm: x * rsqrt(mean(x²) + eps) * w), lm_head (untied by default); no logit or embedding scale.
- ArceeDecoderLayer = LlamaDecoderLayer: h + attn(input_layernorm(h)), then h + mlp(post_attention_layernorm(h)).
- ArceeAttention = LlamaAttention: q / k / v / o_proj all biased iff attention_bias; GQA by repeat_kv; scaling
  head_dim ** -0.5; causal softmax. ArceeRotaryEmbedding = LlamaRotaryEmbedding: the rope kind's inv_freq (yarn's blend of
  interpolated and extrapolated frequencies) and its attention factor times cos and sin; rotate_half over whole heads.
- ArceeMLP = NemotronMLP: down_proj(act(up_proj(x))), NOT gated (no gate_proj), both biased iff mlp_bias; ACT2FN["relu2"]
  = ReLUSquaredActivation: square(relu(x)).

vLLM's models/arcee.py agrees (LlamaModel's layers with ArceeMLP: up_proj -> ReLUSquaredActivation -> down_proj).

forward(..., calls=[...]) runs the sequence as generate runs it through the cache. The keyword arguments activation and
scaling give deliberately wrong readings for selfcheck / make_fixtures (ReLU instead of relu², the rope settings'
scaling dropped)."""
import decoders
import nemotron
import nn

KINDS = ("arcee",)


def head_dim(cfg):
    """ArceeConfig (both versions): head_dim, None or absent -> hidden_size // num_attention_heads."""
    return cfg.get("head_dim") or cfg.get("hidden_size", 2560) // cfg.get("num_attention_heads", 32)


def kv_heads(cfg):
    return cfg.get("num_key_value_heads") or cfg.get("num_attention_heads", 32)


def rope_cfg(cfg, scaling=True):
    """The config as rope.py reads it (rope_theta 10000 by default, whole heads); without scaling, the default kind."""
    out = dict(cfg, head_dim=head_dim(cfg))
    if not scaling:
        out.pop("rope_scaling", None)
        if out.get("rope_parameters") is not None:
            out["rope_parameters"] = {"rope_type": "default", "rope_theta": out["rope_parameters"].get("rope_theta", 10000.0)}
    return out


def forward(cfg, P, ids, calls=None, activation="relu2", scaling=True):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: ArceeForCausalLM's state_dict names."""
    if cfg["model_type"] not in KINDS:
        raise ValueError(cfg["model_type"])
    if cfg.get("hidden_act", "relu2") != "relu2":
        raise ValueError(f"hidden_act {cfg.get('hidden_act')!r}: the fixtures follow AFM's relu2")
    eps = cfg.get("rms_norm_eps", 1e-5)
    rms = lambda x, key: nn.rms_norm(x, P[key + ".weight"], eps)   # noqa: E731
    return nemotron.plain_mlp_decoder(cfg, P, ids, calls, rms, nemotron.relu2 if activation == "relu2" else nn.relu,
                                      rope_cfg(cfg, scaling), cfg.get("num_attention_heads", 32), kv_heads(cfg), head_dim(cfg))


def tensor_names(cfg):
    """ArceeForCausalLM's state_dict names with shapes (lm_head.weight only when untied)."""
    c, v, nh, nkv, hd, f = (cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], kv_heads(cfg), head_dim(cfg),
                            cfg["intermediate_size"])
    ab, mb = cfg.get("attention_bias", False), cfg.get("mlp_bias", False)
    out = {"model.embed_tokens.weight": (v, c), "model.norm.weight": (c,)}
    if not cfg.get("tie_word_embeddings", False):
        out["lm_head.weight"] = (v, c)
    for i in range(cfg["num_hidden_layers"]):
        p, m = f"model.layers.{i}.", f"model.layers.{i}.mlp."
        out.update(decoders.layer_names(p, c, nh, nkv, hd, ab))
        out[m + "up_proj.weight"] = (f, c)
        out[m + "down_proj.weight"] = (c, f)
        if mb:
            out[m + "up_proj.bias"] = (f,)
            out[m + "down_proj.bias"] = (c,)
    return out
