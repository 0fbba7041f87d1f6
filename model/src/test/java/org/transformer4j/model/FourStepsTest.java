// FourStepsTest — DESIGN.md's table, numerically: an encoder-decoder with all four steps on equals
// the decoder-only model on [input ; target] with the same weights; with steps 1–3 on and the input
// bidirectional it equals the prefix-LM; and each single step changes only what it claims.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class FourStepsTest {

    /** fp32 on the CPU backend: the two paths sum the same products in different groupings. */
    static final double TOL = 1e-5;

    static final CpuBackend CPU = new CpuBackend();

    static Stream<TransformerConfig.Builder> families() {
        return Stream.of(Tiny.encDec(),                                                            // pre-LN LayerNorm, learned positions
                Tiny.t5ish(),                                                                       // RMSNorm, gated, T5 buckets, GQA
                Tiny.encDec().norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-5f),
                Tiny.encDec().noPositions().maxPositions(0).activation(TransformerConfig.Activation.SILU, true));
    }

    @ParameterizedTest
    @MethodSource("families")
    void allFourStepsGiveTheDecoderOnlyModelOnInputThenTarget(TransformerConfig.Builder family) {
        TransformerConfig encDec = family.build().withSteps(true, true, true, true);
        try (Weights w = Weights.random(encDec, CPU, 11)) {
            int[][] input = Tiny.ids(1, 2, 7), target = Tiny.ids(2, 2, 5);
            float[][][] ed = new Transformer(w, CPU).logits(input, target);                        // (B, Tt, V)
            Transformer gpt = new Transformer(w.viewAs(Tiny.decoderOnly(encDec, false)), CPU);
            float[][][] full = gpt.logits(Tiny.concat(input, target));                      // (B, Tin + Tt, V)
            for (int b = 0; b < 2; b++) {
                double d = Tiny.maxDiff(ed[b], full[b], 7);
                assertTrue(d <= TOL, "target logits differ by " + d + " (max |logit| " + Tiny.maxAbs(ed[b]) + ")");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void stepsOneToThreeWithBidirectionalInputGiveThePrefixLm(TransformerConfig.Builder family) {
        TransformerConfig encDec = family.build().withSteps(true, true, true, false);
        try (Weights w = Weights.random(encDec, CPU, 12)) {
            int[][] input = Tiny.ids(3, 2, 6), target = Tiny.ids(4, 2, 4);
            float[][][] ed = new Transformer(w, CPU).logits(input, target);
            Transformer plm = new Transformer(w.viewAs(Tiny.decoderOnly(encDec, true)), CPU);
            float[][][] full = plm.logits(Tiny.concat(input, target), new int[] {6, 6});
            for (int b = 0; b < 2; b++) assertTrue(Tiny.maxDiff(ed[b], full[b], 6) <= TOL);
            // and the prefix matters: the causal decoder-only model gives other logits
            float[][][] causal = new Transformer(w.viewAs(Tiny.decoderOnly(encDec, false)), CPU).logits(Tiny.concat(input, target));
            assertTrue(Tiny.maxDiff(ed[0], causal[0], 6) > 1e-3);
        }
    }

    // ---- each step on its own ---------------------------------------------------------------------

    private static Weights weights(TransformerConfig c) { return Weights.random(c, CPU, 5); }

    @Test
    void stepOneRemovesExactlyTheCrossAttentionAndContinuesTargetPositions() {
        TransformerConfig base = Tiny.encDec().build(), one = base.withSteps(true, false, false, false);
        try (Weights w0 = weights(base); Weights w1 = weights(one)) {
            Map<String, Tensor> p0 = w0.parameters(), p1 = w1.parameters();
            for (String k : p0.keySet()) assertEquals(k.contains("cross"), !p1.containsKey(k), k);
            assertTrue(p1.keySet().stream().allMatch(p0::containsKey), "step 1 adds no parameter");
            assertTrue(w1.decoder.layers().stream().allMatch(l -> l.cross() == null && l.crossNorm() == null));
            // the encoder is untouched (same seed, same encoder tensors, same output)
            int[][] in = Tiny.ids(7, 1, 5);
            assertEquals(0, Tiny.maxDiff(new Transformer(w0, CPU).encode(in)[0], new Transformer(w1, CPU).encode(in)[0], 0));
            // target positions continue after the input's: target token t sits at position Tin + t, so writing
            // position row Tin + Tt − 1 changes the last target's logits only, and the encoder not at all
            int[][] tg = Tiny.ids(8, 1, 3);
            float[][] before = new Transformer(w1, CPU).logits(in, tg)[0];
            w1.embeddings.positions().slice(0, 5 + 3, 160).fill(9f);                               // rows no token uses
            assertEquals(0, Tiny.maxDiff(before, new Transformer(w1, CPU).logits(in, tg)[0], 0));
            w1.embeddings.positions().slice(0, 5 + 2, 5 + 3).fill(1f);
            float[][] after = new Transformer(w1, CPU).logits(in, tg)[0];
            assertEquals(0, Tiny.maxDiff(java.util.Arrays.copyOf(before, 2), after, 0), "causal: earlier targets unchanged");
            assertTrue(Tiny.maxDiff(new float[][] {before[2]}, new float[][] {after[2]}, 0) > 1e-3);
            assertEquals(0, Tiny.maxDiff(new Transformer(w0, CPU).encode(in)[0], new Transformer(w1, CPU).encode(in)[0], 0));
        }
    }

    @Test
    void stepTwoLeavesOneSetOfStackParameters() {
        TransformerConfig base = Tiny.encDec().build(), two = base.withSteps(false, true, false, false);
        try (Weights w0 = weights(base); Weights w2 = weights(two)) {
            assertSame(w2.encoder, w2.decoder);
            long encoderStack = w0.parameters().entrySet().stream().filter(e -> e.getKey().startsWith("encoder."))
                    .mapToLong(e -> e.getValue().numel()).sum();
            assertEquals(w0.parameterCount() - encoderStack, w2.parameterCount());
            assertTrue(w2.parameters().keySet().stream().noneMatch(k -> k.startsWith("encoder.") || k.startsWith("decoder.")));
            // one stack serves both roles: its cross-attention is only read by the decoder
            assertTrue(w2.decoder.layers().get(0).cross() != null);
            int[][] in = Tiny.ids(1, 1, 4), tg = Tiny.ids(2, 1, 3);
            Transformer m = new Transformer(w2, CPU);
            float[][] enc = m.encode(in)[0];
            float[][] logits = m.logits(in, tg)[0];
            assertEquals(3, logits.length, "one row of logits per target token");
            w2.decoder.layers().get(0).cross().o().fill(0.25f);                  // read by the decoder only
            assertEquals(0, Tiny.maxDiff(enc, m.encode(in)[0], 0), "the encoder never reads the cross-attention");
            float[][] crossChanged = m.logits(in, tg)[0];
            assertTrue(Tiny.maxDiff(logits, crossChanged, 0) > 1e-3, "the decoder does");
            w2.encoder.layers().get(0).mlp().down().fill(0.25f);                 // the shared MLP: both roles read it
            assertTrue(Tiny.maxDiff(enc, m.encode(in)[0], 0) > 1e-3, "the encoder reads the shared MLP");
            assertTrue(Tiny.maxDiff(crossChanged, m.logits(in, tg)[0], 0) > 1e-3, "and so does the decoder");
        }
    }

    @Test
    void stepThreeChangesNoParameterAndFeedsDecoderLayerIWithEncoderLayerIsInput() {
        TransformerConfig base = Tiny.encDec().build(), three = base.withSteps(false, false, true, false);
        try (Weights w0 = weights(base); Weights w3 = weights(three)) {
            assertSameParameters(w0, w3);
            int[][] in = Tiny.ids(8, 1, 6), tg = Tiny.ids(9, 1, 4);
            float[][][] before = new Transformer(w3, CPU).logits(in, tg);
            assertTrue(Tiny.maxDiff(before[0], new Transformer(w0, CPU).logits(in, tg)[0], 0) > 1e-3, "step 3 changes the memory");
            // decoder layers 0 and 1 read encoder layers 0 and 1's inputs: encoder layer 1's own weights and the
            // encoder's final norm never reach the decoder
            w3.encoder.layers().get(1).mlp().down().fill(0.5f);
            w3.encoder.finalNorm().weight().fill(3f);
            float[][][] after = new Transformer(w3, CPU).logits(in, tg);
            assertEquals(0, Tiny.maxDiff(before[0], after[0], 0));
            // while encoder layer 0's weights do
            w3.encoder.layers().get(0).mlp().down().fill(0.5f);
            assertTrue(Tiny.maxDiff(before[0], new Transformer(w3, CPU).logits(in, tg)[0], 0) > 1e-3);
        }
    }

    @Test
    void stepFourChangesNoParameterAndMakesTheEncoderCausal() {
        TransformerConfig base = Tiny.encDec().build(), four = base.withSteps(false, false, false, true);
        try (Weights w0 = weights(base); Weights w4 = weights(four)) {
            assertSameParameters(w0, w4);
            int[][] a = Tiny.ids(10, 1, 6);
            int[][] b = {a[0].clone()};
            b[0][5] = (b[0][5] + 1) % Tiny.V;                                                    // change the last input token
            float[][] causalA = new Transformer(w4, CPU).encode(a)[0], causalB = new Transformer(w4, CPU).encode(b)[0];
            float[][] bidiA = new Transformer(w0, CPU).encode(a)[0], bidiB = new Transformer(w0, CPU).encode(b)[0];
            assertEquals(0, Tiny.maxDiff(java.util.Arrays.copyOf(causalA, 5), causalB, 0), "earlier positions cannot see it");
            assertTrue(Tiny.maxDiff(java.util.Arrays.copyOf(bidiA, 5), bidiB, 0) > 1e-3, "bidirectional ones can");
        }
    }

    @Test
    void stepsStackWithoutTouchingEachOther() {
        // step 4 on top of 1–3 changes no parameter either: only the encoder's mask differs
        TransformerConfig c3 = Tiny.encDec().build().withSteps(true, true, true, false);
        try (Weights a = weights(c3); Weights b = weights(c3.withSteps(null, null, null, true))) {
            assertSameParameters(a, b);
            Transformer bidi = new Transformer(a, CPU), causal = new Transformer(b, CPU);
            int[][] tg = Tiny.ids(2, 1, 3);
            // one input token: a causal and a bidirectional mask see the same key, so nothing may differ
            int[][] one = Tiny.ids(1, 1, 1);
            assertEquals(0, Tiny.maxDiff(bidi.logits(one, tg)[0], causal.logits(one, tg)[0], 0), "only the mask may differ");
            // five: every target row attends to the input, which the causal mask changed
            int[][] five = Tiny.ids(1, 1, 5);
            float[][] lb = bidi.logits(five, tg)[0], lc = causal.logits(five, tg)[0];
            for (int t = 0; t < tg[0].length; t++) {
                assertTrue(Tiny.maxDiff(new float[][] {lb[t]}, new float[][] {lc[t]}, 0) > 1e-3, "target row " + t);
            }
        }
    }

    private static void assertSameParameters(Weights a, Weights b) {
        assertEquals(a.parameters().keySet(), b.parameters().keySet());
        for (String k : a.parameters().keySet()) {
            assertTrue(java.util.Arrays.equals(a.parameters().get(k).toFloatArray(), b.parameters().get(k).toFloatArray()), k);
        }
    }
}
