// BanningGenerationTest — greedy and sampled generation under transformers' min_new_tokens, min_length and
// no_repeat_ngram_size: on a tiny random model whose plain greedy run stops early on a stop id or repeats an n-gram,
// the option changes that, and every greedy token is the float64 argmax of a full forward pass's logits after this
// file's own reading of transformers' rules (a naive loop over input_ids, no code shared with Sampling.Bans);
// batches and streams take the same steps; generation_config.json's fields are applied; bad options are refused.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.CpuBackend;

class BanningGenerationTest {

    static final CpuBackend CPU = new CpuBackend();

    /**
     * transformers' rules read from its processors, on input_ids {@code seq} (prompt, then {@code generated} new tokens):
     * NoRepeatNGram bans the id after every earlier occurrence of the last n − 1 ids (none while len + 1 &lt; n);
     * MinLength bans the eos ids while len &lt; min_length; MinNewTokensLength while generated &lt; min_new_tokens.
     */
    static Set<Integer> banned(int[] seq, int generated, Generator.Options o) {
        Set<Integer> out = new HashSet<>();
        int n = o.noRepeatNgramSize(), len = seq.length;
        if (n > 0 && len + 1 >= n) {
            for (int start = 0; start + n <= len; start++) {
                boolean same = true;
                for (int k = 0; k < n - 1; k++) same &= seq[start + k] == seq[len - n + 1 + k];
                if (same) out.add(seq[start + n - 1]);
            }
        }
        if (len < o.minLength() || generated < o.minNewTokens()) out.addAll(o.stopIds());
        return out;
    }

    /** Checks each greedy token against the argmax of the full pass's last logits with the banned ids at −∞; returns how many. */
    static int checkGreedy(Transformer m, int[] prompt, int[] out, Generator.Options o) {
        int checked = 0;
        for (int i = 0; i < out.length; i++) {
            int[] seq = GenerationTest.cat(prompt, Arrays.copyOf(out, i));
            float[][] full = m.logits(new int[][] {seq})[0];
            double[] x = new double[full[0].length];
            for (int v = 0; v < x.length; v++) x[v] = full[full.length - 1][v];
            for (int id : banned(seq, i, o)) x[id] = Double.NEGATIVE_INFINITY;
            int best = 0, second = -1;
            for (int j = 1; j < x.length; j++) {
                if (x[j] > x[best]) { second = best; best = j; }
                else if (second < 0 || x[j] > x[second]) second = j;
            }
            if (x[best] - x[second] < 1e-4 * (1 + Math.abs(x[best]))) continue;   // a near tie: cached and full passes may differ
            assertEquals(best, out[i], o + " token " + i);
            checked++;
        }
        return checked;
    }

    /** Whether input_ids hold some n-gram twice. */
    static boolean repeats(int[] seq, int n) {
        Set<List<Integer>> seen = new HashSet<>();
        for (int i = 0; i + n <= seq.length; i++) {
            List<Integer> g = new ArrayList<>();
            for (int k = 0; k < n; k++) g.add(seq[i + k]);
            if (!seen.add(g)) return true;
        }
        return false;
    }

