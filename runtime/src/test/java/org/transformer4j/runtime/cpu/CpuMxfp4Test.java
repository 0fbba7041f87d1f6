// CpuMxfp4Test — the vector decode of MXFP4 rows gives the scalar decode's bits, and both the format's values.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class CpuMxfp4Test {

    /** Every byte value in every position, scales from 2^-127 to 2^128 (E8M0 whole range; at 255, 0.5 and 1 stay finite as torch.ldexp keeps them). */
    @Test
    void vectorDecodeIsTheScalarDecodeBitForBit() {
        assumeTrue(CpuKernels.simd() && VectorOps.MXFP4_VECTORS, "no Vector API, or vectors of 4 lanes: the scalar decode only");
        int groups = 64, k = 32 * groups;
        byte[] blocks = new byte[16 * groups], scales = new byte[groups];
        for (int i = 0; i < blocks.length; i++) blocks[i] = (byte) (i * 7 + i / 16);       // all 256 values, shifted per group
        for (int q = 0; q < groups; q++) scales[q] = (byte) (q < 60 ? 100 + q : new int[] {0, 1, 254, 255}[q - 60]);
        float[] vec = new float[k], scalar = new float[k];
        MemorySegment b = MemorySegment.ofArray(blocks), s = MemorySegment.ofArray(scales);
        VectorOps.decodeMxfp4Row(b, 0, s, 0, groups, vec, 0);
        CpuMxfp4.decodeRowScalar(b, 0, s, 0, k, scalar, 0);
        float[] table = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
        for (int i = 0; i < k; i++) {
            assertEquals(Float.floatToRawIntBits(scalar[i]), Float.floatToRawIntBits(vec[i]), "value " + i + ": " + scalar[i] + " vs " + vec[i]);
            int code = (blocks[i / 2] & 0xff) >> (i % 2 == 0 ? 0 : 4) & 15;
            double want = ((code & 8) != 0 ? -1 : 1) * table[code & 7] * Math.pow(2, (scales[i / 32] & 0xff) - 127);
            if (Double.isFinite(want)) assertEquals((float) want, scalar[i], "the format's value at " + i);
        }
    }
}
