// HfWeights — the Hugging Face loaders behind Weights.fromHfBert / fromHfGpt2 / fromHfT5: per family,
// a map from our tensor names to the checkpoint's keys (transposed for GPT-2's Conv1D, ranges of
// fused tensors), and one key-for-key copy that reports every missing, misshaped and leftover key.
package org.transformer4j.model;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Uploader;

final class HfWeights {

    private HfWeights() {}

    // ---- Hugging Face BERT --------------------------------------------------------------------

    static Weights bert(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return bert(config, hf, backend, dtype, false);
    }

    /** With {@code share} (Pretrained: tensors that views of the mapped file can serve are not copied). */
    static Weights bert(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype, boolean share) {
        TransformerConfig c = config;
        if (c.architecture() != TransformerConfig.Architecture.ENCODER_ONLY || c.normPlacement() != TransformerConfig.NormPlacement.POST
                || c.norm() != TransformerConfig.NormKind.LAYER_NORM || c.positions() != TransformerConfig.Positions.LEARNED_ABSOLUTE
                || c.gatedMlp() || !c.biases()) {
            throw new IllegalArgumentException("a BERT checkpoint needs an encoder-only, post-LN LayerNorm config with learned"
                    + " positions, biases and an ungated MLP; got " + c);
        }
        Map<String, String> alias = new LinkedHashMap<>();
        alias.put("embeddings.tokens", "embeddings.word_embeddings.weight");
        alias.put("embeddings.positions", "embeddings.position_embeddings.weight");
        alias.put("embeddings.types", "embeddings.token_type_embeddings.weight");
        alias.put("embeddings.norm.weight", "embeddings.LayerNorm.weight");
        alias.put("embeddings.norm.bias", "embeddings.LayerNorm.bias");
        for (int i = 0; i < c.encoderLayers(); i++) {
            String o = "encoder." + i + ".", h = "encoder.layer." + i + ".";
            for (String[] kv : new String[][] {{"self.q", "attention.self.query"}, {"self.k", "attention.self.key"},
                    {"self.v", "attention.self.value"}, {"self.o", "attention.output.dense"},
                    {"mlp.up", "intermediate.dense"}, {"mlp.down", "output.dense"}}) {
                alias.put(o + kv[0], h + kv[1] + ".weight");
                alias.put(o + kv[0] + ".bias", h + kv[1] + ".bias");
            }
            alias.put(o + "attn_norm.weight", h + "attention.output.LayerNorm.weight");
            alias.put(o + "attn_norm.bias", h + "attention.output.LayerNorm.bias");
            alias.put(o + "mlp_norm.weight", h + "output.LayerNorm.weight");
            alias.put(o + "mlp_norm.bias", h + "output.LayerNorm.bias");
        }
        boolean pooler = hf.containsKey("pooler.dense.weight");
        if (pooler) {
            alias.put("pooler.dense", "pooler.dense.weight");
            alias.put("pooler.dense.bias", "pooler.dense.bias");
        }
        Map<String, Part> parts = new LinkedHashMap<>();
        alias.forEach((name, key) -> parts.put(name, new Part(key, false, -1, -1)));
        return load("BERT", hf, parts, backend, dtype, share, s -> Weights.buildBert(c, s, pooler));
    }

    // ---- Hugging Face encoders with their heads (issue 14): BERT, RoBERTa, XLM-RoBERTa, DistilBERT ----

    private static final System.Logger LOG = System.getLogger("org.transformer4j.model.Pretrained");

