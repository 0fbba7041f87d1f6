// HfFalcon — TII's Falcon folders (model_type falcon: falcon-7b / 40b / 180b and their instruct models, Falcon2-11B): a
// parallel-attention decoder whose fused query_key_value has one of three layouts, regrouped as it loads.
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

final class HfFalcon {

    private HfFalcon() {}

    static final String TYPE = "falcon";

    /**
     * FalconConfig's defaults: hidden_size 4544, 71 heads, 32 layers, ffn_hidden_size 4 · hidden_size, layer_norm_epsilon 1e-5,
     * activation gelu, rope_theta 10000 (rope_scaling as Llama's), multi_query true, parallel_attn true, bias false,
     * new_decoder_architecture false, tied output, bos = eos = 11. The key/value heads: num_kv_heads in the new architecture
     * (40b, 180b, Falcon2), 1 with multi_query (7b), else the heads. The block: the new architecture with
     * num_ln_in_parallel_attn 2 (its default) normalizes the input twice (ln_attn, ln_mlp), with 1 once; the old one with
     * parallel_attn feeds one input_layernorm to both, without it runs them one after the other. The sizes may be spelled
     * n_head / n_layer (FalconConfig takes both). With alibi (Falcon-RW) positions are BLOOM's ALiBi slopes, added by
     * FalconAttention to the unscaled q·k before its 1/sqrt(head_dim) — so the slopes here are divided by sqrt(head_dim) —
     * and there is no rotary; transformers rounds its slope · position products to bfloat16 (exact for the published
     * power-of-two slopes up to 256 positions), these are fp32.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 4544), nh = cfg.firstSize(71, "num_attention_heads", "n_head");
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        int hd = c / nh;
        boolean alibi = cfg.bool("alibi", false);
        boolean newArch = cfg.bool("new_decoder_architecture", false), parallel = cfg.bool("parallel_attn", true);
        int nkv = newArch ? cfg.size("num_kv_heads", nh) : cfg.bool("multi_query", true) ? 1 : nh;
        if (nh % nkv != 0) throw cfg.error("num_kv_heads " + nkv + " does not divide num_attention_heads " + nh);
        int norms = newArch ? cfg.size("num_ln_in_parallel_attn", 2) : parallel ? 1 : 0;
        if (newArch && norms != 1 && norms != 2) throw cfg.error("num_ln_in_parallel_attn must be 1 or 2, got " + norms);
        String act = cfg.string("activation", "gelu");
        TransformerConfig.Activation a = switch (act) {
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh" -> TransformerConfig.Activation.GELU_TANH;
            case "relu" -> TransformerConfig.Activation.RELU;
            default -> throw cfg.error("activation '" + act + "' is not one of gelu, gelu_new, relu");
        };
        boolean bias = cfg.bool("bias", false);
        int mpe = cfg.size("max_position_embeddings", 2048), v = cfg.size("vocab_size", 65024);
        TransformerConfig.Builder b = TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("ffn_hidden_size", 4L * c))
                .heads(nh, nkv, hd).decoderLayers(cfg.firstSize(32, "num_hidden_layers", "n_layer"))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_epsilon", 1e-5))
                .activation(a, false);
        if (alibi) {
            float[] slopes = HfAlibi.bloomSlopes(nh);
            for (int h = 0; h < nh; h++) slopes[h] = (float) (slopes[h] / Math.sqrt(hd));
            b.alibi(slopes);
        } else {
            b.rope(HfDecoders.rope(cfg, TYPE, hd, mpe)).maxPositions(mpe);
        }
        return b
                .biases(true).linearBiases(new TransformerConfig.Biases(bias, bias, bias))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .parallel(norms == 2 ? TransformerConfig.ParallelBlock.TWO_NORMS : norms == 1 ? TransformerConfig.ParallelBlock.SHARED_NORM
                        : TransformerConfig.ParallelBlock.NONE)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 11, 11)).build();
    }

    static HfLayout layout(TransformerConfig c) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth(), qkv = (long) (c.heads() + 2 * c.kvHeads()) * c.headSize();
        req.put("transformer.word_embeddings.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "transformer.h." + i + ".";
            switch (c.parallel()) {
                case TWO_NORMS -> {
                    HfNeox.norm(req, l + "ln_attn", cw);
                    HfNeox.norm(req, l + "ln_mlp", cw);
                }
                case SHARED_NORM -> HfNeox.norm(req, l + "input_layernorm", cw);
                case NONE -> {
                    HfNeox.norm(req, l + "input_layernorm", cw);
                    HfNeox.norm(req, l + "post_attention_layernorm", cw);
                }
            }
            HfNeox.linear(req, l + "self_attention.query_key_value", qkv, cw, c.qkvBias());
            HfNeox.linear(req, l + "self_attention.dense", cw, cw, c.outBias());
            HfNeox.linear(req, l + "mlp.dense_h_to_4h", f, cw, c.mlpBias());
            HfNeox.linear(req, l + "mlp.dense_4h_to_h", cw, f, c.mlpBias());
        }
        HfNeox.norm(req, "transformer.ln_f", cw);
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(TYPE, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The rows of query_key_value that hold q, k or v ({@code part} 0, 1, 2), in the order this library's heads take them.
     * New architecture: per key/value group g the blocks [q_g1 … q_gG | k_g | v_g] (FalconAttention._split_heads views
     * (…, groups, G + 2, head_dim)); multi-query: [q (all heads) | k | v]; else per head [q_h | k_h | v_h].
     */
    static long[] rows(TransformerConfig c, boolean newArch, int part) {
        int nh = c.heads(), nkv = c.kvHeads(), hs = c.headSize(), g = nh / nkv;
        int heads = part == 0 ? nh : nkv;
        long[] out = new long[heads * hs];
        for (int h = 0; h < heads; h++) {
            long block;                                                        // which head-sized block of rows
            if (newArch) block = part == 0 ? (long) (h / g) * (g + 2) + h % g : (long) h * (g + 2) + g + part - 1;
            else if (nkv == 1) block = part == 0 ? h : nh + part - 1;
            else block = (long) h * 3 + part;
            for (int r = 0; r < hs; r++) out[h * hs + r] = block * hs + r;
        }
        return out;
    }

    /** The folder's model; {@code head} false leaves the output matrix out. q, k and v are gathered from query_key_value one at a time. */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        boolean newArch = cfg.bool("new_decoder_architecture", false);
        if (cfg.has("quantization_config")) throw cfg.error("quantized falcon folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for falcon (its query_key_value is regrouped as it loads)");
        return DecoderFolders.load(TYPE, c, layout(c), dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            put.accept("embeddings.tokens", "transformer.word_embeddings.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "transformer.h." + i + ".", a = l + "self_attention.";
                boolean two = c.parallel() == TransformerConfig.ParallelBlock.TWO_NORMS;
                DecoderFolders.norm(put, o + "attn_norm", l + (two ? "ln_attn" : "input_layernorm"), true);
                DecoderFolders.norm(put, o + "mlp_norm", l + (two ? "ln_mlp" : "post_attention_layernorm"), true);
                DecoderFolders.regrouped(hf, put, o, a + "query_key_value", part -> rows(c, newArch, part));
                DecoderFolders.linear(put, o + "self.o", a + "dense", true);
                DecoderFolders.linear(put, o + "mlp.up", l + "mlp.dense_h_to_4h", true);
                DecoderFolders.linear(put, o + "mlp.down", l + "mlp.dense_4h_to_h", true);
            }
            DecoderFolders.norm(put, "decoder.final_norm", "transformer.ln_f", true);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
