// MoeCombineOp — a mixture of experts' output: each token's weighted sum of its experts' rows
// (+ a gated shared expert) (+ the residual), in fp32 with one rounding.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#moeCombine}:
 * <pre>
 *   y           (S, C)  the experts' outputs in slot order (a grouped linear's out)
 *   slots       I32 (T, k), weights F32 (T, k): {@link MoeRouting#slots()} and {@link MoeRouting#weights()}
 *   residual    (T, C) or null; may be {@code out} itself
 *   shared      (T, C) or null: added, times sigmoid(sharedGate[t]) when sharedGate is given (Qwen2-MoE)
 *   sharedGate  (T) or (T, 1) logits, or null; only with shared
 *   out         (T, C)
 * </pre>
 * out[t] = Σ_j weights[t,j]·y[slots[t,j]] (j ascending) + σ(g_t)·shared[t] + residual[t], fp32, one
 * rounding to the dtype. Slots are read when the op runs (an out-of-range slot is an error on the CPU,
 * clamped on CUDA).
 */
public record MoeCombineOp(Tensor y, Tensor slots, Tensor weights, Tensor residual, Tensor shared, Tensor sharedGate, Tensor out) {

    public static MoeCombineOp of(Tensor y, MoeRouting routing, Tensor out) {
        return new MoeCombineOp(y, routing.slots(), routing.weights(), null, null, null, out);
    }

    public MoeCombineOp residual(Tensor r) { return new MoeCombineOp(y, slots, weights, r, shared, sharedGate, out); }

    /** Adds {@code s}, times sigmoid of {@code gate}'s logit per token when gate is not null. */
    public MoeCombineOp shared(Tensor s, Tensor gate) { return new MoeCombineOp(y, slots, weights, residual, s, gate, out); }

    /** T, C, k, S and the strides in elements (sharedGateStride between tokens' gate logits). */
    public record Shape(long tokens, long cols, int topK, long slotRows, long outRowStride, long yRowStride,
                        long residualRowStride, long sharedRowStride, long sharedGateStride) {}

    public Shape validate() {
        Checks.open("y", y);
        Checks.open("slots", slots);
        Checks.open("weights", weights);
        Checks.open("out", out);
        Checks.floating("out", out);
        Checks.sameDType("out", out, "y", y);
        Checks.sameDevice("out", out, "y", y);
        Checks.sameDevice("out", out, "slots", slots);
        Checks.sameDevice("out", out, "weights", weights);
        if (out.rank() != 2) throw new IllegalArgumentException("out must be (T, C), got " + out.shapeString());
        long t = out.shape(0);
        long c = out.shape(1);
        if (y.rank() != 2 || y.shape(1) != c || y.shape(0) < 1) {
            throw new IllegalArgumentException("y must be (S ≥ 1, " + c + "), got " + y.shapeString());
        }
        if (slots.rank() != 2 || slots.shape(0) != t) {
            throw new IllegalArgumentException("slots must be (" + t + ", k), got " + slots.shapeString());
        }
        long k = slots.shape(1);
        if (k < 1 || k > MoeRouteOp.MAX_TOP_K) throw new IllegalArgumentException("k = " + k + " must be in 1.." + MoeRouteOp.MAX_TOP_K);
        MoeRouting.dense("slots", slots, DType.I32, t, k);
        MoeRouting.dense("weights", weights, DType.F32, t, k);
        long rs = Checks.rowsLike("residual", residual, "out", out);
        long ss = Checks.rowsLike("shared", shared, "out", out);
        long gs = 0;
        if (shared != null) {
            if (sharedGate != null) {
                Checks.open("sharedGate", sharedGate);
                Checks.sameDType("out", out, "sharedGate", sharedGate);
                Checks.sameDevice("out", out, "sharedGate", sharedGate);
                boolean vector = sharedGate.rank() == 1 && sharedGate.shape(0) == t;
                boolean column = sharedGate.rank() == 2 && sharedGate.shape(0) == t && sharedGate.shape(1) == 1;
                if (!vector && !column) throw new IllegalArgumentException("sharedGate must be (" + t + ") or (" + t + ", 1), got " + sharedGate.shapeString());
                gs = t > 1 ? sharedGate.stride(0) : 1;
            }
        } else if (sharedGate != null) {
            throw new IllegalArgumentException("sharedGate " + sharedGate + " given without shared");
        }
        return new Shape(t, c, (int) k, y.shape(0), Checks.rowStride("out", out), Checks.rowStride("y", y), rs, ss, gs);
    }
}
