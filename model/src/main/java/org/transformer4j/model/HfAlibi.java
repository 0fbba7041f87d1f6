// HfAlibi — the ALiBi decoder folders: BigScience's BLOOM (model_type bloom: bloom-560m … bloom-176b, bloomz, their
// fine-tunes) and MosaicML's MPT (model_type mpt: mpt-7b / 30b and their chat / instruct models), with the slope formulas
// transformers uses for them (Falcon-RW, model_type falcon with alibi, is HfFalcon's).
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

final class HfAlibi {

    private HfAlibi() {}

    static final String BLOOM = "bloom";
    static final String MPT = "mpt";

    /**
     * BLOOM's slopes (transformers' build_alibi_tensor, also Falcon-RW's): with n the largest power of two ≤ heads, head
     * i &lt; n gets b^(i + 1) for b = 2^(−8/n), the other heads b'^(2k + 1) for k = 0, 1, … with b' = 2^(−4/n) (the odd
     * powers of the next power of two's base). In float32 as torch computes them (a float32 base to an integer power).
     */
    static float[] bloomSlopes(int heads) {
        int n = Integer.highestOneBit(heads);
        float base = (float) Math.pow(2, -8.0 / n), extra = (float) Math.pow(2, -4.0 / n);
        float[] s = new float[heads];
        for (int i = 0; i < heads; i++) s[i] = i < n ? (float) Math.pow(base, i + 1) : (float) Math.pow(extra, 2 * (i - n) + 1);
        return s;
    }

    /**
     * MPT's slopes (transformers' build_mpt_alibi_tensor, alibi_bias_max 8): with m the smallest power of two ≥ heads,
     * 1 / 2^((k + 1) · 8 / m) for k &lt; m, then, when heads is not a power of two, the odd-indexed ones followed by the
     * even-indexed ones, the first {@code heads} of them.
     */
    static float[] mptSlopes(int heads, double maxBias) {
        int m = Integer.highestOneBit(heads) == heads ? heads : Integer.highestOneBit(heads) * 2;
        float[] all = new float[m];
        for (int k = 0; k < m; k++) all[k] = (float) (1.0 / Math.pow(2, (float) ((k + 1) * (float) (maxBias / m))));
        if (m == heads) return all;
        float[] s = new float[heads];
        int at = 0;
        for (int k = 1; k < m && at < heads; k += 2) s[at++] = all[k];
        for (int k = 0; k < m && at < heads; k += 2) s[at++] = all[k];
        return s;
    }

