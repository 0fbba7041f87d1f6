// GenerateLatency — the generation benchmark: GPT-2-small shape (random weights), batch 1,
// a 128-token prompt, 128 new tokens greedy; prefill ms and decode ms/token on the selected backend.
// bench/hf_generate.py times Hugging Face's generate on the same random-initialised GPT-2 config.
package org.transformer4j.bench;

import java.util.SplittableRandom;
import org.transformer4j.model.KvState;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;

/**
 * Usage: {@code java -cp benchmarks.jar org.transformer4j.bench.GenerateLatency [promptTokens] [newTokens] [runs]}
 * (defaults 128, 128, 3; the first run warms up and is not reported). A plain script rather than
 * JMH: one generation is seconds of work with its own prefill/decode split.
 */
public final class GenerateLatency {

    private GenerateLatency() {}

    public static void main(String[] args) {
        int prompt = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        try (Backend backend = Backends.select()) {
            TransformerConfig c = TransformerConfig.gpt2Small();
            try (Weights w = Weights.random(c, backend, 1)) {
                Transformer m = new Transformer(w, backend);
                SplittableRandom rnd = new SplittableRandom(3);
                int[] ids = new int[prompt];
                for (int i = 0; i < prompt; i++) ids[i] = rnd.nextInt(c.vocabSize());
                System.out.printf("backend: %s; GPT-2 small (random weights), batch 1, %d-token prompt, %d new tokens, greedy%n",
                        backend.description(), prompt, steps);
                for (int run = 0; run <= runs; run++) {
                    try (KvState st = m.newState(1, prompt + steps)) {
                        long t0 = System.nanoTime();
                        float[][] logits = m.prefill(st, 0, ids);
                        backend.synchronize();
                        long t1 = System.nanoTime();
                        int[] next = {argmax(logits[logits.length - 1])};
                        for (int s = 1; s < steps; s++) next[0] = argmax(m.step(st, next)[0]);
                        backend.synchronize();
                        long t2 = System.nanoTime();
                        if (run > 0) {
                            System.out.printf("run %d: prefill %.1f ms, decode %.2f ms/token (%d steps)%n", run, (t1 - t0) / 1e6,
                                    (t2 - t1) / 1e6 / (steps - 1), steps - 1);
                        }
                    }
                }
            }
        }
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
