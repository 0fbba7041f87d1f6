// HfNeox — the parallel-residual decoders' Hugging Face folders: GPT-NeoX (model_type gpt_neox: EleutherAI's Pythia suite,
// GPT-NeoX-20B, Dolly v2, RedPajama-INCITE), Phi (model_type phi: microsoft/phi-1, phi-1_5, phi-2) and GPT-J (model_type
// gptj: EleutherAI/gpt-j-6b and its fine-tunes). Their config, their tensor names, GPT-NeoX's fused query_key_value, whose
// rows interleave the heads, regrouped as they load, and GPT-J's q / k rows permuted so that its pairwise rotation is
// rotate_half's.
package org.transformer4j.model;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
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

final class HfNeox {

    private HfNeox() {}

    static final Set<String> TYPES = Set.of("gpt_neox", "phi", "gptj", "codegen");

    /** The buffers transformers 4.2x saved with GPT-NeoX's weights (Pythia's files carry them); GPTNeoXPreTrainedModel ignores them. */
    private static final List<String> LEGACY_BUFFERS = List.of(".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq");

    /** The same buffers under GPT-2's attention name (attn.): GPT-J's and GPT-BigCode's older files carry them. */
    static final List<String> ATTN_BUFFERS = List.of(".attn.bias", ".attn.masked_bias", ".attn.causal_mask");

    /** CodeGenAttention's mp_num: its qkv_proj output is 4 groups of [query | value | key] (CodeGen's TPU-v4 cores). */
    static final int CODEGEN_GROUPS = 4;

