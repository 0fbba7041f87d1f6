"""GPT-Neo (EleutherAI/gpt-neo-125m, -1.3B, -2.7B and their fine-tunes), following
transformers/models/gpt_neo/modeling_gpt_neo.py (GPTNeoForCausalLM) and configuration_gpt_neo.py (GPTNeoConfig):

- GPTNeoConfig: attribute_map num_attention_heads -> num_heads, num_hidden_layers -> num_layers; attention_types, e.g.
  [[["global", "local"], 6]], expanded by expand_attention_types_params to one type per layer (each item's list repeated
  item[1] times: global, local, global, …) and refused unless it gives num_layers types; the config.json that 4.x writes
  also holds that expansion as attention_layers, which PretrainedConfig.__init__ sets after GPTNeoConfig computed its own,
  so a stored attention_layers wins — here it must equal the expansion (refused otherwise); window_size (256);
  intermediate_size None -> 4 · hidden_size (GPTNeoBlock's inner_dim); activation_function gelu_new; layer_norm_epsilon.
- GPTNeoModel.forward: wte(ids) + wpe(position_ids), positions cache_position (0 .. T-1 for one call, past .. past + n - 1
  through the cache); the blocks; ln_f. GPTNeoForCausalLM: lm_head (no bias) tied to wte.
- GPTNeoBlock: h + attn(ln_1(h)), then h + mlp(ln_2(h)); GPTNeoMLP: c_proj(act(c_fc(x))), both nn.Linear with bias.
- GPTNeoSelfAttention (eager): q_proj, k_proj, v_proj nn.Linear WITHOUT bias, out_proj WITH bias; _attn casts query and
  key to float32 and takes q·kᵀ with NO 1/sqrt(head_dim) scaling (mesh-tensorflow's GPT-Neo does not scale); the mask is
  the buffer `bias` sliced bias[:, :, key_length - query_length : key_length, :key_length], where bias = tril(ones(P, P))
  (P = max_position_embeddings) and for a "local" layer bias ^ tril(bias, -window_size): query i sees key j iff
  j <= i and not j <= i - window_size, i.e. 0 <= i - j <= window_size - 1 (window_size keys, itself included); masked
  scores are replaced by finfo(float32).min (old releases: masked_bias, -1e9) — a weight of exactly 0 in float32, as
  -inf here; softmax in float32, the weights cast to the value dtype, @ v. A sequence longer than P has no mask rows
  (and no wpe rows): refused.
- The buffers attn.attention.bias / attn.attention.masked_bias are persistent=False in current transformers; the
  published EleutherAI files (saved by 4.5) carry them — masked_bias (float32 scalar -1e9) in every layer, bias (uint8,
  (1, 1, P, P), the global causal mask) in the global layers only, as GPTNeoLocalSelfAttention then had no bias buffer —
  and no model reads them. forward never reads them either.

Where transformers computes in float32: q·kᵀ and the softmax (query and key upcast in _attn); everything here is float64.
The flash_attention_2 path (GPTNeoFlashAttention2) is not followed: it passes softmax_scale 1.0 and is_causal but no
window, so its local layers see every earlier key.

forward(..., calls=[...]) runs the sequence as generate runs it through the cache: one call per length, each call's
queries (positions start .. end - 1) over all keys so far, masked by rows start .. end - 1 of the layer's buffer."""
import numpy as np

import alibi
import nn

TYPES = ("global", "local")


def expand(attention_types):
    """GPTNeoConfig.expand_attention_types_params: [[types, n], …] -> types repeated n times, item after item."""
    out = []
    for item in attention_types:
        for _ in range(item[1]):
            out.extend(item[0])
    return out


def attention_layers(cfg):
    """The type of each layer as GPTNeoConfig makes it (attention_types' default [[["global", "local"], 12]])."""
    layers = expand(cfg.get("attention_types", [[["global", "local"], 12]]))
    if len(layers) != cfg["num_layers"]:
        raise ValueError(f"attention_types gives {len(layers)} layers, num_layers is {cfg['num_layers']}")
    if "attention_layers" in cfg and list(cfg["attention_layers"]) != layers:
        raise ValueError(f"attention_layers {cfg['attention_layers']} disagrees with attention_types' {layers}")
    if any(t not in TYPES for t in layers):
        raise ValueError(f"attention types {layers}: only 'global' and 'local' exist (GPTNeoAttention)")
    return layers


def mask(kind, positions, window):
    """GPTNeoSelfAttention's `bias` buffer (P, P) bool: tril(ones), and for a local layer bias ^ tril(bias, -window)."""
    b = np.tril(np.ones((positions, positions), dtype=bool))
    if kind == "local":
        b = np.bitwise_xor(b, np.tril(b, -window))
    return b


def forward(cfg, P, ids, calls=None, scale=1.0, window=None, types=None):
    """ids (B, T) -> (last_hidden_state after ln_f, logits (B, T, V)). P: GPTNeoForCausalLM's state_dict names
    (transformer.…; the buffers may be there: not read). scale / window / types override the model's (selfcheck)."""
    ids = np.asarray(ids)
    b, t = ids.shape
    c, nh = cfg["hidden_size"], cfg["num_heads"]
    hd = c // nh
    if hd * nh != c:
        raise ValueError("hidden_size must be divisible by num_heads")
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = nn.ACT[cfg.get("activation_function", "gelu_new")]
    positions = cfg["max_position_embeddings"]
    if t > positions:
        raise ValueError(f"{t} positions, max_position_embeddings {positions}: no mask or wpe rows past it")
    types = attention_layers(cfg) if types is None else types
    window = cfg.get("window_size", 256) if window is None else window
    masks = {kind: mask(kind, positions, window) for kind in set(types)}
    ln = lambda name, x: nn.layer_norm(x, P[name + ".weight"], P[name + ".bias"], eps)
    cache = [([], []) for _ in types]
    out = []
    for start, end in alibi.spans(t, calls):
        h = P["transformer.wte.weight"][ids[:, start:end]] + P["transformer.wpe.weight"][np.arange(start, end)][None]
        for i, kind in enumerate(types):
            p = f"transformer.h.{i}."
            a = p + "attn.attention."
            x = ln(p + "ln_1", h)
            q = nn.heads(nn.linear(x, P[a + "q_proj.weight"]), nh, hd)
            cache[i][0].append(nn.heads(nn.linear(x, P[a + "k_proj.weight"]), nh, hd))
            cache[i][1].append(nn.heads(nn.linear(x, P[a + "v_proj.weight"]), nh, hd))
            k, v = np.concatenate(cache[i][0], 2), np.concatenate(cache[i][1], 2)
            allowed = masks[kind][start:end, :end]     # bias[..., key_length - query_length : key_length, :key_length]
            o = nn.attention(q, k, v, scale, allowed)
            h = h + nn.linear(nn.merge(o), P[a + "out_proj.weight"], P[a + "out_proj.bias"])
            x = ln(p + "ln_2", h)
            m = p + "mlp."
            h = h + nn.linear(act(nn.linear(x, P[m + "c_fc.weight"], P[m + "c_fc.bias"])), P[m + "c_proj.weight"], P[m + "c_proj.bias"])
        out.append(ln("transformer.ln_f", h))
    h = np.concatenate(out, 1)
    return h, h @ P["transformer.wte.weight"].T
