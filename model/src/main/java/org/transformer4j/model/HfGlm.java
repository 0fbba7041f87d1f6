// HfGlm — GLM's decoder folders: model_type glm (GlmForCausalLM: glm-4-9b-chat-hf, glm-4-9b-hf, glm-edge) and glm4
// (Glm4ForCausalLM: GLM-4-9B-0414, GLM-Z1-9B-0414, GLM-4-32B-0414): Llama's pre-RMSNorm layers with q/k/v biases, a fused
// gate_up_proj, GPT-J's pairwise rotary on the first half of each head; GLM-4's norms on both sublayers' outputs.
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class HfGlm {

    private HfGlm() {}

    static final String GLM = "glm";
    static final String GLM4 = "glm4";

    /**
     * GlmConfig's and Glm4Config's defaults (the two classes have the same fields): vocab 151552, hidden 4096, intermediate
     * 13696, 40 layers, 32 heads over num_key_value_heads 2, head_dim 128 (GlmAttention reads config.head_dim: an absent
     * key means 128, not hidden_size / heads), hidden_act silu, rms_norm_eps 1.5625e-07, untied, max positions 131072,
     * attention_bias true (biases on q, k, v; o_proj never has one), pad 151329, eos [151329, 151336, 151338] (the first
     * ends a reply here; generation_config.json lists them all), no bos, rope_theta 10000, partial_rotary_factor 0.5.
     * The rotary turns the pairs (2i, 2i + 1) of each head's first int(head_dim × partial_rotary_factor) dims (GLM's
     * rotate_half on interleaved halves, cos / sin repeat_interleave'd); the loader permutes the q_proj / k_proj rows so
     * that rotate_half's halves rotate the same pairs. GLM-4 norms each sublayer's output before its residual add
     * (post_self_attn_layernorm, post_mlp_layernorm) and its input as GLM does (input_layernorm, post_attention_layernorm).
     * Refused by name: a null head_dim or num_key_value_heads (transformers fails on them), a partial_rotary_factor that
     * the top level and rope_parameters give differently (4.x and 5.x read different ones), a hidden_act other than silu.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        boolean four = cfg.modelType().equals(GLM4);
        for (String key : List.of("head_dim", "num_key_value_heads")) {
            if (cfg.present(key) && !cfg.has(key)) throw cfg.error(key + " is null (transformers' GlmAttention fails on it)");
        }
        int c = cfg.size("hidden_size", 4096), nh = cfg.size("num_attention_heads", 32), nkv = cfg.size("num_key_value_heads", 2);
        int hd = cfg.size("head_dim", 128), layers = cfg.size("num_hidden_layers", 40);
        if (nkv < 1 || nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) throw cfg.error("hidden_act '" + act + "' is not supported (silu is)");
        int mpe = cfg.size("max_position_embeddings", 131072);
        TransformerConfig.Rope rope = HfDecoders.ropeOf(cfg, ropeSettings(cfg), theta(cfg), (int) (hd * partialRotary(cfg)), mpe);
        if (rope.rotaryDim() < 2 || rope.rotaryDim() % 2 != 0) {
            throw cfg.error("partial_rotary_factor gives " + rope.rotaryDim() + " rotary dims of head_dim " + hd + " (an even number ≥ 2 is needed)");
        }
        boolean bias = cfg.bool("attention_bias", true);
        int v = cfg.size("vocab_size", 151552);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 13696))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1.5625e-7))
                .activation(TransformerConfig.Activation.SILU, true).rope(rope).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(bias, false, false))
                .sandwichNorms(four)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, 151329, -1, 151329)).build();
    }

    /** rope_parameters (5.x) or rope_scaling (4.x); null for the default kind. */
    private static HfConfig ropeSettings(HfConfig cfg) throws CheckpointException {
        return cfg.has("rope_parameters") ? cfg.object("rope_parameters") : cfg.object("rope_scaling");
    }

    /** rope_theta: inside rope_parameters (5.x) or at the top level (4.x); 10000 in both when absent. */
    private static double theta(HfConfig cfg) throws CheckpointException {
        return cfg.has("rope_parameters") ? cfg.object("rope_parameters").number("rope_theta", 10000) : cfg.number("rope_theta", 10000);
    }

    /**
     * The rotary fraction: the top-level partial_rotary_factor or rope_parameters' (5.x puts the config's into it), 0.5 when
     * neither says (GlmConfig sets it); both given and different is refused (4.x reads the top level, 5.x rope_parameters).
     */
    static double partialRotary(HfConfig cfg) throws CheckpointException {
        HfConfig p = cfg.has("rope_parameters") ? cfg.object("rope_parameters") : null;
        boolean top = cfg.has("partial_rotary_factor"), inner = p != null && p.has("partial_rotary_factor");
        double f = top ? cfg.number("partial_rotary_factor", 0.5) : inner ? p.number("partial_rotary_factor", 0.5) : 0.5;
        if (top && inner && p.number("partial_rotary_factor", 0.5) != f) {
            throw cfg.error("partial_rotary_factor " + f + " and rope_parameters.partial_rotary_factor " + p.number("partial_rotary_factor", 0.5)
                    + " differ (transformers 4.x and 5.x read different ones)");
        }
        if (!(f > 0 && f <= 1)) throw cfg.error("partial_rotary_factor must be in (0, 1], got " + f);
        return f;
    }

    /** GlmForCausalLM's / Glm4ForCausalLM's names and shapes (a stored lm_head.weight, the tied copy, is optional). */
    static HfLayout layout(TransformerConfig c, String type) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize();
        req.put("model.embed_tokens.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
            req.put(l + "input_layernorm.weight", new long[] {cw});
            req.put(l + "post_attention_layernorm.weight", new long[] {cw});
            if (c.sandwichNorms()) {
                req.put(l + "post_self_attn_layernorm.weight", new long[] {cw});
                req.put(l + "post_mlp_layernorm.weight", new long[] {cw});
            }
            HfNeox.linear(req, a + "q_proj", q, cw, c.qkvBias());
            HfNeox.linear(req, a + "k_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "v_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "o_proj", cw, q, false);
            HfNeox.linear(req, m + "gate_up_proj", 2 * f, cw, false);
            HfNeox.linear(req, m + "down_proj", cw, f, false);
        }
        req.put("model.norm.weight", new long[] {cw});
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(type, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. q_proj and k_proj (and their biases) are offered
     * with each head's first rotary rows reordered [0, 2, … ; 1, 3, …] (HfNeox.rotaryOrder, as for GPT-J), the rest as
     * stored, so that rotate_half over the rotary dims turns GLM's pairs; the same order on q and k leaves every q·k.
     * gate_up_proj is taken whole as [gate | up] = this library's [up ; gate] (the activated branch first), with row views
     * for -Dt4j.fuse=false. Merging a LoRA adapter (a weight merged as it loads is made one at a time and may not be
     * gathered from or viewed) and quantized folders are refused by name; {@link LoraSlots} serves adapters per request,
     * lora_B's q / k rows reordered and gate_up_proj's split as here.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        String type = cfg.modelType();
        if (cfg.has("quantization_config")) throw cfg.error("quantized " + type + " folders are not supported (quantization_config)");
        if (lora != null) {
            // a weight merged as it loads is made one at a time (LazyTensors): q / k gathered from it, or gate_up_proj's row
            // views of it, would outlive it (the same reason Cohere's and Phi-3's merges are refused)
            throw cfg.error("LoRA adapters are not supported for " + type + " yet (its q / k rows are reordered and gate_up_proj is"
                    + " split as they load, which a merged weight cannot be); serve the adapter per request instead (--lora-modules)");
        }
        int rotary = c.rope().rotaryDim();
        long f = c.mlpWidth();
        return DecoderFolders.load(type, c, layout(c, type), dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            put.accept("embeddings.tokens", "model.embed_tokens.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
                DecoderFolders.norm(put, o + "attn_norm", l + "input_layernorm", false);
                DecoderFolders.norm(put, o + "mlp_norm", l + "post_attention_layernorm", false);
                if (c.sandwichNorms()) {                                       // GLM-4: each sublayer's output normed
                    DecoderFolders.norm(put, o + "post_attn_norm", l + "post_self_attn_layernorm", false);
                    DecoderFolders.norm(put, o + "post_mlp_norm", l + "post_mlp_layernorm", false);
                }
                DecoderFolders.pairwiseQk(hf, put, c, o, a, rotary, c.qkvBias());   // pairwise rotary → rotate_half's halves
                DecoderFolders.linear(put, o + "self.v", a + "v_proj", c.qkvBias());
                put.accept(o + "self.o", a + "o_proj.weight");
                String gu = m + "gate_up_proj.weight";
                put.accept(o + "mlp.up_gate", gu);                             // [gate | up] = our [up ; gate]
                Tensor w = hf.get(gu);
                if (w != null) {
                    hf.put(gu + "[gate]", w.slice(0, 0, f));
                    hf.put(gu + "[up]", w.slice(0, f, 2 * f));
                }
                put.accept(o + "mlp.up", gu + "[gate]");                       // ours: act(up) · gate
                put.accept(o + "mlp.gate", gu + "[up]");
                put.accept(o + "mlp.down", m + "down_proj.weight");
            }
            DecoderFolders.norm(put, "decoder.final_norm", "model.norm", false);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
