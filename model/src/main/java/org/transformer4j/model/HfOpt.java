// HfOpt — Meta's OPT folders (model_type opt: facebook/opt-125m … opt-66b and their fine-tunes): a pre-LN decoder with
// learned positions read at position + 2, ReLU MLPs, biases everywhere, and the output tied to the token table; and
// opt-350m's post-LN layers with project_in / project_out around a narrower token table.
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
import org.transformer4j.runtime.CpuBackend;
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
     * nn.LayerNorm's eps (1e-5) everywhere. do_layer_norm_before false (opt-350m): post-LN layers, the embeddings unnormed,
     * no final norm. word_embed_proj_dim E ≠ hidden_size C (opt-350m's 512 and 1024): the (V, E) token table goes through
     * project_in (C, E) and the last hidden states through project_out (E, C), both bias-free; the loader folds each into
     * a (V, C) table ({@link #load}), so the model's output matrix is its own (untied). Refused by name:
     * _remove_final_layer_norm, LayerNorms without weights.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 768), nh = cfg.size("num_attention_heads", 12);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        boolean pre = cfg.bool("do_layer_norm_before", true);
        boolean projected = cfg.size("word_embed_proj_dim", c) != c;
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
                .norm(TransformerConfig.NormKind.LAYER_NORM, pre ? TransformerConfig.NormPlacement.PRE : TransformerConfig.NormPlacement.POST, 1e-5f)
                .rawEmbeddings(!pre)
                .activation(a, false).learnedPositions(cfg.size("max_position_embeddings", 2048))
                .biases(true).linearBiases(new TransformerConfig.Biases(bias, bias, bias))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true) && !projected, 1f)
                .specialIds(HfNeox.specialIds(cfg, v, 1, 2, 2)).build();
    }

    /**
     * OPTForCausalLM's names and shapes (a stored lm_head.weight, the tied copy, is optional); {@code e}: word_embed_proj_dim
     * (project_in / project_out where it is not C), {@code tied}: tie_word_embeddings.
     */
    static HfLayout layout(TransformerConfig c, long e, boolean tied) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth();
        String d = "model.decoder.";
        req.put(d + "embed_tokens.weight", new long[] {c.vocabSize(), e});
        if (e != cw) {
            req.put(d + "project_in.weight", new long[] {cw, e});
            req.put(d + "project_out.weight", new long[] {e, cw});
        }
        req.put(d + "embed_positions.weight", new long[] {c.maxPositions() + OFFSET, cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = d + "layers." + i + ".";
            for (String p : List.of("q_proj", "k_proj", "v_proj", "out_proj")) HfNeox.linear(req, l + "self_attn." + p, cw, cw, c.qkvBias());
            HfNeox.norm(req, l + "self_attn_layer_norm", cw);
            HfNeox.linear(req, l + "fc1", f, cw, c.mlpBias());
            HfNeox.linear(req, l + "fc2", cw, f, c.mlpBias());
            HfNeox.norm(req, l + "final_layer_norm", cw);
        }
        if (c.normPlacement() == TransformerConfig.NormPlacement.PRE) HfNeox.norm(req, d + "final_layer_norm", cw);
        (tied ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), e});
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
        long e = cfg.size("word_embed_proj_dim", c.modelWidth());
        boolean tied = cfg.bool("tie_word_embeddings", true), projected = e != c.modelWidth();
        return DecoderFolders.load(TYPE, c, layout(c, e, tied), dir, backend, dtype, head, lora, names -> {
            boolean base = !names.contains("model.decoder.embed_tokens.weight") && names.contains("decoder.embed_tokens.weight");
            return DecoderFolders.Stored.renamed(names, name -> base && name.startsWith("model.") ? name.substring(6) : name,
                    !head || base || tied, "lm_head.weight");
        }, (hf, put) -> {
            String pos = "model.decoder.embed_positions.weight";
            Tensor table = hf.get(pos);                           // rows OFFSET.. are positions 0..: a view of the stored table
            if (table != null) hf.put(pos, table.slice(0, OFFSET, table.shape(0)));
            String d = "model.decoder.";
            if (projected) {
                // project_in(embed_tokens[x]) = (E · P_inᵀ)[x] and lm_head(project_out(h)) = h · (E_out · P_out)ᵀ: each folded
                // into a (V, C) table in float32 (one rounding to the dtype as the product's own), so the kernels see an
                // OPT of width C with an untied output matrix
                // (the projections are taken out of the map: used here, not by a name of ours; the folded tables are offered
                // as views "key[…]" of the token table, which counts it used)
                Tensor tokens = hf.get(d + "embed_tokens.weight"), pIn = hf.remove(d + "project_in.weight");
                Tensor pOut = hf.remove(d + "project_out.weight");
                Tensor out = tied || !head ? tokens : hf.get("lm_head.weight");
                hf.later(d + "embed_tokens.weight[project_in]", () -> fold(tokens, pIn, true));
                put.accept("embeddings.tokens", d + "embed_tokens.weight[project_in]");
                if (head) {
                    String key = (tied ? d + "embed_tokens.weight" : "lm_head.weight") + "[project_out]";
                    hf.later(key, () -> fold(out, pOut, false));
                    put.accept("lm_head", key);
                }
            } else {
                put.accept("embeddings.tokens", d + "embed_tokens.weight");
            }
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
            if (c.normPlacement() == TransformerConfig.NormPlacement.PRE) DecoderFolders.norm(put, "decoder.final_norm", d + "final_layer_norm", true);
            if (head && !c.tiedEmbeddings() && !projected) put.accept("lm_head", "lm_head.weight");
        });
    }

    /**
     * table (V, E) times a projection, in float32 on the host: {@code transposed} p (C, E), project_in's nn.Linear weight,
     * gives table · pᵀ; else p (E, C), project_out's, gives table · p. Either way (V, C).
     */
    static Tensor fold(Tensor table, Tensor p, boolean transposed) {
        try (CpuBackend cpu = new CpuBackend();
             Tensor t = Tensor.of(DType.F32, table.toFloatArray(), table.shape(0), table.shape(1));
             Tensor w = Tensor.of(DType.F32, p.toFloatArray(), p.shape(0), p.shape(1))) {
            Tensor out = Tensor.empty(DType.F32, table.shape(0), transposed ? p.shape(0) : p.shape(1));
            try {
                cpu.linear(org.transformer4j.runtime.LinearOp.of(t, w, out).transW(transposed));
            } catch (RuntimeException ex) {
                out.close();
                throw ex;
            }
            return out;
        }
    }
}
