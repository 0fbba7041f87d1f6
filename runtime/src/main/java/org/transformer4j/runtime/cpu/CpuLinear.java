// CpuLinear — the linear op on the CPU (LinearOp: the product with the MLP epilogue fused): the
// twin of native/src/linear/ (linear.cuh, epilogue.cuh) that CpuBackend.linear runs.
package org.transformer4j.runtime.cpu;

import org.transformer4j.runtime.ActivationOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;

/** fp32 math on all cores, one rounding to the output's dtype. */
public final class CpuLinear {

    private CpuLinear() {}

    /** Runs a validated op on host tensors. */
    public static void linear(LinearOp op, LinearOp.Shape s) {
        int m = s.m();
        int n = s.n();
        int k = s.k();
        Tensor both = op.fusedGate();
        if (both != null) {
            fusedGate(op, both, m, n, k);
            return;
        }
        float[] x = FloatArrays.copyOf(op.x());                         // (M, K) packed
        float[] g = null;
        if (op.gated()) {
            g = FloatArrays.take(Math.multiplyExact(m, n));        // written whole (beta = 0)
            product(op, op.wGate(), op.wGateQ(), x, m, n, k, g, null);  // (M, N) alpha·x·Wgate
        }
        float[] gate = g;
        float[] bias = op.bias() == null ? null : op.bias().toFloatArray();
        float[] biasGate = op.biasGate() == null ? null : op.biasGate().toFloatArray();
        float[] res = op.residual() == null ? null : FloatArrays.copyOf(op.residual());
        int act = op.activation().code();
        float limit = op.limit();
        // (M, N) alpha·x·W, fp32; the epilogue runs on each block of it as soon as the block is finished
        float[] y = FloatArrays.take(Math.multiplyExact(m, n));  // written whole (beta = 0)
        product(op, op.w(), op.wq(), x, m, n, k, y, (bi, i0, i1, j0, j1) -> epilogue(n, y, gate, bias, biasGate, res, act, limit, i0, i1, j0, j1));
        op.out().copyFrom(y);                                    // the one rounding to the dtype
        FloatArrays.give(x, g, res, y);
    }

    /**
     * The gated op over [up ; gate] fused (2N, K): one product into (M, 2N) (each element the same dot
     * product, in the same order, as in two products: the GEMM's path depends on M, not N), then the
     * epilogue reads both halves of each row.
     */
    private static void fusedGate(LinearOp op, Tensor both, int m, int n, int k) {
        float[] x = FloatArrays.copyOf(op.x());                         // (M, K) packed
        int n2 = Math.multiplyExact(2, n);
        float[] yg = FloatArrays.take(Math.multiplyExact(m, n2));      // (M, 2N) [x·W | x·W_gate], written whole
        product(op, both, null, x, m, n2, k, yg, null);
        float[] bias = op.bias() == null ? null : op.bias().toFloatArray();
        float[] biasGate = op.biasGate() == null ? null : op.biasGate().toFloatArray();
        float[] res = op.residual() == null ? null : FloatArrays.copyOf(op.residual());
        float[] y = FloatArrays.take(Math.multiplyExact(m, n));
        int act = op.activation().code();
        // the epilogue's steps in its order (bias, activation, ⊙ (gate + its bias), + residual), row by row in parallel
        CpuKernels.parallelFor(m, (long) m * n >= EPILOGUE_PARALLEL_MIN, rl -> {
            int r = (int) rl, o = r * n2;
            for (int c = 0; c < n; c++) yg[o + c] += bias == null ? 0f : bias[c];
            CpuKernels.activate(act, yg, o, n);
            for (int c = 0; c < n; c++) {
                float v = yg[o + c] * Activations.gateFactor(act, yg[o + n + c] + (biasGate == null ? 0f : biasGate[c]));
                y[r * n + c] = res == null ? v : v + res[r * n + c];
            }
        });
        op.out().copyFrom(y);
        FloatArrays.give(x, yg, res, y);
    }

