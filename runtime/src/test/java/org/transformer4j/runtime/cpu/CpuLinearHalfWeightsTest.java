// CpuLinearHalfWeightsTest: BF16 and F16 weights (N, K) read in place by the CPU linear op (rows decoded a task's
// tile at a time inside CpuGemm, never widened whole), and F32 ones read where they lie, give exactly the bits of the
// same op over the widened (copied) fp32 matrix, on every GEMM path (dot tiles, scalar dots, packed), every epilogue, native (mapped) and heap segments,
// with and without the Vector API; and stay within fp32 rounding of the float64 oracle.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GroupedLinearOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.reference.Oracle;

class CpuLinearHalfWeightsTest {

    /** Every path's M: one row, a 3-row tile, MR, tiles plus leftovers, the dot path's last M, the packed path's first, several row blocks. */
    private static final int[] ROWS = {1, 3, 6, 17, 128, 129, 300};

    private final CpuBackend cpu = new CpuBackend();

    /** Runs body on the Vector API path (skipped without it) or the scalar path, restoring the old one after. */
    private static void onPath(boolean simd, Runnable body) {
        if (simd) assumeTrue(CpuKernels.simdAvailable(), "the Vector API (jdk.incubator.vector) is not available");
        boolean saved = CpuKernels.simd();
        CpuKernels.setSimd(simd);
        try {
            body.run();
        } finally {
            CpuKernels.setSimd(saved);
        }
    }

