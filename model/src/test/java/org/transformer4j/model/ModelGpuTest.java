// ModelGpuTest — the model layer on the CUDA backend: in fp32 the same forward passes, cached decoding
// and generation as on the CPU, compared with the CPU twin; in BF16 every architecture, cached decoding
// and the Hugging Face golden folders under the design's tolerance rule, with the CPU twin in BF16 as
// the naive low-precision run. Skips with the reason where no GPU is usable.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.cuda.CudaBackend;

@Tag("gpu")
class ModelGpuTest {

    /** The design's fp32 rule: ‖out − ref‖ / ‖ref‖ under 1e-5. */
    static final double REL = 1e-5;

    static CudaBackend gpu() {
        Backends.CudaStatus status = Backends.cudaStatus();
        // -Dt4j.test.requireGpu=true (ci/gpu-check sets it): an unusable GPU fails the test instead of skipping it
        if (Boolean.getBoolean("t4j.test.requireGpu")) assertTrue(status.usable(), () -> "no usable GPU (-Dt4j.test.requireGpu=true): " + status.reason());
        assumeTrue(status.usable(), () -> "no usable GPU: " + status.reason());
        return CudaBackend.create(0);
    }

    static double relErr(float[][] out, float[][] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                num += Math.pow(out[i][j] - ref[i][j], 2);
                den += Math.pow(ref[i][j], 2);
            }
        }
        return Math.sqrt(num / den);
    }

    @Test
    void fourStepsCachedDecodingAndGenerationMatchTheCpu() {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            for (TransformerConfig.Builder family : new TransformerConfig.Builder[] {Tiny.encDec(), Tiny.t5ish()}) {
                TransformerConfig ed = family.build().withSteps(true, true, true, true);
                try (Weights wg = Weights.random(ed, cuda, 81); Weights wc = Weights.random(ed, cpu, 81)) {
                    int[][] in = Tiny.ids(82, 2, 7), tg = Tiny.ids(83, 2, 5);
                    float[][][] g = new Transformer(wg, cuda).logits(in, tg);
                    float[][][] c = new Transformer(wc, cpu).logits(in, tg);
                    float[][][] gpt = new Transformer(wg.viewAs(Tiny.decoderOnly(ed, false)), cuda).logits(Tiny.concat(in, tg));
                    for (int b = 0; b < 2; b++) {
                        assertTrue(relErr(g[b], c[b]) <= REL, "CUDA vs CPU " + relErr(g[b], c[b]));
                        float[][] tail = java.util.Arrays.copyOfRange(gpt[b], 7, 12);
                        assertTrue(relErr(g[b], tail) <= REL, "all four steps vs decoder-only on CUDA " + relErr(g[b], tail));
                    }
                }
                TransformerConfig dec = Tiny.decoderOnly(family.build(), false);
                try (Weights w = Weights.random(dec, cuda, 84)) {
                    Transformer m = new Transformer(w, cuda);
                    int[] seq = Tiny.ids(85, 1, 65)[0];
                    float[][] full = m.logits(new int[][] {seq})[0];
                    try (KvState st = m.newState(1, 65)) {
                        m.prefill(st, 0, new int[] {seq[0]});
                        for (int t = 1; t < 65; t++) {
                            float[][] step = m.step(st, new int[] {seq[t]});
                            assertTrue(relErr(step, new float[][] {full[t]}) <= REL, "step " + t);
                        }
                        assertTrue(st.decodeGraphed(), "steps replay a CUDA graph: " + st.decodeGraphFailure());
                    }
                    try (Weights wc = Weights.random(dec, cpu, 84)) {
                        int[] p = Tiny.ids(86, 1, 9)[0];
                        assertArrayEquals(new Generator(new Transformer(wc, cpu)).generate(p, Generator.Options.greedy(16), null),
                                new Generator(m).generate(p, Generator.Options.greedy(16), null));
                    }
                }
            }
        }
    }

    /**
     * The captured decode step on CUDA against the CPU twin, for batches of sequences at different
     * positions: decoder-only (learned positions, device-resident per sequence) and encoder-decoders
     * with cross-attention over packed memories of different lengths (frozen offsets) and with the
     * memory in the self-attention cache (step 1); graph replays equal op-by-op CUDA steps.
     */
    @Test
    void capturedDecodeStepsMatchTheCpuAndOpByOpSteps() {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            TransformerConfig[] configs = {Tiny.decoderOnly(Tiny.encDec().build(), false), Tiny.encDec().build(),
                    Tiny.t5ish().build().withSteps(true, false, false, false), Tiny.ropeDecoder()};
            for (TransformerConfig c : configs) {
                try (Weights wg = Weights.random(c, cuda, 91); Weights wc = Weights.random(c, cpu, 91)) {
                    float[][][] graphed = KvCacheTest.steps(new Transformer(wg, cuda), c, 40, true);
                    float[][][] eager = KvCacheTest.steps(new Transformer(wg, cuda).decodeGraphs(false), c, 40, false);
                    float[][][] twin = KvCacheTest.steps(new Transformer(wc, cpu), c, 40, true);
                    for (int t = 0; t < graphed.length; t++) {
                        assertTrue(relErr(graphed[t], twin[t]) <= REL, c.architecture() + " step " + t + " vs CPU: " + relErr(graphed[t], twin[t]));
                        assertTrue(relErr(graphed[t], eager[t]) <= 1e-6, c.architecture() + " step " + t + " graph vs op by op");
                    }
                }
            }
        }
    }

    /**
     * BF16 on CUDA against the fp32 CPU model: each output's max error at most 2× the CPU twin's in BF16 (the
     * same weights, rounded the same way) plus the small absolute term — DTypeTest's cases, every architecture.
     */
    @Test
    void bf16ForwardPassesFollowTheToleranceRuleAgainstTheCpuTwin() {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            for (DTypeTest.Case c : DTypeTest.cases().toList()) {
                try (Weights ref = Weights.random(c.config(), cpu, 34, c.classes()); Weights twin = ref.to(DType.BF16);
                     Weights onGpu = Weights.random(c.config(), cuda, 34, c.classes()); Weights bf16 = onGpu.to(DType.BF16)) {
                    Map<String, float[][][]> want = c.run().apply(new Transformer(ref, cpu));
                    Map<String, float[][][]> naive = c.run().apply(new Transformer(twin, cpu));
                    Map<String, float[][][]> got = c.run().apply(new Transformer(bf16, cuda));
                    for (String out : want.keySet()) {
                        double err = LowPrecision.maxErr(got.get(out), want.get(out));
                        double twinErr = LowPrecision.maxErr(naive.get(out), want.get(out));
                        double allowed = LowPrecision.allowed(twinErr, LowPrecision.maxAbs(want.get(out)));
                        assertTrue(err <= allowed, c + " " + out + ": CUDA BF16 errs by " + err + ", the CPU twin by " + twinErr);
                    }
                }
            }
        }
    }

    /** Cached BF16 decoding on CUDA against full BF16 recomputation on CUDA, both under the rule (DTypeTest.checkCached). */
    @Test
    void bf16CachedDecodingMatchesFullRecomputation() {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            int steps = DTypeTest.STEPS;
            for (TransformerConfig c : DTypeTest.decoders().toList()) {
                try (Weights ref = Weights.random(c, cpu, 41); Weights twin = ref.to(DType.BF16);
                     Weights onGpu = Weights.random(c, cuda, 41); Weights bf16 = onGpu.to(DType.BF16)) {
                    int prefix = c.prefixLm() ? 5 : 1;
                    int[][] seq = Tiny.ids(42, 1, prefix + steps);
                    int[] pre = c.prefixLm() ? new int[] {prefix} : null;
                    Transformer m = new Transformer(bf16, cuda);
                    float[][] cached = new float[prefix + steps][];
                    try (KvState st = m.newState(1, prefix + steps)) {
                        float[][] first = m.prefill(st, 0, Arrays.copyOf(seq[0], prefix));
                        System.arraycopy(first, 0, cached, 0, prefix);
                        for (int t = prefix; t < prefix + steps; t++) cached[t] = m.step(st, new int[] {seq[0][t]})[0];
                    }
                    DTypeTest.checkCached("CUDA " + c.architecture(), cached, m.logits(seq, pre)[0],
                            new Transformer(ref, cpu).logits(seq, pre)[0], new Transformer(twin, cpu).logits(seq, pre)[0]);
                }
            }
            for (TransformerConfig c : DTypeTest.encoderDecoders().toList()) {
                try (Weights ref = Weights.random(c, cpu, 43); Weights twin = ref.to(DType.BF16);
                     Weights onGpu = Weights.random(c, cuda, 43); Weights bf16 = onGpu.to(DType.BF16)) {
                    int[][] input = Tiny.ids(44, 2, 9), target = Tiny.ids(45, 2, steps);
                    input[1] = Arrays.copyOf(input[1], 6);                                      // memories of different lengths
                    Transformer m = new Transformer(bf16, cuda);
                    float[][][] cached = new float[2][steps][];
                    try (KvState st = m.newState(input, steps)) {
                        for (int t = 0; t < steps; t++) {
                            float[][] l = m.step(st, new int[] {target[0][t], target[1][t]});
                            cached[0][t] = l[0];
                            cached[1][t] = l[1];
                        }
                    }
                    for (int b = 0; b < 2; b++) {
                        int[][] in = {input[b]}, tg = {target[b]};
                        DTypeTest.checkCached("CUDA encoder-decoder row " + b, cached[b], m.logits(in, tg)[0],
                                new Transformer(ref, cpu).logits(in, tg)[0], new Transformer(twin, cpu).logits(in, tg)[0]);
                    }
                }
            }
        }
    }

    /**
     * Beam search on CUDA in fp32 (KvState.reorder's shared blocks and block copies on the device, T5's cross-attention memory
     * copied per beam): the harness's beam runs (ci/reference/beam.py) give the same hypotheses in the same order, and scores
     * within the fp32 bound, as ReferenceFixturesTest.beamSearchMatchesTheReference asks of the CPU backend.
     */
    @Test
    void beamSearchOnCudaMatchesTheReferenceRuns() throws Exception {
        try (CudaBackend cuda = gpu()) {
            for (String name : List.of("t5-v1_0", "qwen2", "bart", "marian", "m2m100")) ReferenceFixturesTest.beamRunsMatch(name, cuda);
        }
    }

    /**
     * The float64 harness's RoPE decoder folders on CUDA in fp32 (the rope kernel's tables, dynamic NTK,
     * yarn's and LongRoPE's attention factor, LongRoPE's per-length table, Gemma 2's soft-capped attention
     * and logits and extra norms, Gemma 3's RoPE per layer type): logits within the fp32 rule of the CPU's, and LongRoPE through the
     * cache (prompt 10, steps past the original 16, replayed from the captured decode step) against the
     * reference's cached_logits.
     */
    @Test
    void ropeDecoderFoldersMatchTheCpuInFp32() throws Exception {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            for (String name : List.of("llama", "llama-rope-dynamic", "llama-rope-llama3", "qwen2-yarn", "llama-rope-yarn-v5",
                    "phi3-longrope", "qwen3", "gemma", "gemma2", "gemma3-text", "granite", "smollm3", "olmo", "olmo2", "olmo3", "mixtral", "mixtral-v5",
                    "qwen2-moe", "qwen3-moe", "olmoe", "gpt-oss", "gpt-oss-v5", "qwen3-fp8", "llama-fp8-dynamic", "mistral-fp8-static", "qwen2-awq", "llama-gptq", "qwen2-gptq-int8", "gemma3-fp8-dynamic",
                    "gpt-neox", "gpt-neox-sequential-v5", "phi", "stablelm", "stablelm-parallel", "starcoder2", "opt", "opt-350m", "gptj", "codegen", "gpt-bigcode", "falcon", "falcon-new", "bloom", "mpt", "falcon-rw", "gpt-neo", "gpt-neo-local-first", "cohere", "cohere2", "glm", "glm4", "exaone4", "ernie4_5", "seed-oss", "deepseek-v2-lite", "deepseek-v2", "deepseek-v3", "glm4-moe", "nemotron", "ernie4_5-moe", "granitemoe", "granitemoeshared", "arcee", "dots1")) {
                ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
                try (Weights wc = Pretrained.load(f.dir(), cpu); Weights wg = Pretrained.load(f.dir(), cuda)) {
                    int[][] in = f.ids("input_ids");
                    float[][][] c = new Transformer(wc, cpu).logits(in), g = new Transformer(wg, cuda).logits(in);
                    for (int b = 0; b < in.length; b++) {
                        double e = relErr(g[b], c[b]);
                        assertTrue(e < REL, name + " row " + b + ": CUDA vs CPU logits rel err " + e);
                    }
                    if (f.ref().get("inputs").has("cached_prompt")) {
                        int prompt = f.ref().get("inputs").get("cached_prompt").intValue(), n = f.ref().get("inputs").get("cached_tokens").intValue();
                        int[] seq = Arrays.copyOf(in[0], n);
                        Transformer m = new Transformer(wg, cuda);
                        float[][] got = new float[n][];
                        try (KvState st = m.newState(1, n)) {
                            System.arraycopy(m.prefill(st, 0, Arrays.copyOf(seq, prompt)), 0, got, 0, prompt);
                            for (int t = prompt; t < n; t++) got[t] = m.step(st, new int[] {seq[t]})[0];
                        }
                        f.near("cached_logits", new float[][][] {got});
                    }
                }
            }
        }
    }

    /**
     * The ModernBERT folders on CUDA in fp32 (rotary encoder, a bidirectional window on the local layer, the padded row run
     * unpadded through packed attention; the masked-LM head and the mean-pooled classifier): within the fp32 rule of the
     * CPU's outputs.
     */
    @Test
    void modernBertFoldersMatchTheCpuInFp32() throws Exception {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            for (String name : List.of("modernbert", "modernbert-mlm", "modernbert-seqcls")) {
                ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
                try (Weights wc = Pretrained.load(f.dir(), cpu); Weights wg = Pretrained.load(f.dir(), cuda)) {
                    int[][] in = f.ids("input_ids"), mask = f.ids("attention_mask");
                    Transformer mc = new Transformer(wc, cpu), mg = new Transformer(wg, cuda);
                    float[][][] c = mc.encode(in, null, mask), g = mg.encode(in, null, mask);
                    for (int b = 0; b < in.length; b++) {
                        double e = relErr(g[b], c[b]);
                        assertTrue(e < REL, name + " row " + b + ": CUDA vs CPU hidden state rel err " + e);
                    }
                    if (name.endsWith("-mlm")) {
                        float[][][] lc = mc.maskedLmLogits(in, null, mask), lg = mg.maskedLmLogits(in, null, mask);
                        for (int b = 0; b < in.length; b++) assertTrue(relErr(lg[b], lc[b]) < REL, name + " logits row " + b);
                    }
                    if (name.endsWith("-seqcls")) {
                        assertTrue(relErr(mg.classify(in, null, mask), mc.classify(in, null, mask)) < REL, name + " classify");
                    }
                }
            }
        }
    }

    /**
     * The BART family on CUDA in fp32 (per-stack position tables, the embedding norm of pre-LN mBART, final_logits_bias in the
     * logits GEMM's epilogue, post-LN cross-attention decoders, the cached decode step with its cross K/V) against the float64
     * reference, as Seq2SeqFixturesTest asks of the CPU backend; bart-large-mnli's classifier too.
     */
    @Test
    void bartFamilyMatchesTheReferenceOnCuda() throws Exception {
        try (CudaBackend cuda = gpu()) {
            for (String name : List.of("bart", "mbart", "marian", "pegasus", "m2m100")) Seq2SeqFixturesTest.matches(name, cuda);
            Seq2SeqFixturesTest.classifierMatches(cuda);
        }
    }

    /**
     * MPNet's folders on CUDA (learned positions and the relative bias of T5's buckets beside the 1/sqrt(d) scale, in
     * the packed path padded rows take) against the CPU backend in fp32: hidden state, pooled output, masked-LM,
     * sequence and token classification logits.
     */
    @Test
    void mpnetFoldersMatchTheCpuInFp32() throws Exception {
        try (CudaBackend cuda = gpu()) {
            for (String name : List.of("mpnet", "mpnet-mlm", "mpnet-seqcls", "mpnet-tokcls")) encoderFolderMatchesTheCpu(name, cuda);
        }
    }

    /**
     * ELECTRA's folders on CUDA (projected embeddings, token types, padded rows; the gelu classification head, the token
     * classifier) against the CPU backend in fp32.
     */
    @Test
    void electraFoldersMatchTheCpuInFp32() throws Exception {
        try (CudaBackend cuda = gpu()) {
            for (String name : List.of("electra", "electra-seqcls", "electra-tokcls")) encoderFolderMatchesTheCpu(name, cuda);
        }
    }

    /**
     * ALBERT's folders on CUDA (embeddings at embedding_size projected, layers sharing one set of tensors, two groups of two
     * inner layers, the masked-LM head at embedding_size, the tanh pooler's classifier) against the CPU backend in fp32.
     */
    @Test
    void albertFoldersMatchTheCpuInFp32() throws Exception {
        try (CudaBackend cuda = gpu()) {
            for (String name : List.of("albert", "albert-groups", "albert-mlm", "albert-seqcls")) encoderFolderMatchesTheCpu(name, cuda);
        }
    }

    /**
     * DeBERTa on CUDA (ABI 10, never run on a GPU before this test): the three folders in fp32 (the c2p / p2c GEMMs on
     * cuBLAS, t4j_attn_rows_dis_f32) against the CPU backend; and head size 64, every published DeBERTa-v2/v3's, on the
     * tensor-core instances (t4j_attn_mma_dis_{bf16,f16}_hs64) with v3-base's buckets over 300-token rows, against fp32
     * under the design's rule (the CPU's naive-rounding twin sets the allowance).
     */
    @Test
    void debertaRunsOnCudaInFp32AndOnTensorCores() throws Exception {
        try (CudaBackend cuda = gpu()) {
            for (String name : List.of("deberta-v3", "deberta-v3-seqcls", "deberta-v2-tokcls")) encoderFolderMatchesTheCpu(name, cuda);
            TransformerConfig c = TransformerConfig.builder().vocabSize(Tiny.V).widths(128, 256, 2).encoderLayers(2)
                    .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-7f)
                    .activation(TransformerConfig.Activation.GELU, false).attentionScale((float) (1 / Math.sqrt(3 * 64.0)))
                    .disentangled(new TransformerConfig.Disentangled(256, 256, 512, true, true, true, true))
                    .biases(true).tiedEmbeddings(true, 1f).build();
            CpuBackend cpu = new CpuBackend();
            int[][] ids = Tiny.ids(47, 2, 300);
            for (DType dt : List.of(DType.BF16, DType.F16)) {
                try (Weights ref = Weights.random(c, cpu, 48); Weights twin = ref.to(dt); Weights onGpu = Weights.random(c, cuda, 48);
                     Weights low = onGpu.to(dt)) {
                    float[][][] want = new Transformer(ref, cpu).encode(ids, null, null);
                    float[][][] naive = new Transformer(twin, cpu).encode(ids, null, null);
                    float[][][] got = new Transformer(low, cuda).encode(ids, null, null);
                    double err = LowPrecision.maxErr(got, want), allowed = LowPrecision.allowed(LowPrecision.maxErr(naive, want),
                            LowPrecision.maxAbs(want));
                    assertTrue(err <= allowed, "DeBERTa HS 64 " + dt + " on tensor cores: max error " + err + " > allowed " + allowed);
                }
            }
        }
    }

    /** An encoder fixture on CUDA against the CPU in fp32: the hidden state, and every head the folder loads. */
    private static void encoderFolderMatchesTheCpu(String name, CudaBackend cuda) throws Exception {
        CpuBackend cpu = new CpuBackend();
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        try (Weights wc = Pretrained.load(f.dir(), cpu); Weights wg = Pretrained.load(f.dir(), cuda)) {
            var inputs = f.ref().get("inputs");
            int[][] in = f.ids("input_ids"), mask = f.ids("attention_mask");
            int[][] types = inputs.has("token_type_ids") ? f.ids("token_type_ids") : null;
            Transformer mc = new Transformer(wc, cpu), mg = new Transformer(wg, cuda);
            float[][][] c = mc.encode(in, types, mask), g = mg.encode(in, types, mask);
            for (int b = 0; b < in.length; b++) {
                double e = relErr(g[b], c[b]);
                assertTrue(e < REL, name + " row " + b + ": CUDA vs CPU hidden state rel err " + e);
            }
            if (wc.classifierHead != null && wc.classifierHead.classifier() == null) {
                assertTrue(relErr(mg.pooledOutput(in, types, mask), mc.pooledOutput(in, types, mask)) < REL, name + " pooled");
            }
            if (wc.classifierHead != null && wc.classifierHead.classifier() != null) {
                assertTrue(relErr(mg.classify(in, types, mask), mc.classify(in, types, mask)) < REL, name + " classify");
            }
            if (wc.mlmHead != null) {
                float[][][] lc = mc.maskedLmLogits(in, types, mask), lg = mg.maskedLmLogits(in, types, mask);
                for (int b = 0; b < in.length; b++) assertTrue(relErr(lg[b], lc[b]) < REL, name + " logits row " + b);
            }
            if (wc.tokenClassifier != null) {
                float[][][] lc = mc.classifyTokens(in, types, mask), lg = mg.classifyTokens(in, types, mask);
                for (int b = 0; b < in.length; b++) assertTrue(relErr(lg[b], lc[b]) < REL, name + " token logits row " + b);
            }
        }
    }

    /**
     * Decoder-only models as sentence embedders on CUDA: packed last hidden states (the fixture's two rows, the second
     * 5 tokens short; Qwen3's q/k norms, Mistral's window, Gemma 3's per-layer RoPE, EmbeddingGemma's bidirectional
     * attention with its two-sided window) against the CPU backend in fp32.
     */
    @Test
    void decoderLastHiddenStatesMatchTheCpuInFp32() throws Exception {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            for (String name : List.of("qwen3", "mistral", "gemma3-text", "embeddinggemma")) {
                ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
                try (Weights wc = Pretrained.loadEncoder(f.dir(), cpu, DType.F32); Weights wg = Pretrained.loadEncoder(f.dir(), cuda, DType.F32)) {
                    int[][] in = f.ids("input_ids");
                    List<int[]> rows = List.of(in[0], java.util.Arrays.copyOf(in[1], in[1].length - 5));
                    List<float[][]> c = new Transformer(wc, cpu).lastHiddenStates(rows), g = new Transformer(wg, cuda).lastHiddenStates(rows);
                    for (int b = 0; b < rows.size(); b++) {
                        double e = relErr(g.get(b), c.get(b));
                        assertTrue(e < REL, name + " sequence " + b + ": CUDA vs CPU last hidden state rel err " + e);
                    }
                }
            }
        }
    }

    /**
     * GPT-OSS on CUDA (ABI 11: sinks in every attention kernel, the clamped SwiGLU and the experts' biases in the grouped
     * GEMM; never run on a GPU before this test): greedy decoding through the captured decode step (the split-KV decode adds
     * each sink once) as the CPU's in fp32; in BF16 and F16 (tensor-core prefill with sinks, paged prefill) the logits within
     * the design's rule of the CPU twin's error in that dtype against fp32. The fixture's experts are MXFP4: fp32 and F16 decode
     * them at load, BF16 keeps them MXFP4 (ABI 13's MXFP4 grouped GEMM).
     */
    @Test
    void gptOssDecodesOnCudaAsOnTheCpu() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("gpt-oss");
        int[][] in = f.ids("input_ids");
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            try (Weights wc = Pretrained.load(f.dir(), cpu); Weights wg = Pretrained.load(f.dir(), cuda)) {
                f.greedy(new Generator(new Transformer(wg, cuda)));
                float[][][] ref = new Transformer(wc, cpu).logits(in);
                for (DType dt : List.of(DType.BF16, DType.F16)) {
                    try (Weights lc = Pretrained.load(f.dir(), cpu, dt); Weights lg = Pretrained.load(f.dir(), cuda, dt)) {
                        double twin = LowPrecision.maxErr(new Transformer(lc, cpu).logits(in), ref);
                        double err = LowPrecision.maxErr(new Transformer(lg, cuda).logits(in), ref);
                        double allowed = LowPrecision.allowed(twin, LowPrecision.maxAbs(ref));
                        assertTrue(err <= allowed, "gpt-oss " + dt + " on CUDA: max error " + err + ", CPU twin " + twin + ", allowed " + allowed);
                    }
                }
            }
        }
    }

    /**
     * gpt-oss's MXFP4 experts kept as stored on CUDA in BF16 (the default since ABI 13: libt4j's MXFP4 grouped GEMM decodes
     * them per tile; emulated, never run on a GPU before this test): the weights hold the U8 blocks on the device, not a
     * dense stack; the logits equal bit for bit those of the same model with the experts decoded at load
     * ({@code -Dt4j.mxfp4=dequantize}): every MXFP4 value is exact in BF16 and both paths feed the same tiles to the same
     * mma.sync loop, so any difference is a decoding error; and they keep the design's rule against the fp32 CPU reference.
     */
    @Test
    void gptOssKeepsItsMxfp4ExpertsOnCudaInBf16() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("gpt-oss");
        int[][] in = f.ids("input_ids");
        String before = System.getProperty("t4j.mxfp4");
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            float[][][] kept, decoded;
            try (Weights wk = Pretrained.load(f.dir(), cuda, DType.BF16)) {
                Weights.Moe moe = wk.decoder.layers().get(0).mlp().moe();
                assertTrue(moe.upGateQ() != null && moe.upGateRows() == null && moe.upGateQ().blocks().dtype() == DType.U8,
                        "BF16 on CUDA keeps the MXFP4 blocks: " + moe);
                kept = new Transformer(wk, cuda).logits(in);
            }
            System.setProperty("t4j.mxfp4", "dequantize");
            try (Weights wd = Pretrained.load(f.dir(), cuda, DType.BF16)) {
                decoded = new Transformer(wd, cuda).logits(in);
            } finally {
                if (before == null) System.clearProperty("t4j.mxfp4");
                else System.setProperty("t4j.mxfp4", before);
            }
            for (int b = 0; b < kept.length; b++) {
                for (int t = 0; t < kept[b].length; t++) {
                    assertArrayEquals(decoded[b][t], kept[b][t], "logits of row " + b + " position " + t + ": MXFP4 kept vs decoded at load");
                }
            }
            try (Weights wc = Pretrained.load(f.dir(), cpu); Weights lc = Pretrained.load(f.dir(), cpu, DType.BF16)) {
                float[][][] ref = new Transformer(wc, cpu).logits(in);
                double twin = LowPrecision.maxErr(new Transformer(lc, cpu).logits(in), ref);
                double err = LowPrecision.maxErr(kept, ref);
                double allowed = LowPrecision.allowed(twin, LowPrecision.maxAbs(ref));
                assertTrue(err <= allowed, "gpt-oss BF16 with MXFP4 experts on CUDA: max error " + err + ", CPU twin " + twin + ", allowed " + allowed);
            }
        }
    }

    /**
     * AWQ and GPTQ (act-order) folders on CUDA in BF16 keep their projections in 4 bits (the default there, ABI 21: the INT4
     * GEMV for the decode rows, the INT4 tile GEMM for the prompt; emulated, never run on a GPU before this test): the weights
     * hold Int4 codes on the device; the logits keep the design's rule against the fp32 CPU reference (the CPU twin's BF16
     * error, dequantized, sets it), and so do the same folders dequantized at load on CUDA ({@code -Dt4j.quant=dequantize};
     * other kernels, other summation orders: not bit for bit).
     */
    @Test
    void awqAndGptqFoldersKeepFourBitsOnCudaInBf16() throws Exception {
        try (CudaBackend cuda = gpu()) {
            CpuBackend cpu = new CpuBackend();
            for (String name : List.of("qwen2-awq", "llama-gptq")) {
                ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
                int[][] in = f.ids("input_ids");
                try (Weights wc = Pretrained.load(f.dir(), cpu); Weights lc = Pretrained.load(f.dir(), cpu, DType.BF16);
                     Weights packed = Pretrained.load(f.dir(), cuda, DType.BF16);
                     Weights dense = IntQuantTest.withQuant("dequantize", () -> Pretrained.load(f.dir(), cuda, DType.BF16))) {
                    assertTrue(packed.decoder.layers().get(0).self().q4() != null && packed.decoder.layers().get(0).self().q4().codes().isCuda(),
                            name + ": 4-bit projections on the device");
                    assertTrue(dense.packed().isEmpty(), name + ": -Dt4j.quant=dequantize");
                    float[][][] ref = new Transformer(wc, cpu).logits(in);
                    double twin = LowPrecision.maxErr(new Transformer(lc, cpu).logits(in), ref);
                    double allowed = LowPrecision.allowed(twin, LowPrecision.maxAbs(ref));
                    for (Weights w : List.of(packed, dense)) {
                        double err = LowPrecision.maxErr(new Transformer(w, cuda).logits(in), ref);
                        assertTrue(err <= allowed, name + (w == packed ? " packed" : " dequantized") + " BF16 on CUDA: max error " + err
                                + ", CPU twin " + twin + ", allowed " + allowed);
                    }
                }
            }
        }
    }

    /** The Hugging Face golden folders in BF16 on CUDA: at most 2× the CPU twin's BF16 error against the fp32 reference. */
    @Test
    void goldenFoldersInBf16FollowTheToleranceRule() throws Exception {
        try (CudaBackend cuda = gpu()) {
            List<Path> dirs = GoldenFilesTest.folders();
            assumeFalse(dirs.isEmpty(), GoldenFilesTest.NO_FOLDERS);
            for (Path dir : dirs) GoldenFilesTest.lowPrecisionWithinRule(dir, cuda, DType.BF16);
        }
    }
}
