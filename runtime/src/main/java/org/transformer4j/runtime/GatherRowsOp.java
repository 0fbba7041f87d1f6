// GatherRowsOp — out[r] = x[rows[r]]: a mixture of experts' tokens gathered expert by expert; and rows widened to F32
// (a router's fp32 logits GEMM over the model's F16 / BF16 hidden states).
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#gatherRows}: {@code x} (X, C), {@code rows} I32 (n) contiguous or null (row r reads x's
 * row r: n ≤ X), {@code out} (n, C) of x's dtype, or F32 when x is F16 or BF16 (each value widened, exactly: what
 * transformers' {@code x.float()} gives); row strides free, last dimensions contiguous. Same dtypes copy bits. Row
 * indices are read when the op runs; one outside [0, X) is an IllegalArgumentException on the CPU and is clamped into
 * range on CUDA (where the indices come from {@link Backend#moeRoute} and cannot be wrong).
 */
public record GatherRowsOp(Tensor x, Tensor rows, Tensor out) {

    /** out = x's first out.shape(0) rows as F32: x F16 or BF16, out F32 (n, C). */
    public static GatherRowsOp widen(Tensor x, Tensor out) { return new GatherRowsOp(x, null, out); }

    /** n, X, C and the row strides of out and x. */
    public record Shape(long n, long xRows, long cols, long outRowStride, long xRowStride) {}

    /** Whether out is F32 over an F16 / BF16 x (validated). */
    public boolean widens() { return out.dtype() != x.dtype(); }

    public Shape validate() {
        Checks.open("x", x);
        Checks.open("out", out);
        Checks.floating("x", x);
        if (out.dtype() != x.dtype() && out.dtype() != DType.F32) {
            throw new IllegalArgumentException("out must be x's dtype " + x.dtype() + " or F32 (widened), got " + out.dtype());
        }
        Checks.sameDevice("x", x, "out", out);
        if (x.rank() != 2 || x.shape(0) < 1) throw new IllegalArgumentException("x must be (X, C) with X ≥ 1, got " + x.shapeString());
        long n;
        if (rows == null) {
            if (out.rank() != 2 || out.shape(0) > x.shape(0) || out.shape(1) != x.shape(1)) {
                throw new IllegalArgumentException("out must be (n ≤ " + x.shape(0) + ", " + x.shape(1) + ") without rows (x's own rows), got "
                        + out.shapeString());
            }
            n = out.shape(0);
        } else {
            Checks.open("rows", rows);
            Checks.sameDevice("x", x, "rows", rows);
            if (rows.dtype() != DType.I32 || rows.rank() != 1 || !rows.isContiguous()) {
                throw new IllegalArgumentException("rows must be a contiguous I32 vector, got " + rows);
            }
            if (out.rank() != 2 || out.shape(0) != rows.shape(0) || out.shape(1) != x.shape(1)) {
                throw new IllegalArgumentException("out must be (" + rows.shape(0) + ", " + x.shape(1) + "), got " + out.shapeString());
            }
            n = rows.shape(0);
        }
        return new Shape(n, x.shape(0), x.shape(1), Checks.rowStride("out", out), Checks.rowStride("x", x));
    }
}
