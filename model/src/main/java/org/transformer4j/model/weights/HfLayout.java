// HfLayout — the parameter names and shapes of Hugging Face GPT-2, BERT and T5 (v1.0 and v1.1 /
// Flan-T5) checkpoints, derived from config.json, and the key-for-key check of a checkpoint
// against them: every missing, unexpected or wrongly shaped tensor is listed in one error that
// names the file. The model layer turns the checked map into its weights.
package org.transformer4j.model.weights;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Expected tensors of one architecture, by canonical name (without the {@code transformer.} /
 * {@code bert.} prefix that task models add), with their shapes.
 *
 * <ul>
 *   <li>{@code required}: must be present. {@code optional}: may be present (tied copies, e.g. GPT-2's
 *       lm_head.weight when tie_word_embeddings, T5's encoder.embed_tokens.weight).
 *   <li>{@code anyOf}: at least one of each set must be present (T5 keeps the shared embedding under
 *       one of three names). {@code allOrNone}: heads that come whole or not at all (BERT's pooler,
 *       MLM head, NSP head).
 *   <li>{@code transposed}: stored [in, out] (GPT-2's Conv1D), where torch.nn.Linear stores [out, in];
 *       BERT and T5 store every matrix as nn.Linear does.
 *   <li>{@code ignored}: key suffixes of buffers that some checkpoints carry and that are not parameters
 *       (GPT-2's causal mask {@code attn.bias}, {@code attn.masked_bias}; BERT's {@code position_ids}).
 * </ul>
 */
public record HfLayout(String family, Map<String, long[]> shapes, Set<String> required, Set<String> optional,
                       List<Set<String>> anyOf, List<Set<String>> allOrNone, List<String> transposed,
                       List<String> prefixes, List<String> ignored) {

    /** The layout for {@code config}'s model_type ("gpt2", "bert" or "t5"). */
    public static HfLayout of(HfConfig config) throws CheckpointException {
        String type = config.modelType();
        return switch (type) {
            case "gpt2" -> gpt2(config);
            case "bert" -> bert(config);
            case "t5" -> t5(config);
            case "roberta", "xlm-roberta", "camembert" -> roberta(config);       // CamemBERT: RoBERTa's model under roberta.
            case "distilbert" -> distilbert(config);
            case "modernbert" -> modernbert(config);
            case "mpnet" -> mpnet(config);
            case "electra" -> electra(config);
            case "deberta-v2" -> debertaV2(config);
            case "albert" -> albert(config);
            default -> throw config.error("model_type '" + type + "' is not one of gpt2, bert, roberta, xlm-roberta, camembert, distilbert, modernbert, mpnet,"
                    + " electra, deberta-v2, albert, t5");
        };
    }

    private static final class Builder {
        final Map<String, long[]> shapes = new LinkedHashMap<>();
        final Set<String> required = new LinkedHashSet<>();
        final Set<String> optional = new LinkedHashSet<>();
        final List<Set<String>> anyOf = new ArrayList<>();
        final List<Set<String>> allOrNone = new ArrayList<>();
        final List<String> transposed = new ArrayList<>();

        Builder req(String key, long... shape) { shapes.put(key, shape); required.add(key); return this; }

        Builder opt(String key, long... shape) { shapes.put(key, shape); optional.add(key); return this; }

        /** Linear weight [out, in] and bias [out]. */
        Builder linear(String prefix, long in, long out, boolean bias) {
            req(prefix + ".weight", out, in);
            if (bias) req(prefix + ".bias", out);
            return this;
        }

        Builder norm(String prefix, long c, boolean bias) {
            req(prefix + ".weight", c);
            if (bias) req(prefix + ".bias", c);
            return this;
        }

        /** Moves {@code keys} from required into an all-or-none group. */
        void group(Set<String> keys) {
            required.removeAll(keys);
            allOrNone.add(Collections.unmodifiableSet(new LinkedHashSet<>(keys)));
        }

        HfLayout build(String family, List<String> prefixes, List<String> ignored) {
            return new HfLayout(family, Collections.unmodifiableMap(shapes), Collections.unmodifiableSet(required),
                    Collections.unmodifiableSet(optional), List.copyOf(anyOf), List.copyOf(allOrNone), List.copyOf(transposed),
                    prefixes, ignored);
        }
    }

    /** Layer counts past this are a damaged or hostile config.json, not a model (the largest have about 100). */
    static final int MAX_LAYERS = 1024;

    /** Widths and vocabularies past this are too (and would overflow the shape arithmetic). */
    static final int MAX_SIZE = 1 << 24;

    private static int layers(HfConfig cfg, String field, int dflt) throws CheckpointException {
        int n = dflt < 0 ? cfg.size(field) : cfg.size(field, dflt);
        if (n > MAX_LAYERS) throw cfg.error("config.json field '" + field + "' is " + n + ", more than " + MAX_LAYERS + " layers");
        return n;
    }

    private static int dim(HfConfig cfg, String field, long dflt) throws CheckpointException {
        int n = dflt < 0 ? cfg.size(field) : cfg.size(field, dflt);
        if (n > MAX_SIZE) throw cfg.error("config.json field '" + field + "' is " + n + ", more than " + MAX_SIZE);
        return n;
    }

    private static void divisible(HfConfig cfg, String what, int a, int b) throws CheckpointException {
        if (a % b != 0) throw cfg.error(what + " " + a + " is not divisible by " + b);
    }

    /** GPT-2 (GPT2Model / GPT2LMHeadModel): Conv1D weights [in, out], fused c_attn [C, 3C]. */
    public static HfLayout gpt2(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "n_embd", -1), l = layers(cfg, "n_layer", -1), nh = dim(cfg, "n_head", -1);
        int v = dim(cfg, "vocab_size", -1), p = dim(cfg, "n_positions", 1024), f = dim(cfg, "n_inner", 4L * c);
        divisible(cfg, "n_embd", c, nh);
        Builder b = new Builder();
        b.req("wte.weight", v, c).req("wpe.weight", p, c);
        for (int i = 0; i < l; i++) {
            String h = "h." + i + ".";
            b.norm(h + "ln_1", c, true).norm(h + "ln_2", c, true);
            b.req(h + "attn.c_attn.weight", c, 3L * c).req(h + "attn.c_attn.bias", 3L * c);
            b.req(h + "attn.c_proj.weight", c, c).req(h + "attn.c_proj.bias", c);
            b.req(h + "mlp.c_fc.weight", c, f).req(h + "mlp.c_fc.bias", f);
            b.req(h + "mlp.c_proj.weight", f, c).req(h + "mlp.c_proj.bias", c);
            b.transposed.addAll(List.of(h + "attn.c_attn.weight", h + "attn.c_proj.weight", h + "mlp.c_fc.weight",
                    h + "mlp.c_proj.weight"));
        }
        b.norm("ln_f", c, true);
        if (cfg.bool("tie_word_embeddings", true)) b.opt("lm_head.weight", v, c);
        else b.req("lm_head.weight", v, c);
        return b.build("gpt2", List.of("transformer."), List.of(".attn.bias", ".attn.masked_bias"));
    }

    /** BERT (BertModel, BertForMaskedLM, BertForPreTraining): post-LN, token types, optional pooler and heads. */
    public static HfLayout bert(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "hidden_size", -1), v = dim(cfg, "vocab_size", -1);
        Builder b = bertEncoder(cfg, c, v, 2);
        b.linear("cls.predictions.transform.dense", c, c, true).norm("cls.predictions.transform.LayerNorm", c, true)
                .req("cls.predictions.bias", v);
        Set<String> mlm = new LinkedHashSet<>(Set.of("cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias"));
        untiedDecoder(b, cfg, mlm, "cls.predictions.decoder.weight", v, c);
        b.group(mlm);
        b.opt("cls.predictions.decoder.bias", v);                                               // the same tensor as the bias
        b.linear("cls.seq_relationship", c, 2, true);
        b.group(Set.of("cls.seq_relationship.weight", "cls.seq_relationship.bias"));
        classifier(b, cfg, "classifier", c);
        return b.build("bert", List.of("bert."), List.of(".position_ids", ".token_type_ids"));
    }

    /**
     * BERT's embeddings, encoder layers and optional pooler (names without the model prefix), shared by BERT
     * and RoBERTa / XLM-RoBERTa; {@code types} is type_vocab_size's default (BERT 2, RoBERTa 1).
     */
    private static Builder bertEncoder(HfConfig cfg, int c, int v, int types) throws CheckpointException {
        int l = layers(cfg, "num_hidden_layers", -1), nh = dim(cfg, "num_attention_heads", -1);
        int f = dim(cfg, "intermediate_size", -1);
        int p = dim(cfg, "max_position_embeddings", 512), tt = dim(cfg, "type_vocab_size", types);
        divisible(cfg, "hidden_size", c, nh);
        Builder b = new Builder();
        b.req("embeddings.word_embeddings.weight", v, c).req("embeddings.position_embeddings.weight", p, c)
                .req("embeddings.token_type_embeddings.weight", tt, c).norm("embeddings.LayerNorm", c, true);
        bertLayers(b, l, c, f);
        b.linear("pooler.dense", c, c, true);
        b.group(Set.of("pooler.dense.weight", "pooler.dense.bias"));
        return b;
    }

    /** BERT's post-LN layers under {@code encoder.layer.i.} (BERT, RoBERTa, ELECTRA). */
    private static void bertLayers(Builder b, int l, int c, int f) {
        for (int i = 0; i < l; i++) {
            String e = "encoder.layer." + i + ".";
            b.linear(e + "attention.self.query", c, c, true).linear(e + "attention.self.key", c, c, true)
                    .linear(e + "attention.self.value", c, c, true).linear(e + "attention.output.dense", c, c, true)
                    .norm(e + "attention.output.LayerNorm", c, true).linear(e + "intermediate.dense", c, f, true)
                    .linear(e + "output.dense", f, c, true).norm(e + "output.LayerNorm", c, true);
        }
    }

    /**
     * ALBERT (AlbertModel, …ForMaskedLM, …ForSequenceClassification, …ForTokenClassification, …ForPreTraining) under
     * {@code albert.}: BERT's embeddings at embedding_size E, {@code encoder.embedding_hidden_mapping_in} (hidden, E), and
     * the shared layers: num_hidden_groups groups of inner_group_num layers each under
     * {@code encoder.albert_layer_groups.g.albert_layers.j.} ({@code attention.query/key/value/dense},
     * {@code attention.LayerNorm}, {@code ffn}, {@code ffn_output}, {@code full_layer_layer_norm}); an optional pooler
     * ({@code pooler}, a Linear); heads {@code classifier} (sequence or tokens), the masked-LM {@code predictions.dense} (E,
     * hidden), {@code predictions.LayerNorm} (E), {@code predictions.bias} (its decoder tied to the token table; the stored
     * {@code predictions.decoder.*} are copies), and the pre-training {@code sop_classifier.classifier}.
     */
    public static HfLayout albert(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "hidden_size", 4096), v = dim(cfg, "vocab_size", 30000), e = dim(cfg, "embedding_size", 128);
        int nh = dim(cfg, "num_attention_heads", 64), f = dim(cfg, "intermediate_size", 16384);
        int p = dim(cfg, "max_position_embeddings", 512), tt = dim(cfg, "type_vocab_size", 2);
        int groups = layers(cfg, "num_hidden_groups", 1), inner = layers(cfg, "inner_group_num", 1);
        divisible(cfg, "hidden_size", c, nh);
        Builder b = new Builder();
        b.req("embeddings.word_embeddings.weight", v, e).req("embeddings.position_embeddings.weight", p, e)
                .req("embeddings.token_type_embeddings.weight", tt, e).norm("embeddings.LayerNorm", e, true);
        b.linear("encoder.embedding_hidden_mapping_in", e, c, true);
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < inner; j++) {
                String l = "encoder.albert_layer_groups." + g + ".albert_layers." + j + ".";
                b.linear(l + "attention.query", c, c, true).linear(l + "attention.key", c, c, true)
                        .linear(l + "attention.value", c, c, true).linear(l + "attention.dense", c, c, true)
                        .norm(l + "attention.LayerNorm", c, true).linear(l + "ffn", c, f, true).linear(l + "ffn_output", f, c, true)
                        .norm(l + "full_layer_layer_norm", c, true);
            }
        }
        b.linear("pooler", c, c, true);
        b.group(Set.of("pooler.weight", "pooler.bias"));
        classifier(b, cfg, "classifier", c);
        b.linear("predictions.dense", c, e, true).norm("predictions.LayerNorm", e, true).req("predictions.bias", v);
        b.group(Set.of("predictions.dense.weight", "predictions.dense.bias", "predictions.LayerNorm.weight", "predictions.LayerNorm.bias",
                "predictions.bias"));
        b.opt("predictions.decoder.weight", v, e);                                          // tied to the token table
        b.opt("predictions.decoder.bias", v);                                               // the same tensor as predictions.bias
        b.linear("sop_classifier.classifier", c, 2, true);
        b.group(Set.of("sop_classifier.classifier.weight", "sop_classifier.classifier.bias"));
        return b.build(cfg.modelType(), List.of("albert."), List.of(".position_ids", ".token_type_ids"));
    }

    /**
     * ELECTRA (ElectraModel, …ForSequenceClassification, …ForTokenClassification, …ForPreTraining, …ForMaskedLM) under
     * {@code electra.}: BERT's embeddings at embedding_size E and, when E ≠ hidden_size, {@code embeddings_project}
     * (hidden, E); BERT's layers; no pooler. Heads: {@code classifier.dense} + {@code classifier.out_proj} (sequence) or
     * {@code classifier} (tokens); the pre-training heads, whole or absent: the discriminator's
     * {@code discriminator_predictions.dense} + {@code dense_prediction}, the generator's {@code generator_predictions}
     * (dense to E, LayerNorm) + {@code generator_lm_head} (its weight tied to the token table, its bias stored).
     */
    public static HfLayout electra(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "hidden_size", 256), v = dim(cfg, "vocab_size", 30522), l = layers(cfg, "num_hidden_layers", 12);
        int nh = dim(cfg, "num_attention_heads", 4), f = dim(cfg, "intermediate_size", 1024), e = dim(cfg, "embedding_size", 128);
        int p = dim(cfg, "max_position_embeddings", 512), tt = dim(cfg, "type_vocab_size", 2);
        divisible(cfg, "hidden_size", c, nh);
        Builder b = new Builder();
        b.req("embeddings.word_embeddings.weight", v, e).req("embeddings.position_embeddings.weight", p, e)
                .req("embeddings.token_type_embeddings.weight", tt, e).norm("embeddings.LayerNorm", e, true);
        if (e != c) b.linear("embeddings_project", e, c, true);
        bertLayers(b, l, c, f);
        sequenceHead(b, cfg, c);
        classifier(b, cfg, "classifier", c);
        b.linear("discriminator_predictions.dense", c, c, true).linear("discriminator_predictions.dense_prediction", c, 1, true);
        b.group(Set.of("discriminator_predictions.dense.weight", "discriminator_predictions.dense.bias",
                "discriminator_predictions.dense_prediction.weight", "discriminator_predictions.dense_prediction.bias"));
        b.linear("generator_predictions.dense", c, e, true).norm("generator_predictions.LayerNorm", e, true).req("generator_lm_head.bias", v);
        b.group(Set.of("generator_predictions.dense.weight", "generator_predictions.dense.bias", "generator_predictions.LayerNorm.weight",
                "generator_predictions.LayerNorm.bias", "generator_lm_head.bias"));
        b.opt("generator_lm_head.weight", v, e);                                            // tied to the token table
        return b.build(cfg.modelType(), List.of("electra."), List.of(".position_ids", ".token_type_ids"));
    }

    /**
     * DeBERTa's pos_att_type as DebertaV2Config reads it: "p2c|c2p" (4.x configs) or a list (as 5.x saves it), each term
     * c2p or p2c (others refused by name); empty when absent.
     */
    public static List<String> debertaTerms(HfConfig cfg) throws CheckpointException {
        List<String> out = new ArrayList<>();
        if (!cfg.has("pos_att_type")) return out;
        List<String> raw;
        try {
            raw = cfg.strings("pos_att_type");
        } catch (CheckpointException notAList) {
            raw = List.of(cfg.string("pos_att_type").split("\\|"));
        }
        for (String k : raw) {
            String t = k.strip().toLowerCase(java.util.Locale.ROOT);
            if (t.isEmpty()) continue;
            if (!t.equals("c2p") && !t.equals("p2c")) throw cfg.error("pos_att_type '" + t + "': DeBERTa's terms are c2p and p2c");
            out.add(t);
        }
        return out;
    }

    /** Whether DeBERTa's relative embeddings go through the encoder's LayerNorm: norm_rel_ebd ("a|b") names layer_norm. */
    public static boolean debertaNormRel(HfConfig cfg) throws CheckpointException {
        String norm = cfg.string("norm_rel_ebd", "none").toLowerCase(java.util.Locale.ROOT);
        return java.util.Arrays.stream(norm.split("\\|")).map(String::strip).anyMatch("layer_norm"::equals);
    }

    /**
     * DeBERTa's relative spans: {span (pos_ebd_size), position_buckets, max_relative_positions}, with max_relative_positions
     * &lt; 1 meaning max_position_embeddings and span position_buckets when &gt; 0, else max_relative_positions.
     */
    public static int[] debertaSpan(HfConfig cfg) throws CheckpointException {
        int maxRel = (int) cfg.number("max_relative_positions", -1);
        if (maxRel < 1) maxRel = dim(cfg, "max_position_embeddings", 512);
        int buckets = (int) cfg.number("position_buckets", -1);
        int span = buckets > 0 ? buckets : maxRel;
        if (span > MAX_SIZE) throw cfg.error("DeBERTa's relative span " + span + " is more than " + MAX_SIZE);
        return new int[] {span, buckets, maxRel};
    }

    /**
     * DeBERTa-v2 and v3 (DebertaV2Model without a prefix as save_pretrained writes it, …ForSequenceClassification,
     * …ForTokenClassification under {@code deberta.}): {@code embeddings.word_embeddings}, {@code position_embeddings}
     * (position_biased_input; else a stored copy is optional and ignored, as transformers ignores it), {@code
     * token_type_embeddings} (type_vocab_size &gt; 0), {@code LayerNorm}; per layer {@code attention.self.query_proj /
     * key_proj / value_proj} (with {@code pos_key_proj} / {@code pos_query_proj} without share_att_key), {@code
     * attention.output.dense / LayerNorm}, {@code intermediate.dense}, {@code output.dense / LayerNorm}; with relative_attention
     * {@code encoder.rel_embeddings} (2·span, C) and, under norm_rel_ebd layer_norm, {@code encoder.LayerNorm}. Heads: the
     * ContextPooler's {@code pooler.dense} with {@code classifier} (sequence) or {@code classifier} alone (tokens). The
     * masked-LM and replaced-token-detection heads published checkpoints carry ({@code lm_predictions.lm_head.*}, legacy
     * {@code cls.predictions.*}, {@code mask_predictions.*}) are optional groups, not served.
     */
    public static HfLayout debertaV2(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "hidden_size", 1536), v = dim(cfg, "vocab_size", 128100), l = layers(cfg, "num_hidden_layers", 24);
        int nh = dim(cfg, "num_attention_heads", 24), f = dim(cfg, "intermediate_size", 6144), p = dim(cfg, "max_position_embeddings", 512);
        divisible(cfg, "hidden_size", c, nh);
        int types = (int) cfg.number("type_vocab_size", 0);
        boolean relative = cfg.bool("relative_attention", false), share = cfg.bool("share_att_key", false);
        List<String> terms = debertaTerms(cfg);
        Builder b = new Builder();
        b.req("embeddings.word_embeddings.weight", v, c).norm("embeddings.LayerNorm", c, true);
        if (cfg.bool("position_biased_input", true)) b.req("embeddings.position_embeddings.weight", p, c);
        else b.opt("embeddings.position_embeddings.weight", p, c);
        if (types > 0) b.req("embeddings.token_type_embeddings.weight", types, c);
        for (int i = 0; i < l; i++) {
            String e = "encoder.layer." + i + ".";
            b.linear(e + "attention.self.query_proj", c, c, true).linear(e + "attention.self.key_proj", c, c, true)
                    .linear(e + "attention.self.value_proj", c, c, true);
            if (relative && !share && terms.contains("c2p")) b.linear(e + "attention.self.pos_key_proj", c, c, true);
            if (relative && !share && terms.contains("p2c")) b.linear(e + "attention.self.pos_query_proj", c, c, true);
            b.linear(e + "attention.output.dense", c, c, true).norm(e + "attention.output.LayerNorm", c, true)
                    .linear(e + "intermediate.dense", c, f, true).linear(e + "output.dense", f, c, true).norm(e + "output.LayerNorm", c, true);
        }
        if (relative) {
            b.req("encoder.rel_embeddings.weight", 2L * debertaSpan(cfg)[0], c);
            if (debertaNormRel(cfg)) b.norm("encoder.LayerNorm", c, true);
        }
        b.linear("pooler.dense", c, c, true);
        b.group(Set.of("pooler.dense.weight", "pooler.dense.bias"));
        classifier(b, cfg, "classifier", c);
        b.linear("lm_predictions.lm_head.dense", c, c, true).norm("lm_predictions.lm_head.LayerNorm", c, true).req("lm_predictions.lm_head.bias", v);
        b.group(Set.of("lm_predictions.lm_head.dense.weight", "lm_predictions.lm_head.dense.bias", "lm_predictions.lm_head.LayerNorm.weight",
                "lm_predictions.lm_head.LayerNorm.bias", "lm_predictions.lm_head.bias"));
        b.linear("cls.predictions.transform.dense", c, c, true).norm("cls.predictions.transform.LayerNorm", c, true).req("cls.predictions.bias", v);
        b.group(Set.of("cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias"));
        b.opt("cls.predictions.decoder.weight", v, c).opt("cls.predictions.decoder.bias", v);
        b.linear("mask_predictions.dense", c, c, true).norm("mask_predictions.LayerNorm", c, true).linear("mask_predictions.classifier", c, 1, true);
        b.group(Set.of("mask_predictions.dense.weight", "mask_predictions.dense.bias", "mask_predictions.LayerNorm.weight",
                "mask_predictions.LayerNorm.bias", "mask_predictions.classifier.weight", "mask_predictions.classifier.bias"));
        return b.build(cfg.modelType(), List.of("deberta."), List.of(".position_ids"));
    }

    // ---- the other encoders (issue 14): RoBERTa / XLM-RoBERTa, DistilBERT, and the classifier heads ----

    /**
     * The masked-LM decoder matrix: tied to the word embeddings (a stored copy optional) unless tie_word_embeddings is
     * false (PreTrainedModel.tie_weights), when it is the head's own matrix and part of its all-or-none group.
     */
    private static void untiedDecoder(Builder b, HfConfig cfg, Set<String> group, String key, int v, int c) throws CheckpointException {
        if (cfg.bool("tie_word_embeddings", true)) {
            b.opt(key, v, c);
        } else {
            b.req(key, v, c);
            group.add(key);
        }
    }

    /** A classifier (labels, C) + bias under {@code prefix}, all or none; labels from id2label / num_labels. */
    private static void classifier(Builder b, HfConfig cfg, String prefix, int c) throws CheckpointException {
        int n = cfg.labels().size();
        b.linear(prefix, c, n, true);
        b.group(Set.of(prefix + ".weight", prefix + ".bias"));
    }

    /**
     * RoBERTa and XLM-RoBERTa (RobertaModel, …ForMaskedLM, …ForSequenceClassification,
     * …ForTokenClassification): BERT's encoder names under {@code roberta.}, one token type, optional
     * pooler; heads {@code lm_head.*} (decoder tied to the embeddings), {@code classifier.dense} +
     * {@code classifier.out_proj} (sequence) or {@code classifier} (tokens).
     */
    public static HfLayout roberta(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "hidden_size", -1), v = dim(cfg, "vocab_size", -1);
        Builder b = bertEncoder(cfg, c, v, 1);
        robertaHeads(b, cfg, c, v);
        return b.build(cfg.modelType(), List.of("roberta."), List.of(".position_ids", ".token_type_ids"));
    }

    /**
     * RoBERTa's heads, all optional (MPNet's have the same names): {@code lm_head.*} (dense, layer_norm, bias; the decoder
     * tied unless tie_word_embeddings is false), {@code classifier.dense} + {@code classifier.out_proj} (sequence), or
     * {@code classifier} (tokens).
     */
    private static void robertaHeads(Builder b, HfConfig cfg, int c, int v) throws CheckpointException {
        b.linear("lm_head.dense", c, c, true).norm("lm_head.layer_norm", c, true).req("lm_head.bias", v);
        Set<String> mlm = new LinkedHashSet<>(Set.of("lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight",
                "lm_head.layer_norm.bias", "lm_head.bias"));
        untiedDecoder(b, cfg, mlm, "lm_head.decoder.weight", v, c);
        b.group(mlm);
        b.opt("lm_head.decoder.bias", v);                                                      // the same tensor as the bias
        sequenceHead(b, cfg, c);
        classifier(b, cfg, "classifier", c);
    }

    /** RobertaClassificationHead's {@code classifier.dense} + {@code classifier.out_proj}, whole or absent (RoBERTa, MPNet, ELECTRA). */
    private static void sequenceHead(Builder b, HfConfig cfg, int c) throws CheckpointException {
        int n = cfg.labels().size();
        b.linear("classifier.dense", c, c, true).linear("classifier.out_proj", c, n, true);
        b.group(Set.of("classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"));
    }

    /**
     * MPNet (MPNetModel, …ForMaskedLM, …ForSequenceClassification, …ForTokenClassification; sentence-transformers
     * folders such as all-mpnet-base-v2 save MPNetModel without a prefix): {@code embeddings.word_embeddings} /
     * {@code position_embeddings} / {@code LayerNorm} (no token types), per layer {@code attention.attn.q/k/v/o},
     * {@code attention.LayerNorm}, {@code intermediate.dense}, {@code output.dense}, {@code output.LayerNorm}, the
     * shared {@code encoder.relative_attention_bias} (relative_attention_num_buckets, heads), an optional pooler;
     * heads as RoBERTa's ({@code lm_head.*} with the decoder tied, {@code classifier.dense} + {@code out_proj}, or
     * {@code classifier}).
     */
    public static HfLayout mpnet(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "hidden_size", 768), v = dim(cfg, "vocab_size", 30527), l = layers(cfg, "num_hidden_layers", 12);
        int nh = dim(cfg, "num_attention_heads", 12), f = dim(cfg, "intermediate_size", 3072);
        int p = dim(cfg, "max_position_embeddings", 512), nb = dim(cfg, "relative_attention_num_buckets", 32);
        divisible(cfg, "hidden_size", c, nh);
        Builder b = new Builder();
        b.req("embeddings.word_embeddings.weight", v, c).req("embeddings.position_embeddings.weight", p, c)
                .norm("embeddings.LayerNorm", c, true);
        for (int i = 0; i < l; i++) {
            String e = "encoder.layer." + i + ".";
            for (String x : List.of("q", "k", "v", "o")) b.linear(e + "attention.attn." + x, c, c, true);
            b.norm(e + "attention.LayerNorm", c, true).linear(e + "intermediate.dense", c, f, true)
                    .linear(e + "output.dense", f, c, true).norm(e + "output.LayerNorm", c, true);
        }
        b.req("encoder.relative_attention_bias.weight", nb, nh);
        b.linear("pooler.dense", c, c, true);
        b.group(Set.of("pooler.dense.weight", "pooler.dense.bias"));
        robertaHeads(b, cfg, c, v);
        return b.build(cfg.modelType(), List.of("mpnet."), List.of(".position_ids"));
    }

    /**
     * DistilBERT (DistilBertModel, …ForMaskedLM, …ForSequenceClassification, …ForTokenClassification):
     * its own names ({@code transformer.layer.i.attention.q_lin}, {@code sa_layer_norm}, {@code ffn.lin1},
     * {@code output_layer_norm}), no token types; heads {@code vocab_transform} + {@code vocab_layer_norm} +
     * {@code vocab_projector} (tied unless tie_word_embeddings is false), {@code pre_classifier} + {@code classifier},
     * or {@code classifier}.
     */
    public static HfLayout distilbert(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "dim", -1), l = layers(cfg, "n_layers", -1), nh = dim(cfg, "n_heads", -1);
        int f = dim(cfg, "hidden_dim", -1), v = dim(cfg, "vocab_size", -1), p = dim(cfg, "max_position_embeddings", 512);
        divisible(cfg, "dim", c, nh);
        if (cfg.bool("sinusoidal_pos_embds", false)) throw cfg.error("sinusoidal_pos_embds true: only learned positions are supported");
        Builder b = new Builder();
        b.req("embeddings.word_embeddings.weight", v, c).req("embeddings.position_embeddings.weight", p, c)
                .norm("embeddings.LayerNorm", c, true);
        for (int i = 0; i < l; i++) {
            String e = "transformer.layer." + i + ".";
            b.linear(e + "attention.q_lin", c, c, true).linear(e + "attention.k_lin", c, c, true)
                    .linear(e + "attention.v_lin", c, c, true).linear(e + "attention.out_lin", c, c, true)
                    .norm(e + "sa_layer_norm", c, true).linear(e + "ffn.lin1", c, f, true).linear(e + "ffn.lin2", f, c, true)
                    .norm(e + "output_layer_norm", c, true);
        }
        b.linear("vocab_transform", c, c, true).norm("vocab_layer_norm", c, true).req("vocab_projector.bias", v);
        Set<String> mlm = new LinkedHashSet<>(List.of("vocab_transform.weight", "vocab_transform.bias", "vocab_layer_norm.weight",
                "vocab_layer_norm.bias", "vocab_projector.bias"));
        if (cfg.bool("tie_word_embeddings", true)) {
            b.opt("vocab_projector.weight", v, c);                          // the tied copy some checkpoints carry
        } else {
            b.req("vocab_projector.weight", v, c);                          // untied: part of the masked-LM head
            mlm.add("vocab_projector.weight");
        }
        b.group(mlm);
        b.linear("pre_classifier", c, c, true);
        b.group(Set.of("pre_classifier.weight", "pre_classifier.bias"));
        classifier(b, cfg, "classifier", c);
        return b.build("distilbert", List.of("distilbert."), List.of(".position_ids"));
    }

    /**
     * ModernBERT (ModernBertModel, …ForMaskedLM, …ForSequenceClassification; the task models add "model."): token
     * embeddings + norm, per layer attn_norm (none in layer 0), fused attn.Wqkv (3C, C), attn.Wo, mlp_norm, mlp.Wi
     * (2F, C: [input ; gate]), mlp.Wo; final_norm; biases where attention_bias / mlp_bias / norm_bias say (none as
     * published). Heads: head.dense (+ bias when classifier_bias) + head.norm, with decoder.bias (masked LM: decoder
     * tied to the token table, a stored copy optional) or classifier (labels, C) + bias.
     */
    public static HfLayout modernbert(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "hidden_size", 768), l = layers(cfg, "num_hidden_layers", 22), nh = dim(cfg, "num_attention_heads", 12);
        int f = dim(cfg, "intermediate_size", 1152), v = dim(cfg, "vocab_size", 50368);
        divisible(cfg, "hidden_size", c, nh);
        boolean ab = cfg.bool("attention_bias", false), mb = cfg.bool("mlp_bias", false), nb = cfg.bool("norm_bias", false);
        boolean cb = cfg.bool("classifier_bias", false);
        Builder b = new Builder();
        b.req("embeddings.tok_embeddings.weight", v, c).norm("embeddings.norm", c, nb);
        for (int i = 0; i < l; i++) {
            String e = "layers." + i + ".";
            if (i > 0) b.norm(e + "attn_norm", c, nb);
            b.linear(e + "attn.Wqkv", c, 3L * c, ab).linear(e + "attn.Wo", c, c, ab).norm(e + "mlp_norm", c, nb)
                    .linear(e + "mlp.Wi", c, 2L * f, mb).linear(e + "mlp.Wo", f, c, mb);
        }
        b.norm("final_norm", c, nb);
        b.linear("head.dense", c, c, cb).norm("head.norm", c, nb);
        Set<String> head = new LinkedHashSet<>(List.of("head.dense.weight", "head.norm.weight"));
        if (cb) head.add("head.dense.bias");
        if (nb) head.add("head.norm.bias");
        b.group(head);
        if (!cfg.bool("decoder_bias", true)) throw cfg.error("decoder_bias false is not supported (the masked-LM decoder's bias)");
        b.opt("decoder.bias", v).opt("decoder.weight", v, c);
        classifier(b, cfg, "classifier", c);
        return b.build("modernbert", List.of("model."), List.of());
    }

    /**
     * T5 v1.0 (feed_forward_proj "relu": DenseReluDense.wi, lm_head tied to shared) and v1.1 / Flan-T5
     * ("gated-gelu": wi_0 and wi_1, untied lm_head). RMSNorm weights only; no biases anywhere; the
     * relative attention bias lives in block 0 of each stack.
     */
    public static HfLayout t5(HfConfig cfg) throws CheckpointException {
        int c = dim(cfg, "d_model", -1), kv = dim(cfg, "d_kv", -1), f = dim(cfg, "d_ff", -1), l = layers(cfg, "num_layers", -1);
        int ld = layers(cfg, "num_decoder_layers", l), nh = dim(cfg, "num_heads", -1), v = dim(cfg, "vocab_size", -1);
        int buckets = dim(cfg, "relative_attention_num_buckets", 32);
        String ffn = cfg.string("feed_forward_proj", "relu");
        boolean gated = switch (ffn) {
            case "relu" -> false;
            case "gated-gelu", "gated-gelu_new", "gated-relu", "gated-silu" -> true;
            default -> throw cfg.error("feed_forward_proj '" + ffn + "' is not relu or gated-*");
        };
        long inner = (long) nh * kv;
        Builder b = new Builder();
        b.opt("shared.weight", v, c).opt("encoder.embed_tokens.weight", v, c).opt("decoder.embed_tokens.weight", v, c);
        b.anyOf.add(Set.of("shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"));
        for (String stack : List.of("encoder", "decoder")) {
            int layers = stack.equals("encoder") ? l : ld;
            for (int i = 0; i < layers; i++) {
                String s = stack + ".block." + i + ".layer.";
                int ff = 1;
                attention(b, s + "0.SelfAttention", c, inner);
                b.norm(s + "0.layer_norm", c, false);
                if (i == 0) b.req(s + "0.SelfAttention.relative_attention_bias.weight", buckets, nh);
                if (stack.equals("decoder")) {
                    attention(b, s + "1.EncDecAttention", c, inner);
                    b.norm(s + "1.layer_norm", c, false);
                    ff = 2;
                }
                String d = s + ff + ".DenseReluDense.";
                if (gated) b.req(d + "wi_0.weight", f, c).req(d + "wi_1.weight", f, c);
                else b.req(d + "wi.weight", f, c);
                b.req(d + "wo.weight", c, f);
                b.norm(s + ff + ".layer_norm", c, false);
            }
            b.norm(stack + ".final_layer_norm", c, false);
        }
        if (cfg.bool("tie_word_embeddings", true)) b.opt("lm_head.weight", v, c);
        else b.req("lm_head.weight", v, c);
        return b.build(gated ? "t5-v1.1" : "t5-v1.0", List.of(), List.of());
    }

    /**
     * A layout listed by the caller (the RoPE decoders' loader, which derives every name and shape from
     * its TransformerConfig): {@code required} and {@code optional} keys with their shapes, no prefixes,
     * {@code ignored} key suffixes.
     */
    public static HfLayout listed(String family, Map<String, long[]> required, Map<String, long[]> optional, List<String> ignored) {
        Builder b = new Builder();
        required.forEach(b::req);
        optional.forEach(b::opt);
        return b.build(family, List.of(), List.copyOf(ignored));
    }

    private static void attention(Builder b, String prefix, long c, long inner) {
        b.req(prefix + ".q.weight", inner, c).req(prefix + ".k.weight", inner, c).req(prefix + ".v.weight", inner, c)
                .req(prefix + ".o.weight", c, inner);
    }

    /** The canonical name of a checkpoint key: prefix dropped, TF-era LayerNorm gamma/beta renamed. */
    public String canonical(String key) {
        String k = key;
        for (String p : prefixes) {
            if (k.startsWith(p)) {
                k = k.substring(p.length());
                break;
            }
        }
        if (k.endsWith("LayerNorm.gamma")) k = k.substring(0, k.length() - "gamma".length()) + "weight";
        else if (k.endsWith("LayerNorm.beta")) k = k.substring(0, k.length() - "beta".length()) + "bias";
        return k;
    }

    /**
     * Checks {@code checkpoint} key for key: returns canonical name → the checkpoint's key for every
     * tensor present, or throws one CheckpointException (naming {@code where}) that lists missing keys,
     * unexpected keys, keys that map to the same name, wrong shapes and non-floating dtypes.
     */
    public Map<String, String> match(SafetensorsCheckpoint checkpoint, Path where) throws CheckpointException {
        return match(checkpoint, where, Set.of());
    }

    /**
     * The same, where the checkpoint keys {@code fp8} may be F8_E4M3 (a fine-grained FP8 folder's quantized weights,
     * which the loader dequantizes; their scales are left to the caller through the ignored suffixes).
     */
    public Map<String, String> match(SafetensorsCheckpoint checkpoint, Path where, Set<String> fp8) throws CheckpointException {
        return match(checkpoint.names(), checkpoint::entry, where, fp8);
    }

    /**
     * The same over a checkpoint's names and entries as a loader presents them (an AWQ / GPTQ folder's projections as
     * the {@code .weight} entries they dequantize to, their packed parts left out).
     */
    public Map<String, String> match(Set<String> names, java.util.function.Function<String, TensorEntry> entries, Path where,
                                     Set<String> fp8) throws CheckpointException {
        Map<String, String> found = new TreeMap<>();
        Set<String> unexpected = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String key : names) {
            if (ignored.stream().anyMatch(key::endsWith)) continue;
            String canon = canonical(key);
            if (!shapes.containsKey(canon)) {
                unexpected.add(key);
                continue;
            }
            String before = found.put(canon, key);
            if (before != null) problems.add("'" + before + "' and '" + key + "' are both " + canon);
            TensorEntry e = entries.apply(key);
            if (!Arrays.equals(e.shape(), shapes.get(canon))) {
                problems.add(key + " is " + Arrays.toString(e.shape()) + ", expected " + Arrays.toString(shapes.get(canon)));
            }
            if (e.dtype() == SafetensorsDType.F8_E4M3 && fp8.contains(key)) continue;
            if (e.dtype() != SafetensorsDType.F32 && e.dtype() != SafetensorsDType.F16 && e.dtype() != SafetensorsDType.BF16) {
                problems.add(key + " has dtype " + e.dtype() + ", expected F32, F16 or BF16");
            }
        }
        Set<String> missing = new TreeSet<>(required);
        missing.removeAll(found.keySet());
        for (Set<String> g : anyOf) {
            if (g.stream().noneMatch(found::containsKey)) missing.add("one of " + new TreeSet<>(g));
        }
        for (Set<String> g : allOrNone) {
            if (g.stream().anyMatch(found::containsKey)) {
                for (String k : g) if (!found.containsKey(k)) missing.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            problems.add(0, "missing " + missing + ", unexpected " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException(where, "does not match " + family + " (" + shapes.size() + " known tensors): "
                    + String.join("; ", problems));
        }
        return Collections.unmodifiableMap(found);
    }

    /** Whether the checkpoint's tensor for {@code canonical} is stored [in, out] (see the class comment). */
    public boolean isTransposed(String canonical) { return transposed.contains(canonical); }
}
