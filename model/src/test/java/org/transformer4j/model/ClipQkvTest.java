// ClipQkvTest — clip_qkv through the model layer on the CPU: MPT's clamp of the fused Wqkv output (the mpt fixture with
// attn_config.clip_qkv set: no float64 reference folder of its own fits the fixtures' size budget) against a float64
// oracle of clamp(x · Wqkvᵀ) written here, its cached decoding against the full pass, MPT's falsy 0; and OLMo's clamp after
// a LoRA adapter's delta (slots served unmerged) against the adapter merged by hand in float64, as PEFT's q_proj output is
// clamped by transformers' OlmoAttention.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

class ClipQkvTest {

    @TempDir
    Path tmp;

    /** The mpt fixture (d_model 48, 6 heads, no biases, F32 weights once loaded) with attn_config.clip_qkv = {@code clip}. */
    Path mptWithClip(String clip) throws Exception {
        Path src = ReferenceFixturesTest.root().resolve("mpt"), dir = Files.createDirectories(tmp.resolve("mpt-clip-" + clip));
        String cfg = Files.readString(src.resolve("config.json"));
        assertTrue(cfg.contains("\"clip_qkv\": null"), "the mpt fixture leaves clip_qkv null");
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"clip_qkv\": null", "\"clip_qkv\": " + clip));
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        return dir;
    }

    /**
     * MptAttention: mixed_qkv = Wqkv(x), clamped to ±clip_qkv, then chunked [q | k | v]. The model's projection of random rows
     * equals clamp(x · Wqkvᵀ) in float64 (the stored rows read from the file here) within fp32's error, the clamp biting on
     * about a third of the elements; the decoder's cached steps equal its full pass; a bound no product reaches gives the
     * unclamped model's logits bit for bit, and clip_qkv 0 (falsy: MptAttention skips the clamp) is no clamp.
     */
    @Test
    void mptClampsTheFusedProjection() throws Exception {
        float clip = 0.5f;
        CpuBackend cpu = new CpuBackend();
        Path dir = mptWithClip("0.5");
        int t = 5;
        try (Weights w = Pretrained.load(dir, cpu, DType.F32)) {
            assertEquals(clip, w.config.clipQkv());
            Transformer m = new Transformer(w, cpu);
            int c = w.config.modelWidth();
            SplittableRandom rnd = new SplittableRandom(3);
            float[] x = new float[t * c];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] wqkv;
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                wqkv = f.tensor("transformer.blocks.1.attn.Wqkv.weight").toFloatArray();            // (3C, C)
            }
            float[][] got = new float[3][];
            try (Scratch s = new Scratch(cpu); Tensor in = Tensor.ofFloats(x, 1, t, c)) {
                Tensor[] qkv = m.projectQkv(s, w.decoder.layers().get(1).self(), in, true);
                for (int p = 0; p < 3; p++) got[p] = qkv[p].toFloatArray();                      // (T, NH, HS) each
            }
            int clamped = 0;
            double worst = 0;
            for (int r = 0; r < t; r++) {
                for (int o = 0; o < 3 * c; o++) {
                    double y = 0, mag = 0;
                    for (int k = 0; k < c; k++) {
                        y += (double) x[r * c + k] * wqkv[o * c + k];
                        mag += Math.abs((double) x[r * c + k] * wqkv[o * c + k]);
                    }
                    double want = Math.max(-clip, Math.min(clip, y));
                    clamped += Math.abs(y) > clip ? 1 : 0;
                    double err = Math.abs(got[o / c][r * c + o % c] - want);
                    assertTrue(err <= 1e-6 * (mag + 1), "row " + r + " column " + o + ": " + got[o / c][r * c + o % c] + " vs " + want);
                    worst = Math.max(worst, err);
                }
            }
            assertTrue(clamped > t * 3 * c / 5 && clamped < t * 3 * c, "the clamp must bite on some elements, not all: " + clamped);
            int[] seq = new int[20];
            for (int i = 0; i < seq.length; i++) seq[i] = 3 + rnd.nextInt(60);
            float[][] full = m.logits(new int[][] {seq})[0];
            double tol = 2e-5 * DecoderCacheTest.maxAbs(full);
            try (KvState st = m.newState(1, seq.length)) {
                assertTrue(Tiny.maxDiff(m.prefill(st, 0, java.util.Arrays.copyOf(seq, 6)), full, 0) <= tol, "prefill");
                for (int i = 6; i < seq.length; i++) {
                    assertTrue(Tiny.maxDiff(m.step(st, new int[] {seq[i]}), new float[][] {full[i]}, 0) <= tol, "step " + i);
                }
            }
            try (Weights plain = Pretrained.load(ReferenceFixturesTest.root().resolve("mpt"), cpu, DType.F32);
                 Weights loose = Pretrained.load(mptWithClip("1e9"), cpu, DType.F32);
                 Weights zero = Pretrained.load(mptWithClip("0"), cpu, DType.F32)) {
                float[][] a = new Transformer(plain, cpu).logits(new int[][] {seq})[0];
                assertEquals(0f, zero.config.clipQkv(), "clip_qkv 0: MptAttention's `if self.clip_qkv` skips the clamp");
                assertEquals(0.0, Tiny.maxDiff(new Transformer(loose, cpu).logits(new int[][] {seq})[0], a, 0), "a bound nothing reaches");
                assertTrue(Tiny.maxDiff(full, a, 0) > 1e-3 * DecoderCacheTest.maxAbs(a), "clip_qkv 0.5 moves the logits");
            }
        }
    }

    /**
     * OLMo with LoRA adapters on q_proj, k_proj and v_proj served from slots (unmerged: the delta is added to the
     * projection's output) gives the prompt's last logits of the model with the adapter merged by hand in float64 (PEFT's
     * W + s · B · A, whose q_proj output transformers clamps): the clamp comes after the delta. Scale 16 makes the deltas
     * large enough (about the bound's size) that clamping before them would be seen.
     */
    @Test
    void olmoClampsAfterTheLoraDelta() throws Exception {
        Path base = ReferenceFixturesTest.root().resolve("olmo");
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 64,"
                + " \"use_rslora\": false, \"bias\": \"none\", \"task_type\": \"CAUSAL_LM\"}");
        SplittableRandom rnd = new SplittableRandom(17);
        Map<String, Tensor> ad = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (String p : new String[] {"q_proj", "k_proj", "v_proj"}) {
                String mod = "base_model.model.model.layers." + l + ".self_attn." + p;
                ad.put(mod + ".lora_A.weight", LoraAdapterTest.random(rnd, 4, 32));
                ad.put(mod + ".lora_B.weight", LoraAdapterTest.random(rnd, 32, 4));
            }
        }
        SafetensorsWriter.write(adapter.resolve("adapter_model.safetensors"), ad, Map.of("format", "pt"));
        Path merged = Files.createDirectories(tmp.resolve("merged"));
        Files.copy(base.resolve("config.json"), merged.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile b = SafetensorsFile.open(base.resolve("model.safetensors"))) {
            for (String key : b.names()) {
                float[] w = b.tensor(key).toFloatArray();
                Tensor a = ad.get("base_model.model." + key.replace(".weight", ".lora_A.weight"));
                if (a != null) {
                    Tensor bb = ad.get("base_model.model." + key.replace(".weight", ".lora_B.weight"));
                    LoraAdapterTest.addDelta(w, a.toFloatArray(), bb.toFloatArray(), 32, 32, 4, 64.0 / 4);
                }
                out.put(key, Tensor.ofFloats(w, b.tensor(key).shape()));
            }
        }
        SafetensorsWriter.write(merged.resolve("model.safetensors"), out, Map.of("format", "pt"));
        int[] prompt = {5, 17, 33, 9, 41, 12, 60, 7, 28, 3, 50, 19};
        try (CpuBackend cpu = new CpuBackend(); Weights w = Pretrained.load(base, cpu, DType.F32);
             Weights mw = Pretrained.load(merged, cpu, DType.F32)) {
            assertEquals(1.5f, w.config.clipQkv());
            Transformer model = new Transformer(w, cpu);
            float[] want = new Transformer(mw, cpu).logits(new int[][] {prompt})[0][prompt.length - 1];
            try (LoraSlots slots = LoraSlots.load(model, base, Map.of("a", adapter))) {
                Tensor[][] kv = PagedBatch.allocate(model, 4);
                try {
                    float[] got = PagedBatch.prefill(model, kv, new int[] {0}, 0, prompt, slots, 0);
                    for (int x = 0; x < want.length; x++) assertEquals(want[x], got[x], 1e-4, "logit " + x);
                    float[] plain = PagedBatch.prefill(model, kv, new int[] {1}, 0, prompt, slots, -1);
                    double moved = 0;
                    for (int x = 0; x < want.length; x++) moved = Math.max(moved, Math.abs(plain[x] - want[x]));
                    assertTrue(moved > 0.05, "the adapter moves the logits: " + moved);
                } finally {
                    for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
                }
            }
        }
        ad.values().forEach(Tensor::close);
        out.values().forEach(Tensor::close);
    }
}
