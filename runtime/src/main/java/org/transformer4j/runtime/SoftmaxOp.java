// SoftmaxOp — softmax or log-softmax over the last dimension (the vocabulary), with a scale.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#softmax}: {@code out = softmax(scale · x)} or {@code log_softmax(scale · x)}
 * per row; x and out (…, V) share shape and floating dtype; fp32 math; out may be x itself.
 */
public record SoftmaxOp(Tensor x, float scale, boolean log, Tensor out) {

    public static SoftmaxOp softmax(Tensor x, Tensor out) { return new SoftmaxOp(x, 1f, false, out); }

    public static SoftmaxOp logSoftmax(Tensor x, Tensor out) { return new SoftmaxOp(x, 1f, true, out); }

    public SoftmaxOp scale(float s) { return new SoftmaxOp(x, s, log, out); }

    public record Shape(long rows, long cols, long xRowStride, long outRowStride) {}

    public Shape validate() {
        Checks.open("x", x);
        Checks.open("out", out);
        Checks.floating("x", x);
        Checks.sameDType("x", x, "out", out);
        Checks.sameShape("x", x, "out", out);
        Checks.sameDevice("x", x, "out", out);
        if (x.rank() < 1 || x.shape(-1) < 1) throw new IllegalArgumentException("x must have a non-empty last dimension, got " + x.shapeString());
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        return new Shape(x.numel() / x.shape(-1), x.shape(-1), Checks.rowStride("x", x), Checks.rowStride("out", out));
    }
}
