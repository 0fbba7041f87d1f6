// GenerationTest — Generator, ChatSession and scoring against full recomputation: greedy tokens are
// the argmax of a full forward pass over the text so far, batches equal single prompts, seeds
// repeat, stop ids stop; chat replies equal generating from the whole history, with causal models
// encoding only new tokens; log-probabilities equal the backend's cross-entropy op.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.Tensor;

class GenerationTest {

    static final CpuBackend CPU = new CpuBackend();

    static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    static int[] cat(int[] a, int[] b) {
        int[] o = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }

    @Test
    void greedyTokensAreTheArgmaxOfFullRecomputationAndBatchesEqualSinglePrompts() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 41)) {
            Transformer m = new Transformer(w, CPU);
            Generator g = new Generator(m);
            int[] p0 = Tiny.ids(42, 1, 5)[0], p1 = Tiny.ids(43, 1, 19)[0];
            List<Integer> streamed = new ArrayList<>();
            int[][] out = g.generate(List.of(p0, p1), Generator.Options.greedy(12), (b, t) -> { if (b == 1) streamed.add(t); });
            for (int[][] pr : new int[][][] {{p0, out[0]}, {p1, out[1]}}) {
                assertEquals(12, pr[1].length);
                for (int i = 0; i < pr[1].length; i++) {
                    float[][] full = m.logits(new int[][] {cat(pr[0], Arrays.copyOf(pr[1], i))})[0];
                    assertEquals(argmax(full[full.length - 1]), pr[1][i], "token " + i);
                }
            }
            assertArrayEquals(out[1], streamed.stream().mapToInt(Integer::intValue).toArray(), "the callback streams each token");
            assertArrayEquals(out[0], g.generate(p0, Generator.Options.greedy(12), null));
            // a stop id ends the sequence and is returned as its last token
            int[] stopped = g.generate(p1, Generator.Options.greedy(12).stopIds(Set.of(out[1][3])), null);
            assertArrayEquals(Arrays.copyOf(out[1], indexOfFirst(out[1], out[1][3]) + 1), stopped);
            // a stop string ends it once the decoded new text contains it (here each id decodes to "<id>")
            java.util.function.Function<int[], String> text = ids -> Arrays.stream(ids).mapToObj(i -> "<" + i + ">")
                    .collect(java.util.stream.Collectors.joining());
            String stop = "<" + out[1][4] + "><" + out[1][5] + ">";
            int[] byText = g.generate(p1, Generator.Options.greedy(12).stopStrings(Set.of(stop), text), null);
            assertTrue(text.apply(byText).endsWith(stop), text.apply(byText));
            assertTrue(byText.length <= 6 && text.apply(Arrays.copyOf(byText, byText.length - 1)).indexOf(stop) < 0);
        }
    }

    private static int indexOfFirst(int[] a, int v) {
        for (int i = 0; i < a.length; i++) if (a[i] == v) return i;
        return -1;
    }

    @Test
    void encoderDecoderGreedyMatchesFullRecomputation() {
        TransformerConfig c = Tiny.t5ish().build();
        try (Weights w = Weights.random(c, CPU, 44)) {
            Transformer m = new Transformer(w, CPU);
            int[] input = Tiny.ids(45, 1, 8)[0];
            int[] out = new Generator(m).generate(input, Generator.Options.greedy(10), null);
            int start = c.specialIds().decoderStart();
            for (int i = 0; i < out.length; i++) {
                float[][] full = m.logits(new int[][] {input}, new int[][] {cat(new int[] {start}, Arrays.copyOf(out, i))})[0];
                assertEquals(argmax(full[i]), out[i], "token " + i);
            }
        }
    }

    @Test
    void samplingRepeatsForASeedAndTopKOneIsGreedy() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), true);
        try (Weights w = Weights.random(c, CPU, 46)) {
            Generator g = new Generator(new Transformer(w, CPU));
            int[] p = Tiny.ids(47, 1, 6)[0];
            Generator.Options s = Generator.Options.greedy(20).sampling(1.5f, 0, 1f, 7);
            int[] a = g.generate(p, s, null), b = g.generate(p, s, null), other = g.generate(p, s.sampling(1.5f, 0, 1f, 8), null);
            assertArrayEquals(a, b);
            assertFalse(Arrays.equals(a, other), "another seed, another text (20 tokens at temperature 1.5 over 100 ids)");
            assertArrayEquals(g.generate(p, Generator.Options.greedy(20), null), g.generate(p, s.sampling(1.5f, 1, 1f, 9), null));
            assertArrayEquals(g.generate(p, Generator.Options.greedy(20), null), g.generate(p, s.sampling(1f, 0, 1e-6f, 9), null));
        }
    }

    @Test
    void causalChatEncodesOnlyNewTokensAndRepliesAsIfFromTheWholeHistory() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 48)) {
            Transformer m = new Transformer(w, CPU);
            Generator.Options o = Generator.Options.greedy(6);
            try (ChatSession chat = new ChatSession(m, o, 150)) {
                assertTrue(chat.incremental());
                for (int turn = 0; turn < 4; turn++) {
                    int[] msg = Tiny.ids(50 + turn, 1, 5 + turn)[0];
                    int[] expected = new Generator(m).generate(cat(chat.history(), msg), o, null);
                    assertArrayEquals(expected, chat.send(msg), "turn " + turn);
                    // the message (plus the last reply token of the previous turn) and the reply's tokens but its last
                    assertEquals(msg.length + (turn == 0 ? 0 : 1) + 6 - 1, chat.tokensEncodedPerTurn().get(turn));
                }
            }
        }
    }

    @Test
    void bidirectionalChatReencodesTheHistory() {
        for (TransformerConfig c : List.of(Tiny.t5ish().build(), Tiny.decoderOnly(Tiny.encDec().build(), true))) {
            try (Weights w = Weights.random(c, CPU, 49)) {
                Transformer m = new Transformer(w, CPU);
                Generator.Options o = Generator.Options.greedy(4);
                ChatSession chat = new ChatSession(m, o, 150);
                assertFalse(chat.incremental());
                int held = 0;
                for (int turn = 0; turn < 3; turn++) {
                    int[] msg = Tiny.ids(60 + turn, 1, 5)[0];
                    int[] expected = new Generator(m).generate(cat(chat.history(), msg), o, null);
                    assertArrayEquals(expected, chat.send(msg));
                    held += 5;
                    // the whole history and the reply's tokens (an encoder-decoder's decoder starts from its start id)
                    long want = c.architecture() == TransformerConfig.Architecture.ENCODER_DECODER ? held + 4 : held + 3;
                    assertEquals(want, chat.tokensEncodedPerTurn().get(turn), c.architecture() + " turn " + turn);
                    held += 4;
                }
                chat.close();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> chat.send(new int[] {1}));
                assertTrue(e.getMessage().contains("closed"));
            }
        }
    }

    @Test
    void scoresAreTheBackendsCrossEntropy() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 51)) {
            Transformer m = new Transformer(w, CPU);
            int[] ids = Tiny.ids(52, 1, 12)[0];
            Transformer.Score s = m.score(ids, 5);
            float[][] l = m.logits(new int[][] {ids})[0];
            float[] flat = new float[11 * Tiny.V];
            int[] targets = new int[11];
            for (int i = 0; i < 11; i++) { System.arraycopy(l[i], 0, flat, i * Tiny.V, Tiny.V); targets[i] = i + 1 >= 5 ? ids[i + 1] : -100; }
            try (Tensor lt = Tensor.ofFloats(flat, 11, Tiny.V); Tensor tt = Tensor.ofInts(targets, 11); Tensor losses = Tensor.empty(org.transformer4j.runtime.DType.F32, 11)) {
                CrossEntropyOp.Result r = CPU.crossEntropy(CrossEntropyOp.of(lt, tt, losses));
                assertEquals(r.meanLoss(), s.loss(), 1e-5);
                assertEquals(7, s.counted());
                float[] per = losses.toFloatArray();
                for (int i = 4; i < 11; i++) assertEquals(-per[i], s.logProbs()[i], 1e-5);
            }
        }
    }

    @Test
    void encoderDecoderScoresFollowTheCachedDecoderFromItsStartId() {
        TransformerConfig c = Tiny.t5ish().build();
        try (Weights w = Weights.random(c, CPU, 53)) {
            Transformer m = new Transformer(w, CPU);
            int[] input = Tiny.ids(54, 1, 7)[0], target = Tiny.ids(55, 1, 6)[0];
            Transformer.Score s = m.score(input, target);
            try (KvState st = m.newState(new int[][] {input}, 8)) {
                float[] logits = m.step(st, new int[] {c.specialIds().decoderStart()})[0];
                double sum = 0;
                for (int i = 0; i < target.length; i++) {
                    try (Tensor lt = Tensor.ofFloats(logits, 1, Tiny.V); Tensor tt = Tensor.ofInts(new int[] {target[i]}, 1);
                         Tensor loss = Tensor.empty(org.transformer4j.runtime.DType.F32, 1)) {
                        CPU.crossEntropy(CrossEntropyOp.of(lt, tt, loss));
                        assertEquals(-loss.toFloatArray()[0], s.logProbs()[i], 1e-5, "token " + i);
                        sum += loss.toFloatArray()[0];
                    }
                    if (i + 1 < target.length) logits = m.step(st, new int[] {target[i]})[0];
                }
                assertEquals(sum / target.length, s.loss(), 1e-5);
                assertEquals(Math.exp(s.loss()), s.perplexity(), 1e-9);
            }
        }
    }

    @Test
    void attentionWeightsTimesValuesAreTheAttentionKernelsOutput() {
        for (TransformerConfig c : List.of(Tiny.decoderOnly(Tiny.t5ish().build(), true), Tiny.decoderOnly(Tiny.encDec().build(), false))) {
            try (Weights w = Weights.random(c, CPU, 56); Scratch s = new Scratch(CPU)) {
                Transformer m = new Transformer(w, CPU);
                int[] ids = Tiny.ids(57, 1, 10)[0];
                int layer = 1, head = 1, prefix = 4, hs = c.headSize();
                float[][] a = m.attentionWeights(ids, prefix, layer, head);                       // (T, T)
                // the layer's q, k, v and the kernel's attention output, built from the model's own pieces
                org.transformer4j.runtime.AttentionOp.Mask mask = c.prefixLm() ? org.transformer4j.runtime.AttentionOp.Mask.PREFIX_LM
                        : org.transformer4j.runtime.AttentionOp.Mask.CAUSAL;
                int[] pre = c.prefixLm() ? new int[] {prefix} : null;
                var bias = m.relativeBias(w.decoder, m.decoderBidirectional());
                Tensor x = m.embed(s, new int[][] {ids}, 0);
                m.block(s, w.decoder.layers().get(0), x, m.new DenseSelf(s, mask, pre, bias, null, null), null);
                Weights.Layer l = w.decoder.layers().get(layer);
                Tensor in = m.norm(s, l.attnNorm(), x);
                Tensor q = m.linear(s, in, l.self().q(), l.self().qb()).view(1, 10, c.heads(), hs);
                Tensor k = m.kv(s, in, l.self().k(), l.self().kb()), v = m.kv(s, in, l.self().v(), l.self().vb());
                Tensor out = s.empty(1, 10, c.heads(), hs);
                CPU.attention(org.transformer4j.runtime.AttentionOp.of(q, k, v, out).withMask(mask, pre).scale(c.attentionScale()).bias(bias));
                float[] vf = v.toFloatArray(), of = out.toFloatArray();
                int kvHead = head / (c.heads() / c.kvHeads());
                double worst = 0;
                for (int i = 0; i < 10; i++) {
                    for (int e = 0; e < hs; e++) {
                        double y = 0;
                        for (int j = 0; j < 10; j++) y += a[i][j] * vf[(j * c.kvHeads() + kvHead) * hs + e];
                        worst = Math.max(worst, Math.abs(y - of[(i * c.heads() + head) * hs + e]));
                    }
                    for (int j = 0; j < 10; j++) {
                        boolean visible = c.prefixLm() ? j <= i || j < prefix : j <= i;
                        if (!visible) assertEquals(0f, a[i][j], "masked key " + j + " of query " + i);
                    }
                }
                assertTrue(worst <= 1e-5, "weights · V differs from the kernel's output by " + worst);
            }
        }
    }

    /** The same for Gemma 2 (the harness's folder): the inspection's weights include the attention soft-capping. */
    @Test
    void attentionWeightsOfASoftCappedModelAreTheKernelsToo() throws Exception {
        try (Weights w = Pretrained.load(ReferenceFixturesTest.root().resolve("gemma2"), CPU); Scratch s = new Scratch(CPU)) {
            Transformer m = new Transformer(w, CPU);
            TransformerConfig c = w.config;
            assertTrue(c.attentionSoftcap() > 0, "the folder soft-caps");
            int t = 12, layer = 1, head = 1, hs = c.headSize();
            int[] ids = Tiny.ids(58, 1, t)[0];
            float[][] a = m.attentionWeights(ids, 0, layer, head);
            Transformer.RopeAt rope = m.ropeFrom(s, 1, 0, t);
            Tensor x = m.embed(s, new int[][] {ids}, 0);
            m.block(s, w.decoder.layers().get(0), x, m.new DenseSelf(s, org.transformer4j.runtime.AttentionOp.Mask.CAUSAL, null, null,
                    null, null).rotary(rope, c.window(0)), null);
            Weights.Layer l = w.decoder.layers().get(layer);
            Tensor in = m.norm(s, l.attnNorm(), x);
            Tensor q = m.positionHeads(s, m.linear(s, in, l.self().q(), l.self().qb()).view(1, t, c.heads(), hs), l.self().qNorm(), rope, false);
            Tensor k = m.positionHeads(s, m.kv(s, in, l.self().k(), l.self().kb()), l.self().kNorm(), rope, false);
            Tensor v = m.kv(s, in, l.self().v(), l.self().vb());
            Tensor out = s.empty(1, t, c.heads(), hs);
            CPU.attention(org.transformer4j.runtime.AttentionOp.of(q, k, v, out).causal().scale(c.attentionScale())
                    .window(c.window(layer)).softcap(c.attentionSoftcap()));
            float[] vf = v.toFloatArray(), of = out.toFloatArray();
            int kvHead = head / (c.heads() / c.kvHeads());
            double worst = 0;
            for (int i = 0; i < t; i++) {
                for (int e = 0; e < hs; e++) {
                    double y = 0;
                    for (int j = 0; j < t; j++) y += a[i][j] * vf[(j * c.kvHeads() + kvHead) * hs + e];
                    worst = Math.max(worst, Math.abs(y - of[(i * c.heads() + head) * hs + e]));
                }
            }
            assertTrue(worst <= 1e-5, "Gemma 2: weights · V differs from the soft-capped kernel's output by " + worst);
        }
    }
}
