package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

/** The BART-family loader on folders as they are published besides what save_pretrained writes, and on broken ones. */
class HfSeq2SeqTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A copy of fixture {@code name} in {@code dir}, its config edited by {@code config} and its tensors by {@code tensors}. */
    static Path copy(String name, Path dir, Consumer<ObjectNode> config, Consumer<Map<String, Tensor>> tensors) throws Exception {
        Path from = TestFolders.fixture(name);
        ObjectNode cfg = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
        config.accept(cfg);
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        try (SafetensorsFile f = SafetensorsFile.open(from.resolve("model.safetensors"))) {
            Map<String, Tensor> t = new LinkedHashMap<>(f.tensors());
            tensors.accept(t);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));
        }
        return dir;
    }

    static float[][] logits(Path dir) throws Exception {
        try (Weights w = Pretrained.load(dir, new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            return m.logits(new int[][] {{0, 5, 9, 17, 2}}, new int[][] {{2, 0, 5, 9}})[0];
        }
    }

    /** Converted folders (pytorch_model.bin → safetensors) may keep every tied copy of the token table: the same model. */
    @Test
    void tiedCopiesOfTheTokenTableLoadAsOneTable(@TempDir Path dir) throws Exception {
        Path plain = TestFolders.fixture("bart");
        Path copies = copy("bart", Files.createDirectories(dir.resolve("all")), c -> {}, t -> {
            Tensor table = t.get("model.shared.weight");
            for (String k : new String[] {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"}) {
                t.put(k, table);
            }
        });
        assertArrayEquals(logits(plain), logits(copies));
        Path onlyEncoder = copy("bart", Files.createDirectories(dir.resolve("enc")), c -> {}, t ->
                t.put("model.encoder.embed_tokens.weight", t.remove("model.shared.weight")));
        assertArrayEquals(logits(plain), logits(onlyEncoder));
    }

    /** Older opus-mt folders store the sinusoidal tables; they are the computed ones, so the model is the same. */
    @Test
    void storedSinusoidsAreAccepted(@TempDir Path dir) throws Exception {
        float[] table = HfSeq2Seq.sinusoids(32, 32);
        Path stored = copy("marian", dir, c -> {}, t -> {
            t.put("model.encoder.embed_positions.weight", Tensor.ofFloats(table, 32, 32));
            t.put("model.decoder.embed_positions.weight", Tensor.ofFloats(table, 32, 32));
        });
        assertArrayEquals(logits(TestFolders.fixture("marian")), logits(stored));
    }

    /** Pegasus folders carry the tables save_pretrained writes: they equal the computed ones (the reference's float32 table). */
    @Test
    void pegasusStoredTablesAreTheComputedSinusoids() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(TestFolders.fixture("pegasus").resolve("model.safetensors"))) {
            float[] stored = f.tensor("model.encoder.embed_positions.weight").toFloatArray();
            assertArrayEquals(stored, HfSeq2Seq.sinusoids(32, 32));
        }
    }

    /** BartModel's folders have no final_logits_bias: tied logits without a bias (the fixture's logits less its bias). */
    @Test
    void withoutFinalLogitsBiasTheLogitsLoseExactlyThatBias(@TempDir Path dir) throws Exception {
        float[] bias;
        try (SafetensorsFile f = SafetensorsFile.open(TestFolders.fixture("bart").resolve("model.safetensors"))) {
            bias = f.tensor("final_logits_bias").toFloatArray();
        }
        Path noBias = copy("bart", dir, c -> {}, t -> t.remove("final_logits_bias"));
        try (Weights w = Pretrained.load(noBias, new CpuBackend())) {
            assertNull(w.outputBias);
        }
        float[][] with = logits(TestFolders.fixture("bart")), without = logits(noBias);
        for (int t = 0; t < with.length; t++) {
            for (int v = 0; v < bias.length; v++) assertEquals(with[t][v] - bias[v], without[t][v], 1e-5f, "position " + t + " id " + v);
        }
    }

    @Test
    void aMissingTensorIsNamed(@TempDir Path dir) throws Exception {
        Path broken = copy("mbart", dir, c -> {}, t -> t.remove("model.decoder.layers.1.encoder_attn.k_proj.bias"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> logits(broken));
        assertTrue(e.getMessage().contains("model.decoder.layers.1.encoder_attn.k_proj.bias"), e.getMessage());
    }

    @Test
    void configsThisLoaderCannotServeAreRefusedByField(@TempDir Path dir) throws Exception {
        Map<String, Consumer<ObjectNode>> bad = new LinkedHashMap<>();
        bad.put("decoder_attention_heads", c -> c.put("decoder_attention_heads", 2));
        bad.put("decoder_ffn_dim", c -> c.put("decoder_ffn_dim", 64));
        bad.put("activation_function", c -> c.put("activation_function", "mish"));
        bad.put("share_encoder_decoder_embeddings", c -> c.put("share_encoder_decoder_embeddings", false));
        bad.put("decoder_vocab_size", c -> c.put("decoder_vocab_size", 64));
        int i = 0;
        for (var e : bad.entrySet()) {
            Path d = Files.createDirectories(dir.resolve("case" + i++));
            Path folder = copy("marian", d, e.getValue(), t -> {});
            CheckpointException x = assertThrows(CheckpointException.class, () -> logits(folder), e.getKey());
            assertTrue(x.getMessage().contains(e.getKey()), e.getKey() + ": " + x.getMessage());
        }
    }

    /** opus-mt's generation_config.json: renormalize_logits true reaches the beam options' rules; absent, it is off. */
    @Test
    void renormalizeLogitsIsRead(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), "{\"bad_words_ids\": [[127]], \"num_beams\": 4, \"renormalize_logits\": true}");
        GenerationConfig gc = GenerationConfig.read(dir);
        assertTrue(gc.rules().renormalizeLogits());
        assertTrue(gc.beamOptions(8).orElseThrow().rules().renormalizeLogits());
        Files.writeString(dir.resolve("generation_config.json"), "{\"num_beams\": 4}");
        assertTrue(!GenerationConfig.read(dir).rules().renormalizeLogits());
    }

    /**
     * Learned positions bound both sides: an encoder input past them is refused, or with truncate keeps its head and its
     * closing token (tokenizer truncation's shape: the special tokens survive), and more new tokens than the decoder's
     * positions are refused before any work.
     */
    @Test
    void inputsAndOutputsPastThePositionTablesAreRefusedOrTruncated() throws Exception {
        try (Weights w = Pretrained.load(TestFolders.fixture("bart"), new CpuBackend())) {
            Generator g = new Generator(new Transformer(w, new CpuBackend()));
            int p = w.config.maxPositions();
            int[] long_ = new int[p + 8];
            long_[0] = 0;
            for (int i = 1; i < long_.length - 1; i++) long_[i] = 3 + i % 100;
            long_[long_.length - 1] = 2;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.generate(long_, Generator.Options.greedy(4), null));
            assertTrue(e.getMessage().contains("truncate") && e.getMessage().contains("first " + (p - 1)), e.getMessage());
            int[] head = java.util.Arrays.copyOf(long_, p);
            head[p - 1] = 2;
            assertArrayEquals(g.generate(head, Generator.Options.greedy(4), null), g.generate(long_, Generator.Options.greedy(4).truncate(true), null));
            e = assertThrows(IllegalArgumentException.class, () -> g.generate(new int[] {0, 5, 2}, Generator.Options.greedy(p + 1), null));
            assertTrue(e.getMessage().contains("exceed the decoder's " + p + " positions"), e.getMessage());
        }
    }

    /** A classifier folder loaded without heads (hidden states only) leaves its head alone. */
    @Test
    void classifierLoadsWithoutItsHead() throws Exception {
        try (Weights w = Pretrained.loadEncoder(TestFolders.fixture("bart-seqcls"), new CpuBackend(), org.transformer4j.runtime.DType.F32)) {
            assertNull(w.classifierHead);
            assertEquals(TransformerConfig.Architecture.ENCODER_DECODER, w.config.architecture());
        }
    }

    /** A row without the eos token has no state to classify: an error naming the row, as transformers cannot pool it. */
    @Test
    void aRowWithoutEosIsRefused() throws Exception {
        try (Weights w = Pretrained.load(TestFolders.fixture("bart-seqcls"), new CpuBackend())) {
            Transformer m = new Transformer(w, new CpuBackend());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.classify(new int[][] {{0, 5, 2}, {0, 7, 9}}));
            assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("eos"), e.getMessage());
        }
    }
}
