// EncoderOnlyAndBadInputTest — BERT-style task heads against a float64 evaluation of the same
// parameters on the encoder's output, and every kind of bad input the model layer refuses with a
// clear exception: widths heads do not divide, empty input, ids outside the vocabulary, too many
// positions (or the truncation the caller chose), the wrong call for an architecture.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.transformer4j.runtime.CpuBackend;

class EncoderOnlyAndBadInputTest {

    static final CpuBackend CPU = new CpuBackend();

    static TransformerConfig bert() {
        return Tiny.encDec().decoderLayers(0).norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-12f)
                .activation(TransformerConfig.Activation.GELU, false).typeVocabSize(2).build();
    }

    static double[] matVec(float[] w, float[] b, double[] x, int out) {          // w (out, in) row-major
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b[o];
            for (int i = 0; i < x.length; i++) s += (double) w[o * x.length + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    @Test
    void classifierAndMaskedLmHeadsAreTheirFormulasOnTheEncoderOutput() {
        try (Weights w = Weights.random(bert(), CPU, 71, 3)) {
            Transformer m = new Transformer(w, CPU);
            int[][] ids = Tiny.ids(72, 2, 9);
            float[][][] h = m.encode(ids);
            float[][] cls = m.classify(ids);
            float[][][] mlm = m.maskedLmLogits(ids);
            Weights.ClassifierHead ch = w.classifierHead;
            Weights.MlmHead mh = w.mlmHead;
            for (int b = 0; b < 2; b++) {
                double[] pooled = matVec(ch.pooler().toFloatArray(), ch.poolerBias().toFloatArray(), toDouble(h[b][0]), 64);
                for (int i = 0; i < 64; i++) pooled[i] = Math.tanh(pooled[i]);
                double[] want = matVec(ch.classifier().toFloatArray(), ch.classifierBias().toFloatArray(), pooled, 3);
                for (int k = 0; k < 3; k++) assertEquals(want[k], cls[b][k], 1e-5);
                int t = 4;
                double[] d = matVec(mh.dense().toFloatArray(), mh.denseBias().toFloatArray(), toDouble(h[b][t]), 64);
                for (int i = 0; i < 64; i++) d[i] = 0.5 * d[i] * (1 + org.transformer4j.model.onnx.BertReferenceAccess.erf(d[i] / Math.sqrt(2)));
                double mean = Arrays.stream(d).average().orElseThrow(), var = 0;
                for (double x : d) var += (x - mean) * (x - mean) / 64;
                float[] g = mh.norm().weight().toFloatArray(), be = mh.norm().bias().toFloatArray();
                for (int i = 0; i < 64; i++) d[i] = (d[i] - mean) / Math.sqrt(var + 1e-12) * g[i] + be[i];
                double[] logits = matVec(w.embeddings.tokens().toFloatArray(), mh.outputBias().toFloatArray(), d, Tiny.V);
                for (int v = 0; v < Tiny.V; v++) assertEquals(logits[v], mlm[b][t][v], 1e-4 * Math.max(1, Math.abs(logits[v])));
            }
            float[][] e = m.embedSentences(ids);
            double n = 0;
            for (float x : e[0]) n += x * x;
            assertEquals(1, n, 1e-6, "L2-normalised");
        }
    }

    @Test
    void packedEncodingOfDifferentLengthsEqualsOneSequenceAtATime() {
        TransformerConfig rel = Tiny.t5ish().decoderLayers(0).tiedEmbeddings(true, 1f).build();  // encoder-only, T5 buckets, GQA
        for (TransformerConfig c : List.of(bert(), rel, bert().toBuilder().encoderLayers(2).build())) {
            try (Weights w = Weights.random(c, CPU, 76)) {
                Transformer m = new Transformer(w, CPU);
                List<int[]> seqs = List.of(Tiny.ids(77, 1, 3)[0], Tiny.ids(78, 1, 17)[0], Tiny.ids(79, 1, 1)[0], Tiny.ids(80, 1, 9)[0]);
                List<float[][]> packed = m.encodePacked(seqs);
                for (int i = 0; i < seqs.size(); i++) {
                    float[][] alone = m.encode(new int[][] {seqs.get(i)})[0];
                    assertEquals(alone.length, packed.get(i).length);
                    assertTrue(Tiny.maxDiff(packed.get(i), alone, 0) <= 1e-5, "sequence " + i);
                }
            }
        }
    }

    private static void refuses(Class<? extends Throwable> type, String words, Executable e) {
        Throwable t = assertThrows(type, e);
        assertTrue(t.getMessage().contains(words), "message '" + t.getMessage() + "' lacks '" + words + "'");
    }

    @Test
    void badInputIsAClearException() {
        refuses(IllegalArgumentException.class, "must divide the model width", () -> Tiny.encDec().widths(64, 128, 3));
        refuses(IllegalArgumentException.class, "must divide heads", () -> Tiny.encDec().heads(4, 3, 16).build());
        refuses(IllegalArgumentException.class, "shareEncoderDecoderParams needs as many encoder as decoder layers",
                () -> Tiny.encDec().decoderLayers(3).shareEncoderDecoderParams(true).build());
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 73); Weights bw = Weights.random(bert(), CPU, 74)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            refuses(IllegalArgumentException.class, "empty", () -> m.logits(new int[0][]));
            refuses(IllegalArgumentException.class, "row 0 is empty", () -> m.logits(new int[][] {{}}));
            refuses(IllegalArgumentException.class, "rows differ in length", () -> m.logits(new int[][] {{1, 2}, {3}}));
            refuses(IllegalArgumentException.class, "token id 100 at index 1 is outside the vocabulary", () -> m.logits(new int[][] {{1, 100}}));
            refuses(IllegalArgumentException.class, "outside the vocabulary", () -> g.generate(new int[] {-4}, Generator.Options.greedy(2), null));
            refuses(IllegalArgumentException.class, "exceed the model's 160 learned positions", () -> m.logits(Tiny.ids(1, 1, 161)));
            refuses(IllegalArgumentException.class, "prompt 0 is empty", () -> g.generate(new int[0], Generator.Options.greedy(2), null));
            refuses(IllegalArgumentException.class, "no prompts", () -> g.generate(List.of(), Generator.Options.greedy(2), null));
            int[] longPrompt = Tiny.ids(75, 1, 158)[0];
            refuses(IllegalArgumentException.class, "Options.truncate(true)", () -> g.generate(longPrompt, Generator.Options.greedy(5), null));
            int[] kept = Arrays.copyOfRange(longPrompt, 3, 158);
            assertArrayEquals(g.generate(kept, Generator.Options.greedy(5), null),
                    g.generate(longPrompt, Generator.Options.greedy(5).truncate(true), null), "truncation keeps the last tokens");
            refuses(IllegalArgumentException.class, "maxNewTokens", () -> Generator.Options.greedy(0));
            refuses(IllegalArgumentException.class, "topP", () -> Generator.Options.greedy(3).sampling(1f, 0, 0f, 1));
            refuses(IllegalStateException.class, "ENCODER_DECODER", () -> m.logits(new int[][] {{1}}, new int[][] {{2}}));
            refuses(IllegalStateException.class, "has no encoder", () -> m.encode(new int[][] {{1}}));
            refuses(IllegalArgumentException.class, "does not generate", () -> new Generator(new Transformer(bw, CPU)));
            refuses(IllegalStateException.class, "no classifier head", () -> new Transformer(bw, CPU).classify(new int[][] {{1}}));
            refuses(IllegalArgumentException.class, "exceeds the model's 160 learned positions",
                    () -> new ChatSession(m, Generator.Options.greedy(4), 161));
            try (ChatSession chat = new ChatSession(m, Generator.Options.greedy(4), 20)) {
                refuses(IllegalArgumentException.class, "the message is empty", () -> chat.send(new int[0]));
                chat.send(new int[] {1, 2, 3});
                refuses(IllegalArgumentException.class, "more than the session's 20", () -> chat.send(new int[10]));
                refuses(IllegalArgumentException.class, "outside the vocabulary", () -> chat.send(new int[] {7, 1000}));
                assertEquals(1, chat.tokensEncodedPerTurn().size(), "refused turns leave the session as it was");
                assertEquals(7, chat.history().length);
            }
        }
    }
}
