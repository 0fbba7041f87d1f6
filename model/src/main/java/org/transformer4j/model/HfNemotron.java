// HfNemotron — NVIDIA Nemotron folders (model_type nemotron, NemotronForCausalLM: nvidia/Nemotron-Mini-4B-Instruct,
// Minitron-4B-Base / Minitron-8B-Base, Nemotron-4-340B in HF form): Llama's pre-norm layers with LayerNorm1P (a LayerNorm
// with bias whose weight is applied as 1 + w), GPT-NeoX's partial rotary, and a plain up → relu² → down MLP.
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

final class HfNemotron {

    private HfNemotron() {}

    static final String TYPE = "nemotron";

    /**
     * NemotronConfig's fields and defaults (configuration_nemotron.py): vocab 256000, hidden 6144, intermediate 24576, 32
     * layers, 48 heads, head_dim as given (null or absent: hidden / heads), num_key_value_heads as given, hidden_act relu2,
     * max positions 4096, norm_eps 1e-5, bos 2, eos 3, no pad, untied, rope_theta 10000, partial_rotary_factor 0.5 (the
     * rotary is Llama's rotate_half over the first int(head_dim × factor) dims, the rest passed: GPT-NeoX's partial rotary),
     * attention_bias false (biases on q, k, v and o), mlp_bias false (biases on up_proj and down_proj). Every norm is
     * NemotronLayerNorm1P: F.layer_norm with weight + 1 and the bias, eps norm_eps. The MLP is down(relu²(up(x))), not gated.
     * Refused by name: an absent or null num_key_value_heads (the config keeps None and NemotronAttention fails on it), a
     * hidden_act other than relu2, a rope_scaling (NemotronRotaryEmbedding always takes the default frequencies, earlier
     * versions scaled them linearly: the folder would mean different things), a partial_rotary_factor giving no even
     * rotary width.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        if (!cfg.has("num_key_value_heads")) {
            throw cfg.error("num_key_value_heads is " + (cfg.present("num_key_value_heads") ? "null" : "absent")
                    + " (NemotronConfig keeps None and transformers' NemotronAttention fails on it)");
        }
        int c = cfg.size("hidden_size", 6144), nh = cfg.size("num_attention_heads", 48), nkv = cfg.size("num_key_value_heads");
        if (nkv < 1 || nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        int hd = cfg.has("head_dim") ? cfg.size("head_dim") : c / nh;
        String act = cfg.string("hidden_act", "relu2");
        if (!act.equals("relu2")) throw cfg.error("hidden_act '" + act + "' is not supported (relu2 is)");
        if (cfg.has("rope_scaling")) {
            throw cfg.error("rope_scaling is not supported for nemotron (transformers' NemotronRotaryEmbedding ignores it now and scaled"
                    + " linearly before)");
        }
        int mpe = cfg.size("max_position_embeddings", 4096);
        double factor = cfg.number("partial_rotary_factor", 0.5);
        TransformerConfig.Rope rope = TransformerConfig.Rope.plain(cfg.number("rope_theta", 10000), (int) (hd * factor));
        if (rope.rotaryDim() < 2 || rope.rotaryDim() % 2 != 0 || rope.rotaryDim() > hd) {
            throw cfg.error("partial_rotary_factor " + factor + " gives " + rope.rotaryDim() + " rotary dims of head_dim " + hd
                    + " (an even number from 2 to head_dim is needed)");
        }
        boolean ab = cfg.bool("attention_bias", false), mb = cfg.bool("mlp_bias", false);
        int v = cfg.size("vocab_size", 256000);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 24576))
                .heads(nh, nkv, hd).decoderLayers(cfg.size("num_hidden_layers", 32))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.RELU2, false).rope(rope).maxPositions(mpe)
                .biases(true).linearBiases(new TransformerConfig.Biases(ab, ab, mb))          // biases(true): LayerNorm1P's own
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, 2, 3)).build();
    }

    /** NemotronForCausalLM's names and shapes (lm_head.weight optional when tied: save_pretrained drops the tied copy). */
    static HfLayout layout(TransformerConfig c) { return plainMlpLayout(TYPE, c, true); }

