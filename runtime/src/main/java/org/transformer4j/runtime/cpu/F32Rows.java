// F32Rows — an fp32 weight matrix (N, K) read where it lies (a memory-mapped checkpoint's view, native memory or the heap):
// the few-row path dots straight from it, the blocked path copies each row's KC values as it packs them, so no call copies
// the whole matrix first.
package org.transformer4j.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/** Row j at element {@code j · rowStride} of seg (elements are fp32, in the platform's order). */
record F32Rows(MemorySegment seg, int rowStride, int n, int k) implements WeightRows {

    F32Rows {
        if (rowStride < k || seg.byteSize() < 4L * ((long) Math.max(0, n - 1) * rowStride + k)) {
            throw new IllegalArgumentException("B (N, K) = (" + n + ", " + k + ") with row stride " + rowStride
                    + " does not fit in " + seg.byteSize() + " bytes");
        }
    }

    /** w (N, K), F32, contiguous, on the host: its rows in place; null for any other tensor. */
    static F32Rows of(Tensor w) {
        if (w.dtype() != DType.F32 || w.rank() != 2 || !w.isContiguous()) return null;
        return new F32Rows(w.hostSegment(), Math.toIntExact(w.shape(1)), Math.toIntExact(w.shape(0)), Math.toIntExact(w.shape(1)));
    }

    @Override
    public boolean shared(Thread other) {
        return seg.isAccessibleBy(other);
    }

    @Override
    public void decode(int j, int rows, int k0, int len, float[] dst, int at) {
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * ((long) (j + r) * rowStride + k0), dst, at + r * len, len);
        }
    }
}
