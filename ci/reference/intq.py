"""intq — the integer weight-only layouts of AWQ and GPTQ checkpoints, written from their packers (AutoAWQ's
`awq/utils/packing_utils.py` and `WQLinear_GEMM.from_linear`, AutoGPTQ / GPTQModel's `QuantLinear.pack` and the
`dequantize_weight` of their torch kernels) — numpy only, nothing from the Java code.

AWQ (quant_method "awq", version "gemm", bits 4, zero_point true): for a Linear (out, in) with groups of g input columns,
  `qweight` int32 (in, out / 8): the 4-bit codes of W^T, eight output columns per int32, nibble i (bits 4i..4i+3) holding
      column 8c + AWQ_ORDER[i], AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7];
  `qzeros` int32 (in / g, out / 8): the groups' zero points packed the same way;
  `scales` float16 (in / g, out);
  dequantized: (q − z) · s in float16 (the product rounded to float16), transposed to (out, in).
GPTQ (quant_method "gptq", bits 4 or 8, sym, checkpoint_format "gptq" = v1): with k = 32 / bits codes per int32,
  `qweight` int32 (in / k, out): input rows kr … kr + k − 1 of W^T in row r, row kr + j at bits j·bits;
  `qzeros` int32 (in / g, out / k): zero points packed along the output, column kc + j at bits j·bits, **stored minus one**
      in v1 (AutoGPTQ's packing quirk; "gptq_v2" stores them as they are);
  `scales` float16 (in / g, out); `g_idx` int32 (in): each input row's group (i // g, or a permutation's with desc_act);
  dequantized: s[g_idx[i]] · (q − (z[g_idx[i]] + 1)) in float16, transposed to (out, in)."""
import numpy as np

AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]


def f16(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)


def awq_quantize(w, group):
    """(qweight, qzeros, scales float16) of a float32 (out, in) matrix: AutoAWQ's asymmetric min-max per group of `group`
    input columns (scale = (max − min) / 15, zero = round(−min / scale) clamped to [0, 15], q = clamp(round(w / s) + z))."""
    out, n = w.shape
    wg = w.reshape(out, n // group, group).astype(np.float32)
    mx, mn = wg.max(axis=2), wg.min(axis=2)
    scale = f16(np.maximum(mx - mn, 1e-5) / 15)                       # (out, groups)
    zero = np.clip(np.round(-mn / scale), 0, 15)
    q = np.clip(np.round(wg / scale[:, :, None]) + zero[:, :, None], 0, 15).astype(np.int64).reshape(out, n)
    return awq_pack(q.T), awq_pack(zero.T.astype(np.int64)), scale.T.astype(np.float16)


def awq_pack(v):
    """int64 (rows, cols) codes in [0, 15] → int32 (rows, cols / 8) in AWQ's order."""
    rows, cols = v.shape
    packed = np.zeros((rows, cols // 8), dtype=np.uint32)
    for c in range(cols // 8):
        for i in range(8):
            packed[:, c] |= (v[:, 8 * c + AWQ_ORDER[i]].astype(np.uint32) & 0xF) << np.uint32(4 * i)
    return packed.view(np.int32)


def awq_unpack(p):
    p = p.view(np.uint32)
    rows, cols = p.shape
    v = np.zeros((rows, cols * 8), dtype=np.int64)
    for c in range(cols):
        for i in range(8):
            v[:, 8 * c + AWQ_ORDER[i]] = (p[:, c] >> np.uint32(4 * i)) & 0xF
    return v


def awq_dequantize(qweight, qzeros, scales, group):
    """float32 (out, in): (q − z) · s rounded to float16, transposed."""
    q, z = awq_unpack(qweight), awq_unpack(qzeros)                    # (in, out), (in / g, out)
    g = np.arange(q.shape[0]) // group
    return f16((q - z[g]).astype(np.float32) * scales.astype(np.float32)[g]).T.copy()


def gptq_quantize(w, group, bits, rng, desc_act, v1=True):
    """(qweight, qzeros, scales float16, g_idx) of a float32 (out, in) matrix, symmetric: per group scale = 2·amax / maxq, zero
    (maxq + 1) / 2, q = clamp(round(w / s) + zero, 0, maxq). desc_act: the input rows are taken in a random order (GPTQ's
    act-order), group k holding the k-th `group` rows of that order; v1 stores the zeros minus one."""
    out, n = w.shape
    maxq = 2 ** bits - 1
    order = rng.permutation(n) if desc_act else np.arange(n)
    g_idx = np.empty(n, dtype=np.int32)
    g_idx[order] = np.arange(n) // group
    ng = -(-n // group)
    scales = np.empty((ng, out), dtype=np.float32)
    for k in range(ng):
        cols = g_idx == k
        amax = np.abs(w[:, cols]).max(axis=1)
        scales[k] = f16(np.maximum(2 * amax / maxq, 1e-5))
    zero = (maxq + 1) // 2
    q = np.clip(np.round(w.T / scales[g_idx]) + zero, 0, maxq).astype(np.int64)      # (in, out)
    zeros = np.full((ng, out), zero - (1 if v1 else 0), dtype=np.int64)
    return gptq_pack_rows(q, bits), gptq_pack_cols(zeros, bits), scales.astype(np.float16), g_idx


def gptq_pack_rows(q, bits):
    k = 32 // bits
    rows, cols = q.shape
    packed = np.zeros((rows // k, cols), dtype=np.uint32)
    for j in range(k):
        packed |= (q[j::k].astype(np.uint32) & np.uint32(2 ** bits - 1)) << np.uint32(bits * j)
    return packed.view(np.int32)


def gptq_pack_cols(z, bits):
    k = 32 // bits
    rows, cols = z.shape
    packed = np.zeros((rows, cols // k), dtype=np.uint32)
    for j in range(k):
        packed |= (z[:, j::k].astype(np.uint32) & np.uint32(2 ** bits - 1)) << np.uint32(bits * j)
    return packed.view(np.int32)


def gptq_dequantize(qweight, qzeros, scales, g_idx, bits, v1=True):
    """float32 (out, in): s[g] · (q − (z[g] + 1)) (v1; z[g] in v2) rounded to float16, transposed."""
    k, mask = 32 // bits, 2 ** bits - 1
    pw, pz = qweight.view(np.uint32), qzeros.view(np.uint32)
    q = np.zeros((pw.shape[0] * k, pw.shape[1]), dtype=np.int64)
    for j in range(k):
        q[j::k] = (pw >> np.uint32(bits * j)) & mask
    z = np.zeros((pz.shape[0], pz.shape[1] * k), dtype=np.int64)
    for j in range(k):
        z[:, j::k] = (pz >> np.uint32(bits * j)) & mask
    z = z + (1 if v1 else 0)
    return f16(scales.astype(np.float32)[g_idx] * (q - z[g_idx]).astype(np.float32)).T.copy()
