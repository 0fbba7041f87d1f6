// NormOp — LayerNorm or RMSNorm over the last dimension, optionally fused with the residual add.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#norm}. For each row (all leading dimensions fold into rows):
 * {@code h = x + residual} (or {@code x}), rounded to the dtype and written to {@code residualOut}
 * when given; then LayerNorm {@code (h - mean) / sqrt(var + eps) * weight + bias} or RMSNorm
 * {@code h / sqrt(mean(h²) + eps) * weight (+ bias)} into {@code out}. All tensors share one
 * floating dtype; fp32 math. {@code out} and {@code residualOut} may alias the inputs.
 */
public record NormOp(Kind kind, Tensor x, Tensor residual, Tensor weight, Tensor bias, float eps, Tensor out,
                     Tensor residualOut) {

    public enum Kind { LAYER, RMS }

    /** LayerNorm of {@code x} (…, C) with weight and bias (C) (bias may be null). */
    public static NormOp layer(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        return new NormOp(Kind.LAYER, x, null, weight, bias, eps, out, null);
    }

    /** RMSNorm of {@code x} (…, C) with weight (C), no bias (T5, Llama). */
    public static NormOp rms(Tensor x, Tensor weight, float eps, Tensor out) {
        return new NormOp(Kind.RMS, x, null, weight, null, eps, out, null);
    }

    /** Adds {@code residual} to x first; {@code residualOut} (may be null) receives the sum. */
    public NormOp withResidual(Tensor newResidual, Tensor newResidualOut) {
        return new NormOp(kind, x, newResidual, weight, bias, eps, out, newResidualOut);
    }

    public NormOp withBias(Tensor newBias) { return new NormOp(kind, x, residual, weight, newBias, eps, out, residualOut); }

    /** Validated sizes and row strides, in elements. */
    public record Shape(long rows, long cols, long xRowStride, long residualRowStride, long outRowStride,
                        long residualOutRowStride) {}

    /** Throws IllegalArgumentException naming the tensor and both shapes when the op is malformed. */
    public Shape validate() {
        if (kind == null) throw new IllegalArgumentException("norm kind is null");
        Checks.open("x", x);
        Checks.open("weight", weight);
        Checks.open("out", out);
        Checks.floating("x", x);
        if (x.rank() < 1) throw new IllegalArgumentException("x must have at least one dimension, got " + x.shapeString());
        long cols = x.shape(-1);
        if (cols < 1) throw new IllegalArgumentException("x " + x.shapeString() + " has no columns");
        long rows = x.numel() / cols;
        Checks.sameDType("x", x, "out", out);
        Checks.sameShape("x", x, "out", out);
        Checks.sameDevice("x", x, "out", out);
        Checks.sameDType("x", x, "weight", weight);
        Checks.sameDevice("x", x, "weight", weight);
        if (weight.rank() != 1 || weight.shape(0) != cols) {
            throw new IllegalArgumentException("weight has shape " + weight.shapeString() + " but x " + x.shapeString()
                    + " needs (" + cols + ")");
        }
        Checks.lastDimContiguous("weight", weight);
        if (bias != null) {
            Checks.open("bias", bias);
            Checks.sameDType("x", x, "bias", bias);
            Checks.sameDevice("x", x, "bias", bias);
            if (bias.rank() != 1 || bias.shape(0) != cols) {
                throw new IllegalArgumentException("bias has shape " + bias.shapeString() + " but x " + x.shapeString()
                        + " needs (" + cols + ")");
            }
            Checks.lastDimContiguous("bias", bias);
        }
        long rStride = 0;
        if (residual != null) {
            Checks.open("residual", residual);
            Checks.sameDType("x", x, "residual", residual);
            Checks.sameShape("x", x, "residual", residual);
            Checks.sameDevice("x", x, "residual", residual);
            rStride = Checks.rowStride("residual", residual);
        }
        long roStride = 0;
        if (residualOut != null) {
            if (residual == null) throw new IllegalArgumentException("residualOut given without residual");
            Checks.open("residualOut", residualOut);
            Checks.sameDType("x", x, "residualOut", residualOut);
            Checks.sameShape("x", x, "residualOut", residualOut);
            Checks.sameDevice("x", x, "residualOut", residualOut);
            roStride = Checks.rowStride("residualOut", residualOut);
        }
        if (!(eps >= 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException("eps must be finite and ≥ 0, got " + eps);
        return new Shape(rows, cols, Checks.rowStride("x", x), rStride, Checks.rowStride("out", out), roStride);
    }
}