    /**
     * BloomConfig's defaults: hidden_size (or n_embed) 64, n_head (num_attention_heads) 8, n_layer (num_hidden_layers) 2,
     * layer_norm_epsilon 1e-5, vocab 250880, bos 1, eos 2, pad none; the MLP is 4 · hidden with bloom_gelu (the tanh
     * approximation), every linear and norm has a bias, the token embeddings are normed (word_embeddings_layernorm), the
     * output is tied. Refused by name: apply_residual_connection_post_layernorm (the residual taken after the norm) and
     * pretraining_tp &gt; 1 with slow_but_exact (transformers then drops the biases of dense and dense_4h_to_h).
     */
    static TransformerConfig bloomConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.firstSize(64, "hidden_size", "n_embed"), nh = cfg.firstSize(8, "n_head", "num_attention_heads");
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by n_head " + nh);
        if (cfg.bool("apply_residual_connection_post_layernorm", false)) {
            throw cfg.error("apply_residual_connection_post_layernorm true (the residual taken after the input norm) is not supported");
        }
        if (cfg.bool("slow_but_exact", false) && cfg.size("pretraining_tp", 1) > 1) {
            throw cfg.error("slow_but_exact with pretraining_tp > 1 (transformers then leaves out the biases of dense and dense_4h_to_h)"
                    + " is not supported");
        }
        int v = cfg.size("vocab_size", 250880);
        return TransformerConfig.builder().vocabSize(v).widths(c, Math.multiplyExact(4, c), nh).decoderLayers(cfg.firstSize(2, "n_layer", "num_hidden_layers"))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_epsilon", 1e-5))
                .activation(TransformerConfig.Activation.GELU_TANH, false).alibi(bloomSlopes(nh)).embedNorm(true)
                .biases(true).tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 1, 2)).build();
    }

    /**
     * MptConfig's defaults: d_model 2048, n_heads 16, n_layers 24, max_seq_len 2048, vocab 50368, layer_norm_epsilon 1e-5;
     * transformers' MPT has no biases (linears built without, norms' biases set to None), a 4 · d_model MLP with exact GELU,
     * ALiBi with alibi_bias_max 8 whatever the config says, tied output, and honours attn_config.softmax_scale (else
     * 1/sqrt(head_dim)) and clip_qkv (MptAttention clamps the fused Wqkv output when clip_qkv is truthy: here the fused
     * projection's epilogue, Activation.CLAMP; 0 and null are no clamp). Refused by name where transformers and MosaicML's
     * own code would differ or this library lacks the op: a negative clip_qkv, alibi false, alibi_bias_max ≠ 8, qk_ln,
     * multi-query or grouped attn_type, logit_scale, expansion_ratio ≠ 4. max_seq_len bounds the context as it does in
     * transformers.
     */
    static TransformerConfig mptConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("d_model", 2048), nh = cfg.size("n_heads", 16);
        if (c % nh != 0) throw cfg.error("d_model " + c + " is not divisible by n_heads " + nh);
        HfConfig attn = cfg.has("attn_config") ? cfg.object("attn_config") : null;
        float clip = 0f;
        if (attn != null) {
            if (attn.has("clip_qkv")) {
                double v = attn.number("clip_qkv", 0);
                if (!(v >= 0) || !Double.isFinite(v) || (float) v == Float.POSITIVE_INFINITY) {
                    throw attn.error("clip_qkv must be null, 0 (no clamp) or a finite number > 0, got " + v);
                }
                clip = (float) v;                                               // 0: `if self.clip_qkv` skips the clamp
            }
            if (!attn.bool("alibi", true)) throw attn.error("alibi false is not supported (transformers' MPT adds ALiBi always)");
            if (attn.number("alibi_bias_max", 8) != 8) {
                throw attn.error("alibi_bias_max " + attn.number("alibi_bias_max", 8) + " is not supported: transformers builds MPT's"
                        + " slopes with 8 whatever the config says, MosaicML's code with the config's value");
            }
            if (attn.bool("qk_ln", false)) throw attn.error("qk_ln (LayerNorms on q and k) is not supported");
            String type = attn.string("attn_type", "multihead_attention");
            if (!type.equals("multihead_attention")) throw attn.error("attn_type '" + type + "' is not supported (multihead_attention is)");
            if (attn.bool("prefix_lm", false)) throw attn.error("prefix_lm is not supported");
        }
        if (cfg.has("logit_scale")) throw cfg.error("logit_scale is not supported");
        if (cfg.number("expansion_ratio", 4) != 4) {
            throw cfg.error("expansion_ratio " + cfg.number("expansion_ratio", 4) + " is not supported (transformers' MPT MLP is 4 · d_model)");
        }
        int hd = c / nh, v = cfg.size("vocab_size", 50368);
        double scale = attn != null && attn.has("softmax_scale") ? attn.number("softmax_scale", 0) : 1 / Math.sqrt(hd);
        if (!(scale > 0) || Double.isInfinite(scale)) throw cfg.error("attn_config.softmax_scale must be finite and > 0, got " + scale);
        return TransformerConfig.builder().vocabSize(v).widths(c, Math.multiplyExact(4, c), nh).decoderLayers(cfg.size("n_layers", 24))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_epsilon", 1e-5))
                .activation(TransformerConfig.Activation.GELU, false).alibi(mptSlopes(nh, 8)).maxPositions(cfg.size("max_seq_len", 2048))
                .attentionScale((float) scale).biases(false).tiedEmbeddings(true, 1f).clipQkv(clip)
                .specialIds(HfNeox.specialIds(cfg, v, -1, -1, -1)).build();
    }

    /** BloomForCausalLM's names and shapes with the {@code transformer.} prefix (the base model's lacks it; no lm_head). */
    static HfLayout bloomLayout(TransformerConfig c) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth();
        req.put("transformer.word_embeddings.weight", new long[] {c.vocabSize(), cw});
        HfNeox.norm(req, "transformer.word_embeddings_layernorm", cw);
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "transformer.h." + i + ".";
            HfNeox.norm(req, l + "input_layernorm", cw);
            HfNeox.linear(req, l + "self_attention.query_key_value", 3 * cw, cw, true);
            HfNeox.linear(req, l + "self_attention.dense", cw, cw, true);
            HfNeox.norm(req, l + "post_attention_layernorm", cw);
            HfNeox.linear(req, l + "mlp.dense_h_to_4h", f, cw, true);
            HfNeox.linear(req, l + "mlp.dense_4h_to_h", cw, f, true);
        }
        HfNeox.norm(req, "transformer.ln_f", cw);
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(BLOOM, req, opt, List.of());
    }

    /** MptForCausalLM's names and shapes (no biases; a stored lm_head.weight, the tied copy, is optional). */
    static HfLayout mptLayout(TransformerConfig c) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth();
        req.put("transformer.wte.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "transformer.blocks." + i + ".";
            req.put(l + "norm_1.weight", new long[] {cw});
            req.put(l + "attn.Wqkv.weight", new long[] {3 * cw, cw});
            req.put(l + "attn.out_proj.weight", new long[] {cw, cw});
            req.put(l + "norm_2.weight", new long[] {cw});
            req.put(l + "ffn.up_proj.weight", new long[] {f, cw});
            req.put(l + "ffn.down_proj.weight", new long[] {cw, f});
        }
        req.put("transformer.norm_f.weight", new long[] {cw});
        opt.put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(MPT, req, opt, List.of());
    }

    /**
     * A BLOOM folder; {@code head} false leaves the output matrix out. Both layouts load: BloomForCausalLM's
     * ({@code transformer.…}) and the base model's (no prefix, no lm_head), as bigscience's own checkpoints are stored.
     * query_key_value stores per head [q_h | k_h | v_h] (BloomAttention._reshape views (…, heads, 3, head_dim)): regrouped
     * one part at a time, in the stored dtype, as GPT-NeoX's.
     */
    static Weights loadBloom(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = bloomConfig(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized bloom folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for bloom yet (its query_key_value is regrouped as it loads)");
        return DecoderFolders.load(BLOOM, c, bloomLayout(c), dir, backend, dtype, head, null, names -> {
            boolean base = !names.contains("transformer.word_embeddings.weight") && names.contains("word_embeddings.weight");
            return DecoderFolders.Stored.renamed(names, name -> base && name.startsWith("transformer.") ? name.substring("transformer.".length()) : name,
                    !head || base || c.tiedEmbeddings(), "lm_head.weight");
        }, (hf, put) -> {
            put.accept("embeddings.tokens", "transformer.word_embeddings.weight");
            DecoderFolders.norm(put, "embeddings.norm", "transformer.word_embeddings_layernorm", true);
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "transformer.h." + i + ".", a = l + "self_attention.";
                DecoderFolders.norm(put, o + "attn_norm", l + "input_layernorm", true);
                DecoderFolders.norm(put, o + "mlp_norm", l + "post_attention_layernorm", true);
                DecoderFolders.regrouped(hf, put, o, a + "query_key_value", part -> HfFalcon.rows(c, false, part));  // per head
                DecoderFolders.linear(put, o + "self.o", a + "dense", true);
                DecoderFolders.linear(put, o + "mlp.up", l + "mlp.dense_h_to_4h", true);
                DecoderFolders.linear(put, o + "mlp.down", l + "mlp.dense_4h_to_h", true);
            }
            DecoderFolders.norm(put, "decoder.final_norm", "transformer.ln_f", true);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }

    /**
     * An MPT folder; {@code head} false leaves the output matrix out. Wqkv stores [q | k | v] (MptAttention splits it in
     * three along its rows): taken whole as the fused projection, or as row views under -Dt4j.fuse=false.
     */
    static Weights loadMpt(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = mptConfig(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized mpt folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for mpt yet (its Wqkv is split as it loads)");
        return DecoderFolders.load(MPT, c, mptLayout(c), dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, true, "lm_head.weight"), (hf, put) -> {    // lm_head: the tied copy
            long cw = c.modelWidth();
            put.accept("embeddings.tokens", "transformer.wte.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "transformer.blocks." + i + ".", qkv = l + "attn.Wqkv";
                DecoderFolders.norm(put, o + "attn_norm", l + "norm_1", false);
                DecoderFolders.norm(put, o + "mlp_norm", l + "norm_2", false);
                DecoderFolders.fusedWhole(hf, put, o, qkv, new long[] {0, cw, 2 * cw, 3 * cw}, false);     // [q | k | v] as stored
                put.accept(o + "self.o", l + "attn.out_proj.weight");
                put.accept(o + "mlp.up", l + "ffn.up_proj.weight");
                put.accept(o + "mlp.down", l + "ffn.down_proj.weight");
            }
            put.accept("decoder.final_norm.weight", "transformer.norm_f.weight");
        });
    }
}
