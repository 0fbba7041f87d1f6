// CpuBackendScratchTest — the CPU backend's ops take their large fp32 arrays from FloatArrays, whose
// pooled arrays hold garbage: with the pool full of NaN-filled arrays of every length an op asks
// for, each op must give the same bits as with fresh (zeroed) arrays.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.cpu.FloatArrays;

class CpuBackendScratchTest {

    private static final CpuBackend CPU = new CpuBackend();

    // (M, K) @ (K, N) with M·K, M·N, K·N, and the shared packing of B all at least FloatArrays' minimum of
    // 65536; N is not a whole number of micro-tiles, so that the packing is zero-padded (to 336, 352 or 384)
    static final int M = 300, K = 256, N = 330;

    @Test
    void linearIgnoresWhatPooledArraysHeld() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Tensor x = Tensor.ofFloats(random(rnd, M * K), M, K); Tensor w = Tensor.ofFloats(random(rnd, N * K), N, K);
             Tensor wg = Tensor.ofFloats(random(rnd, N * K), N, K); Tensor b = Tensor.ofFloats(random(rnd, N), N);
             Tensor r = Tensor.ofFloats(random(rnd, M * N), M, N); Tensor out = Tensor.empty(DType.F32, M, N)) {
            LinearOp op = LinearOp.of(x, w, out).transW(true).bias(b).gate(wg, b).activation(Activation.GELU).residual(r);
            sameWithGarbage(seed, () -> {
                CPU.linear(op);
                return out.toFloatArray();
            }, M * K, N * K, M * N, K * 336, K * 352, K * 384);
        }
    }

    @Test
    void normIgnoresWhatPooledArraysHeld() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Tensor x = Tensor.ofFloats(random(rnd, M * N), M, N); Tensor r = Tensor.ofFloats(random(rnd, M * N), M, N);
             Tensor w = Tensor.ofFloats(random(rnd, N), N); Tensor b = Tensor.ofFloats(random(rnd, N), N);
             Tensor out = Tensor.empty(DType.F32, M, N); Tensor h = Tensor.empty(DType.F32, M, N)) {
            NormOp op = NormOp.layer(x, w, b, 1e-5f, out).withResidual(r, h);
            sameWithGarbage(seed, () -> {
                CPU.norm(op);
                float[] both = Arrays.copyOf(out.toFloatArray(), 2 * M * N);
                System.arraycopy(h.toFloatArray(), 0, both, M * N, M * N);
                return both;
            }, M * N);
        }
    }

    @Test
    void attentionIgnoresWhatPooledArraysHeld() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int rows = 700, nh = 4, hs = 32;   // three packed sequences, (rows, NH, HS) = 89600 values
        int[] cu = {0, 100, 450, 700};
        try (Tensor q = Tensor.ofFloats(random(rnd, rows * nh * hs), rows, nh, hs);
             Tensor k = Tensor.ofFloats(random(rnd, rows * nh * hs), rows, nh, hs);
             Tensor v = Tensor.ofFloats(random(rnd, rows * nh * hs), rows, nh, hs);
             Tensor out = Tensor.empty(DType.F32, rows, nh, hs)) {
            AttentionOp op = AttentionOp.of(q, k, v, out).packed(cu, cu).causal();
            sameWithGarbage(seed, () -> {
                CPU.attention(op);
                return out.toFloatArray();
            }, rows * nh * hs);
        }
    }

    /** run() with fresh arrays, then again after NaN-filled arrays of each length went into the pool: the same bits. */
    private static void sameWithGarbage(long seed, Supplier<float[]> run, int... lengths) {
        FloatArrays.clear();
        float[] clean = run.get();
        assertTrue(Arrays.stream(lengths).allMatch(n -> n >= 1 << 16), "lengths below the pooling minimum test nothing");
        for (int copies = 0; copies < 4; copies++) {
            for (int n : lengths) {
                float[] garbage = new float[n];
                Arrays.fill(garbage, Float.NaN);
                FloatArrays.give(garbage);
            }
        }
        float[] again = run.get();
        assertArrayEquals(bits(clean), bits(again), "seed " + seed + ": the result depends on a pooled array's old contents");
        assertTrue(Arrays.stream(bits(clean)).noneMatch(b -> Float.isNaN(Float.intBitsToFloat(b))), "seed " + seed + ": NaN in the result");
    }

    private static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int i = 0; i < x.length; i++) b[i] = Float.floatToRawIntBits(x[i]);
        return b;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        return x;
    }
}
