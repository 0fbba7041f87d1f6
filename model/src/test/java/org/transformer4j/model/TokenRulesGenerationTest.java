// TokenRulesGenerationTest — greedy and sampled generation under transformers' forced_bos_token_id,
// forced_eos_token_id, bad_words_ids, suppress_tokens and begin_suppress_tokens and vLLM's bad_words (tokenized) and
// allowed_token_ids, on tiny random models: every greedy token is the float64 argmax of a full forward pass's logits
// after this file's own naive reading of the processors (transformers' _get_logits_processor order, a forced id scored
// 0 and every other −∞, argmax's first maximum; no code shared with Sampling.Bans or TokenRules), decoder-only and
// encoder-decoder; batches and streams take the same steps; generation_config.json's fields are read; bad ids refused.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.CpuBackend;

class TokenRulesGenerationTest {

    static final CpuBackend CPU = BanningGenerationTest.CPU;

    /** A set of ids that may repeat (a random model's tokens). */
    static Set<Integer> set(int... ids) {
        Set<Integer> s = new java.util.LinkedHashSet<>();
        for (int id : ids) s.add(id);
        return s;
    }

    /**
     * The processed scores of one step, naively: {@code seq} is input_ids (context of {@code ctx} ids, then new tokens).
     * Order: no_repeat_ngram / min_length / min_new_tokens (BanningGenerationTest's reading) and bad_words_ids, then
     * forced BOS (input_ids of length 1), forced EOS (length ctx + max − 1), suppress_tokens, begin_suppress_tokens
     * (length ctx, or ctx + 1 after a one-id context with a forced BOS); vLLM's bad words over the new tokens only and
     * allowed ids. Returns whether a token was forced in {@code forced[0]}.
     */
    static double[] processed(float[] logits, int[] seq, int ctx, Generator.Options o, boolean[] forced) {
        double[] x = new double[logits.length];
        for (int v = 0; v < x.length; v++) x[v] = logits[v];
        int len = seq.length, gen = len - ctx;
        for (int id : BanningGenerationTest.banned(seq, gen, o)) x[id] = Double.NEGATIVE_INFINITY;
        TokenRules r = o.rules();
        for (List<Integer> w : r.badWordsIds()) {
            if (w.size() == 1 && o.stopIds().contains(w.get(0))) continue;        // [eos] is dropped
            if (w.size() > len) continue;
            boolean match = true;
            for (int k = 0; k < w.size() - 1; k++) match &= seq[len - (w.size() - 1) + k] == w.get(k);
            if (match) x[w.get(w.size() - 1)] = Double.NEGATIVE_INFINITY;
        }
        for (List<Integer> w : r.outputBadWordsIds()) {
            if (w.size() > gen + 1) continue;
            boolean match = true;
            for (int k = 0; k < w.size() - 1; k++) match &= seq[len - (w.size() - 1) + k] == w.get(k);
            if (match) x[w.get(w.size() - 1)] = Double.NEGATIVE_INFINITY;
        }
        forced[0] = false;
        if (r.forcedBosTokenId() != null && len == 1) {
            Arrays.fill(x, Double.NEGATIVE_INFINITY);
            x[r.forcedBosTokenId()] = 0;
            forced[0] = true;
        }
        if (!r.forcedEosTokenIds().isEmpty() && len == ctx + o.maxNewTokens() - 1) {
            Arrays.fill(x, Double.NEGATIVE_INFINITY);
            for (int e : r.forcedEosTokenIds()) x[e] = 0;
            forced[0] = true;
        }
        for (int id : r.suppressTokens()) x[id] = Double.NEGATIVE_INFINITY;
        int begin = ctx > 1 || r.forcedBosTokenId() == null ? ctx : ctx + 1;
        if (len == begin) for (int id : r.beginSuppressTokens()) x[id] = Double.NEGATIVE_INFINITY;
        if (r.allowedTokenIds() != null) for (int v = 0; v < x.length; v++) if (!r.allowedTokenIds().contains(v)) x[v] = Double.NEGATIVE_INFINITY;
        return x;
    }

