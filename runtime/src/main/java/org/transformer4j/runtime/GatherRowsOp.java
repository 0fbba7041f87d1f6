// GatherRowsOp — out[r] = x[rows[r]]: a mixture of experts' tokens gathered expert by expert.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#gatherRows}: {@code x} (X, C), {@code rows} I32 (n) contiguous, {@code out}
 * (n, C) of x's dtype; row strides free, last dimensions contiguous. Copies bits. Row indices are read
 * when the op runs; one outside [0, X) is an IllegalArgumentException on the CPU and is clamped into
 * range on CUDA (where the indices come from {@link Backend#moeRoute} and cannot be wrong).
 */
public record GatherRowsOp(Tensor x, Tensor rows, Tensor out) {

    /** n, X, C and the row strides of out and x. */
    public record Shape(long n, long xRows, long cols, long outRowStride, long xRowStride) {}

    public Shape validate() {
        Checks.open("x", x);
        Checks.open("rows", rows);
        Checks.open("out", out);
        Checks.sameDType("x", x, "out", out);
        Checks.sameDevice("x", x, "rows", rows);
        Checks.sameDevice("x", x, "out", out);
        if (x.rank() != 2 || x.shape(0) < 1) throw new IllegalArgumentException("x must be (X, C) with X ≥ 1, got " + x.shapeString());
        if (rows.dtype() != DType.I32 || rows.rank() != 1 || !rows.isContiguous()) {
            throw new IllegalArgumentException("rows must be a contiguous I32 vector, got " + rows);
        }
        if (out.rank() != 2 || out.shape(0) != rows.shape(0) || out.shape(1) != x.shape(1)) {
            throw new IllegalArgumentException("out must be (" + rows.shape(0) + ", " + x.shape(1) + "), got " + out.shapeString());
        }
        return new Shape(rows.shape(0), x.shape(0), x.shape(1), Checks.rowStride("out", out), Checks.rowStride("x", x));
    }
}
