// HfDeepseek — DeepSeek-V2 and DeepSeek-V3 folders (model_type deepseek_v2 / deepseek_v3: DeepSeek-V2-Lite, DeepSeek-V2,
// DeepSeek-Coder-V2, DeepSeek-V3 / R1, Moonlight; kimi_k2: Kimi-K2, read as DeepSeek-V3): multi-head latent attention run as plain attention over materialized K
// and V (TransformerConfig.Mla), and DeepSeek's mixture of experts (shared experts, group-limited routing, V3's sigmoid
// router with its correction bias, routed_scaling_factor).
package org.transformer4j.model;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class HfDeepseek {

    private HfDeepseek() {}

    static final String V2 = "deepseek_v2";
    static final String V3 = "deepseek_v3";
    /**
     * Moonshot's Kimi-K2 folders: model_type kimi_k2 with architectures [DeepseekV3ForCausalLM] and an auto_map to the folder's
     * copy of DeepSeek-V3's remote modeling code (transformers has no kimi_k2 type), so they are read as deepseek_v3.
     */
    static final String KIMI_K2 = "kimi_k2";
    static final java.util.Set<String> TYPES = java.util.Set.of(V2, V3, KIMI_K2);

    /** transformers' DeepseekV2RMSNorm default epsilon, which q_a_layernorm and kv_a_layernorm keep (built without rms_norm_eps). */
    static final float LATENT_NORM_EPS = 1e-6f;

    /**
     * DeepseekV2Config's / DeepseekV3Config's fields and defaults (V2: vocab 32000, hidden 4096, intermediate 11008, 32
     * layers, 32 heads, max positions 2048, bos 1, eos 2, q_lora_rank 1536, n_routed_experts 64, n_shared_experts 2,
     * moe_intermediate_size 1407, first_k_dense_replace 0, topk_method greedy, routed_scaling_factor 1; V3: vocab 129280,
     * hidden 7168, intermediate 18432, 61 layers, 128 heads, max positions 4096, bos 0, eos 1, n_routed_experts 256,
     * n_shared_experts 1, moe_intermediate_size 2048, first_k_dense_replace 3, n_group 8, topk_group 4, norm_topk_prob true,
     * routed_scaling_factor 2.5; both: kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128,
     * rms_norm_eps 1e-6, untied, rope_theta 10000). The softmax scale is qk_head_dim^-0.5, times mscale(factor,
     * mscale_all_dim)² under a scaled RoPE whose mscale_all_dim is set (transformers since PR 47435 for V2, always for V3; the
     * original DeepSeek code and vLLM alike). V2's router: softmax, greedy or group_limited_greedy (a group scores its best
     * expert), never renormalized (transformers' DeepseekV2Moe reads no norm_topk_prob); V3's: sigmoid with
     * e_score_correction_bias for the choice, groups scored by their two best, renormalized with norm_topk_prob (whatever
     * topk_method / scoring_func say: transformers' DeepseekV3MoE reads neither). Refused by name: num_key_value_heads ≠
     * num_attention_heads, attention_bias / mlp_bias, a hidden_act other than silu, moe_layer_freq ≠ 1, a head size
     * (qk_nope_head_dim + qk_rope_head_dim) smaller than v_head_dim. kimi_k2 reads as deepseek_v3 with DeepseekV3Config's
     * defaults; as its modeling code is DeepSeek-V3's remote code, whose MoEGate raises on any other, it also needs architectures
     * [DeepseekV3ForCausalLM], topk_method noaux_tc and scoring_func sigmoid where the folder names them.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        String type = cfg.modelType();
        boolean v3 = !type.equals(V2);
        if (type.equals(KIMI_K2)) kimiK2(cfg);
        int c = cfg.size("hidden_size", v3 ? 7168 : 4096), nh = cfg.size("num_attention_heads", v3 ? 128 : 32);
        int nkv = cfg.has("num_key_value_heads") ? cfg.size("num_key_value_heads") : nh;
        if (nkv != nh) {
            throw cfg.error("num_key_value_heads " + nkv + " ≠ num_attention_heads " + nh + " is not supported (kv_b_proj makes one K/V head per head)");
        }
        int nope = cfg.size("qk_nope_head_dim", 128), rope = cfg.size("qk_rope_head_dim", 64), vd = cfg.size("v_head_dim", 128);
        int kvLora = cfg.size("kv_lora_rank", 512), qLora = cfg.has("q_lora_rank") ? cfg.size("q_lora_rank") : 0;
        if (rope % 2 != 0) throw cfg.error("qk_rope_head_dim " + rope + " is odd (the rotary turns pairs of dims)");
        int hs = nope + rope;
        if (vd > hs) throw cfg.error("v_head_dim " + vd + " above qk_nope_head_dim + qk_rope_head_dim = " + hs + " is not supported (V is padded to the q/k head size)");
        if (cfg.bool("attention_bias", false)) throw cfg.error("attention_bias true is not supported for " + type + " (published folders have none)");
        if (cfg.bool("mlp_bias", false)) throw cfg.error("mlp_bias true is not supported for " + type);
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) throw cfg.error("hidden_act '" + act + "' is not supported (silu is)");
        if (cfg.has("moe_layer_freq") && cfg.size("moe_layer_freq") != 1) {
            throw cfg.error("moe_layer_freq " + cfg.size("moe_layer_freq") + " is not supported (transformers makes every layer from "
                    + "first_k_dense_replace on a mixture of experts; published folders have 1)");
        }
        int mpe = cfg.size("max_position_embeddings", v3 ? 4096 : 2048);
        HfConfig p = cfg.has("rope_parameters") ? cfg.object("rope_parameters") : cfg.has("rope_scaling") ? cfg.object("rope_scaling") : null;
        double theta = p != null && p.has("rope_theta") ? p.number("rope_theta", 10000) : cfg.number("rope_theta", 10000);
        TransformerConfig.Rope r = HfDecoders.ropeOf(cfg, p, theta, rope, mpe);
        double scale = 1 / Math.sqrt(hs);
        String kind = p == null ? "default" : p.string("rope_type", p.string("type", "default"));
        if (!kind.equals("default") && p.number("mscale_all_dim", 0) != 0) {
            double m = HfDecoders.mscale(p.number("factor", Double.NaN), p.number("mscale_all_dim", 0));
            scale *= m * m;
        }
        int v = cfg.size("vocab_size", v3 ? 129280 : 32000);
        int layers = cfg.size("num_hidden_layers", v3 ? 61 : 32);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", v3 ? 18432 : 11008))
                .heads(nh, nh, hs).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-6))
                .activation(TransformerConfig.Activation.SILU, true).rope(r).maxPositions(mpe).biases(false)
                .attentionScale((float) scale)
                .mla(new TransformerConfig.Mla(qLora, kvLora, nope, rope, vd, LATENT_NORM_EPS))
                .moe(moe(cfg, v3, layers))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .specialIds(HfNeox.specialIds(cfg, v, -1, v3 ? 0 : 1, v3 ? 1 : 2)).build();
    }

    /** The kimi_k2 folders read as DeepSeek-V3: refused by name where they say something DeepSeek-V3's remote code does not run. */
    private static void kimiK2(HfConfig cfg) throws CheckpointException {
        List<String> arch = cfg.architectures();
        if (!arch.isEmpty() && !arch.contains("DeepseekV3ForCausalLM")) {
            throw cfg.error("model_type kimi_k2 is read as DeepSeek-V3 with architectures [DeepseekV3ForCausalLM], not " + arch);
        }
        String method = cfg.string("topk_method", "noaux_tc"), scoring = cfg.string("scoring_func", "sigmoid");
        if (!method.equals("noaux_tc")) throw cfg.error("topk_method '" + method + "' is not supported for kimi_k2 (noaux_tc, DeepSeek-V3's router, is)");
        if (!scoring.equals("sigmoid")) throw cfg.error("scoring_func '" + scoring + "' is not supported for kimi_k2 (sigmoid, DeepSeek-V3's router, is)");
    }

    private static TransformerConfig.Moe moe(HfConfig cfg, boolean v3, int layers) throws CheckpointException {
        int e = cfg.size("n_routed_experts", v3 ? 256 : 64);
        if (!cfg.has("num_experts_per_tok")) throw cfg.error("num_experts_per_tok is missing (DeepSeek's routed experts need it)");
        int k = cfg.size("num_experts_per_tok"), f = cfg.size("moe_intermediate_size", v3 ? 2048 : 1407);
        int shared = cfg.has("n_shared_experts") ? cfg.size("n_shared_experts") : v3 ? 1 : 2;
        int dense = Math.min(cfg.count("first_k_dense_replace", v3 ? 3 : 0), layers);
        List<Integer> denseLayers = new ArrayList<>();
        for (int i = 0; i < dense; i++) denseLayers.add(i);
        float scale = (float) cfg.number("routed_scaling_factor", v3 ? 2.5 : 1.0);
        TransformerConfig.Routing routing;
        boolean renormalize;
        if (v3) {
            int groups = cfg.has("n_group") ? cfg.size("n_group") : 8, kept = cfg.has("topk_group") ? cfg.size("topk_group") : 4;
            routing = new TransformerConfig.Routing(true, true, groups, kept, scale);
            renormalize = cfg.bool("norm_topk_prob", true);
        } else {
            String method = cfg.string("topk_method", "greedy");
            switch (method) {
                case "greedy" -> routing = new TransformerConfig.Routing(false, false, 1, 1, scale);
                case "group_limited_greedy" -> {
                    if (!cfg.has("n_group") || !cfg.has("topk_group")) throw cfg.error("topk_method group_limited_greedy needs n_group and topk_group");
                    routing = new TransformerConfig.Routing(false, false, cfg.size("n_group"), cfg.size("topk_group"), scale);
                }
                default -> throw cfg.error("topk_method '" + method + "' is not supported for deepseek_v2 (greedy and group_limited_greedy are)");
            }
            renormalize = false;
        }
        // the router's logits in fp32 (DeepseekV2Moe / DeepseekV3TopkRouter: F.linear(x.float(), gate.weight.float()))
        return new TransformerConfig.Moe(e, k, renormalize, f, shared * f, false, denseLayers, false, routing.withFp32Logits());
    }

    /** Whether layer i of a checkpoint name is past the model's layers (DeepSeek-V3's multi-token-prediction layer 61). */
    static boolean extraLayer(String name, int layers) {
        if (!name.startsWith("model.layers.")) return false;
        int dot = name.indexOf('.', "model.layers.".length());
        if (dot < 0) return false;
        try {
            return Integer.parseInt(name.substring("model.layers.".length(), dot)) >= layers;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** DeepseekV2ForCausalLM's / DeepseekV3ForCausalLM's names and shapes (per-expert tensors, or 5.x's stacked ones). */
    static HfLayout layout(TransformerConfig c, String type, boolean fusedExperts) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        TransformerConfig.Mla m = c.mla();
        long cw = c.modelWidth(), f = c.mlpWidth(), nh = c.heads(), hs = c.headSize();
        req.put("model.embed_tokens.weight", new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = "model.layers." + i + ".", a = l + "self_attn.", ml = l + "mlp.";
            req.put(l + "input_layernorm.weight", new long[] {cw});
            req.put(l + "post_attention_layernorm.weight", new long[] {cw});
            if (m.qLoraRank() > 0) {
                req.put(a + "q_a_proj.weight", new long[] {m.qLoraRank(), cw});
                req.put(a + "q_a_layernorm.weight", new long[] {m.qLoraRank()});
                req.put(a + "q_b_proj.weight", new long[] {nh * hs, m.qLoraRank()});
            } else {
                req.put(a + "q_proj.weight", new long[] {nh * hs, cw});
            }
            req.put(a + "kv_a_proj_with_mqa.weight", new long[] {m.kvLoraRank() + m.ropeDim(), cw});
            req.put(a + "kv_a_layernorm.weight", new long[] {m.kvLoraRank()});
            req.put(a + "kv_b_proj.weight", new long[] {nh * (m.nopeDim() + m.vDim()), m.kvLoraRank()});
            req.put(a + "o_proj.weight", new long[] {cw, nh * m.vDim()});
            if (c.moeAt(i)) {
                HfDecoders.experts(req, c, l, type, fusedExperts);
                if (c.moe().routing().correctionBias()) req.put(ml + "gate.e_score_correction_bias", new long[] {c.moe().experts()});
            } else {
                req.put(ml + "gate_proj.weight", new long[] {f, cw});
                req.put(ml + "up_proj.weight", new long[] {f, cw});
                req.put(ml + "down_proj.weight", new long[] {cw, f});
            }
        }
        req.put("model.norm.weight", new long[] {cw});
        (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
        return HfLayout.listed(type, req, opt, List.of(".rotary_emb.inv_freq"));
    }

    /**
     * The folder's model; {@code head} false leaves the output matrix out. Made as they load (one layer's at a time): q's
     * rows per head as [pe | nope] (V3 with rope_interleave and V2, whose rotary turns the pairs (2i, 2i + 1), with the pe rows
     * in rotate_half's order [0, 2, … ; 1, 3, …]: the same order on q and k leaves every q·k); kv_a_proj_with_mqa's rows as
     * [k_pe (that order) ; c] ({@link #kvARows}); the fused [K ; V] over the latent [k_pe ; RMSNorm(c)] (K's pe rows the
     * identity on k_pe, its nope rows kv_b_proj's over c; V's rows kv_b_proj's v rows then zeros); o_proj with zero columns at each head's padding. Layers past num_hidden_layers (V3's
     * multi-token-prediction layer) are left alone, as transformers leaves them. FP8 folders (DeepSeek-V3's block-scaled
     * layout) are dequantized as they load; LoRA adapters merged at load are refused (serve them per request: also refused
     * for MLA, whose projections are not q_proj / k_proj / v_proj).
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        String type = cfg.modelType();
        if (lora != null) throw cfg.error("LoRA adapters are not supported for " + type + " (multi-head latent attention)");
        boolean interleave = type.equals(V2) || cfg.bool("rope_interleave", true);
        if (IntQuant.applies(cfg)) {
            throw cfg.error("AWQ / GPTQ " + type + " folders are not supported (FP8 ones are: quant_method fp8 or compressed-tensors'"
                    + " float-quantized, dequantized at load)");
        }
        return Pretrained.mapped(dir, (ck, share) -> {
            boolean fused = HfDecoders.fusedExperts(ck.names());
            Fp8 fp8 = Fp8.of(cfg, ck, dir, type);
            if (fp8 != null && fused) throw cfg.error("FP8 weights are not supported for 5.x's fused expert tensors (weights made as they load come one at a time and cannot be split)");
            HfLayout ours = layout(c, type, fused);
            List<String> skip = new ArrayList<>();
            for (String n : ck.names()) if (extraLayer(n, c.decoderLayers())) skip.add(n);
            if (!head && ck.names().contains("lm_head.weight")) skip.add("lm_head.weight");
            if (fp8 != null) skip.addAll(fp8.readPast);
            Map<String, Tensor> found = HfDecoders.renamed(ours, name -> name, name -> !head && name.equals("lm_head.weight"), skip, type, ck,
                    dir, fp8, null, null, backend, dtype);
            LazyTensors hf = found instanceof LazyTensors made ? made : new LazyTensors(found);
            try {
                Map<String, HfWeights.Part> parts = new LinkedHashMap<>();
                map(hf, c, type, interleave, head, (ours2, key) -> parts.put(ours2, new HfWeights.Part(key, false, -1, -1)));
                return HfWeights.load(type, hf, parts, backend, dtype, share, w -> Weights.build(c, w, 0, head));
            } finally {
                hf.close();
            }
        });
    }

    private static void map(LazyTensors hf, TransformerConfig c, String type, boolean interleave, boolean head, BiConsumer<String, String> put) {
        TransformerConfig.Mla m = c.mla();
        put.accept("embeddings.tokens", "model.embed_tokens.weight");
        for (int i = 0; i < c.decoderLayers(); i++) {
            String o = "decoder." + i + ".", l = "model.layers." + i + ".", a = l + "self_attn.", ml = l + "mlp.";
            DecoderFolders.norm(put, o + "attn_norm", l + "input_layernorm", false);
            DecoderFolders.norm(put, o + "mlp_norm", l + "post_attention_layernorm", false);
            String q = m.qLoraRank() > 0 ? a + "q_b_proj.weight" : a + "q_proj.weight";
            if (m.qLoraRank() > 0) {
                put.accept(o + "self.q_a", a + "q_a_proj.weight");
                put.accept(o + "self.q_a_norm.weight", a + "q_a_layernorm.weight");
            }
            hf.later(q + "[pe|nope]", () -> hf.with(q, w -> HfNeox.gather(w, qRows(c, interleave))));
            put.accept(o + "self.q", q + "[pe|nope]");
            String kva = a + "kv_a_proj_with_mqa.weight";
            hf.later(kva + "[pe;c]", () -> hf.with(kva, w -> HfNeox.gather(w, kvARows(c, interleave))));
            put.accept(o + "self.kv_a", kva + "[pe;c]");
            put.accept(o + "self.kv_a_norm.weight", a + "kv_a_layernorm.weight");
            String kvb = a + "kv_b_proj.weight", ow = a + "o_proj.weight";
            hf.later(kvb + "[K;V]", () -> hf.with(kvb, w -> kv(w, c)));
            put.accept(o + "self.kv", kvb + "[K;V]");
            hf.later(ow + "[padded]", () -> hf.with(ow, w -> paddedOut(w, c)));
            put.accept(o + "self.o", ow + "[padded]");
            if (c.moeAt(i)) {
                HfDecoders.expertParts(hf, c, type, o + "moe.", l, put);
                if (c.moe().routing().correctionBias()) put.accept(o + "moe.router.correction_bias", ml + "gate.e_score_correction_bias");
            } else {
                put.accept(o + "mlp.up", ml + "gate_proj.weight");                   // ours: act(up) · gate
                put.accept(o + "mlp.gate", ml + "up_proj.weight");
                put.accept(o + "mlp.down", ml + "down_proj.weight");
            }
        }
        DecoderFolders.norm(put, "decoder.final_norm", "model.norm", false);
        if (head && !c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
    }

    /** The pe dims' order within a head: rotate_half's [0, 2, … ; 1, 3, …] for DeepSeek's pairwise rotary, else as they are. */
    private static int pe(int j, int rope, boolean interleave) {
        return !interleave ? j : j < rope / 2 ? 2 * j : 2 * (j - rope / 2) + 1;
    }

    /** q_proj / q_b_proj rows per head: [pe (in {@link #pe} order) | nope], from the stored [nope | pe]. */
    static long[] qRows(TransformerConfig c, boolean interleave) {
        TransformerConfig.Mla m = c.mla();
        int hs = c.headSize(), nope = m.nopeDim(), rope = m.ropeDim();
        long[] rows = new long[c.heads() * hs];
        for (int h = 0; h < c.heads(); h++) {
            for (int j = 0; j < hs; j++) rows[h * hs + j] = (long) h * hs + (j < rope ? nope + pe(j, rope, interleave) : j - rope);
        }
        return rows;
    }

    /**
     * kv_a_proj_with_mqa's rows as ours [k_pe (in {@link #pe} order) ; c] from the stored [c ; k_pe]: the latent row, a
     * latent cache's key, starts with the dims RoPE turns, as each head's q and k do.
     */
    static long[] kvARows(TransformerConfig c, boolean interleave) {
        TransformerConfig.Mla m = c.mla();
        int lat = m.kvLoraRank(), rope = m.ropeDim();
        long[] rows = new long[lat + rope];
        for (int j = 0; j < rope; j++) rows[j] = lat + pe(j, rope, interleave);
        for (int i = 0; i < lat; i++) rows[rope + i] = i;
        return rows;
    }

    /**
     * The fused [K ; V] (2·NH·HS, ropeDim + kvLoraRank) over the latent [k_pe ; RMSNorm(c)] from kv_b_proj (NH·(nope + v),
     * kvLoraRank), in its dtype: head h's K rows [pe: the identity row of the latent's dim j (k_pe already in {@link #pe}
     * order, {@link #kvARows}) | nope: kv_b_proj's k_nope rows over c, zero over k_pe], its V rows [kv_b_proj's v rows over c,
     * zero over k_pe | zero rows to HS]. The latent decode (Transformer's absorbed MLA) reads the same rows: q_h·K_h and
     * the latent output·V_hᵀ. Null where kv_b_proj is missing or misshaped (the loader reports it).
     */
    static Tensor kv(Tensor kvb, TransformerConfig c) {
        TransformerConfig.Mla m = c.mla();
        int nh = c.heads(), hs = c.headSize(), nope = m.nopeDim(), rope = m.ropeDim(), vd = m.vDim(), lat = m.kvLoraRank(), in = lat + rope;
        if (kvb == null || kvb.rank() != 2 || kvb.shape(0) != (long) nh * (nope + vd) || kvb.shape(1) != lat || !kvb.isContiguous()) return null;
        long es = kvb.dtype().byteSize();
        Tensor out = Tensor.empty(kvb.dtype(), 2L * nh * hs, in);
        MemorySegment from = kvb.hostSegment(), to = out.hostSegment();
        to.fill((byte) 0);
        for (int h = 0; h < nh; h++) {
            long kRow = (long) h * hs, vRow = (long) (nh + h) * hs, src = (long) h * (nope + vd);
            for (int j = 0; j < rope; j++) out.setFloat(1f, kRow + j, j);
            for (int j = 0; j < nope; j++) MemorySegment.copy(from, (src + j) * lat * es, to, ((kRow + rope + j) * in + rope) * es, lat * es);
            for (int j = 0; j < vd; j++) MemorySegment.copy(from, (src + nope + j) * lat * es, to, ((vRow + j) * in + rope) * es, lat * es);
        }
        return out;
    }

    /** o_proj (C, NH·v) as (C, NH·HS), in its dtype: head h's v columns at h·HS, zero columns where V is padded. */
    static Tensor paddedOut(Tensor o, TransformerConfig c) {
        int nh = c.heads(), hs = c.headSize(), vd = c.mla().vDim();
        if (o == null || o.rank() != 2 || o.shape(1) != (long) nh * vd || !o.isContiguous()) return null;
        long rows = o.shape(0), es = o.dtype().byteSize();
        Tensor out = Tensor.empty(o.dtype(), rows, (long) nh * hs);
        MemorySegment from = o.hostSegment(), to = out.hostSegment();
        to.fill((byte) 0);
        for (long r = 0; r < rows; r++) {
            for (int h = 0; h < nh; h++) MemorySegment.copy(from, (r * nh * vd + (long) h * vd) * es, to, (r * nh * hs + (long) h * hs) * es, vd * es);
        }
        return out;
    }
}
