// HfGlm4MoeTest — GLM-4.5 / GLM-4.6 config.json read as transformers' Glm4MoeConfig and modeling read them (the published
// GLM-4.5-Air and GLM-4.5 configs: head_dim wider than hidden / heads, q/k/v biases, q/k norms, partial NeoX rotary,
// DeepSeek-V3's router), clear refusals, the multi-token-prediction layer left alone and an FP8 folder dequantized as it loads.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class HfGlm4MoeTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    /**
     * zai-org/GLM-4.5-Air's config.json (transformers 4.54's layout: rope_theta and partial_rotary_factor at the top level),
     * as written from the model card's fields; GLM-4.5 and GLM-4.6 differ in the fields {@link #glm45AsPublished} changes. No
     * verbatim copy of GLM-4.5-Air's, GLM-4.5's or GLM-4.6's file is stored anywhere searched (code, pages, docs, issues), so
     * the text stays as written; stored partial copies agree on every key but rope_theta (transformers' convert script for
     * GLM-4-MoE writes 10000; 1000000 is kept here).
     */
    static final String AIR = """
            {"architectures": ["Glm4MoeForCausalLM"], "attention_bias": true, "attention_dropout": 0.0, "pad_token_id": 151329,
             "eos_token_id": [151329, 151336, 151338], "head_dim": 128, "hidden_act": "silu", "hidden_size": 4096,
             "partial_rotary_factor": 0.5, "initializer_range": 0.02, "intermediate_size": 10944, "max_position_embeddings": 131072,
             "model_type": "glm4_moe", "moe_intermediate_size": 1408, "norm_topk_prob": true, "num_attention_heads": 96,
             "n_group": 1, "topk_group": 1, "n_routed_experts": 128, "n_shared_experts": 1, "routed_scaling_factor": 1.0,
             "num_experts_per_tok": 8, "first_k_dense_replace": 1, "num_hidden_layers": 46, "num_key_value_heads": 8,
             "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 1000000, "num_nextn_predict_layers": 1,
             "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.54.0", "use_cache": true,
             "use_qk_norm": false, "vocab_size": 151552}""";

    @Test
    void glm45AirAsPublished() throws Exception {
        TransformerConfig c = read(AIR);
        assertEquals(96, c.heads());
        assertEquals(8, c.kvHeads());
        assertEquals(128, c.headSize(), "head_dim as given: 96 × 128 = 12288 wider than hidden 4096");
        assertEquals(4096, c.modelWidth());
        assertEquals(64, c.rope().rotaryDim(), "partial_rotary_factor 0.5: rotate_half over each head's first 64 dims");
        assertEquals(1e6, c.rope().theta());
        assertEquals(TransformerConfig.Rope.Scaling.DEFAULT, c.rope().scaling());
        assertEquals(new TransformerConfig.Biases(true, false, false), c.linearBiases(), "q/k/v biased, o_proj never");
        assertEquals(false, c.qkNorm(), "use_qk_norm false");
        assertEquals(1e-5f, c.normEps());
        assertEquals(10944, c.mlpWidth(), "layer 0's dense MLP");
        TransformerConfig.Moe moe = c.moe();
        assertEquals(128, moe.experts());
        assertEquals(8, moe.topK());
        assertEquals(1408, moe.expertWidth());
        assertEquals(1408, moe.sharedWidth(), "one shared expert, ungated");
        assertEquals(false, moe.sharedGate());
        assertEquals(List.of(0), moe.denseLayers(), "first_k_dense_replace 1");
        assertEquals(true, moe.renormalize(), "norm_topk_prob");
        assertEquals(new TransformerConfig.Routing(true, true, 1, 1, 1f, true), moe.routing(), "DeepSeek-V3's sigmoid router, one group, × 1");
        assertEquals(46, c.decoderLayers(), "the MTP layer 46 is not one of the model's layers");
        assertEquals(151329, c.specialIds().pad());
        assertEquals(151329, c.specialIds().eos(), "the first eos ends a reply");
        assertEquals(-1, c.specialIds().bos());
        assertEquals(false, c.tiedEmbeddings());
        assertEquals(131072, c.maxPositions());
    }

    /** GLM-4.5 (355B): hidden 5120, 92 layers, the first 3 dense, 160 experts of 1536, × 2.5, q/k norms; GLM-4.6 as 4.5 at 202752 positions. */
    @Test
    void glm45AsPublished() throws Exception {
        TransformerConfig c = read(AIR.replace("\"hidden_size\": 4096", "\"hidden_size\": 5120")
                .replace("\"intermediate_size\": 10944", "\"intermediate_size\": 12288").replace("\"moe_intermediate_size\": 1408", "\"moe_intermediate_size\": 1536")
                .replace("\"n_routed_experts\": 128", "\"n_routed_experts\": 160").replace("\"routed_scaling_factor\": 1.0", "\"routed_scaling_factor\": 2.5")
                .replace("\"first_k_dense_replace\": 1", "\"first_k_dense_replace\": 3").replace("\"num_hidden_layers\": 46", "\"num_hidden_layers\": 92")
                .replace("\"use_qk_norm\": false", "\"use_qk_norm\": true").replace("\"max_position_embeddings\": 131072", "\"max_position_embeddings\": 202752"));
        assertEquals(true, c.qkNorm(), "RMSNorm per head of q and k (head_dim wide), before the rotary");
        assertEquals(false, c.qkNormWide());
        assertEquals(new TransformerConfig.Routing(true, true, 1, 1, 2.5f, true), c.moe().routing());
        assertEquals(List.of(0, 1, 2), c.moe().denseLayers());
        assertEquals(160, c.moe().experts());
        assertEquals(1536, c.moe().sharedWidth());
        assertEquals(128, c.headSize(), "96 × 128 over 5120");
        assertEquals(202752, c.maxPositions());
    }

    /** Glm4MoeConfig's defaults where the folder says nothing; head_dim absent is hidden / heads; 5.x's rope_parameters. */
    @Test
    void defaultsFollowTheConfigClass() throws Exception {
        TransformerConfig c = read("{\"model_type\": \"glm4_moe\", \"head_dim\": 128}");
        assertEquals(151552, c.vocabSize());
        assertEquals(4096, c.modelWidth());
        assertEquals(10944, c.mlpWidth());
        assertEquals(46, c.decoderLayers());
        assertEquals(96, c.heads());
        assertEquals(8, c.kvHeads());
        assertEquals(64, c.rope().rotaryDim(), "partial_rotary_factor 0.5 by default");
        assertEquals(10000.0, c.rope().theta());
        assertEquals(1e-5f, c.normEps());
        assertEquals(new TransformerConfig.Biases(false, false, false), c.linearBiases(), "attention_bias false");
        assertEquals(false, c.qkNorm());
        assertEquals(131072, c.maxPositions());
        TransformerConfig.Moe moe = c.moe();
        assertEquals(128, moe.experts());
        assertEquals(8, moe.topK());
        assertEquals(1408, moe.expertWidth());
        assertEquals(1408, moe.sharedWidth());
        assertEquals(List.of(0), moe.denseLayers());
        assertEquals(true, moe.renormalize());
        assertEquals(new TransformerConfig.Routing(true, true, 1, 1, 1f, true), moe.routing());
        assertEquals(new TransformerConfig.SpecialIds(-1, -1, -1, -1, -1), c.specialIds(), "no pad / bos / eos by default");
        // head_dim absent: Glm4MoeAttention's hidden_size // num_attention_heads
        TransformerConfig small = read("{\"model_type\": \"glm4_moe\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                + " \"num_local_experts\": 8, \"num_experts_per_tok\": 2, \"n_group\": 4, \"topk_group\": 2, \"num_hidden_layers\": 2}");
        assertEquals(16, small.headSize());
        assertEquals(8, small.rope().rotaryDim());
        assertEquals(8, small.moe().experts(), "num_local_experts: n_routed_experts' alias (attribute_map)");
        assertEquals(new TransformerConfig.Routing(true, true, 4, 2, 1f, true), small.moe().routing());
        // transformers 5.x's layout: rope_theta and partial_rotary_factor inside rope_parameters
        TransformerConfig v5 = read(AIR.replace("\"partial_rotary_factor\": 0.5,", "").replace("\"rope_scaling\": null, \"rope_theta\": 1000000,",
                "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1000000, \"partial_rotary_factor\": 0.5},"));
        assertEquals(read(AIR), v5);
        // every layer below first_k_dense_replace: a dense model
        assertNull(read("{\"model_type\": \"glm4_moe\", \"head_dim\": 128, \"num_hidden_layers\": 2, \"first_k_dense_replace\": 2}").moe());
    }

    @Test
    void whatTransformersRejectsOrThisLibraryDoesNotRunIsRefusedByName() throws Exception {
        for (String[] bad : new String[][] {
                {"\"head_dim\": 128", "\"head_dim\": null", "head_dim is null"},
                {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": null", "num_key_value_heads is null"},
                {"\"num_key_value_heads\": 8", "\"num_key_value_heads\": 7", "does not divide"},
                {"\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act 'gelu'"},
                {"\"partial_rotary_factor\": 0.5,", "\"partial_rotary_factor\": 0.5, \"rope_parameters\": {\"rope_theta\": 1000000,"
                        + " \"partial_rotary_factor\": 0.25},", "differ"},
                {"\"n_shared_experts\": 1", "\"n_shared_experts\": 0", "'n_shared_experts' is 0"},
                {"\"head_dim\": 128", "\"head_dim\": 42", "rotary dims"}}) {
            assertTrue(AIR.contains(bad[0]), bad[0]);
            CheckpointException e = assertThrows(CheckpointException.class, () -> read(AIR.replace(bad[0], bad[1])), bad[1]);
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
        }
        // a LoRA adapter merged at load
        Path ad = Files.createDirectories(dir.resolve("adapter"));
        Files.writeString(ad.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4,"
                + " \"target_modules\": [\"q_proj\"], \"bias\": \"none\"}");
        org.transformer4j.model.weights.SafetensorsWriter.write(ad.resolve("adapter_model.safetensors"), Map.of(
                "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", Tensor.ofFloats(new float[2 * 32], 2, 32),
                "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", Tensor.ofFloats(new float[64 * 2], 64, 2)),
                Map.of("format", "pt"));
        try (CpuBackend backend = new CpuBackend()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(
                    ReferenceFixturesTest.Fixture.open("glm4-moe").dir(), backend, org.transformer4j.runtime.DType.F32, LoraAdapter.read(ad)));
            assertTrue(e.getMessage().contains("LoRA adapters are not supported for glm4_moe"), e.getMessage());
        }
    }

    /**
     * GLM-4.5's multi-token-prediction layer, stored at index num_hidden_layers (46 / 92; num_nextn_predict_layers 1):
     * the glm4-moe folder with a layer 3 of the MTP module's names added loads to bit-identical logits, the extra tensors
     * left alone (transformers ignores them on load, or never runs them).
     */
    @Test
    void theMultiTokenPredictionLayerIsLeftAlone() throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open("glm4-moe").dir(), mtp = Files.createDirectories(dir.resolve("mtp"));
        Files.copy(src.resolve("config.json"), mtp.resolve("config.json"));
        Map<String, Tensor> all = new LinkedHashMap<>();
        try (org.transformer4j.model.weights.SafetensorsFile f = org.transformer4j.model.weights.SafetensorsFile.open(src.resolve("model.safetensors"))) {
            for (String n : f.names()) all.put(n, f.tensor(n));
            for (String n : f.names()) {
                if (n.startsWith("model.layers.1.")) all.put("model.layers.3.mtp_block." + n.substring("model.layers.1.".length()), f.tensor(n));
            }
            all.put("model.layers.3.eh_proj.weight", Tensor.ofFloats(new float[32 * 64], 32, 64));
            all.put("model.layers.3.enorm.weight", f.tensor("model.norm.weight"));
            all.put("model.layers.3.hnorm.weight", f.tensor("model.norm.weight"));
            all.put("model.layers.3.shared_head.norm.weight", f.tensor("model.norm.weight"));
            org.transformer4j.model.weights.SafetensorsWriter.write(mtp.resolve("model.safetensors"), all, Map.of("format", "pt"));
            all.remove("model.layers.2.mlp.gate.e_score_correction_bias");                 // for the refusal below
            org.transformer4j.model.weights.SafetensorsWriter.write(Files.createDirectories(dir.resolve("missing")).resolve("model.safetensors"),
                    all, Map.of("format", "pt"));
        }
        CpuBackend cpu = new CpuBackend();
        int[][] ids = ReferenceFixturesTest.Fixture.open("glm4-moe").ids("input_ids");
        try (Weights a = Pretrained.load(src, cpu); Weights b = Pretrained.load(mtp, cpu)) {
            float[][][] x = new Transformer(a, cpu).logits(ids), y = new Transformer(b, cpu).logits(ids);
            for (int r = 0; r < x.length; r++) for (int t = 0; t < x[r].length; t++) assertArrayEquals(x[r][t], y[r][t], "row " + r + " position " + t);
        }
        // a layer the model has is still required: the folder without layer 2's router bias is refused
        Path missing = dir.resolve("missing");
        Files.copy(src.resolve("config.json"), missing.resolve("config.json"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(missing, cpu).close());
        assertTrue(e.getMessage().contains("model.layers.2.mlp.gate.e_score_correction_bias"), e.getMessage());
    }

    /** GLM-4.5-Air-FP8's block layout as DeepSeek-V3's (quant_method fp8, e4m3, weight_scale_inv per block), MTP layer included. */
    @Test
    void anFp8FolderLoadsAsItsDequantizedValues() throws Exception {
        HfDeepseekTest.fp8FolderLoadsAsItsDequantizedValues(dir, "glm4-moe");
    }
}
