// HfExaone4 — EXAONE 4.0 (model_type exaone4, Exaone4ForCausalLM: LGAI-EXAONE/EXAONE-4.0-1.2B, EXAONE-4.0-32B) as
// transformers 5.x's models/exaone4 computes it, composed from existing TransformerConfig options: OLMo 2's layers
// (no input norms, each sublayer's output normed before its residual add), Qwen3's per-head q_norm / k_norm, and
// Cohere 2's hybrid attention (sliding layers rotate, full "global" layers take no position embedding). The tensors
// are Llama's names and load through HfDecoders' layout and weights.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.List;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;

final class HfExaone4 {

    private HfExaone4() {}

    static final String TYPE = "exaone4";

    /**
     * Exaone4Config → TransformerConfig. Exaone4Config's defaults where config.json is silent: vocab 102400, hidden 4096,
     * intermediate 16384, 32 layers, 32 heads and 32 key/value heads (not the number of heads), silu, 2048 positions,
     * rms_norm_eps 1e-5, bos 0, eos 2, no pad, untied, sliding_window 4096, sliding_window_pattern 4, rope_theta 10000
     * (rope_theta + rope_scaling, or 5.x rope_parameters). head_dim: Exaone4Attention's getattr(config, "head_dim",
     * hidden // heads): the key when present (null refused: transformers fails on it), else hidden // heads.
     * <p>
     * Layer types: layer_types when present; else Exaone4Config.__post_init__'s: layer i sliding unless (i + 1) %
     * sliding_window_pattern == 0, which only an int pattern &gt; 0 can compute — a string pattern ("LLLG", as the config's
     * docstring describes), a null one, and a null sliding_window (pattern set to 0) all fail in transformers without
     * layer_types, and are refused by name here. RoPE (Exaone4Attention.forward): on every layer when sliding_window is
     * null (EXAONE-4.0-1.2B: all layers full, all rotating), else only on the sliding layers (the full ones are NoPE —
     * with a sliding_window set, a layer_types of only full layers rotates none).
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 4096), nh = cfg.size("num_attention_heads", 32), nkv = cfg.size("num_key_value_heads", 32);
        int layers = cfg.size("num_hidden_layers", 32), v = cfg.size("vocab_size", 102400), mpe = cfg.size("max_position_embeddings", 2048);
        int hd;
        if (cfg.present("head_dim")) {
            if (!cfg.has("head_dim")) throw cfg.error("head_dim is null (Exaone4Attention's getattr gives None and fails on it)");
            hd = cfg.size("head_dim");
        } else {
            hd = c / nh;                                                  // hidden_size // num_attention_heads
            if (hd < 1) throw cfg.error("hidden_size " + c + " // num_attention_heads " + nh + " is 0");
        }
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu")) throw cfg.error("hidden_act '" + act + "' is not supported for exaone4 (silu is)");
        HfConfig rp = cfg.object("rope_parameters");
        if (cfg.number("partial_rotary_factor", 1) != 1 || (rp != null && rp.number("partial_rotary_factor", 1) != 1)) {
            // Exaone4RotaryEmbedding's default kind rotates whole heads whatever it says; the scaled kinds read it
            throw cfg.error("partial_rotary_factor ≠ 1 is not supported for exaone4 (transformers' default rope ignores it)");
        }
        TransformerConfig.Rope rope = HfDecoders.rope(cfg, TYPE, hd, mpe);
        Integer window = !cfg.present("sliding_window") ? Integer.valueOf(4096) : cfg.has("sliding_window") ? cfg.size("sliding_window") : null;
        List<Boolean> slides = sliding(cfg, layers, window);
        List<Integer> windows = new ArrayList<>(), nope = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            windows.add(slides.get(i) ? window : 0);
            if (window != null && !slides.get(i)) nope.add(i);         // global NoPE only when sliding windows are in use
        }
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 16384))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.SILU, true).rope(rope).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(false, false, false))
                .qkNorm(true).qkNormWide(false).inputNorms(false).sandwichNorms(true)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .windows(windows.stream().allMatch(w -> w == 0) ? List.of() : windows)
                .nopeLayers(nope)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 0, 2)).build();
    }

    /** Whether each layer slides: layer_types, else Exaone4Config's (i + 1) % sliding_window_pattern rule. */
    static List<Boolean> sliding(HfConfig cfg, int layers, Integer window) throws CheckpointException {
        List<String> kinds = cfg.strings("layer_types");
        List<Boolean> out = new ArrayList<>();
        if (kinds != null) {
            if (kinds.size() != layers) throw cfg.error("layer_types has " + kinds.size() + " entries for " + layers + " layers");
            for (String k : kinds) {
                switch (k) {
                    case "full_attention" -> out.add(false);
                    case "sliding_attention" -> {
                        if (window == null) throw cfg.error("layer_types names a sliding layer but sliding_window is null");
                        out.add(true);
                    }
                    default -> throw cfg.error("layer_types entry '" + k + "' is not full_attention or sliding_attention");
                }
            }
            return out;
        }
        if (window == null) {
            throw cfg.error("sliding_window is null and layer_types is absent: Exaone4Config's (i + 1) % 0 fails (give layer_types)");
        }
        if (cfg.present("sliding_window_pattern") && !cfg.has("sliding_window_pattern")) {
            throw cfg.error("sliding_window_pattern is null and layer_types is absent: Exaone4Config cannot compute the layer types");
        }
        if (cfg.has("sliding_window_pattern") && !cfg.node("sliding_window_pattern").isIntegralNumber()) {
            throw cfg.error("sliding_window_pattern " + cfg.node("sliding_window_pattern") + " without layer_types is not supported:"
                    + " Exaone4Config computes (i + 1) % pattern, which fails on a string (give layer_types)");
        }
        int pattern = cfg.size("sliding_window_pattern", 4);
        for (int i = 0; i < layers; i++) out.add((i + 1) % pattern != 0);
        return out;
    }
}
