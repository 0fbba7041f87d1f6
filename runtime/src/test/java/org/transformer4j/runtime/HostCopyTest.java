// HostCopyTest — HostCopy and the CPU uploader against an oracle that shares no code with them:
// elements read by index (the view's own strides), rounded by a float64 nearest-even search over
// the two neighbouring bf16 values (F16 through the JDK's Float.floatToFloat16), for transposed,
// sliced and permuted views, whole and chunk by chunk; shared views alias, copies do not.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HostCopyTest {

    private static final DType[] FLOATS = {DType.F32, DType.F16, DType.BF16};

    /** Views a loader makes: the tensor, a transposed matrix, a transposed column range, a column range, a permuted rank 3. */
    static List<Tensor> views(Tensor m, Tensor cube) {
        List<Tensor> v = new ArrayList<>();
        v.add(m);
        v.add(m.transpose(0, 1));
        v.add(m.slice(1, 70, 200).transpose(0, 1));
        v.add(m.slice(1, 3, 67));
        v.add(cube.transpose(0, 2));
        return v;
    }

    @Test
    void convertsEveryViewToEveryFloatingTypeAsTheOracleRounds() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (DType from : FLOATS) {
            try (Tensor m = HostCopyOracle.random(rnd, from, 150, 257); Tensor cube = HostCopyOracle.random(rnd, from, 5, 6, 7)) {
                for (Tensor v : views(m, cube)) {
                    for (DType to : FLOATS) {
                        long n = v.numel();
                        try (Arena a = Arena.ofConfined()) {
                            MemorySegment out = a.allocate(n * to.byteSize(), 8);
                            HostCopy.convert(v, to, out);
                            for (long k = 0; k < n; k++) {
                                double want = HostCopyOracle.expected(HostCopyOracle.read(v, k), to);
                                float got = HostCopyOracle.readOut(out, to, k);
                                if (Double.compare(want, got) != 0) {
                                    throw new AssertionError(from + " → " + to + " view " + v.shapeString() + " element " + k
                                            + ": got " + got + ", expected " + want + " (from " + HostCopyOracle.read(v, k) + ")");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void chunksInAnyRangeEqualTheWholeCopy() {
        SplittableRandom rnd = new SplittableRandom(8);
        try (Tensor m = HostCopyOracle.random(rnd, DType.F32, 300, 233); Tensor cube = HostCopyOracle.random(rnd, DType.F32, 4, 9, 11)) {
            for (Tensor v : views(m, cube)) {
                long n = v.numel();
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment whole = a.allocate(n * 2, 8);
                    HostCopy.convert(v, DType.BF16, whole);
                    for (long chunk : new long[] {1, 97, 233 * 64 + 5, 300 * 64 + 7, 300 * 128, n}) {
                        MemorySegment part = a.allocate(chunk * 2, 8);
                        for (long e = 0; e < n; e += chunk) {
                            long k = Math.min(chunk, n - e);
                            HostCopy.convert(v, DType.BF16, part, e, k);
                            assertEquals(-1, whole.asSlice(e * 2, k * 2).mismatch(part.asSlice(0, k * 2)),
                                    "view " + v.shapeString() + " chunk " + chunk + " at " + e);
                        }
                    }
                }
            }
        }
    }

    @Test
    void theParallelCopyEqualsTheSequentialOne() {
        SplittableRandom rnd = new SplittableRandom(10);
        try (Tensor m = HostCopyOracle.random(rnd, DType.F32, 1536, 2048); Arena a = Arena.ofShared()) {   // 12 MiB: split
            for (Tensor v : new Tensor[] {m, m.transpose(0, 1), m.slice(1, 300, 1900).transpose(0, 1)}) {
                for (DType to : FLOATS) {
                    long n = v.numel();
                    MemorySegment seq = a.allocate(n * to.byteSize(), 8), par = a.allocate(n * to.byteSize(), 8);
                    HostCopy.convert(v, to, seq);
                    HostCopy.convertParallel(v, to, par, 0, n);
                    assertEquals(-1, seq.mismatch(par), "view " + v.shapeString() + " → " + to);
                    long from = 3 * 64 * v.shape(1) + 17, k = n - from - 5;      // a range not on tile rows
                    HostCopy.convertParallel(v, to, par, from, k);
                    assertEquals(-1, seq.asSlice(from * to.byteSize(), k * to.byteSize()).mismatch(par.asSlice(0, k * to.byteSize())),
                            "range of " + v.shapeString() + " → " + to);
                }
                try (Arena confined = Arena.ofConfined()) {                    // memory of one thread: copied on that thread
                    MemorySegment seq = a.allocate(v.numel() * 2, 8), own = confined.allocate(v.numel() * 2, 8);
                    HostCopy.convert(v, DType.BF16, seq);
                    HostCopy.convertParallel(v, DType.BF16, own, 0, v.numel());
                    assertEquals(-1, seq.mismatch(own));
                }
            }
        }
    }

    @Test
    void integersCopyToTheirOwnTypeOnlyAndBadRangesAreRefused() {
        try (Tensor ids = Tensor.ofInts(new int[] {1, -2, 3, 4, 5, 6}, 2, 3); Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(24, 8);
            HostCopy.convert(ids.transpose(0, 1), DType.I32, out);
            int[] got = out.toArray(ValueLayout.JAVA_INT);
            assertEquals(List.of(1, 4, -2, 5, 3, 6), java.util.Arrays.stream(got).boxed().toList());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostCopy.convert(ids, DType.F32, out));
            assertTrue(e.getMessage().contains("cannot convert"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> HostCopy.convert(ids, DType.I32, out, 4, 3));
            assertTrue(e.getMessage().contains("out of range"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> HostCopy.convert(ids, DType.I32, out.asSlice(0, 8)));
            assertTrue(e.getMessage().contains("cannot hold"), e.getMessage());
        }
    }

    @Test
    void theCpuUploaderSharesWhatItCanAndCopiesTheRest() {
        SplittableRandom rnd = new SplittableRandom(9);
        CpuBackend cpu = new CpuBackend();
        try (Arena mapped = Arena.ofShared(); Tensor src = HostCopyOracle.random(rnd, DType.BF16, 64, 96); Uploader up = cpu.uploader()) {
            // memory the caller owns, as a mapped file is
            MemorySegment borrowed = mapped.allocate(src.numel() * 2, 64);
            MemorySegment.copy(src.hostSegment(), 0, borrowed, 0, borrowed.byteSize());
            Tensor stored = Tensor.wrapHost(borrowed, DType.BF16, 64, 96);
            Tensor shared = up.share(stored, DType.BF16);
            assertTrue(Uploader.isView(shared));
            assertEquals(borrowed.address(), shared.hostSegment().address());
            stored.close();                                           // the stored tensor object's end does not end the view
            assertEquals(HostCopyOracle.read(src, 5), shared.getFloat(0, 5), 0f);
            try (Tensor copy = up.share(Tensor.wrapHost(borrowed, DType.BF16, 64, 96).transpose(0, 1), DType.BF16);
                 Tensor f32 = up.upload(Tensor.wrapHost(borrowed, DType.BF16, 64, 96), DType.F32)) {
                assertFalse(Uploader.isView(copy));
                assertFalse(Uploader.isView(f32));
                for (int i = 0; i < 64; i++) {
                    for (int j = 0; j < 96; j++) {
                        assertEquals(HostCopyOracle.read(src, i * 96L + j), copy.getFloat(j, i), 0f);
                        assertEquals(HostCopyOracle.read(src, i * 96L + j), f32.getFloat(i, j), 0f);
                    }
                }
            }
        }
    }
}
