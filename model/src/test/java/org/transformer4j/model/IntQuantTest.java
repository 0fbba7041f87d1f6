// IntQuantTest — AWQ and GPTQ folders: each dequantized projection against its packed parts read here by the formats'
// rules (AutoAWQ's nibble order, GPTQ's row packing and v1 zero offset, g_idx), and broken folders refused by name. The
// fixtures' logits and greedy runs against the float64 harness are ReferenceFixturesTest's ("qwen2-awq", "llama-gptq",
// "qwen2-gptq-int8") and DecoderCacheTest's.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.Tensor;

class IntQuantTest {

    private static final String P = "model.layers.1.mlp.down_proj.";                 // (32, 64)

    @Test
    void awqWeightsUnpackInAutoAwqsOrder() throws Exception {
        Path dir = ReferenceFixturesTest.Fixture.open("qwen2-awq").dir();
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir); Tensor w = of(dir, ck).dequantize(ck, P + "weight")) {
            MemorySegment qw = ck.segment(P + "qweight"), qz = ck.segment(P + "qzeros");
            float[] s = ck.tensor(P + "scales").toFloatArray(), got = w.toFloatArray();
            int[] order = {0, 2, 4, 6, 1, 3, 5, 7};                                    // nibble i holds column 8c + order[i]
            for (int i = 0; i < 64; i++) {
                for (int c = 0; c < 4; c++) {
                    int word = qw.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i * 4L + c), zw = qz.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (i / 16) * 4L + c);
                    for (int n = 0; n < 8; n++) {
                        int o = 8 * c + order[n], q = (word >> (4 * n)) & 15, z = (zw >> (4 * n)) & 15;
                        assertEquals(Float.float16ToFloat(Float.floatToFloat16((q - z) * s[(i / 16) * 32 + o])), got[o * 64 + i], "out " + o + " in " + i);
                    }
                }
            }
        }
    }

    @Test
    void gptqWeightsUnpackRowsWithTheV1ZeroOffsetAndGIdx() throws Exception {
        for (String name : new String[] {"llama-gptq", "qwen2-gptq-int8"}) {
            Path dir = ReferenceFixturesTest.Fixture.open(name).dir();
            try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
                IntQuant iq = of(dir, ck);
                assertTrue(iq.v1, name + ": no checkpoint_format or \"gptq\" is v1");
                int bits = iq.bits, per = 32 / bits, mask = (1 << bits) - 1;
                MemorySegment qw = ck.segment(P + "qweight"), qz = ck.segment(P + "qzeros"), gi = ck.segment(P + "g_idx");
                float[] s = ck.tensor(P + "scales").toFloatArray();
                boolean permuted = false;
                try (Tensor w = iq.dequantize(ck, P + "weight")) {
                    float[] got = w.toFloatArray();
                    for (int i = 0; i < 64; i++) {
                        int g = gi.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                        permuted |= g != i / iq.group;
                        for (int o = 0; o < 32; o++) {
                            int q = (qw.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (i / per) * 32L + o) >>> (bits * (i % per))) & mask;
                            int z = ((qz.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, g * (32L / per) + o / per) >>> (bits * (o % per))) & mask) + 1;
                            assertEquals(Float.float16ToFloat(Float.floatToFloat16(s[g * 32 + o] * (q - z))), got[o * 64 + i], name + " out " + o + " in " + i);
                        }
                    }
                }
                assertEquals(name.equals("llama-gptq"), permuted, name + ": desc_act's g_idx is a permutation's groups");
            }
        }
    }

    @Test
    void checkpointFormatV2ReadsTheZerosAsStored(@TempDir Path tmp) throws Exception {
        Path from = ReferenceFixturesTest.Fixture.open("llama-gptq").dir();
        java.nio.file.Files.createDirectories(tmp.resolve("v2"));
        for (String f : new String[] {"config.json", "model.safetensors"}) java.nio.file.Files.copy(from.resolve(f), tmp.resolve("v2").resolve(f));
        ObjectNode c = (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(from.resolve("config.json").toFile());
        ((ObjectNode) c.get("quantization_config")).put("checkpoint_format", "gptq_v2");
        java.nio.file.Files.writeString(tmp.resolve("v2/config.json"), c.toString());
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(tmp.resolve("v2"))) {
            assertFalse(of(tmp.resolve("v2"), ck).v1);
        }
    }

    @Test
    void brokenFoldersAreRefusedByName(@TempDir Path tmp) throws Exception {
        java.util.function.Function<ObjectNode, ObjectNode> q = c -> (ObjectNode) c.get("quantization_config");
        Fp8Test.refused("qwen2-awq", tmp, "a", c -> q.apply(c).put("version", "gemv"), h -> {}, "version 'gemv' is not supported");
        Fp8Test.refused("qwen2-awq", tmp, "b", c -> q.apply(c).put("zero_point", false), h -> {}, "zero_point false is not supported");
        Fp8Test.refused("qwen2-awq", tmp, "c", c -> {}, h -> h.set(P + "qzeros_x", h.remove(P + "qzeros")),
                P + "qweight without [" + P + "qzeros]");
        Fp8Test.refused("qwen2-awq", tmp, "d", c -> {}, h -> ((ObjectNode) h.get(P + "scales")).putArray("shape").add(2).add(64),
                P + "scales is F16 [2, 64], expected F16 [4, 32]");
        Fp8Test.refused("llama-gptq", tmp, "e", c -> q.apply(c).put("bits", 3), h -> {}, "bits 3 is not supported");
        Fp8Test.refused("llama-gptq", tmp, "f", c -> q.apply(c).put("sym", false), h -> {}, "sym false is not supported");
        Fp8Test.refused("llama-gptq", tmp, "g", c -> q.apply(c).put("checkpoint_format", "marlin"), h -> {},
                "checkpoint_format 'marlin' is not supported");
        Fp8Test.refused("llama-gptq", tmp, "h", c -> {}, h -> h.set(P + "g_idx_x", h.remove(P + "g_idx")), P + "qweight without [" + P + "g_idx]");
    }

    private static final CpuBackend CPU = new CpuBackend();

    /**
     * Loaded for BF16 or F16 compute, an AWQ folder's and a GPTQ act-order folder's projections stay in 4 bits (Int4: GPTQ's
     * words as stored, AWQ's repacked; g_idx kept where it is a permutation's) and the model computes exactly what it
     * computes over the same folder dequantized at load (-Dt4j.quant=dequantize): the same logits bit for bit, the same
     * greedy tokens through the KV cache, in about a third of the bytes; a copy (Weights.to) keeps them packed.
     */
    @ParameterizedTest
    @CsvSource({"qwen2-awq, BF16", "qwen2-awq, F16", "llama-gptq, BF16", "llama-gptq, F16"})
    void fourBitProjectionsStayPackedAndComputeAsTheDequantizedFolder(String name, DType dt) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        int[][] ids = f.ids("input_ids");
        float[][][] want;
        int[] wantTokens;
        long denseBytes, denseParams;
        try (Weights d = withQuant("dequantize", () -> Pretrained.load(f.dir(), CPU, dt))) {
            assertNull(d.decoder.layers().get(0).self().packed(), "-Dt4j.quant=dequantize");
            want = new Transformer(d, CPU).logits(ids);
            wantTokens = new Generator(new Transformer(d, CPU)).generate(ids[0], Generator.Options.greedy(6), null);
            denseBytes = d.bytes();
            denseParams = d.parameterCount();
            assertTrue(d.packed().isEmpty());
        }
        try (Weights auto = Pretrained.load(f.dir(), CPU, dt)) {
            assertNull(auto.decoder.layers().get(0).self().packed(), "the CPU dequantizes by default (-Dt4j.quant=auto)");
        }
        try (Weights p = withQuant("packed", () -> Pretrained.load(f.dir(), CPU, dt)); Weights copy = p.to(dt)) {
            for (Weights w : List.of(p, copy)) {
                for (Weights.Layer l : w.decoder.layers()) {
                    Weights.Attention a = l.self();
                    for (Int4 q : new Int4[] {a.q4(), a.k4(), a.v4(), a.o4(), l.mlp().up4(), l.mlp().gate4(), l.mlp().down4()}) {
                        assertNotNull(q, name + ": every projection in 4 bits");
                        assertEquals(DType.I32, q.codes().dtype());
                        assertEquals(DType.F16, q.scales().dtype(), "the scales stay F16 in " + dt);
                        assertEquals(name.equals("llama-gptq"), q.gidx() != null, name + ": act-order keeps g_idx, AWQ has none");
                    }
                    assertTrue(a.q() == null && a.qkv() == null && l.mlp().up() == null && l.mlp().down() == null, "no dense copies");
                }
                float[][][] got = new Transformer(w, CPU).logits(ids);
                assertEquals(0.0, LowPrecision.maxErr(got, want), name + " " + dt + ": 4-bit GEMMs compute what the dequantized weights do");
                assertArrayEquals(wantTokens, new Generator(new Transformer(w, CPU)).generate(ids[0], Generator.Options.greedy(6), null),
                        name + " " + dt + ": greedy through the cache");
            }
            // the bytes: the dequantized folder's less its projections' 2 bytes an element, plus their packed parts
            long dense = 0, packed = 0;
            for (Weights.Layer l : p.decoder.layers()) {
                Weights.Attention a = l.self();
                for (Int4 q : new Int4[] {a.q4(), a.k4(), a.v4(), a.o4(), l.mlp().up4(), l.mlp().gate4(), l.mlp().down4()}) {
                    dense += 2 * q.rows() * q.cols();
                    for (Tensor t : new Tensor[] {q.codes(), q.scales(), q.zeros(), q.gidx()}) if (t != null) packed += t.numel() * t.dtype().byteSize();
                }
            }
            assertEquals(denseBytes - dense + packed, p.bytes(), name + ": the weights' bytes");
            assertEquals(denseParams, p.parameterCount(), name + ": a 4-bit projection counts its weights, not its codes");
            assertEquals(7 * p.decoder.layers().size(), p.packed().size());
            assertTrue(packed < 0.4 * dense, name + ": " + packed + " bytes of 4-bit projections vs " + dense + " in " + dt);
        }
    }

    /**
     * A mixture of experts with AWQ projections around its experts (Qwen1.5-MoE's AWQ folders quantize the attention and the
     * shared expert; the routed experts here stay dense): the qwen2-moe fixture with random AWQ codes, zero points and scales
     * (group 16) in place of every q / k / v / o and shared-expert weight. Packed and dequantized BF16 loads give the same
     * logits bit for bit; the shared expert is in 4 bits; the parameter count is the dense load's; a copy to F16 keeps the
     * packed parts' dtypes and computes as the folder dequantized straight to F16.
     */
    @Test
    void aMixtureOfExpertsKeepsItsAttentionAndSharedExpertInFourBits(@TempDir Path tmp) throws Exception {
        Path from = ReferenceFixturesTest.root().resolve("qwen2-moe"), dir = java.nio.file.Files.createDirectories(tmp.resolve("awq-moe"));
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(17);
        java.util.List<Tensor> made = new java.util.ArrayList<>();
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(from)) {
            java.util.Map<String, Tensor> out = new java.util.TreeMap<>();
            for (String n : ck.names()) {
                boolean quantized = n.endsWith(".weight") && (n.contains(".self_attn.") && n.endsWith("_proj.weight") || n.contains(".mlp.shared_expert."));
                if (!quantized) {
                    out.put(n, ck.tensor(n));
                    continue;
                }
                long[] sh = ck.entry(n).shape();
                int o = Math.toIntExact(sh[0]), in = Math.toIntExact(sh[1]), groups = in / 16;
                String base = n.substring(0, n.length() - "weight".length());
                int[] qw = new int[in * o / 8], qz = new int[groups * o / 8];
                for (int i = 0; i < qw.length; i++) qw[i] = rnd.nextInt();
                for (int i = 0; i < qz.length; i++) qz[i] = rnd.nextInt();
                float[] sc = new float[groups * o];
                for (int i = 0; i < sc.length; i++) sc[i] = (float) (0.01 + 0.04 * rnd.nextDouble());
                Tensor[] parts = {Tensor.ofInts(qw, in, o / 8), Tensor.ofInts(qz, groups, o / 8), Tensor.of(DType.F16, sc, groups, o)};
                made.addAll(java.util.List.of(parts));
                out.put(base + "qweight", parts[0]);
                out.put(base + "qzeros", parts[1]);
                out.put(base + "scales", parts[2]);
            }
            org.transformer4j.model.weights.SafetensorsWriter.write(dir.resolve("model.safetensors"), out, java.util.Map.of("format", "pt"));
        } finally {
            made.forEach(Tensor::close);
        }
        ObjectNode c = (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(from.resolve("config.json").toFile());
        c.putObject("quantization_config").put("quant_method", "awq").put("bits", 4).put("group_size", 16).put("version", "gemm").put("zero_point", true);
        java.nio.file.Files.writeString(dir.resolve("config.json"), c.toString());
        int[][] ids = {{3, 17, 41, 9, 88, 5, 23}};
        try (Weights d = withQuant("dequantize", () -> Pretrained.load(dir, CPU, DType.BF16));
             Weights p = withQuant("packed", () -> Pretrained.load(dir, CPU, DType.BF16));
             Weights d16 = withQuant("dequantize", () -> Pretrained.load(dir, CPU, DType.F16)); Weights p16 = p.to(DType.F16)) {
            Weights.Mlp sparse = p.decoder.layers().get(0).mlp();
            assertNotNull(sparse.moe(), "layer 0 is sparse");
            assertNotNull(sparse.moe().shared().up4(), "the shared expert in 4 bits");
            assertNotNull(p.decoder.layers().get(0).self().q4(), "the attention in 4 bits");
            assertTrue(d.packed().isEmpty());
            int want = 0;                                                                 // the fixture has a dense layer too
            for (Weights.Layer l : p.decoder.layers()) want += 4 + (l.mlp().moe() != null ? 3 : 0);
            assertTrue(want > 4 * p.decoder.layers().size());
            assertEquals(want, p.packed().size(), "q, k, v, o and each shared expert's three");
            assertEquals(d.parameterCount(), p.parameterCount());
            assertEquals(0.0, LowPrecision.maxErr(new Transformer(p, CPU).logits(ids), new Transformer(d, CPU).logits(ids)), "BF16");
            assertEquals(DType.I32, p16.packed().get(0).codes().dtype(), "the copy keeps the codes");
            assertEquals(DType.F16, p16.packed().get(0).scales().dtype());
            // the copy decodes the same codes to F16 directly: a dequantized F16 load's weights (a dense BF16 model's copy would
            // keep BF16's rounding)
            assertEquals(0.0, LowPrecision.maxErr(new Transformer(p16, CPU).logits(ids), new Transformer(d16, CPU).logits(ids)), "F16 copy");
        }
    }

    /** GPTQ's 8 bits and F32 compute have no 4-bit GEMM: those load dequantized, as before, whatever -Dt4j.quant says. */
    @Test
    void eightBitsAndF32LoadDequantized() throws Exception {
        try (Weights w = withQuant("packed", () -> Pretrained.load(ReferenceFixturesTest.Fixture.open("qwen2-gptq-int8").dir(), CPU, DType.BF16))) {
            assertNull(w.decoder.layers().get(0).self().packed());
            assertNotNull(w.decoder.layers().get(0).self().qkv(), "fused as any dense projection");
        }
        try (Weights w = withQuant("packed", () -> Pretrained.load(ReferenceFixturesTest.Fixture.open("qwen2-awq").dir(), CPU, DType.F32))) {
            assertNull(w.decoder.layers().get(0).mlp().packed());
        }
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> withQuant("int4", () -> Pretrained.load(ReferenceFixturesTest.Fixture.open("qwen2-awq").dir(), CPU, DType.BF16)).close());
        assertTrue(e.getMessage().contains("-Dt4j.quant=int4 is not auto, packed or dequantize"), e.getMessage());
    }

    interface Load {
        Weights get() throws Exception;
    }

    /** A load under -Dt4j.quant=value (restored after: the property is read while the weights load). */
    static Weights withQuant(String value, Load load) throws Exception {
        String before = System.getProperty("t4j.quant");
        System.setProperty("t4j.quant", value);
        try {
            return load.get();
        } finally {
            if (before == null) System.clearProperty("t4j.quant");
            else System.setProperty("t4j.quant", before);
        }
    }

    private static IntQuant of(Path dir, SafetensorsCheckpoint ck) throws Exception {
        return IntQuant.of(HfConfig.read(dir.resolve("config.json")), ck, dir);
    }
}
