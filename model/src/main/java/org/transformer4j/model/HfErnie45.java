// HfErnie45 — ERNIE 4.5 decoder folders: model_type ernie4_5 (Ernie4_5ForCausalLM: baidu/ERNIE-4.5-0.3B-PT,
// ERNIE-4.5-0.3B-Base-PT) and its mixture of experts ernie4_5_moe (Ernie4_5_MoeForCausalLM: baidu/ERNIE-4.5-21B-A3B-PT,
// -Base-PT, ERNIE-4.5-300B-A47B-PT): Llama's pre-RMSNorm layers, every projection biased by use_bias (dense), GLM's pairwise
// rotary over the whole head (done by rotate_half on q_proj / k_proj rows reordered at load, as for GLM and GPT-J); the MoE's
// sparse layers route by softmax with a correction bias for the choice and add shared experts.
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class HfErnie45 {

    private HfErnie45() {}

    static final String TYPE = "ernie4_5";
    /** The mixture-of-experts sibling (ERNIE-4.5-21B-A3B, -300B-A47B). */
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
    /**
     * What both ERNIE 4.5 configs refuse alike — a hidden_act other than silu, a partial_rotary_factor other than 1 (ERNIE's
     * apply_rotary_pos_emb multiplies the whole head by cos) at the top level or in 5.x's rope_parameters — and the latter,
     * or null in the 4.x layout.
     */
    private static HfConfig siluAndWholeRotary(HfConfig cfg) throws CheckpointException {
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) throw cfg.error("hidden_act '" + act + "' is not supported (silu is)");
        HfConfig p = cfg.has("rope_parameters") ? cfg.object("rope_parameters") : null;
        for (HfConfig where : p == null ? List.of(cfg) : List.of(cfg, p)) {
            if (where.has("partial_rotary_factor") && where.number("partial_rotary_factor", 1) != 1) {
                throw cfg.error("partial_rotary_factor " + where.number("partial_rotary_factor", 1)
                        + " is not supported (Ernie4_5's rotary covers the whole head)");
            }
        }
        return p;
    }

    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        if (cfg.modelType().equals(MOE)) return moeConfig(cfg);
        int c = cfg.size("hidden_size", 1024), nh = cfg.size("num_attention_heads", 16);
        int nkv = cfg.present("num_key_value_heads") && !cfg.has("num_key_value_heads") ? nh : cfg.size("num_key_value_heads", 2);
        int hd = cfg.present("head_dim") && !cfg.has("head_dim") ? c / nh : cfg.size("head_dim", 128);
        if (nkv < 1 || nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        if (hd % 2 != 0) throw cfg.error("head_dim " + hd + " is odd (the rotary turns pairs of dims)");
        HfConfig p = siluAndWholeRotary(cfg);
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

    /**
     * Ernie4_5_MoeConfig's fields and defaults (transformers' configuration_ernie4_5_moe.py; the published ERNIE-4.5-21B-A3B-PT
     * config.json gives the same shape): vocab 103424, hidden 2560, intermediate 12288 (the dense layers' MLP), 28 layers, 20
     * heads over num_key_value_heads 4, silu, rms_norm_eps 1e-5, tied embeddings, max positions 131072, rope_theta 500000 (4.x
     * top level or 5.x rope_parameters), pad 0 / bos 1 / eos 2; no head_dim field: Ernie4_5_MoeAttention reads
     * getattr(config, "head_dim", hidden_size / heads) (128 for 21B-A3B and 300B-A47B). The rotary is the dense model's (pairs
     * over the whole head). MoE: moe_num_experts 64, moe_k 6, moe_intermediate_size 1536, moe_num_shared_experts 2 (one ungated
     * MLP of moe_intermediate_size × that; 0: none), layer i sparse iff (i + 1) % moe_layer_interval == 0 and
     * moe_layer_start_index (1) ≤ i ≤ moe_layer_end_index (-1: the last layer), the others a dense MLP of intermediate_size.
     * The router (Ernie4_5_MoeTopKRouter): softmax in fp32, the top moe_k of softmax + e_score_correction_bias, weights the
     * unbiased softmax at the picks renormalized by their sum (transformers divides by clamp(sum, min=moe_norm_min 1e-12): the
     * same unless the picked softmax mass is below 1e-12) — {@code Routing(false, true, 1, 1, 1, true)}: its gate, kept in fp32
     * (_keep_in_fp32_modules_strict), runs on the hidden states widened to fp32. Refused by name: use_bias
     * true (biased experts and a biased lm_head are not composed; the published models have false), a null head_dim,
     * num_key_value_heads or moe_layer_end_index (transformers fails on them), a moe_norm_min above 1e-12, hidden_act other
     * than silu, a partial_rotary_factor other than 1.
     */
    private static TransformerConfig moeConfig(HfConfig cfg) throws CheckpointException {
        for (String key : List.of("head_dim", "num_key_value_heads", "moe_layer_end_index")) {
            if (cfg.present(key) && !cfg.has(key)) throw cfg.error(key + " is null (transformers' Ernie4_5_Moe fails on it)");
        }
        if (cfg.bool("use_bias", false)) {
            throw cfg.error("use_bias true is not supported for ernie4_5_moe (biased experts and lm_head are not composed here;"
                    + " the published ERNIE 4.5 MoE folders have false)");
        }
        int c = cfg.size("hidden_size", 2560), nh = cfg.size("num_attention_heads", 20), nkv = cfg.size("num_key_value_heads", 4);
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        int hd = cfg.has("head_dim") ? cfg.size("head_dim") : c / nh;
        if (hd % 2 != 0) throw cfg.error("head_dim " + hd + " is odd (the rotary turns pairs of dims)");
        HfConfig p = siluAndWholeRotary(cfg);
        double normMin = cfg.number("moe_norm_min", 1e-12);
        if (!(normMin >= 0 && normMin <= 1e-12)) {
            throw cfg.error("moe_norm_min " + normMin + " is not supported (the router divides by the picked weights' plain sum,"
                    + " which equals transformers' clamp(sum, min=moe_norm_min) only for moe_norm_min ≤ 1e-12)");
        }
        int mpe = cfg.size("max_position_embeddings", 131072), layers = cfg.size("num_hidden_layers", 28);
        double theta = p != null ? p.number("rope_theta", 500000) : cfg.number("rope_theta", 500000);
        TransformerConfig.Rope rope = HfDecoders.ropeOf(cfg, p != null ? p : cfg.object("rope_scaling"), theta, hd, mpe);
        int v = cfg.size("vocab_size", 103424);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 12288))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.SILU, true).rope(rope).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(false, false, false))
                .moe(moe(cfg, layers))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, 0, 1, 2)).build();
    }

    /** Ernie4_5_MoeSparseMoeBlock as configured; null when no layer is sparse (a dense model). */
    private static TransformerConfig.Moe moe(HfConfig cfg, int layers) throws CheckpointException {
        int e = cfg.size("moe_num_experts", 64), k = cfg.size("moe_k", 6), f = cfg.size("moe_intermediate_size", 1536);
        int shared = cfg.has("moe_num_shared_experts") && cfg.number("moe_num_shared_experts", 2) == 0 ? 0 : cfg.size("moe_num_shared_experts", 2);
        int start = cfg.has("moe_layer_start_index") ? (int) cfg.number("moe_layer_start_index", 1) : 1;
        int end = cfg.has("moe_layer_end_index") ? (int) cfg.number("moe_layer_end_index", -1) : -1;
        if (end == -1) end = layers - 1;
        int every = cfg.size("moe_layer_interval", 1);
        if (k > e) throw cfg.error("moe_k " + k + " exceeds moe_num_experts " + e);
        List<Integer> dense = new ArrayList<>();
        for (int i = 0; i < layers; i++) if (!((i + 1) % every == 0 && i >= start && i <= end)) dense.add(i);
        if (dense.size() == layers) return null;
        return new TransformerConfig.Moe(e, k, true, f, shared * f, false, dense, false,
                new TransformerConfig.Routing(false, true, 1, 1, 1f, true));               // the gate kept and run in fp32
    }

    /** The correction bias's stored name: 4.x's mlp.moe_statics., 5.x's mlp.gate.moe_statics. (Ernie4_5_MoeTopKRouter's). */
    static String correctionBias(String l, boolean stacked) {
        return l + (stacked ? "mlp.gate.moe_statics." : "mlp.moe_statics.") + "e_score_correction_bias";
    }

    /** Ernie4_5ForCausalLM's names and shapes (a stored lm_head.weight, the tied copy, is optional when tied). */
    static HfLayout layout(TransformerConfig c) {
        return layout(c, TYPE, false);
    }

    /**
     * The names and shapes of {@code type}'s folder: the MoE's sparse layers hold HfDecoders.experts' router, experts (4.x per
     * expert, or 5.x {@code stacked}) and shared experts, and the (1, E) correction bias.
     */
    static HfLayout layout(TransformerConfig c, String type, boolean stacked) {
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
            if (c.moeAt(i)) {
                HfDecoders.experts(req, c, l, type, stacked);
                req.put(correctionBias(l, stacked), new long[] {1, c.moe().experts()});
                continue;
            }
            HfNeox.linear(req, m + "gate_proj", f, cw, b);
            HfNeox.linear(req, m + "up_proj", f, cw, b);
            HfNeox.linear(req, m + "down_proj", cw, f, b);
        }
        req.put("model.norm.weight", new long[] {cw});
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(type, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. q_proj and k_proj (and their biases) are offered
     * with each head's rows reordered [0, 2, … ; 1, 3, …] (HfNeox.rotaryOrder over the whole head), so that rotate_half turns
     * ERNIE's pairs; the same order on q and k leaves every q·k. Merging a LoRA adapter at load and quantized folders are
     * refused by name (a merged weight is made one at a time and may not be gathered from); {@link LoraSlots} serves
     * adapters per request, lora_B's q / k rows reordered as here. ernie4_5_moe: the sparse layers' router, experts (4.x per
     * expert or 5.x stacked, HfDecoders.expertParts), shared experts and the (1, E) correction bias offered as the router's (E);
     * tensors whose names contain "mtp" (the multi-token-prediction block) are left alone, as transformers ignores them.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        if (cfg.has("quantization_config")) throw cfg.error("quantized " + TYPE + " folders are not supported (quantization_config)");
        if (lora != null) {
            throw cfg.error("LoRA adapters are not supported for " + TYPE + " yet (its q / k rows are reordered as they load, which a"
                    + " merged weight cannot be); serve the adapter per request instead (--lora-modules)");
        }
        boolean b = c.qkvBias();
        String type = cfg.modelType();
        boolean[] stacked = {false};
        return DecoderFolders.load(type, c, names -> layout(c, type, stacked[0] = c.moe() != null && HfDecoders.fusedExperts(names)),
                dir, backend, dtype, head, null, names -> {
            DecoderFolders.Stored s = DecoderFolders.Stored.asLaid(names, !head || c.tiedEmbeddings(), "lm_head.weight");
            if (!type.equals(MOE)) return s;
            List<String> skip = new ArrayList<>(s.skip());
            for (String n : names) if (n.contains("mtp")) skip.add(n);       // _keys_to_ignore_on_load_unexpected = ["mtp"]
            return new DecoderFolders.Stored(s.name(), s.unwanted(), skip);
        }, (hf, put) -> {
            put.accept("embeddings.tokens", "model.embed_tokens.weight");
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", m = l + "mlp.";
                DecoderFolders.norm(put, o + "attn_norm", l + "input_layernorm", false);
                DecoderFolders.norm(put, o + "mlp_norm", l + "post_attention_layernorm", false);
                DecoderFolders.pairwiseQk(hf, put, c, o, a, c.headSize(), b);   // pairwise rotary → rotate_half's halves
                DecoderFolders.linear(put, o + "self.v", a + "v_proj", b);
                DecoderFolders.linear(put, o + "self.o", a + "o_proj", b);
                if (c.moeAt(i)) {
                    HfDecoders.expertParts(hf, c, type, o + "moe.", l, put);
                    String bias = correctionBias(l, stacked[0]);
                    Tensor stored = hf.get(bias);                          // (1, E) → the router's (E)
                    if (stored != null && stored.rank() == 2 && stored.isContiguous()) hf.put(bias + "[squeezed]", stored.view(stored.shape(1)));
                    put.accept(o + "moe.router.correction_bias", bias + "[squeezed]");
                    continue;
                }
                DecoderFolders.linear(put, o + "mlp.up", m + "gate_proj", b);   // ours: act(up) · gate
                DecoderFolders.linear(put, o + "mlp.gate", m + "up_proj", b);
                DecoderFolders.linear(put, o + "mlp.down", m + "down_proj", b);
            }
            DecoderFolders.norm(put, "decoder.final_norm", "model.norm", false);
            if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
        });
    }
}
