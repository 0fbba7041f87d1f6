// SamplingFieldsTest — the sampling fields vLLM's OpenAI server takes beside OpenAI's: presence_penalty,
// frequency_penalty and logit_bias (OpenAI's), repetition_penalty, min_p, min_tokens and stop_token_ids (vLLM's), on /v1/completions and
// /v1/chat/completions: replies equal Generator alone with the same options (streamed or not), each bad value gets a
// 400 whose error names its field, and a folder's generation_config.json gives the defaults of temperature, top_k,
// top_p, min_p and repetition_penalty as vLLM's --generation-config auto does, a request's own values winning.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.GenerationConfig;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class SamplingFieldsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final ServerTest.CharTokenizer TOK = ServerTest.TOK;
    static Backend backend;
    static Weights weights;
    static Transformer model;
    static Engine engine;
    static OpenAiServer plain, defaulted;
    static String plainBase, defaultedBase;
    /** What the defaulted server's generation_config.json says (Qwen2.5-Instruct's sampling, min_p added). */
    static final OpenAiServer.SamplingDefaults QWEN = new OpenAiServer.SamplingDefaults(0.7, 20, 0.8, 0.05, 1.05);

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = Weights.random(ServerTest.gpt2Tiny(), backend, 31);
        model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        plain = OpenAiServer.decoder("tiny", engine, TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults());
        plainBase = "http://127.0.0.1:" + plain.start("127.0.0.1", 0);
        defaulted = OpenAiServer.decoder("tiny", engine, TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults()).samplingDefaults(QWEN);
        defaultedBase = "http://127.0.0.1:" + defaulted.start("127.0.0.1", 0);
    }

    @AfterAll
    static void tearDown() {
        for (OpenAiServer s : new OpenAiServer[] {plain, defaulted}) if (s != null) s.close();
        if (engine != null) engine.close();
        weights.close();
        backend.close();
    }

    static HttpResponse<String> post(String base, String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String alone(int[] prompt, Generator.Options o) {
        return TOK.decode(new Generator(model).generate(prompt, o, null));
    }

    /** The completion's text (streamed: the events' texts joined). */
    static String complete(String base, String fields, boolean stream) throws Exception {
        HttpResponse<String> r = post(base, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + PROMPT + "\", " + fields
                + (stream ? ", \"stream\": true" : "") + "}");
        assertEquals(200, r.statusCode(), r.body());
        if (!stream) return JSON.readTree(r.body()).path("choices").get(0).path("text").asText();
        StringBuilder b = new StringBuilder();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
            JsonNode c = JSON.readTree(line.substring(6)).path("choices");
            if (!c.isEmpty()) b.append(c.get(0).path("text").asText());
        }
        return b.toString();
    }

    static final String PROMPT = "abcabcabcxyz";

    @Test
    void penaltiesMinPAndLogitBiasGiveGeneratorsTokens() throws Exception {
        int[] p = TOK.encode(PROMPT);
        Generator.Options base = Generator.Options.greedy(24);
        Object[][] cases = {
            {"\"temperature\": 0, \"repetition_penalty\": 1.7", base.repetitionPenalty(1.7f)},
            {"\"temperature\": 0, \"presence_penalty\": 1.5, \"frequency_penalty\": 0.7", base.presenceFrequency(1.5f, 0.7f)},
            {"\"temperature\": 0, \"logit_bias\": {\"5\": 100, \"7\": -100}", base.logitBias(Map.of(5, 100f, 7, -100f))},
            {"\"temperature\": 0.9, \"seed\": 3, \"min_p\": 0.2, \"top_k\": 30, \"repetition_penalty\": 1.2, \"frequency_penalty\": -0.4, "
                    + "\"logit_bias\": {\"12\": 2.5}",
             base.sampling(0.9f, 30, 1f, 3).minP(0.2f).repetitionPenalty(1.2f).presenceFrequency(0f, -0.4f).logitBias(Map.of(12, 2.5f))},
        };
        String unpenalized = alone(p, base);
        for (Object[] c : cases) {
            String want = alone(p, (Generator.Options) c[1]);
            if (!((String) c[0]).contains("seed")) assertTrue(!want.equals(unpenalized), c[0] + " changes nothing here: a useless check");
            assertEquals(want, complete(plainBase, "\"max_tokens\": 24, " + c[0], false), (String) c[0]);
            assertEquals(want, complete(plainBase, "\"max_tokens\": 24, " + c[0], true), c[0] + ", streamed");
        }
        HttpResponse<String> chat = post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", "
                + "\"content\": \"hello\"}], \"max_tokens\": 16, \"temperature\": 0, \"repetition_penalty\": 1.5, \"presence_penalty\": 0.5}");
        assertEquals(200, chat.statusCode(), chat.body());
        int[] chatPrompt = ServerTest.TEMPLATE.render(List.of(new ChatTemplate.Message("user", "hello")), Map.of());
        assertEquals(alone(chatPrompt, Generator.Options.greedy(16).repetitionPenalty(1.5f).presenceFrequency(0.5f, 0f)),
                JSON.readTree(chat.body()).path("choices").get(0).path("message").path("content").asText());
    }

    @Test
    void eachBadValueGets400NamingItsField() throws Exception {
        String[][] cases = {
            {"presence_penalty", "2.5"}, {"presence_penalty", "\"high\""}, {"frequency_penalty", "-2.01"},
            {"repetition_penalty", "0"}, {"repetition_penalty", "-1"}, {"min_p", "1.5"}, {"min_p", "-0.1"},
            {"logit_bias", "[1, 2]"}, {"logit_bias", "{\"abc\": 1}"}, {"logit_bias", "{\"100\": 1}"}, {"logit_bias", "{\"-1\": 1}"},
            {"logit_bias", "{\"5\": 100.5}"}, {"logit_bias", "{\"5\": \"1\"}"},
        };
        for (String[] c : cases) {
            for (String path : new String[] {"/v1/completions", "/v1/chat/completions"}) {
                String input = path.contains("chat") ? "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]" : "\"prompt\": \"abc\"";
                HttpResponse<String> r = post(plainBase, path, "{\"model\": \"tiny\", " + input + ", \"" + c[0] + "\": " + c[1] + "}");
                assertEquals(400, r.statusCode(), c[0] + " " + c[1] + ": " + r.body());
                JsonNode err = JSON.readTree(r.body()).path("error");
                assertEquals(c[0], err.path("param").asText(), r.body());
                assertTrue(err.path("message").asText().contains(c[0]), r.body());
            }
        }
        assertEquals(200, post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"max_tokens\": 2, \"top_k\": -1, "
                + "\"logit_bias\": {\"5\": -100, \" 6\": 100}, \"presence_penalty\": -2, \"frequency_penalty\": 2, \"min_p\": 1}").statusCode(),
                "the ends of each range are allowed; top_k -1 is vLLM's off");
    }

    @Test
    void generationConfigGivesTheDefaultsAndARequestsOwnValuesWin() throws Exception {
        int[] p = TOK.encode(PROMPT);
        Generator.Options qwen = Generator.Options.greedy(20).sampling(0.7f, 20, 0.8f, 11).minP(0.05f).repetitionPenalty(1.05f);
        assertEquals(alone(p, qwen), complete(defaultedBase, "\"max_tokens\": 20, \"seed\": 11", false), "the file's values");
        assertEquals(alone(p, Generator.Options.greedy(20).repetitionPenalty(1.05f)),
                complete(defaultedBase, "\"max_tokens\": 20, \"temperature\": 0", false), "greedy asked for; repetition_penalty still the file's");
        assertEquals(alone(p, Generator.Options.greedy(20).sampling(1.1f, 0, 1f, 4)),
                complete(defaultedBase, "\"max_tokens\": 20, \"seed\": 4, \"temperature\": 1.1, \"top_k\": 0, \"top_p\": 1, \"min_p\": 0, "
                        + "\"repetition_penalty\": 1", false), "every field given: the request's");
        assertEquals(alone(p, Generator.Options.greedy(20).sampling(1f, 0, 1f, 4)), complete(plainBase, "\"max_tokens\": 20, \"seed\": 4", false),
                "no generation_config.json: vLLM's defaults (temperature 1, no filter, no penalty)");
    }

    @Test
    void samplingDefaultsAreReadFromTheFolder(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), "{\"do_sample\": false, \"temperature\": 0.6, \"top_p\": 0.95, "
                + "\"repetition_penalty\": 1.1, \"eos_token_id\": 2}");
        OpenAiServer.SamplingDefaults d = OpenAiServer.SamplingDefaults.of(GenerationConfig.readIfPresent(dir));
        // vLLM takes the values the file has and ignores do_sample
        assertEquals(new OpenAiServer.SamplingDefaults(0.6, null, 0.95, null, 1.1), d);
        assertEquals(OpenAiServer.SamplingDefaults.NONE, OpenAiServer.SamplingDefaults.of(Optional.empty()));
    }

    /**
     * vLLM's min_tokens with stop_token_ids and stop strings: the plain run stops on its second token; with min_tokens
     * the stop id is banned until min_tokens tokens came (the text equals Generator alone with the same options, the stop
     * id's text left out), and a stop string counts only where it ends past the first min_tokens tokens' text (here
     * checked against the plain run's text, cut by hand).
     */
    @Test
    void minTokensHoldsStopTokenIdsAndStopStringsBack() throws Exception {
        int[] p = TOK.encode(PROMPT);
        String free = alone(p, Generator.Options.greedy(24));
        int stopId = TOK.encode(free.substring(1, 2))[0];
        assertEquals(free.substring(0, free.indexOf(free.charAt(1))), complete(plainBase, "\"max_tokens\": 24, \"temperature\": 0, "
                + "\"stop_token_ids\": [" + stopId + "]", false), "stops at once without min_tokens");
        int[] held = new Generator(model).generate(p, Generator.Options.greedy(24).stopIds(java.util.Set.of(stopId)).minNewTokens(8), null);
        assertTrue(held.length >= 8, java.util.Arrays.toString(held));
        int shown = held[held.length - 1] == stopId ? held.length - 1 : held.length;
        String want = TOK.decode(java.util.Arrays.copyOf(held, shown));
        for (boolean stream : new boolean[] {false, true}) {
            assertEquals(want, complete(plainBase, "\"max_tokens\": 24, \"temperature\": 0, \"min_tokens\": 8, \"stop_token_ids\": ["
                    + stopId + "]", stream), "streamed " + stream);
        }
        String stop = free.substring(1, 3);
        int from = Math.max(0, 8 - stop.length() + 1), at = free.indexOf(stop, from);
        String cut = at < 0 ? free : free.substring(0, at);
        assertEquals(free.substring(0, free.indexOf(stop)), complete(plainBase, "\"max_tokens\": 24, \"temperature\": 0, \"stop\": \"" + stop + "\"", false));
        for (boolean stream : new boolean[] {false, true}) {
            assertEquals(cut, complete(plainBase, "\"max_tokens\": 24, \"temperature\": 0, \"min_tokens\": 8, \"stop\": \"" + stop + "\"",
                    stream), "streamed " + stream);
        }
        HttpResponse<String> chat = post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", "
                + "\"content\": \"hello\"}], \"max_completion_tokens\": 12, \"temperature\": 0, \"min_tokens\": 12, \"stop_token_ids\": "
                + "[" + stopId + ", 1, 2, 3]}");
        assertEquals(200, chat.statusCode(), chat.body());
        int[] chatPrompt = ServerTest.TEMPLATE.render(List.of(new ChatTemplate.Message("user", "hello")), Map.of());
        assertEquals(alone(chatPrompt, Generator.Options.greedy(12).stopIds(java.util.Set.of(stopId, 1, 2, 3)).minNewTokens(12)),
                JSON.readTree(chat.body()).path("choices").get(0).path("message").path("content").asText());
        assertEquals("length", JSON.readTree(chat.body()).path("choices").get(0).path("finish_reason").asText());
        String[][] bad = {{"\"min_tokens\": -1", "min_tokens"}, {"\"min_tokens\": 5, \"max_tokens\": 4", "min_tokens"},
                          {"\"stop_token_ids\": 3", "stop_token_ids"}, {"\"stop_token_ids\": [-1]", "stop_token_ids"},
                          {"\"stop_token_ids\": [\"a\"]", "stop_token_ids"}};
        for (String[] c : bad) {
            HttpResponse<String> r = post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", " + c[0] + "}");
            assertEquals(400, r.statusCode(), c[0] + ": " + r.body());
            assertEquals(c[1], JSON.readTree(r.body()).path("error").path("param").asText(), r.body());
        }
    }

    /**
     * vLLM's truncate_prompt_tokens: the prompt's last k tokens, for a completion and a chat (the rendered prompt's), as
     * Generator alone on those tokens gives; usage counts the kept tokens; -1 keeps max_model_len; a k past it, 0 or a
     * string is a 400 naming the field.
     */
    @Test
    void truncatePromptTokensKeepsThePromptsLastTokens() throws Exception {
        String prompt = "abcdefghijklmnop";
        int[] last5 = TOK.encode(prompt.substring(prompt.length() - 5));
        String want = TOK.decode(new Generator(model).generate(last5, Generator.Options.greedy(6), null));
        HttpResponse<String> r = post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 6,"
                + " \"temperature\": 0, \"truncate_prompt_tokens\": 5}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = JSON.readTree(r.body());
        assertEquals(want, j.at("/choices/0/text").asText());
        assertEquals(5, j.at("/usage/prompt_tokens").asInt());
        int[] chat = TOK.encode("user|hello|assistant|");
        String wantChat = TOK.decode(new Generator(model).generate(java.util.Arrays.copyOfRange(chat, chat.length - 7, chat.length),
                Generator.Options.greedy(4), null));
        HttpResponse<String> c = post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hello\"}],"
                + " \"max_tokens\": 4, \"temperature\": 0, \"truncate_prompt_tokens\": 7}");
        assertEquals(200, c.statusCode(), c.body());
        assertEquals(wantChat, JSON.readTree(c.body()).at("/choices/0/message/content").asText());
        HttpResponse<String> whole = post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 2,"
                + " \"truncate_prompt_tokens\": -1}");
        assertEquals(prompt.length(), JSON.readTree(whole.body()).at("/usage/prompt_tokens").asInt(), "-1: max_model_len, longer than the prompt");
        for (String bad : new String[] {"100000", "0", "\"5\"", "-2"}) {
            HttpResponse<String> e = post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"truncate_prompt_tokens\": " + bad + "}");
            assertEquals(400, e.statusCode(), bad + ": " + e.body());
            assertTrue(e.body().contains("truncate_prompt_tokens"), e.body());
        }
        assertTrue(post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"truncate_prompt_tokens\": 100000}").body()
                .contains("is greater than max_model_len"));
    }

    /**
     * Fields this server cannot honour are refused in vLLM's words, not ignored: best_of > 1, priority ≠ 0, a request's own
     * chat_template, suffix, prompt_embeds.
     */
    @Test
    void fieldsItCannotHonourAreRefusedInVllmsWords() throws Exception {
        String[][] cases = {
                {"/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"best_of\": 3}", "does not yet support best_of"},
                {"/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"priority\": 5}", "Priority scheduling is not enabled"},
                {"/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"chat_template\": \"{{ x }}\"}",
                        "--trust-request-chat-template"},
                {"/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"suffix\": \"xyz\"}", "suffix is not currently supported"},
                {"/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"prompt_embeds\": \"AAAA\"}", "--enable-prompt-embeds"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post(plainBase, c[0], c[1]);
            assertEquals(400, r.statusCode(), c[1] + ": " + r.body());
            assertTrue(r.body().contains(c[2]), r.body());
        }
        for (String ok : new String[] {"\"best_of\": 1", "\"priority\": 0", "\"best_of\": null"}) {
            HttpResponse<String> r = post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"max_tokens\": 2, " + ok + "}");
            assertEquals(200, r.statusCode(), ok + ": " + r.body());
        }
    }

    /**
     * vLLM's stream_options.continuous_usage_stats: every streamed chunk carries usage so far — the prompt's tokens and the
     * choice's tokens until then (0 in a chat's role chunk), rising by one a token chunk — then the include_usage total.
     */
    @Test
    void continuousUsageStatsPutUsageOnEveryChunk() throws Exception {
        for (String path : new String[] {"/v1/completions", "/v1/chat/completions"}) {
            boolean chat = path.contains("chat");
            String body = "{\"model\": \"tiny\", " + (chat ? "\"messages\": [{\"role\": \"user\", \"content\": \"hello\"}]" : "\"prompt\": \"hello\"")
                    + ", \"max_tokens\": 6, \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true, \"continuous_usage_stats\": true}}";
            int promptTokens = chat ? TOK.encode("user|hello|assistant|").length : 5;
            HttpResponse<String> r = post(plainBase, path, body);
            assertEquals(200, r.statusCode(), r.body());
            List<JsonNode> chunks = new java.util.ArrayList<>();
            for (String line : r.body().split("\n")) if (line.startsWith("data: ") && !line.equals("data: [DONE]")) chunks.add(JSON.readTree(line.substring(6)));
            int last = -1;
            for (JsonNode c : chunks.subList(0, chunks.size() - 1)) {
                JsonNode u = c.get("usage");
                assertTrue(u != null && !u.isNull(), path + ": a chunk without usage: " + c);
                assertEquals(promptTokens, u.get("prompt_tokens").asInt(), path);
                int done = u.get("completion_tokens").asInt();
                assertTrue(done >= last && done <= 6, path + ": " + done + " after " + last);
                assertEquals(promptTokens + done, u.get("total_tokens").asInt());
                last = done;
            }
            assertEquals(6, last, path + ": the last content chunk counts every token");
            JsonNode total = chunks.get(chunks.size() - 1);
            assertTrue(total.get("choices").isEmpty(), path + ": the include_usage chunk");
            assertEquals(6, total.at("/usage/completion_tokens").asInt());
            if (chat) assertEquals(0, chunks.get(0).at("/usage/completion_tokens").asInt(), "the role chunk");
        }
        HttpResponse<String> plainStream = post(plainBase, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hello\", \"max_tokens\": 3, \"stream\": true}");
        assertTrue(!plainStream.body().contains("\"usage\""), "no usage unless asked: " + plainStream.body());
    }

    /**
     * vLLM's chat echo: the last message's text before the reply where it has the reply's role — with
     * add_generation_prompt false that is the last message's own (a continued reply comes back whole); with a generation
     * prompt only an assistant last message; whole and streamed (a chunk after the role chunk).
     */
    @Test
    void chatEchoPutsTheLastMessageBeforeTheReply() throws Exception {
        String msgs = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"abc\"}]";
        String plainReply = JSON.readTree(post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", " + msgs
                + ", \"add_generation_prompt\": false, \"max_tokens\": 4, \"temperature\": 0}").body()).at("/choices/0/message/content").asText();
        String echoed = JSON.readTree(post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", " + msgs
                + ", \"add_generation_prompt\": false, \"echo\": true, \"max_tokens\": 4, \"temperature\": 0}").body()).at("/choices/0/message/content").asText();
        assertEquals("abc" + plainReply, echoed);
        HttpResponse<String> s = post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", " + msgs
                + ", \"add_generation_prompt\": false, \"echo\": true, \"max_tokens\": 4, \"temperature\": 0, \"stream\": true}");
        StringBuilder streamed = new StringBuilder();
        for (String line : s.body().split("\n")) {
            if (line.startsWith("data: ") && !line.equals("data: [DONE]")) streamed.append(JSON.readTree(line.substring(6)).at("/choices/0/delta/content").asText(""));
        }
        assertEquals(echoed, streamed.toString(), "streamed: the echo, then the reply");
        String userLast = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";
        JsonNode noEcho = JSON.readTree(post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", " + userLast
                + ", \"echo\": true, \"max_tokens\": 4, \"temperature\": 0}").body());
        JsonNode none = JSON.readTree(post(plainBase, "/v1/chat/completions", "{\"model\": \"tiny\", " + userLast
                + ", \"max_tokens\": 4, \"temperature\": 0}").body());
        assertEquals(none.at("/choices/0/message/content"), noEcho.at("/choices/0/message/content"), "a user's last message is not the reply's role");
    }
}
