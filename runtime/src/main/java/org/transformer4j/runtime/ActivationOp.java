// ActivationOp — the linear op's epilogue on its own, over rows already computed: out = act(x) [⊙ gate] [+ residual].
// A gated MLP whose two products were formed apart (a LoRA adapter's expand added into each) is combined by it.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#activation}:
 * <pre>
 *   x        (R, N)   the activated branch's pre-activation values
 *   gate     (R, N) like x, or null: out = act(x) ⊙ gate (SWIGLU_OAI: its own gate factor, see {@link Activation}; never
 *            with CLAMP, whose limit is the op's {@code limit})
 *   residual (R, N) like out, or null: added last
 *   out      (R, N)
 * </pre>
 * Leading dimensions fold into rows; rows may be strided (column views of a wider tensor, as the two halves of a fused
 * [up | gate] product). Computed in fp32, rounded once to the dtype: {@link LinearOp}'s epilogue exactly, so that a
 * gated projection formed in two steps gives what the fused op gives from the same products. out may be x, gate or
 * residual itself (same storage, offset and strides), and must not otherwise overlap them. On CUDA t4j_bias_act
 * (the epilogue the cuBLAS path already runs); never run on a GPU through this op.
 */
public record ActivationOp(Tensor x, Tensor gate, Activation activation, Tensor residual, Tensor out, float limit) {

    public static ActivationOp of(Tensor x, Activation act, Tensor out) { return new ActivationOp(x, null, act, null, out, 0f); }

    /** out = clamp(x, −limit, limit) ({@link Activation#CLAMP}; limit finite and &gt; 0). */
    public static ActivationOp clamp(Tensor x, float limit, Tensor out) { return new ActivationOp(x, null, Activation.CLAMP, null, out, limit); }

    public ActivationOp gate(Tensor g) { return new ActivationOp(x, g, activation, residual, out, limit); }

    public ActivationOp residual(Tensor r) { return new ActivationOp(x, gate, activation, r, out, limit); }

    /** Rows, columns and the row strides of x, gate, residual and out (0 for an absent one), in elements. */
    public record Shape(long rows, long cols, long xRowStride, long gateRowStride, long residualRowStride, long outRowStride) {}

    public Shape validate() {
        Checks.open("x", x);
        Checks.open("out", out);
        if (activation == null) throw new IllegalArgumentException("activation is null (use Activation.NONE)");
        Checks.floating("x", x);
        Checks.sameDType("x", x, "out", out);
        Checks.sameDevice("x", x, "out", out);
        Checks.sameShape("x", x, "out", out);
        if (x.rank() < 1) throw new IllegalArgumentException("x must have at least one dimension, got " + x.shapeString());
        if (activation.gatedOnly() && gate == null) throw new IllegalArgumentException("activation " + activation + " needs a gate");
        LinearOp.checkLimit(activation, limit, gate != null);
        long gs = Checks.rowsLike("gate", gate, "x", x);
        long rs = Checks.rowsLike("residual", residual, "out", out);
        long xs = Checks.rowStride("x", x), os = Checks.rowStride("out", out);
        checkAlias("x", x);
        checkAlias("gate", gate);
        checkAlias("residual", residual);
        long cols = x.shape(-1);
        return new Shape(x.numel() / Math.max(cols, 1), cols, xs, gs, rs, os);
    }

    /** An input may be out itself, or lie apart from it; a partial overlap would read what the op has written. */
    private void checkAlias(String role, Tensor t) {
        if (t != null && t.storage() == out.storage() && !sameView(t, out) && overlaps(t, out)) {
            throw new IllegalArgumentException(role + " " + t + " overlaps out " + out + " without being out itself");
        }
    }

    private static boolean sameView(Tensor a, Tensor b) {
        return a.offset() == b.offset() && java.util.Arrays.equals(a.strides(), b.strides()) && java.util.Arrays.equals(a.shape(), b.shape());
    }

    /** Whether the element ranges [first, last] of two views of one storage meet (conservative: by their spans). */
    private static boolean overlaps(Tensor a, Tensor b) {
        long aEnd = a.offset() + span(a), bEnd = b.offset() + span(b);
        if (a.offset() > bEnd || b.offset() > aEnd) return false;
        // column views of one row-major tensor (the halves of a fused product): disjoint column ranges do not meet
        if (a.rank() == b.rank() && a.rank() >= 2 && java.util.Arrays.equals(a.strides(), b.strides())) {
            long rowStride = a.stride(-2);
            long ac = Math.floorMod(a.offset(), rowStride), bc = Math.floorMod(b.offset(), rowStride);
            if (a.offset() / rowStride == b.offset() / rowStride && a.stride(-1) == 1
                    && (ac + a.shape(-1) <= bc || bc + b.shape(-1) <= ac) && ac + a.shape(-1) <= rowStride && bc + b.shape(-1) <= rowStride) {
                return false;
            }
        }
        return true;
    }

    private static long span(Tensor t) {
        long s = 0;
        for (int d = 0; d < t.rank(); d++) s += (t.shape(d) - 1) * t.stride(d);
        return s;
    }
}
