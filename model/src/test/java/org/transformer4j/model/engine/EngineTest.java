// EngineTest — the continuous-batching engine against Generator run alone on each request: the same
// tokens under concurrency, chunked prefill, equal chunks of several prompts in one pass, preemption
// under a tiny KV budget, prefix sharing, and a sequence with non-finite logits failing alone.
package org.transformer4j.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;
import org.transformer4j.model.PagedBatch;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class EngineTest {

    static final int V = 100;
    static Backend backend;
    static Weights weights;
    static Transformer model;

    /** GPT-2 in miniature: pre-LN, GELU-tanh, learned positions (160), biases, tied; C = 64, 2 layers, 2 heads. */
    static TransformerConfig gpt2Tiny() {
        return TransformerConfig.builder().vocabSize(V).widths(64, 128, 2).encoderLayers(0).decoderLayers(2)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.GELU_TANH, false).learnedPositions(160).biases(true)
                .tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(0, 1, 2, 1, 3)).build();
    }

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = Weights.random(gpt2Tiny(), backend, 11);
        model = new Transformer(weights, backend);
    }

    @AfterAll
    static void tearDown() {
        weights.close();
        backend.close();
    }

    record Result(List<Integer> tokens, Engine.Finish finish, String error) {
        int[] ids() { return tokens.stream().mapToInt(Integer::intValue).toArray(); }
    }

    static CompletableFuture<Result> submit(Engine e, int[] prompt, Generator.Options o) {
        CompletableFuture<Result> f = new CompletableFuture<>();
        List<Integer> got = new ArrayList<>();
        e.submit(new Engine.Request(prompt, o), new Engine.Listener() {
            @Override public void onToken(Engine.Token t) {
                assertEquals(got.size(), t.index());
                got.add(t.id());
            }
            @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Result(got, reason, error)); }
        });
        return f;
    }

    /**
     * Log-probabilities in a mixed batch (requests without them, with the chosen token's only, with 3 and 20 alternatives,
     * greedy and sampled, several running together): each token's logprob and top ids are the log softmax of the logits a
     * full recomputation of that prefix gives (float64 here from the model's fp32 logits), with the top ids in
     * Logprobs' order; the chosen token's logprob within 1e-5 of that.
     */
    @Test
    void logprobsOfAMixedBatchAreThoseOfTheirRows() throws Exception {
        int[] tops = {-1, 0, 3, 20, 2, -1, 5};
        List<int[]> prompts = new ArrayList<>();
        List<CompletableFuture<List<Engine.Token>>> fs = new ArrayList<>();
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            for (int i = 0; i < tops.length; i++) {
                prompts.add(prompt(300 + i, 3 + 5 * i));
                Generator.Options o = Generator.Options.greedy(6 + i);
                if (i % 2 == 1) o = o.sampling(1.1f, 0, 1f, 40 + i);
                CompletableFuture<List<Engine.Token>> f = new CompletableFuture<>();
                List<Engine.Token> got = new ArrayList<>();
                e.submit(new Engine.Request(prompts.get(i), o, tops[i]), new Engine.Listener() {
                    @Override public void onToken(Engine.Token t) { got.add(t); }
                    @Override public void onFinish(Engine.Finish reason, String error) {
                        if (error != null) f.completeExceptionally(new AssertionError(error));
                        else f.complete(got);
                    }
                });
                fs.add(f);
            }
            for (int i = 0; i < tops.length; i++) {
                List<Engine.Token> got = fs.get(i).get(120, TimeUnit.SECONDS);
                int[] seq = Arrays.copyOf(prompts.get(i), prompts.get(i).length + got.size());
                for (int t = 0; t < got.size(); t++) seq[prompts.get(i).length + t] = got.get(t).id();
                for (int t = 0; t < got.size(); t++) {
                    Engine.Token tok = got.get(t);
                    if (tops[i] < 0) {
                        assertTrue(Double.isNaN(tok.logprob()) && tok.topIds() == null, "request " + i + ": no logprobs asked");
                        continue;
                    }
                    float[] row = model.logits(new int[][] {Arrays.copyOf(seq, prompts.get(i).length + t)})[0][prompts.get(i).length + t - 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (float v : row) max = Math.max(max, v);
                    for (float v : row) sum += Math.exp(v - max);
                    double lse = max + Math.log(sum);
                    assertEquals(row[tok.id()] - lse, tok.logprob(), 1e-5, "request " + i + " token " + t);
                    assertEquals(Math.min(tops[i], V), tok.topIds().length, "request " + i + " token " + t);
                    for (int j = 0; j < tok.topIds().length; j++) {
                        assertEquals(row[tok.topIds()[j]] - lse, tok.topLogprobs()[j], 1e-5, "request " + i + " token " + t + " alternative " + j);
                        if (j > 0) assertTrue(tok.topLogprobs()[j] <= tok.topLogprobs()[j - 1], "descending");
                    }
                    float kth = tops[i] == 0 ? Float.POSITIVE_INFINITY : row[tok.topIds()[tok.topIds().length - 1]];
                    int above = 0;
                    for (float v : row) if (v > kth + 1e-4f) above++;
                    assertTrue(above <= tok.topIds().length, "request " + i + " token " + t + ": " + above + " ids above the last alternative");
                }
            }
            assertEquals(0, e.logprobCopies(), "the CPU backend's rows are read in place");
        }
    }

    static int[] prompt(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = 4 + r.nextInt(V - 4);
        return p;
    }

    /** Mixed lengths (below and above the small-M limit, several blocks), greedy and seeded sampling, stop ids. */
    static List<Generator.Options> options(int n) {
        List<Generator.Options> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Generator.Options o = Generator.Options.greedy(8 + (i * 7) % 25);
            if (i % 3 == 1) o = o.sampling(0.9f, 0, 1f, 1000 + i);
            if (i % 3 == 2) o = o.sampling(1.3f, 20, 0.9f, 77 * i);
            if (i % 4 == 3) o = o.stopIds(Set.of(5, 17, 42));
            out.add(o);
        }
        return out;
    }

    static void assertSameAsAlone(Engine e, List<int[]> prompts, List<Generator.Options> opts) throws Exception {
        assertSameAsAlone(model, e, prompts, opts);
    }

    static void assertSameAsAlone(Transformer model, Engine e, List<int[]> prompts, List<Generator.Options> opts) throws Exception {
        assertSameAsAlone(model, e, prompts, opts, () -> {});
    }

    /** The same, running {@code submitted} once every request is submitted (e.g. to release a held loop). */
    static void assertSameAsAlone(Transformer model, Engine e, List<int[]> prompts, List<Generator.Options> opts, Runnable submitted)
            throws Exception {
        List<CompletableFuture<Result>> fs = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) fs.add(submit(e, prompts.get(i), opts.get(i)));
        submitted.run();
        Generator g = new Generator(model);
        for (int i = 0; i < prompts.size(); i++) {
            Result r = fs.get(i).get(120, TimeUnit.SECONDS);
            assertEquals(null, r.error(), "request " + i);
            int[] alone = g.generate(prompts.get(i), opts.get(i), null);
            assertArrayEquals(alone, r.ids(), "request " + i + " (prompt " + prompts.get(i).length + " tokens, " + opts.get(i) + ")");
            boolean stopped = opts.get(i).stopIds().contains(alone[alone.length - 1]);
            assertEquals(stopped ? Engine.Finish.STOP : Engine.Finish.LENGTH, r.finish(), "request " + i);
        }
    }

    /**
     * GPT-OSS through continuous batching: sinks in the paged decode and chunked prefill, sliding and full layers, the
     * biased experts with their clamped SwiGLU; every request gets the tokens it gets alone (the float64 fixture's model).
     */
    @Test
    void gptOssRequestsGiveTheirSoloTokens() throws Exception {
        java.nio.file.Path dir = org.transformer4j.model.TestFolders.fixture("gpt-oss");
        try (Weights w = org.transformer4j.model.Pretrained.load(dir, backend)) {
            Transformer m = new Transformer(w, backend);
            List<int[]> prompts = new ArrayList<>();
            List<Generator.Options> opts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                SplittableRandom r = new SplittableRandom(300 + i);
                int[] p = new int[1 + (i * 7) % 17];
                for (int j = 0; j < p.length; j++) p[j] = 3 + r.nextInt(w.config.vocabSize() - 3);
                prompts.add(p);
                Generator.Options o = Generator.Options.greedy(6 + i);
                opts.add(i % 2 == 1 ? o.sampling(0.8f, 0, 1f, 40 + i) : o);
            }
            try (Engine e = new Engine(m, Engine.Config.defaults(m).steps(16, 8))) {
                assertSameAsAlone(m, e, prompts, opts);
                assertEquals(0, e.blocksInUse());
            }
        }
    }

    /**
     * min_new_tokens, min_length and no_repeat_ngram_size per request, mixed in one batch with requests that have none
     * (greedy and sampled, stop ids that the plain run would hit): the engine's one mask op per step bans each row's own
     * ids, and every request gets the tokens Generator gives it alone.
     */
    @Test
    void bannedIdsPerRequestGiveTheirSoloTokens() throws Exception {
        List<int[]> prompts = new ArrayList<>();
        List<Generator.Options> opts = new ArrayList<>();
        Generator g = new Generator(model);
        for (int i = 0; i < 10; i++) {
            int[] p = prompt(700 + i, 1 + (i * 13) % 40);
            prompts.add(p);
            Generator.Options o = Generator.Options.greedy(12 + i);
            if (i % 2 == 1) o = o.sampling(1.2f, 0, 1f, 300 + i);
            int[] plain = g.generate(p, o, null);
            o = o.stopIds(Set.of(plain[1 + i % 3], 5));                     // a stop id the plain run reaches early
            if (i % 4 == 0) o = o.minNewTokens(6 + i % 5);
            if (i % 4 == 1) o = o.minLength(p.length + 5);
            if (i % 3 != 2) o = o.noRepeatNgramSize(1 + i % 3);
            // transformers' token rules and vLLM's bad words / allowed ids, each request its own
            if (i % 5 == 0) o = o.suppressTokens(new java.util.HashSet<>(List.of(plain[0], plain[2]))).beginSuppressTokens(Set.of(plain[1]));
            if (i % 5 == 1) o = o.badWordsIds(List.of(List.of(plain[0]), List.of(p[p.length - 1], plain[1]), List.of(plain[2], plain[3])));
            if (i % 5 == 2) o = o.forcedEosTokenIds(Set.of(7, 3)).outputBadWordsIds(List.of(List.of(plain[0], plain[1])));
            if (i % 5 == 3) o = o.allowedTokenIds(new java.util.HashSet<>(List.of(3, 4, 5, 8, 13, 21, 34, plain[1 + i % 3])));
            if (i % 5 == 4 && p.length == 1) o = o.forcedBosTokenId(9);
            opts.add(o);
        }
        try (Engine e = new Engine(model, Engine.Config.defaults(model).steps(40, 16))) {
            assertSameAsAlone(e, prompts, opts);
            assertEquals(0, e.blocksInUse());
        }
    }

    /**
     * Penalties, min_p and logit bias per request (greedy and sampled, each request its own): the engine penalizes each
     * sequence's row from its own history (prompt and tokens so far), under concurrency, chunked prefill and a tiny KV
     * budget that preempts and recomputes, and every request still gets the tokens Generator gives it alone.
     */
    @Test
    void penalizedRequestsGiveTheirSoloTokens() throws Exception {
        List<int[]> prompts = new ArrayList<>();
        List<Generator.Options> opts = new ArrayList<>();
        int n = 12;
        for (int i = 0; i < n; i++) {
            prompts.add(prompt(500 + i, 1 + (i * 11) % 70));
            Generator.Options o = Generator.Options.greedy(10 + (i * 5) % 20);
            if (i % 2 == 1) o = o.sampling(1.1f, i % 4 == 1 ? 0 : 25, 0.95f, 900 + i).minP(0.05f * (i % 3));
            if (i % 3 != 2) o = o.repetitionPenalty(i % 3 == 0 ? 1.6f : 0.8f);
            if (i % 4 != 0) o = o.presenceFrequency(0.5f * (i % 3) - 0.5f, 0.3f * (i % 5));
            if (i % 5 == 3) o = o.logitBias(java.util.Map.of(9, 4f, 10, -100f, 4 + i, 1.5f));
            opts.add(o);
        }
        try (Engine e = new Engine(model, Engine.Config.defaults(model).steps(40, 16))) {
            assertSameAsAlone(e, prompts, opts);
            assertEquals(0, e.blocksInUse());
        }
        List<int[]> long_ = new ArrayList<>();
        List<Generator.Options> longOpts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {                  // as preemptionUnderATinyBudgetStillGivesTheSoloTokens, penalized
            long_.add(prompt(100 + i, 20 + 9 * i % 30));
            Generator.Options o = Generator.Options.greedy(40).repetitionPenalty(1.3f).presenceFrequency(0.4f, 0.2f);
            longOpts.add(i % 2 == 0 ? o : o.sampling(1f, 0, 1f, 5 + i).minP(0.1f));
        }
        Engine.Config tiny = Engine.Config.defaults(model).kvBudget(10 * PagedBatch.bytesPerBlock(model)).steps(64, 32);
        try (Engine e = new Engine(model, tiny)) {
            assertSameAsAlone(e, long_, longOpts);
            assertTrue(e.preemptions() > 0, "the budget forced preemptions");
        }
    }

    @Test
    void concurrentRequestsGiveTheirSoloTokens() throws Exception {
        List<int[]> prompts = new ArrayList<>();
        int n = 24;
        for (int i = 0; i < n; i++) prompts.add(prompt(i, 1 + (i * 13) % 90));
        // a small step budget: prefill goes in chunks between decode steps
        Engine.Config c = Engine.Config.defaults(model).steps(48, 32);
        try (Engine e = new Engine(model, c)) {
            assertSameAsAlone(e, prompts, options(n));
            assertEquals(0, e.blocksInUse(), "every block is free once every request ended");
            assertTrue(e.steps() < 24 * 30, "requests shared steps: " + e.steps());
        }
    }

    /**
     * Captured decode steps per batch bucket (CUDA's default, run here on the CPU backend's twin of a
     * graph): twelve requests first decode op by op (12 sequences: above the largest bucket), then at
     * buckets 8, 4 and 1 as they finish, padded with rows that write only the padding block; each
     * request still gets its solo tokens, and the buckets' steps replayed captured graphs.
     */
    @Test
    void capturedDecodeStepsPerBucketGiveTheSoloTokens() throws Exception {
        List<int[]> prompts = new ArrayList<>();
        int n = 12;
        for (int i = 0; i < n; i++) prompts.add(prompt(300 + i, 1 + (i * 11) % 70));
        Engine.Config c = Engine.Config.defaults(model).steps(48, 32).decodeBuckets(1, 4, 8);
        try (Engine e = new Engine(model, c)) {
            assertSameAsAlone(e, prompts, options(n));
            for (int bucket : new int[] {4, 8}) {
                assertEquals(null, e.decodeGraphFailure(bucket), "bucket " + bucket);
                assertTrue(e.decodeGraphed(bucket), "bucket " + bucket + "'s decode step was captured and replayed");
            }
            assertEquals(0, e.blocksInUse(), "every sequence's block is free once every request ended (the padding block is not counted)");
        }
    }

    @Test
    void decodeBucketsAreCheckedAndNeedRoomForThePaddingBlock() {
        Engine.Config c = Engine.Config.defaults(model);
        assertThrows(IllegalArgumentException.class, () -> c.decodeBuckets(4, 2));
        assertThrows(IllegalArgumentException.class, () -> c.decodeBuckets(0, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Engine(model, c.kvBudget(PagedBatch.bytesPerBlock(model)).decodeBuckets(1, 2)));
        assertTrue(e.getMessage().contains("padding"), e.getMessage());
        assertEquals(c, Engine.Config.defaults(model), "configs compare by value, buckets included");
        assertArrayEquals(new int[0], c.decodeBuckets(), "no buckets on the CPU by default");
    }

    @Test
    void bf16RequestsGiveTheirSoloTokensToo() throws Exception {
        try (Weights w = weights.to(org.transformer4j.runtime.DType.BF16)) {
            Transformer m = new Transformer(w, backend);
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 10; i++) prompts.add(prompt(50 + i, 1 + (i * 17) % 60));
            try (Engine e = new Engine(m, Engine.Config.defaults(m).steps(40, 32))) {
                assertSameAsAlone(m, e, prompts, options(10));
            }
        }
    }

    @Test
    void preemptionUnderATinyBudgetStillGivesTheSoloTokens() throws Exception {
        int blocks = 10;
        Engine.Config c = Engine.Config.defaults(model).kvBudget(blocks * PagedBatch.bytesPerBlock(model)).steps(64, 32);
        List<int[]> prompts = new ArrayList<>();
        List<Generator.Options> opts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            prompts.add(prompt(100 + i, 20 + 9 * i % 30));
            Generator.Options o = Generator.Options.greedy(40);
            opts.add(i % 2 == 0 ? o : o.sampling(1f, 0, 1f, 5 + i));
        }
        try (Engine e = new Engine(model, c)) {
            assertEquals(blocks, e.numBlocks());
            assertSameAsAlone(e, prompts, opts);
            assertTrue(e.preemptions() > 0, "the budget forced preemptions");
            assertEquals(0, e.blocksInUse());
        }
    }

    /**
     * Prompts that arrive together are prefilled in one pass whatever their lengths (the engine's loop is held in a first
     * request's listener while they are submitted, so that one step admits them all): chunks of one length as one batch,
     * chunks of several lengths packed one after another. Each still gets exactly its solo tokens.
     */
    @Test
    void promptChunksOfAnyLengthArePrefilledTogetherWithTheirSoloTokens() throws Exception {
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            java.util.concurrent.CountDownLatch hold = holdLoop(e, 99);
            long before = e.prefillPasses();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 8; i++) prompts.add(prompt(300 + i, 12));     // 8 × 12 = 96 rows: one batch
            List<Generator.Options> opts = options(prompts.size());
            assertSameAsAlone(model, e, prompts, opts, hold::countDown);
            boolean groups = org.transformer4j.runtime.cpu.CpuKernels.smallMRows() > 8 * 12;
            if (groups) assertEquals(1, e.prefillPasses() - before, "the eight 12-token prompts in one pass");

            hold = holdLoop(e, 98);
            before = e.prefillPasses();
            prompts = new ArrayList<>();
            int[] lengths = {3, 30, 7, 17, 1, 25, 12, 20};           // 115 rows, across blocks
            for (int i = 0; i < lengths.length; i++) prompts.add(prompt(410 + i, lengths[i]));
            opts = options(prompts.size());
            assertSameAsAlone(model, e, prompts, opts, hold::countDown);
            if (org.transformer4j.runtime.cpu.CpuKernels.smallMRows() > 115) {
                assertEquals(1, e.prefillPasses() - before, "eight prompts of eight lengths packed in one pass");
            }
        }
    }

    /**
     * Prompts that arrive while others decode: the step's decode rows and the new prompts' chunks go through ONE packed
     * pass (vLLM's mixed batch; {@link Engine#mixedPasses}), the decode rows sampled from the pass's logits where they lie,
     * and every request still gets exactly its solo tokens (greedy and sampled, one with a stop id, one wanting its
     * prompt's log-probabilities). Where the small-M limit leaves no room for the rows together (no Vector API) the step
     * runs them apart, with the same tokens.
     */
    @Test
    void promptsArrivingWhileOthersDecodeShareTheirPassWithTheSoloTokens() throws Exception {
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            List<int[]> first = List.of(prompt(520, 4), prompt(521, 7));
            List<Generator.Options> firstOpts = List.of(Generator.Options.greedy(40), Generator.Options.greedy(40).sampling(0.9f, 0, 1f, 52));
            List<CompletableFuture<Result>> running = new ArrayList<>();
            List<CompletableFuture<Void>> decoding = new ArrayList<>();
            for (int i = 0; i < first.size(); i++) {
                CompletableFuture<Result> f = new CompletableFuture<>();
                CompletableFuture<Void> firstToken = new CompletableFuture<>();
                List<Integer> got = new ArrayList<>();
                e.submit(new Engine.Request(first.get(i), firstOpts.get(i)), new Engine.Listener() {
                    @Override public void onToken(Engine.Token t) { got.add(t.id()); firstToken.complete(null); }
                    @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Result(got, reason, error)); }
                });
                running.add(f);
                decoding.add(firstToken);
            }
            for (CompletableFuture<Void> d : decoding) d.get(60, TimeUnit.SECONDS);
            long mixedBefore = e.mixedPasses();
            List<int[]> later = List.of(prompt(530, 5), prompt(531, 9), prompt(532, 14));
            List<Generator.Options> laterOpts = List.of(Generator.Options.greedy(6), Generator.Options.greedy(9).sampling(1.3f, 20, 0.9f, 9),
                    Generator.Options.greedy(12).stopIds(Set.of(5, 17, 42)));
            CompletableFuture<double[]> promptLps = new CompletableFuture<>();
            List<CompletableFuture<Result>> arrived = new ArrayList<>();
            for (int i = 0; i < later.size(); i++) {
                CompletableFuture<Result> f = new CompletableFuture<>();
                List<Integer> got = new ArrayList<>();
                Engine.Request r = new Engine.Request(later.get(i), laterOpts.get(i));
                if (i == 2) r = r.withPromptLogprobs(0);
                e.submit(r, new Engine.Listener() {
                    @Override public void onToken(Engine.Token t) { got.add(t.id()); }
                    @Override public void onPromptLogprobs(Engine.PromptLogprobs p) { promptLps.complete(p.logprobs()); }
                    @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Result(got, reason, error)); }
                });
                arrived.add(f);
            }
            Generator g = new Generator(model);
            for (int i = 0; i < first.size(); i++) {
                Result r = running.get(i).get(120, TimeUnit.SECONDS);
                assertEquals(null, r.error());
                assertArrayEquals(g.generate(first.get(i), firstOpts.get(i), null), r.ids(), "decoding request " + i);
            }
            for (int i = 0; i < later.size(); i++) {
                Result r = arrived.get(i).get(120, TimeUnit.SECONDS);
                assertEquals(null, r.error());
                assertArrayEquals(g.generate(later.get(i), laterOpts.get(i), null), r.ids(), "arriving request " + i);
            }
            double[] lps = promptLps.get(10, TimeUnit.SECONDS);
            int[] p = later.get(2);
            for (int j = 1; j < p.length; j++) {
                assertEquals(logSoftmaxOfFullPass(p, j - 1)[p[j]], lps[j], 1e-4, "prompt log-probability of token " + j);
            }
            if (org.transformer4j.runtime.cpu.CpuKernels.smallMRows() > 2 + 5 + 9 + 14) {
                assertTrue(e.mixedPasses() > mixedBefore, "the arriving prompts' chunks ran with the decode rows");
            }
        }
    }

    /**
     * A backend that refuses varlen decodes (as a libt4j before ABI 17, or a device whose kernel fails, would): every mixed,
     * packed-prefill and packed-verify pass fails, and the engine runs each chunk, decode step and draft check the separate,
     * per-sequence way — every request still gets exactly its solo tokens, and no mixed pass is counted.
     */
    @Test
    void passesTheBackendRefusesFallBackToTheSeparateWayWithTheSoloTokens() throws Exception {
        CpuBackend cpu = new CpuBackend();
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        Backend noVarlen = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("decode") && args[0] instanceof org.transformer4j.runtime.DecodeOp op && op.cuSeqlensQ() != null) {
                        refused.incrementAndGet();
                        throw new IllegalStateException("varlen decode refused (test)");
                    }
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException ex) {
                        throw ex.getCause();
                    }
                });
        try (Weights w = Weights.random(gpt2Tiny(), noVarlen, 13)) {
            Transformer m = new Transformer(w, noVarlen);
            int[] unit = prompt(840, 6);
            int[] repeating = concat(concat(unit, unit), unit);
            List<int[]> prompts = List.of(repeating, prompt(841, 5), prompt(842, 19), prompt(843, 9));
            List<Generator.Options> opts = List.of(Generator.Options.greedy(20), Generator.Options.greedy(12).sampling(0.9f, 0, 1f, 4),
                    Generator.Options.greedy(10), Generator.Options.greedy(8).sampling(1.3f, 20, 0.9f, 8));
            try (Engine e = new Engine(m, Engine.Config.defaults(m).speculative(Engine.Speculation.ngram(3, 1, 3)))) {
                java.util.concurrent.CountDownLatch hold = LoopHold.hold(e, prompt(844, 4));
                assertSameAsAlone(m, e, prompts, opts, hold::countDown);
                assertTrue(refused.get() > 0, "the packed passes were tried");
                assertEquals(0, e.mixedPasses(), "no mixed pass ran");
                assertTrue(e.draftTokens() > 0, "drafts were checked, one sequence at a time");
                awaitIdle(e);
                assertEquals(0, e.blocksInUse());
            }
        }
    }

    /**
     * A model whose positions depend on each sequence's length (dynamic NTK) does not pack: its prompts of several lengths
     * are prefilled one pass per length, and each gets its solo tokens.
     */
    @Test
    void dynamicRopePromptsOfSeveralLengthsArePrefilledApart() throws Exception {
        TransformerConfig c = TransformerConfig.builder().vocabSize(V).modelWidth(64).mlpWidth(128).heads(4, 2, 16).decoderLayers(2)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-6f)
                .activation(TransformerConfig.Activation.SILU, true)
                .rope(new TransformerConfig.Rope(10000, 16, TransformerConfig.Rope.Scaling.DYNAMIC, 2, 1, 4, 16))
                .biases(false).tiedEmbeddings(false, 1f).specialIds(new TransformerConfig.SpecialIds(0, 1, 2, -1, -1)).build();
        try (Weights w = Weights.random(c, backend, 5)) {
            Transformer m = new Transformer(w, backend);
            try (Engine e = new Engine(m, Engine.Config.defaults(m))) {
                java.util.concurrent.CountDownLatch hold = holdLoop(e, 97);
                long before = e.prefillPasses();
                List<int[]> prompts = new ArrayList<>();
                for (int n : new int[] {9, 20, 9, 14}) prompts.add(prompt(600 + prompts.size(), n));
                assertSameAsAlone(m, e, prompts, options(prompts.size()), hold::countDown);
                if (org.transformer4j.runtime.cpu.CpuKernels.smallMRows() > 18) {
                    assertEquals(3, e.prefillPasses() - before, "the two 9-token prompts together, the others alone");
                }
            }
        }
    }

    /**
     * Requests that arrive in one step with prompts sharing whole blocks (n choices of one prompt, a burst with one system
     * prompt) compute those blocks once: the first is admitted and prefills, the others wait for its blocks and prefill
     * only their tails (an unrelated prompt in the same burst is admitted at once). Each still gets its solo tokens.
     */
    @Test
    void promptsArrivingTogetherPrefillTheirSharedBlocksOnce() throws Exception {
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            java.util.concurrent.CountDownLatch hold = holdLoop(e, 98);
            long rows0 = e.prefillRows(), hits0 = e.prefixHits();
            int[] same = prompt(500, 100);                          // 6 whole blocks and 4 rows
            int[] system = Arrays.copyOf(same, 40);                 // 2 whole blocks in common with it
            int[] other = concat(system, prompt(501, 30));
            int[] unrelated = prompt(502, 90);
            List<int[]> prompts = List.of(same, same, same, other, same, unrelated);
            List<Generator.Options> opts = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) opts.add(Generator.Options.greedy(6).sampling(1.2f, 0, 1f, 900 + i));
            assertSameAsAlone(model, e, prompts, opts, hold::countDown);
            // blocks a prompt may take: whole blocks leaving at least minChunk rows (1 below minChunkRows)
            int minChunk = 100 < e.config().minChunkRows() ? 1 : e.config().minChunkRows();
            int sameShared = Math.min(6, (100 - minChunk) / 16), otherShared = Math.min(2, (70 - minChunk) / 16);
            long hits = 3L * sameShared + otherShared;
            assertEquals(hits, e.prefixHits() - hits0, "cached blocks taken");
            assertEquals(100 + 3 * (100 - 16 * sameShared) + (70 - 16 * otherShared) + 90, e.prefillRows() - rows0,
                    "each shared block computed once; the unrelated prompt in full");
        }
    }

    /**
     * The next turn of a chat: a prompt that repeats an earlier request's prompt and reply. By default (the CPU's) only the
     * earlier prompt's blocks are taken from the cache and the reply is computed again; with Config.cacheGenerated the
     * reply's full blocks are taken too, and each token's log-probability is still that of a full recomputation (the K/V
     * of those rows came from decode steps: equal up to float rounding, so the check is a tolerance, not bits).
     */
    @Test
    void theNextTurnTakesTheReplysBlocksWhenGeneratedBlocksAreCached() throws Exception {
        int[] first = prompt(600, 21);                                   // 1 whole block and 5 rows
        for (boolean cached : new boolean[] {false, true}) {
            Engine.Config cfg = Engine.Config.defaults(model);
            assertEquals(false, cfg.cacheGenerated(), "off on the CPU by default");
            try (Engine e = new Engine(model, cfg.cacheGenerated(cached))) {
                Result a = submit(e, first, Generator.Options.greedy(44)).get(120, TimeUnit.SECONDS);   // rows 0..64: 4 whole blocks
                assertEquals(null, a.error());
                int[] next = concat(concat(first, a.ids()), prompt(601, 9));   // 74 rows: 4 whole blocks and 10 rows
                long hits0 = e.prefixHits(), rows0 = e.prefillRows();
                List<Engine.Token> got = new ArrayList<>();
                CompletableFuture<Void> done = new CompletableFuture<>();
                e.submit(new Engine.Request(next, Generator.Options.greedy(6), 0), new Engine.Listener() {
                    @Override public void onToken(Engine.Token t) { got.add(t); }
                    @Override public void onFinish(Engine.Finish reason, String error) {
                        if (error != null) done.completeExceptionally(new AssertionError(error)); else done.complete(null);
                    }
                });
                done.get(120, TimeUnit.SECONDS);
                // the first request fed back 43 of its 44 tokens: rows 0..63 are cached, 4 whole blocks (the prompt's 1 + 3)
                long blocks = cached ? 4 : 1;
                assertEquals(blocks, e.prefixHits() - hits0, "cached = " + cached);
                assertEquals(next.length - 16 * blocks, e.prefillRows() - rows0, "cached = " + cached);
                int[] seq = Arrays.copyOf(next, next.length + got.size());
                for (int t = 0; t < got.size(); t++) seq[next.length + t] = got.get(t).id();
                for (int t = 0; t < got.size(); t++) {
                    double[] ls = logSoftmaxOfFullPass(Arrays.copyOf(seq, next.length + t), next.length + t - 1);
                    assertEquals(ls[got.get(t).id()], got.get(t).logprob(), 1e-5, "cached = " + cached + ", token " + t);
                }
                if (!cached) assertArrayEquals(new Generator(model).generate(next, Generator.Options.greedy(6), null),
                        got.stream().mapToInt(Engine.Token::id).toArray(), "without generated blocks: the solo tokens, bit for bit");
            }
        }
    }

    /** A full pass's log softmax of row {@code row} of {@code ids}, in float64. */
    static double[] logSoftmaxOfFullPass(int[] ids, int row) { return logSoftmaxOfFullPass(model, ids, row); }

    /** The same for model {@code m}. */
    static double[] logSoftmaxOfFullPass(Transformer m, int[] ids, int row) {
        float[] r = m.logits(new int[][] {ids})[0][row];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : r) max = Math.max(max, v);
        for (float v : r) sum += Math.exp(v - max);
        double[] out = new double[r.length];
        for (int i = 0; i < r.length; i++) out[i] = r[i] - max - Math.log(sum);
        return out;
    }

    record Scored(Engine.PromptLogprobs prompt, List<Engine.Token> tokens, Engine.Finish finish, String error) {}

    static CompletableFuture<Scored> score(Engine e, Engine.Request r) {
        CompletableFuture<Scored> f = new CompletableFuture<>();
        Engine.PromptLogprobs[] got = new Engine.PromptLogprobs[1];
        List<Engine.Token> tokens = new ArrayList<>();
        e.submit(r, new Engine.Listener() {
            @Override public void onPromptLogprobs(Engine.PromptLogprobs p) {
                assertEquals(null, got[0], "reported once");
                assertTrue(tokens.isEmpty(), "before the first token");
                got[0] = p;
            }
            @Override public void onToken(Engine.Token t) { tokens.add(t); }
            @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Scored(got[0], tokens, reason, error)); }
        });
        return f;
    }

    /**
     * A prompt's log-probabilities (vLLM's prompt_logprobs), prefilled in 16-row chunks: token i's is the log softmax of a
     * full pass's row i − 1 (float64 from its fp32 logits, within 1e-5), with that row's top ids; the reply is still its
     * solo reply. A prompt-only request (scoring) reports them and ends with no token and its blocks free; one whose
     * prompt blocks are in the cache computes every row anyway (no hit).
     */
    @Test
    void promptLogprobsAreThoseOfAFullPassAndPromptOnlyRequestsScore() throws Exception {
        int[] prompt = prompt(700, 53);
        try (Engine e = new Engine(model, Engine.Config.defaults(model).steps(512, 16))) {
            Scored r = score(e, new Engine.Request(prompt, Generator.Options.greedy(5)).withPromptLogprobs(3)).get(120, TimeUnit.SECONDS);
            assertEquals(null, r.error());
            Engine.PromptLogprobs p = r.prompt();
            assertEquals(prompt.length, p.logprobs().length);
            assertTrue(Double.isNaN(p.logprobs()[0]) && p.topIds()[0] == null && p.topLogprobs()[0] == null, "the first token has none");
            for (int i = 1; i < prompt.length; i++) {
                double[] ls = logSoftmaxOfFullPass(prompt, i - 1);
                assertEquals(ls[prompt[i]], p.logprobs()[i], 1e-5, "prompt token " + i);
                int above = 0, nearlyAbove = 0;                 // its rank, where no other id is within rounding of it
                for (double v : ls) { if (v > ls[prompt[i]] + 1e-5) above++; if (v > ls[prompt[i]] - 1e-5) nearlyAbove++; }
                assertTrue(p.ranks()[i] >= above + 1 && p.ranks()[i] <= nearlyAbove, "prompt token " + i + " rank " + p.ranks()[i]);
                assertArrayEquals(Logprobs.top(ls, 3), p.topIds()[i], "prompt token " + i + "'s row's top ids");
                for (int j = 0; j < 3; j++) assertEquals(ls[p.topIds()[i][j]], p.topLogprobs()[i][j], 1e-5);
            }
            assertArrayEquals(new Generator(model).generate(prompt, Generator.Options.greedy(5), null),
                    r.tokens().stream().mapToInt(Engine.Token::id).toArray(), "the reply");

            long hits = e.prefixHits(), rows = e.prefillRows();
            Scored only = score(e, new Engine.Request(prompt, Generator.Options.greedy(1)).promptOnly()).get(120, TimeUnit.SECONDS);
            assertEquals(Engine.Finish.LENGTH, only.finish());
            assertTrue(only.tokens().isEmpty(), "no token");
            assertEquals(0, only.prompt().topIds()[1].length, "no alternatives asked");
            for (int i = 1; i < prompt.length; i++) assertEquals(p.logprobs()[i], only.prompt().logprobs()[i], 0.0, "token " + i);
            assertEquals(0, e.prefixHits() - hits, "every row computed, none taken from the cache");
            assertEquals(prompt.length, e.prefillRows() - rows);
            awaitIdle(e);
            assertEquals(0, e.blocksInUse());
            assertThrows(IllegalArgumentException.class, () -> new Engine.Request(prompt, Generator.Options.greedy(1), -1, -1, false));
            assertThrows(IllegalArgumentException.class, () -> new Engine.Request(prompt, Generator.Options.greedy(1)).withPromptLogprobs(-2));
        }
    }

    /**
     * Requests that want their prompt's log-probabilities share a packed prefill pass with plain requests arriving in the
     * same step, and report exactly (bit for bit) what they report alone; every reply is its solo reply.
     */
    @Test
    void promptLogprobsOfAPackedPassAreThoseOfItsSoloPass() throws Exception {
        int[] scored = prompt(710, 37), other = prompt(711, 21), scoredToo = prompt(712, 9);
        Engine.PromptLogprobs[] alone = new Engine.PromptLogprobs[2];
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            alone[0] = score(e, new Engine.Request(scored, Generator.Options.greedy(4)).withPromptLogprobs(2)).get(60, TimeUnit.SECONDS).prompt();
            alone[1] = score(e, new Engine.Request(scoredToo, Generator.Options.greedy(1)).promptOnly()).get(60, TimeUnit.SECONDS).prompt();
        }
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            java.util.concurrent.CountDownLatch hold = holdLoop(e, 94);
            long passes = e.prefillPasses();
            CompletableFuture<Scored> a = score(e, new Engine.Request(scored, Generator.Options.greedy(4)).withPromptLogprobs(2));
            CompletableFuture<Result> b = submit(e, other, Generator.Options.greedy(6));
            CompletableFuture<Scored> c = score(e, new Engine.Request(scoredToo, Generator.Options.greedy(1)).promptOnly());
            hold.countDown();
            Scored ra = a.get(60, TimeUnit.SECONDS), rc = c.get(60, TimeUnit.SECONDS);
            Generator g = new Generator(model);
            assertArrayEquals(g.generate(scored, Generator.Options.greedy(4), null), ra.tokens().stream().mapToInt(Engine.Token::id).toArray());
            assertArrayEquals(g.generate(other, Generator.Options.greedy(6), null), b.get(60, TimeUnit.SECONDS).ids());
            Engine.PromptLogprobs[] got = {ra.prompt(), rc.prompt()};
            for (int k = 0; k < 2; k++) {
                assertArrayEquals(alone[k].logprobs(), got[k].logprobs(), 0.0, "request " + k + "'s prompt log-probabilities");
                assertArrayEquals(alone[k].ranks(), got[k].ranks());
                for (int i = 1; i < got[k].topIds().length; i++) assertArrayEquals(alone[k].topIds()[i], got[k].topIds()[i]);
            }
            if (org.transformer4j.runtime.cpu.CpuKernels.smallMRows() > 37 + 21 + 9) {
                assertEquals(1, e.prefillPasses() - passes, "the three prompts in one packed pass");
            }
        }
    }

    static void awaitIdle(Engine e) throws InterruptedException {
        for (int i = 0; i < 2000 && (e.running() > 0 || e.queued() > 0 || e.blocksInUse() > 0); i++) Thread.sleep(5);
    }

    /** vLLM's ngram proposer: the longest suffix of minNgram..maxNgram tokens, its earliest earlier occurrence, what followed. */
    @Test
    void ngramProposalsFollowTheLongestSuffixsEarliestOccurrence() {
        Engine.Speculation sp = Engine.Speculation.ngram(3, 1, 3);
        //                 0  1  2  3  4  5  6  7  8  9 10 11
        int[] t = {5, 6, 7, 8, 9, 6, 7, 1, 2, 5, 6, 7};
        // suffix (5 6 7) occurred at 0: the three tokens after it
        assertArrayEquals(new int[] {8, 9, 6}, sp.propose(t, t.length, 10));
        assertArrayEquals(new int[] {8}, sp.propose(t, t.length, 1), "no more than the limit");
        // suffix (9 6 7)? not before; (6 7) at 1 (earliest, not 5): what follows 1
        int[] u = {5, 6, 7, 8, 9, 6, 7, 1, 2, 3, 6, 7};
        assertArrayEquals(new int[] {8, 9, 6}, sp.propose(u, u.length, 10));
        // the suffix's occurrence runs up to the end: the draft stops where the tokens do
        int[] v = {4, 4, 4};
        assertArrayEquals(new int[] {4}, sp.propose(v, v.length, 10), "(4 4) at 0 is followed by the last 4 only");
        assertArrayEquals(new int[0], sp.propose(new int[] {1, 2, 3}, 3, 10), "no earlier occurrence");
        assertArrayEquals(new int[0], Engine.Speculation.ngram(3, 2, 3).propose(new int[] {1, 2, 3, 1}, 4, 10), "a 1-gram match is below minNgram");
        Engine.Speculation d = Engine.Speculation.ngram(5, null, null);
        assertEquals(5, d.minNgram());
        assertEquals(5, d.maxNgram(), "vLLM's defaults");
        assertEquals(2, Engine.Speculation.ngram(5, null, 2).minNgram(), "one given: both");
        assertThrows(IllegalArgumentException.class, () -> Engine.Speculation.ngram(5, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> Engine.Speculation.ngram(0, 1, 2));
    }

    /**
     * Greedy sequences with n-gram speculation get the tokens they get alone (a prompt that repeats itself, which the
     * tiny model's greedy continuation keeps doing): drafts proposed and kept, fewer steps than tokens; a sampled or
     * penalized sequence beside them is not speculated and keeps its solo tokens too; stop ids end a sequence inside a
     * kept draft.
     */
    @Test
    void speculativeGreedySequencesKeepTheirSoloTokensInFewerSteps() throws Exception {
        int[] unit = prompt(800, 7);
        int[] repeating = concat(concat(unit, unit), concat(unit, Arrays.copyOf(unit, 3)));
        List<int[]> prompts = List.of(repeating, prompt(801, 20), repeating, prompt(802, 9));
        List<Generator.Options> opts = List.of(Generator.Options.greedy(40), Generator.Options.greedy(30),
                Generator.Options.greedy(30).sampling(0.8f, 0, 1f, 5), Generator.Options.greedy(25).repetitionPenalty(1.3f));
        try (Engine e = new Engine(model, Engine.Config.defaults(model).speculative(Engine.Speculation.ngram(4, 1, 3)))) {
            long steps0 = e.steps();
            assertSameAsAlone(model, e, prompts.subList(0, 2), opts.subList(0, 2));
            assertTrue(e.draftTokens() > 0 && e.acceptedTokens() > 0, e.draftTokens() + " drafted, " + e.acceptedTokens() + " kept");
            assertTrue(e.steps() - steps0 < 40, "fewer steps than the longer reply's 40 tokens: " + (e.steps() - steps0));
            long drafted = e.draftTokens();
            // admitted in one step beside a held request's decode row (one mixed pass), then the greedy sequence's drafts
            // checked in one pass with the sampled one's decode rows
            java.util.concurrent.CountDownLatch hold = holdLoop(e, 97);
            long mixed0 = e.mixedPasses();
            assertSameAsAlone(model, e, List.of(repeating, prompt(803, 9)),
                    List.of(Generator.Options.greedy(40), Generator.Options.greedy(30).sampling(0.8f, 0, 1f, 6)), hold::countDown);
            assertTrue(e.draftTokens() > drafted, "the greedy sequence drafted beside the sampled one");
            if (org.transformer4j.runtime.cpu.CpuKernels.smallMRows() > 1 + repeating.length + 9) {
                assertTrue(e.mixedPasses() - mixed0 >= 2, (e.mixedPasses() - mixed0) + " mixed passes: the chunks with the held"
                        + " request's decode row, then drafts with decode rows");
            }
            drafted = e.draftTokens();
            assertSameAsAlone(model, e, prompts.subList(2, 4), opts.subList(2, 4));
            assertEquals(drafted, e.draftTokens(), "sampled and penalized sequences are not speculated");
            // a stop id inside what a draft would keep
            int[] alone = new Generator(model).generate(repeating, Generator.Options.greedy(40), null);
            int stop = alone[12];
            assertSameAsAlone(model, e, List.of(repeating), List.of(Generator.Options.greedy(40).stopIds(java.util.Set.of(stop))));
            awaitIdle(e);
            assertEquals(0, e.blocksInUse());
        }
    }

    /**
     * Four greedy sequences speculating together (Speculation.maxRunning 4) have their drafts checked in packed passes,
     * several sequences a pass, and keep their solo tokens bit for bit.
     */
    @Test
    void severalSpeculatingSequencesCheckTheirDraftsInOnePass() throws Exception {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int[] unit = prompt(810 + i, 5 + i);
            prompts.add(concat(concat(unit, unit), unit));
        }
        List<Generator.Options> opts = new ArrayList<>();
        for (int i = 0; i < 4; i++) opts.add(Generator.Options.greedy(30 + 3 * i));
        Engine.Config c = Engine.Config.defaults(model).speculative(Engine.Speculation.ngram(4, 1, 3).maxRunning(4));
        long[] passes = new long[2], kept = new long[2];
        for (int groups = 0; groups < 2; groups++) {                 // groups off (one verify pass per sequence), then on
            try (Engine e = new Engine(model, groups == 0 ? c.prefillGroupRows(1) : c)) {
                java.util.concurrent.CountDownLatch hold = holdLoop(e, 96);
                long passes0 = e.verifyPasses(), kept0 = e.acceptedTokens();
                assertSameAsAlone(model, e, prompts, opts, hold::countDown);
                passes[groups] = e.verifyPasses() - passes0;
                kept[groups] = e.acceptedTokens() - kept0;
            }
        }
        assertTrue(kept[0] > 0 && kept[0] == kept[1], "the same drafts kept either way: " + Arrays.toString(kept));
        if (org.transformer4j.runtime.cpu.CpuKernels.smallMRows() > 20) {
            assertTrue(passes[1] < passes[0], passes[1] + " verify passes packed against " + passes[0] + " one per sequence");
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * Holds the engine's loop inside a first request's listener (prompt seed {@code seed}) until the returned latch is
     * counted down, so that requests submitted meanwhile are all admitted by one step.
     */
    static java.util.concurrent.CountDownLatch holdLoop(Engine e, long seed) throws Exception {
        return LoopHold.hold(e, prompt(seed, 5));
    }

    @Test
    void prefillAllRefusesUnequalChunks() {
        try (PagedBatchPool pool = new PagedBatchPool(4)) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> PagedBatch.prefillAll(model, pool.kv, new int[] {0, 1}, 1, 0, new int[][] {{5, 6, 7}, {5, 6}}));
            assertTrue(ex.getMessage().contains("chunks of one length"), ex.getMessage());
        }
    }

    /** A bare pool of KV blocks for PagedBatch calls. */
    static final class PagedBatchPool implements AutoCloseable {
        final org.transformer4j.runtime.Tensor[][] kv;

        PagedBatchPool(int blocks) { kv = PagedBatch.allocate(model, blocks); }

        @Override public void close() { for (var ts : kv) for (var t : ts) t.close(); }
    }

    @Test
    void sharedPromptBlocksAreReused() throws Exception {
        int[] system = prompt(7, 48);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] tail = prompt(200 + i, 14 + i);
            int[] p = Arrays.copyOf(system, system.length + tail.length);
            System.arraycopy(tail, 0, p, system.length, tail.length);
            prompts.add(p);
        }
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            // the first request publishes the blocks; the rest reuse them
            assertSameAsAlone(e, prompts.subList(0, 1), options(1));
            assertSameAsAlone(e, prompts.subList(1, 6), options(5));
            assertEquals(15, e.prefixHits(), "3 blocks of the shared 48 tokens for each of 5 requests");
        }
    }

    /**
     * vLLM's cache_salt: a request finds cached prompt blocks only where they were published under its own salt (none, or
     * the same string); onAdmitted reports the prompt tokens it took from the cache; tokens are the solo ones either way.
     */
    @Test
    void cacheSaltsKeepPrefixBlocksApart() throws Exception {
        int[] p = concat(prompt(7, 48), prompt(207, 11));
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            assertEquals(0, admitted(e, new Engine.Request(p, Generator.Options.greedy(3))), "the first: nothing cached");
            assertEquals(48, admitted(e, new Engine.Request(p, Generator.Options.greedy(3))), "the same prompt, no salt: 3 blocks");
            assertEquals(0, admitted(e, new Engine.Request(p, Generator.Options.greedy(3)).withCacheSalt("tenant-a")), "another salt");
            assertEquals(48, admitted(e, new Engine.Request(p, Generator.Options.greedy(3)).withCacheSalt("tenant-a")), "the same salt");
            assertEquals(0, admitted(e, new Engine.Request(p, Generator.Options.greedy(3)).withCacheSalt("tenant-b")));
        }
    }

    /**
     * Config.prefixCaching(false) (vLLM's --no-enable-prefix-caching): the same prompt again takes nothing from the cache
     * and prefills in full, with its solo tokens; a burst of one prompt no longer waits for the first's blocks.
     */
    @Test
    void withoutPrefixCachingEveryPromptPrefillsInFull() throws Exception {
        int[] p = concat(prompt(8, 48), prompt(208, 11));
        try (Engine e = new Engine(model, Engine.Config.defaults(model).prefixCaching(false))) {
            long rows0 = e.prefillRows();
            assertEquals(0, admitted(e, new Engine.Request(p, Generator.Options.greedy(3))));
            assertEquals(0, admitted(e, new Engine.Request(p, Generator.Options.greedy(3))), "the same prompt: nothing cached");
            assertEquals(0, e.prefixHits());
            assertEquals(2L * p.length, e.prefillRows() - rows0, "both prompts computed in full");
        }
        assertTrue(Engine.Config.defaults(model).prefixCaching(), "on by default");
    }

    /** Runs r to its end (its tokens must be the solo ones) and returns the cached prompt tokens onAdmitted reported. */
    static int admitted(Engine e, Engine.Request r) throws Exception {
        int[] cached = {-1};
        CompletableFuture<Result> f = new CompletableFuture<>();
        List<Integer> got = new ArrayList<>();
        e.submit(r, new Engine.Listener() {
            @Override public void onAdmitted(int n) { cached[0] = n; }
            @Override public void onToken(Engine.Token t) { got.add(t.id()); }
            @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Result(got, reason, error)); }
        });
        Result res = f.get(120, TimeUnit.SECONDS);
        assertEquals(null, res.error());
        assertArrayEquals(new Generator(model).generate(r.prompt(), r.options(), null), res.ids());
        return cached[0];
    }

    @Test
    void aSequenceWithNonFiniteLogitsFailsAlone() throws Exception {
        try (Weights w = Weights.random(gpt2Tiny(), backend, 11)) {
            // position 29 poisoned: a token there has NaN logits on the cached path too (a NaN token
            // embedding is hidden from later rows by the cached attention today: issue 20)
            int bad = 29;
            float[] pos = w.embeddings.positions().toFloatArray();
            for (int j = 0; j < 64; j++) pos[bad * 64 + j] = Float.NaN;
            w.embeddings.positions().copyFrom(pos);
            Transformer m = new Transformer(w, backend);
            Generator g = new Generator(m);
            try (Engine e = new Engine(m, Engine.Config.defaults(m))) {
                List<int[]> good = new ArrayList<>();
                List<CompletableFuture<Result>> fs = new ArrayList<>();
                for (int i = 0; i < 5; i++) good.add(prompt(300 + i, 3 + 3 * i));       // prompt + 12 new tokens stay below 29
                int[] poisoned = prompt(400, 30);
                CompletableFuture<Result> failing = submit(e, poisoned, Generator.Options.greedy(10));
                for (int[] p : good) fs.add(submit(e, p, Generator.Options.greedy(12)));
                Result r = failing.get(60, TimeUnit.SECONDS);
                assertEquals(Engine.Finish.ERROR, r.finish(), "engine: " + r.tokens());
                assertTrue(r.error().contains("non-finite"), r.error());
                for (int i = 0; i < good.size(); i++) {
                    int[] alone = g.generate(good.get(i), Generator.Options.greedy(12), null);
                    Result ok = fs.get(i).get(60, TimeUnit.SECONDS);
                    assertEquals(null, ok.error());
                    assertArrayEquals(alone, ok.ids());
                }
                assertEquals(0, e.blocksInUse());
            }
        }
    }

    @Test
    void badRequestsAreRefusedAtSubmit() {
        Engine.Config c = Engine.Config.defaults(model).limits(1, 1);
        try (Engine e = new Engine(model, c)) {
            Engine.Listener none = new Engine.Listener() {
                @Override public void onToken(Engine.Token t) {}
                @Override public void onFinish(Engine.Finish reason, String error) {}
            };
            assertThrows(IllegalArgumentException.class, () -> e.submit(new Engine.Request(new int[0], Generator.Options.greedy(4)), none));
            assertThrows(IllegalArgumentException.class, () -> e.submit(new Engine.Request(new int[] {V}, Generator.Options.greedy(4)), none));
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> e.submit(new Engine.Request(prompt(1, 150), Generator.Options.greedy(20)), none));
            assertTrue(tooLong.getMessage().contains("160 positions"), tooLong.getMessage());
            assertEquals(160, e.maxSequenceRows(), "the positions, below what the pool holds");
        }
        // a RoPE model's positions bound a sequence too (vLLM's max_model_len), linear scaling's factor included; so does the pool
        TransformerConfig rope = TransformerConfig.builder().vocabSize(V).widths(64, 128, 2).encoderLayers(0).decoderLayers(1)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.SILU, true).rope(new TransformerConfig.Rope(10000, 32,
                        TransformerConfig.Rope.Scaling.LINEAR, 2, 0, 0, 0)).maxPositions(48).build();
        try (Weights w = Weights.random(rope, backend, 5); Engine e = new Engine(new Transformer(w, backend), Engine.Config.defaults(model))) {
            assertEquals(96, e.maxSequenceRows());
            Engine.Listener none = new Engine.Listener() {
                @Override public void onToken(Engine.Token t) {}
                @Override public void onFinish(Engine.Finish reason, String error) {}
            };
            IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
                    () -> e.submit(new Engine.Request(prompt(1, 90), Generator.Options.greedy(7)), none));
            assertTrue(past.getMessage().contains("96 positions"), past.getMessage());
            e.submit(new Engine.Request(prompt(1, 90), Generator.Options.greedy(6)), none).cancel();
        }
        try (Weights w = Weights.random(rope, backend, 5);
             Engine e = new Engine(new Transformer(w, backend), Engine.Config.defaults(model).kvBudget(PagedBatch.bytesPerBlock(new Transformer(w, backend)) * 3))) {
            assertEquals(3 * BlockManager.BLOCK_SIZE, e.maxSequenceRows(), "three blocks hold 48 rows");
        }
    }

    @Test
    void cancelFreesTheBlocks() throws Exception {
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            CompletableFuture<Engine.Finish> done = new CompletableFuture<>();
            CompletableFuture<Void> first = new CompletableFuture<>();
            Engine.Handle h = e.submit(new Engine.Request(prompt(5, 40), Generator.Options.greedy(100)), new Engine.Listener() {
                @Override public void onToken(Engine.Token t) { first.complete(null); }
                @Override public void onFinish(Engine.Finish reason, String error) { done.complete(reason); }
            });
            first.get(30, TimeUnit.SECONDS);
            h.cancel();
            assertEquals(Engine.Finish.CANCELLED, done.get(30, TimeUnit.SECONDS));
            assertEquals(0, e.blocksInUse());
        }
    }
}
