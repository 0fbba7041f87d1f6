"""OPT, following transformers/models/opt/modeling_opt.py (OPTForCausalLM): OPTDecoder.forward (embed_tokens; the
learned positions OPTLearnedPositionalEmbedding reads at position + 2 — positions from the attention mask's cumulative
sum minus 1, i.e. 0..T-1 for an unpadded row; no project_in / project_out when word_embed_proj_dim equals hidden_size;
the layers; final_layer_norm when do_layer_norm_before), OPTDecoderLayer with do_layer_norm_before (pre-LN:
residual + self_attn(self_attn_layer_norm(x)), then residual + fc2(act(fc1(final_layer_norm(x))))), OPTAttention
(q_proj(x) · head_dim**-0.5, k_proj, v_proj, out_proj, all with bias by enable_bias; causal), and the lm_head tied to
embed_tokens (no bias)."""
import numpy as np

import nn

OFFSET = 2


def forward(cfg, P, ids):
    """ids (B, T) -> (last_hidden_state after the final norm, logits (B, T, V)); P: OPTForCausalLM's state_dict names."""
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = c // nh
    act = nn.ACT[cfg.get("activation_function", "relu")]
    eps = 1e-5                                         # nn.LayerNorm's default: OPT passes no eps
    d = "model.decoder."
    h = P[d + "embed_tokens.weight"][ids] + P[d + "embed_positions.weight"][np.arange(t) + OFFSET][None]
    mask = nn.causal(t)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{d}layers.{i}."
        x = nn.layer_norm(h, P[p + "self_attn_layer_norm.weight"], P[p + "self_attn_layer_norm.bias"], eps)
        a = p + "self_attn."
        q = nn.heads(nn.linear(x, P[a + "q_proj.weight"], P.get(a + "q_proj.bias")) * hd ** -0.5, nh, hd)
        k = nn.heads(nn.linear(x, P[a + "k_proj.weight"], P.get(a + "k_proj.bias")), nh, hd)
        v = nn.heads(nn.linear(x, P[a + "v_proj.weight"], P.get(a + "v_proj.bias")), nh, hd)
        h = h + nn.linear(nn.merge(nn.attention(q, k, v, 1.0, mask)), P[a + "out_proj.weight"], P.get(a + "out_proj.bias"))
        x = nn.layer_norm(h, P[p + "final_layer_norm.weight"], P[p + "final_layer_norm.bias"], eps)
        h = h + nn.linear(act(nn.linear(x, P[p + "fc1.weight"], P.get(p + "fc1.bias"))), P[p + "fc2.weight"], P.get(p + "fc2.bias"))
    h = nn.layer_norm(h, P[d + "final_layer_norm.weight"], P[d + "final_layer_norm.bias"], eps)
    return h, h @ P[d + "embed_tokens.weight"].T
