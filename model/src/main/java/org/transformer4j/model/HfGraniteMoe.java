// HfGraniteMoe — IBM Granite mixture-of-experts folders (model_type granitemoe, GraniteMoeForCausalLM: ibm-granite/
// granite-3.0-1b-a400m-*, granite-3.0-3b-a800m-*, granite-3.1-1b-a400m-*, granite-3.1-3b-a800m-*; model_type
// granitemoeshared, GraniteMoeSharedForCausalLM: the same with a shared MLP): dense Granite's four multipliers around
// Llama's attention, and JetMoE's parallel experts (one (E, 2F, C) input tensor, one (E, C, F) output tensor per layer)
// behind a top-k-of-the-logits router.
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

final class HfGraniteMoe {

    private HfGraniteMoe() {}

    static final String TYPE = "granitemoe", SHARED = "granitemoeshared";

    /**
     * GraniteMoeConfig's fields and defaults (configuration_granitemoe.py; GraniteMoeSharedConfig the same plus
     * shared_intermediate_size 0): vocab 32000, hidden 4096, intermediate 11008 (each expert's width), 32 layers, 32 heads,
     * num_key_value_heads = heads when absent, hidden_act silu, max positions 2048, rms_norm_eps 1e-6, bos 1, eos 2, no pad,
     * untied, rope_theta 10000 with rope_scaling (or 5.x's rope_parameters), attention_bias false (on q, k, v and o),
     * embedding_multiplier, logits_scaling, residual_multiplier and attention_multiplier 1, num_local_experts 8,
     * num_experts_per_tok 2. As modeling_granitemoe.py computes: embeddings × embedding_multiplier, attention scaling
     * attention_multiplier over head_dim = hidden / heads, each sublayer's output (the experts' sum, plus the shared MLP's
     * output in granitemoeshared) × residual_multiplier before its residual add, logits ÷ logits_scaling.
     * GraniteMoeTopKGating takes the top k of the router's logits and softmaxes those k: the same experts (softmax is
     * monotone) and the same weights (p_i / Σ_k p_j = e^{l_i} / Σ_k e^{l_j}) as this library's router, which softmaxes all E
     * and renormalizes the top k. Refused by name: a hidden_act other than silu, a head_dim other than hidden / heads
     * (4.x's GraniteMoeAttention ignores the key, 5.x's LlamaAttention reads it), hidden not divisible by heads, attention
     * biases with residual_multiplier ≠ 1 (the output projection's bias would need the multiplier too).
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        String type = cfg.modelType();
        int c = cfg.size("hidden_size", 4096), nh = cfg.size("num_attention_heads", 32), nkv = cfg.size("num_key_value_heads", nh);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        int hd = c / nh;
        if (cfg.has("head_dim") && cfg.size("head_dim") != hd) {
            throw cfg.error("head_dim " + cfg.size("head_dim") + " differs from hidden_size / num_attention_heads = " + hd
                    + " (transformers 4.x's GraniteMoeAttention ignores head_dim, 5.x's reads it)");
        }
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) throw cfg.error("hidden_act '" + act + "' is not supported for " + type + " (silu is)");
        boolean ab = cfg.bool("attention_bias", false);
        double residual = cfg.number("residual_multiplier", 1);
        if (ab && residual != 1) {
            throw cfg.error("attention_bias with residual_multiplier " + residual + " is not supported (o_proj's bias would be"
                    + " scaled by the multiplier too; the published Granite MoE folders have no attention biases)");
        }
        int shared = 0;
        if (type.equals(SHARED) && cfg.has("shared_intermediate_size")) {
            double s = cfg.number("shared_intermediate_size", 0);
            if (s != 0) shared = cfg.size("shared_intermediate_size");        // 0: GraniteMoeSharedDecoderLayer has no shared_mlp
        }
        int mpe = cfg.size("max_position_embeddings", 2048), v = cfg.size("vocab_size", 32000), f = cfg.size("intermediate_size", 11008);
        TransformerConfig.Moe moe = new TransformerConfig.Moe(cfg.size("num_local_experts", 8), cfg.size("num_experts_per_tok", 2),
                true, f, shared, false, List.of());
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(f)
                .heads(nh, nkv, hd).decoderLayers(cfg.size("num_hidden_layers", 32))
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-6))
                .activation(TransformerConfig.Activation.SILU, true).rope(HfDecoders.rope(cfg, "granite", hd, mpe)).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(ab, ab, false))   // biases(false): RMSNorms
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), (float) (1 / cfg.number("logits_scaling", 1)))
                .embeddingScale((float) cfg.number("embedding_multiplier", 1))
                .residualScale((float) residual)
                .attentionScale((float) cfg.number("attention_multiplier", 1))
                .moe(moe)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 1, 2)).build();
    }

    /**
     * GraniteMoe(Shared)ForCausalLM's names and shapes, in transformers 4.x and 5.x alike: per layer
     * block_sparse_moe.router.layer.weight (E, C), block_sparse_moe.input_linear.weight (E, 2F, C) and
     * block_sparse_moe.output_linear.weight (E, C, F), and with a shared MLP shared_mlp.input_linear.weight (2S, C) and
     * shared_mlp.output_linear.weight (C, S); lm_head.weight optional when tied.
     */
    static HfLayout layout(TransformerConfig c, String type) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize();
        TransformerConfig.Moe moe = c.moe();
        long e = moe.experts(), f = moe.expertWidth(), s = moe.sharedWidth();
        req.put("model.embed_tokens.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "block_sparse_moe.";
            req.put(l + "input_layernorm.weight", new long[] {cw});
            req.put(l + "post_attention_layernorm.weight", new long[] {cw});
            HfNeox.linear(req, a + "q_proj", q, cw, c.qkvBias());
            HfNeox.linear(req, a + "k_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "v_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "o_proj", cw, q, c.outBias());
            req.put(m + "router.layer.weight", new long[] {e, cw});
            req.put(m + "input_linear.weight", new long[] {e, 2 * f, cw});
            req.put(m + "output_linear.weight", new long[] {e, cw, f});
            if (s > 0) {
                req.put(l + "shared_mlp.input_linear.weight", new long[] {2 * s, cw});
                req.put(l + "shared_mlp.output_linear.weight", new long[] {cw, s});
            }
        }
        req.put("model.norm.weight", new long[] {cw});
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(type, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. Each expert's input_linear rows are [the
     * activated half ; the multiplied half] (GraniteMoeMoE: chunk(2, dim=-1), activation(chunk 0) × chunk 1), which is this
     * library's [up ; gate]: the (E, 2F, C) tensor is taken as the stacked (E·2F, C) experts and output_linear (E, C, F) as
     * (E·C, F), both views. The shared MLP's input_linear is the fused [up ; gate] whole, or its row halves.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        String type = cfg.modelType();
        if (cfg.has("quantization_config")) throw cfg.error("quantized " + type + " folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for " + type + " yet");
        long e = c.moe().experts(), f = c.moe().expertWidth(), s = c.moe().sharedWidth(), cw = c.modelWidth();
        return DecoderFolders.load(type, c, layout(c, type), dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            put.accept("embeddings.tokens", "model.embed_tokens.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "block_sparse_moe.";
                put.accept(o + "attn_norm.weight", l + "input_layernorm.weight");
                put.accept(o + "mlp_norm.weight", l + "post_attention_layernorm.weight");
                for (String x : List.of("q", "k", "v")) DecoderFolders.linear(put, o + "self." + x, a + x + "_proj", c.qkvBias());
                DecoderFolders.linear(put, o + "self.o", a + "o_proj", c.outBias());
                put.accept(o + "moe.router", m + "router.layer.weight");
                HfDecoders.flatten(hf, m + "input_linear.weight", e * 2 * f, cw);
                HfDecoders.flatten(hf, m + "output_linear.weight", e * cw, f);
                put.accept(o + "moe.up_gate", m + "input_linear.weight");
                put.accept(o + "moe.down", m + "output_linear.weight");
                if (s > 0) {
                    String sh = l + "shared_mlp.input_linear.weight";
                    HfDecoders.split(hf, sh, new String[] {"act", "mul"}, new long[] {0, s, 2 * s});
                    put.accept(o + "moe.shared.up_gate", sh);                       // [activated ; multiplied] = our [up ; gate]
                    put.accept(o + "moe.shared.up", sh + "[act]");
                    put.accept(o + "moe.shared.gate", sh + "[mul]");
                    put.accept(o + "moe.shared.down", l + "shared_mlp.output_linear.weight");
                }
            }
            put.accept("decoder.final_norm.weight", "model.norm.weight");
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
