// ClassifyCommand — `t4j classify --model DIR "text" ...`: an encoder folder's classifier heads on text, as
// transformers' pipelines use them: text-classification (single texts, or pairs with --pair: NLI, paraphrase,
// cross-encoders; scores by config.json's problem_type), zero-shot-classification with an NLI model (--labels),
// and token-classification (--tokens: NER). Text output for people, --json in the pipelines' shapes for scripts.
package org.transformer4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Weights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classify texts with an encoder folder's classifier (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ELECTRA, "
                + "MPNet, ModernBERT, DeBERTa-v2/v3 …ForSequenceClassification or …ForTokenClassification), as transformers' "
                + "pipelines do: each text's labels with their scores (softmax over the labels; the sigmoid of each for "
                + "problem_type multi_label_classification and for one-label models such as cross-encoders; the logits for "
                + "regression), each pair's with --pair, zero-shot with an NLI model and --labels, or each token's with --tokens."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class ClassifyCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Encoder model folder with a classifier head.")
    Path model;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Texts to classify.")
    List<String> texts;

    @Option(names = "--pair", paramLabel = "TEXT",
            description = "The second text of a pair (NLI hypothesis, cross-encoder passage), once per TEXT, in order.")
    List<String> pairs;

    @Option(names = "--labels", paramLabel = "LABEL[,LABEL...]", split = ",",
            description = "Zero-shot classification with an NLI model: each TEXT is the premise, each label goes into --template.")
    List<String> labels;

    @Option(names = "--template", paramLabel = "TEXT", defaultValue = TextEncoder.ZERO_SHOT_TEMPLATE,
            description = "The zero-shot hypothesis, {} standing for the label (default: \"${DEFAULT-VALUE}\").")
    String template;

    @Option(names = "--multi-label", description = "Zero-shot: score each label on its own (entailment against contradiction) "
            + "instead of a softmax over the labels.")
    boolean multiLabel;

    @Option(names = "--tokens", description = "Token classification (NER): each token's most probable label, special tokens "
            + "and --ignore labels left out.")
    boolean tokens;

    @Option(names = "--ignore", paramLabel = "LABEL[,LABEL...]", split = ",", defaultValue = "O",
            description = "--tokens: labels not shown (default: ${DEFAULT-VALUE}; give \"\" to show every token).")
    List<String> ignore;

    @Option(names = "--top-k", paramLabel = "N", description = "Labels shown per text, highest score first (default: all).")
    Integer topK;

    @Option(names = "--json", description = "JSON in the shape of transformers' pipeline output.")
    boolean json;

    @Mixin
    EncoderFolder folder;

    @Override
    public Integer call() throws java.io.IOException {
        checkOptions();
        folder.run(model, "classify", (enc, weights) -> {
            Object out = tokens ? tokens(enc, weights) : labels != null ? zeroShot(enc, weights) : sequences(enc, weights);
            if (json) System.out.println(out);
        });
        return 0;
    }

    private void checkOptions() {
        ModelInputs.checkTexts("text", texts);
        if (topK != null && topK < 1) throw new IllegalArgumentException("--top-k must be ≥ 1, got " + topK);
        int modes = (pairs != null ? 1 : 0) + (labels != null ? 1 : 0) + (tokens ? 1 : 0);
        if (modes > 1) throw new IllegalArgumentException("--pair, --labels and --tokens are different tasks: give one of them");
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException(pairs.size() + " --pair for " + texts.size() + " texts: give one --pair per TEXT, in order");
        }
        if (pairs != null) ModelInputs.checkTexts("--pair", pairs);
        if (labels != null) {
            if (labels.stream().anyMatch(String::isBlank)) throw new IllegalArgumentException("--labels has an empty label");
            if (!template.contains("{}")) throw new IllegalArgumentException("--template '" + template + "' has no {} for the label");
        } else if (multiLabel || !template.equals(TextEncoder.ZERO_SHOT_TEMPLATE)) {
            throw new IllegalArgumentException("--multi-label and --template are for zero-shot classification: give --labels too");
        }
    }

    /** text-classification: [[{label, score}, …], …], highest score first. */
    private ArrayNode sequences(TextEncoder enc, Weights w) {
        requireHead(w.classifierHead != null, "a sequence classifier (…ForSequenceClassification)");
        List<List<TextEncoder.Label>> got = pairs != null ? enc.classifyPairs(texts, pairs) : enc.classify(texts);
        ArrayNode out = JSON.createArrayNode();
        for (int i = 0; i < got.size(); i++) {
            List<TextEncoder.Label> l = got.get(i);
            int k = topK == null ? l.size() : Math.min(topK, l.size());
            ArrayNode row = out.addArray();
            if (!json) System.out.println(pairs != null ? quote(texts.get(i)) + " / " + quote(pairs.get(i)) : quote(texts.get(i)));
            for (TextEncoder.Label x : l.subList(0, k)) {
                row.addObject().put("label", x.label()).put("score", x.probability());
                if (!json) System.out.printf(Locale.ROOT, "  %-24s %.4f%n", x.label(), x.probability());
            }
        }
        if (!json) System.out.println("(" + describe(enc.scoring()) + ")");
        return out;
    }

    /** zero-shot-classification: [{sequence, labels, scores}, …], labels highest score first. */
    private ArrayNode zeroShot(TextEncoder enc, Weights w) {
        requireHead(w.classifierHead != null, "an NLI sequence classifier (…ForSequenceClassification with an entailment label)");
        ArrayNode out = JSON.createArrayNode();
        for (String text : texts) {
            List<TextEncoder.ZeroShotScore> s = enc.zeroShot(text, labels, template, multiLabel);
            int k = topK == null ? s.size() : Math.min(topK, s.size());
            ObjectNode o = out.addObject().put("sequence", text);
            ArrayNode names = o.putArray("labels"), scores = o.putArray("scores");
            if (!json) System.out.println(quote(text));
            for (TextEncoder.ZeroShotScore x : s.subList(0, k)) {
                names.add(x.label());
                scores.add(x.score());
                if (!json) System.out.printf(Locale.ROOT, "  %-24s %.4f%n", x.label(), x.score());
            }
        }
        return out;
    }

    /** token-classification: [[{entity, score, index, word}, …], …], special tokens and --ignore labels left out. */
    private ArrayNode tokens(TextEncoder enc, Weights w) {
        requireHead(w.tokenClassifier != null, "a token classifier (…ForTokenClassification)");
        Set<Integer> special = new HashSet<>(enc.tokenizer.specialTokens().values());
        Set<String> hidden = new HashSet<>(ignore);
        ArrayNode out = JSON.createArrayNode();
        for (String text : texts) {
            int[] ids = enc.tokenizer.encode(text);
            List<List<TextEncoder.Label>> got = enc.classifyTokens(text);
            ArrayNode row = out.addArray();
            if (!json) System.out.println(quote(text));
            for (int i = 0; i < ids.length; i++) {
                TextEncoder.Label best = got.get(i).get(0);
                if (special.contains(ids[i]) || hidden.contains(best.label())) continue;
                String word = enc.tokenizer.decode(new int[] {ids[i]}, false);
                row.addObject().put("entity", best.label()).put("score", best.probability()).put("index", i).put("word", word);
                if (!json) System.out.printf(Locale.ROOT, "  %4d  %-20s %-12s %.4f%n", i, word, best.label(), best.probability());
            }
        }
        return out;
    }

    private void requireHead(boolean present, String what) {
        if (!present) throw new IllegalArgumentException(model + " has no classifier head for this task: it needs " + what);
    }

    private static String describe(TextEncoder.Scoring s) {
        return switch (s) {
            case SOFTMAX -> "softmax over the labels";
            case SIGMOID -> "sigmoid of each label's logit";
            case NONE -> "regression: the logits";
        };
    }

    private static String quote(String s) {
        return '"' + s + '"';
    }

    private static final ObjectMapper JSON = new ObjectMapper();
}
