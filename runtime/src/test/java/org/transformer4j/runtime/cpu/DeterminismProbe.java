// DeterminismProbe — a main that CpuDeterminismTest starts in fresh JVMs: it runs each CPU kernel on
// inputs drawn from a given seed, many times, and prints per kernel how many calls gave bits
// different from the first call's, and a hash of the first call's bits, into a file (the JVM's own
// -XX:+PrintCompilation output goes to stdout).
package org.transformer4j.runtime.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Usage: {@code DeterminismProbe <seed> <calls> <report file>}. Report lines:
 * {@code kernel <name> differing <n> hash <hex>}, then {@code simd <true|false>}.
 */
public final class DeterminismProbe {

    private DeterminismProbe() {}

    public static void main(String[] args) throws IOException {
        long seed = Long.parseLong(args[0]);
        int calls = Integer.parseInt(args[1]);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> names = new ArrayList<>();
        List<Supplier<float[]>> kernels = new ArrayList<>();

        // GEMM, one shape per algorithm: small M with B stored (N, K) (dot products: one-row and 4x4
        // tiles), small M with B stored (K, N) (axpys), and the packed micro-kernel with edge tiles on
        // both sides (B stored (K, N) at M = 13, (N, K) above the small-M limit).
        for (int[] s : new int[][] {{2, 256, 256, 1}, {2, 256, 256, 0}, {13, 100, 70, 1}, {13, 100, 70, 0}, {133, 100, 70, 1}}) {
            int m = s[0], n = s[1], k = s[2];
            boolean transB = s[3] == 1;
            float[] a = random(rnd, m * k);   // (M, K)
            float[] b = random(rnd, n * k);   // (N, K) or (K, N)
            float[] c0 = random(rnd, m * n);  // (M, N)
            names.add("gemm M=" + m + " N=" + n + " K=" + k + (transB ? " B^T" : ""));
            kernels.add(() -> {
                float[] c = c0.clone();
                CpuGemm.gemm(1, m, n, k, 0.75f, a, 0, 0, k, false, b, 0, 0, transB ? k : n, transB, 0.5f, c, 0, 0, n);
                return c;
            });
        }
        // The small-M dot path with B read in place from native memory (the CPU linear op's decode path)
        {
            int m = 2, n = 256, k = 259;
            float[] a = random(rnd, m * k), b = random(rnd, n * k);
            java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.global().allocate(4L * b.length);
            java.lang.foreign.MemorySegment.copy(b, 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, b.length);
            names.add("gemm in place M=" + m + " N=" + n + " K=" + k + " B^T");
            kernels.add(() -> {
                float[] c = new float[m * n];
                if (!CpuGemm.gemmTransBInPlace(m, n, k, 0.75f, a, k, seg, k, c, n, null)) throw new IllegalStateException("declined");
                return c;
            });
        }
        // LayerNorm and RMSNorm with residual and bias, 17 rows of 385 (vector part and a tail)
        for (boolean rms : new boolean[] {false, true}) {
            int rows = 17, cols = 385;
            float[] x = random(rnd, rows * cols), r = random(rnd, rows * cols);   // (rows, cols)
            float[] w = random(rnd, cols), bias = random(rnd, cols);              // (cols)
            names.add(rms ? "rmsNorm" : "layerNorm");
            kernels.add(() -> {
                float[] out = new float[2 * rows * cols];   // out, then residualOut
                CpuNorm.norm(rms, rows, cols, x, 0, cols, r, 0, cols, w, 0, bias, 0, 1e-5f,
                        out, 0, cols, out, rows * cols, cols, null);
                return out;
            });
        }
        // The same norms on fp32 rows in native memory (CpuBackend's path: read and written where they lie)
        for (boolean rms : new boolean[] {false, true}) {
            int rows = 17, cols = 385;
            float[] x = random(rnd, rows * cols), r = random(rnd, rows * cols);   // (rows, cols)
            float[] w = random(rnd, cols), bias = random(rnd, cols);              // (cols)
            java.lang.foreign.MemorySegment xs = java.lang.foreign.Arena.global().allocate(4L * x.length);
            java.lang.foreign.MemorySegment rs = java.lang.foreign.Arena.global().allocate(4L * r.length);
            java.lang.foreign.MemorySegment.copy(x, 0, xs, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, x.length);
            java.lang.foreign.MemorySegment.copy(r, 0, rs, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, r.length);
            java.lang.foreign.MemorySegment outs = java.lang.foreign.Arena.global().allocate(8L * x.length);
            names.add((rms ? "rmsNorm" : "layerNorm") + " in memory segments");
            kernels.add(() -> {
                CpuNorm.norm(rms, rows, cols, xs, rs, w, bias, 1e-5f, outs.asSlice(0, 4L * x.length), outs.asSlice(4L * x.length));
                return outs.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            });
        }
        // attention prefill: two packed sequences, causal, GQA
        {
            int nh = 4, nkv = 2, hs = 32, rows = 37;
            int[] start = {0, 12}, len = {12, 25};
            float[] q = random(rnd, rows * nh * hs), k = random(rnd, rows * nkv * hs), v = random(rnd, rows * nkv * hs);
            names.add("attention prefill");
            kernels.add(() -> {
                float[] out = new float[rows * nh * hs];
                CpuAttention.prefill(2, nh, nkv, hs, start, len, start, len, CpuAttention.MASK_CAUSAL, null, 0.18f,
                        null, null, null, q, k, v, out, null, null, 0);
                return out;
            });
        }
        // activations and softmax: Math.tanh / exp / log, whose JIT intrinsics must agree with the interpreter's
        float[] xs = new float[4096];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) (rnd.nextDouble(-12, 12));
        names.add("activations");
        kernels.add(() -> {
            float[] out = new float[4 * xs.length];
            int[] acts = {Activations.GELU, Activations.GELU_TANH, Activations.SILU, Activations.RELU};
            for (int a = 0; a < acts.length; a++) {
                for (int i = 0; i < xs.length; i++) out[a * xs.length + i] = Activations.apply(acts[a], xs[i]);
            }
            return out;
        });
        names.add("activate GELU");
        kernels.add(() -> {
            float[] out = xs.clone();
            CpuKernels.activate(Activations.GELU, out, 0, out.length);
            return out;
        });
        names.add("logSoftmax");
        kernels.add(() -> {
            float[] out = new float[xs.length];
            VocabKernels.softmax(4, xs.length / 4, xs, 1.5f, true, out);
            return out;
        });

        float[][] first = new float[kernels.size()][];
        int[] differing = new int[kernels.size()];
        for (int call = 0; call < calls; call++) {
            for (int i = 0; i < kernels.size(); i++) {
                float[] out = kernels.get(i).get();
                if (first[i] == null) {
                    first[i] = out;
                } else if (!Arrays.equals(bits(out), bits(first[i]))) {
                    differing[i]++;
                }
            }
        }
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < kernels.size(); i++) {
            report.append(String.format(Locale.ROOT, "kernel %s differing %d hash %016x%n", names.get(i), differing[i], hash(first[i])));
        }
        report.append("simd ").append(CpuKernels.simd()).append('\n');
        Files.writeString(Path.of(args[2]), report);
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        return x;
    }

    private static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int i = 0; i < x.length; i++) b[i] = Float.floatToRawIntBits(x[i]);
        return b;
    }

    /** 64-bit FNV-1a over the raw bits. */
    private static long hash(float[] x) {
        long h = 0xcbf29ce484222325L;
        for (float v : x) {
            int b = Float.floatToRawIntBits(v);
            for (int s = 0; s < 32; s += 8) {
                h ^= (b >>> s) & 0xff;
                h *= 0x100000001b3L;
            }
        }
        return h;
    }
}
