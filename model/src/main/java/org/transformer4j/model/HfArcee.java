// HfArcee — Arcee AFM folders (model_type arcee, ArceeForCausalLM: arcee-ai/AFM-4.5B, AFM-4.5B-Base) as transformers'
// models/arcee computes them: Llama's pre-RMSNorm layers, attention and rotary (any rope kind the loader implements; AFM
// documents default and yarn) with NVIDIA Nemotron's plain up_proj → relu² → down_proj MLP (ArceeMLP is NemotronMLP).
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;

final class HfArcee {

    private HfArcee() {}

    static final String TYPE = "arcee";

    /**
     * ArceeConfig's fields and defaults (transformers 4.x ArceeConfig(LlamaConfig) and 5.x's @strict class alike): vocab
     * 32000, hidden 2560, intermediate 18432, 32 layers, 32 heads, num_key_value_heads null or absent: the number of heads,
     * head_dim null or absent: hidden / heads, hidden_act relu2, max positions 4096, rms_norm_eps 1e-5, no pad, bos 128000,
     * eos 128001, untied, rope_theta 10000 with 4.x rope_scaling or 5.x rope_parameters (LlamaRotaryEmbedding: any kind
     * modeling_rope_utils implements, yarn's attention factor on cos / sin), attention_bias false (biases on q, k, v and
     * o_proj), mlp_bias false (biases on up_proj and down_proj). The MLP is down(relu²(up(x))), not gated. Refused by name: a
     * hidden_act other than relu2 (the MLP has no gate, and other activations are untested here), hidden_size not divisible
     * by num_attention_heads (ArceeConfig's validate_architecture), num_key_value_heads not dividing the heads.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 2560), nh = cfg.size("num_attention_heads", 32);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh + " (ArceeConfig refuses it)");
        int nkv = cfg.has("num_key_value_heads") ? cfg.size("num_key_value_heads") : nh;
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        int hd = cfg.has("head_dim") ? cfg.size("head_dim") : c / nh;
        String act = cfg.string("hidden_act", "relu2");
        if (!act.equals("relu2")) throw cfg.error("hidden_act '" + act + "' is not supported for arcee (relu2, AFM's, is)");
        int mpe = cfg.size("max_position_embeddings", 4096), v = cfg.size("vocab_size", 32000);
        boolean ab = cfg.bool("attention_bias", false), mb = cfg.bool("mlp_bias", false);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 18432))
                .heads(nh, nkv, hd).decoderLayers(cfg.size("num_hidden_layers", 32))
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.RELU2, false).rope(HfDecoders.rope(cfg, TYPE, hd, mpe)).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(ab, ab, mb))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 128000, 128001)).build();
    }

    /** ArceeForCausalLM's names and shapes: Llama's attention, up_proj / down_proj without gate_proj, RMSNorm weights. */
    static HfLayout layout(TransformerConfig c) { return HfNemotron.plainMlpLayout(TYPE, c, false); }

    /** The folder's model; {@code head} false leaves the output matrix out. Quantized folders and LoRA adapters are refused by name. */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized arcee folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for arcee yet (untested on its plain relu² MLP)");
        return HfNemotron.loadPlainMlp(TYPE, c, layout(c), dir, backend, dtype, head,
                (hf, put, ours, key) -> DecoderFolders.norm(put, ours, key, false));
    }
}
