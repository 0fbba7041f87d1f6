// EncoderEndpointsTest — the encoder side of the server against the TextEncoder it serves, in-process: /v1/embeddings
// as the folder pools (CLS here, not the old mean), vLLM's /v1/rerank, /v1/score and /classify on a one-label
// cross-encoder and a three-label classifier, the cosine score of an embedding model, and the one-line 400s.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.CpuBackend;

class EncoderEndpointsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** ServerTest's characters with BERT's pair template: [CLS] a [SEP] b [SEP] as ids 1 … 2 … 2, types 0 then 1. */
    static final class PairTokenizer implements Tokenizer {
        final ServerTest.CharTokenizer chars = new ServerTest.CharTokenizer();
        @Override public int[] encode(String text, boolean special) {
            int[] t = chars.encode(text, false);
            if (!special) return t;
            int[] out = new int[t.length + 2];
            out[0] = 1;
            System.arraycopy(t, 0, out, 1, t.length);
            out[t.length + 1] = 2;
            return out;
        }
        @Override public Encoded encodePair(String first, String second) {
            int[] a = chars.encode(first, false), b = chars.encode(second, false);
            int[] ids = new int[a.length + b.length + 3], types = new int[ids.length];
            ids[0] = 1;
            System.arraycopy(a, 0, ids, 1, a.length);
            ids[a.length + 1] = 2;
            System.arraycopy(b, 0, ids, a.length + 2, b.length);
            ids[ids.length - 1] = 2;
            for (int i = a.length + 2; i < ids.length; i++) types[i] = 1;
            return new Encoded(ids, types);
        }
        @Override public String decode(int[] ids, boolean skip) { return chars.decode(ids, skip); }
        @Override public Map<String, Integer> specialTokens() { return Map.of("[CLS]", 1, "[SEP]", 2); }
        @Override public String name() { return "pair chars"; }
        @Override public void close() {}
    }

    static CpuBackend backend;
    static Weights crossWeights, nliWeights, embedWeights;
    static TextEncoder cross, nli, embed;
    static OpenAiServer crossServer, nliServer, embedServer;
    static String crossBase, nliBase, embedBase;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        PairTokenizer tok = new PairTokenizer();
        crossWeights = Weights.random(ServerTest.bertTiny(), backend, 31, 1);
        nliWeights = Weights.random(ServerTest.bertTiny(), backend, 32, 3);
        embedWeights = Weights.random(ServerTest.bertTiny(), backend, 33);
        cross = new TextEncoder(new Transformer(crossWeights, backend), tok, SentencePooling.meanNormalized(null));
        nli = new TextEncoder(new Transformer(nliWeights, backend), tok, SentencePooling.meanNormalized(null));
        embed = new TextEncoder(new Transformer(embedWeights, backend), tok, SentencePooling.of(SentencePooling.Mode.CLS, true, Map.of()));
        OpenAiServer.Limits limits = OpenAiServer.Limits.defaults();
        crossServer = OpenAiServer.encoder("ce", cross, limits, OpenAiServer.SIGMOID);
        nliServer = OpenAiServer.encoder("nli", nli, limits, OpenAiServer.SIGMOID);
        embedServer = OpenAiServer.encoder("emb", embed, limits, OpenAiServer.SIGMOID);
        crossBase = "http://127.0.0.1:" + crossServer.start("127.0.0.1", 0);
        nliBase = "http://127.0.0.1:" + nliServer.start("127.0.0.1", 0);
        embedBase = "http://127.0.0.1:" + embedServer.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        for (OpenAiServer s : new OpenAiServer[] {crossServer, nliServer, embedServer}) if (s != null) s.close();
        for (Weights w : new Weights[] {crossWeights, nliWeights, embedWeights}) if (w != null) w.close();
        backend.close();
    }

    static HttpResponse<String> post(String base, String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static final List<String> DOCS = List.of("paris-is-in-france", "bananas", "the-eiffel-tower", "x");

    @Test
    void rerankOrdersTheDocumentsByTheCrossEncodersSigmoid() throws Exception {
        float[] logits = cross.rerank("where-is-paris", DOCS);
        JsonNode r = ok(post(crossBase, "/v1/rerank", "{\"model\": \"ce\", \"query\": \"where-is-paris\", \"documents\": "
                + JSON.writeValueAsString(DOCS) + ", \"top_n\": 3}"));
        JsonNode results = r.get("results");
        assertEquals(3, results.size(), "top_n");
        double last = Double.POSITIVE_INFINITY;
        List<Integer> seen = new ArrayList<>();
        for (JsonNode x : results) {
            int i = x.get("index").asInt();
            double want = 1 / (1 + Math.exp(-logits[i]));
            assertEquals(want, x.get("relevance_score").asDouble(), 1e-6, "document " + i);
            assertEquals(DOCS.get(i), x.get("document").get("text").asText());
            assertTrue(x.get("relevance_score").asDouble() <= last, "sorted by score");
            last = x.get("relevance_score").asDouble();
            seen.add(i);
        }
        assertEquals(3, seen.stream().distinct().count());
        assertTrue(r.get("usage").get("total_tokens").asInt() > 0);
        JsonNode bare = ok(post(crossBase, "/rerank", "{\"model\": \"ce\", \"query\": \"q\", \"documents\": [\"a\", \"b\"],"
                + " \"return_documents\": false}"));
        assertEquals(2, bare.get("results").size());
        assertFalse(bare.get("results").get(0).has("document"), "return_documents false");
    }

    @Test
    void scorePairsOneTextWithManyOrListWithList() throws Exception {
        float[] logits = cross.rerank("where-is-paris", DOCS);
        JsonNode one = ok(post(crossBase, "/v1/score", "{\"model\": \"ce\", \"text_1\": \"where-is-paris\", \"text_2\": "
                + JSON.writeValueAsString(DOCS) + "}"));
        assertEquals("list", one.get("object").asText());
        for (int i = 0; i < DOCS.size(); i++) {
            JsonNode d = one.get("data").get(i);
            assertEquals(i, d.get("index").asInt());
            assertEquals(1 / (1 + Math.exp(-logits[i])), d.get("score").asDouble(), 1e-6);
        }
        JsonNode pairs = ok(post(crossBase, "/score", "{\"model\": \"ce\", \"text_1\": [\"a\", \"b\"], \"text_2\": [\"c\", \"d\"]}"));
        float[][] l = {cross.rerank("a", List.of("c")), cross.rerank("b", List.of("d"))};
        for (int i = 0; i < 2; i++) assertEquals(1 / (1 + Math.exp(-l[i][0])), pairs.get("data").get(i).get("score").asDouble(), 1e-6);
        HttpResponse<String> bad = post(crossBase, "/v1/score", "{\"model\": \"ce\", \"text_1\": [\"a\", \"b\"], \"text_2\": [\"c\", \"d\", \"e\"]}");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("text_1 has 2 texts and text_2 3"), bad.body());
    }

    @Test
    void classifyGivesEachInputsProbabilitiesAndLabel() throws Exception {
        List<String> texts = List.of("good", "not-good-at-all");
        List<List<TextEncoder.Label>> want = nli.classify(texts);
        JsonNode r = ok(post(nliBase, "/classify", "{\"model\": \"nli\", \"input\": " + JSON.writeValueAsString(texts) + "}"));
        for (int i = 0; i < texts.size(); i++) {
            JsonNode d = r.get("data").get(i);
            assertEquals(3, d.get("num_classes").asInt());
            assertEquals(want.get(i).get(0).label(), d.get("label").asText());
            for (TextEncoder.Label l : want.get(i)) assertEquals(l.probability(), d.get("probs").get(l.id()).asDouble(), 1e-9);
        }
        HttpResponse<String> multi = post(nliBase, "/v1/rerank", "{\"model\": \"nli\", \"query\": \"q\", \"documents\": [\"a\"]}");
        assertEquals(400, multi.statusCode());
        assertTrue(multi.body().contains("3 labels") && multi.body().contains("/classify"), multi.body());
    }

    /** Whitespace words: "yes" 3, "no" 4, any other word a fixed id from its hash (10 … V − 1). */
    static final class WordTokenizer implements Tokenizer {
        @Override public int[] encode(String text, boolean special) {
            return java.util.Arrays.stream(text.split("\\s+")).filter(w -> !w.isEmpty())
                    .mapToInt(w -> w.equals("yes") ? 3 : w.equals("no") ? 4 : 10 + Math.floorMod(w.hashCode(), ServerTest.V - 10)).toArray();
        }
        @Override public String decode(int[] ids, boolean skip) { return java.util.Arrays.toString(ids); }
        @Override public Map<String, Integer> specialTokens() { return Map.of(); }
        @Override public String name() { return "words"; }
        @Override public void close() {}
    }

    /** A decoder served as a yes/no reranker: rerank and score are DecoderReranker's P(yes) in-process; it neither embeds nor classifies. */
    @Test
    void aDecoderRerankerScoresWithItsYesProbability() throws Exception {
        try (Weights w = Weights.random(ServerTest.gpt2Tiny(), backend, 34)) {
            WordTokenizer tok = new WordTokenizer();
            org.transformer4j.model.DecoderReranker r = org.transformer4j.model.DecoderReranker.qwen3(new Transformer(w, backend), tok);
            OpenAiServer server = OpenAiServer.reranker("qr", r, tok, OpenAiServer.Limits.defaults());
            try {
                String base = "http://127.0.0.1:" + server.start("127.0.0.1", 0);
                List<String> docs = List.of("paris is in france", "bananas are yellow", "the eiffel tower");
                double[] want = r.scores("where is paris", docs, null);
                JsonNode res = ok(post(base, "/v1/rerank", "{\"model\": \"qr\", \"query\": \"where is paris\", \"documents\": "
                        + JSON.writeValueAsString(docs) + "}")).get("results");
                assertEquals(3, res.size());
                for (JsonNode x : res) assertEquals(want[x.get("index").asInt()], x.get("relevance_score").asDouble(), 1e-9);
                double[] instructed = r.scores("where is paris", docs, "find facts");
                JsonNode sc = ok(post(base, "/v1/score", "{\"model\": \"qr\", \"text_1\": \"where is paris\", \"text_2\": "
                        + JSON.writeValueAsString(docs) + ", \"instruction\": \"find facts\"}")).get("data");
                for (int i = 0; i < docs.size(); i++) assertEquals(instructed[i], sc.get(i).get("score").asDouble(), 1e-9, "instruction");
                HttpResponse<String> c = post(base, "/classify", "{\"model\": \"qr\", \"input\": \"a\"}");
                assertEquals(400, c.statusCode());
                assertTrue(c.body().contains("this one reranks"), c.body());
                HttpResponse<String> e = post(base, "/v1/embeddings", "{\"model\": \"qr\", \"input\": \"a\"}");
                assertEquals(400, e.statusCode());
            } finally {
                server.close();
            }
        }
    }

    @Test
    void anEmbeddingModelScoresByCosineAndEmbedsAsItsFolderPools() throws Exception {
        List<String> texts = List.of("a-b-c", "dd");
        float[][] e = embed.embed(texts);
        JsonNode emb = ok(post(embedBase, "/v1/embeddings", "{\"model\": \"emb\", \"input\": " + JSON.writeValueAsString(texts) + "}"));
        for (int i = 0; i < texts.size(); i++) {
            JsonNode v = emb.get("data").get(i).get("embedding");
            for (int j = 0; j < e[i].length; j++) assertEquals(e[i][j], v.get(j).floatValue(), 0f, "CLS pooling, as the folder says");
        }
        double dot = 0;
        for (int j = 0; j < e[0].length; j++) dot += (double) e[0][j] * e[1][j];           // both normalised
        JsonNode s = ok(post(embedBase, "/v1/score", "{\"model\": \"emb\", \"text_1\": \"a-b-c\", \"text_2\": \"dd\"}"));
        assertEquals(dot, s.get("data").get(0).get("score").asDouble(), 1e-5);
        HttpResponse<String> none = post(embedBase, "/classify", "{\"model\": \"emb\", \"input\": \"a\"}");
        assertEquals(400, none.statusCode());
        assertTrue(none.body().contains("no classifier head"), none.body());
        HttpResponse<String> noQuery = post(embedBase, "/v1/rerank", "{\"model\": \"emb\", \"documents\": [\"a\"]}");
        assertEquals(400, noQuery.statusCode());
        assertTrue(noQuery.body().contains("query must be a string"), noQuery.body());
    }

    /**
     * OpenAI's dimensions, as vLLM takes it for a Matryoshka model: each vector cut to its first d entries and normalized
     * again (the pooling normalizes), against the full vectors of the same request without it; refused in vLLM's words for
     * a model that is not Matryoshka, a size the model does not list, 0, and more than the width.
     */
    @Test
    void dimensionsCutMatryoshkaVectorsAndAreRefusedElsewhere() throws Exception {
        String body = "{\"model\": \"emb\", \"input\": [\"abc\", \"hellothere\"]";
        HttpResponse<String> refused = post(embedBase, "/v1/embeddings", body + ", \"dimensions\": 16}");
        assertEquals(400, refused.statusCode());
        assertTrue(refused.body().contains("does not support matryoshka representation"), refused.body());
        OpenAiServer any = OpenAiServer.encoder("emb", embed, OpenAiServer.Limits.defaults(), OpenAiServer.SIGMOID).matryoshkaDimensions(List.of());
        OpenAiServer listed = OpenAiServer.encoder("emb", embed, OpenAiServer.Limits.defaults(), OpenAiServer.SIGMOID).matryoshkaDimensions(List.of(32, 16));
        try {
            String anyBase = "http://127.0.0.1:" + any.start("127.0.0.1", 0), listedBase = "http://127.0.0.1:" + listed.start("127.0.0.1", 0);
            JsonNode full = JSON.readTree(post(anyBase, "/v1/embeddings", body + "}").body()).get("data");
            JsonNode cut = JSON.readTree(post(anyBase, "/v1/embeddings", body + ", \"dimensions\": 16}").body()).get("data");
            for (int i = 0; i < 2; i++) {
                JsonNode f = full.get(i).get("embedding"), c = cut.get(i).get("embedding");
                assertEquals(64, f.size());
                assertEquals(16, c.size());
                double norm = 0;
                for (int j = 0; j < 16; j++) norm += f.get(j).asDouble() * f.get(j).asDouble();
                norm = Math.sqrt(norm);
                for (int j = 0; j < 16; j++) assertEquals(f.get(j).asDouble() / norm, c.get(j).asDouble(), 1e-6, "input " + i + " entry " + j);
            }
            assertEquals(200, post(listedBase, "/v1/embeddings", body + ", \"dimensions\": 32}").statusCode());
            String[][] bad = {{listedBase, "24", "only supports [32, 16] matryoshka dimensions"}, {anyBase, "0", "greater than 0"},
                    {anyBase, "65", "larger than the model's embedding size (64)"}};
            for (String[] x : bad) {
                HttpResponse<String> r = post(x[0], "/v1/embeddings", body + ", \"dimensions\": " + x[1] + "}");
                assertEquals(400, r.statusCode(), x[1]);
                assertTrue(r.body().contains(x[2]), r.body());
            }
        } finally {
            any.close();
            listed.close();
        }
    }

    /** Inputs as token arrays (OpenAI's, as vLLM takes them) give the vectors of the texts they encode; bad ids are 400s. */
    @Test
    void tokenArrayInputsEmbedAsTheirTexts() throws Exception {
        PairTokenizer tok = new PairTokenizer();
        int[] abc = tok.encode("abc", true), hello = tok.encode("hellothere", true);
        JsonNode texts = JSON.readTree(post(embedBase, "/v1/embeddings", "{\"model\": \"emb\", \"input\": [\"abc\", \"hellothere\"]}").body());
        JsonNode ids = JSON.readTree(post(embedBase, "/v1/embeddings", "{\"model\": \"emb\", \"input\": [" + java.util.Arrays.toString(abc) + ", "
                + java.util.Arrays.toString(hello) + "]}").body());
        JsonNode one = JSON.readTree(post(embedBase, "/v1/embeddings", "{\"model\": \"emb\", \"input\": " + java.util.Arrays.toString(abc) + "}").body());
        assertEquals(texts.get("usage"), ids.get("usage"));
        for (int i = 0; i < 2; i++) {
            JsonNode a = texts.at("/data/" + i + "/embedding"), b = ids.at("/data/" + i + "/embedding");
            assertEquals(a.size(), b.size());
            for (int j = 0; j < a.size(); j++) assertEquals(a.get(j).asDouble(), b.get(j).asDouble(), 1e-6, "input " + i + " entry " + j);
        }
        assertEquals(texts.at("/data/0/embedding"), one.at("/data/0/embedding"), "one array of ids: one input");
        for (String bad : new String[] {"[[1, 5000]]", "[[1, \"x\"]]", "[[1, 2], []]"}) {
            HttpResponse<String> r = post(embedBase, "/v1/embeddings", "{\"model\": \"emb\", \"input\": " + bad + "}");
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertTrue(r.body().contains("input"), r.body());
        }
    }
}
