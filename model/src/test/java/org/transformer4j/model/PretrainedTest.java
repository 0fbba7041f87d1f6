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
        java.util.List<Tensor> made = new java.util.ArrayList<>();          // the copies made here, closed once written
        java.util.function.UnaryOperator<Tensor> keep = t -> { made.add(t); return t; };
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
            hf.put(h + "attn.c_attn.weight", keep.apply(Tensor.ofFloats(qkv, cw, 3L * cw)));
            hf.put(h + "attn.c_attn.bias", keep.apply(Tensor.ofFloats(qkvb, 3L * cw)));
            hf.put(h + "attn.c_proj.weight", keep.apply(Tensor.ofFloats(t(l.self().o()), cw, cw)));
            hf.put(h + "attn.c_proj.bias", l.self().ob());
            hf.put(h + "mlp.c_fc.weight", keep.apply(Tensor.ofFloats(t(l.mlp().up()), cw, c.mlpWidth())));
            hf.put(h + "mlp.c_fc.bias", l.mlp().upb());
            hf.put(h + "mlp.c_proj.weight", keep.apply(Tensor.ofFloats(t(l.mlp().down()), c.mlpWidth(), cw)));
            hf.put(h + "mlp.c_proj.bias", l.mlp().downb());
            hf.put(h + "ln_1.weight", l.attnNorm().weight());
            hf.put(h + "ln_1.bias", l.attnNorm().bias());
            hf.put(h + "ln_2.weight", l.mlpNorm().weight());
            hf.put(h + "ln_2.bias", l.mlpNorm().bias());
            hf.put(h + "attn.bias", keep.apply(Tensor.ofFloats(new float[] {1}, 1)));                      // the causal-mask buffer some files carry
        }
        hf.put("ln_f.weight", w.decoder.finalNorm().weight());
        hf.put("ln_f.bias", w.decoder.finalNorm().bias());
        hf.put("lm_head.weight", w.embeddings.tokens());
        Map<String, Tensor> prefixed = new LinkedHashMap<>();
        hf.forEach((k, v) -> prefixed.put(k.startsWith("lm_head") ? k : "transformer." + k, v));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"gpt2\",\"n_embd\":" + cw + ",\"n_layer\":" + c.decoderLayers()
                + ",\"n_head\":" + c.heads() + ",\"n_inner\":" + c.mlpWidth() + ",\"n_positions\":" + c.maxPositions()
                + ",\"vocab_size\":" + c.vocabSize() + ",\"layer_norm_epsilon\":1e-05,\"activation_function\":\"gelu_new\"}");
        try {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), prefixed, Map.of("format", "pt"));
        } finally {
            made.forEach(Tensor::close);
        }
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

    /** config.json's eos_token_id may be a list (PretrainedConfig takes one): the model's own end id is its first. */
    @Test
    void anEosListInConfigJsonGivesTheModelItsFirstId(@TempDir Path dir) throws Exception {
        TransformerConfig c = Tiny.decoderOnly(Tiny.encDec().specialIds(new TransformerConfig.SpecialIds(-1, 99, 99, -1, -1)).build(), false);
        try (Weights w = Weights.random(c, CPU, 94)) {
            gpt2Folder(w, dir);
            String config = Files.readString(dir.resolve("config.json"));
            Files.writeString(dir.resolve("config.json"), "{\"eos_token_id\": [7, 9], " + config.substring(1));
            try (Weights loaded = Pretrained.load(dir, CPU)) {
                assertEquals(7, loaded.config.specialIds().eos());
            }
            assertEquals(java.util.Set.of(7, 9), GenerationConfig.eosIds(dir), "every id ends a reply");
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
            assertTrue(t5.getMessage().contains("d_model"), t5.getMessage());
        }
    }

    static void t5Folder(Weights w, Path dir) throws Exception {
        TransformerConfig c = w.config;
        Map<String, Tensor> hf = new LinkedHashMap<>();
        hf.put("shared.weight", w.embeddings.tokens());
        hf.put("encoder.embed_tokens.weight", w.embeddings.tokens());                            // the tied copies HF saves
        for (String stack : new String[] {"encoder", "decoder"}) {
            Weights.Stack st = stack.equals("encoder") ? w.encoder : w.decoder;
            for (int i = 0; i < st.layers().size(); i++) {
                Weights.Layer l = st.layers().get(i);
                String h = stack + ".block." + i + ".layer.";
                Weights.Attention[] as = l.cross() == null ? new Weights.Attention[] {l.self()} : new Weights.Attention[] {l.self(), l.cross()};
                for (int a = 0; a < as.length; a++) {
                    String p = h + a + (a == 0 ? ".SelfAttention." : ".EncDecAttention.");
                    hf.put(p + "q.weight", as[a].q());
                    hf.put(p + "k.weight", as[a].k());
                    hf.put(p + "v.weight", as[a].v());
                    hf.put(p + "o.weight", as[a].o());
                    hf.put(h + a + ".layer_norm.weight", a == 0 ? l.attnNorm().weight() : l.crossNorm().weight());
                }
                String ff = h + as.length + ".";
                if (c.gatedMlp()) {
                    hf.put(ff + "DenseReluDense.wi_0.weight", l.mlp().up());
                    hf.put(ff + "DenseReluDense.wi_1.weight", l.mlp().gate());
                } else {
                    hf.put(ff + "DenseReluDense.wi.weight", l.mlp().up());
                }
                hf.put(ff + "DenseReluDense.wo.weight", l.mlp().down());
                hf.put(ff + "layer_norm.weight", l.mlpNorm().weight());
            }
            hf.put(stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight", st.relativeBias());
            hf.put(stack + ".final_layer_norm.weight", st.finalNorm().weight());
        }
        if (!c.tiedEmbeddings()) hf.put("lm_head.weight", w.lmHead);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"t5\",\"d_model\":" + c.modelWidth() + ",\"d_kv\":" + c.headSize()
                + ",\"d_ff\":" + c.mlpWidth() + ",\"num_layers\":" + c.encoderLayers() + ",\"num_heads\":" + c.heads()
                + ",\"vocab_size\":" + c.vocabSize() + ",\"relative_attention_num_buckets\":" + c.relativeBuckets()
                + ",\"relative_attention_max_distance\":" + c.relativeMaxDistance() + ",\"feed_forward_proj\":\""
                + (c.gatedMlp() ? "gated-gelu" : "relu") + "\",\"tie_word_embeddings\":" + c.tiedEmbeddings()
                + ",\"layer_norm_epsilon\":1e-06,\"decoder_start_token_id\":0,\"eos_token_id\":1,\"pad_token_id\":0}");
        SafetensorsWriter.write(dir.resolve("model.safetensors"), hf, Map.of("format", "pt"));
    }

    @Test
    void t5FoldersV10AndV11LoadToTheSameModel(@TempDir Path dir) throws Exception {
        TransformerConfig.SpecialIds ids = new TransformerConfig.SpecialIds(0, -1, 1, 0, -1);
        TransformerConfig v11 = Tiny.t5ish().heads(2, 2, 32).specialIds(ids).t5RelativePositions(32, 128).build();
        TransformerConfig v10 = v11.toBuilder().activation(TransformerConfig.Activation.RELU, false)
                .tiedEmbeddings(true, (float) (1 / Math.sqrt(64))).build();
        for (TransformerConfig c : java.util.List.of(v11, v10)) {
            Path d = Files.createDirectories(dir.resolve(c.gatedMlp() ? "v11" : "v10"));
            try (Weights w = Weights.random(c, CPU, 94)) {
                t5Folder(w, d);
                try (Weights loaded = Pretrained.load(d, CPU)) {
                    assertEquals(c, loaded.config);
                    int[][] in = Tiny.ids(95, 1, 9), tg = Tiny.ids(96, 1, 5);
                    assertEquals(w.parameters().keySet(), loaded.parameters().keySet());
                    for (String k : w.parameters().keySet()) {
                        assertTrue(java.util.Arrays.equals(w.parameters().get(k).toFloatArray(), loaded.parameters().get(k).toFloatArray()), k);
                    }
                    // the same tensors; not compared for bit equality because the CPU backend does not repeat this (gated,
                    // GELU-tanh, untied) forward bit for bit from run to run (about 5e-7 on the same weights; v1.0 does)
                    assertTrue(Tiny.maxDiff(new Transformer(w, CPU).logits(in, tg)[0], new Transformer(loaded, CPU).logits(in, tg)[0], 0) <= 1e-5);
                    assertEquals(w.parameterCount(), loaded.parameterCount());
                }
            }
        }
    }

    /**
     * T5 output scaling and tying as transformers 4.x writes config.json (tie_word_embeddings alone: true = v1.0,
     * scaled; false = v1.1, untied and unscaled) and as 5.x does (tie_word_embeddings forced true,
     * scale_decoder_outputs says whether to scale): the reading each version's own T5 code gives.
     */
    @Test
    void t5ConfigsOfTransformers4And5ReadTheirScalingAndTying(@TempDir Path dir) throws Exception {
        String base = "{\"model_type\":\"t5\",\"d_model\":64,\"d_kv\":32,\"d_ff\":128,\"num_layers\":2,\"num_heads\":2,"
                + "\"vocab_size\":1000,\"feed_forward_proj\":\"gated-gelu\"";
        float scaled = (float) (1 / Math.sqrt(64));
        Object[][] cases = {
            {"4.x v1.0", ",\"tie_word_embeddings\":true}", true, scaled},
            {"4.x v1.1", ",\"tie_word_embeddings\":false}", false, 1f},
            {"4.x default", "}", true, scaled},
            {"5.x v1.0", ",\"tie_word_embeddings\":true,\"scale_decoder_outputs\":true}", true, scaled},
            {"5.x v1.1", ",\"tie_word_embeddings\":true,\"scale_decoder_outputs\":false}", true, 1f},
            {"5.x-read 4.x v1.1 saved untied", ",\"tie_word_embeddings\":false,\"scale_decoder_outputs\":false}", false, 1f},
        };
        for (Object[] c : cases) {
            Path f = dir.resolve(((String) c[0]).replace(' ', '_') + ".json");
            Files.writeString(f, base + c[1]);
            TransformerConfig t = Pretrained.t5Config(org.transformer4j.model.weights.HfConfig.read(f));
            assertEquals(c[2], t.tiedEmbeddings(), (String) c[0]);
            assertEquals((float) c[3], t.outputScale(), (String) c[0]);
        }
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, base + ",\"scale_decoder_outputs\":\"yes\"}");
        Exception e = assertThrows(Exception.class, () -> Pretrained.t5Config(org.transformer4j.model.weights.HfConfig.read(bad)));
        assertTrue(e.getMessage().contains("scale_decoder_outputs"), e.getMessage());
    }
}
