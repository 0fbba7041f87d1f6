// TextEncoder — an encoder-only model with its tokenizer, used on text: sentence embeddings pooled as the
// folder says (SentencePooling), fill-mask, sequence and per-token classification with the folder's
// labels, sentence pairs through the tokenizer's pair template, and cross-encoder reranking. A decoder-only
// model (Qwen3-Embedding, e5-mistral) serves embeddings only: its last hidden states, pooled likewise.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.transformer4j.model.tokenizer.Tokenizer;

/**
 * Holds (does not own) a {@link Transformer} over encoder-only weights and a {@link Tokenizer}. Batches of
 * texts run as one padded [B, T] batch with an attention mask (classification, reranking) or packed
 * (embeddings); both match single-text runs.
 */
public final class TextEncoder {

    /**
     * One label and its score: for sequence classification the logit through {@link #scoring()} (a probability
     * unless the model is a regression), for token classification the softmax over the labels.
     */
    public record Label(String label, int id, double probability, float logit) {}

    /** How a sequence classifier's logits become scores: transformers' text-classification pipeline's function_to_apply. */
    public enum Scoring {
        /** Over the labels: single-label classifiers with two or more labels. */
        SOFTMAX,
        /** Each logit on its own: multi-label classifiers and one-label models (cross-encoders). */
        SIGMOID,
        /** The logits as they are: regression models. */
        NONE
    }

    /** One candidate for a masked position: token id, its text, probability (softmax over the vocabulary). */
    public record Candidate(int id, String token, double probability) {}

    /** The top-k candidates at one mask position. */
    public record MaskFill(int position, List<Candidate> candidates) {}

    public final Transformer model;
    public final Tokenizer tokenizer;
    public final SentencePooling pooling;

