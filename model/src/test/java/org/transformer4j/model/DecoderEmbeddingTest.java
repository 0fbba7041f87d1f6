// DecoderEmbeddingTest — decoder-only models as sentence embedders (Qwen3-Embedding, e5-mistral): the packed last hidden
// states against the float64 reference's last_hidden_state, the base-model layout sentence-transformers saves (no
// "model." prefix, no lm_head) loaded without an output matrix, and a sentence-transformers folder with last-token
// pooling, an EOS-appending tokenizer and a query prompt through TextEncoder.embed.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class DecoderEmbeddingTest {

    private static final CpuBackend CPU = new CpuBackend();

    @TempDir
    Path tmp;

    /**
     * Row 0 whole and row 1's first 23 tokens, packed: each sequence's states are the reference's rows (causal: a prefix's
     * states do not depend on what follows). Qwen3 (q/k norms, untied), Mistral (a sliding window of 16 over 40 tokens),
     * Gemma 3 text (local layers' own RoPE and window, the embedding scale), SmolLM3 (layers without RoPE).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3", "mistral", "gemma3-text", "smollm3"})
    void packedLastHiddenStatesAreTheReferences(String name) throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
        int[][] ids = f.ids("input_ids");
        int t = ids[0].length, k = 23;
        for (boolean head : new boolean[] {true, false}) {
            try (Weights w = head ? Pretrained.load(f.dir(), CPU) : Pretrained.loadEncoder(f.dir(), CPU, DType.F32)) {
                List<float[][]> h = new Transformer(w, CPU).lastHiddenStates(List.of(ids[0], Arrays.copyOf(ids[1], k)));
                int c = h.get(0)[0].length;
                float[][][] got = new float[2][t][c];
                got[0] = h.get(0);
                double[] ref = f.reference("last_hidden_state", 2L * t * c);
                for (int i = 0; i < t; i++) {                                  // row 1 past k: the reference's values
                    for (int x = 0; x < c; x++) got[1][i][x] = i < k ? h.get(1)[i][x] : (float) ref[(t + i) * c + x];
                }
                f.near("last_hidden_state", got);
                if (!head) assertNull(w.lmHead, "loadEncoder leaves the output matrix out");
            }
        }
    }

    /** The fixture's tensors with "model." dropped and lm_head.weight left out: Qwen3Model as sentence-transformers saves it. */
    private Path baseModelFolder(ReferenceFixturesTest.Fixture f) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("base-" + f.name()));
        Files.copy(f.dir().resolve("config.json"), dir.resolve("config.json"));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(f.dir().resolve("model.safetensors"))) {
            for (String key : file.names()) {
                if (!key.equals("lm_head.weight")) tensors.put(key.startsWith("model.") ? key.substring(6) : key, file.tensor(key));
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        return dir;
    }

    /**
     * The base model's layout of an untied model (qwen3): loadEncoder reads it and gives the reference's states; its
     * logits are refused in one line naming the missing lm_head; Pretrained.load (with heads) refuses the folder naming
     * lm_head.weight.
     */
    @Test
    void baseModelLayoutLoadsWithoutTheOutputMatrix() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("qwen3");
        Path dir = baseModelFolder(f);
        int[][] ids = f.ids("input_ids");
        try (Weights w = Pretrained.loadEncoder(dir, CPU, DType.F32)) {
            assertNull(w.lmHead);
            Transformer m = new Transformer(w, CPU);
            List<float[][]> h = m.lastHiddenStates(List.of(ids[0], ids[1]));
            f.near("last_hidden_state", new float[][][] {h.get(0), h.get(1)});
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.logits(ids));
            assertTrue(e.getMessage().contains("lm_head") && e.getMessage().lines().count() == 1, e.getMessage());
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(dir, CPU));
        assertTrue(e.getMessage().contains("lm_head.weight"), e.getMessage());
        try (Weights w = Pretrained.loadEncoder(f.dir(), CPU, DType.F32)) {       // the causal-LM folder: lm_head left alone
            assertNull(w.lmHead);
        }
    }

    /**
     * A sentence-transformers folder as Qwen3-Embedding is laid out: the base model at the root, last-token pooling,
     * Normalize, a "query" prompt, and a tokenizer that appends its end-of-text token to every text. TextEncoder.embed
     * gives, for each text, the normalized state of that appended token after the prompt and the text's own tokens.
     */
    @Test
    void sentenceTransformersFolderPoolsTheLastTokenAfterThePrompt() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("qwen3");
        Path dir = baseModelFolder(f);
        Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}, {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": "
                + "\"sentence_transformers.models.Normalize\"}]");
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 64, \"pooling_mode_cls_token\": false,"
                + " \"pooling_mode_mean_tokens\": false, \"pooling_mode_max_tokens\": false, \"pooling_mode_mean_sqrt_len_tokens\": false,"
                + " \"pooling_mode_weightedmean_tokens\": false, \"pooling_mode_lasttoken\": true, \"include_prompt\": true}");
        Files.writeString(dir.resolve("config_sentence_transformers.json"),
                "{\"prompts\": {\"query\": \"w7 w8 \", \"document\": \"\"}, \"default_prompt_name\": null}");
        Path tokenizer = eosTokenizer(dir);
        SentencePooling pooling = SentencePooling.read(dir);
        List<String> texts = List.of("w5 w9 w200", "w17", "w3 w3 w3 w3 w40 w41");
        try (HfTokenizer tok = HfTokenizer.load(tokenizer); Weights w = Pretrained.loadEncoder(pooling.modelDir(), CPU, DType.F32)) {
            Transformer m = new Transformer(w, CPU);
            assertArrayEquals(new int[] {7, 8, 5, 9, 200, 255}, tok.encode("w7 w8 w5 w9 w200"), "the tokenizer appends <|endoftext|>");
            float[][] got = new TextEncoder(m, tok, pooling).embed(texts, "query");
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = tok.encode("w7 w8 " + texts.get(i));
                float[][] h = m.lastHiddenStates(List.of(ids)).get(0);
                float[] last = h[h.length - 1];
                double norm = 0;
                for (float v : last) norm += (double) v * v;
                float[] want = new float[last.length];
                for (int x = 0; x < last.length; x++) want[x] = (float) (last[x] / Math.sqrt(norm));
                assertArrayEquals(want, got[i], 2e-6f, "text " + i);
            }
            var e = assertThrows(IllegalStateException.class, () -> new TextEncoder(m, tok, pooling).classify(List.of("w5 w6")));
            assertTrue(e.getMessage().contains("encoder-only"), e.getMessage());
            // max_seq_length 5: the prompt and text cut to their first 4 tokens, the appended <|endoftext|> kept last
            assertArrayEquals(new int[] {0, 1}, SentencePooling.specialsAround(tok));
            Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 5}");
            SentencePooling cut = SentencePooling.read(dir);
            float[] one = new TextEncoder(m, tok, cut).embed(List.of("w5 w9 w200"), "query")[0];
            float[][] h = m.lastHiddenStates(List.of(new int[] {7, 8, 5, 9, 255})).get(0);
            assertArrayEquals(cut.pool(h, 0), one, 1e-6f, "[w7 w8 w5 w9 <|endoftext|>]'s last state");
        }
    }

    /**
     * EmbeddingGemma (Gemma3TextModel with use_bidirectional_attention, the base model's layout): the packed rows' states
     * are the float64 reference's (full layers see every key of the row, sliding layers |i − j| &lt; 6 on both sides); its
     * causal paths (logits, a KV cache) are refused in one line; and its sentence-transformers pipeline — mean pooling,
     * two Dense projections without bias or activation (768 → 3072 → 768 in the published model, 32 → 48 → 32 here),
     * Normalize — gives through TextEncoder.embed what those steps give on its states.
     */
    @Test
    void embeddingGemmaAttendsBothWays() throws Exception {
        ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open("embeddinggemma");
        int[][] ids = f.ids("input_ids");
        try (Weights w = Pretrained.loadEncoder(f.dir(), CPU, DType.F32)) {
            assertTrue(w.config.bidirectional());
            Transformer m = new Transformer(w, CPU);
            List<float[][]> h = m.lastHiddenStates(List.of(ids[0], ids[1]));
            f.near("last_hidden_state", new float[][][] {h.get(0), h.get(1)});
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.logits(ids));
            assertTrue(e.getMessage().contains("bidirectional"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> m.newState(1, 16));
            assertTrue(e.getMessage().contains("bidirectional"), e.getMessage());
        }
        Path dir = Files.createDirectories(tmp.resolve("embeddinggemma-st"));
        for (String file : List.of("config.json", "model.safetensors")) Files.copy(f.dir().resolve(file), dir.resolve(file));
        Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}, {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": "
                + "\"sentence_transformers.models.Dense\"}, {\"idx\": 3, \"name\": \"3\", \"path\": \"3_Dense\", \"type\": "
                + "\"sentence_transformers.models.Dense\"}, {\"idx\": 4, \"name\": \"4\", \"path\": \"4_Normalize\", \"type\": "
                + "\"sentence_transformers.models.Normalize\"}]");
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 32, \"pooling_mode_mean_tokens\": true}");
        String identity = "torch.nn.modules.linear.Identity";
        float[] w1 = EncoderApiTest.denseModule(dir.resolve("2_Dense"), 32, 48, false, identity, 21)[0];
        float[] w2 = EncoderApiTest.denseModule(dir.resolve("3_Dense"), 48, 32, false, identity, 22)[0];
        Path tokenizer = eosTokenizer(dir);
        SentencePooling pooling = SentencePooling.read(dir);
        List<String> texts = List.of("w5 w9 w200 w31", "w17 w18");
        try (HfTokenizer tok = HfTokenizer.load(tokenizer); Weights w = Pretrained.loadEncoder(pooling.modelDir(), CPU, DType.F32)) {
            Transformer m = new Transformer(w, CPU);
            float[][] got = new TextEncoder(m, tok, pooling).embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                float[][] h = m.lastHiddenStates(List.of(tok.encode(texts.get(i)))).get(0);
                double[] mean = new double[32], a = new double[48], o = new double[32];
                for (float[] row : h) for (int x = 0; x < 32; x++) mean[x] += row[x] / (double) h.length;
                for (int r = 0; r < 48; r++) for (int x = 0; x < 32; x++) a[r] += (double) w1[r * 32 + x] * mean[x];
                double n = 0;
                for (int r = 0; r < 32; r++) {
                    for (int x = 0; x < 48; x++) o[r] += (double) w2[r * 48 + x] * a[x];
                    n += o[r] * o[r];
                }
                float[] want = new float[32];
                for (int r = 0; r < 32; r++) want[r] = (float) (o[r] / Math.sqrt(n));
                assertArrayEquals(want, got[i], 2e-6f, "text " + i);
            }
        }
    }

    /** A WordPiece tokenizer.json over "w0".."w254" with "<|endoftext|>" at 255 appended to every sequence (TemplateProcessing). */
    static Path eosTokenizer(Path dir) throws Exception {
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < 255; i++) vocab.append(i == 0 ? "" : ", ").append("\"w").append(i).append("\": ").append(i);
        vocab.append(", \"<|endoftext|>\": 255");
        String json = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [{\"id\": 255, \"content\":"
                + " \"<|endoftext|>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}],"
                + " \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"},"
                + " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}},"
                + " {\"SpecialToken\": {\"id\": \"<|endoftext|>\", \"type_id\": 0}}], \"pair\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}},"
                + " {\"SpecialToken\": {\"id\": \"<|endoftext|>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}},"
                + " {\"SpecialToken\": {\"id\": \"<|endoftext|>\", \"type_id\": 1}}], \"special_tokens\": {\"<|endoftext|>\":"
                + " {\"id\": \"<|endoftext|>\", \"ids\": [255], \"tokens\": [\"<|endoftext|>\"]}}},"
                + " \"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true},"
                + " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"<|endoftext|>\", \"continuing_subword_prefix\": \"##\","
                + " \"max_input_chars_per_word\": 100, \"vocab\": {" + vocab + "}}}";
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        return f;
    }
}
