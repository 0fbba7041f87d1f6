// ReferenceFixturesTest — the Hugging Face loaders against the project's independent float64 reference
// (ci/reference/: numpy forward passes written from transformers' modeling code, sharing no code with this
// library). Each folder under the test resources' reference/ is a tiny random checkpoint in the exact HF
// layout with the reference's outputs (reference.safetensors, float64 rounded to F32) and inputs (reference.json); it is
// loaded with Pretrained.load on the CPU backend in fp32 and must match within 2e-5 × max|ref| per
// output, and its greedy continuation (KV cache, Generator) must equal the reference's (full
// recomputation) for as long as the reference's top-2 margin is clear. Regenerate the folders with
// `python3 ci/reference/make_fixtures.py`; check the harness with `python3 ci/reference/selfcheck.py`.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.runtime.CpuBackend;

class ReferenceFixturesTest {

    /** The folders the loaders of this build read, each checked by a test below. */
    static final List<String> CHECKED = List.of("gpt2", "bert", "t5-v1_0", "t5-v1_1", "qwen3-fp8", "llama-fp8-dynamic", "mistral-fp8-static", "qwen2-awq", "llama-gptq", "qwen2-gptq-int8", "gemma3-fp8-dynamic",
            "llama", "llama-head-dim", "llama-rope-linear", "llama-rope-dynamic", "llama-rope-llama3", "llama-rope-llama3-v5",
            "mistral", "qwen2", "qwen2-v5", "qwen3", "phi3", "gemma", "qwen2-yarn", "llama-rope-yarn-v5", "phi3-longrope", "gemma2",
            "gemma3-text", "gemma3-text-v5", "gemma3-multimodal", "granite", "smollm3", "olmo", "olmo2", "olmo3", "bert-mlm", "bert-pretraining", "bert-seqcls", "bert-tokcls", "bert-gamma-beta", "bert-hs16", "bert-hs80",
            "roberta", "xlm-roberta-seqcls", "distilbert", "bert-crossencoder", "roberta-mlm", "distilbert-seqcls",
            "distilbert-mlm", "distilbert-tokcls", "roberta-tokcls", "distilbert-mlm-untied", "modernbert", "modernbert-v5", "modernbert-mlm",
            "modernbert-seqcls", "mixtral", "mixtral-v5", "qwen2-moe", "qwen3-moe", "olmoe", "mpnet", "mpnet-mlm", "mpnet-seqcls",
            "mpnet-tokcls", "electra", "electra-seqcls", "electra-tokcls", "albert", "albert-groups", "albert-mlm", "albert-seqcls", "deberta-v3", "deberta-v3-seqcls", "deberta-v2-tokcls",
            "embeddinggemma", "camembert-seqcls", "gpt-oss", "gpt-oss-v5", "gpt-neox", "gpt-neox-sequential-v5", "phi", "stablelm", "stablelm-parallel", "starcoder2", "opt", "opt-350m", "gptj", "codegen", "gpt-bigcode", "falcon", "falcon-new", "bloom", "mpt", "falcon-rw", "gpt-neo", "gpt-neo-local-first", "cohere", "cohere2", "glm", "glm4", "exaone4", "ernie4_5", "seed-oss",
            "bart", "bart-seqcls", "mbart", "marian", "pegasus", "m2m100", "deepseek-v2-lite", "deepseek-v2", "deepseek-v3", "glm4-moe", "nemotron", "ernie4_5-moe", "granitemoe", "granitemoeshared", "arcee", "dots1");

    /**
     * Folders made for loaders that do not exist yet, by the issue that adds them; that issue moves each
     * into {@link #CHECKED} with its test. A folder in neither list fails {@link #everyFixtureIsCheckedOrAwaitsItsLoader}.
     */
    static final Map<String, String> AWAITING = Map.of();

    static final double TOLERANCE = 2e-5;

    /** A greedy step is compared while the reference's top-1 − top-2 logit gap exceeds this many times the tolerance. */
    static final double CLEAR_MARGIN = 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    static Path root() throws URISyntaxException {
        URL url = ReferenceFixturesTest.class.getResource("/reference");
        if (url == null || !"file".equals(url.getProtocol())) throw new AssertionError("test resources have no reference/ folder");
        return Path.of(url.toURI());
    }

    @Test
    void everyFixtureIsCheckedOrAwaitsItsLoader() throws Exception {
        TreeSet<String> found = new TreeSet<>();
        try (Stream<Path> s = Files.list(root())) {
            s.filter(Files::isDirectory).forEach(p -> found.add(p.getFileName().toString()));
        }
        TreeSet<String> known = new TreeSet<>(CHECKED);
        known.addAll(AWAITING.keySet());
        assertEquals(known, found, "reference/ folders vs the lists in ReferenceFixturesTest");
    }

