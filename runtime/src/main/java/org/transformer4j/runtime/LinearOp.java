// LinearOp — a projection with the MLP epilogue fused: out = act(alpha·x·W + bias)
// [⊙ (alpha·x·W_gate + bias_gate)] [+ residual]. Validated before any native call.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#linear}. All leading dimensions of {@code x} fold into rows (M):
 * <pre>
 *   x        (…, K)         the input rows
 *   w        (K, N), or (N, K) when transW (Hugging Face nn.Linear, a tied embedding for logits)
 *   bias     (N) or null
 *   wGate    like w, or null; when given the op is gated: act(x·W) ⊙ (x·W_gate) (T5 v1.1, Flan-T5)
 *   biasGate (N) or null, only with wGate
 *   residual (…, N) like out, or null; may be {@code out} itself (x += MLP(x))
 *   out      (…, N), x's leading dimensions
 *   limit    {@link Activation#CLAMP}'s bound ({@link #clamp}: out = clamp(y, −limit, limit), plain ops), else 0
 * </pre>
 * One floating dtype throughout; fp32 accumulation and epilogue, one rounding on store.
 *
 * <p>Or W (and W_gate) in 4 bits ({@link #of(Tensor, Int4, Tensor)}, {@link #gate(Int4, Tensor)}: {@code wq}, {@code wGateQ},
 * an AWQ or GPTQ checkpoint's projection as stored, (N, K) as transW), decoded inside the GEMM to x's dtype; {@code w} and
 * {@code wGate} are then null.
 *
 * <p>Where a block's residual adds go: each add can ride on the op before it or the op after it,
 * never both. A pre-LN block (GPT-2) writes {@code x = x + proj(attn)} and {@code x = x + down(mlp)}
 * through this op's {@code residual} (the add costs nothing extra in the GEMM epilogue), and
 * normalises with plain {@link NormOp}s. Alternatively the projection writes without residual and
 * {@link NormOp#withResidual} forms {@code h = x + proj}, writes h for the next add and normalises it
 * in one pass: the same traffic, one kernel fewer when the GEMM runs on cuBLAS. Post-LN (BERT)
 * normalises the sum, so the second form is its natural one.
 *
 * <p>Logits are
 * {@code LinearOp.of(h, embedding, logits).transW(true).alpha(scale)}; a fused QKV projection is one
 * LinearOp into (…, 3C) followed by {@link #split} into three views.
 */
public record LinearOp(Tensor x, Tensor w, boolean transW, Tensor bias, Tensor wGate, Tensor biasGate,
                       Activation activation, Tensor residual, float alpha, Tensor out, float limit, Int4 wq, Int4 wGateQ) {

    public LinearOp(Tensor x, Tensor w, boolean transW, Tensor bias, Tensor wGate, Tensor biasGate, Activation activation,
                    Tensor residual, float alpha, Tensor out, float limit) {
        this(x, w, transW, bias, wGate, biasGate, activation, residual, alpha, out, limit, null, null);
    }

    /** out = x · w. */
    public static LinearOp of(Tensor x, Tensor w, Tensor out) {
        return new LinearOp(x, w, false, null, null, null, Activation.NONE, null, 1f, out, 0f);
    }

    /** out = x · Wᵀ with W (N, K) in 4 bits ({@link Int4}), as an nn.Linear's weight (transW). */
    public static LinearOp of(Tensor x, Int4 w, Tensor out) {
        return new LinearOp(x, null, true, null, null, null, Activation.NONE, null, 1f, out, 0f, w, null);
    }

    /** The gated form over 4-bit weights: act(x·Wᵀ + bias) ⊙ (x·W_gateᵀ + gateBias), W_gate like {@link #wq}. */
    public LinearOp gate(Int4 gate, Tensor gateBias) {
        return new LinearOp(x, w, transW, bias, wGate, gateBias, activation, residual, alpha, out, limit, wq, gate);
    }

    public LinearOp transW(boolean t) { return new LinearOp(x, w, t, bias, wGate, biasGate, activation, residual, alpha, out, limit, wq, wGateQ); }

    public LinearOp bias(Tensor b) { return new LinearOp(x, w, transW, b, wGate, biasGate, activation, residual, alpha, out, limit, wq, wGateQ); }

    /** The epilogue's activation; {@link Activation#CLAMP} takes its limit through {@link #clamp}. */
    public LinearOp activation(Activation a) { return new LinearOp(x, w, transW, bias, wGate, biasGate, a, residual, alpha, out, 0f, wq, wGateQ); }

    /** The plain op's output clamped to [−limit, limit] (finite, &gt; 0): {@link Activation#CLAMP}, OLMo's and MPT's clip_qkv. */
    public LinearOp clamp(float limit) {
        return new LinearOp(x, w, transW, bias, wGate, biasGate, Activation.CLAMP, residual, alpha, out, limit, wq, wGateQ);
    }

    /** The gated form: act(x·w + bias) ⊙ (x·gate + gateBias); gateBias may be null. */
    public LinearOp gate(Tensor gate, Tensor gateBias) {
        return new LinearOp(x, w, transW, bias, gate, gateBias, activation, residual, alpha, out, limit, wq, wGateQ);
    }

    public LinearOp residual(Tensor r) { return new LinearOp(x, w, transW, bias, wGate, biasGate, activation, r, alpha, out, limit, wq, wGateQ); }

    public LinearOp alpha(float a) { return new LinearOp(x, w, transW, bias, wGate, biasGate, activation, residual, a, out, limit, wq, wGateQ); }

    public boolean gated() { return wGate != null || wGateQ != null; }

    /**
     * For a gated op whose {@code w} and {@code wGate} are the two halves of one (2N, K) matrix ([up ; gate]
     * fused at load, transW, wGate's rows right after w's in the same storage): that matrix, so that one GEMM
     * computes both products into (M, 2N); else null (the backends then run two products).
     */
    public Tensor fusedGate() {
        if (wGate == null || w == null || !transW || w.storage() != wGate.storage() || w.rank() != 2 || wGate.rank() != 2) return null;
        long rows = w.shape(0);
        if (rows == 0 || w.stride(1) != 1 || wGate.stride(1) != 1 || w.stride(0) != wGate.stride(0)
                || wGate.offset() != w.offset() + rows * w.stride(0)) {
            return null;
        }
        return w.extendRows(2 * rows);
    }

    /** {@code t} (…, parts·D) as {@code parts} views (…, D) along the last dimension (fused QKV → Q, K, V). */
    public static Tensor[] split(Tensor t, int parts) {
        Checks.open("t", t);
        if (parts < 1 || t.rank() < 1 || t.shape(-1) % parts != 0) {
            throw new IllegalArgumentException("cannot split " + t + " into " + parts + " equal parts along its last dimension");
        }
        long d = t.shape(-1) / parts;
        Tensor[] out = new Tensor[parts];
        for (int i = 0; i < parts; i++) out[i] = t.slice(-1, i * d, (i + 1) * d);
        return out;
    }

    /** Validated sizes and strides, in elements. */
    public record Shape(int m, int n, int k, long xRowStride, long wRowStride, long outRowStride, long residualRowStride) {}

    /** Throws IllegalArgumentException naming the tensor and both shapes when the op is malformed. */
    public Shape validate() {
        boolean q4 = wq != null || wGateQ != null;   // 4-bit weights: wq (and wGateQ) in place of w (and wGate)
        if (q4) {
            if (wq == null) throw new IllegalArgumentException("a 4-bit gate (wGateQ) needs 4-bit weights (wq)");
            if (w != null || wGate != null) throw new IllegalArgumentException("4-bit weights (wq) replace w and wGate, which must be null");
            if (!transW) throw new IllegalArgumentException("4-bit weights (wq) are (N, K): transW must be true");
        }
        Checks.open("x", x);
        if (!q4) Checks.open("w", w);
        Checks.open("out", out);
        if (activation == null) throw new IllegalArgumentException("activation is null (use Activation.NONE)");
        Checks.floating("x", x);
        if (!q4) Checks.sameDType("x", x, "w", w);
        Checks.sameDType("x", x, "out", out);
        if (!q4) Checks.sameDevice("x", x, "w", w);
        Checks.sameDevice("x", x, "out", out);
        if (q4) {
            wq.validate("wq");
            Checks.sameDevice("x", x, "wq.codes", wq.codes());
        }
        if (x.rank() < 1) throw new IllegalArgumentException("x must have at least one dimension, got " + x.shapeString());
        if (!q4 && w.rank() != 2) throw new IllegalArgumentException("w must be rank 2, got " + w.shapeString());
        long k = x.shape(-1);
        long wk = q4 ? wq.cols() : transW ? w.shape(1) : w.shape(0);
        long n = q4 ? wq.rows() : transW ? w.shape(0) : w.shape(1);
        String weights = q4 ? "wq (N, K) = (" + n + ", " + wk + ")" : "w " + w.shapeString() + (transW ? " (stored (N, K))" : " (stored (K, N))");
        if (wk != k) throw new IllegalArgumentException("x " + x.shapeString() + " has K=" + k + " but " + weights + " has K=" + wk);
        String product = q4 ? "wqᵀ" : "w " + w.shapeString() + (transW ? "ᵀ" : "");
        boolean outFits = out.rank() == x.rank() && out.shape(-1) == n;
        for (int d = 0; outFits && d < x.rank() - 1; d++) outFits = out.shape(d) == x.shape(d);
        if (!outFits) {
            throw new IllegalArgumentException("out has shape " + out.shapeString() + " but x " + x.shapeString() + " · " + product + " is " + withLast(x, n));
        }
        long m = 1;
        for (int d = 0; d < x.rank() - 1; d++) m *= x.shape(d);
        long xs = Checks.rowStride("x", x);
        long os = Checks.rowStride("out", out);
        long ws;
        if (q4) {
            ws = wq.codes().stride(0);
        } else {
            Checks.lastDimContiguous("w", w);
            ws = Math.max(w.stride(0), w.shape(1));
            if (w.shape(0) > 1 && w.stride(0) < w.shape(1)) throw new IllegalArgumentException("w rows overlap: " + w);
        }
        vector("bias", bias, n);
        boolean gated = q4 ? wGateQ != null : wGate != null;
        String gate = q4 ? "wGateQ" : "wGate";
        if (activation.gatedOnly() && !gated) throw new IllegalArgumentException("activation " + activation + " needs the gated form (" + gate + ")");
        checkLimit(activation, limit, gated);
        if (gated) {
            if (q4) {
                wGateQ.validate("wGateQ");
                if (wGateQ.rows() != n || wGateQ.cols() != k || wGateQ.groups() != wq.groups() || wGateQ.groupSize() != wq.groupSize()
                        || (wGateQ.gidx() == null) != (wq.gidx() == null) || wGateQ.codes().stride(0) != ws) {
                    throw new IllegalArgumentException("wGateQ (" + wGateQ.rows() + ", " + wGateQ.cols() + ", " + wGateQ.groups() + " groups) must have"
                            + " wq's shape (" + n + ", " + k + "), groups, group size, row stride " + ws + " and a gidx exactly where wq has one");
                }
            } else {
                Checks.sameLayout("wGate", wGate, "w", w);
                if (Math.max(wGate.stride(0), wGate.shape(1)) != ws) {
                    throw new IllegalArgumentException("wGate " + wGate + " must have w's row stride " + ws + ", has " + wGate.stride(0));
                }
            }
            vector("biasGate", biasGate, n);
        } else if (biasGate != null) {
            throw new IllegalArgumentException("biasGate " + biasGate + " given without " + gate);
        }
        long rs = Checks.rowsLike("residual", residual, "out", out);
        long limit = Integer.MAX_VALUE;
        if (m > limit || n > limit || k > limit) {
            throw new IllegalArgumentException("linear sizes exceed 2^31-1: M=" + m + " N=" + n + " K=" + k);
        }
        return new Shape((int) m, (int) n, (int) k, xs, ws, os, rs);
    }

    private void vector(String role, Tensor v, long n) {
        if (v == null) return;
        Checks.open(role, v);
        Checks.sameDType("x", x, role, v);
        Checks.sameDevice("x", x, role, v);
        if (v.rank() != 1 || v.shape(0) != n) {
            throw new IllegalArgumentException(role + " has shape " + v.shapeString() + " but the output has N=" + n
                    + " columns, so it must be (" + n + ")");
        }
        Checks.lastDimContiguous(role, v);
    }

    /** CLAMP's limit: finite and &gt; 0, on a plain op; every other activation takes none (0). Shared with ActivationOp. */
    static void checkLimit(Activation a, float limit, boolean gated) {
        if (a.limited()) {
            if (!(limit > 0) || !Float.isFinite(limit)) throw new IllegalArgumentException(a + "'s limit must be finite and > 0, got " + limit);
            if (gated) throw new IllegalArgumentException(a + " clamps one product: it takes no gate");
        } else if (limit != 0) {
            throw new IllegalArgumentException("activation " + a + " takes no limit, got " + limit);
        }
    }

    private static String withLast(Tensor t, long last) {
        long[] s = t.shape();
        s[s.length - 1] = last;
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) b.append(i == 0 ? "" : ", ").append(s[i]);
        return b.append(")").toString();
    }
}
