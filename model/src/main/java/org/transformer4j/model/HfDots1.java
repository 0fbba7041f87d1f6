// HfDots1 — rednote-hilab dots.llm1 folders (model_type dots1, Dots1ForCausalLM: dots.llm1.base, dots.llm1.inst) as
// transformers' models/dots1 computes them: Qwen3's attention (per-head q / k RMSNorm before the rotary, sliding layers by
// layer_types) over DeepSeek-V3's decoder layers and mixture of experts (sigmoid router with its correction bias, groups,
// norm_topk_prob, routed_scaling_factor, shared experts, dense layers below first_k_dense_replace). The tensors are the
// shared RoPE-decoder loader's (HfDecoders: per-expert 4.x names or 5.x's stacked experts).
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.List;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

final class HfDots1 {

    private HfDots1() {}

    static final String TYPE = "dots1";

    /**
     * Dots1Config's fields and defaults (4.x __init__ and 5.x's @strict class alike): vocab 152064, hidden 4608,
     * intermediate 10944, 62 layers, 32 heads, num_key_value_heads 32 (null: the number of heads), hidden_act silu,
     * rms_norm_eps 1e-6, untied, max positions 2048, attention_bias false (biases on q, k, v and o_proj: Qwen3Attention's),
     * rope_theta 10000 with 4.x rope_scaling or 5.x rope_parameters; no head_dim field, so Qwen3Attention's
     * getattr(config, "head_dim", hidden // heads): a config.json head_dim is taken. The MoE (DeepseekV3MoE):
     * n_routed_experts (num_local_experts its alias), num_experts_per_tok and n_shared_experts have no default (None fails
     * in transformers), moe_intermediate_size 1408, n_group 1, topk_group 1, norm_topk_prob false, routed_scaling_factor 1.0,
     * first_k_dense_replace 0 (the layers below it keep a dense MLP of intermediate_size); the router is DeepSeek-V3's with
     * fp32 logits (Dots1TopkRouter: F.linear(x.float(), weight.float()), sigmoid, e_score_correction_bias for the choice).
     * Windows: layer_types as given, else Dots1Config's rule: layer i slides (sliding_window, default 4096) iff
     * sliding_window is not null and i ≥ max_window_layers (default 62); no use_sliding_window switch is read (Qwen2's is
     * not Dots1's). Refused by name: a null head_dim, n_group or topk_group (transformers fails on them), a missing
     * n_routed_experts / num_experts_per_tok / n_shared_experts where a layer is sparse, a hidden_act other than silu,
     * num_key_value_heads not dividing the heads.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        for (String key : List.of("head_dim", "n_group", "topk_group")) {
            if (cfg.present(key) && !cfg.has(key)) throw cfg.error(key + " is null (transformers' Dots1 modules fail on it)");
        }
        int c = cfg.size("hidden_size", 4608), nh = cfg.size("num_attention_heads", 32), layers = cfg.size("num_hidden_layers", 62);
        int nkv = cfg.has("num_key_value_heads") ? cfg.size("num_key_value_heads") : cfg.present("num_key_value_heads") ? nh : 32;
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        int hd = cfg.has("head_dim") ? cfg.size("head_dim") : c / nh;
        if (hd < 1) throw cfg.error("hidden_size " + c + " // num_attention_heads " + nh + " is 0");
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu")) throw cfg.error("hidden_act '" + act + "' is not supported for dots1 (silu is)");
        int mpe = cfg.size("max_position_embeddings", 2048), v = cfg.size("vocab_size", 152064);
        boolean bias = cfg.bool("attention_bias", false);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 10944))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-6))
                .activation(TransformerConfig.Activation.SILU, true).rope(HfDecoders.rope(cfg, TYPE, hd, mpe)).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(bias, bias, false))
                .qkNorm(true)
                .windows(HfDecoders.windows(cfg, TYPE, layers))
                .moe(moe(cfg, layers))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, -1, -1)).build();
    }

    /** DeepseekV3MoE as Dots1MoE configures it; null when first_k_dense_replace leaves no sparse layer (a dense model). */
    private static TransformerConfig.Moe moe(HfConfig cfg, int layers) throws CheckpointException {
        int dense = Math.min(cfg.count("first_k_dense_replace", 0), layers);   // 0 (every layer sparse) is Dots1Config's default
        if (dense == layers) return null;
        for (String key : List.of("num_experts_per_tok", "n_shared_experts")) {
            if (!cfg.has(key)) throw cfg.error(key + " is missing (Dots1Config has no default and Dots1MoE fails without it)");
        }
        if (!cfg.has("n_routed_experts") && !cfg.has("num_local_experts")) {
            throw cfg.error("n_routed_experts is missing (Dots1Config has no default and Dots1MoE fails without it)");
        }
        int e = cfg.has("n_routed_experts") ? cfg.size("n_routed_experts") : cfg.size("num_local_experts");
        int k = cfg.size("num_experts_per_tok"), f = cfg.size("moe_intermediate_size", 1408), shared = cfg.size("n_shared_experts");
        List<Integer> denseLayers = new ArrayList<>();
        for (int i = 0; i < dense; i++) denseLayers.add(i);
        TransformerConfig.Routing routing = new TransformerConfig.Routing(true, true, cfg.size("n_group", 1), cfg.size("topk_group", 1),
                (float) cfg.number("routed_scaling_factor", 1.0), true);                      // Dots1TopkRouter: fp32 logits
        return new TransformerConfig.Moe(e, k, cfg.bool("norm_topk_prob", false), f, shared * f, false, denseLayers, false, routing);
    }

    /**
     * What the shared RoPE-decoder loader is not trusted with here, refused before it reads a tensor: a LoRA adapter merged
     * at load (untested on this family; LoraSlots does not list dots1 either).
     */
    static void checkLoad(HfConfig cfg, LoraAdapter lora) throws CheckpointException {
        if (lora != null) throw cfg.error("LoRA adapters are not supported for dots1 yet (merging one at load is untested for its experts)");
    }
}
