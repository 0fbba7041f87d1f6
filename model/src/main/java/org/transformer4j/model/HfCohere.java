// HfCohere — Cohere's decoder folders: model_type cohere (Command R, Aya 23, Aya Expanse) and cohere2 (Command R7B):
// one bias-free LayerNorm feeding attention and MLP in parallel, GPT-J's pairwise rotary, logits × logit_scale; Cohere 2's
// sliding layers with rotary beside full layers without (NoPE).
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class HfCohere {

    private HfCohere() {}

    static final String COHERE = "cohere";
    static final String COHERE2 = "cohere2";

    /**
     * Cohere 2's layer types: layer_types when given (4.53+ and 5.x write it), else sliding_window_pattern (default 4):
     * layer i slides when (i + 1) % pattern ≠ 0, so every pattern-th layer is full.
     */
    static List<Boolean> sliding(HfConfig cfg, int layers) throws CheckpointException {
        List<Boolean> out = new ArrayList<>();
        List<String> types = cfg.strings("layer_types");
        if (types != null) {
            if (types.size() != layers) throw cfg.error("layer_types lists " + types.size() + " layers for num_hidden_layers " + layers);
            for (String t : types) {
                if (!t.equals("sliding_attention") && !t.equals("full_attention")) {
                    throw cfg.error("layer_types: '" + t + "' is not sliding_attention or full_attention");
                }
                out.add(t.equals("sliding_attention"));
            }
            return out;
        }
        int pattern = cfg.size("sliding_window_pattern", 4);
        if (pattern < 1) throw cfg.error("sliding_window_pattern must be ≥ 1, got " + pattern);
        for (int i = 0; i < layers; i++) out.add((i + 1) % pattern != 0);
        return out;
    }

    /**
     * CohereConfig's and Cohere2Config's defaults: hidden_size 8192 (cohere2: 4096), intermediate 22528 (14336), 40 layers (32),
     * 64 heads (32), num_key_value_heads = the heads, hidden_act silu, layer_norm_eps 1e-5, logit_scale 0.0625, bos 5,
     * eos 255001, pad 0, tied output, max positions 8192; head_dim config.json's (cohere; cohere2 always hidden / heads).
     * The norm is CohereLayerNorm (mean-centred, weight only), one per layer feeding both sublayers; the MLP gated SiLU
     * without biases; attention_bias puts biases on q, k, v and o. The rotary is GPT-J's pairs (2i, 2i + 1) (rotate_half on
     * interleaved halves, cos / sin repeat_interleave'd), over the whole head; the loader permutes q_proj / k_proj rows so
     * that rotate_half's halves rotate the same pairs. rope_theta must be given: its default is 10000 in transformers 4.x
     * and 500000 in 5.x. Cohere 2: sliding layers see sliding_window keys with rotary, full layers see every key without
     * (NoPE). Refused by name: use_qk_norm (Command R+'s per-head LayerNorms), partial rotary, dynamic and LongRoPE scaling.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        boolean two = cfg.modelType().equals(COHERE2);
        int c = cfg.size("hidden_size", two ? 4096 : 8192), nh = cfg.size("num_attention_heads", two ? 32 : 64);
        int nkv = cfg.size("num_key_value_heads", nh), layers = cfg.size("num_hidden_layers", two ? 32 : 40);
        if (c % nh != 0 && (two || !cfg.has("head_dim"))) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        int hd = two || !cfg.has("head_dim") ? c / nh : cfg.size("head_dim");
        if (nkv < 1 || nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        if (cfg.bool("use_qk_norm", false)) throw cfg.error("use_qk_norm (Command R+'s per-head LayerNorms on q and k) is not supported");
        if (cfg.number("partial_rotary_factor", 1) != 1) throw cfg.error("partial_rotary_factor ≠ 1 is not supported (transformers' Cohere fails on it too)");
        if (!cfg.has("rope_theta") && !(cfg.has("rope_parameters") && cfg.object("rope_parameters").has("rope_theta"))) {
            throw cfg.error("rope_theta is missing: its default is 10000 in transformers 4.x and 500000 in 5.x, so the folder must say");
        }
        int mpe = cfg.size("max_position_embeddings", 8192);
        TransformerConfig.Rope rope = HfDecoders.rope(cfg, two ? COHERE2 : COHERE, hd, mpe);
        if (rope.scaling() == TransformerConfig.Rope.Scaling.DYNAMIC || rope.scaling() == TransformerConfig.Rope.Scaling.LONGROPE) {
            throw cfg.error("rope scaling " + rope.scaling() + " is not supported for " + cfg.modelType());
        }
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu")) throw cfg.error("hidden_act '" + act + "' is not supported (silu is)");
        boolean ab = cfg.bool("attention_bias", false);
        int v = cfg.size("vocab_size", 256000);
        TransformerConfig.Builder b = TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", two ? 14336 : 22528))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.SILU, true).rope(rope).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(ab, ab, false))
                .parallel(TransformerConfig.ParallelBlock.SHARED_NORM)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), (float) cfg.number("logit_scale", 0.0625))
                .specialIds(HfNeox.specialIds(cfg, v, 0, 5, 255001));
        if (two) {
            List<Boolean> slides = sliding(cfg, layers);
            int window = cfg.size("sliding_window", 4096);
            List<Integer> windows = new ArrayList<>(), nope = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                windows.add(slides.get(i) ? window : 0);
                if (!slides.get(i)) nope.add(i);
            }
            b.windows(windows).nopeLayers(nope);
        }
        return b.build();
    }

    /** CohereForCausalLM's names and shapes (a stored lm_head.weight, the tied copy, is optional). */
    static HfLayout layout(TransformerConfig c, String type) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize();
        req.put("model.embed_tokens.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
            req.put(l + "input_layernorm.weight", new long[] {cw});
            HfNeox.linear(req, a + "q_proj", q, cw, c.qkvBias());
            HfNeox.linear(req, a + "k_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "v_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "o_proj", cw, q, c.outBias());
            HfNeox.linear(req, m + "gate_proj", f, cw, false);
            HfNeox.linear(req, m + "up_proj", f, cw, false);
            HfNeox.linear(req, m + "down_proj", cw, f, false);
        }
        req.put("model.norm.weight", new long[] {cw});
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(type, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. q_proj and k_proj (and their biases) are offered
     * with each head's rows reordered [0, 2, … ; 1, 3, …], so that rotate_half rotates Cohere's pairs (HfNeox.rotaryRows, as
     * for GPT-J); on Cohere 2's NoPE layers the same order on q and k leaves every q·k as it was.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        String type = cfg.modelType();
        if (cfg.has("quantization_config")) throw cfg.error("quantized " + type + " folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for " + type + " yet (its q / k rows are reordered as they load)");
        return DecoderFolders.load(type, c, layout(c, type), dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            put.accept("embeddings.tokens", "model.embed_tokens.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
                DecoderFolders.norm(put, o + "attn_norm", l + "input_layernorm", false);
                DecoderFolders.pairwiseQk(hf, put, c, o, a, c.headSize(), c.qkvBias());   // pairwise rotary → rotate_half's halves
                DecoderFolders.linear(put, o + "self.v", a + "v_proj", c.qkvBias());
                DecoderFolders.linear(put, o + "self.o", a + "o_proj", c.outBias());
                put.accept(o + "mlp.up", m + "gate_proj.weight");              // ours: act(up) · gate
                put.accept(o + "mlp.gate", m + "up_proj.weight");
                put.accept(o + "mlp.down", m + "down_proj.weight");
            }
            DecoderFolders.norm(put, "decoder.final_norm", "model.norm", false);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
