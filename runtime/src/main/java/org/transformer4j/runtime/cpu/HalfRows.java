// HalfRows — a BF16 or F16 matrix (N, K) read where it lies (a memory-mapped checkpoint's view, or the heap):
// CpuGemm decodes the rows a task needs into a small fp32 tile (one bf16 row: straight into its dot) instead of the caller widening the whole matrix first.
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/**
 * Rows of a 16-bit float matrix (N, K), row j at element {@code j · rowStride} of its segment, decoded to fp32
 * exactly as {@link Tensor#toFloatArray()} widens them (bf16: the bits shifted up 16; f16: Float.float16ToFloat), so a
 * product over decoded rows has the bits of the same product over the widened matrix. Tasks decode in parallel.
 */
record HalfRows(MemorySegment seg, int rowStride, boolean bf16, int n, int k) implements WeightRows {

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** Per-thread staging for the f16 and scalar bf16 decodes (a run of raw bits, then one widening loop over it). */
    private static final ThreadLocal<short[]> BITS = ThreadLocal.withInitial(() -> new short[0]);

    /** w (N, K), BF16 or F16, contiguous, on the host: its rows in place; null for any other tensor. */
    static HalfRows of(Tensor w) {
        if ((w.dtype() != DType.BF16 && w.dtype() != DType.F16) || w.rank() != 2 || !w.isContiguous()) return null;
        return new HalfRows(w.hostSegment(), Math.toIntExact(w.shape(1)), w.dtype() == DType.BF16,
                Math.toIntExact(w.shape(0)), Math.toIntExact(w.shape(1)));
    }

    @Override
    public boolean shared(Thread other) {
        return seg.isAccessibleBy(other);
    }

    @Override
    public void decode(int j, int rows, int k0, int len, float[] dst, int at) {
        if (len == k && k == rowStride) {                           // whole rows, back to back: one run
            decodeRun(2L * j * rowStride, rows * len, dst, at);
            return;
        }
        for (int r = 0; r < rows; r++) {
            decodeRun(2L * ((long) (j + r) * rowStride + k0), len, dst, at + r * len);
        }
    }

    /** bf16 rows, with the Vector API (f16 has no vector conversion there). */
    @Override
    public boolean dots() {
        return bf16 && CpuKernels.simd();
    }

    @Override
    public float dot(float[] x, int xo, int j) {
        return VectorOps.dotBf16(x, xo, seg, 2L * j * rowStride, k);
    }

    /** count consecutive values from byte off into dst[at, at + count). */
    private void decodeRun(long off, int count, float[] dst, int at) {
        if (bf16 && CpuKernels.simd()) {
            VectorOps.widenBf16(seg, off, dst, at, count);
            return;
        }
        short[] bits = BITS.get();
        if (bits.length < count) BITS.set(bits = new short[count]);
        MemorySegment.copy(seg, I16, off, bits, 0, count);
        if (bf16) {
            for (int i = 0; i < count; i++) dst[at + i] = Float.intBitsToFloat(bits[i] << 16);
        } else {
            for (int i = 0; i < count; i++) dst[at + i] = Float.float16ToFloat(bits[i]);
        }
    }
}
