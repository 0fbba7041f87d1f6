// Int4Rows — a 4-bit weight (N, K) in GPTQ's packing (Int4: AWQ / GPTQ checkpoints) as rows CpuGemm decodes where it needs
// them: the CPU twin of native/src/linear/int4.cuh. Row n's codes are column n of the (K/8, N) words, so a tile of rows
// reads each word row's run of columns once.
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Int4;

/**
 * W[n, k] = half((q − z)·s) — the product rounded once to float16, as AutoAWQ's and AutoGPTQ's dequantization computes it
 * (and as IntQuant's dequantizing load stores it) — then rounded to {@code dtype} (BF16: once more; F16 and F32: as is):
 * the values a dequantizing load followed by the weights' copy to the compute dtype holds, bit for bit.
 */
record Int4Rows(Int4 w, int[] gidx, DType dtype, int n, int k) implements WeightRows {

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** w's rows for a product in {@code dtype}; g_idx read to the host once. */
    static Int4Rows of(Int4 w, DType dtype) {
        return new Int4Rows(w, w.gidx() == null ? null : w.gidx().toIntArray(), dtype, Math.toIntExact(w.rows()), Math.toIntExact(w.cols()));
    }

    @Override
    public boolean shared(Thread other) {
        return w.codes().hostSegment().isAccessibleBy(other) && w.scales().hostSegment().isAccessibleBy(other)
                && w.zeros().hostSegment().isAccessibleBy(other);
    }

    /** The weight of code q under scale s (F16 bits) and zero point z, in {@code dtype}. */
    static float value(int q, int z, short s, DType dtype) {
        float h = Float.float16ToFloat(Float.floatToFloat16((q - z) * Float.float16ToFloat(s)));  // exact product, one rounding
        return dtype == DType.BF16 ? Half.roundToBf16(h) : h;
    }

    /** The 16 values of element e's scale and zero point (its group's, its column's) into tables[t, t + 16); returns e. */
    private long table(long e, MemorySegment scales, MemorySegment zeros, float[] tables, int t) {
        short s = scales.get(I16, 2 * e);
        int z = Byte.toUnsignedInt(zeros.get(ValueLayout.JAVA_BYTE, e));
        for (int q = 0; q < 16; q++) tables[t + q] = value(q, z, s, dtype);
        return e;
    }

    /**
     * Word rows outer, the tile's rows inner: row j + r's word of k = 8w .. 8w + 7 is column j + r of word row w, so the
     * rows' words of one word row are consecutive (a cache line serves 16 rows). Each row keeps the 16 values of its current
     * (group, column) — rebuilt when the group changes, every group / 8 words without g_idx.
     */
    @Override
    public void decode(int j, int rows, int k0, int len, float[] dst, int at) {
        MemorySegment codes = w.codes().hostSegment(), scales = w.scales().hostSegment(), zeros = w.zeros().hostSegment();
        long ld = w.codes().stride(0);
        float[] tables = new float[16 * rows];
        long[] tableAt = new long[rows];
        java.util.Arrays.fill(tableAt, -1);
        int end = k0 + len;
        boolean vec = gidx == null && CpuKernels.simd() && VectorOps.INT4_VECTORS;   // whole words: one vector lookup each
        for (int k8 = k0 / 8 * 8; k8 < end; k8 += 8) {
            long wordRow = (k8 / 8) * ld;
            int from = Math.max(k8, k0), to = Math.min(k8 + 8, end);
            long wordGroup = gidx == null ? w.groupOf(k8, null) * ld : -1;  // without g_idx a word's 8 values share one group
            for (int r = 0; r < rows; r++) {
                int col = j + r;
                int word = codes.get(I32, 4 * (wordRow + col));
                int o = at + r * len - k0, t = 16 * r;
                if (vec && from == k8 && to == k8 + 8) {
                    long e = wordGroup + col;
                    if (e != tableAt[r]) tableAt[r] = table(e, scales, zeros, tables, t);
                    VectorOps.int4Decode8(word, tables, t, dst, o + k8);
                    continue;
                }
                for (int kk = from; kk < to; kk++) {
                    if (gidx != null || kk == from) {
                        long e = (gidx == null ? wordGroup : w.groupOf(kk, gidx) * ld) + col;
                        if (e != tableAt[r]) tableAt[r] = table(e, scales, zeros, tables, t);
                    }
                    dst[o + kk] = tables[t + ((word >>> (4 * (kk - k8))) & 15)];
                }
            }
        }
    }
}
