// DTypeTest — the model in BF16 and F16 (Weights.to, Pretrained.load with a dtype): every architecture's
// outputs against the same model in fp32 under the design's tolerance rule (LowPrecision), cached decoding
// against full recomputation in BF16, generation, and what the conversion keeps (F32 bias tables,
// shared tensors) or refuses.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class DTypeTest {

    static final CpuBackend CPU = new CpuBackend();

    /** One architecture: a config, classifier classes, and the outputs to compare by name. */
    record Case(String name, TransformerConfig config, int classes, Function<Transformer, Map<String, float[][][]>> run) {
        @Override public String toString() { return name; }
    }

    static Map<String, float[][][]> outputs(Object... nameThenValue) {
        Map<String, float[][][]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenValue.length; i += 2) {
            Object v = nameThenValue[i + 1];
            m.put((String) nameThenValue[i], v instanceof float[][] two ? new float[][][] {two} : (float[][][]) v);
        }
        return m;
    }

    static Stream<Case> cases() {
        int[][] ids = Tiny.ids(31, 2, 12), input = Tiny.ids(32, 2, 9), target = Tiny.ids(33, 2, 7);
        TransformerConfig bert = EncoderOnlyAndBadInputTest.bert();
        return Stream.of(
                new Case("decoder-only (GPT-2-like)", Tiny.decoderOnly(Tiny.encDec().build(), false), 0,
                        m -> outputs("logits", m.logits(ids))),
                new Case("decoder-only (T5-like: RMSNorm, gated, relative bias, GQA)", Tiny.decoderOnly(Tiny.t5ish().build(), false), 0,
                        m -> outputs("logits", m.logits(ids))),
                new Case("decoder-only (RoPE llama3, sliding window, q/k norms, scaled embeddings)", Tiny.ropeDecoder(), 0,
                        m -> outputs("logits", m.logits(ids))),
                new Case("prefix-LM", Tiny.decoderOnly(Tiny.t5ish().build(), true), 0,
                        m -> outputs("logits", m.logits(ids, new int[] {5, 3}))),
                new Case("encoder-decoder (pre-LN, tied)", Tiny.encDec().build(), 0,
                        m -> outputs("logits", m.logits(input, target), "encoder output", m.encode(input))),
                new Case("encoder-decoder (T5 v1.1-like, untied)", Tiny.t5ish().build(), 0,
                        m -> outputs("logits", m.logits(input, target), "encoder output", m.encode(input))),
                new Case("encoder-decoder, all four steps (one shared stack)", Tiny.encDec().build().withSteps(true, true, true, true), 0,
                        m -> outputs("logits", m.logits(input, target))),
                new Case("encoder-only (BERT-like, post-LN, heads)", bert, 3,
                        m -> outputs("hidden", m.encode(ids), "classifier", m.classify(ids), "masked LM", m.maskedLmLogits(ids),
                                "packed embeddings", m.embedSentences(Arrays.asList(ids[0], Arrays.copyOf(ids[1], 5))))));
    }

    static Stream<Arguments> casesAndDTypes() {
        return cases().flatMap(c -> Stream.of(Arguments.of(c, DType.BF16), Arguments.of(c, DType.F16)));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("casesAndDTypes")
    void lowPrecisionOutputsFollowTheToleranceRule(Case c, DType dtype) {
        try (Weights w = Weights.random(c.config(), CPU, 34, c.classes()); Weights low = w.to(dtype);
             LowPrecision.RoundingBackend rounding = new LowPrecision.RoundingBackend(dtype);
             Weights naiveW = Weights.random(c.config(), rounding, 34, c.classes())) {
            assertEquals(dtype, low.dtype());
            Transformer model = new Transformer(low, CPU);
            assertEquals(dtype, model.dtype);
            Map<String, float[][][]> ref = c.run().apply(new Transformer(w, CPU));
            Map<String, float[][][]> got = c.run().apply(model);
            Map<String, float[][][]> naive = c.run().apply(new Transformer(naiveW, rounding));
            for (String out : ref.keySet()) {
                double err = LowPrecision.maxErr(got.get(out), ref.get(out));
                double naiveErr = LowPrecision.maxErr(naive.get(out), ref.get(out));
                double maxRef = LowPrecision.maxAbs(ref.get(out));
                double allowed = LowPrecision.allowed(naiveErr, maxRef);
                String what = c + " in " + dtype + ", " + out + ": max error " + err + " vs fp32, naive " + dtype + " " + naiveErr;
                assertTrue(err <= allowed, what + ", allowed " + allowed);
                // it did run in the low precision (not silently in fp32, whose error would be ~1e-6 of max|ref|)
                assertTrue(err >= naiveErr / 4, what + ": far below the naive error, as if it had not rounded");
            }
        }
    }

    /**
     * The rule is tight enough to catch a small conversion error: the same BF16 model with its final norm's
     * shift (N(0, 0.02²) values) lost, as a conversion that dropped one tensor would, fails it.
     */
    @Test
    void theRuleCatchesAConversionThatLosesOneSmallTensor() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        int[][] ids = Tiny.ids(31, 2, 12);
        try (Weights w = Weights.random(c, CPU, 34); Weights low = w.to(DType.BF16);
             LowPrecision.RoundingBackend rounding = new LowPrecision.RoundingBackend(DType.BF16);
             Weights naiveW = Weights.random(c, rounding, 34)) {
            float[][][] ref = new Transformer(w, CPU).logits(ids);
            double allowed = LowPrecision.allowed(LowPrecision.maxErr(new Transformer(naiveW, rounding).logits(ids), ref),
                    LowPrecision.maxAbs(ref));
            assertTrue(LowPrecision.maxErr(new Transformer(low, CPU).logits(ids), ref) <= allowed);
            low.decoder.finalNorm().bias().fill(0f);
            double broken = LowPrecision.maxErr(new Transformer(low, CPU).logits(ids), ref);
            assertTrue(broken > allowed, "a lost final-norm shift gives " + broken + ", within the allowed " + allowed);
        }
    }

    static Stream<TransformerConfig> decoders() {
        return Stream.of(Tiny.decoderOnly(Tiny.encDec().build(), false), Tiny.decoderOnly(Tiny.t5ish().build(), true), Tiny.ropeDecoder());
    }

    static Stream<TransformerConfig> encoderDecoders() {
        return Stream.of(Tiny.t5ish().build(), Tiny.encDec().build().withSteps(true, false, false, false));
    }

    /** 48 steps: three of the cache's 16-row blocks. */
    static final int STEPS = 48;

    /**
     * Cached BF16 decoding against full BF16 recomputation: the two round differently (split-KV decode and
     * per-chunk K/V against one-pass attention), so each must meet the rule against the fp32 model, and
     * they may differ from each other by the two allowances together.
     */
    static void checkCached(String what, float[][] cached, float[][] full, float[][] ref, float[][] naive) {
        double allowed = LowPrecision.allowed(LowPrecision.maxErr(naive, ref), Tiny.maxAbs(ref));
        double fullErr = LowPrecision.maxErr(full, ref), cachedErr = LowPrecision.maxErr(cached, ref);
        double apart = LowPrecision.maxErr(cached, full);
        assertTrue(fullErr <= allowed, what + ": full BF16 recomputation errs by " + fullErr + " > " + allowed);
        assertTrue(cachedErr <= allowed, what + ": cached BF16 decoding errs by " + cachedErr + " > " + allowed);
        assertTrue(apart <= 2 * allowed, what + ": cached and full BF16 differ by " + apart + " > " + 2 * allowed);
        assertTrue(apart > 0, what + ": the two BF16 paths agree bit for bit, as if neither rounded");
    }

    @ParameterizedTest
    @MethodSource("decoders")
    void bf16CachedDecodingMatchesFullRecomputation(TransformerConfig c) {
        try (Weights w = Weights.random(c, CPU, 41); Weights low = w.to(DType.BF16);
             LowPrecision.RoundingBackend rounding = new LowPrecision.RoundingBackend(DType.BF16);
             Weights naiveW = Weights.random(c, rounding, 41)) {
            int prefix = c.prefixLm() ? 5 : 1;
            int[][] seq = Tiny.ids(42, 1, prefix + STEPS);
            int[] pre = c.prefixLm() ? new int[] {prefix} : null;
            Transformer m = new Transformer(low, CPU);
            float[][] ref = new Transformer(w, CPU).logits(seq, pre)[0];
            float[][] naive = new Transformer(naiveW, rounding).logits(seq, pre)[0];
            float[][] full = m.logits(seq, pre)[0];
            float[][] cached = new float[prefix + STEPS][];
            try (KvState st = m.newState(1, prefix + STEPS)) {
                float[][] first = m.prefill(st, 0, Arrays.copyOf(seq[0], prefix));
                System.arraycopy(first, 0, cached, 0, prefix);
                for (int t = prefix; t < prefix + STEPS; t++) cached[t] = m.step(st, new int[] {seq[0][t]})[0];
            }
            checkCached(c.architecture() + (c.gatedMlp() ? " (T5-like)" : ""), cached, full, ref, naive);
        }
    }

    @ParameterizedTest
    @MethodSource("encoderDecoders")
    void bf16CachedEncoderDecoderDecodingMatchesFullRecomputation(TransformerConfig c) {
        try (Weights w = Weights.random(c, CPU, 43); Weights low = w.to(DType.BF16);
             LowPrecision.RoundingBackend rounding = new LowPrecision.RoundingBackend(DType.BF16);
             Weights naiveW = Weights.random(c, rounding, 43)) {
            int[][] input = Tiny.ids(44, 1, 9), target = Tiny.ids(45, 1, STEPS);
            Transformer m = new Transformer(low, CPU);
            float[][] ref = new Transformer(w, CPU).logits(input, target)[0];
            float[][] naive = new Transformer(naiveW, rounding).logits(input, target)[0];
            float[][] full = m.logits(input, target)[0];
            float[][] cached = new float[STEPS][];
            try (KvState st = m.newState(input, STEPS)) {
                for (int t = 0; t < STEPS; t++) cached[t] = m.step(st, new int[] {target[0][t]})[0];
            }
            checkCached("encoder-decoder" + (c.shareCrossAndSelfAttention() ? " (step 1)" : ""), cached, full, ref, naive);
        }
    }

    /** Greedy generation on BF16 logits kept on the backend: each token is the argmax of its row (teacher-forced replay). */
    @Test
    void bf16GreedyGenerationPicksEachRowsArgmax() {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().build(), false);
        try (Weights w = Weights.random(c, CPU, 46); Weights low = w.to(DType.BF16)) {
            Transformer m = new Transformer(low, CPU);
            int[] prompt = Tiny.ids(47, 1, 6)[0];
            int[] out = new Generator(m).generate(prompt, Generator.Options.greedy(20), null);
            assertEquals(20, out.length);
            try (KvState st = m.newState(1, prompt.length + out.length)) {
                float[][] p = m.prefill(st, 0, prompt);
                float[] row = p[p.length - 1];
                for (int i = 0; i < out.length; i++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (float v : row) max = Math.max(max, v);
                    // a BF16 step (2^-7 relative) of slack: the replay may round one logit the other way
                    assertTrue(row[out[i]] >= max - Math.abs(max) * 0x1p-7, "token " + i + " = " + out[i] + " has logit "
                            + row[out[i]] + ", the row's max is " + max);
                    row = m.step(st, new int[] {out[i]})[0];
                }
            }
        }
    }

    /** Every tensor rounded once to nearest even (relative-bias tables kept F32 and exact), sharing kept, the original intact. */
    @Test
    void conversionRoundsEachTensorOnceAndKeepsTheStructure() {
        for (TransformerConfig c : List.of(Tiny.t5ish().build(), Tiny.encDec().build().withSteps(true, true, true, true))) {
            Weights w = Weights.random(c, CPU, 48);
            int[][] input = Tiny.ids(49, 1, 7), target = Tiny.ids(50, 1, 4);
            float[][][] before = new Transformer(w, CPU).logits(input, target);
            Map<String, float[]> values = new LinkedHashMap<>();
            w.parameters().forEach((k, t) -> values.put(k, t.toFloatArray()));
            for (DType dt : List.of(DType.BF16, DType.F16)) {
                try (Weights low = w.to(dt); Weights back = low.to(DType.F32)) {
                    assertEquals(w.parameters().keySet(), low.parameters().keySet());
                    assertEquals(w.parameterCount(), low.parameterCount());
                    for (Map.Entry<String, Tensor> e : w.parameters().entrySet()) {
                        String k = e.getKey();
                        boolean table = k.endsWith(".relative_bias");
                        Tensor t = low.parameters().get(k);
                        assertEquals(table ? DType.F32 : dt, t.dtype(), k);
                        float[] a = e.getValue().toFloatArray(), b = t.toFloatArray(), r = back.parameters().get(k).toFloatArray();
                        for (int i = 0; i < a.length; i++) {
                            float want = table ? a[i] : LowPrecision.round(dt, a[i]);
                            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(b[i]), k + "[" + i + "] of " + a[i]);
                        }
                        assertTrue(Arrays.equals(b, r), k + ": back to F32 is exact");
                    }
                    if (c.tiedEmbeddings()) assertSame(low.embeddings.tokens(), low.outputMatrix(), "the tied output matrix stays the table");
                    if (c.shareEncoderDecoderParams()) assertSame(low.encoder, low.decoder, "one shared stack stays one");
                    if (c.shareEncoderDecoderParams()) assertSame(low.encoder.layers().get(0).self().q(), low.decoder.layers().get(0).self().q());
                }
            }
            w.parameters().forEach((k, t) -> assertTrue(Arrays.equals(values.get(k), t.toFloatArray()),
                    k + " of the original is unchanged by converting and closing copies"));
            // the copy owns its tensors: it outlives the original
            Weights low = w.to(DType.BF16);
            w.close();
            try (low) {
                assertTrue(LowPrecision.maxErr(new Transformer(low, CPU).logits(input, target), before) < 0.1 * LowPrecision.maxAbs(before));
            }
        }
    }

    @Test
    void aViewConvertsToAModelOfTheViewsConfig() {
        TransformerConfig ed = Tiny.encDec().build().withSteps(true, true, true, true);
        try (Weights w = Weights.random(ed, CPU, 51); Weights view = w.viewAs(Tiny.decoderOnly(ed, false)).to(DType.BF16)) {
            assertEquals(Tiny.decoderOnly(ed, false), view.config);
            int[][] ids = Tiny.ids(52, 1, 10);
            float[][][] ref = new Transformer(w.viewAs(Tiny.decoderOnly(ed, false)), CPU).logits(ids);
            assertTrue(LowPrecision.maxErr(new Transformer(view, CPU).logits(ids), ref) < 0.05 * LowPrecision.maxAbs(ref));
        }
    }

    @Test
    void pretrainedFoldersLoadInTheChosenDType(@TempDir Path dir) throws Exception {
        TransformerConfig gpt2 = Tiny.decoderOnly(Tiny.encDec().specialIds(new TransformerConfig.SpecialIds(-1, 99, 99, -1, -1)).build(), false);
        TransformerConfig t5 = Tiny.t5ish().heads(2, 2, 32).specialIds(new TransformerConfig.SpecialIds(0, -1, 1, 0, -1))
                .t5RelativePositions(32, 128).build();
        for (TransformerConfig c : List.of(gpt2, t5)) {
            Path d = Files.createDirectories(dir.resolve(c.architecture().name()));
            try (Weights w = Weights.random(c, CPU, 53)) {
                if (c == gpt2) PretrainedTest.gpt2Folder(w, d);
                else PretrainedTest.t5Folder(w, d);
                try (Weights loaded = Pretrained.load(d, CPU, DType.BF16); Weights converted = w.to(DType.BF16)) {
                    assertEquals(DType.BF16, loaded.dtype());
                    assertEquals(converted.parameters().keySet(), loaded.parameters().keySet());
                    for (String k : converted.parameters().keySet()) {
                        Tensor a = converted.parameters().get(k), b = loaded.parameters().get(k);
                        assertEquals(a.dtype(), b.dtype(), k);
                        assertTrue(Arrays.equals(a.toFloatArray(), b.toFloatArray()), k + ": rounded once from the stored F32");
                    }
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pretrained.load(d, CPU, DType.I32));
            assertTrue(e.getMessage().contains("I32"), e.getMessage());
        }
    }

    /**
     * The families added on 2026-12-05 load and run in BF16 and F16 (MPNet's bias table stays F32, ELECTRA's projection
     * and EmbeddingGemma's bidirectional pass take the low dtype): the hidden state within 5% of max|fp32| and not the
     * fp32 bits (it rounded).
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"mpnet", "electra", "camembert-seqcls", "embeddinggemma", "deberta-v3-seqcls",
            "deberta-v2-tokcls"})
    void newFamiliesRunInLowPrecision(String name) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        var in = f.ref().get("inputs");
        int[][] ids = f.ids("input_ids");
        int[][] types = in.has("token_type_ids") ? f.ids("token_type_ids") : null, mask = in.has("attention_mask") ? f.ids("attention_mask") : null;
        java.util.function.Function<Transformer, float[][][]> run = m -> m.config.architecture() == TransformerConfig.Architecture.DECODER_ONLY
                ? m.lastHiddenStates(Arrays.asList(ids)).toArray(float[][][]::new) : m.encode(ids, types, mask);
        float[][][] ref;
        try (Weights w = Pretrained.load(f.dir(), CPU)) {
            ref = run.apply(new Transformer(w, CPU));
        }
        for (DType dt : List.of(DType.BF16, DType.F16)) {
            try (Weights w = Pretrained.load(f.dir(), CPU, dt)) {
                assertEquals(dt, w.dtype());
                if (w.encoder != null && w.encoder.relativeBias() != null) assertEquals(DType.F32, w.encoder.relativeBias().dtype());
                float[][][] got = run.apply(new Transformer(w, CPU));
                double err = LowPrecision.maxErr(got, ref), max = LowPrecision.maxAbs(ref);
                assertTrue(err <= 0.05 * max, name + " in " + dt + ": max error " + err + " > 5% of " + max);
                assertTrue(err > 1e-6 * max, name + " in " + dt + ": the fp32 bits, as if it had not rounded");
            }
        }
    }

    /**
     * DeBERTa's per-layer positional projections are made from the weights they are built with: a copy in BF16
     * ({@link Weights#to}) makes them again from its rounded tensors, so it runs as the folder loaded in BF16 does, to the bit
     * (the F32 projections rounded would not).
     */
    @Test
    void debertaCopiesRecomputeTheirPositionalProjections() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("deberta-v2-tokcls");
        int[][] ids = f.ids("input_ids"), types = f.ids("token_type_ids"), mask = f.ids("attention_mask");
        try (Weights w32 = Pretrained.load(f.dir(), CPU); Weights copy = w32.to(DType.BF16); Weights direct = Pretrained.load(f.dir(), CPU, DType.BF16)) {
            assertEquals(DType.BF16, copy.encoder.relative().keys().get(0).dtype());
            float[][][] a = new Transformer(copy, CPU).encode(ids, types, mask), b = new Transformer(direct, CPU).encode(ids, types, mask);
            for (int r = 0; r < a.length; r++) for (int t = 0; t < a[r].length; t++) assertArrayEquals(b[r][t], a[r][t], 0f, "row " + r + " token " + t);
        }
    }

    @Test
    void nonFloatingDTypesAreRefused() {
        try (Weights w = Weights.random(Tiny.decoderOnly(Tiny.encDec().build(), false), CPU, 54)) {
            for (DType bad : new DType[] {DType.I32, DType.I64, null}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.to(bad));
                assertTrue(e.getMessage().contains("F32, F16 or BF16") && e.getMessage().contains(String.valueOf(bad)), e.getMessage());
            }
        }
    }
}
