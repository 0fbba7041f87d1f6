// HfDecoders — Hugging Face folders of the RoPE decoders (llama, mistral, qwen2, qwen3, phi3, gemma, gemma2, gemma3_text,
// granite, smollm3, olmo, olmo2, olmo3; the mixtures of experts mixtral, qwen2_moe, qwen3_moe, olmoe; glm4_moe's layers,
// configured by HfGlm4Moe; nemotron through HfNemotron; granitemoe and granitemoeshared through HfGraniteMoe; arcee through
// HfArcee; dots1's layers, configured by HfDots1) as
// TransformerConfig + Weights: config.json's fields mapped as transformers' configuration_<family>.py
// and modeling_rope_utils.py read them (4.x rope_theta/rope_scaling and 5.x rope_parameters), the
// tensor names and shapes derived from that config and checked key for key, fused Phi-3 tensors split
// as modeling_phi3.py splits them, Gemma's (1 + weight) norms folded into fp32 weights, OLMo's weightless LayerNorms given
// weights of ones.
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.transformer4j.model.TransformerConfig.Rope;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class HfDecoders {

    private HfDecoders() {}

    static final Set<String> TYPES = Set.of("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3_text", "granite",
            "smollm3", "olmo", "olmo2", "olmo3", "stablelm", "starcoder2", "mixtral", "qwen2_moe", "qwen3_moe", "olmoe", GptOss.TYPE, "gpt_neox", "phi", "gptj", "codegen", HfOpt.TYPE, HfBigCode.TYPE, HfFalcon.TYPE,
            HfAlibi.BLOOM, HfAlibi.MPT, HfGptNeo.TYPE, HfCohere.COHERE, HfCohere.COHERE2, HfGlm.GLM, HfGlm.GLM4, HfExaone4.TYPE,
            HfErnie45.TYPE, HfErnie45.MOE, HfSeedOss.TYPE, HfDeepseek.V2, HfDeepseek.V3, HfDeepseek.KIMI_K2, HfGlm4Moe.TYPE, HfNemotron.TYPE,
            HfGraniteMoe.TYPE, HfGraniteMoe.SHARED, HfArcee.TYPE, HfDots1.TYPE);

    /** The dense family whose attention, norms and defaults a mixture-of-experts family shares; the type itself otherwise. */
    static String denseFamily(String type) {
        return switch (type) {
            case "mixtral" -> "mistral";
            case "qwen2_moe" -> "qwen2";
            case "qwen3_moe" -> "qwen3";
            case "olmoe" -> "llama";
            case "olmo3" -> "olmo2";                                      // OLMo 2's layers with sliding windows (see config)
            default -> type;
        };
    }

    /**
     * config.json → TransformerConfig, with transformers' defaults for absent fields (LlamaConfig,
     * MistralConfig, Qwen2Config, Qwen3Config, Phi3Config, GemmaConfig): pre-RMSNorm, gated MLP (hidden_act;
     * Gemma: hidden_activation, GELU-tanh), GQA, head_dim (Qwen3's default 128, Gemma's 256, else
     * hidden_size / heads), RoPE, per-layer windows, biases; Gemma's embeddings × sqrt(hidden_size). Gemma 2
     * (Gemma2Config) as Gemma, plus scaling query_pre_attn_scalar^-0.5 (default 256), attention and final
     * logit soft-capping (50 and 30 by default; null: none), the extra norms around attention and MLP, and
     * sliding_window (default 4096) on the even layers unless layer_types says otherwise. Gemma 3 text
     * (Gemma3TextConfig, Gemma3ForCausalLM) as Gemma 2 but: no attention soft-capping (Gemma3Attention passes
     * none), final soft-capping only when set, q_norm / k_norm, RoPE per layer type (see {@link #rope}),
     * layer i sliding unless (i + 1) % sliding_window_pattern (6) == 0, max positions 131072. Granite
     * (GraniteConfig) as Llama with its four multipliers: embeddings × embedding_multiplier, attention scaling
     * attention_multiplier, sublayer outputs × residual_multiplier, logits ÷ logits_scaling (all 1 by default).
     * SmolLM3 (SmolLM3Config) as Llama with tied embeddings, rope_theta 2e6 and max positions 32768 by default,
     * and no RoPE on the layers whose no_rope_layers entry is 0 (by default every no_rope_layer_interval-th, 4).
     * OLMo (OlmoConfig, OlmoForCausalLM) as Llama but with OlmoLayerNorm everywhere (input_layernorm, post_attention_layernorm,
     * the final norm): a LayerNorm without weight or bias, eps fixed at 1e-5 (the config has no eps); no MLP biases (OlmoMLP
     * ignores mlp_bias); clip_qkv (null: none) clamps q, k and v after their projections; pad_token_id 1 and eos_token_id
     * 50279 when absent, bos none, untied, max positions 2048, rope_theta 10000.
     * OLMo 2 (Olmo2Config) as Llama (rms_norm_eps 1e-5 by default; pad 1 and eos 50279 when absent, as OLMoE's) with q/k
     * norms over the whole projections and no input norms: each sublayer's output is normed before its residual add. OLMo 3 (Olmo3Config) as OLMo 2 plus
     * layer_types (default: layer i slides unless (i + 1) % 4 == 0) with sliding_window (default 4096), RoPE per layer type
     * (see {@link #olmo3Rope}), pad 1 and eos 50279 when absent. StableLM (StableLmConfig) as Llama with
     * LayerNorms (weight and bias, layer_norm_eps 1e-5), q/k/v biases by use_qkv_bias, partial_rotary_factor 0.25, max
     * positions 4096, and with use_parallel_residual one norm feeding attention and MLP (no post_attention_layernorm);
     * qk_layernorm (a LayerNorm per head) is refused. Starcoder2 (Starcoder2Config): Llama's attention names with every
     * projection biased (use_bias, true), a plain MLP c_fc / c_proj (hidden_act gelu_pytorch_tanh), LayerNorms
     * (norm_epsilon 1e-5), every layer sliding when sliding_window is set, tied embeddings, max positions 4096.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        String modelType = cfg.modelType();
        if (!TYPES.contains(modelType)) throw cfg.error("model_type '" + modelType + "' is not one of " + TYPES);
        if (modelType.equals(GptOss.TYPE)) return GptOss.config(cfg);
        if (HfNeox.TYPES.contains(modelType)) return HfNeox.config(cfg);
        if (modelType.equals(HfOpt.TYPE)) return HfOpt.config(cfg);
        if (modelType.equals(HfBigCode.TYPE)) return HfBigCode.config(cfg);
        if (modelType.equals(HfFalcon.TYPE)) return HfFalcon.config(cfg);
        if (modelType.equals(HfAlibi.BLOOM)) return HfAlibi.bloomConfig(cfg);
        if (modelType.equals(HfAlibi.MPT)) return HfAlibi.mptConfig(cfg);
        if (modelType.equals(HfGptNeo.TYPE)) return HfGptNeo.config(cfg);
        if (modelType.equals(HfCohere.COHERE) || modelType.equals(HfCohere.COHERE2)) return HfCohere.config(cfg);
        if (modelType.equals(HfGlm.GLM) || modelType.equals(HfGlm.GLM4)) return HfGlm.config(cfg);
        if (modelType.equals(HfExaone4.TYPE)) return HfExaone4.config(cfg);
        if (modelType.startsWith(HfErnie45.TYPE)) return HfErnie45.config(cfg);
        if (HfDeepseek.TYPES.contains(modelType)) return HfDeepseek.config(cfg);
        if (modelType.equals(HfGlm4Moe.TYPE)) return HfGlm4Moe.config(cfg);
        if (modelType.equals(HfSeedOss.TYPE)) return HfSeedOss.config(cfg);
        if (modelType.equals(HfNemotron.TYPE)) return HfNemotron.config(cfg);
        if (modelType.equals(HfGraniteMoe.TYPE) || modelType.equals(HfGraniteMoe.SHARED)) return HfGraniteMoe.config(cfg);
        if (modelType.equals(HfArcee.TYPE)) return HfArcee.config(cfg);
        if (modelType.equals(HfDots1.TYPE)) return HfDots1.config(cfg);
        String type = denseFamily(modelType);
        boolean olmoe = modelType.equals("olmoe"), olmo3 = modelType.equals("olmo3");
        // Gemma3TextConfig's defaults: a multimodal folder's text_config lists only what differs from them
        boolean g3 = type.equals("gemma3_text");
        int c = g3 ? cfg.size("hidden_size", 2304) : cfg.size("hidden_size");
        int nh = g3 ? cfg.size("num_attention_heads", 8) : cfg.size("num_attention_heads");
        int nkv = cfg.size("num_key_value_heads", g3 ? 4 : nh), layers = g3 ? cfg.size("num_hidden_layers", 26) : cfg.size("num_hidden_layers");
        int hd;
        if (cfg.has("head_dim")) {
            hd = cfg.size("head_dim");
        } else if (modelType.equals("qwen3")) {
            hd = 128;                                                     // Qwen3Config(head_dim=128); Qwen3MoeConfig has none
        } else if (type.equals("gemma") || type.equals("gemma2") || type.equals("gemma3_text")) {
            hd = 256;                                                     // GemmaConfig / Gemma2Config(head_dim=256)
        } else {
            if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
            hd = c / nh;
        }
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        boolean gemma3 = type.equals("gemma3_text"), gemma2 = type.equals("gemma2");
        boolean gemma = type.equals("gemma") || gemma2 || gemma3, granite = type.equals("granite"), olmo2 = type.equals("olmo2");
        boolean olmo = type.equals("olmo");
        boolean stablelm = type.equals("stablelm"), starcoder2 = type.equals("starcoder2"), layerNorm = stablelm || starcoder2 || olmo;
        if (stablelm && cfg.bool("qk_layernorm", false)) {
            throw cfg.error("qk_layernorm is not supported (a LayerNorm per head of q and k, stablelm-2-12b's); stablelm-2-1_6b,"
                    + " stablelm-zephyr-3b and stablelm-3b-4e1t leave it false");
        }
        String act = gemma ? cfg.string("hidden_activation", cfg.string("hidden_act", "gelu_pytorch_tanh"))
                : cfg.string("hidden_act", starcoder2 ? "gelu_pytorch_tanh" : "silu");
        TransformerConfig.Activation a = switch (act) {
            case "silu", "swish" -> TransformerConfig.Activation.SILU;
            case "gelu_pytorch_tanh", "gelu_new" -> TransformerConfig.Activation.GELU_TANH;
            case "gelu" -> TransformerConfig.Activation.GELU;
            default -> throw cfg.error("hidden_act '" + act + "' is not one of silu, gelu_pytorch_tanh, gelu_new, gelu");
        };
        int mpe = cfg.size("max_position_embeddings", switch (type) {
            case "mistral" -> 4096 * 32;
            case "qwen2", "qwen3", "smollm3" -> 32768;
            case "phi3", "stablelm", "starcoder2" -> 4096;
            case "llama" -> olmoe ? 4096 : 2048;                          // OlmoeConfig(max_position_embeddings=4096)
            case "gemma", "gemma2" -> 8192;
            case "gemma3_text" -> 131072;
            default -> 2048;
        });
        TransformerConfig.Biases biases = switch (type) {
            case "llama", "granite", "smollm3", "olmo2" -> new TransformerConfig.Biases(cfg.bool("attention_bias", false), cfg.bool("attention_bias", false),
                    cfg.bool("mlp_bias", false));
            case "olmo" -> new TransformerConfig.Biases(cfg.bool("attention_bias", false), cfg.bool("attention_bias", false), false);
            case "qwen2" -> new TransformerConfig.Biases(cfg.bool("qkv_bias", true), false, false);
            case "qwen3", "gemma", "gemma2", "gemma3_text" -> new TransformerConfig.Biases(cfg.bool("attention_bias", false), cfg.bool("attention_bias", false), false);
            case "stablelm" -> new TransformerConfig.Biases(cfg.bool("use_qkv_bias", false), false, false);
            case "starcoder2" -> new TransformerConfig.Biases(cfg.bool("use_bias", true), cfg.bool("use_bias", true), cfg.bool("use_bias", true));
            default -> new TransformerConfig.Biases(false, false, false);
        };
        int v = g3 ? cfg.size("vocab_size", 262208) : cfg.size("vocab_size");
        int pad = cfg.firstId("pad_token_id"), bos = cfg.firstId("bos_token_id"), eos = cfg.firstId("eos_token_id");
        if (olmo || olmo2 || olmoe) {                                     // Olmo / Olmo2 / Olmo3 / OlmoeConfig(pad_token_id=1, eos_token_id=50279)
            if (!cfg.present("pad_token_id")) pad = 1;
            if (!cfg.present("eos_token_id")) eos = 50279;
        }
        List<Integer> windows = windows(cfg, olmo3 ? modelType : type, layers);
        Rope rope = rope(cfg, modelType, hd, mpe);
        Rope slidingRope = gemma3 ? gemma3Rope(cfg, hd, mpe, "sliding_attention") : olmo3 ? olmo3SlidingRope(cfg, rope, windows, hd, mpe) : null;
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(g3 ? cfg.size("intermediate_size", 9216) : cfg.size("intermediate_size"))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(layerNorm ? TransformerConfig.NormKind.LAYER_NORM : TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE,
                        olmo ? 1e-5f                                             // OlmoLayerNorm's own eps
                                : layerNorm ? (float) cfg.number(stablelm ? "layer_norm_eps" : "norm_epsilon", 1e-5)
                                : (float) cfg.number("rms_norm_eps", type.equals("phi3") || type.equals("olmo2") || olmoe || modelType.equals("mixtral") ? 1e-5 : 1e-6))
                .activation(a, !starcoder2).rope(rope).maxPositions(mpe)
                .biases(layerNorm && !olmo).linearBiases(biases)            // biases(true): the LayerNorms' own
                .clipQkv(olmo ? clipQkv(cfg) : 0f)
                .parallel(stablelm && cfg.bool("use_parallel_residual", false) ? TransformerConfig.ParallelBlock.SHARED_NORM
                        : TransformerConfig.ParallelBlock.NONE).qkNorm(type.equals("qwen3") || gemma3 || olmo2 || olmoe).qkNormWide(olmo2 || olmoe)
                .inputNorms(!olmo2)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", gemma || type.equals("smollm3") || starcoder2), granite ? (float) (1 / cfg.number("logits_scaling", 1)) : 1f)
                .embeddingScale(gemma ? (float) Math.sqrt(c) : granite ? (float) cfg.number("embedding_multiplier", 1) : 1f)
                .residualScale(granite ? (float) cfg.number("residual_multiplier", 1) : 1f)
                .nopeLayers(type.equals("smollm3") ? nopeLayers(cfg, layers) : List.of())
                .windows(windows)
                .attentionScale(gemma2 || gemma3 ? (float) (1 / Math.sqrt(cfg.number("query_pre_attn_scalar", 256)))
                        : granite ? (float) cfg.number("attention_multiplier", 1) : Float.NaN)
                // Gemma 3 keeps attn_logit_softcapping in its config but its attention never applies it
                .softcaps(gemma2 ? softcap(cfg, "attn_logit_softcapping", 50) : 0f,
                        gemma2 ? softcap(cfg, "final_logit_softcapping", 30) : gemma3 ? softcap(cfg, "final_logit_softcapping", 0) : 0f)
                .sandwichNorms(gemma2 || gemma3 || olmo2)
                .slidingRope(slidingRope)
                .moe(moe(cfg, modelType, layers))
                .bidirectional(gemma3 && cfg.bool("use_bidirectional_attention", false))     // EmbeddingGemma
                .specialIds(new TransformerConfig.SpecialIds(valid(pad, v), valid(bos, v), valid(eos, v), -1, -1)).build();
    }

    /**
     * The mixture of experts of a MoE family, with its config class's defaults (MixtralConfig, Qwen2MoeConfig,
     * Qwen3MoeConfig, OlmoeConfig); null for the dense families. Mixtral always renormalizes the top-k weights
     * (MixtralSparseMoeBlock), the others when norm_topk_prob (default false). Qwen-MoE layer i is sparse unless it is in
     * mlp_only_layers or (i + 1) % decoder_sparse_step != 0 (Qwen2MoeDecoderLayer); Qwen2-MoE adds a shared expert of
     * shared_expert_intermediate_size gated by sigmoid(shared_expert_gate(x)).
     */
    static TransformerConfig.Moe moe(HfConfig cfg, String modelType, int layers) throws CheckpointException {
        return switch (modelType) {
            case "mixtral" -> new TransformerConfig.Moe(cfg.size("num_local_experts", 8), cfg.size("num_experts_per_tok", 2), true,
                    cfg.size("intermediate_size"), 0, false, List.of());
            case "olmoe" -> {
                if (cfg.has("clip_qkv")) throw cfg.error("clip_qkv is not supported (OLMoE folders published set it to null)");
                yield new TransformerConfig.Moe(cfg.size("num_experts", 64), cfg.size("num_experts_per_tok", 8),
                        cfg.bool("norm_topk_prob", false), cfg.size("intermediate_size"), 0, false, List.of());
            }
            case "qwen2_moe", "qwen3_moe" -> {
                boolean q2 = modelType.equals("qwen2_moe");
                if (cfg.bool("use_sliding_window", false)) throw cfg.error("use_sliding_window is not supported for " + modelType);
                int experts = cfg.size("num_experts", q2 ? 60 : 128);
                int step = cfg.size("decoder_sparse_step", 1);
                double[] only = cfg.numbers("mlp_only_layers");
                List<Integer> dense = new ArrayList<>();
                for (int i = 0; i < layers; i++) {
                    boolean listed = false;
                    if (only != null) for (double d : only) listed |= d == i;
                    if (listed || experts == 0 || (i + 1) % step != 0) dense.add(i);
                }
                if (dense.size() == layers) yield null;                   // no sparse layer: a dense model
                int shared = q2 ? cfg.size("shared_expert_intermediate_size", 5632) : 0;
                yield new TransformerConfig.Moe(Math.max(experts, 1), cfg.size("num_experts_per_tok", q2 ? 4 : 8), cfg.bool("norm_topk_prob", false),
                        cfg.size("moe_intermediate_size", q2 ? 1408 : 768), shared, shared > 0, dense);
            }
            default -> null;
        };
    }

    private static int valid(int id, int vocab) { return id < vocab ? id : -1; }

    /**
     * clip_qkv (OLMo's, MPT's attn_config): null or absent for none, else a finite bound &gt; 0 (transformers clamps to
     * [−clip_qkv, clip_qkv] whenever it is not None, so 0 would zero q, k and v: refused as no published folder has it).
     */
    static float clipQkv(HfConfig cfg) throws CheckpointException {
        if (!cfg.has("clip_qkv")) return 0f;
        double v = cfg.number("clip_qkv", 0);
        if (!(v > 0) || !Double.isFinite(v) || (float) v == Float.POSITIVE_INFINITY) {
            throw cfg.error("clip_qkv must be null or a finite number > 0, got " + v);
        }
        return (float) v;
    }

    /** SmolLM3's layers without RoPE: the zeros of no_rope_layers, or every no_rope_layer_interval-th layer (4). */
    private static List<Integer> nopeLayers(HfConfig cfg, int layers) throws CheckpointException {
        List<Integer> out = new ArrayList<>();
        double[] flags = cfg.numbers("no_rope_layers");
        if (flags != null) {
            if (flags.length != layers) throw cfg.error("no_rope_layers has " + flags.length + " entries for " + layers + " layers");
            for (int i = 0; i < layers; i++) {
                if (flags[i] != 0 && flags[i] != 1) throw cfg.error("no_rope_layers entries must be 0 or 1, got " + flags[i]);
                if (flags[i] == 0) out.add(i);
            }
        } else {
            int interval = cfg.size("no_rope_layer_interval", 4);
            for (int i = 0; i < layers; i++) if ((i + 1) % interval == 0) out.add(i);
        }
        return out;
    }

    /** A Gemma 2 soft-capping value: the default when the field is absent, none (0) when it is null. */
    private static float softcap(HfConfig cfg, String field, double dflt) throws CheckpointException {
        if (!cfg.present(field)) return (float) dflt;
        if (!cfg.has(field)) return 0f;                                   // null: transformers skips the capping
        double v = cfg.number(field, dflt);
        if (!(v > 0)) throw cfg.error(field + " must be > 0 or null, got " + v);
        return (float) v;
    }

    /**
     * The rope settings from rope_parameters (5.x: rope_theta inside) or rope_theta + rope_scaling (4.x,
     * the kind under "rope_type" or the older "type"); rotary dims int(head_dim × partial_rotary_factor).
     * The original max positions of llama3, yarn and LongRoPE are 5.x's standardize_rope_params': a
     * top-level original_max_position_embeddings first (Phi-3 keeps it there), then the one inside the
     * rope settings, then max_position_embeddings.
     */
    static Rope rope(HfConfig cfg, String type, int hd, int mpe) throws CheckpointException {
        if (type.equals("gemma3_text")) return gemma3Rope(cfg, hd, mpe, "full_attention");
        if (type.equals("olmo3")) return olmo3Rope(cfg, hd, mpe, "full_attention");
        HfConfig p = cfg.has("rope_parameters") ? cfg.object("rope_parameters") : cfg.object("rope_scaling");
        double dflt = switch (type) {
            case "smollm3" -> 2e6;                                                 // SmolLM3Config(rope_theta=2e6)
            case "mixtral" -> 1e6;                                                 // MixtralConfig(rope_theta=1e6)
            case GptOss.TYPE -> 150000;                                            // GptOssConfig.default_theta
            default -> 10000;
        };
        double theta = cfg.has("rope_parameters") ? p.number("rope_theta", dflt) : cfg.number("rope_theta", dflt);
        double dfltPartial = type.equals("stablelm") ? 0.25 : 1.0;                 // StableLmConfig(partial_rotary_factor=0.25)
        double partial = cfg.number("partial_rotary_factor", p == null ? dfltPartial : p.number("partial_rotary_factor", dfltPartial));
        return ropeOf(cfg, p, theta, (int) (hd * partial), mpe);
    }

    /** One rope setting (p: the rope_scaling / rope_parameters object, null for the default kind) → {@link Rope}. */
    static Rope ropeOf(HfConfig cfg, HfConfig p, double theta, int rotary, int mpe) throws CheckpointException {
        String kind = p == null ? "default" : p.string("rope_type", p.string("type", "default"));
        return switch (kind) {
            case "default" -> Rope.plain(theta, rotary);
            case "linear" -> new Rope(theta, rotary, Rope.Scaling.LINEAR, p.number("factor", Double.NaN), 0, 0, 0);
            case "dynamic" -> new Rope(theta, rotary, Rope.Scaling.DYNAMIC, p.number("factor", Double.NaN), 0, 0, mpe);
            case "llama3" -> new Rope(theta, rotary, Rope.Scaling.LLAMA3, p.number("factor", Double.NaN),
                    p.number("low_freq_factor", Double.NaN), p.number("high_freq_factor", Double.NaN),
                    cfg.has("original_max_position_embeddings") ? cfg.size("original_max_position_embeddings")
                            : p.size("original_max_position_embeddings"));
            case "yarn" -> yarn(cfg, p, theta, rotary, mpe);
            case "longrope", "su" -> longRope(cfg, p, theta, rotary, mpe);
            default -> throw cfg.error("rope type '" + kind + "' is not implemented (default, linear, dynamic, llama3, yarn and"
                    + " longrope are)");
        };
    }

    /**
     * Gemma 3's RoPE of one layer type (Gemma3RotaryEmbedding): 5.x rope_parameters[layerType]; 4.x
     * sliding_attention: rope_local_base_freq (default 10000), default kind; full_attention: rope_theta (default
     * 1e6) with rope_scaling. The rotary dims are head_dim (Gemma 3 rotates whole heads).
     */
    static Rope gemma3Rope(HfConfig cfg, int hd, int mpe, String layerType) throws CheckpointException {
        HfConfig nested = cfg.object("rope_parameters");
        if (nested != null) {
            HfConfig p = nested.object(layerType);
            if (p == null) throw nested.error("has no '" + layerType + "' settings (Gemma 3 keeps one per layer type)");
            return ropeOf(cfg, p, p.number("rope_theta", layerType.equals("full_attention") ? 1e6 : 10000), hd, mpe);
        }
        if (layerType.equals("sliding_attention")) return Rope.plain(cfg.number("rope_local_base_freq", 10000), hd);
        return ropeOf(cfg, cfg.object("rope_scaling"), cfg.number("rope_theta", 1e6), hd, mpe);
    }

    /** Olmo3Config.default_theta: the rope_theta of a layer type whose settings name none. */
    static final double OLMO3_THETA = 500000;

    /**
     * OLMo 3's RoPE of one layer type, as transformers 5.x's Olmo3Config.convert_rope_params_to_dict and
     * Olmo3RotaryEmbedding (Gemma 3's, per layer type) compute it: 5.x rope_parameters[layerType] (an absent entry: the
     * default kind), rope_theta 500000 where a type's settings have none; 4.x fields: rope_scaling goes to full_attention
     * with rope_theta (default 500000), sliding_attention is the default kind at 500000. The rotary dims are head_dim.
     * A rope_parameters without per-type entries is refused: 5.x releases before the fix of the rope refactor's regression
     * (huggingface/transformers#45945) gave its one setting to every layer, the fixed ones ignore it.
     */
    static Rope olmo3Rope(HfConfig cfg, int hd, int mpe, String layerType) throws CheckpointException {
        HfConfig nested = cfg.object("rope_parameters");
        if (nested != null) {
            if (!nested.present("sliding_attention") && !nested.present("full_attention")) {
                throw nested.error("has no 'sliding_attention' / 'full_attention' settings (OLMo 3 keeps one per layer type; 5.x"
                        + " releases disagree on what one setting for all layers means)");
            }
            HfConfig p = nested.object(layerType);
            return ropeOf(cfg, p, p == null ? OLMO3_THETA : p.number("rope_theta", OLMO3_THETA), hd, mpe);
        }
        if (layerType.equals("sliding_attention")) return Rope.plain(OLMO3_THETA, hd);
        return ropeOf(cfg, cfg.object("rope_scaling"), cfg.number("rope_theta", OLMO3_THETA), hd, mpe);
    }

    /**
     * The RoPE of OLMo 3's sliding layers when it differs from the full layers' {@code full} (null: none slides, or both
     * rotate alike). Refused by name: a 4.x rope_theta other than 500000 with sliding layers (transformers 4.57 rotates
     * them with rope_theta; 5.x with 500000, its convert_rope_params_to_dict having popped rope_theta for full_attention
     * already) and a sliding kind the sliding table cannot hold (default and linear can).
     */
    private static Rope olmo3SlidingRope(HfConfig cfg, Rope full, List<Integer> windows, int hd, int mpe) throws CheckpointException {
        if (windows.isEmpty()) return null;
        if (!cfg.has("rope_parameters") && cfg.has("rope_theta") && cfg.number("rope_theta", OLMO3_THETA) != OLMO3_THETA) {
            throw cfg.error("rope_theta " + cfg.number("rope_theta", OLMO3_THETA) + " with sliding layers is not supported: transformers"
                    + " 4.57 rotates OLMo 3's sliding layers with rope_theta, 5.x with 500000 (give rope_parameters per layer type)");
        }
        Rope sliding = olmo3Rope(cfg, hd, mpe, "sliding_attention");
        if (sliding.scaling() != Rope.Scaling.DEFAULT && sliding.scaling() != Rope.Scaling.LINEAR) {
            throw cfg.error("rope_parameters.sliding_attention: rope type " + sliding.scaling() + " is not supported on sliding layers"
                    + " (default and linear are)");
        }
        return sliding.equals(full) ? null : sliding;
    }

    private static int originalMax(HfConfig cfg, HfConfig p, int mpe) throws CheckpointException {
        return cfg.has("original_max_position_embeddings") ? cfg.size("original_max_position_embeddings")
                : p.size("original_max_position_embeddings", mpe);
    }

    /**
     * _compute_yarn_parameters: factor (max_position_embeddings / original when null), attention factor
     * as given, else get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim) when both are set
     * (non-zero), else get_mscale(factor) = 0.1 · ln(factor) + 1 (1 for factor ≤ 1); beta_fast 32 and
     * beta_slow 1 when absent or 0; truncate true unless set.
     */
    private static Rope yarn(HfConfig cfg, HfConfig p, double theta, int rotary, int mpe) throws CheckpointException {
        int original = originalMax(cfg, p, mpe);
        double factor = p.number("factor", (double) mpe / original);
        double mscale = p.number("mscale", 0), mscaleAllDim = p.number("mscale_all_dim", 0);
        double attention = p.has("attention_factor") ? p.number("attention_factor", 1)
                : mscale != 0 && mscaleAllDim != 0 ? mscale(factor, mscale) / mscale(factor, mscaleAllDim) : mscale(factor, 1);
        double betaFast = p.number("beta_fast", 0), betaSlow = p.number("beta_slow", 0);
        return Rope.yarn(theta, rotary, factor, original, attention,
                new Rope.Yarn(betaFast == 0 ? 32 : betaFast, betaSlow == 0 ? 1 : betaSlow, p.bool("truncate", true)));
    }

    /** yarn_get_mscale: 0.1 · m · ln(scale) + 1, 1 for scale ≤ 1 (yarn's attention factor; DeepSeek's softmax scale too). */
    static double mscale(double scale, double m) { return scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1; }

    /**
     * _compute_longrope_parameters: short_factor and long_factor (rotary / 2 each), factor
     * (max_position_embeddings / original when absent), attention factor as given, else 1 for factor ≤ 1,
     * else sqrt(1 + ln(factor) / ln(original)). "su" is the kind's older name.
     */
    private static Rope longRope(HfConfig cfg, HfConfig p, double theta, int rotary, int mpe) throws CheckpointException {
        int original = originalMax(cfg, p, mpe);
        double[] shortFactor = p.numbers("short_factor"), longFactor = p.numbers("long_factor");
        if (shortFactor == null || longFactor == null) throw p.error("longrope needs short_factor and long_factor");
        if (shortFactor.length != rotary / 2 || longFactor.length != rotary / 2) {
            throw p.error("short_factor and long_factor must have rotary_dim / 2 = " + rotary / 2 + " entries, got "
                    + shortFactor.length + " and " + longFactor.length);
        }
        double factor = p.number("factor", (double) mpe / original);
        double attention = p.has("attention_factor") ? p.number("attention_factor", 1)
                : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
        return Rope.longRope(theta, rotary, factor, original, attention, new Rope.LongRope(shortFactor, longFactor));
    }

    /**
     * Per layer its sliding window (0: full causal): layer_types when present ("sliding_attention"),
     * else Mistral and Phi-3 every layer when sliding_window is set, Qwen2 / Qwen3 layer i ≥
     * max_window_layers (default 28) when use_sliding_window (their configs drop sliding_window otherwise), dots1 layer i ≥
     * max_window_layers (default 62) whenever sliding_window (default 4096) is not null; OLMo 3 (sliding_window 4096 when
     * absent) every layer but each fourth.
     */
    static List<Integer> windows(HfConfig cfg, String type, int layers) throws CheckpointException {
        boolean qwen = type.equals("qwen2") || type.equals("qwen3");
        int w = cfg.has("sliding_window") && (!qwen || cfg.bool("use_sliding_window", false)) ? cfg.size("sliding_window") : 0;
        if (!cfg.present("sliding_window") && (type.equals("gemma2") || type.equals("gemma3_text"))) w = 4096;   // their configs' default
        if (!cfg.present("sliding_window") && type.equals(GptOss.TYPE)) w = 128;                             // GptOssConfig's
        if (!cfg.present("sliding_window") && type.equals("olmo3")) w = 4096;                                // Olmo3Config's
        if (!cfg.present("sliding_window") && type.equals(HfDots1.TYPE)) w = 4096;                           // Dots1Config's
        List<String> kinds = cfg.strings("layer_types");
        List<Integer> out = new ArrayList<>();
        if (kinds != null) {
            if (kinds.size() != layers) throw cfg.error("layer_types has " + kinds.size() + " entries for " + layers + " layers");
            for (String k : kinds) {
                switch (k) {
                    case "full_attention" -> out.add(0);
                    case "sliding_attention" -> {
                        if (w == 0) throw cfg.error("layer_types names a sliding layer but the config has no sliding_window"
                                + (qwen ? " in use (use_sliding_window)" : ""));
                        out.add(w);
                    }
                    default -> throw cfg.error("layer_types entry '" + k + "' is not full_attention or sliding_attention");
                }
            }
        } else {
            if (type.equals("gemma3_text")) {                            // Gemma3TextConfig: slides unless (i + 1) % pattern == 0
                int pattern = cfg.size("sliding_window_pattern", 6);
                for (int i = 0; i < layers; i++) out.add((i + 1) % pattern != 0 ? w : 0);
                return out.stream().allMatch(x -> x == 0) ? List.of() : out;
            }
            if (type.equals("olmo3")) {                                   // Olmo3Config: slides unless (i + 1) % 4 == 0
                for (int i = 0; i < layers; i++) {
                    boolean slides = (i + 1) % 4 != 0;
                    if (slides && w == 0) throw cfg.error("sliding_window is null but Olmo3Config's default layer_types has sliding layers");
                    out.add(slides ? w : 0);
                }
                return out.stream().allMatch(x -> x == 0) ? List.of() : out;
            }
            if (type.equals("gemma2") || type.equals(GptOss.TYPE)) {    // Gemma2Config, GptOssConfig: layer i slides when (i + 1) % 2
                for (int i = 0; i < layers; i++) out.add((i + 1) % 2 == 1 ? w : 0);
                return out.stream().allMatch(x -> x == 0) ? List.of() : out;
            }
            int first = switch (type) {
                case "mistral", "phi3", "starcoder2" -> 0;
                case "qwen2", "qwen3" -> cfg.size("max_window_layers", 28);
                case HfDots1.TYPE -> cfg.size("max_window_layers", 62);              // Dots1Config: no use_sliding_window
                default -> layers;                                        // llama: no windows
            };
            for (int i = 0; i < layers; i++) out.add(w > 0 && i >= first ? w : 0);
        }
        return out.stream().allMatch(x -> x == 0) ? List.of() : out;
    }

    /** The checkpoint's names and shapes for {@code c} (ForCausalLM state_dict names). */
    static HfLayout layout(TransformerConfig c, String type) { return layout(c, type, false); }

    /**
     * As above; {@code fusedExperts}: a MoE folder in transformers 5.x's layout, each layer's experts stacked as
     * mlp.experts.gate_up_proj (E, 2F, C), [gate ; up] per expert, and mlp.experts.down_proj (E, C, F)
     * (conversion_mapping.py; Mixtral's block_sparse_moe renamed mlp there); else the per-expert tensors that
     * published folders carry.
     */
    static HfLayout layout(TransformerConfig c, String type, boolean fusedExperts) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize(), f = c.mlpWidth();
        req.put("model.embed_tokens.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
            boolean ln = c.norm() == TransformerConfig.NormKind.LAYER_NORM && c.biases();   // StableLM, Starcoder2: weight and bias
            boolean affine = !type.equals("olmo");                                // OlmoLayerNorm: no parameters at all
            if (c.inputNorms() && affine) req.put(l + "input_layernorm.weight", new long[] {cw});
            if (ln) req.put(l + "input_layernorm.bias", new long[] {cw});
            if (c.parallel() != TransformerConfig.ParallelBlock.SHARED_NORM && affine) {   // StableLM's parallel layer: one norm
                req.put(l + "post_attention_layernorm.weight", new long[] {cw});
                if (ln) req.put(l + "post_attention_layernorm.bias", new long[] {cw});
            }
            if (c.sandwichNorms()) {
                if (c.inputNorms()) req.put(l + "pre_feedforward_layernorm.weight", new long[] {cw});
                req.put(l + "post_feedforward_layernorm.weight", new long[] {cw});
            }
            if (type.equals("phi3")) {
                req.put(a + "qkv_proj.weight", new long[] {q + 2 * kv, cw});
                req.put(m + "gate_up_proj.weight", new long[] {2 * f, cw});
            } else {
                for (String[] p : new String[][] {{"q_proj", "q"}, {"k_proj", "kv"}, {"v_proj", "kv"}}) {
                    long n = p[1].equals("q") ? q : kv;
                    req.put(a + p[0] + ".weight", new long[] {n, cw});
                    if (c.qkvBias()) req.put(a + p[0] + ".bias", new long[] {n});
                }
                if (type.equals("starcoder2")) {                                  // Starcoder2MLP: c_proj(act(c_fc(x)))
                    req.put(m + "c_fc.weight", new long[] {f, cw});
                    req.put(m + "c_proj.weight", new long[] {cw, f});
                    if (c.mlpBias()) {
                        req.put(m + "c_fc.bias", new long[] {f});
                        req.put(m + "c_proj.bias", new long[] {cw});
                    }
                } else if (!c.moeAt(i)) {
                    req.put(m + "gate_proj.weight", new long[] {f, cw});
                    req.put(m + "up_proj.weight", new long[] {f, cw});
                    if (c.mlpBias()) {
                        req.put(m + "gate_proj.bias", new long[] {f});
                        req.put(m + "up_proj.bias", new long[] {f});
                    }
                }
            }
            if (c.moeAt(i)) {
                if (type.equals(GptOss.TYPE)) GptOss.layout(req, c, l, fusedExperts);   // fusedExperts: its MXFP4 blocks
                else experts(req, c, l, type, fusedExperts);
                if (c.moe().routing().correctionBias()) req.put(m + "gate.e_score_correction_bias", new long[] {c.moe().experts()});   // GLM-4.5's
            }
            if (c.attentionSinks()) req.put(a + "sinks", new long[] {c.heads()});
            req.put(a + "o_proj.weight", new long[] {cw, q});
            if (c.outBias()) req.put(a + "o_proj.bias", new long[] {cw});
            if (c.qkNorm()) {
                req.put(a + "q_norm.weight", new long[] {c.qkNormWide() ? q : c.headSize()});
                req.put(a + "k_norm.weight", new long[] {c.qkNormWide() ? kv : c.headSize()});
            }
            if (!c.moeAt(i) && !type.equals("starcoder2")) {
                req.put(m + "down_proj.weight", new long[] {cw, f});
                if (c.mlpBias()) req.put(m + "down_proj.bias", new long[] {cw});
            }
        }
        if (!type.equals("olmo")) req.put("model.norm.weight", new long[] {cw});
        if (c.norm() == TransformerConfig.NormKind.LAYER_NORM && c.biases()) req.put("model.norm.bias", new long[] {cw});
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        List<String> ignored = new ArrayList<>(List.of(".rotary_emb.inv_freq"));
        if (type.equals(GptOss.TYPE) && fusedExperts) ignored.addAll(GptOss.BLOCK_SUFFIXES);     // U8: GptOss.checkBlocks
        return HfLayout.listed(type, req, opt, ignored);
    }

    /** Layer l's expert keys: {@link #moeKeys} with their shapes. */
    static void experts(Map<String, long[]> req, TransformerConfig c, String l, String type, boolean fused) {
        TransformerConfig.Moe moe = c.moe();
        long cw = c.modelWidth(), e = moe.experts(), f = moe.expertWidth();
        MoeKeys k = moeKeys(l, type, fused);
        req.put(k.router(), new long[] {e, cw});
        if (fused) {
            req.put(k.gateUp(), new long[] {e, 2 * f, cw});
            req.put(k.down(), new long[] {e, cw, f});
        } else {
            for (int x = 0; x < e; x++) {
                req.put(k.expert(x, 0), new long[] {f, cw});
                req.put(k.expert(x, 1), new long[] {f, cw});
                req.put(k.expert(x, 2), new long[] {cw, f});
            }
        }
        if (moe.sharedWidth() > 0) {
            long sf = moe.sharedWidth();
            String sh = l + sharedExpert(type);
            req.put(sh + "gate_proj.weight", new long[] {sf, cw});
            req.put(sh + "up_proj.weight", new long[] {sf, cw});
            req.put(sh + "down_proj.weight", new long[] {cw, sf});
            if (moe.sharedGate()) req.put(l + "mlp.shared_expert_gate.weight", new long[] {1, cw});
        }
    }

    /**
     * A MoE layer's tensor names: the router, and either the per-expert projections (Mixtral 4.x:
     * block_sparse_moe.experts.e.w1 / w3 / w2; the Qwen-MoE and OLMoE families: mlp.experts.e.gate_proj / up_proj /
     * down_proj) or 5.x's stacked gate_up_proj and down_proj (under mlp. for every family).
     */
    record MoeKeys(String router, String gateUp, String down, String expertPrefix, String[] expertNames) {
        /** Expert x's projection p: 0 the activated one (w1 / gate_proj), 1 the multiplied one (w3 / up_proj), 2 down. */
        String expert(int x, int p) { return expertPrefix + x + "." + expertNames[p] + ".weight"; }
    }

    static MoeKeys moeKeys(String l, String type, boolean fused) {
        boolean mixtral = type.equals("mixtral");
        String router = (mixtral && !fused ? l + "block_sparse_moe." : l + "mlp.") + "gate.weight";
        return new MoeKeys(router, l + "mlp.experts.gate_up_proj", l + "mlp.experts.down_proj",
                mixtral ? l + "block_sparse_moe.experts." : l + "mlp.experts.",
                mixtral ? new String[] {"w1", "w3", "w2"} : new String[] {"gate_proj", "up_proj", "down_proj"});
    }

    /**
     * The shared expert's module: Qwen2-MoE's mlp.shared_expert., DeepSeek's (Kimi-K2's too), GLM-4.5's, ERNIE 4.5's and dots1's mlp.shared_experts.
     * (n_shared_experts / moe_num_shared_experts of them as one MLP).
     */
    static String sharedExpert(String type) {
        return HfDeepseek.TYPES.contains(type) || type.equals(HfGlm4Moe.TYPE) || type.equals(HfErnie45.MOE) || type.equals(HfDots1.TYPE)
                ? "mlp.shared_experts." : "mlp.shared_expert.";
    }

    /** Whether a MoE checkpoint holds transformers 5.x's stacked experts (any layer's mlp.experts.gate_up_proj). */
    static boolean fusedExperts(java.util.Collection<String> names) {
        return names.stream().anyMatch(k -> k.endsWith(".mlp.experts.gate_up_proj"));
    }

    /**
     * The folder's model onto {@code backend} in {@code dtype}. As {@link Pretrained#load} does for the other
     * families, tensors the CPU can compute on as stored (same dtype) are views of the mapped file
     * ({@code -Dt4j.load.mapped}, default true), and the weights keep the checkpoint open while they live.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype) throws IOException {
        return load(cfg, dir, backend, dtype, true);
    }

    /**
     * With {@code head} false (Pretrained.loadEncoder: a decoder as a sentence embedder, e.g. Qwen3-Embedding,
     * e5-mistral), the output matrix is neither needed nor loaded (a stored lm_head.weight is left alone); such
     * weights give hidden states, and {@link Weights#outputMatrix} refuses when the model is untied. Both layouts
     * load: the causal-LM class's ({@code model.layers.…}) and the base model's that sentence-transformers saves
     * ({@code layers.…}, {@code embed_tokens.weight}, {@code norm.weight}: Qwen3Model, MistralModel).
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head) throws IOException {
        return load(cfg, dir, backend, dtype, head, null);
    }

    /** The same with a LoRA adapter merged into the weights as they load (null: none). */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        if (HfNeox.TYPES.contains(cfg.modelType())) return HfNeox.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfOpt.TYPE)) return HfOpt.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfBigCode.TYPE)) return HfBigCode.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfFalcon.TYPE)) return HfFalcon.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfAlibi.BLOOM)) return HfAlibi.loadBloom(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfAlibi.MPT)) return HfAlibi.loadMpt(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfGptNeo.TYPE)) return HfGptNeo.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().startsWith(HfCohere.COHERE)) return HfCohere.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfGlm.GLM) || cfg.modelType().equals(HfGlm.GLM4)) return HfGlm.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().startsWith(HfErnie45.TYPE)) return HfErnie45.load(cfg, dir, backend, dtype, head, lora);
        if (HfDeepseek.TYPES.contains(cfg.modelType())) return HfDeepseek.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfNemotron.TYPE)) return HfNemotron.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfGraniteMoe.TYPE) || cfg.modelType().equals(HfGraniteMoe.SHARED)) return HfGraniteMoe.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfArcee.TYPE)) return HfArcee.load(cfg, dir, backend, dtype, head, lora);
        if (cfg.modelType().equals(HfGlm4Moe.TYPE)) HfGlm4Moe.checkLoad(cfg, lora);
        if (cfg.modelType().equals(HfDots1.TYPE)) HfDots1.checkLoad(cfg, lora);
        TransformerConfig c = config(cfg);
        String type = cfg.modelType();
        return Pretrained.mapped(dir, (ck, share) -> {
            boolean gptOss = type.equals(GptOss.TYPE), mxfp4 = gptOss && GptOss.mxfp4(ck.names());
            if (mxfp4) GptOss.checkBlocks(c, ck, dir);
            boolean fused = c.moe() != null && fusedExperts(ck.names());
            // quantized projections, dequantized as they load (gpt-oss reads its own mxfp4 quantization_config)
            IntQuant ints = !gptOss && IntQuant.applies(cfg) ? IntQuant.of(cfg, ck, dir) : null;
            Fp8 fp8 = gptOss || ints != null ? null : Fp8.of(cfg, ck, dir, type);
            // weights made as they load (dequantized, or merged with a LoRA adapter) are made one at a time: none may be split
            String made = fp8 != null ? "FP8 weights are" : ints != null ? (ints.awq ? "AWQ" : "GPTQ") + " weights are"
                    : lora != null ? "LoRA adapters are" : null;
            if (made != null && (type.equals("phi3") || fused || (lora != null && gptOss))) {
                throw cfg.error(made + " not supported for " + (fused ? "5.x's fused expert tensors" : gptOss ? "gpt-oss's experts"
                        : "phi3's fused qkv_proj / gate_up_proj") + " (weights made as they load come one at a time and cannot be split)");
            }
            HfLayout ours = layout(c, type, gptOss ? mxfp4 : fused);
            boolean base = !ck.names().contains("model.embed_tokens.weight") && ck.names().contains("embed_tokens.weight");
            List<String> skip = new ArrayList<>();
            if (!head && ck.names().contains("lm_head.weight")) skip.add("lm_head.weight");
            if (type.equals(HfGlm4Moe.TYPE)) {                                  // GLM-4.5's multi-token-prediction layer (46 / 92),
                for (String n : ck.names()) if (HfDeepseek.extraLayer(n, c.decoderLayers())) skip.add(n);   // never run
            }
            if (fp8 != null) skip.addAll(fp8.readPast);                         // the scales, read with their weights
            Map<String, Tensor> hf = renamed(ours, name -> base && name.startsWith("model.") ? name.substring(6) : name,
                    name -> !head && name.equals("lm_head.weight"), skip, type, ck, dir, fp8, ints, lora, backend, dtype);
            return weights(c, type, hf, backend, dtype, share, head, gptOss ? ck : null, mxfp4);
        });
    }

    /**
     * The checkpoint's tensors under {@code ours}' names, each looked up as {@code stored} names it (the layout of a
     * folder that prefixes or strips them), the whole checked key for key: {@code unwanted} layout keys are neither
     * required nor read, {@code skip} checkpoint keys (besides the layout's ignored suffixes) are left alone. With
     * {@code fp8} or {@code ints}, their quantized weights are dequantized when the loader takes them ({@link LazyTensors};
     * an AWQ / GPTQ projection may instead be taken in 4 bits); an AWQ / GPTQ folder's packed parts are matched as the
     * {@code .weight} they make. Refused before anything is allocated when {@code backend} cannot hold the load in
     * {@code dtype} ({@link #budget}).
     */
    static Map<String, Tensor> renamed(HfLayout ours, java.util.function.UnaryOperator<String> stored,
                                       java.util.function.Predicate<String> unwanted, List<String> skip, String family,
                                       org.transformer4j.model.weights.SafetensorsCheckpoint ck, Path dir, Fp8 fp8,
                                       IntQuant ints, LoraAdapter lora, Backend backend, DType dtype) throws IOException {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        Map<String, String> canonical = new HashMap<>();
        for (var e : ours.shapes().entrySet()) {
            if (unwanted.test(e.getKey())) continue;
            String k = stored.apply(e.getKey());
            canonical.put(k, e.getKey());
            (ours.required().contains(e.getKey()) ? req : opt).put(k, e.getValue());
        }
        List<String> ignored = new ArrayList<>(ours.ignored());
        ignored.addAll(skip);
        HfLayout listed = HfLayout.listed(family, req, opt, ignored);
        Map<String, String> keys = ints != null ? listed.match(ints.names(ck), n -> ints.entry(ck, n), dir, Set.of())
                : listed.match(ck, dir, fp8 == null ? Set.of() : fp8.weights);
        budget(keys.values(), ck, dir, backend, dtype, fp8, ints);                // before anything is allocated
        List<String> read = new ArrayList<>(keys.values());                      // what the layout reads, nothing else:
        if (fp8 != null) read.addAll(fp8.readPast);                               // the scales read with their FP8 weights,
        if (ints != null) {                                                        // a quantized weight's stored parts
            for (String k : keys.values()) {
                if (ints.weights.containsKey(k)) for (String p : IntQuant.PARTS) read.add(k.substring(0, k.length() - "weight".length()) + p);
            }
        }
        org.transformer4j.model.weights.FiniteCheck.ifWanted(ck, read);
        if (fp8 != null || ints != null || lora != null) {
            LazyTensors hf = new LazyTensors(Map.of());
            for (var e : keys.entrySet()) {
                String key = e.getValue(), name = canonical.get(e.getKey());
                java.util.function.Supplier<Tensor> made = fp8 != null && fp8.weights.contains(key) ? () -> fp8.dequantize(ck, key)
                        : ints != null && ints.weights.containsKey(key) ? () -> ints.dequantize(ck, key) : null;
                if (lora != null && lora.changes(name)) {
                    // merged from the stored (or dequantized) weight, one matrix at a time; a dequantized one is closed once merged
                    java.util.function.Supplier<Tensor> base = made != null ? made : () -> ck.tensor(key);
                    boolean owned = made != null;
                    hf.later(name, () -> lora.merge(name, base.get(), owned));
                } else if (made != null) {
                    hf.later(name, made);
                    if (ints != null && ints.weights.containsKey(key) && ints.packs(key)) {
                        hf.packable(name, () -> ints.pack(ck, key));    // kept in 4 bits where the weights' source takes it so
                    }
                } else {
                    hf.put(name, ck.tensor(key));
                }
            }
            if (lora != null) lora.checkAllUsed(hf.keySet());
            return hf;
        }
        Map<String, Tensor> hf = new HashMap<>();
        for (var e : keys.entrySet()) hf.put(canonical.get(e.getKey()), ck.tensor(e.getValue()));
        return hf;
    }

    /**
     * {@link org.transformer4j.model.weights.LoadBudget}'s refusal for a decoder folder, before anything is allocated: the
     * bytes of the layout's tensors as the load makes them — an FP8 weight dequantized to dtype, an AWQ / GPTQ projection
     * its packed parts where the backend keeps them ({@link IntQuant#packedWanted}) or dequantized to dtype, the rest
     * {@code LoadBudget.bytes} — against the device's free memory or the machine's.
     */
    private static void budget(java.util.Collection<String> keys, org.transformer4j.model.weights.SafetensorsCheckpoint ck, Path dir,
                               Backend backend, DType dtype, Fp8 fp8, IntQuant ints) throws IOException {
        boolean packed = ints != null && dtype != DType.F32 && IntQuant.packedWanted(backend);
        long need = 0;
        boolean allConverted = true;
        try {
            for (String k : keys) {
                if (ints != null && ints.weights.containsKey(k)) {
                    need = Math.addExact(need, ints.bytes(ck, k, packed, dtype));
                    continue;
                }
                org.transformer4j.model.weights.TensorEntry e = ck.entry(k);
                boolean made = fp8 != null && fp8.weights.contains(k);
                need = Math.addExact(need, made ? Math.multiplyExact(e.numel(), dtype.byteSize())
                        : org.transformer4j.model.weights.LoadBudget.bytes(e, dtype));
                allConverted &= made || e.dtype().runtimeType().orElse(null) != dtype;
            }
        } catch (ArithmeticException x) {
            throw new org.transformer4j.model.weights.CheckpointException(dir, "the tensors of " + dir + " loaded as " + dtype
                    + " take more than 2^63 bytes");
        }
        org.transformer4j.model.weights.LoadBudget.check(need, allConverted, ck, dir, backend, dtype);
    }

    /** The tensors of a multimodal Gemma 3 folder that the text model does not use (SigLIP tower, projector). */
    private static final List<String> GEMMA3_VISION = List.of("vision_tower.", "multi_modal_projector.", "model.vision_tower.",
            "model.multi_modal_projector.");

    /**
     * The text model of a multimodal Gemma 3 folder (Gemma3ForConditionalGeneration, model_type gemma3): its
     * text_config (model_type gemma3_text, Gemma3TextConfig's defaults for what it omits) and the language model's
     * tensors as either transformers layout stores them — language_model.model.… (published checkpoints, 4.x) or
     * model.language_model.… with a top-level lm_head.weight (5.x) — the vision tower's and projector's left alone
     * (image inputs are not supported). On text-only input transformers runs exactly this language model.
     */
    static Weights loadGemma3Text(HfConfig cfg, Path dir, Backend backend, DType dtype) throws IOException {
        HfConfig text = cfg.object("text_config");
        if (text == null) throw cfg.error("a gemma3 folder needs its text_config");
        if (!text.modelType().equals("gemma3_text")) throw text.error("model_type is '" + text.modelType() + "', expected gemma3_text");
        TransformerConfig c = config(text);
        return Pretrained.mapped(dir, (ck, share) -> {
            boolean v5 = ck.names().stream().anyMatch(k -> k.startsWith("model.language_model."));
            java.util.function.UnaryOperator<String> stored = name -> name.startsWith("model.")
                    ? (v5 ? "model.language_model." : "language_model.model.") + name.substring("model.".length())
                    : v5 ? name : "language_model." + name;                     // lm_head.weight
            List<String> skip = new ArrayList<>(ck.names().stream().filter(k -> GEMMA3_VISION.stream().anyMatch(k::startsWith)).toList());
            // a quantized folder's language-model projections (RedHatAI's gemma-3-*-FP8-dynamic; the vision tower stays as is)
            IntQuant ints = IntQuant.applies(cfg) ? IntQuant.of(cfg, ck, dir) : null;
            Fp8 fp8 = ints != null ? null : Fp8.of(cfg, ck, dir, "gemma3");
            if (fp8 != null) skip.addAll(fp8.readPast);
            Map<String, Tensor> hf = renamed(layout(c, "gemma3_text"), stored, name -> false, skip, "gemma3", ck, dir, fp8, ints, null, backend, dtype);
            return weights(c, "gemma3_text", hf, backend, dtype, share);
        });
    }

    /**
     * Our names ← the checkpoint's. Our gated MLP activates {@code mlp.up} and multiplies by {@code mlp.gate}:
     * transformers' gate_proj is the activated branch (down(act(gate(x)) · up(x))), so mlp.up ← gate_proj and
     * mlp.gate ← up_proj. Phi-3's qkv_proj rows split [q | k | v] and gate_up_proj rows [gate | up]
     * (modeling_phi3.py: qkv[..., :q_pos], [q_pos : q_pos + kv], [q_pos + kv :]; gate_up.chunk(2)); they are
     * taken whole as our fused [q ; k ; v] and [up ; gate], or as those row views under -Dt4j.fuse=false.
     * With {@code share}, tensors that views of the mapped file can serve are not copied (see {@link #load}).
     */
    static Weights weights(TransformerConfig c, String type, Map<String, Tensor> stored, Backend backend, DType dtype, boolean share) {
        return weights(c, type, stored, backend, dtype, share, true);
    }

    /** The same; {@code head} false leaves the output matrix out (see {@link #load(HfConfig, Path, Backend, DType, boolean)}). */
    static Weights weights(TransformerConfig c, String type, Map<String, Tensor> stored, Backend backend, DType dtype, boolean share,
                           boolean head) {
        return weights(c, type, stored, backend, dtype, share, head, null, false);
    }

    /** The same; gpt-oss's experts are made from {@code ck} (its MXFP4 blocks where {@code mxfp4}) as the loader takes them. */
    private static Weights weights(TransformerConfig c, String type, Map<String, Tensor> stored, Backend backend, DType dtype,
                                   boolean share, boolean head, org.transformer4j.model.weights.SafetensorsCheckpoint ck, boolean mxfp4) {
        // made tensors: gpt-oss's experts, an FP8 / AWQ / GPTQ folder's dequantized weights (renamed made the map)
        LazyTensors lazy = stored instanceof LazyTensors made ? made : type.equals(GptOss.TYPE) ? new LazyTensors(stored) : null;
        Map<String, Tensor> hf = lazy != null ? lazy : new HashMap<>(stored);
        Map<String, HfWeights.Part> parts = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, String> put = (ours, key) -> parts.put(ours, new HfWeights.Part(key, false, -1, -1));
        long q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize(), f = c.mlpWidth();
        put.accept("embeddings.tokens", "model.embed_tokens.weight");
        for (int i = 0; i < c.decoderLayers(); i++) {
            String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
            if (c.inputNorms()) put.accept(o + "attn_norm.weight", l + "input_layernorm.weight");
            put.accept(o + "attn_norm.bias", l + "input_layernorm.bias");                   // LayerNorm families
            put.accept(o + "mlp_norm.bias", l + "post_attention_layernorm.bias");
            if (c.sandwichNorms()) {                  // Gemma 2, OLMo 2: post_attention_layernorm norms the attention's output
                put.accept(o + "post_attn_norm.weight", l + "post_attention_layernorm.weight");
                if (c.inputNorms()) put.accept(o + "mlp_norm.weight", l + "pre_feedforward_layernorm.weight");
                put.accept(o + "post_mlp_norm.weight", l + "post_feedforward_layernorm.weight");
            } else {
                put.accept(o + "mlp_norm.weight", l + "post_attention_layernorm.weight");
            }
            if (type.equals("phi3")) {
                split(hf, a + "qkv_proj.weight", new String[] {"q", "k", "v"}, new long[] {0, q, q + kv, q + 2 * kv});
                split(hf, m + "gate_up_proj.weight", new String[] {"gate", "up"}, new long[] {0, f, 2 * f});
                put.accept(o + "self.qkv", a + "qkv_proj.weight");                      // fused as stored: [q | k | v]
                put.accept(o + "mlp.up_gate", m + "gate_up_proj.weight");               // [gate | up] = our [up ; gate]
                for (String x : List.of("q", "k", "v")) put.accept(o + "self." + x, a + "qkv_proj.weight[" + x + "]");
                put.accept(o + "mlp.up", m + "gate_up_proj.weight[gate]");
                put.accept(o + "mlp.gate", m + "gate_up_proj.weight[up]");
            } else {
                for (String x : List.of("q", "k", "v")) {
                    put.accept(o + "self." + x, a + x + "_proj.weight");
                    put.accept(o + "self." + x + ".bias", a + x + "_proj.bias");
                }
                put.accept(o + "mlp.up", m + (type.equals("starcoder2") ? "c_fc.weight" : "gate_proj.weight"));
                put.accept(o + "mlp.up.bias", m + (type.equals("starcoder2") ? "c_fc.bias" : "gate_proj.bias"));
                put.accept(o + "mlp.gate", m + "up_proj.weight");
                put.accept(o + "mlp.gate.bias", m + "up_proj.bias");
            }
            put.accept(o + "self.o", a + "o_proj.weight");
            put.accept(o + "self.o.bias", a + "o_proj.bias");
            put.accept(o + "self.q_norm.weight", a + "q_norm.weight");
            put.accept(o + "self.k_norm.weight", a + "k_norm.weight");
            put.accept(o + "mlp.down", m + (type.equals("starcoder2") ? "c_proj.weight" : "down_proj.weight"));
            put.accept(o + "mlp.down.bias", m + (type.equals("starcoder2") ? "c_proj.bias" : "down_proj.bias"));
            if (c.moeAt(i)) {
                if (type.equals(GptOss.TYPE)) GptOss.expertParts(lazy, c, o + "moe.", l, ck, mxfp4, mxfp4 && GptOss.keepMxfp4(backend, dtype), put);
                else expertParts(hf, c, type, o + "moe.", l, put);
                if (c.moe().routing().correctionBias()) put.accept(o + "moe.router.correction_bias", m + "gate.e_score_correction_bias");
            }
            put.accept(o + "self.sinks", a + "sinks");
        }
        put.accept("decoder.final_norm.weight", "model.norm.weight");
        put.accept("decoder.final_norm.bias", "model.norm.bias");
        if (head) put.accept("lm_head", "lm_head.weight");
        List<Tensor> folded = new ArrayList<>();
        if (type.equals("olmo")) {                   // OlmoLayerNorm: F.layer_norm(x, shape, None, None): weights of ones, no bias
            List<String> norms = new ArrayList<>(List.of("model.norm.weight"));
            for (int i = 0; i < c.decoderLayers(); i++) {
                norms.add("model.layers." + i + ".input_layernorm.weight");
                norms.add("model.layers." + i + ".post_attention_layernorm.weight");
            }
            for (String key : norms) {
                float[] ones = new float[c.modelWidth()];
                java.util.Arrays.fill(ones, 1f);
                Tensor t = Tensor.ofFloats(ones, c.modelWidth());
                folded.add(t);
                hf.put(key, t);
            }
        }
        if (type.startsWith("gemma")) {              // GemmaRMSNorm: x̂ · (1 + w), 1 + w in fp32 as transformers forms it
            for (String key : new ArrayList<>(hf.keySet())) {
                if (key.endsWith("layernorm.weight") || key.equals("model.norm.weight") || key.endsWith("self_attn.q_norm.weight")
                        || key.endsWith("self_attn.k_norm.weight")) {
                    Tensor t = onePlus(hf.get(key));
                    folded.add(t);
                    hf.put(key, t);
                }
            }
        }
        if (c.tiedEmbeddings() || !head) hf.remove("lm_head.weight");          // a tied copy of the token table, or not wanted
        try {
            return HfWeights.load(type, hf, parts, backend, dtype, share, s -> Weights.build(c, s, 0, head));
        } finally {
            folded.forEach(Tensor::close);
            if (lazy != null) lazy.close();
        }
    }

    /**
     * Our MoE names ← the checkpoint's: moe.router ← the router; per expert moe.expert.x.up ← w1 / gate_proj (the
     * activated branch), .gate ← w3 / up_proj, .down ← w2 / down_proj; or, stacked (5.x), moe.up_gate ← gate_up_proj
     * (each expert's [gate ; up], our [up ; gate]) and moe.down ← down_proj, offered as (E·2F, C) and (E·C, F) views;
     * Qwen2-MoE's shared expert as a dense MLP under moe.shared and its gate as moe.shared_gate.
     */
    static void expertParts(Map<String, Tensor> hf, TransformerConfig c, String type, String o, String l,
                                    java.util.function.BiConsumer<String, String> put) {
        TransformerConfig.Moe moe = c.moe();
        boolean fused = fusedExperts(hf.keySet());
        MoeKeys k = moeKeys(l, type, fused);
        put.accept(o + "router", k.router());
        if (fused) {
            long e = moe.experts(), f = moe.expertWidth(), cw = c.modelWidth();
            flatten(hf, k.gateUp(), e * 2 * f, cw);
            flatten(hf, k.down(), e * cw, f);
            put.accept(o + "up_gate", k.gateUp());
            put.accept(o + "down", k.down());
        } else {
            for (int x = 0; x < moe.experts(); x++) {
                put.accept(o + "expert." + x + ".up", k.expert(x, 0));
                put.accept(o + "expert." + x + ".gate", k.expert(x, 1));
                put.accept(o + "expert." + x + ".down", k.expert(x, 2));
            }
        }
        String sh = l + sharedExpert(type);
        put.accept(o + "shared.up", sh + "gate_proj.weight");
        put.accept(o + "shared.gate", sh + "up_proj.weight");
        put.accept(o + "shared.down", sh + "down_proj.weight");
        put.accept(o + "shared_gate", l + "mlp.shared_expert_gate.weight");
    }

    /** A stacked (E, R, C) tensor offered as the (E·R, C) matrix our stacked weights are (a view; a misshaped one is left for the loader to report). */
    static void flatten(Map<String, Tensor> hf, String key, long rows, long cols) {
        Tensor t = hf.get(key);
        if (t != null && t.rank() == 3 && t.numel() == rows * cols && t.isContiguous()) hf.put(key, t.view(rows, cols));
    }

    /** A host F32 copy of 1 + w, each sum formed in fp32 (Gemma's (1 + w) RMSNorm, Nemotron's LayerNorm1P; the norms own no checkpoint memory). */
    static Tensor onePlus(Tensor w) {
        float[] a = w.toFloatArray();
        for (int i = 0; i < a.length; i++) a[i] = 1f + a[i];
        return Tensor.ofFloats(a, w.shape());
    }

    /**
     * Adds row ranges [at[i], at[i+1]) of the fused (rows, C) tensor {@code key} as key[names[i]] (views, no copy),
     * for weights that keep the projections apart (t4j.fuse=never); the loader takes either the whole or the views.
     */
    static void split(Map<String, Tensor> hf, String key, String[] names, long[] at) {
        Tensor t = hf.get(key);
        if (t == null) return;                                                  // reported as missing by the loader
        for (int i = 0; i < names.length; i++) hf.put(key + "[" + names[i] + "]", t.slice(0, at[i], at[i + 1]));
    }
}
