// DecoderCacheTest — for each RoPE decoder fixture folder (Llama with each rope scaling, yarn, Mistral and Qwen2
// with sliding windows, Qwen3, Phi-3, Gemma, Gemma 2 with soft-capping), cached decoding — a prefill chunk, then 64 steps replayed from the
// captured decode step, and a long prefill run in decode slices — equals the full recomputation over the
// same sequence, with sequences long enough that the windows (6, 7) and llama3/linear scaling matter.
// Dynamic NTK and LongRoPE are the exceptions transformers itself makes: its cache keeps keys rotated with
// the frequencies of their own step, so past max_position_embeddings (dynamic) or the original max positions
// (LongRoPE) cached decoding follows the cache, checked against a float64 reference of exactly that.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.runtime.CpuBackend;

class DecoderCacheTest {

    static final int PREFIX = 8, STEPS = 64;

    static int[] ids(int vocab, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(vocab);
        return a;
    }

    static double maxAbs(float[][] a) {
        double m = 0;
        for (float[] r : a) for (float v : r) m = Math.max(m, Math.abs(v));
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "llama-head-dim", "llama-rope-linear", "llama-rope-llama3", "llama-rope-llama3-v5", "mistral",
            "qwen2", "qwen2-v5", "qwen3", "phi3", "gemma", "qwen2-yarn", "llama-rope-yarn-v5", "gemma2", "gemma3-text",
            "gemma3-text-v5", "granite", "smollm3", "olmo", "olmo2", "olmo3", "mixtral", "mixtral-v5", "qwen2-moe", "qwen3-moe", "olmoe", "qwen3-fp8", "llama-fp8-dynamic", "mistral-fp8-static", "qwen2-awq", "llama-gptq", "qwen2-gptq-int8",
            "gpt-neox", "gpt-neox-sequential-v5", "phi", "stablelm", "stablelm-parallel", "starcoder2", "opt", "opt-350m", "gptj", "codegen", "gpt-bigcode", "falcon", "falcon-new", "bloom", "mpt", "falcon-rw", "gpt-neo", "cohere", "cohere2", "glm", "glm4", "exaone4", "ernie4_5", "seed-oss", "deepseek-v2-lite", "deepseek-v2", "deepseek-v3", "glm4-moe", "nemotron", "ernie4_5-moe", "granitemoe", "granitemoeshared", "arcee", "dots1"})
    void cachedStepsEqualFullRecomputation(String name) throws Exception {
        Path dir = ReferenceFixturesTest.root().resolve(name);
        CpuBackend cpu = new CpuBackend();
        try (Weights w = Pretrained.load(dir, cpu)) {
            Transformer m = new Transformer(w, cpu);
            int[] seq = ids(w.config.vocabSize(), PREFIX + STEPS, 15);
            float[][] full = m.logits(new int[][] {seq})[0];
            double tol = 2e-5 * maxAbs(full);
            try (KvState st = m.newState(1, PREFIX + STEPS)) {
                float[][] first = m.prefill(st, 0, Arrays.copyOf(seq, PREFIX));
                assertTrue(Tiny.maxDiff(first, full, 0) <= tol, name + ": prefill");
                for (int t = PREFIX; t < PREFIX + STEPS; t++) {
                    double d = Tiny.maxDiff(m.step(st, new int[] {seq[t]}), new float[][] {full[t]}, 0);
                    assertTrue(d <= tol, name + ": step " + t + " differs by " + d + " (tolerance " + tol + ")");
                }
                assertTrue(st.decodeGraphed(), name + ": the steps ran from the captured graph: " + st.decodeGraphFailure());
            }
            try (KvState st = m.newState(1, PREFIX + STEPS)) {                 // 5 rows, then 45 in three decode slices
                assertTrue(Tiny.maxDiff(m.prefill(st, 0, Arrays.copyOf(seq, 5)), full, 0) <= tol, name + ": first chunk");
                double d = Tiny.maxDiff(m.prefill(st, 0, Arrays.copyOfRange(seq, 5, 50)), full, 5);
                assertTrue(d <= tol, name + ": a 45-row chunk after 5 cached rows differs by " + d);
            }
        }
    }

    /**
     * Inspection of a RoPE decoder: for a run of one repeated token, layer 0's q and k are the same at every
     * position before RoPE, so with RoPE its attention weights depend on the distance only — rows whose
     * window is full are shifts of each other — and keys outside the sliding window (5) get weight 0.
     */
    @org.junit.jupiter.api.Test
    void layerZeroAttentionWeightsDependOnDistanceOnlyWithinTheWindow() {
        CpuBackend cpu = new CpuBackend();
        TransformerConfig c = Tiny.ropeDecoder();
        int w = c.window(0);
        try (Weights weights = Weights.random(c, cpu, 5)) {
            Transformer m = new Transformer(weights, cpu);
            int[] same = new int[12];
            Arrays.fill(same, 17);
            for (int head = 0; head < c.heads(); head++) {
                float[][] a = m.attentionWeights(same, 0, 0, head);
                for (int i = 0; i < a.length; i++) {
                    double sum = 0;
                    for (int j = 0; j < a.length; j++) {
                        sum += a[i][j];
                        if (j > i || j <= i - w) assertTrue(a[i][j] == 0, "query " + i + " key " + j + " is outside the window");
                    }
                    assertTrue(Math.abs(sum - 1) < 1e-5, "row " + i + " sums to " + sum);
                    if (i >= w) {
                        double lo = 1, hi = 0;
                        for (int d = 0; d < w; d++) {
                            lo = Math.min(lo, a[i][i - d]);
                            hi = Math.max(hi, a[i][i - d]);
                        }
                        assertTrue(hi - lo > 1e-3, "row " + i + " is uniform: the rotation did not reach the scores");
                        for (int d = 0; d < w; d++) {
                            assertTrue(Math.abs(a[i][i - d] - a[w - 1][w - 1 - d]) < 1e-5, "head " + head + " query " + i
                                    + " distance " + d + ": " + a[i][i - d] + " vs " + a[w - 1][w - 1 - d]);
                        }
                    }
                }
            }
        }
    }

    /**
     * LongRoPE through the cache as transformers' generate runs it: a 10-token prompt in one call (short
     * factors: seq_len 10 ≤ the original 16), then one token a call, each call's rotation chosen by its own
     * seq_len (long from position 16 on), the cache keeping every key as its call rotated it. The reference
     * (phi3-longrope's cached_logits) computes exactly those rotations in float64; prefill and every step,
     * eager and replayed from the captured decode step, must match it, and the last step must differ from a
     * recomputation of the whole sequence (which rotates every key with the long factors).
     */
    @org.junit.jupiter.api.Test
    void longRopeCachedStepsFollowTransformersCacheAcrossTheOriginalMax() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("phi3-longrope");
        int prompt = f.ref().get("inputs").get("cached_prompt").intValue(), n = f.ref().get("inputs").get("cached_tokens").intValue();
        int[] seq = Arrays.copyOf(f.ids("input_ids")[0], n);
        CpuBackend cpu = new CpuBackend();
        try (Weights w = Pretrained.load(f.dir(), cpu)) {
            Transformer m = new Transformer(w, cpu);
            assertTrue(prompt <= w.config.rope().originalMaxPositions() && n > w.config.rope().originalMaxPositions(),
                    "the prompt is within the original max positions and the steps go past it");
            float[][] got = new float[n][];
            try (KvState st = m.newState(1, n)) {
                float[][] p = m.prefill(st, 0, Arrays.copyOf(seq, prompt));
                System.arraycopy(p, 0, got, 0, prompt);
                for (int t = prompt; t < n; t++) got[t] = m.step(st, new int[] {seq[t]})[0];
            }
            f.near("cached_logits", new float[][][] {got});
            float[][] recomputed = m.logits(new int[][] {seq})[0];
            double tol = 2e-5 * maxAbs(got);
            assertTrue(Tiny.maxDiff(new float[][] {recomputed[n - 1]}, got, n - 1) > 100 * tol,
                    "the cache's short-factor keys make the last step differ from a recomputation with long factors");
        }
    }

    @org.junit.jupiter.api.Test
    void dynamicNtkCachedStepsEqualRecomputationUpToMaxPositions() throws Exception {
        Path dir = ReferenceFixturesTest.root().resolve("llama-rope-dynamic");
        CpuBackend cpu = new CpuBackend();
        try (Weights w = Pretrained.load(dir, cpu)) {
            Transformer m = new Transformer(w, cpu);
            int mpe = w.config.rope().originalMaxPositions();                 // 16
            int[] seq = ids(w.config.vocabSize(), mpe + 8, 16);
            float[][] full = m.logits(new int[][] {Arrays.copyOf(seq, mpe)})[0];
            double tol = 2e-5 * maxAbs(full);
            try (KvState st = m.newState(1, mpe + 8)) {
                m.prefill(st, 0, Arrays.copyOf(seq, 4));
                for (int t = 4; t < mpe; t++) {
                    double d = Tiny.maxDiff(m.step(st, new int[] {seq[t]}), new float[][] {full[t]}, 0);
                    assertTrue(d <= tol, "step " + t + " differs by " + d);
                }
                // Past max positions the frequencies change with the length: the whole-sequence pass of 20 tokens
                // rotates every key with seq_len 20, the cache keeps the keys of steps 0..18 as they were.
                for (int t = mpe; t < mpe + 4; t++) m.step(st, new int[] {seq[t]});
                float[][] longer = m.logits(new int[][] {Arrays.copyOf(seq, mpe + 4)})[0];
                float[][] again = m.logits(new int[][] {Arrays.copyOf(seq, mpe)})[0];
                assertTrue(Tiny.maxDiff(again, full, 0) == 0, "recomputation is deterministic");
                assertTrue(Tiny.maxDiff(new float[][] {longer[mpe - 1]}, full, mpe - 1) > 100 * tol,
                        "past max positions the full pass changes earlier rows' frequencies (dynamic scaling is active)");
            }
        }
    }
}
