// ScoringModelTest — T4jScoringModel as langchain4j's ScoringModel: a BERT cross-encoder folder's scores are the float64
// reference's logits through the sigmoid (sentence-transformers' CrossEncoder default) or the folder's activation_fn;
// a folder that is not a cross-encoder is refused in one line. And T4jEmbeddingModel on a sentence-transformers folder
// pools as the folder says (its [CLS] row here), not the mean it gave before it read modules.json.
package org.transformer4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.TestFolders;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

class ScoringModelTest {

    @TempDir
    Path tmp;

    /** A copy of the fixture's config and weights with the WordPiece tokenizer.json beside them. */
    private Path folder(String fixture, String name) throws Exception {
        Path src = TestFolders.fixture(fixture), dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        TestFolders.wordPieceTokenizer(dir);
        return dir;
    }

    @Test
    void aCrossEncodersScoresAreTheReferenceLogitsThroughItsActivation() throws Exception {
        int[][] ids = TestFolders.input("bert-crossencoder", "input_ids");
        String query = null;
        List<TextSegment> passages = new ArrayList<>();
        for (int[] row : ids) {
            int sep1 = -1, sep2 = -1;
            for (int i = 1; i < row.length; i++) if (row[i] == 102) { if (sep1 < 0) sep1 = i; else if (sep2 < 0) sep2 = i; }
            query = TestFolders.words(row, 1, sep1);
            passages.add(TextSegment.from(TestFolders.words(row, sep1 + 1, sep2)));
        }
        double[] logits = TestFolders.output("bert-crossencoder", "logits");
        Path dir = folder("bert-crossencoder", "ce");
        try (Backend cpu = Backends.select("cpu")) {
            try (T4jScoringModel m = T4jScoringModel.crossEncoder(dir.toString(), cpu, DType.F32)) {
                List<Double> got = m.scoreAll(passages, query).content();
                for (int i = 0; i < logits.length; i++) assertEquals(1 / (1 + Math.exp(-logits[i])), got.get(i), 2e-5, "passage " + i);
                assertEquals(got.get(1), m.score(passages.get(1), query).content(), 1e-12);
            }
            String cfg = Files.readString(dir.resolve("config.json"));
            Files.writeString(dir.resolve("config.json"), cfg.replaceFirst("\\{", "{\"sentence_transformers\": {\"activation_fn\":"
                    + " \"torch.nn.modules.linear.Identity\"}, "));
            try (T4jScoringModel m = T4jScoringModel.crossEncoder(dir.toString(), cpu, DType.F32)) {
                List<Double> got = m.scoreAll(passages, query).content();
                for (int i = 0; i < logits.length; i++) assertEquals(logits[i], got.get(i), 2e-5, "passage " + i + ", Identity");
            }
            Path nli = folder("bert-seqcls", "nli");
            var e = assertThrows(IllegalArgumentException.class, () -> T4jScoringModel.crossEncoder(nli.toString(), cpu, DType.F32));
            assertTrue(e.getMessage().contains("not a cross-encoder"), e.getMessage());
        }
    }

    @Test
    void aSentenceTransformersFolderEmbedsAsItPools() throws Exception {
        Path dir = folder("bert", "st");
        Files.writeString(dir.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}]");
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 64, \"pooling_mode_cls_token\": true}");
        String text = "w161 w292 w485 w104";
        try (Backend cpu = Backends.select("cpu"); T4jEmbeddingModel m = T4jEmbeddingModel.load(dir.toString(), cpu, DType.F32);
             var tok = Tokenizers.forModel(dir); var w = Pretrained.load(dir, cpu)) {
            Embedding e = m.embed(text).content();
            float[] cls = new Transformer(w, cpu).encode(new int[][] {tok.encode(text)})[0][0];
            assertEquals(64, m.dimension());
            for (int c = 0; c < cls.length; c++) assertEquals(cls[c], e.vector()[c], 1e-5f, "the [CLS] row, not normalised");
        }
    }
}
