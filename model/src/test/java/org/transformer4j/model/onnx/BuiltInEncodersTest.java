// BuiltInEncodersTest — bge-small-en-v1.5 and e5-small-v2 from langchain4j's jars: their ONNX files imported,
// the config derived from the graph alone (OnnxEncoders.config), run through this library's Transformer and
// pooled as each model card says ([CLS] row for bge, mean for e5, both L2-normalised), against langchain4j's
// own embedding models (ONNX Runtime, its own pooling) on the same sentences, within 1e-5 per component.
package org.transformer4j.model.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.e5smallv2.E5SmallV2EmbeddingModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.CpuBackend;

class BuiltInEncodersTest {

    static final CpuBackend CPU = new CpuBackend();

    @Test
    void bgeSmallEnV15PoolsTheClsRowAsLangchain4jDoes() throws Exception {
        check(OnnxEncoders.BuiltIn.BGE_SMALL_EN_V15, new BgeSmallEnV15EmbeddingModel(), SentencePooling.Mode.CLS);
    }

    @Test
    void e5SmallV2MeanPoolsAsLangchain4jDoes() throws Exception {
        check(OnnxEncoders.BuiltIn.E5_SMALL_V2, new E5SmallV2EmbeddingModel(), SentencePooling.Mode.MEAN);
    }

    private static void check(OnnxEncoders.BuiltIn b, EmbeddingModel theirs, SentencePooling.Mode mode) throws Exception {
        assertTrue(b.available(), b.id + " is on the test class path");
        assertEquals(mode, b.pooling.mode());
        var files = b.extract(Path.of("target", "builtin"));
        try (BertOnnxImporter.Result imported = BertOnnxImporter.importFile(files.onnx());
             HfTokenizer tok = HfTokenizer.load(files.tokenizer())) {
            TransformerConfig c = OnnxEncoders.config(imported, b.onnx, 0);
            // both model cards: BERT-small shapes, 12 heads of 32, exact GELU, eps 1e-12
            assertEquals(List.of(384, 12, 12, 32, 1536), List.of(c.modelWidth(), c.encoderLayers(), c.heads(), c.headSize(), c.mlpWidth()));
            assertEquals(TransformerConfig.Activation.GELU, c.activation());
            assertEquals(1e-12f, c.normEps());
            try (Weights w = Weights.fromHfBert(c, imported.weights(), CPU)) {
                TextEncoder enc = new TextEncoder(new Transformer(w, CPU), tok, b.pooling);
                List<String> sentences = MiniLmImportTest.SENTENCES;
                float[][] ours = enc.embed(sentences);                                        // packed, one pass
                double worst = 0;
                for (int i = 0; i < sentences.size(); i++) {
                    float[] ref = theirs.embed(sentences.get(i)).content().vector();
                    assertEquals(384, ref.length);
                    double d = 0;
                    for (int j = 0; j < 384; j++) d = Math.max(d, Math.abs(ours[i][j] - ref[j]));
                    assertTrue(d <= 1e-5, b.id + ": embedding differs by " + d + " for '" + sentences.get(i) + "'");
                    worst = Math.max(worst, d);
                }
                System.out.printf("%s through Transformer vs langchain4j: worst max|diff| %.2e over %d sentences%n", b.id, worst,
                        sentences.size());
            }
        }
    }
}
