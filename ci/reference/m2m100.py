"""M2M100 / NLLB's positions (model_type m2m_100), following transformers' models/m2m_100/modeling_m2m_100.py (4.4x);
the layers are mBART's pre-LN ones and live in bart.py (KINDS["m2m_100"]).

- M2M100SinusoidalPositionalEmbedding: offset 2, a table of max_position_embeddings + 2 rows built by get_embedding
  (fairseq's), a non-persistent buffer (4.4x; a parameter listed in _keys_to_ignore_on_save before), so never in
  model.safetensors; forward rebuilds it larger when padding_idx + 1 + seq_len + past exceeds its rows (the same
  values: each row depends on its position only).
- get_embedding(n, d, padding_idx), with torch's dtypes:
      half = d // 2
      c = math.log(10000) / (half - 1)                          Python float64
      f = exp(arange(half).float() * -c)                       float32: -c rounded to float32 (a Python scalar
                                                               times a float32 tensor is computed in float32), the
                                                               product rounded, exp of a float32 tensor
      a = arange(n).float()[:, None] * f[None, :]              float32 product
      row = [sin(a) | cos(a)]                                  float32 sin/cos, halves (not interleaved)
      (a zero column appended when d is odd), row padding_idx set to 0, then .to(torch.get_default_dtype())
  The frequencies are exp(-i ln(10000) / (half - 1)), i = 0 .. half - 1 (the last one exactly 1e-4), not Marian's
  10000^(-2i/d).
- create_position_ids_from_input_ids(ids, padding_idx, past): mask = ids != padding_idx;
  ((cumsum(mask) + past) * mask) + padding_idx. Real tokens are numbered padding_idx + 1, padding_idx + 2, ... counting
  real tokens only; a pad reads row padding_idx (zeros). The decoder passes past_key_values_length when it caches.

The float32 steps are emulated here (as t5.py emulates T5's float32 bucket log): each product is the float32
product (numpy's float32 multiply rounds as torch's does), exp / sin / cos are computed in float64 from the float32
argument and rounded to float32 (the correctly rounded float32 result; torch's vectorized float32 exp / sin / cos
are within about 1 ulp of it, so a torch table may differ from this one by an ulp, ~6e-8, at some entries). The
table is then used as float64 values, like the Pegasus table transformers stores as float32."""
import math

import numpy as np

OFFSET = 2


def table(num_embeddings, dim, padding_idx=None):
    """M2M100SinusoidalPositionalEmbedding.get_embedding with torch's float32 steps; float64 values of float32 numbers."""
    half = dim // 2
    c = math.log(10000) / (half - 1)                                             # Python float64
    f = np.arange(half, dtype=np.float32) * np.float32(-c)                        # float32 * float32(-c)
    f = np.exp(f.astype(np.float64)).astype(np.float32)                           # torch.exp on float32
    a = np.arange(num_embeddings, dtype=np.float32)[:, None] * f[None, :]         # float32 product
    emb = np.concatenate([np.sin(a.astype(np.float64)).astype(np.float32),
                          np.cos(a.astype(np.float64)).astype(np.float32)], axis=1)
    if dim % 2 == 1:
        emb = np.concatenate([emb, np.zeros((num_embeddings, 1), dtype=np.float32)], axis=1)
    if padding_idx is not None:
        emb[padding_idx, :] = 0
    return emb.astype(np.float64)


def table_float64(num_embeddings, dim, padding_idx=None):
    """The same formula in float64 throughout (for the self-check: how far torch's float32 steps move it)."""
    half = dim // 2
    f = np.exp(np.arange(half) * -(math.log(10000) / (half - 1)))
    a = np.arange(num_embeddings)[:, None] * f[None, :]
    emb = np.concatenate([np.sin(a), np.cos(a)], axis=1)
    if dim % 2 == 1:
        emb = np.concatenate([emb, np.zeros((num_embeddings, 1))], axis=1)
    if padding_idx is not None:
        emb[padding_idx, :] = 0
    return emb


def position_ids(ids, padding_idx, past_key_values_length=0):
    """create_position_ids_from_input_ids."""
    ids = np.asarray(ids)
    mask = (ids != padding_idx).astype(np.int64)
    return (np.cumsum(mask, axis=1) + past_key_values_length) * mask + padding_idx


def positions(cfg, ids, past_key_values_length=0):
    """M2M100SinusoidalPositionalEmbedding.forward(input_ids): the table's rows at create_position_ids_from_input_ids."""
    ids = np.asarray(ids)
    pad = cfg["pad_token_id"]
    n = cfg["max_position_embeddings"] + OFFSET
    need = pad + 1 + ids.shape[1] + past_key_values_length
    if need > n:                                      # make_weights(max_pos + offset): more rows, the same values
        n = need + OFFSET
    return table(n, cfg["d_model"], pad)[position_ids(ids, pad, past_key_values_length)]
