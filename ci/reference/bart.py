"""The BART family (BART, mBART, Marian, Pegasus; M2M100 / NLLB's layers, with its positions from m2m100.py), following transformers' models/bart/modeling_bart.py,
models/mbart/modeling_mbart.py, models/marian/modeling_marian.py and models/pegasus/modeling_pegasus.py (4.x; 5.x
computes the same):

- shift_tokens_right (bart, marian, pegasus): decoder ids = [decoder_start_token_id, ids[:, :-1]], -100 -> pad
  (BartModel.forward makes them from input_ids when decoder_input_ids is not given, as
  BartForSequenceClassification does).
- BartLearnedPositionalEmbedding / MBartLearnedPositionalEmbedding: an nn.Embedding of
  (max_position_embeddings + 2, d_model), looked up at arange(past, past + T) + offset 2; one table per stack
  (`model.encoder.embed_positions.weight`, `model.decoder.embed_positions.weight`).
- MarianSinusoidalPositionalEmbedding / PegasusSinusoidalPositionalEmbedding._init_weight: position_enc[pos, j] =
  pos / 10000^(2 (j // 2) / dim) in float64 numpy, then sin of the even columns into [:, 0:dim/2] and cos of the odd
  columns into [:, dim/2:] (not interleaved: row pos is [sin(pos w_0) .. sin(pos w_{h-1}), cos(pos w_0) ..
  cos(pos w_{h-1})] with w_i = 10000^(-2i/dim)), stored as a float32 parameter (torch.FloatTensor); looked up at
  arange(past, past + T), no offset.
- BartScaledWordEmbedding (4.4x+) or `embed_tokens(ids) * self.embed_scale` (Marian, Pegasus): × sqrt(d_model) when
  scale_embedding, else × 1.0; then + positions.
- BartEncoder / BartDecoder: layernorm_embedding after the sum (bart, mbart; none in marian, pegasus); a final
  `layer_norm` after the layers (mbart, pegasus; none in bart, marian).
- BartEncoderLayer / BartDecoderLayer (bart, marian): post-LN, x = LN(x + sublayer(x)) for self-attention,
  cross-attention (decoder) and fc2(act(fc1 x)); MBartEncoderLayer / MBartDecoderLayer (mbart, pegasus): pre-LN,
  x = x + sublayer(LN(x)), norms named self_attn_layer_norm, encoder_attn_layer_norm, final_layer_norm either way.
- BartAttention: q, k, v, out_proj all with bias; q · head_dim**-0.5 (4.x scales q_proj's output, 5.x's
  eager_attention_forward the scores: the same product); the encoder masks padded keys (attention_mask), the decoder's
  self-attention is causal (no decoder_attention_mask given), its cross-attention masks the encoder's padded keys.
- ACT2FN[activation_function]: "gelu" exact (erf) GELU, "relu", "swish" = SiLU.
- BartForConditionalGeneration / MBartForConditionalGeneration / MarianMTModel / PegasusForConditionalGeneration:
  logits = lm_head(h) + final_logits_bias, lm_head tied to model.shared (no d_model**-0.5 rescaling, unlike T5).
- M2M100 / NLLB (models/m2m_100/modeling_m2m_100.py): M2M100ScaledWordEmbedding (x sqrt(d_model) when scale_embedding)
  + M2M100SinusoidalPositionalEmbedding (m2m100.py: fairseq's table, offset 2, read at create_position_ids_from_input_ids),
  no layernorm_embedding, MBart's pre-LN layers (M2M100EncoderLayer / M2M100DecoderLayer are copies), a final layer_norm
  per stack, M2M100Attention = BartAttention; M2M100ForConditionalGeneration: lm_head (bias=False) tied to model.shared,
  no final_logits_bias.
- BartForSequenceClassification: the decoder's last hidden state at the last eos_token_id of each row of
  input_ids (every row must hold the same number of eos), then BartClassificationHead: out_proj(tanh(dense(x))).
Everything in float64, including what transformers computes in float32 in an fp32 model (nothing beyond the model
dtype here: LayerNorm and the eager softmax run in the hidden dtype); the sinusoidal table is the float32 one
transformers holds."""
import math

import numpy as np

import m2m100
import nn

