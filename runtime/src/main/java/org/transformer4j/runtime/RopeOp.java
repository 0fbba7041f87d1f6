// RopeOp — rotary position embedding (RoPE) applied in place to queries or keys, the way Hugging
// Face's LlamaRotaryEmbedding + apply_rotary_pos_emb do it, with positions read from a tensor.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#rope}: x (B, T, H, HS) is rotated in place (any strides, HS
 * contiguous). For token (b, t) at position p = positions[b, t] (I32 (B, T), contiguous) and each
 * i &lt; R/2 (R = {@code rotaryDim} ≤ HS, even; the dimensions from R on pass unchanged):
 * <pre>
 *   angle = fp32(p) · invFreq[i]            (one fp32 product, as transformers' fp32 matmul)
 *   c = cos(angle) · a, s = sin(angle) · a  (fp32, then rounded to x's dtype, as transformers casts cos/sin;
 *                                            a = attentionScaling, 1 unless yarn or LongRoPE)
 *   x[i]       ← x[i] · c − x[i + R/2] · s  (rotate_half: the first half pairs with the second)
 *   x[i + R/2] ← x[i + R/2] · c + x[i] · s
 * </pre>
 * in fp32, rounded once to x's dtype. {@code invFreq} is F32 (R/2), computed on the host for the
 * default, linear, llama3 and yarn kinds. Dynamic NTK scaling instead gives {@link Dynamic} and
 * per-sequence lengths {@code seqLens} (I32 (B)): the frequencies of sequence b are those of
 * transformers' {@code _compute_dynamic_ntk_parameters} at seq_len = max(seqLens[b], maxPositions),
 * computed in fp32 when the op runs (so a captured step sees each replay's lengths). LongRoPE gives
 * two tables, {@code invFreq} F32 (2, R/2): sequence b takes the first (short factors) while
 * seqLens[b] ≤ {@code longAfter} (the original max positions) and the second (long factors) past it,
 * as transformers' longrope_frequency_update chooses by max(position_ids) + 1.
 */
public record RopeOp(Tensor x, Tensor positions, Tensor invFreq, int rotaryDim, Dynamic dynamic, Tensor seqLens,
                     int longAfter, float attentionScaling) {

    /**
     * Dynamic NTK: base' = base · ((factor · L / maxPositions) − (factor − 1))^(R / (R − 2)) for
     * L = max(seq_len, maxPositions), invFreq[i] = 1 / base'^(2i / R).
     */
    public record Dynamic(float base, float factor, int maxPositions) {}

    /** Rotation with a precomputed frequency table F32 (R/2). */
    public static RopeOp of(Tensor x, Tensor positions, Tensor invFreq, int rotaryDim) {
        return new RopeOp(x, positions, invFreq, rotaryDim, null, null, 0, 1f);
    }

    /** Dynamic NTK rotation: frequencies from each sequence's length seqLens (I32 (B)). */
    public static RopeOp dynamic(Tensor x, Tensor positions, Dynamic d, Tensor seqLens, int rotaryDim) {
        return new RopeOp(x, positions, null, rotaryDim, d, seqLens, 0, 1f);
    }

    /**
     * LongRoPE: tables F32 (2, R/2), short factors' then long factors' frequencies; sequence b takes the
     * long ones when seqLens[b] &gt; originalMaxPositions.
     */
    public static RopeOp longRope(Tensor x, Tensor positions, Tensor tables, int originalMaxPositions, Tensor seqLens,
                                  int rotaryDim) {
        return new RopeOp(x, positions, tables, rotaryDim, null, seqLens, originalMaxPositions, 1f);
    }

    /** This op with cos and sin multiplied by {@code a} (yarn's and LongRoPE's attention factor). */
    public RopeOp scaled(float a) {
        return new RopeOp(x, positions, invFreq, rotaryDim, dynamic, seqLens, longAfter, a);
    }

    /** Whether this is LongRoPE (two tables chosen by length). */
    public boolean isLongRope() { return longAfter > 0; }

    private void lengths(int b) {
        Checks.open("seqLens", seqLens);
        Checks.sameDevice("x", x, "seqLens", seqLens);
        if (seqLens.dtype() != DType.I32 || seqLens.rank() != 1 || seqLens.shape(0) != b || !seqLens.isContiguous()) {
            throw new IllegalArgumentException("seqLens must be a contiguous I32 (B = " + b + "), got " + seqLens);
        }
    }

    /** Validated sizes and strides (elements). */
    public record Shape(int batch, int t, int heads, int hs, long xBatchStride, long xRowStride, long xHeadStride) {}

    public Shape validate() {
        Checks.open("x", x);
        Checks.open("positions", positions);
        Checks.floating("x", x);
        if (x.rank() != 4) throw new IllegalArgumentException("x must be (B, T, H, HS), got " + x.shapeString());
        if (x.shape(0) > 65535 || x.shape(1) > Integer.MAX_VALUE || x.shape(2) > 65535) {
            throw new IllegalArgumentException("x " + x.shapeString() + " is too large (B, H ≤ 65535)");
        }
        int b = (int) x.shape(0), t = (int) x.shape(1), h = (int) x.shape(2), hs = (int) x.shape(3);
        Checks.sameDevice("x", x, "positions", positions);
        if (positions.dtype() != DType.I32 || positions.rank() != 2 || positions.shape(0) != b || positions.shape(1) != t
                || !positions.isContiguous()) {
            throw new IllegalArgumentException("positions must be a contiguous I32 (B, T) = (" + b + ", " + t + ") for x "
                    + x.shapeString() + ", got " + positions);
        }
        if (rotaryDim < 2 || rotaryDim % 2 != 0 || rotaryDim > hs) {
            throw new IllegalArgumentException("rotaryDim must be even and in [2, HS = " + hs + "], got " + rotaryDim);
        }
        if ((invFreq == null) == (dynamic == null)) {
            throw new IllegalArgumentException("give either a frequency table (invFreq) or dynamic NTK parameters, not "
                    + (invFreq == null ? "neither" : "both"));
        }
        if (!(attentionScaling > 0) || !Float.isFinite(attentionScaling)) {
            throw new IllegalArgumentException("attentionScaling must be finite and > 0, got " + attentionScaling);
        }
        if (longAfter < 0 || longAfter > 0 && invFreq == null) {
            throw new IllegalArgumentException("LongRoPE needs its two tables and original max positions ≥ 1, got " + longAfter);
        }
        if (invFreq != null) {
            Checks.open("invFreq", invFreq);
            Checks.sameDevice("x", x, "invFreq", invFreq);
            boolean two = isLongRope();
            if (invFreq.dtype() != DType.F32 || invFreq.rank() != (two ? 2 : 1) || two && invFreq.shape(0) != 2
                    || invFreq.shape(invFreq.rank() - 1) != rotaryDim / 2 || !invFreq.isContiguous()) {
                throw new IllegalArgumentException("invFreq must be a contiguous F32 (" + (two ? "2, " : "") + rotaryDim / 2
                        + ") for rotaryDim " + rotaryDim + (two ? " (LongRoPE's short and long tables)" : "") + ", got " + invFreq);
            }
            if (two) {
                lengths(b);
            } else if (seqLens != null) {
                throw new IllegalArgumentException("seqLens is only for dynamic NTK and LongRoPE scaling");
            }
        } else {
            if (!(dynamic.base() > 0) || !Float.isFinite(dynamic.base()) || !(dynamic.factor() >= 1) || !Float.isFinite(dynamic.factor())
                    || dynamic.maxPositions() < 1) {
                throw new IllegalArgumentException("dynamic NTK needs base > 0, factor ≥ 1 and maxPositions ≥ 1, got " + dynamic);
            }
            if (rotaryDim < 4) throw new IllegalArgumentException("dynamic NTK needs rotaryDim ≥ 4 (its exponent is R/(R−2))");
            lengths(b);
        }
        Checks.lastDimContiguous("x", x);
        AttentionOp.nonOverlapping("x", x);
        return new Shape(b, t, h, hs, x.stride(0), x.stride(1), x.stride(2));
    }
}
