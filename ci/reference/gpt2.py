"""GPT-2, following transformers/models/gpt2/modeling_gpt2.py: GPT2Model.forward (wte + wpe, blocks, ln_f),
GPT2Block.forward (pre-LN: ln_1 → attn → +residual, ln_2 → mlp → +residual), GPT2Attention (c_attn Conv1D
split into q, k, v along the last dimension; scores / sqrt(head_dim) since scale_attn_weights; causal;
c_proj), GPT2MLP (c_fc → ACT2FN[activation_function] → c_proj), GPT2LMHeadModel (lm_head tied to wte)."""
import numpy as np

import nn


def forward(cfg, P, ids):
    """ids (B, T) -> (last_hidden_state (B, T, C), logits (B, T, V)). P: name -> float64 array, names as
    GPT2LMHeadModel's state_dict without the 'transformer.' prefix (plus 'lm_head.weight' when untied)."""
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["n_embd"], cfg["n_head"]
    hs = c // nh
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = nn.ACT[cfg.get("activation_function", "gelu_new")]
    h = P["wte.weight"][ids] + P["wpe.weight"][np.arange(t)][None]
    mask = nn.causal(t)
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        x = nn.layer_norm(h, P[p + "ln_1.weight"], P[p + "ln_1.bias"], eps)
        qkv = nn.conv1d(x, P[p + "attn.c_attn.weight"], P[p + "attn.c_attn.bias"])
        q, k, v = (nn.heads(qkv[..., j * c:(j + 1) * c], nh, hs) for j in range(3))
        a = nn.merge(nn.attention(q, k, v, hs ** -0.5, mask))
        h = h + nn.conv1d(a, P[p + "attn.c_proj.weight"], P[p + "attn.c_proj.bias"])
        x = nn.layer_norm(h, P[p + "ln_2.weight"], P[p + "ln_2.bias"], eps)
        x = act(nn.conv1d(x, P[p + "mlp.c_fc.weight"], P[p + "mlp.c_fc.bias"]))
        h = h + nn.conv1d(x, P[p + "mlp.c_proj.weight"], P[p + "mlp.c_proj.bias"])
    h = nn.layer_norm(h, P["ln_f.weight"], P["ln_f.bias"], eps)
    head = P["wte.weight"] if cfg.get("tie_word_embeddings", True) else P["lm_head.weight"]
    return h, h @ head.T