# which parts each model_type has (its modeling file decides, not the config's legacy flags)
KINDS = {
    "bart": {"pre_ln": False, "final_norm": False, "ln_embedding": True, "sinusoidal": False, "logits_bias": True},
    "mbart": {"pre_ln": True, "final_norm": True, "ln_embedding": True, "sinusoidal": False, "logits_bias": True},
    "marian": {"pre_ln": False, "final_norm": False, "ln_embedding": False, "sinusoidal": True, "logits_bias": True},
    "pegasus": {"pre_ln": True, "final_norm": True, "ln_embedding": False, "sinusoidal": True, "logits_bias": True},
    # M2M100 / NLLB: mBART's pre-LN layers and final layer_norm, no layernorm_embedding, fairseq's sinusoidal positions
    # (m2m100.py: a table with offset 2 read at create_position_ids_from_input_ids, never stored), no final_logits_bias
    "m2m_100": {"pre_ln": True, "final_norm": True, "ln_embedding": False, "sinusoidal": True, "logits_bias": False,
                "fairseq": True},
}
LEARNED_OFFSET = 2
EPS = 1e-5                     # nn.LayerNorm's default: every norm of these models is nn.LayerNorm(d_model)


def shift_tokens_right(ids, pad_token_id, decoder_start_token_id):
    """modeling_bart.shift_tokens_right."""
    ids = np.asarray(ids)
    out = np.zeros_like(ids)
    out[:, 1:] = ids[:, :-1]
    out[:, 0] = decoder_start_token_id
    return np.where(out == -100, pad_token_id, out)


