// DecoderRerankerTest — Transformer.lastTokenLogits against the float64 reference's logits (Qwen3; Gemma 2's final soft-cap;
// Granite's logits scaling), sequences of different lengths packed; DecoderReranker's prompt and P(yes) against the full
// logits of each prompt alone; answers of more than one token and bidirectional models refused in one line.
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.CpuBackend;

class DecoderRerankerTest {

    private static final CpuBackend CPU = new CpuBackend();

    @TempDir
    Path tmp;

    /** Each row's last logits, and a prefix of row 0 (its logits at that position), packed in one pass. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3", "gemma2", "granite"})
    void lastTokenLogitsAreTheReferencesAtEachSequencesEnd(String name) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        int[][] ids = f.ids("input_ids");
        int b = ids.length, t = ids[0].length;
        try (Weights w = Pretrained.load(f.dir(), CPU)) {
            int v = w.config.vocabSize(), cut = t - 5;
            double[] ref = f.reference("logits", (long) b * t * v);
            List<int[]> seqs = new ArrayList<>(Arrays.asList(ids));
            seqs.add(1, Arrays.copyOf(ids[0], cut));
            float[][] got = new Transformer(w, CPU).lastTokenLogits(seqs);
            int[][] at = new int[b + 1][];                                         // (row, position) of each sequence's end
            for (int r = 0; r < b; r++) at[r < 1 ? 0 : r + 1] = new int[] {r, t - 1};
            at[1] = new int[] {0, cut - 1};
            double max = 0, worst = 0;
            for (double x : ref) max = Math.max(max, Math.abs(x));
            for (int i = 0; i < at.length; i++) {
                for (int j = 0; j < v; j++) worst = Math.max(worst, Math.abs(got[i][j] - ref[(at[i][0] * t + at[i][1]) * v + j]));
            }
            assertTrue(worst <= ReferenceFixturesTest.TOLERANCE * max, name + ": max |got − ref| " + worst + " > 2e-5 × " + max);
        }
    }

    /** A WordLevel tokenizer.json over the qwen3 fixture's 256 ids: w0 … w249, yes, no, [UNK], <|im_start|>, <|im_end|>, <|endoftext|>. */
    private Path tokenizer() throws Exception {
        String[] special = {"[UNK]", "<|im_start|>", "<|im_end|>", "<|endoftext|>"};
        StringBuilder vocab = new StringBuilder(), added = new StringBuilder();
        for (int i = 0; i < 256; i++) {
            String tok = i < 250 ? "w" + i : i == 250 ? "yes" : i == 251 ? "no" : special[i - 252];
            vocab.append(i == 0 ? "" : ", ").append('"').append(tok).append("\": ").append(i);
            if (i >= 252) {
                added.append(added.isEmpty() ? "" : ", ").append("{\"id\": ").append(i).append(", \"content\": \"").append(tok)
                        .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}");
            }
        }
        Path file = Files.createDirectories(tmp.resolve("tok")).resolve("tokenizer.json");
        Files.writeString(file, "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [" + added + "],"
                + " \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}, \"post_processor\": null, \"decoder\": null,"
                + " \"model\": {\"type\": \"WordLevel\", \"unk_token\": \"[UNK]\", \"vocab\": {" + vocab + "}}}");
        return file;
    }

    /**
     * P(yes) of each document equals exp(l_yes) / (exp(l_yes) + exp(l_no)) of the logits after the prompt's last token,
     * the prompt's logits computed alone by the full forward pass; the prompt is prefix, pair, suffix encoded apart.
     */
    @Test
    void scoresAreTheYesProbabilityOfEachPromptAlone() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("qwen3");
        try (HfTokenizer tok = HfTokenizer.load(tokenizer()); Weights w = Pretrained.load(f.dir(), CPU)) {
            Transformer m = new Transformer(w, CPU);
            DecoderReranker r = DecoderReranker.qwen3(m, tok);
            List<String> docs = List.of("w5 w9 w200", "w17", "w3 w3 w3 w3 w40 w41 w42 w43");
            double[] got = r.scores("w7 w8", docs, null);
            for (int i = 0; i < docs.size(); i++) {
                int[] ids = r.prompt("w7 w8", docs.get(i), null);
                int[] prefix = tok.encode(DecoderReranker.QWEN3_PREFIX, false), suffix = tok.encode(DecoderReranker.QWEN3_SUFFIX, false);
                assertEquals(253, prefix[0], "<|im_start|> first");
                assertArrayEquals(prefix, Arrays.copyOf(ids, prefix.length));
                assertArrayEquals(suffix, Arrays.copyOfRange(ids, ids.length - suffix.length, ids.length));
                float[] last = m.logits(new int[][] {ids})[0][ids.length - 1];
                double want = Math.exp(last[250]) / (Math.exp(last[250]) + Math.exp(last[251]));
                assertEquals(want, got[i], 1e-6, "document " + i);
            }
            double[] other = r.scores("w7 w8", docs, "w1 w2");
            assertTrue(Math.abs(other[0] - got[0]) > 1e-9, "the instruction is part of the prompt");
        }
    }

    @Test
    void refusals() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("qwen3");
        try (HfTokenizer tok = HfTokenizer.load(tokenizer()); Weights w = Pretrained.load(f.dir(), CPU)) {
            Transformer m = new Transformer(w, CPU);
            var e = assertThrows(IllegalArgumentException.class, () -> new DecoderReranker(m, tok, "", "", "w1 w2", "no"));
            assertTrue(e.getMessage().contains("'w1 w2' is 2 tokens"), e.getMessage());
            var none = assertThrows(IllegalArgumentException.class, () -> DecoderReranker.qwen3(m, tok).scores("q", List.of(), null));
            assertTrue(none.getMessage().contains("no documents"), none.getMessage());
        }
        ReferenceFixturesTest.Fixture g = ReferenceFixturesTest.Fixture.open("embeddinggemma");
        try (Weights w = Pretrained.loadEncoder(g.dir(), CPU, org.transformer4j.runtime.DType.F32)) {
            var e = assertThrows(IllegalStateException.class, () -> new Transformer(w, CPU).lastTokenLogits(List.of(new int[] {1, 2})));
            assertTrue(e.getMessage().contains("bidirectional"), e.getMessage());
        }
    }
}