    /**
     * An encoder folder's canonical map (HfLayout's names: prefixes dropped, gamma/beta renamed) onto our
     * structure with every head it carries: BERT's pooler, sequence classifier (pooler + classifier),
     * token classifier, masked-LM head (tied decoder: the stored copy is dropped) and next-sentence
     * head; RoBERTa's classification head (dense, tanh, out_proj: our pooler + classifier) and lm_head;
     * DistilBERT's pre_classifier (ReLU) + classifier and vocab_transform/vocab_layer_norm/vocab_projector (its own
     * matrix when tie_word_embeddings is false).
     * With {@code heads} false, only the encoder (and BERT's pooler) is loaded and the heads present are
     * named in one log line.
     */
    static Weights encoder(TransformerConfig config, Map<String, Tensor> hf, String family, List<String> architectures,
                           List<String> labels, Weights.EncoderInfo info, boolean heads, Backend backend, DType dtype) {
        if (family.equals("modernbert")) return modernBert(config, hf, info, heads, backend, dtype);
        TransformerConfig c = config;
        Map<String, Tensor> map = new java.util.HashMap<>(hf);
        Map<String, String> alias = new LinkedHashMap<>();
        boolean distil = family.equals("distilbert"), mpnet = family.equals("mpnet"), deberta = family.equals("deberta-v2");
        boolean albert = family.equals("albert");
        int[][] shared = albert ? albertGroups(map.keySet(), c.encoderLayers()) : null;   // ALBERT: (group, inner layer) per layer
        alias.put("embeddings.tokens", "embeddings.word_embeddings.weight");
        alias.put("embeddings.positions", "embeddings.position_embeddings.weight");
        if (!distil && !mpnet) alias.put("embeddings.types", "embeddings.token_type_embeddings.weight");
        if (deberta && c.positions() != TransformerConfig.Positions.LEARNED_ABSOLUTE && map.remove("embeddings.position_embeddings.weight") != null) {
            LOG.log(System.Logger.Level.INFO, "ignoring embeddings.position_embeddings.weight (position_biased_input is false; transformers"
                    + " ignores it too)");
        }
        alias.put("embeddings.norm.weight", "embeddings.LayerNorm.weight");
        alias.put("embeddings.norm.bias", "embeddings.LayerNorm.bias");
        for (int i = 0; i < c.encoderLayers(); i++) {
            String o = "encoder." + i + ".";
            String[][] names = distil
                    ? new String[][] {{"self.q", "attention.q_lin"}, {"self.k", "attention.k_lin"}, {"self.v", "attention.v_lin"},
                        {"self.o", "attention.out_lin"}, {"mlp.up", "ffn.lin1"}, {"mlp.down", "ffn.lin2"},
                        {"attn_norm", "sa_layer_norm"}, {"mlp_norm", "output_layer_norm"}}
                    : deberta ? new String[][] {{"self.q", "attention.self.query_proj"}, {"self.k", "attention.self.key_proj"},
                        {"self.v", "attention.self.value_proj"}, {"self.o", "attention.output.dense"}, {"mlp.up", "intermediate.dense"},
                        {"mlp.down", "output.dense"}, {"attn_norm", "attention.output.LayerNorm"}, {"mlp_norm", "output.LayerNorm"},
                        {"self.pos_k", "attention.self.pos_key_proj"}, {"self.pos_q", "attention.self.pos_query_proj"}}
                    : albert ? new String[][] {{"self.q", "attention.query"}, {"self.k", "attention.key"}, {"self.v", "attention.value"},
                        {"self.o", "attention.dense"}, {"mlp.up", "ffn"}, {"mlp.down", "ffn_output"}, {"attn_norm", "attention.LayerNorm"},
                        {"mlp_norm", "full_layer_layer_norm"}}
                    : mpnet ? new String[][] {{"self.q", "attention.attn.q"}, {"self.k", "attention.attn.k"}, {"self.v", "attention.attn.v"},
                        {"self.o", "attention.attn.o"}, {"mlp.up", "intermediate.dense"}, {"mlp.down", "output.dense"},
                        {"attn_norm", "attention.LayerNorm"}, {"mlp_norm", "output.LayerNorm"}}
                    : new String[][] {{"self.q", "attention.self.query"}, {"self.k", "attention.self.key"},
                        {"self.v", "attention.self.value"}, {"self.o", "attention.output.dense"}, {"mlp.up", "intermediate.dense"},
                        {"mlp.down", "output.dense"}, {"attn_norm", "attention.output.LayerNorm"}, {"mlp_norm", "output.LayerNorm"}};
            String h = albert ? "encoder.albert_layer_groups." + shared[i][0] + ".albert_layers." + shared[i][1] + "."
                    : (distil ? "transformer.layer." : "encoder.layer.") + i + ".";
            for (String[] kv : names) {
                boolean norm = kv[0].endsWith("norm");
                alias.put(o + kv[0] + (norm ? ".weight" : ""), h + kv[1] + ".weight");
                alias.put(o + kv[0] + ".bias", h + kv[1] + ".bias");
            }
        }
        if (family.equals("electra")) {
            if (map.containsKey("embeddings_project.weight")) {                       // only when embedding_size ≠ hidden_size
                alias.put("embeddings.project", "embeddings_project.weight");
                alias.put("embeddings.project.bias", "embeddings_project.bias");
            }
            // the pre-training heads (replaced-token detection, the generator's masked LM) are not served: named, left out
            dropHeads(map, "ELECTRA's pre-training head tensors (hidden states are served)", "discriminator_predictions.",
                    "generator_predictions.", "generator_lm_head.");
        }
        if (albert) {                                                               // always projected (E < hidden_size)
            alias.put("embeddings.project", "encoder.embedding_hidden_mapping_in.weight");
            alias.put("embeddings.project.bias", "encoder.embedding_hidden_mapping_in.bias");
            dropHeads(map, "ALBERT's sentence-order prediction head (not served)", "sop_classifier.");
        }
        if (deberta) {
            alias.put("encoder.rel_embeddings", "encoder.rel_embeddings.weight");
            alias.put("encoder.rel_norm.weight", "encoder.LayerNorm.weight");
            alias.put("encoder.rel_norm.bias", "encoder.LayerNorm.bias");
            // the pre-training heads published checkpoints carry (masked LM, replaced-token detection) are not served
            dropHeads(map, "DeBERTa's pre-training head tensors (its masked-LM and replaced-token detection heads are not served)",
                    "lm_predictions.", "cls.", "mask_predictions.");
        }
        if (mpnet) {
            // MPNet's bias over the 32 buckets compute_position_bias uses: the first 32 rows of a larger table
            String key = "encoder.relative_attention_bias.weight";
            Tensor table = map.get(key);
            if (table != null && table.shape(0) > c.relativeBuckets()) map.put(key, table.slice(0, 0, c.relativeBuckets()));
            alias.put("encoder.relative_bias", key);
        }
        // head name → (our name → stored name)
        Map<String, Map<String, String>> present = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, String[][]> head = (name, pairs) -> {
            if (!map.containsKey(pairs[0][1])) return;
            Map<String, String> m = present.computeIfAbsent(name, k -> new LinkedHashMap<>());
            for (String[] p : pairs) m.put(p[0], p[1]);
        };
        boolean tokenLevel = architectures.stream().anyMatch(a -> a.endsWith("ForTokenClassification"));
        String[][] pooler = {{"pooler.dense", "pooler.dense.weight"}, {"pooler.dense.bias", "pooler.dense.bias"}};
        String[][] linearClassifier = {{"classifier", "classifier.weight"}, {"classifier.bias", "classifier.bias"}};
        String[][] tokens = {{"tokens.classifier", "classifier.weight"}, {"tokens.classifier.bias", "classifier.bias"}};
        switch (family) {
            case "bert" -> {
                head.accept("pooler", pooler);
                head.accept(tokenLevel ? "tokens" : "classifier", tokenLevel ? tokens : linearClassifier);
                head.accept("mlm", untied(c, new String[][] {{"mlm.dense", "cls.predictions.transform.dense.weight"},
                        {"mlm.dense.bias", "cls.predictions.transform.dense.bias"},
                        {"mlm.norm.weight", "cls.predictions.transform.LayerNorm.weight"},
                        {"mlm.norm.bias", "cls.predictions.transform.LayerNorm.bias"}, {"mlm.output.bias", "cls.predictions.bias"}},
                        "cls.predictions.decoder.weight"));
                head.accept("nsp", new String[][] {{"nsp", "cls.seq_relationship.weight"}, {"nsp.bias", "cls.seq_relationship.bias"}});
                if (c.tiedEmbeddings() || !present.containsKey("mlm")) map.remove("cls.predictions.decoder.weight");   // a tied copy
                map.remove("cls.predictions.decoder.bias");                         // the same tensor as cls.predictions.bias
            }
            case "roberta", "xlm-roberta", "camembert", "mpnet", "electra" -> {     // CamemBERT's, MPNet's, ELECTRA's heads: RoBERTa's names
                if (map.containsKey("classifier.dense.weight")) {                   // RobertaClassificationHead: dense, tanh, out_proj
                    head.accept("classifier", new String[][] {{"pooler.dense", "classifier.dense.weight"},
                            {"pooler.dense.bias", "classifier.dense.bias"}, {"classifier", "classifier.out_proj.weight"},
                            {"classifier.bias", "classifier.out_proj.bias"}});
                    if (map.containsKey("pooler.dense.weight")) {
                        LOG.log(System.Logger.Level.INFO, "ignoring pooler.dense.* (the classification head has its own dense layer)");
                        map.remove("pooler.dense.weight");
                        map.remove("pooler.dense.bias");
                    }
                } else {
                    head.accept("pooler", pooler);
                    head.accept("tokens", tokens);
                }
                head.accept("mlm", untied(c, new String[][] {{"mlm.dense", "lm_head.dense.weight"}, {"mlm.dense.bias", "lm_head.dense.bias"},
                        {"mlm.norm.weight", "lm_head.layer_norm.weight"}, {"mlm.norm.bias", "lm_head.layer_norm.bias"},
                        {"mlm.output.bias", "lm_head.bias"}}, "lm_head.decoder.weight"));
                if (c.tiedEmbeddings() || !present.containsKey("mlm")) map.remove("lm_head.decoder.weight");   // a tied copy
                map.remove("lm_head.decoder.bias");
            }
            case "albert" -> {                                                      // AlbertModel's pooler is a Linear named pooler
                head.accept("pooler", new String[][] {{"pooler.dense", "pooler.weight"}, {"pooler.dense.bias", "pooler.bias"}});
                head.accept(tokenLevel ? "tokens" : "classifier", tokenLevel ? tokens : linearClassifier);
                // AlbertMLMHead: dense to embedding_size, hidden_act, LayerNorm, the decoder (tied) + predictions.bias
                head.accept("mlm", untied(c, new String[][] {{"mlm.dense", "predictions.dense.weight"},
                        {"mlm.dense.bias", "predictions.dense.bias"}, {"mlm.norm.weight", "predictions.LayerNorm.weight"},
                        {"mlm.norm.bias", "predictions.LayerNorm.bias"}, {"mlm.output.bias", "predictions.bias"}}, "predictions.decoder.weight"));
                if (c.tiedEmbeddings() || !present.containsKey("mlm")) map.remove("predictions.decoder.weight");   // a tied copy
                map.remove("predictions.decoder.bias");                             // the same tensor as predictions.bias
            }
            case "deberta-v2" -> {                                                  // ContextPooler (pooler.dense) + classifier
                head.accept("pooler", pooler);
                head.accept(tokenLevel ? "tokens" : "classifier", tokenLevel ? tokens : linearClassifier);
            }
            case "distilbert" -> {
                if (map.containsKey("pre_classifier.weight")) {
                    head.accept("classifier", new String[][] {{"pooler.dense", "pre_classifier.weight"},
                            {"pooler.dense.bias", "pre_classifier.bias"}, {"classifier", "classifier.weight"},
                            {"classifier.bias", "classifier.bias"}});
                } else {
                    head.accept("tokens", tokens);
                }
                // vocab_projector is tied to the token table (the stored copy is dropped) unless tie_word_embeddings
                // is false (PreTrainedModel.tie_weights): then its stored weight is the output matrix, lm_head here
                String[][] mlm = {{"mlm.dense", "vocab_transform.weight"}, {"mlm.dense.bias", "vocab_transform.bias"},
                        {"mlm.norm.weight", "vocab_layer_norm.weight"}, {"mlm.norm.bias", "vocab_layer_norm.bias"},
                        {"mlm.output.bias", "vocab_projector.bias"}, {"lm_head", "vocab_projector.weight"}};
                head.accept("mlm", c.tiedEmbeddings() ? java.util.Arrays.copyOf(mlm, mlm.length - 1) : mlm);
                if (c.tiedEmbeddings() || !present.containsKey("mlm")) map.remove("vocab_projector.weight");
            }
            default -> throw new IllegalArgumentException("not an encoder family: " + family);
        }
        if (!heads) {
            List<String> dropped = new ArrayList<>();
            for (var it = present.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().equals("pooler")) continue;                          // part of BertModel itself
                dropped.addAll(e.getValue().values());
                e.getValue().values().forEach(map::remove);
                it.remove();
            }
            if (!dropped.isEmpty()) LOG.log(System.Logger.Level.INFO, "ignoring " + dropped.size() + " head tensors (not needed here): "
                    + new TreeSet<>(dropped));
        }
        Set<String> built = new java.util.LinkedHashSet<>(present.keySet());
        if (built.contains("classifier")) built.add("pooler");
        present.values().forEach(alias::putAll);
        Map<String, Part> parts = new LinkedHashMap<>();
        alias.forEach((name, key) -> parts.put(name, new Part(key, false, -1, -1)));
        String what = family.toUpperCase(java.util.Locale.ROOT);
        return load(what, map, parts, backend, dtype, s -> Weights.buildEncoder(c, s, built, labels.size(), info));
    }

    /**
     * ALBERT's (group, inner layer) for each of the {@code stacked} layers, from the groups and inner layers the checkpoint's
     * names hold (HfLayout checked them against the config): Pretrained.albertLayers.
     */
    private static int[][] albertGroups(Set<String> names, int stacked) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("^encoder\\.albert_layer_groups\\.(\\d+)\\.albert_layers\\.(\\d+)\\.");
        int groups = 0, inner = 0;
        for (String n : names) {
            java.util.regex.Matcher m = p.matcher(n);
            if (m.find()) {
                groups = Math.max(groups, Integer.parseInt(m.group(1)) + 1);
                inner = Math.max(inner, Integer.parseInt(m.group(2)) + 1);
            }
        }
        if (groups == 0 || stacked % inner != 0) {
            throw new IllegalArgumentException("ALBERT's layer groups are missing or do not fit " + stacked + " layers");
        }
        return Pretrained.albertLayers(stacked / inner, groups, inner);
    }

    /** Removes the tensors under {@code prefixes} from the map (heads not served), naming them in one log line as {@code what}. */
    private static void dropHeads(Map<String, Tensor> map, String what, String... prefixes) {
        List<String> dropped = map.keySet().stream().filter(k -> java.util.Arrays.stream(prefixes).anyMatch(k::startsWith)).sorted().toList();
        if (dropped.isEmpty()) return;
        dropped.forEach(map::remove);
        LOG.log(System.Logger.Level.INFO, "ignoring " + what + ": " + dropped);
    }

    /** A masked-LM head's pairs, plus its own decoder matrix as our lm_head when the config unties it from the token table. */
    private static String[][] untied(TransformerConfig c, String[][] pairs, String decoder) {
        if (c.tiedEmbeddings()) return pairs;
        String[][] out = java.util.Arrays.copyOf(pairs, pairs.length + 1);
        out[pairs.length] = new String[] {"lm_head", decoder};
        return out;
    }

    /**
     * A ModernBERT folder (HfLayout's names, "model." dropped) onto our structure: the fused Wqkv taken whole as our
     * [q ; k ; v] (or as its row views under -Dt4j.fuse=false), Wi = [input ; gate] as our [up ; gate], layer 0 without
     * attn_norm; the shared head (dense, act, norm) is the masked-LM transform when the folder has decoder.bias, the
     * classification head's when it has classifier.*; the tied decoder.weight copy is dropped.
     */
    static Weights modernBert(TransformerConfig c, Map<String, Tensor> hf, Weights.EncoderInfo info, boolean heads, Backend backend,
                              DType dtype) {
        Map<String, Tensor> map = new java.util.HashMap<>(hf);
        Map<String, String> alias = new LinkedHashMap<>();
        alias.put("embeddings.tokens", "embeddings.tok_embeddings.weight");
        alias.put("embeddings.norm.weight", "embeddings.norm.weight");
        alias.put("embeddings.norm.bias", "embeddings.norm.bias");
        long cw = c.modelWidth(), f = c.mlpWidth();
        for (int i = 0; i < c.encoderLayers(); i++) {
            String o = "encoder." + i + ".", l = "layers." + i + ".";
            for (String n : new String[] {"weight", "bias"}) {
                alias.put(o + "attn_norm." + n, l + "attn_norm." + n);
                alias.put(o + "mlp_norm." + n, l + "mlp_norm." + n);
            }
            rows(map, l + "attn.Wqkv.weight", new String[] {"q", "k", "v"}, new long[] {0, cw, 2 * cw, 3 * cw});
            rows(map, l + "mlp.Wi.weight", new String[] {"input", "gate"}, new long[] {0, f, 2 * f});
            alias.put(o + "self.qkv", l + "attn.Wqkv.weight");
            for (String x : List.of("q", "k", "v")) alias.put(o + "self." + x, l + "attn.Wqkv.weight[" + x + "]");
            alias.put(o + "self.o", l + "attn.Wo.weight");
            alias.put(o + "mlp.up_gate", l + "mlp.Wi.weight");
            alias.put(o + "mlp.up", l + "mlp.Wi.weight[input]");
            alias.put(o + "mlp.gate", l + "mlp.Wi.weight[gate]");
            alias.put(o + "mlp.down", l + "mlp.Wo.weight");
        }
        alias.put("encoder.final_norm.weight", "final_norm.weight");
        alias.put("encoder.final_norm.bias", "final_norm.bias");
        java.util.Set<String> built = new java.util.LinkedHashSet<>();
        List<String> dropped = new ArrayList<>();
        boolean classifier = map.containsKey("classifier.weight"), mlm = !classifier && map.containsKey("decoder.bias");
        String headName = classifier ? "pooler" : "mlm";
        if (heads && (classifier || mlm)) {
            built.add(headName);
            if (classifier) built.add("classifier");
            alias.put(headName + ".dense", "head.dense.weight");
            alias.put(headName + ".dense.bias", "head.dense.bias");
            alias.put(headName + ".norm.weight", "head.norm.weight");
            alias.put(headName + ".norm.bias", "head.norm.bias");
            if (classifier) {
                alias.put("classifier", "classifier.weight");
                alias.put("classifier.bias", "classifier.bias");
            } else {
                alias.put("mlm.output.bias", "decoder.bias");
            }
        } else {
            for (String k : List.of("head.dense.weight", "head.dense.bias", "head.norm.weight", "head.norm.bias", "decoder.bias",
                    "classifier.weight", "classifier.bias")) {
                if (map.remove(k) != null) dropped.add(k);
            }
        }
        map.remove("decoder.weight");                                       // the tied copy of the token table
        if (!dropped.isEmpty()) LOG.log(System.Logger.Level.INFO, "ignoring " + dropped.size() + " head tensors (not needed here): " + dropped);
        Map<String, Part> parts = new LinkedHashMap<>();
        alias.forEach((name, key) -> parts.put(name, new Part(key, false, -1, -1)));
        int labels = info.labels().size();
        return load("MODERNBERT", map, parts, backend, dtype, s -> Weights.buildEncoder(c, s, built, labels, info));
    }

    /** Row ranges [at[i], at[i+1]) of the fused (rows, C) tensor {@code key} offered as key[names[i]] (views, no copy). */
    private static void rows(Map<String, Tensor> hf, String key, String[] names, long[] at) {
        Tensor t = hf.get(key);
        if (t == null || t.rank() != 2 || t.shape(0) != at[at.length - 1]) return;        // the loader reports it
        for (int i = 0; i < names.length; i++) hf.put(key + "[" + names[i] + "]", t.slice(0, at[i], at[i + 1]));
    }

    /**
     * Where one of our tensors comes from: a Hugging Face key, whether it is stored transposed ([in, out],
     * GPT-2's Conv1D), and for fused tensors the range [from, to) of the last stored dimension it takes
     * (-1: all of it).
     */
    record Part(String key, boolean transposed, int from, int to) {}

    /**
     * Copies the mapped tensors onto the backend while {@code build} lays out the structure; collects
     * every missing and misshaped key and every key left over into one error (nothing stays allocated).
     */
    static Weights load(String family, Map<String, Tensor> hf, Map<String, Part> parts, Backend backend, DType dtype,
                                java.util.function.Function<Weights.Source, Weights> build) {
        return load(family, hf, parts, backend, dtype, false, build);
    }

    /**
     * {@code share}: where the backend can compute on a stored tensor as it is (CPU, same dtype, no
     * transposition) the weights view it instead of copying it ({@link Uploader#share}); the caller then
     * keeps the stored tensors' memory (the mapped checkpoint) open as long as the weights.
     */
    static Weights load(String family, Map<String, Tensor> hf, Map<String, Part> parts, Backend backend, DType dtype,
                                boolean share, java.util.function.Function<Weights.Source, Weights> build) {
        Weights.checkFloating(dtype);
        try (Uploader uploader = backend.uploader()) {
            return load(family, hf, parts, backend, dtype, share, uploader, build);
        }
    }

    private static Weights load(String family, Map<String, Tensor> hf, Map<String, Part> parts, Backend backend, DType dtype,
                                boolean share, Uploader uploader, java.util.function.Function<Weights.Source, Weights> build) {
        Set<String> used = new HashSet<>();
        List<String> problems = new ArrayList<>();
        Weights.Source s = new Weights.Source() {
            final Map<String, Tensor> named = new LinkedHashMap<>();
            // a stored tensor several of our names take (ALBERT's shared layers) is uploaded once, under its first name
            final Map<String, Tensor> byPart = new java.util.HashMap<>();
            final Map<String, Weights.Projection> byParts = new java.util.HashMap<>();     // the same for a projection's blocks
            final Weights.Fusion fusion = Weights.Fusion.current();

            @Override public Weights.Fusion fusion() { return fusion; }

            Tensor take(String name, DType dt, long... shape) {
                Part p = parts.get(name);
                Tensor again = p == null ? null : byPart.get(p + " " + dt);
                if (again != null && java.util.Arrays.equals(again.shape(), shape)) return again;
                Tensor t = p == null ? null : hf.get(p.key());
                if (t == null) {
                    problems.add("missing " + (p == null ? name : p.key()) + " for " + java.util.Arrays.toString(shape));
                    return null;
                }
                long[] stored = t.shape();
                long[] want = shape.clone();
                if (p.transposed()) {                                          // stored (in, out…): ours is (out, in)
                    want = new long[] {shape[1], p.from() < 0 ? shape[0] : stored.length == 2 ? stored[1] : -1};
                } else if (p.from() >= 0) {
                    want[want.length - 1] = stored[stored.length - 1];
                }
                boolean rangeOk = p.from() < 0 || (p.to() - p.from() == shape[p.transposed() ? 0 : shape.length - 1]
                        && p.to() <= stored[stored.length - 1]);
                if (!java.util.Arrays.equals(stored, want) || !rangeOk) {
                    problems.add(p.key() + " has shape " + t.shapeString() + ", expected " + java.util.Arrays.toString(want)
                            + (p.from() >= 0 ? " (taking [" + p.from() + ", " + p.to() + ") of its last dimension)" : ""));
                    return null;
                }
                used.add(p.key());
                String part = p + " " + dt;
                // A strided view of the stored tensor (a transposed Conv1D, a range of a fused one), moved by
                // the uploader: converted to dt straight into the backend's memory, never a Java array.
                Tensor view = t;
                if (p.transposed()) view = (p.from() >= 0 ? t.slice(1, p.from(), p.to()) : t).transpose(0, 1);
                else if (p.from() >= 0) view = t.slice(t.rank() - 1, p.from(), p.to());
                MemorySegment mapped = t.hostSegment();
                // only views of the mapped file: a tensor the loader made (Gemma's folded norms) dies with the load
                Tensor dev = share && mapped.isMapped() ? uploader.share(view, dt) : uploader.upload(view, dt);
                named.put(name, dev);
                byPart.put(part, dev);
                if (!Uploader.isView(dev) && mapped.isMapped() && mapped.byteSize() > 0) {
                    mapped.unload();       // copied: drop the mapped pages from the resident set (they stay in the page cache)
                }
                return dev;
            }

            @Override public Tensor matrix(String name, int out, int in) { return take(name, dtype, out, in); }

            @Override public Tensor vector(String name, int n, float mean, float std) { return take(name, dtype, n); }

            @Override public Tensor biasTable(String name, int buckets, int heads) { return take(name, DType.F32, buckets, heads); }

            @Override public Tensor sinks(String name, int heads) { return take(name, DType.F32, heads); }

            @Override public Tensor vectorF32(String name, int n) { return take(name, DType.F32, n); }

            @Override
            public org.transformer4j.runtime.Mxfp4 mxfp4(String name, int groups, int rows, int cols) {
                if (!parts.containsKey(name + ".blocks")) return null;
                Tensor b = take(name + ".blocks", DType.U8, groups, rows, cols / 32, 16), sc = take(name + ".scales", DType.U8, groups, rows, cols / 32);
                return b == null || sc == null ? null : new org.transformer4j.runtime.Mxfp4(b, sc);
            }

            /**
             * An AWQ / GPTQ folder's 4-bit projection, stored whole (not a split or transposed view), for F16 or BF16 compute, on
             * a backend that keeps them packed (IntQuant.packedWanted: CUDA, or -Dt4j.quant=packed).
             */
            @Override
            public boolean packs(String name) {
                Part p = parts.get(name);
                return p != null && !p.transposed() && p.from() < 0 && dtype != DType.F32 && hf instanceof LazyTensors lazy
                        && lazy.packs(p.key()) && IntQuant.packedWanted(backend);
            }

            /** Its codes, scales, zero points (and g_idx) copied to the backend as they are, under name.codes, … */
            @Override
            public org.transformer4j.runtime.Int4 int4(String name, int out, int in) {
                Part p = parts.get(name);
                org.transformer4j.runtime.Int4 h = ((LazyTensors) hf).pack(p.key());
                try {
                    if (h.rows() != out || h.cols() != in) {
                        problems.add(p.key() + " is (" + h.rows() + ", " + h.cols() + ") in 4 bits, expected (" + out + ", " + in + ")");
                        return null;
                    }
                    used.add(p.key());
                    Tensor[] dev = new Tensor[4];
                    String[] suffix = {".codes", ".scales", ".zeros", ".gidx"};
                    Tensor[] host = {h.codes(), h.scales(), h.zeros(), h.gidx()};
                    for (int i = 0; i < 4; i++) {
                        if (host[i] == null) continue;
                        dev[i] = uploader.upload(host[i], host[i].dtype());
                        named.put(name + suffix[i], dev[i]);
                    }
                    return new org.transformer4j.runtime.Int4(dev[0], dev[1], dev[2], dev[3], h.groupSize());
                } finally {
                    h.codes().close();                 // made for the load (the scales view the checkpoint)
                    h.zeros().close();
                    if (h.gidx() != null) h.gidx().close();
                }
            }

            @Override public Map<String, Tensor> named() { return named; }

            @Override public Backend backend() { return backend; }

            /** A projection the checkpoint stores fused (GPT-2's c_attn, Phi-3's qkv_proj) is taken whole, as it lies. */
            @Override
            public Weights.Projection projection(String name, String[] ps, int[] outs, int in, boolean bias, boolean fuse) {
                if (!fuse || fusion() == Weights.Fusion.SEPARATE || !parts.containsKey(name)) {
                    StringBuilder key = new StringBuilder(dtype + " " + bias);               // the stored blocks these names take
                    for (String p : ps) key.append(' ').append(parts.get(p)).append(bias ? " " + parts.get(p + ".bias") : "");
                    Weights.Projection again = byParts.get(key.toString());
                    if (again != null) return again;
                    Weights.Projection made = Weights.Source.super.projection(name, ps, outs, in, bias, fuse);
                    if (java.util.Arrays.stream(ps).allMatch(parts::containsKey) && java.util.Arrays.stream(made.weights()).allMatch(java.util.Objects::nonNull)) {
                        byParts.put(key.toString(), made);
                    }
                    return made;
                }
                int total = java.util.Arrays.stream(outs).sum();
                Tensor w = matrix(name, total, in), b = bias ? vector(name + ".bias", total, 0f, 0f) : null;
                if (w == null || bias && b == null) return new Weights.Projection(null, new Tensor[outs.length], new Tensor[outs.length]);
                return Weights.Projection.of(new Weights.Fused(w, b), outs);
            }

            /** Experts the checkpoint stores stacked (transformers 5.x) are taken whole, as they lie. */
            @Override
            public Tensor stacked(String name, String[] ps, int rows, int in) {
                if (!parts.containsKey(name)) return Weights.Source.super.stacked(name, ps, rows, in);
                return matrix(name, ps.length * rows, in);
            }

            /** After concatenating parts that were views of the mapped file, their pages are dropped from the resident set. */
            @Override
            public Tensor concat(String name, String[] partNames, Tensor[] rows) {
                List<MemorySegment> mapped = new ArrayList<>();
                for (Tensor t : rows) if (t != null && Uploader.isView(t) && t.hostSegment().isMapped()) mapped.add(t.hostSegment());
                Tensor out = Weights.Source.super.concat(name, partNames, rows);
                if (out != null) for (MemorySegment seg : mapped) if (seg.byteSize() > 0) seg.unload();
                if (out != null) byPart.values().removeIf(t -> java.util.Arrays.stream(rows).anyMatch(r -> r == t));   // closed now
                return out;
            }
        };
        Weights w;
        try {
            w = build.apply(s);
        } catch (RuntimeException e) {
            s.named().values().forEach(Tensor::close);
            throw e;
        }
        Set<String> left = new TreeSet<>(hf.keySet());
        left.removeAll(used);
        left.removeIf(k -> k.endsWith("position_ids") || k.endsWith(".attn.bias") || k.endsWith(".attn.masked_bias"));
        // a fused tensor also offered as row views key[part] (HfDecoders' Phi-3) is used whole or through its views
        left.removeIf(k -> k.indexOf('[') > 0 ? used.contains(k.substring(0, k.indexOf('[')))
                : used.stream().anyMatch(u -> u.startsWith(k + "[")));
        if (!left.isEmpty()) problems.add("unexpected " + left);
        if (!problems.isEmpty()) {
            w.close();
            throw new IllegalArgumentException(family + " weights do not match the config: " + String.join("; ", problems));
        }
        return w;
    }

    // ---- Hugging Face GPT-2 -------------------------------------------------------------------

    static Weights gpt2(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return gpt2(config, hf, backend, dtype, false);
    }

    /** With {@code share} (Pretrained: tensors that views of the mapped file can serve are not copied). */
    static Weights gpt2(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype, boolean share) {
        TransformerConfig c = config;
        if (c.architecture() != TransformerConfig.Architecture.DECODER_ONLY || c.normPlacement() != TransformerConfig.NormPlacement.PRE
                || c.norm() != TransformerConfig.NormKind.LAYER_NORM || c.positions() != TransformerConfig.Positions.LEARNED_ABSOLUTE
                || c.gatedMlp() || !c.biases() || c.kvHeads() != c.heads() || c.innerWidth() != c.modelWidth()) {
            throw new IllegalArgumentException("a GPT-2 checkpoint needs a decoder-only, pre-LN LayerNorm config with learned"
                    + " positions, biases, an ungated MLP and NH·HS = C; got " + c);
        }
        int cw = c.modelWidth();
        Map<String, Part> parts = new LinkedHashMap<>();
        parts.put("embeddings.tokens", new Part("wte.weight", false, -1, -1));
        parts.put("embeddings.positions", new Part("wpe.weight", false, -1, -1));
        for (int i = 0; i < c.decoderLayers(); i++) {
            String o = "decoder." + i + ".", h = "h." + i + ".";
            parts.put(o + "self.qkv", new Part(h + "attn.c_attn.weight", true, -1, -1));         // fused, as stored
            parts.put(o + "self.qkv.bias", new Part(h + "attn.c_attn.bias", false, -1, -1));
            String[] qkv = {"self.q", "self.k", "self.v"};                                      // apart (t4j.fuse=never)
            for (int j = 0; j < 3; j++) {
                parts.put(o + qkv[j], new Part(h + "attn.c_attn.weight", true, j * cw, (j + 1) * cw));
                parts.put(o + qkv[j] + ".bias", new Part(h + "attn.c_attn.bias", false, j * cw, (j + 1) * cw));
            }
            parts.put(o + "self.o", new Part(h + "attn.c_proj.weight", true, -1, -1));
            parts.put(o + "self.o.bias", new Part(h + "attn.c_proj.bias", false, -1, -1));
            parts.put(o + "mlp.up", new Part(h + "mlp.c_fc.weight", true, -1, -1));
            parts.put(o + "mlp.up.bias", new Part(h + "mlp.c_fc.bias", false, -1, -1));
            parts.put(o + "mlp.down", new Part(h + "mlp.c_proj.weight", true, -1, -1));
            parts.put(o + "mlp.down.bias", new Part(h + "mlp.c_proj.bias", false, -1, -1));
            for (String[] n : new String[][] {{"attn_norm", "ln_1"}, {"mlp_norm", "ln_2"}}) {
                parts.put(o + n[0] + ".weight", new Part(h + n[1] + ".weight", false, -1, -1));
                parts.put(o + n[0] + ".bias", new Part(h + n[1] + ".bias", false, -1, -1));
            }
        }
        parts.put("decoder.final_norm.weight", new Part("ln_f.weight", false, -1, -1));
        parts.put("decoder.final_norm.bias", new Part("ln_f.bias", false, -1, -1));
        parts.put("lm_head", new Part("lm_head.weight", false, -1, -1));
        Map<String, Tensor> map = hf;
        if (c.tiedEmbeddings() && hf.containsKey("lm_head.weight")) {     // the tied copy: same values, not a second matrix
            map = new java.util.HashMap<>(hf);
            map.remove("lm_head.weight");
        }
        return load("GPT-2", map, parts, backend, dtype, share, s -> Weights.build(c, s, 0));
    }

    // ---- Hugging Face T5 ----------------------------------------------------------------------

    static Weights t5(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return t5(config, hf, backend, dtype, false);
    }

    /** With {@code share} (Pretrained: tensors that views of the mapped file can serve are not copied). */
    static Weights t5(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype, boolean share) {
        TransformerConfig c = config;
        if (c.architecture() != TransformerConfig.Architecture.ENCODER_DECODER || c.norm() != TransformerConfig.NormKind.RMS_NORM
                || c.normPlacement() != TransformerConfig.NormPlacement.PRE || c.positions() != TransformerConfig.Positions.T5_RELATIVE
                || c.biases() || c.shareCrossAndSelfAttention() || c.shareEncoderDecoderParams() || c.withinLayerCrossAttention()
                || c.causalInput()) {
            throw new IllegalArgumentException("a T5 checkpoint needs a plain encoder-decoder config with pre-RMSNorm, T5 relative"
                    + " positions and no biases; got " + c);
        }
        Map<String, Tensor> map = new java.util.HashMap<>(hf);
        String table = null;
        for (String k : List.of("shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight")) {
            if (table == null && map.containsKey(k)) table = k;
            else map.remove(k);                                               // the tied copies of the one table
        }
        if (c.tiedEmbeddings()) map.remove("lm_head.weight");
        Map<String, Part> parts = new LinkedHashMap<>();
        parts.put("embeddings.tokens", new Part(table == null ? "shared.weight" : table, false, -1, -1));
        for (String stack : List.of("encoder", "decoder")) {
            int n = stack.equals("encoder") ? c.encoderLayers() : c.decoderLayers();
            for (int i = 0; i < n; i++) {
                String o = stack + "." + i + ".", h = stack + ".block." + i + ".layer.";
                List<String[]> attns = new ArrayList<>();
                attns.add(new String[] {"self", "0.SelfAttention", "attn_norm", "0.layer_norm"});
                if (stack.equals("decoder")) attns.add(new String[] {"cross", "1.EncDecAttention", "cross_norm", "1.layer_norm"});
                for (String[] a : attns) {
                    for (String x : List.of("q", "k", "v", "o")) parts.put(o + a[0] + "." + x, new Part(h + a[1] + "." + x + ".weight", false, -1, -1));
                    parts.put(o + a[2] + ".weight", new Part(h + a[3] + ".weight", false, -1, -1));
                }
                String ff = h + (stack.equals("decoder") ? "2" : "1") + ".";
                parts.put(o + "mlp_norm.weight", new Part(ff + "layer_norm.weight", false, -1, -1));
                parts.put(o + "mlp.up", new Part(ff + "DenseReluDense." + (c.gatedMlp() ? "wi_0" : "wi") + ".weight", false, -1, -1));
                parts.put(o + "mlp.gate", new Part(ff + "DenseReluDense.wi_1.weight", false, -1, -1));
                parts.put(o + "mlp.down", new Part(ff + "DenseReluDense.wo.weight", false, -1, -1));
            }
            parts.put(stack + ".relative_bias", new Part(stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight", false, -1, -1));
            parts.put(stack + ".final_norm.weight", new Part(stack + ".final_layer_norm.weight", false, -1, -1));
        }
        parts.put("lm_head", new Part("lm_head.weight", false, -1, -1));
        return load("T5", map, parts, backend, dtype, share, s -> Weights.build(c, s, 0));
    }
}