    /** n random 16-bit patterns of values in (−1, 1), with a few of the format's subnormals and signed zeros among them. */
    private static short[] randomBits(SplittableRandom rnd, int n, boolean bf16) {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-1, 1);
            int kind = rnd.nextInt(40);
            if (kind == 0) v = bf16 ? Float.MIN_NORMAL * v : 6e-5f * v;          // subnormal in the format
            if (kind == 1) v = rnd.nextBoolean() ? 0f : -0f;
            s[i] = bf16 ? Half.floatToBf16(v) : Half.floatToF16(v);
        }
        return s;
    }

    private static float widen(short s, boolean bf16) {
        return bf16 ? Half.bf16ToFloat(s) : Half.f16ToFloat(s);
    }

    /**
     * CpuGemm.gemmTransB over 16-bit rows = gemm over the widened matrix, and over fp32 rows = gemm over their copy, bit for
     * bit, epilogue once per element, for every M of ROWS and (N, K) off every vector length (K below one vector, N odd, N
     * over several tasks); the rows in a shared native segment at an odd-looking (2-byte) offset, a confined one (read
     * serially), on the heap, and padded (row stride K + 3: decoded row by row).
     */
    @ParameterizedTest(name = "simd={0}")
    @ValueSource(booleans = {true, false})
    void gemmTransBGivesTheWidenedGemmsBits(boolean simd) {
        onPath(simd, () -> {
            long seed = System.nanoTime();
            SplittableRandom rnd = new SplittableRandom(seed);
            int[][] shapes = {{1, 1}, {5, 7}, {37, 19}, {133, 517}, {1001, 300}, {70, 2049}};
            int c = 0;
            for (DType dt : new DType[] {DType.BF16, DType.F16, DType.F32}) {
                boolean bf16 = dt == DType.BF16;
                for (int[] sh : shapes) {
                    int n = sh[0], k = sh[1];
                    int layout = c++ % 4;                                      // 0 shared, 1 confined, 2 heap, 3 padded rows
                    int stride = layout == 3 ? k + 3 : k;
                    short[] bits = dt == DType.F32 ? null : randomBits(rnd, n * stride, bf16);
                    float[] values = dt == DType.F32 ? floats(rnd, n * stride) : null;
                    float[] wide = new float[n * k];
                    for (int j = 0; j < n; j++) {
                        for (int i = 0; i < k; i++) wide[j * k + i] = values != null ? values[j * stride + i] : widen(bits[j * stride + i], bf16);
                    }
                    try (Arena arena = layout == 1 ? Arena.ofConfined() : Arena.ofShared()) {
                        MemorySegment seg;
                        if (layout == 2) {
                            seg = values != null ? MemorySegment.ofArray(values) : MemorySegment.ofArray(bits);
                        } else if (values != null) {
                            seg = arena.allocate(4L * values.length + 2).asSlice(2);
                            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
                        } else {
                            seg = arena.allocate(2L * bits.length + 2).asSlice(2);
                            MemorySegment.copy(bits, 0, seg, ValueLayout.JAVA_SHORT_UNALIGNED, 0, bits.length);
                        }
                        WeightRows rows = values != null ? new F32Rows(seg, stride, n, k) : new HalfRows(seg, stride, bf16, n, k);
                        for (int m : ROWS) {
                            float[] a = new float[m * k];
                            for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
                            float[] want = new float[m * n], got = new float[m * n];
                            java.util.Arrays.fill(got, Float.NaN);
                            CpuGemm.gemm(1, m, n, k, 0.75f, a, 0, 0, k, false, wide, 0, 0, k, true, 0f, want, 0, 0, n,
                                    (bi, i0, i1, j0, j1) -> { for (int i = i0; i < i1; i++) for (int j = j0; j < j1; j++) want[i * n + j] += 1f; });
                            CpuGemm.gemmTransB(m, n, k, 0.75f, a, k, rows, got, n,
                                    (bi, i0, i1, j0, j1) -> { for (int i = i0; i < i1; i++) for (int j = j0; j < j1; j++) got[i * n + j] += 1f; });
                            assertArrayEquals(want, got, dt + " M=" + m + " N=" + n + " K=" + k + " layout " + layout
                                    + " simd=" + simd + " seed " + seed);
                        }
                    }
                }
            }
        });
    }

    /**
     * CpuBackend.linear with 16-bit weights (N, K) read in place = the same op over their widened fp32 copy (the path
     * before; CpuLinear.setHalfInPlace(false)), over ROWS: bias, activation, residual; the gated op's two products; the
     * fused [up ; gate] (2N, K); the weights in a memory-mapped file (a checkpoint's view) and in owned memory. The op
     * keeps one dtype, so these are the rounded outputs; gemmTransBGivesTheWidenedGemmsBits compares the fp32 sums.
     */
    @ParameterizedTest(name = "{0} simd={1}")
    @CsvSource({"BF16, true", "BF16, false", "F16, true", "F16, false"})
    void linearGivesTheWidenedWeightsBits(DType dt, boolean simd, @TempDir Path dir) {
        onPath(simd, () -> {
            long seed = System.nanoTime();
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 77, k = 109;
            short[] bits = randomBits(rnd, 2 * n * k, dt == DType.BF16);                     // [up ; gate] (2N, K)
            try (Arena arena = Arena.ofShared();
                 Tensor mapped = Tensor.wrapHost(map(dir, bits, arena), dt, 2L * n, k);
                 Tensor up = Tensor.of(dt, mapped.slice(0, 0, n).toFloatArray(), n, k);          // exact: the values are dt's
                 Tensor gate = Tensor.of(dt, mapped.slice(0, n, 2L * n).toFloatArray(), n, k);
                 Tensor b = Tensor.of(dt, floats(rnd, n), n);
                 Tensor bg = Tensor.of(dt, floats(rnd, n), n)) {
                for (int m : ROWS) {
                    try (Tensor x = Tensor.of(dt, floats(rnd, m * k), m, k);
                         Tensor r = Tensor.of(dt, floats(rnd, m * n), m, n)) {
                        for (int variant = 0; variant < 4; variant++) {
                            LinearOp op = op(variant, x, mapped, up, gate, n, b, bg, r);
                            assertArrayEquals(run(op, m, n, false), run(op, m, n, true),
                                    dt + " M=" + m + " variant " + variant + " simd=" + simd + " seed " + seed);
                        }
                    }
                }
            }
        });
    }

    /**
     * The variants: 0 plain (bias, GELU, residual) on the mapped [up ; gate]'s first half, 1 two products (SiLU gate with
     * its bias) over separate matrices, 2 the fused [up ; gate] (2N, K) with the clamped SwiGLU and alpha, 3 a plain
     * projection (the lm head's form, alpha). Each with out null, set by run.
     */
    private static LinearOp op(int variant, Tensor x, Tensor both, Tensor up, Tensor gate, int n, Tensor b, Tensor bg, Tensor r) {
        Tensor first = both.slice(0, 0, n);
        LinearOp op = switch (variant) {
            case 0 -> LinearOp.of(x, first, null).transW(true).bias(b).activation(Activation.GELU).residual(r);
            case 1 -> LinearOp.of(x, up, null).transW(true).gate(gate, bg).activation(Activation.SILU);
            case 2 -> LinearOp.of(x, first, null).transW(true).gate(both.slice(0, n, 2L * n), null).bias(b)
                    .activation(Activation.SWIGLU_OAI).alpha(0.5f);
            default -> LinearOp.of(x, first, null).transW(true).alpha(0.125f);
        };
        assertEquals(variant == 2, op.fusedGate() != null, "variant " + variant + ": the fused [up ; gate] path exactly where meant");
        return op;
    }

    /** op into a fresh NaN-poisoned output (M, N) of x's dtype, run on the CPU with the weights in place or widened; its values. */
    private float[] run(LinearOp op, int m, int n, boolean inPlace) {
        try (Tensor out = Tensor.empty(op.x().dtype(), m, n).fill(Float.NaN)) {
            CpuLinear.setHalfInPlace(inPlace);
            cpu.linear(new LinearOp(op.x(), op.w(), op.transW(), op.bias(), op.wGate(), op.biasGate(), op.activation(),
                    op.residual(), op.alpha(), out, op.limit()));
            return out.toFloatArray();
        } finally {
            CpuLinear.setHalfInPlace(true);
        }
    }

    /** bits written to a file and mapped read-only into arena, as a checkpoint's tensors are. */
    private static MemorySegment map(Path dir, short[] bits, Arena arena) {
        try {
            Path f = Files.createTempFile(dir, "w", ".bin");
            MemorySegment heap = MemorySegment.ofArray(bits);
            Files.write(f, heap.toArray(ValueLayout.JAVA_BYTE));
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                return ch.map(FileChannel.MapMode.READ_ONLY, 0, 2L * bits.length, arena);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The grouped (mixture-of-experts) linear over BF16 experts (G, 2N, K), [up ; gate] fused: in place = widened, bit for bit. */
    @ParameterizedTest(name = "simd={0}")
    @ValueSource(booleans = {true, false})
    void groupedLinearGivesTheWidenedWeightsBits(boolean simd) {
        onPath(simd, () -> {
            SplittableRandom rnd = new SplittableRandom(System.nanoTime());
            int g = 3, n = 45, k = 67, rows = 160;
            int[] offsets = {0, 1, 1, 160};                                   // one row, none, 159 (the packed path)
            short[] bits = randomBits(rnd, g * 2 * n * k, true);
            try (Tensor w = Tensor.empty(DType.BF16, g, 2L * n, k);
                 Tensor x = Tensor.of(DType.BF16, floats(rnd, rows * k), rows, k);
                 Tensor off = Tensor.ofInts(offsets, g + 1)) {
                MemorySegment.copy(bits, 0, w.hostSegment(), ValueLayout.JAVA_SHORT, 0, bits.length);
                float[][] got = new float[2][];
                for (int t = 0; t < 2; t++) {
                    try (Tensor out = Tensor.empty(DType.BF16, rows, n).fill(Float.NaN)) {
                        CpuLinear.setHalfInPlace(t == 1);
                        cpu.groupedLinear(GroupedLinearOp.of(x, w.slice(1, 0, n), off, out).transW(true)
                                .gate(w.slice(1, n, 2L * n)).activation(Activation.SILU));
                        got[t] = out.toFloatArray();
                    } finally {
                        CpuLinear.setHalfInPlace(true);
                    }
                }
                assertArrayEquals(got[0], got[1], "simd=" + simd);
            }
        });
    }

    /**
     * The in-place product against the float64 oracle under the design's rule for low precision (LinearOpTest's
     * bound): per element |out − ref| ≤ u·|ref| + 1e-5·max|ref|, u the output dtype's unit roundoff (the one rounding
     * on store) and the second term fp32 accumulation over K = 515; for a decode step and prefills on both paths.
     */
    @ParameterizedTest(name = "{0} M={1} simd={2}")
    @CsvSource({"BF16, 1, true", "BF16, 129, true", "F16, 3, true", "F16, 300, true", "BF16, 1, false", "F16, 129, false"})
    void linearIsWithinTheOraclesBound(DType dt, int m, boolean simd) {
        onPath(simd, () -> {
            long seed = System.nanoTime();
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 301, k = 515;
            short[] bits = randomBits(rnd, n * k, dt == DType.BF16);
            try (Tensor w = Tensor.empty(dt, n, k);
                 Tensor x = Tensor.of(dt, floats(rnd, m * k), m, k);
                 Tensor b = Tensor.of(dt, floats(rnd, n), n);
                 Tensor out = Tensor.empty(dt, m, n).fill(Float.NaN)) {
                MemorySegment.copy(bits, 0, w.hostSegment(), ValueLayout.JAVA_SHORT, 0, bits.length);
                cpu.linear(LinearOp.of(x, w, out).transW(true).bias(b).activation(Activation.SILU));
                double[] ref = Oracle.linear(m, n, k, x.toFloatArray(), w.toFloatArray(), true, b.toFloatArray(), null, null, null, 1,
                        Activation.SILU.code());
                float[] got = out.toFloatArray();
                double u = Math.scalb(1.0, dt == DType.BF16 ? -8 : -11), max = 0;
                for (double v : ref) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < ref.length; i++) {
                    double bound = u * Math.abs(ref[i]) + 1e-5 * max;
                    assertTrue(Math.abs(got[i] - ref[i]) <= bound, dt + " M=" + m + " element " + i + ": " + got[i] + " against "
                            + ref[i] + " (bound " + bound + ", NaN: not written) seed " + seed);
                }
            }
        });
    }

    /** Random fp32 values in (−1, 1). */
    private static float[] floats(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextDouble(-1, 1);
        return v;
    }
}
