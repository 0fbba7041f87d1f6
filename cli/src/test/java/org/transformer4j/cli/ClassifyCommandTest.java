// ClassifyCommandTest — `t4j classify` and `t4j fill-mask` as a user runs them (a separate process, CPU backend), on
// the float64 reference harness's encoder folders (the model test-jar's reference/NAME, TestFolders) with word-level
// tokenizers whose words are the fixtures' ids: each printed score against the pipelines' functions computed here, in
// double, from the reference's logits (transformers' own forward passes, numpy), and the bad inputs as one-line errors.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.TestFolders;
import org.transformer4j.model.weights.SafetensorsFile;

class ClassifyCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The reference harness's rule: max |got − ref| ≤ 2e-5 × max|ref| (fp32 against float64). */
    private static final double TOLERANCE = 2e-5;
    private static final Map<Integer, String> BERT_SPECIALS = Map.of(0, "[PAD]", 100, "[UNK]", 101, "[CLS]", 102, "[SEP]", 103, "[MASK]");
    private static final Map<Integer, String> PLAIN_SPECIALS = Map.of(0, "[PAD]", 103, "[MASK]");

    @TempDir
    Path tmp;

    /** One reference folder: its inputs and float64 outputs. */
    private record Fixture(Path dir, JsonNode ref) {
        static Fixture open(String name) throws Exception {
            Path dir = TestFolders.fixture(name);
            return new Fixture(dir, JSON.readTree(dir.resolve("reference.json").toFile()));
        }

        int[][] ids(String input) {
            JsonNode rows = ref.get("inputs").get(input);
            int[][] out = new int[rows.size()][];
            for (int r = 0; r < out.length; r++) {
                out[r] = new int[rows.get(r).size()];
                for (int i = 0; i < out[r].length; i++) out[r][i] = rows.get(r).get(i).intValue();
            }
            return out;
        }

        /** Each row's length without its padding. */
        int[] lengths() {
            return Arrays.stream(ids("attention_mask")).mapToInt(m -> Arrays.stream(m).sum()).toArray();
        }

        double[] output(String name) throws IOException {
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
                java.lang.foreign.MemorySegment seg = f.segment(name);         // float64 outputs stored rounded to F32
                if (f.entry(name).dtype() == org.transformer4j.model.weights.SafetensorsDType.F64) {
                    return seg.toArray(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                }
                float[] v = seg.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                double[] out = new double[v.length];
                for (int i = 0; i < v.length; i++) out[i] = v[i];
                return out;
            }
        }

        /** A model folder: the fixture's config (edited by {@code config}) and weights, and a tokenizer over "w{id}". */
        Path folder(Path dir, Map<Integer, String> specials, boolean bertTemplate, java.util.function.UnaryOperator<String> config)
                throws IOException {
            return folder(dir, specials, bertTemplate ? "{\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 102], \"cls\": [\"[CLS]\", 101]}"
                    : "null", config);
        }

        /** The folder with {@code postProcessor} as tokenizer.json's post_processor (JSON). */
        Path folder(Path dir, Map<Integer, String> specials, String postProcessor, java.util.function.UnaryOperator<String> config)
                throws IOException {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), config.apply(Files.readString(this.dir.resolve("config.json"))));
            Files.copy(this.dir.resolve("model.safetensors"), dir.resolve("model.safetensors"));
            int v = JSON.readTree(dir.resolve("config.json").toFile()).get("vocab_size").asInt();
            StringBuilder vocab = new StringBuilder(), added = new StringBuilder();
            for (int i = 0; i < v; i++) {
                String w = specials.getOrDefault(i, "w" + i);
                vocab.append(i == 0 ? "" : ", ").append('"').append(w).append("\": ").append(i);
                if (specials.containsKey(i)) {
                    added.append(added.isEmpty() ? "" : ", ").append("{\"id\": ").append(i).append(", \"content\": \"").append(w)
                            .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}");
                }
            }
            Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null,"
                    + " \"added_tokens\": [" + added + "], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"},"
                    + " \"post_processor\": " + postProcessor
                    + ", \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"vocab\": {" + vocab + "}, \"unk_token\": \""
                    + specials.getOrDefault(0, "[PAD]") + "\"}}");
            return dir;
        }
    }

    /** The words of ids[from, to) as the folder's tokenizer reads them. */
    private static String words(int[] ids, int from, int to, Map<Integer, String> specials) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) b.append(i == from ? "" : " ").append(specials.getOrDefault(ids[i], "w" + ids[i]));
        return b.toString();
    }

    private static double[] softmax(double[] x, int from, int n) {
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (int i = 0; i < n; i++) m = Math.max(m, x[from + i]);
        double[] p = new double[n];
        for (int i = 0; i < n; i++) s += p[i] = Math.exp(x[from + i] - m);
        for (int i = 0; i < n; i++) p[i] /= s;
        return p;
    }

    private static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }

    private static double maxAbs(double[] x) { return Arrays.stream(x).map(Math::abs).max().orElseThrow(); }

    private CliProcess.Result ok(String... args) throws Exception {
        CliProcess.Result r = CliProcess.run(tmp, args);
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    /** The [[{label, score}, …], …] of text-classification against the expected score of each label id, per row. */
    private static void labelsNear(JsonNode got, List<String> names, double[][] want, double tol) {
        assertEquals(want.length, got.size(), got.toString());
        for (int r = 0; r < want.length; r++) {
            assertEquals(names.size(), got.get(r).size(), "every label, row " + r);
            double last = Double.POSITIVE_INFINITY;
            for (JsonNode l : got.get(r)) {
                double s = l.get("score").asDouble();
                assertEquals(want[r][names.indexOf(l.get("label").asText())], s, tol, "row " + r + " " + l);
                assertTrue(s <= last, "highest score first: " + got.get(r));
                last = s;
            }
        }
    }

    /**
     * facebook/bart-large-mnli's use: an encoder-decoder classifier folder (BartForSequenceClassification) with BART's pair
     * template (RoBERTa's {@code <s> A </s></s> B </s>}); its pairs score as the pipeline over the reference logits, and a
     * zero-shot candidate gets its entailment share.
     */
    @Test
    void bartMnliPairsAndZeroShotScoreOverTheReferenceLogits() throws Exception {
        Fixture f = Fixture.open("bart-seqcls");
        Map<Integer, String> specials = Map.of(0, "<s>", 1, "<pad>", 2, "</s>", 3, "<unk>");
        Path dir = f.folder(tmp.resolve("bart-mnli"), specials, "{\"type\": \"RobertaProcessing\", \"sep\": [\"</s>\", 2],"
                + " \"cls\": [\"<s>\", 0], \"trim_offsets\": true, \"add_prefix_space\": false}", c -> c);
        int[][] ids = f.ids("input_ids");
        int[] lengths = f.lengths();
        List<String> args = new ArrayList<>(List.of("classify", "--model", dir.toString(), "--json"));
        List<String> seconds = new ArrayList<>();
        for (int r = 0; r < ids.length; r++) {                           // <s> A </s></s> B </s>
            int sep = 1;
            while (ids[r][sep] != 2) sep++;
            args.add(words(ids[r], 1, sep, specials));
            seconds.add(words(ids[r], sep + 2, lengths[r] - 1, specials));
        }
        for (String s : seconds) args.addAll(List.of("--pair", s));
        double[] logits = f.output("logits");
        double[][] want = {softmax(logits, 0, 3), softmax(logits, 3, 3)};
        labelsNear(JSON.readTree(ok(args.toArray(String[]::new)).out()), List.of("contradiction", "neutral", "entailment"), want,
                TOLERANCE * maxAbs(logits));
        JsonNode z = JSON.readTree(ok("classify", "--model", dir.toString(), "--json", args.get(4), "--labels", seconds.get(0),
                "--template", "{}").out());
        assertEquals(sigmoid(logits[2] - logits[0]), z.get(0).get("scores").get(0).asDouble(), TOLERANCE * maxAbs(logits));
    }

    @Test
    void pairsScoreAsTheTextClassificationPipelineOverTheReferenceLogits() throws Exception {
        Fixture f = Fixture.open("bert-seqcls");
        Path dir = f.folder(tmp.resolve("nli"), BERT_SPECIALS, true, c -> c);
        int[][] ids = f.ids("input_ids");
        List<String> args = new ArrayList<>(List.of("classify", "--model", dir.toString(), "--json"));
        List<String> seconds = new ArrayList<>();
        for (int[] row : ids) {                                        // [CLS] A [SEP] B [SEP]
            int sep1 = 1, sep2;
            while (row[sep1] != 102) sep1++;
            sep2 = sep1 + 1;
            while (row[sep2] != 102) sep2++;
            args.add(words(row, 1, sep1, BERT_SPECIALS));
            seconds.add(words(row, sep1 + 1, sep2, BERT_SPECIALS));
        }
        for (String s : seconds) args.addAll(List.of("--pair", s));
        double[] logits = f.output("logits");
        double[][] want = {softmax(logits, 0, 3), softmax(logits, 3, 3)};
        labelsNear(JSON.readTree(ok(args.toArray(String[]::new)).out()), List.of("contradiction", "entailment", "neutral"), want,
                TOLERANCE * maxAbs(logits));

        // zero-shot: the first pair's hypothesis as the one candidate ("{}" is the whole hypothesis): its entailment share
        // of [contradiction, entailment], the pipeline's multi-label rule for a single candidate
        JsonNode z = JSON.readTree(ok("classify", "--model", dir.toString(), "--json", args.get(4), "--labels", seconds.get(0),
                "--template", "{}").out());
        assertEquals(args.get(4), z.get(0).get("sequence").asText());
        assertEquals(seconds.get(0), z.get(0).get("labels").get(0).asText());
        assertEquals(sigmoid(logits[1] - logits[0]), z.get(0).get("scores").get(0).asDouble(), TOLERANCE * maxAbs(logits));

        // the text form: each text (and pair), its labels, and the scoring used
        List<String> lines = ok("classify", "--model", dir.toString(), args.get(4), "--pair", seconds.get(0), "--top-k", "2")
                .out().lines().toList();
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertEquals("\"" + args.get(4) + "\" / \"" + seconds.get(0) + "\"", lines.get(0));
        assertTrue(lines.get(1).matches("  \\S+ +0\\.\\d{4}"), lines.get(1));
        assertEquals("(softmax over the labels)", lines.get(3));
    }

    @Test
    void oneLabelModelsMultiLabelAndRegressionScoreAsTheirConfigSays() throws Exception {
        Fixture ce = Fixture.open("bert-crossencoder");                 // one label: the sigmoid, not a softmax of 1
        Path dir = ce.folder(tmp.resolve("ce"), BERT_SPECIALS, true, c -> c);
        int[] row = ce.ids("input_ids")[0];
        int sep1 = 1, sep2;
        while (row[sep1] != 102) sep1++;
        sep2 = sep1 + 1;
        while (row[sep2] != 102) sep2++;
        JsonNode got = JSON.readTree(ok("classify", "--model", dir.toString(), "--json", words(row, 1, sep1, BERT_SPECIALS),
                "--pair", words(row, sep1 + 1, sep2, BERT_SPECIALS)).out());
        assertEquals(sigmoid(ce.output("logits")[0]), got.get(0).get(0).get("score").asDouble(), 1e-5, got.toString());

        Fixture f = Fixture.open("distilbert-seqcls");
        int[][] ids = f.ids("input_ids");
        int[] len = f.lengths();
        double[] logits = f.output("logits");
        List<String> names = List.of("negative", "neutral", "positive");
        for (String type : List.of("multi_label_classification", "regression")) {
            Path d = f.folder(tmp.resolve(type), PLAIN_SPECIALS, false, c -> c.replaceFirst("\\{", "{\"problem_type\": \"" + type + "\", "));
            CliProcess.Result r = ok("classify", "--model", d.toString(), "--json", words(ids[0], 0, len[0], PLAIN_SPECIALS),
                    words(ids[1], 0, len[1], PLAIN_SPECIALS));
            double[][] want = new double[2][3];
            for (int i = 0; i < 6; i++) want[i / 3][i % 3] = type.equals("regression") ? logits[i] : sigmoid(logits[i]);
            labelsNear(JSON.readTree(r.out()), names, want, TOLERANCE * maxAbs(logits));
        }
        assertTrue(ok("classify", "--model", tmp.resolve("regression").toString(), "w5").out().endsWith("(regression: the logits)\n"));
    }

    @Test
    void tokensGetTheirMostProbableLabelWithOLeftOutByDefault() throws Exception {
        Fixture f = Fixture.open("distilbert-tokcls");
        Path dir = f.folder(tmp.resolve("ner"), PLAIN_SPECIALS, false, c -> c);
        int[] row = f.ids("input_ids")[0];
        String text = words(row, 0, f.lengths()[0], PLAIN_SPECIALS);
        double[] logits = f.output("logits");                          // (2, 12, 5)
        List<String> names = List.of("O", "B-PER", "I-PER", "B-LOC", "I-LOC");
        JsonNode all = JSON.readTree(ok("classify", "--model", dir.toString(), "--json", "--tokens", "--ignore", "", text).out()).get(0);
        assertEquals(row.length, all.size(), all.toString());
        int shown = 0;
        for (int i = 0; i < row.length; i++) {
            double[] p = softmax(logits, i * 5, 5);
            int best = 0;
            for (int j = 1; j < 5; j++) if (p[j] > p[best]) best = j;
            JsonNode t = all.get(i);
            assertEquals(i, t.get("index").asInt());
            assertEquals("w" + row[i], t.get("word").asText());
            assertEquals(names.get(best), t.get("entity").asText(), "token " + i);
            assertEquals(p[best], t.get("score").asDouble(), TOLERANCE * maxAbs(logits), "token " + i);
            if (best != 0) shown++;
        }
        JsonNode entities = JSON.readTree(ok("classify", "--model", dir.toString(), "--json", "--tokens", text).out()).get(0);
        assertEquals(shown, entities.size(), "the pipeline's default ignore_labels ['O']: " + entities);
        for (JsonNode t : entities) assertTrue(!t.get("entity").asText().equals("O"), entities.toString());
    }

    @Test
    void fillMaskGivesTheTopTokensOfTheReferenceAtTheMask() throws Exception {
        Fixture f = Fixture.open("distilbert-mlm");
        Path dir = f.folder(tmp.resolve("mlm"), PLAIN_SPECIALS, false, c -> c);
        int[] row = f.ids("input_ids")[0];
        int at = 0;
        while (row[at] != 103) at++;
        double[] logits = f.output("logits");                          // (2, 12, 128)
        double[] p = softmax(logits, at * 128, 128);
        Integer[] order = new Integer[128];
        for (int i = 0; i < 128; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        JsonNode got = JSON.readTree(ok("fill-mask", "--model", dir.toString(), "--json", "--top-k", "3",
                words(row, 0, f.lengths()[0], PLAIN_SPECIALS)).out()).get(0).get(0);
        assertEquals(3, got.size(), got.toString());
        for (int k = 0; k < 3; k++) {
            JsonNode c = got.get(k);
            assertEquals((int) order[k], c.get("token").asInt(), "candidate " + k + ": " + got);
            assertEquals(p[order[k]], c.get("score").asDouble(), TOLERANCE * maxAbs(logits));
            assertEquals("w" + order[k], c.get("token_str").asText());
            assertTrue(c.get("sequence").asText().contains("w" + order[k]) && !c.get("sequence").asText().contains("[MASK]"), c.toString());
        }
    }

    @Test
    void badInputIsOneLineNamingTheProblem() throws Exception {
        Path nli = Fixture.open("bert-seqcls").folder(tmp.resolve("nli"), BERT_SPECIALS, true, c -> c);
        Path mlm = Fixture.open("distilbert-mlm").folder(tmp.resolve("mlm"), PLAIN_SPECIALS, false, c -> c);
        String[][] cases = {
            {"t4j classify: 1 --pair for 2 texts: give one --pair per TEXT, in order", "classify", "--model", nli.toString(), "w5", "w6", "--pair", "w7"},
            {"t4j classify: --pair, --labels and --tokens are different tasks: give one of them", "classify", "--model", nli.toString(), "w5", "--tokens", "--labels", "a"},
            {"t4j classify: --multi-label and --template are for zero-shot classification: give --labels too", "classify", "--model", nli.toString(), "w5", "--multi-label"},
            {"t4j classify: --template 'x' has no {} for the label", "classify", "--model", nli.toString(), "w5", "--labels", "a", "--template", "x"},
            {"t4j classify: --top-k must be ≥ 1, got 0", "classify", "--model", nli.toString(), "w5", "--top-k", "0"},
            {"t4j classify: " + nli + " has no classifier head for this task: it needs a token classifier (…ForTokenClassification)", "classify", "--model", nli.toString(), "w5", "--tokens"},
            {"t4j classify: " + mlm + " has no classifier head for this task: it needs a sequence classifier (…ForSequenceClassification)", "classify", "--model", mlm.toString(), "w5"},
            {"t4j fill-mask: " + nli + " has no masked-LM head (…ForMaskedLM): fill-mask needs one", "fill-mask", "--model", nli.toString(), "w5 [MASK]"},
            {"t4j fill-mask: the text has no mask token ([MASK])", "fill-mask", "--model", mlm.toString(), "w5 w6"},
        };
        for (String[] c : cases) {
            CliProcess.Result r = CliProcess.run(tmp, Arrays.copyOfRange(c, 1, c.length));
            assertEquals(1, r.exit(), r.all());
            assertEquals(c[0] + "\n", r.err(), r.all());
            assertEquals("", r.out(), r.all());
        }
    }
}
