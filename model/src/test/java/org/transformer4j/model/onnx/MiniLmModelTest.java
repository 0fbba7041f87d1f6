// MiniLmModelTest — all-MiniLM-L6-v2, imported from langchain4j's ONNX file, run through the
// library's own layers (Transformer, encoder-only, CPU backend) and compared with software nobody
// here wrote: ONNX Runtime's last hidden state for the same ids, and langchain4j's
// AllMiniLmL6V2EmbeddingModel's mean-pooled, L2-normalised embeddings.
package org.transformer4j.model.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class MiniLmModelTest {

    /** sentence-transformers/all-MiniLM-L6-v2's config.json as a TransformerConfig. */
    static TransformerConfig config() {
        return TransformerConfig.builder().vocabSize(30522).widths(384, 1536, 12).encoderLayers(6)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-12f)
                .activation(TransformerConfig.Activation.GELU, false).learnedPositions(512).typeVocabSize(2)
                .biases(true).tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(0, -1, -1, -1, 101)).build();
    }

    static final CpuBackend CPU = new CpuBackend();
    static BertOnnxImporter.Result imported;
    static HfTokenizer tokenizer;
    static Weights weights;
    static Transformer model;

    @BeforeAll
    static void load() throws Exception {
        imported = BertOnnxImporter.importFile(MiniLm.file(MiniLm.ONNX));
        tokenizer = HfTokenizer.load(MiniLm.file(MiniLm.TOKENIZER));
        weights = Weights.fromHfBert(config(), imported.weights(), CPU);
        model = new Transformer(weights, CPU);
    }

    @AfterAll
    static void close() {
        if (weights != null) weights.close();
        if (imported != null) imported.close();
        if (tokenizer != null) tokenizer.close();
    }

    @Test
    void lastHiddenStateMatchesOnnxRuntime() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(MiniLm.file(MiniLm.ONNX).toString(), o)) {
            double worst = 0;
            for (String s : MiniLmImportTest.SENTENCES) {
                int[] ids = tokenizer.encode(s);
                long[] l = new long[ids.length], ones = new long[ids.length];
                for (int i = 0; i < ids.length; i++) { l[i] = ids[i]; ones[i] = 1; }
                long[] shape = {1, ids.length};
                try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(l), shape);
                     OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape);
                     OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
                     OrtSession.Result r = session.run(Map.of("input_ids", in, "attention_mask", mask, "token_type_ids", types))) {
                    float[][] ort = ((float[][][]) r.get(0).getValue())[0];                     // (T, C)
                    float[][] ours = model.encode(new int[][] {ids})[0];                          // (T, C)
                    double maxRef = 0, maxDiff = 0;
                    for (int t = 0; t < ort.length; t++) {
                        for (int c = 0; c < 384; c++) {
                            maxRef = Math.max(maxRef, Math.abs(ort[t][c]));
                            maxDiff = Math.max(maxDiff, Math.abs(ours[t][c] - ort[t][c]));
                        }
                    }
                    worst = Math.max(worst, maxDiff / maxRef);
                    // both fp32; the bound, which a wrong GELU variant or eps would exceed
                    assertTrue(maxDiff <= 2e-5 * maxRef, "hidden state differs by " + maxDiff + " (max|ref| " + maxRef + ") for '" + s + "'");
                }
            }
            System.out.printf("MiniLM through Transformer vs ONNX Runtime: worst max|diff| / max|ref| %.2e over %d sentences%n",
                    worst, MiniLmImportTest.SENTENCES.size());
        }
    }

    @Test
    void sentenceEmbeddingsMatchLangchain4j() {
        AllMiniLmL6V2EmbeddingModel lc4j = new AllMiniLmL6V2EmbeddingModel();
        double worst = 0;
        for (String s : MiniLmImportTest.SENTENCES) {
            float[] theirs = lc4j.embed(s).content().vector();
            float[] ours = model.embedSentences(new int[][] {tokenizer.encode(s)})[0];
            assertEquals(384, theirs.length);
            double d = 0;
            for (int j = 0; j < 384; j++) d = Math.max(d, Math.abs(ours[j] - theirs[j]));
            worst = Math.max(worst, d);
            assertTrue(d <= 1e-5, "embedding differs by " + d + " for '" + s + "'");
        }
        assertTrue(MiniLmImportTest.SENTENCES.size() >= 20);
        System.out.printf("MiniLM embeddings through Transformer vs langchain4j: worst max|diff| %.2e%n", worst);
    }

    @Test
    void allSentencesPackedIntoOnePaddingFreePassMatchLangchain4j() {
        AllMiniLmL6V2EmbeddingModel lc4j = new AllMiniLmL6V2EmbeddingModel();
        java.util.List<int[]> ids = MiniLmImportTest.SENTENCES.stream().map(tokenizer::encode).toList();
        float[][] packed = model.embedSentences(ids);                                          // one pass, Σ T_i rows
        double worst = 0;
        for (int i = 0; i < ids.size(); i++) {
            float[] theirs = lc4j.embed(MiniLmImportTest.SENTENCES.get(i)).content().vector();
            for (int j = 0; j < 384; j++) worst = Math.max(worst, Math.abs(packed[i][j] - theirs[j]));
        }
        assertTrue(worst <= 1e-5, "packed embeddings differ by " + worst);
        System.out.printf("MiniLM, %d sentences packed in one pass vs langchain4j: worst max|diff| %.2e%n", ids.size(), worst);
    }

    @Test
    void theLoaderRejectsMissingUnexpectedAndMisshapedKeys() {
        Map<String, Tensor> hf = new HashMap<>(imported.weights());
        hf.remove("encoder.layer.3.output.dense.bias");
        try (Tensor extra = Tensor.ofFloats(new float[] {1}, 1)) {
            hf.put("classifier.weight", extra);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Weights.fromHfBert(config(), hf, CPU));
            assertTrue(e.getMessage().contains("missing encoder.layer.3.output.dense.bias"), e.getMessage());
            assertTrue(e.getMessage().contains("unexpected [classifier.weight]"), e.getMessage());
        }
        TransformerConfig wider = config().toBuilder().mlpWidth(1024).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Weights.fromHfBert(wider, imported.weights(), CPU));
        assertTrue(e.getMessage().contains("intermediate.dense.weight has shape (1536, 384), expected [1024, 384]"), e.getMessage());
    }
}
