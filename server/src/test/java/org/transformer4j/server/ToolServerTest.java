// ToolServerTest — tool calling end to end through the HTTP server, as vLLM serves it, with a model whose replies are
// set (ChainModel: markers split across tokens, special tokens as single tokens): the official openai-java client reads
// message.tool_calls and accumulates streamed delta.tool_calls (a call's header, then its arguments in fragments) to
// the same calls, and sends them back; each parser's reply format; a malformed call as content; reasoning beside
// calls; parallel_tool_calls; tool_choice "none" and the 400s vLLM answers ("required" and named choices: ToolChoiceServerTest); and the real Qwen3 and gpt-oss
// templates given a tool-call round trip as a client sends it (arguments as JSON strings, content null), rendering
// exactly what @huggingface/jinja renders with dict arguments (ci/chat-reference).
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.chat.Message;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class ToolServerTest {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Each chain: what the model writes after the prompt's start token, EOS last (for gpt-oss, EOS is its <|call|>). */
    static final Map<String, List<String>> CHAINS = new LinkedHashMap<>();
    static {
        CHAINS.put("hermes", List.of("I'll check.", "\n<tool", "_call>", "\n{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": \"Zürich\"}}",
                "\n</tool_call>", "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"));
        CHAINS.put("pieces", List.of("<tool_call>", "{\"name\": \"get_weather\", \"arguments\": {", "\"city\": \"Zü", "rich\", \"days\": ", "3}}",
                "</tool_call>"));
        CHAINS.put("bad", List.of("<tool_call>", "{\"name\": \"get_weather\", ", "\"arguments\": {oops}}", "</tool_call>"));
        CHAINS.put("cut", List.of("Let me see.", "<tool_call>", "{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": ", "\"Zü"));
        CHAINS.put("plain", List.of("Hello", " there"));
        CHAINS.put("think", List.of("<think>", "\nweather?\n", "</think>", "\n\n", "<tool_call>",
                "\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n", "</tool_call>"));
        CHAINS.put("llama", List.of("<|python_tag|>", "{\"name\": \"get_weather\", ", "\"parameters\": {\"city\": \"Oslo\"}}", "; ",
                "{\"name\": \"get_time\", \"parameters\": {}}"));
        CHAINS.put("mistral", List.of("[TOOL_CALLS]", "get_weather", "[ARGS]", "{\"city\": \"Paris\"}"));
        CHAINS.put("harmony", List.of("<|channel|>", "analysis", "<|message|>", "Need weather.", "<|end|>", "<|start|>", "assistant", "<|channel|>",
                "commentary to=functions.get_weather ", "<|constrain|>", "json", "<|message|>", "{\"city\":", "\"Zürich\"}"));
    }

    static final ChainModel CHAIN = new ChainModel(100, CHAINS);
    static final List<Seen> SEEN = new CopyOnWriteArrayList<>();

    /** What the template was given: the messages and the variables (tools among them). */
    record Seen(List<ChatTemplate.Message> messages, Map<String, Object> kwargs) {}

    /** The last user message names the chain. */
    static final ChatTemplate TEMPLATE = (ms, kwargs) -> {
        SEEN.add(new Seen(ms, kwargs));
        for (int i = ms.size() - 1; i >= 0; i--) if (ms.get(i).role().equals("user")) return new int[] {CHAIN.start(ms.get(i).content())};
        throw new IllegalArgumentException("no user message");
    };

    static Backend backend;
    static Weights weights;
    static Engine engine;
    static final Map<String, OpenAiServer> SERVERS = new LinkedHashMap<>();
    static final Map<String, String> BASE = new LinkedHashMap<>();
    static final List<String> RENDERED = new CopyOnWriteArrayList<>();

    static void serve(String key, OpenAiServer s) {
        SERVERS.put(key, s);
        BASE.put(key, "http://127.0.0.1:" + s.start("127.0.0.1", 0));
    }

    static OpenAiServer decoder(ChatTemplate t) {
        return OpenAiServer.decoder("m", engine, CHAIN.tokenizer(), t, OpenAiServer.Limits.defaults(), Set.of(ChainModel.EOS));
    }

    @BeforeAll
    static void setUp() throws Exception {
        backend = new CpuBackend();
        weights = CHAIN.weights(backend);
        Transformer model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        serve("hermes", decoder(TEMPLATE).toolCallParser(ToolParser.named("hermes")));
        serve("qwen3", decoder(TEMPLATE).reasoningParser(ReasoningParser.named("qwen3")).toolCallParser(ToolParser.named("hermes")));
        serve("llama", decoder(TEMPLATE).toolCallParser(ToolParser.named("llama3_json")));
        serve("mistral", decoder(TEMPLATE).toolCallParser(ToolParser.named("mistral")));
        serve("harmony", decoder(TEMPLATE).reasoningParser(ReasoningParser.named("gpt_oss")).toolCallParser(ToolParser.named("openai")));
        serve("plain", decoder(TEMPLATE));
        serve("qwen3-template", decoder(realTemplate(qwen3Template(), reference("qwen3").get("special"))));
        serve("gpt-oss-template", decoder(realTemplate(resourceText("gpt-oss/chat_template.jinja"), JSON.createObjectNode())));
    }

    @AfterAll
    static void tearDown() {
        for (OpenAiServer s : SERVERS.values()) s.close();
        if (engine != null) engine.close();
        if (weights != null) weights.close();
        if (backend != null) backend.close();
    }

    static OpenAIClient client(String key) {
        return com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl(BASE.get(key) + "/v1").apiKey("unused").maxRetries(0)
                .timeout(java.time.Duration.ofSeconds(60)).build();
    }

    static final FunctionDefinition WEATHER = FunctionDefinition.builder().name("get_weather").description("Weather in a city")
            .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                    .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string")))).build()).build();
    static final String TOOLS = "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\"}}},"
            + " {\"type\": \"function\", \"function\": {\"name\": \"get_time\"}}]";

    static ChatCompletionCreateParams params(String chain) {
        return ChatCompletionCreateParams.builder().model("m").addUserMessage(chain).addFunctionTool(WEATHER).maxCompletionTokens(40).temperature(0).build();
    }

    /** A chat request's body for {@code chain}, with {@code extra} fields (", ..."). */
    static String body(String chain, String extra) {
        return "{\"model\": \"m\", \"max_tokens\": 40, \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"" + chain + "\"}]"
                + extra + "}";
    }

    static JsonNode reply(String key, String body) throws Exception {
        HttpResponse<String> r = ReasoningServerTest.post(BASE.get(key), "/v1/chat/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** The streamed chunks' first choices. */
    static List<JsonNode> chunks(String key, String body) throws Exception {
        return ReasoningServerTest.choices(BASE.get(key), body);
    }

    /** name → arguments of a message's tool_calls, each checked to be vLLM's shape. */
    static List<List<String>> calls(JsonNode toolCalls, String idPattern) {
        List<List<String>> out = new ArrayList<>();
        for (JsonNode c : toolCalls) {
            assertTrue(c.path("id").asText().matches(idPattern), c.toString());
            assertEquals("function", c.path("type").asText(), c.toString());
            out.add(List.of(c.at("/function/name").asText(), c.at("/function/arguments").asText()));
        }
        return out;
    }

    static final String VLLM_ID = "chatcmpl-tool-[0-9a-f]{32}";

    /**
     * Adds a delta's tool_calls to {@code calls} as a client accumulates them (each with its index): a call's first entry
     * is its header (id, type, name, arguments ""), once, in order; the others only add fragments of its arguments.
     */
    static void gather(ArrayNode calls, JsonNode toolCalls) {
        for (JsonNode t : toolCalls) {
            int i = t.get("index").asInt();
            if (t.has("id")) {
                assertEquals(calls.size(), i, "a call's header comes once, in order: " + t);
                assertEquals("", t.at("/function/arguments").asText(), "a header carries no arguments yet: " + t);
                calls.add(((ObjectNode) t.deepCopy()).without("index"));
            } else {
                assertTrue(i < calls.size(), "a fragment comes after its call's header: " + t);
                assertFalse(t.has("type") || t.get("function").has("name"), "a fragment carries arguments only: " + t);
                ObjectNode f = (ObjectNode) calls.get(i).get("function");
                f.put("arguments", f.get("arguments").asText() + t.at("/function/arguments").asText());
            }
        }
    }

    /** The reply and the stream of one chain: the message's calls, content and reasoning, and the same from the deltas. */
    static void assertReply(String key, String chain, List<List<String>> calls, String content, String reasoning, String idPattern) throws Exception {
        JsonNode whole = reply(key, body(chain, ", \"tools\": " + TOOLS));
        JsonNode m = whole.at("/choices/0/message");
        assertEquals(calls, calls(m.get("tool_calls"), idPattern), m.toString());
        assertEquals(content, m.get("content").isNull() ? null : m.get("content").asText(), m.toString());
        if (reasoning != null) assertEquals(reasoning, m.get("reasoning").asText(), m.toString());
        assertEquals("tool_calls", whole.at("/choices/0/finish_reason").asText());
        List<JsonNode> cs = chunks(key, body(chain, ", \"tools\": " + TOOLS));
        StringBuilder text = new StringBuilder(), thought = new StringBuilder();
        ArrayNode streamed = JSON.createArrayNode();
        for (JsonNode c : cs) {
            JsonNode d = c.get("delta");
            text.append(d.path("content").asText(""));
            thought.append(d.path("reasoning").asText(""));
            gather(streamed, d.path("tool_calls"));
        }
        assertEquals(calls, calls(streamed, idPattern));
        assertEquals(content == null ? "" : content, text.toString());
        if (reasoning != null) assertEquals(reasoning, thought.toString());
        assertEquals("tool_calls", cs.get(cs.size() - 1).get("finish_reason").asText());
        for (JsonNode c : cs) assertFalse(c.get("delta").path("content").asText("").contains("<tool"), "a marker leaked: " + c);
    }

    @Test
    void theOpenAiClientReadsHermesCallsStreamedAndNot() {
        OpenAIClient client = client("hermes");
        ChatCompletion c = client.chat().completions().create(params("hermes"));
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c.choices().get(0).finishReason());
        ChatCompletionMessage m = c.choices().get(0).message();
        assertEquals("I'll check.\n", m.content().orElseThrow());
        List<ChatCompletionMessageToolCall> calls = m.toolCalls().orElseThrow();
        assertEquals(2, calls.size());
        ChatCompletionMessageFunctionToolCall weather = calls.get(0).asFunction();
        assertEquals("get_weather", weather.function().name());
        assertEquals("{\"city\": \"Zürich\"}", weather.function().arguments());
        assertEquals(Map.of("city", "Zürich"), weather.function().arguments(Map.class));
        assertEquals("get_time", calls.get(1).asFunction().function().name());
        assertEquals("{}", calls.get(1).asFunction().function().arguments());
        assertTrue(weather.id().matches(VLLM_ID), weather.id());

        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params("hermes"))) {
            s.stream().forEach(acc::accumulate);
        }
        ChatCompletion streamed = acc.chatCompletion();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, streamed.choices().get(0).finishReason());
        assertEquals("I'll check.\n", streamed.choices().get(0).message().content().orElseThrow());
        List<ChatCompletionMessageToolCall> got = streamed.choices().get(0).message().toolCalls().orElseThrow();
        assertEquals(2, got.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(calls.get(i).asFunction().function().name(), got.get(i).asFunction().function().name());
            assertEquals(calls.get(i).asFunction().function().arguments(), got.get(i).asFunction().function().arguments());
            assertTrue(got.get(i).asFunction().id().matches(VLLM_ID));
        }
    }

    /**
     * A call streams as vLLM streams it: its header, then its arguments in fragments as the model writes them (here
     * three: a key and its value's start, the value's end, the next key and value with the closing brace), which the
     * openai-java client's accumulator joins into the non-streamed reply's arguments.
     */
    @Test
    void theArgumentsOfACallArriveInFragmentsAndTheClientJoinsThem() throws Exception {
        List<JsonNode> cs = chunks("hermes", body("pieces", ", \"tools\": " + TOOLS));
        List<String> fragments = new ArrayList<>();
        ArrayNode streamed = JSON.createArrayNode();
        for (JsonNode c : cs) {
            gather(streamed, c.get("delta").path("tool_calls"));
            for (JsonNode t : c.get("delta").path("tool_calls")) if (!t.has("id")) fragments.add(t.at("/function/arguments").asText());
        }
        assertEquals(List.of("{\"city\": \"Zü", "rich\"", ", \"days\": 3}"), fragments);
        assertEquals("tool_calls", cs.get(cs.size() - 1).get("finish_reason").asText());

        OpenAIClient client = client("hermes");
        ChatCompletionMessageFunctionToolCall whole = client.chat().completions().create(params("pieces")).choices().get(0).message()
                .toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("{\"city\": \"Zürich\", \"days\": 3}", whole.function().arguments());
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        int chunksWithArguments = 0;
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params("pieces"))) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
                acc.accumulate(chunk);
                for (ChatCompletionChunk.Choice.Delta.ToolCall t : chunk.choices().get(0).delta().toolCalls().orElse(List.of())) {
                    if (t.function().flatMap(ChatCompletionChunk.Choice.Delta.ToolCall.Function::arguments).filter(a -> !a.isEmpty()).isPresent()) {
                        chunksWithArguments++;
                    }
                }
            }
        }
        assertTrue(chunksWithArguments > 1, "the arguments came in " + chunksWithArguments + " fragments");
        ChatCompletion streamedReply = acc.chatCompletion();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, streamedReply.choices().get(0).finishReason());
        ChatCompletionMessageFunctionToolCall got = streamedReply.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("get_weather", got.function().name());
        assertEquals(whole.function().arguments(), got.function().arguments());
        assertTrue(got.id().matches(VLLM_ID), got.id());
    }

    /**
     * The client sends the calls back with their result: the template gets the arguments as an object (vLLM's
     * _postprocess_messages), null content as "", and the tool message's tool_call_id; the tools reach it too.
     */
    @Test
    void aRoundTripReachesTheTemplateWithArgumentsAsObjects() {
        OpenAIClient client = client("hermes");
        ChatCompletionMessage m = client.chat().completions().create(params("hermes")).choices().get(0).message();
        String id = m.toolCalls().orElseThrow().get(0).asFunction().id();
        SEEN.clear();
        ChatCompletion next = client.chat().completions().create(ChatCompletionCreateParams.builder().model("m").addUserMessage("plain")
                .addMessage(m).addMessage(ChatCompletionToolMessageParam.builder().toolCallId(id).content("{\"temp\": 3}").build())
                .addFunctionTool(WEATHER).maxCompletionTokens(10).temperature(0).build());
        assertEquals("Hello there", next.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, next.choices().get(0).finishReason());
        assertTrue(next.choices().get(0).message().toolCalls().isEmpty() || next.choices().get(0).message().toolCalls().get().isEmpty());
        ChatTemplate.Message assistant = SEEN.get(0).messages().get(1), tool = SEEN.get(0).messages().get(2);
        assertEquals("I'll check.\n", assistant.content());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> tcs = (List<Map<String, Object>>) assistant.fields().get("tool_calls");
        assertEquals(Map.of("name", "get_weather", "arguments", Map.of("city", "Zürich")), tcs.get(0).get("function"));
        assertEquals(Map.of("name", "get_time", "arguments", Map.of()), tcs.get(1).get("function"));
        assertEquals(id, tcs.get(0).get("id"));
        assertEquals("tool", tool.role());
        assertEquals(id, tool.fields().get("tool_call_id"));
        assertEquals("{\"temp\": 3}", tool.content());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> tools = (List<Map<String, Object>>) SEEN.get(0).kwargs().get("tools");
        assertEquals("get_weather", ((Map<?, ?>) tools.get(0).get("function")).get("name"));
    }

    @Test
    void eachParserReadsItsFormatStreamedAndNot() throws Exception {
        assertReply("llama", "llama", List.of(List.of("get_weather", "{\"city\": \"Oslo\"}"), List.of("get_time", "{}")), null, null, VLLM_ID);
        assertReply("mistral", "mistral", List.of(List.of("get_weather", "{\"city\": \"Paris\"}")), null, null, "[A-Za-z0-9]{9}");
        assertReply("harmony", "harmony", List.of(List.of("get_weather", "{\"city\": \"Z\\u00fcrich\"}")), null, "Need weather.", VLLM_ID);
        assertReply("qwen3", "think", List.of(List.of("get_weather", "{\"city\": \"Oslo\"}")), "\n\n", "\nweather?\n", VLLM_ID);
    }

    /** vLLM: a call whose JSON does not parse leaves the reply as content, finish reason stop. */
    @Test
    void aMalformedCallIsContent() throws Exception {
        String text = CHAIN.reply("bad");
        JsonNode whole = reply("hermes", body("bad", ", \"tools\": " + TOOLS));
        assertEquals(text, whole.at("/choices/0/message/content").asText());
        assertFalse(whole.at("/choices/0/message").has("tool_calls"), whole.toString());
        assertEquals("stop", whole.at("/choices/0/finish_reason").asText());
        StringBuilder b = new StringBuilder();
        for (JsonNode c : chunks("hermes", body("bad", ", \"tools\": " + TOOLS))) {
            b.append(c.get("delta").path("content").asText(""));
            assertFalse(c.get("delta").has("tool_calls"), c.toString());
        }
        assertEquals(text, b.toString());
    }

    /**
     * A call cut short (the reply ends inside its arguments): streamed, its header and fragments went out before the cut
     * and its arguments are closed where they stop, as vLLM's streams close them (finish reason tool_calls); not
     * streamed, vLLM's hermes parser makes no call of it: the whole reply is content, finish reason stop.
     */
    @Test
    void aCallCutShortIsACallStreamedAndContentNot() throws Exception {
        JsonNode whole = reply("hermes", body("cut", ", \"tools\": " + TOOLS));
        assertEquals(CHAIN.reply("cut"), whole.at("/choices/0/message/content").asText(), whole.toString());
        assertFalse(whole.at("/choices/0/message").has("tool_calls"), whole.toString());
        assertEquals("stop", whole.at("/choices/0/finish_reason").asText());
        ArrayNode streamed = JSON.createArrayNode();
        StringBuilder text = new StringBuilder();
        List<JsonNode> cs = chunks("hermes", body("cut", ", \"tools\": " + TOOLS));
        for (JsonNode c : cs) {
            text.append(c.get("delta").path("content").asText(""));
            gather(streamed, c.get("delta").path("tool_calls"));
        }
        assertEquals("Let me see.", text.toString());
        assertEquals(1, streamed.size(), streamed.toString());
        assertEquals("get_weather", streamed.at("/0/function/name").asText());
        assertEquals("{\"city\": \"Z\u00fc\"}", streamed.at("/0/function/arguments").asText());
        assertEquals("tool_calls", cs.get(cs.size() - 1).get("finish_reason").asText());
    }

    /** parallel_tool_calls: false keeps the first call (vLLM's maybe_filter_parallel_tool_calls). */
    @Test
    void parallelToolCallsFalseKeepsTheFirst() throws Exception {
        String extra = ", \"tools\": " + TOOLS + ", \"parallel_tool_calls\": false";
        assertEquals(1, reply("hermes", body("hermes", extra)).at("/choices/0/message/tool_calls").size());
        ArrayNode streamed = JSON.createArrayNode();
        for (JsonNode c : chunks("hermes", body("hermes", extra))) {
            for (JsonNode t : c.get("delta").path("tool_calls")) assertEquals(0, t.get("index").asInt(), t.toString());
            gather(streamed, c.get("delta").path("tool_calls"));
        }
        assertEquals(List.of(List.of("get_weather", "{\"city\": \"Zürich\"}")), calls(streamed, VLLM_ID));
    }

    /** tool_choice "none": the tools still reach the template (vLLM's default), the reply is not read for calls. */
    @Test
    void toolChoiceNoneRendersTheToolsAndReadsNoCalls() throws Exception {
        SEEN.clear();
        JsonNode r = reply("plain", body("hermes", ", \"tools\": " + TOOLS + ", \"tool_choice\": \"none\""));
        assertEquals(CHAIN.reply("hermes"), r.at("/choices/0/message/content").asText());
        assertEquals("stop", r.at("/choices/0/finish_reason").asText());
        assertEquals(2, ((List<?>) SEEN.get(0).kwargs().get("tools")).size());
        r = reply("hermes", body("hermes", ", \"tools\": " + TOOLS + ", \"tool_choice\": \"none\""));
        assertFalse(r.at("/choices/0/message").has("tool_calls"), r.toString());
        r = reply("hermes", body("hermes", ""));                              // no tools: no calls read, as vLLM
        assertEquals(CHAIN.reply("hermes"), r.at("/choices/0/message/content").asText());
    }

    static void assert400(String key, String body, String... words) throws Exception {
        HttpResponse<String> r = ReasoningServerTest.post(BASE.get(key), "/v1/chat/completions", body);
        assertEquals(400, r.statusCode(), r.body());
        for (String w : words) assertTrue(r.body().contains(w), w + " in " + r.body());
    }

    @Test
    void badToolRequestsGet400AsVllmAnswersThem() throws Exception {
        assert400("plain", body("plain", ", \"tools\": " + TOOLS),
                "\\\"auto\\\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set");
        assert400("plain", body("plain", ", \"tools\": " + TOOLS + ", \"tool_choice\": \"auto\""), "--enable-auto-tool-choice");
        assert400("hermes", body("plain", ", \"tools\": " + TOOLS + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"nope\"}}"),
                "does not match any of the specified `tools`");
        assert400("hermes", body("plain", ", \"tools\": " + TOOLS + ", \"tool_choice\": \"sometimes\""), "Invalid value for `tool_choice`: sometimes");
        assert400("hermes", body("plain", ", \"tool_choice\": \"auto\""), "When using `tool_choice`, `tools` must be set.");
        assert400("hermes", body("plain", ", \"tools\": []"), "`tools` must not be an empty array");
        assert400("hermes", body("plain", ", \"tools\": [{\"type\": \"function\", \"function\": {\"description\": \"x\"}}]"),
                "tools[0].function.name must be a non-empty string", "\"param\":\"tools\"");
        assert400("hermes", body("plain", ", \"tools\": [{\"type\": \"retrieval\", \"function\": {\"name\": \"f\"}}]"), "tools[0].type must be \\\"function\\\"");
        assert400("hermes", body("plain", ", \"tools\": " + TOOLS + ", \"parallel_tool_calls\": 1"), "parallel_tool_calls must be a boolean");
        assert400("hermes", "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"plain\"}, {\"role\": \"assistant\", \"content\": null,"
                + " \"tool_calls\": [{\"type\": \"function\", \"function\": {\"arguments\": \"{}\"}}]}]}", "function.name must be a string");
        assert400("hermes", "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"plain\"}, {\"role\": \"assistant\", \"content\": null,"
                + " \"tool_calls\": [\"x\"]}]}", "tool_calls entries must be objects");
        BadRequestException e = assertThrows(BadRequestException.class, () -> client("plain").chat().completions().create(params("plain")));
        assertTrue(e.getMessage().contains("--tool-call-parser"), e.getMessage());
    }

    /** vLLM: a malformed arguments string in the history becomes {} for the template, so that the conversation goes on. */
    @Test
    void historyArgumentsThatAreNotAnObjectReachTheTemplateAsEmpty() throws Exception {
        SEEN.clear();
        reply("hermes", "{\"model\": \"m\", \"max_tokens\": 2, \"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"assistant\","
                + " \"tool_calls\": [{\"id\": \"a\", \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"{broken\"}},"
                + " {\"id\": \"b\", \"function\": {\"name\": \"g\", \"arguments\": \"[1]\"}}, {\"id\": \"c\", \"function\": {\"name\": \"h\"}},"
                + " {\"id\": \"d\", \"function\": {\"name\": \"k\", \"arguments\": {\"n\": 1}}}]},"
                + " {\"role\": \"assistant\", \"content\": \"ok\", \"tool_calls\": []}, {\"role\": \"user\", \"content\": \"plain\"}]}");
        @SuppressWarnings("unchecked")
        List<Map<String, Map<String, Object>>> tcs = (List<Map<String, Map<String, Object>>>) SEEN.get(0).messages().get(1).fields().get("tool_calls");
        assertEquals(List.of(Map.of(), Map.of(), Map.of(), Map.of("n", 1)), tcs.stream().map(c -> c.get("function").get("arguments")).toList());
        assertFalse(SEEN.get(0).messages().get(2).fields().containsKey("tool_calls"), "an empty tool_calls list is dropped");
    }

    // ---- the real templates against @huggingface/jinja ------------------------------------------------------------

    static InputStream resource(String path) {
        InputStream in = ToolServerTest.class.getResourceAsStream("/chat/" + path);
        if (in == null) throw new AssertionError("missing chat/" + path + " (the model module's test jar)");
        return in;
    }

    static String resourceText(String path) throws Exception {
        try (InputStream in = resource(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static JsonNode reference(String model) throws Exception {
        try (InputStream in = resource(model + "/reference.json")) {
            return JSON.readTree(in);
        }
    }

    static String qwen3Template() throws Exception {
        try (InputStream in = new GZIPInputStream(resource("qwen3/tokenizer_config.json.gz"))) {
            return JSON.readTree(in).get("chat_template").asText();
        }
    }

    /** The server's hook over a real template, as `t4j serve` makes it (ServeCommand.chatTemplate): the render is recorded. */
    static ChatTemplate realTemplate(String source, JsonNode special) {
        @SuppressWarnings("unchecked")
        Map<String, Object> vars = JSON.convertValue(special, Map.class);
        org.transformer4j.model.chat.ChatTemplate t = org.transformer4j.model.chat.ChatTemplate.of(source, vars, "test");
        return (ms, kwargs) -> {
            RENDERED.add(t.render(ms.stream().map(m -> new Message(m.role(), m.content(), m.fields())).toList(), true, kwargs));
            return new int[] {CHAIN.start("plain")};
        };
    }

    /** A reference conversation as an OpenAI client sends it: arguments as JSON strings, "thinking" as vLLM's "reasoning", "" content as null. */
    static ArrayNode asClientSends(JsonNode messages) throws Exception {
        ArrayNode out = JSON.createArrayNode();
        for (JsonNode m : messages) {
            ObjectNode o = m.deepCopy();
            if (o.has("tool_calls")) {
                for (JsonNode c : o.get("tool_calls")) {
                    ObjectNode f = (ObjectNode) c.get("function");
                    f.put("arguments", JSON.writeValueAsString(f.get("arguments")));
                }
                if (o.path("content").asText().isEmpty()) o.putNull("content");
            }
            if (o.has("thinking")) o.set("reasoning", o.remove("thinking"));
            out.add(o);
        }
        return out;
    }

    @Test
    void theRealTemplatesRenderARoundTripAsHuggingFaceJinjaDoes() throws Exception {
        String today = java.time.LocalDate.now().toString();
        int compared = 0;
        for (String model : List.of("qwen3", "gpt-oss")) {
            for (JsonNode c : reference(model).get("cases")) {
                boolean tools = c.toString().contains("\"tool_calls\"");
                if (!tools || !c.get("add_generation_prompt").asBoolean() || !c.get("error").isNull()) continue;
                ObjectNode req = JSON.createObjectNode().put("model", "m").put("max_tokens", 2);
                req.set("messages", asClientSends(c.get("messages")));
                if (c.at("/extra/tools").isArray()) req.put("tool_choice", "none").set("tools", c.at("/extra/tools"));   // tools rendered all the same
                c.get("extra").fields().forEachRemaining(e -> { if (!e.getKey().equals("tools")) req.set(e.getKey(), e.getValue()); });
                RENDERED.clear();
                reply(model + "-template", req.toString());
                String what = model + " / " + c.get("conversation").asText() + " / " + c.get("extra");
                assertEquals(c.get("rendered").asText(), RENDERED.get(0).replace("Current date: " + today, "Current date: <today>"), what);
                compared++;
            }
        }
        assertEquals(5, compared, "qwen3's round trip, and gpt-oss's tool-call conversations (three variables) and round trip");
    }
}
