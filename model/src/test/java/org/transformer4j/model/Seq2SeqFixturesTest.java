package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.ReferenceFixturesTest.Fixture;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;

/**
 * The BART family against the float64 reference (ci/reference/bart.py, written from modeling_bart.py, modeling_mbart.py,
 * modeling_marian.py and modeling_pegasus.py): the encoder's last hidden state, the logits of given decoder inputs over a
 * padded batch, a greedy run through the cache (prefill, then one step at a time), and BartForSequenceClassification's
 * logits.
 */
class Seq2SeqFixturesTest {

    /** Each row's tokens whose attention_mask is 1 (right padding). */
    static int[] visible(int[] ids, int[] mask) {
        int n = 0;
        while (n < mask.length && mask[n] == 1) n++;
        return Arrays.copyOf(ids, n);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bart", "mbart", "marian", "pegasus", "m2m100"})
    void generationModelMatchesTheReference(String name) throws Exception {
        matches(name, new CpuBackend());
    }

    /** {@code name}'s encoder states, logits and cached greedy run on {@code backend} in fp32 (ModelGpuTest: on CUDA). */
    static void matches(String name, org.transformer4j.runtime.Backend backend) throws Exception {
        Fixture f = Fixture.open(name);
        try (Weights w = Pretrained.load(f.dir(), backend)) {
            Transformer m = new Transformer(w, backend);
            int[][] in = f.ids("input_ids"), mask = f.ids("attention_mask"), dec = f.ids("decoder_input_ids");
            int c = m.config.modelWidth(), v = m.config.vocabSize();
            float[][][] enc = new float[in.length][in[0].length][c];
            float[][][] logits = new float[in.length][][];
            for (int r = 0; r < in.length; r++) {        // row by row, unpadded: transformers gives the padded keys weight 0
                int[] row = visible(in[r], mask[r]);
                float[][] e = m.encode(new int[][] {row})[0];
                for (int t = 0; t < row.length; t++) enc[r][t] = e[t];
                logits[r] = m.logits(new int[][] {row}, new int[][] {dec[r]})[0];
            }
            assertEquals(v, logits[0][0].length);
            int[][] target = decoderTokens(dec, m.config.specialIds().pad());
            assertAll(() -> f.nearAtTokens("encoder_last_hidden_state", enc, mask),
                    () -> f.nearAtTokens("logits", logits, target),
                    () -> greedy(f, m));
        }
    }

    /**
     * 1 at each decoder position but a trailing run of padding after the first (m2m100's padded labels: transformers numbers a
     * padding token's position as the zero row, which generation never feeds; the causal mask keeps them from the others).
     */
    static int[][] decoderTokens(int[][] dec, int pad) {
        int[][] out = new int[dec.length][];
        for (int r = 0; r < dec.length; r++) {
            out[r] = new int[dec[r].length];
            int end = dec[r].length;
            while (end > 1 && dec[r][end - 1] == pad) end--;
            Arrays.fill(out[r], 0, end, 1);
        }
        return out;
    }

    /** The reference's greedy run through the cache: its decoder prompt prefilled, then a step per token. */
    static void greedy(Fixture f, Transformer m) {
        JsonNode gr = f.ref().get("greedy");
        int[] input = Fixture.ints(gr.get("input_ids")), prompt = Fixture.ints(gr.get("prompt")), want = Fixture.ints(gr.get("tokens"));
        int[] got = new int[want.length];
        try (KvState st = m.newState(new int[][] {input}, prompt.length + want.length)) {
            float[] l = m.prefillLast(st, 0, prompt);
            for (int i = 0; i < want.length; i++) {
                got[i] = argmax(l);
                if (i + 1 < want.length) l = m.step(st, new int[] {got[i]})[0];
            }
        }
        double maxLogit = f.ref().get("max_abs").get("logits").doubleValue();
        int clear = 0;
        while (clear < want.length && gr.get("margins").get(clear).doubleValue()
                > ReferenceFixturesTest.CLEAR_MARGIN * ReferenceFixturesTest.TOLERANCE * maxLogit) clear++;
        if (clear < Math.min(4, want.length)) fail(f.name() + ": the reference's greedy margins are clear for " + clear + " steps only");
        assertArrayEquals(Arrays.copyOf(want, clear), Arrays.copyOf(got, clear), f.name() + ": greedy tokens (the first " + clear
                + " steps) " + Arrays.toString(got) + " vs the reference's " + Arrays.toString(want));
    }

    /**
     * facebook/bart-large-cnn's way: config.json's forced_bos_token_id (0) and forced_eos_token_id (2) through GenerationConfig
     * and Generator — the first new token is the forced BOS, the reference's greedy tokens follow, the last allowed one is
     * the forced EOS (and ends the text).
     */
    @org.junit.jupiter.api.Test
    void bartFoldersForcedTokensFrameTheReferenceGreedyRun() throws Exception {
        Fixture f = Fixture.open("bart");
        JsonNode gr = f.ref().get("greedy");
        int[] input = Fixture.ints(gr.get("input_ids")), want = Fixture.ints(gr.get("tokens"));
        int n = 8;                                                              // the first 8 steps' margins are clear
        try (Weights w = Pretrained.load(f.dir(), new CpuBackend())) {
            GenerationConfig gc = GenerationConfig.readIfPresent(f.dir()).orElseThrow();
            Generator.Options o = gc.options(n + 2, 0);
            int[] got = new Generator(new Transformer(w, new CpuBackend())).generate(input, o, null);
            int[] expected = new int[n + 2];
            expected[0] = 0;                                                    // forced BOS
            System.arraycopy(want, 0, expected, 1, n);
            expected[n + 1] = 2;                                                // forced EOS at max_length − 1
            assertArrayEquals(expected, got, "tokens " + Arrays.toString(got));
        }
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    @org.junit.jupiter.api.Test
    void bartSequenceClassifierMatchesTheReference() throws Exception {
        classifierMatches(new CpuBackend());
    }

    /** BartForSequenceClassification's logits and encoder states on {@code backend} in fp32. */
    static void classifierMatches(org.transformer4j.runtime.Backend backend) throws Exception {
        Fixture f = Fixture.open("bart-seqcls");
        try (Weights w = Pretrained.load(f.dir(), backend)) {
            Transformer m = new Transformer(w, backend);
            int[][] in = f.ids("input_ids"), mask = f.ids("attention_mask");
            assertEquals(List.of("contradiction", "neutral", "entailment"), w.encoderInfo.labels());
            float[][] got = m.classify(in, null, mask);
            f.near("logits", new float[][][] {got});
            float[][][] enc = new float[in.length][in[0].length][];
            for (int r = 0; r < in.length; r++) {
                float[][] e = m.encode(new int[][] {visible(in[r], mask[r])})[0];
                for (int t = 0; t < in[r].length; t++) enc[r][t] = t < e.length ? e[t] : new float[m.config.modelWidth()];
            }
            f.nearAtTokens("encoder_last_hidden_state", enc, mask);
        }
    }

    /**
     * bart-large-mnli's use: the fixture's premise / hypothesis pairs as texts through a tokenizer.json with RoBERTa's pair
     * template ({@code <s> A </s></s> B </s>}, what BART's tokenizer.json has), batched and padded by TextEncoder, give the
     * reference's logits; zero-shot classification with a one-word template gives the pipeline's multi-label score.
     */
    @org.junit.jupiter.api.Test
    void nliPairsAndZeroShotThroughTheTokenizerMatchTheReference(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Fixture f = Fixture.open("bart-seqcls");
        StringBuilder vocab = new StringBuilder();
        java.util.Map<Integer, String> special = java.util.Map.of(0, "<s>", 1, "<pad>", 2, "</s>", 3, "<unk>");
        StringBuilder added = new StringBuilder();
        for (int i = 0; i < 128; i++) {
            String t = special.getOrDefault(i, "w" + i);
            vocab.append(i == 0 ? "" : ", ").append('"').append(t).append("\": ").append(i);
            if (special.containsKey(i)) {
                added.append(added.isEmpty() ? "" : ", ").append("{\"id\": ").append(i).append(", \"content\": \"").append(t)
                        .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}");
            }
        }
        java.nio.file.Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null,"
                + " \"added_tokens\": [" + added + "], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"},"
                + " \"post_processor\": {\"type\": \"RobertaProcessing\", \"sep\": [\"</s>\", 2], \"cls\": [\"<s>\", 0],"
                + " \"trim_offsets\": true, \"add_prefix_space\": false}, \"decoder\": null,"
                + " \"model\": {\"type\": \"WordLevel\", \"unk_token\": \"<unk>\", \"vocab\": {" + vocab + "}}}");
        int[][] in = f.ids("input_ids"), mask = f.ids("attention_mask");
        List<String> premises = new java.util.ArrayList<>(), hypotheses = new java.util.ArrayList<>();
        for (int r = 0; r < in.length; r++) {                 // <s> premise </s></s> hypothesis </s>
            int[] row = visible(in[r], mask[r]);
            int sep = 1;
            while (row[sep] != 2) sep++;
            premises.add(words(row, 1, sep));
            hypotheses.add(words(row, sep + 2, row.length - 1));
        }
        double[] ref = f.reference("logits", 2L * 3);
        try (Weights w = Pretrained.load(f.dir(), new CpuBackend());
             org.transformer4j.model.tokenizer.Tokenizer tok = org.transformer4j.model.tokenizer.HfTokenizer.load(dir.resolve("tokenizer.json"))) {
            TextEncoder enc = new TextEncoder(new Transformer(w, new CpuBackend()), tok, SentencePooling.meanNormalized(null));
            List<List<TextEncoder.Label>> got = enc.classifyPairs(premises, hypotheses);
            double max = Arrays.stream(ref).map(Math::abs).max().orElse(1);
            for (int r = 0; r < got.size(); r++) {
                for (TextEncoder.Label l : got.get(r)) {
                    assertEquals(ref[r * 3 + l.id()], l.logit(), ReferenceFixturesTest.TOLERANCE * max, "pair " + r + " " + l.label());
                }
            }
            // the hypothesis as a template around its last word: one candidate → sigmoid(entailment − contradiction)
            String h = hypotheses.get(0);
            String last = h.substring(h.lastIndexOf(' ') + 1);
            List<TextEncoder.ZeroShotScore> z = enc.zeroShot(premises.get(0), List.of(last), h.substring(0, h.lastIndexOf(' ') + 1) + "{}", false);
            double want = 1 / (1 + Math.exp(-(ref[2] - ref[0])));
            assertEquals(want, z.get(0).score(), 1e-4, "zero-shot score of the entailment class");
        }
    }

    private static String words(int[] ids, int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) b.append(i == from ? "" : " ").append('w').append(ids[i]);
        return b.toString();
    }

    /** In bf16 the model still follows the reference's clear greedy steps (the logits' bf16 error is far below them). */
    @org.junit.jupiter.api.Test
    void bartInBf16KeepsItsLogitsNearTheReference() throws Exception {
        Fixture f = Fixture.open("bart");
        try (Weights w = Pretrained.load(f.dir(), new CpuBackend(), DType.BF16)) {
            Transformer m = new Transformer(w, new CpuBackend());
            int[][] in = f.ids("input_ids"), dec = f.ids("decoder_input_ids");
            float[][] l = m.logits(new int[][] {in[0]}, new int[][] {dec[0]})[0];
            double[] ref = f.reference("logits", 2L * dec[0].length * m.config.vocabSize());
            double max = 0, err = 0;
            for (int t = 0; t < l.length; t++) {
                for (int x = 0; x < l[t].length; x++) {
                    double r = ref[t * l[t].length + x];
                    max = Math.max(max, Math.abs(r));
                    err = Math.max(err, Math.abs(l[t][x] - r));
                }
            }
            assertTrue(err < 0.05 * max, "bf16 logits " + err + " from the reference (max " + max + ")");
        }
    }
}
