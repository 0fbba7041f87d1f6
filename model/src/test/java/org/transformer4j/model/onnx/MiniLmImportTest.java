// MiniLmImportTest — imports all-MiniLM-L6-v2 from the ONNX file in langchain4j's model jar and
// checks it against software nobody here wrote: a naive float64 BERT forward pass over the
// imported weights (BertReference) must reproduce ONNX Runtime's last hidden state for the same
// ids, and, pooled and normalised, langchain4j's own AllMiniLmL6V2EmbeddingModel embeddings.
// Until the model layer exists this is the proof that the import (names, transpositions) and the
// tokenizer ids are right; the model-layer issue will run these weights through the library's layers.
package org.transformer4j.model.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.tokenizer.HfTokenizer;

class MiniLmImportTest {

    /** sentence-transformers/all-MiniLM-L6-v2's config.json: BERT, 6 layers, 12 heads, LayerNorm eps 1e-12. */
    static final int LAYERS = 6, HIDDEN = 384, HEADS = 12, FFN = 1536, VOCAB = 30522, MAX_POS = 512;
    static final double LN_EPS = 1e-12;

    static final List<String> SENTENCES = List.of(
            "The quick brown fox jumps over the lazy dog.",
            "Hello world!",
            "transformer4j runs BERT on the JVM.",
            "What time does the train to Zürich leave?",
            "I can't believe it's not butter.",
            "Paris is the capital of France.",
            "e = mc^2, said Einstein in 1905.",
            "Do androids dream of electric sheep?",
            "A stitch in time saves nine.",
            "naïve café résumé",
            "東京は日本の首都です。",
            "GPU kernels fuse attention and softmax.",
            "She sells sea shells by the sea shore.",
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
            "The mitochondria is the powerhouse of the cell.",
            "Unbelievably, the indivisibility of atoms was disproved.",
            "Python, Java, Rust & Go.",
            "Why?",
            "This sentence is deliberately longer than the others, to exercise more positions.",
            "Ünïcödé and ASCII mixed — with an em dash.",
            "email me at someone@example.com",
            "  leading and trailing spaces  ");

    static BertOnnxImporter.Result imported;
    static HfTokenizer tokenizer;
    static BertReference reference;
    static final Map<String, double[][]> hidden = new HashMap<>();

    @BeforeAll
    static void load() throws Exception {
        imported = BertOnnxImporter.importFile(MiniLm.file(MiniLm.ONNX));
        tokenizer = HfTokenizer.load(MiniLm.file(MiniLm.TOKENIZER));
        reference = new BertReference(imported.weights(), LAYERS, HEADS, LN_EPS);
    }

    @AfterAll
    static void close() {
        if (imported != null) imported.close();
        if (tokenizer != null) tokenizer.close();
    }

    static synchronized double[][] referenceHidden(String s) {
        return hidden.computeIfAbsent(s, k -> reference.forward(tokenizer.encode(k)));
    }

    @Test
    void importerFindsEveryParameterInHuggingFaceLayout() {
        BertOnnxImporter.BertDims d = imported.dims();
        assertEquals(new BertOnnxImporter.BertDims(LAYERS, HIDDEN, FFN, VOCAB, MAX_POS, 2, false), d);
        assertEquals(5 + 16 * LAYERS, imported.weights().size());
        assertEquals("gelu", imported.activation(), "the graph computes erf: exact GELU");
        assertEquals(LN_EPS, imported.layerNormEps().orElseThrow(), 1e-18, "eps is stored as float32 in the graph");
        assertEquals(HEADS, imported.heads().orElseThrow());
        for (int l = 0; l < LAYERS; l++) {
            String p = "encoder.layer." + l + ".";
            assertArrayEquals(new long[] {HIDDEN, HIDDEN}, imported.weights().get(p + "attention.self.query.weight").shape());
            assertArrayEquals(new long[] {FFN, HIDDEN}, imported.weights().get(p + "intermediate.dense.weight").shape());
            assertArrayEquals(new long[] {HIDDEN, FFN}, imported.weights().get(p + "output.dense.weight").shape());
            assertArrayEquals(new long[] {HIDDEN}, imported.weights().get(p + "output.LayerNorm.bias").shape());
        }
        assertArrayEquals(new long[] {VOCAB, HIDDEN}, imported.weights().get("embeddings.word_embeddings.weight").shape());
        Set<String> expectedTransposed = new TreeSet<>();
        for (int l = 0; l < LAYERS; l++) for (String s : BertOnnxImporter.TRANSPOSED) expectedTransposed.add("encoder.layer." + l + "." + s);
        assertEquals(expectedTransposed, new TreeSet<>(imported.transposed()));
    }

