// EngineGpuTest — the serving engine on the CUDA backend, end to end: twelve concurrent greedy requests
// through continuous batching (admitted in one step, their prompts of several lengths prefilled in packed passes) with
// CUDA's default captured decode steps per batch bucket, each against
// the same request alone through Generator. On CUDA the two paths multiply at other M (cuBLAS may take
// other kernels), so a reply may leave its solo tokens only where the top two candidates were a near tie
// (the engine reports both log-probabilities); the buckets' graphs must have been captured and replayed. And the next
// turn of a chat takes the previous reply's blocks from the prefix cache (CUDA caches generated blocks by default), and a
// prompt's log-probabilities (every row of each chunk) match a full pass; n-gram speculation keeps greedy replies.
// And per-request LoRA adapters give the tokens of each adapter merged by hand.
// Written without a GPU: never run on one yet (ci/gpu-check phase "tests").
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.runtime.cuda.CudaBackend;

@Tag("gpu")
class EngineGpuTest {

    /** Log-probability gap of the top two candidates under which two fp32 paths may pick either (a near tie). */
    static final double TIE = 1e-3;

    record Reply(List<Engine.Token> tokens, Engine.Finish finish, String error) {}

    @Test
    void concurrentRequestsOnCudaGiveTheirSoloTokensUpToNearTies() throws Exception {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(Tiny.ropeDecoder(), cuda, 61)) {
            Transformer m = new Transformer(w, cuda);
            int n = 12;
            List<int[]> prompts = new ArrayList<>();
            List<Generator.Options> opts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                prompts.add(Tiny.ids(700 + i, 1, 2 + (i * 7) % 40)[0]);
                opts.add(Generator.Options.greedy(10 + (i * 5) % 23));
            }
            Engine.Config c = Engine.Config.defaults(m);
            assertTrue(c.decodeBuckets().length > 0, "CUDA's defaults capture decode steps per bucket");
            List<CompletableFuture<Reply>> replies = new ArrayList<>();
            try (Engine e = new Engine(m, c)) {
                java.util.concurrent.CountDownLatch hold = org.transformer4j.model.engine.LoopHold.hold(e, new int[] {5, 6, 7});      // one step admits them all: their prompts share passes
                long passes = e.prefillPasses();
                for (int i = 0; i < n; i++) {
                    CompletableFuture<Reply> f = new CompletableFuture<>();
                    List<Engine.Token> got = new ArrayList<>();
                    e.submit(new Engine.Request(prompts.get(i), opts.get(i), 2), new Engine.Listener() {
                        @Override public void onToken(Engine.Token t) { got.add(t); }
                        @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Reply(got, reason, error)); }
                    });
                    replies.add(f);
                }
                hold.countDown();
                Generator g = new Generator(m);
                int whole = 0;
                for (int i = 0; i < n; i++) {
                    Reply r = replies.get(i).get(120, TimeUnit.SECONDS);
                    assertEquals(null, r.error(), "request " + i);
                    int[] alone = g.generate(prompts.get(i), opts.get(i), null);
                    int t = 0;
                    while (t < alone.length && t < r.tokens().size() && alone[t] == r.tokens().get(t).id()) t++;
                    if (t == alone.length && t == r.tokens().size()) {
                        whole++;
                        continue;
                    }
                    assertTrue(t < r.tokens().size(), "request " + i + " ended after " + t + " tokens, alone it gave " + alone.length);
                    double[] top = r.tokens().get(t).topLogprobs();
                    assertTrue(top.length == 2 && top[0] - top[1] <= TIE, "request " + i + " left its solo tokens at token " + t
                            + " (" + r.tokens().get(t).id() + " against " + (t < alone.length ? alone[t] : "the end") + ") without a near tie: top two "
                            + java.util.Arrays.toString(top));
                }
                assertTrue(whole >= n - 2, whole + " of " + n + " replies equal their solo runs in full (near ties are rare)");
                assertTrue(e.prefillPasses() - passes < n / 2, (e.prefillPasses() - passes) + " prefill passes for " + n
                        + " prompts of several lengths admitted in one step (packed together)");
                assertTrue(e.mixedPasses() > 0, "the held request's decode row ran in one pass with the prompts' chunks (varlen"
                        + " paged append and decode, ABI 17)");
                assertTrue(e.logprobCopies() > 0 && e.logprobCopies() <= e.sampleOps(),
                        e.logprobCopies() + " copies of logits rows for log-probabilities, at most one per choice (" + e.sampleOps() + ")");
                for (int bucket : new int[] {8, 16}) {
                    assertEquals(null, e.decodeGraphFailure(bucket), "bucket " + bucket);
                    assertTrue(e.decodeGraphed(bucket), "bucket " + bucket + "'s decode step was captured and replayed");
                }
                assertEquals(0, e.blocksInUse(), "every sequence's block is free again");
            }
        }
    }
    /**
     * A prompt that repeats an earlier prompt and its reply takes the reply's full blocks from the cache (their K/V written
     * by captured decode steps), prefills only the rest, and its tokens' log-probabilities are those of a full pass of the
     * same model on the GPU.
     */
    @Test
    void theNextTurnOnCudaTakesTheReplysBlocks() throws Exception {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(Tiny.ropeDecoder(), cuda, 62)) {
            Transformer m = new Transformer(w, cuda);
            Engine.Config c = Engine.Config.defaults(m);
            assertTrue(c.cacheGenerated(), "CUDA's defaults cache generated blocks");
            try (Engine e = new Engine(m, c)) {
                int[] first = Tiny.ids(800, 1, 21)[0];
                List<Engine.Token> reply = run(e, first, 44);                      // rows 0..63 cached: 4 whole blocks
                int[] tail = Tiny.ids(801, 1, 9)[0];
                int[] next = java.util.Arrays.copyOf(first, 21 + 44 + 9);
                for (int t = 0; t < 44; t++) next[21 + t] = reply.get(t).id();
                System.arraycopy(tail, 0, next, 65, 9);
                long hits = e.prefixHits(), rows = e.prefillRows();
                List<Engine.Token> got = run(e, next, 6);
                assertEquals(4, e.prefixHits() - hits, "the prompt's block and three of the reply's");
                assertEquals(next.length - 64, e.prefillRows() - rows, "only the rows after them prefilled");
                int[] seq = java.util.Arrays.copyOf(next, next.length + got.size());
                for (int t = 0; t < got.size(); t++) seq[next.length + t] = got.get(t).id();
                for (int t = 0; t < got.size(); t++) {
                    float[] row = m.logits(new int[][] {java.util.Arrays.copyOf(seq, next.length + t)})[0][next.length + t - 1];
                    assertEquals(logprob(row, got.get(t).id()), got.get(t).logprob(), 1e-3, "token " + t);
                }
            }
        }
    }

    /**
     * A prompt's log-probabilities on CUDA (every row's logits of each 16-row chunk brought to the host and reduced): each
     * within 1e-3 of a full pass of the same model on the GPU; a prompt-only request ends with no token.
     */
    @Test
    void promptLogprobsOnCudaAreThoseOfAFullPass() throws Exception {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(Tiny.ropeDecoder(), cuda, 63)) {
            Transformer m = new Transformer(w, cuda);
            int[] prompt = Tiny.ids(900, 1, 45)[0];
            try (Engine e = new Engine(m, Engine.Config.defaults(m).steps(512, 16))) {
                CompletableFuture<Engine.PromptLogprobs> got = new CompletableFuture<>();
                CompletableFuture<Reply> done = new CompletableFuture<>();
                List<Engine.Token> tokens = new ArrayList<>();
                e.submit(new Engine.Request(prompt, Generator.Options.greedy(1)).promptOnly().withPromptLogprobs(2), new Engine.Listener() {
                    @Override public void onPromptLogprobs(Engine.PromptLogprobs p) { got.complete(p); }
                    @Override public void onToken(Engine.Token t) { tokens.add(t); }
                    @Override public void onFinish(Engine.Finish reason, String error) { done.complete(new Reply(tokens, reason, error)); }
                });
                Reply r = done.get(120, TimeUnit.SECONDS);
                assertEquals(null, r.error());
                assertEquals(Engine.Finish.LENGTH, r.finish());
                assertTrue(r.tokens().isEmpty(), "prompt only");
                Engine.PromptLogprobs p = got.get(1, TimeUnit.SECONDS);
                float[][] full = m.logits(new int[][] {prompt})[0];
                for (int i = 1; i < prompt.length; i++) {
                    assertEquals(logprob(full[i - 1], prompt[i]), p.logprobs()[i], 1e-3, "prompt token " + i);
                    assertEquals(2, p.topIds()[i].length);
                }
            }
        }
    }

    /**
     * N-gram speculation on CUDA: a greedy request whose prompt repeats itself keeps drafts (verify passes through
     * PagedBatch.prefillRows) and its reply is its solo run's up to a near tie.
     */
    @Test
    void speculativeGreedyRequestsOnCudaKeepTheirSoloTokens() throws Exception {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(Tiny.ropeDecoder(), cuda, 64)) {
            Transformer m = new Transformer(w, cuda);
            int[] unit = Tiny.ids(950, 1, 7)[0];
            int[] prompt = new int[24];
            for (int i = 0; i < prompt.length; i++) prompt[i] = unit[i % unit.length];
            try (Engine e = new Engine(m, Engine.Config.defaults(m).speculative(Engine.Speculation.ngram(4, 1, 3)))) {
                CompletableFuture<Reply> f = new CompletableFuture<>();
                List<Engine.Token> got = new ArrayList<>();
                e.submit(new Engine.Request(prompt, Generator.Options.greedy(40)), new Engine.Listener() {
                    @Override public void onToken(Engine.Token t) { got.add(t); }
                    @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Reply(got, reason, error)); }
                });
                Reply r = f.get(120, TimeUnit.SECONDS);
                assertEquals(null, r.error());
                assertTrue(e.draftTokens() > 0, "drafts proposed for a repeating prompt");
                int[] alone = new Generator(m).generate(prompt, Generator.Options.greedy(40), null);
                int t = 0;
                while (t < alone.length && t < r.tokens().size() && alone[t] == r.tokens().get(t).id()) t++;
                if (t < alone.length) {                                // only a near tie may part them: check that row
                    int[] prefix = java.util.Arrays.copyOf(prompt, prompt.length + t);
                    for (int i = 0; i < t; i++) prefix[prompt.length + i] = alone[i];
                    float[] row = m.logits(new int[][] {prefix})[0][prefix.length - 1];
                    float a = row[alone[t]], b = row[r.tokens().get(t).id()];
                    assertTrue(Math.abs(a - b) <= TIE, "token " + t + ": " + r.tokens().get(t).id() + " against " + alone[t] + " without a near tie ("
                            + a + " vs " + b + ")");
                }
            }
        }
    }

    /** Log softmax of {@code row} at {@code id}, in float64 (the oracle: no code shared with the engine's). */
    static double logprob(float[] row, int id) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : row) max = Math.max(max, v);
        for (float v : row) sum += Math.exp(v - max);
        return row[id] - max - Math.log(sum);
    }

    /** One greedy request run to its end, its tokens with log-probabilities. */
    static List<Engine.Token> run(Engine e, int[] prompt, int n) throws Exception {
        CompletableFuture<Reply> f = new CompletableFuture<>();
        List<Engine.Token> got = new ArrayList<>();
        e.submit(new Engine.Request(prompt, Generator.Options.greedy(n), 0), new Engine.Listener() {
            @Override public void onToken(Engine.Token t) { got.add(t); }
            @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Reply(got, reason, error)); }
        });
        Reply r = f.get(120, TimeUnit.SECONDS);
        assertEquals(null, r.error());
        assertEquals(n, r.tokens().size(), "greedy to max tokens (no stop ids)");
        return r.tokens();
    }

    /**
     * Per-request LoRA adapters on CUDA (the grouped GEMMs' residual epilogue, ActivationOp on t4j_bias_act, the offsets
     * read by captured decode steps): eight requests of adapters a, b and the base model together, in F32 (the SIMT
     * grouped kernel) and BF16 (the tensor-core one), each against its adapter merged by hand in float64 and run alone
     * through the engine on the same GPU: the same greedy tokens up to near ties (in BF16 the merged and unmerged sums
     * round differently, so its tie is wider).
     */
    @Test
    void loraAdaptersOnCudaGiveTheirMergedModelsTokens(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        LoraSlotsTest h = new LoraSlotsTest();
        h.tmp = tmp;
        List<LoraSlotsTest.Spec> specs = LoraSlotsTest.specs();
        java.util.Map<String, java.nio.file.Path> dirs = new java.util.LinkedHashMap<>(), merged = new java.util.LinkedHashMap<>();
        for (LoraSlotsTest.Spec s : specs) {
            dirs.put(s.name(), h.write(s));
            merged.put(s.name(), h.mergedByHand(s, dirs.get(s.name())));
        }
        String[] who = {"a", null, "b", "b", "a", null, "b", "a"};
        for (org.transformer4j.runtime.DType dt : new org.transformer4j.runtime.DType[] {org.transformer4j.runtime.DType.F32, org.transformer4j.runtime.DType.BF16}) {
            double tie = dt == org.transformer4j.runtime.DType.F32 ? TIE : 0.05;
            try (CudaBackend cuda = ModelGpuTest.gpu(); Weights base = Pretrained.load(LoraSlotsTest.llama(), cuda, dt)) {
                Transformer model = new Transformer(base, cuda);
                List<List<Engine.Token>> want = new ArrayList<>();
                for (int i = 0; i < who.length; i++) {
                    try (Weights w = who[i] == null ? null : Pretrained.load(merged.get(who[i]), cuda, dt);
                         Engine e = new Engine(w == null ? model : new Transformer(w, cuda), Engine.Config.defaults(model))) {
                        CompletableFuture<Reply> f = new CompletableFuture<>();
                        List<Engine.Token> got = new ArrayList<>();
                        e.submit(new Engine.Request(LoraSlotsTest.prompt(100 + i, 3 + 4 * i), Generator.Options.greedy(8), 2), new Engine.Listener() {
                            @Override public void onToken(Engine.Token t) { got.add(t); }
                            @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Reply(got, reason, error)); }
                        });
                        Reply r = f.get(120, TimeUnit.SECONDS);
                        assertEquals(null, r.error(), dt + " merged model " + who[i]);
                        want.add(r.tokens());
                    }
                }
                try (LoraSlots slots = LoraSlots.load(model, LoraSlotsTest.llama(), dirs);
                     Engine e = new Engine(model, Engine.Config.defaults(model), slots)) {
                    List<CompletableFuture<Reply>> fs = new ArrayList<>();
                    for (int i = 0; i < who.length; i++) {
                        CompletableFuture<Reply> f = new CompletableFuture<>();
                        List<Engine.Token> got = new ArrayList<>();
                        e.submit(new Engine.Request(LoraSlotsTest.prompt(100 + i, 3 + 4 * i), Generator.Options.greedy(8), 2).withAdapter(who[i]),
                                new Engine.Listener() {
                                    @Override public void onToken(Engine.Token t) { got.add(t); }
                                    @Override public void onFinish(Engine.Finish reason, String error) { f.complete(new Reply(got, reason, error)); }
                                });
                        fs.add(f);
                    }
                    for (int i = 0; i < who.length; i++) {
                        Reply r = fs.get(i).get(120, TimeUnit.SECONDS);
                        assertEquals(null, r.error(), dt + " request " + i);
                        List<Engine.Token> exp = want.get(i);
                        int t = 0;
                        while (t < exp.size() && t < r.tokens().size() && exp.get(t).id() == r.tokens().get(t).id()) t++;
                        if (t == exp.size()) continue;
                        double[] top = exp.get(t).topLogprobs();
                        assertTrue(top[0] - top[1] <= tie, dt + " request " + i + " (adapter " + who[i] + ") left its merged model's tokens at "
                                + t + " without a near tie: top two " + java.util.Arrays.toString(top));
                    }
                    assertTrue(e.decodeGraphed(8) || e.decodeGraphed(4), dt + ": a bucket's decode step with the adapters was captured");
                }
            }
        }
    }
}
