// ServerTest — the OpenAI-compatible server driven by the official OpenAI Java client (and raw HTTP
// where the client hides what is tested): every reply equals the same request run alone through
// Generator, also with 32 requests in flight; logprobs against a float64 log-softmax of a full pass;
// embeddings; 400, 429, and a disconnect that frees the sequence's blocks.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class ServerTest {

    static final int V = 100;

    /** One character per id: id i is the character 0x21 + i. Injective, so equal texts are equal tokens. */
    static class CharTokenizer implements Tokenizer {
        @Override public int[] encode(String text, boolean special) {
            int[] ids = new int[text.length()];
            for (int i = 0; i < ids.length; i++) {
                int id = text.charAt(i) - 0x21;
                if (id < 0 || id >= V) throw new IllegalArgumentException("character " + (int) text.charAt(i) + " is not in the vocabulary");
                ids[i] = id;
            }
            return ids;
        }
        @Override public String decode(int[] ids, boolean skip) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) b.append((char) (0x21 + id));
            return b.toString();
        }
        @Override public Map<String, Integer> specialTokens() { return Map.of(); }
        @Override public String name() { return "chars"; }
        @Override public void close() {}
    }

    static final CharTokenizer TOK = new CharTokenizer();
    /** A toy template: "role|content|" per message, then "assistant|" (unless the request's add_generation_prompt is false). */
    static final ChatTemplate TEMPLATE = (ms, kwargs) -> {
        StringBuilder b = new StringBuilder();
        for (ChatTemplate.Message m : ms) b.append(m.role()).append('|').append(m.content()).append('|');
        if (ChatTemplate.addGenerationPrompt(kwargs)) b.append("assistant|");
        return TOK.encode(b.toString());
    };

    static Backend backend;
    static Weights weights, bertWeights;
    static Transformer model, bert;
    static Engine engine;
    static OpenAiServer server, noChat, embedder;
    static OpenAIClient client, noChatClient, embedClient;
    static String base;

    static TransformerConfig gpt2Tiny() {
        return TransformerConfig.builder().vocabSize(V).widths(64, 128, 2).encoderLayers(0).decoderLayers(2)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.GELU_TANH, false).learnedPositions(160).biases(true)
                .tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(0, 1, 2, 1, 3)).build();
    }

    static TransformerConfig bertTiny() {
        return TransformerConfig.builder().vocabSize(V).widths(64, 128, 2).encoderLayers(2).decoderLayers(0)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-12f)
                .activation(TransformerConfig.Activation.GELU, false).learnedPositions(160).biases(true)
                .tiedEmbeddings(true, 1f).typeVocabSize(2).specialIds(new TransformerConfig.SpecialIds(0, 1, 2, 1, 3)).build();
    }

    static OpenAIClient client(int port) {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused").maxRetries(0)
                .timeout(Duration.ofSeconds(120)).build();
    }

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        weights = Weights.random(gpt2Tiny(), backend, 21);
        model = new Transformer(weights, backend);
        engine = new Engine(model, Engine.Config.defaults(model).steps(64, 32));
        server = OpenAiServer.decoder("tiny", engine, TOK, TEMPLATE, OpenAiServer.Limits.defaults());
        int port = server.start("127.0.0.1", 0);
        base = "http://127.0.0.1:" + port;
        client = client(port);
        noChat = OpenAiServer.decoder("tiny", engine, TOK, null, OpenAiServer.Limits.defaults());
        noChatClient = client(noChat.start("127.0.0.1", 0));
        bertWeights = Weights.random(bertTiny(), backend, 22);
        bert = new Transformer(bertWeights, backend);
        embedder = OpenAiServer.encoder("tiny-bert", bert, TOK, OpenAiServer.Limits.defaults());
        embedClient = client(embedder.start("127.0.0.1", 0));
    }

    @AfterAll
    static void tearDown() {
        for (OpenAiServer s : new OpenAiServer[] {server, noChat, embedder}) if (s != null) s.close();
        if (engine != null) engine.close();
        bertWeights.close();
        weights.close();
        backend.close();
    }

    static String text(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append((char) (0x21 + r.nextInt(V)));
        return b.toString();
    }

    static String alone(int[] prompt, Generator.Options o) {
        return TOK.decode(new Generator(model).generate(prompt, o, null));
    }

    static Generator.Options opts(int max, double temperature, long seed) {
        Generator.Options o = Generator.Options.greedy(max);
        return temperature == 0 ? o : o.sampling((float) temperature, 0, 1f, seed);
    }

    static String complete(String prompt, int max, double temperature, long seed, boolean stream) {
        CompletionCreateParams p = CompletionCreateParams.builder().model("tiny").prompt(prompt).maxTokens(max)
                .temperature(temperature).seed(seed).build();
        if (!stream) {
            Completion c = client.completions().create(p);
            assertEquals("length", c.choices().get(0).finishReason().asString());
            assertEquals(max, c.usage().orElseThrow().completionTokens());
            return c.choices().get(0).text();
        }
        StringBuilder b = new StringBuilder();
        try (StreamResponse<Completion> s = client.completions().createStreaming(p)) {
            s.stream().forEach(c -> { if (!c.choices().isEmpty()) b.append(c.choices().get(0).text()); });
        }
        return b.toString();
    }

    @Test
    void completionsEqualGeneratorAloneWith32InFlight() throws Exception {
        int n = 32;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> replies = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String prompt = text(i, 1 + (i * 11) % 70);
                int max = 5 + (i * 7) % 30;
                double t = i % 2 == 0 ? 0 : 0.9;
                long seed = 1000 + i;
                boolean stream = i % 3 == 0;
                replies.add(pool.submit(() -> complete(prompt, max, t, seed, stream)));
                expected.add(alone(TOK.encode(prompt), opts(max, t, seed)));
            }
            for (int i = 0; i < n; i++) assertEquals(expected.get(i), replies.get(i).get(), "request " + i);
        }
        assertEquals(0, engine.blocksInUse());
    }

    @Test
    void chatEqualsGeneratorAloneStreamingAndNot() {
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("tiny").addSystemMessage("be_brief")
                .addUserMessage("hello").maxCompletionTokens(20).temperature(0.7).seed(42).build();
        String want = alone(TEMPLATE.render(List.of(new ChatTemplate.Message("system", "be_brief"),
                new ChatTemplate.Message("user", "hello")), Map.of()), opts(20, 0.7, 42));
        ChatCompletion c = client.chat().completions().create(p);
        assertEquals(want, c.choices().get(0).message().content().orElseThrow());
        StringBuilder b = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(ch -> { if (!ch.choices().isEmpty()) ch.choices().get(0).delta().content().ifPresent(b::append); });
        }
        assertEquals(want, b.toString());
        BadRequestException e = assertThrows(BadRequestException.class, () -> noChatClient.chat().completions().create(p));
        assertTrue(e.getMessage().contains("no chat template"), e.getMessage());
    }

    @Test
    void logprobsAndEchoAreLogSoftmaxOfTheModel() {
        String prompt = text(77, 12);
        Completion c = client.completions().create(CompletionCreateParams.builder().model("tiny").prompt(prompt).maxTokens(6)
                .temperature(0).logprobs(3).echo(true).build());
        var choice = c.choices().get(0);
        String reply = alone(TOK.encode(prompt), opts(6, 0, 0));
        assertEquals(prompt + reply, choice.text());
        var lp = choice.logprobs().orElseThrow();
        List<Double> got = lp.tokenLogprobs().orElseThrow();
        int[] all = TOK.encode(prompt + reply);
        assertEquals(all.length, got.size());
        float[][] logits = model.logits(new int[][] {all})[0];          // a full pass, no cache
        for (int i = 1; i < all.length; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float v : logits[i - 1]) max = Math.max(max, v);
            for (float v : logits[i - 1]) sum += Math.exp(v - max);
            double want = logits[i - 1][all[i]] - max - Math.log(sum);
            assertEquals(want, got.get(i), 1e-4, "token " + i);
        }
        assertEquals(null, got.get(0));
        assertEquals(3, lp.topLogprobs().orElseThrow().get(all.length - 1)._additionalProperties().size());

        ChatCompletion chat = client.chat().completions().create(ChatCompletionCreateParams.builder().model("tiny")
                .addUserMessage("hi").maxCompletionTokens(4).temperature(0).logprobs(true).topLogprobs(2).build());
        var content = chat.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
        assertEquals(4, content.size());
        for (var t : content) {
            assertEquals(2, t.topLogprobs().size());
            assertTrue(t.topLogprobs().get(0).logprob() >= t.logprob() - 1e-12, "greedy picks the most likely");
        }
    }

    @Test
    void embeddingsEqualEachSentenceAlone() {
        List<String> in = List.of("abc", "the_quick_brown_fox", "zz");
        CreateEmbeddingResponse r = embedClient.embeddings().create(EmbeddingCreateParams.builder().model("tiny-bert")
                .inputOfArrayOfStrings(in).build());
        assertEquals(3, r.data().size());
        for (int i = 0; i < in.size(); i++) {
            float[] want = bert.embedSentences(new int[][] {TOK.encode(in.get(i))})[0];
            List<Float> got = r.data().get(i).embedding();
            assertEquals(want.length, got.size());
            for (int j = 0; j < want.length; j++) assertEquals(want[j], got.get(j), 1e-5, "input " + i + " dim " + j);
        }
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.embeddings().create(
                EmbeddingCreateParams.builder().model("tiny").input("abc").build()));
        assertTrue(e.getMessage().contains("encoder"), e.getMessage());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void badInputGets400WithAnOpenAiErrorObject() throws Exception {
        HttpResponse<String> r = post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": ");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("\"error\"") && r.body().contains("not valid JSON"), r.body());
        com.openai.errors.NotFoundException e = assertThrows(com.openai.errors.NotFoundException.class, () -> client.completions().create(
                CompletionCreateParams.builder().model("gpt-4").prompt("abc").build()));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertEquals(400, post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"max_tokens\": 0}").statusCode());
        HttpResponse<String> tooLong = post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + text(3, 150) .replace("\\", "/").replace("\"", "'")
                + "\", \"max_tokens\": 20}");
        assertEquals(400, tooLong.statusCode());
        assertTrue(tooLong.body().contains("maximum context length is 160 tokens"), tooLong.body());
        HttpResponse<String> ok = post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"abc\", \"max_tokens\": 2}");
        assertEquals(200, ok.statusCode(), "a bad request affects no other");
    }

    /** Opens a streaming completion and returns its body stream after the first event. */
    static InputStream openStream(String path, String body) throws Exception {
        HttpResponse<InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        String line = reader.readLine();
        assertNotNull(line);
        assertTrue(line.startsWith("data: "), line);
        return r.body();
    }

    static void awaitIdle(Engine e) throws InterruptedException {
        long end = System.nanoTime() + 30_000_000_000L;
        while ((e.running() > 0 || e.blocksInUse() > 0 || e.queued() > 0) && System.nanoTime() < end) Thread.sleep(20);
    }

    /**
     * The streamed request R must still be running when its client goes: a request G submitted to the
     * engine directly holds the engine's loop (in its listener, which runs on the loop) first at its
     * first token, until R is queued, then at its second, which comes in the step that admitted R and
     * gave R its first token; the client reads that token, disconnects, and only then is the loop let
     * go. (Without the hold, a fast machine generated all of R's 150 tokens before the client looked.)
     */
    @Test
    void aClientThatDisconnectsFreesItsBlocks() throws Exception {
        awaitIdle(engine);
        long tokensBefore = engine.tokensGenerated();
        java.util.concurrent.CountDownLatch release1 = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release2 = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<Void> atFirst = new CompletableFuture<>(), atSecond = new CompletableFuture<>();
        engine.submit(new Engine.Request(TOK.encode("zz"), Generator.Options.greedy(3)), new Engine.Listener() {
            @Override public void onToken(Engine.Token t) {
                try {
                    if (t.index() == 0) { atFirst.complete(null); release1.await(60, java.util.concurrent.TimeUnit.SECONDS); }
                    if (t.index() == 1) { atSecond.complete(null); release2.await(60, java.util.concurrent.TimeUnit.SECONDS); }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            @Override public void onFinish(Engine.Finish reason, String error) {}
        });
        String body = "{\"model\": \"tiny\", \"prompt\": \"abcdefgh\", \"max_tokens\": 150, \"temperature\": 0, \"stream\": true}";
        InputStream s;
        try {
            atFirst.get(60, java.util.concurrent.TimeUnit.SECONDS);                      // the loop is held: R will wait in the queue
            ExecutorService one = Executors.newSingleThreadExecutor();
            Future<InputStream> opened = one.submit(() -> openStream("/v1/completions", body));
            long end = System.nanoTime() + 60_000_000_000L;
            while (engine.queued() == 0 && System.nanoTime() < end) Thread.sleep(5);
            assertTrue(engine.queued() > 0, "the streamed request reached the engine");
            release1.countDown();                                                          // next step: R admitted, prefilled, its first token out
            atSecond.get(60, java.util.concurrent.TimeUnit.SECONDS);                     // the loop is held again, R running
            s = opened.get(60, java.util.concurrent.TimeUnit.SECONDS);                   // the client has R's first event
            one.shutdown();
            assertEquals(3, engine.tokensGenerated() - tokensBefore, "G's first two tokens and R's first: R is mid-stream");
            s.close();
        } finally {
            release1.countDown();
            release2.countDown();
        }
        awaitIdle(engine);
        assertEquals(0, engine.running(), "the sequence was cancelled");
        assertEquals(0, engine.blocksInUse(), "its blocks are free");
        assertTrue(engine.tokensGenerated() - tokensBefore < 3 + 150, "R ended early: "
                + (engine.tokensGenerated() - tokensBefore) + " tokens for G's 3 and R's 150");
        HttpResponse<String> m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(m.body().contains("t4j_kv_blocks_in_use 0"), m.body());
        assertTrue(m.body().contains("t4j_time_to_first_token_seconds_count"), m.body());
        assertTrue(m.body().contains("\nt4j_mixed_passes_total " + engine.mixedPasses() + "\n"), m.body());
    }

    @Test
    void aFullQueueGets429WithRetryAfter() throws Exception {
        try (Engine small = new Engine(model, Engine.Config.defaults(model).limits(1, 1));
             OpenAiServer busy = OpenAiServer.decoder("tiny", small, TOK, null, OpenAiServer.Limits.defaults())) {
            int port = busy.start("127.0.0.1", 0);
            String old = base;
            base = "http://127.0.0.1:" + port;
            try {
                String body = "{\"model\": \"tiny\", \"prompt\": \"abcdefgh\", \"max_tokens\": 150, \"temperature\": 0, \"stream\": true}";
                InputStream first = openStream("/v1/completions", body);          // running
                CompletableFuture<HttpResponse<String>> second = HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(
                        URI.create(base + "/v1/completions")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.replace("true}", "false}"))).build(), HttpResponse.BodyHandlers.ofString());
                long end = System.nanoTime() + 10_000_000_000L;
                while (small.queued() < 1 && System.nanoTime() < end) Thread.sleep(5);
                assertEquals(1, small.queued(), "the second request waits");
                HttpResponse<String> third = post("/v1/completions", body);
                assertEquals(429, third.statusCode(), third.body());
                assertEquals("1", third.headers().firstValue("Retry-After").orElse(null));
                assertTrue(third.body().contains("rate_limit_exceeded"), third.body());
                first.close();
                assertEquals(200, second.get().statusCode());
                awaitIdle(small);
                assertEquals(0, small.blocksInUse());
            } finally {
                base = old;
            }
        }
    }

    @Test
    void aStopStringEndsTheReplyBeforeIt() {
        String prompt = text(91, 20);
        String free = alone(TOK.encode(prompt), opts(30, 0, 0));
        String stop = free.substring(10, 12);                       // a text the reply will contain
        Generator.Options o = opts(30, 0, 0).stopStrings(java.util.Set.of(stop), TOK::decode);
        String full = alone(TOK.encode(prompt), o);                 // ends with the token that completes the stop string
        String want = full.substring(0, full.indexOf(stop));
        Completion c = client.completions().create(CompletionCreateParams.builder().model("tiny").prompt(prompt).maxTokens(30)
                .temperature(0).stop(stop).build());
        assertEquals(want, c.choices().get(0).text());
        assertEquals("stop", c.choices().get(0).finishReason().asString());
        StringBuilder b = new StringBuilder();
        try (StreamResponse<Completion> st = client.completions().createStreaming(CompletionCreateParams.builder().model("tiny")
                .prompt(prompt).maxTokens(30).temperature(0).stop(stop).build())) {
            st.stream().forEach(ch -> { if (!ch.choices().isEmpty()) b.append(ch.choices().get(0).text()); });
        }
        assertEquals(want, b.toString());
    }

    @Test
    void aRequestPastItsTimeoutGets504AndFreesItsBlocks() throws Exception {
        try (OpenAiServer slow = OpenAiServer.decoder("tiny", engine, TOK, null,
                new OpenAiServer.Limits(4096, 1024, Duration.ofMillis(1), 1))) {
            int port = slow.start("127.0.0.1", 0);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"model\": \"tiny\", \"prompt\": \"abcdefgh\", \"max_tokens\": 150, \"temperature\": 0}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(504, r.statusCode(), r.body());
            assertTrue(r.body().contains("timed out"), r.body());
            awaitIdle(engine);
            assertEquals(0, engine.blocksInUse());
        }
    }
}