    /**
     * Checks each greedy token against the first argmax of the processed full-pass logits (a near tie of two model
     * logits is skipped; a forced step is exact); returns how many were checked. {@code input} is the encoder's input
     * for an encoder-decoder (null: decoder-only, whose context is the prompt).
     */
    static int check(Transformer m, int[] prompt, int[] input, int[] out, Generator.Options o) {
        int checked = 0;
        for (int i = 0; i < out.length; i++) {
            int[] seq = GenerationTest.cat(prompt, Arrays.copyOf(out, i));
            float[][] full = input == null ? m.logits(new int[][] {seq})[0] : m.logits(new int[][] {input}, new int[][] {seq})[0];
            boolean[] forced = new boolean[1];
            double[] x = processed(full[full.length - 1], seq, prompt.length, o, forced);
            int best = 0, second = -1;
            for (int j = 1; j < x.length; j++) {
                if (x[j] > x[best]) { second = best; best = j; }
                else if (second < 0 || x[j] > x[second]) second = j;
            }
            if (!forced[0] && x[best] - x[second] < 1e-4 * (1 + Math.abs(x[best]))) continue;
            assertEquals(best, out[i], o.rules() + " token " + i + " of " + Arrays.toString(out));
            checked++;
        }
        return checked;
    }

    @Test
    void decoderOnlyRulesFollowTheProcessors() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 81)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] prompt = Tiny.ids(82, 1, 6)[0];
            int[] one = {prompt[0]};
            int max = 12;
            Generator.Options base = Generator.Options.greedy(max);
            int[] plain = g.generate(prompt, base, null), plainOne = g.generate(one, base, null);
            int bos = (plainOne[0] + 5) % c.vocabSize();
            int last = prompt[prompt.length - 1];
            List<Object[]> cases = List.of(
                    new Object[] {one, base.forcedBosTokenId(bos)},
                    new Object[] {prompt, base.forcedBosTokenId(bos)},                               // a longer prompt: no BOS forced
                    new Object[] {prompt, base.forcedEosTokenIds(set((plain[max - 1] + 3) % 100, (plain[max - 1] + 1) % 100))},
                    new Object[] {prompt, base.badWordsIds(List.of(List.of(plain[0]), List.of(plain[2], plain[3]), List.of(last, plain[1])))},
                    new Object[] {prompt, base.badWordsIds(List.of(List.of(last, plain[0])))},       // the prefix is the prompt's last id
                    new Object[] {prompt, base.outputBadWordsIds(List.of(List.of(last, plain[0]), List.of(plain[1], plain[2])))},
                    new Object[] {prompt, base.stopIds(set(plain[1])).badWordsIds(List.of(List.of(plain[1])))},  // [eos] dropped
                    new Object[] {prompt, base.suppressTokens(set(plain[0], plain[3], plain[5]))},
                    new Object[] {prompt, base.beginSuppressTokens(set(plain[0], plain[1]))},
                    new Object[] {one, base.forcedBosTokenId(bos).beginSuppressTokens(set(plainOne[1], plainOne[0]))},
                    new Object[] {prompt, base.allowedTokenIds(set(plain[4], plain[6], 1, 2, 3))},
                    new Object[] {one, base.maxNewTokens(1).forcedBosTokenId(bos).forcedEosTokenIds(set(4))},  // EOS after BOS wins
                    new Object[] {prompt, base.forcedEosTokenIds(set(6, 2)).suppressTokens(set(2)).noRepeatNgramSize(2)},
                    // a forced token overrides the bans before it (min_new_tokens on the stop id, bad words), not those after
                    new Object[] {prompt, base.stopIds(set(4)).minNewTokens(30).forcedEosTokenIds(set(4))},
                    new Object[] {one, base.forcedBosTokenId(bos).badWordsIds(List.of(List.of(bos))).noRepeatNgramSize(1)});
            int checked = 0;
            for (Object[] k : cases) {
                int[] p = (int[]) k[0];
                Generator.Options o = (Generator.Options) k[1];
                int[] out = g.generate(p, o, null);
                checked += check(m, p, null, out, o);
            }
            assertTrue(checked > 100, checked + " tokens checked");
            // what each rule visibly does, beside the reference
            assertEquals(bos, g.generate(one, base.forcedBosTokenId(bos), null)[0]);
            assertArrayEquals(plain, g.generate(prompt, base.forcedBosTokenId(bos), null), "input_ids longer than 1: no forced BOS");
            assertEquals(Math.min((plain[max - 1] + 3) % 100, (plain[max - 1] + 1) % 100), g.generate(prompt, base.forcedEosTokenIds(set((plain[max - 1] + 3) % 100, (plain[max - 1] + 1) % 100)), null)[max - 1],
                    "greedy over several forced EOS ids: the smallest (argmax's first of equal scores)");
            assertEquals(6, g.generate(prompt, base.forcedEosTokenIds(set(6, 2)).suppressTokens(set(2)), null)[max - 1]);
            assertEquals(4, g.generate(one, base.maxNewTokens(1).forcedBosTokenId(bos).forcedEosTokenIds(set(4)), null)[0]);
            assertEquals(4, g.generate(prompt, base.stopIds(set(4)).minNewTokens(30).forcedEosTokenIds(set(4)), null)[max - 1],
                    "forced EOS comes after min_new_tokens in the processor list: it wins");
            assertEquals(bos, g.generate(one, base.forcedBosTokenId(bos).badWordsIds(List.of(List.of(bos))), null)[0],
                    "forced BOS comes after bad_words_ids: it wins");
            assertNotEquals(plain[0], g.generate(prompt, base.badWordsIds(List.of(List.of(last, plain[0]))), null)[0],
                    "transformers matches a bad word's prefix in input_ids, prompt included");
            assertEquals(plain[0], g.generate(prompt, base.outputBadWordsIds(List.of(List.of(last, plain[0]))), null)[0],
                    "vLLM matches it in the new tokens only");
            assertArrayEquals(g.generate(prompt, base.stopIds(set(plain[1])), null),
                    g.generate(prompt, base.stopIds(set(plain[1])).badWordsIds(List.of(List.of(plain[1]))), null), "a bad word equal to an eos id is dropped");
            int[] begin = g.generate(prompt, base.beginSuppressTokens(set(plain[0])), null);
            assertNotEquals(plain[0], begin[0]);
            int[] supp = g.generate(prompt, base.suppressTokens(set(plain[0], plain[3], plain[5])), null);
            for (int t : supp) assertFalse(set(plain[0], plain[3], plain[5]).contains(t), Arrays.toString(supp));
            // sampled: the rules hold on every draw
            Generator.Options sampled = base.allowedTokenIds(set(1, 2, 3, 9, 30, 31)).forcedEosTokenIds(set(30, 31))
                    .suppressTokens(set(2)).outputBadWordsIds(List.of(List.of(1, 3), List.of(9)));
            for (long seed = 0; seed < 6; seed++) {
                int[] out = g.generate(prompt, sampled.sampling(1.5f, 0, 1f, seed), null);
                assertEquals(max, out.length);
                for (int i = 0; i < max - 1; i++) {
                    assertTrue(set(1, 3, 30, 31).contains(out[i]), Arrays.toString(out));
                    if (i > 0) assertFalse(out[i - 1] == 1 && out[i] == 3, Arrays.toString(out));
                }
                assertTrue(set(30, 31).contains(out[max - 1]), Arrays.toString(out));
            }
        }
    }

    /**
     * Encoder-decoder (input_ids: the decoder start id, then the new tokens): the forced BOS is the first new token,
     * begin_suppress_tokens then apply to the second (generate's begin index + 1), forced EOS the last; BART's
     * summarization rules together (forced BOS 0, forced EOS 2, no_repeat_ngram_size 3, min_length) and Marian's
     * bad_words_ids [[pad]].
     */
    @Test
    void encoderDecoderRulesFollowTheProcessors() {
        try (Weights w = Weights.random(Tiny.encDec().build(), CPU, 83)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] input = Tiny.ids(84, 1, 10)[0];
            int[] start = {m.decoderStartId()};
            int max = 10;
            Generator.Options base = Generator.Options.greedy(max);
            int[] plain = g.generate(input, base, null);
            int bos = (plain[0] + 3) % m.config.vocabSize();
            Generator.Options forced = base.forcedBosTokenId(bos);
            int[] afterBos = g.generate(input, forced, null);
            Generator.Options[] cases = {
                forced, forced.beginSuppressTokens(set(afterBos[1], bos)), base.beginSuppressTokens(set(plain[0])),
                forced.forcedEosTokenIds(set(2)).noRepeatNgramSize(3).stopIds(set(2)).minLength(6),
                base.badWordsIds(List.of(List.of(plain[1]), List.of(start[0], plain[0]), List.of(plain[0], plain[1]))), base.suppressTokens(set(plain[0], plain[2]))};
            int checked = 0;
            for (Generator.Options o : cases) checked += check(m, start, input, g.generate(input, o, null), o);
            assertTrue(checked > 40, checked + " tokens checked");
            assertEquals(bos, afterBos[0]);
            int[] b = g.generate(input, forced.beginSuppressTokens(set(afterBos[1], bos)), null);
            assertEquals(bos, b[0], "the begin index moves past the forced BOS: BOS itself is not suppressed");
            assertNotEquals(afterBos[1], b[1]);
            assertEquals(plain[0], g.generate(input, base.badWordsIds(List.of(List.of(start[0], plain[0]))), null)[0],
                    "a two-id word is longer than input_ids [start]: skipped (SequenceBias: len(sequence_ids) > input_ids.shape[1])");
            int[] twice = g.generate(input, base.badWordsIds(List.of(List.of(plain[0], plain[1]))), null);
            assertEquals(plain[0], twice[0]);
            assertNotEquals(plain[1], twice[1], "the prefix matched in the new tokens");
        }
    }

    /** A batch of prompts gives each its solo tokens (greedy), and a stream the batch's (greedy and sampled). */
    @Test
    void batchesAndStreamsTakeTheSameSteps() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 85)) {
            Generator g = new Generator(new Transformer(w, CPU));
            List<int[]> prompts = List.of(Tiny.ids(86, 1, 1)[0], Tiny.ids(87, 1, 7)[0], Tiny.ids(88, 1, 4)[0]);
            Generator.Options greedy = Generator.Options.greedy(9).forcedBosTokenId(11).forcedEosTokenIds(set(5, 8))
                    .badWordsIds(List.of(List.of(12), List.of(3, 4))).suppressTokens(set(20)).beginSuppressTokens(set(21, 22))
                    .outputBadWordsIds(List.of(List.of(11, 13)));
            for (Generator.Options o : new Generator.Options[] {greedy, greedy.sampling(1.3f, 0, 1f, 5)}) {
                int[][] batch = g.generate(prompts, o, null);
                List<List<Integer>> streamed = new ArrayList<>();
                for (int b = 0; b < prompts.size(); b++) streamed.add(new ArrayList<>());
                try (TokenStream s = g.stream(prompts, o)) { s.forEachRemaining(t -> streamed.get(t.sequence()).add(t.id())); }
                for (int b = 0; b < prompts.size(); b++) {
                    if (o.temperature() == 0) assertArrayEquals(g.generate(prompts.get(b), o, null), batch[b], "prompt " + b + " alone");
                    assertArrayEquals(batch[b], streamed.get(b).stream().mapToInt(Integer::intValue).toArray(), o + " stream " + b);
                    assertTrue(batch[b][8] == 5 || batch[b][8] == 8, Arrays.toString(batch[b]));
                }
                assertEquals(11, batch[0][0], "the one-token prompt gets the forced BOS");
            }
        }
    }

    /** A decoder-only chat applies the rules per turn over the conversation so far: each reply is Generator's on it. */
    @Test
    void aChatSessionAppliesTheRulesEachTurn() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 91)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            Generator.Options o = Generator.Options.greedy(6).forcedEosTokenIds(set(9)).suppressTokens(set(3, 4))
                    .beginSuppressTokens(set(5)).badWordsIds(List.of(List.of(7, 8), List.of(2))).outputBadWordsIds(List.of(List.of(10, 11)));
            try (ChatSession chat = new ChatSession(m, o, 120)) {
                for (int turn = 0; turn < 3; turn++) {
                    int[] msg = Tiny.ids(92 + turn, 1, 5)[0];
                    int[] conversation = GenerationTest.cat(chat.history(), msg);
                    int[] reply = chat.send(msg);
                    assertArrayEquals(g.generate(conversation, o, null), reply, "turn " + turn);
                    assertEquals(9, reply[5], "the forced EOS ends each turn's reply");
                    check(m, conversation, null, reply, o);
                }
            }
        }
    }

    @Test
    void generationConfigReadsTheRules(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 2, \"forced_bos_token_id\": 0, \"forced_eos_token_id\": 2,"
                + " \"bad_words_ids\": [[58100], [5, 6]], \"suppress_tokens\": [1, 3], \"begin_suppress_tokens\": [220, 50256],"
                + " \"num_beams\": 4, \"no_repeat_ngram_size\": 3, \"min_length\": 56}");
        GenerationConfig gc = GenerationConfig.read(dir);
        TokenRules r = gc.options(16, 0).rules();
        assertEquals(0, r.forcedBosTokenId());
        assertEquals(set(2), r.forcedEosTokenIds());
        assertEquals(List.of(List.of(58100), List.of(5, 6)), r.badWordsIds());
        assertEquals(List.of(1, 3), List.copyOf(r.suppressTokens()));
        assertEquals(List.of(220, 50256), List.copyOf(r.beginSuppressTokens()));
        assertEquals(r, gc.beamOptions(16).orElseThrow().rules());
        Files.writeString(dir.resolve("generation_config.json"), "{\"forced_eos_token_id\": [2, 7], \"forced_bos_token_id\": null}");
        assertEquals(set(2, 7), GenerationConfig.read(dir).rules().forcedEosTokenIds());
        assertEquals(null, GenerationConfig.read(dir).rules().forcedBosTokenId());
        for (String bad : List.of("{\"bad_words_ids\": [5]}", "{\"bad_words_ids\": [[]]}", "{\"suppress_tokens\": [-1]}",
                                  "{\"forced_eos_token_id\": [1.5]}", "{\"begin_suppress_tokens\": 3}")) {
            Files.writeString(dir.resolve("generation_config.json"), bad);
            var e = assertThrows(org.transformer4j.model.weights.CheckpointException.class, () -> GenerationConfig.read(dir));
            String field = bad.substring(2, bad.indexOf('"', 2));
            assertTrue(e.getMessage().contains(field), e.getMessage());
        }
    }

    /** Without generation_config.json, config.json's generation fields (transformers' from_model_config), as old BART folders. */
    @Test
    void aFolderWithoutGenerationConfigTakesConfigJsonsFields(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bart\", \"eos_token_id\": 2, \"forced_bos_token_id\": 0, "
                + "\"forced_eos_token_id\": 2, \"num_beams\": 4, \"no_repeat_ngram_size\": 3, \"min_length\": 56, \"length_penalty\": 2.0}");
        GenerationConfig gc = GenerationConfig.readIfPresent(dir).orElseThrow();
        BeamSearch.Options b = gc.beamOptions(142).orElseThrow();
        assertEquals(4, b.numBeams());
        assertEquals(0, b.rules().forcedBosTokenId());
        assertEquals(set(2), b.rules().forcedEosTokenIds());
        assertEquals(56, b.minLength());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\", \"eos_token_id\": 2, \"bos_token_id\": 1}");
        assertTrue(GenerationConfig.readIfPresent(dir).isEmpty(), "ids only: nothing to generate with");
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 3}");
        Files.writeString(dir.resolve("config.json"), "{\"forced_bos_token_id\": 0}");
        assertEquals(null, GenerationConfig.readIfPresent(dir).orElseThrow().rules().forcedBosTokenId(), "generation_config.json wins");
    }

    /**
     * The ids that end a reply: generation_config.json's where the file exists, else config.json's whole list (transformers'
     * from_model_config, vLLM's fallback), else none; a malformed id is refused naming the file and field.
     */
    @Test
    void eosIdsComeFromGenerationConfigElseConfigJson(@TempDir Path dir) throws Exception {
        assertEquals(Set.of(), GenerationConfig.eosIds(dir), "no files");
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"glm\", \"eos_token_id\": [151329, 151336, 151338]}");
        assertEquals(List.of(151329, 151336, 151338), List.copyOf(GenerationConfig.eosIds(dir)), "config.json's list, in order");
        assertTrue(GenerationConfig.readIfPresent(dir).isEmpty(), "ids only: no generation fields");
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\", \"eos_token_id\": 2}");
        assertEquals(Set.of(2), GenerationConfig.eosIds(dir));
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [3, 4]}");
        assertEquals(Set.of(3, 4), GenerationConfig.eosIds(dir), "generation_config.json wins");
        Files.delete(dir.resolve("generation_config.json"));
        Files.writeString(dir.resolve("config.json"), "{\"eos_token_id\": \"two\"}");
        var e = assertThrows(org.transformer4j.model.weights.CheckpointException.class, () -> GenerationConfig.eosIds(dir));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("eos_token_id"), e.getMessage());
    }

    @Test
    void idsOutsideTheVocabularyAreRefusedNamingTheFieldOrIgnoredAsTransformersDoes() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 89)) {
            Generator g = new Generator(new Transformer(w, CPU));
            int v = c.vocabSize();
            Generator.Options base = Generator.Options.greedy(3);
            for (var o : List.of(base.forcedBosTokenId(v), base.forcedEosTokenIds(set(v + 1)), base.badWordsIds(List.of(List.of(1, v))),
                                 base.allowedTokenIds(set(1, v)), base.outputBadWordsIds(List.of(List.of(v))))) {
                var e = assertThrows(IllegalArgumentException.class, () -> g.generate(new int[] {1, 2}, o, null));
                assertTrue(e.getMessage().matches("(forcedBosTokenId|forcedEosTokenIds|badWordsIds|allowedTokenIds|outputBadWordsIds)"
                        + " id \\d+ is outside the vocabulary.*"), e.getMessage());
            }
            // suppressed ids past the vocabulary are ignored, as transformers' torch.isin over range(V) ignores them
            int[] plain = g.generate(new int[] {1, 2}, base, null);
            assertArrayEquals(plain, g.generate(new int[] {1, 2}, base.suppressTokens(set(v, v + 7)).beginSuppressTokens(set(v)), null));
            assertArrayEquals(plain, new BeamSearch(new Transformer(w, CPU)).generate(new int[] {1, 2},
                    BeamSearch.Options.of(1, 3).rules(TokenRules.NONE.suppress(set(v)).beginSuppress(set(v + 1)))).get(0).tokens());
            assertThrows(IllegalArgumentException.class, () -> base.allowedTokenIds(set()));
            assertThrows(IllegalArgumentException.class, () -> base.badWordsIds(List.of(List.of())));
            assertThrows(IllegalArgumentException.class, () -> base.suppressTokens(set(-1)));
        }
    }
}
