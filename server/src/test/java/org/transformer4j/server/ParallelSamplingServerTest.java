// ParallelSamplingServerTest — n > 1 on /v1/completions and /v1/chat/completions, on ServerTest's tiny random decoder:
// choice i equals Generator alone with seed + i (vLLM's child seeds), so choices differ yet repeat under the same seed;
// indexes 0..n-1, usage counts the prompt once and every choice's tokens, streamed chunks carry each choice's index (the
// official openai-java client's accumulator and raw HTTP agree with the whole reply); a stop string ends each choice on its
// own; bad n is a 400 naming n; a streaming client that goes away cancels every choice.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;
import org.transformer4j.model.engine.Engine;

class ParallelSamplingServerTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void setUp() { ServerTest.setUp(); }

    @AfterAll
    static void tearDown() { ServerTest.tearDown(); }

    @Test
    void completionsGiveNSeededChoicesCountedOnceForThePrompt() {
        CompletionCreateParams p = CompletionCreateParams.builder().model("tiny").prompt("hello").maxTokens(10).temperature(0.9)
                .seed(5).n(3).build();
        Completion c = ServerTest.client.completions().create(p);
        assertEquals(3, c.choices().size());
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CompletionChoice ch = c.choices().get(i);
            assertEquals(i, ch.index());
            assertEquals(ServerTest.alone(ServerTest.TOK.encode("hello"), ServerTest.opts(10, 0.9, 5 + i)), ch.text(), "choice " + i + ": seed + " + i);
            assertEquals("length", ch.finishReason().asString());
            texts.add(ch.text());
        }
        assertTrue(new HashSet<>(texts).size() > 1, "the choices differ: " + texts);
        assertEquals(5, c.usage().orElseThrow().promptTokens(), "the prompt once");
        assertEquals(30, c.usage().orElseThrow().completionTokens(), "every choice's tokens");
        assertEquals(35, c.usage().orElseThrow().totalTokens());
        assertEquals(texts, ServerTest.client.completions().create(p).choices().stream().map(CompletionChoice::text).toList(), "reproducible");
        Map<Long, StringBuilder> streamed = new TreeMap<>();
        try (StreamResponse<Completion> s = ServerTest.client.completions().createStreaming(p)) {
            s.stream().forEach(k -> k.choices().forEach(ch -> streamed.computeIfAbsent(ch.index(), x -> new StringBuilder()).append(ch.text())));
        }
        assertEquals(texts, streamed.values().stream().map(StringBuilder::toString).toList());
    }

    @Test
    void chatStreamsEachChoiceWithItsIndexAsTheWholeReplyHasIt() throws Exception {
        String body = "{\"model\":\"tiny\",\"max_tokens\":8,\"temperature\":0.8,\"seed\":11,\"n\":3,\"logprobs\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> r = ServerTest.post("/v1/chat/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode whole = JSON.readTree(r.body());
        assertEquals(3, whole.get("choices").size());
        int completion = 0;
        for (int i = 0; i < 3; i++) {
            JsonNode ch = whole.at("/choices/" + i);
            assertEquals(i, ch.get("index").asInt());
            assertEquals(8, ch.at("/logprobs/content").size(), "each choice's own logprobs");
            completion += ch.at("/logprobs/content").size();
        }
        assertEquals(completion, whole.at("/usage/completion_tokens").asInt());
        HttpResponse<String> s = ServerTest.post("/v1/chat/completions",
                body.substring(0, body.length() - 1) + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        Map<Integer, StringBuilder> content = new TreeMap<>();
        Map<Integer, Integer> roles = new TreeMap<>(), finishes = new TreeMap<>();
        JsonNode usage = null;
        for (String line : s.body().split("\n")) {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
            JsonNode k = JSON.readTree(line.substring(6));
            if (k.hasNonNull("usage")) usage = k.get("usage");
            assertTrue(k.get("choices").size() <= 1, "one choice a chunk: " + line);
            for (JsonNode ch : k.get("choices")) {
                int i = ch.get("index").asInt();
                if (ch.at("/delta/role").isTextual()) roles.merge(i, 1, Integer::sum);
                if (ch.hasNonNull("finish_reason")) finishes.merge(i, 1, Integer::sum);
                content.computeIfAbsent(i, x -> new StringBuilder()).append(ch.at("/delta/content").asText(""));
            }
        }
        assertEquals(Map.of(0, 1, 1, 1, 2, 1), roles, "a role chunk per choice");
        assertEquals(Map.of(0, 1, 1, 1, 2, 1), finishes, "a last chunk per choice");
        for (int i = 0; i < 3; i++) assertEquals(whole.at("/choices/" + i + "/message/content").asText(), content.get(i).toString(), "choice " + i);
        for (String k : new String[] {"prompt_tokens", "completion_tokens", "total_tokens"}) {     // cached tokens differ: the whole reply cached the prompt
            assertEquals(whole.at("/usage/" + k), usage.get(k), "streamed usage: the prompt once, every choice's tokens (" + k + ")");
        }
        int promptTokens = whole.at("/usage/prompt_tokens").asInt();
        int minChunk = promptTokens < ServerTest.engine.config().minChunkRows() ? 1 : ServerTest.engine.config().minChunkRows();
        assertEquals((promptTokens - minChunk) / 16 * 16, usage.at("/prompt_tokens_details/cached_tokens").asInt(), "the whole reply's blocks, cached");
        // the official client's accumulator puts the chunks back together by index
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("tiny").addUserMessage("hi").maxCompletionTokens(8)
                .temperature(0.8).seed(11).n(3).build();
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> st = ServerTest.client.chat().completions().createStreaming(p)) {
            st.stream().forEach(acc::accumulate);
        }
        ChatCompletion a = acc.chatCompletion();
        assertEquals(3, a.choices().size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, a.choices().get(i).index());
            assertEquals(whole.at("/choices/" + i + "/message/content").asText(), a.choices().get(i).message().content().orElseThrow());
        }
    }

    /** A stop string ends each choice at its own place (or not at all): each is Generator alone with seed + i and the stop. */
    @Test
    void stopStringsEndEachChoiceOnItsOwn() {
        int[] prompt = ServerTest.TOK.encode("hello");
        String stop = ServerTest.alone(prompt, ServerTest.opts(10, 0.9, 6)).substring(3, 5);       // choice 1 will contain it
        CompletionCreateParams p = CompletionCreateParams.builder().model("tiny").prompt("hello").maxTokens(10).temperature(0.9)
                .seed(5).n(3).stop(stop).build();
        Completion c = ServerTest.client.completions().create(p);
        int stopped = 0;
        for (int i = 0; i < 3; i++) {
            String full = ServerTest.alone(prompt, ServerTest.opts(10, 0.9, 5 + i).stopStrings(java.util.Set.of(stop), ServerTest.TOK::decode));
            boolean hit = full.contains(stop);
            stopped += hit ? 1 : 0;
            assertEquals(hit ? full.substring(0, full.indexOf(stop)) : full, c.choices().get(i).text(), "choice " + i);
            assertEquals(hit ? "stop" : "length", c.choices().get(i).finishReason().asString(), "choice " + i);
        }
        assertTrue(stopped >= 1, "choice 1 stops: " + stopped);
    }

    /**
     * The n choices of one prompt compute its whole blocks once (the first choice prefills them; the others wait for them
     * and prefill only the tail they may not take from the cache), as /metrics counts them, and each choice is still its
     * seed's solo reply.
     */
    @Test
    void nChoicesPrefillTheirPromptOnce() throws Exception {
        String text = "The_n_choices_of_one_prompt_share_its_blocks:_a_long_prompt,_unique_to_this_test,_one_token_per_char.".substring(0, 100);
        int[] prompt = ServerTest.TOK.encode(text);
        int p = prompt.length;
        ServerTest.awaitIdle(ServerTest.engine);
        long rows0 = metric("t4j_prefill_rows_total"), hits0 = metric("t4j_prefix_cache_hits_total");
        Completion c = ServerTest.client.completions().create(CompletionCreateParams.builder().model("tiny").prompt(text).maxTokens(5)
                .temperature(1.0).seed(40).n(4).build());
        for (int i = 0; i < 4; i++) {
            assertEquals(ServerTest.alone(prompt, ServerTest.opts(5, 1.0, 40 + i)), c.choices().get(i).text(), "choice " + i);
        }
        int minChunk = p < ServerTest.engine.config().minChunkRows() ? 1 : ServerTest.engine.config().minChunkRows();
        int shared = (p - minChunk) / 16;                        // whole blocks that leave minChunk rows to prefill
        assertEquals(3L * shared, metric("t4j_prefix_cache_hits_total") - hits0);
        assertEquals(p + 3L * (p - 16 * shared), metric("t4j_prefill_rows_total") - rows0, "the prompt once, then three tails");
    }

    /**
     * usage.prompt_tokens_details.cached_tokens (OpenAI's field): a request whose prompt's blocks another request published
     * reports them; vLLM's cache_salt keeps them apart (another salt: none cached; the same salt: cached); a bad salt is a
     * 400 in vLLM's words.
     */
    @Test
    void cachedPromptTokensAreReportedAndSaltsKeepThemApart() throws Exception {
        String text = "A_prompt_for_the_cached_tokens_test,_longer_than_three_blocks_of_sixteen_tokens_each.";
        int p = ServerTest.TOK.encode(text).length;
        int minChunk = p < ServerTest.engine.config().minChunkRows() ? 1 : ServerTest.engine.config().minChunkRows();
        int cached = (p - minChunk) / 16 * 16;
        String body = "{\"model\":\"tiny\",\"prompt\":\"" + text + "\",\"max_tokens\":2,\"temperature\":0";
        assertEquals(0, usageCached(body + "}"), "the first: nothing cached");
        assertEquals(cached, usageCached(body + "}"), "the same prompt again");
        assertEquals(0, usageCached(body + ",\"cache_salt\":\"tenant-a\"}"), "another salt");
        assertEquals(cached, usageCached(body + ",\"cache_salt\":\"tenant-a\"}"), "the same salt");
        HttpResponse<String> bad = ServerTest.post("/v1/completions", body + ",\"cache_salt\":\"\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("cache_salt"), bad.body());
    }

    static int usageCached(String body) throws Exception {
        HttpResponse<String> r = ServerTest.post("/v1/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).at("/usage/prompt_tokens_details/cached_tokens").asInt(-1);
    }

    static long metric(String name) throws Exception {
        String body = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(ServerTest.base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : body.split("\n")) if (line.startsWith(name + " ")) return Long.parseLong(line.substring(name.length() + 1));
        throw new AssertionError(name + " not in /metrics:\n" + body);
    }

    static void assert400(String body, String... words) throws Exception {
        HttpResponse<String> r = ServerTest.post("/v1/completions", body);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertEquals("n", e.path("param").asText(), r.body());
        for (String w : words) assertTrue(e.path("message").asText().contains(w), w + " in " + r.body());
    }

    @Test
    void badNIsA400NamingN() throws Exception {
        int cap = Math.min(OpenAiServer.MAX_N, ServerTest.engine.config().maxRunning());
        assert400("{\"model\":\"tiny\",\"prompt\":\"abc\",\"n\":0,\"temperature\":1}", "[1, " + cap + "]");
        assert400("{\"model\":\"tiny\",\"prompt\":\"abc\",\"n\":" + (cap + 1) + ",\"temperature\":1}", "[1, " + cap + "]");
        assert400("{\"model\":\"tiny\",\"prompt\":\"abc\",\"n\":2.5,\"temperature\":1}", "integer");
        assert400("{\"model\":\"tiny\",\"prompt\":\"abc\",\"n\":2,\"temperature\":0}", "n must be 1 when using greedy sampling, got 2.");
        HttpResponse<String> one = ServerTest.post("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"abc\",\"n\":1,\"temperature\":0,\"max_tokens\":2}");
        assertEquals(200, one.statusCode(), "greedy with n = 1: " + one.body());
    }

    /**
     * As ServerTest.aClientThatDisconnectsFreesItsBlocks: a request G holds the engine's loop at its first token until the
     * n = 3 request's choices are queued, then at its second, when they have their first tokens; the client reads one
     * event and goes away. G then slows each step (10 ms in its listener) so that the server's next failed write comes
     * within a few steps: every choice must end then, far below its 150 tokens (a server that cancelled only the choice
     * whose write failed let the other two run to 150).
     */
    @Test
    void aClientThatGoesAwayCancelsEveryChoice() throws Exception {
        Engine engine = ServerTest.engine;
        ServerTest.awaitIdle(engine);
        long before = engine.tokensGenerated();
        CountDownLatch release1 = new CountDownLatch(1), release2 = new CountDownLatch(1);
        CompletableFuture<Void> atFirst = new CompletableFuture<>(), atSecond = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger gTokens = new java.util.concurrent.atomic.AtomicInteger();
        engine.submit(new Engine.Request(ServerTest.TOK.encode("zz"), Generator.Options.greedy(150)), new Engine.Listener() {
            @Override public void onToken(Engine.Token t) {
                gTokens.incrementAndGet();
                try {
                    if (t.index() == 0) { atFirst.complete(null); release1.await(60, TimeUnit.SECONDS); }
                    else if (t.index() == 1) { atSecond.complete(null); release2.await(60, TimeUnit.SECONDS); }
                    else Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            @Override public void onFinish(Engine.Finish reason, String error) {}
        });
        String body = "{\"model\":\"tiny\",\"prompt\":\"abcdefgh\",\"max_tokens\":150,\"temperature\":1,\"seed\":3,\"n\":3,\"stream\":true}";
        try {
            atFirst.get(60, TimeUnit.SECONDS);
            ExecutorService one = Executors.newSingleThreadExecutor();
            Future<InputStream> opened = one.submit(() -> ServerTest.openStream("/v1/completions", body));
            long end = System.nanoTime() + 60_000_000_000L;
            while (engine.queued() < 3 && System.nanoTime() < end) Thread.sleep(5);
            assertEquals(3, engine.queued(), "the three choices reached the engine");
            release1.countDown();
            atSecond.get(60, TimeUnit.SECONDS);
            InputStream s = opened.get(60, TimeUnit.SECONDS);
            one.shutdown();
            s.close();
        } finally {
            release1.countDown();
            release2.countDown();
        }
        ServerTest.awaitIdle(engine);
        assertEquals(0, engine.running(), "every choice was cancelled");
        assertEquals(0, engine.blocksInUse(), "their blocks are free");
        long choices = engine.tokensGenerated() - before - gTokens.get();
        assertTrue(choices < 150, "every choice ended early: " + choices + " tokens for three choices of 150");
    }
}
