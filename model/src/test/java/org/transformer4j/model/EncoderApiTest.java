// EncoderApiTest — the encoder API on text and on HF-style batches, against the independent reference
// fixtures (ci/reference): sentence pairs through a tokenizer's pair template and classify with id2label
// (bert-seqcls's inputs are exactly [CLS] a [SEP] b [SEP] pairs, padded with a mask), a cross-encoder's
// rerank (bert-crossencoder), fill-mask (bert-mlm), rows padded at the front (roberta: its positions do not
// move), sentence-transformers pooling written here from sentence_transformers' Pooling/Normalize over the
// reference's hidden states, and the bad inputs of the issue, each a one-line error naming the argument or file.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.runtime.CpuBackend;

class EncoderApiTest {

    static final CpuBackend CPU = new CpuBackend();

    @TempDir
    Path tmp;

    /**
     * A WordPiece tokenizer.json for the fixtures' 256-id vocabulary: "w{id}" for every id, BERT's special
     * tokens at 0 ([PAD]), 100 ([UNK]), 101 ([CLS]), 102 ([SEP]), 103 ([MASK]), BertProcessing as the pair template.
     */
    static Path tokenizer(Path dir) throws Exception {
        StringBuilder vocab = new StringBuilder(), added = new StringBuilder();
        Map<Integer, String> special = Map.of(0, "[PAD]", 100, "[UNK]", 101, "[CLS]", 102, "[SEP]", 103, "[MASK]");
        for (int i = 0; i < 256; i++) {
            String w = special.getOrDefault(i, "w" + i);
            vocab.append(i == 0 ? "" : ", ").append('"').append(w).append("\": ").append(i);
            if (special.containsKey(i)) {
                added.append(added.isEmpty() ? "" : ", ").append("{\"id\": ").append(i).append(", \"content\": \"").append(w)
                        .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}");
            }
        }
        String json = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [" + added + "],"
                + " \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"},"
                + " \"post_processor\": {\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 102], \"cls\": [\"[CLS]\", 101]},"
                + " \"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true},"
                + " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"continuing_subword_prefix\": \"##\","
                + " \"max_input_chars_per_word\": 100, \"vocab\": {" + vocab + "}}}";
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        return f;
    }

    /** The words of ids[from, to) as the test tokenizer writes them. */
    static String words(int[] ids, int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) b.append(i == from ? "" : " ").append("w").append(ids[i]);
        return b.toString();
    }

    /** The words of each row's two sentences, [CLS] A [SEP] B [SEP] with {@code sep} the separator's id, into a and b. */
    static void splitPairs(int[][] ids, int sep, List<String> a, List<String> b) {
        for (int[] row : ids) {
            int sep1 = -1, sep2 = -1;
            for (int i = 1; i < row.length; i++) if (row[i] == sep) { if (sep1 < 0) sep1 = i; else if (sep2 < 0) sep2 = i; }
            a.add(words(row, 1, sep1));
            b.add(words(row, sep1 + 1, sep2));
        }
    }

    /** The reference's output as rows (rows, cols). */
    static double[][] rows(ReferenceFixturesTest.Fixture f, String output, int rows, int cols) throws Exception {
        double[] a = f.reference(output, (long) rows * cols);
        double[][] out = new double[rows][];
        for (int r = 0; r < rows; r++) out[r] = Arrays.copyOfRange(a, r * cols, (r + 1) * cols);
        return out;
    }

    static void near(String what, double[][] ref, float[][] got) {
        double maxRef = 0, maxErr = 0;
        for (int r = 0; r < ref.length; r++) {
            assertEquals(ref[r].length, got[r].length, what + " row " + r);
            for (int c = 0; c < ref[r].length; c++) {
                maxRef = Math.max(maxRef, Math.abs(ref[r][c]));
                maxErr = Math.max(maxErr, Math.abs(ref[r][c] - got[r][c]));
            }
        }
        assertTrue(maxErr <= ReferenceFixturesTest.TOLERANCE * maxRef, what + ": max |got - ref| " + maxErr + " > 2e-5 × " + maxRef);
    }

    @Test
    void sentencePairsThroughThePairTemplateClassifyAsTheReferenceWithItsLabels() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bert-seqcls");
        int[][] ids = f.ids("input_ids"), types = f.ids("token_type_ids"), mask = f.ids("attention_mask");
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        splitPairs(ids, 102, a, b);
        try (HfTokenizer tok = HfTokenizer.load(tokenizer(tmp)); Weights w = Pretrained.load(f.dir(), CPU)) {
            for (int r = 0; r < ids.length; r++) {                   // the template gives the fixture's ids and types
                var e = tok.encodePair(a.get(r), b.get(r));
                int n = e.ids().length;
                assertEquals(Arrays.toString(Arrays.copyOf(ids[r], n)), Arrays.toString(e.ids()), "pair " + r + " ids");
                assertEquals(Arrays.toString(Arrays.copyOf(types[r], n)), Arrays.toString(e.typeIds()), "pair " + r + " types");
                for (int i = n; i < ids[r].length; i++) assertEquals(0, mask[r][i], "the fixture pads after the pair");
            }
            TextEncoder enc = new TextEncoder(new Transformer(w, CPU), tok, SentencePooling.meanNormalized(null));
            List<List<TextEncoder.Label>> got = enc.classifyPairs(a, b);
            float[][] logits = new float[got.size()][3];
            for (int r = 0; r < got.size(); r++) {
                double sum = 0;
                for (TextEncoder.Label l : got.get(r)) {
                    logits[r][l.id()] = l.logit();
                    sum += l.probability();
                    assertEquals(List.of("contradiction", "entailment", "neutral").get(l.id()), l.label());
                }
                assertEquals(1.0, sum, 1e-9);
                assertTrue(got.get(r).get(0).probability() >= got.get(r).get(1).probability(), "most probable first");
            }
            near("bert-seqcls logits through classifyPairs", rows(f, "logits", 2, 3), logits);
        }
    }

    /** A tokenizer.json in DebertaV2TokenizerFast's shape: [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3, w4 … w127, its pair template. */
    static Path debertaTokenizer(Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("deberta-tok"));
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < 128; i++) vocab.append(i == 0 ? "" : ", ").append('"').append(i < 4 ? List.of("[PAD]", "[CLS]", "[SEP]", "[UNK]").get(i) : "w" + i)
                .append("\": ").append(i);
        String special = "\"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}";
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["
                + "{\"id\": 0, \"content\": \"[PAD]\", " + special + ", {\"id\": 1, \"content\": \"[CLS]\", " + special + ", "
                + "{\"id\": 2, \"content\": \"[SEP]\", " + special + ", {\"id\": 3, \"content\": \"[UNK]\", " + special + "],"
                + " \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"},"
                + " \"post_processor\": {\"type\": \"TemplateProcessing\","
                + " \"single\": [{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}},"
                + " {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}],"
                + " \"pair\": [{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}},"
                + " {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}},"
                + " {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 1}}],"
                + " \"special_tokens\": {\"[CLS]\": {\"id\": \"[CLS]\", \"ids\": [1], \"tokens\": [\"[CLS]\"]},"
                + " \"[SEP]\": {\"id\": \"[SEP]\", \"ids\": [2], \"tokens\": [\"[SEP]\"]}}},"
                + " \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"unk_token\": \"[UNK]\", \"vocab\": {" + vocab + "}}}");
        return dir;
    }

    /**
     * transformers' zero-shot-classification pipeline on a DeBERTa-v3 NLI folder (labels entailment, neutral,
     * contradiction): single-label scores are the softmax of the pairs' entailment logits over the candidates, multi-label
     * ones each pair's entailment share of [contradiction, entailment]; the pairs' logits through classifyPairs.
     */
    @Test
    void zeroShotFollowsTheZeroShotPipelinesPostprocessing() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("deberta-v3-seqcls");
        Path dir = debertaTokenizer(tmp);
        try (HfTokenizer tok = HfTokenizer.load(dir.resolve("tokenizer.json")); Weights w = Pretrained.load(f.dir(), CPU)) {
            TextEncoder enc = new TextEncoder(new Transformer(w, CPU), tok, SentencePooling.meanNormalized(null));
            String text = "w5 w9 w17 w40";
            List<String> labels = List.of("w60", "w61 w62", "w70");
            List<String> hyps = labels.stream().map(l -> "w99 " + l).toList();
            List<List<TextEncoder.Label>> pairs = enc.classifyPairs(java.util.Collections.nCopies(3, text), hyps);
            double[] entail = new double[3], contra = new double[3];
            for (int i = 0; i < 3; i++) {
                for (TextEncoder.Label l : pairs.get(i)) {
                    if (l.label().equals("entailment")) entail[i] = l.logit();
                    if (l.label().equals("contradiction")) contra[i] = l.logit();
                }
            }
            double sum = 0;
            for (double e : entail) sum += Math.exp(e);
            for (boolean multi : new boolean[] {false, true}) {
                List<TextEncoder.ZeroShotScore> got = enc.zeroShot(text, labels, "w99 {}", multi);
                assertEquals(3, got.size());
                for (int i = 0; i < 2; i++) assertTrue(got.get(i).score() >= got.get(i + 1).score(), "best first");
                for (TextEncoder.ZeroShotScore z : got) {
                    int i = labels.indexOf(z.label());
                    double want = multi ? Math.exp(entail[i]) / (Math.exp(entail[i]) + Math.exp(contra[i])) : Math.exp(entail[i]) / sum;
                    assertEquals(want, z.score(), 1e-9, z.label() + (multi ? " multi-label" : ""));
                }
            }
            var e = assertThrows(IllegalArgumentException.class, () -> enc.zeroShot(text, labels, "no placeholder", false));
            assertTrue(e.getMessage().contains("no {}"), e.getMessage());
        }
    }

    /**
     * A DeBERTa-v3 NLI folder through its tokenizer's pair template ([CLS] A [SEP] B [SEP], as DebertaV2TokenizerFast's
     * tokenizer.json has it, with ids 1 / 2 as in the fixture): classifyPairs gives the float64 reference's logits with the
     * folder's labels, the token types the template makes dropped (type_vocab_size 0).
     */
    @Test
    void debertaNliPairsThroughThePairTemplateClassifyAsTheReference() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("deberta-v3-seqcls");
        int[][] ids = f.ids("input_ids"), mask = f.ids("attention_mask");
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        splitPairs(ids, 2, a, b);
        Path dir = debertaTokenizer(tmp);
        try (HfTokenizer tok = HfTokenizer.load(dir.resolve("tokenizer.json")); Weights w = Pretrained.load(f.dir(), CPU)) {
            for (int r = 0; r < ids.length; r++) {
                int n = Arrays.stream(mask[r]).sum();
                assertEquals(Arrays.toString(Arrays.copyOf(ids[r], n)), Arrays.toString(tok.encodePair(a.get(r), b.get(r)).ids()), "pair " + r);
            }
            TextEncoder enc = new TextEncoder(new Transformer(w, CPU), tok, SentencePooling.meanNormalized(null));
            List<List<TextEncoder.Label>> got = enc.classifyPairs(a, b);
            float[][] logits = new float[got.size()][3];
            for (int r = 0; r < got.size(); r++) {
                for (TextEncoder.Label l : got.get(r)) {
                    logits[r][l.id()] = l.logit();
                    assertEquals(List.of("entailment", "neutral", "contradiction").get(l.id()), l.label());
                }
            }
            near("deberta-v3-seqcls logits through classifyPairs", rows(f, "logits", 3, 3), logits);
        }
    }

    @Test
    void crossEncoderRerankScoresEachPassageAsTheReference() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bert-crossencoder");
        int[][] ids = f.ids("input_ids");
        String query = null;
        List<String> passages = new ArrayList<>();
        for (int[] row : ids) {
            int sep1 = -1, sep2 = -1;
            for (int i = 1; i < row.length; i++) if (row[i] == 102) { if (sep1 < 0) sep1 = i; else if (sep2 < 0) sep2 = i; }
            query = words(row, 1, sep1);
            passages.add(words(row, sep1 + 1, sep2));
        }
        try (HfTokenizer tok = HfTokenizer.load(tokenizer(tmp)); Weights w = Pretrained.load(f.dir(), CPU)) {
            float[] scores = new TextEncoder(new Transformer(w, CPU), tok, SentencePooling.meanNormalized(null)).rerank(query, passages);
            float[][] got = new float[scores.length][];
            for (int i = 0; i < scores.length; i++) got[i] = new float[] {scores[i]};
            near("bert-crossencoder logits through rerank", rows(f, "logits", ids.length, 1), got);
        }
        try (HfTokenizer tok = HfTokenizer.load(tokenizer(tmp));
             Weights w = Pretrained.load(ReferenceFixturesTest.Fixture.open("bert-seqcls").dir(), CPU)) {
            var e = assertThrows(IllegalStateException.class,
                    () -> new TextEncoder(new Transformer(w, CPU), tok, SentencePooling.meanNormalized(null)).rerank("w5", List.of("w6")));
            assertEquals("rerank needs a one-label cross-encoder; this model has 3 labels [contradiction, entailment, neutral]"
                    + " (use classifyPairs)", e.getMessage());
        }
    }

    /** A word-level tokenizer.json of "w{id}" for ids 1 … v−1 ([PAD] 0), no special tokens added: a row's words give its ids. */
    static Path plainTokenizer(Path dir, int v) throws Exception {
        StringBuilder vocab = new StringBuilder("\"[PAD]\": 0");
        for (int i = 1; i < v; i++) vocab.append(", \"w").append(i).append("\": ").append(i);
        Files.createDirectories(dir);
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [{\"id\": 0,"
                + " \"content\": \"[PAD]\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false,"
                + " \"special\": true}], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"},"
                + " \"post_processor\": null, \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"vocab\": {" + vocab
                + "}, \"unk_token\": \"[PAD]\"}}");
        return f;
    }

    /**
     * Sequence classifiers score as transformers' text-classification pipeline (and vLLM's classify) do, by config.json's
     * problem_type: absent or single_label_classification → softmax over the labels; multi_label_classification → each
     * logit's sigmoid; regression → the logits; one label (a cross-encoder) → its sigmoid. Expected scores are those
     * functions in double of the float64 reference's logits; a problem_type transformers refuses is refused by name.
     */
    @Test
    void classifierScoresFollowTheProblemTypeAsThePipelineDoes() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("distilbert-seqcls");
        int[][] ids = f.ids("input_ids"), mask = f.ids("attention_mask");
        List<String> texts = new ArrayList<>();
        for (int r = 0; r < ids.length; r++) texts.add(words(ids[r], 0, Arrays.stream(mask[r]).sum()));
        double[][] ref = rows(f, "logits", ids.length, 3);
        double maxRef = Arrays.stream(ref).flatMapToDouble(Arrays::stream).map(Math::abs).max().orElseThrow();
        String config = Files.readString(f.dir().resolve("config.json"));
        Map<String, TextEncoder.Scoring> types = new java.util.LinkedHashMap<>();
        types.put("", TextEncoder.Scoring.SOFTMAX);
        types.put("\"single_label_classification\"", TextEncoder.Scoring.SOFTMAX);
        types.put("\"multi_label_classification\"", TextEncoder.Scoring.SIGMOID);
        types.put("\"regression\"", TextEncoder.Scoring.NONE);
        try (HfTokenizer tok = HfTokenizer.load(plainTokenizer(tmp.resolve("tok"), 256))) {
            for (var t : types.entrySet()) {
                Path dir = Files.createDirectories(tmp.resolve("seqcls-" + t.getValue() + t.getKey().length()));
                Files.copy(f.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
                Files.writeString(dir.resolve("config.json"), t.getKey().isEmpty() ? config
                        : config.replaceFirst("\\{", "{\"problem_type\": " + t.getKey() + ", "));
                try (Weights w = Pretrained.load(dir, CPU)) {
                    TextEncoder enc = new TextEncoder(new Transformer(w, CPU), tok, SentencePooling.meanNormalized(null));
                    assertEquals(t.getValue(), enc.scoring(), "problem_type " + t.getKey());
                    List<List<TextEncoder.Label>> got = enc.classify(texts);
                    for (int r = 0; r < ref.length; r++) {
                        double m = Arrays.stream(ref[r]).max().orElseThrow(), sum = 0;
                        for (double x : ref[r]) sum += Math.exp(x - m);
                        for (TextEncoder.Label l : got.get(r)) {
                            double x = ref[r][l.id()];
                            double want = switch (t.getValue()) {
                                case SOFTMAX -> Math.exp(x - m) / sum;
                                case SIGMOID -> 1 / (1 + Math.exp(-x));
                                case NONE -> x;
                            };
                            assertEquals(want, l.probability(), ReferenceFixturesTest.TOLERANCE * maxRef,
                                    "problem_type " + t.getKey() + " row " + r + " " + l.label());
                        }
                        for (int j = 1; j < got.get(r).size(); j++) {
                            assertTrue(got.get(r).get(j - 1).probability() >= got.get(r).get(j).probability(), "highest score first");
                        }
                    }
                }
            }
            Path bad = Files.createDirectories(tmp.resolve("seqcls-bad"));
            Files.copy(f.dir().resolve("model.safetensors"), bad.resolve("model.safetensors"));
            Files.writeString(bad.resolve("config.json"), config.replaceFirst("\\{", "{\"problem_type\": \"ordinal\", "));
            var e = assertThrows(CheckpointException.class, () -> Pretrained.load(bad, CPU).close());
            assertTrue(e.getMessage().contains("config.json field 'problem_type' is \"ordinal\", expected one of [regression,"
                    + " single_label_classification, multi_label_classification]"), e.getMessage());
        }
        ReferenceFixturesTest.Fixture ce = ReferenceFixturesTest.Fixture.open("bert-crossencoder");   // one label: the sigmoid
        int[][] ceIds = ce.ids("input_ids");
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        splitPairs(ceIds, 102, a, b);
        double[][] ceRef = rows(ce, "logits", ceIds.length, 1);
        try (HfTokenizer tok = HfTokenizer.load(tokenizer(Files.createDirectories(tmp.resolve("bert-tok"))));
             Weights w = Pretrained.load(ce.dir(), CPU)) {
            TextEncoder enc = new TextEncoder(new Transformer(w, CPU), tok, SentencePooling.meanNormalized(null));
            assertEquals(TextEncoder.Scoring.SIGMOID, enc.scoring());
            List<List<TextEncoder.Label>> got = enc.classifyPairs(a, b);
            for (int r = 0; r < ceRef.length; r++) {
                assertEquals(1 / (1 + Math.exp(-ceRef[r][0])), got.get(r).get(0).probability(), 1e-5, "pair " + r);
            }
        }
    }

    @Test
    void fillMaskGivesTheTopCandidatesOfTheMaskedLmHead() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bert-mlm");
        try (HfTokenizer tok = HfTokenizer.load(tokenizer(tmp)); Weights w = Pretrained.load(f.dir(), CPU)) {
            Transformer m = new Transformer(w, CPU);
            TextEncoder enc = new TextEncoder(m, tok, SentencePooling.meanNormalized(null));
            List<TextEncoder.MaskFill> fills = enc.fillMask("w182 [MASK] w221 w237 [MASK]", 5);
            assertEquals(List.of(2, 5), fills.stream().map(TextEncoder.MaskFill::position).toList(), "[CLS] shifts positions by one");
            float[][] logits = m.maskedLmLogits(new int[][] {{101, 182, 103, 221, 237, 103, 102}}, null, null)[0];
            for (TextEncoder.MaskFill fill : fills) {
                double[] p = TextEncoder.softmax(logits[fill.position()]);
                double[] sorted = Arrays.stream(p).map(x -> -x).sorted().map(x -> -x).toArray();
                for (int k = 0; k < 5; k++) {
                    TextEncoder.Candidate c = fill.candidates().get(k);
                    assertEquals(sorted[k], c.probability(), 1e-12);
                    assertEquals(p[c.id()], c.probability(), 1e-12);
                    assertEquals(tok.decode(new int[] {c.id()}), c.token());
                }
            }
            var e = assertThrows(IllegalArgumentException.class, () -> enc.fillMask("w5 w6", 3));
            assertEquals("the text has no mask token ([MASK])", e.getMessage());
        }
    }

    @Test
    void rowsPaddedAtTheFrontGiveTheReferenceOfTheRightPaddedRows() throws Exception {
        // RoBERTa counts positions over the non-padding tokens, so a row padded at the front has the same
        // positions for its tokens as padded at the end: transformers gives the same vectors for them.
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("roberta");
        int[][] ids = f.ids("input_ids"), mask = f.ids("attention_mask");
        int t = ids[0].length, c = 64;
        double[][] ref = rows(f, "last_hidden_state", ids.length * t, c);
        int r = 1, n = Arrays.stream(mask[r]).sum();                                    // row 1: n tokens then padding
        int[] left = new int[t], leftMask = new int[t];
        Arrays.fill(left, 1);
        System.arraycopy(ids[r], 0, left, t - n, n);
        Arrays.fill(leftMask, t - n, t, 1);
        try (Weights w = Pretrained.load(f.dir(), CPU)) {
            float[][][] h = new Transformer(w, CPU).encode(new int[][] {ids[0], left}, null, new int[][] {mask[0], leftMask});
            near("row 0 (no padding)", Arrays.copyOfRange(ref, 0, t), h[0]);
            near("row 1 padded at the front", Arrays.copyOfRange(ref, t + 0, t + n), Arrays.copyOfRange(h[1], t - n, t));
        }
    }

    /** sentence_transformers.models.Pooling (mask, prompt_length) and Normalize, in double, over the reference's rows. */
    static double[] stPool(double[][] h, String mode, int promptLength, boolean normalize) {
        int t = h.length, c = h[0].length;
        double[] v = new double[c];
        int[] mask = new int[t];
        Arrays.fill(mask, 1);
        for (int i = 0; i < promptLength; i++) mask[i] = 0;                       // attention_mask[:, :prompt_length] = 0
        switch (mode) {
            case "cls" -> v = h[0].clone();
            case "mean" -> {
                int count = 0;
                for (int i = 0; i < t; i++) if (mask[i] == 1) { count++; for (int j = 0; j < c; j++) v[j] += h[i][j]; }
                for (int j = 0; j < c; j++) v[j] /= Math.max(count, 1e-9);
            }
            case "max" -> {
                Arrays.fill(v, -1e9);
                for (int i = 0; i < t; i++) if (mask[i] == 1) for (int j = 0; j < c; j++) v[j] = Math.max(v[j], h[i][j]);
            }
            default -> v = h[t - 1].clone();                                      // lasttoken, no padding
        }
        if (normalize) {
            double s = 0;
            for (double x : v) s += x * x;
            double norm = Math.max(Math.sqrt(s), 1e-12);
            for (int j = 0; j < c; j++) v[j] /= norm;
        }
        return v;
    }

    @Test
    void sentenceTransformersFoldersPoolAndNormalizeAsTheySay() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bert");
        int[][] ids = f.ids("input_ids");
        int t = ids[0].length, c = 64;
        double[][] ref = rows(f, "last_hidden_state", ids.length * t, c);
        Object[][] cases = {{"cls", true, true}, {"mean", false, true}, {"max", true, false}, {"lasttoken", true, true},
                {"mean", true, false}};
        for (Object[] k : cases) {
            String mode = (String) k[0];
            boolean includePrompt = (Boolean) k[1], normalize = (Boolean) k[2];
            Path dir = Files.createDirectories(tmp.resolve(mode + includePrompt + normalize));
            Files.copy(f.dir().resolve("config.json"), dir.resolve("config.json"));
            Files.copy(f.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
            Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                    + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                    + "\"sentence_transformers.models.Pooling\"}" + (normalize ? ", {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\","
                    + " \"type\": \"sentence_transformers.models.Normalize\"}" : "") + "]");
            Files.createDirectories(dir.resolve("1_Pooling"));
            Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 64, \"pooling_mode_cls_token\": "
                    + mode.equals("cls") + ", \"pooling_mode_mean_tokens\": " + mode.equals("mean") + ", \"pooling_mode_max_tokens\": "
                    + mode.equals("max") + ", \"pooling_mode_mean_sqrt_len_tokens\": false, \"pooling_mode_weightedmean_tokens\": false,"
                    + " \"pooling_mode_lasttoken\": " + mode.equals("lasttoken") + ", \"include_prompt\": " + includePrompt + "}");
            SentencePooling p = SentencePooling.read(dir);
            assertEquals(mode + " pooling" + (includePrompt ? "" : " (prompt excluded)") + ", " + (normalize ? "normalized" : "not normalized"),
                    p.describe());
            int promptLength = includePrompt ? 0 : 3;
            try (Weights w = Pretrained.loadEncoder(p.modelDir(), CPU, org.transformer4j.runtime.DType.F32)) {
                List<float[][]> h = new Transformer(w, CPU).encodePacked(Arrays.asList(ids));
                for (int r = 0; r < ids.length; r++) {
                    double[] want = stPool(Arrays.copyOfRange(ref, r * t, (r + 1) * t), mode, promptLength, normalize);
                    near(mode + " row " + r, new double[][] {want}, new float[][] {p.pool(h.get(r), promptLength)});
                }
            }
        }
    }

    /**
     * An MPNet sentence-transformers folder as all-mpnet-base-v2 is laid out (MPNetModel at the root, mean pooling,
     * Normalize): each row's embedding, from its tokens alone, is the mean of the reference's hidden state over that
     * row's tokens, normalized — the long row past the relative bias's max distance included.
     */
    @Test
    void mpnetSentenceTransformersFolderMeanPoolsAndNormalizes() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("mpnet");
        int[][] ids = f.ids("input_ids"), mask = f.ids("attention_mask");
        int t = ids[0].length, c = 32;
        double[][] ref = rows(f, "last_hidden_state", ids.length * t, c);
        Path dir = Files.createDirectories(tmp.resolve("all-mpnet-like"));
        Files.copy(f.dir().resolve("config.json"), dir.resolve("config.json"));
        Files.copy(f.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}, {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": "
                + "\"sentence_transformers.models.Normalize\"}]");
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 32, \"pooling_mode_cls_token\": false,"
                + " \"pooling_mode_mean_tokens\": true, \"pooling_mode_max_tokens\": false, \"pooling_mode_mean_sqrt_len_tokens\": false}");
        SentencePooling p = SentencePooling.read(dir);
        try (Weights w = Pretrained.loadEncoder(p.modelDir(), CPU, org.transformer4j.runtime.DType.F32)) {
            List<int[]> rows = new java.util.ArrayList<>();
            for (int[] m : mask) rows.add(Arrays.copyOf(ids[rows.size()], Arrays.stream(m).sum()));
            List<float[][]> h = new Transformer(w, CPU).encodePacked(rows);
            for (int r = 0; r < ids.length; r++) {
                int n = rows.get(r).length;
                double[] want = stPool(Arrays.copyOfRange(ref, r * t, r * t + n), "mean", 0, true);
                near("mpnet row " + r, new double[][] {want}, new float[][] {p.pool(h.get(r), 0)});
            }
        }
    }

    /** A Dense module folder with weights drawn from {@code seed}: linear.weight (out, in) and, with bias, linear.bias. */
    static float[][] denseModule(Path at, int in, int out, boolean bias, String activation, long seed) throws Exception {
        Files.createDirectories(at);
        Files.writeString(at.resolve("config.json"), "{\"in_features\": " + in + ", \"out_features\": " + out + ", \"bias\": " + bias
                + (activation == null ? "" : ", \"activation_function\": \"" + activation + "\"") + "}");
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] w = new float[out * in], b = new float[out];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextDouble(-1, 1) / Math.sqrt(in));
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-0.2, 0.2);
        Map<String, org.transformer4j.runtime.Tensor> t = new java.util.LinkedHashMap<>();
        t.put("linear.weight", org.transformer4j.runtime.Tensor.ofFloats(w, out, in));
        if (bias) t.put("linear.bias", org.transformer4j.runtime.Tensor.ofFloats(b, out));
        org.transformer4j.model.weights.SafetensorsWriter.write(at.resolve("model.safetensors"), t, Map.of("format", "pt"));
        t.values().forEach(org.transformer4j.runtime.Tensor::close);
        return new float[][] {w, bias ? b : null};
    }

    /**
     * sentence-transformers' Dense modules after the pooling, as LaBSE (cls, Dense 768→768 tanh, Normalize) and
     * distiluse (mean, Dense 768→512 tanh) have them: here mean pooling, Dense 64→24 tanh with bias (the default
     * activation, not written), Dense 24→16 identity without bias, Normalize — each row against the same steps in
     * double on the reference's hidden state. Then the refusals: a Dense with only pytorch_model.bin, an activation not
     * computed here, mismatched chained widths, a module after Normalize.
     */
    @Test
    void denseModulesProjectThePooledVector() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bert");
        int[][] ids = f.ids("input_ids");
        int t = ids[0].length, c = 64;
        double[][] ref = rows(f, "last_hidden_state", ids.length * t, c);
        Path dir = Files.createDirectories(tmp.resolve("dense"));
        Files.copy(f.dir().resolve("config.json"), dir.resolve("config.json"));
        Files.copy(f.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        String modules = "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                + " {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},"
                + " {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"},"
                + " {\"idx\": 3, \"name\": \"3\", \"path\": \"3_Dense\", \"type\": \"sentence_transformers.models.Dense\"},"
                + " {\"idx\": 4, \"name\": \"4\", \"path\": \"4_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}]";
        Files.writeString(dir.resolve("modules.json"), modules);
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 64, \"pooling_mode_mean_tokens\": true}");
        float[][] d1 = denseModule(dir.resolve("2_Dense"), 64, 24, true, null, 11);
        float[][] d2 = denseModule(dir.resolve("3_Dense"), 24, 16, false, "torch.nn.modules.linear.Identity", 12);
        SentencePooling p = SentencePooling.read(dir);
        assertEquals("mean pooling, dense 64→24 tanh, dense 24→16 identity, normalized", p.describe());
        try (Weights w = Pretrained.loadEncoder(p.modelDir(), CPU, org.transformer4j.runtime.DType.F32)) {
            List<float[][]> h = new Transformer(w, CPU).encodePacked(Arrays.asList(ids));
            for (int r = 0; r < ids.length; r++) {
                double[] v = stPool(Arrays.copyOfRange(ref, r * t, (r + 1) * t), "mean", 0, false);
                double[] a = new double[24], o = new double[16];
                for (int i = 0; i < 24; i++) {
                    double z = d1[1][i];
                    for (int j = 0; j < 64; j++) z += (double) d1[0][i * 64 + j] * v[j];
                    a[i] = Math.tanh(z);
                }
                double n = 0;
                for (int i = 0; i < 16; i++) {
                    for (int j = 0; j < 24; j++) o[i] += (double) d2[0][i * 24 + j] * a[j];
                    n += o[i] * o[i];
                }
                for (int i = 0; i < 16; i++) o[i] /= Math.sqrt(n);
                near("dense row " + r, new double[][] {o}, new float[][] {p.pool(h.get(r), 0)});
            }
        }
        Files.move(dir.resolve("3_Dense/model.safetensors"), dir.resolve("3_Dense/pytorch_model.bin"));
        var e = assertThrows(CheckpointException.class, () -> SentencePooling.read(dir));
        assertTrue(e.getMessage().contains("3_Dense") && e.getMessage().contains("pytorch_model.bin"), e.getMessage());
        denseModule(dir.resolve("3_Dense"), 24, 16, false, "torch.nn.modules.activation.Softplus", 12);
        e = assertThrows(CheckpointException.class, () -> SentencePooling.read(dir));
        assertTrue(e.getMessage().contains("Softplus"), e.getMessage());
        denseModule(dir.resolve("3_Dense"), 20, 16, false, null, 12);
        e = assertThrows(CheckpointException.class, () -> SentencePooling.read(dir));
        assertTrue(e.getMessage().contains("in_features 20"), e.getMessage());
        Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\":"
                + " \"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\":"
                + " \"sentence_transformers.models.Pooling\"}, {\"idx\": 2, \"name\": \"2\", \"path\": \"4_Normalize\", \"type\":"
                + " \"sentence_transformers.models.Normalize\"}, {\"idx\": 3, \"name\": \"3\", \"path\": \"2_Dense\", \"type\":"
                + " \"sentence_transformers.models.Dense\"}]");
        e = assertThrows(CheckpointException.class, () -> SentencePooling.read(dir));
        assertTrue(e.getMessage().contains("follows Normalize"), e.getMessage());
    }

    /**
     * sentence_bert_config.json's max_seq_length: a text past it is cut as sentence-transformers' tokenizer call cuts it —
     * [CLS], the text's first max − 2 tokens, [SEP] — and embedded as those tokens; a shorter text is left whole.
     */
    @Test
    void maxSeqLengthCutsTheTextKeepingItsSpecialTokens() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bert");
        Path dir = Files.createDirectories(tmp.resolve("max-seq"));
        Files.copy(f.dir().resolve("config.json"), dir.resolve("config.json"));
        Files.copy(f.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}]");
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 64, \"pooling_mode_mean_tokens\": true}");
        Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 8, \"do_lower_case\": false}");
        SentencePooling p = SentencePooling.read(dir);
        assertEquals(8, p.maxSeqLength());
        try (HfTokenizer tok = HfTokenizer.load(tokenizer(tmp)); Weights w = Pretrained.loadEncoder(p.modelDir(), CPU, org.transformer4j.runtime.DType.F32)) {
            Transformer m = new Transformer(w, CPU);
            assertArrayEquals(new int[] {1, 1}, SentencePooling.specialsAround(tok));
            float[][] got = new TextEncoder(m, tok, p).embed(List.of("w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16", "w40 w41 w42"));
            int[][] want = {{101, 5, 6, 7, 8, 9, 10, 102}, {101, 40, 41, 42, 102}};
            for (int r = 0; r < 2; r++) {
                float[] v = p.pool(m.encodePacked(List.of(want[r])).get(0), 0);
                assertArrayEquals(v, got[r], 1e-6f, "text " + r);
            }
        }
        Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": -3}");
        var e = assertThrows(CheckpointException.class, () -> SentencePooling.read(dir));
        assertTrue(e.getMessage().contains("max_seq_length"), e.getMessage());
    }

    @Test
    void badInputIsAOneLineErrorNamingTheArgumentOrFile() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("bert-seqcls");
        try (Weights w = Pretrained.load(f.dir(), CPU)) {
            Transformer m = new Transformer(w, CPU);
            int[][] ids = {{101, 5, 6, 102}};
            var e = assertThrows(IllegalArgumentException.class, () -> m.classify(ids, null, new int[][] {{1, 1, 2, 0}}));
            assertEquals("attentionMask[0][2] is 2; a mask holds 1 (a token) or 0 (padding)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.classify(ids, null, new int[][] {{0, 0, 0, 0}}));
            assertEquals("attentionMask row 0 is all 0: the row has no token", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.classify(ids, new int[][] {{0, 0, 2, 1}}, null));
            assertEquals("typeIds[0][2] is 2 but the model has 2 token types", e.getMessage());
            int[][] longPair = {new int[70]};                                        // max_position_embeddings 64
            e = assertThrows(IllegalArgumentException.class, () -> m.classify(longPair, null, null));
            assertEquals("ids row 0 has 70 tokens but the model has 64 positions (max_position_embeddings: at most 64 tokens);"
                    + " shorten or truncate the input", e.getMessage());
        }
        // a folder whose classifier does not match its config's labels
        Path dir = Files.createDirectories(tmp.resolve("bad-heads"));
        Files.copy(f.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), Files.readString(f.dir().resolve("config.json"))
                .replace("\"2\": \"neutral\"", "\"2\": \"neutral\", \"3\": \"other\""));
        var e = assertThrows(CheckpointException.class, () -> Pretrained.load(dir, CPU));
        assertTrue(e.getMessage().startsWith(dir.resolve("model.safetensors") + ": ") || e.getMessage().startsWith(dir.toString()),
                e.getMessage());
        assertTrue(e.getMessage().contains("classifier.weight is [3, 64], expected [4, 64]"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
