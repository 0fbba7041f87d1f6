// MlaDecode — DeepSeek's multi-head latent attention through the two KV caches this library has: the latent one (the CPU
// backend: one 576-value row a token and layer, the absorbed decode) and the materialized one (K and V of every head, 2 · NH
// · 192 values: what CUDA keeps, forced here by a backend that says its heads stop at 256). Same random weights, same
// tokens; prints prefill time, the median and mean decode-step time and the cache's bytes a token, side by side in one JVM
// (each mode warmed by a 32-token prefill and 4 steps first, so that neither pays the other's JIT).
package org.transformer4j.bench;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.transformer4j.model.KvState;
import org.transformer4j.model.PagedBatch;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;

/**
 * Usage: {@code java -cp benchmarks.jar org.transformer4j.bench.MlaDecode [context] [steps] [layers]} (defaults 1024, 32, 4).
 * Shape: DeepSeek-V2-Lite's attention (C 2048, 16 heads, qk_nope 128, qk_rope 64, v 128, kv_lora_rank 512, q_proj), a dense
 * SiLU MLP of 1408 (its experts' width) instead of the experts, vocab 4096, BF16, on the CPU backend. One run per JVM: take
 * the median of several forks.
 */
public final class MlaDecode {

    private MlaDecode() {}

    static TransformerConfig shape(int layers) {
        return TransformerConfig.builder().vocabSize(4096).modelWidth(2048).mlpWidth(1408).heads(16, 16, 192).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-6f)
                .activation(TransformerConfig.Activation.SILU, true).rope(TransformerConfig.Rope.plain(10000, 64)).maxPositions(163840)
                .biases(false).mla(new TransformerConfig.Mla(0, 512, 128, 64, 128, 1e-6f)).build();
    }

    /** The CPU backend as a device whose attention kernels stop at head size 256 sees it (CUDA's): the materialized cache. */
    static Backend kernelsTo256(CpuBackend cpu) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("maxHeadSize")) return 256;
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    public static void main(String[] args) {
        int context = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int layers = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        TransformerConfig c = shape(layers);
        SplittableRandom rnd = new SplittableRandom(3);
        int[] prompt = IntStream.range(0, context).map(i -> rnd.nextInt(c.vocabSize())).toArray();
        int[] next = IntStream.range(0, steps + 4).map(i -> rnd.nextInt(c.vocabSize())).toArray();
        try (CpuBackend cpu = new CpuBackend()) {
            for (String mode : new String[] {"latent", "materialized"}) {
                Backend b = mode.equals("latent") ? cpu : kernelsTo256(cpu);
                try (Weights w32 = Weights.random(c, b, 1); Weights w = w32.to(DType.BF16)) {
                    Transformer m = new Transformer(w, b);
                    long perToken = PagedBatch.bytesPerBlock(m) / PagedBatch.BLOCK_SIZE;
                    try (KvState warm = m.newState(1, 64)) {                                      // JIT: both modes' code warm
                        m.prefill(warm, 0, java.util.Arrays.copyOf(prompt, Math.min(32, context)));
                        for (int i = 0; i < 4; i++) m.step(warm, new int[] {next[i]});
                    }
                    try (KvState st = m.newState(1, context + steps + 8)) {
                        long t0 = System.nanoTime();
                        m.prefill(st, 0, prompt);
                        long t1 = System.nanoTime();
                        for (int i = 0; i < 4; i++) m.step(st, new int[] {next[i]});               // warm-up
                        long t2 = System.nanoTime();
                        double[] ms = new double[steps];
                        for (int i = 0; i < steps; i++) {
                            long a = System.nanoTime();
                            m.step(st, new int[] {next[4 + i]});
                            ms[i] = (System.nanoTime() - a) / 1e6;
                        }
                        long t3 = System.nanoTime();
                        double[] sorted = ms.clone();
                        java.util.Arrays.sort(sorted);
                        System.out.printf("mla-decode %s: context %d, %d layers: KV cache %d bytes a token; prefill %.2f s;"
                                + " decode %.2f ms a step (median; mean %.2f, of %d at context %d..%d)%n", mode, context, layers,
                                perToken, (t1 - t0) / 1e9, sorted[steps / 2], (t3 - t2) / 1e6 / steps, steps, context + 4,
                                context + 4 + steps);
                    }
                }
            }
        }
    }
}
