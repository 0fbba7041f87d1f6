// BeamSearchTest — beam search's bookkeeping against values computed by hand (length penalty, early_stopping
// true / false / "never", EOS ranks, the processors on log-probabilities), KvState.reorder's block sharing
// (reference counts, one copied block per extra beam, bounded memory, forked rows decode as their source), and
// BeamSearch with the KV cache equal to the same search over full recomputation on every decoding architecture.
// transformers' own runs are checked in ReferenceFixturesTest (ci/reference/beam.py).
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.CpuBackend;

class BeamSearchTest {

    static final CpuBackend CPU = new CpuBackend();

    /** Logits whose log-softmax is ln p (three tokens), the same for every row and step. */
    static float[][] table(int rows, double... p) {
        float[] row = new float[p.length];
        for (int i = 0; i < p.length; i++) row[i] = (float) Math.log(p[i]);
        float[][] out = new float[rows][];
        Arrays.fill(out, row);
        return out;
    }

    /** Runs the scorer over a fixed table until it stops; returns it. */
    static BeamScorer run(BeamSearch.Options o, int prompts, double... p) {
        int[][] context = new int[prompts][];
        for (int b = 0; b < prompts; b++) context[b] = new int[] {7 % p.length};
        BeamScorer s = new BeamScorer(o, context);
        while (!s.done()) s.advance(table(prompts * o.numBeams(), p));
        return s;
    }

    static final double L5 = Math.log(0.5), L3 = Math.log(0.3), L2 = Math.log(0.2);

    /**
     * p = [0.5, 0.3, 0.2], EOS 2, 2 beams (K = 4), 3 new tokens. Step 1 draws from beam 0 only: 0 and 1 run on, [2]
     * ranks 3rd (≥ num_beams) and is not kept. Step 2: [0, 0], then [0, 1] and [1, 0] (equal scores), [0, 2] 4th.
     * Step 3 reaches the limit: the first two candidates are finished, [0, 0, 0] = 3 ln .5 and one of [0, 0, 1] /
     * [0, 1, 0] = 2 ln .5 + ln .3, each divided by 3 ^ length_penalty.
     */
    @Test
    void finishedScoresAreDividedByTheNewTokenCountToTheLengthPenalty() {
        for (double lp : new double[] {0, 1, 2, -0.5}) {
            BeamScorer s = run(BeamSearch.Options.of(2, 3).eosIds(Set.of(2)).lengthPenalty(lp).numReturnSequences(2), 1, 0.5, 0.3, 0.2);
            List<BeamSearch.Hypothesis> h = s.results().get(0);
            assertArrayEquals(new int[] {0, 0, 0}, h.get(0).tokens(), "lp " + lp);
            // [0, 0, 1] and [0, 1, 0] tie in exact arithmetic; which comes first is up to rounding, in transformers too
            assertTrue(Arrays.equals(new int[] {0, 0, 1}, h.get(1).tokens()) || Arrays.equals(new int[] {0, 1, 0}, h.get(1).tokens()),
                    "lp " + lp + ": " + h.get(1));
            assertEquals(3 * L5 / Math.pow(3, lp), h.get(0).score(), 1e-6, "lp " + lp);
            assertEquals((2 * L5 + L3) / Math.pow(3, lp), h.get(1).score(), 1e-6, "lp " + lp);
            assertEquals(3, s.steps());
        }
        assertEquals(4, new BeamScorer(BeamSearch.Options.of(2, 3).eosIds(Set.of(2)), new int[][] {{0}}).candidatesPerStep(), "2 · num_beams with one EOS");
        assertEquals(6, new BeamScorer(BeamSearch.Options.of(2, 3).eosIds(Set.of(1, 2)), new int[][] {{0}}).candidatesPerStep(), "3 · num_beams with two");
        assertEquals(4, new BeamScorer(BeamSearch.Options.of(2, 3), new int[][] {{0}}).candidatesPerStep(), "2 · num_beams without EOS");
    }

