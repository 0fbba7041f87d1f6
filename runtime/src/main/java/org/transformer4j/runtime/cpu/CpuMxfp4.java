// CpuMxfp4 — GroupedLinearOp with MXFP4 weights on the CPU: each group's product through CpuGemm.gemmTransB, which decodes
// the weight rows (16 bytes of FP4 codes and one E8M0 scale per 32 values) where it needs them; the dense matrix is never formed.
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.runtime.GroupedLinearOp;
import org.transformer4j.runtime.Mxfp4;

/**
 * fp32 accumulation, the epilogue of CpuLinear (bias, activation, the gate's factor), one rounding to out's dtype. The product
 * is CpuGemm.gemmTransB over {@link Mxfp4Rows}: a group of up to 128 rows (with the Vector API) decodes each task's weight rows
 * into a per-thread tile and dots them, a larger group decodes each row's KC values as the blocked GEMM packs them.
 */
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
            CpuGemm.gemmTransB(rows, n, k, op.alpha(), x, k, new Mxfp4Rows(w, g, n, k), y, n, null);
            if (wg != null) CpuGemm.gemmTransB(rows, n, k, op.alpha(), x, k, new Mxfp4Rows(wg, g, n, k), gy, n, null);
            CpuLinear.epilogue(n, y, gy, bias, biasGate, null, act, 0f, 0, rows, 0, n);
            op.out().slice(0, from, to).copyFrom(y);                                       // the one rounding
        }
    }

    /**
     * count values (a multiple of 32) from their bytes (blocks at bBase, count / 32 groups of 16; scales at sBase) into
     * out[at, at + count): FP4 codes (low nibble first) times 2^(scale − 127), on vectors where they serve.
     */
    static void decodeBlocks(MemorySegment blocks, long bBase, MemorySegment scales, long sBase, int count, float[] out, int at) {
        if (CpuKernels.simd() && VectorOps.MXFP4_VECTORS) {
            VectorOps.decodeMxfp4Row(blocks, bBase, scales, sBase, count / 32, out, at);
            return;
        }
        decodeRowScalar(blocks, bBase, scales, sBase, count, out, at);
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
