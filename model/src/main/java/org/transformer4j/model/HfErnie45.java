// HfErnie45 — ERNIE 4.5 dense decoder folders: model_type ernie4_5 (Ernie4_5ForCausalLM: baidu/ERNIE-4.5-0.3B-PT,
// ERNIE-4.5-0.3B-Base-PT): Llama's pre-RMSNorm layers, every projection biased by use_bias, GLM's pairwise rotary over the
// whole head (done by rotate_half on q_proj / k_proj rows reordered at load, as for GLM and GPT-J).
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

final class HfErnie45 {

    private HfErnie45() {}

    static final String TYPE = "ernie4_5";
    /** The mixture-of-experts sibling, refused by name (its experts, shared experts and gate are not composed here). */
    static final String MOE = "ernie4_5_moe";

    /**
     * Ernie4_5Config's defaults: vocab 103424, hidden 1024, intermediate 3072, 18 layers, 16 heads over num_key_value_heads
     * 2 (null: as many as the heads), head_dim 128 (absent: 128; null: hidden_size / heads), silu, rms_norm_eps 1e-5, tied
     * embeddings, max positions 131072, use_bias false (true: q, k, v, o_proj and gate, up, down_proj all biased; lm_head
     * never), pad 0, bos 1, eos 2, rope_theta 500000 (4.x top level or 5.x rope_parameters). The rotary turns the pairs
     * (2i, 2i + 1) of the whole head (apply_rotary_pos_emb's cos[..., :D/2].repeat_interleave(2) with GLM's interleaved
     * rotate_half). Refused by name: a partial_rotary_factor other than 1 (Ernie's apply_rotary_pos_emb multiplies the
     * whole head by cos, which transformers cannot do over fewer dims), a hidden_act other than silu.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        if (cfg.modelType().equals(MOE)) throw cfg.error("model_type ernie4_5_moe (ERNIE 4.5's mixture of experts) is not supported; ernie4_5 (dense) is");
        int c = cfg.size("hidden_size", 1024), nh = cfg.size("num_attention_heads", 16);
        int nkv = cfg.present("num_key_value_heads") && !cfg.has("num_key_value_heads") ? nh : cfg.size("num_key_value_heads", 2);
        int hd = cfg.present("head_dim") && !cfg.has("head_dim") ? c / nh : cfg.size("head_dim", 128);
        if (nkv < 1 || nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        if (hd % 2 != 0) throw cfg.error("head_dim " + hd + " is odd (the rotary turns pairs of dims)");
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) throw cfg.error("hidden_act '" + act + "' is not supported (silu is)");
        HfConfig p = cfg.has("rope_parameters") ? cfg.object("rope_parameters") : null;
        for (HfConfig where : p == null ? List.of(cfg) : List.of(cfg, p)) {
            if (where.has("partial_rotary_factor") && where.number("partial_rotary_factor", 1) != 1) {
                throw cfg.error("partial_rotary_factor " + where.number("partial_rotary_factor", 1)
                        + " is not supported (Ernie4_5's rotary covers the whole head)");
            }
        }
        int mpe = cfg.size("max_position_embeddings", 131072);
        double theta = p != null ? p.number("rope_theta", 500000) : cfg.number("rope_theta", 500000);
        TransformerConfig.Rope rope = HfDecoders.ropeOf(cfg, p != null ? p : cfg.object("rope_scaling"), theta, hd, mpe);
        boolean b = cfg.bool("use_bias", false);
        int v = cfg.size("vocab_size", 103424);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 3072))
                .heads(nh, nkv, hd).decoderLayers(cfg.size("num_hidden_layers", 18))
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.SILU, true).rope(rope).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(b, b, b))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, 0, 1, 2)).build();
    }

    /** Ernie4_5ForCausalLM's names and shapes (a stored lm_head.weight, the tied copy, is optional when tied). */
    static HfLayout layout(TransformerConfig c) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize();
        boolean b = c.qkvBias();
        req.put("model.embed_tokens.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
            req.put(l + "input_layernorm.weight", new long[] {cw});
            req.put(l + "post_attention_layernorm.weight", new long[] {cw});
            HfNeox.linear(req, a + "q_proj", q, cw, b);
            HfNeox.linear(req, a + "k_proj", kv, cw, b);
            HfNeox.linear(req, a + "v_proj", kv, cw, b);
            HfNeox.linear(req, a + "o_proj", cw, q, b);
            HfNeox.linear(req, m + "gate_proj", f, cw, b);
            HfNeox.linear(req, m + "up_proj", f, cw, b);
            HfNeox.linear(req, m + "down_proj", cw, f, b);
        }
        req.put("model.norm.weight", new long[] {cw});
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(TYPE, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. q_proj and k_proj (and their biases) are offered
     * with each head's rows reordered [0, 2, … ; 1, 3, …] (HfNeox.rotaryOrder over the whole head), so that rotate_half turns
     * ERNIE's pairs; the same order on q and k leaves every q·k. Merging a LoRA adapter at load and quantized folders are
     * refused by name (a merged weight is made one at a time and may not be gathered from); {@link LoraSlots} serves
     * adapters per request, lora_B's q / k rows reordered as here.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized " + TYPE + " folders are not supported (quantization_config)");
        if (lora != null) {
            throw cfg.error("LoRA adapters are not supported for " + TYPE + " yet (its q / k rows are reordered as they load, which a"
                    + " merged weight cannot be); serve the adapter per request instead (--lora-modules)");
        }
        boolean b = c.qkvBias();
        return DecoderFolders.load(TYPE, c, layout(c), dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            put.accept("embeddings.tokens", "model.embed_tokens.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
                DecoderFolders.norm(put, o + "attn_norm", l + "input_layernorm", false);
                DecoderFolders.norm(put, o + "mlp_norm", l + "post_attention_layernorm", false);
                DecoderFolders.pairwiseQk(hf, put, c, o, a, c.headSize(), b);   // pairwise rotary → rotate_half's halves
                DecoderFolders.linear(put, o + "self.v", a + "v_proj", b);
                DecoderFolders.linear(put, o + "self.o", a + "o_proj", b);
                DecoderFolders.linear(put, o + "mlp.up", m + "gate_proj", b);   // ours: act(up) · gate
                DecoderFolders.linear(put, o + "mlp.gate", m + "up_proj", b);
                DecoderFolders.linear(put, o + "mlp.down", m + "down_proj", b);
            }
            DecoderFolders.norm(put, "decoder.final_norm", "model.norm", false);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
