// NonFiniteTest — NaN and ±inf attacks on the model layer (fp32, CPU backend): a NaN input embedding
// row (untied output matrix) ends the one sequence that reads it, with an error naming sequence and step, while the rest of the
// batch finishes exactly as it does alone (generate, TokenStream, ChatSession); an inf in an attention
// bias: see CachedPathNonFiniteTest; and Pretrained.load refuses a checkpoint holding a NaN, naming file, tensor and element.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class NonFiniteTest {

    static final CpuBackend CPU = new CpuBackend();
    static final int POISON = 7;                      // the token whose embedding row is NaN

    static TransformerConfig gpt() { return Attack.gpt(); }

    static TransformerConfig untied() { return Attack.untied(); }

    static void poisonRow(Weights w, int token) {
        Tensor e = w.embeddings.tokens();                                                       // (V, C) on the host
        int c = w.config.modelWidth();
        for (int i = 0; i < c; i++) e.hostSegment().setAtIndex(ValueLayout.JAVA_FLOAT, (long) token * c + i, Float.NaN);
    }

    /** A prompt without the poisoned token. */
    static int[] clean(long seed, int t) { return Attack.clean(seed, t, POISON); }

    @ParameterizedTest
    @ValueSource(floats = {0f, 0.9f})
    void aNanRowEndsOnlyTheSequenceThatReadsItAndNamesSequenceAndStep(float temperature) {
        try (Weights w = Weights.random(untied(), CPU, 31)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            Generator.Options o = Generator.Options.greedy(6).sampling(temperature, 0, 1f, 5);
            int[] p0 = clean(1, 9), p1 = clean(2, 5), p2 = clean(3, 7);
            int[] expected0 = g.generate(List.of(p0, p1, p2), o, null)[0];           // before poisoning: the reference batch
            int[] expected2 = g.generate(List.of(p0, p1, p2), o, null)[2];
            poisonRow(w, POISON);
            p1[2] = POISON;                                                                     // sequence 1 reads the NaN row
            List<Integer> streamed = new ArrayList<>();
            NonFiniteLogitsException e = assertThrows(NonFiniteLogitsException.class,
                    () -> g.generate(List.of(p0, p1, p2), o, (b, t) -> streamed.add(t)));
            assertEquals(Map.of(1, 0), e.stepBySequence());
            assertTrue(e.getMessage().contains("sequence 1 at step 0"), e.getMessage());
            for (int t : streamed) assertTrue(t >= 0 && t < Tiny.V, "token " + t + " outside the vocabulary");
            int[][] tokens = e.tokens();
            assertEquals(0, tokens[1].length, "no token was chosen from non-finite logits");
            assertArrayEquals(expected0, tokens[0], "sequence 0 went on as before");
            assertArrayEquals(expected2, tokens[2], "sequence 2 went on as before");
        }
    }

    @Test
    void aTokenStreamThrowsInPlaceOfTheAffectedTokenAndGoesOn() {
        try (Weights w = Weights.random(untied(), CPU, 32)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] p0 = clean(4, 6), p1 = clean(5, 6);
            int[] expected0 = g.generate(p0, Generator.Options.greedy(5), null);
            poisonRow(w, POISON);
            p1[0] = POISON;
            List<Integer> seq0 = new ArrayList<>();
            int failures = 0;
            try (TokenStream s = g.stream(List.of(p0, p1), Generator.Options.greedy(5))) {
                while (s.hasNext()) {
                    try {
                        TokenStream.Token t = s.next();
                        assertEquals(0, t.sequence());
                        seq0.add(t.id());
                    } catch (NonFiniteLogitsException e) {
                        failures++;
                        assertEquals(Map.of(1, 0), e.stepBySequence(), e.getMessage());
                    }
                }
            }
            assertEquals(1, failures);
            assertArrayEquals(expected0, seq0.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void aChatTurnThatMeetsNanFailsAndLeavesTheSessionAsItWas() {
        try (Weights w = Weights.random(untied(), CPU, 33)) {
            Transformer m = new Transformer(w, CPU);
            int[] first = clean(6, 5), second = clean(7, 4);
            int[] want;
            try (ChatSession ref = new ChatSession(m, Generator.Options.greedy(4), 100)) {
                ref.send(first);
                want = ref.send(second);
            }
            poisonRow(w, POISON);
            try (ChatSession chat = new ChatSession(m, Generator.Options.greedy(4), 100)) {
                chat.send(first);
                int[] before = chat.history();
                int[] bad = clean(8, 3);
                bad[1] = POISON;
                NonFiniteLogitsException e = assertThrows(NonFiniteLogitsException.class, () -> chat.send(bad));
                assertTrue(e.getMessage().contains("sequence 0 at step 0"), e.getMessage());
                assertArrayEquals(before, chat.history(), "the failed turn left no trace");
                assertArrayEquals(want, chat.send(second), "the next turn is what it would have been");
            }
        }
    }

    @Test
    void pretrainedLoadRefusesNonFiniteWeightsUnlessTold(@TempDir Path dir) throws Exception {
        try (Weights w = Weights.random(gpt(), CPU, 35)) {
            w.decoder.layers().get(1).mlp().upb().hostSegment().setAtIndex(ValueLayout.JAVA_FLOAT, 4, Float.POSITIVE_INFINITY);
            PretrainedTest.gpt2Folder(w, dir);
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(dir, CPU));
        assertTrue(e.getMessage().contains(dir.resolve("model.safetensors").toString()) && e.getMessage().contains("h.1.mlp.c_fc.bias")
                && e.getMessage().contains("element 4"), e.getMessage());
        try (Weights loaded = Pretrained.load(dir, CPU, org.transformer4j.runtime.DType.F32, false)) {   // the switch
            assertTrue(Float.isInfinite(loaded.decoder.layers().get(1).mlp().upb().toFloatArray()[4]));
        }
    }

    /**
     * The finite check covers what a folder's layout reads, for decoder and encoder folders alike: Pythia's layout (the
     * gpt-neox fixture, float16, whose unread attention.masked_bias buffers are −inf as Pythia's files hold them) loads; a
     * NaN put into a tensor the model reads is refused naming it, and loads when told not to check; the same for an
     * encoder folder (bert).
     */
    @Test
    void theFiniteCheckCoversWhatTheLayoutReads(@TempDir Path dir) throws Exception {
        for (String[] c : new String[][] {{"gpt-neox", "gpt_neox.layers.1.mlp.dense_h_to_4h.weight"},
                {"bert", "encoder.layer.1.output.dense.weight"}}) {
            Path from = ReferenceFixturesTest.root().resolve(c[0]), to = java.nio.file.Files.createDirectories(dir.resolve(c[0]));
            java.nio.file.Files.copy(from.resolve("config.json"), to.resolve("config.json"));
            Map<String, Tensor> out = new java.util.LinkedHashMap<>();
            boolean unreadInf = false;
            try (org.transformer4j.model.weights.SafetensorsFile f = org.transformer4j.model.weights.SafetensorsFile.open(from.resolve("model.safetensors"))) {
                for (String key : f.names()) {
                    if (f.entry(key).dtype().name().equals("BOOL")) continue;   // the causal-mask buffers: no runtime type; left out
                    Tensor t = f.tensor(key);
                    float[] v = t.toFloatArray();
                    if (key.endsWith(".attention.masked_bias")) unreadInf |= Float.isInfinite(v[0]);
                    if (key.equals(c[1])) v[7] = Float.NaN;
                    out.put(key, Tensor.of(t.dtype(), v, t.shape()));
                }
                assertTrue(out.containsKey(c[1]), c[1]);
                org.transformer4j.model.weights.SafetensorsWriter.write(to.resolve("model.safetensors"), out, Map.of("format", "pt"));
            }
            if (c[0].equals("gpt-neox")) assertTrue(unreadInf, "the fixture keeps Pythia's −inf masked_bias");
            try (Weights w = Pretrained.load(from, CPU)) {
                assertTrue(w.parameterCount() > 0, c[0] + " as committed loads (unread buffers are not checked)");
            }
            CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(to, CPU), c[0]);
            assertTrue(e.getMessage().contains("'" + c[1] + "'") && e.getMessage().contains("element 7"), e.getMessage());
            try (Weights w = Pretrained.load(to, CPU, org.transformer4j.runtime.DType.F32, false)) {
                assertTrue(w.parameterCount() > 0, c[0] + ": loads when told not to check");
            }
        }
    }
}
