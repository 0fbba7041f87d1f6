// KvCacheTest — incremental decoding through the paged KV cache gives the same logits as a full
// recomputation at every step of a 64-token teacher-forced sequence, for each architecture that
// decodes; prefill chunks longer than the decode kernel's 16 queries, batches of sequences of
// different lengths, and a failed call that leaves the cache as it was.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.CpuBackend;

class KvCacheTest {

    /** fp32 CPU: the cached path sums in another order (split-KV decode against one-pass attention). */
    static final double TOL = 1e-5;
    static final int STEPS = 64;
    static final CpuBackend CPU = new CpuBackend();

    static Stream<TransformerConfig> encoderDecoders() {
        return Stream.of(Tiny.encDec().build(), Tiny.t5ish().build(),
                Tiny.encDec().build().withSteps(true, false, false, false),
                Tiny.t5ish().build().withSteps(true, true, true, false),
                Tiny.encDec().norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-5f).build()
                        .withSteps(false, false, true, true));
    }

    static Stream<TransformerConfig> decoders() {
        return Stream.of(Tiny.decoderOnly(Tiny.encDec().build(), false), Tiny.decoderOnly(Tiny.t5ish().build(), false),
                Tiny.decoderOnly(Tiny.encDec().build(), true), Tiny.decoderOnly(Tiny.t5ish().build(), true), Tiny.ropeDecoder());
    }

    @ParameterizedTest
    @MethodSource("decoders")
    void decoderStepsMatchFullRecomputation(TransformerConfig c) {
        try (Weights w = Weights.random(c, CPU, 21)) {
            Transformer m = new Transformer(w, CPU);
            boolean plm = c.prefixLm();
            int prefix = plm ? 5 : 1;                                                            // a prefix-LM's prefix is one chunk
            int[] seq = Tiny.ids(22, 1, prefix + STEPS)[0];
            float[][] full = plm ? m.logits(new int[][] {seq}, new int[] {prefix})[0] : m.logits(new int[][] {seq})[0];
            try (KvState st = m.newState(1, prefix + STEPS)) {
                float[][] first = m.prefill(st, 0, Arrays.copyOf(seq, prefix));
                assertTrue(Tiny.maxDiff(first, full, 0) <= TOL);
                for (int t = prefix; t < prefix + STEPS; t++) {
                    float[][] step = m.step(st, new int[] {seq[t]});
                    double d = Tiny.maxDiff(step, new float[][] {full[t]}, 0);
                    assertTrue(d <= TOL, "step " + t + " differs by " + d);
                }
                assertEquals(prefix + STEPS, st.length(0));
                assertTrue(st.decodeGraphed(), "the steps ran from the captured graph: " + st.decodeGraphFailure());
            }
        }
    }

    /** prefillLast gives the last row of prefill's logits (the output projection on that row alone), and the same cache. */
    @ParameterizedTest
    @MethodSource("decoders")
    void prefillLastIsTheLastRowOfPrefill(TransformerConfig c) {
        try (Weights w = Weights.random(c, CPU, 51)) {
            Transformer m = new Transformer(w, CPU);
            int[] seq = Tiny.ids(52, 1, 23)[0];
            try (KvState all = m.newState(1, 40); KvState last = m.newState(1, 40)) {
                float[][] rows = m.prefill(all, 0, Arrays.copyOf(seq, 19));
                float[] one = m.prefillLast(last, 0, Arrays.copyOf(seq, 19));
                assertTrue(Tiny.maxDiff(new float[][] {one}, new float[][] {rows[18]}, 0) <= TOL, "last row");
                assertEquals(19, last.length(0));
                float[][] a = m.prefill(all, 0, Arrays.copyOfRange(seq, 19, 23));             // a later chunk: causal
                float[] b = m.prefillLast(last, 0, Arrays.copyOfRange(seq, 19, 23));
                assertTrue(Tiny.maxDiff(new float[][] {b}, new float[][] {a[3]}, 0) <= TOL, "later chunk, last row");
                assertTrue(Tiny.maxDiff(m.step(all, new int[] {seq[0]}), m.step(last, new int[] {seq[0]}), 0) == 0, "same cache");
            }
        }
    }

    /**
     * The captured step (host values frozen, per-step inputs read from tensors at each replay) gives
     * the same bits as the same ops run one by one, for batches whose sequences sit at different
     * positions, with and without the memory in the cache (step 1) and with T5 buckets.
     */
    @ParameterizedTest
    @MethodSource("everyDecodingConfig")
    void capturedStepsEqualOpByOpSteps(TransformerConfig c) {
        try (Weights w = Weights.random(c, CPU, 31)) {
            assertCapturedEqualsOpByOp(w, c);
        }
    }

    /** The same in BF16 (activations, caches and logits in BF16: the captured step allocates in the model's dtype). */
    @ParameterizedTest
    @MethodSource("decoders")
    void capturedBf16StepsEqualOpByOpSteps(TransformerConfig c) {
        try (Weights w32 = Weights.random(c, CPU, 37); Weights w = w32.to(org.transformer4j.runtime.DType.BF16)) {
            assertCapturedEqualsOpByOp(w, c);
        }
    }

    static Stream<TransformerConfig> everyDecodingConfig() {
        return Stream.concat(decoders(), encoderDecoders());
    }

    private static void assertCapturedEqualsOpByOp(Weights w, TransformerConfig c) {
        float[][][] graphed = steps(new Transformer(w, CPU).decodeGraphs(true), c, 12, true);
        float[][][] eager = steps(new Transformer(w, CPU).decodeGraphs(false), c, 12, false);
        for (int t = 0; t < graphed.length; t++) {
            for (int b = 0; b < graphed[t].length; b++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(eager[t][b], graphed[t][b], "step " + t + ", sequence " + b);
            }
        }
    }

    /**
     * n batched steps of two sequences at different positions (decoder-only: prefilled to 5 and 2 rows;
     * encoder-decoder: memories of 7 and 3 tokens); checks whether the steps ran from a captured graph.
     */
    static float[][][] steps(Transformer m, TransformerConfig c, int n, boolean expectGraph) {
        int[][] tokens = Tiny.ids(32, 2, n);
        float[][][] out = new float[n][][];
        boolean encDec = c.architecture() == TransformerConfig.Architecture.ENCODER_DECODER;
        try (KvState st = encDec ? m.newState(new int[][] {Tiny.ids(33, 1, 7)[0], Tiny.ids(34, 1, 3)[0]}, n)
                : m.newState(2, 5 + n)) {
            if (!encDec) {
                m.prefill(st, 0, Tiny.ids(35, 1, 5)[0]);
                m.prefill(st, 1, Tiny.ids(36, 1, 2)[0]);
            }
            for (int t = 0; t < n; t++) out[t] = m.step(st, new int[] {tokens[0][t], tokens[1][t]});
            assertEquals(expectGraph, st.decodeGraphed(), "graph state; failure: " + st.decodeGraphFailure());
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("encoderDecoders")
    void encoderDecoderStepsMatchFullRecomputation(TransformerConfig c) {
        try (Weights w = Weights.random(c, CPU, 23)) {
            Transformer m = new Transformer(w, CPU);
            int[][] input = Tiny.ids(24, 1, 9), target = Tiny.ids(25, 1, STEPS);
            float[][] full = m.logits(input, target)[0];                                          // (Tt, V)
            try (KvState st = m.newState(input, STEPS)) {
                assertEquals(c.shareCrossAndSelfAttention() ? 9 : 0, st.length(0), "memory rows ahead of the target (step 1)");
                for (int t = 0; t < STEPS; t++) {
                    float[][] step = m.step(st, new int[] {target[0][t]});
                    double d = Tiny.maxDiff(step, new float[][] {full[t]}, 0);
                    assertTrue(d <= TOL, "step " + t + " differs by " + d);
                }
            }
        }
    }

    @Test
    void longPrefillChunksAndBatchedStepsOfDifferentLengths() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.t5ish().build(), false);
        try (Weights w = Weights.random(c, CPU, 26)) {
            Transformer m = new Transformer(w, CPU);
            int[] a = Tiny.ids(27, 1, 50)[0], b = Tiny.ids(28, 1, 30)[0];
            float[][] fa = m.logits(new int[][] {a})[0], fb = m.logits(new int[][] {b})[0];
            try (KvState st = m.newState(2, 64)) {
                assertTrue(Tiny.maxDiff(m.prefill(st, 0, Arrays.copyOf(a, 37)), fa, 0) <= TOL, "37 rows: three decode slices");
                assertTrue(Tiny.maxDiff(m.prefill(st, 1, Arrays.copyOf(b, 20)), fb, 0) <= TOL);
                for (int t = 0; t < 10; t++) {
                    float[][] step = m.step(st, new int[] {a[37 + t], b[20 + t]});               // lengths 37+t and 20+t
                    assertTrue(Tiny.maxDiff(new float[][] {step[0]}, fa, 37 + t) <= TOL);
                    assertTrue(Tiny.maxDiff(new float[][] {step[1]}, fb, 20 + t) <= TOL);
                }
            }
        }
    }

    @Test
    void encoderDecoderBatchWithInputsOfDifferentLengths() {
        TransformerConfig c = Tiny.t5ish().build();
        try (Weights w = Weights.random(c, CPU, 29)) {
            Transformer m = new Transformer(w, CPU);
            int[][] inputs = {Tiny.ids(30, 1, 4)[0], Tiny.ids(31, 1, 11)[0]};
            int[][] targets = Tiny.ids(32, 2, 6);
            try (KvState st = m.newState(inputs, 8)) {
                float[][][] steps = new float[6][][];
                for (int t = 0; t < 6; t++) steps[t] = m.step(st, new int[] {targets[0][t], targets[1][t]});
                for (int b = 0; b < 2; b++) {
                    float[][] full = m.logits(new int[][] {inputs[b]}, new int[][] {targets[b]})[0];
                    for (int t = 0; t < 6; t++) assertTrue(Tiny.maxDiff(new float[][] {steps[t][b]}, full, t) <= TOL);
                }
            }
        }
    }

    @Test
    void aFailedCallLeavesTheCacheAsItWas() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 33)) {
            Transformer m = new Transformer(w, CPU);
            int[] seq = Tiny.ids(34, 1, 12)[0];
            float[][] full = m.logits(new int[][] {seq})[0];
            try (KvState st = m.newState(1, 16)) {
                m.prefill(st, 0, Arrays.copyOf(seq, 8));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> m.prefill(st, 0, new int[] {seq[8], 5, Tiny.V + 3}));
                assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> m.prefill(st, 0, new int[9]), "beyond capacity");
                assertThrows(IllegalArgumentException.class, () -> m.step(st, new int[] {-1}));
                assertEquals(8, st.length(0));
                assertTrue(Tiny.maxDiff(m.prefill(st, 0, Arrays.copyOfRange(seq, 8, 12)), full, 8) <= TOL);
            }
            KvState closed = m.newState(1, 4);
            closed.close();
            assertThrows(IllegalStateException.class, () -> m.step(closed, new int[] {1}));
        }
    }
}
