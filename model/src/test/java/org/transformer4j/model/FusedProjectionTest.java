// FusedProjectionTest — issue 19, item 2: projections that share an input are one matrix and one GEMM
// (self-attention [q ; k ; v], cross-attention [k ; v], gated MLPs [up ; gate]), and the results are those
// of the separate projections, bit for bit on the CPU backend.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.Weights.Fusion;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;

/**
 * Bit equality holds where the fused and the separate products take the same GEMM path, which on the CPU
 * they do today: CpuGemm chooses its path by M (rows), transB and SIMD alone, never by N, and computes each
 * output element with the same operations in the same order wherever its column lies (edge panels are
 * zero-padded and run the same micro-kernel). A change that made the path depend on N would fail here.
 * Activations here avoid GELU-tanh, whose Math.tanh the JIT may swap for an intrinsic between two runs
 * (PretrainedTest notes the 5e-7 it causes).
 */
class FusedProjectionTest {

    static final CpuBackend CPU = new CpuBackend();

    /** The configs: every place fusion applies, and the structural steps. */
    static TransformerConfig config(String name) {
        TransformerConfig encDec = Tiny.encDec().activation(TransformerConfig.Activation.GELU, false).build();
        return switch (name) {
            case "gpt2" -> Tiny.decoderOnly(encDec, false);                                          // MHA, biases
            case "llama" -> Tiny.ropeDecoder().toBuilder().qkNorm(false).build();                   // GQA 4/2, q/k/v biases, SiLU gated
            case "t5" -> Tiny.t5ish().activation(TransformerConfig.Activation.GELU, true).build();  // gated, GQA cross-attention
            case "steps13" -> encDec.withSteps(true, false, true, false);                           // memory K/V through self-attention
            case "steps3" -> encDec.withSteps(false, false, true, false);                            // cross K/V from encoder layer i
            case "bert" -> EncoderOnlyAndBadInputTest.bert();
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt2", "llama", "t5", "steps13", "steps3", "bert"})
    void fusedWeightsAreOneMatrixWhoseViewsHoldTheSeparateValues(String name) {
        TransformerConfig c = config(name);
        try (Weights f = Weights.random(c, CPU, 41, 0, Fusion.FUSED); Weights s = Weights.random(c, CPU, 41, 0, Fusion.SEPARATE)) {
            assertEquals(s.parameterCount(), f.parameterCount());
            for (Weights.Stack st : new Weights.Stack[] {f.encoder, f.decoder}) {
                if (st == null) continue;
                for (Weights.Layer l : st.layers()) {
                    Weights.Attention a = l.self();
                    assertNotNull(a.qkv(), "self-attention fused");
                    assertSame(a.qkv().weight().storage(), a.q().storage());
                    assertSame(a.qkv().weight().storage(), a.v().storage());
                    assertEquals(c.innerWidth() + 2L * c.kvHeads() * c.headSize(), a.qkv().weight().shape(0));
                    assertNotNull(a.kv(), "its [k ; v] tail, for memory K/V under step 1");
                    if (l.cross() != null) {
                        assertNull(l.cross().qkv(), "cross-attention: q reads the decoder, k and v the memory");
                        assertNotNull(l.cross().kv());
                    }
                    assertEquals(c.gatedMlp(), l.mlp().upGate() != null);
                }
            }
            Map<String, Tensor> pf = f.parameters();
            assertTrue(pf.keySet().stream().anyMatch(k -> k.endsWith(".qkv")));
            assertTrue(pf.keySet().stream().noneMatch(k -> k.matches(".*\\.self\\.[qkv](\\.bias)?") || k.matches(".*\\.cross\\.[kv](\\.bias)?")),
                    "the parts are views of the fused matrix, not parameters of their own");
            assertTrue(s.parameters().keySet().stream().noneMatch(k -> k.endsWith(".qkv") || k.endsWith(".kv")));
            // the same values, drawn in the same order
            Weights.Layer lf = (f.decoder != null ? f.decoder : f.encoder).layers().get(1);
            Weights.Layer ls = (s.decoder != null ? s.decoder : s.encoder).layers().get(1);
            assertArrayEquals(ls.self().k().toFloatArray(), lf.self().k().toFloatArray());
            assertArrayEquals(ls.self().v().toFloatArray(), lf.self().v().toFloatArray());
            if (c.qkvBias()) assertArrayEquals(ls.self().vb().toFloatArray(), lf.self().vb().toFloatArray());
            if (c.gatedMlp()) assertArrayEquals(ls.mlp().gate().toFloatArray(), lf.mlp().gate().toFloatArray());
            assertArrayEquals(ls.mlp().down().toFloatArray(), lf.mlp().down().toFloatArray());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt2", "llama", "t5", "steps13", "steps3", "bert"})
    void fusedAndSeparateProjectionsGiveTheSameBits(String name) {
        TransformerConfig c = config(name);
        try (Weights f = Weights.random(c, CPU, 43, 0, Fusion.FUSED); Weights s = Weights.random(c, CPU, 43, 0, Fusion.SEPARATE)) {
            Transformer mf = new Transformer(f, CPU), ms = new Transformer(s, CPU);
            int[][] in = Tiny.ids(44, 2, 9), tg = Tiny.ids(45, 2, 5);
            switch (c.architecture()) {
                case DECODER_ONLY -> {
                    assertBits(ms.logits(in), mf.logits(in));
                    assertBits(cached(ms, in[0]), cached(mf, in[0]));
                }
                case ENCODER_DECODER -> {
                    assertBits(ms.encode(in), mf.encode(in));
                    assertBits(ms.logits(in, tg), mf.logits(in, tg));
                    assertBits(cachedEncDec(ms, in, tg), cachedEncDec(mf, in, tg));
                }
                case ENCODER_ONLY -> {
                    assertBits(ms.encode(in), mf.encode(in));
                    List<int[]> seqs = List.of(in[0], java.util.Arrays.copyOf(in[1], 4));
                    List<float[][]> a = ms.encodePacked(seqs), b = mf.encodePacked(seqs);
                    for (int i = 0; i < a.size(); i++) assertBits(new float[][][] {a.get(i)}, new float[][][] {b.get(i)});
                }
                default -> throw new IllegalStateException();
            }
        }
    }

    /** Prefill of 6 tokens (two chunks), then 4 steps, eagerly and from the captured step. */
    private static float[][][] cached(Transformer m, int[] ids) {
        float[][][] out = new float[2][][];
        for (int g = 0; g < 2; g++) {
            m.decodeGraphs(g == 1);
            try (KvState st = m.newState(1, 16)) {
                float[][] rows = new float[6][];
                float[][] a = m.prefill(st, 0, java.util.Arrays.copyOf(ids, 4));
                float[][] b = m.prefill(st, 0, java.util.Arrays.copyOfRange(ids, 4, 6));
                System.arraycopy(a, 0, rows, 0, 4);
                System.arraycopy(b, 0, rows, 4, 2);
                float[][] steps = new float[4][];
                for (int i = 0; i < 4; i++) steps[i] = m.step(st, new int[] {ids[6 + i % 3]})[0];
                out[g] = concatRows(rows, steps);
            }
        }
        return out;
    }

    private static float[][][] cachedEncDec(Transformer m, int[][] in, int[][] tg) {
        m.decodeGraphs(false);
        try (KvState st = m.newState(in, 8)) {
            float[][] rows = new float[in.length][];
            for (int t = 0; t < 3; t++) {
                int[] tok = new int[in.length];
                for (int b = 0; b < in.length; b++) tok[b] = tg[b][t];
                float[][] l = m.step(st, tok);
                for (int b = 0; b < in.length; b++) rows[b] = rows[b] == null ? l[b] : concat(rows[b], l[b]);
            }
            return new float[][][] {rows};
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static float[][] concatRows(float[][] a, float[][] b) {
        float[][] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static void assertBits(float[][][] want, float[][][] got) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i].length, got[i].length);
            for (int r = 0; r < want[i].length; r++) {
                int row = r, item = i;
                assertArrayEquals(want[i][r], got[i][r], 0f, () -> "item " + item + " row " + row);
            }
        }
    }

    // ---- fusion happens: linear launches per layer --------------------------------------------------

    /** A backend that forwards everything to CPU and counts its linear ops. */
    static Backend counting(AtomicInteger linears) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (p, m, args) -> {
            if (m.getName().equals("linear")) linears.incrementAndGet();
            try {
                return m.invoke(CPU, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FUSED", "SEPARATE"})
    void aDecoderLayerRunsFourLinearOpsFusedAndSixApart(Fusion fusion) {
        TransformerConfig c = config("llama");                                         // gated: up and gate are one op either way
        AtomicInteger n = new AtomicInteger();
        Backend b = counting(n);
        int perLayer = fusion == Fusion.FUSED ? 4 : 6;                                  // [qkv | q, k, v], o, gated up, down
        int layers = c.decoderLayers();
        try (Weights w = Weights.random(c, b, 47, 0, fusion)) {
            Transformer m = new Transformer(w, b).decodeGraphs(false);
            n.set(0);
            m.logits(Tiny.ids(48, 1, 7));
            assertEquals(perLayer * layers + 1, n.get(), "full pass: per layer, plus the logits");
            try (KvState st = m.newState(1, 12)) {
                n.set(0);
                m.prefillLast(st, 0, new int[] {3, 4, 5});
                assertEquals(perLayer * layers + 1, n.get(), "prefill");
                n.set(0);
                m.step(st, new int[] {6});
                assertEquals(perLayer * layers + 1, n.get(), "decode step");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FUSED", "SEPARATE"})
    void anEncoderDecoderFusesSelfAttentionAndTheMemoryKv(Fusion fusion) {
        TransformerConfig c = config("t5");
        AtomicInteger n = new AtomicInteger();
        Backend b = counting(n);
        boolean fused = fusion == Fusion.FUSED;
        int enc = c.encoderLayers(), dec = c.decoderLayers();
        try (Weights w = Weights.random(c, b, 49, 0, fusion)) {
            Transformer m = new Transformer(w, b).decodeGraphs(false);
            n.set(0);
            m.encode(Tiny.ids(50, 1, 6));
            int encoderOps = (fused ? 4 : 6) * enc;                                   // [qkv | q, k, v], o, gated up, down
            assertEquals(encoderOps, n.get(), "encoder");
            n.set(0);
            m.logits(Tiny.ids(50, 1, 6), Tiny.ids(51, 1, 3));
            int memory = (fused ? 1 : 2) * dec;                                       // cross [k ; v] from the encoder output
            int decoder = (fused ? 6 : 8) * dec;                                      // + cross q and o
            assertEquals(encoderOps + memory + decoder + 1, n.get(), "encoder, memory K/V, decoder, logits");
        }
    }

    // ---- Hugging Face references: fused by default (ReferenceFixturesTest), and apart here ------------

    /**
     * The reference fixtures (transformers' float64 outputs; ReferenceFixturesTest runs them with the default,
     * fused) loaded with {@code -Dt4j.fuse=false}: the separate projections match too.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt2", "bert", "t5-v1_1", "llama", "phi3"})
    void referenceFixturesMatchWithTheProjectionsApart(String name) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        try (Weights w = loadWith(f.dir(), "false")) {
            Weights.Layer l = (w.decoder != null ? w.decoder : w.encoder).layers().get(0);
            assertNull(l.self().qkv(), name + ": apart");
            assertNull(l.mlp().upGate());
            Transformer m = new Transformer(w, new CpuBackend());
            switch (w.config.architecture()) {
                case DECODER_ONLY -> {
                    f.near("logits", m.logits(f.ids("input_ids")));
                    f.greedy(new Generator(m));
                }
                case ENCODER_ONLY -> f.near("last_hidden_state", m.encode(f.ids("input_ids")));
                default -> {
                    int[][] in = f.ids("input_ids");
                    f.near("logits", m.logits(in, f.ids("decoder_input_ids")));
                    f.greedy(new Generator(m));
                }
            }
        }
    }

    /**
     * A mapped checkpoint on the CPU, computed in the dtype it stores (these folders store BF16, as Phi-3 and Llama
     * publish): what the checkpoint stores fused (Phi-3's qkv_proj, gate_up_proj) stays a view of the file; separate
     * q/k/v (Llama) become one copied matrix, the rest stays mapped.
     */
    @Test
    void aMappedCheckpointKeepsItsFusedTensorsInPlaceAndCopiesOnlyWhatItConcatenates() throws Exception {
        try (Weights phi = loadWith(ReferenceFixturesTest.Fixture.open("phi3").dir(), "true", DType.BF16);
             Weights llama = loadWith(ReferenceFixturesTest.Fixture.open("llama").dir(), "true", DType.BF16)) {
            Weights.Layer p = phi.decoder.layers().get(0), l = llama.decoder.layers().get(0);
            assertTrue(org.transformer4j.runtime.Uploader.isView(p.self().qkv().weight()), "phi3 qkv_proj: in place");
            assertTrue(org.transformer4j.runtime.Uploader.isView(p.mlp().upGate().weight()), "phi3 gate_up_proj: in place");
            assertTrue(!org.transformer4j.runtime.Uploader.isView(l.self().qkv().weight()), "llama: q, k, v concatenated (a copy)");
            assertTrue(org.transformer4j.runtime.Uploader.isView(l.self().o()), "llama o_proj: in place");
            assertTrue(org.transformer4j.runtime.Uploader.isView(l.mlp().down()), "llama down_proj: in place");
        }
        for (String name : List.of("gpt2", "bert", "t5-v1_1", "qwen2", "gemma")) {              // every loader fuses by default
            try (Weights w = loadWith(ReferenceFixturesTest.Fixture.open(name).dir(), "true")) {
                Weights.Layer l = (w.decoder != null ? w.decoder : w.encoder).layers().get(0);
                assertNotNull(l.self().qkv(), name + ": QKV fused");
                assertEquals(w.config.gatedMlp(), l.mlp().upGate() != null, name + ": gate and up fused");
                if (l.cross() != null) assertNotNull(l.cross().kv(), name + ": cross-attention K/V fused");
            }
        }
    }

    private static Weights loadWith(java.nio.file.Path dir, String fuse) throws Exception {
        return loadWith(dir, fuse, DType.F32);
    }

    private static Weights loadWith(java.nio.file.Path dir, String fuse, DType dtype) throws Exception {
        String before = System.getProperty("t4j.fuse");
        System.setProperty("t4j.fuse", fuse);
        try {
            return Pretrained.load(dir, new CpuBackend(), dtype);
        } finally {
            if (before == null) System.clearProperty("t4j.fuse");
            else System.setProperty("t4j.fuse", before);
        }
    }

    // ---- the gated op over [up ; gate] fused: one product on the CPU twin -------------------------

    @Test
    void theGatedOpOnFusedHalvesEqualsItOnSeparateMatrices() {
        int m = 5, k = 48, nn = 32;
        java.util.SplittableRandom r = new java.util.SplittableRandom(51);
        float[] wv = new float[2 * nn * k], bv = new float[2 * nn], xv = new float[m * k], rv = new float[m * nn];
        for (float[] a : new float[][] {wv, bv, xv, rv}) for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        try (Tensor both = Tensor.ofFloats(wv, 2 * nn, k); Tensor bias = Tensor.ofFloats(bv, 2 * nn);
             Tensor up = Tensor.ofFloats(java.util.Arrays.copyOf(wv, nn * k), nn, k);
             Tensor gate = Tensor.ofFloats(java.util.Arrays.copyOfRange(wv, nn * k, 2 * nn * k), nn, k);
             Tensor x = Tensor.ofFloats(xv, m, k); Tensor res = Tensor.ofFloats(rv, m, nn);
             Tensor o1 = Tensor.empty(DType.F32, m, nn);
             Tensor o2 = Tensor.empty(DType.F32, m, nn)) {
            Tensor upView = both.slice(0, 0, nn), gateView = both.slice(0, nn, 2 * nn);
            LinearOp fused = LinearOp.of(x, upView, o1).transW(true).bias(bias.slice(0, 0, nn)).activation(Activation.SILU)
                    .gate(gateView, bias.slice(0, nn, 2 * nn)).residual(res);
            assertNotNull(fused.fusedGate(), "adjacent halves of one matrix are recognised");
            assertEquals(2 * nn, fused.fusedGate().shape(0));
            LinearOp apart = LinearOp.of(x, up, o2).transW(true).bias(bias.slice(0, 0, nn)).activation(Activation.SILU)
                    .gate(gate, bias.slice(0, nn, 2 * nn)).residual(res);
            assertNull(apart.fusedGate());
            assertNull(LinearOp.of(x, gateView, o2).transW(true).gate(upView, null).fusedGate(), "gate before up is not [up ; gate]");
            CPU.linear(fused);
            CPU.linear(apart);
            assertArrayEquals(o2.toFloatArray(), o1.toFloatArray(), 0f);
            // and against float64
            float[] got = o1.toFloatArray();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < nn; j++) {
                    double u = bv[j], g = bv[nn + j];
                    for (int q = 0; q < k; q++) {
                        u += (double) xv[i * k + q] * wv[j * k + q];
                        g += (double) xv[i * k + q] * wv[(nn + j) * k + q];
                    }
                    double want = u / (1 + Math.exp(-u)) * g + rv[i * nn + j];
                    assertEquals(want, got[i * nn + j], 1e-5 * (1 + Math.abs(want)));
                }
            }
        }
    }
}
