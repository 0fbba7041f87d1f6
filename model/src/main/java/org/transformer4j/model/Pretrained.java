// Pretrained — a Hugging Face model folder (config.json + safetensors) as TransformerConfig + Weights,
// for GPT-2, BERT and T5 (v1.0, v1.1 / Flan-T5): the config fields mapped one by one, the tensors checked key for key by
// HfLayout and copied by Weights' loaders.
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.FiniteCheck;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.model.weights.LoadBudget;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/**
 * Loads {@code dir}'s model onto a backend; the checkpoint file is closed before returning, unless CPU
 * weights view it (then closing the weights closes it).
 */
public final class Pretrained {

    private Pretrained() {}

    /** A token id field: 0 is a valid id (HfConfig.size wants sizes ≥ 1), -1 or null means none. */
    static int id(HfConfig cfg, String field, int dflt) throws CheckpointException {
        // PretrainedConfig takes a list of ids too (a model that ends at several): the first is the model's own here, and
        // GenerationConfig.eosIds reads them all
        if (cfg.has(field) && cfg.node(field).isArray()) return cfg.firstId(field);
        double v = cfg.number(field, dflt);
        if (v != Math.rint(v) || v < -1 || v > Integer.MAX_VALUE) throw cfg.error("config.json field '" + field + "' is " + v + ", not a token id");
        return (int) v;
    }

    /** activation_function as GPT-2's config (and GPT-Neo's, which copies it) names it, gelu_new by default. */
    static TransformerConfig.Activation gpt2Activation(HfConfig cfg) throws CheckpointException {
        String act = cfg.string("activation_function", "gelu_new");
        return switch (act) {
            case "gelu_new", "gelu_pytorch_tanh" -> TransformerConfig.Activation.GELU_TANH;
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "relu" -> TransformerConfig.Activation.RELU;
            case "silu", "swish" -> TransformerConfig.Activation.SILU;
            default -> throw cfg.error("activation_function '" + act + "' is not one of gelu_new, gelu, relu, silu");
        };
    }