    @Test
    void gpt2MatchesTheReference() throws Exception {
        Fixture f = Fixture.open("gpt2");
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            f.near("logits", m.logits(f.ids("input_ids")));
            f.greedy(new Generator(m));
        }
    }

    @Test
    void bertMatchesTheReferenceWithItsPooler() throws Exception {
        Fixture f = Fixture.open("bert");
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            float[][][] h = m.encode(f.ids("input_ids"));
            f.near("last_hidden_state", h);
            assertTrue(w.classifierHead != null, "bert: the folder's pooler was not loaded");
            float[] pw = w.classifierHead.pooler().toFloatArray(), pb = w.classifierHead.poolerBias().toFloatArray();
            int c = pb.length;
            float[][][] pooled = new float[1][h.length][c];                // BertPooler: tanh(dense(h[:, 0])), in double here
            for (int b = 0; b < h.length; b++) {
                for (int o = 0; o < c; o++) {
                    double s = pb[o];
                    for (int i = 0; i < c; i++) s += (double) pw[o * c + i] * h[b][0][i];
                    pooled[0][b][o] = (float) Math.tanh(s);
                }
            }
            f.near("pooler_output", pooled);
        }
    }

    // ---- encoders with their heads (issue 14): token types, padded rows with a mask, every head ----

    /** The fixture's (B, T) input, or null when reference.json does not give it. */
    private static int[][] optional(Fixture f, String input) {
        return f.ref.get("inputs").has(input) ? f.ids(input) : null;
    }

    /** Loads the folder and checks last_hidden_state plus each of the named outputs the reference has. */
    private static void encoderFixture(String name) throws Exception {
        Fixture f = Fixture.open(name);
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            int[][] ids = f.ids("input_ids"), types = optional(f, "token_type_ids"), mask = optional(f, "attention_mask");
            JsonNode outs = f.ref.get("outputs");
            List<org.junit.jupiter.api.function.Executable> checks = new java.util.ArrayList<>();
            checks.add(() -> f.near("last_hidden_state", m.encode(ids, types, mask)));
            if (outs.has("pooler_output")) checks.add(() -> f.near("pooler_output", new float[][][] {m.pooledOutput(ids, types, mask)}));
            if (outs.has("prediction_logits")) checks.add(() -> f.near("prediction_logits", m.maskedLmLogits(ids, types, mask)));
            if (outs.has("seq_relationship_logits")) {
                checks.add(() -> f.near("seq_relationship_logits", new float[][][] {m.nextSentenceLogits(ids, types, mask)}));
            }
            if (outs.has("logits")) {
                int rank = outs.get("logits").size();
                if (rank == 3 && w.tokenClassifier != null) checks.add(() -> f.near("logits", m.classifyTokens(ids, types, mask)));
                else if (rank == 3) checks.add(() -> f.near("logits", m.maskedLmLogits(ids, types, mask)));
                else checks.add(() -> f.near("logits", new float[][][] {m.classify(ids, types, mask)}));
            }
            assertAll(checks.stream());
        }
    }

    @Test
    void bertMaskedLmFolderGivesTheMaskedLmHead() throws Exception { encoderFixture("bert-mlm"); }

    @Test
    void bertPreTrainingFolderGivesMaskedLmAndNextSentenceHeads() throws Exception { encoderFixture("bert-pretraining"); }

    @Test
    void bertSequenceClassificationWithSentencePairs() throws Exception {
        encoderFixture("bert-seqcls");
        try (Weights w = Pretrained.load(Fixture.open("bert-seqcls").dir, new CpuBackend())) {
            assertEquals(List.of("contradiction", "entailment", "neutral"), w.encoderInfo.labels());
        }
    }

    @Test
    void bertTokenClassification() throws Exception { encoderFixture("bert-tokcls"); }

    @Test
    void bertCrossEncoderWithOneLabel() throws Exception { encoderFixture("bert-crossencoder"); }

    @Test
    void bertTfEraGammaBetaNames() throws Exception { encoderFixture("bert-gamma-beta"); }

    @Test
    void bertHeadSize16() throws Exception { encoderFixture("bert-hs16"); }

    @Test
    void bertHeadSize80() throws Exception { encoderFixture("bert-hs80"); }

    @Test
    void robertaPositionsStartAfterThePaddingId() throws Exception { encoderFixture("roberta"); }

    @Test
    void xlmRobertaSequenceClassification() throws Exception { encoderFixture("xlm-roberta-seqcls"); }

    @Test
    void distilbert() throws Exception { encoderFixture("distilbert"); }

    @Test
    void robertaMaskedLm() throws Exception { encoderFixture("roberta-mlm"); }

    /** CamemBERT (model_type camembert): RoBERTa's model under roberta., positions after pad id 1, the classification head. */
    @Test
    void camembertSequenceClassification() throws Exception {
        encoderFixture("camembert-seqcls");
        try (Weights w = Pretrained.load(Fixture.open("camembert-seqcls").dir, new CpuBackend())) {
            assertEquals(List.of("négatif", "positif"), w.encoderInfo.labels());
        }
    }

    /**
     * RobertaLMHead calls the exact gelu whatever hidden_act says: the roberta-mlm folder with hidden_act gelu_new (its
     * layers then differ from the reference's) must still apply its head as dense, exact gelu, LayerNorm, tied decoder
     * + bias — checked in float64 here on the model's own last hidden state.
     */
    @Test
    void robertaMaskedLmHeadUsesExactGeluWhateverHiddenActSays(@TempDir Path tmp) throws Exception {
        Path dir = Fixture.open("roberta-mlm").dir;
        Files.copy(dir.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        String cfg = Files.readString(dir.resolve("config.json"));
        assertTrue(cfg.contains("\"hidden_act\": \"gelu\""), "the fixture's config names hidden_act gelu");
        Files.writeString(tmp.resolve("config.json"), cfg.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"gelu_new\""));
        try (Weights w = Pretrained.load(tmp, new CpuBackend())) {
            maskedLmHeadIs(w, Fixture.open("roberta-mlm"), w.outputMatrix().toFloatArray());
        }
    }

    /**
     * BertForMaskedLM and RobertaForMaskedLM with tie_word_embeddings false multiply by their own stored decoder matrix
     * (here a random one written into a copy of the fixture), not the token table; untied without it, the folder is
     * refused in one line naming the key.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({"bert-mlm, cls.predictions.decoder.weight", "roberta-mlm, lm_head.decoder.weight"})
    void untiedMaskedLmDecoderIsTheStoredMatrix(String name, String key, @TempDir Path tmp) throws Exception {
        Fixture f = Fixture.open(name);
        String cfg = Files.readString(f.dir.resolve("config.json"));
        Files.writeString(tmp.resolve("config.json"), cfg.replaceFirst("\\{", "{\n  \"tie_word_embeddings\": false,"));
        Map<String, org.transformer4j.runtime.Tensor> tensors = new java.util.LinkedHashMap<>();
        float[] decoder;
        try (SafetensorsFile file = SafetensorsFile.open(f.dir.resolve("model.safetensors"))) {
            for (String k : file.names()) tensors.put(k, file.tensor(k));
            org.transformer4j.runtime.Tensor table = tensors.entrySet().stream().filter(e -> e.getKey().endsWith("word_embeddings.weight"))
                    .findFirst().orElseThrow().getValue();
            java.util.SplittableRandom r = new java.util.SplittableRandom(3);
            decoder = new float[(int) table.numel()];
            for (int i = 0; i < decoder.length; i++) decoder[i] = (float) (r.nextDouble(-1, 1) * 0.3);
            try (org.transformer4j.runtime.Tensor d = org.transformer4j.runtime.Tensor.ofFloats(decoder, table.shape())) {
                org.transformer4j.model.weights.SafetensorsWriter.write(tmp.resolve("without.safetensors"), tensors, Map.of("format", "pt"));
                tensors.put(key, d);
                org.transformer4j.model.weights.SafetensorsWriter.write(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            }
        }
        try (Weights w = Pretrained.load(tmp, new CpuBackend())) {
            maskedLmHeadIs(w, f, decoder);
        }
        Files.move(tmp.resolve("without.safetensors"), tmp.resolve("model.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Pretrained.load(tmp, new CpuBackend()));
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }

    /**
     * The masked-LM logits of w on the fixture's input equal, in float64 on the model's own last hidden state, dense +
     * bias, the head's activation (exact gelu for RoBERTa's RobertaLMHead, hidden_act for BERT), LayerNorm, decoder + bias.
     */
    private static void maskedLmHeadIs(Weights w, Fixture f, float[] dec) throws Exception {
        Transformer m = new Transformer(w, new CpuBackend());
        int[][] ids = f.ids("input_ids"), types = optional(f, "token_type_ids"), mask = optional(f, "attention_mask");
        float[][][] h = m.encode(ids, types, mask), got = m.maskedLmLogits(ids, types, mask);
        float[] dense = w.mlmHead.dense().toFloatArray(), db = w.mlmHead.denseBias().toFloatArray();
        float[] g = w.mlmHead.norm().weight().toFloatArray(), beta = w.mlmHead.norm().bias().toFloatArray();
        float[] ob = w.mlmHead.outputBias().toFloatArray();
        int c = db.length, v = ob.length;
        double eps = w.config.normEps(), worst = 0, maxRef = 0;
        for (int b = 0; b < ids.length; b++) {
            for (int t = 0; t < ids[b].length; t++) {
                double[] x = new double[c];
                double mean = 0, var = 0;
                for (int i = 0; i < c; i++) {
                    double z = db[i];
                    for (int j = 0; j < c; j++) z += (double) dense[i * c + j] * h[b][t][j];
                    x[i] = 0.5 * z * (1 + org.transformer4j.runtime.reference.Oracle.erf(z / Math.sqrt(2)));   // exact gelu
                    mean += x[i] / c;
                }
                for (int i = 0; i < c; i++) var += (x[i] - mean) * (x[i] - mean) / c;
                for (int i = 0; i < c; i++) x[i] = (x[i] - mean) / Math.sqrt(var + eps) * g[i] + beta[i];
                for (int o = 0; o < v; o++) {
                    double y = ob[o];
                    for (int i = 0; i < c; i++) y += (double) dec[o * c + i] * x[i];
                    worst = Math.max(worst, Math.abs(y - got[b][t][o]));
                    maxRef = Math.max(maxRef, Math.abs(y));
                }
            }
        }
        assertTrue(worst <= TOLERANCE * maxRef, "max abs diff " + worst + " > " + TOLERANCE + " × max|ref| (" + maxRef + ")");
    }

    /**
     * ModernBERT (4.x and 5.x config layouts, the bare model, its masked-LM head and a mean-pooled classifier): RoPE with
     * the global theta on layers 0 and 2 and the local one on layer 1, whose window reaches 4 keys on either side; no
     * attention norm in layer 0; GeGLU; the second row right-padded by 4. Compared at the tokens: transformers'
     * attention implementations disagree at padding positions (its flash path leaves zeros there, as this library does).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"modernbert", "modernbert-v5", "modernbert-mlm", "modernbert-seqcls"})
    void modernBertMatchesTheReference(String name) throws Exception {
        Fixture f = Fixture.open(name);
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            int[][] ids = f.ids("input_ids"), mask = optional(f, "attention_mask");
            JsonNode outs = f.ref.get("outputs");
            List<org.junit.jupiter.api.function.Executable> checks = new java.util.ArrayList<>();
            checks.add(() -> f.nearAtTokens("last_hidden_state", m.encode(ids, null, mask), mask));
            if (name.endsWith("-mlm")) checks.add(() -> f.nearAtTokens("logits", m.maskedLmLogits(ids, null, mask), mask));
            if (name.endsWith("-seqcls")) {
                checks.add(() -> f.near("logits", new float[][][] {m.classify(ids, null, mask)}));
                assertEquals(List.of("negative", "neutral", "positive"), w.encoderInfo.labels());
            }
            assertTrue(outs.has("last_hidden_state"));
            assertAll(checks.stream());
        }
    }

    /**
     * MPNet (all-mpnet-base-v2's layout: no prefix, pooler, architectures MPNetForMaskedLM without head tensors; the
     * masked-LM head with hidden_act gelu_new in the layers and the exact gelu in the head; the sequence classifier
     * with a 40-row bias table of which the first 32 rows are used; the token classifier): learned positions after
     * padding_idx 1 and the relative bias of T5's bidirectional buckets shared by every layer. Row 0 of {@code mpnet}
     * is 136 tokens, past max_distance 128. Compared at the tokens: padded rows run as packed sequences, their padding
     * positions 0.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"mpnet", "mpnet-mlm", "mpnet-seqcls", "mpnet-tokcls"})
    void mpnetMatchesTheReference(String name) throws Exception {
        Fixture f = Fixture.open(name);
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            int[][] ids = f.ids("input_ids"), mask = optional(f, "attention_mask");
            assertTrue(mask != null && Arrays.stream(mask).anyMatch(r -> Arrays.stream(r).anyMatch(v -> v == 0)), "padded rows");
            List<org.junit.jupiter.api.function.Executable> checks = new java.util.ArrayList<>();
            checks.add(() -> f.nearAtTokens("last_hidden_state", m.encode(ids, null, mask), mask));
            switch (name) {
                case "mpnet" -> checks.add(() -> f.near("pooler_output", new float[][][] {m.pooledOutput(ids, null, mask)}));
                case "mpnet-mlm" -> checks.add(() -> f.nearAtTokens("logits", m.maskedLmLogits(ids, null, mask), mask));
                case "mpnet-seqcls" -> {
                    checks.add(() -> f.near("logits", new float[][][] {m.classify(ids, null, mask)}));
                    assertEquals(List.of("negative", "neutral", "positive"), w.encoderInfo.labels());
                    assertEquals(32, w.encoder.relativeBias().shape(0), "the buckets compute_position_bias uses");
                }
                default -> checks.add(() -> f.nearAtTokens("logits", m.classifyTokens(ids, null, mask), mask));
            }
            // packed sequences: each row's visible tokens alone
            List<int[]> rows = new java.util.ArrayList<>();
            for (int b = 0; b < ids.length; b++) rows.add(Arrays.copyOf(ids[b], Arrays.stream(mask[b]).sum()));
            checks.add(() -> {
                List<float[][]> packed = m.encodePacked(rows);
                float[][][] h = m.encode(ids, null, mask);
                for (int b = 0; b < ids.length; b++) {
                    for (int t = 0; t < rows.get(b).length; t++) assertArrayEquals(h[b][t], packed.get(b)[t], 1e-5f, "row " + b + " token " + t);
                }
                // each row alone without a mask: the dense path with the bias (no packing)
                for (int b = 0; b < ids.length; b++) {
                    float[][] alone = m.encode(new int[][] {rows.get(b)}, null, null)[0];
                    for (int t = 0; t < alone.length; t++) assertArrayEquals(h[b][t], alone[t], 1e-5f, "row " + b + " alone, token " + t);
                }
            });
            assertAll(checks.stream());
        }
    }

    /**
     * ELECTRA: google/electra-small-discriminator's layout (ElectraForPreTraining, embedding_size 16 projected to 32; its
     * discriminator head stored and left out), ms-marco-electra-base's (a one-label ElectraForSequenceClassification, no
     * projection; the head's dense, exact gelu, out_proj) and a token classifier; sentence pairs with token types, padded
     * rows (padding positions as transformers computes them: the rows keep absolute positions).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"electra", "electra-seqcls", "electra-tokcls"})
    void electraMatchesTheReference(String name) throws Exception {
        encoderFixture(name);
        try (Weights w = Pretrained.load(Fixture.open(name).dir, new CpuBackend())) {
            assertEquals(name.equals("electra-seqcls"), w.embeddings.project() == null, "embeddings_project where embedding_size differs");
            assertEquals(name.equals("electra-seqcls"), w.classifierHead != null);
            assertEquals(name.equals("electra-tokcls"), w.tokenClassifier != null);
        }
    }

    /**
     * ALBERT: albert-base-v2's layout (AlbertModel without a prefix, F32, one group of one layer shared by all three,
     * embedding_size 16 projected to 32), two groups of two inner layers over four layers (embedding_size = hidden_size,
     * still projected), AlbertForMaskedLM (its head at embedding_size, the decoder tied, predictions.bias) and a 3-label
     * AlbertForSequenceClassification (classifier on the tanh pooler); sentence pairs, padded rows. Shared layers hold
     * the same tensors, loaded once.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"albert", "albert-groups", "albert-mlm", "albert-seqcls"})
    void albertMatchesTheReference(String name) throws Exception {
        encoderFixture(name);
        try (Weights w = Pretrained.load(Fixture.open(name).dir, new CpuBackend())) {
            assertTrue(w.embeddings.project() != null, "embedding_hidden_mapping_in");
            List<Weights.Layer> layers = w.encoder.layers();
            boolean groups = name.equals("albert-groups");
            assertEquals(groups ? 8 : 3, layers.size(), "num_hidden_layers · inner_group_num");
            // albert-groups runs (group, inner) 0.0 0.1 0.0 0.1 1.0 1.1 1.0 1.1; the others one shared layer
            assertTrue(layers.get(0).self().q() == layers.get(2).self().q() && layers.get(0).mlp().down() == layers.get(2).mlp().down());
            assertEquals(!groups, layers.get(0).self().q() == layers.get(1).self().q());
            if (groups) assertTrue(layers.get(0).self().q() != layers.get(4).self().q() && layers.get(4).self().q() == layers.get(6).self().q());
            long distinct = w.parameters().values().stream().map(System::identityHashCode).distinct().count();
            assertEquals(w.parameters().size(), distinct, "each stored tensor once");
            assertEquals(name.equals("albert-mlm"), w.mlmHead != null);
            assertEquals(name.equals("albert-seqcls"), w.classifierHead != null && w.classifierHead.classifier() != null);
        }
    }

    /**
     * DeBERTa-v2 / v3: the disentangled attention (c2p and p2c gathered at each pair's log-bucket column) against the float64
     * reference, at the tokens (padded rows run packed). deberta-v3: v3-base's config, distances to the table's last column;
     * deberta-v3-seqcls: the ContextPooler (dense, exact gelu) and an NLI classifier with its labels, pos_att_type as a list;
     * deberta-v2-tokcls: pos_key_proj / pos_query_proj, unbucketed clamped distances, absolute positions and token types.
     * Each row alone (no mask) and the packed rows give the padded batch's states.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"deberta-v3", "deberta-v3-seqcls", "deberta-v2-tokcls"})
    void debertaMatchesTheReference(String name) throws Exception {
        Fixture f = Fixture.open(name);
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            int[][] ids = f.ids("input_ids"), types = optional(f, "token_type_ids"), mask = optional(f, "attention_mask");
            List<org.junit.jupiter.api.function.Executable> checks = new java.util.ArrayList<>();
            checks.add(() -> f.nearAtTokens("last_hidden_state", m.encode(ids, types, mask), mask));
            switch (name) {
                case "deberta-v3-seqcls" -> {
                    checks.add(() -> f.near("logits", new float[][][] {m.classify(ids, types, mask)}));
                    assertEquals(List.of("entailment", "neutral", "contradiction"), w.encoderInfo.labels());
                }
                case "deberta-v2-tokcls" -> {
                    checks.add(() -> f.nearAtTokens("logits", m.classifyTokens(ids, types, mask), mask));
                    assertTrue(w.embeddings.positions() != null && w.embeddings.types() != null, "absolute positions and token types");
                    assertTrue(w.encoder.relative().own() != null, "pos_key_proj / pos_query_proj");
                }
                default -> assertEquals(null, w.embeddings.positions(), "position_biased_input false: no position table");
            }
            List<int[]> rows = new java.util.ArrayList<>(), rowTypes = new java.util.ArrayList<>();
            for (int b = 0; b < ids.length; b++) {
                int n = Arrays.stream(mask[b]).sum();
                rows.add(Arrays.copyOf(ids[b], n));
                rowTypes.add(types == null ? new int[n] : Arrays.copyOf(types[b], n));
            }
            checks.add(() -> {
                float[][][] h = m.encode(ids, types, mask);
                List<float[][]> packed = m.encodePacked(rows, w.embeddings.types() == null ? null : rowTypes);
                for (int b = 0; b < ids.length; b++) {
                    float[][] alone = m.encode(new int[][] {rows.get(b)}, types == null ? null : new int[][] {rowTypes.get(b)}, null)[0];
                    for (int t = 0; t < rows.get(b).length; t++) {
                        assertArrayEquals(h[b][t], packed.get(b)[t], 1e-5f, "row " + b + " token " + t + " packed");
                        assertArrayEquals(h[b][t], alone[t], 1e-5f, "row " + b + " token " + t + " alone");
                    }
                }
            });
            assertAll(checks.stream());
        }
    }

    /**
     * What published DeBERTa-v3 checkpoints carry beside the model: a position table although position_biased_input is
     * false (transformers ignores it), and the pre-training heads (masked LM under lm_predictions., replaced-token detection
     * under mask_predictions.). The folder loads, ignores them, and gives the reference's states.
     */
    @Test
    void debertaIgnoresThePublishedCheckpointsExtras(@TempDir Path tmp) throws Exception {
        Fixture f = Fixture.open("deberta-v3");
        Files.copy(f.dir.resolve("config.json"), tmp.resolve("config.json"));
        int c = 32, v = 128;
        java.util.Map<String, org.transformer4j.runtime.Tensor> tensors = new java.util.LinkedHashMap<>();
        try (org.transformer4j.model.weights.SafetensorsFile file = org.transformer4j.model.weights.SafetensorsFile.open(f.dir.resolve("model.safetensors"))) {
            for (String key : file.names()) tensors.put("deberta." + key, file.tensor(key));
            java.util.function.BiConsumer<String, long[]> extra = (name, shape) -> tensors.put(name,
                    org.transformer4j.runtime.Tensor.ofFloats(new float[(int) Arrays.stream(shape).reduce(1, (x, y) -> x * y)], shape));
            extra.accept("deberta.embeddings.position_embeddings.weight", new long[] {40, c});
            for (String p : List.of("lm_predictions.lm_head.dense", "mask_predictions.dense")) {
                extra.accept(p + ".weight", new long[] {c, c});
                extra.accept(p + ".bias", new long[] {c});
            }
            for (String p : List.of("lm_predictions.lm_head.LayerNorm", "mask_predictions.LayerNorm")) {
                extra.accept(p + ".weight", new long[] {c});
                extra.accept(p + ".bias", new long[] {c});
            }
            extra.accept("lm_predictions.lm_head.bias", new long[] {v});
            extra.accept("mask_predictions.classifier.weight", new long[] {1, c});
            extra.accept("mask_predictions.classifier.bias", new long[] {1});
            org.transformer4j.model.weights.SafetensorsWriter.write(tmp.resolve("model.safetensors"), tensors, java.util.Map.of("format", "pt"));
        }
        try (Weights w = Pretrained.load(tmp, new CpuBackend())) {
            assertEquals(null, w.embeddings.positions(), "the stored position table is not used");
            int[][] ids = f.ids("input_ids"), mask = optional(f, "attention_mask");
            f.nearAtTokens("last_hidden_state", new Transformer(w, new CpuBackend()).encode(ids, null, mask), mask);
        }
    }

    /** DeBERTa: rows padded at the front are refused in one line; v1 folders and v2's ConvLayer are refused by name. */
    @Test
    void debertaRefusesWhatItDoesNotRun(@TempDir Path tmp) throws Exception {
        Fixture f = Fixture.open("deberta-v3");
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            var e = assertThrows(IllegalArgumentException.class, () -> m.encode(new int[][] {{0, 0, 1, 7, 9, 2}}, null,
                    new int[][] {{0, 0, 1, 1, 1, 1}}));
            assertTrue(e.getMessage().contains("rows padded other than at the end"), e.getMessage());
        }
        Files.copy(f.dir.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        String cfg = Files.readString(f.dir.resolve("config.json"));
        Files.writeString(tmp.resolve("config.json"), cfg.replace("\"deberta-v2\"", "\"deberta\""));
        var v1 = assertThrows(CheckpointException.class, () -> Pretrained.load(tmp, new CpuBackend()));
        assertTrue(v1.getMessage().contains("DeBERTa v1"), v1.getMessage());
        Files.writeString(tmp.resolve("config.json"), cfg.replace("\"hidden_act\"", "\"conv_kernel_size\": 3, \"hidden_act\""));
        var conv = assertThrows(CheckpointException.class, () -> Pretrained.load(tmp, new CpuBackend()));
        assertTrue(conv.getMessage().contains("ConvLayer"), conv.getMessage());
        assertEquals(1, conv.getMessage().lines().count(), conv.getMessage());
    }

    /** MPNet's rows padded at the front are refused in one line (the relative bias needs each row's tokens from 0). */
    @Test
    void mpnetRefusesRowsPaddedAtTheFront() throws Exception {
        Fixture f = Fixture.open("mpnet-tokcls");
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            int[][] ids = {{1, 1, 0, 7, 9, 2}}, mask = {{0, 0, 1, 1, 1, 1}};
            var e = assertThrows(IllegalArgumentException.class, () -> m.encode(ids, null, mask));
            assertTrue(e.getMessage().contains("relative positions") && e.getMessage().contains("at the end"), e.getMessage());
        }
    }

    @Test
    void distilbertSequenceClassificationWithItsReluHead() throws Exception { encoderFixture("distilbert-seqcls"); }

    /** DistilBertForMaskedLM: vocab_transform, GELU, vocab_layer_norm (eps 1e-12), the tied vocab_projector + its bias. */
    @Test
    void distilbertMaskedLm() throws Exception { encoderFixture("distilbert-mlm"); }

    /**
     * DistilBertForMaskedLM with tie_word_embeddings false: its stored vocab_projector.weight, not the token table;
     * an untied folder without that matrix is refused in one line naming it.
     */
    @Test
    void distilbertMaskedLmUntiedUsesItsOwnProjector(@TempDir Path tmp) throws Exception {
        encoderFixture("distilbert-mlm-untied");
        Path tied = Fixture.open("distilbert-mlm").dir;                     // saved tied: no vocab_projector.weight
        Files.copy(tied.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        Files.writeString(tmp.resolve("config.json"), Files.readString(tied.resolve("config.json"))
                .replace("\"activation\"", "\"tie_word_embeddings\": false, \"activation\""));
        var e = assertThrows(CheckpointException.class, () -> Pretrained.load(tmp, new CpuBackend()));
        assertTrue(e.getMessage().contains("vocab_projector.weight"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    /** DistilBertForTokenClassification: the classifier on every row, labels from id2label. */
    @Test
    void distilbertTokenClassification() throws Exception { tokenClassification("distilbert-tokcls"); }

    /** RobertaForTokenClassification: the classifier on every row, labels from id2label. */
    @Test
    void robertaTokenClassification() throws Exception { tokenClassification("roberta-tokcls"); }

    /** One test per folder: a failure in one family's head never hides the other's. */
    private static void tokenClassification(String name) throws Exception {
        encoderFixture(name);
        try (Weights w = Pretrained.load(Fixture.open(name).dir, new CpuBackend())) {
            assertEquals(List.of("O", "B-PER", "I-PER", "B-LOC", "I-LOC"), w.encoderInfo.labels(), name + " labels");
        }
    }

    @Test
    void t5V10MatchesTheReference() throws Exception {
        t5("t5-v1_0");
    }

    @Test
    void t5V11MatchesTheReference() throws Exception {
        t5("t5-v1_1");
    }

    /**
     * The RoPE decoders (llama with GQA / head_dim / biases / each rope scaling, both config layouts; mistral
     * and qwen2 with sliding windows; qwen3's q/k norms; phi3's fused tensors and partial rotary; gemma's
     * (1 + w) norms, scaled embeddings, GELU-tanh and head size 256; gemma2's soft-capped attention and logits,
     * query_pre_attn_scalar, extra norms and alternating windows; gemma3-text's q/k norms and RoPE per layer type
     * (local base on sliding layers, linear-scaled global base on full ones) in both layouts; yarn in both layouts and LongRoPE with
     * its short and long factors and attention factors): logits of the full pass, and greedy decoding through
     * the KV cache. Dynamic NTK's cached decoding follows
     * transformers' cache (keys keep the frequencies of their step), not the reference's recomputation, past
     * max_position_embeddings: its greedy check is the prefill's token only (see DecoderCacheTest).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"llama", "llama-head-dim", "llama-rope-linear", "llama-rope-dynamic",
            "llama-rope-llama3", "llama-rope-llama3-v5", "mistral", "qwen2", "qwen2-v5", "qwen3", "phi3", "gemma",
            "qwen2-yarn", "llama-rope-yarn-v5", "phi3-longrope", "gemma2", "gemma3-text", "gemma3-text-v5",
            "granite", "smollm3", "olmo", "olmo2", "olmo3", "gemma3-multimodal", "mixtral", "mixtral-v5", "qwen2-moe", "qwen3-moe", "olmoe",
            "gpt-oss", "gpt-oss-v5", "qwen3-fp8", "llama-fp8-dynamic", "mistral-fp8-static", "qwen2-awq", "llama-gptq", "qwen2-gptq-int8", "gemma3-fp8-dynamic",
            "gpt-neox", "gpt-neox-sequential-v5", "phi", "stablelm", "stablelm-parallel", "starcoder2", "opt", "opt-350m", "gptj", "codegen", "gpt-bigcode", "falcon", "falcon-new", "bloom", "mpt", "falcon-rw", "gpt-neo", "gpt-neo-local-first", "cohere", "cohere2", "glm", "glm4", "exaone4", "ernie4_5", "seed-oss",
            "deepseek-v2-lite", "deepseek-v2", "deepseek-v3", "glm4-moe", "nemotron", "ernie4_5-moe", "granitemoe", "granitemoeshared", "arcee", "dots1"})
    void ropeDecoderMatchesTheReference(String name) throws Exception {
        Fixture f = Fixture.open(name);
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            f.near("logits", m.logits(f.ids("input_ids")));
            if (f.ref.get("inputs").has("short_input_ids")) {
                // LongRoPE: 12 positions stay within the original 16, so this pass takes the short factors
                f.near("short_logits", m.logits(f.ids("short_input_ids")));
            }
            if (w.config.rope() != null && w.config.rope().scaling() == TransformerConfig.Rope.Scaling.DYNAMIC) {
                // The prompt (24) is past max_position_embeddings (16): the prefill's frequencies are those of
                // its length, as the reference's; later steps keep the cached keys' (transformers' cache).
                f.greedy(new Generator(m), 1);
            } else {
                f.greedy(new Generator(m));
            }
        }
    }

    /**
     * qwen2's greedy runs under the sampling penalties (the harness's greedy_penalized, float64 by full recomputation:
     * transformers' RepetitionPenaltyLogitsProcessor over the prompt and the new tokens — Qwen2.5-Instruct's 1.05, and
     * 2.0 — and 1.3 with vLLM's presence 0.4 and frequency 0.3 over the new tokens): the Generator's tokens (KV cache,
     * fp32, PenaltyOp on the CPU backend) equal the reference's while its top-2 margin is clear. The 1.05 run leaves
     * plain greedy's tokens at step 9, so a Generator that ignored the penalty fails it.
     */
    @Test
    void qwen2GreedyUnderThePenaltiesMatchesTheReference() throws Exception {
        Fixture f = Fixture.open("qwen2");
        JsonNode runs = f.ref.get("greedy_penalized");
        assertEquals(3, runs.size(), "qwen2's reference.json holds three penalized runs");
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Generator g = new Generator(new Transformer(w, new CpuBackend()));
            for (JsonNode run : runs) {
                Generator.Options o = Generator.Options.greedy(run.get("tokens").size())
                        .repetitionPenalty((float) run.get("repetition_penalty").doubleValue())
                        .presenceFrequency((float) run.get("presence_penalty").doubleValue(), (float) run.get("frequency_penalty").doubleValue());
                f.greedy(g, run, o);
            }
        }
    }

    /**
     * The multimodal Gemma 3 folder in transformers 5.x's layout (model.language_model.…): the same text model and
     * logits as the published language_model.model.… layout the fixture stores.
     */
    @Test
    void gemma3MultimodalIn5xLayout(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Fixture f = Fixture.open("gemma3-multimodal");
        java.nio.file.Files.copy(f.dir.resolve("config.json"), tmp.resolve("config.json"));
        Map<String, org.transformer4j.runtime.Tensor> renamed = new java.util.LinkedHashMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(f.dir.resolve("model.safetensors"))) {
            for (String k : file.names()) {
                String to = k.startsWith("language_model.model.") ? "model.language_model." + k.substring("language_model.model.".length())
                        : "model." + k;                                          // model.vision_tower…, model.multi_modal_projector…
                renamed.put(to, file.tensor(k));
            }
            org.transformer4j.model.weights.SafetensorsWriter.write(tmp.resolve("model.safetensors"), renamed, Map.of("format", "pt"));
        }
        try (Weights w = Pretrained.load(tmp, new CpuBackend())) {
            f.near("logits", new Transformer(w, new CpuBackend()).logits(f.ids("input_ids")));
        }
    }

    /**
     * The harness's beam-search runs (ci/reference/beam.py: transformers' _beam_search in float64 by full recomputation):
     * BeamSearch (KV cache with reordered, shared blocks; fp32 on the CPU backend) returns the same hypotheses, token
     * for token and in the same order, with sequences_scores within the fp32 error of a sum of log-probabilities
     * (2 × 2e-5 × max|logits| per token, scaled by the repetition penalty and the length penalty's divisor). Each run's
     * decisive score gap (beam.py's min_gap) must be clear of that error, as the greedy check asks of its margins.
     * t5-v1_0: two inputs of 4 beams (no_repeat_ngram_size 3 with length_penalty 2 and early_stopping true; an EOS the
     * model picks often; length_penalty 0; BART summarization's forced_bos / forced_eos / no_repeat_ngram_size / min_length;
     * bad_words_ids, suppress_tokens and begin_suppress_tokens); qwen2: 3 beams, one and two prompts, 1 and 2 EOS ids, early_stopping
     * false and "never", min_new_tokens, repetition_penalty, no_repeat_ngram_size; the BART family as their published folders
     * generate, from the config's decoder_start_token_id: bart (facebook/bart-large-cnn's options scaled down: forced BOS 0,
     * forced EOS at max_length, min_length, no_repeat_ngram_size 3, length_penalty 2; early_stopping false), marian
     * (opus-mt's: 4 and 6 beams, bad_words_ids [[pad]], forced EOS 0), m2m100 (NLLB's: forced_bos_token_id = the target
     * language code).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"t5-v1_0", "qwen2", "bart", "marian", "m2m100"})
    void beamSearchMatchesTheReference(String name) throws Exception {
        beamRunsMatch(name, new CpuBackend());
    }

    /** The beam runs of fixture {@code name} through BeamSearch on {@code be} in fp32 (also ModelGpuTest's, on CUDA). */
    static void beamRunsMatch(String name, org.transformer4j.runtime.Backend be) throws Exception {
        Fixture f = Fixture.open(name);
        JsonNode runs = f.ref.get("beam");
        int expected = switch (name) {
            case "qwen2" -> 4;
            case "bart" -> 3;
            case "marian", "m2m100" -> 2;
            default -> 5;
        };
        assertEquals(expected, runs.size(), name + "'s reference.json holds its beam runs");
        try (Weights w = Pretrained.load(f.dir, be)) {
            BeamSearch bs = new BeamSearch(new Transformer(w, be));
            for (JsonNode run : runs) {
                BeamSearch.Options o = beamOptions(run);
                double maxLogit = f.ref.get("max_abs").get("logits").doubleValue() * Math.max(o.repetitionPenalty(), 1 / o.repetitionPenalty());
                assertTrue(run.get("min_gap").doubleValue() > CLEAR_MARGIN * TOLERANCE * maxLogit,
                        name + ": beam run " + run.get("min_gap") + " is not clear of the fp32 error; redraw the fixture");
                JsonNode in = run.has("input_ids") ? run.get("input_ids") : run.get("prompts");
                List<int[]> prompts = new java.util.ArrayList<>();
                for (JsonNode p : in) prompts.add(Fixture.ints(p));
                List<List<BeamSearch.Hypothesis>> got = bs.generate(prompts, o);
                for (int b = 0; b < prompts.size(); b++) {
                    JsonNode want = run.get("sequences").get(b);
                    assertEquals(want.size(), got.get(b).size(), name + " " + run + ": hypotheses of prompt " + b);
                    for (int i = 0; i < want.size(); i++) {
                        int[] tokens = Fixture.ints(want.get(i));
                        BeamSearch.Hypothesis h = got.get(b).get(i);
                        assertArrayEquals(tokens, h.tokens(), name + ": prompt " + b + ", hypothesis " + i + " " + Arrays.toString(h.tokens())
                                + " vs the reference's " + Arrays.toString(tokens) + " under " + o);
                        double ref = run.get("sequences_scores").get(b).get(i).doubleValue();
                        int len = tokens.length;
                        double bound = len * 2 * TOLERANCE * maxLogit / Math.min(1, Math.pow(len, o.lengthPenalty()));
                        assertTrue(Math.abs(h.score() - ref) <= bound, name + ": prompt " + b + ", hypothesis " + i + " score "
                                + h.score() + " vs the reference's " + ref + " (bound " + bound + ")");
                    }
                }
            }
        }
    }

    static BeamSearch.Options beamOptions(JsonNode run) {
        java.util.Set<Integer> eos = new java.util.LinkedHashSet<>();
        for (JsonNode e : run.get("eos_token_id")) eos.add(e.intValue());
        JsonNode es = run.get("early_stopping");
        return BeamSearch.Options.of(run.get("num_beams").intValue(), run.get("max_new_tokens").intValue()).eosIds(eos)
                .lengthPenalty(run.get("length_penalty").doubleValue())
                .earlyStopping(BeamSearch.EarlyStopping.of(es.isBoolean() ? (Object) es.booleanValue() : es.textValue()))
                .numReturnSequences(run.get("num_return_sequences").intValue())
                .noRepeatNgramSize(run.path("no_repeat_ngram_size").asInt(0)).minNewTokens(run.path("min_new_tokens").asInt(0))
                .minLength(run.path("min_length").asInt(0)).repetitionPenalty((float) run.path("repetition_penalty").asDouble(1.0))
                .rules(TokenRules.NONE.forcedBos(run.hasNonNull("forced_bos_token_id") ? run.get("forced_bos_token_id").intValue() : null)
                        .forcedEos(ids(run.path("forced_eos_token_id"))).suppress(ids(run.path("suppress_tokens")))
                        .beginSuppress(ids(run.path("begin_suppress_tokens"))).badWords(words(run.path("bad_words_ids")))
                        .renormalize(run.path("renormalize_logits").asBoolean(false)));
    }

    private static java.util.Set<Integer> ids(JsonNode list) {
        java.util.Set<Integer> out = new java.util.LinkedHashSet<>();
        for (JsonNode x : list) out.add(x.intValue());
        return out;
    }

    private static List<List<Integer>> words(JsonNode list) {
        List<List<Integer>> out = new java.util.ArrayList<>();
        for (JsonNode w : list) {
            List<Integer> word = new java.util.ArrayList<>();
            for (JsonNode x : w) word.add(x.intValue());
            out.add(word);
        }
        return out;
    }

    private static void t5(String name) throws Exception {
        Fixture f = Fixture.open(name);
        try (Weights w = Pretrained.load(f.dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            int[][] in = f.ids("input_ids");
            assertAll(() -> f.near("encoder_last_hidden_state", m.encode(in)),
                    () -> f.near("logits", m.logits(in, f.ids("decoder_input_ids"))),
                    () -> f.greedy(new Generator(m)));
        }
    }

    /** One folder: its reference.json and the float64 outputs in reference.safetensors. */
    record Fixture(String name, Path dir, JsonNode ref) {

        static Fixture open(String name) throws IOException, URISyntaxException {
            Path dir = root().resolve(name);
            return new Fixture(name, dir, JSON.readTree(dir.resolve("reference.json").toFile()));
        }

        int[][] ids(String input) {
            JsonNode rows = ref.get("inputs").get(input);
            if (rows == null) throw new AssertionError(name + ": reference.json has no input " + input);
            int[][] out = new int[rows.size()][];
            for (int r = 0; r < out.length; r++) out[r] = ints(rows.get(r));
            return out;
        }

        static int[] ints(JsonNode a) {
            int[] out = new int[a.size()];
            for (int i = 0; i < out.length; i++) out[i] = a.get(i).intValue();
            return out;
        }

        /** The reference output {@code output} (float64 rounded to float32, row-major), which must hold {@code count} values. */
        double[] reference(String output, long count) throws IOException {
            try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
                assertEquals(count, file.entry(output).numel(), name + " " + output + ": size "
                        + Arrays.toString(file.entry(output).shape()));
                return TestFolders.doubles(file, output);
            }
        }

        /** max |got − ref| ≤ 2e-5 × max|ref| over the whole output (got in the reference's row-major order). */
        void near(String output, float[][][] got) throws IOException {
            double[] ref = reference(output, (long) got.length * got[0].length * got[0][0].length);
            double maxRef = 0, maxErr = 0;
            int i = 0;
            for (float[][] a : got) {
                for (float[] b : a) {
                    for (float v : b) {
                        double d = Math.abs(v - ref[i]);
                        maxErr = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(maxErr, d);
                        maxRef = Math.max(maxRef, Math.abs(ref[i++]));
                    }
                }
            }
            assertTrue(maxErr <= TOLERANCE * maxRef, name + " " + output + ": max |got - ref| " + maxErr + " > "
                    + TOLERANCE + " × max|ref| (" + maxRef + ")");
        }

        /** {@link #near} over the positions whose mask is 1 (B, T, …): padding positions are not compared. */
        void nearAtTokens(String output, float[][][] got, int[][] mask) throws IOException {
            if (mask == null) {
                near(output, got);
                return;
            }
            double[] ref = reference(output, (long) got.length * got[0].length * got[0][0].length);
            double maxRef = 0, maxErr = 0;
            int i = 0;
            for (int b = 0; b < got.length; b++) {
                for (int t = 0; t < got[b].length; t++) {
                    for (float v : got[b][t]) {
                        if (mask[b][t] == 1) {
                            double d = Math.abs(v - ref[i]);
                            maxErr = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(maxErr, d);
                            maxRef = Math.max(maxRef, Math.abs(ref[i]));
                        }
                        i++;
                    }
                }
            }
            assertTrue(maxErr <= TOLERANCE * maxRef, name + " " + output + ": max |got - ref| at the tokens " + maxErr + " > "
                    + TOLERANCE + " × max|ref| (" + maxRef + ")");
        }

        /**
         * The Generator's greedy tokens (KV cache) against the reference's (full recomputation), step by step
         * while the reference's top-2 margin is clear of the fp32 error; at least the first 4 steps must be clear.
         */
        void greedy(Generator g) throws IOException { greedy(g, Integer.MAX_VALUE); }

        /** {@link #greedy(Generator)} over at most {@code steps} steps. */
        void greedy(Generator g, int steps) throws IOException {
            JsonNode gr = ref.get("greedy");
            int n = Math.min(gr.get("tokens").size(), steps);
            greedy(g, gr, Generator.Options.greedy(n), n);
        }

        /** A penalized run of the reference (its greedy prompt, its own tokens and margins) under {@code o}. */
        void greedy(Generator g, JsonNode run, Generator.Options o) throws IOException {
            greedy(g, run, o, run.get("tokens").size());
        }

        private void greedy(Generator g, JsonNode run, Generator.Options o, int steps) throws IOException {
            JsonNode gr = ref.get("greedy");
            int[] want = Arrays.copyOf(ints(run.get("tokens")), steps);
            int[] prompt = gr.has("input_ids") ? ints(gr.get("input_ids")) : ints(gr.get("prompt"));
            // a penalty scales the logits' fp32 error by up to max(p, 1/p)
            double maxLogit = ref.get("max_abs").get("logits").doubleValue() * Math.max(o.repetitionPenalty(), 1 / o.repetitionPenalty());
            int[] got = g.generate(prompt, o, null);
            int clear = 0;
            while (clear < want.length && run.get("margins").get(clear).doubleValue() > CLEAR_MARGIN * TOLERANCE * maxLogit) clear++;
            if (clear < Math.min(4, want.length)) fail(name + ": the reference's greedy margins are clear for " + clear + " steps only; redraw the fixture");
            assertArrayEquals(Arrays.copyOf(want, clear), Arrays.copyOf(got, clear),
                    name + ": greedy tokens " + (o.penalized() ? "under " + o.repetitionPenalty() + " / " + o.presencePenalty() + " / "
                            + o.frequencyPenalty() + " " : "") + "(the first " + clear + " steps, whose top-2 margin is clear) "
                            + Arrays.toString(got) + " vs the reference's " + Arrays.toString(want));
        }
    }
}
