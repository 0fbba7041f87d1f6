// HfOpt — Meta's OPT folders (model_type opt: facebook/opt-125m … opt-66b and their fine-tunes): a pre-LN decoder with
// learned positions read at position + 2, ReLU MLPs, biases everywhere, and the output tied to the token table.
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

final class HfOpt {

    private HfOpt() {}

    static final String TYPE = "opt";

    /** OPTLearnedPositionalEmbedding's offset: position p reads row p + 2 of embed_positions (rows 0 and 1 unused). */
    static final int OFFSET = 2;

    /**
     * OPTConfig's defaults: hidden_size 768, ffn_dim 3072, 12 heads, max_position_embeddings 2048, activation_function relu,
     * do_layer_norm_before true, enable_bias true, word_embed_proj_dim = hidden_size, bos 2, eos 2, pad 1, tied output.
     * nn.LayerNorm's eps (1e-5) everywhere. Refused by name: opt-350m's post-LN layers and project_in / project_out
     * (word_embed_proj_dim ≠ hidden_size), _remove_final_layer_norm, LayerNorms without weights.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 768), nh = cfg.size("num_attention_heads", 12);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        if (!cfg.bool("do_layer_norm_before", true)) {
            throw cfg.error("do_layer_norm_before false (opt-350m's post-LN layers with project_in / project_out) is not supported;"
                    + " every other OPT size is pre-LN");
        }
        if (cfg.size("word_embed_proj_dim", c) != c) throw cfg.error("word_embed_proj_dim ≠ hidden_size (project_in / project_out) is not supported");
        if (cfg.bool("_remove_final_layer_norm", false)) throw cfg.error("_remove_final_layer_norm is not supported");
        if (!cfg.bool("layer_norm_elementwise_affine", true)) throw cfg.error("layer_norm_elementwise_affine false is not supported");
        String act = cfg.string("activation_function", "relu");
        TransformerConfig.Activation a = switch (act) {
            case "relu" -> TransformerConfig.Activation.RELU;
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh" -> TransformerConfig.Activation.GELU_TANH;
            case "silu", "swish" -> TransformerConfig.Activation.SILU;
            default -> throw cfg.error("activation_function '" + act + "' is not one of relu, gelu, gelu_new, silu");
        };
        boolean bias = cfg.bool("enable_bias", true);
        int v = cfg.size("vocab_size", 50272);
        return TransformerConfig.builder().vocabSize(v).widths(c, cfg.size("ffn_dim", 4L * c), nh)
                .decoderLayers(cfg.size("num_hidden_layers", 12))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(a, false).learnedPositions(cfg.size("max_position_embeddings", 2048))
                .biases(true).linearBiases(new TransformerConfig.Biases(bias, bias, bias))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, 1, 2, 2)).build();
    }

    /** OPTForCausalLM's names and shapes (a stored lm_head.weight, the tied copy, is optional). */
    static HfLayout layout(TransformerConfig c) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth();
        String d = "model.decoder.";
        req.put(d + "embed_tokens.weight", new long[] {c.vocabSize(), cw});
        req.put(d + "embed_positions.weight", new long[] {c.maxPositions() + OFFSET, cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = d + "layers." + i + ".";
            for (String p : List.of("q_proj", "k_proj", "v_proj", "out_proj")) HfNeox.linear(req, l + "self_attn." + p, cw, cw, c.qkvBias());
            HfNeox.norm(req, l + "self_attn_layer_norm", cw);
            HfNeox.linear(req, l + "fc1", f, cw, c.mlpBias());
            HfNeox.linear(req, l + "fc2", cw, f, c.mlpBias());
            HfNeox.norm(req, l + "final_layer_norm", cw);
        }
        HfNeox.norm(req, d + "final_layer_norm", cw);
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(TYPE, req, opt, List.of());
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. A LoRA adapter merges into q/k/v/out_proj, fc1, fc2.
     * Both layouts load: OPTForCausalLM's ({@code model.decoder.…}) and the base model's ({@code decoder.…}, no lm_head), as
     * older OPT checkpoints were saved and transformers still reads them (base_model_prefix "model").
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized opt folders are not supported (quantization_config)");
        return DecoderFolders.load(TYPE, c, layout(c), dir, backend, dtype, head, lora, names -> {
            boolean base = !names.contains("model.decoder.embed_tokens.weight") && names.contains("decoder.embed_tokens.weight");
            return DecoderFolders.Stored.renamed(names, name -> base && name.startsWith("model.") ? name.substring(6) : name,
                    !head || base || c.tiedEmbeddings(), "lm_head.weight");
        }, (hf, put) -> {
            String pos = "model.decoder.embed_positions.weight";
            Tensor table = hf.get(pos);                           // rows OFFSET.. are positions 0..: a view of the stored table
            if (table != null) hf.put(pos, table.slice(0, OFFSET, table.shape(0)));
            String d = "model.decoder.";
            put.accept("embeddings.tokens", d + "embed_tokens.weight");
            put.accept("embeddings.positions", pos);
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = d + "layers." + i + ".", a = l + "self_attn.";
                for (String x : List.of("q", "k", "v")) DecoderFolders.linear(put, o + "self." + x, a + x + "_proj", true);
                DecoderFolders.linear(put, o + "self.o", a + "out_proj", true);
                DecoderFolders.norm(put, o + "attn_norm", l + "self_attn_layer_norm", true);
                DecoderFolders.linear(put, o + "mlp.up", l + "fc1", true);
                DecoderFolders.linear(put, o + "mlp.down", l + "fc2", true);
                DecoderFolders.norm(put, o + "mlp_norm", l + "final_layer_norm", true);
            }
            DecoderFolders.norm(put, "decoder.final_norm", d + "final_layer_norm", true);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
