// HfGlm4Moe — GLM-4.5 / GLM-4.6 folders (model_type glm4_moe, Glm4MoeForCausalLM: zai-org/GLM-4.5-Air, GLM-4.5, GLM-4.6 and
// their FP8 releases): Llama's pre-RMSNorm layers with q/k/v biases, optional per-head q/k norms and GPT-NeoX's rotate_half
// over the first half of each head (not GLM-4's pairs), and DeepSeek-V3's mixture of experts (sigmoid router with its
// correction bias, groups, routed_scaling_factor, one shared expert, dense layers below first_k_dense_replace).
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.List;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

final class HfGlm4Moe {

    private HfGlm4Moe() {}

    static final String TYPE = "glm4_moe";

    /**
     * Glm4MoeConfig's fields and defaults (transformers 5.x modular_glm4_moe.py; the 4.x class has the same): vocab 151552,
     * hidden 4096, intermediate 10944, 46 layers, 96 heads over num_key_value_heads 8, hidden_act silu, rms_norm_eps 1e-5,
     * untied, max positions 131072, attention_bias false (biases on q, k, v; o_proj never has one), use_qk_norm false
     * (RMSNorm per head of q and k before the rotary, rms_norm_eps), rope_theta 10000, partial_rotary_factor 0.5 (top level
     * or in rope_parameters; the rotary is GPT-NeoX's rotate_half over the first int(head_dim × factor) dims, no row
     * reordering), head_dim as given, else hidden_size / num_attention_heads (Glm4MoeAttention's getattr; the published
     * folders give 128), no pad / bos / eos unless given; n_routed_experts 128 (num_local_experts is its alias),
     * num_experts_per_tok 8, moe_intermediate_size 1408, n_shared_experts 1 (one MLP, without Qwen2-MoE's sigmoid gate, of moe_intermediate_size ×
     * n_shared_experts), first_k_dense_replace 1 (the layers below it keep a dense MLP of intermediate_size), n_group 1,
     * topk_group 1, norm_topk_prob true, routed_scaling_factor 1.0; the router is DeepSeek-V3's (Glm4MoeTopkRouter derives
     * from DeepseekV3TopkRouter: sigmoid scores, e_score_correction_bias for the choice). num_nextn_predict_layers (the
     * multi-token-prediction layer stored past num_hidden_layers) is read by nothing here: transformers never runs it.
     * Refused by name: a null head_dim or num_key_value_heads (transformers fails on them), a partial_rotary_factor that
     * the top level and rope_parameters give differently, a hidden_act other than silu, n_shared_experts below 1.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        for (String key : List.of("head_dim", "num_key_value_heads")) {
            if (cfg.present(key) && !cfg.has(key)) throw cfg.error(key + " is null (transformers' Glm4MoeAttention fails on it)");
        }
        int c = cfg.size("hidden_size", 4096), nh = cfg.size("num_attention_heads", 96), nkv = cfg.size("num_key_value_heads", 8);
        if (nkv < 1 || nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        int hd = cfg.has("head_dim") ? cfg.size("head_dim") : c / nh, layers = cfg.size("num_hidden_layers", 46);
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) throw cfg.error("hidden_act '" + act + "' is not supported (silu is)");
        int mpe = cfg.size("max_position_embeddings", 131072);
        HfConfig p = cfg.has("rope_parameters") ? cfg.object("rope_parameters") : cfg.object("rope_scaling");
        double theta = cfg.has("rope_parameters") ? p.number("rope_theta", 10000) : cfg.number("rope_theta", 10000);
        TransformerConfig.Rope rope = HfDecoders.ropeOf(cfg, p, theta, (int) (hd * HfGlm.partialRotary(cfg)), mpe);
        if (rope.rotaryDim() < 2 || rope.rotaryDim() % 2 != 0) {
            throw cfg.error("partial_rotary_factor gives " + rope.rotaryDim() + " rotary dims of head_dim " + hd + " (an even number ≥ 2 is needed)");
        }
        boolean bias = cfg.bool("attention_bias", false);
        int v = cfg.size("vocab_size", 151552);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 10944))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.SILU, true).rope(rope).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(bias, false, false))
                .qkNorm(cfg.bool("use_qk_norm", false))
                .moe(moe(cfg, layers))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, -1, -1)).build();
    }

    /** DeepseekV3MoE as Glm4MoeMoE configures it; null when first_k_dense_replace leaves no sparse layer (a dense model). */
    private static TransformerConfig.Moe moe(HfConfig cfg, int layers) throws CheckpointException {
        int e = cfg.has("n_routed_experts") ? cfg.size("n_routed_experts") : cfg.size("num_local_experts", 128);
        int k = cfg.size("num_experts_per_tok", 8), f = cfg.size("moe_intermediate_size", 1408);
        int shared = cfg.size("n_shared_experts", 1);                 // ≥ 1 (size refuses 0: Glm4MoeMoE always adds its shared experts)
        int dense = Math.min(cfg.count("first_k_dense_replace", 1), layers);
        if (dense == layers) return null;
        List<Integer> denseLayers = new ArrayList<>();
        for (int i = 0; i < dense; i++) denseLayers.add(i);
        TransformerConfig.Routing routing = new TransformerConfig.Routing(true, true, cfg.size("n_group", 1), cfg.size("topk_group", 1),
                (float) cfg.number("routed_scaling_factor", 1.0), true);                      // Glm4MoeTopkRouter: fp32 logits
        return new TransformerConfig.Moe(e, k, cfg.bool("norm_topk_prob", true), f, shared * f, false, denseLayers, false, routing);
    }

    /**
     * What the shared RoPE-decoder loader (HfDecoders.load, which reads this family's folders: per-expert or 5.x's stacked
     * experts, FP8 dequantized as it loads, the multi-token-prediction layer skipped) is not trusted with here, refused before
     * it reads a tensor: a LoRA adapter merged at load (untested on this family; LoraSlots does not list glm4_moe either).
     */
    static void checkLoad(HfConfig cfg, LoraAdapter lora) throws CheckpointException {
        if (lora != null) {
            throw cfg.error("LoRA adapters are not supported for glm4_moe yet (merging one at load is untested for GLM-4.5's experts"
                    + " and shared expert)");
        }
    }
}
