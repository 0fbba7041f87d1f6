// BeamSearchOnlineTest — vLLM's online beam search through the engine against a plain re-statement of vLLM's algorithm
// that recomputes every beam's whole sequence with Transformer.logits (no engine, no KV cache, no prefix cache):
// the same beams in the same order, tokens exact and cumulative log-probabilities within 1e-4, for EOS that ends beams
// (kept in the tokens or not), ignore_eos, length penalties of 0.5, 1 and 2, and two searches sharing the engine.
package org.transformer4j.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.CpuBackend;

class BeamSearchOnlineTest {

    static CpuBackend backend;
    static Weights weights;
    static Transformer model;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = Weights.random(EngineTest.gpt2Tiny(), backend, 23);
        model = new Transformer(weights, backend);
    }

    @AfterAll
    static void tearDown() {
        weights.close();
        backend.close();
    }

    /** An oracle beam: all its tokens (the prompt's too), cumulative log-probability, whether EOS ended it. */
    record OBeam(int[] tokens, double cum, boolean stopped) {}

    /** The next-token log-probabilities after {@code tokens}, from the whole sequence's logits, log softmax in double. */
    static double[] next(int[] tokens) {
        return EngineTest.logSoftmaxOfFullPass(model, tokens, tokens.length - 1);
    }

    /** The k most likely ids, most likely first, ties by smaller id. */
    static Integer[] top(double[] lp, int k) {
        Integer[] ids = new Integer[lp.length];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        Arrays.sort(ids, (a, b) -> lp[a] != lp[b] ? Double.compare(lp[b], lp[a]) : Integer.compare(a, b));
        return Arrays.copyOf(ids, k);
    }

    /** vLLM's beam_search, stated plainly over whole-sequence logits; returns the best width beams, best first. */
    static List<OBeam> oracle(int[] prompt, BeamSearchOnline.Params p) {
        List<OBeam> beams = List.of(new OBeam(prompt, 0, false)), done = new ArrayList<>();
        for (int step = 0; step < p.maxTokens(); step++) {
            List<OBeam> cands = new ArrayList<>();
            for (OBeam b : beams) {
                double[] lp = next(b.tokens());
                for (int id : top(lp, 2 * p.beamWidth())) {
                    int[] more = Arrays.copyOf(b.tokens(), b.tokens().length + 1);
                    more[b.tokens().length] = id;
                    if (id == p.eosId() && !p.ignoreEos()) done.add(new OBeam(p.includeStopStrInOutput() ? more : b.tokens(), b.cum() + lp[id], true));
                    else cands.add(new OBeam(more, b.cum() + lp[id], false));
                }
            }
            cands.sort((a, b) -> Double.compare(b.cum(), a.cum()));
            beams = cands.subList(0, Math.min(p.beamWidth(), cands.size()));
            if (beams.isEmpty()) break;
        }
        List<OBeam> all = new ArrayList<>(done);
        all.addAll(beams);
        java.util.function.ToDoubleFunction<OBeam> score = b -> {
            int len = b.tokens().length - (b.tokens()[b.tokens().length - 1] == p.eosId() ? 1 : 0);
            return b.cum() / Math.pow(len, p.lengthPenalty());
        };
        all.sort((a, b) -> Double.compare(score.applyAsDouble(b), score.applyAsDouble(a)));
        return all.subList(0, Math.min(p.beamWidth(), all.size()));
    }

    static void matches(int[] prompt, BeamSearchOnline.Params p, BeamSearchOnline.Result got, String what) {
        List<OBeam> want = oracle(prompt, p);
        assertEquals(want.size(), got.beams().size(), what + ": beams returned");
        for (int i = 0; i < want.size(); i++) {
            OBeam w = want.get(i);
            BeamSearchOnline.Beam g = got.beams().get(i);
            int[] tokens = Arrays.copyOfRange(w.tokens(), prompt.length, w.tokens().length);
            assertArrayEquals(tokens, g.tokens(), what + ": beam " + i + "'s tokens");
            boolean eosLast = tokens.length > 0 && tokens[tokens.length - 1] == p.eosId() && !p.ignoreEos();
            assertArrayEquals(eosLast ? Arrays.copyOf(tokens, tokens.length - 1) : tokens, g.textTokens(), what + ": beam " + i + "'s text tokens");
            assertEquals(w.stopped(), g.stopped(), what + ": beam " + i + " stopped");
            assertEquals(w.cum(), g.cumulativeLogprob(), 1e-4, what + ": beam " + i + "'s cumulative log-probability");
        }
    }

    static BeamSearchOnline.Result run(Engine e, int[] prompt, BeamSearchOnline.Params p) throws Exception {
        return BeamSearchOnline.run(e, prompt, p, null, null, System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
    }

    @Test
    void theEnginesBeamsAreVllmsAlgorithmsOverWholeSequenceLogits() throws Exception {
        int[] prompt = {5, 17, 42, 8, 63, 21, 9};
        // an EOS id that certainly ends a beam: the prompt's third most likely next token
        int eos = top(next(prompt), 3)[2];
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            for (double lp : new double[] {1.0, 0.5, 2.0}) {
                BeamSearchOnline.Params p = new BeamSearchOnline.Params(3, 6, false, lp, false, eos);
                BeamSearchOnline.Result r = run(e, prompt, p);
                matches(prompt, p, r, "length_penalty " + lp);
            }
            BeamSearchOnline.Params kept = new BeamSearchOnline.Params(3, 6, false, 1.0, true, eos);
            BeamSearchOnline.Result r = run(e, prompt, kept);
            matches(prompt, kept, r, "include_stop_str_in_output");
            assertTrue(r.beams().stream().anyMatch(BeamSearchOnline.Beam::stopped), "the EOS ended a beam that ranks among the best");
            BeamSearchOnline.Params ignored = new BeamSearchOnline.Params(2, 5, true, 1.0, false, eos);
            BeamSearchOnline.Result ig = run(e, prompt, ignored);
            matches(prompt, ignored, ig, "ignore_eos");
            assertTrue(ig.beams().stream().noneMatch(BeamSearchOnline.Beam::stopped));
            assertTrue(ig.beams().stream().allMatch(b -> b.tokens().length == 5), "ignore_eos: every beam runs to max_tokens");
            BeamSearchOnline.Params one = new BeamSearchOnline.Params(1, 4, false, 1.0, false, -1);
            matches(prompt, one, run(e, prompt, one), "one beam, no EOS");
        }
    }

    /** Two searches and a plain request at once: each search's beams are still the oracle's (the engine batches them). */
    @Test
    void searchesShareTheEngineWithOtherTraffic() throws Exception {
        int[] a = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, b = {50, 40, 30};
        BeamSearchOnline.Params p = new BeamSearchOnline.Params(4, 5, false, 1.0, false, top(next(b), 2)[1]);
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            CompletableFuture<BeamSearchOnline.Result> fa = CompletableFuture.supplyAsync(() -> call(e, a, p));
            CompletableFuture<BeamSearchOnline.Result> fb = CompletableFuture.supplyAsync(() -> call(e, b, p));
            EngineTest.Result plain = EngineTest.submit(e, new int[] {7, 7, 7, 7}, org.transformer4j.model.Generator.Options.greedy(12)).get(60, TimeUnit.SECONDS);
            assertEquals(12, plain.tokens().size());
            matches(a, p, fa.get(60, TimeUnit.SECONDS), "prompt a");
            BeamSearchOnline.Result rb = fb.get(60, TimeUnit.SECONDS);
            matches(b, p, rb, "prompt b");
            BeamSearchOnline.Result again = run(e, a, p);
            assertTrue(again.cachedPromptTokens() >= 16, "the prompt's full block came from the prefix cache: " + again.cachedPromptTokens());
        }
    }

    static BeamSearchOnline.Result call(Engine e, int[] prompt, BeamSearchOnline.Params p) {
        try {
            return run(e, prompt, p);
        } catch (Exception x) {
            throw new RuntimeException(x);
        }
    }

    @Test
    void badParametersAndDeadlinesAreRefusedByName() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new BeamSearchOnline.Params(0, 4, false, 1, false, -1))
                .getMessage().contains("beam width"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new BeamSearchOnline.Params(2, 0, false, 1, false, -1))
                .getMessage().contains("max_tokens"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new BeamSearchOnline.Params(2, 4, false, Double.NaN, false, -1))
                .getMessage().contains("length_penalty"));
        try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
            var outside = assertThrows(IllegalArgumentException.class,
                    () -> run(e, new int[] {1, 2}, new BeamSearchOnline.Params(2, 4, false, 1, false, EngineTest.V)));
            assertTrue(outside.getMessage().contains("outside the vocabulary"), outside.getMessage());
            assertThrows(java.util.concurrent.TimeoutException.class, () -> BeamSearchOnline.run(e, new int[] {1, 2},
                    new BeamSearchOnline.Params(2, 4, false, 1, false, -1), null, null, System.nanoTime() - 1));
            var bad = assertThrows(IllegalArgumentException.class, () -> run(e, new int[] {1, EngineTest.V + 5}, new BeamSearchOnline.Params(2, 4, false, 1, false, -1)));
            assertTrue(bad.getMessage().contains("outside the vocabulary"), bad.getMessage());
        }
    }
}
