// TensorTest — host tensors: creation, dtype round trips, views and strides, lifetime, bad input.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.cpu.Half;

class TensorTest {

    @Test
    void holdsValuesRowMajorInEachFloatingDType() {
        float[] data = {1.5f, -2.25f, 3.0e-3f, 65504f, -0.0f, 7.75f};
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            try (Tensor t = Tensor.of(dt, data, 2, 3)) {
                float[] back = t.toFloatArray();
                for (int i = 0; i < data.length; i++) {
                    float expected = switch (dt) {
                        case F16 -> Half.roundToF16(data[i]);
                        case BF16 -> Half.roundToBf16(data[i]);
                        default -> data[i];
                    };
                    assertEquals(expected, back[i], 0f, dt + " element " + i);
                }
                assertEquals(7.75f, t.getFloat(1, 2), 0f);
                assertEquals(6, t.numel());
                assertEquals(dt.byteSize() * 6L, t.storage().byteSize());
            }
        }
    }

    @Test
    void integerTensors() {
        try (Tensor t = Tensor.ofInts(new int[] {3, -1, 7, 0}, 2, 2)) {
            assertEquals(DType.I32, t.dtype());
            assertArrayEquals(new int[] {3, -1, 7, 0}, t.toIntArray());
            assertArrayEquals(new int[] {3, 7, -1, 0}, t.transpose(0, 1).toIntArray());
        }
    }

    /** Views whose last dimension has unit stride (copied a row at a time) and others, against index arithmetic on the root's array. */
    @Test
    void stridedViewsReadBackRowMajor() {
        float[] data = new float[3 * 4 * 5 * 6];
        for (int i = 0; i < data.length; i++) data[i] = i * 0.5f - 7;
        try (Tensor t = Tensor.ofFloats(data, 3, 4, 5, 6)) {
            // t[a, b + 1, c, d + 2] for a < 3, b < 2, c < 5, d < 3: inner stride 1, rows of 3
            Tensor v = t.slice(1, 1, 3).slice(3, 2, 5);
            float[] want = new float[3 * 2 * 5 * 3];
            int k = 0;
            for (int a = 0; a < 3; a++) for (int b = 0; b < 2; b++) for (int c = 0; c < 5; c++) for (int d = 0; d < 3; d++) {
                want[k++] = data[((a * 4 + b + 1) * 5 + c) * 6 + d + 2];
            }
            assertArrayEquals(want, v.toFloatArray(), 0f);
            // the same rows with the two middle dimensions swapped: still unit inner stride
            Tensor w = v.transpose(1, 2);
            k = 0;
            for (int a = 0; a < 3; a++) for (int c = 0; c < 5; c++) for (int b = 0; b < 2; b++) for (int d = 0; d < 3; d++) {
                assertEquals(data[((a * 4 + b + 1) * 5 + c) * 6 + d + 2], w.toFloatArray()[k++], 0f);
            }
            // one selected element per row (last dimension of 1) and a transposed last dimension
            assertArrayEquals(new float[] {data[3], data[9], data[15]}, t.select(0, 0).select(0, 0).slice(1, 3, 4).slice(0, 0, 3).toFloatArray(), 0f);
            Tensor tr = t.transpose(2, 3);
            float[] got = tr.toFloatArray();
            k = 0;
            for (int a = 0; a < 3; a++) for (int b = 0; b < 4; b++) for (int d = 0; d < 6; d++) for (int c = 0; c < 5; c++) {
                assertEquals(data[((a * 4 + b) * 5 + c) * 6 + d], got[k++], 0f);
            }
        }
    }

    @Test
    void viewsShareStorageAndHonourStrides() {
        float[] data = new float[24];
        for (int i = 0; i < data.length; i++) data[i] = i;
        try (Tensor t = Tensor.ofFloats(data, 2, 3, 4)) {
            Tensor tr = t.transpose(1, 2);                                      // (2, 4, 3)
            assertArrayEquals(new long[] {2, 4, 3}, tr.shape());
            assertFalse(tr.isContiguous());
            assertEquals(4f * 1 + 2, tr.getFloat(0, 2, 1), 0f);              // t[0, 1, 2]
            Tensor s = t.slice(2, 1, 3);                                       // (2, 3, 2)
            assertArrayEquals(new float[] {1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}, s.toFloatArray(), 0f);
            Tensor v = t.view(6, -1);
            assertArrayEquals(new long[] {6, 4}, v.shape());
            v.setFloat(-5f, 5, 3);
            assertEquals(-5f, t.getFloat(1, 2, 3), 0f, "a view writes through to its root");
            s.fill(0f);
            assertEquals(0f, t.getFloat(1, 2, 2), 0f);
            assertEquals(-5f, t.getFloat(1, 2, 3), 0f, "fill of a slice leaves the rest");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tr.view(24));
            assertTrue(e.getMessage().contains("non-contiguous"), e.getMessage());
        }
    }

    @Test
    void emptyTensorsAreContiguous() {
        try (Tensor t = Tensor.empty(DType.F32, 1, 2, 0); Tensor u = Tensor.empty(DType.BF16, 0, 3)) {
            assertTrue(t.isContiguous());
            assertTrue(u.isContiguous());
            assertEquals(0, t.toFloatArray().length);
            assertArrayEquals(new long[] {2, 0}, t.view(2, 0).shape());
        }
    }

    @Test
    void closingTheRootReleasesTheStorageForEveryView() {
        Tensor t = Tensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor v = t.view(4);
        v.close();                                       // a view does not own the storage
        assertFalse(t.isClosed());
        assertEquals(3f, v.getFloat(2), 0f);
        t.close();
        t.close();                                       // idempotent
        assertTrue(v.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, v::toFloatArray);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void badInputIsRejectedWithTheShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.ofFloats(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("5 values") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.empty(DType.F32, 2, -1));
        assertThrows(ArithmeticException.class, () -> Tensor.empty(DType.F32, Long.MAX_VALUE, 4));
        try (Tensor t = Tensor.empty(DType.F32, 2, 3)) {
            assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(2, 0));
            assertThrows(IllegalArgumentException.class, () -> t.getFloat(0));
            assertThrows(IllegalArgumentException.class, () -> t.slice(1, 2, 4));
            assertThrows(IllegalArgumentException.class, () -> t.view(4, -1));
            assertThrows(IllegalArgumentException.class, () -> t.transpose(0, 2));
            IllegalStateException notDevice = assertThrows(IllegalStateException.class, t::deviceAddress);
            assertTrue(notDevice.getMessage().contains("not in device memory"));
        }
    }

    @Test
    void wrapHostViewsBorrowedMemoryWithoutCopyingOrFreeingIt() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment seg = arena.allocate(6 * 4, 4);
            for (int i = 0; i < 6; i++) seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, i * 1.5f);
            Tensor t = Tensor.wrapHost(seg, DType.F32, 2, 3);
            assertEquals(4.5f, t.getFloat(1, 0), 0f);
            seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 5, -7f);   // same memory, no copy
            assertEquals(-7f, t.getFloat(1, 2), 0f);
            t.close();                                                          // does not free the borrowed memory
            assertEquals(-7f, seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 5), 0f);
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrapHost(seg, DType.F32, 2, 2));       // wrong size
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrapHost(seg.asSlice(2, 8), DType.F32, 2)); // misaligned
            assertThrows(IllegalArgumentException.class,
                    () -> Tensor.wrapHost(java.lang.foreign.MemorySegment.ofArray(new float[2]), DType.F32, 2)); // on-heap
        }
    }

    @Test
    void selectDropsADimensionOfAStridedViewAndExtendRowsRejoinsAdjacentRows() {
        float[] data = new float[2 * 3 * 4];
        for (int i = 0; i < data.length; i++) data[i] = i;
        try (Tensor t = Tensor.ofFloats(data, 1, 6, 4)) {
            Tensor cols = t.view(1, 6, 2, 2).slice(2, 1, 2);                 // (1, 6, 1, 2), strided: not viewable
            assertFalse(cols.isContiguous());
            Tensor s = cols.select(0, 0);                                     // (6, 1, 2)
            assertArrayEquals(new long[] {6, 1, 2}, s.shape());
            assertEquals(2 + 4 * 5 + 1, s.getFloat(5, 0, 1), 0f);
            assertThrows(IllegalArgumentException.class, () -> cols.select(0, 1));
            Tensor rows = t.view(6, 4).slice(0, 1, 3);                        // rows 1, 2
            Tensor more = rows.extendRows(5);                                 // rows 1..5, from the same storage
            assertEquals(20f, more.getFloat(4, 0), 0f);
            assertThrows(IllegalArgumentException.class, () -> rows.extendRows(6), "row 6 is past the storage");
        }
    }

    /**
     * A view that outlives every other reference to its root (a loader keeping only a slice or a reshape of a stored
     * tensor) keeps the root from the Cleaner: its storage is not released under it. Before, the Cleaner released it at the
     * root's collection and the view read "closed" (HfSeq2SeqTest saw it once, depending on GC timing).
     */
    @Test
    void aViewKeepsItsUnreferencedRootFromTheCleaner() throws Exception {
        Tensor view = Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).slice(0, 1, 2).view(3);   // the root: unreferenced
        java.lang.ref.WeakReference<Object> probe = new java.lang.ref.WeakReference<>(new Object());
        for (int i = 0; i < 50 && probe.get() != null; i++) {                // until a collection has certainly happened
            System.gc();
            Thread.sleep(10);
        }
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);                                                // the Cleaner's thread runs its actions
        }
        assertFalse(view.isClosed(), "the view's storage was released with its unreferenced root");
        assertArrayEquals(new float[] {4, 5, 6}, view.toFloatArray());
    }

    /**
     * Storage's accounts: the tensors' host memory in use rises by a tensor's bytes and falls back when it closes
     * (borrowed memory counts nothing), and a tensor left unclosed is counted when the Cleaner releases it. The
     * counters are process-wide and the Cleaner may release other tests' leftovers meanwhile, so the exact check
     * is tried a few times: an account that is wrong fails every try.
     */
    @Test
    void storageCountsHostMemoryInUseAndTensorsLeftUnclosed() throws Exception {
        boolean exact = false;
        for (int attempt = 0; attempt < 5 && !exact; attempt++) {
            long before = Storage.hostBytesLive();
            Tensor t = Tensor.empty(DType.F32, 1000);
            long held = Storage.hostBytesLive();
            long borrowedBefore = held;
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
                 Tensor b = Tensor.wrapHost(arena.allocate(64, 4), DType.F32, 16)) {
                borrowedBefore = Storage.hostBytesLive() - held;
            }
            t.close();
            t.close();                                                        // a second close gives nothing back twice
            long after = Storage.hostBytesLive();
            exact = held - before == 4000 && borrowedBefore == 0 && after == before;
        }
        assertTrue(exact, "host memory in use did not rise by 4000 bytes and fall back");

        long unclosed = Storage.releasedUnclosed();
        leaveUnclosed();
        for (int i = 0; i < 100 && Storage.releasedUnclosed() == unclosed; i++) {
            System.gc();
            Thread.sleep(20);                                                 // the Cleaner's thread runs its actions
        }
        assertTrue(Storage.releasedUnclosed() > unclosed, "a tensor the Cleaner released unclosed was not counted");
    }

    private static void leaveUnclosed() {
        Tensor.empty(DType.F32, 16).fill(1f);
    }

    /**
     * 16-bit tensors read and written a row at a time (contiguous, a column slice, a batch of column slices) hold exactly what
     * element-by-element reads and writes give: each value decoded by Half's bf16ToFloat / f16ToFloat and rounded by its
     * floatToBf16 / floatToF16; a transposed view (no unit-stride rows) takes the element path and agrees too.
     */
    @Test
    void halfRowsReadAndWriteAsElementsDo() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(4);
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            try (Tensor t = Tensor.empty(dt, 3, 5, 12)) {
                float[] vals = new float[3 * 5 * 12];
                for (int i = 0; i < vals.length; i++) vals[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-12, 12)));
                vals[7] = Float.NaN;
                vals[8] = -0f;
                Tensor[] views = {t, t.slice(2, 3, 10), t.slice(1, 1, 4).slice(2, 0, 5), t.view(15, 12).transpose(0, 1)};
                for (Tensor v : views) {
                    int n = (int) v.numel();
                    float[] data = java.util.Arrays.copyOf(vals, n);
                    v.copyFrom(data);
                    long[] idx = new long[v.rank()];
                    for (int e = 0; e < n; e++) {                                     // row-major over v's own shape
                        long rest = e;
                        for (int d = v.rank() - 1; d >= 0; d--) {
                            idx[d] = rest % v.shape(d);
                            rest /= v.shape(d);
                        }
                        float want = dt == DType.BF16 ? Half.bf16ToFloat(Half.floatToBf16(data[e])) : Half.f16ToFloat(Half.floatToF16(data[e]));
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(v.getFloat(idx)), dt + " " + v + " element " + e);
                    }
                    float[] back = v.toFloatArray();
                    for (int e = 0; e < n; e++) {
                        long rest = e;
                        for (int d = v.rank() - 1; d >= 0; d--) {
                            idx[d] = rest % v.shape(d);
                            rest /= v.shape(d);
                        }
                        assertEquals(Float.floatToIntBits(v.getFloat(idx)), Float.floatToIntBits(back[e]), dt + " " + v + " read " + e);
                    }
                }
            }
        }
    }
}
