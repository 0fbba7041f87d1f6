// CpuKernelsTest: the CPU kernels (GEMM, LayerNorm, RMSNorm) against the float64 Oracle, on fresh
// random data over many shapes and layouts, once on the Vector API path and once on the scalar path.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;
import org.transformer4j.runtime.reference.Oracle;

class CpuKernelsTest {

    /** The design's bound for fp32 paths: ‖out − ref‖ / ‖ref‖ against the float64 oracle. */
    static final double FP32_REL_TOL = 1e-5;

    /** A fresh seed per test, or the one given with -Dt4j.test.seed=... to reproduce a failure. */
    static long newSeed() {
        Long fixed = Long.getLong("t4j.test.seed");
        return fixed != null ? fixed : ThreadLocalRandom.current().nextLong();
    }

    static String seedNote(long seed) {
        return " [seed=" + seed + ", rerun with -Dt4j.test.seed=" + seed + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // layouts: a (batch, rows, cols) view into a float[] that is NaN everywhere outside the view, so
    // that a kernel reading outside its view poisons its result and one writing outside is caught

    record View(int batch, int rows, int cols, int off, long batchStride, int rowStride) {

        /** A view with random offset, row padding and batch padding when strided; dense otherwise. */
        static View of(SplittableRandom rnd, int batch, int rows, int cols, boolean strided, boolean broadcast) {
            int rowStride = cols + (strided ? rnd.nextInt(1, 6) : 0);
            int off = strided ? rnd.nextInt(1, 9) : 0;
            long batchStride = broadcast ? 0 : (long) rows * rowStride + (strided ? rnd.nextInt(0, 7) : 0);
            return new View(batch, rows, cols, off, batchStride, rowStride);
        }

        int index(int b, int r, int c) {
            return (int) (off + b * batchStride + (long) r * rowStride + c);
        }

        /** An array just long enough (plus a small random tail when tail is set), all NaN. */
        float[] alloc(SplittableRandom rnd, boolean tail) {
            long last = batch == 0 || rows == 0 || cols == 0 ? off - 1L : index(batch - 1, rows - 1, cols - 1);
            float[] arr = new float[(int) (last + 1 + (tail ? rnd.nextInt(0, 3) : 0))];
            Arrays.fill(arr, Float.NaN);
            return arr;
        }

        void fillUniform(float[] arr, SplittableRandom rnd, double lo, double hi) {
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        arr[index(b, r, c)] = (float) rnd.nextDouble(lo, hi);
                    }
                }
            }
        }

        boolean[] mask(int length) {
            boolean[] in = new boolean[length];
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        in[index(b, r, c)] = true;
                    }
                }
            }
            return in;
        }
    }

    /** Every element of the view is finite (it was poisoned with NaN or holds finite inputs). */
    static void assertWritten(float[] out, View v, String what) {
        for (int b = 0; b < v.batch(); b++) {
            for (int r = 0; r < v.rows(); r++) {
                for (int c = 0; c < v.cols(); c++) {
                    float x = out[v.index(b, r, c)];
                    if (!Float.isFinite(x)) {
                        fail(what + ": element (" + b + ", " + r + ", " + c + ") is " + x + " (not written, or NaN read)");
                    }
                }
            }
        }
    }

    /** Nothing outside the view changed, bit for bit. */
    static void assertUntouchedOutside(float[] after, float[] before, View v, String what) {
        boolean[] in = v.mask(after.length);
        for (int i = 0; i < after.length; i++) {
            if (!in[i] && Float.floatToRawIntBits(after[i]) != Float.floatToRawIntBits(before[i])) {
                fail(what + ": index " + i + " outside the output view was written");
            }
        }
    }

    /** ‖out − ref‖ / ‖ref‖ over the view (ref dense (batch, rows, cols)); exact when ref is zero. */
    static void assertRelErr(float[] out, View v, double[] ref, double tol, String what) {
        assertRelErr(out, v, ref, ref, tol, what);
    }

    /**
     * ‖out − ref‖ / ‖magnitude‖ ≤ tol, where magnitude is ref unless a final sum can cancel (a norm's
     * bias added to its normalised, weighted value): then the magnitude of the summands, |x̂·w| + |b|,
     * the scale fp32 rounding errors are relative to (one row of one column can otherwise cancel to
     * nearly zero and make any rounding look large).
     */
    static void assertRelErr(float[] out, View v, double[] ref, double[] magnitude, double tol, String what) {
        double err = 0;
        double norm = 0;
        for (int b = 0; b < v.batch(); b++) {
            for (int r = 0; r < v.rows(); r++) {
                for (int c = 0; c < v.cols(); c++) {
                    int i = (b * v.rows() + r) * v.cols() + c;
                    double d = out[v.index(b, r, c)] - ref[i];
                    err += d * d;
                    norm += magnitude[i] * magnitude[i];
                }
            }
        }
        double rel = norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
        assertTrue(rel <= tol, what + ": relative error " + rel + " > " + tol);
    }

    // ---------------------------------------------------------------------------------------------

    /** Each test runs once per path; the nested classes below choose the path. */
    abstract static class Suite {

        abstract boolean simd();

        /** Runs body with the kernels switched to this suite's path, restoring the old one after. */
        void onPath(Executable body) throws Throwable {
            if (simd()) {
                assumeTrue(CpuKernels.simdAvailable(), "the Vector API (jdk.incubator.vector) is not available");
            }
            boolean saved = CpuKernels.simd();
            CpuKernels.setSimd(simd());
            try {
                body.execute();
            } finally {
                CpuKernels.setSimd(saved);
            }
        }

        // ---- GEMM

        @TestFactory
        Stream<DynamicTest> gemmMatchesOracle() {
            int[][] shapes = { // batch, M, N, K
                {1, 1, 1, 1},
                {1, 1, 37, 5},      // M = 1, N not a multiple of any vector width
                {1, 2, 33, 64},
                {1, 3, 31, 300},
                {1, 5, 1, 9},       // N = 1
                {1, 6, 32, 1},      // K = 1
                {1, 7, 45, 3000},   // K large, several K blocks
                {1, 11, 100, 70},
                {1, 17, 9, 7},      // tiled small-M path (B stored (N, K)): K below one vector, N % 4 != 0
                {1, 33, 45, 777},   // K % 16 != 0, M % 4 = 1
                {1, 128, 13, 40},   // the small-M path's largest M with the Vector API
                {1, 2, 2000, 64},   // small M, split over threads along N
                {4, 2, 300, 100},   // small M, batched
                {1, 64, 64, 64},
                {1, 65, 97, 300},
                {3, 13, 37, 29},    // batched
                {2, 128, 130, 257}, // K crosses a block boundary by one
                {1, 200, 1100, 70}, // N crosses a block boundary
                {1, 250, 40, 513},  // several M blocks
                {1, 130, 1, 17},    // N = 1 with large M
            };
            float[] alphas = {1f, -0.75f, 2.5f};
            List<DynamicTest> tests = new ArrayList<>();
            int n = 0;
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) {
                    for (float beta : new float[] {0f, 0.5f}) {
                        for (boolean strided : new boolean[] {false, true}) {
                            boolean transA = (t & 1) != 0;
                            boolean transB = (t & 2) != 0;
                            float alpha = alphas[n++ % alphas.length];
                            String name = String.format("batch=%d M=%d N=%d K=%d transA=%b transB=%b alpha=%s beta=%s strided=%b",
                                    s[0], s[1], s[2], s[3], transA, transB, alpha, beta, strided);
                            tests.add(DynamicTest.dynamicTest(name, () -> onPath(() ->
                                    checkGemm(s[0], s[1], s[2], s[3], transA, transB, alpha, beta, strided, false, newSeed()))));
                        }
                    }
                }
            }
            return tests.stream();
        }

        @TestFactory
        Stream<DynamicTest> gemmBroadcastsBWithBatchStrideZero() {
            int[][] shapes = {{3, 2, 40, 33}, {5, 17, 70, 20}, {2, 100, 50, 300}};
            return Arrays.stream(shapes).flatMap(s -> Stream.of(false, true).map(transB ->
                    DynamicTest.dynamicTest("batch=" + s[0] + " M=" + s[1] + " N=" + s[2] + " K=" + s[3] + " transB=" + transB,
                            () -> onPath(() -> checkGemm(s[0], s[1], s[2], s[3], false, transB, 1f, 0.5f, true, true, newSeed())))));
        }

        @TestFactory
        Stream<DynamicTest> gemmEpilogueSeesEveryFinishedElementOnce() {
            int[][] shapes = { // batch, M, N, K, transB
                {1, 1, 37, 5, 0},      // small M, axpys
                {1, 3, 300, 200, 1},   // small M, dot products, split over threads
                {1, 3, 2000, 64, 0},
                {3, 13, 37, 29, 1},    // batched, packed on one thread
                {1, 250, 1100, 70, 1}, // packed, several row and column blocks, shared op(B)
                {2, 130, 40, 300, 0},
                {2, 7, 9, 0, 0},       // K = 0: C = beta * C, then the epilogue
            };
            return Arrays.stream(shapes).map(s -> DynamicTest.dynamicTest(
                    "batch=" + s[0] + " M=" + s[1] + " N=" + s[2] + " K=" + s[3] + " transB=" + (s[4] == 1), () -> onPath(() -> {
                int batch = s[0], m = s[1], n = s[2], k = s[3];
                boolean transB = s[4] == 1;
                long seed = newSeed();
                SplittableRandom rnd = new SplittableRandom(seed);
                float[] a = new float[batch * m * k], b = new float[batch * n * k], c0 = new float[batch * m * n];
                for (float[] arr : new float[][] {a, b, c0}) for (int i = 0; i < arr.length; i++) arr[i] = (float) rnd.nextDouble(-1, 1);
                float[] want = c0.clone();
                CpuGemm.gemm(batch, m, n, k, 1.5f, a, 0, (long) m * k, k, false, b, 0, (long) n * k, transB ? k : n, transB,
                        0.25f, want, 0, (long) m * n, n);
                float[] c = c0.clone();
                int[] visits = new int[c.length];
                float[] seen = new float[c.length];   // C as the epilogue found it
                CpuGemm.gemm(batch, m, n, k, 1.5f, a, 0, (long) m * k, k, false, b, 0, (long) n * k, transB ? k : n, transB,
                        0.25f, c, 0, (long) m * n, n, (bi, i0, i1, j0, j1) -> {
                            for (int i = i0; i < i1; i++) {
                                for (int j = j0; j < j1; j++) {
                                    int e = bi * m * n + i * n + j;
                                    visits[e]++;
                                    seen[e] = c[e];
                                    c[e] = -c[e];
                                }
                            }
                        });
                for (int e = 0; e < c.length; e++) {
                    assertEquals(1, visits[e], "seed " + seed + ": element " + e + " visited " + visits[e] + " times");
                    assertEquals(Float.floatToRawIntBits(want[e]), Float.floatToRawIntBits(seen[e]),
                            "seed " + seed + ": element " + e + " reached the epilogue before it was finished");
                    assertEquals(-want[e], c[e], "seed " + seed + ": element " + e + " lost the epilogue's write");
                }
            })));
        }

        void checkGemm(int batch, int M, int N, int K, boolean transA, boolean transB, float alpha, float beta,
                       boolean strided, boolean broadcastB, long seed) {
            SplittableRandom rnd = new SplittableRandom(seed);
            View av = View.of(rnd, batch, transA ? K : M, transA ? M : K, strided, false); // A (M, K) or (K, M)
            View bv = View.of(rnd, batch, transB ? N : K, transB ? K : N, strided, broadcastB); // B (K, N) or (N, K)
            View cv = View.of(rnd, batch, M, N, strided, false); // C (M, N)
            float[] a = av.alloc(rnd, strided);
            float[] b = bv.alloc(rnd, strided);
            float[] c = cv.alloc(rnd, strided);
            av.fillUniform(a, rnd, -1, 1);
            bv.fillUniform(b, rnd, -1, 1);
            if (beta != 0f) {
                cv.fillUniform(c, rnd, -1, 1); // otherwise C stays NaN, which beta = 0 must ignore
            }
            float[] before = c.clone();
            double[] ref = Oracle.gemm(batch, M, N, K, alpha, a, av.off(), av.batchStride(), av.rowStride(), transA,
                    b, bv.off(), bv.batchStride(), bv.rowStride(), transB, beta, before, cv.off(), cv.batchStride(), cv.rowStride());

            CpuGemm.gemm(batch, M, N, K, alpha, a, av.off(), av.batchStride(), av.rowStride(), transA,
                    b, bv.off(), bv.batchStride(), bv.rowStride(), transB, beta, c, cv.off(), cv.batchStride(), cv.rowStride());

            String what = String.format("gemm batch=%d M=%d N=%d K=%d transA=%b transB=%b alpha=%s beta=%s strided=%b broadcastB=%b simd=%b",
                    batch, M, N, K, transA, transB, alpha, beta, strided, broadcastB, simd()) + seedNote(seed);
            assertWritten(c, cv, what);
            assertUntouchedOutside(c, before, cv, what);
            // Rounding errors are relative to the summands' magnitude |α|·|A|·|B| + |β|·|C|, not to the result:
            // a small product (M = N = K = 1) can cancel against β·C to nearly zero.
            double[] magnitude = Oracle.gemm(batch, M, N, K, Math.abs(alpha), abs(a), av.off(), av.batchStride(), av.rowStride(), transA,
                    abs(b), bv.off(), bv.batchStride(), bv.rowStride(), transB, Math.abs(beta), abs(before), cv.off(), cv.batchStride(), cv.rowStride());
            assertRelErr(c, cv, ref, magnitude, FP32_REL_TOL, what);
        }

        private static float[] abs(float[] x) {
            float[] y = new float[x.length];
            for (int i = 0; i < x.length; i++) y[i] = Math.abs(x[i]);
            return y;
        }

        /**
         * The in-place path (B fp32 (N, K) read from native memory, as the CPU linear op does for a
         * decode step's weights) gives gemm's bits exactly, epilogue included, and declines where gemm
         * would pack (so the caller's fallback is the same arithmetic as before).
         */
        @Test
        void gemmTransBInPlaceGivesGemmsBits() throws Throwable {
            onPath(() -> {
                long seed = System.nanoTime();
                SplittableRandom rnd = new SplittableRandom(seed);
                int[][] shapes = {{1, 1, 1}, {1, 37, 5}, {2, 33, 64}, {3, 200, 301}, {5, 2000, 64}, {11, 70, 37}, {1, 3000, 768},
                    {1, 3000, 768, 1}};                                                            // 1: a confined segment (read serially)
                for (int[] sh : shapes) {
                    int m = sh[0], n = sh[1], k = sh[2];
                    boolean confined = sh.length > 3;
                    float[] a = new float[m * k], b = new float[n * k];
                    for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
                    for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
                    float[] want = new float[m * n], got = new float[m * n];
                    int[] blocks = new int[1];
                    CpuGemm.gemm(1, m, n, k, 0.75f, a, 0, 0, k, false, b, 0, 0, k, true, 0f, want, 0, 0, n,
                            (bi, i0, i1, j0, j1) -> { for (int i = i0; i < i1; i++) for (int j = j0; j < j1; j++) want[i * n + j] += 1f; });
                    Arrays.fill(got, Float.NaN);
                    boolean taken;
                    try (java.lang.foreign.Arena arena = confined ? java.lang.foreign.Arena.ofConfined() : java.lang.foreign.Arena.ofShared()) {
                        java.lang.foreign.MemorySegment seg = arena.allocate(4L * b.length + 4);   // unaligned start: +4 bytes
                        java.lang.foreign.MemorySegment.copy(b, 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 4, b.length);
                        taken = CpuGemm.gemmTransBInPlace(m, n, k, 0.75f, a, k, seg.asSlice(4), k, got, n,
                                (bi, i0, i1, j0, j1) -> {
                                    synchronized (blocks) { blocks[0]++; }
                                    for (int i = i0; i < i1; i++) for (int j = j0; j < j1; j++) got[i * n + j] += 1f;
                                });
                    }
                    String what = "M=" + m + " N=" + n + " K=" + k + " simd=" + CpuKernels.simd() + " seed " + seed;
                    boolean direct = m < CpuKernels.smallMRows();                                  // gemm's small-M path
                    assertEquals(direct, taken, what + ": the in-place path must run exactly where gemm runs its small-M path");
                    if (!taken) continue;
                    assertTrue(blocks[0] >= 1, what);
                    assertArrayEquals(want, got, what);
                }
                int rows = CpuKernels.smallMRows();
                float[] c = new float[rows * 8];
                boolean packed = CpuGemm.gemmTransBInPlace(rows, 8, 8, 1f, new float[rows * 8],  8,
                        java.lang.foreign.MemorySegment.ofArray(new byte[4 * 64]), 8, c, 8, null);
                assertTrue(!packed, rows + " rows: gemm would pack; the in-place path must decline");
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuGemm.gemmTransBInPlace(
                        1, 8, 8, 1f, new float[8], 8, java.lang.foreign.MemorySegment.ofArray(new byte[4 * 60]), 8, new float[8], 8, null));
                assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
            });
        }

        /**
         * On gemm's small-M path for B stored (N, K) — a decode step's products, which the serving
         * engine batches — a row's bits depend neither on how many rows the product has nor on where
         * the row falls in a tile: for every M below the limit, rows [s, s + M) of a larger A give
         * exactly the rows that each row alone (M = 1) gives, through gemm and through the in-place
         * path over native memory; each row alone is within fp32 rounding of the float64 oracle, and
         * with the Vector API it has exactly VectorOps.dot's bits (the one-row order the tiles keep).
         * Shapes: K below one vector, K % 16 != 0, N % 4 != 0, N split over several tasks.
         */
        @Test
        void smallMRowsKeepTheirBitsForEveryM() throws Throwable {
            onPath(() -> {
                long seed = newSeed();
                SplittableRandom rnd = new SplittableRandom(seed);
                int limit = CpuKernels.smallMRows();
                int[][] shapes = {{37, 7}, {45, 100}, {9, 16}, {130, 777}, {1030, 64}};    // N, K
                for (int[] sh : shapes) {
                    int n = sh[0], k = sh[1];
                    int rowsA = limit + 2;
                    float[] a = new float[rowsA * k], b = new float[n * k];
                    for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
                    for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
                    String what = "N=" + n + " K=" + k + " simd=" + CpuKernels.simd() + seedNote(seed);
                    float[] alone = new float[rowsA * n];
                    for (int r = 0; r < rowsA; r++) {
                        CpuGemm.gemm(1, 1, n, k, 1f, a, r * k, 0, k, false, b, 0, 0, k, true, 0f, alone, r * n, 0, n);
                    }
                    double[] ref = Oracle.gemm(1, rowsA, n, k, 1, a, 0, 0, k, false, b, 0, 0, k, true, 0, null, 0, 0, n);
                    double[] magnitude = Oracle.gemm(1, rowsA, n, k, 1, abs(a), 0, 0, k, false, abs(b), 0, 0, k, true, 0, null, 0, 0, n);
                    assertRelErr(alone, new View(1, rowsA, n, 0, 0, n), ref, magnitude, FP32_REL_TOL, what + " rows alone");
                    if (CpuKernels.simd()) {
                        for (int r = 0; r < rowsA; r++) {
                            for (int j = 0; j < n; j++) {
                                assertEquals(Float.floatToRawIntBits(VectorOps.dot(a, r * k, b, j * k, k)), Float.floatToRawIntBits(alone[r * n + j]),
                                        what + ": row " + r + " column " + j + " alone differs from VectorOps.dot");
                            }
                        }
                    }
                    boolean big = (long) n * k > 20_000;
                    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
                        java.lang.foreign.MemorySegment seg = arena.allocate(4L * b.length);
                        java.lang.foreign.MemorySegment.copy(b, 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, b.length);
                        for (int m = 1; m < limit; m++) {
                            if (big && m > 9 && m % 4 != 0 && m % 4 != 1 && m != limit - 1) continue;   // fewer M for the large shapes
                            int s = (m * 5) % (rowsA - m + 1);                                            // rows [s, s + m) of A
                            float[] c = new float[m * n];
                            CpuGemm.gemm(1, m, n, k, 1f, a, s * k, 0, k, false, b, 0, 0, k, true, 0f, c, 0, 0, n);
                            float[] inPlace = new float[m * n];
                            boolean taken = CpuGemm.gemmTransBInPlace(m, n, k, 1f, Arrays.copyOfRange(a, s * k, (s + m) * k), k,
                                    seg, k, inPlace, n, null);
                            assertTrue(taken, what + " M=" + m + ": the in-place path declined below the small-M limit");
                            for (int r = 0; r < m; r++) {
                                float[] want = Arrays.copyOfRange(alone, (s + r) * n, (s + r + 1) * n);
                                assertArrayEquals(want, Arrays.copyOfRange(c, r * n, (r + 1) * n),
                                        what + " M=" + m + ": row " + r + " (A row " + (s + r) + ") differs from the row alone");
                                assertArrayEquals(want, Arrays.copyOfRange(inPlace, r * n, (r + 1) * n),
                                        what + " M=" + m + ": in-place row " + r + " differs from the row alone");
                            }
                        }
                    }
                }
            });
        }

        @Test
        void gemmWithAlphaZeroOrKZeroScalesCAndReadsNeitherAnorB() throws Throwable {
            onPath(() -> {
                long seed = newSeed();
                SplittableRandom rnd = new SplittableRandom(seed);
                int M = 9;
                int N = 21;
                int K = 13;
                float[] a = new float[M * K];
                float[] b = new float[K * N];
                Arrays.fill(a, Float.NaN);
                Arrays.fill(b, Float.NaN);
                View cv = View.of(rnd, 1, M, N, false, false);
                for (float beta : new float[] {0f, 0.5f}) {
                    float[] c = cv.alloc(rnd, false);
                    cv.fillUniform(c, rnd, -1, 1);
                    float[] before = c.clone();
                    CpuGemm.gemm(1, M, N, K, 0f, a, 0, 0, K, false, b, 0, 0, N, false, beta, c, 0, 0, N);
                    for (int i = 0; i < c.length; i++) {
                        assertEquals(beta == 0f ? 0f : beta * before[i], c[i], "alpha=0, beta=" + beta + ", index " + i + seedNote(seed));
                    }
                    c = before.clone();
                    CpuGemm.gemm(1, M, N, 0, 1f, a, 0, 0, 0, false, b, 0, 0, N, false, beta, c, 0, 0, N);
                    for (int i = 0; i < c.length; i++) {
                        assertEquals(beta == 0f ? 0f : beta * before[i], c[i], "K=0, beta=" + beta + ", index " + i + seedNote(seed));
                    }
                }
            });
        }

        @Test
        void gemmWithAnEmptyDimensionDoesNothing() throws Throwable {
            onPath(() -> {
                float[] a = {1, 2, 3, 4};
                float[] b = {1, 2, 3, 4};
                float[] c = {Float.NaN, 5, 6, 7};
                float[] before = c.clone();
                CpuGemm.gemm(0, 2, 2, 2, 1f, a, 0, 4, 2, false, b, 0, 4, 2, false, 0f, c, 0, 4, 2);
                CpuGemm.gemm(1, 0, 2, 2, 1f, a, 0, 4, 2, false, b, 0, 4, 2, false, 0f, c, 0, 4, 2);
                CpuGemm.gemm(1, 2, 0, 2, 1f, a, 0, 4, 2, false, b, 0, 4, 2, false, 0f, c, 0, 4, 2);
                assertEquals(Arrays.toString(before), Arrays.toString(c));
            });
        }

        @Test
        void gemmRejectsBadSizesBeforeWritingAnything() throws Throwable {
            onPath(() -> {
                int M = 4;
                int N = 5;
                int K = 3;
                float[] a = new float[M * K];
                float[] b = new float[K * N];
                float[] c = new float[M * N];
                Arrays.fill(c, 42f);
                float[] shortA = new float[M * K - 1];
                float[] shortC = new float[M * N - 1];
                Arrays.fill(shortC, 42f);
                IllegalArgumentException e;
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuGemm.gemm(1, -1, N, K, 1f, a, 0, 0, K, false, b, 0, 0, N, false, 0f, c, 0, 0, N));
                assertTrue(e.getMessage().contains("M=-1"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuGemm.gemm(1, M, N, K, 1f, shortA, 0, 0, K, false, b, 0, 0, N, false, 0f, c, 0, 0, N));
                assertTrue(e.getMessage().contains("A (stored (M, K))") && e.getMessage().contains(String.valueOf(M * K - 1)), e.getMessage());
                // the same A is long enough when read as (K, M) with a smaller row stride
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuGemm.gemm(1, M, N, K, 1f, a, 1, 0, M, true, b, 0, 0, N, false, 0f, c, 0, 0, N));
                assertTrue(e.getMessage().contains("transA"), e.getMessage());
                float[] c2 = new float[2 * M * N];
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuGemm.gemm(2, M, N, K, 1f, a, 0, 0, K, false, b, 0, 1, N, false, 0f, c2, 0, M * N, N));
                assertTrue(e.getMessage().contains("B (stored (K, N))"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuGemm.gemm(1, M, N, K, 1f, a, 0, 0, K, false, b, 0, 0, N, false, 0f, shortC, 0, 0, N));
                assertTrue(e.getMessage().contains("C (M, N)"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuGemm.gemm(1, M, N, K, 1f, a, -1, 0, K, false, b, 0, 0, N, false, 0f, c, 0, 0, N));
                assertTrue(e.getMessage().contains("offset"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuGemm.gemm(1, M, N, K, 1f, a, 0, 0, K, false, b, 0, 0, N, false, 0f, c, 0, 0, N - 1));
                assertTrue(e.getMessage().contains("overlap"), e.getMessage());
                for (float v : c) {
                    assertEquals(42f, v);
                }
                for (float v : shortC) {
                    assertEquals(42f, v);
                }
                // exactly long enough is fine
                CpuGemm.gemm(1, M, N, K, 1f, a, 0, 0, K, false, b, 0, 0, N, false, 0f, c, 0, 0, N);
            });
        }

        // ---- LayerNorm / RMSNorm

        enum Rounding {
            FP32(null), BF16(Half::roundToBf16), F16(Half::roundToF16);

            final CpuKernels.FloatUnaryOperator op;

            Rounding(CpuKernels.FloatUnaryOperator op) {
                this.op = op;
            }
        }

        @TestFactory
        Stream<DynamicTest> normMatchesOracle() {
            int[][] shapes = {{1, 1}, {3, 7}, {5, 64}, {2, 4099}, {37, 300}, {70, 1025}}; // rows, cols
            List<DynamicTest> tests = new ArrayList<>();
            for (int[] s : shapes) {
                for (boolean rms : new boolean[] {false, true}) {
                    for (Rounding rounding : Rounding.values()) {
                        for (int flags = 0; flags < 8; flags++) {
                            boolean residual = (flags & 1) != 0;
                            boolean bias = (flags & 2) != 0;
                            boolean residualOut = (flags & 4) != 0;
                            String name = String.format("%s rows=%d cols=%d residual=%b bias=%b residualOut=%b h=%s",
                                    rms ? "rms" : "layer", s[0], s[1], residual, bias, residualOut, rounding);
                            tests.add(DynamicTest.dynamicTest(name, () -> onPath(() ->
                                    checkNorm(rms, s[0], s[1], residual, bias, residualOut, rounding, 1e-5f, 1.0, newSeed()))));
                        }
                    }
                }
            }
            return tests.stream();
        }

        /** Runs norm on fresh strided data (inputs scaled by scale) and checks it against the oracle; returns out's view, dense. */
        double[] checkNorm(boolean rms, int rows, int cols, boolean withResidual, boolean withBias, boolean withResidualOut,
                           Rounding rounding, float eps, double scale, long seed) {
            SplittableRandom rnd = new SplittableRandom(seed);
            View xv = View.of(rnd, 1, rows, cols, true, false); // x (rows, cols)
            View rv = View.of(rnd, 1, rows, cols, true, false); // residual (rows, cols)
            View wv = View.of(rnd, 1, 1, cols, true, false);    // weight (cols)
            View bv = View.of(rnd, 1, 1, cols, true, false);    // bias (cols)
            View ov = View.of(rnd, 1, rows, cols, true, false); // out (rows, cols)
            View hv = View.of(rnd, 1, rows, cols, true, false); // residualOut (rows, cols)
            float[] x = xv.alloc(rnd, true);
            xv.fillUniform(x, rnd, (-2 + 0.7) * scale, (2 + 0.7) * scale); // a nonzero mean
            float[] residual = null;
            if (withResidual) {
                residual = rv.alloc(rnd, true);
                rv.fillUniform(residual, rnd, -scale, scale);
            }
            float[] weight = wv.alloc(rnd, true);
            wv.fillUniform(weight, rnd, -1.5, 1.5);
            float[] bias = null;
            if (withBias) {
                bias = bv.alloc(rnd, true);
                bv.fillUniform(bias, rnd, -0.5, 0.5);
            }
            float[] out = ov.alloc(rnd, true);
            float[] outBefore = out.clone();
            float[] residualOut = withResidualOut ? hv.alloc(rnd, true) : null;
            float[] residualOutBefore = withResidualOut ? residualOut.clone() : null;

            double[] h = Oracle.hidden(rows, cols, x, xv.off(), xv.rowStride(), residual, rv.off(), rv.rowStride(), rounding.op);
            double[] ref = rms
                    ? Oracle.rmsNorm(rows, cols, h, weight, wv.off(), bias, bv.off(), eps)
                    : Oracle.layerNorm(rows, cols, h, weight, wv.off(), bias, bv.off(), eps);

            CpuNorm.norm(rms, rows, cols, x, xv.off(), xv.rowStride(), residual, rv.off(), rv.rowStride(),
                    weight, wv.off(), bias, bv.off(), eps, out, ov.off(), ov.rowStride(),
                    residualOut, hv.off(), hv.rowStride(), rounding.op);

            String what = String.format("%s rows=%d cols=%d residual=%b bias=%b residualOut=%b h=%s eps=%s scale=%s simd=%b",
                    rms ? "rmsNorm" : "layerNorm", rows, cols, withResidual, withBias, withResidualOut, rounding, eps, scale, simd())
                    + seedNote(seed);
            assertWritten(out, ov, what);
            assertUntouchedOutside(out, outBefore, ov, what);
            double[] magnitude = ref;
            if (bias != null) {
                double[] unbiased = rms
                        ? Oracle.rmsNorm(rows, cols, h, weight, wv.off(), null, 0, eps)
                        : Oracle.layerNorm(rows, cols, h, weight, wv.off(), null, 0, eps);
                magnitude = new double[ref.length];
                for (int i = 0; i < ref.length; i++) magnitude[i] = Math.abs(unbiased[i]) + Math.abs(bias[bv.off() + i % cols]);
            }
            assertRelErr(out, ov, ref, magnitude, FP32_REL_TOL, what);
            if (withResidualOut) {
                assertWritten(residualOut, hv, what);
                assertUntouchedOutside(residualOut, residualOutBefore, hv, what);
                assertStoredH(residualOut, hv, x, xv, residual, rv, rounding, what);
            }
            double[] dense = new double[rows * cols];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    dense[r * cols + j] = out[ov.index(0, r, j)];
                }
            }
            return dense;
        }

        /** residualOut holds exactly h = round(x + residual) as fp32 arithmetic defines it. */
        static void assertStoredH(float[] residualOut, View hv, float[] x, View xv, float[] residual, View rv,
                                  Rounding rounding, String what) {
            for (int r = 0; r < hv.rows(); r++) {
                for (int j = 0; j < hv.cols(); j++) {
                    float h = x[xv.index(0, r, j)];
                    if (residual != null) {
                        h += residual[rv.index(0, r, j)];
                    }
                    if (rounding.op != null) {
                        h = rounding.op.applyAsFloat(h);
                    }
                    assertEquals(h, residualOut[hv.index(0, r, j)], what + ": residualOut (" + r + ", " + j + ")");
                }
            }
        }

        enum Alias {
            /** out over x, residualOut over residual: the pre-norm block's in-place update. */
            OUT_IS_X_RESIDUAL_OUT_IS_RESIDUAL,
            /** out over residual, residualOut over x. */
            CROSSED,
            /** no residual; out over x. */
            OUT_IS_X_NO_RESIDUAL,
            /** no residual; residualOut over x and out separate. */
            RESIDUAL_OUT_IS_X_NO_RESIDUAL
        }

        @TestFactory
        Stream<DynamicTest> normInPlace() {
            int[][] shapes = {{4, 33}, {2, 4099}, {70, 1025}};
            List<DynamicTest> tests = new ArrayList<>();
            for (int[] s : shapes) {
                for (boolean rms : new boolean[] {false, true}) {
                    for (Alias alias : Alias.values()) {
                        tests.add(DynamicTest.dynamicTest((rms ? "rms" : "layer") + " rows=" + s[0] + " cols=" + s[1] + " " + alias,
                                () -> onPath(() -> checkNormInPlace(rms, s[0], s[1], alias, newSeed()))));
                    }
                }
            }
            return tests.stream();
        }

        void checkNormInPlace(boolean rms, int rows, int cols, Alias alias, long seed) {
            SplittableRandom rnd = new SplittableRandom(seed);
            View xv = View.of(rnd, 1, rows, cols, true, false); // x (rows, cols)
            View rv = View.of(rnd, 1, rows, cols, true, false); // residual (rows, cols)
            View sv = View.of(rnd, 1, rows, cols, true, false); // a separate output (rows, cols)
            float[] x = xv.alloc(rnd, true);
            xv.fillUniform(x, rnd, -1.3, 2.7);
            boolean withResidual = alias == Alias.OUT_IS_X_RESIDUAL_OUT_IS_RESIDUAL || alias == Alias.CROSSED;
            float[] residual = null;
            if (withResidual) {
                residual = rv.alloc(rnd, true);
                rv.fillUniform(residual, rnd, -1, 1);
            }
            float[] weight = new float[cols];
            float[] bias = new float[cols];
            for (int j = 0; j < cols; j++) {
                weight[j] = (float) rnd.nextDouble(-1.5, 1.5);
                bias[j] = (float) rnd.nextDouble(-0.5, 0.5);
            }
            float[] separate = sv.alloc(rnd, true);
            float[] x0 = x.clone();
            float[] residual0 = withResidual ? residual.clone() : null;
            float eps = 1e-5f;
            double[] h = Oracle.hidden(rows, cols, x0, xv.off(), xv.rowStride(), residual0, rv.off(), rv.rowStride(), null);
            double[] ref = rms
                    ? Oracle.rmsNorm(rows, cols, h, weight, 0, bias, 0, eps)
                    : Oracle.layerNorm(rows, cols, h, weight, 0, bias, 0, eps);

            float[] out;
            View ov;
            float[] residualOut;
            View hv;
            switch (alias) {
                case OUT_IS_X_RESIDUAL_OUT_IS_RESIDUAL -> {
                    out = x;
                    ov = xv;
                    residualOut = residual;
                    hv = rv;
                }
                case CROSSED -> {
                    out = residual;
                    ov = rv;
                    residualOut = x;
                    hv = xv;
                }
                case OUT_IS_X_NO_RESIDUAL -> {
                    out = x;
                    ov = xv;
                    residualOut = null;
                    hv = null;
                }
                case RESIDUAL_OUT_IS_X_NO_RESIDUAL -> {
                    out = separate;
                    ov = sv;
                    residualOut = x;
                    hv = xv;
                }
                default -> throw new AssertionError(alias);
            }
            CpuNorm.norm(rms, rows, cols, x, xv.off(), xv.rowStride(), residual, rv.off(), rv.rowStride(),
                    weight, 0, bias, 0, eps, out, ov.off(), ov.rowStride(),
                    residualOut, hv == null ? 0 : hv.off(), hv == null ? 0 : hv.rowStride(), null);

            String what = String.format("%s in place rows=%d cols=%d %s simd=%b", rms ? "rmsNorm" : "layerNorm",
                    rows, cols, alias, simd()) + seedNote(seed);
            assertWritten(out, ov, what);
            assertRelErr(out, ov, ref, FP32_REL_TOL, what);
            if (residualOut != null) {
                assertStoredH(residualOut, hv, x0, xv, residual0, rv, Rounding.FP32, what);
            }
        }

        /**
         * The segment version (CpuBackend's fp32 path, no copies) gives the array version's bits,
         * which checkNorm holds to the float64 oracle: with and without residual, bias and
         * residualOut, out written over x and residualOut over residual, a vector tail (385) and
         * enough rows to run on the pool, in native and heap segments.
         */
        @Test
        void segmentNormGivesTheArrayNormsBits() throws Throwable {
            onPath(() -> {
                long seed = newSeed();
                SplittableRandom rnd = new SplittableRandom(seed);
                for (int[] shape : new int[][] {{3, 385}, {200, 385}, {96, 768}}) {
                    int rows = shape[0], cols = shape[1], n = rows * cols;
                    for (int mode = 0; mode < 16; mode++) {
                        boolean rms = (mode & 1) != 0, withResidual = (mode & 2) != 0, withBias = (mode & 4) != 0;
                        boolean alias = (mode & 8) != 0;   // out over x, residualOut over residual
                        boolean heap = mode % 3 == 0;
                        float[] x = new float[n], r = new float[n], w = new float[cols], b = new float[cols];
                        for (float[] a : new float[][] {x, r, w, b}) {
                            for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-2, 2.5);
                        }
                        float[] outRef = new float[n], hRef = new float[n];
                        CpuNorm.norm(rms, rows, cols, x, 0, cols, withResidual ? r : null, 0, cols, w, 0, withBias ? b : null, 0, 1e-5f,
                                outRef, 0, cols, withResidual ? hRef : null, 0, cols, null);

                        java.lang.foreign.MemorySegment xs = segment(x, heap), rs = withResidual ? segment(r, heap) : null;
                        java.lang.foreign.MemorySegment os = alias ? xs : segment(new float[n], heap);
                        java.lang.foreign.MemorySegment hs = !withResidual ? null : alias ? rs : segment(new float[n], heap);
                        CpuNorm.norm(rms, rows, cols, xs, rs, w, withBias ? b : null, 1e-5f, os, hs);
                        String what = String.format("%s rows=%d cols=%d residual=%b bias=%b alias=%b heap=%b simd=%b",
                                rms ? "rmsNorm" : "layerNorm", rows, cols, withResidual, withBias, alias, heap, simd()) + seedNote(seed);
                        assertArrayEquals(bits(outRef), bits(os.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)), what + ": out");
                        if (withResidual) {
                            assertArrayEquals(bits(hRef), bits(hs.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)), what + ": residualOut");
                        }
                    }
                }
            });
        }

        @Test
        void segmentNormRefusesPartlyOverlappingOutputs() throws Throwable {
            onPath(() -> {
                java.lang.foreign.MemorySegment all = java.lang.foreign.Arena.ofAuto().allocate(4L * 20);
                for (int i = 0; i < 20; i++) all.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 42f);
                float[] w = {1f, 1f, 1f, 1f};
                java.lang.foreign.MemorySegment x = all.asSlice(0, 48), shifted = all.asSlice(16, 48);   // (3, 4) views one row apart
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> CpuNorm.norm(false, 3, 4, x, null, w, null, 1e-5f, shifted, null));
                assertTrue(e.getMessage().contains("overlap"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class,
                        () -> CpuNorm.norm(false, 3, 4, x, null, w, null, 1e-5f, all.asSlice(32, 40), null));
                assertTrue(e.getMessage().contains("bytes"), e.getMessage());
                for (int i = 0; i < 20; i++) assertEquals(42f, all.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i));
            });
        }

        private static java.lang.foreign.MemorySegment segment(float[] a, boolean heap) {
            if (heap) return java.lang.foreign.MemorySegment.ofArray(a.clone());
            java.lang.foreign.MemorySegment s = java.lang.foreign.Arena.ofAuto().allocate(4L * a.length, 64);
            java.lang.foreign.MemorySegment.copy(a, 0, s, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, a.length);
            return s;
        }

        private static int[] bits(float[] a) {
            int[] b = new int[a.length];
            for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
            return b;
        }

        @Test
        void normEpsMatters() throws Throwable {
            onPath(() -> {
                // inputs of scale 1e-3 have variance ~1e-6: eps = 0.1 shrinks the output ~300x, eps = 1e-7 does not
                long seed = newSeed();
                for (boolean rms : new boolean[] {false, true}) {
                    double[] small = checkNorm(rms, 3, 257, true, false, false, Rounding.FP32, 1e-7f, 1e-3, seed);
                    double[] large = checkNorm(rms, 3, 257, true, false, false, Rounding.FP32, 0.1f, 1e-3, seed);
                    double ns = 0;
                    double nl = 0;
                    for (int i = 0; i < small.length; i++) {
                        ns += small[i] * small[i];
                        nl += large[i] * large[i];
                    }
                    assertTrue(Math.sqrt(nl) < 0.05 * Math.sqrt(ns),
                            (rms ? "rms" : "layer") + ": eps=0.1 should shrink the output: " + Math.sqrt(nl) + " vs " + Math.sqrt(ns) + seedNote(seed));
                }
            });
        }

        @Test
        void normRejectsBadSizes() throws Throwable {
            onPath(() -> {
                float[] x = new float[12];
                float[] w = new float[4];
                float[] out = new float[12];
                Arrays.fill(out, 42f);
                IllegalArgumentException e;
                e = assertThrows(IllegalArgumentException.class, () -> CpuNorm.norm(true, 3, 0, x, 0, 4, null, 0, 0,
                        w, 0, null, 0, 1e-5f, out, 0, 4, null, 0, 0, null));
                assertTrue(e.getMessage().contains("cols=0"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> CpuNorm.norm(false, 3, 4, x, 0, 4, null, 0, 0,
                        w, 1, null, 0, 1e-5f, out, 0, 4, null, 0, 0, null));
                assertTrue(e.getMessage().contains("weight"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> CpuNorm.norm(false, 3, 4, x, 0, 4, new float[11], 0, 4,
                        w, 0, null, 0, 1e-5f, out, 0, 4, null, 0, 0, null));
                assertTrue(e.getMessage().contains("residual"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> CpuNorm.norm(false, 3, 4, x, 0, 4, null, 0, 0,
                        w, 0, new float[3], 0, 1e-5f, out, 0, 4, null, 0, 0, null));
                assertTrue(e.getMessage().contains("bias"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> CpuNorm.norm(false, 3, 4, x, 0, 4, null, 0, 0,
                        w, 0, null, 0, 1e-5f, out, 1, 4, null, 0, 0, null));
                assertTrue(e.getMessage().contains("out"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> CpuNorm.norm(false, 3, 4, x, 0, 4, null, 0, 0,
                        w, 0, null, 0, 1e-5f, out, 0, 3, null, 0, 0, null));
                assertTrue(e.getMessage().contains("overlap"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> CpuNorm.norm(false, 3, 4, x, 0, 4, null, 0, 0,
                        w, 0, null, 0, -1f, out, 0, 4, null, 0, 0, null));
                assertTrue(e.getMessage().contains("eps"), e.getMessage());
                for (float v : out) {
                    assertEquals(42f, v);
                }
            });
        }
    }

    @Nested
    @DisplayName("Vector API path")
    class VectorPath extends Suite {
        @Override
        boolean simd() {
            return true;
        }
    }

    @Nested
    @DisplayName("scalar path")
    class ScalarPath extends Suite {
        @Override
        boolean simd() {
            return false;
        }
    }
}
