"""MPT (mosaicml/mpt-7b, mpt-30b and their -instruct / -chat / -storywriter), following transformers/models/mpt/modeling_mpt.py
(MptForCausalLM): MptModel.forward: wte (no position embedding: learned_pos_emb is not read), the alibi of
build_mpt_alibi_tensor(n_heads, max_seq_len) — called WITHOUT attn_config.alibi_bias_max, so 8 always (alibi.py) — the
blocks, norm_f; lm_head (no bias) tied to wte. MptBlock: norm_1 and norm_2 are LayerNorms whose bias is set to None ("backward
compatibility with weights on the Hub"): no bias; x + attn(norm_1(x)), then + ffn(norm_2(·)). MptAttention: Wqkv and
out_proj without bias whatever no_bias says; Wqkv(x) clamped to ±clip_qkv when set; chunked [q | k | v] along the features
(blocks, not per head); scores q·kᵀ · softmax_scale (attn_config.softmax_scale, default 1/sqrt(d_model / n_heads)), + the
bias's last key_length columns (slope · (j - (L - 1))), the causal mask (dtype minimum), softmax in float32, out_proj.
MptMLP: down_proj(GELU exact(up_proj(x))), 4·d_model wide whatever expansion_ratio says, no biases. Not read by transformers
(refused or ignored by a loader that follows it): attn_config.alibi (the bias is always added), alibi_bias_max, qk_ln,
attn_type (multiquery_attention is accepted by the config but the layer is always multi-head), prefix_lm,
attn_uses_sequence_id, logit_scale, no_bias, expansion_ratio, learned_pos_emb, norm_type, embedding_fraction.

forward(..., calls=[...]) runs the sequence as generate runs it through the cache: one call per length, each call's
queries over all keys so far, the bias relative to that call's last key."""
import math

import numpy as np

import alibi
import nn


def forward(cfg, P, ids, calls=None, form="hf", slopes=None, layout="blocks"):
    """ids (B, T) -> (last_hidden_state after norm_f, logits (B, T, V)). slopes / layout override the model's (selfcheck)."""
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["d_model"], cfg["n_heads"]
    hd = c // nh
    ac = cfg.get("attn_config") or {}
    if t > cfg.get("max_seq_len", 2048):
        raise ValueError("MptAttention slices the bias of max_seq_len keys: longer sequences fail in transformers")
    scale = ac.get("softmax_scale") or 1.0 / math.sqrt(c / nh)
    clip = ac.get("clip_qkv")
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    slopes = alibi.mpt_slopes(nh) if slopes is None else slopes
    ln = lambda name, x: nn.layer_norm(x, P[name + ".weight"], 0.0, eps)
    cache = [([], []) for _ in range(cfg["n_layers"])]
    out = []
    for start, end in alibi.spans(t, calls):
        h = P["transformer.wte.weight"][ids[:, start:end]]
        bias = alibi.bias("mpt", slopes, start, end, form)
        for i in range(cfg["n_layers"]):
            p = f"transformer.blocks.{i}."
            qkv = nn.linear(ln(p + "norm_1", h), P[p + "attn.Wqkv.weight"])
            if clip:
                qkv = np.clip(qkv, -clip, clip)
            if layout == "blocks":
                q, k, v = (nn.heads(qkv[..., s * c:(s + 1) * c], nh, hd) for s in range(3))
            else:                                      # a wrong reading: per-head [q_h | k_h | v_h] (selfcheck)
                qkv = qkv.reshape(b, end - start, nh, 3, hd)
                q, k, v = (qkv[:, :, :, s].transpose(0, 2, 1, 3) for s in range(3))
            cache[i][0].append(k)
            cache[i][1].append(v)
            o = alibi.attend(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), scale, bias)
            h = h + nn.linear(nn.merge(o), P[p + "attn.out_proj.weight"])
            x = ln(p + "norm_2", h)
            h = h + nn.linear(nn.gelu(nn.linear(x, P[p + "ffn.up_proj.weight"])), P[p + "ffn.down_proj.weight"])
        out.append(ln("transformer.norm_f", h))
    h = np.concatenate(out, 1)
    return h, h @ P["transformer.wte.weight"].T
