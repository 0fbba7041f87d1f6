// HfSeedOss — Seed-OSS (model_type seed_oss, SeedOssForCausalLM: ByteDance-Seed/Seed-OSS-36B-Instruct, -Base) as
// transformers 5.x's models/seed_oss computes it, composed from existing TransformerConfig options: Llama's pre-norm
// layers and gated SiLU MLP with three independent bias flags (q/k/v, o_proj, the MLP) and head_dim given apart from
// hidden / heads. The tensors are Llama's names and load through HfDecoders' layout and weights.
package org.transformer4j.model;

import java.util.List;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

final class HfSeedOss {

    private HfSeedOss() {}

    static final String TYPE = "seed_oss";

    /**
     * SeedOssConfig → TransformerConfig, with SeedOssConfig's defaults where config.json is silent: vocab 155136, hidden
     * 4096, intermediate 27648, 64 layers, 80 heads, 8 key/value heads (null: the number of heads), head_dim 128 (null:
     * hidden // heads), silu, 524288 positions, rms_norm_eps 1e-6, pad 1, bos 0, eos 2, untied, rope_theta 10000 (4.x
     * rope_theta + rope_scaling, or 5.x rope_parameters; LlamaRotaryEmbedding takes any kind the loader implements).
     * Biases (SeedOssAttention, SeedOssMLP): q/k/v by attention_bias (true), o_proj by attention_out_bias (false), gate / up /
     * down_proj by mlp_bias (false). Scaling head_dim^-0.5; attention_dropout and residual_dropout (0.1) are training-only.
     * Refused by name: hidden_act other than silu, partial_rotary_factor ≠ 1 (the default rope rotates whole heads).
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 4096), nh = cfg.size("num_attention_heads", 80), layers = cfg.size("num_hidden_layers", 64);
        int nkv = cfg.present("num_key_value_heads") && !cfg.has("num_key_value_heads") ? nh : cfg.size("num_key_value_heads", 8);
        int v = cfg.size("vocab_size", 155136), mpe = cfg.size("max_position_embeddings", 524288);
        int hd;
        if (!cfg.present("head_dim")) {
            hd = 128;                                                     // SeedOssConfig(head_dim=128)
        } else if (cfg.has("head_dim")) {
            hd = cfg.size("head_dim");
        } else {
            hd = c / nh;                                                  // null: hidden_size // num_attention_heads
            if (hd < 1) throw cfg.error("head_dim is null and hidden_size " + c + " // num_attention_heads " + nh + " is 0");
        }
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu")) throw cfg.error("hidden_act '" + act + "' is not supported for seed_oss (silu is)");
        HfConfig rp = cfg.object("rope_parameters");
        if (cfg.number("partial_rotary_factor", 1) != 1 || (rp != null && rp.number("partial_rotary_factor", 1) != 1)) {
            throw cfg.error("partial_rotary_factor ≠ 1 is not supported for seed_oss (its rope rotates whole heads)");
        }
        TransformerConfig.Rope rope = HfDecoders.rope(cfg, TYPE, hd, mpe);
        TransformerConfig.Biases biases = new TransformerConfig.Biases(cfg.bool("attention_bias", true),
                cfg.bool("attention_out_bias", false), cfg.bool("mlp_bias", false));
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 27648))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-6))
                .activation(TransformerConfig.Activation.SILU, true).rope(rope).maxPositions(mpe)
                .biases(false).linearBiases(biases)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .windows(List.of())
                .specialIds(HfNeox.specialIds(cfg, v, 1, 0, 2)).build();
    }
}
