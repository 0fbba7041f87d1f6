// Mxfp4Rows — matrix g of an MXFP4 weight (G, N, K) as rows CpuGemm decodes where it needs them: 16 bytes of FP4 codes and
// one E8M0 scale per 32 values, decoded by CpuMxfp4.decodeBlocks.
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.transformer4j.runtime.Mxfp4;

/** Group g's (N, K) matrix of w; K is a multiple of 32 (Mxfp4 checks it). */
record Mxfp4Rows(Mxfp4 w, int g, int n, int k) implements WeightRows {

    Mxfp4Rows {
        if (k % 32 != 0) throw new IllegalArgumentException("MXFP4 rows: K = " + k + " is not a multiple of 32");
    }

    @Override
    public boolean shared(Thread other) {
        return w.blocks().hostSegment().isAccessibleBy(other) && w.scales().hostSegment().isAccessibleBy(other);
    }

    /** With the Vector API at 8 or 16 float lanes: a one-row product dots straight from the codes (VectorOps.dotMxfp4). */
    @Override
    public boolean dots() {
        return CpuKernels.simd() && VectorOps.MXFP4_VECTORS;
    }

    @Override
    public float dot(float[] x, int xo, int j) {
        long bBase = g * w.blocks().stride(0) + (long) j * w.blocks().stride(1);
        long sBase = g * w.scales().stride(0) + (long) j * w.scales().stride(1);
        return VectorOps.dotMxfp4(x, xo, w.blocks().hostSegment(), bBase, w.scales().hostSegment(), sBase, k / 32);
    }

    @Override
    public void decode(int j, int rows, int k0, int len, float[] dst, int at) {
        if (k0 % 32 != 0 || (len % 32 != 0 && k0 + len != k)) {
            throw new IllegalArgumentException("MXFP4 rows decode whole blocks of 32: elements [" + k0 + ", " + (k0 + len) + ") of " + k);
        }
        MemorySegment blocks = w.blocks().hostSegment(), scales = w.scales().hostSegment();
        for (int r = 0; r < rows; r++) {
            long bBase = g * w.blocks().stride(0) + (long) (j + r) * w.blocks().stride(1) + k0 / 2;   // U8: elements are bytes
            long sBase = g * w.scales().stride(0) + (long) (j + r) * w.scales().stride(1) + k0 / 32;
            CpuMxfp4.decodeBlocks(blocks, bBase, scales, sBase, len, dst, at + r * len);
        }
    }
}
