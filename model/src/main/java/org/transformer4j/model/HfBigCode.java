// HfBigCode — GPT-BigCode folders (model_type gpt_bigcode: bigcode/starcoder, starcoderbase-*, santacoder, tiny_starcoder_py,
// WizardCoder and other StarCoder fine-tunes): GPT-2's blocks with multi-query attention, its fused c_attn laid out
// [q | k | v] as this library fuses it, and nn.Linear weights ([out, in], not GPT-2's Conv1D).
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class HfBigCode {

    private HfBigCode() {}

    static final String TYPE = "gpt_bigcode";

    /**
     * GPTBigCodeConfig's defaults: n_embd 768, n_head 12, n_layer 12, n_inner 4 · n_embd, n_positions 1024, activation_function
     * gelu_pytorch_tanh, layer_norm_epsilon 1e-5, scale_attn_weights true (scores × head_dim^-0.5; false: × 1), multi_query
     * true (one key / value head), bos = eos = 50256, tied output. multi_query false (a per-head interleaved c_attn, which no
     * published checkpoint uses) is refused by name.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("n_embd", 768), nh = cfg.size("n_head", 12);
        if (c % nh != 0) throw cfg.error("n_embd " + c + " is not divisible by n_head " + nh);
        if (!cfg.bool("multi_query", true)) {
            throw cfg.error("multi_query false is not supported (every published GPT-BigCode model, StarCoder and SantaCoder included,"
                    + " is multi-query)");
        }
        String act = cfg.string("activation_function", "gelu_pytorch_tanh");
        TransformerConfig.Activation a = switch (act) {
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast" -> TransformerConfig.Activation.GELU_TANH;
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "relu" -> TransformerConfig.Activation.RELU;
            default -> throw cfg.error("activation_function '" + act + "' is not one of gelu_pytorch_tanh, gelu_new, gelu, relu");
        };
        int v = cfg.size("vocab_size", 50257), hd = c / nh;
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("n_inner", 4L * c))
                .heads(nh, 1, hd).decoderLayers(cfg.size("n_layer", 12))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_epsilon", 1e-5))
                .activation(a, false).learnedPositions(cfg.size("n_positions", 1024)).biases(true)
                .attentionScale(cfg.bool("scale_attn_weights", true) ? Float.NaN : 1f)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 50256, 50256)).build();
    }

    /** GPTBigCodeForCausalLM's names and shapes; the old attn.bias / attn.masked_bias buffers are ignored. */
    static HfLayout layout(TransformerConfig c) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth(), hd = c.headSize();
        req.put("transformer.wte.weight", new long[] {c.vocabSize(), cw});
        req.put("transformer.wpe.weight", new long[] {c.maxPositions(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "transformer.h." + i + ".";
            HfNeox.norm(req, l + "ln_1", cw);
            HfNeox.linear(req, l + "attn.c_attn", cw + 2 * hd, cw, true);
            HfNeox.linear(req, l + "attn.c_proj", cw, cw, true);
            HfNeox.norm(req, l + "ln_2", cw);
            HfNeox.linear(req, l + "mlp.c_fc", f, cw, true);
            HfNeox.linear(req, l + "mlp.c_proj", cw, f, true);
        }
        HfNeox.norm(req, "transformer.ln_f", cw);
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(TYPE, req, opt, HfNeox.ATTN_BUFFERS);
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. c_attn is taken whole as the fused [q ; k ; v]
     * projection (its rows are already in that order) or, with -Dt4j.fuse=false, as row views; a LoRA adapter (PEFT's
     * c_attn / c_proj / c_fc targets) merges before either.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized gpt_bigcode folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for gpt_bigcode yet (its c_attn is split as it loads)");
        return DecoderFolders.load(TYPE, c, layout(c), dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            long cw = c.modelWidth(), hd = c.headSize();
            put.accept("embeddings.tokens", "transformer.wte.weight");
            put.accept("embeddings.positions", "transformer.wpe.weight");
            long[] at = {0, cw, cw + hd, cw + 2 * hd};
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "transformer.h." + i + ".";
                DecoderFolders.norm(put, o + "attn_norm", l + "ln_1", true);
                DecoderFolders.fusedWhole(hf, put, o, l + "attn.c_attn", at, true);        // [q | k | v] as stored
                DecoderFolders.linear(put, o + "self.o", l + "attn.c_proj", true);
                DecoderFolders.norm(put, o + "mlp_norm", l + "ln_2", true);
                DecoderFolders.linear(put, o + "mlp.up", l + "mlp.c_fc", true);
                DecoderFolders.linear(put, o + "mlp.down", l + "mlp.c_proj", true);
            }
            DecoderFolders.norm(put, "decoder.final_norm", "transformer.ln_f", true);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
