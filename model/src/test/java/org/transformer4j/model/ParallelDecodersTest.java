// ParallelDecodersTest — GPT-NeoX and Phi folders beyond the reference logits (ReferenceFixturesTest, DecoderCacheTest):
// a PEFT LoRA adapter on Phi's own module names (dense, fc1) against the weights merged here in float64; what the loader
// refuses by name (LoRA on GPT-NeoX's interleaved query_key_value, quantized folders, a misshaped query_key_value);
// the paged decode path (captured bucket steps against op-by-op steps) with both parallel blocks and a head bias.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class ParallelDecodersTest {

    @TempDir
    Path tmp;

    static Path fixture(String name) throws Exception { return ReferenceFixturesTest.root().resolve(name); }

    /** Phi fixture modules the adapter adapts: out × in (hidden 64, MLP 128). */
    static final Map<String, long[]> PHI_MODULES = Map.of(
            "model.layers.0.self_attn.dense", new long[] {64, 64},
            "model.layers.1.mlp.fc1", new long[] {128, 64});

    @Test
    void aLoraAdapterOnPhisModuleNamesMergesAsTheWeightsMergedByHand() throws Exception {
        Path ad = Files.createDirectories(tmp.resolve("adapter"));
        Files.writeString(ad.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8,"
                + " \"target_modules\": [\"dense\", \"fc1\"], \"bias\": \"none\", \"task_type\": \"CAUSAL_LM\"}");
        SplittableRandom rnd = new SplittableRandom(11);
        Map<String, float[][]> ab = new LinkedHashMap<>();
        Map<String, Tensor> saved = new LinkedHashMap<>();
        for (var e : new java.util.TreeMap<>(PHI_MODULES).entrySet()) {
            long out = e.getValue()[0], in = e.getValue()[1];
            float[] a = random(rnd, 4 * in), b = random(rnd, out * 4);
            ab.put(e.getKey(), new float[][] {a, b});
            saved.put("base_model.model." + e.getKey() + ".lora_A.weight", Tensor.ofFloats(a, 4, in));
            saved.put("base_model.model." + e.getKey() + ".lora_B.weight", Tensor.ofFloats(b, out, 4));
        }
        SafetensorsWriter.write(ad.resolve("adapter_model.safetensors"), saved, Map.of("format", "pt"));
        // W + (alpha / r) · B · A in float64, written out as plain F32 weights
        Path byHand = Files.createDirectories(tmp.resolve("merged"));
        Files.copy(fixture("phi").resolve("config.json"), byHand.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile base = SafetensorsFile.open(fixture("phi").resolve("model.safetensors"))) {
            for (String key : base.names()) {
                float[] w = base.tensor(key).toFloatArray();
                String module = key.endsWith(".weight") ? key.substring(0, key.length() - ".weight".length()) : "";
                if (PHI_MODULES.containsKey(module)) {
                    int o = (int) PHI_MODULES.get(module)[0], in = (int) PHI_MODULES.get(module)[1];
                    float[] a = ab.get(module)[0], b = ab.get(module)[1];
                    for (int i = 0; i < o; i++) {
                        for (int j = 0; j < in; j++) {
                            double d = 0;
                            for (int k = 0; k < 4; k++) d += (double) b[i * 4 + k] * a[k * in + j];
                            w[i * in + j] = (float) (w[i * in + j] + 2.0 * d);
                        }
                    }
                }
                out.put(key, Tensor.ofFloats(w, base.tensor(key).shape()));
            }
        }
        SafetensorsWriter.write(byHand.resolve("model.safetensors"), out, Map.of("format", "pt"));
        int[] ids = {3, 17, 42, 99, 5, 120, 8};
        try (CpuBackend backend = new CpuBackend();
             Weights merged = Pretrained.load(fixture("phi"), backend, DType.F32, LoraAdapter.read(ad));
             Weights want = Pretrained.load(byHand, backend, DType.F32);
             Weights plain = Pretrained.load(fixture("phi"), backend, DType.F32)) {
            float[] got = LoraAdapterTest.logits(merged, backend, ids), w = LoraAdapterTest.logits(want, backend, ids);
            float[] before = LoraAdapterTest.logits(plain, backend, ids);
            double moved = 0;
            for (int v = 0; v < w.length; v++) {
                assertEquals(w[v], got[v], 1e-4, "logit " + v);
                moved = Math.max(moved, Math.abs(w[v] - before[v]));
            }
            assertTrue(moved > 1e-2, "the adapter changes the model (max logit change " + moved + ")");
        }
    }

    static float[] random(SplittableRandom rnd, long n) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble(-0.2, 0.2);
        return v;
    }

    @Test
    void whatTheLoaderCannotReadIsRefusedByName() throws Exception {
        // LoRA on GPT-NeoX: its query_key_value interleaves the heads
        Path ad = Files.createDirectories(tmp.resolve("neox-adapter"));
        Files.writeString(ad.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4,"
                + " \"target_modules\": [\"query_key_value\"], \"bias\": \"none\"}");
        SafetensorsWriter.write(ad.resolve("adapter_model.safetensors"), Map.of(
                "base_model.model.gpt_neox.layers.0.attention.query_key_value.lora_A.weight", Tensor.ofFloats(new float[2 * 64], 2, 64),
                "base_model.model.gpt_neox.layers.0.attention.query_key_value.lora_B.weight", Tensor.ofFloats(new float[192 * 2], 192, 2)),
                Map.of("format", "pt"));
        try (CpuBackend backend = new CpuBackend()) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Pretrained.load(fixture("gpt-neox"), backend, DType.F32, LoraAdapter.read(ad)));
            assertTrue(e.getMessage().contains("LoRA adapters are not supported for gpt_neox"), e.getMessage());
            // a quantized folder
            Path quantized = copy("gpt-neox", "quantized");
            String cfg = Files.readString(quantized.resolve("config.json"));
            Files.writeString(quantized.resolve("config.json"), cfg.replaceFirst("\\{", "{\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4},"));
            e = assertThrows(CheckpointException.class, () -> Pretrained.load(quantized, backend));
            assertTrue(e.getMessage().contains("quantized gpt_neox folders are not supported"), e.getMessage());
            // a query_key_value of the wrong height: named with both shapes, nothing loaded
            Path misshaped = copy("gpt-neox", "misshaped");
            Map<String, Tensor> t = new LinkedHashMap<>();
            try (SafetensorsFile f = SafetensorsFile.open(fixture("gpt-neox").resolve("model.safetensors"))) {
                for (String key : f.names()) {
                    if (f.entry(key).dtype() == org.transformer4j.model.weights.SafetensorsDType.BOOL) continue;
                    Tensor x = f.tensor(key);
                    t.put(key, key.equals("gpt_neox.layers.1.attention.query_key_value.weight") ? Tensor.ofFloats(new float[128 * 64], 128, 64)
                            : Tensor.ofFloats(x.toFloatArray(), x.shape()));
                }
            }
            SafetensorsWriter.write(misshaped.resolve("model.safetensors"), t, Map.of("format", "pt"));
            e = assertThrows(CheckpointException.class, () -> Pretrained.load(misshaped, backend));
            assertTrue(e.getMessage().contains("gpt_neox.layers.1.attention.query_key_value.weight is [128, 64], expected [192, 64]"),
                    e.getMessage());
        }
    }

    private Path copy(String name, String as) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(as));
        try (var files = Files.list(fixture(name))) {
            for (Path f : files.toList()) Files.copy(f, d.resolve(f.getFileName()));
        }
        return d;
    }

    /**
     * q, k and v gathered from an interleaved query_key_value (2 heads of 3 rows, 2 columns): head h's q rows are rows
     * 6h .. 6h + 2 of the stored matrix, its k rows the next three, its v rows the three after; the bias likewise.
     */
    @Test
    void headRowsRegroupTheInterleavedProjection() {
        float[] w = new float[18 * 2], b = new float[18];
        for (int i = 0; i < w.length; i++) w[i] = i;
        for (int i = 0; i < b.length; i++) b[i] = 100 + i;
        try (Tensor whole = Tensor.of(DType.BF16, w, 18, 2); Tensor bias = Tensor.ofFloats(b, 18);
             Tensor k = HfNeox.headRows(whole, 2, 3, 1); Tensor kb = HfNeox.headRows(bias, 2, 3, 1)) {
            assertEquals(DType.BF16, k.dtype(), "gathered in the stored dtype");
            assertArrayEquals(new long[] {6, 2}, k.shape());
            assertArrayEquals(new float[] {6, 7, 8, 9, 10, 11, 24, 25, 26, 27, 28, 29}, k.toFloatArray());
            assertArrayEquals(new float[] {103, 104, 105, 112, 113, 114}, kb.toFloatArray());
        }
    }

    /**
     * GPT-J's q / k rows for rotate_half: with a head of 6 and rotary 4, each head's rows become [0, 2, 1, 3, 4, 5] (pairs
     * (0, 1), (2, 3) become halves (0, 2), (1, 3)); the rest stays.
     */
    @Test
    void rotaryRowsTurnPairsIntoHalves() {
        float[] w = new float[12 * 1];
        for (int i = 0; i < w.length; i++) w[i] = i;
        try (Tensor whole = Tensor.of(DType.F16, w, 12, 1); Tensor p = HfNeox.rotaryRows(whole, 2, 6, 4)) {
            assertArrayEquals(new float[] {0, 2, 1, 3, 4, 5, 6, 8, 7, 9, 10, 11}, p.toFloatArray());
        }
    }

    /** Both parallel blocks and Phi's head bias through the paged batch: captured bucket steps = op-by-op steps, bit for bit. */
    @Test
    void pagedDecodingOfParallelBlocksMatchesOpByOpSteps() {
        for (TransformerConfig.ParallelBlock p : new TransformerConfig.ParallelBlock[] {TransformerConfig.ParallelBlock.TWO_NORMS,
                TransformerConfig.ParallelBlock.SHARED_NORM}) {
            TransformerConfig c = Tiny.ropeDecoder().toBuilder().parallel(p).headBias(p == TransformerConfig.ParallelBlock.SHARED_NORM).build();
            try (CpuBackend backend = new CpuBackend(); Weights w = Weights.random(c, backend, 23)) {
                PagedDecoderTest.scenario(new Transformer(w, backend), (want, got, what) -> assertArrayEquals(want, got, p + ": " + what));
            }
        }
    }

    /**
     * The phi fixture as save_pretrained shards it with PyTorch (two torch.save files and pytorch_model.bin.index.json, F16,
     * ci/reference/torch_save.py): refused by the loader with the command that converts it; converted
     * (TorchConvert.convertFolder: model-0000i-of-00002.safetensors and model.safetensors.index.json), it loads and matches
     * the float64 reference's logits.
     */
    @Test
    void aShardedPyTorchFolderConvertsAndLoadsAsTheReference() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("phi-bin"));
        Path from = Path.of(ParallelDecodersTest.class.getResource("/torch/phi-sharded").toURI());
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        try (CpuBackend backend = new CpuBackend()) {
            Exception e = assertThrows(java.io.IOException.class, () -> Pretrained.load(dir, backend));
            assertTrue(e.getMessage().contains("t4j convert"), e.getMessage());
            var converted = org.transformer4j.model.weights.TorchConvert.convertFolder(dir, false);
            assertEquals(2, converted.size());
            assertTrue(Files.isRegularFile(dir.resolve("model-00001-of-00002.safetensors"))
                    && Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
            ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("phi");
            try (Weights w = Pretrained.load(dir, backend)) {
                f.near("logits", new Transformer(w, backend).logits(f.ids("input_ids")));
            }
        }
    }

    /**
     * OPT as older checkpoints store it, the base model's names (decoder.…, no lm_head; transformers reads them through
     * base_model_prefix "model"): the same model as the causal-LM layout, within the reference's tolerance.
     */
    @Test
    void anOptFolderInTheBaseModelLayoutLoadsAsTheReference() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("opt-base"));
        Files.copy(fixture("opt").resolve("config.json"), dir.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(fixture("opt").resolve("model.safetensors"))) {
            for (String key : f.names()) {
                Tensor t = f.tensor(key);
                out.put(key.replaceFirst("^model\\.", ""), Tensor.ofFloats(t.toFloatArray(), t.shape()));
            }
        }
        assertTrue(out.containsKey("decoder.embed_positions.weight"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("opt");
        try (CpuBackend backend = new CpuBackend(); Weights w = Pretrained.load(dir, backend)) {
            f.near("logits", new Transformer(w, backend).logits(f.ids("input_ids")));
        }
    }
}