    /**
     * p = [0.3, 0.2, 0.5] with EOS 2, one beam, up to 5 new tokens: [2] (ln .5) finishes at step 1 (rank 0). TRUE: the
     * prompt is full, the search ends there. FALSE: the heuristic compares the best running ln .3 / 1 with ln .5 and
     * stops too. NEVER (length_penalty 1) divides by max_new_tokens: t · ln .3 / 5 beats ln .5 until t = 3 (2.88 =
     * 5 ln .5 / ln .3), so it runs 3 steps; [0, 2] = (ln .3 + ln .5) / 2 and later ones stay below [2]. NEVER with
     * length_penalty 0 uses the current length: it stops after step 1.
     */
    @Test
    void earlyStoppingTrueFalseAndNeverStopWhereTransformersDoes() {
        BeamSearch.Options o = BeamSearch.Options.of(1, 5).eosIds(Set.of(2));
        for (var es : BeamSearch.EarlyStopping.values()) {
            BeamScorer s = run(o.earlyStopping(es), 1, 0.3, 0.2, 0.5);
            assertArrayEquals(new int[] {2}, s.results().get(0).get(0).tokens(), es.toString());
            assertEquals(L5, s.results().get(0).get(0).score(), 1e-6, es.toString());
            assertEquals(es == BeamSearch.EarlyStopping.NEVER ? 3 : 1, s.steps(), es + ": steps");
        }
        assertEquals(1, run(o.earlyStopping(BeamSearch.EarlyStopping.NEVER).lengthPenalty(0), 1, 0.3, 0.2, 0.5).steps(), "never, length_penalty 0");
        // two prompts: the search ends for the batch, so a settled prompt waits for the other; a settled prompt takes no more
        BeamScorer two = new BeamScorer(o, new int[][] {{0}, {0}});
        float[][] eosFirst = {table(1, 0.3, 0.2, 0.5)[0], table(1, 0.5, 0.3, 0.2)[0]};
        two.advance(eosFirst);
        assertTrue(!two.done(), "prompt 1 has no hypothesis yet");
        while (!two.done()) two.advance(eosFirst);
        assertEquals(5, two.steps(), "prompt 1 runs to the limit");
        assertArrayEquals(new int[] {2}, two.results().get(0).get(0).tokens(), "prompt 0 settled at step 1 and took nothing after");
        assertArrayEquals(new int[] {0, 0, 0, 0, 0}, two.results().get(1).get(0).tokens());
        assertEquals(5 * L5 / 5, two.results().get(1).get(0).score(), 1e-6);
    }

    /**
     * Only an EOS among the first num_beams candidates is kept: with p = [0.45, 0.35, 0.2] and 2 beams, [2] ranks 3rd at
     * step 1 and [0, 2] 5th at step 2, so both are dropped, though under length_penalty 0 [2] (ln .2 = −1.61) beats the
     * returned [0, 0, 0] (3 ln .45 = −2.40): a search that kept every EOS candidate would return [2].
     */
    @Test
    void anEosOutsideTheFirstNumBeamsCandidatesIsNotKept() {
        BeamScorer s = run(BeamSearch.Options.of(2, 3).eosIds(Set.of(2)).lengthPenalty(0), 1, 0.45, 0.35, 0.2);
        assertArrayEquals(new int[] {0, 0, 0}, s.results().get(0).get(0).tokens());
        assertEquals(3 * Math.log(0.45), s.results().get(0).get(0).score(), 1e-6);
    }

