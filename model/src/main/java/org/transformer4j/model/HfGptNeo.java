// HfGptNeo — EleutherAI's GPT-Neo folders (model_type gpt_neo: gpt-neo-125m, 1.3B, 2.7B and their fine-tunes): GPT-2's
// pre-LN blocks and learned positions with global and local (sliding-window) attention layers and unscaled scores.
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

final class HfGptNeo {

    private HfGptNeo() {}

    static final String TYPE = "gpt_neo";

    /**
     * Each layer's attention type as GPTNeoConfig.expand_attention_types_params spells them out: every [types, n] item of
     * attention_types repeats its types n times, in order ([[["global", "local"], 12]]: global, local, global, …). A 4.x
     * config.json also holds that expansion as attention_layers, which transformers then reads instead: a folder whose two
     * disagree is refused.
     */
    static List<String> attentionTypes(HfConfig cfg, int layers) throws CheckpointException {
        List<String> types = new ArrayList<>();
        if (!cfg.has("attention_types")) {                          // GPTNeoConfig's default [[["global", "local"], 12]]
            for (int i = 0; i < 24; i++) types.add(i % 2 == 0 ? "global" : "local");
        }
        com.fasterxml.jackson.databind.JsonNode items = cfg.has("attention_types") ? cfg.node("attention_types")
                : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        if (!items.isArray()) throw cfg.error("attention_types must be a list of [[types...], count] items, got " + items);
        for (com.fasterxml.jackson.databind.JsonNode item : items) {
            if (!item.isArray() || item.size() != 2 || !item.get(0).isArray() || !item.get(1).canConvertToInt() || item.get(1).asInt() < 0) {
                throw cfg.error("attention_types: each item must be [[types...], count], got " + item);
            }
            for (int r = 0; r < item.get(1).asInt() && types.size() <= layers; r++) {
                for (com.fasterxml.jackson.databind.JsonNode t : item.get(0)) {
                    String s = t.asText();
                    if (!s.equals("global") && !s.equals("local")) throw cfg.error("attention_types: '" + s + "' is not global or local");
                    types.add(s);
                }
            }
        }
        if (types.size() != layers) {
            throw cfg.error("attention_types gives " + types.size() + " layer types for num_layers " + layers
                    + " (GPTNeoConfig refuses the same)");
        }
        // 4.x saved the expansion too, as attention_layers, which wins when the config is read: it must be the same list
        if (cfg.has("attention_layers") && !cfg.strings("attention_layers").equals(types)) {
            throw cfg.error("attention_layers " + cfg.strings("attention_layers") + " is not attention_types' expansion " + types);
        }
        return types;
    }

    /**
     * GPTNeoConfig's defaults: hidden_size 2048, num_heads 16, num_layers 24, attention_types [[["global", "local"], 12]],
     * window_size 256, intermediate_size 4 · hidden_size when null, activation_function gelu_new, layer_norm_epsilon 1e-5,
     * max_position_embeddings 2048, vocab 50257, bos = eos = 50256, tied output. GPTNeoSelfAttention: q, k, v without
     * biases, out_proj with one, scores not scaled by 1/sqrt(head_dim) (attention scale 1); a local layer sees the
     * window_size keys ending at the query (transformers' tril XOR tril(−window_size): key j when i − window_size &lt; j ≤ i).
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 2048), nh = cfg.firstSize(16, "num_heads", "num_attention_heads");
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_heads " + nh);
        int layers = cfg.firstSize(24, "num_layers", "num_hidden_layers"), window = cfg.size("window_size", 256);
        if (window < 1) throw cfg.error("window_size must be ≥ 1, got " + window);
        List<Integer> windows = new ArrayList<>();
        for (String t : attentionTypes(cfg, layers)) windows.add(t.equals("local") ? window : 0);
        TransformerConfig.Activation a = Pretrained.gpt2Activation(cfg);
        int v = cfg.size("vocab_size", 50257), f = cfg.has("intermediate_size") ? cfg.size("intermediate_size") : Math.multiplyExact(4, c);
        return TransformerConfig.builder().vocabSize(v).widths(c, f, nh).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_epsilon", 1e-5))
                .activation(a, false).learnedPositions(cfg.size("max_position_embeddings", 2048)).windows(windows)
                .attentionScale(1f).biases(true).linearBiases(new TransformerConfig.Biases(false, true, true))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 50256, 50256)).build();
    }

    /** GPTNeoForCausalLM's names and shapes (a stored lm_head.weight, the tied copy, is optional). */
    static HfLayout layout(TransformerConfig c) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth();
        req.put("transformer.wte.weight", new long[] {c.vocabSize(), cw});
        req.put("transformer.wpe.weight", new long[] {c.maxPositions(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "transformer.h." + i + ".", a = l + "attn.attention.";
            HfNeox.norm(req, l + "ln_1", cw);
            for (String p : List.of("q_proj", "k_proj", "v_proj")) HfNeox.linear(req, a + p, cw, cw, false);
            HfNeox.linear(req, a + "out_proj", cw, cw, true);
            HfNeox.norm(req, l + "ln_2", cw);
            HfNeox.linear(req, l + "mlp.c_fc", f, cw, true);
            HfNeox.linear(req, l + "mlp.c_proj", cw, f, true);
        }
        HfNeox.norm(req, "transformer.ln_f", cw);
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(TYPE, req, opt, List.of(".attn.attention.bias", ".attn.attention.masked_bias"));
    }

    /** The folder's model; {@code head} false leaves the output matrix out. A LoRA adapter merges into q/k/v/out_proj, c_fc, c_proj. */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized gpt_neo folders are not supported (quantization_config)");
        return DecoderFolders.load(TYPE, c, layout(c), dir, backend, dtype, head, lora,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            put.accept("embeddings.tokens", "transformer.wte.weight");
            put.accept("embeddings.positions", "transformer.wpe.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "transformer.h." + i + ".", a = l + "attn.attention.";
                DecoderFolders.norm(put, o + "attn_norm", l + "ln_1", true);
                for (String x : List.of("q", "k", "v")) DecoderFolders.linear(put, o + "self." + x, a + x + "_proj", false);
                DecoderFolders.linear(put, o + "self.o", a + "out_proj", true);
                DecoderFolders.norm(put, o + "mlp_norm", l + "ln_2", true);
                DecoderFolders.linear(put, o + "mlp.up", l + "mlp.c_fc", true);
                DecoderFolders.linear(put, o + "mlp.down", l + "mlp.c_proj", true);
            }
            DecoderFolders.norm(put, "decoder.final_norm", "transformer.ln_f", true);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
