"""fp8 — float8 e4m3fn (the OCP FP8 E4M3 format torch calls float8_e4m3fn) and transformers' fine-grained FP8 checkpoint
layout (quant_method "fp8": Qwen3-*-FP8, DeepSeek-V3), written from the format and from
transformers/integrations/finegrained_fp8.py (Fp8Quantize / Fp8Dequantize) — numpy only, nothing from the Java code.

e4m3fn: 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits; exponent 0 is subnormal (m/8 · 2^-6); no infinities;
S.1111.111 (0x7F, 0xFF) is NaN, so the largest finite value is 1.75 · 2^8 = 448.

The checkpoint: each quantized nn.Linear stores `weight` (out, in) as F8_E4M3 and `weight_scale_inv` (float32, one per
block of weight_block_size = [rows, cols]: shape (ceil(out / rows), ceil(in / cols))). Fp8Quantize: per block
scale = 448 / amax (1 where amax is 0), codes = clamp(w · scale, ±448) cast to e4m3 (round to nearest, ties to even),
weight_scale_inv = 1 / scale, all in float32. Fp8Dequantize (what transformers does on a CPU, or with dequantize=True):
codes.to(float32) · weight_scale_inv in float32, then the model dtype."""
import numpy as np

MAX = 448.0


def decode_table():
    """float64 value of each of the 256 codes (NaN for 0x7F and 0xFF)."""
    out = np.empty(256)
    for c in range(256):
        s, e, m = c >> 7, (c >> 3) & 15, c & 7
        if e == 15 and m == 7:
            out[c] = np.nan
            continue
        v = (m / 8.0) * 2.0 ** -6 if e == 0 else (1 + m / 8.0) * 2.0 ** (e - 7)
        out[c] = -v if s else v
    return out


TABLE = decode_table()
_POS = TABLE[:0x7F]                      # codes 0x00..0x7E: 0 … 448, strictly increasing


def encode(x):
    """Codes of x (float, |x| ≤ 448 after clamping), rounded to nearest, ties to the even code (torch's cast)."""
    x = np.asarray(x, dtype=np.float64)
    if np.isnan(x).any():
        raise ValueError("fp8.encode: NaN")
    a = np.minimum(np.abs(x), MAX)
    hi = np.searchsorted(_POS, a, side="left")              # first code whose value ≥ a
    hi = np.minimum(hi, 0x7E)
    lo = np.maximum(hi - 1, 0)
    dl, dh = a - _POS[lo], _POS[hi] - a
    pick = np.where(dl < dh, lo, np.where(dh < dl, hi, np.where(lo % 2 == 0, lo, hi)))
    pick = np.where(_POS[hi] == a, hi, pick)
    return (pick | np.where(np.signbit(x), 0x80, 0)).astype(np.uint8)


def blocks(shape, block):
    return (-(-shape[0] // block[0]), -(-shape[1] // block[1]))


def quantize(w, block):
    """(codes uint8, weight_scale_inv float32) of a float32 (out, in) matrix, as Fp8Quantize makes them."""
    w = np.asarray(w, dtype=np.float32)
    gr, gc = blocks(w.shape, block)
    codes = np.empty(w.shape, dtype=np.uint8)
    inv = np.empty((gr, gc), dtype=np.float32)
    for i in range(gr):
        for j in range(gc):
            sl = (slice(i * block[0], (i + 1) * block[0]), slice(j * block[1], (j + 1) * block[1]))
            amax = np.float32(np.abs(w[sl]).max())
            scale = np.float32(MAX) / amax if amax > 0 else np.float32(1.0)
            codes[sl] = encode(np.clip(w[sl] * scale, -MAX, MAX))       # w · scale in float32, as torch multiplies
            inv[i, j] = np.float32(1.0) / scale
    return codes, inv


def dequantize(codes, inv, block):
    """float32 (out, in): each code's value times its block's weight_scale_inv, the product rounded to float32."""
    vals = TABLE[codes].astype(np.float32)
    rows = np.arange(codes.shape[0]) // block[0]
    cols = np.arange(codes.shape[1]) // block[1]
    return (vals * inv[rows[:, None], cols[None, :]]).astype(np.float32)


# compressed-tensors' float-quantized FP8 (RedHatAI / neuralmagic's *-FP8 and *-FP8-dynamic, written by llm-compressor):
# `weight` F8_E4M3 beside `weight_scale` in the model dtype (BF16 here) — strategy "channel": (out, 1), one per output row;
# "tensor": (1,). Quantization (the min-max observer): scale = amax / 448 (rounded to the scale's dtype), codes = e4m3 of
# clamp(w / scale, ±448). compressed_tensors' dequantize: x_q.to(scale.dtype) * scale — the product rounded to the
# scale's dtype (BF16) — then the model dtype.

def quantize_ct(w, strategy, round_scale):
    """(codes, weight_scale) of a float32 (out, in) matrix; round_scale rounds the float32 scales to the stored dtype."""
    w = np.asarray(w, dtype=np.float32)
    amax = np.abs(w).max(axis=1, keepdims=True) if strategy == "channel" else np.abs(w).max().reshape(1)
    scale = round_scale((amax / np.float32(MAX)).astype(np.float32))
    codes = encode(np.clip(w / (scale if strategy == "channel" else scale[0]), -MAX, MAX))
    return codes, scale


def dequantize_ct(codes, scale, round_product):
    """float32 (out, in): each code's value times its row's (channel) or the tensor's scale, rounded by round_product (to the
    scale's dtype)."""
    s = scale if scale.ndim == 2 else scale.reshape(1, 1)
    return round_product((TABLE[codes].astype(np.float32) * s).astype(np.float32))