    /**
     * The names and shapes of Llama's layers with a plain up_proj → act → down_proj MLP (NemotronForCausalLM, and Arcee's,
     * whose ArceeMLP is NemotronMLP): q / k / v / o_proj and the MLP's biases as the config has them, the norms' .bias when
     * {@code normBias} (LayerNorm1P), lm_head.weight optional when tied.
     */
    static HfLayout plainMlpLayout(String type, TransformerConfig c, boolean normBias) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), f = c.mlpWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize();
        req.put("model.embed_tokens.weight", new long[] {c.vocabSize(), cw});
        List<String> norms = new java.util.ArrayList<>(List.of("model.norm"));
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
            norms.add(l + "input_layernorm");
            norms.add(l + "post_attention_layernorm");
            HfNeox.linear(req, a + "q_proj", q, cw, c.qkvBias());
            HfNeox.linear(req, a + "k_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "v_proj", kv, cw, c.qkvBias());
            HfNeox.linear(req, a + "o_proj", cw, q, c.outBias());
            HfNeox.linear(req, m + "up_proj", f, cw, c.mlpBias());
            HfNeox.linear(req, m + "down_proj", cw, f, c.mlpBias());
        }
        for (String n : norms) {
            req.put(n + ".weight", new long[] {cw});
            if (normBias) req.put(n + ".bias", new long[] {cw});
        }
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(type, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. Each LayerNorm1P weight w is offered as an F32
     * 1 + w made as it loads, which is transformers' arithmetic: in float32 `self.weight + 1` is that fp32 sum, and in a
     * bf16 model torch's bf16 add rounds the same fp32 sum once to bf16, as converting this F32 weight to the model dtype does.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized nemotron folders are not supported (quantization_config)");
        if (lora != null) throw cfg.error("LoRA adapters are not supported for nemotron yet (untested on its plain relu² MLP)");
        return loadPlainMlp(TYPE, c, layout(c), dir, backend, dtype, head, HfNemotron::norm1p);
    }

    /** How a family's norm under the stored prefix {@code key} becomes this library's {@code ours}.weight (and .bias). */
    @FunctionalInterface
    interface Norm {
        void put(LazyTensors hf, java.util.function.BiConsumer<String, String> put, String ours, String key);
    }

    /**
     * A {@link #plainMlpLayout} folder's model: the embeddings, each layer's q / k / v / o and plain MLP (mlp.up ← up_proj,
     * the activated projection; no gate), its two norms through {@code norm}, the final norm, and lm_head unless tied or
     * {@code head} is false.
     */
    static Weights loadPlainMlp(String type, TransformerConfig c, HfLayout layout, Path dir, Backend backend, DType dtype, boolean head,
                                Norm norm) throws IOException {
        return DecoderFolders.load(type, c, layout, dir, backend, dtype, head, null,
                names -> DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight"), (hf, put) -> {
            put.accept("embeddings.tokens", "model.embed_tokens.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
                norm.put(hf, put, o + "attn_norm", l + "input_layernorm");
                norm.put(hf, put, o + "mlp_norm", l + "post_attention_layernorm");
                for (String x : List.of("q", "k", "v")) DecoderFolders.linear(put, o + "self." + x, a + x + "_proj", c.qkvBias());
                DecoderFolders.linear(put, o + "self.o", a + "o_proj", c.outBias());
                DecoderFolders.linear(put, o + "mlp.up", m + "up_proj", c.mlpBias());     // plain MLP: act(up), no gate
                DecoderFolders.linear(put, o + "mlp.down", m + "down_proj", c.mlpBias());
            }
            norm.put(hf, put, "decoder.final_norm", "model.norm");
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }

    /** A LayerNorm1P: our {@code ours}.weight ← 1 + the stored weight (F32, made as it loads), .bias ← the stored bias. */
    private static void norm1p(LazyTensors hf, java.util.function.BiConsumer<String, String> put, String ours, String key) {
        String w = key + ".weight", made = w + "[1+w]";
        Tensor stored = hf.get(w);
        hf.later(made, () -> HfDecoders.onePlus(stored));   // each 1 + w formed in fp32, as Gemma's
        put.accept(ours + ".weight", made);
        put.accept(ours + ".bias", key + ".bias");
    }
}