    /** Elements below which the fused-gate epilogue runs on the calling thread (a task costs about as much). */
    private static final long EPILOGUE_PARALLEL_MIN = 1 << 15;

    /** Whether 16-bit weights (N, K) are read in place (always, but for tests that compare with the widened copy's bits). */
    private static volatile boolean halfInPlace = true;

    static void setHalfInPlace(boolean on) {
        halfInPlace = on;
    }

    private static void product(LinearOp op, Tensor w, Int4 q, float[] x, int m, int n, int k, float[] y,
                                CpuGemm.BlockEpilogue epilogue) {
        if (q != null) {  // 4-bit weights (N, K): decoded a task's tile at a time as 16-bit rows are (Int4Rows)
            CpuGemm.gemmTransB(m, n, k, op.alpha(), x, k, Int4Rows.of(q, op.x().dtype()), y, n, epilogue);
            return;
        }
        // Weights stored (N, K) (checkpoints' own layout), F32, BF16 or F16: read where they lie, 16-bit rows decoded inside
        // the GEMM a task's tile at a time, never copied or widened whole (a 7B model's matrices on every call cost more
        // than the products; a prefill's fp32 copy was 64 MB per call at 4096²)
        WeightRows rows = !op.transW() ? null : w.dtype() == DType.F32 ? F32Rows.of(w) : halfInPlace ? HalfRows.of(w) : null;
        if (rows != null) {
            CpuGemm.gemmTransB(m, n, k, op.alpha(), x, k, rows, y, n, epilogue);
            return;
        }
        float[] wf = FloatArrays.copyOf(w);                             // (K, N) or (N, K) packed
        CpuGemm.gemm(1, m, n, k, op.alpha(), x, 0, 0, k, false, wf, 0, 0, op.transW() ? k : n, op.transW(),
                0f, y, 0, 0, n, epilogue);
        FloatArrays.give(wf);
    }

    /**
     * y = act(y + bias) [* gateFactor(g + biasGate)] [+ res] in place on rows [r0, r1) and columns [c0, c1) of
     * (rows, cols) arrays, fp32: the twin of epilogue.cuh ({@code limit}: CLAMP's bound, else 0).
     */
    static void epilogue(int cols, float[] y, float[] g, float[] bias, float[] biasGate, float[] res, int act, float limit,
                         int r0, int r1, int c0, int c1) {
        for (int r = r0; r < r1; r++) {
            int o = r * cols;
            for (int c = c0; c < c1; c++) y[o + c] += bias == null ? 0f : bias[c];   // + 0f too: −0 becomes +0, as on the GPU
            CpuKernels.activate(act, limit, y, o + c0, c1 - c0);
            if (g != null) {
                for (int c = c0; c < c1; c++) y[o + c] *= Activations.gateFactor(act, g[o + c] + (biasGate == null ? 0f : biasGate[c]));
            }
            if (res != null) {
                for (int c = c0; c < c1; c++) y[o + c] += res[o + c];
            }
        }
    }

    /** {@link ActivationOp}: the epilogue's steps (activation, ⊙ gate factor, + residual) on rows already computed, in fp32, one rounding. */
    public static void activation(ActivationOp op, ActivationOp.Shape s) {
        int rows = Math.toIntExact(s.rows()), cols = Math.toIntExact(s.cols());
        float[] y = FloatArrays.copyOf(op.x());
        float[] g = op.gate() == null ? null : FloatArrays.copyOf(op.gate());
        float[] res = op.residual() == null ? null : FloatArrays.copyOf(op.residual());
        int act = op.activation().code();
        float limit = op.limit();
        CpuKernels.parallelFor(rows, (long) rows * cols >= EPILOGUE_PARALLEL_MIN, rl -> {
            int r = (int) rl;
            epilogue(cols, y, g, null, null, res, act, limit, r, r + 1, 0, cols);
        });
        op.out().copyFrom(y);
        FloatArrays.give(y, g, res);
    }
}