    /** GPT-2's config.json (n_embd, n_layer, n_head, n_inner, n_positions, vocab_size, layer_norm_epsilon, activation_function). */
    public static TransformerConfig gpt2Config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("n_embd"), nh = cfg.size("n_head");
        if (c % nh != 0) throw cfg.error("n_embd " + c + " is not divisible by n_head " + nh);
        TransformerConfig.Activation a = gpt2Activation(cfg);
        int v = cfg.size("vocab_size");
        int eos = id(cfg, "eos_token_id", v - 1), bos = id(cfg, "bos_token_id", v - 1);
        return TransformerConfig.builder().vocabSize(v).widths(c, cfg.size("n_inner", 4L * c), nh)
                .decoderLayers(cfg.size("n_layer"))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE,
                        (float) cfg.number("layer_norm_epsilon", 1e-5))
                .activation(a, false).learnedPositions(cfg.size("n_positions", 1024)).biases(true)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(-1, bos, eos, -1, -1)).build();
    }

    /** BERT's config.json (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, …, hidden_act gelu). */
    public static TransformerConfig bertConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size"), nh = cfg.size("num_attention_heads");
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        TransformerConfig.Activation act = encoderActivation(cfg, "hidden_act");
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size")).widths(c, cfg.size("intermediate_size"), nh)
                .encoderLayers(cfg.size("num_hidden_layers"))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST,
                        (float) cfg.number("layer_norm_eps", 1e-12))
                .activation(act, false).learnedPositions(cfg.size("max_position_embeddings", 512))
                .typeVocabSize(cfg.size("type_vocab_size", 2)).biases(true).tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", 0), -1, -1, -1, -1)).build();
    }

    /**
     * T5's config.json: v1.0 (feed_forward_proj relu, tied output scaled by d_model^-0.5) or v1.1 /
     * Flan-T5 (gated-gelu = gated GELU-tanh, untied lm_head); attention scale 1, RMSNorm, relative buckets.
     */
    public static TransformerConfig t5Config(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("d_model"), nh = cfg.size("num_heads"), hs = cfg.size("d_kv");
        String ffn = cfg.string("feed_forward_proj", "relu");
        boolean gated = ffn.startsWith("gated-");
        TransformerConfig.Activation a = switch (gated ? ffn.substring("gated-".length()) : ffn) {
            case "relu" -> TransformerConfig.Activation.RELU;
            case "gelu", "gelu_new" -> TransformerConfig.Activation.GELU_TANH;     // HF maps gated-gelu to gelu_new
            case "silu" -> TransformerConfig.Activation.SILU;
            default -> throw cfg.error("feed_forward_proj '" + ffn + "' is not relu, gated-gelu, gated-gelu_new, gated-relu or gated-silu");
        };
        boolean tied = cfg.bool("tie_word_embeddings", true);
        // transformers 4.x: the output is scaled by d_model^-0.5 exactly when tie_word_embeddings (v1.0 true,
        // v1.1 false). 5.x saves scale_decoder_outputs for that and writes tie_word_embeddings true always
        // (its T5Config forces it); where lm_head.weight is stored anyway HfLayout accepts it.
        boolean scaled = cfg.has("scale_decoder_outputs") ? cfg.bool("scale_decoder_outputs", true) : tied;
        int layers = cfg.size("num_layers");
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size")).modelWidth(c).mlpWidth(cfg.size("d_ff"))
                .heads(nh, nh, hs).encoderLayers(layers).decoderLayers(cfg.size("num_decoder_layers", layers))
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("layer_norm_epsilon", 1e-6))
                .activation(a, gated)
                .t5RelativePositions(cfg.size("relative_attention_num_buckets", 32), cfg.size("relative_attention_max_distance", 128))
                .biases(false).attentionScale(1f).tiedEmbeddings(tied, scaled ? (float) (1 / Math.sqrt(c)) : 1f)
                .specialIds(new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", 0), -1, id(cfg, "eos_token_id", 1),
                        id(cfg, "decoder_start_token_id", 0), -1)).build();
    }

    /** A GPT-2, BERT or T5 folder's weights (model_type decides), with its config in {@link Weights#config}, in F32. */
    public static Weights load(Path dir, Backend backend) throws IOException {
        return load(dir, backend, DType.F32);
    }

    /**
     * The same in {@code dtype} (F32, F16 or BF16), for a {@link Transformer} that computes in it: each
     * stored tensor, whatever its stored dtype, is rounded to {@code dtype} once (T5's relative-bias
     * tables stay F32; see {@link Weights#to}). Tensor by tensor, from the memory-mapped file straight
     * into the backend's memory ({@link org.transformer4j.runtime.Uploader}: on CUDA through two reused
     * pinned staging buffers), never through a Java array or a whole fp32 host copy. On the CPU
     * backend a tensor stored in {@code dtype} that needs no transposition is not copied at all: the
     * weights view the mapped file, which they keep open until they are closed (and which must not be
     * truncated meanwhile; such tensors are read-only). {@code -Dt4j.load.mapped=false} copies them instead. A checkpoint the backend cannot hold is refused before anything is
     * allocated, naming the file(s) and the bytes ({@link LoadBudget}).
     */
    public static Weights load(Path dir, Backend backend, DType dtype) throws IOException {
        return load(dir, backend, dtype, (Boolean) null);
    }

    /**
     * The same; {@code checkFinite} true rejects a checkpoint with a NaN or ±∞ in a tensor the model
     * uses (a {@link CheckpointException} naming file, tensor and element), false skips the scan,
     * null decides by size ({@code -Dt4j.checkWeights=always|never|auto}; auto scans checkpoints up to
     * {@link FiniteCheck#DEFAULT_LIMIT_BYTES}). Such a weight would turn every logit NaN.
     */
    public static Weights load(Path dir, Backend backend, DType dtype, Boolean checkFinite) throws IOException {
        return load(dir, backend, dtype, true, checkFinite);
    }

    /**
     * An encoder folder (bert, roberta, xlm-roberta, distilbert, modernbert, mpnet, electra) without its task heads, for embeddings: the
     * heads it carries (masked-LM, next-sentence, classifiers) are not loaded, and one log line names them. A RoPE decoder
     * folder (the embedding models built on Qwen3, Qwen2, Mistral, Llama: Qwen3-Embedding, e5-mistral) loads without its
     * output matrix, in the causal-LM layout or the base model's ({@code layers.…}, as sentence-transformers saves it), for
     * {@link Transformer#lastHiddenStates}. Other folders load as {@link #load(Path, Backend, DType)}.
     */
    public static Weights loadEncoder(Path dir, Backend backend, DType dtype) throws IOException {
        return load(dir, backend, dtype, false, null);
    }

    /**
     * A decoder folder (the RoPE families: llama, mistral, qwen2, qwen3, gemma, …) with a PEFT LoRA {@code adapter} merged
     * into its weights as they load ({@link LoraAdapter}); null: none. Other folders, multimodal Gemma 3 and phi3's fused
     * projections and 5.x's fused expert tensors refuse an adapter.
     */
    public static Weights load(Path dir, Backend backend, DType dtype, LoraAdapter adapter) throws IOException {
        if (adapter == null) return load(dir, backend, dtype);
        return load(dir, backend, dtype, true, null, adapter);
    }

    private static Weights load(Path dir, Backend backend, DType dtype, boolean heads, Boolean checkFinite) throws IOException {
        return load(dir, backend, dtype, heads, checkFinite, null);
    }

    private static Weights load(Path dir, Backend backend, DType dtype, boolean heads, Boolean checkFinite, LoraAdapter lora) throws IOException {
        Weights.checkFloating(dtype);
        HfConfig cfg = HfConfig.read(dir);
        String type = cfg.modelType();
        if (lora != null && !HfDecoders.TYPES.contains(type)) {
            throw cfg.error("a LoRA adapter is merged into decoder folders (" + HfDecoders.TYPES + "); model_type '" + type + "' is not one");
        }
        if (HfSeq2Seq.TYPES.contains(type)) return HfSeq2Seq.load(cfg, dir, backend, dtype, heads, checkFinite);
        boolean decoder = HfDecoders.TYPES.contains(type) || type.equals("gemma3");   // gemma3: the text model of a multimodal folder
        if (decoder || ENCODERS.contains(type)) {
            // the finite check covers the tensors each layout matches, where it matches them: buffers older transformers
            // saved beside the weights and no loader reads (GPT-NeoX's float16 attention.masked_bias is -inf) are not checked
            return FiniteCheck.with(checkFinite, () -> type.equals("gemma3") ? HfDecoders.loadGemma3Text(cfg, dir, backend, dtype)
                    : decoder ? HfDecoders.load(cfg, dir, backend, dtype, heads, lora) : encoder(dir, cfg, backend, dtype, heads));
        }
        TransformerConfig config;
        try {
            config = switch (type) {
                case "gpt2" -> gpt2Config(cfg);
                case "bert" -> bertConfig(cfg);
                case "t5" -> t5Config(cfg);
                case "deberta" -> throw cfg.error("model_type 'deberta' (DeBERTa v1, e.g. microsoft/deberta-base) is not supported;"
                        + " DeBERTa-v2 and v3 folders (model_type deberta-v2) are");
                default -> throw cfg.error("model_type '" + type + "': the model layer loads gpt2, bert, roberta, xlm-roberta,"
                        + " camembert, distilbert, modernbert, mpnet, electra, deberta-v2, albert, t5, bart, mbart, marian, pegasus, m2m_100, llama, mistral, qwen2, qwen3, phi3, gemma, gemma2, gemma3_text, gemma3 (its text model),"
                        + " granite, smollm3, olmo, olmo2, olmo3, stablelm, starcoder2, gpt_neox, phi, gptj, codegen, opt, gpt_bigcode, falcon (and Falcon-RW), bloom, mpt, gpt_neo, cohere, cohere2, glm, glm4, exaone4, ernie4_5, seed_oss, gpt_oss and the mixtures of experts mixtral, qwen2_moe, qwen3_moe and olmoe folders");
            };
        } catch (IllegalArgumentException e) {          // e.g. layer_norm_epsilon 0: a bad file, not a bad call
            throw cfg.error("config.json describes no valid model: " + e.getMessage());
        }
        HfLayout layout = HfLayout.of(cfg);
        TransformerConfig c = config;
        return mapped(dir, (ck, share) -> {
            Map<String, String> keys = layout.match(ck, dir);                      // canonical name → stored name
            if (checkFinite != null ? checkFinite : FiniteCheck.wanted(FiniteCheck.bytes(ck))) FiniteCheck.check(ck, keys.values());
            LoadBudget.check(ck, keys.values(), dir, backend, dtype);              // before anything is allocated
            Map<String, Tensor> byName = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : keys.entrySet()) byName.put(e.getKey(), ck.tensor(e.getValue()));
            return switch (type) {
                case "gpt2" -> HfWeights.gpt2(c, byName, backend, dtype, share);
                case "bert" -> HfWeights.bert(c, byName, backend, dtype, share);
                default -> HfWeights.t5(c, byName, backend, dtype, share);
            };
        });
    }

    /** A load from an open checkpoint; {@code share}: tensors may be views of its mapped file (-Dt4j.load.mapped). */
    interface CheckpointLoad {
        Weights load(SafetensorsCheckpoint ck, boolean share) throws IOException;
    }

    /**
     * Opens the folder's checkpoint for {@code load} and keeps it open as long as the weights when some of their
     * tensors are views of the mapped file (CPU tensors stored in the compute dtype), else closes it.
     */
    static Weights mapped(Path dir, CheckpointLoad load) throws IOException {
        SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir);
        boolean kept = false;
        try {
            Weights w = load.load(ck, Boolean.parseBoolean(System.getProperty("t4j.load.mapped", "true")));
            if (w.viewsHostMemory()) {                                             // CPU tensors that are views of the mapping
                w.keepOpen(ck);
                kept = true;
            }
            return w;
        } finally {
            if (!kept) ck.close();
        }
    }

    // ---- encoder families (issue 14) ------------------------------------------------------------

    private static final java.util.Set<String> ENCODERS = java.util.Set.of("bert", "roberta", "xlm-roberta", "camembert", "distilbert", "modernbert", "mpnet",
            "electra", "deberta-v2", "albert");

    /** hidden_act of the BERT family: exact gelu (BERT, RoBERTa, DistilBERT's {@code activation}), tanh gelu, relu. */
    private static TransformerConfig.Activation encoderActivation(HfConfig cfg, String field) throws CheckpointException {
        return encoderActivation(cfg, field, "gelu");
    }

    /** The same with another default (ALBERT's gelu_new). */
    private static TransformerConfig.Activation encoderActivation(HfConfig cfg, String field, String dflt) throws CheckpointException {
        String act = cfg.string(field, dflt);
        return switch (act) {
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh" -> TransformerConfig.Activation.GELU_TANH;
            case "relu" -> TransformerConfig.Activation.RELU;
            default -> throw cfg.error(field + " '" + act + "' is not one of gelu, gelu_new, gelu_pytorch_tanh, relu");
        };
    }

    /**
     * RoBERTa / XLM-RoBERTa's config.json: BERT's fields, one token type, positions from pad_token_id + 1
     * (so max_position_embeddings − pad_token_id − 1 tokens fit; see {@link Weights.EncoderInfo}).
     */
    public static TransformerConfig robertaConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size"), nh = cfg.size("num_attention_heads");
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        String pe = cfg.string("position_embedding_type", "absolute");
        if (!pe.equals("absolute")) throw cfg.error("position_embedding_type '" + pe + "': only absolute positions are supported");
        int pad = id(cfg, "pad_token_id", 1);
        if (pad < 0) throw cfg.error("pad_token_id " + pad + ": RoBERTa's positions start after the padding id, which it needs");
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size")).widths(c, cfg.size("intermediate_size"), nh)
                .encoderLayers(cfg.size("num_hidden_layers"))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, (float) cfg.number("layer_norm_eps", 1e-5))
                .activation(encoderActivation(cfg, "hidden_act"), false).learnedPositions(cfg.size("max_position_embeddings", 514))
                .typeVocabSize(cfg.size("type_vocab_size", 1)).biases(true).tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(pad, id(cfg, "bos_token_id", -1), id(cfg, "eos_token_id", -1), -1,
                        id(cfg, "bos_token_id", -1))).build();
    }

    /**
     * ELECTRA's config.json (ElectraConfig's defaults: google/electra-small-discriminator's shape): BERT's post-LN layers
     * and token types, the embedding tables of embedding_size E (default 128) normed at E and projected to hidden_size by
     * embeddings_project when the two differ; absolute positions only.
     */
    public static TransformerConfig electraConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 256), nh = cfg.size("num_attention_heads", 4);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        String pe = cfg.string("position_embedding_type", "absolute");
        if (!pe.equals("absolute")) throw cfg.error("position_embedding_type '" + pe + "': only absolute positions are supported");
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size", 30522)).widths(c, cfg.size("intermediate_size", 1024), nh)
                .encoderLayers(cfg.size("num_hidden_layers", 12))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, (float) cfg.number("layer_norm_eps", 1e-12))
                .activation(encoderActivation(cfg, "hidden_act"), false).learnedPositions(cfg.size("max_position_embeddings", 512))
                .embeddingWidth(cfg.size("embedding_size", 128))
                .typeVocabSize(cfg.size("type_vocab_size", 2)).biases(true).tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", 0), -1, -1, -1, -1)).build();
    }

    /**
     * ALBERT's config.json (AlbertConfig's defaults: albert-xxlarge's shape — hidden 4096, 64 heads, intermediate 16384, 12
     * layers, embedding_size 128, hidden_act gelu_new, layer_norm_eps 1e-12, 2 token types, 512 positions, pad 0): BERT's
     * post-LN layers over embedding tables of width embedding_size, normed there and projected to hidden_size
     * (embedding_hidden_mapping_in, whatever the two widths: Weights.buildEncoder keeps it for ALBERT); its layers' parameters shared: layer i of num_hidden_layers runs the inner_group_num
     * layers of group int(i / (num_hidden_layers / num_hidden_groups)) in order, so the stack is num_hidden_layers ·
     * inner_group_num layers deep (HfWeights maps each onto its group's tensors, loaded once). Absolute positions only;
     * refused by name: groups that do not fit the layers (inner_group_num above num_hidden_layers / num_hidden_groups makes
     * transformers 4.x raise IndexError).
     */
    public static TransformerConfig albertConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 4096), nh = cfg.size("num_attention_heads", 64), e = cfg.size("embedding_size", 128);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        String pe = cfg.string("position_embedding_type", "absolute");
        if (!pe.equals("absolute")) throw cfg.error("position_embedding_type '" + pe + "': only absolute positions are supported");
        int layers = cfg.size("num_hidden_layers", 12), groups = cfg.size("num_hidden_groups", 1), inner = cfg.size("inner_group_num", 1);
        if (groups < 1 || inner < 1 || groups > layers || inner > layers / groups) {   // the last: transformers 4.x's IndexError
            throw cfg.error("num_hidden_groups " + groups + " and inner_group_num " + inner + " do not fit num_hidden_layers " + layers);
        }
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size", 30000)).widths(c, cfg.size("intermediate_size", 16384), nh)
                .encoderLayers(Math.multiplyExact(layers, inner))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, (float) cfg.number("layer_norm_eps", 1e-12))
                .activation(encoderActivation(cfg, "hidden_act", "gelu_new"), false).learnedPositions(cfg.size("max_position_embeddings", 512))
                .embeddingWidth(e).typeVocabSize(cfg.size("type_vocab_size", 2)).biases(true)
                .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", 0), -1, -1, -1, -1)).build();
    }

    /**
     * The group and inner layer each of ALBERT's stacked layers runs: stacked layer k = i · inner + j is inner layer j of
     * group int(i / (layers / groups)) (AlbertTransformer's group_idx, in float as Python divides).
     */
    static int[][] albertLayers(int layers, int groups, int inner) {
        int[][] at = new int[layers * inner][];
        for (int i = 0; i < layers; i++) {
            int g = (int) (i / ((double) layers / groups));
            for (int j = 0; j < inner; j++) at[i * inner + j] = new int[] {g, j};
        }
        return at;
    }

    /**
     * DeBERTa-v2 and v3's config.json (DebertaV2Config; e.g. microsoft/deberta-v3-base, mdeberta-v3-base and the NLI
     * classifiers and cross-encoders fine-tuned from them): BERT's post-LN layers; absolute positions only when
     * position_biased_input (v3: false, none); token types when type_vocab_size &gt; 0 (v3: 0); with relative_attention,
     * the disentangled attention of pos_att_type ("p2c|c2p", or a list as 5.x saves it) over 2·span relative embeddings
     * (span = position_buckets when &gt; 0, else max_relative_positions, which is max_position_embeddings when &lt; 1),
     * normed under norm_rel_ebd "layer_norm", projected by each layer's own key / query projections under share_att_key,
     * else by its pos_key_proj / pos_query_proj; scores scaled by 1/sqrt(head size · (1 + the number of terms)). The sequence
     * head is the ContextPooler (dense on the first token, pooler_hidden_act) and a classifier. Refused by name: the
     * ConvLayer of deberta-v2-xlarge/xxlarge (conv_kernel_size), embed_proj (embedding_size ≠ hidden_size), a
     * pooler_hidden_size ≠ hidden_size, an attention_head_size ≠ hidden_size / heads, and terms other than c2p and p2c.
     */
    public static TransformerConfig debertaConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 1536), nh = cfg.size("num_attention_heads", 24);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        if (cfg.has("attention_head_size") && cfg.size("attention_head_size") != c / nh) {
            throw cfg.error("attention_head_size " + cfg.size("attention_head_size") + " ≠ hidden_size / num_attention_heads is not supported");
        }
        if (cfg.size("embedding_size", c) != c) {
            throw cfg.error("embedding_size " + cfg.size("embedding_size") + " ≠ hidden_size " + c + " (DeBERTa's embed_proj) is not supported");
        }
        if (cfg.number("conv_kernel_size", 0) > 0) {
            throw cfg.error("conv_kernel_size " + (long) cfg.number("conv_kernel_size", 0) + ": DeBERTa-v2's ConvLayer after the first layer"
                    + " (deberta-v2-xlarge, -xxlarge) is not supported");
        }
        if (cfg.size("pooler_hidden_size", c) != c) {
            throw cfg.error("pooler_hidden_size " + cfg.size("pooler_hidden_size") + " ≠ hidden_size " + c + " is not supported");
        }
        String pact = cfg.string("pooler_hidden_act", "gelu");
        if (!java.util.Set.of("gelu", "tanh", "relu").contains(pact)) {
            throw cfg.error("pooler_hidden_act '" + pact + "': the ContextPooler supports gelu, tanh and relu");
        }
        java.util.List<String> kinds = HfLayout.debertaTerms(cfg);
        int maxPos = cfg.size("max_position_embeddings", 512);
        boolean relative = cfg.bool("relative_attention", false);
        TransformerConfig.Disentangled d = null;
        if (relative) {
            if (kinds.isEmpty()) throw cfg.error("relative_attention without pos_att_type (relative embeddings that no term reads) is not supported");
            int[] span = HfLayout.debertaSpan(cfg);                                    // span, position_buckets, max_relative_positions
            d = new TransformerConfig.Disentangled(span[0], span[1], span[2], kinds.contains("c2p"),
                    kinds.contains("p2c"), cfg.bool("share_att_key", false), HfLayout.debertaNormRel(cfg));
        }
        double tv = cfg.number("type_vocab_size", 0);
        if (tv < 0 || tv != Math.rint(tv) || tv > 65536) throw cfg.error("type_vocab_size " + tv + " is not a count of token types");
        int types = (int) tv;
        int hs = c / nh;
        float scale = (float) (1 / Math.sqrt((double) hs * (1 + kinds.size())));        // scaled_size_sqrt(·, scale_factor)
        TransformerConfig.Builder b = TransformerConfig.builder().vocabSize(cfg.size("vocab_size", 128100))
                .widths(c, cfg.size("intermediate_size", 6144), nh).encoderLayers(cfg.size("num_hidden_layers", 24))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, (float) cfg.number("layer_norm_eps", 1e-7))
                .activation(encoderActivation(cfg, "hidden_act"), false).attentionScale(scale).disentangled(d)
                .typeVocabSize(types).biases(true).tiedEmbeddings(true, 1f)
                .specialIds(new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", 0), -1, -1, -1, -1));
        if (cfg.bool("position_biased_input", true)) b.learnedPositions(maxPos);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw cfg.error("config.json describes no valid DeBERTa model: " + e.getMessage());
        }
    }

    /** The buckets MPNet's attention uses: MPNetEncoder.compute_position_bias passes none, so its default 32. */
    static final int MPNET_BUCKETS = 32;

    /** relative_position_bucket's default max_distance, which compute_position_bias leaves as it is. */
    static final int MPNET_MAX_DISTANCE = 128;

    /**
     * MPNet's config.json (MPNetConfig's defaults; e.g. sentence-transformers/all-mpnet-base-v2): BERT's post-LN
     * layers without token types, positions after padding_idx 1 (MPNetEmbeddings fixes it at 1 whatever pad_token_id
     * says), and a relative-position bias shared by every layer: T5's bidirectional buckets, 32 of them up to
     * distance 128 (the defaults compute_position_bias leaves, whatever relative_attention_num_buckets says; that
     * field sizes the table, which must then hold at least 32 rows).
     */
    public static TransformerConfig mpnetConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 768), nh = cfg.size("num_attention_heads", 12);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        int rows = cfg.size("relative_attention_num_buckets", MPNET_BUCKETS);
        if (rows < MPNET_BUCKETS) {
            throw cfg.error("relative_attention_num_buckets " + rows + ": MPNet's attention buckets relative positions into "
                    + MPNET_BUCKETS + " (MPNetEncoder.compute_position_bias), so its table needs at least " + MPNET_BUCKETS + " rows");
        }
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size", 30527)).widths(c, cfg.size("intermediate_size", 3072), nh)
                .encoderLayers(cfg.size("num_hidden_layers", 12))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, (float) cfg.number("layer_norm_eps", 1e-12))
                .activation(encoderActivation(cfg, "hidden_act"), false).learnedPositions(cfg.size("max_position_embeddings", 512))
                .relativeBias(MPNET_BUCKETS, MPNET_MAX_DISTANCE)
                .typeVocabSize(0).biases(true).tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", 1), id(cfg, "bos_token_id", 0),
                        id(cfg, "eos_token_id", 2), -1, id(cfg, "bos_token_id", 0))).build();
    }

    /**
     * DistilBERT's config.json (dim, n_layers, n_heads, hidden_dim, activation): no token types, LayerNorm eps 1e-12;
     * tie_word_embeddings (default true) decides whether the masked-LM head's vocab_projector is the token table.
     */
    public static TransformerConfig distilbertConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("dim"), nh = cfg.size("n_heads");
        if (c % nh != 0) throw cfg.error("dim " + c + " is not divisible by n_heads " + nh);
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size")).widths(c, cfg.size("hidden_dim"), nh)
                .encoderLayers(cfg.size("n_layers"))
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-12f)
                .activation(encoderActivation(cfg, "activation"), false).learnedPositions(cfg.size("max_position_embeddings", 512))
                .typeVocabSize(0).biases(true).tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(id(cfg, "pad_token_id", 0), -1, -1, -1, -1)).build();
    }

    private static Weights encoder(Path dir, HfConfig cfg, Backend backend, DType dtype, boolean heads) throws IOException {
        String type = cfg.modelType();
        TransformerConfig config = switch (type) {
            case "bert" -> bertEncoderConfig(cfg);
            case "distilbert" -> distilbertConfig(cfg);
            case "modernbert" -> modernbertConfig(cfg);
            case "mpnet" -> mpnetConfig(cfg);
            case "electra" -> electraConfig(cfg);
            case "deberta-v2" -> debertaConfig(cfg);
            case "albert" -> albertConfig(cfg);
            default -> robertaConfig(cfg);
        };
        java.util.List<String> labels = cfg.labels();
        int positionFrom = type.startsWith("roberta") || type.equals("xlm-roberta") || type.equals("camembert") ? config.specialIds().pad() + 1
                : type.equals("mpnet") ? 2 : -1;                                  // MPNetEmbeddings.padding_idx is 1
        Weights.EncoderInfo info = type.equals("modernbert")
                ? new Weights.EncoderInfo(type, -1, labels, cfg.string("classifier_activation", "gelu"),
                        pooling(cfg), cfg.bool("classifier_bias", false), cfg.problemType())
                : new Weights.EncoderInfo(type, positionFrom, labels,
                        type.equals("distilbert") ? "relu" : type.equals("electra") ? "gelu"     // ElectraClassificationHead: gelu
                        : type.equals("deberta-v2") ? cfg.string("pooler_hidden_act", "gelu") : "tanh")   // DeBERTa's ContextPooler
                        .withProblemType(cfg.problemType());
        HfLayout layout = HfLayout.of(cfg);
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            Map<String, String> keys = layout.match(ck, dir);
            FiniteCheck.ifWanted(ck, keys.values());
            Map<String, Tensor> byName = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : keys.entrySet()) byName.put(e.getKey(), ck.tensor(e.getValue()));
            return HfWeights.encoder(config, byName, type, cfg.architectures(), labels, info, heads, backend, dtype);
        }
    }

    /**
     * ModernBERT's config.json (ModernBertConfig's defaults): pre-LN LayerNorm (norm_eps) with no biases as published,
     * GeGLU MLP (hidden_activation, Wi = [input ; gate]), RoPE with global_rope_theta on the global layers (i %
     * global_attn_every_n_layers == 0) and local_rope_theta on the others, which see keys within local_attention / 2 on
     * either side (our window local_attention / 2 + 1: |i − j| &lt; window), no attention norm in layer 0, the embeddings
     * normed, the decoder tied to the token table.
     */
    public static TransformerConfig modernbertConfig(HfConfig cfg) throws CheckpointException {
        int c = cfg.size("hidden_size", 768), nh = cfg.size("num_attention_heads", 12), layers = cfg.size("num_hidden_layers", 22);
        if (c % nh != 0) throw cfg.error("hidden_size " + c + " is not divisible by num_attention_heads " + nh);
        boolean ab = cfg.bool("attention_bias", false), mb = cfg.bool("mlp_bias", false), nb = cfg.bool("norm_bias", false);
        if (ab != mb || mb != nb) {
            throw cfg.error("attention_bias " + ab + ", mlp_bias " + mb + ", norm_bias " + nb + ": only all false (as published) or all true are supported");
        }
        int every = cfg.size("global_attn_every_n_layers", 3), local = cfg.size("local_attention", 128);
        if (every < 1) throw cfg.error("global_attn_every_n_layers must be ≥ 1, got " + every);
        java.util.List<Integer> windows = new java.util.ArrayList<>();
        java.util.List<String> kinds = cfg.strings("layer_types");            // 5.x: full_attention / sliding_attention
        if (kinds != null && kinds.size() != layers) throw cfg.error("layer_types has " + kinds.size() + " entries for " + layers + " layers");
        for (int i = 0; i < layers; i++) {
            boolean sliding;
            if (kinds == null) {
                sliding = i % every != 0;
            } else {
                sliding = switch (kinds.get(i)) {
                    case "sliding_attention" -> true;
                    case "full_attention" -> false;
                    default -> throw cfg.error("layer_types entry '" + kinds.get(i) + "' is not full_attention or sliding_attention");
                };
            }
            windows.add(sliding ? local / 2 + 1 : 0);
        }
        int hd = c / nh;
        double global, localTheta;
        if (cfg.has("rope_parameters")) {                                        // 5.x: per layer type
            HfConfig rp = cfg.object("rope_parameters");
            HfConfig full = rp.object("full_attention"), slide = rp.object("sliding_attention");
            global = full == null ? 160000 : ropeTheta(full, 160000);
            localTheta = slide == null ? 10000 : ropeTheta(slide, 10000);
        } else {
            global = cfg.number("global_rope_theta", 160000);
            localTheta = cfg.has("local_rope_theta") ? cfg.number("local_rope_theta", 10000) : cfg.present("local_rope_theta") ? global : 10000;
        }
        int pad = id(cfg, "pad_token_id", 50283), cls = id(cfg, "cls_token_id", 50281);
        return TransformerConfig.builder().vocabSize(cfg.size("vocab_size", 50368)).widths(c, cfg.size("intermediate_size", 1152), nh)
                .encoderLayers(layers)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, (float) cfg.number("norm_eps", 1e-5))
                .activation(encoderActivation(cfg, "hidden_activation"), true)
                .rope(TransformerConfig.Rope.plain(global, hd)).slidingRope(TransformerConfig.Rope.plain(localTheta, hd))
                .maxPositions(cfg.size("max_position_embeddings", 8192))
                .windows(windows.stream().allMatch(w -> w == 0) ? java.util.List.of() : windows)
                .typeVocabSize(0).biases(ab).firstAttnNorm(false).tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                .specialIds(new TransformerConfig.SpecialIds(pad, id(cfg, "bos_token_id", -1), id(cfg, "eos_token_id", -1), -1, cls))
                .build();
    }

    /** A 5.x rope_parameters entry's theta; only the default rope kind is supported for ModernBERT. */
    private static double ropeTheta(HfConfig p, double dflt) throws CheckpointException {
        String kind = p.string("rope_type", "default");
        if (!kind.equals("default")) throw p.error("rope_type '" + kind + "': ModernBERT's rope is the default kind");
        return p.number("rope_theta", dflt);
    }

    /** ModernBERT's classifier_pooling: "cls" (the first token) or "mean" (over the attention mask). */
    private static String pooling(HfConfig cfg) throws CheckpointException {
        String p = cfg.string("classifier_pooling", "cls");
        return switch (p) {
            case "cls" -> "first";
            case "mean" -> "mean";
            default -> throw cfg.error("classifier_pooling '" + p + "' is not cls or mean");
        };
    }

    /** {@link #bertConfig} and a check of position_embedding_type (relative_key variants are not supported). */
    private static TransformerConfig bertEncoderConfig(HfConfig cfg) throws CheckpointException {
        String pe = cfg.string("position_embedding_type", "absolute");
        if (!pe.equals("absolute")) throw cfg.error("position_embedding_type '" + pe + "': only absolute positions are supported");
        return bertConfig(cfg);
    }
}
