// GroupedLinearOp — one projection per group of rows, each group with its own weights: the experts of a
// mixture of experts, after their tokens were gathered expert by expert. Group sizes live on the device.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#groupedLinear}:
 * <pre>
 *   x        (R, K)               rows of all groups, group g's at offsets[g] .. offsets[g+1]-1
 *   w        (G, N, K) when transW (Hugging Face's per-expert nn.Linear stacked), else (G, K, N)
 *   wGate    like w (same strides), or null: gated, act(x·W[g]) ⊙ (x·W_gate[g])
 *   bias     (G, N) or null: group g's bias added to x·W[g] before the activation (GPT-OSS's experts)
 *   biasGate (G, N) or null, only with wGate: added to x·W_gate[g]
 *   offsets  I32 (G + 1), read when the op runs: 0 = offsets[0] ≤ … ≤ offsets[G] ≤ R
 *   out      (R, N); rows past offsets[G] are left alone
 * </pre>
 * Out row r of group g = act(alpha·x[r]·W[g] + bias[g]) [⊙ (alpha·x[r]·W_gate[g] + biasGate[g])] [+ residual[r]], fp32
 * accumulation, one rounding (SWIGLU_OAI combines the two products by its own formula). The residual (see
 * {@link #residual}) is what a LoRA adapter's expand adds into its base projection's output with. W and W_gate may be views of one fused
 * (G, 2N, K) tensor (transformers 5.x's {@code gate_up_proj}). On CUDA the group sizes stay on the
 * device: R is a capacity (T·k for a router's output), and blocks past a group's rows exit.
 */
public record GroupedLinearOp(Tensor x, Tensor w, boolean transW, Tensor wGate, Activation activation, float alpha,
                              Tensor offsets, Tensor out, Tensor bias, Tensor biasGate, Mxfp4 wq, Mxfp4 wGateQ, Tensor residual) {

    public GroupedLinearOp(Tensor x, Tensor w, boolean transW, Tensor wGate, Activation activation, float alpha,
                           Tensor offsets, Tensor out, Tensor bias, Tensor biasGate, Mxfp4 wq, Mxfp4 wGateQ) {
        this(x, w, transW, wGate, activation, alpha, offsets, out, bias, biasGate, wq, wGateQ, null);
    }

    public GroupedLinearOp(Tensor x, Tensor w, boolean transW, Tensor wGate, Activation activation, float alpha,
                           Tensor offsets, Tensor out) {
        this(x, w, transW, wGate, activation, alpha, offsets, out, null, null, null, null);
    }

    public GroupedLinearOp(Tensor x, Tensor w, boolean transW, Tensor wGate, Activation activation, float alpha,
                           Tensor offsets, Tensor out, Tensor bias, Tensor biasGate) {
        this(x, w, transW, wGate, activation, alpha, offsets, out, bias, biasGate, null, null);
    }

    /**
     * The same projection with MXFP4 weights ({@link Mxfp4}: each group's W (N, K), as transW): W[g] and W_gate[g] decoded
     * on the fly, never stored dense. w and wGate are then null.
     */
    public static GroupedLinearOp mxfp4(Tensor x, Mxfp4 w, Tensor offsets, Tensor out) {
        return new GroupedLinearOp(x, null, true, null, Activation.NONE, 1f, offsets, out, null, null, w, null);
    }

    /** The gate's MXFP4 weights (like wq's), for the gated form. */
    public GroupedLinearOp gate(Mxfp4 g) {
        return new GroupedLinearOp(x, w, transW, wGate, activation, alpha, offsets, out, bias, biasGate, wq, g, residual);
    }

    public static GroupedLinearOp of(Tensor x, Tensor w, Tensor offsets, Tensor out) {
        return new GroupedLinearOp(x, w, false, null, Activation.NONE, 1f, offsets, out);
    }

    public GroupedLinearOp transW(boolean t) { return new GroupedLinearOp(x, w, t, wGate, activation, alpha, offsets, out, bias, biasGate, wq, wGateQ, residual); }

    public GroupedLinearOp activation(Activation a) { return new GroupedLinearOp(x, w, transW, wGate, a, alpha, offsets, out, bias, biasGate, wq, wGateQ, residual); }

    public GroupedLinearOp gate(Tensor g) { return new GroupedLinearOp(x, w, transW, g, activation, alpha, offsets, out, bias, biasGate, wq, wGateQ, residual); }

    public GroupedLinearOp alpha(float a) { return new GroupedLinearOp(x, w, transW, wGate, activation, a, offsets, out, bias, biasGate, wq, wGateQ, residual); }

    /**
     * Per-group biases (G, N) of the product and of the gate's product (either null: none). On CUDA (ABI 11:
     * t4j_linear_params.stride_bias) in the grouped kernels' epilogue; emulated, never run on a GPU.
     */
    public GroupedLinearOp bias(Tensor b, Tensor bGate) {
        return new GroupedLinearOp(x, w, transW, wGate, activation, alpha, offsets, out, b, bGate, wq, wGateQ, residual);
    }

    /**
     * out = residual + (the product), row by row, for the rows of the groups (rows past offsets[G] are left alone, as
     * without it). residual is (R, N) like out, or null; it may be {@code out} itself (the same storage, offset and
     * strides: out += product, a LoRA adapter's expand adding into a base projection's output), else it must not be
     * written by the op. Dense weights only (not with MXFP4). On CUDA (ABI 15) in the grouped kernels' epilogue;
     * emulated, never run on a GPU.
     */
    public GroupedLinearOp residual(Tensor r) {
        return new GroupedLinearOp(x, w, transW, wGate, activation, alpha, offsets, out, bias, biasGate, wq, wGateQ, r);
    }

    /** Sizes and strides in elements: groups G, rows R (capacity), N, K; W's group and row strides; residual's row stride (0: none). */
    public record Shape(int groups, int rows, int n, int k, long xRowStride, long wGroupStride, long wRowStride, long outRowStride,
                        long residualRowStride) {}

    public Shape validate() {
        if (wq != null) return validateMxfp4();
        if (wGateQ != null) throw new IllegalArgumentException("an MXFP4 gate (wGateQ) needs MXFP4 weights (wq)");
        Checks.open("w", w);
        checkRowsAndOutput();
        Checks.sameDType("x", x, "w", w);
        Checks.sameDevice("x", x, "w", w);
        if (x.rank() != 2) throw new IllegalArgumentException("x must be (R, K), got " + x.shapeString());
        if (w.rank() != 3) throw new IllegalArgumentException("w must be (G, N, K) or (G, K, N), got " + w.shapeString());
        long g = w.shape(0);
        long k = x.shape(1);
        long wk = transW ? w.shape(2) : w.shape(1);
        long n = transW ? w.shape(1) : w.shape(2);
        if (g < 1) throw new IllegalArgumentException("w has no groups: " + w.shapeString());
        if (wk != k) {
            throw new IllegalArgumentException("x " + x.shapeString() + " has K=" + k + " but w " + w.shapeString()
                    + (transW ? " (stored (G, N, K))" : " (stored (G, K, N))") + " has K=" + wk);
        }
        if (out.rank() != 2 || out.shape(0) != x.shape(0) || out.shape(1) != n) {
            throw new IllegalArgumentException("out must be (" + x.shape(0) + ", " + n + "), got " + out.shapeString());
        }
        if (offsets.dtype() != DType.I32 || offsets.rank() != 1 || offsets.shape(0) != g + 1 || !offsets.isContiguous()) {
            throw new IllegalArgumentException("offsets must be a contiguous I32 (" + (g + 1) + ") for w's " + g + " groups, got " + offsets);
        }
        Checks.lastDimContiguous("w", w);
        long inner = w.shape(2);
        long ws = w.shape(1) > 1 ? w.stride(1) : inner;
        long gs = w.stride(0);
        if (ws < inner || (g > 1 && gs < ws * w.shape(1))) throw new IllegalArgumentException("w's rows or groups overlap: " + w);
        if (wGate != null) {
            Checks.sameLayout("wGate", wGate, "w", w);
            long gws = wGate.shape(1) > 1 ? wGate.stride(1) : inner;
            if (gws != ws || (g > 1 && wGate.stride(0) != gs)) {
                throw new IllegalArgumentException("wGate " + wGate + " must have w's strides (" + gs + ", " + ws + ")");
            }
        }
        if (activation.gatedOnly() && wGate == null) {
            throw new IllegalArgumentException("activation " + activation + " needs the gated form (wGate)");
        }
        groupVector("bias", bias, g, n);
        if (biasGate != null && wGate == null) throw new IllegalArgumentException("biasGate " + biasGate + " given without wGate");
        groupVector("biasGate", biasGate, g, n);
        long limit = Integer.MAX_VALUE;
        if (x.shape(0) > limit || n > limit || k > limit || g > limit) {
            throw new IllegalArgumentException("grouped linear sizes exceed 2^31-1: R=" + x.shape(0) + " N=" + n + " K=" + k);
        }
        long rs = Checks.rowsLike("residual", residual, "out", out);
        if (residual != null && residual.storage() == out.storage() && residual != out
                && (residual.offset() != out.offset() || !java.util.Arrays.equals(residual.strides(), out.strides()))) {
            throw new IllegalArgumentException("residual " + residual + " shares out's storage but is not out itself (same offset and"
                    + " strides): the op would read rows it has written");
        }
        return new Shape((int) g, (int) x.shape(0), (int) n, (int) k, Checks.rowStride("x", x), gs, ws, Checks.rowStride("out", out), rs);
    }

    private void groupVector(String role, Tensor b, long g, long n) {
        if (b == null) return;
        Checks.open(role, b);
        Checks.sameDType("x", x, role, b);
        Checks.sameDevice("x", x, role, b);
        if (b.rank() != 2 || b.shape(0) != g || b.shape(1) != n || !b.isContiguous()) {
            throw new IllegalArgumentException(role + " is " + b + " but the " + g + " groups of N=" + n + " need a contiguous (" + g + ", " + n
                    + "): one bias row per group");
        }
    }

    /** x, offsets and out open, floating x and out of one dtype on one device with offsets; a named activation, a finite alpha. */
    private void checkRowsAndOutput() {
        Checks.open("x", x);
        Checks.open("offsets", offsets);
        Checks.open("out", out);
        if (activation == null) throw new IllegalArgumentException("activation is null (use Activation.NONE)");
        if (activation.limited()) throw new IllegalArgumentException("activation " + activation + " is not offered on grouped GEMMs");
        if (!Float.isFinite(alpha)) throw new IllegalArgumentException("alpha must be finite, got " + alpha);
        Checks.floating("x", x);
        Checks.sameDType("x", x, "out", out);
        Checks.sameDevice("x", x, "out", out);
        Checks.sameDevice("x", x, "offsets", offsets);
    }

    /** {@link #validate} for MXFP4 weights: the Shape's strides are those of wq's scales (groups of 32 along K). */
    private Shape validateMxfp4() {
        if (w != null || wGate != null) throw new IllegalArgumentException("MXFP4 weights (wq) replace w and wGate, which must be null");
        checkRowsAndOutput();
        wq.validate("wq");
        Checks.sameDevice("x", x, "wq.blocks", wq.blocks());
        if (x.rank() != 2) throw new IllegalArgumentException("x must be (R, K), got " + x.shapeString());
        long g = wq.groups(), n = wq.rows(), k = x.shape(1);
        if (wq.cols() != k) throw new IllegalArgumentException("x " + x.shapeString() + " has K=" + k + " but wq's blocks " + wq.blocks().shapeString()
                + " hold K=" + wq.cols());
        if (g < 1) throw new IllegalArgumentException("wq has no groups: " + wq.blocks().shapeString());
        if (wGateQ != null) {
            wGateQ.validate("wGateQ");
            if (!java.util.Arrays.equals(wGateQ.blocks().shape(), wq.blocks().shape())
                    || !java.util.Arrays.equals(wGateQ.blocks().strides(), wq.blocks().strides())) {
                throw new IllegalArgumentException("wGateQ " + wGateQ.blocks() + " must have wq's shape and strides " + wq.blocks());
            }
        }
        if (activation.gatedOnly() && wGateQ == null) throw new IllegalArgumentException("activation " + activation + " needs the gated form (wGateQ)");
        if (out.rank() != 2 || out.shape(0) != x.shape(0) || out.shape(1) != n) {
            throw new IllegalArgumentException("out must be (" + x.shape(0) + ", " + n + "), got " + out.shapeString());
        }
        if (offsets.dtype() != DType.I32 || offsets.rank() != 1 || offsets.shape(0) != g + 1 || !offsets.isContiguous()) {
            throw new IllegalArgumentException("offsets must be a contiguous I32 (" + (g + 1) + ") for wq's " + g + " groups, got " + offsets);
        }
        groupVector("bias", bias, g, n);
        if (biasGate != null && wGateQ == null) throw new IllegalArgumentException("biasGate " + biasGate + " given without wGateQ");
        groupVector("biasGate", biasGate, g, n);
        if (x.shape(0) > Integer.MAX_VALUE || n > Integer.MAX_VALUE || k > Integer.MAX_VALUE || g > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("grouped linear sizes exceed 2^31-1: R=" + x.shape(0) + " N=" + n + " K=" + k);
        }
        if (residual != null) throw new IllegalArgumentException("a residual is not taken with MXFP4 weights (wq)");
        return new Shape((int) g, (int) x.shape(0), (int) n, (int) k, Checks.rowStride("x", x), wq.scales().stride(0), wq.scales().stride(1),
                Checks.rowStride("out", out), 0);
    }
}
