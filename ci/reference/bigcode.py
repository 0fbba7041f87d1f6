"""GPT-BigCode (StarCoder, SantaCoder, tiny_starcoder), following transformers/models/gpt_bigcode/modeling_gpt_bigcode.py
(GPTBigCodeForCausalLM): GPTBigCodeModel.forward (wte + wpe at positions 0..T-1, the blocks, ln_f), GPTBigCodeBlock (pre-LN:
x + attn(ln_1(x)), then x + mlp(ln_2(x))), GPTBigCodeAttention with multi_query (c_attn, an nn.Linear [out, in], splits
into the query (n_embd) and one key and one value head (head_dim each) shared by every query head; scores scaled by
head_dim**-0.5 when scale_attn_weights — the layer-index unscaling of scale_attention_softmax_in_fp32 cancels out in
exact arithmetic; causal), c_proj; GPTBigCodeMLP c_proj(act(c_fc(x))) with activation_function gelu_pytorch_tanh; lm_head
tied to wte."""
import numpy as np

import nn


def forward(cfg, P, ids):
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["n_embd"], cfg["n_head"]
    hd = c // nh
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = nn.ACT[cfg.get("activation_function", "gelu_pytorch_tanh")]
    mask = nn.causal(t)
    h = P["transformer.wte.weight"][ids] + P["transformer.wpe.weight"][np.arange(t)][None]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        x = nn.layer_norm(h, P[p + "ln_1.weight"], P[p + "ln_1.bias"], eps)
        qkv = nn.linear(x, P[p + "attn.c_attn.weight"], P[p + "attn.c_attn.bias"])
        q = nn.heads(qkv[..., :c], nh, hd)
        k = nn.heads(qkv[..., c:c + hd], 1, hd)
        v = nn.heads(qkv[..., c + hd:], 1, hd)
        scale = hd ** -0.5 if cfg.get("scale_attn_weights", True) else 1.0
        h = h + nn.linear(nn.merge(nn.attention(q, k, v, scale, mask)), P[p + "attn.c_proj.weight"], P[p + "attn.c_proj.bias"])
        x = nn.layer_norm(h, P[p + "ln_2.weight"], P[p + "ln_2.bias"], eps)
        h = h + nn.linear(act(nn.linear(x, P[p + "mlp.c_fc.weight"], P[p + "mlp.c_fc.bias"])), P[p + "mlp.c_proj.weight"],
                          P[p + "mlp.c_proj.bias"])
    h = nn.layer_norm(h, P["transformer.ln_f.weight"], P["transformer.ln_f.bias"], eps)
    return h, h @ P["transformer.wte.weight"].T
