// PretrainedTest — a Hugging Face GPT-2 folder written from random weights in GPT-2's own layout
// (Conv1D [in, out] matrices, fused c_attn, tied lm_head copy) is checked by HfLayout, loaded by
// Pretrained, and gives the original model's logits; bad folders are refused with the reason.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class PretrainedTest {

    static final CpuBackend CPU = new CpuBackend();

    /** (out, in) → GPT-2's Conv1D (in, out). */
    static float[] t(Tensor w) {
        int out = (int) w.shape(0), in = (int) w.shape(1);
        float[] a = w.toFloatArray(), r = new float[a.length];
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) r[i * out + o] = a[o * in + i];
        return r;
    }

    static void gpt2Folder(Weights w, Path dir) throws Exception {
        TransformerConfig c = w.config;
        int cw = c.modelWidth();
        Map<String, Tensor> hf = new LinkedHashMap<>();
        hf.put("wte.weight", w.embeddings.tokens());
        hf.put("wpe.weight", w.embeddings.positions());
        for (int i = 0; i < c.decoderLayers(); i++) {
            Weights.Layer l = w.decoder.layers().get(i);
            String h = "h." + i + ".";
            float[] q = t(l.self().q()), k = t(l.self().k()), v = t(l.self().v());
            float[] qkv = new float[cw * 3 * cw], qkvb = new float[3 * cw];
            for (int r = 0; r < cw; r++) {
                System.arraycopy(q, r * cw, qkv, r * 3 * cw, cw);
                System.arraycopy(k, r * cw, qkv, r * 3 * cw + cw, cw);
                System.arraycopy(v, r * cw, qkv, r * 3 * cw + 2 * cw, cw);
            }
            System.arraycopy(l.self().qb().toFloatArray(), 0, qkvb, 0, cw);
            System.arraycopy(l.self().kb().toFloatArray(), 0, qkvb, cw, cw);
            System.arraycopy(l.self().vb().toFloatArray(), 0, qkvb, 2 * cw, cw);
            hf.put(h + "attn.c_attn.weight", Tensor.ofFloats(qkv, cw, 3L * cw));
            hf.put(h + "attn.c_attn.bias", Tensor.ofFloats(qkvb, 3L * cw));
            hf.put(h + "attn.c_proj.weight", Tensor.ofFloats(t(l.self().o()), cw, cw));
            hf.put(h + "attn.c_proj.bias", l.self().ob());
            hf.put(h + "mlp.c_fc.weight", Tensor.ofFloats(t(l.mlp().up()), cw, c.mlpWidth()));
            hf.put(h + "mlp.c_fc.bias", l.mlp().upb());
            hf.put(h + "mlp.c_proj.weight", Tensor.ofFloats(t(l.mlp().down()), c.mlpWidth(), cw));
            hf.put(h + "mlp.c_proj.bias", l.mlp().downb());
            hf.put(h + "ln_1.weight", l.attnNorm().weight());
            hf.put(h + "ln_1.bias", l.attnNorm().bias());
            hf.put(h + "ln_2.weight", l.mlpNorm().weight());
            hf.put(h + "ln_2.bias", l.mlpNorm().bias());
            hf.put(h + "attn.bias", Tensor.ofFloats(new float[] {1}, 1));                      // the causal-mask buffer some files carry
        }
        hf.put("ln_f.weight", w.decoder.finalNorm().weight());
        hf.put("ln_f.bias", w.decoder.finalNorm().bias());
        hf.put("lm_head.weight", w.embeddings.tokens());
        Map<String, Tensor> prefixed = new LinkedHashMap<>();
        hf.forEach((k, v) -> prefixed.put(k.startsWith("lm_head") ? k : "transformer." + k, v));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"gpt2\",\"n_embd\":" + cw + ",\"n_layer\":" + c.decoderLayers()
                + ",\"n_head\":" + c.heads() + ",\"n_inner\":" + c.mlpWidth() + ",\"n_positions\":" + c.maxPositions()
                + ",\"vocab_size\":" + c.vocabSize() + ",\"layer_norm_epsilon\":1e-05,\"activation_function\":\"gelu_new\"}");
        SafetensorsWriter.write(dir.resolve("model.safetensors"), prefixed, Map.of("format", "pt"));
    }

    @Test
    void aGpt2FolderLoadsToTheSameModel(@TempDir Path dir) throws Exception {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().specialIds(new TransformerConfig.SpecialIds(-1, 99, 99, -1, -1)).build(), false);
        try (Weights w = Weights.random(c, CPU, 91)) {
            gpt2Folder(w, dir);
            try (Weights loaded = Pretrained.load(dir, CPU)) {
                assertEquals(c, loaded.config);
                int[][] ids = Tiny.ids(92, 2, 20);
                float[][][] a = new Transformer(w, CPU).logits(ids), b = new Transformer(loaded, CPU).logits(ids);
                for (int r = 0; r < 2; r++) assertEquals(0, Tiny.maxDiff(a[r], b[r], 0), "same tensors, same code: the same logits");
                assertEquals(w.parameterCount(), loaded.parameterCount());
            }
        }
    }

    @Test
    void badFoldersAreRefusedWithTheReason(@TempDir Path dir) throws Exception {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().specialIds(new TransformerConfig.SpecialIds(-1, 99, 99, -1, -1)).build(), false);
        try (Weights w = Weights.random(c, CPU, 93)) {
            gpt2Folder(w, dir);
            Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json")).replace("\"n_inner\":128", "\"n_inner\":96"));
            Exception e = assertThrows(Exception.class, () -> Pretrained.load(dir, CPU));
            assertTrue(e.getMessage().contains("mlp.c_fc.weight") && e.getMessage().contains(dir.toString()), e.getMessage());
            Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"t5\"}");
            Exception t5 = assertThrows(Exception.class, () -> Pretrained.load(dir, CPU));
            assertTrue(t5.getMessage().contains("gpt2 and bert"), t5.getMessage());
        }
    }
}
