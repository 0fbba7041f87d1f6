// HfSeq2Seq — Hugging Face folders of the BART family (bart, mbart, marian, pegasus) and M2M100 / NLLB (m2m_100): config.json mapped field by field
// onto a TransformerConfig with the family's embeddings (TransformerConfig.BartEmbeddings), the tensors checked key for key
// and loaded under our names; BartForSequenceClassification's head (facebook/bart-large-mnli) as a classifier.
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * What the four families share and where they differ, as transformers' modeling files have it (modeling_bart.py,
 * modeling_mbart.py, modeling_marian.py, modeling_pegasus.py):
 * <ul>
 *   <li>every projection with a bias, attention scaled by head_dim^-0.5, LayerNorm eps 1e-5 (nn.LayerNorm's default), the
 *       MLP fc2(act(fc1 x)) with config.json's activation_function, one token table ({@code shared}) for both stacks and
 *       the output (tie_word_embeddings), the logits + final_logits_bias;
 *   <li>BART: post-LN layers, learned positions per stack read from row 2 on (BartLearnedPositionalEmbedding's offset),
 *       layernorm_embedding per stack;
 *   <li>mBART: pre-LN layers with a final layer_norm per stack, otherwise BART's embeddings;
 *   <li>Marian: post-LN, sinusoidal positions (computed here: the sines of pos / 10000^(2j/C) in the first half, the
 *       cosines in the second), no layernorm_embedding;
 *   <li>Pegasus: pre-LN with a final layer_norm per stack, Marian's sinusoids, no layernorm_embedding;
 *   <li>M2M100 / NLLB (modeling_m2m_100.py): mBART's pre-LN layers, fairseq's sinusoids read from row padding_idx + 1 on
 *       ({@link #fairseqSinusoids}), no layernorm_embedding, no final_logits_bias;
 *   <li>scale_embedding multiplies the token embeddings by sqrt(d_model) (false by default in every family's config class).
 * </ul>
 * Encoder and decoder must agree on head count and MLP width (one TransformerConfig serves both stacks); a Marian folder
 * with separate decoder embeddings (share_encoder_decoder_embeddings false) is refused by name.
 */
final class HfSeq2Seq {

    private HfSeq2Seq() {}

    /** The model_types this loader reads. */
    static final Set<String> TYPES = Set.of("bart", "mbart", "marian", "pegasus", "m2m_100");

    /** BART's learned position tables start at row 2 (BartLearnedPositionalEmbedding.offset); mBART's too. */
    static final int POSITION_OFFSET = 2;

    /** The key of the sinusoidal table this loader computes (no checkpoint key looks like it). */
    private static final String SINUSOIDS = "<sinusoidal positions>";

    static boolean learnedPositions(String type) { return type.equals("bart") || type.equals("mbart"); }

    static boolean preNorm(String type) { return type.equals("mbart") || type.equals("pegasus") || type.equals("m2m_100"); }

    /** M2M100 / NLLB: fairseq's sinusoids ({@link #fairseqSinusoids}) from row padding_idx + 1 on. */
    static boolean fairseq(String type) { return type.equals("m2m_100"); }

    /** The folder's config: {@code outputBias} says whether its checkpoint carries final_logits_bias. */
    static TransformerConfig config(HfConfig cfg, boolean outputBias) throws CheckpointException {
        String type = cfg.modelType();
        if (!TYPES.contains(type)) throw cfg.error("model_type '" + type + "' is not one of " + TYPES);
        int c = cfg.size("d_model");
        int el = cfg.size("encoder_layers"), dl = cfg.size("decoder_layers");
        int eh = cfg.size("encoder_attention_heads"), dh = cfg.size("decoder_attention_heads");
        int ef = cfg.size("encoder_ffn_dim"), df = cfg.size("decoder_ffn_dim");
        if (eh != dh) {
            throw cfg.error("encoder_attention_heads " + eh + " ≠ decoder_attention_heads " + dh + ": one head count serves both stacks here");
        }
        if (ef != df) throw cfg.error("encoder_ffn_dim " + ef + " ≠ decoder_ffn_dim " + df + ": one MLP width serves both stacks here");
        if (c % eh != 0) throw cfg.error("d_model " + c + " is not divisible by encoder_attention_heads " + eh);
        int v = cfg.size("vocab_size");
        if (type.equals("marian")) {
            if (!cfg.bool("share_encoder_decoder_embeddings", true)) {
                throw cfg.error("share_encoder_decoder_embeddings false (separate source and target vocabularies) is not supported");
            }
            if (cfg.has("decoder_vocab_size") && cfg.size("decoder_vocab_size") != v) {
                throw cfg.error("decoder_vocab_size " + cfg.size("decoder_vocab_size") + " ≠ vocab_size " + v + " is not supported");
            }
        }
        String act = cfg.string("activation_function", "gelu");
        TransformerConfig.Activation a = switch (act) {
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh" -> TransformerConfig.Activation.GELU_TANH;
            case "relu" -> TransformerConfig.Activation.RELU;
            case "silu", "swish" -> TransformerConfig.Activation.SILU;
            default -> throw cfg.error("activation_function '" + act + "' is not one of gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish");
        };
        int pad = Pretrained.id(cfg, "pad_token_id", -1), bos = Pretrained.id(cfg, "bos_token_id", -1);
        int eos = Pretrained.id(cfg, "eos_token_id", -1);
        // the config classes' defaults: BART / mBART start from eos (2), Marian and Pegasus from pad
        int start = Pretrained.id(cfg, "decoder_start_token_id", learnedPositions(type) || fairseq(type) ? eos : pad);
        if (fairseq(type) && (pad < 0 || c % 2 != 0)) throw cfg.error("m2m_100 needs a pad_token_id (its positions start after it) and an even d_model");
        if (start < 0) throw cfg.error("decoder_start_token_id is missing and no default applies (" + type + ")");
        boolean learned = learnedPositions(type);
        try {
            return TransformerConfig.builder().vocabSize(v).widths(c, ef, eh).encoderLayers(el).decoderLayers(dl)
                    .norm(TransformerConfig.NormKind.LAYER_NORM, preNorm(type) ? TransformerConfig.NormPlacement.PRE
                            : TransformerConfig.NormPlacement.POST, 1e-5f)
                    .activation(a, false).learnedPositions(cfg.size("max_position_embeddings")).biases(true)
                    .tiedEmbeddings(cfg.bool("tie_word_embeddings", true), 1f)
                    .embeddingScale(cfg.bool("scale_embedding", false) ? (float) Math.sqrt(c) : 1f)
                    .specialIds(new TransformerConfig.SpecialIds(pad, bos, eos, start, -1))
                    .bart(new TransformerConfig.BartEmbeddings(learned, learned, outputBias)).build();
        } catch (IllegalArgumentException e) {
            throw cfg.error("config.json describes no valid model: " + e.getMessage());
        }
    }

    /**
     * The sinusoidal table (P, C) of MarianSinusoidalPositionalEmbedding / PegasusSinusoidalPositionalEmbedding: column j
     * of the first ⌈C/2⌉ holds sin(p / 10000^(2j/C)), column ⌈C/2⌉ + j holds cos(p / 10000^(2j/C)); computed in double
     * and rounded once to float, as the numpy table transformers builds is.
     */
    static float[] sinusoids(int positions, int c) {
        int half = (c + 1) / 2;
        float[] out = new float[positions * c];
        for (int p = 0; p < positions; p++) {
            for (int j = 0; j < half; j++) {
                double angle = p / Math.pow(10000, 2.0 * j / c);
                out[p * c + j] = (float) Math.sin(angle);
                if (half + j < c) out[p * c + half + j] = (float) Math.cos(angle);
            }
        }
        return out;
    }

    /**
     * M2M100SinusoidalPositionalEmbedding's table (fairseq's get_embedding) of {@code rows} rows, in torch's float32 steps:
     * with h = C/2, f_i = exp(fl32(i · fl32(−ln 10000 / (h − 1)))) for i &lt; h, row p holds sin(fl32(p · f_i)) in its first
     * half and cos(fl32(p · f_i)) in its second, and row {@code paddingIdx} is zero. A position's row is padding_idx + 1 +
     * its index (create_position_ids_from_input_ids over the non-padding tokens).
     */
    static float[] fairseqSinusoids(int rows, int c, int paddingIdx) {
        int half = c / 2;
        float step = (float) -(Math.log(10000) / (half - 1));
        float[] freq = new float[half];
        for (int i = 0; i < half; i++) freq[i] = (float) Math.exp((float) (i * step));
        float[] out = new float[rows * c];
        for (int p = 0; p < rows; p++) {
            if (p == paddingIdx) continue;
            for (int i = 0; i < half; i++) {
                float a = p * freq[i];
                out[p * c + i] = (float) Math.sin(a);
                out[p * c + half + i] = (float) Math.cos(a);
            }
        }
        return out;
    }

    /**
     * The folder's model onto {@code backend} in {@code dtype}: a …ForConditionalGeneration / MarianMTModel (logits with
     * final_logits_bias), a base model (BartModel: tied logits without a bias), or BartForSequenceClassification (its
     * classification_head as the classifier: {@link Transformer#classify}); {@code head} false leaves a stored
     * classification head alone (hidden states only).
     */
    static Weights load(HfConfig cfg, Path dir, Backend backend, DType dtype, boolean head, Boolean checkFinite) throws IOException {
        String type = cfg.modelType();
        return Pretrained.mapped(dir, (ck, share) -> {
            Set<String> names = ck.names();
            String p = names.stream().anyMatch(k -> k.startsWith("model.")) ? "model." : "";
            boolean bias = names.contains("final_logits_bias");
            TransformerConfig c = config(cfg, bias);
            boolean classifier = names.stream().anyMatch(k -> k.startsWith("classification_head."));
            int labels = classifier && head ? labels(cfg, ck) : 0;
            Map<String, long[]> req = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
            Map<String, HfWeights.Part> parts = new LinkedHashMap<>();
            layout(c, type, p, bias, labels, req, opt, parts);
            List<String> ignored = new ArrayList<>();                               // a classification head not wanted is left alone
            if (classifier && !head) for (String x : HEAD) ignored.add("classification_head." + x);
            Map<String, String> keys = HfLayout.listed(type, req, opt, ignored).match(ck, dir);
            if (checkFinite != null ? checkFinite : FiniteCheck.wanted(FiniteCheck.bytes(ck))) FiniteCheck.check(ck, keys.values());
            LoadBudget.check(ck, keys.values(), dir, backend, dtype);
            Map<String, Tensor> hf = new HashMap<>();
            for (String k : keys.keySet()) hf.put(k, ck.tensor(k));
            String table = tokenTable(p, keys.keySet());
            parts.put("embeddings.tokens", new HfWeights.Part(table, false, -1, -1));
            for (String k : new ArrayList<>(hf.keySet())) {                    // the tied copies of the one token table
                if (!k.equals(table) && isTokenCopy(p, k, c)) hf.remove(k);
            }
            Tensor computed = null;
            try {
                long positions = c.maxPositions();
                if (learnedPositions(type)) {
                    for (String stack : List.of("encoder", "decoder")) {     // rows [2, 2 + P): positions 0 … P − 1
                        String k = p + stack + ".embed_positions.weight";
                        hf.put(k, hf.get(k).slice(0, POSITION_OFFSET, POSITION_OFFSET + positions));
                    }
                } else if (fairseq(type)) {                                      // rows from padding_idx + 1: positions 0 … P − 1
                    int from = c.specialIds().pad() + 1, rows = from + c.maxPositions();
                    computed = Tensor.ofFloats(fairseqSinusoids(rows, c.modelWidth(), c.specialIds().pad()), rows, c.modelWidth());
                    hf.put(SINUSOIDS, computed.slice(0, from, rows));
                    for (String stack : List.of("encoder", "decoder")) hf.remove(p + stack + ".embed_positions.weight");
                } else {
                    computed = Tensor.ofFloats(sinusoids(c.maxPositions(), c.modelWidth()), c.maxPositions(), c.modelWidth());
                    hf.put(SINUSOIDS, computed);
                    for (String stack : List.of("encoder", "decoder")) hf.remove(p + stack + ".embed_positions.weight");
                }
                if (bias) hf.put("final_logits_bias", hf.get("final_logits_bias").view(c.vocabSize()));
                Weights.EncoderInfo info = labels == 0 ? Weights.EncoderInfo.BERT
                        : new Weights.EncoderInfo(type, -1, cfg.labels().size() == labels ? cfg.labels() : numbered(labels), "tanh",
                                "eos", true, cfg.problemType());
                return HfWeights.load(type, hf, parts, backend, dtype, share, s -> Weights.build(c, s, labels, true, info));
            } finally {
                if (computed != null) computed.close();
            }
        });
    }

    private static List<String> numbered(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add("LABEL_" + i);
        return out;
    }

    /** The classification head's label count: out_proj's rows (id2label must agree when it is given). */
    private static int labels(HfConfig cfg, SafetensorsCheckpoint ck) throws CheckpointException {
        String k = "classification_head.out_proj.weight";
        if (!ck.names().contains(k)) throw cfg.error("classification_head without out_proj.weight");
        long n = ck.entry(k).shape()[0];
        List<String> named = cfg.labels();
        if (!named.isEmpty() && named.size() != n) {
            throw cfg.error("id2label names " + named.size() + " labels, the classification head has " + n);
        }
        return Math.toIntExact(n);
    }

    /** The names the one token table may be stored under, in the order it is looked for (lm_head only when tied). */
    private static List<String> tableKeys(String p) {
        return List.of(p + "shared.weight", p + "encoder.embed_tokens.weight", p + "decoder.embed_tokens.weight", "lm_head.weight");
    }

    /** The stored token table: shared, else the encoder's or the decoder's embed_tokens, else a tied lm_head. */
    private static String tokenTable(String p, Set<String> keys) {
        for (String k : tableKeys(p)) if (keys.contains(k)) return k;
        return p + "shared.weight";                                                 // reported missing by the layout
    }

    private static boolean isTokenCopy(String p, String k, TransformerConfig c) {
        return tableKeys(p).contains(k) && (c.tiedEmbeddings() || !k.equals("lm_head.weight"));
    }

    /** The stored names and shapes (required / optional) and our names' parts. */
    private static final List<String> HEAD = List.of("dense.weight", "dense.bias", "out_proj.weight", "out_proj.bias");

    private static void layout(TransformerConfig c, String type, String p, boolean bias, int labels,
                               Map<String, long[]> req, Map<String, long[]> opt, Map<String, HfWeights.Part> parts) {
        long cw = c.modelWidth(), f = c.mlpWidth(), v = c.vocabSize();
        java.util.function.BiConsumer<String, String> put = (ours, key) -> parts.put(ours, new HfWeights.Part(key, false, -1, -1));
        for (String k : tableKeys(p)) {
            if (!k.equals("lm_head.weight")) opt.put(k, new long[] {v, cw});        // one of them at least (tokenTable)
        }
        if (c.tiedEmbeddings()) opt.put("lm_head.weight", new long[] {v, cw});
        else {
            req.put("lm_head.weight", new long[] {v, cw});
            put.accept("lm_head", "lm_head.weight");
        }
        if (bias) {
            req.put("final_logits_bias", new long[] {1, v});
            put.accept("output.bias", "final_logits_bias");
        }
        boolean learned = learnedPositions(type);
        for (String stack : List.of("encoder", "decoder")) {
            String s = p + stack + ".";
            String ours = stack.equals("encoder") ? "encoder.embeddings." : "embeddings.";
            if (learned) {
                req.put(s + "embed_positions.weight", new long[] {c.maxPositions() + POSITION_OFFSET, cw});
                put.accept(ours + "positions", s + "embed_positions.weight");
                for (String x : List.of("weight", "bias")) {
                    req.put(s + "layernorm_embedding." + x, new long[] {cw});
                    put.accept(ours + "norm." + x, s + "layernorm_embedding." + x);
                }
            } else if (!fairseq(type)) {
                opt.put(s + "embed_positions.weight", new long[] {c.maxPositions(), cw});   // older folders stored the sinusoids
            }
            int n = stack.equals("encoder") ? c.encoderLayers() : c.decoderLayers();
            for (int i = 0; i < n; i++) {
                String l = s + "layers." + i + ".", o = stack + "." + i + ".";
                attention(req, put, l + "self_attn.", o + "self.", cw);
                norm(req, put, l + "self_attn_layer_norm", o + "attn_norm", cw);
                if (stack.equals("decoder")) {
                    attention(req, put, l + "encoder_attn.", o + "cross.", cw);
                    norm(req, put, l + "encoder_attn_layer_norm", o + "cross_norm", cw);
                }
                linear(req, put, l + "fc1", o + "mlp.up", f, cw);
                linear(req, put, l + "fc2", o + "mlp.down", cw, f);
                norm(req, put, l + "final_layer_norm", o + "mlp_norm", cw);
            }
            if (preNorm(type)) norm(req, put, s + "layer_norm", stack + ".final_norm", cw);
        }
        if (!learned) put.accept("embeddings.positions", SINUSOIDS);
        if (labels > 0) {
            linear(req, put, "classification_head.dense", "pooler.dense", cw, cw);
            linear(req, put, "classification_head.out_proj", "classifier", labels, cw);
        }
    }

    private static void attention(Map<String, long[]> req, java.util.function.BiConsumer<String, String> put, String h, String o, long cw) {
        for (String[] x : new String[][] {{"q_proj", "q"}, {"k_proj", "k"}, {"v_proj", "v"}, {"out_proj", "o"}}) {
            linear(req, put, h + x[0], o + x[1], cw, cw);
        }
    }

    private static void linear(Map<String, long[]> req, java.util.function.BiConsumer<String, String> put, String h, String o,
                               long out, long in) {
        req.put(h + ".weight", new long[] {out, in});
        req.put(h + ".bias", new long[] {out});
        put.accept(o, h + ".weight");
        put.accept(o + ".bias", h + ".bias");
    }

    private static void norm(Map<String, long[]> req, java.util.function.BiConsumer<String, String> put, String h, String o, long cw) {
        for (String x : List.of("weight", "bias")) {
            req.put(h + "." + x, new long[] {cw});
            put.accept(o + "." + x, h + "." + x);
        }
    }
}