    public TextEncoder(Transformer model, Tokenizer tokenizer, SentencePooling pooling) {
        TransformerConfig.Architecture a = model.config.architecture();
        boolean seq2seqClassifier = a == TransformerConfig.Architecture.ENCODER_DECODER && model.weights.classifierHead != null;
        if (a != TransformerConfig.Architecture.ENCODER_ONLY && a != TransformerConfig.Architecture.DECODER_ONLY && !seq2seqClassifier) {
            throw new IllegalArgumentException("a TextEncoder needs an encoder-only model, a decoder-only one for embeddings, or an"
                    + " encoder-decoder sequence classifier (BartForSequenceClassification); this one is " + a);
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.pooling = pooling;
    }

    // ---- embeddings ---------------------------------------------------------------------------------

    /** Sentence vectors (N, C) without a prompt (or with the folder's default prompt, if it names one). */
    public float[][] embed(List<String> texts) { return embed(texts, null); }

    /**
     * Sentence vectors (N, C) with the named prompt prepended (e.g. "query" → e5's "query: "); the prompt's tokens
     * are left out of the pool when the folder's Pooling says include_prompt false. Packed into one pass.
     */
    public float[][] embed(List<String> texts, String promptName) {
        String prompt = pooling.prompt(promptName);
        int from = 0;
        if (!prompt.isEmpty() && !pooling.includePrompt()) {
            from = tokenizer.encode(prompt).length - 1;                // sentence-transformers: the prompt's ids without the final [SEP]
        }
        List<int[]> ids = new ArrayList<>();
        for (String t : texts) ids.add(tokenizer.encode(prompt + t));
        return pooled(ids, from);
    }

    /**
     * Sentence vectors of inputs given as token ids (OpenAI's and vLLM's token-array inputs): taken as they are — no
     * prompt, the special tokens the caller put in — cut to the folder's max_seq_length as texts are, and pooled alike.
     */
    public float[][] embedIds(List<int[]> ids) {
        for (int i = 0; i < ids.size(); i++) {
            int[] x = ids.get(i);
            if (x == null || x.length == 0) throw new IllegalArgumentException("input " + i + " has no tokens");
            try {
                model.checkIds(x);                                  // named by input: a packed pass would name a flat index
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("input " + i + ": " + e.getMessage(), e);
            }
        }
        return pooled(ids, 0);
    }

    /** One packed pass (encoders) or the last hidden states (decoders), each input cut to max_seq_length and pooled from {@code from}. */
    private float[][] pooled(List<int[]> ids, int from) {
        int[] around = pooling.maxSeqLength() > 0 ? SentencePooling.specialsAround(tokenizer) : null;
        List<int[]> cut = new ArrayList<>();
        for (int[] x : ids) cut.add(around == null ? x : pooling.truncate(x, around[0], around[1]));   // sentence_bert_config.json's max_seq_length
        List<float[][]> h = model.config.architecture() == TransformerConfig.Architecture.DECODER_ONLY
                ? model.lastHiddenStates(cut) : model.encodePacked(cut);
        float[][] out = new float[h.size()][];
        for (int i = 0; i < out.length; i++) out[i] = pooling.pool(h.get(i), from);
        return out;
    }

    // ---- masked LM ------------------------------------------------------------------------------------

    /** The tokenizer's mask token id ([MASK] or &lt;mask&gt;). */
    public int maskId() {
        for (String name : List.of("[MASK]", "<mask>")) {
            Integer id = tokenizer.specialTokens().get(name);
            if (id != null) return id;
        }
        throw new IllegalStateException(tokenizer.name() + " has no [MASK] or <mask> token");
    }

    /** At each mask token of {@code text}: the top {@code k} ids with their probabilities. */
    public List<MaskFill> fillMask(String text, int k) {
        requireEncoder("fillMask");
        if (k < 1) throw new IllegalArgumentException("k must be ≥ 1, got " + k);
        int[] ids = tokenizer.encode(text);
        int mask = maskId();
        float[][] logits = model.maskedLmLogits(new int[][] {ids}, null, null)[0];         // (T, V)
        List<MaskFill> out = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] != mask) continue;
            double[] p = softmax(logits[i]);
            Integer[] order = new Integer[p.length];
            for (int j = 0; j < p.length; j++) order[j] = j;
            Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
            List<Candidate> c = new ArrayList<>();
            for (int j = 0; j < Math.min(k, p.length); j++) {
                c.add(new Candidate(order[j], tokenizer.decode(new int[] {order[j]}, false).strip(), p[order[j]]));
            }
            out.add(new MaskFill(i, c));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("the text has no mask token (" + tokenizer.decode(new int[] {mask}) + ")");
        return out;
    }

    /** The heads are an encoder's: a decoder-only model here serves {@link #embed} only. */
    private void requireEncoder(String what) {
        if (model.config.architecture() != TransformerConfig.Architecture.ENCODER_ONLY) {
            throw new IllegalStateException(what + " needs an encoder-only model with its heads; this one is "
                    + model.config.architecture() + " (a decoder-only model serves embed only)");
        }
    }

    /** An encoder-only model, or an encoder-decoder with a sequence classifier (BartForSequenceClassification). */
    private void requireClassifier(String what) {
        if (model.config.architecture() != TransformerConfig.Architecture.ENCODER_DECODER) requireEncoder(what);
    }

    // ---- classification ---------------------------------------------------------------------------------

    /** Each text's labels, highest score first (sequence classification; scores as {@link #scoring()} says). */
    public List<List<Label>> classify(List<String> texts) {
        requireClassifier("classify");
        List<Tokenizer.Encoded> enc = new ArrayList<>();
        for (String t : texts) {
            int[] ids = tokenizer.encode(t);
            enc.add(new Tokenizer.Encoded(ids, new int[ids.length]));
        }
        return labelled(logits(enc), scoring());
    }

    /** Each pair's labels (NLI, paraphrase…), the pair through the tokenizer's pair template; scores as {@link #scoring()} says. */
    public List<List<Label>> classifyPairs(List<String> first, List<String> second) {
        requireClassifier("classifyPairs");
        return labelled(logits(pairs(first, second)), scoring());
    }

    /**
     * The scoring of {@link #classify} and {@link #classifyPairs}, from config.json as transformers' text-classification
     * pipeline and vLLM's classify pooler pick it: problem_type {@code regression} → the logits; {@code
     * multi_label_classification}, or a single label → the sigmoid of each; otherwise the softmax over the labels.
     */
    public Scoring scoring() {
        String type = model.weights.encoderInfo.problemType();
        if ("regression".equals(type)) return Scoring.NONE;
        if ("multi_label_classification".equals(type) || model.weights.encoderInfo.labels().size() == 1) return Scoring.SIGMOID;
        return Scoring.SOFTMAX;
    }

    /** One candidate label of {@link #zeroShot} and its score. */
    public record ZeroShotScore(String label, double score) {}

    /** transformers' zero-shot-classification pipeline's default hypothesis. */
    public static final String ZERO_SHOT_TEMPLATE = "This example is {}.";

    /**
     * Zero-shot classification with an NLI model (transformers' zero-shot-classification pipeline; e.g. a DeBERTa-v3 NLI
     * model): each label becomes the hypothesis {@code template} with {@code {}} replaced by it, paired with {@code text} as
     * the premise. The entailment class is the first label of config.json's id2label starting with "entail" (the last class
     * when none does), and the contradiction class is the last one when entailment is class 0, else class 0, as the pipeline
     * picks them. Single-label: a softmax of the entailment logits over the candidates. Multi-label (or one candidate): each
     * candidate's softmax over [contradiction, entailment], its entailment share. Candidates are returned best first.
     */
    public List<ZeroShotScore> zeroShot(String text, List<String> labels, String template, boolean multiLabel) {
        requireClassifier("zeroShot");
        if (text == null) throw new IllegalArgumentException("text is null");
        if (labels == null || labels.isEmpty()) throw new IllegalArgumentException("no candidate labels");
        String t = template == null ? ZERO_SHOT_TEMPLATE : template;
        if (!t.contains("{}")) throw new IllegalArgumentException("the hypothesis template '" + t + "' has no {} for the label");
        List<String> premises = new ArrayList<>(), hypotheses = new ArrayList<>();
        for (String l : labels) {
            if (l == null) throw new IllegalArgumentException("a candidate label is null");
            premises.add(text);
            hypotheses.add(t.replace("{}", l));
        }
        float[][] logits = logits(pairs(premises, hypotheses));
        int classes = logits[0].length;
        if (classes < 2) throw new IllegalStateException("zero-shot classification needs an NLI model; this one has " + classes + " label");
        List<String> names = model.weights.encoderInfo.labels();
        int entail = classes - 1;
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).toLowerCase(java.util.Locale.ROOT).startsWith("entail")) {
                entail = i;
                break;
            }
        }
        int contradiction = entail == 0 ? classes - 1 : 0;
        boolean multi = multiLabel || labels.size() == 1;
        double[] score = new double[labels.size()];
        if (multi) {                                       // softmax over [contradiction, entailment]: its entailment share
            for (int i = 0; i < score.length; i++) score[i] = SIGMOID.applyAsDouble((double) logits[i][entail] - logits[i][contradiction]);
        } else {
            float[] entailLogits = new float[score.length];
            for (int i = 0; i < score.length; i++) entailLogits[i] = logits[i][entail];
            score = softmax(entailLogits);
        }
        List<ZeroShotScore> out = new ArrayList<>();
        for (int i = 0; i < score.length; i++) out.add(new ZeroShotScore(labels.get(i), score[i]));
        out.sort((a, b) -> Double.compare(b.score(), a.score()));
        return out;
    }

    /** Per token of {@code text}: its labels, most probable first (token classification). */
    public List<List<Label>> classifyTokens(String text) {
        requireEncoder("classifyTokens");
        int[] ids = tokenizer.encode(text);
        float[][] logits = model.classifyTokens(new int[][] {ids}, null, null)[0];
        return labelled(logits, Scoring.SOFTMAX);                          // the token-classification pipeline's, always
    }

    /**
     * A cross-encoder's score from its logit as sentence-transformers' CrossEncoder gives it: the folder's config.json
     * {@code sentence_transformers.activation_fn} (Sigmoid, Identity, Tanh), else the sigmoid (CrossEncoder's default for one
     * label). Unknown functions are refused by name.
     */
    public static java.util.function.DoubleUnaryOperator crossEncoderActivation(java.nio.file.Path dir) throws java.io.IOException {
        var cfg = org.transformer4j.model.weights.HfConfig.read(dir);
        if (!cfg.has("sentence_transformers") || !cfg.object("sentence_transformers").has("activation_fn")) return SIGMOID;
        String fn = cfg.object("sentence_transformers").string("activation_fn");
        return switch (fn) {
            case "torch.nn.modules.activation.Sigmoid" -> SIGMOID;
            case "torch.nn.modules.linear.Identity" -> x -> x;
            case "torch.nn.modules.activation.Tanh" -> Math::tanh;
            default -> throw new IllegalArgumentException(dir.resolve("config.json") + ": sentence_transformers.activation_fn '" + fn
                    + "' is not one of torch.nn.modules.activation.Sigmoid, torch.nn.modules.linear.Identity, torch.nn.modules.activation.Tanh");
        };
    }

    /** The logistic function, 1 / (1 + e^−x). */
    public static final java.util.function.DoubleUnaryOperator SIGMOID = x -> 1 / (1 + Math.exp(-x));

    /**
     * Cross-encoder scores of each passage for the query: the model's logit for the pair (one label, as
     * ms-marco cross-encoders have; sentence-transformers' CrossEncoder shows sigmoid(logit), the same order), in
     * the passages' order. Models with more labels are classifiers: use {@link #classifyPairs}.
     */
    public float[] rerank(String query, List<String> passages) {
        requireEncoder("rerank");
        List<String> q = new ArrayList<>();
        for (int i = 0; i < passages.size(); i++) q.add(query);
        float[][] logits = logits(pairs(q, passages));
        if (logits[0].length != 1) {
            throw new IllegalStateException("rerank needs a one-label cross-encoder; this model has " + logits[0].length
                    + " labels " + model.weights.encoderInfo.labels() + " (use classifyPairs)");
        }
        float[] out = new float[logits.length];
        for (int i = 0; i < out.length; i++) out[i] = logits[i][0];
        return out;
    }

    private List<Tokenizer.Encoded> pairs(List<String> first, List<String> second) {
        if (first.size() != second.size()) {
            throw new IllegalArgumentException("pairs need as many second texts (" + second.size() + ") as first (" + first.size() + ")");
        }
        List<Tokenizer.Encoded> enc = new ArrayList<>();
        for (int i = 0; i < first.size(); i++) enc.add(tokenizer.encodePair(first.get(i), second.get(i)));
        return enc;
    }

    /** One padded batch [B, T] with its mask (padding: the model's pad id, type 0). */
    private float[][] logits(List<Tokenizer.Encoded> enc) {
        if (enc.isEmpty()) throw new IllegalArgumentException("no texts");
        int t = enc.stream().mapToInt(e -> e.ids().length).max().orElse(0);
        int pad = Math.max(model.config.specialIds().pad(), 0);
        int[][] ids = new int[enc.size()][t], types = new int[enc.size()][t], mask = new int[enc.size()][t];
        for (int b = 0; b < enc.size(); b++) {
            Arrays.fill(ids[b], pad);
            int n = enc.get(b).ids().length;
            System.arraycopy(enc.get(b).ids(), 0, ids[b], 0, n);
            System.arraycopy(enc.get(b).typeIds(), 0, types[b], 0, n);
            Arrays.fill(mask[b], 0, n, 1);
        }
        return model.classify(ids, model.weights.embeddings.types() == null ? null : types, mask);
    }

    private List<List<Label>> labelled(float[][] logits, Scoring scoring) {
        List<String> names = model.weights.encoderInfo.labels();
        List<List<Label>> out = new ArrayList<>();
        for (float[] row : logits) {
            double[] p = switch (scoring) {
                case SOFTMAX -> softmax(row);
                case SIGMOID -> {
                    double[] q = new double[row.length];
                    for (int j = 0; j < row.length; j++) q[j] = SIGMOID.applyAsDouble(row[j]);
                    yield q;
                }
                case NONE -> {
                    double[] q = new double[row.length];
                    for (int j = 0; j < row.length; j++) q[j] = row[j];
                    yield q;
                }
            };
            List<Label> l = new ArrayList<>();
            for (int j = 0; j < row.length; j++) l.add(new Label(j < names.size() ? names.get(j) : "LABEL_" + j, j, p[j], row[j]));
            l.sort((a, b) -> Double.compare(b.probability(), a.probability()));
            out.add(l);
        }
        return out;
    }

    static double[] softmax(float[] x) {
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (float v : x) m = Math.max(m, v);
        double[] p = new double[x.length];
        for (int i = 0; i < x.length; i++) s += p[i] = Math.exp(x[i] - m);
        for (int i = 0; i < x.length; i++) p[i] /= s;
        return p;
    }
}
