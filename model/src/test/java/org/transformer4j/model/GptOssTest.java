// GptOssTest — gpt-oss folders beyond the fixture's logits (ReferenceFixturesTest): low precision, the copy in another
// dtype (which used to drop every mixture of experts), packed rows against one-row passes, the attention weights with
// their sinks, and the refusals a demanding user meets first.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;

class GptOssTest {

    static final CpuBackend CPU = new CpuBackend();

    /**
     * Where the MXFP4 experts stay MXFP4 (-Dt4j.mxfp4): by default on the CPU in every dtype and on CUDA in BF16 (libt4j's
     * MXFP4 grouped GEMM, ABI 13, takes BF16 activations); CUDA in F16 / F32 decodes at load, and {@code keep} is refused there.
     */
    @Test
    void mxfp4StaysMxfp4OnTheCpuAndOnCudaInBf16() {
        for (DType dt : List.of(DType.F32, DType.F16, DType.BF16)) {
            assertTrue(GptOss.keepMxfp4("cpu", dt, ""), "CPU " + dt);
            assertTrue(GptOss.keepMxfp4("cpu", dt, "keep"), "CPU " + dt + " keep");
            assertTrue(!GptOss.keepMxfp4("cpu", dt, "dequantize") && !GptOss.keepMxfp4("cuda", dt, "dequantize"), dt + " dequantize");
            assertEquals(dt == DType.BF16, GptOss.keepMxfp4("cuda", dt, " "), "CUDA " + dt + " by default");
        }
        assertTrue(GptOss.keepMxfp4("cuda", DType.BF16, "keep"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> GptOss.keepMxfp4("cuda", DType.F16, "keep"));
        assertTrue(e.getMessage().contains("BF16") && e.getMessage().contains("dequantize"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GptOss.keepMxfp4("cpu", DType.F32, "mxfp4"));
    }

    /**
     * Both layouts load to the same model: the MXFP4 folder decoded at load ({@code -Dt4j.mxfp4=dequantize}) gives the
     * dequantized folder's logits to the bit (the codes decode to exactly its values); kept in MXFP4 (the CPU's default,
     * decoded inside the grouped GEMM, another summation order) within the fp32 rule.
     */
    @Test
    void theMxfp4AndTheDequantizedLayoutsAreTheSameModel() throws Exception {
        ReferenceFixturesTest.Fixture a = ReferenceFixturesTest.Fixture.open("gpt-oss"), b = ReferenceFixturesTest.Fixture.open("gpt-oss-v5");
        int[][] ids = a.ids("input_ids");
        String before = System.getProperty("t4j.mxfp4");
        try (Weights kept = Pretrained.load(a.dir(), CPU); Weights wb = Pretrained.load(b.dir(), CPU)) {
            System.setProperty("t4j.mxfp4", "dequantize");
            try (Weights decoded = Pretrained.load(a.dir(), CPU)) {
                assertTrue(kept.config.attentionSinks() && kept.config.moe().biases());
                assertEquals(List.of(5, 0, 5), kept.config.windows(), "even layers slide by GptOssConfig's default rule");
                assertTrue(kept.decoder.layers().get(0).mlp().moe().quantized(), "MXFP4 kept on the CPU by default");
                assertTrue(!decoded.decoder.layers().get(0).mlp().moe().quantized() && !wb.decoder.layers().get(0).mlp().moe().quantized());
                float[][][] ld = new Transformer(decoded, CPU).logits(ids), lb = new Transformer(wb, CPU).logits(ids);
                float[][][] lk = new Transformer(kept, CPU).logits(ids);
                for (int r = 0; r < ld.length; r++) {
                    for (int t = 0; t < ld[r].length; t++) {
                        assertTrue(Arrays.equals(ld[r][t], lb[r][t]), "row " + r + " position " + t);
                        assertClose(lb[r][t], lk[r][t], "kept MXFP4, row " + r + " position " + t);
                    }
                }
            }
        } finally {
            if (before == null) System.clearProperty("t4j.mxfp4");
            else System.setProperty("t4j.mxfp4", before);
        }
    }

    /**
     * BF16 and F16, loaded so or copied with {@link Weights#to} (the sinks stay F32): logits within the design's rule,
     * 2 × the error of the same fp32 model on a backend that rounds every stored tensor to the dtype (LowPrecision), plus the
     * rule's absolute part. (The fixture's routing gaps, 0.0125 of logits near 5, are below a BF16 step, so BF16 may route
     * a token otherwise than fp32 does: the naive model shows how far that moves the logits.) The copy of a mixture of
     * experts used to come back with empty MLPs (Weights.to mapped only dense ones); mixtral checks the fix for the
     * families without biases; deepseek-v3 that DeepSeek-V3's router correction bias stays F32 as the router takes it, and the
     * materialized MLA weights convert as any.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt-oss", "mixtral", "deepseek-v3"})
    void lowPrecisionLoadsAndCopies(String name) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        int[][] ids = f.ids("input_ids");
        try (Weights w32 = Pretrained.load(f.dir(), CPU)) {
            float[][][] ref = new Transformer(w32, CPU).logits(ids);
            for (DType dt : List.of(DType.BF16, DType.F16)) {
                double naiveErr;
                try (LowPrecision.RoundingBackend rounding = new LowPrecision.RoundingBackend(dt); Weights naive = Pretrained.load(f.dir(), rounding)) {
                    naiveErr = LowPrecision.maxErr(new Transformer(naive, rounding).logits(ids), ref);
                }
                try (Weights loaded = Pretrained.load(f.dir(), CPU, dt); Weights copy = w32.to(dt)) {
                    float[][][] first = null;
                    for (Weights w : List.of(loaded, copy)) {
                        assertEquals(dt, w.dtype());
                        Weights.Attention a = w.decoder.layers().get(0).self();
                        if (a.sinks() != null) assertEquals(DType.F32, a.sinks().dtype(), "sinks stay F32");
                        Weights.Layer sparse = w.decoder.layers().get(w.config.moeAt(0) ? 0 : 1);
                        assertTrue(sparse.mlp().moe() != null, "the experts survive the conversion");
                        if (w.config.moe().routing().correctionBias()) {
                            assertEquals(DType.F32, sparse.mlp().moe().correctionBias().dtype(), "the router's correction bias stays F32");
                        }
                        float[][][] got = new Transformer(w, CPU).logits(ids);
                        if (first == null) first = got;
                        else assertEquals(0.0, LowPrecision.maxErr(got, first), "loaded in " + dt + " and copied to it: the same rounded weights");
                        double err = LowPrecision.maxErr(got, ref), max = LowPrecision.maxAbs(ref);
                        // BF16 on gpt-oss: a routing flip the naive model need not share (its own flips moved it by naiveErr)
                        boolean flips = name.equals("gpt-oss") && dt == DType.BF16;
                        double allowed = flips ? LowPrecision.allowed(1.5 * naiveErr, max) : LowPrecision.allowed(naiveErr, max);
                        assertTrue(err <= allowed, name + " " + dt + ": max error " + err + " vs fp32, naive " + naiveErr + ", allowed " + allowed);
                        assertTrue(err > 1e-6 * max, name + " " + dt + ": the fp32 bits, as if it had not rounded");
                    }
                }
            }
        }
    }

    /** Packed rows of different lengths (one causal pass) give each row's last logits as its own pass does; greedy through the cache too. */
    @Test
    void packedRowsAndCachedDecodingAgreeWithOneRowPasses() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("gpt-oss");
        int[][] ids = f.ids("input_ids");
        int[] shortRow = Arrays.copyOf(ids[1], 7);                                 // past the window of 5 and not
        try (Weights w = Pretrained.load(f.dir(), CPU)) {
            Transformer m = new Transformer(w, CPU);
            float[][] packed = m.lastTokenLogits(List.of(ids[0], shortRow));
            float[][][] alone0 = m.logits(new int[][] {ids[0]}), alone1 = m.logits(new int[][] {shortRow});
            assertClose(alone0[0][ids[0].length - 1], packed[0], "row 0");
            assertClose(alone1[0][shortRow.length - 1], packed[1], "short row");
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        double max = 0, err = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i]));
            err = Math.max(err, Math.abs(want[i] - got[i]));
        }
        assertTrue(err <= 1e-5 * Math.max(1, max), what + ": max error " + err);
    }

    /** The attention weights of a head with a sink sum to less than 1 (the sink's share), as transformers' attention outputs. */
    @Test
    void attentionWeightsLeaveTheSinksShare() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("gpt-oss");
        try (Weights w = Pretrained.load(f.dir(), CPU)) {
            float[][] a = new Transformer(w, CPU).attentionWeights(f.ids("input_ids")[0], 0, 1, 0);
            float sink = w.decoder.layers().get(1).self().sinks().toFloatArray()[0];
            double first = a[0][0];
            // row 0 sees one key: its weight is e^s / (e^s + e^sink) for its one score s, so below 1 and above 0
            assertTrue(first > 0 && first < 1, "row 0's one key keeps " + first);
            for (float[] row : a) {
                double sum = 0;
                for (float x : row) sum += x;
                assertTrue(sum < 1 - 1e-6 && sum > 0, "a row sums to " + sum + " with sink " + sink);
            }
        }
    }

    /** What the kernels cannot run is refused by name: other SwiGLU constants, another quantization, misshaped MXFP4 blocks. */
    @Test
    void refusesWhatItDoesNotRun(@TempDir Path tmp) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("gpt-oss");
        ObjectMapper json = new ObjectMapper();
        String[][] cases = {{"swiglu_limit", "6.0", "swiglu_limit"}, {"swiglu_alpha", "1.5", "swiglu_alpha"}};
        for (String[] c : cases) {
            Path d = Files.createDirectories(tmp.resolve(c[0]));
            ObjectNode cfg = (ObjectNode) json.readTree(f.dir().resolve("config.json").toFile());
            cfg.put(c[0], Double.parseDouble(c[1]));
            json.writeValue(d.resolve("config.json").toFile(), cfg);
            Files.copy(f.dir().resolve("model.safetensors"), d.resolve("model.safetensors"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(d, CPU));
            assertTrue(e.getMessage().contains(c[2]), e.getMessage());
        }
        Path q = Files.createDirectories(tmp.resolve("quant"));
        ObjectNode cfg = (ObjectNode) json.readTree(f.dir().resolve("config.json").toFile());
        ((ObjectNode) cfg.get("quantization_config")).put("quant_method", "bitsandbytes");
        json.writeValue(q.resolve("config.json").toFile(), cfg);
        Files.copy(f.dir().resolve("model.safetensors"), q.resolve("model.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(q, CPU));
        assertTrue(e.getMessage().contains("bitsandbytes"), e.getMessage());
        // one layer's blocks missing: named
        Path m = Files.createDirectories(tmp.resolve("missing"));
        Files.copy(f.dir().resolve("config.json"), m.resolve("config.json"));
        var kept = new java.util.LinkedHashMap<String, org.transformer4j.runtime.Tensor>();
        try (var file = org.transformer4j.model.weights.SafetensorsFile.open(f.dir().resolve("model.safetensors"))) {
            for (String k : file.names()) if (!k.contains("experts.") || !k.endsWith("_blocks") && !k.endsWith("_scales")) kept.put(k, file.tensor(k));
            org.transformer4j.model.weights.SafetensorsWriter.write(m.resolve("model.safetensors"), kept, java.util.Map.of("format", "pt"));
        }
        e = assertThrows(CheckpointException.class, () -> Pretrained.load(m, CPU));
        assertTrue(e.getMessage().contains("gate_up_proj"), e.getMessage());
    }
}
