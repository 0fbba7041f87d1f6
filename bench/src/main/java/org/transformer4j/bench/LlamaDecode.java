// LlamaDecode — decode speed of a Llama-shaped model (random weights, batch 1, greedy) against its
// memory-bandwidth floor: each decode step reads every weight once, so weight bytes ÷ measured read
// bandwidth is the fastest a step can be; the fraction of that floor reached is the figure of merit.
package org.transformer4j.bench;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/**
 * Usage: {@code java -cp benchmarks.jar org.transformer4j.bench.LlamaDecode [100m|1b] [f32|bf16|f16] [promptTokens] [newTokens]}
 * (defaults 100m, f32, 16, 32). Shapes: "100m" — C 768, 12 layers, 12 heads over 4 KV heads (HS 64), F 2048,
 * V 32000, tied (≈ 100M parameters); "1b" — Llama-3.2-1B's (C 2048, 16 layers, 32 heads over 8, F 8192,
 * V 128256, tied, rope_theta 500000 with llama3 scaling). The bandwidth is measured in the same process:
 * on the CPU parallel reads of two 256 MiB arrays (Arrays.mismatch, vectorised), on CUDA a device copy of 1 GiB
 * (read + write bytes). One run per JVM; take the median of several forks.
 */
public final class LlamaDecode {

    private LlamaDecode() {}

    static TransformerConfig shape(String name) {
        return switch (name) {
            case "100m" -> TransformerConfig.builder().vocabSize(32000).modelWidth(768).mlpWidth(2048).heads(12, 4, 64)
                    .decoderLayers(12).norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                    .activation(TransformerConfig.Activation.SILU, true).rope(TransformerConfig.Rope.plain(500000, 64))
                    .biases(false).tiedEmbeddings(true, 1f).build();
            case "1b" -> TransformerConfig.builder().vocabSize(128256).modelWidth(2048).mlpWidth(8192).heads(32, 8, 64)
                    .decoderLayers(16).norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                    .activation(TransformerConfig.Activation.SILU, true)
                    .rope(new TransformerConfig.Rope(500000, 64, TransformerConfig.Rope.Scaling.LLAMA3, 32, 1, 4, 8192))
                    .biases(false).tiedEmbeddings(true, 1f).build();
            default -> throw new IllegalArgumentException("shape '" + name + "': 100m or 1b");
        };
    }

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "100m";
        DType dtype = args.length > 1 ? DType.valueOf(args[1].toUpperCase(java.util.Locale.ROOT)) : DType.F32;
        int prompt = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        TransformerConfig c = shape(name);
        try (Backend backend = Backends.select()) {
            double gbps = backend.kind().equals("cpu") ? hostReadBandwidth() : deviceCopyBandwidth(backend);
            long i0 = System.nanoTime();
            try (Weights w32 = Weights.random(c, backend, 1); Weights w = dtype == DType.F32 ? null : w32.to(dtype)) {
                Weights weights = w == null ? w32 : w;
                System.out.printf("llama-decode %s: random weights made in %.1f s%n", name, (System.nanoTime() - i0) / 1e9);
                long bytes = weights.parameterCount() * dtype.byteSize();
                SplittableRandom rnd = new SplittableRandom(3);
                int[] ids = IntStream.range(0, prompt).map(i -> rnd.nextInt(c.vocabSize())).toArray();
                Generator g = new Generator(new Transformer(weights, backend));
                g.generate(ids, Generator.Options.greedy(4), null);                   // warm-up: JIT, workspaces
                long[] times = new long[steps];
                int[] n = {0};
                int[] out = g.generate(ids, Generator.Options.greedy(steps), (seq, token) -> times[n[0]++] = System.nanoTime());
                if (out.length != steps) throw new IllegalStateException("generated " + out.length + " of " + steps + " tokens");
                double msPerToken = (times[steps - 1] - times[0]) / 1e6 / (steps - 1);
                double floorMs = bytes / (gbps * 1e9) * 1e3;
                System.out.printf("llama-decode %s %s on %s: %d parameters, %.1f MB of weights; decode %.2f ms/token (%.1f tokens/s, %d steps"
                                + " after a %d-token prompt); read bandwidth %.2f GB/s → floor %.2f ms/token; fraction of floor %.3f%n",
                        name, dtype, backend.description(), weights.parameterCount(), bytes / 1e6, msPerToken, 1e3 / msPerToken,
                        steps - 1, prompt, gbps, floorMs, floorMs / msPerToken);
            }
        }
    }

    /**
     * GB/s of parallel reads: Arrays.mismatch over two equal 256 MiB long arrays, one slice per core
     * (the JDK's vectorised intrinsic, so loads and not arithmetic bound it), best of 30 passes after a
     * warm-up; bytes read = both arrays.
     */
    static double hostReadBandwidth() {
        int n = 1 << 25;                                                           // 32 Mi longs = 256 MiB per array
        long[] a = new long[n], b = new long[n];
        for (int i = 0; i < n; i++) a[i] = b[i] = i * 0x9E3779B97F4A7C15L;
        int parts = Runtime.getRuntime().availableProcessors();
        double best = Double.MAX_VALUE;
        for (int pass = 0; pass < 31; pass++) {                                  // best of 30: on a shared machine a pass
            long t0 = System.nanoTime();                                          // runs undisturbed only now and then
            long found = IntStream.range(0, parts).parallel().mapToLong(p -> {
                int from = (int) ((long) n * p / parts), to = (int) ((long) n * (p + 1) / parts);
                return java.util.Arrays.mismatch(a, from, to, b, from, to);
            }).filter(m -> m >= 0).count();
            long t = System.nanoTime() - t0;
            if (found != 0) throw new AssertionError("the arrays differ");
            if (pass > 0) best = Math.min(best, t);
        }
        return 2.0 * n * 8 / best;
    }

    /** GB/s of a 1 GiB device-to-device copy, counting bytes read and written (best of 5). */
    static double deviceCopyBandwidth(Backend backend) {
        long n = 1L << 28;
        try (Tensor a = backend.empty(DType.F32, n); Tensor b = backend.empty(DType.F32, n)) {
            double best = Double.MAX_VALUE;
            for (int pass = 0; pass < 6; pass++) {
                backend.synchronize();
                long t0 = System.nanoTime();
                backend.copy(a, b);
                backend.synchronize();
                long t = System.nanoTime() - t0;
                if (pass > 0) best = Math.min(best, t);
            }
            return 2.0 * n * 4 / best;
        }
    }

}
