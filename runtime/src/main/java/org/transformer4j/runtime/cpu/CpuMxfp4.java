// CpuMxfp4 — GroupedLinearOp with MXFP4 weights on the CPU: each weight row decoded once into fp32 (16 bytes of FP4
// codes and one E8M0 scale per 32 values), then its dot with every row of the group; the dense matrix is never formed.
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.runtime.GroupedLinearOp;
import org.transformer4j.runtime.Mxfp4;

/** fp32 accumulation, the epilogue of CpuLinear (bias, activation, the gate's factor), one rounding to out's dtype. */
public final class CpuMxfp4 {

    private CpuMxfp4() {}

    /** Runs a validated MXFP4 op (offsets already read and checked) on host tensors. */
    public static void groupedLinear(GroupedLinearOp op, GroupedLinearOp.Shape s, int[] offsets) {
        int n = s.n(), k = s.k();
        int act = op.activation().code();
        Mxfp4 w = op.wq(), wg = op.wGateQ();
        for (int g = 0; g < s.groups(); g++) {
            int from = offsets[g], to = offsets[g + 1], rows = to - from;
            if (rows == 0) continue;
            float[] x = op.x().slice(0, from, to).toFloatArray();                       // (rows, K)
            float[] y = new float[rows * n], gy = wg == null ? null : new float[rows * n];
            float[] bias = op.bias() == null ? null : op.bias().select(0, g).toFloatArray();
            float[] biasGate = op.biasGate() == null ? null : op.biasGate().select(0, g).toFloatArray();
            if (rows >= TILE_ROWS_MIN) {
                product(w, g, x, rows, n, k, op.alpha(), y);
                if (wg != null) product(wg, g, x, rows, n, k, op.alpha(), gy);
            } else {
                int group = g;
                boolean simd = CpuKernels.simd();
                CpuKernels.parallelFor(Math.ceilDiv(n, TILE), (long) rows * n * k >= 1 << 16, tl -> {
                    float[] row = new float[k];                                             // one buffer per 64 weight rows
                    for (int j = (int) tl * TILE, end = Math.min(n, j + TILE); j < end; j++) {
                        decodeRow(w, group, j, k, row, 0);
                        for (int r = 0; r < rows; r++) y[r * n + j] = op.alpha() * dot(x, r * k, row, k, simd);
                        if (wg != null) {
                            decodeRow(wg, group, j, k, row, 0);
                            for (int r = 0; r < rows; r++) gy[r * n + j] = op.alpha() * dot(x, r * k, row, k, simd);
                        }
                    }
                });
            }
            CpuLinear.epilogue(n, y, gy, bias, biasGate, null, act, 0, rows, 0, n);
            op.out().slice(0, from, to).copyFrom(y);                                       // the one rounding
        }
    }

    /** Rows of a group from which its weights are decoded a tile at a time for the blocked GEMM (fewer: one row, one dot each). */
    static final int TILE_ROWS_MIN = 16;

    /** Weight rows decoded per tile: 64 · K floats (720 KB at gpt-oss's K = 2880). */
    static final int TILE = 64;

    /**
     * y (rows, N) = alpha · x (rows, K) · W[g]ᵀ: W's rows decoded TILE at a time (in parallel) into an fp32 tile, each tile
     * multiplied by CpuGemm into its columns of y; the dense matrix is never whole.
     */
    private static void product(Mxfp4 w, int g, float[] x, int rows, int n, int k, float alpha, float[] y) {
        float[] tile = new float[TILE * k];
        for (int j0 = 0; j0 < n; j0 += TILE) {
            int cols = Math.min(TILE, n - j0), first = j0;
            CpuKernels.parallelFor(cols, true, jl -> decodeRow(w, g, first + (int) jl, k, tile, (int) jl * k));   // straight into the tile
            CpuGemm.gemm(1, rows, cols, k, alpha, x, 0, 0, k, false, tile, 0, 0, k, true, 0f, y, j0, 0, n);
        }
    }

    private static float dot(float[] x, int off, float[] row, int k, boolean simd) {
        if (simd) return VectorOps.dot(x, off, row, 0, k);
        float d = 0f;
        for (int i = 0; i < k; i++) d += x[off + i] * row[i];
        return d;
    }

    /** Row j of matrix g of w into out[0, K): FP4 codes (low nibble first) times 2^(scale − 127). */
    static void decodeRow(Mxfp4 w, int g, int j, int k, float[] out, int at) {
        MemorySegment blocks = w.blocks().hostSegment(), scales = w.scales().hostSegment();
        long bBase = g * w.blocks().stride(0) + (long) j * w.blocks().stride(1);      // U8: elements are bytes
        long sBase = g * w.scales().stride(0) + (long) j * w.scales().stride(1);
        if (CpuKernels.simd() && VectorOps.MXFP4_VECTORS) {
            VectorOps.decodeMxfp4Row(blocks, bBase, scales, sBase, k / 32, out, at);
            return;
        }
        decodeRowScalar(blocks, bBase, scales, sBase, k, out, at);
    }

    /**
     * One MXFP4 row of k values from its bytes (blocks at bBase, k / 32 groups of 16; scales at sBase) into out[at, at + k),
     * one value at a time (no Vector API, or vectors of 4 lanes; also the loader's decode at load): FP4[code] times
     * 2^(scale − 127) as torch.ldexp gives it, in two exact steps ({@link #scaleHalves}) so that scale 255 overflows only
     * where the value does (0.5 · 2^128 is 2^127, not ∞).
     */
    public static void decodeRowScalar(MemorySegment blocks, long bBase, MemorySegment scales, long sBase, int k, float[] out, int at) {
        for (int q = 0; q < k / 32; q++) {
            int e = Byte.toUnsignedInt(scales.get(ValueLayout.JAVA_BYTE, sBase + q)) - 127;
            float s1 = scaleHalf(e, 0), s2 = scaleHalf(e, 1);
            long b0 = bBase + q * 16L;
            for (int b = 0; b < 16; b++) {
                int v = Byte.toUnsignedInt(blocks.get(ValueLayout.JAVA_BYTE, b0 + b));
                out[at + q * 32 + 2 * b] = Mxfp4.FP4[v & 15] * s1 * s2;
                out[at + q * 32 + 2 * b + 1] = Mxfp4.FP4[v >>> 4] * s1 * s2;
            }
        }
    }

    /**
     * 2^e for e in [−127, 128] as two finite factors, 2^(e / 2) (part 0) and 2^(e − e / 2) (part 1): an FP4 value (at most
     * 2 significant bits) times one then the other is exact, and overflows to ∞ exactly when value · 2^e does.
     */
    static float scaleHalf(int e, int part) {
        int first = e / 2;
        return Math.scalb(1f, part == 0 ? first : e - first);
    }
}
