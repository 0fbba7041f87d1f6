// HfDeepseekTest — DeepSeek-V2 / V3 config.json read as transformers' DeepseekV2Config / DeepseekV3Config and modeling read
// them (the published DeepSeek-V2-Lite and DeepSeek-V3 configs: MLA sizes, the softmax scale with yarn's mscale², the routers),
// clear refusals, and the loader's tensor surgery (q rows [pe | nope], the fused [K ; V] over the latent, o's zero columns).
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class HfDeepseekTest {

    @TempDir
    Path dir;

    private TransformerConfig read(String json) throws Exception {
        Files.writeString(dir.resolve("config.json"), json);
        return HfDecoders.config(HfConfig.read(dir));
    }

    /**
     * deepseek-ai/DeepSeek-V2-Lite's config.json as a C++ config parser's test keeps it ("verbatim except for HF bookkeeping
     * keys": auto_map, attention_dropout, pretraining_tp, use_cache and transformers_version are not in that copy; found in the
     * stored public code by text search, whose index does not name the repository). Every other key and value here agrees
     * with transformers' printout of deepseek-ai/DeepSeek-V2-Lite-Chat's config (snapshot 85864749…) in a stored training log.
     */
    static final String V2_LITE = """
            {
              "architectures": ["DeepseekV2ForCausalLM"],
              "attention_bias": false,
              "aux_loss_alpha": 0.001,
              "bos_token_id": 100000,
              "eos_token_id": 100001,
              "first_k_dense_replace": 1,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "initializer_range": 0.02,
              "intermediate_size": 10944,
              "kv_lora_rank": 512,
              "max_position_embeddings": 163840,
              "model_type": "deepseek_v2",
              "moe_intermediate_size": 1408,
              "moe_layer_freq": 1,
              "n_group": 1,
              "n_routed_experts": 64,
              "n_shared_experts": 2,
              "norm_topk_prob": false,
              "num_attention_heads": 16,
              "num_experts_per_tok": 6,
              "num_hidden_layers": 27,
              "num_key_value_heads": 16,
              "q_lora_rank": null,
              "qk_nope_head_dim": 128,
              "qk_rope_head_dim": 64,
              "rms_norm_eps": 1e-06,
              "rope_scaling": {
                "beta_fast": 32,
                "beta_slow": 1,
                "factor": 40,
                "mscale": 0.707,
                "mscale_all_dim": 0.707,
                "original_max_position_embeddings": 4096,
                "type": "yarn"
              },
              "rope_theta": 10000,
              "routed_scaling_factor": 1.0,
              "scoring_func": "softmax",
              "seq_aux": true,
              "tie_word_embeddings": false,
              "topk_group": 1,
              "topk_method": "greedy",
              "torch_dtype": "bfloat16",
              "v_head_dim": 128,
              "vocab_size": 102400
            }""";

    /**
     * deepseek-ai/DeepSeek-V3's config.json verbatim (a stored markdown dump of hub config.json files, found by text search;
     * the same keys and values as Megatron-Bridge's DeepSeek-V3 bridge test fixture and a vllm-ascend issue's copy): its
     * FP8 quantization_config included, which the config does not read (the loader does).
     */
    static final String V3 = """
            {
              "architectures": [
                "DeepseekV3ForCausalLM"
              ],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "auto_map": {
                "AutoConfig": "configuration_deepseek.DeepseekV3Config",
                "AutoModel": "modeling_deepseek.DeepseekV3Model",
                "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"
              },
              "bos_token_id": 0,
              "eos_token_id": 1,
              "ep_size": 1,
              "first_k_dense_replace": 3,
              "hidden_act": "silu",
              "hidden_size": 7168,
              "initializer_range": 0.02,
              "intermediate_size": 18432,
              "kv_lora_rank": 512,
              "max_position_embeddings": 163840,
              "model_type": "deepseek_v3",
              "moe_intermediate_size": 2048,
              "moe_layer_freq": 1,
              "n_group": 8,
              "n_routed_experts": 256,
              "n_shared_experts": 1,
              "norm_topk_prob": true,
              "num_attention_heads": 128,
              "num_experts_per_tok": 8,
              "num_hidden_layers": 61,
              "num_key_value_heads": 128,
              "num_nextn_predict_layers": 1,
              "q_lora_rank": 1536,
              "qk_nope_head_dim": 128,
              "qk_rope_head_dim": 64,
              "quantization_config": {
                "activation_scheme": "dynamic",
                "fmt": "e4m3",
                "quant_method": "fp8",
                "weight_block_size": [
                  128,
                  128
                ]
              },
              "rms_norm_eps": 1e-06,
              "rope_scaling": {
                "beta_fast": 32,
                "beta_slow": 1,
                "factor": 40,
                "mscale": 1.0,
                "mscale_all_dim": 1.0,
                "original_max_position_embeddings": 4096,
                "type": "yarn"
              },
              "rope_theta": 10000,
              "routed_scaling_factor": 2.5,
              "scoring_func": "sigmoid",
              "tie_word_embeddings": false,
              "topk_group": 4,
              "topk_method": "noaux_tc",
              "torch_dtype": "bfloat16",
              "transformers_version": "4.33.1",
              "use_cache": true,
              "v_head_dim": 128,
              "vocab_size": 129280
            }""";

    @Test
    void deepseekV2LiteAsPublished() throws Exception {
        TransformerConfig c = read(V2_LITE);
        assertEquals(new TransformerConfig.Mla(0, 512, 128, 64, 128, 1e-6f), c.mla(), "q_lora_rank null: q_proj");
        assertEquals(192, c.headSize(), "qk_nope_head_dim + qk_rope_head_dim");
        assertEquals(16, c.heads());
        assertEquals(16, c.kvHeads());
        assertEquals(64, c.rope().rotaryDim(), "RoPE turns the qk_rope_head_dim dims only");
        assertEquals(TransformerConfig.Rope.Scaling.YARN, c.rope().scaling());
        assertEquals(1.0, c.rope().attentionFactor(), 1e-12, "mscale = mscale_all_dim: yarn's cos/sin factor is 1");
        // scaling = 192^-0.5 · yarn_get_mscale(40, 0.707)², the softmax correction transformers applies since PR 47435
        double m = 0.1 * 0.707 * Math.log(40) + 1;
        assertEquals((float) (m * m / Math.sqrt(192)), c.attentionScale(), 1e-7f);
        TransformerConfig.Moe moe = c.moe();
        assertEquals(64, moe.experts());
        assertEquals(6, moe.topK());
        assertEquals(1408, moe.expertWidth());
        assertEquals(2 * 1408, moe.sharedWidth(), "n_shared_experts 2: one MLP of twice moe_intermediate_size");
        assertEquals(List.of(0), moe.denseLayers(), "first_k_dense_replace 1");
        assertEquals(false, moe.renormalize(), "DeepseekV2Moe never renormalizes");
        assertEquals(new TransformerConfig.Routing(false, false, 1, 1, 1f, true), moe.routing(), "greedy softmax top-k");
        assertEquals(10944, c.mlpWidth(), "the dense layer's intermediate_size");
        assertEquals(27, c.decoderLayers());
        assertEquals(10000.0, c.rope().theta());
        assertEquals(163840, c.maxPositions());
        assertEquals(1e-6f, c.normEps());
        assertEquals(102400, c.vocabSize());
        assertEquals(100000, c.specialIds().bos());
        assertEquals(100001, c.specialIds().eos());
        assertEquals(false, c.tiedEmbeddings());
    }

    @Test
    void deepseekV3AsPublished() throws Exception {
        TransformerConfig c = read(V3);
        assertEquals(new TransformerConfig.Mla(1536, 512, 128, 64, 128, 1e-6f), c.mla(), "q through q_a_proj / q_b_proj");
        assertEquals(128, c.heads());
        assertEquals(128, c.kvHeads());
        assertEquals(61, c.decoderLayers(), "the MTP layer (num_nextn_predict_layers 1) is not one of the model's");
        assertV3Yarn(c, 10000, 40, 163840);
        TransformerConfig.Moe moe = c.moe();
        assertEquals(new TransformerConfig.Routing(true, true, 8, 4, 2.5f, true), moe.routing(), "sigmoid, correction bias, 8 groups keep 4, × 2.5");
        assertEquals(true, moe.renormalize(), "norm_topk_prob");
        assertEquals(List.of(0, 1, 2), moe.denseLayers(), "first_k_dense_replace 3");
        assertEquals(2048, moe.expertWidth());
        assertEquals(2048, moe.sharedWidth(), "one shared expert");
        assertEquals(256, moe.experts());
        assertEquals(8, moe.topK());
        assertEquals(18432, c.mlpWidth(), "the dense layers' intermediate_size");
        assertEquals(129280, c.vocabSize());
        assertEquals(0, c.specialIds().bos());
        assertEquals(1, c.specialIds().eos());
        assertEquals(false, c.tiedEmbeddings());
    }

    /**
     * A published DeepSeek-V3-style yarn: head 192 (rope 64 of it rotated), mscale = mscale_all_dim = 1 (yarn's cos/sin factor
     * 1) and the softmax scale 192^-0.5 · yarn_get_mscale(factor, 1)², rms_norm_eps 1e-6.
     */
    private static void assertV3Yarn(TransformerConfig c, double theta, double factor, int positions) {
        assertEquals(192, c.headSize());
        assertEquals(64, c.rope().rotaryDim());
        assertEquals(TransformerConfig.Rope.Scaling.YARN, c.rope().scaling());
        assertEquals(theta, c.rope().theta());
        assertEquals(1.0, c.rope().attentionFactor(), 1e-12, "mscale = mscale_all_dim = 1");
        double m = 0.1 * Math.log(factor) + 1;
        assertEquals((float) (m * m / Math.sqrt(192)), c.attentionScale(), 1e-7f, "192^-0.5 · mscale(" + factor + ", 1)²");
        assertEquals(1e-6f, c.normEps());
        assertEquals(positions, c.maxPositions());
    }

    /**
     * moonshotai/Moonlight-16B-A3B-Instruct's config.json as a Rust MLA loader's test keeps it ("as published at revision
     * 4e735b07…, key order and values kept"; found in the stored public code by text search, whose index does not name the
     * repository; the base Moonlight-16B-A3B's file is not stored anywhere searched): DeepSeek-V3's layers with q_proj
     * (q_lora_rank null), one expert group (sigmoid and the correction bias without group limits), × 2.446, no rope_scaling key.
     */
    static final String MOONLIGHT = """
            {
              "architectures": ["DeepseekV3ForCausalLM"], "attention_bias": false,
              "attention_dropout": 0.0,
              "auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV3Config",
                "AutoModel": "modeling_deepseek.DeepseekV3Model",
                "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"},
              "aux_loss_alpha": 0.001, "bos_token_id": 163584, "eos_token_id": 163586,
              "ep_size": 1, "first_k_dense_replace": 1, "hidden_act": "silu",
              "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 11264,
              "kv_lora_rank": 512, "max_position_embeddings": 8192, "model_type": "deepseek_v3",
              "moe_intermediate_size": 1408, "moe_layer_freq": 1, "n_group": 1,
              "n_routed_experts": 64, "n_shared_experts": 2, "norm_topk_prob": true,
              "num_attention_heads": 16, "num_experts_per_tok": 6, "num_hidden_layers": 27,
              "num_key_value_heads": 16, "num_nextn_predict_layers": 0, "pretraining_tp": 1,
              "q_lora_rank": null, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
              "rms_norm_eps": 1e-05, "rope_theta": 50000.0, "routed_scaling_factor": 2.446,
              "scoring_func": "sigmoid", "seq_aux": true, "tie_word_embeddings": false,
              "topk_group": 1, "topk_method": "noaux_tc", "torch_dtype": "bfloat16",
              "transformers_version": "4.46.3", "use_cache": true, "v_head_dim": 128,
              "vocab_size": 163840}""";

    @Test
    void moonlightAsPublished() throws Exception {
        TransformerConfig c = read(MOONLIGHT);
        assertEquals(new TransformerConfig.Mla(0, 512, 128, 64, 128, 1e-6f), c.mla());
        assertEquals(new TransformerConfig.Routing(true, true, 1, 1, 2.446f, true), c.moe().routing(), "one group: no group limit");
        assertEquals(true, c.moe().renormalize());
        assertEquals((float) (1 / Math.sqrt(192)), c.attentionScale(), 1e-7f, "no rope scaling: no mscale²");
        assertEquals(TransformerConfig.Rope.Scaling.DEFAULT, c.rope().scaling());
        assertEquals(50000.0, c.rope().theta());
        assertEquals(1e-5f, c.normEps(), "rms_norm_eps for the layers; the latent norms keep 1e-6");
        assertEquals(List.of(0), c.moe().denseLayers());
        assertEquals(64, c.moe().experts());
        assertEquals(6, c.moe().topK());
        assertEquals(2 * 1408, c.moe().sharedWidth());
        assertEquals(11264, c.mlpWidth());
        assertEquals(8192, c.maxPositions());
        assertEquals(163840, c.vocabSize());
        assertEquals(163584, c.specialIds().bos());
        assertEquals(163586, c.specialIds().eos(), "the Instruct model's <|im_end|>");
        assertEquals(false, c.tiedEmbeddings());
    }

    /**
     * moonshotai/Kimi-K2-Instruct's config.json. NOT a verbatim copy: no copy of the file is stored anywhere searched (code,
     * pages, docs, issues), so this text follows DeepSeek-V3's file's keys with Kimi-K2's values as the stored sources that
     * quote them agree (model_type kimi_k2 with architectures [DeepseekV3ForCausalLM] and DeepSeek-V3's auto_map, 64 heads,
     * q_lora_rank 1536, 384 experts of 2048 top-8 with one shared, n_group / topk_group 1, × 2.827, first_k_dense_replace 1,
     * yarn factor 32 over 4096 with beta_fast = beta_slow = 1 and mscale = mscale_all_dim = 1, rope_theta 50000, rms_norm_eps
     * 1e-6, 131072 positions, vocab 163840 untied, bos 163584, FP8 in 128 × 128 blocks, no MTP layer). eos is the least sure:
     * copies disagree between 163585 ([EOS]) and 163586 (<|im_end|>), so it is not asserted.
     */
    static final String KIMI_K2 = """
            {
              "architectures": ["DeepseekV3ForCausalLM"],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "auto_map": {
                "AutoConfig": "configuration_deepseek.DeepseekV3Config",
                "AutoModel": "modeling_deepseek.DeepseekV3Model",
                "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"
              },
              "aux_loss_alpha": 0.001,
              "bos_token_id": 163584,
              "eos_token_id": 163585,
              "first_k_dense_replace": 1,
              "hidden_act": "silu",
              "hidden_size": 7168,
              "initializer_range": 0.02,
              "intermediate_size": 18432,
              "kv_lora_rank": 512,
              "max_position_embeddings": 131072,
              "model_type": "kimi_k2",
              "moe_intermediate_size": 2048,
              "moe_layer_freq": 1,
              "n_group": 1,
              "n_routed_experts": 384,
              "n_shared_experts": 1,
              "norm_topk_prob": true,
              "num_attention_heads": 64,
              "num_experts_per_tok": 8,
              "num_hidden_layers": 61,
              "num_key_value_heads": 64,
              "num_nextn_predict_layers": 0,
              "pretraining_tp": 1,
              "q_lora_rank": 1536,
              "qk_nope_head_dim": 128,
              "qk_rope_head_dim": 64,
              "quantization_config": {
                "activation_scheme": "dynamic",
                "fmt": "e4m3",
                "quant_method": "fp8",
                "weight_block_size": [128, 128]
              },
              "rms_norm_eps": 1e-06,
              "rope_scaling": {
                "beta_fast": 1.0,
                "beta_slow": 1.0,
                "factor": 32.0,
                "mscale": 1.0,
                "mscale_all_dim": 1.0,
                "original_max_position_embeddings": 4096,
                "type": "yarn"
              },
              "rope_theta": 50000.0,
              "routed_scaling_factor": 2.827,
              "scoring_func": "sigmoid",
              "seq_aux": true,
              "tie_word_embeddings": false,
              "topk_group": 1,
              "topk_method": "noaux_tc",
              "torch_dtype": "bfloat16",
              "transformers_version": "4.48.3",
              "use_cache": true,
              "v_head_dim": 128,
              "vocab_size": 163840
            }""";

    @Test
    void kimiK2AsPublished() throws Exception {
        TransformerConfig c = read(KIMI_K2);
        assertEquals(new TransformerConfig.Mla(1536, 512, 128, 64, 128, 1e-6f), c.mla(), "DeepSeek-V3's MLA");
        assertEquals(64, c.heads());
        assertEquals(64, c.kvHeads());
        assertEquals(61, c.decoderLayers());
        assertV3Yarn(c, 50000, 32, 131072);
        TransformerConfig.Moe moe = c.moe();
        assertEquals(new TransformerConfig.Routing(true, true, 1, 1, 2.827f, true), moe.routing(), "sigmoid, correction bias, one group, × 2.827");
        assertEquals(true, moe.renormalize(), "norm_topk_prob");
        assertEquals(384, moe.experts());
        assertEquals(8, moe.topK());
        assertEquals(2048, moe.expertWidth());
        assertEquals(2048, moe.sharedWidth(), "one shared expert");
        assertEquals(List.of(0), moe.denseLayers(), "first_k_dense_replace 1");
        assertEquals(18432, c.mlpWidth());
        assertEquals(163840, c.vocabSize());
        assertEquals(163584, c.specialIds().bos());
        assertEquals(false, c.tiedEmbeddings());
        // read as deepseek_v3: the same TransformerConfig as the folder saying so
        assertEquals(read(KIMI_K2.replace("\"model_type\": \"kimi_k2\"", "\"model_type\": \"deepseek_v3\"")), c);
    }

    /** kimi_k2 runs DeepSeek-V3's remote code: other architectures, routers or scorings are refused by name. */
    @Test
    void kimiK2FoldersDeepseekV3DoesNotRunAreRefusedByName() throws Exception {
        refused(KIMI_K2, "[\"DeepseekV3ForCausalLM\"]", "[\"KimiK2ForCausalLM\"]", "architectures [DeepseekV3ForCausalLM], not [KimiK2ForCausalLM]");
        refused(KIMI_K2, "\"topk_method\": \"noaux_tc\"", "\"topk_method\": \"greedy\"", "topk_method 'greedy' is not supported for kimi_k2");
        refused(KIMI_K2, "\"scoring_func\": \"sigmoid\"", "\"scoring_func\": \"softmax\"", "scoring_func 'softmax' is not supported for kimi_k2");
    }

    /** The deepseek-v3 reference folder re-typed as kimi_k2 (Kimi-K2's config keys) loads to the same logits, bit for bit. */
    @Test
    void aKimiK2FolderLoadsAsDeepseekV3() throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open("deepseek-v3").dir();
        Path d = Files.createDirectories(dir.resolve("kimi"));
        String json = Files.readString(src.resolve("config.json"));
        String kimi = json.replaceFirst("\"model_type\"\\s*:\\s*\"deepseek_v3\"", "\"model_type\": \"kimi_k2\"");
        assertTrue(!kimi.equals(json), "the fixture names deepseek_v3");
        Files.writeString(d.resolve("config.json"), kimi);
        Files.copy(src.resolve("model.safetensors"), d.resolve("model.safetensors"));
        org.transformer4j.runtime.CpuBackend cpu = new org.transformer4j.runtime.CpuBackend();
        int[][] ids = ReferenceFixturesTest.Fixture.open("deepseek-v3").ids("input_ids");
        try (Weights wk = Pretrained.load(d, cpu); Weights wv = Pretrained.load(src, cpu)) {
            float[][][] a = new Transformer(wk, cpu).logits(ids), b = new Transformer(wv, cpu).logits(ids);
            for (int r = 0; r < a.length; r++) for (int t = 0; t < a[r].length; t++) assertArrayEquals(b[r][t], a[r][t], "row " + r + " position " + t);
        }
    }

    @Test
    void v2GroupLimitedRoutingAndV3DefaultsFollowTheConfigClasses() throws Exception {
        TransformerConfig v2 = read(V2_LITE.replace("\"topk_method\": \"greedy\"", "\"topk_method\": \"group_limited_greedy\"")
                .replace("\"n_group\": 1", "\"n_group\": 8").replace("\"topk_group\": 1", "\"topk_group\": 3")
                .replace("\"routed_scaling_factor\": 1.0", "\"routed_scaling_factor\": 16.0").replace("\"norm_topk_prob\": false", "\"norm_topk_prob\": true"));
        assertEquals(new TransformerConfig.Routing(false, false, 8, 3, 16f, true), v2.moe().routing(), "DeepSeek-V2's group-limited greedy");
        assertEquals(false, v2.moe().renormalize(), "transformers' DeepseekV2Moe reads no norm_topk_prob");
        // DeepseekV3Config's defaults where the folder says nothing, and V3 reads neither topk_method nor scoring_func
        TransformerConfig v3 = read("{\"model_type\": \"deepseek_v3\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_hidden_layers\": 4,"
                + " \"intermediate_size\": 96, \"vocab_size\": 300, \"kv_lora_rank\": 16, \"q_lora_rank\": null, \"qk_nope_head_dim\": 16,"
                + " \"qk_rope_head_dim\": 8, \"v_head_dim\": 16, \"n_routed_experts\": 16, \"num_experts_per_tok\": 4, \"n_group\": 4,"
                + " \"topk_group\": 2, \"moe_intermediate_size\": 32, \"scoring_func\": \"softmax\", \"topk_method\": \"greedy\"}");
        assertEquals(new TransformerConfig.Routing(true, true, 4, 2, 2.5f, true), v3.moe().routing());
        assertEquals(List.of(0, 1, 2), v3.moe().denseLayers(), "first_k_dense_replace 3");
        assertEquals((float) (1 / Math.sqrt(24)), v3.attentionScale(), 1e-7f, "no rope scaling: qk_head_dim^-0.5");
        assertEquals(0, v3.specialIds().bos());
        assertEquals(1, v3.specialIds().eos());
    }

    /**
     * transformers 5.x saves DeepSeek's experts stacked (DeepseekV2Experts: mlp.experts.gate_up_proj (E, 2F, C), each expert's
     * [gate ; up], and down_proj (E, C, F)): the deepseek-v2-lite folder restacked so loads to the same logits bit for bit.
     */
    @Test
    void transformers5StackedExpertsLoadAsThePerExpertOnes() throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open("deepseek-v2-lite").dir();
        Path d = Files.createDirectories(dir.resolve("stacked"));
        Files.copy(src.resolve("config.json"), d.resolve("config.json"));
        java.util.Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        List<Tensor> made = new java.util.ArrayList<>();
        try (org.transformer4j.model.weights.SafetensorsFile f = org.transformer4j.model.weights.SafetensorsFile.open(src.resolve("model.safetensors"))) {
            TransformerConfig c = HfDecoders.config(HfConfig.read(src));
            int e = c.moe().experts(), ff = c.moe().expertWidth(), cw = c.modelWidth();
            for (String n : f.names()) if (!n.contains(".mlp.experts.")) out.put(n, f.tensor(n));
            for (int l = 0; l < c.decoderLayers(); l++) {
                if (!c.moeAt(l)) continue;
                String p = "model.layers." + l + ".mlp.experts.";
                float[] gu = new float[e * 2 * ff * cw], dn = new float[e * cw * ff];
                for (int x = 0; x < e; x++) {
                    System.arraycopy(f.tensor(p + x + ".gate_proj.weight").toFloatArray(), 0, gu, x * 2 * ff * cw, ff * cw);
                    System.arraycopy(f.tensor(p + x + ".up_proj.weight").toFloatArray(), 0, gu, x * 2 * ff * cw + ff * cw, ff * cw);
                    System.arraycopy(f.tensor(p + x + ".down_proj.weight").toFloatArray(), 0, dn, x * cw * ff, cw * ff);
                }
                Tensor a = Tensor.of(DType.BF16, gu, e, 2L * ff, cw), b = Tensor.of(DType.BF16, dn, e, cw, ff);
                made.add(a);
                made.add(b);
                out.put(p + "gate_up_proj", a);
                out.put(p + "down_proj", b);
            }
            org.transformer4j.model.weights.SafetensorsWriter.write(d.resolve("model.safetensors"), out, java.util.Map.of("format", "pt"));
        } finally {
            made.forEach(Tensor::close);
        }
        org.transformer4j.runtime.CpuBackend cpu = new org.transformer4j.runtime.CpuBackend();
        int[][] ids = ReferenceFixturesTest.Fixture.open("deepseek-v2-lite").ids("input_ids");
        try (Weights ws = Pretrained.load(d, cpu); Weights wp = Pretrained.load(src, cpu)) {
            float[][][] a = new Transformer(ws, cpu).logits(ids), b = new Transformer(wp, cpu).logits(ids);
            for (int r = 0; r < a.length; r++) for (int t = 0; t < a[r].length; t++) assertArrayEquals(b[r][t], a[r][t], "row " + r + " position " + t);
        }
    }

    @Test
    void awqAndGptqFoldersAreRefusedByName() throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open("deepseek-v2-lite").dir();
        Path d = Files.createDirectories(dir.resolve("awq"));
        Files.writeString(d.resolve("config.json"), Files.readString(src.resolve("config.json")).replaceFirst("\\{",
                "{\"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 128, \"zero_point\": true, \"version\": \"gemm\"}, "));
        Files.copy(src.resolve("model.safetensors"), d.resolve("model.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(d, new org.transformer4j.runtime.CpuBackend()));
        assertTrue(e.getMessage().contains("AWQ / GPTQ deepseek_v2 folders are not supported"), e.getMessage());
    }

    @Test
    void whatIsNotImplementedIsRefusedByName() throws Exception {
        refused(V2_LITE, "\"num_key_value_heads\": 16", "\"num_key_value_heads\": 8", "num_key_value_heads 8");
        refused(V2_LITE, "\"attention_bias\": false", "\"attention_bias\": true", "attention_bias");
        refused(V2_LITE, "\"moe_layer_freq\": 1", "\"moe_layer_freq\": 2", "moe_layer_freq 2");
        refused(V2_LITE, "\"topk_method\": \"greedy\"", "\"topk_method\": \"noaux_tc\"", "topk_method 'noaux_tc'");
        refused(V2_LITE, "\"v_head_dim\": 128", "\"v_head_dim\": 256", "v_head_dim 256");
        refused(V2_LITE, "\"num_experts_per_tok\": 6,", "", "num_experts_per_tok");
    }

    /** first_k_dense_replace 0 (DeepseekV2Config's default) makes every layer sparse; a negative count is refused by name. */
    @Test
    void firstKDenseReplaceZeroMakesEveryLayerSparse() throws Exception {
        assertTrue(V2_LITE.contains("\"first_k_dense_replace\": 1,"));
        TransformerConfig c = read(V2_LITE.replace("\"first_k_dense_replace\": 1,", "\"first_k_dense_replace\": 0,"));
        assertEquals(List.of(), c.moe().denseLayers());
        refused(V2_LITE, "\"first_k_dense_replace\": 1,", "\"first_k_dense_replace\": -1,", "first_k_dense_replace");
    }

    /** {@code base} with {@code from} (which it holds) replaced by {@code to} is refused with a message holding {@code message}. */
    private void refused(String base, String from, String to, String message) {
        assertTrue(base.contains(from), "the config holds " + from);
        CheckpointException e = assertThrows(CheckpointException.class, () -> read(base.replace(from, to)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** A tiny MLA config: 2 heads of nope 3 + rope 4 (HS 7), v 2, kv latent 5 (the loader's surgery checked element by element). */
    private static TransformerConfig tiny(int qLora) {
        return TransformerConfig.builder().vocabSize(16).modelWidth(6).mlpWidth(8).heads(2, 2, 7).decoderLayers(1)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-6f)
                .activation(TransformerConfig.Activation.SILU, true).rope(TransformerConfig.Rope.plain(10000, 4)).maxPositions(64)
                .biases(false).mla(new TransformerConfig.Mla(qLora, 5, 3, 4, 2, 1e-6f)).build();
    }

    @Test
    void qRowsPutEachHeadsPeFirstInRotateHalfOrder() {
        // stored per head [nope 0..2 | pe 3..6]; ours [pe in (0, 2 ; 1, 3) order | nope]
        assertArrayEquals(new long[] {3, 5, 4, 6, 0, 1, 2, 10, 12, 11, 13, 7, 8, 9}, HfDeepseek.qRows(tiny(0), true));
        assertArrayEquals(new long[] {3, 4, 5, 6, 0, 1, 2, 10, 11, 12, 13, 7, 8, 9}, HfDeepseek.qRows(tiny(0), false),
                "V3 with rope_interleave false: rotate_half over the pe dims as stored");
    }

    @Test
    void kvAProjRowsPutKPeFirstInRotateHalfOrderThenTheLatent() {
        // stored [c 0..4 | k_pe 5..8]; ours [k_pe in (0, 2 ; 1, 3) order | c]
        assertArrayEquals(new long[] {5, 7, 6, 8, 0, 1, 2, 3, 4}, HfDeepseek.kvARows(tiny(0), true));
        assertArrayEquals(new long[] {5, 6, 7, 8, 0, 1, 2, 3, 4}, HfDeepseek.kvARows(tiny(0), false));
    }

    @Test
    void theFusedKvOverTheLatentIsKvBProjAndTheIdentityOnKPe() {
        TransformerConfig c = tiny(0);
        int nh = 2, hs = 7, nope = 3, vd = 2, lat = 5, in = 9;
        float[] kvb = new float[nh * (nope + vd) * lat];
        for (int i = 0; i < kvb.length; i++) kvb[i] = i + 1;                                   // (NH·(nope + v), lat), distinct values
        try (Tensor w = Tensor.of(DType.BF16, kvb, nh * (nope + vd), lat); Tensor kv = HfDeepseek.kv(w, c)) {
            assertArrayEquals(new long[] {2L * nh * hs, in}, kv.shape());
            for (int h = 0; h < nh; h++) {                                                     // columns: the latent [k_pe (4) ; c (5)]
                for (int j = 0; j < hs; j++) {
                    for (int x = 0; x < in; x++) {
                        float k = kv.getFloat(h * hs + j, x), v = kv.getFloat((nh + h) * hs + j, x);
                        float wantK = j < 4 ? (x == j ? 1f : 0f) : x >= 4 ? kvb[(h * (nope + vd) + j - 4) * lat + x - 4] : 0f;
                        float wantV = j < vd && x >= 4 ? kvb[(h * (nope + vd) + nope + j) * lat + x - 4] : 0f;
                        assertEquals(wantK, k, "K head " + h + " row " + j + " col " + x);
                        assertEquals(wantV, v, "V head " + h + " row " + j + " col " + x);
                    }
                }
            }
        }
    }

    @Test
    void theOutputProjectionGainsZeroColumnsWhereVIsPadded() {
        TransformerConfig c = tiny(0);
        float[] o = new float[6 * 2 * 2];
        for (int i = 0; i < o.length; i++) o[i] = i + 1;
        try (Tensor w = Tensor.of(DType.F32, o, 6, 4); Tensor p = HfDeepseek.paddedOut(w, c)) {
            assertArrayEquals(new long[] {6, 14}, p.shape());
            for (int r = 0; r < 6; r++) {
                for (int col = 0; col < 14; col++) {
                    int h = col / 7, j = col % 7;
                    assertEquals(j < 2 ? o[r * 4 + h * 2 + j] : 0f, p.getFloat(r, col), "row " + r + " col " + col);
                }
            }
        }
    }

    /**
     * A random MLA model (q through the low-rank path, V narrower than the q/k head): cached steps and chunks give the full
     * pass's logits, so the materialized K / V (views of the fused [K ; V] output) go through the cache as any model's.
     */
    @Test
    void anMlaModelDecodesThroughTheCacheAsItsFullPass() {
        TransformerConfig c = TransformerConfig.builder().vocabSize(40).modelWidth(32).mlpWidth(48).heads(4, 4, 24).decoderLayers(2)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-6f)
                .activation(TransformerConfig.Activation.SILU, true).rope(TransformerConfig.Rope.plain(10000, 8)).maxPositions(64)
                .biases(false).mla(new TransformerConfig.Mla(12, 16, 16, 8, 16, 1e-6f)).build();
        org.transformer4j.runtime.CpuBackend cpu = new org.transformer4j.runtime.CpuBackend();
        try (Weights w = Weights.random(c, cpu, 7)) {
            Transformer m = new Transformer(w, cpu);
            int[] seq = new int[20];
            for (int i = 0; i < seq.length; i++) seq[i] = (i * 7 + 3) % 40;
            float[][] full = m.logits(new int[][] {seq})[0];
            double tol = 2e-5 * DecoderCacheTest.maxAbs(full);
            try (KvState st = m.newState(1, seq.length)) {
                assertTrue(Tiny.maxDiff(m.prefill(st, 0, java.util.Arrays.copyOf(seq, 6)), full, 0) <= tol, "prefill");
                for (int t = 6; t < seq.length; t++) {
                    double d = Tiny.maxDiff(m.step(st, new int[] {seq[t]}), new float[][] {full[t]}, 0);
                    assertTrue(d <= tol, "step " + t + " differs by " + d);
                }
            }
        }
    }

    /**
     * DeepSeek-V3's FP8 layout (quant_method fp8, e4m3 codes with one weight_scale_inv per block, every projection of the
     * layers quantized, the router, norms, embeddings and head not) and its multi-token-prediction layer past
     * num_hidden_layers: the deepseek-v3 folder quantized here in [8, 8] blocks loads to the logits of the same folder holding
     * the dequantized values (code · scale in float32) as plain F32 — the MLA surgery taking made (dequantized) tensors — and
     * the extra layer's tensors, FP8 ones included, are left alone.
     */
    @Test
    void anFp8DeepseekV3FolderLoadsAsItsDequantizedValues() throws Exception {
        fp8FolderLoadsAsItsDequantizedValues(dir, "deepseek-v3");
    }

    /**
     * The check above for a reference folder of 3 layers whose projections are multiples of 8 (deepseek-v3, glm4-moe): its FP8
     * copy with an MTP layer 3 added loads to the logits of its dequantized copy, and those differ from the BF16 folder's.
     */
    static void fp8FolderLoadsAsItsDequantizedValues(Path dir, String fixture) throws Exception {
        Path src = ReferenceFixturesTest.Fixture.open(fixture).dir();
        Path fp8 = Files.createDirectories(dir.resolve("fp8")), deq = Files.createDirectories(dir.resolve("deq"));
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode cfg = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(src.resolve("config.json").toFile());
        Files.writeString(deq.resolve("config.json"), json.writeValueAsString(cfg));
        cfg.putObject("quantization_config").put("quant_method", "fp8").put("fmt", "e4m3").put("activation_scheme", "dynamic")
                .putArray("weight_block_size").add(8).add(8);
        cfg.put("num_nextn_predict_layers", 1);
        Files.writeString(fp8.resolve("config.json"), json.writeValueAsString(cfg));
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofAuto();
        List<org.transformer4j.model.weights.SafetensorsWriter.RawTensor> quantized = new java.util.ArrayList<>();
        java.util.Map<String, Tensor> plain = new java.util.LinkedHashMap<>();
        int coded = 0;
        try (org.transformer4j.model.weights.SafetensorsFile f = org.transformer4j.model.weights.SafetensorsFile.open(src.resolve("model.safetensors"))) {
            java.util.Map<String, Tensor> all = new java.util.LinkedHashMap<>();
            for (String n : f.names()) all.put(n, f.tensor(n));
            all.put("model.layers.3.eh_proj.weight", f.tensor("model.layers.1.self_attn.o_proj.weight"));   // the MTP layer's
            all.put("model.layers.3.enorm.weight", f.tensor("model.norm.weight"));
            for (var e : all.entrySet()) {
                String n = e.getKey();
                Tensor t = e.getValue();
                if (n.startsWith("model.layers.") && t.rank() == 2 && !n.endsWith("mlp.gate.weight")) {
                    int rows = (int) t.shape(0), cols = (int) t.shape(1);
                    float[] w = t.toFloatArray(), values = new float[w.length];
                    float[] scales = new float[Math.ceilDiv(rows, 8) * Math.ceilDiv(cols, 8)];
                    java.lang.foreign.MemorySegment codes = arena.allocate(w.length);
                    for (int br = 0; br < rows; br += 8) {
                        for (int bc = 0; bc < cols; bc += 8) {
                            float amax = 0;
                            for (int r = br; r < br + 8; r++) for (int c = bc; c < bc + 8; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]));
                            float scale = amax == 0 ? 1f : amax / 448f;
                            scales[br / 8 * Math.ceilDiv(cols, 8) + bc / 8] = scale;
                            for (int r = br; r < br + 8; r++) {
                                for (int c = bc; c < bc + 8; c++) {
                                    int code = e4m3(w[r * cols + c] / scale);
                                    codes.set(java.lang.foreign.ValueLayout.JAVA_BYTE, (long) r * cols + c, (byte) code);
                                    values[r * cols + c] = Fp8.E4M3[code] * scale;
                                }
                            }
                        }
                    }
                    quantized.add(new org.transformer4j.model.weights.SafetensorsWriter.RawTensor(n, org.transformer4j.model.weights.SafetensorsDType.F8_E4M3, t.shape(), codes));
                    java.lang.foreign.MemorySegment sc = arena.allocate(4L * scales.length);
                    for (int i = 0; i < scales.length; i++) sc.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i, scales[i]);
                    quantized.add(new org.transformer4j.model.weights.SafetensorsWriter.RawTensor(n + "_scale_inv", org.transformer4j.model.weights.SafetensorsDType.F32,
                            new long[] {Math.ceilDiv(rows, 8), Math.ceilDiv(cols, 8)}, sc));
                    if (!n.startsWith("model.layers.3.")) plain.put(n, Tensor.ofFloats(values, rows, cols));
                    coded++;
                } else {
                    quantized.add(new org.transformer4j.model.weights.SafetensorsWriter.RawTensor(n, org.transformer4j.model.weights.SafetensorsDType.of(t.dtype()),
                            t.shape(), t.hostSegment().asSlice(0, t.numel() * t.dtype().byteSize())));
                    if (!n.startsWith("model.layers.3.")) plain.put(n, t);
                }
            }
            org.transformer4j.model.weights.SafetensorsWriter.writeRaw(fp8.resolve("model.safetensors"), quantized, java.util.Map.of("format", "pt"));
            org.transformer4j.model.weights.SafetensorsWriter.write(deq.resolve("model.safetensors"), plain, java.util.Map.of("format", "pt"));
        }
        assertTrue(coded > 100, "every projection of the three layers quantized (" + coded + ")");
        org.transformer4j.runtime.CpuBackend cpu = new org.transformer4j.runtime.CpuBackend();
        int[][] ids = ReferenceFixturesTest.Fixture.open(fixture).ids("input_ids");
        try (Weights wq = Pretrained.load(fp8, cpu); Weights wd = Pretrained.load(deq, cpu); Weights wb = Pretrained.load(src, cpu)) {
            float[][][] q = new Transformer(wq, cpu).logits(ids), d = new Transformer(wd, cpu).logits(ids), b = new Transformer(wb, cpu).logits(ids);
            double moved = 0;
            for (int r = 0; r < q.length; r++) {
                for (int t = 0; t < q[r].length; t++) {
                    assertArrayEquals(d[r][t], q[r][t], "row " + r + " position " + t);
                    for (int v = 0; v < q[r][t].length; v++) moved = Math.max(moved, Math.abs(q[r][t][v] - b[r][t][v]));
                }
            }
            assertTrue(moved > 1e-3, "the FP8 rounding reaches the logits (" + moved + "): the quantized weights were used");
        }
    }

    /** The nearest e4m3fn code to x (ties to the even code), x within ±448. */
    private static int e4m3(float x) {
        int best = 0;
        float a = Math.abs(x);
        for (int c = 1; c <= 0x7E; c++) {
            float d = Math.abs(Fp8.E4M3[c] - a), bd = Math.abs(Fp8.E4M3[best] - a);
            if (d < bd || d == bd && (c & 1) == 0) best = c;
        }
        return x < 0 ? best | 0x80 : best;
    }

    @Test
    void mlaConfigsAreCheckedOnConstruction() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.builder().vocabSize(16).modelWidth(6)
                .mlpWidth(8).heads(2, 2, 8).decoderLayers(1).rope(TransformerConfig.Rope.plain(10000, 4))
                .mla(new TransformerConfig.Mla(0, 5, 3, 4, 2, 1e-6f)).build());
        assertTrue(e.getMessage().contains("nopeDim + ropeDim = 7, got headSize 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TransformerConfig.builder().vocabSize(16).modelWidth(6)
                .mlpWidth(8).heads(2, 1, 7).decoderLayers(1).rope(TransformerConfig.Rope.plain(10000, 4))
                .mla(new TransformerConfig.Mla(0, 5, 3, 4, 2, 1e-6f)).build());
        assertTrue(e.getMessage().contains("as many K/V heads as heads"), e.getMessage());
    }
}
