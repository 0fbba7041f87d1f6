"""OPT, following transformers/models/opt/modeling_opt.py (OPTForCausalLM): OPTDecoder.forward (embed_tokens; the
learned positions OPTLearnedPositionalEmbedding reads at position + 2 — positions from the attention mask's cumulative
sum minus 1, i.e. 0..T-1 for an unpadded row; project_in after embed_tokens and project_out after the layers (bias-free
Linear layers) when word_embed_proj_dim differs from hidden_size, as opt-350m has them; the layers; final_layer_norm
only when do_layer_norm_before), OPTDecoderLayer with do_layer_norm_before (pre-LN: residual +
self_attn(self_attn_layer_norm(x)), then residual + fc2(act(fc1(final_layer_norm(x))))) or without it (opt-350m's
post-LN: self_attn_layer_norm(residual + self_attn(x)), then final_layer_norm(residual + fc2(act(fc1(x))))), OPTAttention
(q_proj(x) · head_dim**-0.5, k_proj, v_proj, out_proj, all with bias by enable_bias; causal), and the lm_head tied to
embed_tokens (no bias)."""
import numpy as np

import nn

OFFSET = 2


def forward(cfg, P, ids):
    """ids (B, T) -> (last_hidden_state, logits (B, T, V)); P: OPTForCausalLM's state_dict names. last_hidden_state is
    OPTDecoder's output: after the final norm (pre-LN) and project_out (when word_embed_proj_dim differs from hidden_size)."""
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = c // nh
    act = nn.ACT[cfg.get("activation_function", "relu")]
    eps = 1e-5                                         # nn.LayerNorm's default: OPT passes no eps
    pre = cfg.get("do_layer_norm_before", True)        # False: opt-350m's post-LN layers
    d = "model.decoder."
    h = P[d + "embed_tokens.weight"][ids]
    if d + "project_in.weight" in P:                   # word_embed_proj_dim != hidden_size: Linear(E, C, bias=False)
        h = nn.linear(h, P[d + "project_in.weight"])
    h = h + P[d + "embed_positions.weight"][np.arange(t) + OFFSET][None]
    mask = nn.causal(t)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{d}layers.{i}."
        ln1 = lambda x: nn.layer_norm(x, P[p + "self_attn_layer_norm.weight"], P[p + "self_attn_layer_norm.bias"], eps)
        ln2 = lambda x: nn.layer_norm(x, P[p + "final_layer_norm.weight"], P[p + "final_layer_norm.bias"], eps)
        x = ln1(h) if pre else h
        a = p + "self_attn."
        q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias")) * hd ** -0.5, nh, hd)
        k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias")), nh, hd)
        v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias")), nh, hd)
        h = h + nn.linear(nn.merge(nn.attention(q, k, v, 1.0, mask)), P[a + "out_proj.weight"], P.get(a + "out_proj.bias"))
        if not pre:
            h = ln1(h)
        x = ln2(h) if pre else h
        h = h + nn.linear(act(nn.linear(x, P[p + "fc1.weight"], P.get(p + "fc1.bias"))), P[p + "fc2.weight"], P.get(p + "fc2.bias"))
        if not pre:
            h = ln2(h)
    if pre:                                            # final_layer_norm exists only with do_layer_norm_before
        h = nn.layer_norm(h, P[d + "final_layer_norm.weight"], P[d + "final_layer_norm.bias"], eps)
    if d + "project_out.weight" in P:                  # Linear(C, E, bias=False)
        h = nn.linear(h, P[d + "project_out.weight"])
    return h, h @ P.get("lm_head.weight", P[d + "embed_tokens.weight"]).T