    /**
     * config.json → TransformerConfig with the config classes' defaults. Both: pre-LayerNorm (with bias, layer_norm_eps 1e-5),
     * a plain MLP (hidden_act), RoPE over the first int(head_size · partial factor) dimensions of each head (rotate_half
     * within them), max_position_embeddings 2048, untied output unless tie_word_embeddings. GPTNeoXConfig: hidden_act gelu
     * (gelu_fast, GPT-NeoX-20B's, is the tanh form), attention_bias true (query_key_value and dense), MLP biases always,
     * use_parallel_residual true (x + attn(N1 x) + mlp(N2 x); false: one after the other), multi-head; 4.x rotary_emb_base
     * 10000 and rotary_pct 0.25 (and rope_scaling), 5.x rope_parameters {rope_theta, partial_rotary_factor, …}. PhiConfig:
     * hidden_act gelu_new, every projection and lm_head with a bias, num_key_value_heads (default the heads), one input
     * norm feeding attention and MLP in parallel (PhiDecoderLayer), partial_rotary_factor 0.5, rope_theta 10000;
     * qk_layernorm (a LayerNorm per head, false in every published Phi) is refused.
     */
    static TransformerConfig config(HfConfig cfg) throws CheckpointException {
        String type = cfg.modelType();
        if (type.equals("gptj") || type.equals("codegen")) return gptjConfig(cfg);
        boolean neox = type.equals("gpt_neox");
        int c = cfg.size("hidden_size"), nh = cfg.size("num_attention_heads");
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        int hd = c / nh;
        int nkv = neox ? nh : cfg.size("num_key_value_heads", nh);
        if (nh % nkv != 0) throw cfg.error("num_key_value_heads " + nkv + " does not divide num_attention_heads " + nh);
        if (!neox && cfg.bool("qk_layernorm", false)) {
            throw cfg.error("qk_layernorm is not supported (a LayerNorm per head of q and k; phi-1, phi-1.5 and phi-2 publish it false)");
        }
        String act = cfg.string("hidden_act", neox ? "gelu" : "gelu_new");
        TransformerConfig.Activation a = switch (act) {
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> TransformerConfig.Activation.GELU_TANH;
            case "relu" -> TransformerConfig.Activation.RELU;
            case "silu", "swish" -> TransformerConfig.Activation.SILU;
            default -> throw cfg.error("hidden_act '" + act + "' is not one of gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu");
        };
        int mpe = cfg.size("max_position_embeddings", 2048);
        boolean attnBias = !neox || cfg.bool("attention_bias", true);
        int v = cfg.size("vocab_size");
        boolean parallel = !neox || cfg.bool("use_parallel_residual", true);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("intermediate_size"))
                .heads(nh, nkv, hd).decoderLayers(cfg.size("num_hidden_layers"))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_eps", 1e-5))
                .activation(a, false).rope(rope(cfg, neox, hd, mpe)).maxPositions(mpe)
                .biases(true).linearBiases(new TransformerConfig.Biases(attnBias, attnBias, true))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .parallel(!parallel ? TransformerConfig.ParallelBlock.NONE
                        : neox ? TransformerConfig.ParallelBlock.TWO_NORMS : TransformerConfig.ParallelBlock.SHARED_NORM)
                .headBias(!neox)
                .specialIds(specialIds(cfg, v, -1, neox ? 0 : 1, 2)).build();      // GPTNeoXConfig(bos 0, eos 2), PhiConfig(bos 1, eos 2)
    }

    /**
     * pad, bos and eos as a config class with these defaults reads them (−1: none): an absent field takes its default, null
     * is none, a list gives its first id; an id outside the vocabulary is none. For the families of this class, HfOpt,
     * HfBigCode and HfFalcon.
     */
    static TransformerConfig.SpecialIds specialIds(HfConfig cfg, int vocab, int pad, int bos, int eos) throws CheckpointException {
        return new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", pad, vocab), id(cfg, "bos_token_id", bos, vocab),
                id(cfg, "eos_token_id", eos, vocab), -1, -1);
    }

    private static int id(HfConfig cfg, String field, int dflt, int vocab) throws CheckpointException {
        int id = cfg.present(field) ? cfg.firstId(field) : dflt;
        return id >= 0 && id < vocab ? id : -1;
    }

    /**
     * GPTJConfig: n_embd 4096, n_head 16, n_layer 28, n_inner 4 · n_embd, n_positions 2048, rotary_dim 64 (null: the whole
     * head), activation_function gelu_new, layer_norm_epsilon 1e-5, untied, bos = eos = 50256. The rotation's base is
     * 10000 (create_sinusoidal_positions); q, k, v and out_proj carry no bias, fc_in / fc_out and lm_head do.
     */
    static TransformerConfig gptjConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("n_embd", 4096), nh = cfg.size("n_head", 16);
        if (c % nh != 0) throw cfg.error("n_embd " + c + " is not divisible by n_head " + nh);
        boolean codegen = cfg.modelType().equals("codegen");
        if (codegen && nh % CODEGEN_GROUPS != 0) {
            throw cfg.error("n_head " + nh + " is not a multiple of CodeGen's " + CODEGEN_GROUPS + " qkv_proj groups (mp_num)");
        }
        if (codegen && cfg.present("rotary_dim") && !cfg.has("rotary_dim")) {
            throw cfg.error("rotary_dim null is not supported for codegen (CodeGenAttention then sizes its sinusoids by n_embd,"
                    + " not the head); every published CodeGen sets it");
        }
        int hd = c / nh, rotary = cfg.size("rotary_dim", cfg.present("rotary_dim") ? hd : 64);
        if (rotary < 2 || rotary % 2 != 0 || rotary > hd) throw cfg.error("rotary_dim " + rotary + " must be even and in [2, " + hd + "]");
        String act = cfg.string("activation_function", "gelu_new");
        TransformerConfig.Activation a = switch (act) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> TransformerConfig.Activation.GELU_TANH;
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "relu" -> TransformerConfig.Activation.RELU;
            default -> throw cfg.error("activation_function '" + act + "' is not one of gelu_new, gelu, relu");
        };
        int v = cfg.size("vocab_size", 50400), mpe = cfg.size("n_positions", 2048);
        return TransformerConfig.builder().vocabSize(v).modelWidth(c).mlpWidth(cfg.size("n_inner", 4L * c))
                .heads(nh, nh, hd).decoderLayers(cfg.size("n_layer", 28))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_epsilon", 1e-5))
                .activation(a, false).rope(TransformerConfig.Rope.plain(10000, rotary)).maxPositions(mpe)
                .biases(true).linearBiases(new TransformerConfig.Biases(false, false, true))
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", false), 1f)
                .parallel(TransformerConfig.ParallelBlock.SHARED_NORM).headBias(true)
                .specialIds(specialIds(cfg, v, -1, 50256, 50256)).build();
    }

    /**
     * The rotary settings: 5.x rope_parameters (rope_theta and partial_rotary_factor inside); else GPT-NeoX's 4.x
     * rotary_emb_base and rotary_pct (GPTNeoXConfig stored them as rope_theta / partial_rotary_factor too; the NeoX names
     * come first) with rope_scaling, or Phi's rope_theta, partial_rotary_factor and rope_scaling.
     */
    static TransformerConfig.Rope rope(HfConfig cfg, boolean neox, int hd, int mpe) throws CheckpointException {
        HfConfig p = cfg.has("rope_parameters") ? cfg.object("rope_parameters") : cfg.object("rope_scaling");
        double dfltPartial = neox ? 0.25 : 0.5;
        double theta, partial;
        if (cfg.has("rope_parameters")) {
            theta = p.number("rope_theta", 10000);
            partial = p.number("partial_rotary_factor", cfg.number(neox ? "rotary_pct" : "partial_rotary_factor", dfltPartial));
        } else if (neox) {
            theta = cfg.number("rotary_emb_base", cfg.number("rope_theta", 10000));
            partial = cfg.number("rotary_pct", cfg.number("partial_rotary_factor", dfltPartial));
        } else {
            theta = cfg.number("rope_theta", 10000);
            partial = cfg.number("partial_rotary_factor", dfltPartial);
        }
        if (!(partial > 0 && partial <= 1)) throw cfg.error("the partial rotary factor must be in (0, 1], got " + partial);
        int rotary = (int) (hd * partial);                                  // int(head_size * rotary_pct), as transformers
        if (rotary < 2 || rotary % 2 != 0) {
            throw cfg.error("int(head size " + hd + " × partial rotary factor " + partial + ") = " + rotary
                    + " rotary dimensions; an even number ≥ 2 is needed");
        }
        return HfDecoders.ropeOf(cfg, p, theta, rotary, mpe);
    }

    /** The checkpoint's names and shapes (GPTNeoXForCausalLM / PhiForCausalLM state_dict names). */
    static HfLayout layout(TransformerConfig c, String type) {
        Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
        long cw = c.modelWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize(), f = c.mlpWidth();
        if (type.equals("gptj") || type.equals("codegen")) {
            req.put("transformer.wte.weight", new long[] {c.vocabSize(), cw});
            for (int i = 0; i < c.decoderLayers(); i++) {
                String l = "transformer.h." + i + ".";
                norm(req, l + "ln_1", cw);
                if (type.equals("codegen")) req.put(l + "attn.qkv_proj.weight", new long[] {3 * cw, cw});
                for (String p : type.equals("codegen") ? List.of("out_proj") : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
                    req.put(l + "attn." + p + ".weight", new long[] {cw, cw});
                }
                linear(req, l + "mlp.fc_in", f, cw, true);
                linear(req, l + "mlp.fc_out", cw, f, true);
            }
            norm(req, "transformer.ln_f", cw);
            (c.tiedEmbeddings() ? opt : req).put("lm_head.weight", new long[] {c.vocabSize(), cw});
            req.put("lm_head.bias", new long[] {c.vocabSize()});
            return HfLayout.listed(type, req, opt, ATTN_BUFFERS);
        }
        boolean neox = type.equals("gpt_neox");
        String root = neox ? "gpt_neox." : "model.";
        req.put(root + (neox ? "embed_in.weight" : "embed_tokens.weight"), new long[] {c.vocabSize(), cw});
        for (int i = 0; i < c.decoderLayers(); i++) {
            String l = root + "layers." + i + ".";
            norm(req, l + "input_layernorm", cw);
            if (neox) {
                norm(req, l + "post_attention_layernorm", cw);
                linear(req, l + "attention.query_key_value", q + 2 * kv, cw, c.qkvBias());
                linear(req, l + "attention.dense", cw, q, c.outBias());
                linear(req, l + "mlp.dense_h_to_4h", f, cw, true);
                linear(req, l + "mlp.dense_4h_to_h", cw, f, true);
            } else {
                String a = l + "self_attn.";
                linear(req, a + "q_proj", q, cw, true);
                linear(req, a + "k_proj", kv, cw, true);
                linear(req, a + "v_proj", kv, cw, true);
                linear(req, a + "dense", cw, q, true);
                linear(req, l + "mlp.fc1", f, cw, true);
                linear(req, l + "mlp.fc2", cw, f, true);
            }
        }
        norm(req, root + (neox ? "final_layer_norm" : "final_layernorm"), cw);
        String head = neox ? "embed_out.weight" : "lm_head.weight";
        (c.tiedEmbeddings() ? opt : req).put(head, new long[] {c.vocabSize(), cw});
        if (c.headBias()) req.put("lm_head.bias", new long[] {c.vocabSize()});
        return HfLayout.listed(type, req, opt, neox ? LEGACY_BUFFERS : List.of(".rotary_emb.inv_freq"));
    }

    /** A LayerNorm's weight and bias (C) under {@code p}, as every LayerNorm decoder's layout lists them (also HfOpt's). */
    static void norm(Map<String, long[]> req, String p, long c) {
        req.put(p + ".weight", new long[] {c});
        req.put(p + ".bias", new long[] {c});
    }

    /** An nn.Linear's weight (out, in) and, with {@code bias}, its bias (out) under {@code p}. */
    static void linear(Map<String, long[]> req, String p, long out, long in, boolean bias) {
        req.put(p + ".weight", new long[] {out, in});
        if (bias) req.put(p + ".bias", new long[] {out});
    }

    /**
     * The folder's model onto {@code backend} in {@code dtype} ({@code head} false: no output matrix, hidden states only;
     * see {@link HfDecoders#load(HfConfig, Path, Backend, DType, boolean)}). GPT-NeoX's query_key_value (3C, C) holds per head
     * h the rows [q_h | k_h | v_h] (GPTNeoXAttention views its output as (…, heads, 3 · head_size) and chunks the last
     * dimension); q, k and v are gathered from it as they load, one at a time (a copy of one third of the matrix in the
     * stored dtype), and the projection fused again as [q ; k ; v] by the loader. A LoRA adapter merges into Phi's
     * projections (their names are PEFT's target modules); GPT-NeoX's fused, interleaved one is refused, as are quantized
     * folders.
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, LoraAdapter lora) throws IOException {
        TransformerConfig c = config(cfg);
        String type = cfg.modelType();
        boolean neox = type.equals("gpt_neox");
        if (cfg.has("quantization_config")) {
            throw cfg.error("quantized " + type + " folders are not supported (quantization_config); load the unquantized model");
        }
        if (lora != null && (neox || type.equals("gptj") || type.equals("codegen"))) {
            throw cfg.error("LoRA adapters are not supported for " + type + " (its q / k rows are rearranged as they load); phi and the"
                    + " Llama family's folders take them");
        }
        String outName = neox ? "embed_out.weight" : "lm_head.weight";       // GPT-J's too
        return DecoderFolders.load(type, c, layout(c, type), dir, backend, dtype, head, lora,
                names -> DecoderFolders.Stored.asLaid(names, !head, outName, "lm_head.bias"), (hf, put) -> {
            parts(c, type, hf, head, put);
            if (c.tiedEmbeddings() || !head) hf.remove(outName);
        });
    }

    /** Our names ← the checkpoint's; GPT-NeoX's q, k and v offered as tensors gathered from query_key_value when asked for. */
    private static void parts(TransformerConfig c, String type, LazyTensors hf, boolean head,
                              java.util.function.BiConsumer<String, String> put) {
        if (type.equals("gptj") || type.equals("codegen")) {
            boolean codegen = type.equals("codegen");
            put.accept("embeddings.tokens", "transformer.wte.weight");
            int rotary = c.rope().rotaryDim();
            for (int i = 0; i < c.decoderLayers(); i++) {
                String o = "decoder." + i + ".", l = "transformer.h." + i + ".";
                put.accept(o + "attn_norm.weight", l + "ln_1.weight");
                put.accept(o + "attn_norm.bias", l + "ln_1.bias");
                for (String x : List.of("q", "k")) {                      // rows permuted: GPT-J's pairs become rotate_half's halves
                    if (codegen) {                                        // CodeGen: gathered from qkv_proj first
                        String key = l + "attn.qkv_proj.weight", made = key + "[" + x + ", rotate_half]";
                        Tensor whole = hf.get(key);
                        hf.later(made, () -> {
                            try (Tensor rows = gather(whole, codegenRows(c.modelWidth(), x.equals("q") ? 0 : 2))) {
                                return rotaryRows(rows, c.heads(), c.headSize(), rotary);
                            }
                        });
                        put.accept(o + "self." + x, made);
                        continue;
                    }
                    String key = l + "attn." + x + "_proj.weight", made = key + "[rotate_half]";
                    Tensor whole = hf.get(key);
                    hf.later(made, () -> rotaryRows(whole, c.heads(), c.headSize(), rotary));
                    put.accept(o + "self." + x, made);
                }
                if (codegen) {
                    String key = l + "attn.qkv_proj.weight", made = key + "[v]";
                    Tensor whole = hf.get(key);
                    hf.later(made, () -> gather(whole, codegenRows(c.modelWidth(), 1)));
                    put.accept(o + "self.v", made);
                } else {
                    put.accept(o + "self.v", l + "attn.v_proj.weight");
                }
                put.accept(o + "self.o", l + "attn.out_proj.weight");
                put.accept(o + "mlp.up", l + "mlp.fc_in.weight");
                put.accept(o + "mlp.up.bias", l + "mlp.fc_in.bias");
                put.accept(o + "mlp.down", l + "mlp.fc_out.weight");
                put.accept(o + "mlp.down.bias", l + "mlp.fc_out.bias");
            }
            put.accept("decoder.final_norm.weight", "transformer.ln_f.weight");
            put.accept("decoder.final_norm.bias", "transformer.ln_f.bias");
            if (head) {
                if (!c.tiedEmbeddings()) put.accept("lm_head", "lm_head.weight");
                put.accept("output.bias", "lm_head.bias");
            }
            return;
        }
        boolean neox = type.equals("gpt_neox");
        String root = neox ? "gpt_neox." : "model.";
        put.accept("embeddings.tokens", root + (neox ? "embed_in.weight" : "embed_tokens.weight"));
        for (int i = 0; i < c.decoderLayers(); i++) {
            String o = "decoder." + i + ".", l = root + "layers." + i + ".";
            put.accept(o + "attn_norm.weight", l + "input_layernorm.weight");
            put.accept(o + "attn_norm.bias", l + "input_layernorm.bias");
            if (neox) {
                put.accept(o + "mlp_norm.weight", l + "post_attention_layernorm.weight");
                put.accept(o + "mlp_norm.bias", l + "post_attention_layernorm.bias");
                String qkv = l + "attention.query_key_value.";
                String[] names = {"q", "k", "v"};
                Tensor whole = hf.get(qkv + "weight"), wholeBias = hf.get(qkv + "bias");
                for (int j = 0; j < 3; j++) {
                    int part = j;
                    String w = qkv + "weight[" + names[j] + "]", b = qkv + "bias[" + names[j] + "]";
                    hf.later(w, () -> headRows(whole, c.heads(), c.headSize(), part));
                    put.accept(o + "self." + names[j], w);
                    if (wholeBias != null) {
                        hf.later(b, () -> headRows(wholeBias, c.heads(), c.headSize(), part));
                        put.accept(o + "self." + names[j] + ".bias", b);
                    }
                }
                put.accept(o + "self.o", l + "attention.dense.weight");
                put.accept(o + "self.o.bias", l + "attention.dense.bias");
                put.accept(o + "mlp.up", l + "mlp.dense_h_to_4h.weight");
                put.accept(o + "mlp.up.bias", l + "mlp.dense_h_to_4h.bias");
                put.accept(o + "mlp.down", l + "mlp.dense_4h_to_h.weight");
                put.accept(o + "mlp.down.bias", l + "mlp.dense_4h_to_h.bias");
            } else {
                String a = l + "self_attn.";
                for (String x : List.of("q", "k", "v")) {
                    put.accept(o + "self." + x, a + x + "_proj.weight");
                    put.accept(o + "self." + x + ".bias", a + x + "_proj.bias");
                }
                put.accept(o + "self.o", a + "dense.weight");
                put.accept(o + "self.o.bias", a + "dense.bias");
                put.accept(o + "mlp.up", l + "mlp.fc1.weight");
                put.accept(o + "mlp.up.bias", l + "mlp.fc1.bias");
                put.accept(o + "mlp.down", l + "mlp.fc2.weight");
                put.accept(o + "mlp.down.bias", l + "mlp.fc2.bias");
            }
        }
        String fin = root + (neox ? "final_layer_norm" : "final_layernorm");
        put.accept("decoder.final_norm.weight", fin + ".weight");
        put.accept("decoder.final_norm.bias", fin + ".bias");
        if (head) {
            put.accept("lm_head", neox ? "embed_out.weight" : "lm_head.weight");
            if (c.headBias()) put.accept("output.bias", "lm_head.bias");
        }

    }

    /**
     * Part {@code j} (0 q, 1 k, 2 v) of GPT-NeoX's query_key_value weight (3C, C) or bias (3C): per head h the rows
     * [h·3·hs + j·hs, h·3·hs + (j + 1)·hs), in head order, as a new host tensor of the stored dtype (C, C) or (C). Null when
     * the stored tensor is missing or misshaped (the loader reports it).
     */
    static Tensor headRows(Tensor whole, int heads, int hs, int j) {
        if (whole == null || whole.shape(0) != 3L * heads * hs || !whole.isContiguous()) return null;
        long[] rows = new long[heads * hs];
        for (int h = 0; h < heads; h++) for (int r = 0; r < hs; r++) rows[h * hs + r] = (long) h * 3 * hs + (long) j * hs + r;
        return gather(whole, rows);
    }

    /**
     * GPT-J's q_proj or k_proj (C, C) with each head's first {@code rotary} rows reordered as [0, 2, 4, … ; 1, 3, 5, …]: GPT-J
     * rotates dims (2i, 2i + 1) together (rotate_every_two), rotate_half rotates (i, i + R/2) by the same frequency, so with q
     * and k both permuted their dot products, and so the attention, are GPT-J's (v and the output are not touched). A new host
     * tensor in the stored dtype; null when the stored one is missing or misshaped.
     */
    /**
     * The rows of CodeGen's qkv_proj (3C, C) that make its query ({@code part} 0), value (1) or key (2) projection, in head
     * order: CodeGenAttention views the output as (mp_num, 3C / mp_num) and splits each group into query | value | key of
     * L = C / mp_num, and _split_heads takes group g's heads before group g + 1's, so row g · L + i of the part is stored
     * row g · 3L + part · L + i.
     */
    static long[] codegenRows(int c, int part) {
        int l = c / CODEGEN_GROUPS;
        long[] rows = new long[c];
        for (int g = 0; g < CODEGEN_GROUPS; g++) {
            for (int i = 0; i < l; i++) rows[g * l + i] = (long) g * 3 * l + (long) part * l + i;
        }
        return rows;
    }

    static Tensor rotaryRows(Tensor whole, int heads, int hs, int rotary) {
        if (whole == null || whole.rank() != 2 || whole.shape(0) != (long) heads * hs || !whole.isContiguous()) return null;
        return gather(whole, rotaryOrder(heads, hs, rotary));
    }

    /** The rows {@link #rotaryRows} takes, in order: per head [0, 2, 4, … ; 1, 3, 5, …] over the first {@code rotary}, the rest as they are. */
    static long[] rotaryOrder(int heads, int hs, int rotary) {
        long[] rows = new long[heads * hs];
        for (int h = 0; h < heads; h++) {
            for (int r = 0; r < hs; r++) {
                int src = r < rotary / 2 ? 2 * r : r < rotary ? 2 * (r - rotary / 2) + 1 : r;
                rows[h * hs + r] = (long) h * hs + src;
            }
        }
        return rows;
    }

    /**
     * Rows {@code rows} of a contiguous host tensor (its first dimension), in that order, as a new tensor of its dtype; null
     * when the tensor is missing, not contiguous or too short (the loader then reports the stored tensor).
     */
    static Tensor gather(Tensor whole, long[] rows) {
        if (whole == null || !whole.isContiguous() || java.util.Arrays.stream(rows).anyMatch(r -> r < 0 || r >= whole.shape(0))) return null;
        long row = whole.rank() == 2 ? whole.shape(1) : 1, rowBytes = row * whole.dtype().byteSize();
        Tensor out = whole.rank() == 2 ? Tensor.empty(whole.dtype(), rows.length, row) : Tensor.empty(whole.dtype(), rows.length);
        MemorySegment from = whole.hostSegment(), to = out.hostSegment();
        for (int i = 0; i < rows.length; i++) MemorySegment.copy(from, rows[i] * rowBytes, to, i * rowBytes, rowBytes);
        return out;
    }
}
