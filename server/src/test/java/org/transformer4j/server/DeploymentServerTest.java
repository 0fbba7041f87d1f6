// DeploymentServerTest — what running the server for others needs, on ServerTest's tiny random decoder (160 positions):
// the context length (vLLM's max_model_len: its checks and its exact words, which clients parse to shrink a
// conversation; a chat's default max_tokens is the room left), API keys (vLLM's --api-key: every route but the probes
// and /metrics; 401 otherwise; OPTIONS passes), CORS for the origins allowed (none by default), more served names, and
// the /ping and /version probes.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.UnauthorizedException;
import com.openai.models.completions.CompletionCreateParams;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.PagedBatch;
import org.transformer4j.model.engine.Engine;

class DeploymentServerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void setUp() { ServerTest.setUp(); }

    @AfterAll
    static void tearDown() { ServerTest.tearDown(); }

    static HttpResponse<String> send(int port, String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static int port() { return URI.create(ServerTest.base).getPort(); }

    static JsonNode status(int want, HttpResponse<String> r) throws Exception {
        assertEquals(want, r.statusCode(), r.body());
        return r.body().isEmpty() ? null : JSON.readTree(r.body());
    }

    static String chars(int n) { return "abcdefghij".repeat(n / 10 + 1).substring(0, n); }

    // ---- context length ------------------------------------------------------------------------------

    @Test
    void theContextLengthIsTheModelsPositionsAndRequestsPastItGetVllmsWords() throws Exception {
        int p = port();
        assertEquals(160, ServerTest.engine.maxSequenceRows(), "the tiny model's positions (its KV pool holds more)");
        JsonNode models = status(200, send(p, "GET", "/v1/models", null));
        assertEquals(160, models.at("/data/0/max_model_len").asInt(), models.toString());

        // a completion's max_tokens defaults to 16, checked as if given (vLLM's CompletionRequest default)
        JsonNode e = status(400, ServerTest.post("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"" + chars(150) + "\"}")).get("error");
        assertEquals("'max_tokens' or 'max_completion_tokens' is too large: 16. This model's maximum context length is 160 tokens and"
                + " your request has 150 input tokens (16 > 160 - 150).", e.get("message").asText());
        assertEquals("max_tokens", e.get("param").asText());
        status(200, ServerTest.post("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"" + chars(144) + "\",\"temperature\":0}"));

        e = status(400, ServerTest.post("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"" + chars(161) + "\",\"max_tokens\":1}")).get("error");
        assertEquals("This model's maximum context length is 160 tokens. However, your request has 161 input tokens. Please reduce the"
                + " length of the input messages.", e.get("message").asText());
        assertEquals("prompt", e.get("param").asText());
        // a prompt that fills the context leaves no room to generate; scoring it alone (echo, max_tokens 0) fits
        e = status(400, ServerTest.post("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"" + chars(160) + "\",\"max_tokens\":1}")).get("error");
        assertTrue(e.get("message").asText().startsWith("'max_tokens' or 'max_completion_tokens' is too large: 1."), e.toString());
        e = status(400, ServerTest.post("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"" + chars(144)
                + "\"}]}")).get("error");
        assertTrue(e.get("message").asText().startsWith("This model's maximum context length is 160 tokens. However, your request has 160"), e.toString());
        JsonNode scored = status(200, ServerTest.post("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"" + chars(160)
                + "\",\"max_tokens\":0,\"echo\":true,\"logprobs\":1}"));
        assertEquals(160, scored.at("/choices/0/logprobs/tokens").size());

        // a chat without max_tokens gets the room left (vLLM's default): prompt "user|…|assistant|" is content + 16 tokens
        String content = chars(100);
        JsonNode chat = status(200, ServerTest.post("/v1/chat/completions", "{\"model\":\"tiny\",\"temperature\":0,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + content + "\"}]}"));
        int prompt = chat.at("/usage/prompt_tokens").asInt();
        assertEquals(116, prompt);
        assertEquals(160 - prompt, chat.at("/usage/completion_tokens").asInt(), chat.toString());
        assertEquals("length", chat.at("/choices/0/finish_reason").asText());
        assertEquals(ServerTest.alone(ServerTest.TOK.encode("user|" + content + "|assistant|"), ServerTest.opts(160 - prompt, 0, 0)),
                chat.at("/choices/0/message/content").asText(), "the reply runs to the end of the context, as the model alone");
        status(200, ServerTest.post("/v1/chat/completions", "{\"model\":\"tiny\",\"temperature\":0,\"max_completion_tokens\":44,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}"));
        e = status(400, ServerTest.post("/v1/chat/completions", "{\"model\":\"tiny\",\"max_completion_tokens\":45,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + content + "\"}]}")).get("error");
        assertEquals("'max_tokens' or 'max_completion_tokens' is too large: 45. This model's maximum context length is 160 tokens and"
                + " your request has 116 input tokens (45 > 160 - 116).", e.get("message").asText());
        assertEquals("max_completion_tokens", e.get("param").asText());
        e = status(400, ServerTest.post("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"" + chars(150)
                + "\"}]}")).get("error");
        assertTrue(e.get("message").asText().startsWith("This model's maximum context length is 160 tokens. However, your request has 166"
                + " input tokens."), e.toString());
        assertEquals("messages", e.get("param").asText());
    }

    @Test
    void aSetContextLengthIsAtMostTheEnginesAndNamesWhatCapsIt() throws Exception {
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults())) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> s.maxModelLen(161));
            assertTrue(x.getMessage().contains("the model's 160 positions"), x.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.maxModelLen(0));
            int p = s.maxModelLen(64).start("127.0.0.1", 0);
            assertEquals(64, s.maxModelLen());
            assertEquals(64, status(200, send(p, "GET", "/v1/models", null)).at("/data/0/max_model_len").asInt());
            JsonNode e = status(400, send(p, "POST", "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"" + chars(60) + "\",\"max_tokens\":5}")).get("error");
            assertTrue(e.get("message").asText().contains("is too large: 5. This model's maximum context length is 64 tokens"), e.toString());
            assertEquals(64, status(200, send(p, "POST", "/tokenize", "{\"prompt\":\"ab\"}")).get("max_model_len").asInt());
        }
        // a pool of three blocks holds 48 rows for one sequence: the context is that, and no more can be set
        try (Engine small = new Engine(ServerTest.model, Engine.Config.defaults(ServerTest.model).kvBudget(PagedBatch.bytesPerBlock(ServerTest.model) * 3));
             OpenAiServer s = OpenAiServer.decoder("tiny", small, ServerTest.TOK, null, OpenAiServer.Limits.defaults())) {
            assertEquals(48, s.maxModelLen());
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> s.maxModelLen(49));
            assertTrue(x.getMessage().contains("the KV pool holds for one sequence (48 tokens"), x.getMessage());
        }
    }

    // ---- API keys ------------------------------------------------------------------------------------

    @Test
    void apiKeysGuardEveryRouteButTheProbesAndMetrics() throws Exception {
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults())
                .apiKeys(List.of("sk-first", "sk-second"))) {
            int p = s.start("127.0.0.1", 0);
            String body = "{\"model\":\"tiny\",\"prompt\":\"ab\",\"max_tokens\":3,\"temperature\":0}";
            for (String[] h : new String[][] {{}, {"Authorization", "Bearer sk-wrong"}, {"Authorization", "Basic sk-first"},
                    {"Authorization", "Bearer"}, {"Authorization", "Bearer  sk-first"}}) {
                HttpResponse<String> r = send(p, "POST", "/v1/completions", body, h);
                JsonNode e = status(401, r).get("error");
                assertEquals("invalid_api_key", e.get("code").asText(), r.body());
                assertEquals(Optional.of("Bearer"), r.headers().firstValue("WWW-Authenticate"));
            }
            JsonNode ok = status(200, send(p, "POST", "/v1/completions", body, "Authorization", "Bearer sk-first"));
            assertEquals(ServerTest.alone(ServerTest.TOK.encode("ab"), ServerTest.opts(3, 0, 0)), ok.at("/choices/0/text").asText());
            status(200, send(p, "POST", "/v1/completions", body, "Authorization", "bearer sk-second"));   // the scheme in any case
            for (String path : List.of("/v1/models", "/tokenizer_info")) status(401, send(p, "GET", path, null));
            for (String path : List.of("/tokenize", "/detokenize", "/v1/chat/completions", "/v1/embeddings", "/v1/nothing-here")) {
                status(401, send(p, "POST", path, "{}"));
            }
            for (String path : List.of("/health", "/ping", "/version", "/metrics")) assertEquals(200, send(p, "GET", path, null).statusCode(), path);
            assertTrue(send(p, "GET", "/metrics", null).body().contains("endpoint=\"unauthorized\",status=\"401\""));
            assertFalse(send(p, "OPTIONS", "/v1/completions", null).statusCode() == 401, "a CORS preflight carries no credentials");

            // the official client: its apiKey is the bearer token
            OpenAIClient good = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + p + "/v1").apiKey("sk-second").maxRetries(0).build();
            OpenAIClient bad = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + p + "/v1").apiKey("sk-nope").maxRetries(0).build();
            CompletionCreateParams params = CompletionCreateParams.builder().model("tiny").prompt("ab").maxTokens(3).temperature(0).build();
            assertEquals(ok.at("/choices/0/text").asText(), good.completions().create(params).choices().get(0).text());
            assertThrows(UnauthorizedException.class, () -> bad.completions().create(params));
        }
        OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults());
        for (String k : new String[] {"", " sk", "sk key", "sk\u00e9"}) assertThrows(IllegalArgumentException.class, () -> s.apiKeys(List.of(k)), k);
    }

    // ---- CORS ----------------------------------------------------------------------------------------

    @Test
    void corsAnswersTheAllowedOriginsOnlyAndNoneByDefault() throws Exception {
        String mine = "https://app.example", other = "https://elsewhere.example";
        // the shared server allows no origin: no CORS header, whatever the origin
        assertTrue(send(port(), "GET", "/v1/models", null, "Origin", mine).headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, ServerTest.TEMPLATE, OpenAiServer.Limits.defaults())
                .apiKeys(List.of("sk-k")).cors(List.of(mine, "http://localhost:3000"), false)) {
            int p = s.start("127.0.0.1", 0);
            HttpResponse<String> r = send(p, "GET", "/v1/models", null, "Origin", mine, "Authorization", "Bearer sk-k");
            status(200, r);
            assertEquals(Optional.of(mine), r.headers().firstValue("Access-Control-Allow-Origin"));
            assertTrue(send(p, "GET", "/v1/models", null, "Origin", other, "Authorization", "Bearer sk-k").headers()
                    .firstValue("Access-Control-Allow-Origin").isEmpty(), "an origin not allowed gets no CORS header");
            // a 401 still tells the allowed page why (its CORS header is there)
            HttpResponse<String> denied = send(p, "GET", "/v1/models", null, "Origin", mine);
            assertEquals(401, denied.statusCode());
            assertEquals(Optional.of(mine), denied.headers().firstValue("Access-Control-Allow-Origin"));
            // the browser's preflight: no key, answered
            HttpResponse<String> pre = send(p, "OPTIONS", "/v1/chat/completions", null, "Origin", mine,
                    "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type");
            assertEquals(200, pre.statusCode(), pre.body());
            assertEquals(Optional.of(mine), pre.headers().firstValue("Access-Control-Allow-Origin"));
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase().contains("authorization"), pre.headers().toString());
        }
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults())
                .cors(List.of("*"), false)) {
            int p = s.start("127.0.0.1", 0);
            assertEquals(Optional.of("*"), send(p, "GET", "/v1/models", null, "Origin", other).headers().firstValue("Access-Control-Allow-Origin"));
        }
        OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults());
        for (String o : new String[] {"app.example", "https://app.example/path", "ftp://x"}) {
            assertThrows(IllegalArgumentException.class, () -> s.cors(List.of(o), false), o);
        }
    }

    // ---- shutdown ------------------------------------------------------------------------------------

    /**
     * vLLM's --shutdown-timeout: draining, new requests get 503 with Retry-After and /health 503, while a request already
     * in flight runs to its end (the engine's loop is held by a listener so that it is in flight when the drain begins);
     * drain returns false while it runs, true once it finished.
     */
    @Test
    void drainingRefusesNewRequestsAndLetsThoseInFlightFinish() throws Exception {
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults())) {
            int p = s.start("127.0.0.1", 0);
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1), release = new java.util.concurrent.CountDownLatch(1);
            ServerTest.engine.submit(new Engine.Request(ServerTest.TOK.encode("zz"), org.transformer4j.model.Generator.Options.greedy(2)),
                    new Engine.Listener() {
                        boolean first = true;
                        @Override public void onToken(Engine.Token t) {
                            if (!first) return;
                            first = false;
                            held.countDown();
                            try { release.await(60, java.util.concurrent.TimeUnit.SECONDS); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
                        }
                        @Override public void onFinish(Engine.Finish f, String error) {}
                    });
            assertTrue(held.await(30, java.util.concurrent.TimeUnit.SECONDS), "the engine's loop is held");
            String body = "{\"model\":\"tiny\",\"prompt\":\"abc\",\"max_tokens\":6,\"temperature\":0,\"stream\":true}";
            java.util.concurrent.CompletableFuture<HttpResponse<String>> running = HTTP.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + p + "/v1/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            long end = System.nanoTime() + 30_000_000_000L;
            while (s.inFlight() == 0 && System.nanoTime() < end) Thread.sleep(5);
            assertEquals(1, s.inFlight());
            try {
                assertFalse(s.drain(Duration.ofMillis(100)), "a request is still in flight");
                HttpResponse<String> refused = send(p, "POST", "/v1/completions", body);
                assertEquals(503, refused.statusCode(), refused.body());
                assertTrue(refused.headers().firstValue("Retry-After").isPresent());
                assertEquals(503, send(p, "GET", "/health", null).statusCode());
            } finally {
                release.countDown();
            }
            assertTrue(s.drain(Duration.ofSeconds(60)), "the request in flight finished");
            HttpResponse<String> done = running.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, done.statusCode(), done.body());
            StringBuilder text = new StringBuilder();
            for (String line : done.body().split("\n")) {
                if (line.startsWith("data: {")) text.append(JSON.readTree(line.substring(6)).at("/choices/0/text").asText());
            }
            assertEquals(ServerTest.alone(ServerTest.TOK.encode("abc"), ServerTest.opts(6, 0, 0)), text.toString(), "streamed to its end");
            assertTrue(done.body().strip().endsWith("data: [DONE]"), done.body());
        }
    }

    // ---- names and probes ----------------------------------------------------------------------------

    @Test
    void moreServedNamesAreAcceptedAndRepliesCarryTheFirst() throws Exception {
        try (OpenAiServer s = OpenAiServer.decoder("tiny", ServerTest.engine, ServerTest.TOK, null, OpenAiServer.Limits.defaults())
                .aliases(List.of("org/tiny-v1"))) {
            int p = s.start("127.0.0.1", 0);
            JsonNode r = status(200, send(p, "POST", "/v1/completions", "{\"model\":\"org/tiny-v1\",\"prompt\":\"ab\",\"max_tokens\":2}"));
            assertEquals("tiny", r.get("model").asText());
            JsonNode models = status(200, send(p, "GET", "/v1/models", null));
            assertEquals(2, models.get("data").size());
            assertEquals("org/tiny-v1", models.at("/data/1/id").asText());
            JsonNode e = status(404, send(p, "POST", "/v1/completions", "{\"model\":\"other\",\"prompt\":\"ab\"}")).get("error");
            assertEquals("The model 'other' does not exist; this server has 'tiny', 'org/tiny-v1'", e.get("message").asText());
            assertEquals("model_not_found", e.get("code").asText());
            assertEquals("ok", status(200, send(p, "GET", "/ping", null)).get("status").asText());
            assertEquals(200, send(p, "POST", "/ping", "").statusCode());
            assertFalse(status(200, send(p, "GET", "/version", null)).get("version").asText().isEmpty());
            // X-Request-Id, as vLLM takes it: the reply's id and header carry the client's; without one, a fresh id
            HttpResponse<String> traced = send(p, "POST", "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ab\",\"max_tokens\":2}",
                    "X-Request-Id", "trace-42");
            assertEquals("cmpl-trace-42", status(200, traced).get("id").asText());
            assertEquals(Optional.of("trace-42"), traced.headers().firstValue("X-Request-Id"));
            HttpResponse<String> fresh = send(p, "POST", "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ab\",\"max_tokens\":2}");
            assertEquals("cmpl-" + fresh.headers().firstValue("X-Request-Id").orElseThrow(), status(200, fresh).get("id").asText());
            status(400, send(p, "POST", "/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"ab\",\"max_tokens\":2}", "X-Request-Id", "x".repeat(129)));
            ServerTest.awaitIdle(ServerTest.engine);
            assertEquals(0, ServerTest.engine.blocksInUse(), "a refused request left nothing running");
        }
    }
}
