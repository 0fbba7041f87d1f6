// ToolChoiceServerTest — tool_choice "required" and a named function, forced with guided decoding as vLLM forces them,
// end to end through HTTP and the official openai-java client on StructuredOutputsServerTest's tiny random decoder
// (whose vocabulary spells JSON): every completed call's arguments parse and validate (networknt) against its tool's
// schema, its name is among the tools, finish_reason is vLLM's ("stop" for a named function, "tool_calls" for
// "required"), streamed and not; no tool-call parser is needed; the template still gets the tools; schemas the compiler
// refuses and unknown names are 400s.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.guided.JsonAutomaton;
import org.transformer4j.model.guided.JsonSchemaCompiler;

class ToolChoiceServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String WEATHER = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":6},"
            + "\"unit\":{\"enum\":[\"C\",\"F\"]}},\"required\":[\"city\"]}";
    static final String TIME = "{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\",\"enum\":[\"UTC\",\"CET\"]}},\"required\":[\"tz\"]}";
    /** Three tools: two with parameters, one (ping) without, which vLLM forces as {}. */
    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":" + WEATHER + "}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"parameters\":" + TIME + "}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"ping\"}}]";
    static final Map<String, String> SCHEMAS = Map.of("get_weather", WEATHER, "get_time", TIME, "ping", "{\"type\":\"object\",\"properties\":{}}");
    static final String NAMED = ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}";

    static final List<Map<String, Object>> KWARGS = new CopyOnWriteArrayList<>();
    static OpenAiServer server;
    static String base;

    @BeforeAll
    static void setUp() {
        StructuredOutputsServerTest.setUp();
        ChatTemplate template = (ms, kwargs) -> {
            KWARGS.add(kwargs);
            return new int[] {4 + 'Q' - 0x20, 4 + '?' - 0x20};
        };
        // no tool-call parser: "required" and named choices need none, as in vLLM
        server = OpenAiServer.decoder("m", StructuredOutputsServerTest.engine, new StructuredOutputsServerTest.PieceTokenizer(), template,
                OpenAiServer.Limits.defaults(), Set.of(StructuredOutputsServerTest.EOS));
        base = "http://127.0.0.1:" + server.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        if (server != null) server.close();
        StructuredOutputsServerTest.tearDown();
    }

    static String body(String extra, long seed) {
        return "{\"model\":\"m\",\"max_tokens\":110,\"temperature\":1.3,\"seed\":" + seed
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}],\"tools\":" + TOOLS + extra + "}";
    }

    /** The arguments of a call to {@code name}, parsed (Jackson) and validated (networknt) against that tool's schema. */
    static void assertValid(String name, String arguments) throws Exception {
        assertTrue(SCHEMAS.containsKey(name), name);
        JsonNode args = JSON.readTree(arguments);
        List<?> errors = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(JSON.readTree(SCHEMAS.get(name))).validate(args);
        assertTrue(errors.isEmpty(), name + " " + arguments + ": " + errors);
        assertTrue(args.isObject(), arguments);
        for (var k : args.properties()) assertTrue(JSON.readTree(SCHEMAS.get(name)).path("properties").has(k.getKey()), "strict: " + arguments);
    }

    /** [finish_reason, content, tool_calls (each {id, type, function})] of a reply, streamed (deltas gathered) or not. */
    static Object[] reply(String body, boolean stream) throws Exception {
        if (!stream) {
            HttpResponse<String> r = ReasoningServerTest.post(base, "/v1/chat/completions", body);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode c = JSON.readTree(r.body()).at("/choices/0");
            JsonNode m = c.get("message");
            return new Object[] {c.path("finish_reason").asText(), m.get("content").isNull() ? null : m.get("content").asText(),
                    m.has("tool_calls") ? m.get("tool_calls") : JSON.createArrayNode()};
        }
        StringBuilder content = new StringBuilder();
        ArrayNode calls = JSON.createArrayNode();
        String finish = null;
        for (JsonNode c : ReasoningServerTest.choices(base, body)) {
            content.append(c.at("/delta/content").asText(""));
            ToolServerTest.gather(calls, c.at("/delta/tool_calls"));
            if (c.hasNonNull("finish_reason")) finish = c.get("finish_reason").asText();
        }
        return new Object[] {finish, content.toString(), calls};
    }

    static void assertCallShape(JsonNode call) {
        assertTrue(call.path("id").asText().matches(ToolServerTest.VLLM_ID), call.toString());
        assertEquals("function", call.path("type").asText(), call.toString());
    }

    @Test
    void aNamedFunctionIsCalledWithArgumentsItsSchemaAllowsStreamedAndNot() throws Exception {
        JsonAutomaton.Node grammar = JsonSchemaCompiler.compile(WEATHER);
        int stopped = 0;
        for (long seed = 0; seed < 6; seed++) {
            for (boolean stream : new boolean[] {false, true}) {
                Object[] r = reply(body(NAMED, seed), stream);
                JsonNode calls = (JsonNode) r[2];
                assertEquals(1, calls.size(), calls.toString());
                assertCallShape(calls.get(0));
                assertEquals("get_weather", calls.get(0).at("/function/name").asText());
                assertEquals("", r[1], "vLLM: content \"\" beside a forced call");
                String args = calls.get(0).at("/function/arguments").asText();
                if (r[0].equals("stop")) {                                 // OpenAI's and vLLM's reason for a named function
                    stopped++;
                    assertValid("get_weather", args);
                } else {
                    assertEquals("length", r[0]);
                    assertNotNull(JsonAutomaton.State.start(grammar).advance(args.getBytes(java.nio.charset.StandardCharsets.UTF_8)), args);
                }
            }
        }
        assertTrue(stopped >= 6, "only " + stopped + " of 12 named calls completed");
        Map<String, Object> kw = KWARGS.get(KWARGS.size() - 1);
        assertEquals(3, ((List<?>) kw.get("tools")).size(), "the template still gets the tools: " + kw);
    }

    @Test
    void requiredGivesCallsOfTheToolsStreamedAndNot() throws Exception {
        int stopped = 0;
        for (long seed = 0; seed < 8; seed++) {
            for (boolean stream : new boolean[] {false, true}) {
                Object[] r = reply(body(",\"tool_choice\":\"required\"", seed), stream);
                JsonNode calls = (JsonNode) r[2];
                if (r[0].equals("tool_calls")) {
                    stopped++;
                    assertTrue(calls.size() >= 1, calls.toString());
                    assertEquals("", r[1]);
                    for (JsonNode c : calls) {
                        assertCallShape(c);
                        assertValid(c.at("/function/name").asText(), c.at("/function/arguments").asText());
                    }
                } else {
                    assertEquals("length", r[0], "required ends in tool_calls or length: " + r[1]);
                    assertEquals(0, calls.size(), "a cut array is no calls: " + calls);
                }
            }
        }
        assertTrue(stopped >= 6, "only " + stopped + " of 16 required replies completed");
    }

    @Test
    void requiredArgumentsAreJsonDumpsOfTheParameters() throws Exception {
        for (long seed = 0; seed < 6; seed++) {
            Object[] r = reply(body(",\"tool_choice\":\"required\",\"parallel_tool_calls\":false", seed), false);
            JsonNode calls = (JsonNode) r[2];
            assertTrue(calls.size() <= 1, "parallel_tool_calls false keeps the first: " + calls);
            for (JsonNode c : calls) {
                String args = c.at("/function/arguments").asText();
                JsonNode parsed = JSON.readTree(args);
                assertEquals(org.transformer4j.model.chat.PythonJson.dumps(JSON.convertValue(parsed, Object.class)), args,
                        "vLLM's json.dumps layout");
            }
        }
    }

    /** max_tokens cuts: "required" gives no calls and its text as content, a named function its call with the text so far (vLLM). */
    @Test
    void aCutReplyEndsWithLength() throws Exception {
        for (boolean stream : new boolean[] {false, true}) {
            Object[] r = reply(body(",\"tool_choice\":\"required\"", 0).replace("\"max_tokens\":110", "\"max_tokens\":3"), stream);
            assertEquals("length", r[0]);
            assertEquals(0, ((JsonNode) r[2]).size(), r[2].toString());
            assertTrue(((String) r[1]).startsWith("["), "the cut array is content: " + r[1]);
            Object[] n = reply(body(NAMED, 0).replace("\"max_tokens\":110", "\"max_tokens\":3"), stream);
            assertEquals("length", n[0]);
            assertTrue(((JsonNode) n[2]).at("/0/function/arguments").asText().startsWith("{"), n[2].toString());
        }
    }

    /**
     * With a reasoning parser (deepseek_r1) and a prompt that closed the reasoning (it ends with {@code </think>}, as a
     * template renders thinking off): the forced JSON begins at the first token and is read as the call, not as reasoning.
     * (A reply that reasons first: ReasoningGuidedServerTest.)
     */
    @Test
    void aPromptThatClosedTheReasoningIsForcedFromItsFirstToken() throws Exception {
        int[] closed = ("Q</think>").chars().map(ch -> 4 + ch - 0x20).toArray();
        OpenAiServer r = OpenAiServer.decoder("m", StructuredOutputsServerTest.engine, new StructuredOutputsServerTest.PieceTokenizer(),
                (ms, kwargs) -> closed, OpenAiServer.Limits.defaults(), Set.of(StructuredOutputsServerTest.EOS))
                .reasoningParser(ReasoningParser.named("deepseek_r1"));
        String rbase = "http://127.0.0.1:" + r.start("127.0.0.1", 0);
        try {
            int stopped = 0;
            for (long seed = 0; seed < 4; seed++) {
                HttpResponse<String> h = ReasoningServerTest.post(rbase, "/v1/chat/completions", body(NAMED, seed));
                assertEquals(200, h.statusCode(), h.body());
                JsonNode c = JSON.readTree(h.body()).at("/choices/0");
                assertTrue(!c.at("/message/reasoning").isTextual(), c.toString());
                if (!c.path("finish_reason").asText().equals("stop")) continue;
                stopped++;
                assertValid("get_weather", c.at("/message/tool_calls/0/function/arguments").asText());
            }
            assertTrue(stopped >= 2, "only " + stopped + " of 4 completed");
        } finally {
            r.close();
        }
    }

    static FunctionDefinition function(String name, String schema) throws Exception {
        FunctionParameters.Builder p = FunctionParameters.builder();
        for (var e : JSON.readTree(schema).properties()) p.putAdditionalProperty(e.getKey(), JsonValue.from(JSON.convertValue(e.getValue(), Object.class)));
        return FunctionDefinition.builder().name(name).parameters(p.build()).build();
    }

    @Test
    void theOpenAiClientReadsForcedCallsStreamedAndNot() throws Exception {
        OpenAIClient client = com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey("unused").maxRetries(0)
                .timeout(java.time.Duration.ofSeconds(60)).build();
        ChatCompletionCreateParams named = ChatCompletionCreateParams.builder().model("m").addUserMessage("go")
                .addFunctionTool(function("get_weather", WEATHER)).addFunctionTool(function("get_time", TIME))
                .maxCompletionTokens(110).temperature(1.3).seed(1)
                .toolChoice(ChatCompletionNamedToolChoice.builder().function(ChatCompletionNamedToolChoice.Function.builder().name("get_time").build()).build())
                .build();
        ChatCompletionCreateParams required = named.toBuilder().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
        int checked = 0;
        for (ChatCompletionCreateParams params : List.of(named, required)) {
            List<ChatCompletion> replies = new ArrayList<>();
            replies.add(client.chat().completions().create(params));
            ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
                s.stream().forEach(acc::accumulate);
            }
            replies.add(acc.chatCompletion());
            for (ChatCompletion c : replies) {
                ChatCompletion.Choice.FinishReason reason = c.choices().get(0).finishReason();
                if (reason.equals(ChatCompletion.Choice.FinishReason.LENGTH)) continue;
                assertEquals(params == named ? ChatCompletion.Choice.FinishReason.STOP : ChatCompletion.Choice.FinishReason.TOOL_CALLS, reason);
                List<ChatCompletionMessageToolCall> calls = c.choices().get(0).message().toolCalls().orElseThrow();
                assertTrue(!calls.isEmpty());
                for (ChatCompletionMessageToolCall call : calls) {
                    String name = call.asFunction().function().name();
                    if (params == named) assertEquals("get_time", name);
                    assertTrue(Set.of("get_weather", "get_time").contains(name), name);
                    assertValid(name, call.asFunction().function().arguments());
                    assertTrue(call.asFunction().id().matches(ToolServerTest.VLLM_ID));
                    checked++;
                }
            }
        }
        assertTrue(checked >= 2, "only " + checked + " calls completed");
    }

    static void assert400(String extra, String tools, String param, String... words) throws Exception {
        String b = "{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}],\"tools\":" + tools + extra + "}";
        HttpResponse<String> r = ReasoningServerTest.post(base, "/v1/chat/completions", b);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertEquals(param, e.path("param").asText(), r.body());
        for (String w : words) assertTrue(e.path("message").asText().contains(w), w + " in " + r.body());
    }

    @Test
    void badForcedChoicesAre400s() throws Exception {
        String patterned = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":" + WEATHER + "}},"
                + "{\"type\":\"function\",\"function\":{\"name\":\"find\",\"parameters\":{\"type\":\"object\",\"properties\":"
                + "{\"q\":{\"type\":\"string\",\"pattern\":\"^a\"}}}}}]";
        assert400(",\"tool_choice\":\"required\"", patterned, "tools", "'pattern'", "'find'");
        assert400(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"find\"}}", patterned, "tools", "'pattern'", "'find'");
        assert400(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}", TOOLS, "tool_choice", "does not match any of the specified `tools`");
        assert400(NAMED + ",\"structured_outputs\":{\"choice\":[\"a\"]}", TOOLS, "structured_outputs", "tool_choice");
        assert400(",\"tool_choice\":\"required\",\"guided_json\":{}", TOOLS, "guided_json", "tool_choice");
        // a named tool whose schema is fine, beside one that is not, is forced all the same
        Object[] ok = reply(body(NAMED, 0).replace("\"tools\":" + TOOLS, "\"tools\":" + patterned), false);
        assertEquals("get_weather", ((JsonNode) ok[2]).at("/0/function/name").asText());
        // response_format beside a forced call: the tool's schema wins, as vLLM sets it over response_format
        Object[] rf = reply(body(NAMED + ",\"response_format\":{\"type\":\"json_object\"}", 1), false);
        JsonNode call = ((JsonNode) rf[2]).get(0);
        if (rf[0].equals("stop")) assertValid("get_weather", call.at("/function/arguments").asText());
    }
}
