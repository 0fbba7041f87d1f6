// ReasoningServerTest — --reasoning-parser end to end through the HTTP server, with a model whose replies are set
// (ChainModel: tags split across tokens, "<th" + "ink>"; harmony's special tokens as single tokens). Checks the message
// and the streamed deltas (vLLM's shape: reasoning and reasoning_content beside content), enable_thinking,
// include_reasoning, usage and /v1/completions unchanged, and that an assistant message's reasoning reaches the template.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class ReasoningServerTest {

    static final int EOS = ChainModel.EOS;
    static final ObjectMapper JSON = new ObjectMapper();

    /** Each chain: a start token (what the template ends the prompt with) and the pieces the model then writes, EOS last. */
    static final Map<String, List<String>> CHAINS = new java.util.LinkedHashMap<>();
    static {
        CHAINS.put("think", List.of("<th", "ink>", "\nplan", " more</", "think>", "\n\nthe ", "answer"));
        CHAINS.put("nothink", List.of("Hello", " there"));
        CHAINS.put("harmony", List.of("<|channel|>", "analysis", "<|message|>", "Let me", " think", "<|end|>", "<|start|>", "assistant",
                "<|channel|>", "final", "<|message|>", "It is", " 4."));
    }

    static final ChainModel CHAIN = new ChainModel(100, CHAINS);
    /** Qwen3's closed empty block, as its template renders enable_thinking=false; the nothink chain follows it. */
    static final int THINK_OFF = CHAIN.token("<think>\n\n</think>\n\n", CHAIN.next[CHAIN.start("nothink")]);
    static final Tokenizer TOK = CHAIN.tokenizer();
    static final List<List<ChatTemplate.Message>> SEEN = new CopyOnWriteArrayList<>();

    /**
     * The last user message names the chain; enable_thinking=false closes the think block in the prompt, as Qwen3's does
     * (then the nothink chain follows).
     */
    static final ChatTemplate TEMPLATE = (ms, kwargs) -> {
        SEEN.add(ms);
        int start = CHAIN.start(ms.get(ms.size() - 1).content());
        return Boolean.FALSE.equals(kwargs.get("enable_thinking")) ? new int[] {start, THINK_OFF} : new int[] {start};
    };

    static Backend backend;
    static Weights weights;
    static Engine engine;
    static OpenAiServer qwen3, gptOss, plain;
    static String qwenBase, gptBase, plainBase;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = CHAIN.weights(backend);
        Transformer model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        qwen3 = OpenAiServer.decoder("m", engine, TOK, TEMPLATE, OpenAiServer.Limits.defaults(), Set.of(EOS)).reasoningParser(ReasoningParser.named("qwen3"));
        gptOss = OpenAiServer.decoder("m", engine, TOK, TEMPLATE, OpenAiServer.Limits.defaults(), Set.of(EOS)).reasoningParser(ReasoningParser.named("openai_gptoss"));
        plain = OpenAiServer.decoder("m", engine, TOK, TEMPLATE, OpenAiServer.Limits.defaults(), Set.of(EOS));
        qwenBase = "http://127.0.0.1:" + qwen3.start("127.0.0.1", 0);
        gptBase = "http://127.0.0.1:" + gptOss.start("127.0.0.1", 0);
        plainBase = "http://127.0.0.1:" + plain.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        for (OpenAiServer s : new OpenAiServer[] {qwen3, gptOss, plain}) if (s != null) s.close();
        if (engine != null) engine.close();
        if (weights != null) weights.close();
        if (backend != null) backend.close();
    }

    static HttpResponse<String> post(String base, String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String chat(String chain, String extra) {
        return "{\"model\": \"m\", \"max_tokens\": 40, \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"" + chain + "\"}]"
                + extra + "}";
    }

    static JsonNode message(String base, String body) throws Exception {
        HttpResponse<String> r = post(base, "/v1/chat/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** {@code body} (a JSON object) streamed: each chunk's first choice (its delta, finish_reason, ...). */
    static List<JsonNode> choices(String base, String body) throws Exception {
        HttpResponse<String> r = post(base, "/v1/chat/completions", body.substring(0, body.length() - 1) + ", \"stream\": true}");
        assertEquals(200, r.statusCode(), r.body());
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
            JsonNode c = JSON.readTree(line.substring(6));
            if (c.path("choices").size() > 0) out.add(c.at("/choices/0"));
        }
        return out;
    }

    /** The streamed deltas. */
    static List<JsonNode> deltas(String base, String body) throws Exception {
        return choices(base, body).stream().map(c -> c.get("delta")).toList();
    }

    static String joined(List<JsonNode> ds, String field) {
        StringBuilder b = new StringBuilder();
        for (JsonNode d : ds) if (d.hasNonNull(field)) b.append(d.get(field).asText());
        return b.toString();
    }

    /** vLLM (Qwen3ReasoningParser): before </think> reasoning, the generated <think> dropped; after it content. */
    @Test
    void qwen3SplitsThinkTagsSplitAcrossTokensStreamedAndNot() throws Exception {
        JsonNode m = message(qwenBase, chat("think", "")).at("/choices/0/message");
        assertEquals("\nplan more", m.get("reasoning_content").asText());
        assertEquals("\nplan more", m.get("reasoning").asText());
        assertEquals("\n\nthe answer", m.get("content").asText());
        List<JsonNode> ds = deltas(qwenBase, chat("think", ""));
        assertEquals("\nplan more", joined(ds, "reasoning_content"));
        assertEquals("\nplan more", joined(ds, "reasoning"));
        assertEquals("\n\nthe answer", joined(ds, "content"));
        for (JsonNode d : ds) {
            assertFalse(d.toString().contains("<th") || d.toString().contains("</"), "a tag or part of one leaked: " + d);
            assertEquals(d.path("reasoning"), d.path("reasoning_content"), "both names carry the same text");
        }
        assertTrue(ds.stream().filter(d -> d.has("reasoning")).count() >= 2, "reasoning streamed in pieces: " + ds);
    }

    /** vLLM: with enable_thinking=false the template closes the block in the prompt; the reply is all content. */
    @Test
    void qwen3WithThinkingOffGivesContentOnly() throws Exception {
        String kw = ", \"chat_template_kwargs\": {\"enable_thinking\": false}";
        JsonNode m = message(qwenBase, chat("nothink", kw)).at("/choices/0/message");
        assertEquals("Hello there", m.get("content").asText());
        assertTrue(m.get("reasoning_content").isNull(), m.toString());
        List<JsonNode> ds = deltas(qwenBase, chat("nothink", kw));
        assertEquals("Hello there", joined(ds, "content"));
        assertEquals("", joined(ds, "reasoning"));
        // thinking on (the default), no </think> in the reply: vLLM takes it for reasoning cut short
        JsonNode on = message(qwenBase, chat("nothink", "")).at("/choices/0/message");
        assertEquals("Hello there", on.get("reasoning_content").asText());
        assertTrue(on.get("content").isNull(), on.toString());
    }

    /** vLLM (parse_chat_output): the analysis channel is reasoning, the final channel content; the headers are neither. */
    @Test
    void gptOssSplitsHarmonyChannels() throws Exception {
        JsonNode m = message(gptBase, chat("harmony", "")).at("/choices/0/message");
        assertEquals("Let me think", m.get("reasoning_content").asText());
        assertEquals("It is 4.", m.get("content").asText());
        List<JsonNode> ds = deltas(gptBase, chat("harmony", ""));
        assertEquals("Let me think", joined(ds, "reasoning"));
        assertEquals("It is 4.", joined(ds, "content"));
        for (JsonNode d : ds) assertFalse(d.toString().contains("<|"), "a special token leaked: " + d);
    }

    /** Usage and /v1/completions are what the server without a parser gives (vLLM: completions stay raw text). */
    @Test
    void usageAndCompletionsAreUnchanged() throws Exception {
        JsonNode with = message(gptBase, chat("harmony", "")), without = message(plainBase, chat("harmony", ""));
        assertEquals(without.get("usage"), with.get("usage"));
        assertEquals(String.join("", CHAINS.get("harmony")), without.at("/choices/0/message/content").asText(), "the model writes the chain");
        assertFalse(without.at("/choices/0/message").has("reasoning_content"), "no parser, no reasoning field");
        String completion = "{\"model\": \"m\", \"prompt\": \"harmony\", \"max_tokens\": 40, \"temperature\": 0}";
        assertEquals(post(plainBase, "/v1/completions", completion).body().replaceAll("\"(id|created)\":\"?[^,]*,", ""),
                post(gptBase, "/v1/completions", completion).body().replaceAll("\"(id|created)\":\"?[^,]*,", ""));
    }

    /** vLLM's include_reasoning: false drops the reasoning from the reply. */
    @Test
    void includeReasoningFalseDropsIt() throws Exception {
        JsonNode m = message(qwenBase, chat("think", ", \"include_reasoning\": false")).at("/choices/0/message");
        assertEquals("\n\nthe answer", m.get("content").asText());
        assertTrue(m.get("reasoning").isNull(), m.toString());
        assertEquals("", joined(deltas(qwenBase, chat("think", ", \"include_reasoning\": false")), "reasoning"));
    }

    @Test
    void anAssistantMessagesReasoningReachesTheTemplate() throws Exception {
        SEEN.clear();
        message(qwenBase, "{\"model\": \"m\", \"max_tokens\": 4, \"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"},"
                + " {\"role\": \"assistant\", \"content\": \"4\", \"reasoning_content\": \"add them\"},"
                + " {\"role\": \"assistant\", \"content\": null, \"reasoning\": \"only thought\", \"name\": null},"
                + " {\"role\": \"user\", \"content\": \"nothink\"}], \"reasoning_effort\": \"low\"}");
        List<ChatTemplate.Message> ms = SEEN.get(0);
        assertEquals(Map.of("reasoning_content", "add them", "reasoning", "add them", "thinking", "add them"), ms.get(1).fields());
        assertEquals("", ms.get(2).content());
        assertEquals(Map.of("reasoning_content", "only thought", "reasoning", "only thought", "thinking", "only thought"), ms.get(2).fields());
    }

    @Test
    void badReasoningInputGets400() throws Exception {
        HttpResponse<String> r = post(qwenBase, "/v1/chat/completions", chat("think", ", \"chat_template_kwargs\": [1]"));
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("chat_template_kwargs must be an object"), r.body());
        r = post(qwenBase, "/v1/chat/completions", chat("think", ", \"include_reasoning\": \"yes\""));
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("include_reasoning"), r.body());
        r = post(qwenBase, "/v1/chat/completions", "{\"model\": \"m\", \"messages\": [{\"role\": \"assistant\", \"content\": \"x\","
                + " \"reasoning_content\": 3}, {\"role\": \"user\", \"content\": \"think\"}]}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("reasoning_content"), r.body());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReasoningParser.named("qwen"));
        assertTrue(e.getMessage().contains("unknown reasoning parser 'qwen'") && e.getMessage().contains("deepseek_r1"), e.getMessage());
    }
}
