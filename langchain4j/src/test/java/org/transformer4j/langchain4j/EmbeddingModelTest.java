// EmbeddingModelTest — T4jEmbeddingModel inside langchain4j's pipeline: all-MiniLM-L6-v2 run by this library
// against langchain4j's own ONNX Runtime model (the reference), an EmbeddingStoreIngestor into an
// InMemoryEmbeddingStore and a search, and batching that does not change a vector.
package org.transformer4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

class EmbeddingModelTest {

    static final List<String> TEXTS = List.of(
            "A man is playing a guitar.",
            "The stock market fell sharply today as investors sold technology shares.",
            "Photosynthesis turns sunlight, water and carbon dioxide into sugar and oxygen.",
            "The recipe needs two eggs, a cup of flour and a pinch of salt.",
            "Der Zug nach München fährt um neun Uhr ab.",
            "Rust and Java both have generics, but only one erases them.");

    static Backend cpu;
    static T4jEmbeddingModel ours;
    static AllMiniLmL6V2EmbeddingModel reference;

    @BeforeAll
    static void load() throws Exception {
        cpu = Backends.select("cpu");
        ours = T4jEmbeddingModel.load("minilm", cpu, DType.F32);
        reference = new AllMiniLmL6V2EmbeddingModel();
    }

    @AfterAll
    static void close() {
        if (ours != null) ours.close();
        if (cpu != null) cpu.close();
    }

    static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) { ab += (double) a[i] * b[i]; aa += (double) a[i] * a[i]; bb += (double) b[i] * b[i]; }
        return ab / Math.sqrt(aa * bb);
    }

    @Test
    void miniLmMatchesLangchain4jsOnnxRuntimeModel() {
        List<TextSegment> segs = TEXTS.stream().map(TextSegment::from).toList();
        List<Embedding> a = ours.embedAll(segs).content(), b = reference.embedAll(segs).content();
        assertEquals(384, ours.dimension());
        assertEquals(TEXTS.size(), a.size());
        for (int i = 0; i < a.size(); i++) {
            // fp32 against fp32 (ONNX Runtime): the same network, different summation orders
            double c = cosine(a.get(i).vector(), b.get(i).vector());
            assertTrue(c > 0.99999, "text " + i + ": cosine " + c);
        }
    }

    @Test
    void ingestsIntoAnInMemoryStoreAndRetrievesTheRightSegment() {
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        EmbeddingStoreIngestor.builder().embeddingModel(ours).embeddingStore(store).build()
                .ingest(TEXTS.stream().map(Document::from).toList());
        String query = "Which shares did investors sell?";
        EmbeddingSearchRequest ask = EmbeddingSearchRequest.builder().queryEmbedding(ours.embed(query).content()).maxResults(3).build();
        List<EmbeddingMatch<TextSegment>> hits = store.search(ask).matches();
        assertEquals(TEXTS.get(1), hits.get(0).embedded().text());
        // the same store and query embedded by langchain4j's own model rank the segments the same way
        InMemoryEmbeddingStore<TextSegment> refStore = new InMemoryEmbeddingStore<>();
        EmbeddingStoreIngestor.builder().embeddingModel(reference).embeddingStore(refStore).build()
                .ingest(TEXTS.stream().map(Document::from).toList());
        List<EmbeddingMatch<TextSegment>> refHits = refStore.search(EmbeddingSearchRequest.builder()
                .queryEmbedding(reference.embed(query).content()).maxResults(3).build()).matches();
        for (int i = 0; i < 3; i++) {
            assertEquals(refHits.get(i).embedded().text(), hits.get(i).embedded().text(), "rank " + i);
            assertEquals(refHits.get(i).score(), hits.get(i).score(), 1e-5, "rank " + i);
        }
    }

    @Test
    void smallBatchesGiveTheSameVectorsAsOnePass() {
        List<TextSegment> segs = TEXTS.stream().map(TextSegment::from).toList();
        List<Embedding> whole = ours.embedAll(segs).content();
        T4jEmbeddingModel small = T4jEmbeddingModel.of(ours.transformer(), ours.tokenizer(), "minilm", 20);   // ≤ 20 tokens a pass
        List<Embedding> cut = small.embedAll(segs).content();
        for (int i = 0; i < segs.size(); i++) {
            float[] x = whole.get(i).vector(), y = cut.get(i).vector();
            for (int c = 0; c < x.length; c++) assertEquals(x[c], y[c], 1e-5, "text " + i + " component " + c);
        }
        assertThrows(IllegalArgumentException.class, () -> small.embedAll(List.of()));
        Exception e = assertThrows(IllegalArgumentException.class, () -> T4jEmbeddingModel.load("no-such-model"));
        assertTrue(e.getMessage().contains("no-such-model") && e.getMessage().contains("minilm"), e.getMessage());
    }
}
