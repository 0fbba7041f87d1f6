// HfDecodersConfigTest — config.json of the RoPE decoders read as transformers' configuration classes read
// them: defaults per family (Qwen3's head_dim 128, Gemma's 256, tied Gemma), which layers slide (Mistral all,
// Qwen2 from max_window_layers and only with use_sliding_window, layer_types when given), 4.x rope_scaling
// ("type" or "rope_type") and 5.x rope_parameters, eos id lists; and clear errors for what is not implemented.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

class HfDecodersConfigTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    private static String base(String type, String extra) {
        return "{\"model_type\": \"" + type + "\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 3,"
                + " \"intermediate_size\": 96, \"vocab_size\": 300" + extra + "}";
    }

    @Test
    void familyDefaults() throws Exception {
        TransformerConfig llama = read(base("llama", ", \"eos_token_id\": [7, 8, 9]"));
        assertEquals(16, llama.headSize());
        assertEquals(4, llama.kvHeads());
        assertEquals(7, llama.specialIds().eos(), "Llama 3 lists eos ids; the first is the config's");
        assertEquals(false, llama.tiedEmbeddings());
        assertEquals(List.of(), llama.windows());
        assertEquals(10000, llama.rope().theta());
        assertEquals(128, read(base("qwen3", "")).headSize(), "Qwen3Config(head_dim=128)");
        TransformerConfig gemma = read(base("gemma", ""));
        assertEquals(256, gemma.headSize(), "GemmaConfig(head_dim=256)");
        assertTrue(gemma.tiedEmbeddings());
        assertEquals(TransformerConfig.Activation.GELU_TANH, gemma.activation());
        assertEquals(8f, gemma.embeddingScale());
        TransformerConfig qwen2 = read(base("qwen2", ""));
        assertTrue(qwen2.qkvBias() && !qwen2.outBias() && !qwen2.mlpBias(), "Qwen2: bias on q, k, v only");
        assertEquals(8, read(base("phi3", ", \"partial_rotary_factor\": 0.5")).rope().rotaryDim());
    }

    /**
     * The context a folder is served with, as vLLM derives max_model_len from config.json: max_position_embeddings; × the
     * factor of linear and dynamic scaling; yarn's original positions × factor (Qwen2.5's documented 32768 × 4); llama3
     * and LongRoPE as given; Gemma 3's linear factor not applied twice (its positions are the scaled ones already).
     */
    @Test
    void contextPositionsAreVllmsDerivedMaxModelLen() throws Exception {
        String mpe = ", \"max_position_embeddings\": 4096";
        assertEquals(4096, read(base("llama", mpe)).contextPositions());
        assertEquals(16384, read(base("llama", mpe + ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}")).contextPositions(),
                "Vicuna-16k's layout: 4096 positions, linear × 4");
        assertEquals(8192, read(base("llama", mpe + ", \"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 2.0}")).contextPositions());
        assertEquals(131072, read(base("qwen2", ", \"max_position_embeddings\": 32768, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0,"
                + " \"original_max_position_embeddings\": 32768}")).contextPositions());
        assertEquals(131072, read(base("qwen3", ", \"max_position_embeddings\": 40960, \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0,"
                + " \"original_max_position_embeddings\": 32768}")).contextPositions(), "yarn: the original positions × factor, not max_position_embeddings");
        assertEquals(131072, read(base("llama", ", \"max_position_embeddings\": 131072, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0,"
                + " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}")).contextPositions());
        assertEquals(131072, read("{\"model_type\": \"gemma3_text\", \"max_position_embeddings\": 131072, \"rope_scaling\": {\"rope_type\": \"linear\","
                + " \"factor\": 8.0}, \"vocab_size\": 300}").contextPositions(), "Gemma 3's 128k, not 1M");
    }

    /**
     * gpt-oss-20b's shape (24 layers, 32 experts top-4, 64 heads of 64 over 8 KV heads, sliding 128) in the 4.x layout the
     * published folder uses, and GptOssConfig's defaults when a config leaves the rope, the layer types and the SwiGLU out.
     */
    @Test
    void gptOssConfigs() throws Exception {
        StringBuilder types = new StringBuilder();
        for (int i = 0; i < 24; i++) types.append(i == 0 ? "" : ", ").append(i % 2 == 0 ? "\"sliding_attention\"" : "\"full_attention\"");
        TransformerConfig c = read("{\"model_type\": \"gpt_oss\", \"hidden_size\": 2880, \"intermediate_size\": 2880, \"head_dim\": 64,"
                + " \"num_attention_heads\": 64, \"num_key_value_heads\": 8, \"num_hidden_layers\": 24, \"num_local_experts\": 32,"
                + " \"num_experts_per_tok\": 4, \"experts_per_token\": 4, \"vocab_size\": 201088, \"sliding_window\": 128,"
                + " \"layer_types\": [" + types + "], \"max_position_embeddings\": 131072, \"rms_norm_eps\": 1e-05,"
                + " \"rope_theta\": 150000, \"rope_scaling\": {\"beta_fast\": 32.0, \"beta_slow\": 1.0, \"factor\": 32.0,"
                + " \"original_max_position_embeddings\": 4096, \"rope_type\": \"yarn\", \"truncate\": false}, \"swiglu_limit\": 7.0,"
                + " \"attention_bias\": true, \"tie_word_embeddings\": false, \"pad_token_id\": 199999, \"eos_token_id\": 200002,"
                + " \"quantization_config\": {\"quant_method\": \"mxfp4\"}}");
        assertEquals(64, c.headSize());
        assertEquals(8, c.kvHeads());
        assertTrue(c.attentionSinks() && c.qkvBias() && c.outBias() && !c.mlpBias());
        assertEquals(TransformerConfig.Activation.SWIGLU_OAI, c.activation());
        assertEquals(new TransformerConfig.Moe(32, 4, true, 2880, 0, false, List.of(), true), c.moe());
        assertEquals(128, c.window(0));
        assertEquals(0, c.window(1));
        assertEquals(TransformerConfig.Rope.Scaling.YARN, c.rope().scaling());
        assertEquals(0.1 * Math.log(32) + 1, c.rope().attentionFactor(), 1e-12);
        assertEquals(false, c.rope().yarn().truncate());
        assertEquals(199999, c.specialIds().pad());
        // GptOssConfig's defaults: yarn over 4096 positions, the even layers sliding (128)
        TransformerConfig d = read("{\"model_type\": \"gpt_oss\", \"hidden_size\": 64, \"intermediate_size\": 64, \"head_dim\": 16,"
                + " \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"num_hidden_layers\": 3, \"num_local_experts\": 4,"
                + " \"num_experts_per_tok\": 2, \"vocab_size\": 300}");
        assertEquals(List.of(128, 0, 128), d.windows());
        assertEquals(150000, d.rope().theta());
        assertEquals(4096, d.rope().originalMaxPositions());
        assertEquals(32, d.rope().factor());
    }

    @Test
    void whichLayersSlide() throws Exception {
        assertEquals(List.of(7, 7, 7), read(base("mistral", ", \"sliding_window\": 7")).windows());
        assertEquals(List.of(), read(base("mistral", ", \"sliding_window\": null")).windows());
        assertEquals(List.of(), read(base("qwen2", ", \"sliding_window\": 6, \"max_window_layers\": 1")).windows(),
                "Qwen2 drops sliding_window unless use_sliding_window");
        assertEquals(List.of(0, 6, 6), read(base("qwen2", ", \"sliding_window\": 6, \"max_window_layers\": 1, \"use_sliding_window\": true")).windows());
        assertEquals(List.of(6, 0, 6), read(base("qwen2", ", \"sliding_window\": 6, \"use_sliding_window\": true, \"layer_types\":"
                + " [\"sliding_attention\", \"full_attention\", \"sliding_attention\"]")).windows());
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(base("mistral",
                ", \"layer_types\": [\"sliding_attention\", \"full_attention\", \"full_attention\"]")));
        assertTrue(e.getMessage().contains("sliding_window"), e.getMessage());
    }

    @Test
    void ropeSettingsFromEitherLayout() throws Exception {
        TransformerConfig v4 = read(base("llama", ", \"rope_theta\": 500000.0, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 4.0}"));
        assertEquals(TransformerConfig.Rope.Scaling.LINEAR, v4.rope().scaling());
        assertEquals(500000, v4.rope().theta());
        TransformerConfig v5 = read(base("llama", ", \"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 500000.0,"
                + " \"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}"));
        assertEquals(TransformerConfig.Rope.Scaling.LLAMA3, v5.rope().scaling());
        assertEquals(8192, v5.rope().originalMaxPositions());
        assertEquals(500000, v5.rope().theta());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> read(base("llama", ", \"rope_scaling\": {\"type\": \"mrope\", \"factor\": 2.0}")));
        assertTrue(e.getMessage().contains("mrope") && e.getMessage().contains("config.json"), e.getMessage());
    }

    /** Gemma 2's fields as Gemma2Config defaults them, and null soft-capping turning the capping off. */
    @Test
    void gemma2Defaults() throws Exception {
        TransformerConfig g = read(base("gemma2", ""));
        assertEquals(256, g.headSize());
        assertEquals((float) (1 / Math.sqrt(256)), g.attentionScale());
        assertEquals(50f, g.attentionSoftcap());
        assertEquals(30f, g.logitSoftcap());
        assertTrue(g.sandwichNorms());
        assertEquals(List.of(4096, 0, 4096), g.windows(), "even layers slide (Gemma2Config: (i + 1) % 2)");
        assertEquals(true, g.tiedEmbeddings());
        TransformerConfig off = read(base("gemma2", ", \"query_pre_attn_scalar\": 144, \"attn_logit_softcapping\": null,"
                + " \"final_logit_softcapping\": null, \"sliding_window\": 8, \"layer_types\": [\"full_attention\","
                + " \"sliding_attention\", \"sliding_attention\"]"));
        assertEquals(0f, off.attentionSoftcap());
        assertEquals(0f, off.logitSoftcap());
        assertEquals((float) (1 / Math.sqrt(144)), off.attentionScale());
        assertEquals(List.of(0, 8, 8), off.windows());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> read(base("gemma2", ", \"attn_logit_softcapping\": -1.0")));
        assertTrue(e.getMessage().contains("attn_logit_softcapping"), e.getMessage());
        TransformerConfig llama = read(base("llama", ""));
        assertEquals(0f, llama.attentionSoftcap());
        assertEquals(false, llama.sandwichNorms());
    }

    /**
     * OLMo (OlmoConfig): LayerNorms without weight or bias at eps 1e-5 whatever the config says (OlmoLayerNorm), none of
     * them in the checkpoint's layout; no MLP biases whatever mlp_bias says (OlmoMLP), attention_bias on q/k/v/o; clip_qkv
     * (null: none; ≤ 0 refused); pad 1 and eos 50279 when absent, bos none; untied, 2048 positions, rope_theta 10000.
     */
    @Test
    void olmoWeightlessNormsAndClip() throws Exception {
        TransformerConfig o = read(base("olmo", ", \"layer_norm_eps\": 0.1, \"rms_norm_eps\": 0.1, \"mlp_bias\": true, \"clip_qkv\": 8.0"));
        assertEquals(TransformerConfig.NormKind.LAYER_NORM, o.norm());
        assertEquals(1e-5f, o.normEps(), "OlmoLayerNorm's eps is fixed");
        assertTrue(!o.biases() && !o.qkvBias() && !o.outBias() && !o.mlpBias() && !o.tiedEmbeddings() && o.inputNorms() && !o.qkNorm());
        assertEquals(8f, o.clipQkv());
        assertEquals(2048, o.maxPositions());
        assertEquals(10000.0, o.rope().theta());
        assertEquals(new TransformerConfig.SpecialIds(1, -1, -1, -1, -1), o.specialIds(), "eos 50279 is past this vocabulary of 300");
        assertEquals(50279, read("{\"model_type\": \"olmo\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 3,"
                + " \"intermediate_size\": 96, \"vocab_size\": 50304}").specialIds().eos(), "OlmoConfig's eos_token_id");
        TransformerConfig plain = read(base("olmo", ", \"clip_qkv\": null, \"attention_bias\": true, \"pad_token_id\": 0"));
        assertEquals(0f, plain.clipQkv(), "clip_qkv null: no clamp");
        assertTrue(plain.qkvBias() && plain.outBias() && !plain.mlpBias());
        assertEquals(0, plain.specialIds().pad());
        org.transformer4j.model.weights.HfLayout layout = HfDecoders.layout(o, "olmo");
        assertTrue(layout.shapes().keySet().stream().noneMatch(k -> k.contains("norm")), "OLMo's checkpoints hold no norm tensors: " + layout.shapes().keySet());
        assertTrue(layout.required().contains("lm_head.weight") && layout.required().contains("model.layers.2.self_attn.q_proj.weight"));
        for (String bad : new String[] {"0", "-8.0", "0.0"}) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> read(base("olmo", ", \"clip_qkv\": " + bad)));
            assertTrue(e.getMessage().contains("clip_qkv must be null or a finite number > 0"), e.getMessage());
        }
    }

    /**
     * OLMo 2: q/k norms over the whole projections, no input norms, output norms; rms_norm_eps 1e-5 by default; pad 1 and
     * eos 50279 when absent (Olmo2Config, OlmoeConfig).
     */
    @Test
    void olmo2Norms() throws Exception {
        TransformerConfig o = read(base("olmo2", ", \"num_key_value_heads\": 2"));
        assertTrue(o.qkNorm() && o.qkNormWide() && o.sandwichNorms() && !o.inputNorms());
        assertEquals(1e-5f, o.normEps());
        assertEquals(false, o.tiedEmbeddings());
        org.transformer4j.model.weights.HfLayout layout = HfDecoders.layout(o, "olmo2");
        assertEquals(java.util.Set.of("model.layers.0.post_attention_layernorm.weight", "model.layers.0.post_feedforward_layernorm.weight"),
                layout.required().stream().filter(k -> k.startsWith("model.layers.0.") && k.endsWith("layernorm.weight"))
                        .collect(java.util.stream.Collectors.toSet()));
        assertEquals(32, layout.shapes().get("model.layers.0.self_attn.k_norm.weight")[0], "NKV · HS = 2 · 16");
        assertEquals(64, layout.shapes().get("model.layers.0.self_attn.q_norm.weight")[0], "NH · HS = 4 · 16");
        java.util.function.BiFunction<String, String, String> wide = (type, extra) -> base(type, extra).replace("\"vocab_size\": 300",
                "\"vocab_size\": 100352");                                  // ids past base()'s 300 are dropped
        TransformerConfig absent = read(wide.apply("olmo2", ""));
        assertEquals(1, absent.specialIds().pad(), "Olmo2Config's pad_token_id when absent");
        assertEquals(50279, absent.specialIds().eos(), "Olmo2Config's eos_token_id when absent");
        TransformerConfig given = read(wide.apply("olmo2", ", \"pad_token_id\": 100277, \"eos_token_id\": 100257"));
        assertEquals(100277, given.specialIds().pad());
        assertEquals(100257, given.specialIds().eos());
        TransformerConfig olmoe = read(wide.apply("olmoe", ""));
        assertEquals(1, olmoe.specialIds().pad(), "OlmoeConfig's pad_token_id when absent");
        assertEquals(50279, olmoe.specialIds().eos(), "OlmoeConfig's eos_token_id when absent");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransformerConfig.builder().vocabSize(10).widths(8, 16, 2).decoderLayers(1).inputNorms(false).build());
        assertTrue(e.getMessage().contains("sandwichNorms"), e.getMessage());
    }

    private static final String EXAONE4_LLAMA3 = "{\"rope_type\": \"llama3\", \"factor\": 16.0, \"low_freq_factor\": 1.0,"
            + " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}";

    private static String exaone4(int layers, String extra) {
        return "{\"model_type\": \"exaone4\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": " + layers
                + ", \"intermediate_size\": 96, \"vocab_size\": 500" + extra + "}";
    }

    /**
     * EXAONE 4.0 (Exaone4Config): OLMo 2's norm placement with Qwen3's per-head q/k norms; without layer_types layer i
     * slides over 4096 keys unless (i + 1) % 4 == 0, the full layers without RoPE; 32 key/value heads, rms_norm_eps 1e-5,
     * bos 0, eos 2, no pad, untied, theta 10000, 2048 positions; every key absent (Exaone4Config's 4096-wide defaults).
     */
    @Test
    void exaone4Defaults() throws Exception {
        TransformerConfig e = read(exaone4(8, ", \"num_key_value_heads\": 4"));
        assertTrue(e.qkNorm() && !e.qkNormWide() && e.sandwichNorms() && !e.inputNorms(), "OLMo 2's placement, per-head q/k norms");
        assertEquals(1e-5f, e.normEps());
        assertEquals(16, e.headSize());
        assertEquals(List.of(4096, 4096, 4096, 0, 4096, 4096, 4096, 0), e.windows());
        assertEquals(List.of(3, 7), e.nopeLayers(), "the full (global) layers take no RoPE");
        assertTrue(e.ropeAt(0) && !e.ropeAt(3));
        assertEquals(TransformerConfig.Rope.plain(10000, 16), e.rope());
        assertEquals(2048, e.maxPositions());
        assertEquals(-1, e.specialIds().pad());
        assertEquals(0, e.specialIds().bos());
        assertEquals(2, e.specialIds().eos());
        assertFalse(e.tiedEmbeddings());
        assertFalse(e.qkvBias() || e.outBias() || e.mlpBias());
        assertEquals(32, read("{\"model_type\": \"exaone4\", \"hidden_size\": 2048, \"num_attention_heads\": 64}").kvHeads(), "Exaone4Config(num_key_value_heads=32), not the number of heads");
        TransformerConfig all = read("{\"model_type\": \"exaone4\"}");
        assertEquals(List.of(4096, 16384, 32, 32, 32, 128, 102400), List.of(all.modelWidth(), all.mlpWidth(), all.decoderLayers(),
                all.heads(), all.kvHeads(), all.headSize(), all.vocabSize()), "Exaone4Config's defaults");
        assertEquals(32, read(exaone4(4, ", \"num_key_value_heads\": 4, \"head_dim\": 32")).headSize(), "head_dim as given");
        assertEquals(List.of(9, 0, 9, 0), read(exaone4(4, ", \"num_key_value_heads\": 4, \"sliding_window\": 9, \"sliding_window_pattern\": 2"))
                .windows());
    }

    /**
     * The layer types both ways: EXAONE-4.0-32B's (layer_types beside a string sliding_window_pattern, llama3 scaling) and
     * EXAONE-4.0-1.2B's (sliding_window null, every layer full — and every layer rotating, as Exaone4Attention rotates
     * whenever sliding_window is None; tied); 5.x rope_parameters read alike; a window set with only full layers rotates none.
     */
    @Test
    void exaone4LayerTypes() throws Exception {
        String lt = ", \"layer_types\": [\"sliding_attention\", \"sliding_attention\", \"sliding_attention\", \"full_attention\"]";
        TransformerConfig big = read(exaone4(4, ", \"num_key_value_heads\": 2, \"sliding_window\": 4096, \"sliding_window_pattern\": \"LLLG\""
                + lt + ", \"rope_theta\": 1000000, \"rope_scaling\": " + EXAONE4_LLAMA3 + ", \"bos_token_id\": 1, \"eos_token_id\": 361,"
                + " \"pad_token_id\": 0"));
        assertEquals(List.of(4096, 4096, 4096, 0), big.windows());
        assertEquals(List.of(3), big.nopeLayers());
        assertEquals(TransformerConfig.Rope.Scaling.LLAMA3, big.rope().scaling());
        assertEquals(1e6, big.rope().theta());
        assertEquals(0, big.specialIds().pad());
        assertEquals(361, big.specialIds().eos());
        TransformerConfig v5 = read(exaone4(4, ", \"num_key_value_heads\": 2, \"sliding_window\": 4096" + lt + ", \"rope_parameters\": "
                + EXAONE4_LLAMA3.replace("{", "{\"rope_theta\": 1000000, ")));
        assertEquals(big.rope(), v5.rope(), "5.x rope_parameters = rope_theta + rope_scaling");
        TransformerConfig small = read(exaone4(3, ", \"num_key_value_heads\": 2, \"sliding_window\": null, \"sliding_window_pattern\": null,"
                + " \"layer_types\": [\"full_attention\", \"full_attention\", \"full_attention\"], \"tie_word_embeddings\": true"));
        assertEquals(List.of(), small.windows());
        assertEquals(List.of(), small.nopeLayers(), "sliding_window null: every layer rotates");
        assertTrue(small.tiedEmbeddings());
        TransformerConfig allFull = read(exaone4(2, ", \"num_key_value_heads\": 2, \"sliding_window\": 8,"
                + " \"layer_types\": [\"full_attention\", \"full_attention\"]"));
        assertEquals(List.of(0, 1), allFull.nopeLayers(), "a window set: full layers are NoPE even when none slides");
    }

    @Test
    void exaone4Refusals() throws Exception {
        String kv = ", \"num_key_value_heads\": 2";
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(exaone4(4, kv + ", \"sliding_window_pattern\": \"LLLG\"")));
        assertTrue(e.getMessage().contains("sliding_window_pattern"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(exaone4(4, kv + ", \"sliding_window\": null")));
        assertTrue(e.getMessage().contains("sliding_window is null"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(exaone4(4, kv + ", \"sliding_window_pattern\": null")));
        assertTrue(e.getMessage().contains("sliding_window_pattern"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(exaone4(2, kv + ", \"sliding_window\": null,"
                + " \"layer_types\": [\"sliding_attention\", \"full_attention\"]")));
        assertTrue(e.getMessage().contains("sliding_window"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(exaone4(4, kv + ", \"head_dim\": null")));
        assertTrue(e.getMessage().contains("head_dim"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(exaone4(4, kv + ", \"partial_rotary_factor\": 0.5")));
        assertTrue(e.getMessage().contains("partial_rotary_factor"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(exaone4(4, kv + ", \"hidden_act\": \"gelu\"")));
        assertTrue(e.getMessage().contains("hidden_act"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(exaone4(4, kv + ", \"layer_types\": [\"full_attention\"]")));
        assertTrue(e.getMessage().contains("layer_types"), e.getMessage());
    }

    /**
     * ERNIE 4.5 (Ernie4_5Config): every key absent gives the 0.3B's shape (head_dim 128 — not hidden / heads — 2 key/value
     * heads, tied, no biases, theta 500000 over the whole head, eps 1e-5, pad 0, bos 1, eos 2); a null head_dim is hidden /
     * heads and a null num_key_value_heads the number of heads; use_bias biases all seven projections.
     */
    @Test
    void ernie45Defaults() throws Exception {
        TransformerConfig all = read("{\"model_type\": \"ernie4_5\"}");
        assertEquals(List.of(1024, 3072, 18, 16, 2, 128, 103424), List.of(all.modelWidth(), all.mlpWidth(), all.decoderLayers(),
                all.heads(), all.kvHeads(), all.headSize(), all.vocabSize()), "Ernie4_5Config's defaults");
        assertEquals(TransformerConfig.Rope.plain(500000, 128), all.rope());
        assertEquals(1e-5f, all.normEps());
        assertEquals(131072, all.maxPositions());
        assertEquals(List.of(0, 1, 2), List.of(all.specialIds().pad(), all.specialIds().bos(), all.specialIds().eos()));
        assertTrue(all.tiedEmbeddings());
        assertFalse(all.qkvBias() || all.outBias() || all.mlpBias());
        TransformerConfig nulls = read("{\"model_type\": \"ernie4_5\", \"hidden_size\": 64, \"num_attention_heads\": 4,"
                + " \"head_dim\": null, \"num_key_value_heads\": null, \"use_bias\": true, \"rope_theta\": 10000}");
        assertEquals(16, nulls.headSize(), "a null head_dim is hidden_size // heads");
        assertEquals(4, nulls.kvHeads(), "a null num_key_value_heads is the number of heads");
        assertTrue(nulls.qkvBias() && nulls.outBias() && nulls.mlpBias(), "use_bias: q/k/v, o and the MLP's projections");
        assertEquals(TransformerConfig.Rope.plain(10000, 16), nulls.rope());
        assertEquals(TransformerConfig.Rope.plain(20000, 128), read("{\"model_type\": \"ernie4_5\", \"rope_parameters\":"
                + " {\"rope_type\": \"default\", \"rope_theta\": 20000}}").rope(), "5.x rope_parameters");
    }

    @Test
    void ernie45Refusals() throws Exception {
        // ernie4_5_moe is supported now (HfErnie45MoeTest); its biased experts stay refused by name
        CheckpointException e = assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"ernie4_5_moe\", \"use_bias\": true}"));
        assertTrue(e.getMessage().contains("use_bias"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"ernie4_5\", \"partial_rotary_factor\": 0.5}"));
        assertTrue(e.getMessage().contains("partial_rotary_factor"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"ernie4_5\", \"rope_parameters\":"
                + " {\"rope_type\": \"default\", \"rope_theta\": 500000, \"partial_rotary_factor\": 0.5}}"));
        assertTrue(e.getMessage().contains("partial_rotary_factor"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"ernie4_5\", \"hidden_act\": \"gelu\"}"));
        assertTrue(e.getMessage().contains("hidden_act"), e.getMessage());
    }

    private static String seedOss(String extra) {
        return "{\"model_type\": \"seed_oss\", \"hidden_size\": 64, \"num_attention_heads\": 16, \"num_hidden_layers\": 2,"
                + " \"intermediate_size\": 96, \"vocab_size\": 500" + extra + "}";
    }

    /**
     * Seed-OSS (SeedOssConfig): Llama's layers with q/k/v biases on by default, o_proj's and the MLP's off, each flag read
     * alone; head_dim 128 when absent (hidden // heads only when null), 8 key/value heads (null: the heads), rms_norm_eps
     * 1e-6, pad 1, bos 0, eos 2, untied, theta 10000, 524288 positions; every key absent (the 36B-style defaults).
     */
    @Test
    void seedOssDefaults() throws Exception {
        TransformerConfig s = read(seedOss(", \"num_key_value_heads\": 2"));
        assertTrue(s.qkvBias() && !s.outBias() && !s.mlpBias(), "attention_bias true, attention_out_bias and mlp_bias false");
        assertEquals(128, s.headSize(), "SeedOssConfig(head_dim=128), not hidden / heads");
        assertEquals(4, read(seedOss(", \"num_key_value_heads\": 2, \"head_dim\": null")).headSize(), "null: hidden // heads");
        assertEquals(32, read(seedOss(", \"num_key_value_heads\": 2, \"head_dim\": 32")).headSize(), "head_dim as given");
        assertEquals(1e-6f, s.normEps());
        assertEquals(TransformerConfig.Rope.plain(10000, 128), s.rope());
        assertEquals(524288, s.maxPositions());
        assertEquals(List.of(1, 0, 2), List.of(s.specialIds().pad(), s.specialIds().bos(), s.specialIds().eos()));
        assertFalse(s.tiedEmbeddings());
        assertTrue(s.inputNorms() && !s.sandwichNorms() && !s.qkNorm() && s.windows().isEmpty() && s.nopeLayers().isEmpty());
        assertEquals(8, read(seedOss("")).kvHeads(), "SeedOssConfig(num_key_value_heads=8)");
        assertEquals(16, read(seedOss(", \"num_key_value_heads\": null")).kvHeads(), "null: the number of heads");
        TransformerConfig out = read(seedOss(", \"attention_bias\": false, \"attention_out_bias\": true"));
        assertTrue(!out.qkvBias() && out.outBias() && !out.mlpBias(), "attention_out_bias alone: o_proj only");
        TransformerConfig mlp = read(seedOss(", \"attention_bias\": false, \"mlp_bias\": true"));
        assertTrue(!mlp.qkvBias() && !mlp.outBias() && mlp.mlpBias(), "mlp_bias alone");
        TransformerConfig v5 = read(seedOss(", \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000000.0}"));
        assertEquals(TransformerConfig.Rope.plain(1e7, 128), v5.rope(), "Seed-OSS-36B's theta 1e7 in 5.x rope_parameters");
        assertEquals(v5.rope(), read(seedOss(", \"rope_theta\": 10000000.0, \"rope_scaling\": {\"rope_type\": \"default\"}")).rope());
        TransformerConfig all = read("{\"model_type\": \"seed_oss\"}");
        assertEquals(List.of(4096, 27648, 64, 80, 8, 128, 155136), List.of(all.modelWidth(), all.mlpWidth(), all.decoderLayers(),
                all.heads(), all.kvHeads(), all.headSize(), all.vocabSize()), "SeedOssConfig's defaults");
    }

    @Test
    void seedOssRefusals() throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(seedOss(", \"hidden_act\": \"gelu\"")));
        assertTrue(e.getMessage().contains("hidden_act"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(seedOss(", \"partial_rotary_factor\": 0.5")));
        assertTrue(e.getMessage().contains("partial_rotary_factor"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(seedOss(", \"num_key_value_heads\": 3")));
        assertTrue(e.getMessage().contains("num_key_value_heads"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(seedOss(", \"rope_scaling\": {\"rope_type\": \"mrope\"}")));
        assertTrue(e.getMessage().contains("mrope"), e.getMessage());
    }

    private static final String OLMO3_YARN = "{\"rope_type\": \"yarn\", \"factor\": 8.0, \"original_max_position_embeddings\": 8192,"
            + " \"attention_factor\": 1.2079441541679836, \"beta_fast\": 32, \"beta_slow\": 1}";

    private static String olmo3(int layers, String extra) {
        return "{\"model_type\": \"olmo3\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": " + layers
                + ", \"intermediate_size\": 96, \"vocab_size\": 60000" + extra + "}";
    }

    /**
     * OLMo 3 (Olmo3Config): OLMo 2's norms; without layer_types every fourth layer full and the others sliding over 4096 keys;
     * rope_theta 500000, pad 1, eos 50279 when absent; no rope_scaling: one rope for all layers.
     */
    @Test
    void olmo3Defaults() throws Exception {
        TransformerConfig o = read(olmo3(8, ""));
        assertTrue(o.qkNorm() && o.qkNormWide() && o.sandwichNorms() && !o.inputNorms(), "OLMo 2's layers");
        assertEquals(1e-5f, o.normEps());
        assertEquals(List.of(4096, 4096, 4096, 0, 4096, 4096, 4096, 0), o.windows());
        assertEquals(TransformerConfig.Rope.plain(500000, 16), o.rope());
        assertEquals(null, o.slidingRope(), "no rope_scaling: sliding and full layers rotate alike");
        assertEquals(2048, o.maxPositions());
        assertEquals(1, o.specialIds().pad());
        assertEquals(50279, o.specialIds().eos());
        assertEquals(-1, o.specialIds().bos());
        assertFalse(o.tiedEmbeddings());
        assertFalse(o.qkvBias() || o.outBias() || o.mlpBias());
        assertEquals(List.of(7, 7, 7, 0), read(olmo3(4, ", \"sliding_window\": 7")).windows());
        assertEquals(List.of(0, 5, 0), read(olmo3(3, ", \"sliding_window\": 5, \"layer_types\": [\"full_attention\","
                + " \"sliding_attention\", \"full_attention\"]")).windows(), "layer_types as given");
        assertEquals(List.of(), read(olmo3(2, ", \"layer_types\": [\"full_attention\", \"full_attention\"]")).windows());
        assertEquals(List.of(4096, 4096, 4096), read(olmo3(3, "")).windows(), "three layers: none is the fourth");
    }

    /**
     * OLMo 3's rope per layer type: rope_scaling (the long-context releases' yarn) on the full layers only, the sliding ones
     * unscaled at 500000 (transformers 5.x's Olmo3Config and Olmo3RotaryEmbedding); 5.x rope_parameters per layer type read
     * the same; the same model with every layer full takes the yarn everywhere.
     */
    @Test
    void olmo3RopePerLayerType() throws Exception {
        TransformerConfig v4 = read(olmo3(4, ", \"rope_theta\": 500000, \"max_position_embeddings\": 65536, \"rope_scaling\": " + OLMO3_YARN));
        assertEquals(TransformerConfig.Rope.Scaling.YARN, v4.rope().scaling());
        assertEquals(500000, v4.rope().theta());
        assertEquals(8, v4.rope().factor());
        assertEquals(8192, v4.rope().originalMaxPositions());
        assertEquals(1.2079441541679836, v4.rope().attentionFactor(), 1e-15);
        assertEquals(TransformerConfig.Rope.plain(500000, 16), v4.slidingRope(), "sliding layers: no scaling");
        assertEquals(65536, v4.contextPositions());
        TransformerConfig v5 = read(olmo3(4, ", \"max_position_embeddings\": 65536, \"rope_parameters\": {\"sliding_attention\":"
                + " {\"rope_type\": \"default\", \"rope_theta\": 500000}, \"full_attention\": "
                + OLMO3_YARN.replace("{", "{\"rope_theta\": 500000, ") + "}"));
        assertEquals(v4.rope(), v5.rope());
        assertEquals(v4.slidingRope(), v5.slidingRope());
        TransformerConfig thetas = read(olmo3(4, ", \"rope_parameters\": {\"sliding_attention\": {\"rope_type\": \"default\","
                + " \"rope_theta\": 10000}, \"full_attention\": {\"rope_type\": \"default\"}}"));
        assertEquals(TransformerConfig.Rope.plain(500000, 16), thetas.rope(), "an entry without rope_theta: Olmo3Config.default_theta");
        assertEquals(TransformerConfig.Rope.plain(10000, 16), thetas.slidingRope());
        TransformerConfig onlyFull = read(olmo3(4, ", \"rope_parameters\": {\"full_attention\": {\"rope_type\": \"linear\","
                + " \"factor\": 2.0}}"));
        assertEquals(TransformerConfig.Rope.plain(500000, 16), onlyFull.slidingRope(), "an absent entry: the default kind");
        TransformerConfig allFull = read(olmo3(2, ", \"layer_types\": [\"full_attention\", \"full_attention\"], \"rope_scaling\": "
                + OLMO3_YARN));
        assertEquals(TransformerConfig.Rope.Scaling.YARN, allFull.rope().scaling());
        assertEquals(null, allFull.slidingRope());
    }

    /** What OLMo 3's loader refuses, each naming its key. */
    @Test
    void olmo3Refusals() throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(olmo3(4, ", \"rope_theta\": 10000")));
        assertTrue(e.getMessage().contains("rope_theta 10000.0 with sliding layers is not supported"), e.getMessage());
        assertEquals(10000, read(olmo3(2, ", \"rope_theta\": 10000, \"layer_types\": [\"full_attention\", \"full_attention\"]"))
                .rope().theta(), "no sliding layer: rope_theta is unambiguous");
        e = assertThrows(CheckpointException.class, () -> read(olmo3(4, ", \"rope_parameters\": " + OLMO3_YARN)));
        assertTrue(e.getMessage().contains("rope_parameters: has no 'sliding_attention' / 'full_attention' settings"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(olmo3(4, ", \"rope_parameters\": {\"sliding_attention\": "
                + OLMO3_YARN + ", \"full_attention\": " + OLMO3_YARN + "}")));
        assertTrue(e.getMessage().contains("rope_parameters.sliding_attention: rope type YARN is not supported on sliding layers"),
                e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(olmo3(4, ", \"sliding_window\": null")));
        assertTrue(e.getMessage().contains("sliding_window is null"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(olmo3(2, ", \"sliding_window\": null, \"layer_types\":"
                + " [\"sliding_attention\", \"full_attention\"]")));
        assertTrue(e.getMessage().contains("no sliding_window"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(olmo3(2, ", \"layer_types\": [\"sliding_attention\"]")));
        assertTrue(e.getMessage().contains("layer_types has 1 entries for 2 layers"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(olmo3(4, ", \"rope_scaling\": {\"rope_type\": \"magic\"}")));
        assertTrue(e.getMessage().contains("rope type 'magic' is not implemented"), e.getMessage());
    }

    /** SmolLM3's NoPE layers: the zeros of no_rope_layers, or every no_rope_layer_interval-th layer; its defaults. */
    @Test
    void smollm3NopeLayers() throws Exception {
        TransformerConfig byInterval = read(base("smollm3", ", \"no_rope_layer_interval\": 3"));
        assertEquals(List.of(2), byInterval.nopeLayers());
        assertTrue(byInterval.ropeAt(0) && byInterval.ropeAt(1) && !byInterval.ropeAt(2));
        assertEquals(2e6, byInterval.rope().theta(), "SmolLM3Config's rope_theta");
        assertEquals(true, byInterval.tiedEmbeddings());
        assertEquals(List.of(0, 2), read(base("smollm3", ", \"no_rope_layers\": [0, 1, 0]")).nopeLayers());
        assertEquals(List.of(), read(base("smollm3", "")).nopeLayers(), "3 layers, interval 4: every layer rotates");
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(base("smollm3", ", \"no_rope_layers\": [1, 1]")));
        assertTrue(e.getMessage().contains("no_rope_layers has 2 entries for 3 layers"), e.getMessage());
        assertEquals(List.of(), read(base("llama", "")).nopeLayers());
    }

    /** Granite's four multipliers, each 1 when absent, and the refusal of a residual multiplier over biased projections. */
    @Test
    void graniteMultipliers() throws Exception {
        TransformerConfig g = read(base("granite", ", \"embedding_multiplier\": 12.0, \"attention_multiplier\": 0.0078125,"
                + " \"residual_multiplier\": 0.22, \"logits_scaling\": 8.0"));
        assertEquals(12f, g.embeddingScale());
        assertEquals(0.0078125f, g.attentionScale());
        assertEquals(0.22f, g.residualScale());
        assertEquals(0.125f, g.outputScale(), "logits ÷ logits_scaling");
        TransformerConfig plain = read(base("granite", ""));
        assertEquals(1f, plain.embeddingScale());
        assertEquals(1f, plain.attentionScale(), "attention_multiplier defaults to 1, not 1/sqrt(head_dim)");
        assertEquals(1f, plain.residualScale());
        assertEquals(1f, plain.outputScale());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> read(base("granite", ", \"residual_multiplier\": 0.22, \"mlp_bias\": true")));
        assertTrue(e.getMessage().contains("residualScale"), e.getMessage());
    }

    /** A multimodal Gemma 3 folder without its text_config is refused naming the field. */
    @Test
    void multimodalGemma3NeedsItsTextConfig(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("config.json"),
                "{\"model_type\": \"gemma3\", \"architectures\": [\"Gemma3ForConditionalGeneration\"]}");
        org.transformer4j.model.weights.SafetensorsWriter.write(dir.resolve("model.safetensors"),
                java.util.Map.of("x", org.transformer4j.runtime.Tensor.ofFloats(new float[] {1f}, 1)), java.util.Map.of("format", "pt"));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Pretrained.load(dir, new org.transformer4j.runtime.CpuBackend()).close());
        assertTrue(e.getMessage().contains("text_config"), e.getMessage());
    }

    /** Gemma 3 text as gemma-3-1b publishes it (4.x fields) and in 5.x's per-layer-type rope_parameters. */
    @Test
    void gemma3TextRopePerLayerType() throws Exception {
        TransformerConfig g = read(base("gemma3_text", ", \"sliding_window\": 512, \"rope_scaling\": {\"rope_type\": \"linear\","
                + " \"factor\": 8.0}, \"sliding_window_pattern\": 3"));
        assertEquals(256, g.headSize());
        assertEquals(List.of(512, 512, 0), g.windows(), "layer i slides unless (i + 1) % 3 == 0");
        assertEquals(TransformerConfig.Rope.Scaling.LINEAR, g.rope().scaling());
        assertEquals(1e6, g.rope().theta(), "full layers: rope_theta's default");
        assertEquals(TransformerConfig.Rope.plain(10000, 256), g.slidingRope(), "sliding layers: rope_local_base_freq's default, unscaled");
        assertTrue(g.qkNorm() && g.sandwichNorms());
        assertEquals(0f, g.attentionSoftcap(), "Gemma 3's attention does not soft-cap");
        assertEquals(0f, g.logitSoftcap());
        assertEquals(131072, g.maxPositions());
        TransformerConfig v5 = read(base("gemma3_text", ", \"head_dim\": 64, \"final_logit_softcapping\": 30.0, \"rope_parameters\": {"
                + "\"sliding_attention\": {\"rope_type\": \"default\", \"rope_theta\": 20000.0},"
                + " \"full_attention\": {\"rope_type\": \"yarn\", \"factor\": 4.0, \"rope_theta\": 500000.0}}"));
        assertEquals(20000, v5.slidingRope().theta());
        assertEquals(TransformerConfig.Rope.Scaling.YARN, v5.rope().scaling());
        assertEquals(64, v5.rope().rotaryDim());
        assertEquals(30f, v5.logitSoftcap());
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(base("gemma3_text",
                ", \"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\", \"rope_theta\": 1e6}}")));
        assertTrue(e.getMessage().contains("sliding_attention"), e.getMessage());
    }

    /**
     * yarn as Qwen2.5 publishes it (4.x layout, factor and original max inside rope_scaling) and with
     * DeepSeek's mscale / mscale_all_dim, betas and truncate in the 5.x layout: the attention factor of
     * _compute_yarn_parameters.
     */
    @Test
    void yarnSettingsAndAttentionFactor() throws Exception {
        TransformerConfig.Rope q = read(base("qwen2", ", \"max_position_embeddings\": 32768, \"rope_scaling\": {\"type\": \"yarn\","
                + " \"factor\": 4.0, \"original_max_position_embeddings\": 32768}")).rope();
        assertEquals(TransformerConfig.Rope.Scaling.YARN, q.scaling());
        assertEquals(4.0, q.factor());
        assertEquals(32768, q.originalMaxPositions());
        assertEquals(0.1 * Math.log(4) + 1, q.attentionFactor(), 1e-15);
        assertEquals(new TransformerConfig.Rope.Yarn(32, 1, true), q.yarn());
        TransformerConfig.Rope d = read(base("llama", ", \"max_position_embeddings\": 8192, \"rope_parameters\": {\"rope_type\": \"yarn\","
                + " \"rope_theta\": 10000.0, \"factor\": 40.0, \"original_max_position_embeddings\": 4096, \"mscale\": 1.0,"
                + " \"mscale_all_dim\": 0.707, \"beta_fast\": 16, \"beta_slow\": 2, \"truncate\": false}")).rope();
        assertEquals((0.1 * Math.log(40) + 1) / (0.1 * 0.707 * Math.log(40) + 1), d.attentionFactor(), 1e-15);
        assertEquals(new TransformerConfig.Rope.Yarn(16, 2, false), d.yarn());
        TransformerConfig.Rope given = read(base("llama", ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 2.0,"
                + " \"attention_factor\": 0.75}")).rope();
        assertEquals(0.75, given.attentionFactor());
        assertEquals(2048, given.originalMaxPositions(), "original max defaults to max_position_embeddings");
    }

    /**
     * yarn's frequencies against transformers 5.17.0's own _compute_yarn_parameters (a third party's
     * golden table, printed to 10 digits: rotary 64 of head_dim 256, rope_theta 1e7, original max
     * 262144, betas 32/1, truncated: the ramp runs over pairs 14..22).
     */
    @Test
    void yarnFrequenciesMatchTransformers() {
        double[] want25 = {1.000000000e+00, 6.042963862e-01, 3.651741445e-01, 2.206733972e-01, 1.333521456e-01, 8.058421314e-02,
            4.869675264e-02, 2.942727320e-02, 1.778279431e-02, 1.074607857e-02, 6.493816618e-03, 3.924189601e-03, 2.371373819e-03,
            1.433012658e-03, 8.659643354e-04, 4.840516776e-04, 2.687936067e-04, 1.480988576e-04, 8.083473222e-05, 4.361441097e-05,
            2.319330997e-05, 1.210440860e-05, 6.159706118e-06, 3.722288511e-06, 2.249365252e-06, 1.359283260e-06, 8.214099694e-07,
            4.963750939e-07, 2.999576907e-07, 1.812633457e-07, 1.095367850e-07, 6.619268333e-08};
        double[] want4 = {1.000000000e+00, 6.042963862e-01, 3.651741445e-01, 2.206733972e-01, 1.333521456e-01, 8.058421314e-02,
            4.869675264e-02, 2.942727320e-02, 1.778279431e-02, 1.074607857e-02, 6.493816618e-03, 3.924189601e-03, 2.371373819e-03,
            1.433012658e-03, 8.659643354e-04, 4.742398160e-04, 2.569350763e-04, 1.373497507e-04, 7.217386883e-05, 3.707224823e-05,
            1.844922372e-05, 8.759770026e-06, 3.849816039e-06, 2.326430149e-06, 1.405853368e-06, 8.495520660e-07, 5.133812238e-07,
            3.102344408e-07, 1.874735602e-07, 1.132895946e-07, 6.846049416e-08, 4.137042708e-08};
        double[][] wants = {want25, want4};
        double[] factors = {2.5, 4.0}, attention = {1.0916290731874154, 1.138629436111989};
        for (int k = 0; k < 2; k++) {
            TransformerConfig.Rope r = TransformerConfig.Rope.yarn(1e7, 64, factors[k], 262144, 0.1 * Math.log(factors[k]) + 1,
                    new TransformerConfig.Rope.Yarn(32, 1, true));
            assertEquals(attention[k], r.attentionFactor(), 1e-15);
            float[] inv = r.invFreq();
            // transformers computes them in fp32 (a few ulps); the table holds 10 digits
            for (int i = 0; i < 32; i++) assertEquals(wants[k][i], inv[i], 4e-7 * wants[k][i], "factor " + factors[k] + ", pair " + i);
        }
    }

    /**
     * LongRoPE as Phi-3-mini-128k / Phi-3.5-mini publish it: original_max_position_embeddings at the top level
     * (it wins over rope_scaling's, as 5.x's standardize_rope_params), no factor (max / original), short and
     * long factors per rotary pair; "su" is its older name; malformed factors are refused.
     */
    @Test
    void longRopeSettingsAndFrequencies() throws Exception {
        StringBuilder shortF = new StringBuilder(), longF = new StringBuilder();
        int pairs = 8;                                                   // base(): head size 16
        for (int i = 0; i < pairs; i++) {
            shortF.append(i == 0 ? "" : ", ").append(1 + 0.05 * i);
            longF.append(i == 0 ? "" : ", ").append(1 + 2.5 * i);
        }
        for (String kind : List.of("longrope", "su")) {
            TransformerConfig.Rope r = read(base("phi3", ", \"max_position_embeddings\": 131072, \"original_max_position_embeddings\": 4096,"
                    + " \"rope_scaling\": {\"type\": \"" + kind + "\", \"original_max_position_embeddings\": 99, \"short_factor\": ["
                    + shortF + "], \"long_factor\": [" + longF + "]}")).rope();
            assertEquals(TransformerConfig.Rope.Scaling.LONGROPE, r.scaling());
            assertEquals(4096, r.originalMaxPositions());
            assertEquals(32.0, r.factor());
            assertEquals(Math.sqrt(1 + Math.log(32) / Math.log(4096)), r.attentionFactor(), 1e-15);  // 1.19024
            float[] tables = r.longRopeTables();
            for (int i = 0; i < pairs; i++) {
                double base = Math.pow(10000, -2.0 * i / 16);
                assertEquals(base / (1 + 0.05 * i), tables[i], Math.ulp((float) (base / (1 + 0.05 * i))), "short " + i);
                assertEquals(base / (1 + 2.5 * i), tables[pairs + i], Math.ulp((float) (base / (1 + 2.5 * i))), "long " + i);
            }
            assertArrayEquals(java.util.Arrays.copyOf(tables, pairs), r.invFreq());
        }
        TransformerConfig.Rope given = read(base("phi3", ", \"rope_scaling\": {\"type\": \"longrope\", \"factor\": 1.0,"
                + " \"original_max_position_embeddings\": 64, \"short_factor\": [" + shortF + "], \"long_factor\": [" + longF + "]}")).rope();
        assertEquals(1.0, given.attentionFactor(), "factor ≤ 1: no attention factor");
        assertEquals(64, given.originalMaxPositions());
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(base("phi3",
                ", \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1, 2], \"long_factor\": [" + longF + "]}")));
        assertTrue(e.getMessage().contains("rotary_dim / 2 = 8") && e.getMessage().contains("config.json"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> read(base("phi3", ", \"rope_scaling\": {\"type\": \"longrope\"}")));
        assertTrue(e.getMessage().contains("short_factor and long_factor"), e.getMessage());
    }

    /** Llama 3's llama3 frequencies against _compute_llama3_parameters' three bands, worked out here in double. */
    @Test
    void llama3FrequenciesFollowTheirThreeBands() {
        TransformerConfig.Rope r = new TransformerConfig.Rope(500000, 64, TransformerConfig.Rope.Scaling.LLAMA3, 32, 1, 4, 8192);
        float[] inv = r.invFreq();
        for (int i = 0; i < 32; i++) {
            double base = Math.pow(500000, -2.0 * i / 64), wavelen = 2 * Math.PI / base;
            double want;
            if (wavelen < 8192 / 4.0) want = base;                                   // high frequency: kept
            else if (wavelen > 8192 / 1.0) want = base / 32;                         // low frequency: ÷ factor
            else {
                double smooth = (8192 / wavelen - 1) / (4 - 1);
                want = (1 - smooth) * base / 32 + smooth * base;
            }
            assertEquals(want, inv[i], Math.ulp((float) want), "frequency " + i);
        }
    }

    /** The mixture-of-experts families with their config classes' defaults, dense layers and the two tensor layouts. */
    @Test
    void mixtureOfExpertsDefaultsAndLayouts() throws Exception {
        TransformerConfig mixtral = read(base("mixtral", ", \"num_key_value_heads\": 2"));
        assertEquals(new TransformerConfig.Moe(8, 2, true, 96, 0, false, List.of()), mixtral.moe());
        assertEquals(1e6, mixtral.rope().theta(), "MixtralConfig(rope_theta=1e6)");
        assertEquals(1e-5f, mixtral.normEps());
        assertEquals(List.of(), mixtral.windows(), "sliding_window absent: full attention");
        assertEquals(List.of(8, 8, 8), read(base("mixtral", ", \"sliding_window\": 8")).windows(), "Mistral's: every layer");

        TransformerConfig q2 = read(base("qwen2_moe", ", \"num_experts\": 6, \"moe_intermediate_size\": 32,"
                + " \"shared_expert_intermediate_size\": 48, \"decoder_sparse_step\": 2"));
        assertEquals(new TransformerConfig.Moe(6, 4, false, 32, 48, true, List.of(0, 2)), q2.moe(),
                "layers 0 and 2 dense: (i + 1) % decoder_sparse_step != 0");
        assertTrue(q2.qkvBias() && !q2.moeAt(0) && q2.moeAt(1));

        TransformerConfig q3 = read(base("qwen3_moe", ", \"norm_topk_prob\": true, \"mlp_only_layers\": [1]"));
        assertEquals(new TransformerConfig.Moe(128, 8, true, 768, 0, false, List.of(1)), q3.moe());
        assertEquals(16, q3.headSize(), "Qwen3MoeConfig has no head_dim default of its own: hidden_size / heads");
        assertTrue(q3.qkNorm() && !q3.qkNormWide());
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(base("qwen3_moe", ", \"use_sliding_window\": true")));
        assertTrue(e.getMessage().contains("use_sliding_window"), e.getMessage());

        TransformerConfig olmoe = read(base("olmoe", ", \"num_experts\": 4, \"num_experts_per_tok\": 2"));
        assertEquals(new TransformerConfig.Moe(4, 2, false, 96, 0, false, List.of()), olmoe.moe());
        assertEquals(new TransformerConfig.Moe(64, 8, false, 96, 0, false, List.of()), read(base("olmoe", "")).moe(), "OlmoeConfig's 64 experts, top 8");
        assertTrue(olmoe.qkNorm() && olmoe.qkNormWide() && olmoe.inputNorms() && !olmoe.sandwichNorms());
        assertEquals(1e-5f, olmoe.normEps());
        e = assertThrows(CheckpointException.class, () -> read(base("olmoe", ", \"clip_qkv\": 8.0")));
        assertTrue(e.getMessage().contains("clip_qkv"), e.getMessage());

        java.util.Set<String> perExpert = HfDecoders.layout(mixtral, "mixtral").required();
        assertTrue(perExpert.contains("model.layers.0.block_sparse_moe.gate.weight"));
        assertTrue(perExpert.contains("model.layers.2.block_sparse_moe.experts.7.w3.weight"));
        assertTrue(perExpert.stream().noneMatch(k -> k.contains("mlp.")), "no dense MLP in a Mixtral layer");
        java.util.Set<String> stacked = HfDecoders.layout(mixtral, "mixtral", true).required();
        assertTrue(stacked.containsAll(List.of("model.layers.0.mlp.gate.weight", "model.layers.0.mlp.experts.gate_up_proj",
                "model.layers.0.mlp.experts.down_proj")));
        assertTrue(stacked.stream().noneMatch(k -> k.contains("block_sparse_moe")));
        java.util.Set<String> q2keys = HfDecoders.layout(q2, "qwen2_moe").required();
        assertTrue(q2keys.containsAll(List.of("model.layers.0.mlp.gate_proj.weight", "model.layers.1.mlp.experts.5.down_proj.weight",
                "model.layers.1.mlp.shared_expert.up_proj.weight", "model.layers.1.mlp.shared_expert_gate.weight")));
        assertTrue(q2keys.stream().noneMatch(k -> k.startsWith("model.layers.1.mlp.gate_proj")));
    }

    /**
     * GPT-NeoX and Phi as GPTNeoXConfig and PhiConfig read them: Pythia's config.json (4.x: rotary_emb_base, rotary_pct,
     * use_parallel_residual) and the defaults of an almost empty one (rotary_pct 0.25, gelu, attention_bias true, bos 0 /
     * eos 2, untied, parallel); 5.x rope_parameters (partial_rotary_factor inside); gelu_fast (GPT-NeoX-20B) is the tanh
     * form; Phi's defaults (partial_rotary_factor 0.5, gelu_new, GQA from num_key_value_heads, one shared norm, lm_head
     * bias, bos 1 / eos 2); and the refusals: qk_layernorm, a rotary width that is not an even number ≥ 2.
     */
    @Test
    void gptNeoxAndPhiConfigs() throws Exception {
        TransformerConfig pythia = read("{\"model_type\": \"gpt_neox\", \"hidden_size\": 512, \"num_attention_heads\": 8,"
                + " \"num_hidden_layers\": 6, \"intermediate_size\": 2048, \"vocab_size\": 50304, \"rotary_emb_base\": 10000,"
                + " \"rotary_pct\": 0.25, \"use_parallel_residual\": true, \"hidden_act\": \"gelu\", \"bos_token_id\": 0,"
                + " \"eos_token_id\": 0, \"layer_norm_eps\": 1e-05, \"max_position_embeddings\": 2048, \"tie_word_embeddings\": false}");
        assertEquals(64, pythia.headSize());
        assertEquals(16, pythia.rope().rotaryDim(), "int(64 · 0.25)");
        assertEquals(TransformerConfig.ParallelBlock.TWO_NORMS, pythia.parallel());
        assertEquals(TransformerConfig.NormKind.LAYER_NORM, pythia.norm());
        assertEquals(TransformerConfig.Activation.GELU, pythia.activation());
        assertTrue(pythia.qkvBias() && pythia.outBias() && pythia.mlpBias() && !pythia.gatedMlp() && !pythia.headBias());
        assertEquals(0, pythia.specialIds().eos());
        assertEquals(2048, pythia.contextPositions());
        TransformerConfig bare = read(base("gpt_neox", ""));
        assertEquals(4, bare.rope().rotaryDim(), "GPTNeoXConfig(rotary_pct=0.25): int(16 · 0.25)");
        assertEquals(10000, bare.rope().theta());
        assertEquals(0, bare.specialIds().bos(), "GPTNeoXConfig(bos_token_id=0)");
        assertEquals(2, bare.specialIds().eos(), "GPTNeoXConfig(eos_token_id=2)");
        assertTrue(!bare.tiedEmbeddings() && bare.qkvBias());
        TransformerConfig sequential = read(base("gpt_neox", ", \"use_parallel_residual\": false, \"attention_bias\": false,"
                + " \"hidden_act\": \"gelu_fast\""));
        assertEquals(TransformerConfig.ParallelBlock.NONE, sequential.parallel());
        assertTrue(!sequential.qkvBias() && !sequential.outBias() && sequential.mlpBias(), "attention_bias covers query_key_value and dense");
        assertEquals(TransformerConfig.Activation.GELU_TANH, sequential.activation(), "gelu_fast is the tanh approximation");
        TransformerConfig v5 = read(base("gpt_neox", ", \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 5000,"
                + " \"partial_rotary_factor\": 0.5}"));
        assertEquals(8, v5.rope().rotaryDim());
        assertEquals(5000, v5.rope().theta());
        TransformerConfig scaled = read(base("gpt_neox", ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}"));
        assertEquals(TransformerConfig.Rope.Scaling.LINEAR, scaled.rope().scaling());
        TransformerConfig phi = read(base("phi", ", \"num_key_value_heads\": 2"));
        assertEquals(8, phi.rope().rotaryDim(), "PhiConfig: partial_rotary_factor 0.5");
        assertEquals(2, phi.kvHeads());
        assertEquals(TransformerConfig.ParallelBlock.SHARED_NORM, phi.parallel());
        assertEquals(TransformerConfig.Activation.GELU_TANH, phi.activation());
        assertTrue(phi.headBias() && phi.qkvBias() && phi.outBias() && phi.mlpBias());
        assertEquals(1, phi.specialIds().bos());
        assertEquals(4, read(base("phi", ", \"num_key_value_heads\": null")).kvHeads(), "null: the heads");
        assertEquals(6, read(base("phi", ", \"partial_rotary_factor\": 0.4")).rope().rotaryDim(), "int(16 · 0.4), phi-2's rounding");
        assertTrue(assertThrows(CheckpointException.class, () -> read(base("phi", ", \"qk_layernorm\": true"))).getMessage()
                .contains("qk_layernorm"));
        assertTrue(assertThrows(CheckpointException.class, () -> read(base("gpt_neox", ", \"rotary_pct\": 0.1"))).getMessage()
                .contains("rotary dimensions"), "int(16 · 0.1) = 1");
        assertTrue(assertThrows(CheckpointException.class, () -> read(base("gpt_neox", ", \"hidden_act\": \"tanh\""))).getMessage()
                .contains("hidden_act 'tanh'"));
    }

    /**
     * StableLM and Starcoder2 as StableLmConfig and Starcoder2Config read them: LayerNorms (layer_norm_eps / norm_epsilon),
     * StableLM's partial_rotary_factor 0.25, q/k/v biases only by use_qkv_bias, gated SiLU MLP, parallel residual with one
     * norm; Starcoder2's biases everywhere (use_bias), plain GELU-tanh MLP, tied embeddings, every layer sliding; StableLM's
     * qk_layernorm refused.
     */
    @Test
    void stableLmAndStarcoder2Configs() throws Exception {
        TransformerConfig s = read(base("stablelm", ", \"layer_norm_eps\": 1e-6"));
        assertEquals(TransformerConfig.NormKind.LAYER_NORM, s.norm());
        assertEquals(1e-6f, s.normEps());
        assertEquals(4, s.rope().rotaryDim(), "StableLmConfig(partial_rotary_factor=0.25): int(16 · 0.25)");
        assertTrue(s.gatedMlp() && !s.qkvBias() && !s.outBias() && !s.mlpBias());
        assertEquals(TransformerConfig.ParallelBlock.NONE, s.parallel());
        assertEquals(4096, s.maxPositions());
        TransformerConfig sp = read(base("stablelm", ", \"use_parallel_residual\": true, \"use_qkv_bias\": true"));
        assertEquals(TransformerConfig.ParallelBlock.SHARED_NORM, sp.parallel());
        assertTrue(sp.qkvBias() && !sp.outBias());
        assertTrue(assertThrows(CheckpointException.class, () -> read(base("stablelm", ", \"qk_layernorm\": true"))).getMessage()
                .contains("qk_layernorm"));
        TransformerConfig sc = read(base("starcoder2", ", \"num_key_value_heads\": 2, \"sliding_window\": 4096"));
        assertEquals(TransformerConfig.NormKind.LAYER_NORM, sc.norm());
        assertTrue(!sc.gatedMlp() && sc.qkvBias() && sc.outBias() && sc.mlpBias() && sc.tiedEmbeddings());
        assertEquals(TransformerConfig.Activation.GELU_TANH, sc.activation());
        assertEquals(List.of(4096, 4096, 4096), sc.windows());
        assertEquals(16, sc.rope().rotaryDim());
        TransformerConfig plain = read(base("starcoder2", ", \"use_bias\": false, \"tie_word_embeddings\": false"));
        assertTrue(!plain.qkvBias() && !plain.mlpBias() && !plain.tiedEmbeddings() && plain.windows().isEmpty());
    }

    /**
     * GPT-J and OPT as GPTJConfig and OPTConfig read them: GPT-J's rotary_dim (default 64, null: the whole head), one shared
     * norm, bias-free attention, lm_head bias, bos = eos = 50256 (outside a small vocabulary: none); OPT's defaults (relu,
     * pre-LN, learned positions, tied, pad 1 / bos 2 / eos 2) and its refusals (opt-350m's post-LN and projections).
     */
    @Test
    void gptjAndOptConfigs() throws Exception {
        TransformerConfig j = read("{\"model_type\": \"gptj\", \"n_embd\": 256, \"n_head\": 4, \"n_layer\": 2, \"vocab_size\": 50400}");
        assertEquals(64, j.rope().rotaryDim(), "GPTJConfig(rotary_dim=64)");
        assertEquals(1024, j.mlpWidth(), "n_inner null: 4 × n_embd");
        assertEquals(TransformerConfig.ParallelBlock.SHARED_NORM, j.parallel());
        assertTrue(j.headBias() && !j.qkvBias() && !j.outBias() && j.mlpBias() && !j.tiedEmbeddings());
        assertEquals(50256, j.specialIds().eos());
        assertEquals(2048, j.contextPositions());
        assertEquals(64, read("{\"model_type\": \"gptj\", \"n_embd\": 256, \"n_head\": 4, \"n_layer\": 2, \"vocab_size\": 300,"
                + " \"rotary_dim\": null}").rope().rotaryDim(), "null: the whole head");
        assertTrue(assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"gptj\", \"n_embd\": 256, \"n_head\": 4,"
                + " \"n_layer\": 2, \"vocab_size\": 300, \"rotary_dim\": 65}")).getMessage().contains("rotary_dim 65"));
        TransformerConfig o = read("{\"model_type\": \"opt\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 2,"
                + " \"ffn_dim\": 256, \"vocab_size\": 300, \"max_position_embeddings\": 2048}");
        assertEquals(TransformerConfig.Positions.LEARNED_ABSOLUTE, o.positions());
        assertEquals(2048, o.maxPositions());
        assertEquals(TransformerConfig.Activation.RELU, o.activation());
        assertTrue(o.tiedEmbeddings() && o.qkvBias() && o.mlpBias());
        assertEquals(1, o.specialIds().pad());
        assertEquals(2, o.specialIds().bos());
        // opt-350m: post-LN layers, embeddings unnormed, no final norm; project_in / project_out folded: an untied output
        TransformerConfig o350 = read("{\"model_type\": \"opt\", \"hidden_size\": 64, \"num_attention_heads\": 4,"
                + " \"num_hidden_layers\": 2, \"ffn_dim\": 256, \"vocab_size\": 300, \"do_layer_norm_before\": false, \"word_embed_proj_dim\": 32}");
        assertEquals(TransformerConfig.NormPlacement.POST, o350.normPlacement());
        assertFalse(o350.embeddingNorm(), "OPT's post-LN layers take the embeddings unnormed");
        assertFalse(o350.tiedEmbeddings(), "the folded output matrix is its own");
        assertTrue(assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"opt\", \"hidden_size\": 64,"
                + " \"num_attention_heads\": 4, \"num_hidden_layers\": 2, \"ffn_dim\": 256, \"vocab_size\": 300,"
                + " \"_remove_final_layer_norm\": true}")).getMessage().contains("_remove_final_layer_norm"));
        // CodeGen: GPT-J's config; its qkv_proj groups need n_head a multiple of 4, and a null rotary_dim is refused
        TransformerConfig cg = read("{\"model_type\": \"codegen\", \"n_embd\": 256, \"n_head\": 8, \"n_layer\": 2, \"vocab_size\": 300,"
                + " \"rotary_dim\": 16}");
        assertEquals(16, cg.rope().rotaryDim());
        assertEquals(TransformerConfig.ParallelBlock.SHARED_NORM, cg.parallel());
        assertTrue(cg.headBias() && !cg.tiedEmbeddings());
        assertTrue(assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"codegen\", \"n_embd\": 192, \"n_head\": 6,"
                + " \"n_layer\": 2, \"vocab_size\": 300}")).getMessage().contains("qkv_proj groups"));
        assertTrue(assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"codegen\", \"n_embd\": 256, \"n_head\": 8,"
                + " \"n_layer\": 2, \"vocab_size\": 300, \"rotary_dim\": null}")).getMessage().contains("rotary_dim null"));
        TransformerConfig bc = read("{\"model_type\": \"gpt_bigcode\", \"n_embd\": 64, \"n_head\": 4, \"n_layer\": 2, \"vocab_size\": 300}");
        assertEquals(1, bc.kvHeads(), "multi_query: one key / value head");
        assertEquals(TransformerConfig.Positions.LEARNED_ABSOLUTE, bc.positions());
        assertEquals(1024, bc.maxPositions());
        assertEquals(TransformerConfig.Activation.GELU_TANH, bc.activation());
        assertEquals(0.25f, bc.attentionScale(), "head_dim^-0.5");
        assertTrue(bc.tiedEmbeddings());
        assertEquals(1f, read("{\"model_type\": \"gpt_bigcode\", \"n_embd\": 64, \"n_head\": 4, \"n_layer\": 2, \"vocab_size\": 300,"
                + " \"scale_attn_weights\": false}").attentionScale());
        assertTrue(assertThrows(CheckpointException.class, () -> read("{\"model_type\": \"gpt_bigcode\", \"n_embd\": 64, \"n_head\": 4,"
                + " \"n_layer\": 2, \"vocab_size\": 300, \"multi_query\": false}")).getMessage().contains("multi_query false"));
    }

    /**
     * Falcon as FalconConfig reads it: falcon-7b (multi_query: one key/value head; parallel_attn: one norm feeding both), the
     * new architecture (num_kv_heads; two norms by default, one with num_ln_in_parallel_attn 1 as Falcon2-11B), sequential
     * layers without parallel_attn, bias, and ALiBi without rotary (Falcon-RW; its slopes in AlibiDecodersTest).
     */
    @Test
    void falconConfigs() throws Exception {
        String base = "{\"model_type\": \"falcon\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 2,"
                + " \"vocab_size\": 300";
        TransformerConfig f7 = read(base + "}");
        assertEquals(1, f7.kvHeads());
        assertEquals(TransformerConfig.ParallelBlock.SHARED_NORM, f7.parallel());
        assertTrue(!f7.qkvBias() && !f7.mlpBias() && f7.tiedEmbeddings());
        assertEquals(256, f7.mlpWidth(), "ffn_hidden_size null: 4 × hidden_size");
        assertEquals(16, f7.rope().rotaryDim());
        TransformerConfig f40 = read(base + ", \"new_decoder_architecture\": true, \"num_kv_heads\": 2, \"bias\": true}");
        assertEquals(2, f40.kvHeads());
        assertEquals(TransformerConfig.ParallelBlock.TWO_NORMS, f40.parallel());
        assertTrue(f40.qkvBias() && f40.outBias() && f40.mlpBias());
        assertEquals(TransformerConfig.ParallelBlock.SHARED_NORM,
                read(base + ", \"new_decoder_architecture\": true, \"num_kv_heads\": 2, \"num_ln_in_parallel_attn\": 1}").parallel());
        TransformerConfig seq = read(base + ", \"parallel_attn\": false, \"multi_query\": false}");
        assertEquals(TransformerConfig.ParallelBlock.NONE, seq.parallel());
        assertEquals(4, seq.kvHeads());
        TransformerConfig rw = read(base + ", \"alibi\": true, \"multi_query\": false, \"parallel_attn\": false}");   // Falcon-RW
        assertEquals(TransformerConfig.Positions.ALIBI, rw.positions());
        assertEquals(null, rw.rope());
        // query_key_value rows: new architecture, 2 groups of 2 query heads (head size 16): group 0 = blocks 0, 1 (q), 2 (k), 3 (v)
        long[] q = HfFalcon.rows(f40, true, 0), k = HfFalcon.rows(f40, true, 1);
        assertEquals(List.of(0L, 16L, 64L, 80L), List.of(q[0], q[16], q[32], q[48]), "q heads 0, 1 | 2, 3 from blocks 0, 1 | 4, 5");
        assertEquals(List.of(32L, 96L), List.of(k[0], k[16]), "k of group 0 at block 2, of group 1 at block 6");
        assertEquals(List.of(64L, 80L), List.of(HfFalcon.rows(f7, false, 1)[0], HfFalcon.rows(f7, false, 2)[0]), "7b: [q (4 heads) | k | v]");
    }

    /**
     * GPT-Neo (GPTNeoConfig): attention_types expanded per layer (gpt-neo-125m's [[["global", "local"], 6]] over 12 layers:
     * windows on the odd layers), attention scale 1, bias-free q / k / v, intermediate_size null = 4 · hidden; refused: a
     * type count other than num_layers, an unknown type, an attention_layers that is not the expansion.
     */
    @Test
    void gptNeoConfigs() throws Exception {
        String base = "{\"model_type\": \"gpt_neo\", \"hidden_size\": 64, \"num_heads\": 4, \"vocab_size\": 300, \"window_size\": 16";
        TransformerConfig c = read(base + ", \"num_layers\": 12, \"attention_types\": [[[\"global\", \"local\"], 6]],"
                + " \"attention_layers\": [\"global\", \"local\", \"global\", \"local\", \"global\", \"local\", \"global\", \"local\","
                + " \"global\", \"local\", \"global\", \"local\"]}");
        assertEquals(List.of(0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16), c.windows());
        assertEquals(1f, c.attentionScale(), "GPT-Neo does not scale its scores");
        assertTrue(!c.qkvBias() && c.outBias() && c.mlpBias() && c.tiedEmbeddings());
        assertEquals(256, c.mlpWidth(), "intermediate_size null: 4 × hidden_size");
        assertEquals(TransformerConfig.Activation.GELU_TANH, c.activation());
        assertEquals(TransformerConfig.Positions.LEARNED_ABSOLUTE, c.positions());
        assertEquals(-1, c.specialIds().eos(), "bos = eos = 50256 by default: none in a 300-token vocabulary");
        TransformerConfig dflt = read("{\"model_type\": \"gpt_neo\", \"hidden_size\": 64, \"num_heads\": 4}");   // the class defaults
        assertEquals(50256, dflt.specialIds().eos());
        assertEquals(24, dflt.decoderLayers());
        assertEquals(256, dflt.window(1));
        assertEquals(0, dflt.window(22));
        TransformerConfig mixed = read(base + ", \"num_layers\": 5, \"attention_types\": [[[\"local\"], 2], [[\"global\", \"local\"], 1],"
                + " [[\"global\"], 1]], \"intermediate_size\": 96}");
        assertEquals(List.of(16, 16, 0, 16, 0), mixed.windows());
        assertEquals(96, mixed.mlpWidth());
        for (String[] bad : new String[][] {
                {", \"num_layers\": 3, \"attention_types\": [[[\"global\", \"local\"], 1]]}", "2 layer types for num_layers 3"},
                {", \"num_layers\": 2, \"attention_types\": [[[\"global\", \"sparse\"], 1]]}", "'sparse' is not global or local"},
                {", \"num_layers\": 2}", "24 layer types for num_layers 2"},
                {", \"num_layers\": 2, \"attention_types\": [[[\"global\", \"local\"], 1]], \"attention_layers\": [\"local\", \"global\"]}",
                        "is not attention_types' expansion"}}) {
            Exception e = assertThrows(CheckpointException.class, () -> read(base + bad[0]), bad[1]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    /**
     * Cohere (CohereConfig) and Cohere 2: one norm feeding both sublayers, no norm or MLP biases, logit_scale as the output
     * scale (0.0625 by default), tied by default, head_dim from config.json (cohere) or hidden / heads (cohere2); Cohere 2's
     * layer types from sliding_window_pattern (4: every fourth layer full) or layer_types, full layers without rotary;
     * refused: use_qk_norm, partial rotary, a missing rope_theta, dynamic scaling, an unknown layer type.
     */
    @Test
    void cohereConfigs() throws Exception {
        String base = "{\"model_type\": \"cohere\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                + " \"num_hidden_layers\": 8, \"intermediate_size\": 96, \"vocab_size\": 300, \"rope_theta\": 10000";
        TransformerConfig c = read(base + "}");
        assertEquals(TransformerConfig.ParallelBlock.SHARED_NORM, c.parallel());
        assertEquals(0.0625f, c.outputScale(), "CohereConfig's logit_scale");
        assertTrue(c.tiedEmbeddings() && !c.biases() && !c.qkvBias() && !c.mlpBias() && c.gatedMlp());
        assertEquals(16, c.rope().rotaryDim());
        assertEquals(TransformerConfig.NormKind.LAYER_NORM, c.norm());
        assertEquals(0.125f, read(base + ", \"logit_scale\": 0.125}").outputScale());
        TransformerConfig ab = read(base + ", \"attention_bias\": true}");
        assertTrue(ab.qkvBias() && ab.outBias() && !ab.mlpBias());
        assertEquals(32, read(base + ", \"head_dim\": 32}").headSize(), "cohere reads head_dim");
        String two = base.replace("\"cohere\"", "\"cohere2\"") + ", \"sliding_window\": 16";
        TransformerConfig c2 = read(two + "}");
        assertEquals(List.of(16, 16, 16, 0, 16, 16, 16, 0), c2.windows(), "sliding_window_pattern 4: layers 3 and 7 full");
        assertEquals(List.of(3, 7), c2.nopeLayers(), "the full layers have no rotary");
        assertEquals(16, read(two + ", \"head_dim\": 32}").headSize(), "cohere2: hidden / heads whatever head_dim says");
        TransformerConfig typed = read(two + ", \"sliding_window_pattern\": 2, \"layer_types\": [\"full_attention\", \"sliding_attention\","
                + " \"sliding_attention\", \"sliding_attention\", \"full_attention\", \"full_attention\", \"sliding_attention\", \"full_attention\"]}");
        assertEquals(List.of(0, 4, 5, 7), typed.nopeLayers(), "layer_types wins over sliding_window_pattern");
        for (String[] bad : new String[][] {
                {base + ", \"use_qk_norm\": true}", "use_qk_norm"},
                {base + ", \"partial_rotary_factor\": 0.5}", "partial_rotary_factor"},
                {base.replace(", \"rope_theta\": 10000", "") + "}", "rope_theta is missing"},
                {base + ", \"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 2.0}}", "DYNAMIC"},
                {two + ", \"layer_types\": [\"local\", \"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\","
                        + " \"full_attention\", \"full_attention\", \"full_attention\"]}", "'local' is not sliding_attention or full_attention"}}) {
            Exception e = assertThrows(CheckpointException.class, () -> read(bad[0]), bad[1]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    /**
     * GlmConfig / Glm4Config: an empty config is glm-4-9b's (4096 wide, 32 heads over 2, head_dim 128, 40 layers, intermediate
     * 13696, vocabulary 151552, 131072 positions), rms_norm_eps 1.5625e-07, q/k/v biases (attention_bias true) and none on
     * o_proj or the MLP, untied, pad 151329, eos the first of [151329, 151336, 151338], no bos, rope_theta 10000 over half of
     * each head (partial_rotary_factor 0.5); head_dim absent is 128 even where hidden / heads differs; GLM-4 adds the sandwich
     * norms. partial_rotary_factor from either layout; a null head_dim, a null num_key_value_heads, differing factors and
     * another activation are refused by name.
     */
    @Test
    void glmConfigs() throws Exception {
        TransformerConfig c = read("{\"model_type\": \"glm\"}");
        assertEquals(4096, c.modelWidth());
        assertEquals(32, c.heads());
        assertEquals(2, c.kvHeads(), "GlmConfig's num_key_value_heads 2, not the heads");
        assertEquals(128, c.headSize());
        assertEquals(40, c.decoderLayers());
        assertEquals(13696, c.mlpWidth());
        assertEquals(151552, c.vocabSize());
        assertEquals(131072, c.maxPositions());
        assertEquals(1.5625e-7f, c.normEps());
        assertEquals(TransformerConfig.NormKind.RMS_NORM, c.norm());
        assertTrue(c.qkvBias() && !c.outBias() && !c.mlpBias() && !c.biases() && c.gatedMlp());
        assertFalse(c.tiedEmbeddings(), "GlmConfig.tie_word_embeddings False");
        assertFalse(c.sandwichNorms());
        assertEquals(new TransformerConfig.SpecialIds(151329, -1, 151329, -1, -1), c.specialIds());
        assertEquals(10000, c.rope().theta());
        assertEquals(64, c.rope().rotaryDim(), "partial_rotary_factor 0.5 of head_dim 128");
        assertTrue(read("{\"model_type\": \"glm4\"}").sandwichNorms(), "Glm4DecoderLayer's post_self_attn / post_mlp norms");
        String base = "{\"model_type\": \"glm\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                + " \"num_hidden_layers\": 2, \"intermediate_size\": 96, \"vocab_size\": 300";
        assertEquals(128, read(base + "}").headSize(), "head_dim absent: GlmConfig's 128, not hidden / heads");
        assertEquals(16, read(base + ", \"head_dim\": 16}").headSize());
        assertEquals(8, read(base + ", \"head_dim\": 16}").rope().rotaryDim());
        assertEquals(16, read(base + ", \"head_dim\": 16, \"partial_rotary_factor\": 1.0}").rope().rotaryDim());
        TransformerConfig v5 = read(base + ", \"head_dim\": 16, \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 500000,"
                + " \"partial_rotary_factor\": 0.25}}");
        assertEquals(4, v5.rope().rotaryDim(), "5.x: rope_parameters' partial_rotary_factor");
        assertEquals(500000, v5.rope().theta());
        assertEquals(8, read(base + ", \"head_dim\": 16, \"partial_rotary_factor\": 0.5, \"rope_parameters\": {\"rope_theta\": 10000,"
                + " \"partial_rotary_factor\": 0.5}}").rope().rotaryDim(), "both layouts agreeing");
        TransformerConfig nb = read(base + ", \"attention_bias\": false, \"tie_word_embeddings\": true, \"eos_token_id\": [2, 3],"
                + " \"pad_token_id\": null, \"rms_norm_eps\": 1e-5}");
        assertTrue(!nb.qkvBias() && nb.tiedEmbeddings());
        assertEquals(new TransformerConfig.SpecialIds(-1, -1, 2, -1, -1), nb.specialIds());
        assertEquals(1e-5f, nb.normEps());
        for (String[] bad : new String[][] {
                {base + ", \"head_dim\": null}", "head_dim is null"},
                {base.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": null") + "}", "num_key_value_heads is null"},
                {base + ", \"head_dim\": 16, \"partial_rotary_factor\": 0.5, \"rope_parameters\": {\"rope_theta\": 10000,"
                        + " \"partial_rotary_factor\": 0.25}}", "partial_rotary_factor 0.5 and rope_parameters.partial_rotary_factor 0.25 differ"},
                {base + ", \"hidden_act\": \"gelu\"}", "hidden_act 'gelu'"},
                {base.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3") + "}", "num_key_value_heads 3"}}) {
            Exception e = assertThrows(CheckpointException.class, () -> read(bad[0]), bad[1]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }
}