    /** transformers' token rules on log-probabilities: a forced id scores 0 (not its log-probability), over earlier bans. */
    @Test
    void tokenRulesActOnLogProbabilitiesInTransformersOrder() {
        double[] lp = {L5, L3, L2};
        TokenRules r = TokenRules.NONE.forcedBos(1).forcedEos(Set.of(2, 0)).badWords(List.of(List.of(2), List.of(1, 0), List.of(0)))
                .suppress(Set.of()).beginSuppress(Set.of(1));
        BeamScorer s = new BeamScorer(BeamSearch.Options.of(1, 4).eosIds(Set.of(2)).minNewTokens(2).rules(r), new int[][] {{7}});
        double[] a = lp.clone();
        s.process(a, new int[] {7});
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, 0, Double.NEGATIVE_INFINITY}, a, "forced BOS: 0 over the bad word [1, 0]'s nothing");
        a = lp.clone();
        s.process(a, new int[] {7, 1});
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY}, a,
                "after BOS: [0] and [1, 0] banned, [eos] dropped from bad words but held by min_new_tokens, 1 begin-suppressed (index 2)");
        a = lp.clone();
        s.process(a, new int[] {7, 1, 1});
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, L3, L2}, a, "[eos] is not a bad word; begin suppression is over");
        a = lp.clone();
        s.process(a, new int[] {7, 1, 1, 1});
        assertArrayEquals(new double[] {0, Double.NEGATIVE_INFINITY, 0}, a, "forced EOS ids at max_length − 1 over min_new_tokens and bad words");
    }

    @Test
    void processorsActOnLogProbabilitiesAndMinLengthCountsTheContext() {
        double[] lp = {L5, L3, L2};
        BeamScorer rep = new BeamScorer(BeamSearch.Options.of(1, 4).eosIds(Set.of(2)).repetitionPenalty(2f), new int[][] {{1, 1}});
        double[] a = lp.clone();
        rep.process(a, new int[] {1, 1});
        assertArrayEquals(new double[] {L5, 2 * L3, L2}, a, 1e-15, "a log-probability (< 0) of a seen id is multiplied");
        BeamScorer ngram = new BeamScorer(BeamSearch.Options.of(1, 4).noRepeatNgramSize(2), new int[][] {{0}});
        double[] b = lp.clone();
        ngram.process(b, new int[] {0, 1, 0});
        assertEquals(Double.NEGATIVE_INFINITY, b[1], "(0, 1) exists: 1 after 0 is banned");
        assertTrue(Double.isFinite(b[0]) && Double.isFinite(b[2]));
        BeamScorer minLen = new BeamScorer(BeamSearch.Options.of(1, 4).eosIds(Set.of(2)).minLength(3), new int[][] {{0, 0}});
        double[] c = lp.clone();
        minLen.process(c, new int[] {0, 0});
        assertEquals(Double.NEGATIVE_INFINITY, c[2], "min_length 3 counts the two context ids");
        c = lp.clone();
        minLen.process(c, new int[] {0, 0, 1});
        assertEquals(L2, c[2], "three ids reach min_length 3");
        BeamScorer minNew = new BeamScorer(BeamSearch.Options.of(1, 4).eosIds(Set.of(2)).minNewTokens(2), new int[][] {{0, 0}});
        double[] d = lp.clone();
        minNew.process(d, new int[] {0, 0, 1});
        assertEquals(Double.NEGATIVE_INFINITY, d[2], "one new token < min_new_tokens 2");
        d = lp.clone();
        minNew.process(d, new int[] {0, 0, 1, 1});
        assertEquals(L2, d[2]);
    }

    @Test
    void optionsTransformersRejectsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> BeamSearch.Options.of(2, 4).numReturnSequences(3));
        assertThrows(IllegalArgumentException.class, () -> BeamSearch.Options.of(0, 4));
        var e = assertThrows(IllegalArgumentException.class, () -> BeamSearch.Options.from(Generator.Options.greedy(4).sampling(0.7f, 0, 1f, 1), 4));
        assertTrue(e.getMessage().contains("beam sampling"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BeamSearch.Options.from(Generator.Options.greedy(4).presenceFrequency(0.5f, 0), 4));
        assertEquals(BeamSearch.EarlyStopping.NEVER, BeamSearch.EarlyStopping.of("never"));
        assertThrows(IllegalArgumentException.class, () -> BeamSearch.EarlyStopping.of("sometimes"));
    }

    /**
     * Three rows from one 20-row prompt (a full block and 4 rows): the full block is shared (3 references), the partial
     * one kept by row 0 and copied for rows 1 and 2 — 4 blocks in use, not 6; each row then decodes as the prompt does
     * alone. A reorder that drops a row gives its blocks back.
     */
    @Test
    void reorderSharesFullBlocksAndCopiesOnlyThePartialLastBlock() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 5)) {
            Transformer m = new Transformer(w, CPU);
            int[] prompt = Tiny.ids(6, 1, 20)[0];
            float[] alone;
            try (KvState one = m.newState(1, 40)) {
                m.prefillLast(one, 0, prompt);
                alone = m.step(one, new int[] {9})[0];
            }
            try (KvState st = m.newState(3, 40)) {
                m.prefillLast(st, 0, prompt);
                st.reorder(new int[] {0, 0, 0});
                int shared = st.blockTable[0];
                assertEquals(3, st.pool().refCount(shared), "the full block is shared");
                assertEquals(4, st.pool().blocksInUse(), "one shared full block and three partial ones");
                for (int r = 0; r < 3; r++) assertEquals(20, st.length(r));
                float[][] rows = m.step(st, new int[] {9, 9, 9});
                for (int r = 0; r < 3; r++) assertTrue(Tiny.maxDiff(new float[][] {rows[r]}, new float[][] {alone}, 0) <= 1e-5, "row " + r);
                st.reorder(new int[] {2, 2, 1});                          // row 0's line ends: its partial block goes back
                assertEquals(3, st.pool().refCount(shared), "the full block is still shared by all three");
                assertEquals(4, st.pool().blocksInUse(), "still one shared and three partial blocks");
                for (int t = 0; t < 40; t++) {                            // many steps: memory follows the distinct prefixes
                    m.step(st, new int[] {t % 50, t % 50, t % 50});
                    if (st.length(0) >= 40) break;
                    st.reorder(new int[] {0, 0, 0});
                }
                assertTrue(st.pool().blocksInUse() <= 3 + 2, "three sequences of one prefix: its full blocks once, a partial block each: "
                        + st.pool().blocksInUse());
            }
        }
    }

    static Stream<TransformerConfig> architectures() {
        return Stream.of(Tiny.decoderOnly(Tiny.encDec().build(), false), Tiny.decoderOnly(Tiny.t5ish().build(), true), Tiny.ropeDecoder(),
                Tiny.encDec().build(), Tiny.t5ish().build(), Tiny.encDec().build().withSteps(true, false, false, false));
    }

    /**
     * BeamSearch (KV cache, reordered rows, shared blocks; two prompts of 4 beams) returns what the same scorer returns
     * when every row's logits come from a full forward pass over its whole sequence: decoder-only, prefix-LM, RoPE with
     * a window, encoder-decoder with separate cross-attention (memory per beam) and with memory in the self-attention
     * cache (step 1: blocks shared).
     */
    @ParameterizedTest
    @MethodSource("architectures")
    void beamSearchWithTheCacheEqualsFullRecomputation(TransformerConfig c) {
        try (Weights w = Weights.random(c, CPU, 77)) {
            Transformer m = new Transformer(w, CPU);
            boolean encDec = c.architecture() == TransformerConfig.Architecture.ENCODER_DECODER;
            int[][] prompts = Tiny.ids(78, 2, 18);
            BeamSearch.Options o = BeamSearch.Options.of(4, 7).eosIds(Set.of(5, 11)).numReturnSequences(3).noRepeatNgramSize(3)
                    .lengthPenalty(1.5).earlyStopping(BeamSearch.EarlyStopping.NEVER);
            List<List<BeamSearch.Hypothesis>> got = new BeamSearch(m).generate(List.of(prompts), o);
            int[][] context = encDec ? new int[][] {{m.decoderStartId()}, {m.decoderStartId()}} : prompts;
            BeamScorer s = new BeamScorer(o, context);
            List<int[]> seqs = new ArrayList<>();
            for (int r = 0; r < 8; r++) seqs.add(new int[0]);
            while (!s.done()) {
                float[][] logits = new float[8][];
                for (int r = 0; r < 8; r++) {
                    int[] ctx = context[r / 4];
                    int[] seq = GenerationTest.cat(ctx, seqs.get(r));
                    float[][] full = encDec ? m.logits(new int[][] {prompts[r / 4]}, new int[][] {seq})[0]
                            : m.logits(new int[][] {seq}, c.prefixLm() ? new int[] {ctx.length} : null)[0];
                    logits[r] = full[full.length - 1];
                }
                BeamScorer.Step step = s.advance(logits);
                List<int[]> next = new ArrayList<>();
                for (int r = 0; r < 8; r++) next.add(GenerationTest.cat(seqs.get(step.sources()[r]), new int[] {step.tokens()[r]}));
                seqs = next;
            }
            List<List<BeamSearch.Hypothesis>> want = s.results();
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(want.get(b).get(i).tokens(), got.get(b).get(i).tokens(), "prompt " + b + ", hypothesis " + i);
                    assertEquals(want.get(b).get(i).score(), got.get(b).get(i).score(), 1e-4, "prompt " + b + ", hypothesis " + i);
                }
            }
        }
    }
}
