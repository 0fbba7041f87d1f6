"""BLOOM (bigscience/bloom-560m … bloom, bloomz), following transformers/models/bloom/modeling_bloom.py (BloomForCausalLM):
BloomModel.forward: word_embeddings, word_embeddings_layernorm (a LayerNorm with bias: BLOOM normalizes the embeddings), the
alibi of build_alibi_tensor over the attention mask (alibi.py), the blocks, ln_f; lm_head tied to word_embeddings (no bias).
BloomBlock: input_layernorm; the residual is the block's input (apply_residual_connection_post_layernorm false; true would
take the normalized input — followed here too); BloomAttention: query_key_value (bias) viewed as (B, T, n_head, 3, head_dim),
i.e. the rows interleave per head [q_h | k_h | v_h]; scores = alibi.baddbmm(q, kᵀ, beta=1, alpha=1/sqrt(head_dim)) — alibi
+ q·k / sqrt(head_dim) — plus the causal mask, softmax in float32, dense (bias), + residual; post_attention_layernorm;
BloomMLP: dense_4h_to_h(bloom_gelu(dense_h_to_4h(x))) + residual, 4·hidden_size wide whatever n_inner says, bloom_gelu
x · 0.5 · (1 + tanh(0.79788456 · x · (1 + 0.044715 x²))) — the tanh GELU with sqrt(2/π) written to 8 digits (here as
written). Older releases scale the scores by 1/layer_number and the softmax input back by layer_number: the same in exact
arithmetic. pretraining_tp > 1 with slow_but_exact sums the dense / dense_4h_to_h slices WITHOUT their biases (not
followed: refused here). The names are the base model's (bloom-560m's model.safetensors: word_embeddings.weight, h.0.…,
ln_f.weight, no transformer. prefix, no lm_head.weight); the BloomForCausalLM layout (transformer.…) is read too.

forward(..., calls=[...]) runs the sequence as generate runs it through the cache: one call per length, each call's
queries over all keys so far, the alibi built from that call's attention mask (past + new keys: slope · j)."""
import math

import numpy as np

import alibi
import nn


def bloom_gelu(x):
    """modeling_bloom.bloom_gelu_forward, with its 8-digit sqrt(2/π)."""
    return x * 0.5 * (1.0 + np.tanh(0.79788456 * x * (1 + 0.044715 * x * x)))


def params(P):
    """The base model's names: BloomForCausalLM's transformer. prefix removed where it is there."""
    return {(k[len("transformer."):] if k.startswith("transformer.") else k): v for k, v in P.items()}


def forward(cfg, P, ids, calls=None, form="hf", slopes=None, layout="interleaved"):
    """ids (B, T) -> (last_hidden_state after ln_f, logits (B, T, V)). slopes / layout override the model's (selfcheck)."""
    if cfg.get("pretraining_tp", 1) > 1 and cfg.get("slow_but_exact"):
        raise ValueError("pretraining_tp > 1 with slow_but_exact drops the dense biases: not followed")
    P = params(P)
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["hidden_size"], cfg["n_head"]
    hd = c // nh
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    post = cfg.get("apply_residual_connection_post_layernorm", False)
    slopes = alibi.bloom_slopes(nh) if slopes is None else slopes
    ln = lambda name, x: nn.layer_norm(x, P[name + ".weight"], P[name + ".bias"], eps)
    cache = [([], []) for _ in range(cfg["n_layer"])]
    out = []
    for start, end in alibi.spans(t, calls):
        h = ln("word_embeddings_layernorm", P["word_embeddings.weight"][ids[:, start:end]])
        bias = alibi.bias("bloom", slopes, start, end, form)
        for i in range(cfg["n_layer"]):
            p = f"h.{i}."
            x = ln(p + "input_layernorm", h)
            a = p + "self_attention."
            qkv = nn.linear(x, P[a + "query_key_value.weight"], P[a + "query_key_value.bias"])
            if layout == "interleaved":
                qkv = qkv.reshape(b, end - start, nh, 3, hd)
                q, k, v = (qkv[:, :, :, s].transpose(0, 2, 1, 3) for s in range(3))
            else:                                      # a wrong reading: [q | k | v] blocks (selfcheck)
                q, k, v = (nn.heads(qkv[..., s * c:(s + 1) * c], nh, hd) for s in range(3))
            cache[i][0].append(k)
            cache[i][1].append(v)
            o = alibi.attend(q, np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2), 1.0 / math.sqrt(hd), bias)
            h = nn.linear(nn.merge(o), P[a + "dense.weight"], P[a + "dense.bias"]) + (x if post else h)
            x = ln(p + "post_attention_layernorm", h)
            m = p + "mlp."
            f = nn.linear(bloom_gelu(nn.linear(x, P[m + "dense_h_to_4h.weight"], P[m + "dense_h_to_4h.bias"])),
                          P[m + "dense_4h_to_h.weight"], P[m + "dense_4h_to_h.bias"])
            h = f + (x if post else h)
        out.append(ln("ln_f", h))
    h = np.concatenate(out, 1)
    return h, h @ P["word_embeddings.weight"].T