    @Test
    void transposedWeightsAreTheOnnxMatricesTransposed() throws Exception {
        OnnxModel m = OnnxModel.read(MiniLm.file(MiniLm.ONNX));
        for (String key : List.of("encoder.layer.3.attention.self.value.weight", "encoder.layer.5.output.dense.weight")) {
            OnnxModel.Initializer raw = m.initializers().get(imported.sources().get(key));
            assertTrue(raw.name().startsWith("onnx::MatMul"), raw.name());
            float[] r = raw.floats();                                      // (IN, OUT)
            int in = (int) raw.dims()[0];
            int out = (int) raw.dims()[1];
            float[] hf = imported.weights().get(key).toFloatArray();       // (OUT, IN)
            for (int i = 0; i < in; i++) for (int o = 0; o < out; o++) assertEquals(r[i * out + o], hf[o * in + i], 0f, key);
        }
    }

    @Test
    void erfOfTheReferenceIsAccurate() {
        // Values from Abramowitz & Stegun / high-precision tables.
        assertEquals(0.5204998778130465, BertReference.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, BertReference.erf(1), 1e-15);
        assertEquals(-0.9953222650189527, BertReference.erf(-2), 1e-15);
        assertEquals(0.9999779095030014, BertReference.erf(3), 1e-15);
        assertEquals(0.9999999845827421, BertReference.erf(4), 1e-15);
    }

    @Test
    void referenceForwardMatchesOnnxRuntimeHiddenStates() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(MiniLm.file(MiniLm.ONNX).toString(), o)) {
            List<String> report = new ArrayList<>();
            for (String s : SENTENCES) {
                int[] ids = tokenizer.encode(s);
                long[] l = new long[ids.length];
                for (int i = 0; i < ids.length; i++) l[i] = ids[i];
                long[] shape = {1, ids.length};
                try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(l), shape);
                     OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(ones(ids.length)), shape);
                     OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
                     OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", mask, "token_type_ids", types))) {
                    float[][] ort = ((float[][][]) r.get(0).getValue())[0];                 // (T, C)
                    double[][] ref = referenceHidden(s);
                    double maxRef = 0, maxDiff = 0;
                    for (int t = 0; t < ort.length; t++) {
                        for (int c = 0; c < HIDDEN; c++) {
                            maxRef = Math.max(maxRef, Math.abs(ref[t][c]));
                            maxDiff = Math.max(maxDiff, Math.abs(ref[t][c] - ort[t][c]));
                        }
                    }
                    report.add(String.format("%.2e of %.2f: %s", maxDiff, maxRef, s));
                    // ORT computes in fp32; the bound: 2e-5 × max|reference|.
                    assertTrue(maxDiff <= 2e-5 * maxRef, "hidden state differs by " + maxDiff + " (max|ref| " + maxRef + ") for '"
                            + s + "'\n" + String.join("\n", report));
                }
            }
            System.out.println("MiniLM hidden states vs ONNX Runtime (max |diff| of max |ref|):\n" + String.join("\n", report));
        }
    }

    @Test
    void pooledEmbeddingsMatchLangchain4j() {
        AllMiniLmL6V2EmbeddingModel lc4j = new AllMiniLmL6V2EmbeddingModel();
        double worst = 0;
        for (String s : SENTENCES) {
            float[] theirs = lc4j.embed(s).content().vector();
            double[] ours = BertReference.meanPoolNormalize(referenceHidden(s));
            assertEquals(HIDDEN, theirs.length);
            double maxDiff = 0;
            for (int j = 0; j < HIDDEN; j++) maxDiff = Math.max(maxDiff, Math.abs(ours[j] - theirs[j]));
            worst = Math.max(worst, maxDiff);
            assertTrue(maxDiff <= 1e-5, "embedding differs by " + maxDiff + " for '" + s + "'");
        }
        System.out.printf("MiniLM embeddings vs langchain4j: worst max |diff| %.2e over %d sentences%n", worst, SENTENCES.size());
    }

    @Test
    void importedWeightsSaveAsAHuggingFaceBertFolderThatTheLayoutAccepts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // sentence-transformers/all-MiniLM-L6-v2's config.json, the fields BERT's layout reads.
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"bert\",\"hidden_size\":384,"
                + "\"num_hidden_layers\":6,\"num_attention_heads\":12,\"intermediate_size\":1536,\"vocab_size\":30522,"
                + "\"max_position_embeddings\":512,\"type_vocab_size\":2,\"layer_norm_eps\":1e-12,\"hidden_act\":\"gelu\"}");
        org.transformer4j.model.weights.SafetensorsWriter.write(dir.resolve("model.safetensors"), imported.weights(),
                Map.of("format", "pt", "source", "all-minilm-l6-v2.onnx"));
        var layout = org.transformer4j.model.weights.HfLayout.of(org.transformer4j.model.weights.HfConfig.read(dir));
        try (var ck = org.transformer4j.model.weights.SafetensorsCheckpoint.open(dir)) {
            Map<String, String> keys = layout.match(ck, dir);
            assertEquals(imported.weights().keySet(), keys.keySet());
            for (String k : List.of("embeddings.word_embeddings.weight", "encoder.layer.5.intermediate.dense.weight",
                    "encoder.layer.2.attention.output.LayerNorm.bias")) {
                assertArrayEquals(imported.weights().get(k).toFloatArray(), ck.tensor(keys.get(k)).toFloatArray(), k);
            }
        }
    }

    private static long[] ones(int n) {
        long[] a = new long[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }
}
