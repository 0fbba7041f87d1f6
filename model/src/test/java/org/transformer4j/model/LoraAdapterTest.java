// LoraAdapterTest — a PEFT LoRA adapter (written here in PEFT's layout: adapter_config.json, adapter_model.safetensors
// with base_model.model.….lora_A / lora_B) merged into the llama reference folder as it loads, against the same folder
// with W + s · B · A computed here in float64 and written out as plain weights: the logits agree; the adapter's rank
// and alpha patterns and rsLoRA's scale are PEFT's; what is not supported is refused by name.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class LoraAdapterTest {

    @TempDir
    Path tmp;

    static Path llama() throws Exception { return ReferenceFixturesTest.root().resolve("llama"); }

    /** module → {rank, alpha}: what the adapter below adapts (llama fixture: hidden 64, 2 heads of KV × 16, MLP 96). */
    static final Map<String, long[]> SHAPES = Map.of(
            "model.layers.0.self_attn.q_proj", new long[] {64, 64},
            "model.layers.0.self_attn.v_proj", new long[] {32, 64},
            "model.layers.1.self_attn.q_proj", new long[] {64, 64},
            "model.layers.1.mlp.down_proj", new long[] {64, 96});

    /** Writes a PEFT adapter folder: rank 4 (down_proj 2 by rank_pattern), alpha 16 (down_proj 4 by alpha_pattern). */
    Path adapter(String extraConfig, boolean rs) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("adapter" + (rs ? "-rs" : "") + Math.abs(extraConfig.hashCode())));
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 16, \"use_rslora\": " + rs
                + ", \"target_modules\": [\"q_proj\", \"v_proj\", \"down_proj\"], \"rank_pattern\": {\"down_proj\": 2},"
                + " \"alpha_pattern\": {\"down_proj\": 4}, \"bias\": \"none\", \"fan_in_fan_out\": false, \"use_dora\": false,"
                + " \"base_model_name_or_path\": \"llama\", \"task_type\": \"CAUSAL_LM\"" + extraConfig + "}");
        SplittableRandom rnd = new SplittableRandom(7);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (var e : new java.util.TreeMap<>(SHAPES).entrySet()) {
            int r = e.getKey().endsWith("down_proj") ? 2 : 4;
            long out = e.getValue()[0], in = e.getValue()[1];
            t.put("base_model.model." + e.getKey() + ".lora_A.weight", random(rnd, r, in));
            t.put("base_model.model." + e.getKey() + ".lora_B.weight", random(rnd, out, r));
        }
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"));
        return dir;
    }

    static Tensor random(SplittableRandom rnd, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble(-0.1, 0.1));
        return Tensor.ofFloats(v, rows, cols);
    }

    /** The llama folder with the adapter merged here, in float64: W + s · B · A (PEFT's get_delta_weight), stored as F32. */
    Path mergedByHand(Path adapterDir, boolean rs) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("merged" + (rs ? "-rs" : "")));
        Files.copy(llama().resolve("config.json"), dir.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile base = SafetensorsFile.open(llama().resolve("model.safetensors"));
             SafetensorsFile ad = SafetensorsFile.open(adapterDir.resolve("adapter_model.safetensors"))) {
            for (String key : base.names()) {
                float[] w = base.tensor(key).toFloatArray();
                String module = key.substring(0, key.length() - ".weight".length());
                if (SHAPES.containsKey(module)) {
                    float[] a = ad.tensor("base_model.model." + module + ".lora_A.weight").toFloatArray();
                    float[] b = ad.tensor("base_model.model." + module + ".lora_B.weight").toFloatArray();
                    int r = module.endsWith("down_proj") ? 2 : 4;
                    double alpha = module.endsWith("down_proj") ? 4 : 16;
                    double s = rs ? alpha / Math.sqrt(r) : alpha / r;
                    addDelta(w, a, b, (int) SHAPES.get(module)[0], (int) SHAPES.get(module)[1], r, s);
                }
                out.put(key, Tensor.ofFloats(w, base.tensor(key).shape()));
            }
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        return dir;
    }

    /** w (out × in) += scale · B · A, B (out × r) and A (r × in), each element's sum in float64 (PEFT's get_delta_weight). */
    static void addDelta(float[] w, float[] a, float[] b, int out, int in, int r, double scale) {
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                double d = 0;
                for (int k = 0; k < r; k++) d += (double) b[i * r + k] * a[k * in + j];
                w[i * in + j] = (float) (w[i * in + j] + scale * d);
            }
        }
    }

    static float[] logits(Weights w, CpuBackend backend, int[] ids) {
        float[][] rows = new Transformer(w, backend).logits(new int[][] {ids})[0];
        return rows[rows.length - 1];
    }

    @Test
    void anAdapterMergedAsItLoadsGivesTheLogitsOfTheWeightsMergedByHand() throws Exception {
        int[] ids = {1, 17, 42, 99, 3, 250, 8};
        for (boolean rs : new boolean[] {false, true}) {
            Path ad = adapter("", rs);
            try (CpuBackend backend = new CpuBackend();
                 Weights merged = Pretrained.load(llama(), backend, DType.F32, LoraAdapter.read(ad));
                 Weights byHand = Pretrained.load(mergedByHand(ad, rs), backend, DType.F32);
                 Weights base = Pretrained.load(llama(), backend, DType.F32)) {
                float[] got = logits(merged, backend, ids), want = logits(byHand, backend, ids), before = logits(base, backend, ids);
                double moved = 0;
                for (int v = 0; v < want.length; v++) {
                    assertEquals(want[v], got[v], 1e-4, "rs " + rs + " logit " + v);
                    moved = Math.max(moved, Math.abs(want[v] - before[v]));
                }
                assertTrue(moved > 1e-2, "the adapter changes the model (max logit change " + moved + ")");
            }
        }
    }

    /** A module of modules_to_save, stored whole (PEFT: base_model.model.M.weight), replaces the base's weight. */
    @Test
    void aModuleSavedWholeReplacesTheBasesWeight() throws Exception {
        Path ad = Files.createDirectories(tmp.resolve("whole"));
        Files.writeString(ad.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8,"
                + " \"modules_to_save\": [\"norm\"], \"bias\": \"none\"}");
        float[] norm = new float[64];
        for (int i = 0; i < norm.length; i++) norm[i] = 0.5f + i / 64f;
        SafetensorsWriter.write(ad.resolve("adapter_model.safetensors"), Map.of("base_model.model.model.norm.weight", Tensor.ofFloats(norm, 64)),
                Map.of("format", "pt"));
        Path byHand = Files.createDirectories(tmp.resolve("norm-replaced"));
        Files.copy(llama().resolve("config.json"), byHand.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile base = SafetensorsFile.open(llama().resolve("model.safetensors"))) {
            for (String key : base.names()) out.put(key, key.equals("model.norm.weight") ? Tensor.ofFloats(norm, 64) : base.tensor(key));
            SafetensorsWriter.write(byHand.resolve("model.safetensors"), out, Map.of("format", "pt"));
        }
        int[] ids = {5, 6, 7, 200};
        try (CpuBackend backend = new CpuBackend();
             Weights merged = Pretrained.load(llama(), backend, DType.F32, LoraAdapter.read(ad));
             Weights want = Pretrained.load(byHand, backend, DType.F32)) {
            float[] got = logits(merged, backend, ids), expected = logits(want, backend, ids);
            for (int v = 0; v < expected.length; v++) assertEquals(expected[v], got[v], 1e-5, "logit " + v);
        }
        SafetensorsWriter.write(ad.resolve("adapter_model.safetensors"), Map.of("base_model.model.model.norm.weight", Tensor.ofFloats(new float[32], 32)),
                Map.of("format", "pt"));
        String wrong = message(ad);
        assertTrue(wrong != null && wrong.contains("model.norm.weight is [32] in the adapter but [64] in the model"), wrong);
    }

    @Test
    void whatIsNotSupportedIsRefusedByName() throws Exception {
        assertEquals(null, message(adapter(", \"lora_dropout\": 0.05", false)), "a valid adapter loads");
        Path dora = adapter("", false);
        Files.writeString(dora.resolve("adapter_config.json"), Files.readString(dora.resolve("adapter_config.json")).replace("\"use_dora\": false", "\"use_dora\": true"));
        assertTrue(assertThrows(IOException.class, () -> LoraAdapter.read(dora)).getMessage().contains("DoRA"));
        Path rank = adapter("", false);
        Files.writeString(rank.resolve("adapter_config.json"), Files.readString(rank.resolve("adapter_config.json")).replace("{\"down_proj\": 2}", "{\"down_proj\": 3}"));
        assertTrue(assertThrows(IOException.class, () -> LoraAdapter.read(rank)).getMessage().contains("has rank 2 but adapter_config.json says 3"));
        Path prefix = Files.createDirectories(tmp.resolve("other-model"));
        Files.copy(adapter("", false).resolve("adapter_config.json"), prefix.resolve("adapter_config.json"));
        Map<String, Tensor> t = new LinkedHashMap<>();
        SplittableRandom rnd = new SplittableRandom(3);
        t.put("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight", random(rnd, 4, 64));
        t.put("base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight", random(rnd, 64, 4));
        SafetensorsWriter.write(prefix.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"));
        String missing = message(prefix);
        assertTrue(missing != null && missing.contains("model.layers.7.self_attn.q_proj.weight") && missing.contains("no such weight"), missing);
        t.remove("base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight");
        SafetensorsWriter.write(prefix.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"));
        assertTrue(assertThrows(IOException.class, () -> LoraAdapter.read(prefix)).getMessage().contains("has lora_A but no lora_B"));
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.copy(dora.resolve("adapter_config.json"), bin.resolve("adapter_config.json"));
        Files.writeString(bin.resolve("adapter_model.bin"), "pickle");
        assertTrue(assertThrows(IOException.class, () -> LoraAdapter.read(bin)).getMessage().contains("safe_serialization"));
        LoraAdapter ok = LoraAdapter.read(adapter("", false));
        try (CpuBackend backend = new CpuBackend()) {
            Path gpt2 = ReferenceFixturesTest.root().resolve("gpt2");
            assertTrue(assertThrows(IOException.class, () -> Pretrained.load(gpt2, backend, DType.F32, ok)).getMessage()
                    .contains("merged into decoder folders"));
        }
    }

    /** The load's error message with this adapter on the llama folder, or null when it loads. */
    static String message(Path adapterDir) throws Exception {
        try (CpuBackend backend = new CpuBackend(); Weights w = Pretrained.load(llama(), backend, DType.F32, LoraAdapter.read(adapterDir))) {
            return null;
        } catch (IOException | IllegalArgumentException e) {
            return e.getMessage();
        }
    }
}