def sinusoidal_table(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding._init_weight (Pegasus's is a copy), as the float32 table it stores,
    returned as float64 values."""
    position_enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = np.empty((n_pos, dim), dtype=np.float32)
    sentinel = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    out[:, 0:sentinel] = np.sin(position_enc[:, 0::2]).astype(np.float32)
    out[:, sentinel:] = np.cos(position_enc[:, 1::2]).astype(np.float32)
    return out.astype(np.float64)


def _positions(cfg, P, stack, t):
    name = f"model.{stack}.embed_positions.weight"
    if KINDS[cfg["model_type"]]["sinusoidal"]:
        table = P[name] if name in P else sinusoidal_table(cfg["max_position_embeddings"], cfg["d_model"])
        return table[np.arange(t)]
    return P[name][np.arange(t) + LEARNED_OFFSET]


def _embed(cfg, P, stack, ids):
    scale = math.sqrt(cfg["d_model"]) if cfg.get("scale_embedding", False) else 1.0
    if KINDS[cfg["model_type"]].get("fairseq"):         # M2M100: positions from the ids (pads read the zero row)
        pos = m2m100.positions(cfg, ids)
    else:
        pos = _positions(cfg, P, stack, ids.shape[1])[None]
    h = P["model.shared.weight"][ids] * scale + pos
    if KINDS[cfg["model_type"]]["ln_embedding"]:
        h = _ln(P, f"model.{stack}.layernorm_embedding", h)
    return h


def _ln(P, p, x):
    return nn.layer_norm(x, P[p + ".weight"], P[p + ".bias"], EPS)


def _attn(P, p, x, kv, nh, allowed):
    d = x.shape[-1] // nh
    q = nn.heads(nn.linear(x, P[p + "q_proj.weight"], P[p + "q_proj.bias"]), nh, d)
    k = nn.heads(nn.linear(kv, P[p + "k_proj.weight"], P[p + "k_proj.bias"]), nh, d)
    v = nn.heads(nn.linear(kv, P[p + "v_proj.weight"], P[p + "v_proj.bias"]), nh, d)
    o = nn.attention(q, k, v, d ** -0.5, allowed)
    return nn.linear(nn.merge(o), P[p + "out_proj.weight"], P[p + "out_proj.bias"])


def _ffn(cfg, P, p, x):
    act = nn.ACT[cfg["activation_function"]]
    return nn.linear(act(nn.linear(x, P[p + "fc1.weight"], P[p + "fc1.bias"])), P[p + "fc2.weight"], P[p + "fc2.bias"])


def _sub(pre_ln, P, norm, h, f):
    """One residual sublayer: pre-LN h + f(LN(h)) (MBart*Layer) or post-LN LN(h + f(h)) (Bart*Layer)."""
    if pre_ln:
        return h + f(_ln(P, norm, h))
    return _ln(P, norm, h + f(h))


def encode(cfg, P, ids, mask=None):
    """The encoder stack -> encoder_last_hidden_state (B, T, C). mask: optional (B, T) 0/1 attention_mask."""
    ids = np.asarray(ids)
    kind = KINDS[cfg["model_type"]]
    h = _embed(cfg, P, "encoder", ids)
    allowed = None if mask is None else nn.padding(mask)
    nh = cfg["encoder_attention_heads"]
    for i in range(cfg["encoder_layers"]):
        p = f"model.encoder.layers.{i}."
        h = _sub(kind["pre_ln"], P, p + "self_attn_layer_norm", h, lambda x: _attn(P, p + "self_attn.", x, x, nh, allowed))
        h = _sub(kind["pre_ln"], P, p + "final_layer_norm", h, lambda x: _ffn(cfg, P, p, x))
    if kind["final_norm"]:
        h = _ln(P, "model.encoder.layer_norm", h)
    return h


def decode(cfg, P, enc, dec_ids, enc_mask=None):
    """The decoder stack -> its last hidden state (B, Tt, C); enc_mask masks the encoder's padded keys."""
    dec_ids = np.asarray(dec_ids)
    kind = KINDS[cfg["model_type"]]
    h = _embed(cfg, P, "decoder", dec_ids)
    causal = nn.causal(dec_ids.shape[1])
    cross = None if enc_mask is None else nn.padding(enc_mask)
    nh = cfg["decoder_attention_heads"]
    for i in range(cfg["decoder_layers"]):
        p = f"model.decoder.layers.{i}."
        h = _sub(kind["pre_ln"], P, p + "self_attn_layer_norm", h, lambda x: _attn(P, p + "self_attn.", x, x, nh, causal))
        h = _sub(kind["pre_ln"], P, p + "encoder_attn_layer_norm", h, lambda x: _attn(P, p + "encoder_attn.", x, enc, nh, cross))
        h = _sub(kind["pre_ln"], P, p + "final_layer_norm", h, lambda x: _ffn(cfg, P, p, x))
    if kind["final_norm"]:
        h = _ln(P, "model.decoder.layer_norm", h)
    return h


def lm_logits(P, h):
    """lm_head (tied to model.shared unless the folder holds lm_head.weight) + final_logits_bias (1, V) where the model
    has one (M2M100ForConditionalGeneration has none: its lm_head is a bias-free nn.Linear and nothing is added)."""
    w = P["lm_head.weight"] if "lm_head.weight" in P else P["model.shared.weight"]
    return h @ w.T + P["final_logits_bias"] if "final_logits_bias" in P else h @ w.T


def eos_pool(cfg, ids, h):
    """BartForSequenceClassification: hidden_states[eos_mask].view(B, -1, C)[:, -1, :] (the last eos of each row)."""
    ids = np.asarray(ids)
    eos = ids == cfg["eos_token_id"]
    counts = eos.sum(1)
    if len(set(counts.tolist())) > 1:
        raise ValueError("All examples must have the same number of <eos> tokens.")
    return np.stack([h[b][eos[b]][-1] for b in range(ids.shape[0])])


def classification(cfg, P, ids, h):
    """BartClassificationHead on the eos-pooled decoder states: out_proj(tanh(dense(x)))."""
    x = eos_pool(cfg, ids, h)
    x = np.tanh(nn.linear(x, P["classification_head.dense.weight"], P["classification_head.dense.bias"]))
    return nn.linear(x, P["classification_head.out_proj.weight"], P["classification_head.out_proj.bias"])


def forward(cfg, P, ids, mask=None, dec_ids=None):
    """The whole model: (encoder_last_hidden_state, decoder last_hidden_state, logits). Without dec_ids the decoder
    reads shift_tokens_right(ids) (BartModel.forward; mbart's own shift is not followed here)."""
    if dec_ids is None:
        dec_ids = shift_tokens_right(ids, cfg["pad_token_id"], cfg["decoder_start_token_id"])
    enc = encode(cfg, P, ids, mask)
    h = decode(cfg, P, enc, dec_ids, mask)
    if cfg["architectures"][0].endswith("ForSequenceClassification"):
        return enc, h, classification(cfg, P, ids, h)
    return enc, h, lm_logits(P, h)
