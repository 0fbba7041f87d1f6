// GptOss — OpenAI's gpt-oss folders (transformers' model_type gpt_oss, GptOssForCausalLM): config.json as
// configuration_gpt_oss.py reads it, and the experts as the published checkpoints store them (MXFP4 blocks and
// scales, as integrations/mxfp4.py's convert_moe_packed_tensors decodes them) or dequantized (gate_up_proj
// (E, C, 2F) with gate and up interleaved, down_proj (E, F, C)), turned into this library's stacked [up ; gate]
// rows expert by expert while the weights load.
package org.transformer4j.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.model.weights.SafetensorsDType;
import org.transformer4j.model.weights.TensorEntry;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class GptOss {

    private GptOss() {}

    static final String TYPE = "gpt_oss";

    /**
     * GptOssConfig → TransformerConfig: Llama's pre-RMSNorm blocks (eps 1e-5), biases on q, k, v and o (attention_bias,
     * default true), per-head attention sinks, GQA with head_dim (64), yarn RoPE (rope_theta 150000; GptOssConfig's
     * default yarn, factor 32 over 4096 positions, beta 32 / 1, truncate false, when the config names none), layer i
     * sliding (sliding_window, 128) where layer_types says so, else when (i + 1) % 2 (the even layers); every layer's
     * MLP a mixture of num_local_experts (128) experts of intermediate_size, top num_experts_per_tok (4) of the router's
     * logits softmaxed over the k (the renormalized top-k of the softmax), router and expert biases, and the clamped
     * SwiGLU with swiglu_alpha 1.702 and swiglu_limit 7 (other values are refused: the kernels have those constants).
     * A quantization_config other than mxfp4 is refused.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 2880), nh = cfg.size("num_attention_heads", 64), nkv = cfg.size("num_key_value_heads", nh);
        int layers = cfg.size("num_hidden_layers", 36), hd = cfg.size("head_dim", 64);
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        double alpha = cfg.number("swiglu_alpha", 1.702), limit = cfg.number("swiglu_limit", 7.0);
        if ((float) alpha != Activation.SWIGLU_ALPHA || (float) limit != Activation.SWIGLU_LIMIT) {
            throw cfg.error("swiglu_alpha " + alpha + " and swiglu_limit " + limit + " are not supported (the clamped SwiGLU runs with "
                    + "1.702 and 7, the values of every published gpt-oss checkpoint)");
        }
        HfConfig q = cfg.object("quantization_config");
        if (q != null && !q.string("quant_method", "").equals("mxfp4")) {
            throw q.error("quant_method '" + q.string("quant_method", "") + "' is not supported (mxfp4 experts, or none)");
        }
        String act = cfg.string("hidden_act", "silu");
        if (!act.equals("silu")) throw cfg.error("hidden_act '" + act + "': gpt-oss's experts use their clamped SwiGLU (silu)");
        int mpe = cfg.size("max_position_embeddings", 131072), v = cfg.size("vocab_size", 201088);
        boolean bias = cfg.bool("attention_bias", true);
        int pad = cfg.firstId("pad_token_id"), bos = cfg.firstId("bos_token_id"), eos = cfg.firstId("eos_token_id");
        TransformerConfig.Moe moe = new TransformerConfig.Moe(cfg.size("num_local_experts", 128), cfg.size("num_experts_per_tok", 4), true,
                cfg.size("intermediate_size", 2880), 0, false, List.of(), true);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size", 2880))
                .heads(nh, nkv, hd).decoderLayers(layers)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("rms_norm_eps", 1e-5))
                .activation(TransformerConfig.Activation.SWIGLU_OAI, true).rope(rope(cfg, hd, mpe)).maxPositions(mpe)
                .biases(false).linearBiases(new TransformerConfig.Biases(bias, bias, false))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .windows(HfDecoders.windows(cfg, TYPE, layers)).moe(moe).attentionSinks(true)
                .specialIds(new TransformerConfig.SpecialIds(pad < v ? pad : -1, bos < v ? bos : -1, eos < v ? eos : -1, -1, -1)).build();
    }

    private static TransformerConfig.Rope rope(HfConfig cfg, int hd, int mpe) throws CheckpointException {
        if (cfg.has("rope_parameters") || cfg.has("rope_scaling")) return HfDecoders.rope(cfg, TYPE, hd, mpe);
        double original = 4096, factor = 32;                                  // GptOssConfig's default rope_parameters
        return TransformerConfig.Rope.yarn(cfg.number("rope_theta", 150000), hd, factor, (int) original, 0.1 * Math.log(factor) + 1,
                new TransformerConfig.Rope.Yarn(32, 1, false));
    }

    /** Layer l's expert keys, the published checkpoints' (MXFP4) or the dequantized ones', with their shapes. */
    static void layout(Map<String, long[]> req, TransformerConfig c, String l, boolean mxfp4) {
        long e = c.moe().experts(), f = c.moe().expertWidth(), cw = c.modelWidth();
        String m = l + "mlp.";
        req.put(m + "router.weight", new long[] {e, cw});
        req.put(m + "router.bias", new long[] {e});
        req.put(m + "experts.gate_up_proj_bias", new long[] {e, 2 * f});
        req.put(m + "experts.down_proj_bias", new long[] {e, cw});
        if (!mxfp4) {
            req.put(m + "experts.gate_up_proj", new long[] {e, cw, 2 * f});
            req.put(m + "experts.down_proj", new long[] {e, f, cw});
        }
    }

    /** Whether the folder stores its experts as MXFP4 blocks and scales (the published checkpoints). */
    static boolean mxfp4(java.util.Collection<String> names) {
        return names.stream().anyMatch(k -> k.endsWith(".mlp.experts.gate_up_proj_blocks"));
    }

    /** The suffixes of the MXFP4 tensors, which the floating-point layout check leaves to {@link #checkBlocks}. */
    static final List<String> BLOCK_SUFFIXES = List.of(".mlp.experts.gate_up_proj_blocks", ".mlp.experts.gate_up_proj_scales",
            ".mlp.experts.down_proj_blocks", ".mlp.experts.down_proj_scales");

    /** Every layer's MXFP4 blocks and scales present, U8, shaped for the config; nothing else under those names. */
    static void checkBlocks(TransformerConfig c, SafetensorsCheckpoint ck, java.nio.file.Path dir) throws CheckpointException {
        long e = c.moe().experts(), f = c.moe().expertWidth(), cw = c.modelWidth();
        List<String> problems = new java.util.ArrayList<>();
        if (cw % 32 != 0 || f % 32 != 0) problems.add("MXFP4 needs hidden_size and intermediate_size divisible by 32");
        java.util.Set<String> expected = new java.util.HashSet<>();
        for (int i = 0; i < c.decoderLayers(); i++) {
            String m = "model.layers." + i + ".mlp.experts.";
            Map<String, long[]> want = Map.of(m + "gate_up_proj_blocks", new long[] {e, 2 * f, cw / 32, 16},
                    m + "gate_up_proj_scales", new long[] {e, 2 * f, cw / 32},
                    m + "down_proj_blocks", new long[] {e, cw, f / 32, 16}, m + "down_proj_scales", new long[] {e, cw, f / 32});
            for (var w : want.entrySet()) {
                expected.add(w.getKey());
                if (!ck.contains(w.getKey())) {
                    problems.add("missing " + w.getKey());
                    continue;
                }
                TensorEntry t = ck.entry(w.getKey());
                if (t.dtype() != SafetensorsDType.U8 || !java.util.Arrays.equals(t.shape(), w.getValue())) {
                    problems.add(w.getKey() + " is " + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + ", expected U8 "
                            + java.util.Arrays.toString(w.getValue()));
                }
            }
        }
        for (String k : ck.names()) {
            if (BLOCK_SUFFIXES.stream().anyMatch(k::endsWith) && !expected.contains(k)) problems.add("unexpected " + k);
        }
        if (!problems.isEmpty()) throw new CheckpointException(dir, "gpt_oss experts: " + String.join("; ", problems));
    }

    /**
     * Offers layer l's experts under our names (see HfDecoders.expertParts): "…gate_up_proj[ours]" (E·2F, C), each expert's
     * [up ; gate] rows (up = transformers' gate = the even columns of gate_up, gate = its odd ones); "…gate_up_proj_bias[ours]"
     * (2·E·F), all up biases then all gate biases; "…down_proj[ours]" (E·C, F); the down bias flattened to (E·C). The matrices are made when the
     * loader asks for them (one stack of one layer alive at a time: {@link LazyTensors}).
     */
    static void expertParts(LazyTensors hf, TransformerConfig c, String o, String l, SafetensorsCheckpoint ck, boolean mxfp4, boolean keep,
                            java.util.function.BiConsumer<String, String> put) {
        int e = c.moe().experts(), f = c.moe().expertWidth(), cw = c.modelWidth();
        String m = l + "mlp.experts.";
        put.accept(o + "router", l + "mlp.router.weight");
        put.accept(o + "router.bias", l + "mlp.router.bias");
        String ug = m + "gate_up_proj[ours]", dn = m + "down_proj[ours]", ugb = m + "gate_up_proj_bias[ours]";
        if (mxfp4 && keep) {                                                 // the bytes as stored, decoded in the grouped GEMM
            for (String[] k : new String[][] {{"up_gate.q", "gate_up_proj"}, {"down.q", "down_proj"}}) {
                for (String part : new String[] {"blocks", "scales"}) {
                    String key = m + k[1] + "_" + part;
                    hf.put(key, ck.tensor(key));
                    put.accept(o + k[0] + "." + part, key);
                }
            }
        } else if (mxfp4) {
            hf.later(ug, () -> upGateFromBlocks(ck.segment(m + "gate_up_proj_blocks"), ck.segment(m + "gate_up_proj_scales"), e, f, cw));
            hf.later(dn, () -> downFromBlocks(ck.segment(m + "down_proj_blocks"), ck.segment(m + "down_proj_scales"), e, f, cw));
        } else {
            Tensor gu = hf.get(m + "gate_up_proj"), d = hf.get(m + "down_proj");
            if (gu != null) hf.later(ug, () -> upGateFromDense(gu, e, f, cw));
            if (d != null) hf.later(dn, () -> downFromDense(d, e, f, cw));
        }
        Tensor b = hf.get(m + "gate_up_proj_bias");
        if (b != null) hf.later(ugb, () -> biases(b.toFloatArray(), e, f));
        Tensor db = hf.get(m + "down_proj_bias");
        if (db != null && db.isContiguous()) hf.put(m + "down_proj_bias", db.view((long) e * cw));
        put.accept(o + "up_gate", ug);
        put.accept(o + "up_gate.bias", ugb);
        put.accept(o + "down", dn);
        put.accept(o + "down.bias", m + "down_proj_bias");
    }

    /**
     * Whether gpt-oss's MXFP4 experts stay MXFP4 in memory ({@code -Dt4j.mxfp4=keep}) or are decoded to the compute dtype
     * at load ({@code dequantize}). By default they stay MXFP4 on the CPU backend (read in place from the mapped file) and on
     * CUDA in BF16 (libt4j's MXFP4 grouped GEMM, ABI 13, decodes them per tile: gpt-oss-20b's experts take ~10 GB of the GPU
     * instead of ~38 GB in BF16, 120b's ~61 GB instead of ~230 GB); CUDA in F16 or F32 decodes them at load (the GEMM takes BF16
     * activations only), and {@code keep} is refused there.
     */
    static boolean keepMxfp4(org.transformer4j.runtime.Backend backend, DType dtype) {
        return keepMxfp4(backend.kind(), dtype, System.getProperty("t4j.mxfp4", ""));
    }

    /** {@link #keepMxfp4(org.transformer4j.runtime.Backend, DType)} for a backend kind and the property's value. */
    static boolean keepMxfp4(String backendKind, DType dtype, String property) {
        String v = property.trim();
        boolean cudaCanKeep = dtype == DType.BF16;
        boolean cuda = backendKind.equals("cuda");
        return switch (v) {
            case "keep" -> {
                if (cuda && !cudaCanKeep) {
                    throw new IllegalArgumentException("-Dt4j.mxfp4=keep on CUDA needs BF16 (libt4j's MXFP4 grouped GEMM takes BF16 activations);"
                            + " this load is " + dtype + ": use -Dt4j.mxfp4=dequantize or BF16");
                }
                yield true;
            }
            case "dequantize" -> false;
            case "" -> !cuda || cudaCanKeep;
            default -> throw new IllegalArgumentException("-Dt4j.mxfp4=" + v + " is not keep or dequantize");
        };
    }

    /** Row r of expert e's interleaved (2F, n) → our row (e, r even: r / 2 (up); odd: F + r / 2 (gate)). */
    private static long ourRow(int e, int f, int r) { return (long) e * 2 * f + (r % 2 == 0 ? r / 2 : f + r / 2); }

    /** gate_up_proj_bias (E, 2F), interleaved → (2·E·F) F32: every expert's up (transformers' gate) biases, then the gates'. */
    static Tensor biases(float[] a, int e, int f) {
        Tensor out = Tensor.empty(DType.F32, 2L * e * f);
        MemorySegment o = out.hostSegment();
        for (int x = 0; x < e; x++) {
            for (int r = 0; r < 2 * f; r++) o.setAtIndex(ValueLayout.JAVA_FLOAT, (long) (r % 2) * e * f + (long) x * f + r / 2, a[x * 2 * f + r]);
        }
        return out;
    }

    /** MXFP4 (E, 2F, C/32, 16) + (E, 2F, C/32) → our (E·2F, C) F32. */
    static Tensor upGateFromBlocks(MemorySegment blocks, MemorySegment scales, int e, int f, int cw) {
        Tensor out = Tensor.empty(DType.F32, (long) e * 2 * f, cw);
        MemorySegment o = out.hostSegment();
        for (int x = 0; x < e; x++) {
            for (int r = 0; r < 2 * f; r++) decodeRow(blocks, scales, ((long) x * 2 * f + r), cw, o, ourRow(x, f, r) * cw);
        }
        return out;
    }

    /** MXFP4 (E, C, F/32, 16) + (E, C, F/32) → our (E·C, F) F32: the rows as stored. */
    static Tensor downFromBlocks(MemorySegment blocks, MemorySegment scales, int e, int f, int cw) {
        Tensor out = Tensor.empty(DType.F32, (long) e * cw, f);
        MemorySegment o = out.hostSegment();
        for (long row = 0; row < (long) e * cw; row++) decodeRow(blocks, scales, row, f, o, row * f);
        return out;
    }

    /** One row of n values (CpuMxfp4's decode, torch.ldexp's values) into out from element {@code at}. */
    private static void decodeRow(MemorySegment blocks, MemorySegment scales, long row, int n, MemorySegment out, long at) {
        float[] values = new float[n];
        org.transformer4j.runtime.cpu.CpuMxfp4.decodeRowScalar(blocks, row * (n / 32) * 16L, scales, row * (n / 32), n, values, 0);
        MemorySegment.copy(values, 0, out, ValueLayout.JAVA_FLOAT, at * 4, n);
    }

    /** Dequantized gate_up_proj (E, C, 2F), any float dtype → our (E·2F, C) F32. */
    static Tensor upGateFromDense(Tensor gu, int e, int f, int cw) {
        Tensor out = Tensor.empty(DType.F32, (long) e * 2 * f, cw);
        MemorySegment o = out.hostSegment();
        for (int x = 0; x < e; x++) {
            float[] a = gu.select(0, x).toFloatArray();                        // (C, 2F)
            for (int c = 0; c < cw; c++) {
                for (int r = 0; r < 2 * f; r++) o.setAtIndex(ValueLayout.JAVA_FLOAT, ourRow(x, f, r) * cw + c, a[c * 2 * f + r]);
            }
        }
        return out;
    }

    /** Dequantized down_proj (E, F, C) → our (E·C, F) F32 (each expert transposed). */
    static Tensor downFromDense(Tensor d, int e, int f, int cw) {
        Tensor out = Tensor.empty(DType.F32, (long) e * cw, f);
        MemorySegment o = out.hostSegment();
        for (int x = 0; x < e; x++) {
            float[] a = d.select(0, x).toFloatArray();                         // (F, C)
            for (int j = 0; j < f; j++) {
                for (int c = 0; c < cw; c++) o.setAtIndex(ValueLayout.JAVA_FLOAT, ((long) x * cw + c) * f + j, a[j * cw + c]);
            }
        }
        return out;
    }
}