    @Test
    void minNewTokensAndMinLengthHoldTheStopIdsBack() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 71)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] prompt = Tiny.ids(72, 1, 6)[0];
            int[] plain = g.generate(prompt, Generator.Options.greedy(20), null);
            Set<Integer> stops = new HashSet<>(List.of(plain[1], plain[2]));
            Generator.Options stopping = Generator.Options.greedy(20).stopIds(stops);
            int[] early = g.generate(prompt, stopping, null);
            assertTrue(early.length <= 2, "the plain run stops at once: " + Arrays.toString(early));
            int checked = 0;
            Generator.Options[] cases = {stopping.minNewTokens(9), stopping.minLength(prompt.length + 7),
                                         stopping.minNewTokens(4).minLength(prompt.length + 11)};
            int[] least = {9, 7, 11};
            for (int k = 0; k < cases.length; k++) {
                int[] out = g.generate(prompt, cases[k], null);
                assertTrue(out.length >= least[k], cases[k] + ": " + Arrays.toString(out));
                for (int i = 0; i < least[k]; i++) assertFalse(stops.contains(out[i]), cases[k] + " token " + i + " is a stop id");
                checked += checkGreedy(m, prompt, out, cases[k]);
            }
            assertTrue(checked > 30, checked + " tokens checked");
            // the boundary: a stop id the model is pushed to (bias +50) comes exactly as the new token of index m
            int stop = plain[1];
            Generator.Options pushed = Generator.Options.greedy(20).stopIds(Set.of(stop)).logitBias(java.util.Map.of(stop, 50f));
            assertEquals(1, g.generate(prompt, pushed, null).length);
            for (int mm : new int[] {1, 5}) {
                int[] a = g.generate(prompt, pushed.minNewTokens(mm), null), b = g.generate(prompt, pushed.minLength(prompt.length + mm), null);
                assertEquals(mm + 1, a.length, "min_new_tokens " + mm + ": " + Arrays.toString(a));
                assertEquals(mm + 1, b.length, "min_length prompt + " + mm + ": " + Arrays.toString(b));
                assertEquals(stop, a[mm]);
            }
        }
    }

    /**
     * Encoder-decoder: generate's input_ids are the decoder start id and the new tokens, so min_length m + 1 is m new
     * tokens (the encoder's input does not count), and the n-gram rule reads the start id and the new tokens.
     */
    @Test
    void anEncoderDecoderCountsTheDecoderStartNotTheInput() {
        try (Weights w = Weights.random(Tiny.encDec().build(), CPU, 79)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] input = Tiny.ids(80, 1, 12)[0];
            int stop = 7;
            Generator.Options pushed = Generator.Options.greedy(20).stopIds(Set.of(stop)).logitBias(java.util.Map.of(stop, 50f));
            for (int mm : new int[] {2, 6}) {
                assertEquals(mm + 1, g.generate(input, pushed.minLength(1 + mm), null).length, "min_length 1 + " + mm);
                assertEquals(mm + 1, g.generate(input, pushed.minNewTokens(mm), null).length, "min_new_tokens " + mm);
            }
            int[] start = {m.decoderStartId()};
            assertTrue(repeats(GenerationTest.cat(start, g.generate(input, Generator.Options.greedy(15), null)), 1), "a useless check otherwise");
            int[] once = g.generate(input, Generator.Options.greedy(15).noRepeatNgramSize(1), null);
            assertEquals(15, once.length);
            assertFalse(repeats(GenerationTest.cat(start, once), 1), Arrays.toString(once));
        }
    }

    @Test
    void noRepeatNgramSizeKeepsEveryNgramUnique() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 73)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] prompt = Tiny.ids(74, 1, 5)[0];
            int[] plain = g.generate(prompt, Generator.Options.greedy(30), null);
            int checked = 0;
            for (int n : new int[] {1, 2, 3}) {
                assertTrue(repeats(GenerationTest.cat(prompt, plain), n), "the plain run repeats a " + n + "-gram: a useless check");
                Generator.Options o = Generator.Options.greedy(30).noRepeatNgramSize(n);
                int[] out = g.generate(prompt, o, null);
                assertFalse(repeats(GenerationTest.cat(prompt, out), n), n + "-gram repeated: " + Arrays.toString(out));
                checked += checkGreedy(m, prompt, out, o);
            }
            assertTrue(checked > 60, checked + " tokens checked");
        }
    }

    /**
     * A batch of prompts of different lengths gives each prompt's solo tokens (greedy; a sampled batch row draws by its
     * row, so it is compared with the batch's stream), a stream the same tokens, and sampled tokens obey the bans.
     */
    @Test
    void batchesStreamsAndSamplingTakeTheSameSteps() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 75)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            List<int[]> prompts = List.of(Tiny.ids(76, 1, 3)[0], Tiny.ids(77, 1, 8)[0], Tiny.ids(78, 1, 5)[0]);
            Set<Integer> stops = Set.of(5, 11, 23, 42, 61, 77);
            Generator.Options greedy = Generator.Options.greedy(16).stopIds(stops).minNewTokens(6).noRepeatNgramSize(2);
            for (Generator.Options o : new Generator.Options[] {greedy, greedy.sampling(1.5f, 0, 1f, 9)}) {
                int[][] batch = g.generate(prompts, o, null);
                List<List<Integer>> streamed = new ArrayList<>();
                for (int b = 0; b < prompts.size(); b++) streamed.add(new ArrayList<>());
                try (TokenStream s = g.stream(prompts, o)) { s.forEachRemaining(t -> streamed.get(t.sequence()).add(t.id())); }
                for (int b = 0; b < prompts.size(); b++) {
                    int[] got = batch[b];
                    if (o.temperature() == 0) assertArrayEquals(g.generate(prompts.get(b), o, null), got, "prompt " + b + " alone");
                    assertArrayEquals(got, streamed.get(b).stream().mapToInt(Integer::intValue).toArray(), o + " stream " + b);
                    assertFalse(repeats(GenerationTest.cat(prompts.get(b), got), 2), Arrays.toString(got));
                    assertTrue(got.length >= 6, Arrays.toString(got));
                    for (int i = 0; i < 6; i++) assertFalse(stops.contains(got[i]), "token " + i);
                }
            }
        }
    }

    /** vLLM's rule: a stop string counts only where it ends past the text of the first min_new_tokens tokens. */
    @Test
    void stopStringsWaitForMinNewTokens() {
        Generator.Options o = Generator.Options.greedy(50).stopStrings(Set.of("bc"), ids -> {
            StringBuilder s = new StringBuilder();
            for (int id : ids) s.append((char) ('a' + id));
            return s.toString();
        });
        assertTrue(o.stopsAt(List.of(0, 1, 2)), "abc holds bc");
        assertFalse(o.minNewTokens(3).stopsAt(List.of(0, 1, 2)), "within the first 3 tokens' text");
        assertTrue(o.minNewTokens(2).stopsAt(List.of(0, 1, 2)), "bc ends in the third token's text");
        assertFalse(o.minNewTokens(2).stopsAt(List.of(1, 2, 3)), "bc lies within the first 2 tokens' text");
        assertTrue(o.minNewTokens(2).stopsAt(List.of(1, 2, 3, 1, 2)), "a later bc ends past them");
    }

    @Test
    void generationConfigAppliesTheFieldsWithoutBeams(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("generation_config.json"),
                "{\"eos_token_id\": [2, 7], \"no_repeat_ngram_size\": 3, \"min_new_tokens\": 4, \"min_length\": 40}");
        GenerationConfig gc = GenerationConfig.read(dir);
        Generator.Options o = gc.options(16, 0);
        assertEquals(3, o.noRepeatNgramSize());
        assertEquals(4, o.minNewTokens());
        assertEquals(0, o.minLength(), "min_new_tokens takes precedence, as generate's _prepare_generated_length");
        assertEquals(List.of(), gc.ignoredWithoutBeams());
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 2, \"min_length\": 12}");
        assertEquals(12, GenerationConfig.read(dir).options(16, 0).minLength());
    }

    @Test
    void badValuesAreRefusedNamingTheOption() {
        Generator.Options o = Generator.Options.greedy(4);
        for (var bad : List.<Runnable>of(() -> o.minNewTokens(-1), () -> o.minLength(-2), () -> o.noRepeatNgramSize(-1))) {
            var e = assertThrows(IllegalArgumentException.class, bad::run);
            assertTrue(e.getMessage().matches("(minNewTokens|minLength|noRepeatNgramSize) must be ≥ 0.*"), e.getMessage());
        }
        assertFalse(o.minNewTokens(5).banning(), "no stop ids: nothing to hold back");
        assertTrue(o.minNewTokens(5).stopIds(Set.of(1)).banning());
    }
}
