// ReasoningGuidedServerTest — with --reasoning-parser, structured outputs and forced tool calls begin where the reasoning
// ends, as in vLLM: a ChainModel reasons along a set chain ("</" + "think>" split across ids; harmony's analysis then
// final channel), then samples freely among the ids the schema allows. The reply splits into the chain's reasoning and
// content (or a call) that parses and validates (networknt) against the schema, streamed and not alike; a prompt that
// closed the reasoning (enable_thinking: false) is constrained from its first id; EOS while reasoning stops the reply
// (all reasoning); a marker that never comes runs to max_tokens ("length"); /v1/completions waits for the marker too.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.net.http.HttpResponse;
import java.util.Arrays;
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

class ReasoningGuidedServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":5},"
            + "\"unit\":{\"enum\":[\"C\",\"F\"]}},\"required\":[\"city\"],\"additionalProperties\":false}";
    static final String RF = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"w\",\"schema\":" + SCHEMA + "}}";
    static final String TOOLS = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":" + SCHEMA + "}}]";

    static final Map<String, List<String>> CHAINS = new java.util.LinkedHashMap<>();
    static {
        CHAINS.put("think", List.of("<think>", "\nI will", " answer", " in JSON.", "</", "think>"));
        CHAINS.put("brief", List.of("<think>", "brief"));
        CHAINS.put("harmony", List.of("<|channel|>", "analysis", "<|message|>", "Let me think", "<|end|>", "<|start|>", "assistant",
                "<|channel|>", "final", "<|message|>"));
        CHAINS.put("closed", List.of());
        CHAINS.put("loop", List.of("<think>"));
    }
    static final ChainModel CHAIN = new ChainModel(128, CHAINS);
    static final int THINK_OFF = CHAIN.token("<think>\n\n</think>\n\n", ChainModel.EOS);
    static {
        int hmm = CHAIN.token("hmm ", -1);
        CHAIN.next[hmm] = hmm;                                            // thinks forever
        int last = CHAIN.start("loop");
        while (CHAIN.next[last] != ChainModel.EOS) last = CHAIN.next[last];
        CHAIN.next[last] = hmm;
        for (char ch = 0x20; ch < 0x7F; ch++) CHAIN.token(String.valueOf(ch), -1);   // the bytes JSON is spelled with
        CHAIN.token("\n", -1);
    }

    /** The user message names the chain; enable_thinking=false closes the think block in the prompt, as Qwen3's template does. */
    static final ChatTemplate TEMPLATE = (ms, kwargs) -> {
        int start = CHAIN.start(ms.get(ms.size() - 1).content());
        return Boolean.FALSE.equals(kwargs.get("enable_thinking")) ? new int[] {start, THINK_OFF} : new int[] {start};
    };

    static Backend backend;
    static Weights weights;
    static Engine engine;
    static OpenAiServer qwen3, gptOss;
    static String qwenBase, gptBase;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = CHAIN.weights(backend, 4);
        Transformer model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        qwen3 = OpenAiServer.decoder("m", engine, CHAIN.tokenizer(), TEMPLATE, OpenAiServer.Limits.defaults(), Set.of(ChainModel.EOS))
                .reasoningParser(ReasoningParser.named("qwen3"));
        gptOss = OpenAiServer.decoder("m", engine, CHAIN.tokenizer(), TEMPLATE, OpenAiServer.Limits.defaults(), Set.of(ChainModel.EOS))
                .reasoningParser(ReasoningParser.named("gpt_oss"));
        qwenBase = "http://127.0.0.1:" + qwen3.start("127.0.0.1", 0);
        gptBase = "http://127.0.0.1:" + gptOss.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        for (OpenAiServer s : new OpenAiServer[] {qwen3, gptOss}) if (s != null) s.close();
        if (engine != null) engine.close();
        if (weights != null) weights.close();
        if (backend != null) backend.close();
    }

    static String chat(String chain, String extra, long seed) {
        return "{\"model\":\"m\",\"max_tokens\":60,\"temperature\":1,\"seed\":" + seed + ",\"messages\":[{\"role\":\"user\",\"content\":\""
                + chain + "\"}]" + extra + "}";
    }

    /** {finish_reason, reasoning (null: none), content (null: none), first call's arguments (null: none)}, streamed or not. */
    static String[] reply(String base, String body, boolean stream) throws Exception {
        if (!stream) {
            JsonNode c = ReasoningServerTest.message(base, body).at("/choices/0");
            JsonNode m = c.get("message");
            return new String[] {c.path("finish_reason").asText(), text(m.get("reasoning")), text(m.get("content")),
                    text(m.at("/tool_calls/0/function/arguments"))};
        }
        List<JsonNode> cs = ReasoningServerTest.choices(base, body);
        List<JsonNode> ds = cs.stream().map(c -> c.get("delta")).toList();
        String finish = cs.get(cs.size() - 1).path("finish_reason").asText();
        StringBuilder args = null;
        for (JsonNode d : ds) {
            for (JsonNode t : d.path("tool_calls")) if (t.path("index").asInt() == 0) (args == null ? args = new StringBuilder() : args).append(t.at("/function/arguments").asText());
        }
        String r = ReasoningServerTest.joined(ds, "reasoning"), c = ReasoningServerTest.joined(ds, "content");
        return new String[] {finish, r.isEmpty() ? null : r, c.isEmpty() ? null : c, args == null ? null : args.toString()};
    }

    static String text(JsonNode n) { return n == null || !n.isTextual() ? null : n.asText(); }

    static void assertValid(String json) throws Exception {
        JsonNode doc = JSON.readTree(json);
        List<?> errors = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(JSON.readTree(SCHEMA)).validate(doc);
        assertTrue(errors.isEmpty(), json + ": " + errors);
    }

    @Test
    void theModelReasonsThenAnswersWithTheSchemaStreamedAndNot() throws Exception {
        int stopped = 0;
        for (long seed = 0; seed < 4; seed++) {
            String[] whole = reply(qwenBase, chat("think", RF, seed), false);
            String[] streamed = reply(qwenBase, chat("think", RF, seed), true);
            assertEquals(Arrays.asList(whole), Arrays.asList(streamed), "streamed and not agree");
            assertEquals("\nI will answer in JSON.", whole[1], "the reasoning, unconstrained");
            if (whole[0].equals("stop")) {
                stopped++;
                assertValid(whole[2]);
            } else {
                assertEquals("length", whole[0]);
            }
        }
        assertTrue(stopped >= 3, "only " + stopped + " of 4 completed");
    }

    @Test
    void forcedToolCallsComeAfterTheReasoning() throws Exception {
        for (boolean stream : new boolean[] {false, true}) {
            int stopped = 0;
            for (long seed = 0; seed < 3; seed++) {
                String[] named = reply(qwenBase, chat("think", TOOLS + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}", seed), stream);
                assertEquals("\nI will answer in JSON.", named[1]);
                if (!named[0].equals("stop")) continue;
                stopped++;
                assertValid(named[3]);
                String[] required = reply(qwenBase, chat("think", TOOLS + ",\"tool_choice\":\"required\"", seed), stream);
                assertEquals("\nI will answer in JSON.", required[1]);
                if (required[0].equals("tool_calls")) assertValid(required[3]);
            }
            assertTrue(stopped >= 2, "only " + stopped + " of 3 named calls completed");
        }
    }

    @Test
    void aPromptThatClosedTheReasoningIsConstrainedFromItsFirstToken() throws Exception {
        String body = chat("closed", RF + ",\"chat_template_kwargs\":{\"enable_thinking\":false}", 1);
        String[] r = reply(qwenBase, body, false);
        assertEquals(null, r[1]);
        if (r[0].equals("stop")) assertValid(r[2]);
        else assertTrue(r[2].startsWith("{"), r[2]);
        assertEquals(Arrays.asList(r), Arrays.asList(reply(qwenBase, body, true)));
    }

    @Test
    void eosWhileReasoningStopsAndAMarkerThatNeverComesRunsToTheLimit() throws Exception {
        for (boolean stream : new boolean[] {false, true}) {
            String[] brief = reply(qwenBase, chat("brief", RF, 0), stream);
            assertEquals(List.of("stop", "brief"), List.of(brief[0], brief[1]), "vLLM allows EOS while reasoning");
            assertEquals(null, brief[2]);
            String[] loop = reply(qwenBase, chat("loop", RF, 0).replace("\"max_tokens\":60", "\"max_tokens\":6"), stream);
            assertEquals(List.of("length", "hmm hmm hmm hmm hmm "), List.of(loop[0], loop[1]));
            assertEquals(null, loop[2]);
            String[] none = reply(qwenBase, chat("loop", TOOLS + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}", 0)
                    .replace("\"max_tokens\":60", "\"max_tokens\":4"), stream);
            assertEquals(List.of("length", "hmm hmm hmm "), List.of(none[0], none[1]));
            assertEquals(null, none[3], "no call where the reply never left its reasoning");
        }
    }

    @Test
    void harmonyReasonsInTheAnalysisChannelAndAnswersInTheFinalOne() throws Exception {
        int stopped = 0;
        for (long seed = 0; seed < 3; seed++) {
            String[] whole = reply(gptBase, chat("harmony", RF, seed), false);
            assertEquals(Arrays.asList(whole), Arrays.asList(reply(gptBase, chat("harmony", RF, seed), true)));
            assertEquals("Let me think", whole[1]);
            if (!whole[0].equals("stop")) continue;
            stopped++;
            assertValid(whole[2]);
        }
        assertTrue(stopped >= 2, "only " + stopped + " of 3 completed");
    }

    /** n = 2: each choice has its own reasoning parser, constraint and tool reader; the streamed chunks split by index alike. */
    @Test
    void eachOfNChoicesReasonsAndIsConstrainedOnItsOwn() throws Exception {
        String body = chat("think", RF + ",\"n\":2", 3);
        JsonNode whole = ReasoningServerTest.message(qwenBase, body);
        assertEquals(2, whole.get("choices").size());
        List<JsonNode> chunks = new java.util.ArrayList<>();
        HttpResponse<String> s = ReasoningServerTest.post(qwenBase, "/v1/chat/completions", body.substring(0, body.length() - 1) + ",\"stream\":true}");
        for (String line : s.body().split("\n")) {
            if (line.startsWith("data: ") && !line.equals("data: [DONE]")) for (JsonNode c : JSON.readTree(line.substring(6)).get("choices")) chunks.add(c);
        }
        for (int i = 0; i < 2; i++) {
            JsonNode m = whole.at("/choices/" + i + "/message");
            assertEquals("\nI will answer in JSON.", m.get("reasoning").asText());
            if (whole.at("/choices/" + i + "/finish_reason").asText().equals("stop")) assertValid(m.get("content").asText());
            int index = i;
            List<JsonNode> ds = chunks.stream().filter(c -> c.get("index").asInt() == index).map(c -> c.get("delta")).toList();
            assertEquals(m.get("reasoning").asText(), ReasoningServerTest.joined(ds, "reasoning"));
            assertEquals(m.get("content").asText(""), ReasoningServerTest.joined(ds, "content"));
        }
        String[] required = reply(qwenBase, chat("think", TOOLS + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}},\"n\":2", 3), false);
        assertEquals("\nI will answer in JSON.", required[1]);
    }

    /** vLLM's structured-output manager is the engine's: a completion waits for the end of reasoning too. */
    @Test
    void aCompletionIsConstrainedAfterItsReasoning() throws Exception {
        for (long seed = 0; seed < 3; seed++) {
            HttpResponse<String> r = ReasoningServerTest.post(qwenBase, "/v1/completions", "{\"model\":\"m\",\"prompt\":\"think\",\"max_tokens\":60,"
                    + "\"temperature\":1,\"seed\":" + seed + RF + "}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode c = JSON.readTree(r.body()).at("/choices/0");
            String text = c.path("text").asText();
            assertTrue(text.startsWith("<think>\nI will answer in JSON.</think>"), text);
            if (c.path("finish_reason").asText().equals("stop")) assertValid(text.substring(text.indexOf("</think>") + 8));
        }
    }
}
