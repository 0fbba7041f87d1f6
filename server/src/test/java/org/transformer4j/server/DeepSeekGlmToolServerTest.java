// DeepSeekGlmToolServerTest — the deepseek_v3, deepseek_v31, glm45 tool-call parsers and the deepseek_v3 / glm45
// reasoning parsers end to end through the HTTP server, with a model whose replies are set (ChainModel: each marker a
// single token, as in the models' vocabularies): the exact message JSON vLLM returns (content null beside calls,
// reasoning, tool_calls with vLLM's ids, finish reason) and the streamed deltas, each call's header then its fragments.
// The replies are the formats of DeepSeek-V3's and GLM-4.5's chat templates (the tool-call blocks their templates write).
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class DeepSeekGlmToolServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, List<String>> CHAINS = new LinkedHashMap<>();
    static {
        CHAINS.put("v3", List.of("Let me check.", "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "function", "<｜tool▁sep｜>", "get_weather",
                "\n```json\n", "{\"city\": ", "\"Zürich\"}", "\n```", "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>"));
        CHAINS.put("v31", List.of("<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "get_time", "<｜tool▁sep｜>", "{}", "<｜tool▁call▁end｜>",
                "<｜tool▁calls▁end｜>"));
        CHAINS.put("v31bad", List.of("<｜tool▁calls▁begin｜>", "get_time", "<｜tool▁calls▁end｜>"));
        CHAINS.put("glm", List.of("<think>", "The user wants weather.", "</think>", "\n", "<tool_call>", "get_weather\n", "<arg_key>", "city",
                "</arg_key>", "\n", "<arg_value>", "100", "</arg_value>", "\n", "<arg_key>", "days", "</arg_key>", "\n", "<arg_value>", "2",
                "</arg_value>", "\n", "</tool_call>"));
    }
    static final ChainModel CHAIN = new ChainModel(100, CHAINS);
    static final ChatTemplate TEMPLATE = (ms, kwargs) -> new int[] {CHAIN.start(ms.get(ms.size() - 1).content())};
    static final String TOOLS = "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", "
            + "\"properties\": {\"city\": {\"type\": \"string\"}, \"days\": {\"type\": \"integer\"}}}}}, "
            + "{\"type\": \"function\", \"function\": {\"name\": \"get_time\"}}]";
    static final String ID = "chatcmpl-tool-[0-9a-f]{32}";

    static Backend backend;
    static Weights weights;
    static Engine engine;
    static final Map<String, OpenAiServer> SERVERS = new LinkedHashMap<>();
    static final Map<String, String> BASE = new LinkedHashMap<>();

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = CHAIN.weights(backend);
        Transformer model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        serve("v3", server().reasoningParser(ReasoningParser.named("deepseek_v3")).toolCallParser(ToolParser.named("deepseek_v3")));
        serve("v31", server().toolCallParser(ToolParser.named("deepseek_v31")));
        serve("glm", server().reasoningParser(ReasoningParser.named("glm45")).toolCallParser(ToolParser.named("glm45")));
    }

    static OpenAiServer server() {
        return OpenAiServer.decoder("m", engine, CHAIN.tokenizer(), TEMPLATE, OpenAiServer.Limits.defaults(), Set.of(ChainModel.EOS));
    }

    static void serve(String key, OpenAiServer s) {
        SERVERS.put(key, s);
        BASE.put(key, "http://127.0.0.1:" + s.start("127.0.0.1", 0));
    }

    @AfterAll
    static void tearDown() {
        for (OpenAiServer s : SERVERS.values()) s.close();
        if (engine != null) engine.close();
        if (weights != null) weights.close();
        if (backend != null) backend.close();
    }

    static String body(String chain, String extra) {
        return "{\"model\": \"m\", \"max_tokens\": 40, \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"" + chain
                + "\"}], \"tools\": " + TOOLS + extra + "}";
    }

    /** The whole reply's first choice, its calls' ids checked to be vLLM's and then set to "ID". */
    static JsonNode choice(String key, String body) throws Exception {
        JsonNode c = ReasoningServerTest.message(BASE.get(key), body);
        ObjectNode choice = (ObjectNode) c.at("/choices/0").deepCopy();
        for (JsonNode t : choice.at("/message").path("tool_calls")) {
            assertTrue(t.get("id").asText().matches(ID), t.toString());
            ((ObjectNode) t).put("id", "ID");
        }
        choice.remove("logprobs");
        choice.remove("stop_reason");
        return choice;
    }

    /** The streamed deltas after the role chunk, each call header's id checked and set to "ID", and the last chunk's finish reason. */
    static List<String> deltas(String key, String body) throws Exception {
        List<String> out = new ArrayList<>();
        List<JsonNode> cs = ReasoningServerTest.choices(BASE.get(key), body);
        for (JsonNode c : cs) {
            ObjectNode d = (ObjectNode) c.get("delta").deepCopy();
            for (JsonNode t : d.path("tool_calls")) {
                if (t.has("id")) {
                    assertTrue(t.get("id").asText().matches(ID), t.toString());
                    ((ObjectNode) t).put("id", "ID");
                }
            }
            if (d.has("role")) {                                     // vLLM's first chunk: the role, content ""
                assertEquals("{\"role\":\"assistant\",\"content\":\"\"}", d.toString());
                continue;
            }
            if (!d.isEmpty()) out.add(d.toString());
        }
        out.add(cs.get(cs.size() - 1).get("finish_reason").asText());
        return out;
    }

    static JsonNode json(String s) throws Exception { return JSON.readTree(s); }

    /** DeepSeek-V3 without thinking: the reasoning parser passes all on; the call's arguments as the model wrote them. */
    @Test
    void deepSeekV3CallsAreVllmsMessageAndDeltas() throws Exception {
        assertEquals(json("{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"Let me check.\", \"reasoning\": null,"
                + " \"reasoning_content\": null, \"tool_calls\": [{\"id\": \"ID\", \"type\": \"function\", \"function\": {\"name\": \"get_weather\","
                + " \"arguments\": \"{\\\"city\\\": \\\"Zürich\\\"}\"}}], \"refusal\": null}, \"finish_reason\": \"tool_calls\"}"), choice("v3", body("v3", "")));
        assertEquals(List.of("{\"content\":\"Let me check.\"}",
                "{\"tool_calls\":[{\"index\":0,\"id\":\"ID\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}",
                "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\": \"}}]}",
                "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Zürich\\\"}\"}}]}", "tool_calls"), deltas("v3", body("v3", "")));
    }

    /** DeepSeek-V3.1: a call; a block with no call in it is the whole reply as content, finish reason stop. */
    @Test
    void deepSeekV31CallsAndABlockWithoutOne() throws Exception {
        assertEquals(json("{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"ID\", \"type\":"
                + " \"function\", \"function\": {\"name\": \"get_time\", \"arguments\": \"{}\"}}], \"refusal\": null}, \"finish_reason\": \"tool_calls\"}"),
                choice("v31", body("v31", "")));
        assertEquals(List.of("{\"tool_calls\":[{\"index\":0,\"id\":\"ID\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]}",
                "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}", "tool_calls"), deltas("v31", body("v31", "")));
        String text = CHAIN.reply("v31bad");
        assertEquals(json("{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": " + JSON.writeValueAsString(text) + ", \"refusal\": null},"
                + " \"finish_reason\": \"stop\"}"), choice("v31", body("v31bad", "")));
        assertEquals(List.of(JSON.createObjectNode().put("content", text).toString(), "stop"), deltas("v31", body("v31bad", "")));
    }

    /**
     * GLM-4.5 thinking by default: the reasoning, then the call typed against the tools ("city" a string, "days" an
     * integer); the whitespace before the call is no content (vLLM's None).
     */
    @Test
    void glm45ReasonsThenCallsWithTypedArguments() throws Exception {
        assertEquals(json("{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": null, \"reasoning\": \"The user wants weather.\","
                + " \"reasoning_content\": \"The user wants weather.\", \"tool_calls\": [{\"id\": \"ID\", \"type\": \"function\", \"function\":"
                + " {\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"100\\\", \\\"days\\\": 2}\"}}], \"refusal\": null},"
                + " \"finish_reason\": \"tool_calls\"}"), choice("glm", body("glm", "")));
        assertEquals(List.of("{\"reasoning\":\"The user wants weather.\",\"reasoning_content\":\"The user wants weather.\"}",
                "{\"tool_calls\":[{\"index\":0,\"id\":\"ID\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}",
                "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\": \\\"100\\\"\"}}]}",
                "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\", \\\"days\\\": 2\"}}]}",
                "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"}\"}}]}", "tool_calls"), deltas("glm", body("glm", "")));
        // thinking off (GLM's enable_thinking): no reasoning split, the think block is content before the call
        JsonNode off = choice("glm", body("glm", ", \"chat_template_kwargs\": {\"enable_thinking\": false}"));
        assertEquals("<think>The user wants weather.</think>\n", off.at("/message/content").asText());
        assertEquals(1, off.at("/message/tool_calls").size());
    }
}
