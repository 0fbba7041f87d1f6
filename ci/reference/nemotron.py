"""NVIDIA Nemotron decoders, following transformers' models/nemotron/modeling_nemotron.py and configuration_nemotron.py
(float64 numpy; NemotronForCausalLM: nvidia/Nemotron-Mini-4B-Instruct, Minitron-4B-Base / Minitron-8B-Base,
Nemotron-4-340B in HF form):

- NemotronConfig: vocab 256000, hidden 6144, intermediate 24576, 32 layers, 48 heads, head_dim as given else
  hidden // heads, num_key_value_heads as given (None stays None: NemotronAttention then fails on it), hidden_act "relu2",
  max positions 4096, norm_eps 1e-5, bos 2, eos 3, untied (tie_word_embeddings False), rope_theta 10000,
  partial_rotary_factor 0.5, attention_bias False, mlp_bias False.
- NemotronModel.forward: embed_tokens, position_ids 0..T-1, one rotary cos/sin for all layers, the layers, norm (a
  NemotronLayerNorm1P); NemotronForCausalLM: lm_head (untied by default), no logit scale.
- NemotronLayerNorm1P: nn.LayerNorm (weight AND bias, eps norm_eps) whose forward calls F.layer_norm with `self.weight + 1`:
  the stored weight is w, the applied one 1 + w. The sum is formed in the parameter's dtype (autocast, when on, casts the
  arguments to its dtype; then F.layer_norm runs with autocast off): in float32 1 + w of a bf16 w is exact but for
  |w| < 2^-16; in a bf16 model it is rounded to bf16 as torch rounds a bf16 add. Here: float64, (x - mean) /
  sqrt(var + eps) * (1 + w) + b.
- NemotronDecoderLayer: Llama's pre-norm sequence: h + attn(input_layernorm(h)), then h + mlp(post_attention_layernorm(h)).
- NemotronAttention: q_proj / k_proj / v_proj / o_proj, each biased iff attention_bias; GQA by repeat_kv; scaling
  1 / sqrt(head_dim); causal; softmax in float32. NemotronRotaryEmbedding: the default rope init of modeling_rope_utils,
  dim = int(head_dim * partial_rotary_factor), inv_freq = 1 / theta^(arange(0, dim, 2) / dim), emb = cat(freqs, freqs);
  apply_rotary_pos_emb: rot_dim = cos.shape[-1], q[..., :rot_dim] rotated by Llama's rotate_half (its own halves of
  the rot_dim slice), q[..., rot_dim:] passed — GPT-NeoX's partial rotary.
- NemotronMLP: down_proj(act(up_proj(x))), NOT gated; up_proj / down_proj biased iff mlp_bias; ACT2FN["relu2"] =
  ReLUSquaredActivation: square(relu(x)).

vLLM's models/nemotron.py agrees (NemotronLayerNorm1P: weight + 1, bias; get_rope with partial_rotary_factor, NeoX style;
NemotronMLP up → act → down with bias=mlp_bias).

forward(..., calls=[...]) runs the sequence as generate runs it through the cache. The keyword arguments one_plus,
activation and rotary give deliberately wrong readings for selfcheck / make_fixtures (weight without the + 1, ReLU
instead of relu², the rotary over the whole head)."""
import numpy as np

import alibi
import nn
import rope


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def rope_cfg(cfg):
    """The config as rope.py reads it: head_dim, partial_rotary_factor (NemotronConfig's default 0.5)."""
    return dict(cfg, head_dim=head_dim(cfg), partial_rotary_factor=cfg.get("partial_rotary_factor", 0.5))


def rotary_dim(cfg):
    return int(head_dim(cfg) * rope_cfg(cfg)["partial_rotary_factor"])


def relu2(x):
    """ReLUSquaredActivation: torch.square(F.relu(x))."""
    return np.square(np.maximum(x, 0.0))


def layer_norm_1p(x, w, b, eps, one_plus=True):
    """NemotronLayerNorm1P: F.layer_norm(x, (C,), w + 1, b, eps)."""
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * ((1.0 + w) if one_plus else w) + b


def forward(cfg, P, ids, calls=None, one_plus=True, activation="relu2", rotary="partial"):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)). P: NemotronForCausalLM's state_dict
    names (model.…, lm_head.weight when untied)."""
    if cfg["model_type"] != "nemotron":
        raise ValueError(cfg["model_type"])
    if cfg.get("hidden_act", "relu2") != "relu2":
        raise ValueError(f"hidden_act {cfg.get('hidden_act')!r}: the fixtures follow Nemotron's relu2")
    eps = cfg.get("norm_eps", 1e-5)
    rc = rope_cfg(cfg) if rotary == "partial" else dict(rope_cfg(cfg), partial_rotary_factor=1.0)
    ln = lambda x, key: layer_norm_1p(x, P[key + ".weight"], P[key + ".bias"], eps, one_plus)   # noqa: E731
    return plain_mlp_decoder(cfg, P, ids, calls, ln, relu2 if activation == "relu2" else nn.relu, rc,
                             cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg))


def plain_mlp_decoder(cfg, P, ids, calls, norm, act, rc, nh, nkv, hd):
    """Llama's pre-norm layers with a plain MLP down_proj(act(up_proj(x))) (NemotronDecoderLayer; Arcee's, whose ArceeMLP is
    NemotronMLP): norm(x, key) the family's norm under a state_dict prefix, rc the config as rope.py reads it (cos / sin
    times the rope kind's attention factor, rotate_half over cos's width of each head), every projection biased where P
    holds a bias. ids (B, T) -> (last_hidden_state after model.norm, logits); calls: the spans a cache would run."""
    ids = np.asarray(ids)
    t = ids.shape[1]
    cos_all, sin_all = rope.cos_sin(rc, np.arange(t))
    cache = [([], []) for _ in range(cfg["num_hidden_layers"])]
    out = []
    for start, end in alibi.spans(t, calls):
        cos, sin = cos_all[start:end], sin_all[start:end]
        h = P["model.embed_tokens.weight"][ids[:, start:end]]
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            a, m = p + "self_attn.", p + "mlp."
            x = norm(h, p + "input_layernorm")
            q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias")), nh, hd)
            k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias")), nkv, hd)
            v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias")), nkv, hd)
            q, k = rope.apply(q, cos, sin), rope.apply(k, cos, sin)
            cache[i][0].append(k)
            cache[i][1].append(v)
            o = nn.attention(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), hd ** -0.5,
                             nn.causal(end - start, end))
            h = h + nn.linear(nn.merge(o), P[a + "o_proj.weight"], P.get(a + "o_proj.bias"))
            x = norm(h, p + "post_attention_layernorm")
            h = h + nn.linear(act(nn.linear(x, P[m + "up_proj.weight"], P.get(m + "up_proj.bias"))),
                              P[m + "down_proj.weight"], P.get(m + "down_proj.bias"))
        out.append(norm(h, "model.norm"))
    h = np.concatenate(out, 1)
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return h, h @ head.T
