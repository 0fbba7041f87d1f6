// LmEvalServerTest — what lm-evaluation-harness's local-completions model sends, on ServerTest's tiny random decoder:
// batches of prompts (strings or token ids) whose choices come back indexed prompt by prompt, each its solo reply;
// loglikelihood requests (echo, logprobs 1, max_tokens 1 — or 0, prompt only) whose prompt log-probabilities equal a
// float64 log softmax of a full pass; and vLLM's /tokenize, /detokenize and /tokenizer_info, which its remote
// tokenizer reads (a body without "model" is served); and vLLM's return_token_ids / return_tokens_as_token_ids, which RL
// rollouts read.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LmEvalServerTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void setUp() { ServerTest.setUp(); }

    @AfterAll
    static void tearDown() { ServerTest.tearDown(); }

    static JsonNode ok(String path, String body) throws Exception {
        HttpResponse<String> r = ServerTest.post(path, body);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static JsonNode bad(String path, String body, String param, String words) throws Exception {
        HttpResponse<String> r = ServerTest.post(path, body);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).path("error");
        if (param != null) assertEquals(param, e.path("param").asText(), r.body());
        assertTrue(e.path("message").asText().contains(words), words + " in " + r.body());
        return e;
    }

    /** Float64 log softmax of row {@code row} of a full pass over {@code ids} (no cache). */
    static double[] logSoftmax(int[] ids, int row) {
        float[] r = ServerTest.model.logits(new int[][] {ids})[0][row];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : r) max = Math.max(max, v);
        for (float v : r) sum += Math.exp(v - max);
        double[] out = new double[r.length];
        for (int i = 0; i < r.length; i++) out[i] = r[i] - max - Math.log(sum);
        return out;
    }

    /** generate_until: a batch of prompts (token ids and strings) → one choice each, index = the prompt's place, its solo reply. */
    @Test
    void aBatchOfPromptsGetsItsChoicesInPromptOrder() throws Exception {
        List<int[]> prompts = List.of(ServerTest.TOK.encode("first_prompt"), ServerTest.TOK.encode("b"), ServerTest.TOK.encode("the_third_one"));
        String ids = "[" + String.join(",", prompts.stream().map(Arrays::toString).toList()) + "]";
        JsonNode r = ok("/v1/completions", "{\"model\":\"tiny\",\"prompt\":" + ids + ",\"max_tokens\":7,\"temperature\":0,\"seed\":1234,\"stop\":[\"~~\"]}");
        assertEquals(3, r.get("choices").size());
        for (int i = 0; i < 3; i++) {
            JsonNode c = r.get("choices").get(i);
            assertEquals(i, c.get("index").asInt());
            assertEquals(ServerTest.alone(prompts.get(i), ServerTest.opts(7, 0, 0).stopStrings(java.util.Set.of("~~"), ServerTest.TOK::decode)),
                    c.get("text").asText(), "prompt " + i);
        }
        assertEquals(12 + 1 + 13, r.at("/usage/prompt_tokens").asInt(), "every prompt's tokens");
        // strings, with n = 2: index = prompt · n + choice, choice j seeded seed + j
        JsonNode s = ok("/v1/completions", "{\"model\":\"tiny\",\"prompt\":[\"ab\",\"cd\"],\"max_tokens\":4,\"temperature\":0.9,\"seed\":7,\"n\":2}");
        assertEquals(4, s.get("choices").size());
        for (int k = 0; k < 4; k++) {
            String prompt = k < 2 ? "ab" : "cd";
            assertEquals(k, s.get("choices").get(k).get("index").asInt());
            assertEquals(ServerTest.alone(ServerTest.TOK.encode(prompt), ServerTest.opts(4, 0.9, 7 + k % 2)), s.get("choices").get(k).get("text").asText(), "choice " + k);
        }
        bad("/v1/completions", "{\"model\":\"tiny\",\"prompt\":[\"ab\", 5],\"max_tokens\":2}", "prompt", "prompt[1]");
        bad("/v1/completions", "{\"model\":\"tiny\",\"prompt\":[[1,2],[3,\"x\"]],\"max_tokens\":2}", "prompt", "prompt[1]");
        bad("/v1/completions", "{\"model\":\"tiny\",\"prompt\":[],\"max_tokens\":2}", "prompt", "token-id arrays");
    }

    /**
     * loglikelihood, as local-completions asks (temperature 0, max_tokens 1, logprobs 1, echo, a batch of token prompts):
     * per choice, token_logprobs[i] for every prompt token i ≥ 1 is the log softmax of a full pass's row i − 1 (1e-5),
     * top_logprobs[i] that row's most likely token; entry 0 null; the generated token last. And max_tokens 0 with echo:
     * the prompt alone, no token.
     */
    @Test
    void loglikelihoodRequestsGetThePromptsLogprobs() throws Exception {
        int[] a = ServerTest.TOK.encode("context_then_continuation"), b = ServerTest.TOK.encode("another_context,_longer_than_one_block");
        JsonNode r = ok("/v1/completions", "{\"model\":\"tiny\",\"prompt\":[" + Arrays.toString(a) + "," + Arrays.toString(b)
                + "],\"temperature\":0,\"max_tokens\":1,\"logprobs\":1,\"seed\":1234,\"echo\":true}");
        int[][] prompts = {a, b};
        for (int k = 0; k < 2; k++) {
            JsonNode c = r.get("choices").get(k);
            int[] p = prompts[k];
            JsonNode lp = c.get("logprobs");
            assertEquals(p.length + 1, lp.get("token_logprobs").size(), "the prompt's tokens and the generated one");
            assertTrue(lp.get("token_logprobs").get(0).isNull() && lp.get("top_logprobs").get(0).isNull(), "the first token has none");
            for (int i = 1; i < p.length; i++) {
                double[] ls = logSoftmax(p, i - 1);
                assertEquals(ls[p[i]], lp.get("token_logprobs").get(i).asDouble(), 1e-5, "prompt " + k + " token " + i);
                JsonNode top = lp.get("top_logprobs").get(i);
                assertEquals(1, top.size());
                int best = 0;
                for (int v = 1; v < ls.length; v++) if (ls[v] > ls[best]) best = v;
                assertEquals(ls[best], top.get(ServerTest.TOK.decode(new int[] {best})).asDouble(), 1e-5, "prompt " + k + " token " + i + "'s row's best");
            }
            assertEquals(ServerTest.TOK.decode(p) + ServerTest.alone(p, ServerTest.opts(1, 0, 0)), c.get("text").asText());
        }
        JsonNode only = ok("/v1/completions", "{\"model\":\"tiny\",\"prompt\":" + Arrays.toString(a) + ",\"max_tokens\":0,\"logprobs\":0,\"echo\":true}");
        JsonNode c = only.get("choices").get(0);
        assertEquals(ServerTest.TOK.decode(a), c.get("text").asText(), "the prompt only");
        assertEquals("length", c.get("finish_reason").asText());
        assertEquals(a.length, c.at("/logprobs/token_logprobs").size());
        assertEquals(r.at("/choices/0/logprobs/token_logprobs/5").asDouble(), c.at("/logprobs/token_logprobs/5").asDouble(), 0.0);
        assertEquals(0, only.at("/usage/completion_tokens").asInt());
        bad("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ab\",\"max_tokens\":0}", "max_tokens", "0 with echo");
    }

    /**
     * vLLM's prompt_logprobs: per prompt token (the first null) a map from token id to {logprob, rank, decoded_token}, the
     * token itself first (its rank among the row's ids), then the row's top k by rank; on a completion's choice and at the
     * top of a chat reply; refused with stream and outside [0, 20].
     */
    @Test
    void promptLogprobsAsVllmGivesThem() throws Exception {
        int[] p = ServerTest.TOK.encode("score_this_prompt_please");
        JsonNode r = ok("/v1/completions", "{\"model\":\"tiny\",\"prompt\":" + Arrays.toString(p) + ",\"max_tokens\":2,\"temperature\":0,\"prompt_logprobs\":2}");
        JsonNode pl = r.at("/choices/0/prompt_logprobs");
        assertEquals(p.length, pl.size());
        assertTrue(pl.get(0).isNull());
        for (int i = 1; i < p.length; i++) {
            double[] ls = logSoftmax(p, i - 1);
            JsonNode at = pl.get(i);
            String first = at.fieldNames().next();
            assertEquals(Integer.toString(p[i]), first, "the prompt token first");
            JsonNode own = at.get(first);
            assertEquals(ls[p[i]], own.get("logprob").asDouble(), 1e-5, "token " + i);
            int above = 0, nearlyAbove = 0;
            for (double v : ls) { if (v > ls[p[i]] + 1e-5) above++; if (v > ls[p[i]] - 1e-5) nearlyAbove++; }
            int rank = own.get("rank").asInt();
            assertTrue(rank >= above + 1 && rank <= nearlyAbove, "token " + i + " rank " + rank + ", " + above + " ids above it");
            assertEquals(ServerTest.TOK.decode(new int[] {p[i]}), own.get("decoded_token").asText());
            int[] order = java.util.stream.IntStream.range(0, ls.length).boxed().sorted((x, y) -> Double.compare(ls[y], ls[x]))
                    .mapToInt(Integer::intValue).toArray();
            for (int j = 0; j < 2; j++) {
                JsonNode alt = at.get(Integer.toString(order[j]));
                assertTrue(alt != null, "token " + i + ": the row's top " + (j + 1) + " in " + at);
                if (order[j] != p[i]) assertEquals(j + 1, alt.get("rank").asInt());
            }
            assertTrue(at.size() <= 3 && at.size() >= 2);
        }
        JsonNode chat = ok("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hey\"}],\"max_tokens\":2,"
                + "\"temperature\":0,\"prompt_logprobs\":0}");
        assertEquals(ServerTest.TOK.encode("user|hey|assistant|").length, chat.get("prompt_logprobs").size(), "the rendered prompt's tokens");
        assertEquals(1, chat.get("prompt_logprobs").get(3).size(), "k = 0: the token itself only");
        bad("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ab\",\"prompt_logprobs\":1,\"stream\":true}", "prompt_logprobs", "stream");
        bad("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ab\",\"prompt_logprobs\":21}", "prompt_logprobs", "[0, 20]");
    }

    /** The server-sent events of a streamed request, as JSON objects (without [DONE]). */
    static List<JsonNode> streamed(String path, String body) throws Exception {
        HttpResponse<String> r = ServerTest.post(path, body);
        assertEquals(200, r.statusCode(), r.body());
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: ") && !line.equals("data: [DONE]")) out.add(JSON.readTree(line.substring(6)));
        }
        return out;
    }

    static int[] ints(JsonNode a) {
        int[] x = new int[a.size()];
        for (int i = 0; i < x.length; i++) x[i] = a.get(i).asInt();
        return x;
    }

    /**
     * vLLM's return_token_ids: a completion's choice carries prompt_token_ids and token_ids (every sampled id), a chat reply
     * prompt_token_ids at the top and token_ids per choice; streamed, the prompt's ids come once (a completion's first
     * chunk, a chat stream's first chunk) and each chunk carries the ids since the last. return_tokens_as_token_ids writes
     * logprobs tokens as "token_id:N".
     */
    @Test
    void returnTokenIdsAsVllmGivesThem() throws Exception {
        int[] p = ServerTest.TOK.encode("ids_please");
        int[] gen = new org.transformer4j.model.Generator(ServerTest.model).generate(p, ServerTest.opts(9, 0, 0), null);
        JsonNode r = ok("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ids_please\",\"max_tokens\":9,\"temperature\":0,\"return_token_ids\":true}");
        assertArrayEquals(p, ints(r.at("/choices/0/prompt_token_ids")));
        assertArrayEquals(gen, ints(r.at("/choices/0/token_ids")));
        List<JsonNode> chunks = streamed("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ids_please\",\"max_tokens\":9,\"temperature\":0,"
                + "\"return_token_ids\":true,\"stream\":true}");
        List<Integer> got = new java.util.ArrayList<>();
        int withPrompt = 0;
        for (JsonNode c : chunks) {
            JsonNode ch = c.at("/choices/0");
            if (ch.has("prompt_token_ids")) { withPrompt++; assertArrayEquals(p, ints(ch.get("prompt_token_ids"))); }
            for (int id : ints(ch.get("token_ids"))) got.add(id);
        }
        assertEquals(1, withPrompt, "the prompt's ids in the first chunk only");
        assertArrayEquals(gen, got.stream().mapToInt(Integer::intValue).toArray());

        int[] chatPrompt = ServerTest.TOK.encode("user|yo|assistant|");
        int[] chatGen = new org.transformer4j.model.Generator(ServerTest.model).generate(chatPrompt, ServerTest.opts(6, 0, 0), null);
        JsonNode c = ok("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"yo\"}],\"max_tokens\":6,"
                + "\"temperature\":0,\"return_token_ids\":true}");
        assertArrayEquals(chatPrompt, ints(c.get("prompt_token_ids")));
        assertArrayEquals(chatGen, ints(c.at("/choices/0/token_ids")));
        List<JsonNode> cs = streamed("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"yo\"}],"
                + "\"max_tokens\":6,\"temperature\":0,\"return_token_ids\":true,\"stream\":true}");
        assertArrayEquals(chatPrompt, ints(cs.get(0).get("prompt_token_ids")));
        got.clear();
        for (int i = 0; i < cs.size(); i++) {
            if (i > 0) assertTrue(!cs.get(i).has("prompt_token_ids"), "chunk " + i);
            JsonNode t = cs.get(i).at("/choices/0/token_ids");
            if (!t.isMissingNode()) for (int id : ints(t)) got.add(id);
        }
        assertArrayEquals(chatGen, got.stream().mapToInt(Integer::intValue).toArray());

        JsonNode lp = ok("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ids_please\",\"max_tokens\":3,\"temperature\":0,\"logprobs\":2,"
                + "\"return_tokens_as_token_ids\":true}").at("/choices/0/logprobs");
        for (int i = 0; i < 3; i++) {
            assertEquals("token_id:" + gen[i], lp.get("tokens").get(i).asText());
            lp.get("top_logprobs").get(i).fieldNames().forEachRemaining(k -> assertTrue(k.matches("token_id:\\d+"), k));
        }
        bad("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ab\",\"return_token_ids\":\"yes\"}", "return_token_ids", "boolean");
    }

    /**
     * A reply that ends with an end id: its text leaves the id out, but usage.completion_tokens, the logprobs and token_ids
     * count it (vLLM counts every sampled token; the logprobs list it), so the three agree.
     */
    @Test
    void usageCountsTheEndIdAsItsLogprobsDo() throws Exception {
        int[] p = ServerTest.TOK.encode("stop_soon");
        int[] gen = new org.transformer4j.model.Generator(ServerTest.model).generate(p, ServerTest.opts(12, 0, 0), null);
        int end = gen[3];
        int k = 0;
        while (gen[k] != end) k++;                                    // the first place the end id comes
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults(), java.util.Set.of(end))) {
            int port = s.start("127.0.0.1", 0);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"prompt\":\"stop_soon\","
                            + "\"max_tokens\":12,\"temperature\":0,\"logprobs\":0,\"return_token_ids\":true}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode c = JSON.readTree(r.body());
            assertEquals("stop", c.at("/choices/0/finish_reason").asText());
            assertEquals(ServerTest.TOK.decode(Arrays.copyOf(gen, k)), c.at("/choices/0/text").asText(), "the text without the end id");
            assertEquals(k + 1, c.at("/usage/completion_tokens").asInt(), "the end id counted");
            assertEquals(k + 1, c.at("/choices/0/logprobs/tokens").size());
            assertArrayEquals(Arrays.copyOf(gen, k + 1), ints(c.at("/choices/0/token_ids")));
        }
    }

    /** /tokenize, /detokenize and /tokenizer_info as vLLM answers them (lm-eval's remote tokenizer sends no model). */
    @Test
    void tokenizerEndpointsAnswerAsVllms() throws Exception {
        JsonNode t = ok("/tokenize", "{\"prompt\":\"hello\",\"add_special_tokens\":false}");
        assertEquals(JSON.valueToTree(ServerTest.TOK.encode("hello")), t.get("tokens"));
        assertEquals(5, t.get("count").asInt());
        assertEquals(160, t.get("max_model_len").asInt(), "the model's positions");
        assertTrue(t.get("token_strs").isNull());
        JsonNode strs = ok("/tokenize", "{\"model\":\"tiny\",\"prompt\":\"hi\",\"return_token_strs\":true}").get("token_strs");
        assertEquals(List.of("h", "i"), List.of(strs.get(0).asText(), strs.get(1).asText()));
        JsonNode m = ok("/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"yo\"}]}");
        assertEquals(JSON.valueToTree(ServerTest.TOK.encode("user|yo|assistant|")), m.get("tokens"), "through the chat template");
        JsonNode m2 = ok("/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"yo\"}],\"add_generation_prompt\":false}");
        assertEquals(JSON.valueToTree(ServerTest.TOK.encode("user|yo|")), m2.get("tokens"));
        HttpResponse<String> unknown = ServerTest.post("/tokenize", "{\"model\":\"other\",\"prompt\":\"x\"}");
        assertEquals(404, unknown.statusCode(), unknown.body());
        assertTrue(unknown.body().contains("'other' does not exist"), unknown.body());
        bad("/tokenize", "{\"prompt\":5}", "prompt", "string");

        assertEquals("hello", ok("/detokenize", "{\"tokens\":" + Arrays.toString(ServerTest.TOK.encode("hello")) + "}").get("prompt").asText());
        bad("/detokenize", "{\"tokens\":[1,\"a\"]}", "tokens", "tokens[1]");
        bad("/detokenize", "{\"tokens\":[100000]}", null, "100000");

        HttpResponse<String> info = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ServerTest.base + "/tokenizer_info")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, info.statusCode());
        JsonNode i = JSON.readTree(info.body());
        assertTrue(i.has("eos_token"), "lm-eval's check: " + info.body());
        assertEquals(160, i.get("model_max_length").asInt());
    }

    /** A server given the tokenizer's configuration answers it on /tokenizer_info, with the eos token the server knows otherwise. */
    @Test
    void tokenizerInfoIsTheConfigurationGiven() throws Exception {
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults(), java.util.Set.of(3))) {
            s.tokenizerInfo(Map.of("tokenizer_class", "CharTokenizer", "chat_template", "{{ x }}"));
            int port = s.start("127.0.0.1", 0);
            JsonNode i = JSON.readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/tokenizer_info")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("CharTokenizer", i.get("tokenizer_class").asText());
            assertEquals("{{ x }}", i.get("chat_template").asText());
            assertEquals(ServerTest.TOK.decode(new int[] {3}), i.get("eos_token").asText(), "the text of the end id");
        }
    }
}
