// PenaltyGenerationTest — Generator with repetition / presence / frequency penalties, min_p and logit bias
// against the float64 oracle step by step: every greedy token is the argmax of Oracle.penalized over the logits of
// a full forward pass of the text so far (prompt and tokens as transformers' and vLLM's processors read them),
// every sampled token is one that the oracle's filters keep; batches, streams and chat turns take the same steps;
// generation_config.json's repetition_penalty and min_p are read and applied as generate applies them; bad options
// are refused with messages that name them.
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.reference.Oracle;

class PenaltyGenerationTest {

    static final CpuBackend CPU = new CpuBackend();

    /** Greedy with every penalty and a bias: each token the float64 argmax of the penalized full-pass logits. */
    @Test
    void greedyTokensAreTheArgmaxOfTheOraclesPenalizedLogits() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 61)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] prompt = Tiny.ids(62, 1, 9)[0];
            Map<Integer, Float> bias = Map.of(7, 1.5f, 8, -2f, prompt[0], 0.75f);
            Generator.Options[] cases = {
                Generator.Options.greedy(24).repetitionPenalty(1.8f),
                Generator.Options.greedy(24).repetitionPenalty(0.6f),
                Generator.Options.greedy(24).presenceFrequency(1.5f, 0.8f),
                Generator.Options.greedy(24).repetitionPenalty(1.3f).presenceFrequency(-0.5f, 0.4f).logitBias(bias),
            };
            int[] plain = g.generate(prompt, Generator.Options.greedy(24), null);
            int checked = 0;
            for (Generator.Options o : cases) {
                int[] out = g.generate(prompt, o, null);
                assertFalse(Arrays.equals(plain, out), o + " changes nothing on this model: a useless check");
                for (int i = 0; i < out.length; i++) {
                    int[] sofar = Arrays.copyOf(out, i);
                    float[][] full = m.logits(new int[][] {GenerationTest.cat(prompt, sofar)})[0];
                    double[] want = Oracle.penalized(full[full.length - 1], prompt, sofar, o.logitBias(), o.repetitionPenalty(),
                            o.presencePenalty(), o.frequencyPenalty());
                    int best = 0, second = -1;
                    for (int j = 1; j < want.length; j++) {
                        if (want[j] > want[best]) { second = best; best = j; }
                        else if (second < 0 || want[j] > want[second]) second = j;
                    }
                    if (want[best] - want[second] < 1e-4 * (1 + Math.abs(want[best]))) continue;   // a near tie: cached and full passes may differ
                    assertEquals(best, out[i], o + " token " + i);
                    checked++;
                }
            }
            assertTrue(checked > 80, checked + " tokens checked");
        }
    }

    /** Sampling with penalties and min_p: every token is one the oracle's filters keep after the oracle's penalties. */
    @Test
    void sampledTokensAreKeptByTheOraclesFiltersAfterItsPenalties() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 63)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] prompt = Tiny.ids(64, 1, 7)[0];
            for (long seed = 0; seed < 4; seed++) {
                Generator.Options o = Generator.Options.greedy(16).sampling(1.2f, 30, 0.9f, seed).minP(0.2f)
                        .repetitionPenalty(1.4f).presenceFrequency(0.3f, 0.6f).logitBias(Map.of(3, 2f));
                int[] out = g.generate(prompt, o, null);
                for (int i = 0; i < out.length; i++) {
                    int[] sofar = Arrays.copyOf(out, i);
                    float[][] full = m.logits(new int[][] {GenerationTest.cat(prompt, sofar)})[0];
                    double[] pen = Oracle.penalized(full[full.length - 1], prompt, sofar, o.logitBias(), 1.4, 0.3, 0.6);
                    float[] x = new float[pen.length];
                    for (int j = 0; j < x.length; j++) x[j] = (float) pen[j];
                    assertTrue(Oracle.kept(x, 1.2, 30, 0.9, 0.2)[out[i]], "seed " + seed + " token " + i + " = " + out[i]);
                }
            }
        }
    }

    @Test
    void batchesStreamsAndChatTurnsTakeTheSameSteps() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 65)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] p0 = Tiny.ids(66, 1, 4)[0], p1 = Tiny.ids(67, 1, 15)[0];
            Generator.Options o = Generator.Options.greedy(14).repetitionPenalty(1.5f).presenceFrequency(0.2f, 0.9f)
                    .logitBias(Map.of(11, 3f));
            int[][] both = g.generate(List.of(p0, p1), o, null);
            assertArrayEquals(g.generate(p0, o, null), both[0], "a batch row equals the prompt alone");
            assertArrayEquals(g.generate(p1, o, null), both[1]);
            List<Integer> streamed = new ArrayList<>();
            try (TokenStream s = g.stream(p1, o)) { while (s.hasNext()) streamed.add(s.next().id()); }
            assertArrayEquals(both[1], streamed.stream().mapToInt(Integer::intValue).toArray(), "the stream takes the same steps");
            Generator.Options sampled = o.sampling(0.9f, 0, 1f, 5).minP(0.1f);
            try (ChatSession chat = new ChatSession(m, sampled, 150)) {
                for (int turn = 0; turn < 3; turn++) {
                    int[] msg = Tiny.ids(80 + turn, 1, 4 + turn)[0];
                    // each turn's penalties read the whole conversation, as generate over it would
                    int[] expected = g.generate(GenerationTest.cat(chat.history(), msg), sampled, null);
                    assertArrayEquals(expected, chat.send(msg), "turn " + turn);
                }
            }
        }
    }

    @Test
    void anEncoderDecoderCountsItsDecoderStartIdAsTransformersDoes() {
        TransformerConfig c = Tiny.t5ish().build();
        try (Weights w = Weights.random(c, CPU, 68)) {
            Transformer m = new Transformer(w, CPU);
            int[] input = Tiny.ids(69, 1, 8)[0];
            int start = c.specialIds().decoderStart();
            Generator.Options o = Generator.Options.greedy(10).repetitionPenalty(2f);
            int[] out = new Generator(m).generate(input, o, null);
            for (int i = 0; i < out.length; i++) {
                int[] sofar = Arrays.copyOf(out, i);
                float[][] full = m.logits(new int[][] {input}, new int[][] {GenerationTest.cat(new int[] {start}, sofar)})[0];
                // generate's input_ids for the processors are the decoder's: its start id and the new tokens, not the input
                double[] want = Oracle.penalized(full[i], new int[] {start}, sofar, null, 2, 0, 0);
                int best = 0;
                for (int j = 1; j < want.length; j++) if (want[j] > want[best]) best = j;
                assertEquals(best, out[i], "token " + i);
            }
        }
    }

    @Test
    void badOptionsAreRefusedNamingThem() {
        Generator.Options o = Generator.Options.greedy(4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.repetitionPenalty(0f)).getMessage().contains("repetitionPenalty must be finite and > 0"));
        assertThrows(IllegalArgumentException.class, () -> o.repetitionPenalty(Float.NaN));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.presenceFrequency(2.5f, 0f)).getMessage().contains("presencePenalty must be in [-2, 2]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.presenceFrequency(0f, -2.01f)).getMessage().contains("frequencyPenalty must be in [-2, 2]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.minP(1.5f)).getMessage().contains("minP must be in [0, 1]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.logitBias(Map.of(-1, 1f))).getMessage().contains("logitBias id -1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.logitBias(Map.of(3, Float.NaN))).getMessage().contains("must be finite"));
        assertTrue(o.repetitionPenalty(1f).presenceFrequency(0f, 0f).minP(0.5f).penalized() == false, "neutral values need no penalty op");
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 70)) {
            Generator g = new Generator(new Transformer(w, CPU));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.generate(new int[] {1, 2}, o.logitBias(Map.of(Tiny.V, 1f)), null));
            assertEquals("logitBias id 100 is outside the vocabulary [0, 100)", e.getMessage());
        }
    }

    @Test
    void aLargeBiasForcesItsTokenAndNeutralPenaltiesChangeNothing() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 71)) {
            Generator g = new Generator(new Transformer(w, CPU));
            int[] p = Tiny.ids(72, 1, 5)[0];
            int[] forced = g.generate(p, Generator.Options.greedy(6).logitBias(Map.of(42, 100f)), null);
            assertArrayEquals(new int[] {42, 42, 42, 42, 42, 42}, forced);
            Generator.Options plain = Generator.Options.greedy(12).sampling(0.8f, 0, 1f, 3);
            assertArrayEquals(g.generate(p, plain, null), g.generate(p, plain.repetitionPenalty(1f).presenceFrequency(0f, 0f), null));
        }
    }

    @Test
    void generationConfigReadsRepetitionPenaltyAndMinPAsGenerateAppliesThem(@TempDir Path dir) throws Exception {
        // Qwen2.5-Instruct's file
        Files.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": 151643, \"do_sample\": true, \"eos_token_id\": "
                + "[151645, 151643], \"pad_token_id\": 151643, \"repetition_penalty\": 1.05, \"temperature\": 0.7, \"top_p\": 0.8, "
                + "\"top_k\": 20, \"min_p\": 0.05}");
        GenerationConfig gc = GenerationConfig.read(dir);
        assertEquals(1.05, gc.repetitionPenalty());
        assertEquals(0.05, gc.minP());
        Generator.Options o = gc.options(64, 9);
        assertEquals(1.05f, o.repetitionPenalty());
        assertEquals(0.05f, o.minP());
        assertEquals(20, o.topK());
        Files.writeString(dir.resolve("generation_config.json"), "{\"repetition_penalty\": 1.2, \"min_p\": 0.1}");
        Generator.Options greedy = GenerationConfig.read(dir).options(8, 0);
        assertEquals(0f, greedy.temperature(), "without do_sample: greedy");
        assertEquals(1.2f, greedy.repetitionPenalty(), "generate applies repetition_penalty in greedy search too");
        assertEquals(0f, greedy.minP(), "min_p is a sampling warper: not used greedy");
        for (String bad : new String[] {"{\"repetition_penalty\": 0}", "{\"repetition_penalty\": -1.1}", "{\"repetition_penalty\": \"1.1\"}",
                                          "{\"min_p\": 1.5}", "{\"min_p\": -0.1}"}) {
            Files.writeString(dir.resolve("generation_config.json"), bad);
            Exception e = assertThrows(org.transformer4j.model.weights.CheckpointException.class, () -> GenerationConfig.read(dir), bad);
            assertTrue(e.getMessage().contains(bad.contains("min_p") ? "min_p must be" : "repetition_penalty must be a number > 0"), e.getMessage());
        }
    }
}
