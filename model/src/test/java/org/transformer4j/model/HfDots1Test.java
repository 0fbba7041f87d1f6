// HfDots1Test — dots.llm1 config.json read as transformers' Dots1Config and modeling_dots1.py read them (dots.llm1.inst's
// layout: Qwen3's attention with q/k norms, DeepSeek-V3's router, shared experts and dense first layer; Dots1Config's
// sliding-window rule), the class defaults, refusals by name, and the float64 dots1 folder through the paged KV cache.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class HfDots1Test {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    /**
     * rednote-hilab/dots.llm1.inst's config.json in transformers 4.x's layout. No verbatim copy of it (or of
     * dots.llm1.base's) is stored anywhere searched (code, pages, docs, issues): written from the fields that third-party
     * loaders' trimmed copies agree on (hidden 4096, 62 layers of 32 heads over 32 key/value heads, intermediate 10944,
     * moe_intermediate_size 1408, 128 routed experts top-6, 2 shared experts, first_k_dense_replace 1, norm_topk_prob true,
     * routed_scaling_factor 2.5, rope_theta 1e7, 32768 positions, vocabulary 152064, eos 151649, untied) and Dots1Config's
     * remaining fields. The text is not the published file.
     */
    static final String INST = """
            {"architectures": ["Dots1ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": null,
             "eos_token_id": 151649, "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 4096,
             "initializer_range": 0.02, "intermediate_size": 10944, "max_position_embeddings": 32768, "max_window_layers": 62,
             "model_type": "dots1", "moe_intermediate_size": 1408, "n_routed_experts": 128, "n_shared_experts": 2,
             "norm_topk_prob": true, "num_attention_heads": 32, "num_experts_per_tok": 6, "num_hidden_layers": 62,
             "num_key_value_heads": 32, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000000,
             "routed_scaling_factor": 2.5, "sliding_window": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
             "transformers_version": "4.46.3", "use_cache": true, "vocab_size": 152064}""";

    @Test
    void dotsLlm1Layout() throws Exception {
        TransformerConfig c = read(INST);
        assertEquals(4096, c.modelWidth());
        assertEquals(32, c.heads());
        assertEquals(32, c.kvHeads());
        assertEquals(128, c.headSize(), "no head_dim: hidden / heads");
        assertEquals(10944, c.mlpWidth(), "layer 0's dense MLP");
        assertEquals(62, c.decoderLayers());
        assertEquals(152064, c.vocabSize());
        assertEquals(32768, c.maxPositions());
        assertEquals(TransformerConfig.NormKind.RMS_NORM, c.norm());
        assertEquals(1e-5f, c.normEps());
        assertEquals(TransformerConfig.Activation.SILU, c.activation());
        assertTrue(c.gatedMlp());
        assertTrue(c.qkNorm(), "Qwen3Attention: q_norm / k_norm per head");
        assertFalse(c.qkNormWide());
        assertEquals(new TransformerConfig.Biases(false, false, false), c.linearBiases());
        assertEquals(1e7, c.rope().theta());
        assertEquals(128, c.rope().rotaryDim());
        assertEquals(TransformerConfig.Rope.Scaling.DEFAULT, c.rope().scaling());
        assertTrue(c.windows().isEmpty(), "sliding_window null: no layer slides");
        TransformerConfig.Moe moe = c.moe();
        assertEquals(128, moe.experts());
        assertEquals(6, moe.topK());
        assertTrue(moe.renormalize());
        assertEquals(1408, moe.expertWidth());
        assertEquals(2 * 1408, moe.sharedWidth(), "two shared experts as one MLP");
        assertFalse(moe.sharedGate(), "no Qwen2-MoE sigmoid gate on the shared experts");
        assertEquals(List.of(0), moe.denseLayers());
        assertEquals(new TransformerConfig.Routing(true, true, 1, 1, 2.5f, true), moe.routing(),
                "DeepSeek-V3's sigmoid router with its correction bias, one group, × 2.5, fp32 logits");
        assertFalse(c.tiedEmbeddings());
        assertEquals(151649, c.specialIds().eos());
        assertEquals(-1, c.specialIds().bos());
        // 5.x's layout: rope_parameters; num_local_experts as n_routed_experts' alias
        assertEquals(c, read(INST.replace("\"rope_scaling\": null, \"rope_theta\": 10000000,",
                "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000000},").replace("n_routed_experts", "num_local_experts")));
    }

    @Test
    void defaultsAndTheSlidingRuleAreDots1Configs() throws Exception {
        TransformerConfig c = read("""
                {"model_type": "dots1", "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1}""");
        assertEquals(152064, c.vocabSize());
        assertEquals(4608, c.modelWidth());
        assertEquals(10944, c.mlpWidth());
        assertEquals(62, c.decoderLayers());
        assertEquals(32, c.heads());
        assertEquals(32, c.kvHeads());
        assertEquals(144, c.headSize(), "hidden / heads");
        assertEquals(2048, c.maxPositions());
        assertEquals(1e-6f, c.normEps());
        assertEquals(10000.0, c.rope().theta());
        assertFalse(c.moe().renormalize(), "norm_topk_prob false by default");
        assertEquals(1408, c.moe().expertWidth());
        assertTrue(c.moe().denseLayers().isEmpty(), "first_k_dense_replace 0: every layer sparse");
        assertEquals(1f, c.moe().routing().scale());
        assertTrue(c.windows().isEmpty(), "sliding_window 4096 from max_window_layers 62 on: none of 62 layers");
        // Dots1Config's rule, with no use_sliding_window switch: layer i slides iff i >= max_window_layers
        TransformerConfig s = read("""
                {"model_type": "dots1", "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1,
                 "num_hidden_layers": 4, "max_window_layers": 2, "use_sliding_window": false, "first_k_dense_replace": 0}""");
        List<Integer> w = new ArrayList<>();
        for (int i = 0; i < 4; i++) w.add(s.window(i));
        assertEquals(List.of(0, 0, 4096, 4096), w);
        TransformerConfig lt = read("""
                {"model_type": "dots1", "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1, "num_hidden_layers": 2,
                 "sliding_window": 16, "layer_types": ["sliding_attention", "full_attention"]}""");
        assertEquals(16, lt.window(0), "layer_types wins over the rule");
        assertEquals(0, lt.window(1));
        // a model whose layers are all dense needs no expert fields
        assertNull(read("{\"model_type\": \"dots1\", \"num_hidden_layers\": 2, \"first_k_dense_replace\": 2}").moe());
        TransformerConfig b = read("""
                {"model_type": "dots1", "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1, "attention_bias": true,
                 "head_dim": 64, "num_key_value_heads": null}""");
        assertEquals(new TransformerConfig.Biases(true, true, false), b.linearBiases(), "attention_bias: q, k, v and o_proj");
        assertEquals(64, b.headSize(), "a head_dim in config.json is Qwen3Attention's getattr");
        assertEquals(32, b.kvHeads(), "a null num_key_value_heads: the number of heads");
    }

    @Test
    void refusalsNameTheField() throws Exception {
        for (String[] bad : new String[][] {
                {"\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act 'gelu'"},
                {"\"num_key_value_heads\": 32", "\"num_key_value_heads\": 6", "does not divide"},
                {"\"num_experts_per_tok\": 6,", "", "num_experts_per_tok is missing"},
                {"\"n_shared_experts\": 2,", "", "n_shared_experts is missing"},
                {"\"n_routed_experts\": 128,", "", "n_routed_experts is missing"},
                {"\"n_shared_experts\": 2,", "\"n_shared_experts\": 2, \"n_group\": null,", "n_group is null"},
                {"\"n_shared_experts\": 2,", "\"n_shared_experts\": 2, \"topk_group\": null,", "topk_group is null"},
                {"\"n_shared_experts\": 2,", "\"n_shared_experts\": 2, \"head_dim\": null,", "head_dim is null"},
                {"\"first_k_dense_replace\": 1", "\"first_k_dense_replace\": -1", "first_k_dense_replace"},
                {"\"sliding_window\": null", "\"sliding_window\": null, \"layer_types\": [\"sliding_attention\"]", "layer_types"}}) {
            assertTrue(INST.contains(bad[0]), bad[0]);
            CheckpointException e = assertThrows(CheckpointException.class, () -> read(INST.replace(bad[0], bad[1])), bad[1]);
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
        }
        loraRefused(dir, "dots1", "dots1");
    }

    /**
     * The fixture folder {@code fixture} (model_type {@code type}, q_proj 32 × 32) loaded with a LoRA adapter merged at load is
     * refused naming LoRA and the family.
     */
    static void loraRefused(Path tmp, String fixture, String type) throws Exception {
        Path ad = Files.createDirectories(tmp.resolve("adapter-" + fixture));
        Files.writeString(ad.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4,"
                + " \"target_modules\": [\"q_proj\"], \"bias\": \"none\"}");
        org.transformer4j.model.weights.SafetensorsWriter.write(ad.resolve("adapter_model.safetensors"), java.util.Map.of(
                "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", Tensor.ofFloats(new float[2 * 32], 2, 32),
                "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", Tensor.ofFloats(new float[32 * 2], 32, 2)),
                java.util.Map.of("format", "pt"));
        try (CpuBackend backend = new CpuBackend()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(
                    ReferenceFixturesTest.Fixture.open(fixture).dir(), backend, org.transformer4j.runtime.DType.F32, LoraAdapter.read(ad)));
            assertTrue(e.getMessage().contains("LoRA adapters are not supported for " + type), e.getMessage());
        }
    }

    /** The float64 dots1 folder (q/k norms, layer 1 sliding and sparse, DeepSeek-V3's router) through the paged KV cache. */
    @Test
    void theFolderMatchesTheReferenceThroughThePagedCache() throws Exception {
        PagedDecoderTest.referenceThroughThePagedCache("dots1");
    }
}
