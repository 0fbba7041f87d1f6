// GenerateLatency — the generation benchmark: GPT-2-small shape (random weights), batch 1,
// a 128-token prompt, 128 new tokens greedy; prefill ms and decode ms/token on the selected backend.
// bench/hf_generate.py times Hugging Face's generate on the same random-initialised GPT-2 config.
package org.transformer4j.bench;

import java.util.SplittableRandom;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

/**
 * Usage: {@code java -cp benchmarks.jar org.transformer4j.bench.GenerateLatency [promptTokens] [newTokens] [runs] [graph|eager|both] [f32|bf16|f16]}
 * (defaults 128, 128, 3, both, f32; the first run of each mode warms up and is not reported). Generation
 * goes through {@link Generator} (greedy on the device: only the chosen ids come back to the host);
 * "graph" replays the captured decode step, "eager" launches its ops one by one. Time to the first
 * token is the prefill plus one sample; decode ms/token is the rest divided by the new tokens after
 * the first. A plain script rather than JMH: one generation is seconds of work with its own split.
 */
public final class GenerateLatency {

    private GenerateLatency() {}

    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) {
        int prompt = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        String modes = args.length > 3 ? args[3] : "both";
        DType dtype = args.length > 4 ? DType.valueOf(args[4].toUpperCase(java.util.Locale.ROOT)) : DType.F32;
        try (Backend backend = Backends.select()) {
            TransformerConfig c = TransformerConfig.gpt2Small();
            try (Weights w32 = Weights.random(c, backend, 1); Weights w = dtype == DType.F32 ? null : w32.to(dtype)) {
                Weights weights = w == null ? w32 : w;
                SplittableRandom rnd = new SplittableRandom(3);
                int[] ids = new int[prompt];
                for (int i = 0; i < prompt; i++) ids[i] = rnd.nextInt(c.vocabSize());
                System.out.printf("backend: %s; GPT-2 small (random weights), batch 1, %d-token prompt, %d new tokens, greedy%n",
                        backend.description(), prompt, steps);
                for (String mode : modes.equals("both") ? new String[] {"graph", "eager"} : new String[] {modes}) {
                    Transformer m = new Transformer(weights, backend).decodeGraphs(mode.equals("graph"));
                    Generator g = new Generator(m);
                    for (int run = 0; run <= runs; run++) {
                        long[] times = new long[steps];
                        int[] count = {0};
                        long[] cpuFirst = {0};
                        long cpu0 = CPU.getProcessCpuTime();
                        long t0 = System.nanoTime();
                        int[] out = g.generate(ids, Generator.Options.greedy(steps), (seq, token) -> {
                            if (count[0] == 0) cpuFirst[0] = CPU.getProcessCpuTime();
                            times[count[0]++] = System.nanoTime();
                        });
                        long t1 = System.nanoTime();
                        long cpu1 = CPU.getProcessCpuTime();
                        if (out.length != steps) throw new IllegalStateException("generated " + out.length + " of " + steps + " tokens");
                        if (run > 0) {
                            System.out.printf("generate t4j %s %s run %d: first token %.1f ms, decode %.3f ms/token (%d steps), total %.1f ms, process CPU %.1f ms (decode %.3f CPU-ms/token)%n",
                                    mode, dtype, run, (times[0] - t0) / 1e6, (times[steps - 1] - times[0]) / 1e6 / (steps - 1), steps - 1,
                                    (t1 - t0) / 1e6, (cpu1 - cpu0) / 1e6, (cpu1 - cpuFirst[0]) / 1e6 / (steps - 1));
                        }
                    }
                }
            }
        }
    }
}
