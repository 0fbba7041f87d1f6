// CpuMxfp4Test — the vector decode of MXFP4 rows gives the scalar decode's bits, and both the format's values; a product over
// MXFP4 rows (the one-row dot decoded in registers included) gives the bits of the same product over the decoded matrix.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Mxfp4;
import org.transformer4j.runtime.Tensor;

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

    /**
     * CpuGemm.gemmTransB over {@link Mxfp4Rows} = CpuGemm.gemm over the matrix decoded one value at a time, bit for bit, for
     * one row (a decode step: with the Vector API the dot decodes the codes in registers, {@link Mxfp4Rows#dots}), a few
     * rows (decoded tiles) and the blocked path; the rows a strided view (gpt-oss's interleaved gate rows) of the second
     * matrix, N odd and over several tasks, K one block to 45 blocks; scales across E8M0's range.
     */
    @ParameterizedTest(name = "simd={0}")
    @ValueSource(booleans = {true, false})
    void gemmTransBOverMxfp4RowsGivesTheDecodedMatrixsBits(boolean simd) {
        if (simd) assumeTrue(CpuKernels.simdAvailable(), "the Vector API (jdk.incubator.vector) is not available");
        boolean saved = CpuKernels.simd();
        CpuKernels.setSimd(simd);
        try {
            SplittableRandom rnd = new SplittableRandom(2880);
            int[][] shapes = {{3, 32}, {37, 96}, {133, 1440}};
            boolean sawDots = false;
            for (int[] sh : shapes) {
                int n = sh[0], k = sh[1], kb = k / 32;
                byte[] blocks = new byte[2 * 2 * n * kb * 16], scales = new byte[2 * 2 * n * kb];
                rnd.nextBytes(blocks);
                for (int i = 0; i < scales.length; i++) {
                    int kind = rnd.nextInt(50);
                    scales[i] = (byte) (kind == 0 ? 1 : kind == 1 ? 200 : 110 + rnd.nextInt(25));
                }
                try (Tensor tb = Tensor.empty(DType.U8, 2, 2L * n, kb, 16); Tensor ts = Tensor.empty(DType.U8, 2, 2L * n, kb)) {
                    tb.hostSegment().copyFrom(MemorySegment.ofArray(blocks));
                    ts.hostSegment().copyFrom(MemorySegment.ofArray(scales));
                    Mxfp4 odd = new Mxfp4(tb, ts).everyOtherRow(1);
                    float[] dense = new float[n * k];                       // matrix 1's odd rows, decoded value by value
                    for (int j = 0; j < n; j++) {
                        int row = 2 * n + 2 * j + 1;
                        CpuMxfp4.decodeRowScalar(MemorySegment.ofArray(blocks), (long) row * kb * 16, MemorySegment.ofArray(scales),
                                (long) row * kb, k, dense, j * k);
                    }
                    Mxfp4Rows rows = new Mxfp4Rows(odd, 1, n, k);
                    sawDots |= rows.dots();
                    for (int m : new int[] {1, 2, 5, 129}) {
                        float[] a = new float[m * k];
                        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
                        float[] want = new float[m * n], got = new float[m * n];
                        Arrays.fill(got, Float.NaN);
                        CpuGemm.gemm(1, m, n, k, 0.5f, a, 0, 0, k, false, dense, 0, 0, k, true, 0f, want, 0, 0, n, null);
                        CpuGemm.gemmTransB(m, n, k, 0.5f, a, k, rows, got, n, null);
                        assertArrayEquals(want, got, "M=" + m + " N=" + n + " K=" + k + " simd=" + simd);
                    }
                }
            }
            if (simd && VectorOps.MXFP4_VECTORS) assertTrue(sawDots, "with 8 or 16 lanes the one-row product dots in registers");
        } finally {
            CpuKernels.setSimd(saved);
        }
    }
}
