// StructuredOutputsServerTest — response_format (json_object, json_schema), vLLM's structured_outputs and
// guided_choice end to end through HTTP on a tiny random decoder whose tokenizer spells every ASCII byte:
// replies that stop parse as JSON with the schema's shape, streamed and not, on both endpoints; replies cut
// by max_tokens end with finish_reason "length" and are a prefix the schema allows; bad fields are 400s
// that name them.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.guided.JsonAutomaton;
import org.transformer4j.model.guided.JsonSchemaCompiler;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class StructuredOutputsServerTest {

    static final int V = 128, EOS = 1;
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SCHEMA = "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"name\",\"ok\"],"
            + "\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},\"ok\":{\"type\":\"boolean\"},\"n\":{\"type\":\"integer\"}}}";

    /** Id 1 is EOS (decodes to nothing), 4..98 the printable ASCII bytes, 99 a newline, then merged pieces; the rest "?". */
    static final String[] PIECES = new String[V];
    static {
        java.util.Arrays.fill(PIECES, "?");
        PIECES[0] = PIECES[1] = PIECES[2] = PIECES[3] = "";
        for (int b = 0x20; b < 0x7F; b++) PIECES[4 + b - 0x20] = String.valueOf((char) b);
        PIECES[99] = "\n";
        String[] merged = {"{\"", "\":", "\",\"", "true", "false", "null", "name", "ok", "\"}", "12", "abc", "yes", "no"};
        for (int i = 0; i < merged.length; i++) PIECES[100 + i] = merged[i];
    }

    static final class PieceTokenizer implements Tokenizer {
        @Override public int[] encode(String text, boolean special) { return new int[] {4 + 'Q' - 0x20}; }
        @Override public String decode(int[] ids, boolean skip) {
            StringBuilder b = new StringBuilder();
            for (int i : ids) b.append(PIECES[i]);
            return b.toString();
        }
        @Override public Map<String, Integer> specialTokens() { return Map.of("<eos>", EOS); }
        @Override public String name() { return "pieces"; }
        @Override public void close() {}
    }

    static Backend backend;
    static Weights weights;
    static Engine engine;
    static OpenAiServer server;
    static String base;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        TransformerConfig c = TransformerConfig.builder().vocabSize(V).widths(64, 128, 2).encoderLayers(0).decoderLayers(1)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.GELU_TANH, false).learnedPositions(128).biases(true)
                .tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(0, EOS, 0, EOS, 0)).build();
        weights = Weights.random(c, backend, 3);
        Transformer model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        ChatTemplate template = (ms, kwargs) -> new int[] {4 + 'Q' - 0x20, 4 + '?' - 0x20};
        server = OpenAiServer.decoder("m", engine, new PieceTokenizer(), template, OpenAiServer.Limits.defaults(), Set.of(EOS));
        base = "http://127.0.0.1:" + server.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        if (server != null) server.close();
        if (engine != null) engine.close();
        if (weights != null) weights.close();
        if (backend != null) backend.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String chat(String extra, int maxTokens, long seed) {
        return "{\"model\":\"m\",\"max_tokens\":" + maxTokens + ",\"temperature\":1.3,\"seed\":" + seed
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]" + extra + "}";
    }

    /** [text, finish_reason] of a chat reply or a completion, streamed or not. */
    static String[] reply(String path, String body, boolean stream) throws Exception {
        HttpResponse<String> r = post(path, stream ? body.substring(0, body.length() - 1) + ",\"stream\":true}" : body);
        assertEquals(200, r.statusCode(), r.body());
        boolean isChat = path.contains("chat");
        if (!stream) {
            JsonNode c = JSON.readTree(r.body()).at("/choices/0");
            return new String[] {isChat ? c.at("/message/content").asText() : c.path("text").asText(), c.path("finish_reason").asText()};
        }
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
            JsonNode c = JSON.readTree(line.substring(6)).at("/choices/0");
            if (c.isMissingNode()) continue;
            JsonNode piece = isChat ? c.at("/delta/content") : c.path("text");
            if (piece.isTextual()) text.append(piece.asText());
            if (c.hasNonNull("finish_reason")) finish = c.get("finish_reason").asText();
        }
        return new String[] {text.toString(), finish};
    }

    static JsonAutomaton.State prefix(JsonAutomaton.Node grammar, String text) {
        return JsonAutomaton.State.start(grammar).advance(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void jsonSchemaRepliesHaveTheSchemasShapeStreamedAndNot() throws Exception {
        String rf = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\",\"strict\":true,\"schema\":" + SCHEMA + "}}";
        JsonAutomaton.Node grammar = JsonSchemaCompiler.compile(SCHEMA);
        int stopped = 0;
        for (long seed = 0; seed < 8; seed++) {
            for (boolean stream : new boolean[] {false, true}) {
                String[] r = reply("/v1/chat/completions", chat(rf, 60, seed), stream);
                if (r[1].equals("stop")) {
                    stopped++;
                    JsonNode doc = JSON.readTree(r[0]);
                    assertTrue(doc.path("name").isTextual() && doc.path("name").asText().codePointCount(0, doc.path("name").asText().length()) <= 8, r[0]);
                    assertTrue(doc.path("ok").isBoolean(), r[0]);
                    assertTrue(!doc.has("n") || doc.get("n").isIntegralNumber(), r[0]);
                    assertTrue(doc.size() <= 3, r[0]);
                } else {
                    assertEquals("length", r[1]);
                    assertNotNull(prefix(grammar, r[0]), "cut short but not a prefix of the schema's values: " + r[0]);
                }
            }
        }
        assertTrue(stopped >= 4, "only " + stopped + " of 16 replies completed");
    }

    @Test
    void jsonObjectModeOnBothEndpoints() throws Exception {
        int stopped = 0;
        for (long seed = 0; seed < 6; seed++) {
            String[] chat = reply("/v1/chat/completions", chat(",\"response_format\":{\"type\":\"json_object\"}", 60, seed), seed % 2 == 0);
            String[] comp = reply("/v1/completions", "{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":60,\"temperature\":1.3,\"seed\":" + seed
                    + ",\"response_format\":{\"type\":\"json_object\"}}", seed % 2 == 1);
            for (String[] r : List.of(chat, comp)) {
                if (!r[1].equals("stop")) {
                    assertNotNull(prefix(JsonAutomaton.jsonObjectMode(), r[0]), r[0]);
                    continue;
                }
                stopped++;
                JsonNode doc = JSON.readTree(r[0]);
                assertTrue(doc.isObject() || doc.isArray(), r[0]);
            }
        }
        assertTrue(stopped >= 4, "only " + stopped + " of 12 replies completed");
    }

    @Test
    void maxTokensCutsWithLengthAndChoicesAreVerbatim() throws Exception {
        String[] r = reply("/v1/chat/completions", chat(",\"response_format\":{\"type\":\"json_object\"}", 2, 1), false);
        assertEquals("length", r[1]);
        assertNotNull(prefix(JsonAutomaton.jsonObjectMode(), r[0]), r[0]);
        List<String> choices = List.of("yes", "no", "maybe so");
        for (long seed = 0; seed < 4; seed++) {
            for (String field : List.of(",\"guided_choice\":[\"yes\",\"no\",\"maybe so\"]", ",\"structured_outputs\":{\"choice\":[\"yes\",\"no\",\"maybe so\"]}")) {
                String[] c = reply("/v1/chat/completions", chat(field, 20, seed), seed % 2 == 0);
                assertEquals("stop", c[1]);
                assertTrue(choices.contains(c[0]), c[0]);
            }
            String[] j = reply("/v1/chat/completions", chat(",\"structured_outputs\":{\"json\":" + JSON.writeValueAsString(SCHEMA) + "}", 60, seed), false);
            if (j[1].equals("stop")) assertTrue(JSON.readTree(j[0]).path("ok").isBoolean(), j[0]);
        }
    }

    @Test
    void badFieldsAreNamed() throws Exception {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {",\"response_format\":{\"type\":\"yaml\"}", "response_format.type", "yaml"});
        cases.add(new String[] {",\"response_format\":{\"type\":\"json_schema\"}", "response_format.json_schema", "json_schema"});
        cases.add(new String[] {",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                + "{\"type\":\"string\",\"pattern\":\"^a\"}}}", "response_format.json_schema.schema", "'pattern'"});
        cases.add(new String[] {",\"guided_regex\":\"a+\"", "guided_regex", "not supported"});
        cases.add(new String[] {",\"structured_outputs\":{\"grammar\":\"root ::= x\"}", "structured_outputs.grammar", "not supported"});
        cases.add(new String[] {",\"structured_outputs\":{\"json\":{},\"choice\":[\"a\"]}", "structured_outputs", "exactly one"});
        cases.add(new String[] {",\"response_format\":{\"type\":\"json_object\"},\"guided_json\":{}", "guided_json", "not several"});
        cases.add(new String[] {",\"guided_choice\":[]", "guided_choice", "non-empty"});
        for (String[] c : cases) {
            HttpResponse<String> r = post("/v1/chat/completions", chat(c[0], 10, 0));
            assertEquals(400, r.statusCode(), c[0] + ": " + r.body());
            JsonNode e = JSON.readTree(r.body()).path("error");
            assertEquals(c[1], e.path("param").asText(), r.body());
            assertTrue(e.path("message").asText().contains(c[2]), r.body());
        }
        String[] text = reply("/v1/chat/completions", chat(",\"response_format\":{\"type\":\"text\"}", 5, 0), false);
        assertEquals("length", text[1]);                                   // type text: unconstrained
    }
}
