// OpenAiServer — an OpenAI-compatible HTTP API over the continuous-batching engine: /v1/models,
// /v1/completions, /v1/chat/completions (stream: true as server-sent events), /v1/embeddings, and vLLM's
// /v1/rerank, /v1/score and /classify for encoders; /health and /metrics; Javalin on Jetty with virtual
// threads, JSON through Jackson.
package org.transformer4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.transformer4j.model.DecoderReranker;
import org.transformer4j.model.Generator;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.engine.BeamSearchOnline;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.guided.AfterReasoning;
import org.transformer4j.model.guided.TokenConstraint;
import org.transformer4j.model.tokenizer.Tokenizer;

/**
 * Serves one model under one name: a decoder through an {@link Engine} (completions, and chat where a
 * {@link ChatTemplate} is given), or an encoder through a {@link TextEncoder}: embeddings as its folder pools them,
 * and with a classifier head vLLM's rerank, score and classify (a one-label cross-encoder's scores through its
 * activation; without a classifier, rerank and score are the cosine of the embeddings). Each request runs on its own virtual
 * thread, which submits to the engine and waits for its tokens; a streaming client that goes away
 * (a failed write) cancels its sequence, which frees its blocks at the engine's next step. Errors are
 * OpenAI's object {@code {"error": {"message", "type", "param", "code"}}}: 400 for bad input or an
 * unknown model, 429 with Retry-After when the engine's queue is full, 504 past the timeout.
 */
public final class OpenAiServer implements AutoCloseable {

    /** Prompt and output token limits, the time a request may take, and the Retry-After of a 429. */
    public record Limits(int maxPromptTokens, int maxOutputTokens, Duration timeout, int retryAfterSeconds) {
        public static Limits defaults() { return new Limits(4096, 1024, Duration.ofMinutes(5), 1); }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final Engine engine;            // decoders, else null
    private final TextEncoder encoder;      // encoders, else null
    private final DecoderReranker reranker; // a decoder-only yes/no reranker (Qwen3-Reranker), else null
    private final java.util.function.DoubleUnaryOperator scoreActivation;   // a cross-encoder's score from its logit
    private final Tokenizer tokenizer;
    private final ChatTemplate chat;        // null: no chat
    private final Set<Integer> eosIds;      // end every sequence; their text is not part of the reply
    private final Limits limits;
    private final Metrics metrics = new Metrics();
    private final long created = System.currentTimeMillis() / 1000;
    private volatile ReasoningParser.Kind reasoning;   // null: chat replies are content only
    private volatile ToolParser.Kind toolCalls;        // null: no tool_choice "auto"
    private volatile SamplingDefaults sampling = SamplingDefaults.NONE;
    private volatile java.util.Map<String, Object> tokenizerInfo;   // GET /tokenizer_info; null: what the server knows
    private volatile List<Integer> matryoshka;        // /v1/embeddings' dimensions: null refused, empty any, else these
    private volatile int maxModelLen;                  // the context length set (0: the engine's maxSequenceRows)
    private volatile List<byte[]> apiKeys = List.of();  // SHA-256 of each accepted key; empty: none needed
    private volatile List<String> corsOrigins = List.of();
    private volatile boolean corsCredentials;
    private volatile List<String> names;               // the served name first, then aliases
    private volatile java.util.function.Consumer<String> accessLog;   // null: no access log
    private final Object drainLock = new Object();
    private boolean draining;                          // under drainLock: new API requests get 503
    private int inFlight;                              // under drainLock: API requests being served
    /** This library's version, as GET /version answers it (the jar's Implementation-Version; "dev" from classes). */
    static final String VERSION = java.util.Objects.requireNonNullElse(OpenAiServer.class.getPackage().getImplementationVersion(), "dev");
    private final StructuredOutputs structured;        // response_format and vLLM's structured_outputs, for decoders
    private Javalin app;

    /** A decoder served through {@code engine}; {@code chat} may be null (then chat requests get 400). */
    public static OpenAiServer decoder(String name, Engine engine, Tokenizer tokenizer, ChatTemplate chat, Limits limits) {
        return decoder(name, engine, tokenizer, chat, limits, Set.of());
    }

    /**
     * The same, with the model's end-of-sequence ids (generation_config.json's and tokenizer_config.json's
     * eos): they end every sequence (finish reason "stop") and, as OpenAI's API and vLLM return them, are not
     * part of the reply's text.
     */
    public static OpenAiServer decoder(String name, Engine engine, Tokenizer tokenizer, ChatTemplate chat, Limits limits,
                                       Set<Integer> eosIds) {
        return new OpenAiServer(name, engine, null, tokenizer, chat, limits, eosIds);
    }

    /** An encoder answering /v1/embeddings with mean-pooled, L2-normalised sentence embeddings (and rerank, score, classify). */
    public static OpenAiServer encoder(String name, Transformer encoder, Tokenizer tokenizer, Limits limits) {
        return encoder(name, new TextEncoder(encoder, tokenizer, SentencePooling.meanNormalized(null)), limits, SIGMOID);
    }

    /** sentence-transformers' CrossEncoder default for one label: the logit through a sigmoid. */
    public static final java.util.function.DoubleUnaryOperator SIGMOID = TextEncoder.SIGMOID;

    /**
     * An encoder (or a decoder-only embedding model) served through {@code encoder}: /v1/embeddings as its pooling says
     * (a sentence-transformers folder's Pooling, Dense, Normalize, prompts and max_seq_length); with a classifier head,
     * /classify, and /v1/rerank and /v1/score with a one-label cross-encoder's logit through {@code scoreActivation}
     * ({@link #SIGMOID}, sentence-transformers' default, or the folder's {@code sentence_transformers.activation_fn}).
     */
    public static OpenAiServer encoder(String name, TextEncoder encoder, Limits limits, java.util.function.DoubleUnaryOperator scoreActivation) {
        return new OpenAiServer(name, null, encoder, encoder.tokenizer, null, limits, Set.of(), scoreActivation, null);
    }

    /**
     * A decoder-only yes/no reranker (Qwen3-Reranker) answering /v1/rerank and /v1/score with each pair's P(yes); a
     * request may carry an {@code instruction} (the reranker's default otherwise). No generation, no embeddings.
     */
    public static OpenAiServer reranker(String name, DecoderReranker reranker, Tokenizer tokenizer, Limits limits) {
        return new OpenAiServer(name, null, null, tokenizer, null, limits, Set.of(), SIGMOID, reranker);
    }

    private OpenAiServer(String name, Engine engine, TextEncoder encoder, Tokenizer tokenizer, ChatTemplate chat, Limits limits,
                         Set<Integer> eosIds) {
        this(name, engine, encoder, tokenizer, chat, limits, eosIds, SIGMOID, null);
    }

    private OpenAiServer(String name, Engine engine, TextEncoder encoder, Tokenizer tokenizer, ChatTemplate chat, Limits limits,
                         Set<Integer> eosIds, java.util.function.DoubleUnaryOperator scoreActivation, DecoderReranker reranker) {
        this.name = name;
        this.names = List.of(name);
        this.eosIds = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(eosIds));   // in order: the first is the tokenizer EOS by default
        this.engine = engine;
        this.encoder = encoder;
        this.scoreActivation = scoreActivation;
        this.reranker = reranker;
        this.tokenizer = tokenizer;
        this.chat = chat;
        this.limits = limits;
        this.structured = engine == null ? null : new StructuredOutputs(tokenizer, engine.model().config.vocabSize(), this.eosIds);
    }

    /**
     * Splits chat replies with {@code parser} (vLLM's {@code --reasoning-parser}; null: none): /v1/chat/completions then
     * answers the reasoning as {@code reasoning} (vLLM's field now) and {@code reasoning_content} (its field before,
     * and DeepSeek's), in the message and in streamed deltas, and the rest as {@code content}; /v1/completions stays raw
     * text, and usage counts every generated token, as in vLLM. Structured outputs and forced tool calls then begin where
     * the parser says the reasoning ended, on both endpoints, as vLLM's structured-output manager applies them. Set it
     * before {@link #start}.
     */
    public OpenAiServer reasoningParser(ReasoningParser.Kind parser) {
        if (parser != null && engine == null) throw new IllegalArgumentException("a reasoning parser needs a decoder; model '" + name + "' does not generate");
        this.reasoning = parser;
        return this;
    }

    /**
     * Reads tool calls out of chat replies with {@code parser} (vLLM's {@code --enable-auto-tool-choice} with
     * {@code --tool-call-parser}; null: none): a request with {@code tools} and tool_choice "auto" (the default when tools
     * are given) then gets {@code message.tool_calls} (streamed: {@code delta.tool_calls}) and finish reason
     * "tool_calls"; without a parser it gets 400, as vLLM answers it. The openai parser reads harmony messages: it needs
     * the gpt_oss reasoning parser, set first. Set it before {@link #start}.
     */
    public OpenAiServer toolCallParser(ToolParser.Kind parser) {
        if (parser != null && engine == null) throw new IllegalArgumentException("a tool-call parser needs a decoder; model '" + name + "' does not generate");
        if (parser != null && parser.name().equals("openai") && (reasoning == null || !reasoning.name().equals("gpt_oss"))) {
            throw new IllegalArgumentException("the openai tool-call parser reads harmony messages: it needs the gpt_oss reasoning parser");
        }
        this.toolCalls = parser;
        return this;
    }

    /**
     * The defaults a generation request's absent sampling fields take, as vLLM's {@code --generation-config auto}
     * (its default) takes them from the folder's generation_config.json: temperature, top_k, top_p, min_p and
     * repetition_penalty where the file has them (do_sample is not read: vLLM does not), else vLLM's own defaults
     * (1, off, 1, 0, 1). presence_penalty, frequency_penalty and logit_bias default to none. Null fields: vLLM's.
     */
    public record SamplingDefaults(Double temperature, Integer topK, Double topP, Double minP, Double repetitionPenalty) {
        public static final SamplingDefaults NONE = new SamplingDefaults(null, null, null, null, null);

        /** From a folder's generation config, where it has one. */
        public static SamplingDefaults of(java.util.Optional<org.transformer4j.model.GenerationConfig> g) {
            return g.map(c -> new SamplingDefaults(c.temperature(), c.topK(), c.topP(), c.minP(), c.repetitionPenalty())).orElse(NONE);
        }
    }

    /** Request defaults for the sampling fields (see {@link SamplingDefaults}); set it before {@link #start}. */
    public OpenAiServer samplingDefaults(SamplingDefaults d) {
        this.sampling = d == null ? SamplingDefaults.NONE : d;
        return this;
    }

    /**
     * What GET /tokenizer_info answers, as vLLM's {@code --enable-tokenizer-info-endpoint} does: the tokenizer's
     * configuration (tokenizer_config.json's fields, special tokens as strings, the chat template). Null, the default:
     * {@code eos_token} (the text of the first end id) and {@code model_max_length} only. Set it before {@link #start}.
     */
    /**
     * Lets /v1/embeddings take OpenAI's {@code dimensions} as vLLM does for a Matryoshka model (config.json's
     * {@code matryoshka_dimensions}, or {@code is_matryoshka} true): {@code dims} the sizes allowed, empty for any; each
     * vector is cut to its first {@code dimensions} entries and, where the pooling normalizes, normalized again. Without
     * it (the default, null) a request's dimensions is vLLM's 400. Set it before {@link #start}.
     */
    public OpenAiServer matryoshkaDimensions(List<Integer> dims) {
        this.matryoshka = dims == null ? null : List.copyOf(dims);
        return this;
    }

    public OpenAiServer tokenizerInfo(java.util.Map<String, Object> info) {
        this.tokenizerInfo = info == null ? null : new java.util.LinkedHashMap<>(info);
        return this;
    }

    /**
     * Caps the context length (vLLM's {@code --max-model-len}): a prompt plus its new tokens of at most {@code tokens}.
     * Throws IllegalArgumentException above what the engine takes ({@link Engine#maxSequenceRows}: the model's positions
     * and the KV pool), naming both. Set it before {@link #start}.
     */
    /**
     * Serves vLLM's /v1/load_lora_adapter ({"lora_name", "lora_path"}: a PEFT folder on the server's disk) and
     * /v1/unload_lora_adapter ({"lora_name"}), which load into and free the engine's {@link
     * org.transformer4j.model.LoraSlots} while it serves (vLLM: VLLM_ALLOW_RUNTIME_LORA_UPDATING). Set it before {@link #start}.
     */
    public OpenAiServer runtimeLoraUpdating(boolean on) {
        if (on && (engine == null || engine.adapters() == null)) {
            throw new IllegalArgumentException("runtime LoRA updating needs an engine with LoRA slots (Engine(model, config, slots))");
        }
        this.loraUpdating = on;
        return this;
    }

    private boolean loraUpdating;

    public OpenAiServer maxModelLen(int tokens) {
        if (engine == null) throw new IllegalArgumentException("a context length is for servers that generate");
        if (tokens < 1) throw new IllegalArgumentException("the context length must be ≥ 1, got " + tokens);
        if (tokens > engine.maxSequenceRows()) {
            throw new IllegalArgumentException("a context length of " + tokens + " tokens is more than " + engine.sequenceBound());
        }
        this.maxModelLen = tokens;
        return this;
    }

    /**
     * Requires {@code Authorization: Bearer KEY} with one of {@code keys} on every endpoint but the probes ({@code /health},
     * {@code /ping}, {@code /version}) and {@code /metrics}, as vLLM's {@code --api-key} guards its routes; OPTIONS (a CORS
     * preflight) passes. Anything else is 401 with OpenAI's error object and {@code WWW-Authenticate: Bearer}. The keys are
     * kept as SHA-256 digests and compared in constant time. Empty or null: no key needed (the default). Set it before
     * {@link #start}.
     */
    public OpenAiServer apiKeys(java.util.Collection<String> keys) {
        List<byte[]> digests = new java.util.ArrayList<>();
        if (keys != null) {
            for (String k : keys) digests.add(sha256(checkApiKey(k)));
        }
        this.apiKeys = List.copyOf(digests);
        return this;
    }

    /**
     * Cross-origin requests from browsers (vLLM's {@code --allowed-origins} and {@code --allow-credentials}): each origin
     * in {@code origins} ("https://host[:port]", or "*" for any) gets CORS headers and preflight answers on every
     * endpoint. Empty or null (the default): none, so a web page on another origin cannot read this server's replies —
     * unlike vLLM, whose default is every origin. Set it before {@link #start}.
     */
    public OpenAiServer cors(List<String> origins, boolean allowCredentials) {
        List<String> o = origins == null ? List.of() : List.copyOf(origins);
        o.forEach(OpenAiServer::checkOrigin);
        this.corsOrigins = o;
        this.corsCredentials = allowCredentials;
        return this;
    }

    /**
     * More names the model answers to (vLLM's {@code --served-model-name} with several names): a request may name any of
     * them, replies carry the first name, /v1/models lists them all. Set it before {@link #start}.
     */
    public OpenAiServer aliases(List<String> more) {
        java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>();
        all.add(name);
        if (more != null) {
            for (String a : more) {
                if (a == null || a.isBlank()) throw new IllegalArgumentException("a model name must not be empty");
                all.add(a);
            }
        }
        this.names = List.copyOf(all);
        return this;
    }

    /** {@code key}, or IllegalArgumentException when it cannot be an API key: empty, or not printable ASCII without spaces. */
    public static String checkApiKey(String key) {
        if (key == null || key.isBlank()) throw new IllegalArgumentException("an API key must not be empty");
        if (key.chars().anyMatch(ch -> ch < 0x21 || ch > 0x7e)) {
            throw new IllegalArgumentException("an API key must be printable ASCII without spaces (it travels in an HTTP header)");
        }
        return key;
    }

    /** {@code origin}, or IllegalArgumentException unless it is "*" or scheme://host[:port] (http or https, no path). */
    public static String checkOrigin(String origin) {
        if (origin == null || (!origin.equals("*") && !origin.matches("(?i)https?://[^/\\s*]+"))) {
            throw new IllegalArgumentException("an allowed origin is \"*\" or scheme://host[:port] (no path), got '" + origin + "'");
        }
        return origin;
    }

    /**
     * The request's id, as vLLM takes it: the client's {@code X-Request-Id} header when it sends one (printable ASCII, at
     * most 128 characters; else refused with 400), otherwise a random one; sent back as the reply's {@code X-Request-Id}
     * header (vLLM's with --enable-request-id-headers) and used in the reply's id ("chatcmpl-" / "cmpl-" + it), so that a
     * client's trace and the server's agree.
     */
    private static String requestId(Context ctx) {
        String given = ctx.header("X-Request-Id");
        String id;
        if (given == null || given.isEmpty()) {
            id = UUID.randomUUID().toString().replace("-", "");
        } else {
            if (given.length() > 128 || given.chars().anyMatch(ch -> ch < 0x21 || ch > 0x7e)) {
                throw ApiError.bad(null, "the X-Request-Id header must be 1 to 128 printable ASCII characters without spaces");
            }
            id = given;
        }
        ctx.header("X-Request-Id", id);
        return id;
    }

    /**
     * One line per request once it is answered (streams when they end) to {@code sink}, as uvicorn's access log that vLLM
     * prints: client address, method, path, status, milliseconds — never the body. Null (the default): none. Set it
     * before {@link #start}.
     */
    public OpenAiServer accessLog(java.util.function.Consumer<String> sink) {
        this.accessLog = sink;
        return this;
    }

    /** The paths anyone may call when API keys are set: probes and metrics, as vLLM leaves them open. */
    static final Set<String> PUBLIC_PATHS = Set.of("/health", "/ping", "/version", "/metrics");

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Whether the request carries one of the keys ("Bearer" in any case, as vLLM reads it); every key compared. */
    private boolean authorized(Context ctx) {
        List<byte[]> keys = apiKeys;
        if (keys.isEmpty() || ctx.method() == io.javalin.http.HandlerType.OPTIONS || PUBLIC_PATHS.contains(ctx.path())) return true;
        String h = ctx.header("Authorization");
        if (h == null) return false;
        int sp = h.indexOf(' ');
        if (sp < 0 || !h.substring(0, sp).equalsIgnoreCase("bearer")) return false;
        byte[] given = sha256(h.substring(sp + 1));
        boolean match = false;
        for (byte[] k : keys) match |= java.security.MessageDigest.isEqual(given, k);
        return match;
    }

    /** Starts listening on {@code port} (0: any free port) and returns the port. */
    public int start(String host, int port) {
        List<String> origins = corsOrigins;
        boolean credentials = corsCredentials;
        java.util.function.Consumer<String> log = accessLog;
        app = Javalin.create(c -> {
            if (log != null) {
                c.requestLogger.http((ctx, ms) -> log.accept(ctx.ip() + " \"" + ctx.method() + " " + ctx.path() + "\" " + ctx.statusCode()
                        + " " + Math.round(ms) + " ms"));
            }
            c.useVirtualThreads = true;
            c.showJavalinBanner = false;
            c.http.maxRequestSize = 16L << 20;
            if (!origins.isEmpty()) {
                c.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    if (origins.contains("*")) {
                        if (credentials) rule.reflectClientOrigin = true;   // "*" cannot carry credentials: echo the origin (Starlette's way)
                        else rule.anyHost();
                    } else {
                        rule.allowHost(origins.get(0), origins.subList(1, origins.size()).toArray(String[]::new));
                    }
                    rule.allowCredentials = credentials;
                    rule.exposeHeader("Retry-After");
                }));
            }
        });
        app.before(ctx -> {
            if (authorized(ctx)) return;
            metrics.request("unauthorized", 401);
            ctx.header("WWW-Authenticate", "Bearer");
            error(ctx, new ApiError(401, "invalid_request_error", null, "Unauthorized: this server needs an API key (Authorization: Bearer KEY)",
                    "invalid_api_key"));
            ctx.skipRemainingHandlers();
        });
        app.get("/health", ctx -> {
            boolean d;
            synchronized (drainLock) { d = draining; }
            ctx.status(d ? 503 : 200).json(java.util.Map.of("status", d ? "shutting down" : "ok"));
        });
        app.get("/ping", ctx -> ctx.json(java.util.Map.of("status", "ok")));     // SageMaker's probe, as vLLM answers it
        app.post("/ping", ctx -> ctx.json(java.util.Map.of("status", "ok")));
        app.get("/version", ctx -> ctx.json(java.util.Map.of("version", VERSION)));
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render(engine)));
        app.get("/v1/models", this::models);
        app.post("/v1/completions", ctx -> handle(ctx, "completions", this::completions));
        app.post("/v1/chat/completions", ctx -> handle(ctx, "chat", this::chatCompletions));
        app.post("/v1/embeddings", ctx -> handle(ctx, "embeddings", this::embeddings));
        for (String path : List.of("/v1/rerank", "/rerank", "/v2/rerank")) app.post(path, ctx -> handle(ctx, "rerank", this::rerank));
        for (String path : List.of("/v1/score", "/score")) app.post(path, ctx -> handle(ctx, "score", this::score));
        for (String path : List.of("/classify", "/v1/classify")) app.post(path, ctx -> handle(ctx, "classify", this::classify));
        app.post("/tokenize", ctx -> handle(ctx, "tokenize", this::tokenize, false));          // vLLM's: "model" optional
        app.post("/detokenize", ctx -> handle(ctx, "detokenize", this::detokenize, false));
        app.get("/tokenizer_info", this::tokenizerInfo);
        if (loraUpdating) {                                        // vLLM's, with VLLM_ALLOW_RUNTIME_LORA_UPDATING (else no route: 404)
            app.post("/v1/load_lora_adapter", ctx -> handle(ctx, "load_lora_adapter", this::loadLora, false));
            app.post("/v1/unload_lora_adapter", ctx -> handle(ctx, "unload_lora_adapter", this::unloadLora, false));
        }
        app.start(host, port);
        return app.port();
    }

    @Override
    public void close() {
        if (app != null) app.stop();
    }

    // ---- errors --------------------------------------------------------------------------------------

    /** An error answered as OpenAI's error object. */
    static final class ApiError extends RuntimeException {
        final int status;
        final String type;
        final String param;

        final String code;

        ApiError(int status, String type, String param, String message) {
            this(status, type, param, message, null);
        }

        ApiError(int status, String type, String param, String message, String code) {
            super(message);
            this.status = status; this.type = type; this.param = param; this.code = code;
        }

        static ApiError bad(String param, String message) { return new ApiError(400, "invalid_request_error", param, message); }
    }

    private interface Handler { void run(Context ctx, JsonNode body) throws Exception; }

    private void handle(Context ctx, String endpoint, Handler h) {
        handle(ctx, endpoint, h, true);
    }

    /** {@code modelRequired} false: a body without "model" is served too (one with another model's name is not). */
    private void handle(Context ctx, String endpoint, Handler h, boolean modelRequired) {
        int status = 200;
        synchronized (drainLock) {
            if (draining) {
                metrics.request(endpoint, 503);
                ctx.header("Retry-After", Integer.toString(limits.retryAfterSeconds()));
                error(ctx, new ApiError(503, "service_unavailable", null, "the server is shutting down; send the request to another replica"));
                return;
            }
            inFlight++;
        }
        try {
            JsonNode body;
            try {
                body = JSON.readTree(ctx.bodyAsBytes());
            } catch (JsonProcessingException e) {
                throw ApiError.bad(null, "the body is not valid JSON: " + e.getOriginalMessage());
            }
            if (body == null || !body.isObject()) throw ApiError.bad(null, "the body must be a JSON object");
            JsonNode model = body.get("model");
            if (!modelRequired && (model == null || model.isNull())) model = JSON.getNodeFactory().textNode(name);
            if (model == null || !model.isTextual()) throw ApiError.bad("model", "'model' is required (this server has '" + name + "')");
            if (!names.contains(model.asText()) && !isAdapter(model.asText())) {
                List<String> all = new ArrayList<>(names);
                if (engine != null && engine.adapters() != null) all.addAll(engine.adapters().names());
                // vLLM's and OpenAI's answer: 404 (OpenAI's code model_not_found), naming what is served
                throw new ApiError(404, "invalid_request_error", "model", "The model '" + model.asText() + "' does not exist; this server has "
                        + all.stream().map(x -> "'" + x + "'").collect(java.util.stream.Collectors.joining(", ")), "model_not_found");
            }
            h.run(ctx, body);
        } catch (ApiError e) {
            status = e.status;
            error(ctx, e);
        } catch (Engine.QueueFullException e) {
            status = 429;
            ctx.header("Retry-After", Integer.toString(limits.retryAfterSeconds()));
            error(ctx, new ApiError(429, "rate_limit_exceeded", null, "the server is busy: " + e.getMessage() + "; retry later"));
        } catch (IllegalArgumentException e) {
            status = 400;
            error(ctx, ApiError.bad(null, e.getMessage()));
        } catch (Exception e) {
            status = 500;
            error(ctx, new ApiError(500, "server_error", null, e.toString()));
        } finally {
            synchronized (drainLock) {
                if (--inFlight == 0) drainLock.notifyAll();
            }
        }
        metrics.request(endpoint, status);
    }

    /**
     * Stops taking requests and waits up to {@code timeout} for those in flight to finish (vLLM's {@code --shutdown-timeout}):
     * from now on every API request is 503 with Retry-After (a load balancer sends it elsewhere) and {@code /health} is 503,
     * while requests already admitted — streams included — run to their end. Returns whether none is left; those left are
     * cut when the server is {@link #close closed}. A zero timeout returns at once. Call it before {@link #close}.
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (drainLock) {
            draining = true;
            while (inFlight > 0) {
                long left = end - System.nanoTime();
                if (left <= 0) return false;
                TimeUnit.NANOSECONDS.timedWait(drainLock, left);
            }
            return true;
        }
    }

    /** Requests being served now (the API endpoints; probes and metrics not counted). */
    public int inFlight() {
        synchronized (drainLock) { return inFlight; }
    }

    private static void error(Context ctx, ApiError e) {
        ObjectNode err = JSON.createObjectNode();
        ObjectNode o = err.putObject("error");
        o.put("message", e.getMessage());
        o.put("type", e.type);
        o.put("param", e.param);
        o.put("code", e.code);
        ctx.status(e.status).contentType("application/json").result(err.toString());
    }

    // ---- /v1/models -----------------------------------------------------------------------------------

    private void models(Context ctx) {
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String id : names) {                      // vLLM's model card: every served name, with the context length
            ObjectNode m = data.addObject();
            m.put("id", id);
            m.put("object", "model");
            m.put("created", created);
            m.put("owned_by", "transformer4j");
            m.putNull("parent");
            m.put("max_model_len", maxModelLen());
        }
        if (engine != null && engine.adapters() != null) {      // vLLM's LoRA cards: the adapter's name, its folder, its base
            for (String id : engine.adapters().names()) {
                ObjectNode m = data.addObject();
                m.put("id", id);
                m.put("object", "model");
                m.put("created", created);
                m.put("owned_by", "transformer4j");
                java.nio.file.Path dir = engine.adapters().dir(id);
                if (dir != null) m.put("root", dir.toString());
                m.put("parent", names.get(0));
                m.put("max_model_len", maxModelLen());
            }
        }
        ctx.contentType("application/json").result(root.toString());
    }

    // ---- generation -----------------------------------------------------------------------------------

    /**
     * What a generation request asks for, parsed and checked: {@code n} choices, the i-th sampled with the options' seed + i
     * (vLLM's child seeds); {@code reasoning} makes each chat choice's reasoning parser (else null); {@code beam}: vLLM's
     * use_beam_search with n beams (else null), the options then those of the replies' text only (no stops);
     * {@code includeStop}: vLLM's include_stop_str_in_output (the stop string, or a stop id's text, kept in the reply);
     * {@code skipSpecial}: vLLM's skip_special_tokens, whether the reply's text leaves special tokens out;
     * {@code continuousUsage}: vLLM's stream_options.continuous_usage_stats (usage on every streamed chunk).
     */
    private record Gen(int[] prompt, Generator.Options options, int n, Set<String> stops, boolean stream, int topLogprobs,
                       boolean echo, boolean includeUsage, java.util.function.Supplier<ReasoningParser> reasoning, boolean includeReasoning,
                       boolean generate, int promptLogprobs, boolean returnTokenIds, boolean tokensAsIds, String cacheSalt,
                       String adapter, boolean includeStop, boolean skipSpecial, boolean continuousUsage, BeamSearchOnline.Params beam,
                       String chatEcho) {}

    /** The most choices a request may ask for (OpenAI's cap; the engine's maxRunning caps it further). */
    static final int MAX_N = 128;

    private Gen parseGen(JsonNode b, int[] prompt, boolean isChat) {
        return parseGen(b, prompt, isChat, null, null, java.util.Map.of(), "");
    }

    /**
     * {@code forced}: the constraint of a tool_choice that forces a call (null: the request's structured outputs, if any);
     * {@code templateKwargs}: what the prompt was rendered with (chat_template_kwargs), for the reasoning parser's check of
     * whether the prompt closed the reasoning; {@code chatEcho}: vLLM's chat echo, the text before each reply ("" none).
     */
    private Gen parseGen(JsonNode b, int[] prompt, boolean isChat, java.util.function.Supplier<ReasoningParser> parser,
                         TokenConstraint.Factory forced, java.util.Map<String, ?> templateKwargs, String chatEcho) {
        if (engine == null) throw ApiError.bad("model", "model '" + name + "' does not generate (" + (reranker != null ? "a reranker: use /v1/rerank or /v1/score"
                : "an encoder: use /v1/embeddings, /v1/rerank, /v1/score or /classify") + ")");
        if (prompt.length == 0) throw ApiError.bad(isChat ? "messages" : "prompt", "the prompt is empty");
        if (prompt.length > limits.maxPromptTokens()) {
            throw ApiError.bad(isChat ? "messages" : "prompt", "the prompt has " + prompt.length + " tokens; this server allows "
                    + limits.maxPromptTokens());
        }
        int n = intField(b, "n", 1);
        // fields this server cannot honour are refused in vLLM's words rather than ignored
        JsonNode bestOf = b.get("best_of");
        if (bestOf != null && !bestOf.isNull() && !(bestOf.isInt() && bestOf.asInt() <= 1)) {
            throw ApiError.bad("best_of", "vLLM V1 does not yet support best_of.");
        }
        JsonNode priority = b.get("priority");
        if (priority != null && !priority.isNull() && !(priority.isIntegralNumber() && priority.asLong() == 0)) {
            throw ApiError.bad("priority", "Got priority " + priority + " but Priority scheduling is not enabled.");
        }
        int maxN = Math.min(MAX_N, engine.config().maxRunning());
        if (n < 1 || n > maxN) throw ApiError.bad("n", "n must be in [1, " + maxN + "] (this server runs " + engine.config().maxRunning() + " sequences at most), got " + n);
        String maxKey = isChat && b.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        // vLLM's context checks and words (clients parse them to shrink a conversation): the prompt must fit the context
        // length; an explicit max_tokens must fit beside it; a chat without one gets the room left (vLLM's default),
        // a completion 16 (OpenAI's and vLLM's default, checked as if given)
        int ctxLen = maxModelLen();
        boolean explicit = !isChat || (b.hasNonNull(maxKey));
        int room = ctxLen - prompt.length;
        boolean echoed = !isChat && b.path("echo").asBoolean(false);
        if (room < 0 || (room == 0 && !explicit)) {       // vLLM: a prompt past the context; a chat without max_tokens that fills it
            throw ApiError.bad(isChat ? "messages" : "prompt", "This model's maximum context length is " + ctxLen + " tokens. However, your request has "
                    + prompt.length + " input tokens. Please reduce the length of the input messages.");
        }
        int max = intField(b, maxKey, isChat ? Math.min(limits.maxOutputTokens(), room) : 16);
        boolean generate = max != 0 || !echoed;           // max_tokens 0 with echo: the prompt (and its logprobs) only, as vLLM answers
        if ((generate && max < 1) || max < 0 || max > limits.maxOutputTokens()) {
            throw ApiError.bad(maxKey, maxKey + " must be in [1, " + limits.maxOutputTokens() + "]" + (isChat ? "" : " (0 with echo)") + ", got " + max);
        }
        if (explicit && max > room) {
            throw ApiError.bad(maxKey, "'max_tokens' or 'max_completion_tokens' is too large: " + max + ". This model's maximum context length is "
                    + ctxLen + " tokens and your request has " + prompt.length + " input tokens (" + max + " > " + ctxLen + " - " + prompt.length + ").");
        }
        SamplingDefaults d = sampling;
        double temperature = numField(b, "temperature", d.temperature() != null ? d.temperature() : 1.0);
        if (!(temperature >= 0 && temperature <= 2)) throw ApiError.bad("temperature", "temperature must be in [0, 2], got " + temperature);
        boolean beam = bool(b, "use_beam_search");      // vLLM's beam search: n beams, not n samples, whatever the temperature
        if (n > 1 && temperature == 0 && !beam) throw ApiError.bad("n", "n must be 1 when using greedy sampling, got " + n + ".");   // vLLM's words
        double topP = numField(b, "top_p", d.topP() != null ? d.topP() : 1.0);
        if (!(topP > 0 && topP <= 1)) throw ApiError.bad("top_p", "top_p must be in (0, 1], got " + topP);
        int topK = intField(b, "top_k", d.topK() != null ? d.topK() : 0);
        if (topK == -1) topK = 0;                                                    // vLLM's "off"
        if (topK < 0) throw ApiError.bad("top_k", "top_k must be ≥ 0 (0 or -1: off), got " + topK);
        double minP = numField(b, "min_p", d.minP() != null ? d.minP() : 0.0);
        if (!(minP >= 0 && minP <= 1)) throw ApiError.bad("min_p", "min_p must be in [0, 1], got " + minP);
        double repetition = numField(b, "repetition_penalty", d.repetitionPenalty() != null ? d.repetitionPenalty() : 1.0);
        if (!(repetition > 0) || !Float.isFinite((float) repetition)) {
            throw ApiError.bad("repetition_penalty", "repetition_penalty must be > 0 (1: none), got " + repetition);
        }
        double presence = numField(b, "presence_penalty", 0.0);
        if (!(presence >= -2 && presence <= 2)) throw ApiError.bad("presence_penalty", "presence_penalty must be in [-2, 2], got " + presence);
        double frequency = numField(b, "frequency_penalty", 0.0);
        if (!(frequency >= -2 && frequency <= 2)) throw ApiError.bad("frequency_penalty", "frequency_penalty must be in [-2, 2], got " + frequency);
        java.util.Map<Integer, Float> logitBias = logitBias(b.get("logit_bias"), engine.model().config.vocabSize());
        long seed = b.hasNonNull("seed") ? longField(b, "seed") : ThreadLocalRandom.current().nextLong();
        Set<String> stops = new LinkedHashSet<>();
        JsonNode stop = b.get("stop");
        if (stop != null && !stop.isNull()) {
            if (stop.isTextual()) stops.add(stop.asText());
            else if (stop.isArray() && stop.size() <= 4) for (JsonNode s : stop) {
                if (!s.isTextual()) throw ApiError.bad("stop", "stop must be a string or up to 4 strings");
                stops.add(s.asText());
            }
            else throw ApiError.bad("stop", "stop must be a string or up to 4 strings");
            if (stops.contains("")) throw ApiError.bad("stop", "a stop string must not be empty");
        }
        // vLLM's min_tokens: eos and stop_token_ids banned, and stop strings not looked for, until min_tokens tokens came
        int minTokens = intField(b, "min_tokens", 0);
        if (minTokens < 0) throw ApiError.bad("min_tokens", "min_tokens must be greater than or equal to 0, got " + minTokens);
        if (minTokens > max && generate) {
            throw ApiError.bad("min_tokens", "min_tokens must be less than or equal to " + maxKey + "=" + max + ", got " + minTokens);
        }
        // vLLM's ignore_eos: neither the tokenizer's EOS nor generation_config's end ids stop it, only stop_token_ids
        Set<Integer> stopIds = bool(b, "ignore_eos") ? new LinkedHashSet<>() : new LinkedHashSet<>(eosIds);
        JsonNode sti = b.get("stop_token_ids");
        if (sti != null && !sti.isNull()) {
            if (!sti.isArray()) throw ApiError.bad("stop_token_ids", "stop_token_ids must be an array of token ids");
            for (JsonNode id : sti) {
                if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                    throw ApiError.bad("stop_token_ids", "stop_token_ids must hold token ids (integers ≥ 0), got " + id);
                }
                stopIds.add(id.asInt());
            }
        }
        int vocab = engine.model().config.vocabSize();
        java.util.List<java.util.List<Integer>> badWords = badWords(b.get("bad_words"), vocab);
        Set<Integer> allowedIds = allowedTokenIds(b.get("allowed_token_ids"), vocab);
        int top;
        if (isChat) {
            boolean lp = b.path("logprobs").asBoolean(false);
            int k = intField(b, "top_logprobs", 0);
            if (k < 0 || k > 20) throw ApiError.bad("top_logprobs", "top_logprobs must be in [0, 20], got " + k);
            if (k > 0 && !lp) throw ApiError.bad("top_logprobs", "top_logprobs needs logprobs: true");
            top = lp ? k : -1;
        } else {
            JsonNode lp = b.get("logprobs");
            if (lp == null || lp.isNull()) top = -1;
            else {
                if (!lp.isInt() || lp.asInt() < 0 || lp.asInt() > 5) throw ApiError.bad("logprobs", "logprobs must be an integer in [0, 5]");
                top = lp.asInt();
            }
        }
        boolean echo = !isChat && b.path("echo").asBoolean(false);
        boolean stream = b.path("stream").asBoolean(false);
        if (echo && stream) throw ApiError.bad("echo", "echo with stream is not supported");
        // vLLM's prompt_logprobs: each prompt token's log-probability, rank and the row's top k (not with stream, as vLLM)
        int promptLogprobs = -1;
        JsonNode pl = b.get("prompt_logprobs");
        if (pl != null && !pl.isNull()) {
            if (!pl.isInt() || pl.asInt() < 0 || pl.asInt() > 20) throw ApiError.bad("prompt_logprobs", "prompt_logprobs must be an integer in [0, 20], got " + pl);
            if (stream) throw ApiError.bad("prompt_logprobs", "prompt_logprobs is not available when stream is enabled");
            promptLogprobs = pl.asInt();
        }
        Generator.Options o = Generator.Options.greedy(Math.max(max, 1)).stopIds(stopIds).minNewTokens(minTokens);
        if (temperature > 0) o = o.sampling((float) temperature, topK, (float) topP, seed).minP((float) minP);
        o = o.repetitionPenalty((float) repetition).presenceFrequency((float) presence, (float) frequency).logitBias(logitBias);
        boolean skipSpecial = skipSpecialTokens(b, isChat);
        if (!stops.isEmpty()) o = o.stopStrings(stops, ids -> tokenizer.decode(ids, skipSpecial));   // on the reply's own text
        o = o.outputBadWordsIds(badWords).allowedTokenIds(allowedIds);          // the engine's per-request mask
        o = o.guided(afterReasoning(structured.constraint(b, forced), prompt, parser, templateKwargs));
        boolean usage = b.path("stream_options").path("include_usage").asBoolean(false);
        boolean continuous = stream && b.path("stream_options").path("continuous_usage_stats").asBoolean(false);
        JsonNode ir = b.get("include_reasoning");
        if (ir != null && !ir.isNull() && !ir.isBoolean()) throw ApiError.bad("include_reasoning", "include_reasoning must be a boolean");
        boolean includeReasoning = ir == null || !ir.isBoolean() || ir.asBoolean();
        if (beam) {
            BeamSearchOnline.Params bp = beamParams(b, n, max, o, echo, top, promptLogprobs, allowedIds);
            // stream: a chat reply streams once the beams are known; a completion does not stream (vLLM's two servings)
            return new Gen(prompt, Generator.Options.greedy(max), n, Set.of(), isChat && stream, -1, false, usage, parser, includeReasoning, true,
                    -1, bool(b, "return_token_ids"), bool(b, "return_tokens_as_token_ids"), cacheSalt(b), adapterOf(b), false, skipSpecial, isChat && continuous, bp, chatEcho);
        }
        return new Gen(prompt, o, n, stops, stream, top, echo, usage, parser, includeReasoning, generate,
                promptLogprobs, bool(b, "return_token_ids"), bool(b, "return_tokens_as_token_ids"), cacheSalt(b), adapterOf(b),
                bool(b, "include_stop_str_in_output"), skipSpecial, continuous, null, chatEcho);
    }

    /**
     * vLLM's skip_special_tokens (default true: the reply's text leaves special tokens out, as vLLM's detokenizer does).
     * Kept where a parser reads them, as vLLM's parsers ask for them: the gpt_oss reasoning parser (harmony's channel
     * tokens), and the hermes, mistral, glm45 and glm47 tool-call parsers on a chat request with tools whose tool_choice
     * is not "none" (their adjust_request sets skip_special_tokens false: &lt;tool_call&gt; and [TOOL_CALLS] are special in
     * some models).
     */
    private boolean skipSpecialTokens(JsonNode b, boolean isChat) {
        if (reasoning != null && reasoning.name().equals("gpt_oss")) return false;
        ToolParser.Kind calls = toolCalls;
        if (isChat && calls != null && List.of("hermes", "mistral", "glm45", "glm47").contains(calls.name()) && b.path("tools").isArray()
                && !b.path("tools").isEmpty() && !"none".equals(b.path("tool_choice").asText(""))) {
            return false;
        }
        JsonNode v = b.get("skip_special_tokens");
        if (v == null || v.isNull()) return true;
        if (!v.isBoolean()) throw ApiError.bad("skip_special_tokens", "skip_special_tokens must be a boolean, got " + v);
        return v.asBoolean();
    }

    /** vLLM's max_logprobs (its default): beam search asks for 2 · n alternatives per step, so n is at most 10. */
    static final int MAX_LOGPROBS = 20;

    /**
     * vLLM's BeamSearchParams from a request with use_beam_search: beam width n, max_tokens, ignore_eos, length_penalty
     * (default 1), include_stop_str_in_output, and the tokenizer's EOS id. What beam search here does not do is a 400
     * naming it: echo, logprobs, prompt_logprobs, structured outputs or a forced tool call, allowed_token_ids, and
     * max_tokens 0. Stop strings, stop_token_ids and the sampling fields are ignored, as vLLM's beam search ignores them.
     */
    private BeamSearchOnline.Params beamParams(JsonNode b, int n, int max, Generator.Options o, boolean echo, int top,
                                               int promptLogprobs, Set<Integer> allowedIds) {
        if (echo) throw ApiError.bad("echo", "use_beam_search with echo is not supported");
        if (top >= 0) throw ApiError.bad("logprobs", "use_beam_search with logprobs is not supported");
        if (promptLogprobs >= 0) throw ApiError.bad("prompt_logprobs", "use_beam_search with prompt_logprobs is not supported");
        if (o.guide() != null) throw ApiError.bad("use_beam_search", "use_beam_search with structured outputs or a forced tool call is not supported");
        if (allowedIds != null && !allowedIds.isEmpty()) throw ApiError.bad("allowed_token_ids", "use_beam_search with allowed_token_ids is not supported");
        if (max < 1) throw ApiError.bad("max_tokens", "use_beam_search needs max_tokens ≥ 1");
        if (2 * n > MAX_LOGPROBS) {
            throw ApiError.bad("n", "Requested sample logprobs of " + 2 * n + ", which is greater than max of " + MAX_LOGPROBS);   // vLLM's words
        }
        double lengthPenalty = numField(b, "length_penalty", 1.0);
        if (!Double.isFinite(lengthPenalty)) throw ApiError.bad("length_penalty", "length_penalty must be a finite number, got " + lengthPenalty);
        return new BeamSearchOnline.Params(n, max, bool(b, "ignore_eos"), lengthPenalty, bool(b, "include_stop_str_in_output"), tokenizerEosId());
    }

    /**
     * The tokenizer's eos_token_id, as vLLM reads it (tokenizer_config.json's eos_token, where the server was given it
     * through {@link #tokenizerInfo(java.util.Map)}), else the first of the server's end ids; -1: none. vLLM's beam search
     * ends beams on it, and a reply that it ends has stop_reason null (another end id is the stop_reason).
     */
    private int tokenizerEosId() {
        java.util.Map<String, Object> info = tokenizerInfo;
        if (info != null && info.get("eos_token") instanceof String e) {
            Integer id = tokenizer.specialTokens().get(e);
            if (id != null) return id;
        }
        return eosIds.isEmpty() ? -1 : eosIds.iterator().next();
    }

    /** The engine's LoRA adapter a request's "model" names (vLLM's --lora-modules: the adapter's name), or null for the base model. */
    private String adapterOf(JsonNode b) {
        JsonNode m = b.get("model");
        return m != null && m.isTextual() && isAdapter(m.asText()) ? m.asText() : null;
    }

    private boolean isAdapter(String model) {
        return engine != null && engine.adapters() != null && !names.contains(model) && engine.adapters().contains(model);
    }

    /** vLLM's cache_salt: a non-empty string, or null. */
    private static String cacheSalt(JsonNode b) {
        JsonNode v = b.get("cache_salt");
        if (v == null || v.isNull()) return null;
        if (!v.isTextual() || v.asText().isEmpty()) throw ApiError.bad("cache_salt", "Parameter 'cache_salt' must be a non-empty string if provided.");
        return v.asText();
    }

    /** An optional boolean field (absent or null: false); anything else is a 400 naming it. */
    private static boolean bool(JsonNode b, String key) {
        JsonNode v = b.get(key);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw ApiError.bad(key, key + " must be a boolean, got " + v);
        return v.asBoolean();
    }

    /**
     * A constraint that begins once the reasoning ends, as vLLM's structured-output manager applies a grammar (its
     * {@code enable_in_reasoning} off, the default): with a reasoning parser, every id is allowed (EOS too) until the
     * parser, fed the reply's ids as they come, says the reasoning ended ({@code </think>}; harmony's final channel); the
     * constraint holds from the first id where the prompt already ended it (the parser's own check: a prompt that ends
     * with {@code </think>}, Qwen3's {@code enable_thinking: false}). Engine-level in vLLM, so /v1/completions too.
     * Without a parser, or without a constraint, {@code c} as it is. {@code parsers}: the chat reply's parsers (each
     * started on the rendered prompt), or null to start them here on the decoded prompt (/v1/completions).
     */
    private TokenConstraint.Factory afterReasoning(TokenConstraint.Factory c, int[] prompt,
                                                   java.util.function.Supplier<ReasoningParser> parsers,
                                                   java.util.Map<String, ?> templateKwargs) {
        ReasoningParser.Kind kind = reasoning;
        if (c == null || kind == null) return c;
        java.util.function.Supplier<ReasoningParser> starts = parsers;
        if (starts == null) {
            String text = tokenizer.decode(prompt);
            starts = () -> kind.start(text, templateKwargs);
        }
        if (starts.get().reasoningEnded()) return c;
        java.util.function.Supplier<ReasoningParser> make = starts;
        return new AfterReasoning(c, () -> {
            ReasoningParser p = make.get();                                // one a sequence, on the engine's thread
            return new AfterReasoning.Watch() {
                @Override public boolean ended() { return p.reasoningEnded(); }
                @Override public void add(int id) { p.add(tokenizer.decode(new int[] {id})); }
            };
        }, engine.model().config.vocabSize());
    }

    /**
     * A completion of one prompt or of a batch, as OpenAI's and vLLM's {@code prompt}: a string, an array of token ids, or
     * an array of either (a batch: its prompts' choices numbered prompt by prompt, {@code index} = prompt · n + choice, and
     * usage summing their prompts — what lm-evaluation-harness's local-completions sends).
     */
    private void completions(Context ctx, JsonNode b) throws Exception {
        if (b.hasNonNull("suffix")) throw ApiError.bad("suffix", "suffix is not currently supported");          // vLLM's words
        if (b.hasNonNull("prompt_embeds")) {
            throw ApiError.bad("prompt_embeds", "You must set `--enable-prompt-embeds` to input `prompt_embeds`.");   // vLLM's, without the flag
        }
        JsonNode p = b.get("prompt");
        List<int[]> prompts = new ArrayList<>();
        String usage = "prompt must be a string, an array of token ids, or a non-empty array of strings or of token-id arrays";
        if (p != null && p.isTextual()) prompts.add(tokenizer.encode(p.asText()));
        else if (p != null && p.isArray() && !p.isEmpty() && p.get(0).isInt()) prompts.add(tokenIds(p, "prompt"));
        else if (p != null && p.isArray() && !p.isEmpty()) {
            for (int i = 0; i < p.size(); i++) {
                JsonNode x = p.get(i);
                if (x.isTextual()) prompts.add(tokenizer.encode(x.asText()));
                else if (x.isArray() && !x.isEmpty()) prompts.add(tokenIds(x, "prompt[" + i + "]"));
                else throw ApiError.bad("prompt", "prompt[" + i + "] is neither a string nor a non-empty array of token ids; " + usage);
            }
        } else {
            throw ApiError.bad("prompt", usage);
        }
        List<Gen> gens = new ArrayList<>();
        for (int[] prompt : prompts) gens.add(parseGen(b, truncatePrompt(b, prompt), false));
        int choices = gens.stream().mapToInt(Gen::n).sum();
        if (choices > engine.config().maxWaiting()) {
            throw ApiError.bad("prompt", prompts.size() + " prompts × n = " + choices + " sequences; this server queues "
                    + engine.config().maxWaiting() + " at most (send fewer prompts per request)");
        }
        run(ctx, gens, false, null, true);
    }

    /**
     * vLLM's truncate_prompt_tokens: k keeps the prompt's last k tokens (left truncation), -1 the last max_model_len; a
     * k past max_model_len is a 400 in vLLM's words. Absent or null: the prompt as it is.
     */
    private int[] truncatePrompt(JsonNode b, int[] ids) {
        JsonNode v = b.get("truncate_prompt_tokens");
        if (v == null || v.isNull()) return ids;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < -1 || v.asInt() == 0) {
            throw ApiError.bad("truncate_prompt_tokens", "truncate_prompt_tokens must be an integer ≥ 1, or -1 for max_model_len; got " + v);
        }
        int len = maxModelLen(), k = v.asInt() == -1 ? len : v.asInt();
        if (k > len) {
            throw ApiError.bad("truncate_prompt_tokens", "truncate_prompt_tokens value (" + k + ") is greater than max_model_len (" + len
                    + "). Please, select a smaller truncation size.");   // vLLM's words
        }
        return ids.length <= k ? ids : java.util.Arrays.copyOfRange(ids, ids.length - k, ids.length);
    }

    /** A JSON array of token ids (integers). */
    private static int[] tokenIds(JsonNode a, String where) {
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!a.get(i).isInt()) throw ApiError.bad(where.replaceFirst("\\[.*", ""), where + ": a token prompt must hold integers only");
            ids[i] = a.get(i).asInt();
        }
        return ids;
    }

    private void chatCompletions(Context ctx, JsonNode b) throws Exception {
        if (engine == null) throw ApiError.bad("model", "model '" + name + "' does not generate (" + (reranker != null ? "a reranker: use /v1/rerank or /v1/score"
                : "an encoder: use /v1/embeddings, /v1/rerank, /v1/score or /classify") + ")");
        ChatPrompt c = chatPrompt(b);
        Tools tools = c.tools();
        java.util.Map<String, Object> kwargs = c.kwargs();
        int[] prompt = truncatePrompt(b, c.ids());
        // a forced call's JSON (as any structured output) begins where the reasoning ends: the call is read from the content
        ReasoningParser.Kind kind = reasoning;
        ToolParser.Kind reader = toolCalls;
        String promptText = kind == null ? null : tokenizer.decode(prompt);
        java.util.function.Supplier<ReasoningParser> parser = kind == null ? null : () -> kind.start(promptText, kwargs);   // one a choice
        JsonNode toolsJson = tools.list() == null ? null : JSON.valueToTree(tools.list());    // glm45 / glm47 type arguments by them
        java.util.function.Function<ReasoningParser, ToolParser> calls = tools.forced() != null ? p -> new ToolParser.Forced(tools.named())
                : tools.parse() ? p -> reader.start(p, toolsJson) : null;
        run(ctx, List.of(parseGen(b, prompt, true, parser, tools.forced(), kwargs, c.echo())), true, calls, tools.parallel());
    }

    /** A chat request's rendered prompt, with the tools and template variables it was rendered with. */
    private record ChatPrompt(int[] ids, Tools tools, java.util.Map<String, Object> kwargs, String echo) {}

    /**
     * The request's {@code messages} through the chat template, with its tools, chat_template_kwargs, reasoning_effort and
     * {@code add_generation_prompt} (vLLM's field, default true).
     */
    private ChatPrompt chatPrompt(JsonNode b) {
        if (chat == null) throw ApiError.bad("model", "model '" + name + "' has no chat template; use /v1/completions");
        JsonNode own = b.get("chat_template");
        if (own != null && !own.isNull()) {                // vLLM without --trust-request-chat-template (its default)
            throw ApiError.bad("chat_template", "Chat template is passed with request, but --trust-request-chat-template is not set. "
                    + "Refused request with untrusted chat template.");
        }
        JsonNode ms = b.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty()) throw ApiError.bad("messages", "messages must be a non-empty array");
        List<ChatTemplate.Message> messages = new ArrayList<>();
        for (JsonNode m : ms) {
            if (!m.isObject() || !m.path("role").isTextual()) throw ApiError.bad("messages", "every message needs a role");
            String role = m.get("role").asText();
            JsonNode c = m.get("content");
            String text;
            if (c != null && c.isTextual()) text = c.asText();
            else if ((c == null || c.isNull()) && role.equals("assistant")) text = "";     // a reply of reasoning or tool calls only
            else if (c != null && c.isArray()) {
                StringBuilder sb = new StringBuilder();
                for (JsonNode part : c) {
                    if (!"text".equals(part.path("type").asText())) throw ApiError.bad("messages", "only text content parts are supported");
                    sb.append(part.path("text").asText());
                }
                text = sb.toString();
            } else {
                throw ApiError.bad("messages", "every message needs text content");
            }
            messages.add(new ChatTemplate.Message(role, text, messageFields(m)));
        }
        Tools tools = tools(b);
        java.util.Map<String, Object> kwargs = templateKwargs(b);
        if (tools.list() != null) kwargs.putIfAbsent("tools", tools.list());     // chat_template_kwargs may override, as in vLLM
        JsonNode agp = b.get("add_generation_prompt");
        if (agp != null && !agp.isNull()) {
            if (!agp.isBoolean()) throw ApiError.bad("add_generation_prompt", "add_generation_prompt must be a boolean, got " + agp);
            kwargs.put(ChatTemplate.ADD_GENERATION_PROMPT, agp.asBoolean());
        }
        // vLLM's continue_final_message: the final message left open for the model to continue (a prefilled reply)
        if (bool(b, "continue_final_message")) {
            if (agp != null && agp.isBoolean() && agp.asBoolean()) {
                throw ApiError.bad("continue_final_message", "Cannot set both `continue_final_message` and `add_generation_prompt` to True.");   // vLLM's words
            }
            if (ChatTemplate.addGenerationPrompt(kwargs)) {     // add_generation_prompt defaults to true: transformers' refusal
                throw ApiError.bad("continue_final_message", "continue_final_message and add_generation_prompt are not compatible. Use"
                        + " continue_final_message when you want the model to continue the final message, and add_generation_prompt when you"
                        + " want to add a header that will prompt it to start a new assistant message instead.");
            }
            if (!chat.continuesFinalMessage()) {
                throw ApiError.bad("continue_final_message", "this server's chat template does not support continue_final_message");
            }
            kwargs.put(ChatTemplate.CONTINUE_FINAL_MESSAGE, true);
        }
        // vLLM's add_special_tokens (default false on chat: the template writes them): the tokenizer's on top
        if (bool(b, "add_special_tokens")) {
            if (!chat.addsSpecialTokens()) {
                throw ApiError.bad("add_special_tokens", "this server's chat template does not support add_special_tokens");
            }
            kwargs.put(ChatTemplate.ADD_SPECIAL_TOKENS, true);
        }
        // vLLM's chat echo: the last message's text before the reply, where it has the reply's role (assistant with a
        // generation prompt, else the last message's own: a continued final message comes back whole)
        String echo = "";
        if (bool(b, "echo")) {
            ChatTemplate.Message last = messages.get(messages.size() - 1);
            String role = ChatTemplate.addGenerationPrompt(kwargs) ? "assistant" : last.role();
            if (last.role().equals(role) && last.content() != null) echo = last.content();
        }
        return new ChatPrompt(chat.render(messages, kwargs), tools, kwargs, echo);
    }

    // ---- vLLM's tokenizer endpoints --------------------------------------------------------------------

    // ---- /v1/load_lora_adapter, /v1/unload_lora_adapter (vLLM's, with runtime LoRA updating) --------------------------

    private static String text(JsonNode b, String key) {
        JsonNode v = b.get(key);
        return v != null && v.isTextual() && !v.asText().isBlank() ? v.asText() : null;
    }

    private void loadLora(Context ctx, JsonNode b) throws Exception {
        String name = text(b, "lora_name"), path = text(b, "lora_path");
        if (name == null || path == null) throw ApiError.bad(null, "Both 'lora_name' and 'lora_path' must be provided.");
        if (engine.adapters().contains(name) || names.contains(name)) {
            throw ApiError.bad("lora_name", "The lora adapter '" + name + "' has already been loaded.");
        }
        org.transformer4j.model.LoraAdapter a;
        try {
            a = org.transformer4j.model.LoraAdapter.read(java.nio.file.Path.of(path));
        } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
            throw ApiError.bad("lora_path", "cannot load LoRA adapter '" + name + "': " + e.getMessage());
        }
        loraResult(engine.loadAdapter(name, a));
        ctx.contentType("text/plain").result("Success: LoRA adapter '" + name + "' added successfully.");
    }

    private void unloadLora(Context ctx, JsonNode b) throws Exception {
        String name = text(b, "lora_name");
        if (name == null) throw ApiError.bad("lora_name", "'lora_name' must be provided.");
        if (!engine.adapters().contains(name)) {
            throw new ApiError(404, "invalid_request_error", "lora_name", "The lora adapter '" + name + "' cannot be found.");
        }
        loraResult(engine.unloadAdapter(name));
        ctx.contentType("text/plain").result("Success: LoRA adapter '" + name + "' removed successfully.");
    }

    /** Waits for the engine's load or unload; what it refuses is a 400 naming it. */
    private static void loraResult(java.util.concurrent.CompletableFuture<?> f) throws Exception {
        try {
            f.get(120, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw ApiError.bad("lora_name", e.getCause().getMessage());
        }
    }

    /**
     * POST /tokenize, as vLLM's: {@code prompt} (add_special_tokens default true) or chat {@code messages} through the
     * template (add_generation_prompt default true; add_special_tokens default false: the template writes them) → count,
     * max_model_len, tokens, and with return_token_strs each token's text (decoded alone: not the vocabulary's piece vLLM gives).
     */
    private void tokenize(Context ctx, JsonNode b) {
        int[] ids;
        if (b.has("messages")) {
            ids = chatPrompt(b).ids();                     // add_special_tokens default false here, as on chat completions
        } else {
            JsonNode p = b.get("prompt");
            if (p == null || !p.isTextual()) throw ApiError.bad("prompt", "prompt must be a string (or send messages)");
            JsonNode ast = b.get("add_special_tokens");
            if (ast != null && !ast.isNull() && !ast.isBoolean()) throw ApiError.bad("add_special_tokens", "add_special_tokens must be a boolean");
            ids = tokenizer.encode(p.asText(), ast == null || ast.isNull() || ast.asBoolean());
        }
        ObjectNode r = JSON.createObjectNode();
        r.put("count", ids.length);
        r.put("max_model_len", maxModelLen());
        ArrayNode t = r.putArray("tokens");
        for (int id : ids) t.add(id);
        if (b.path("return_token_strs").asBoolean(false)) {
            ArrayNode strs = r.putArray("token_strs");
            for (int id : ids) strs.add(tokenizer.decode(new int[] {id}));
        } else {
            r.putNull("token_strs");
        }
        ctx.contentType("application/json").result(r.toString());
    }

    /** POST /detokenize, as vLLM's: {@code tokens} → {@code prompt}, special tokens kept as text; an id outside the vocabulary is a 400. */
    private void detokenize(Context ctx, JsonNode b) {
        JsonNode t = b.get("tokens");
        if (t == null || !t.isArray()) throw ApiError.bad("tokens", "tokens must be an array of token ids");
        int[] ids = new int[t.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!t.get(i).isInt() || t.get(i).asInt() < 0) throw ApiError.bad("tokens", "tokens[" + i + "] is not a token id: " + t.get(i));
            ids[i] = t.get(i).asInt();
            if (engine != null && ids[i] >= engine.model().config.vocabSize()) {
                throw ApiError.bad("tokens", "tokens[" + i + "] is " + ids[i] + ", outside the vocabulary [0, " + engine.model().config.vocabSize() + ")");
            }
        }
        ObjectNode r = JSON.createObjectNode();
        r.put("prompt", tokenizer.decode(ids));
        ctx.contentType("application/json").result(r.toString());
    }

    /** GET /tokenizer_info (see {@link #tokenizerInfo(java.util.Map)}). */
    private void tokenizerInfo(Context ctx) {
        java.util.Map<String, Object> info = tokenizerInfo;
        ObjectNode r = info != null ? JSON.valueToTree(info) : JSON.createObjectNode();
        if (!r.has("eos_token")) {
            if (eosIds.isEmpty()) r.putNull("eos_token");
            else r.put("eos_token", tokenizer.decode(new int[] {eosIds.iterator().next()}));
        }
        if (!r.has("model_max_length")) r.put("model_max_length", maxModelLen());
        metrics.request("tokenizer_info", 200);
        ctx.contentType("application/json").result(r.toString());
    }

    /**
     * The context length (vLLM's max_model_len): prompt plus new tokens of one sequence at most — the engine's
     * {@link Engine#maxSequenceRows} (the model's positions and the KV pool), or less where {@link #maxModelLen(int)} says;
     * for encoders, this server's prompt limit.
     */
    public int maxModelLen() {
        if (engine == null) return limits.maxPromptTokens();
        int cap = engine.maxSequenceRows(), set = maxModelLen;
        return set > 0 ? Math.min(set, cap) : cap;
    }

    /**
     * A chat request's tools as the template gets them (null: none), whether its reply is read for calls by the tool-call
     * parser ("auto"), parallel_tool_calls, and for tool_choice "required" or a named function ({@code named}, else null)
     * the constraint that forces the call ({@code forced}, else null).
     */
    private record Tools(List<Object> list, boolean parse, boolean parallel, TokenConstraint.Factory forced, String named) {
        Tools(List<Object> list, boolean parse, boolean parallel) { this(list, parse, parallel, null, null); }
    }

    /**
     * {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}, checked as vLLM checks them. The tools reach the
     * template whatever tool_choice says ("none" too: vLLM's default, without --exclude-tools-when-tool-choice-none);
     * "auto" (the default with tools) reads the reply for calls and needs a tool-call parser; "required" and a named
     * function are forced with guided decoding, as vLLM forces them, and need no tool-call parser.
     */
    private Tools tools(JsonNode b) {
        JsonNode ts = b.get("tools");
        List<Object> list = null;
        if (ts != null && !ts.isNull()) {
            if (!ts.isArray()) throw ApiError.bad("tools", "tools must be an array of {\"type\": \"function\", \"function\": {...}} objects");
            if (ts.isEmpty()) throw ApiError.bad("tools", "`tools` must not be an empty array. Either provide at least one tool or omit the field entirely.");
            list = new ArrayList<>();
            for (int i = 0; i < ts.size(); i++) {
                JsonNode t = ts.get(i), f = t.path("function");
                String at = "tools[" + i + "]";
                if (!t.isObject()) throw ApiError.bad("tools", at + " must be an object");
                if (t.hasNonNull("type") && !"function".equals(t.get("type").asText(null))) {
                    throw ApiError.bad("tools", at + ".type must be \"function\", got " + t.get("type"));
                }
                if (!f.isObject()) throw ApiError.bad("tools", at + ".function must be an object with a name");
                if (!f.path("name").isTextual() || f.get("name").asText().isEmpty()) throw ApiError.bad("tools", at + ".function.name must be a non-empty string");
                if (f.hasNonNull("description") && !f.get("description").isTextual()) throw ApiError.bad("tools", at + ".function.description must be a string");
                if (f.hasNonNull("parameters") && !f.get("parameters").isObject()) throw ApiError.bad("tools", at + ".function.parameters must be a JSON Schema object");
                if (f.hasNonNull("strict") && !f.get("strict").isBoolean()) throw ApiError.bad("tools", at + ".function.strict must be a boolean");
                list.add(JSON.convertValue(t, Object.class));
            }
        }
        JsonNode p = b.get("parallel_tool_calls");
        if (p != null && !p.isNull() && !p.isBoolean()) throw ApiError.bad("parallel_tool_calls", "parallel_tool_calls must be a boolean");
        boolean parallel = p == null || p.isNull() || p.asBoolean();
        JsonNode c = b.get("tool_choice");
        if (c == null || c.isNull()) {
            if (list == null) return new Tools(null, false, parallel);
            c = JSON.getNodeFactory().textNode("auto");
        }
        if (c.isTextual() && c.asText().equals("none")) return new Tools(list, false, parallel);
        if (list == null) throw ApiError.bad("tool_choice", "When using `tool_choice`, `tools` must be set.");
        if (c.isObject()) {
            String usage = "Correct usage: `{\"type\": \"function\", \"function\": {\"name\": \"my_function\"}}`";
            JsonNode f = c.get("function");
            if (f == null || !f.isObject()) throw ApiError.bad("tool_choice", "Invalid value for `function`: `" + f + "` in `tool_choice`! " + usage);
            if (!f.path("name").isTextual() || f.get("name").asText().isEmpty()) {
                throw ApiError.bad("tool_choice", "Invalid `name` in `function`: `" + f.get("name") + "` in `tool_choice`! " + usage);
            }
            boolean known = false;
            for (JsonNode t : ts) known |= t.path("function").path("name").asText().equals(f.get("name").asText());
            if (!known) throw ApiError.bad("tool_choice", "The tool specified in `tool_choice` does not match any of the specified `tools`");
            String named = f.get("name").asText();
            return new Tools(list, false, parallel, structured.toolChoice(ts, named), named);
        }
        if (!c.isTextual() || !(c.asText().equals("auto") || c.asText().equals("required"))) {
            throw ApiError.bad("tool_choice", "Invalid value for `tool_choice`: " + (c.isTextual() ? c.asText() : c.toString())
                    + "! Only named tools, \"none\", \"auto\" or \"required\" are supported.");
        }
        if (c.asText().equals("required")) return new Tools(list, false, parallel, structured.toolChoice(ts, null), null);
        if (toolCalls == null) {
            throw ApiError.bad("tool_choice", "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set");
        }
        return new Tools(list, true, parallel);
    }

    /**
     * A message's keys besides role and content, for the template. An assistant message's reasoning, sent back as
     * {@code reasoning_content} or as vLLM's {@code reasoning}, is given to the template under both names and as
     * {@code thinking}, where it is not there already: Qwen3's template reads reasoning_content, gpt-oss's reads thinking.
     * An assistant message's tool calls reach it with their arguments as objects (see {@link #toolCalls}).
     */
    private static java.util.Map<String, Object> messageFields(JsonNode m) {
        java.util.Map<String, Object> fields = new java.util.LinkedHashMap<>();
        m.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("role") && !e.getKey().equals("content") && !e.getValue().isNull()) {
                fields.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));          // a null key is as good as absent
            }
        });
        if (m.path("role").asText().equals("assistant") && m.hasNonNull("tool_calls")) {
            List<Object> calls = toolCalls(m.get("tool_calls"));
            if (calls == null) fields.remove("tool_calls");
            else fields.put("tool_calls", calls);
        }
        if (m.hasNonNull("tool_call_id") && !m.get("tool_call_id").isTextual()) throw ApiError.bad("messages", "a message's tool_call_id must be a string");
        Object r = fields.get("reasoning_content") != null ? fields.get("reasoning_content") : fields.get("reasoning");
        if (r != null) {
            if (!(r instanceof String)) throw ApiError.bad("messages", "a message's reasoning_content (or reasoning) must be a string");
            for (String k : List.of("reasoning_content", "reasoning", "thinking")) if (fields.get(k) == null) fields.put(k, r);
        }
        return fields;
    }

    /**
     * An assistant message's tool_calls as vLLM gives them to templates (chat_utils' _postprocess_messages), which
     * expect a mapping, as transformers' do: each call's arguments JSON string becomes the object it holds — {} where it is
     * empty, not JSON or not an object (vLLM keeps the conversation going rather than fail every later turn); an
     * empty list is dropped (null). Calls must be objects of type function with a function object naming it.
     */
    private static List<Object> toolCalls(JsonNode calls) {
        if (!calls.isArray()) throw ApiError.bad("messages", "an assistant message's tool_calls must be an array");
        if (calls.isEmpty()) return null;
        List<Object> out = new ArrayList<>();
        for (JsonNode call : calls) {
            JsonNode f = call.path("function");
            if (!call.isObject()) throw ApiError.bad("messages", "assistant tool_calls entries must be objects.");
            if (!call.path("type").asText("function").equals("function") || !f.isObject()) {
                throw ApiError.bad("messages", "chat completions only support assistant tool_calls of type 'function'.");
            }
            if (!f.path("name").isTextual()) throw ApiError.bad("messages", "an assistant tool call's function.name must be a string");
            JsonNode a = f.get("arguments");
            JsonNode args = a == null || a.isNull() ? null : a.isTextual() ? ToolParser.parse(a.textValue()) : a;
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> c = JSON.convertValue(call, java.util.Map.class);
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> fc = new java.util.LinkedHashMap<>((java.util.Map<String, Object>) c.get("function"));
            fc.put("arguments", args != null && args.isObject() ? JSON.convertValue(args, Object.class) : new java.util.LinkedHashMap<>());
            c.put("function", fc);
            out.add(c);
        }
        return out;
    }

    /** chat_template_kwargs (an object: further template variables, e.g. enable_thinking) and reasoning_effort, as vLLM passes them. */
    private static java.util.Map<String, Object> templateKwargs(JsonNode b) {
        java.util.Map<String, Object> kw = new java.util.LinkedHashMap<>();
        JsonNode k = b.get("chat_template_kwargs");
        if (k != null && !k.isNull()) {
            if (!k.isObject()) throw ApiError.bad("chat_template_kwargs", "chat_template_kwargs must be an object, got " + k);
            k.fields().forEachRemaining(e -> kw.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class)));
        }
        JsonNode effort = b.get("reasoning_effort");
        if (effort != null && !effort.isNull()) {
            if (!effort.isTextual()) throw ApiError.bad("reasoning_effort", "reasoning_effort must be a string (low, medium, high), got " + effort);
            kw.put("reasoning_effort", effort.asText());
        }
        return kw;
    }

    /** A choice's token, its end ({@code token} null), or its prompt's log-probabilities ({@code prompt} non-null). */
    private record Event(int index, Engine.Token token, Engine.Finish finish, String error, Engine.PromptLogprobs prompt) {}

    /**
     * Submits the request's n choices (one engine sequence each, sharing the prompt; vLLM's parallel sampling), then
     * answers at once (a JSON object, choices in index order) or as server-sent events, each chunk one choice's with its
     * index, a choice's last chunk as it finishes; {@code tools} makes each choice's tool-call reader (null: calls are
     * not read), of which only the first call is kept unless {@code parallelToolCalls}, as vLLM filters them. A client
     * that goes away, a timeout or an error cancels every choice.
     */
    private void run(Context ctx, List<Gen> gens, boolean isChat, java.util.function.Function<ReasoningParser, ToolParser> tools,
                     boolean parallelToolCalls) throws Exception {
        if (gens.get(0).beam() != null) {
            runBeams(ctx, gens, isChat, tools, parallelToolCalls);
            return;
        }
        long t0 = System.nanoTime();
        String id = (isChat ? "chatcmpl-" : "cmpl-") + requestId(ctx);           // a bad X-Request-Id is refused before anything runs
        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        List<Engine.Handle> handles = new ArrayList<>();
        List<Reply> replies = new ArrayList<>();
        List<Reply> firstOfPrompt = new ArrayList<>();         // each prompt's first choice: its cached tokens count once
        Gen g = gens.get(0);                                    // what the prompts of a batch share: the request's fields
        try {
            for (Gen gen : gens) {
                Generator.Options o = gen.options();
                for (int i = 0; i < gen.n(); i++) {
                    int index = replies.size();
                    Generator.Options child = i == 0 || o.temperature() == 0f ? o : o.sampling(o.temperature(), o.topK(), o.topP(), o.seed() + i);
                    ReasoningParser parser = gen.reasoning() == null ? null : gen.reasoning().get();
                    Reply reply = new Reply(gen, index, isChat, parser, tools == null ? null : tools.apply(parser), parallelToolCalls);
                    replies.add(reply);
                    if (i == 0) firstOfPrompt.add(reply);
                    Engine.Request r = new Engine.Request(gen.prompt(), child, gen.topLogprobs()).withCacheSalt(gen.cacheSalt()).withAdapter(gen.adapter());
                    int promptTop = Math.max(gen.promptLogprobs(), gen.echo() ? gen.topLogprobs() : -1);   // the prompt's, from the engine's prefill
                    if (promptTop >= 0) r = r.withPromptLogprobs(promptTop);
                    if (!gen.generate()) r = r.promptOnly();
                    handles.add(engine.submit(r, new Engine.Listener() {
                        @Override public void onAdmitted(int cached) { reply.cachedTokens = cached; }
                        @Override public void onPromptLogprobs(Engine.PromptLogprobs p) { events.add(new Event(index, null, null, null, p)); }
                        @Override public void onToken(Engine.Token t) { events.add(new Event(index, t, null, null, null)); }
                        @Override public void onFinish(Engine.Finish f, String error) { events.add(new Event(index, null, f, error, null)); }
                    }));
                }
            }
        } catch (RuntimeException e) {                          // a full queue (429) or a refusal part-way: none of it runs
            for (Engine.Handle h : handles) h.cancel();
            throw e;
        }
        int total = replies.size();
        long deadline = t0 + limits.timeout().toNanos();
        OutputStream out = null;
        if (g.stream()) {
            ctx.status(200).contentType("text/event-stream").header("Cache-Control", "no-cache");
            out = ctx.res().getOutputStream();
            if (isChat) {                                   // the first chunk of each choice carries the role
                for (Reply reply : replies) {
                    if (!roleChunk(out, id, g, reply)) { cancel(handles); return; }
                }
                for (Reply reply : replies) {
                    if (!echoChunk(out, id, g, reply)) { cancel(handles); return; }
                }
            }
        }
        Event[] done = new Event[total];
        String[] reasons = new String[total];
        int finished = 0;
        boolean firstToken = true;
        try {
            while (finished < total) {
                long wait = deadline - System.nanoTime();
                Event e = wait > 0 ? events.poll(wait, TimeUnit.NANOSECONDS) : null;
                if (e == null) {
                    cancel(handles);
                    if (out != null) { sendError(out, "the request timed out after " + limits.timeout()); return; }
                    throw new ApiError(504, "timeout", null, "the request timed out after " + limits.timeout());
                }
                Reply reply = replies.get(e.index());
                if (e.prompt() != null) { reply.promptLogprobs = e.prompt(); continue; }
                if (e.token() == null) {
                    done[e.index()] = e;
                    finished++;
                    if (e.finish() == Engine.Finish.ERROR) {
                        cancel(handles);
                        if (out != null) { sendError(out, e.error()); return; }
                        throw new ApiError(500, "server_error", null, "generation failed: " + e.error());
                    }
                    reasons[e.index()] = reply.stopped || e.finish() == Engine.Finish.STOP ? "stop" : "length";
                    String tail = reply.flush();                                       // what waited for a stop string
                    if (out != null && !tail.isEmpty()) {
                        Piece d = reply.split(tail);
                        if (!d.isEmpty()) {
                            ObjectNode c = chunk(id, isChat, g);
                            reply.choice((ArrayNode) c.get("choices"), d, null, null);
                            if (!sendChunk(out, c, reply)) { cancel(handles); return; }
                        }
                    }
                    if (out != null) {
                        ObjectNode c = chunk(id, isChat, g);
                        Piece rest = reply.finishSplit();                                  // what a parser held back
                        reply.choice((ArrayNode) c.get("choices"), rest, null, reply.finishReason(reasons[e.index()]));
                        if (!sendChunk(out, c, reply)) { cancel(handles); return; }
                    }
                    continue;
                }
                long now = System.nanoTime();
                if (firstToken) metrics.ttft.observe((now - t0) / 1e9);
                else if (e.token().index() > 0) metrics.itl.observe((now - reply.last) / 1e9);
                firstToken = false;
                reply.last = now;
                String delta = reply.add(e.token());
                if (out != null) {
                    Piece d = reply.split(delta == null ? "" : delta);
                    if (!d.isEmpty() || g.topLogprobs() >= 0) {
                        ObjectNode c = chunk(id, isChat, g);
                        reply.choice((ArrayNode) c.get("choices"), d, reply.lastLogprobs(), null);
                        if (!sendChunk(out, c, reply)) { cancel(handles); return; }     // the client went away: free the blocks
                    }
                }
                if (reply.stopped) handles.get(e.index()).cancel();      // a stop string ended it: the rest is not wanted
            }
        } catch (InterruptedException e) {
            cancel(handles);
            throw e;
        }
        int completion = 0;
        for (Reply r : replies) completion += r.events.size();       // every sampled token, a stop id too (vLLM's count)
        int promptTokens = gens.stream().mapToInt(x -> x.prompt().length).sum();   // each prompt once, whatever its n (vLLM's usage)
        if (out != null) {
            if (g.includeUsage()) {
                ObjectNode u = chunk(id, isChat, g);
                usage(u, promptTokens, completion, cached(firstOfPrompt));
                send(out, u);
            }
            sendRaw(out, "data: [DONE]\n\n");
            complete(out);
            return;
        }
        respond(ctx, id, isChat, g, replies, reasons, promptTokens, completion, cached(firstOfPrompt));
    }

    /**
     * vLLM's use_beam_search: each prompt's search through the engine ({@link BeamSearchOnline}, prompts one after
     * another), its best n beams its n choices, best first. A beam's text goes through a reply as a sampled choice's
     * tokens do, so a chat reply's reasoning and tool calls are split alike; finish_reason "stop" where the EOS ended the
     * beam, else "length"; usage counts each beam's token_ids (the EOS only with include_stop_str_in_output), as vLLM's.
     */
    private void runBeams(Context ctx, List<Gen> gens, boolean isChat, java.util.function.Function<ReasoningParser, ToolParser> tools,
                          boolean parallelToolCalls) throws Exception {
        long t0 = System.nanoTime();
        String id = (isChat ? "chatcmpl-" : "cmpl-") + requestId(ctx);
        long deadline = t0 + limits.timeout().toNanos();
        List<Reply> replies = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        int completion = 0, cached = 0;
        for (Gen gen : gens) {
            BeamSearchOnline.Result r;
            try {
                r = BeamSearchOnline.run(engine, gen.prompt(), gen.beam(), gen.adapter(), gen.cacheSalt(), deadline);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new ApiError(504, "timeout", null, "the request timed out after " + limits.timeout());
            } catch (IllegalStateException e) {
                throw new ApiError(500, "server_error", null, "generation failed: " + e.getMessage());
            }
            cached += r.cachedPromptTokens();
            for (BeamSearchOnline.Beam beam : r.beams()) {
                ReasoningParser parser = gen.reasoning() == null ? null : gen.reasoning().get();
                Reply reply = new Reply(gen, replies.size(), isChat, parser, tools == null ? null : tools.apply(parser), parallelToolCalls);
                int[] t = beam.tokens();
                for (int k = 0; k < beam.textTokens().length; k++) reply.add(new Engine.Token(k, t[k], 0, null, null));
                // the EOS kept in token_ids (include_stop_str_in_output) is no text
                for (int k = beam.textTokens().length; k < t.length; k++) reply.events.add(new Engine.Token(k, t[k], 0, null, null));
                if (beam.stopped()) reply.stopReason = gen.beam().eosId();        // vLLM's beam search: the EOS id
                replies.add(reply);
                reasons.add(beam.stopped() ? "stop" : "length");
                completion += t.length;
            }
        }
        int promptTokens = gens.stream().mapToInt(x -> x.prompt().length).sum();
        Gen g = gens.get(0);
        if (!g.stream()) {
            respond(ctx, id, isChat, g, replies, reasons.toArray(String[]::new), promptTokens, completion, cached);
            return;
        }
        // a chat stream, as vLLM streams a beam search's reply once it is known: each choice's role, its text, its end
        ctx.status(200).contentType("text/event-stream").header("Cache-Control", "no-cache");
        OutputStream out = ctx.res().getOutputStream();
        for (Reply reply : replies) if (!roleChunk(out, id, g, reply)) return;
        for (Reply reply : replies) if (!echoChunk(out, id, g, reply)) return;
        for (Reply reply : replies) {
            Piece d = reply.split(reply.text());
            if (!d.isEmpty()) {
                ObjectNode c = chunk(id, true, g);
                reply.choice((ArrayNode) c.get("choices"), d, null, null);
                if (!sendChunk(out, c, reply)) return;
            }
            ObjectNode end = chunk(id, true, g);
            Piece rest = reply.finishSplit();
            reply.choice((ArrayNode) end.get("choices"), rest, null, reply.finishReason(reasons.get(reply.index)));
            if (!sendChunk(out, end, reply)) return;
        }
        if (g.includeUsage()) {
            ObjectNode u = chunk(id, true, g);
            usage(u, promptTokens, completion, cached);
            send(out, u);
        }
        sendRaw(out, "data: [DONE]\n\n");
        complete(out);
    }

    /** A streamed chat choice's first chunk: its role (and, for the first choice, the prompt's ids where asked). */
    private boolean roleChunk(OutputStream out, String id, Gen g, Reply reply) {
        ObjectNode first = chunk(id, true, g);
        if (g.returnTokenIds() && reply.index == 0) first.set("prompt_token_ids", ids(g.prompt()));   // vLLM: the first chunk only
        ObjectNode c = ((ArrayNode) first.get("choices")).addObject();
        c.put("index", reply.index);
        c.putObject("delta").put("role", "assistant").put("content", "");
        c.putNull("logprobs");
        c.putNull("finish_reason");
        return sendChunk(out, first, reply);
    }

    /** A streamed chat choice's echoed text (vLLM's chat echo), after its role chunk; nothing without one. */
    private boolean echoChunk(OutputStream out, String id, Gen g, Reply reply) {
        if (g.chatEcho().isEmpty()) return true;
        ObjectNode c = chunk(id, true, g);
        reply.choice((ArrayNode) c.get("choices"), new Piece("", g.chatEcho()), null, null);
        return sendChunk(out, c, reply);
    }

    /**
     * Sends a streamed chunk of {@code reply}; with vLLM's stream_options.continuous_usage_stats, the chunk carries usage
     * so far: the prompt's tokens and the choice's tokens until now (0 in a chat's role chunk), as vLLM counts them.
     */
    private static boolean sendChunk(OutputStream out, ObjectNode c, Reply reply) {
        if (reply.g.continuousUsage()) usage(c, reply.g.prompt().length, reply.events.size(), -1);
        return send(out, c);
    }

    /** A whole (not streamed) reply: its choices, each with its finish reason ({@code reasons} by index), and usage. */
    private void respond(Context ctx, String id, boolean isChat, Gen g, List<Reply> replies, String[] reasons, int promptTokens,
                         int completion, int cached) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", id);
        root.put("object", isChat ? "chat.completion" : "text_completion");
        root.put("created", System.currentTimeMillis() / 1000);
        root.put("model", g.adapter() != null ? g.adapter() : name);
        ArrayNode choices = root.putArray("choices");
        for (Reply reply : replies) {
            String reason = reasons[reply.index];
            if (isChat) {
                reply.split(reply.text());
                reply.finishSplit();
                Piece whole = reply.whole();
                if (!g.chatEcho().isEmpty()) whole = new Piece(whole.reasoning(), g.chatEcho() + whole.content(), whole.parts(), whole.calls());
                reply.choice(choices, whole, reply.allLogprobs(), reply.finishReason(reason, whole.calls()));
                if (reply.g.promptLogprobs() >= 0 && !root.has("prompt_logprobs")) root.set("prompt_logprobs", promptLogprobs(reply));  // vLLM: the response's
                if (reply.g.returnTokenIds() && !root.has("prompt_token_ids")) root.set("prompt_token_ids", ids(reply.g.prompt()));
            } else {
                String text = reply.text();
                ObjectNode lp = reply.allLogprobs();
                if (reply.g.echo()) {
                    String p = tokenizer.decode(reply.g.prompt());
                    text = p + text;
                    if (lp != null) lp = echoLogprobs(reply, lp);
                }
                reply.choice(choices, text, lp, reason);
                if (reply.g.promptLogprobs() >= 0) ((ObjectNode) choices.get(choices.size() - 1)).set("prompt_logprobs", promptLogprobs(reply));
            }
        }
        usage(root, promptTokens, completion, cached);   // each prompt once, every choice's tokens (vLLM's usage)
        ctx.contentType("application/json").result(root.toString());
    }

    private static void cancel(List<Engine.Handle> handles) {
        for (Engine.Handle h : handles) h.cancel();
    }

    private ObjectNode chunk(String id, boolean isChat, Gen g) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", id);
        c.put("object", isChat ? "chat.completion.chunk" : "text_completion");
        c.put("created", System.currentTimeMillis() / 1000);
        c.put("model", g.adapter() != null ? g.adapter() : name);
        c.putArray("choices");
        return c;
    }

    /**
     * OpenAI's usage; {@code cached}: the prompt tokens taken from the prefix cache (prompt_tokens_details.cached_tokens,
     * as OpenAI reports it and vLLM with --enable-prompt-tokens-details), or -1 to leave the details out.
     */
    private static void usage(ObjectNode root, int prompt, int completion, int cached) {
        ObjectNode u = root.putObject("usage");
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        if (cached >= 0) u.putObject("prompt_tokens_details").put("cached_tokens", cached);
    }

    private static int cached(List<Reply> firstOfPrompt) {
        int n = 0;
        for (Reply r : firstOfPrompt) n += r.cachedTokens;
        return n;
    }

    private static boolean send(OutputStream out, ObjectNode json) {
        return sendRaw(out, "data: " + json + "\n\n");
    }

    private static void sendError(OutputStream out, String message) {
        ObjectNode err = JSON.createObjectNode();
        ObjectNode o = err.putObject("error");
        o.put("message", message);
        o.put("type", "server_error");
        o.putNull("param");
        o.putNull("code");
        send(out, err);
        complete(out);
    }

    /**
     * Ends a streamed body here (the chunked encoding's last chunk written and flushed), not after the handler returns:
     * the request then counts as done ({@link #drain}) only once its client has every byte, so a server closed right
     * after draining no longer cuts a stream's end (ServeCommandTest's SIGTERM drain saw the last chunk lost once).
     */
    private static void complete(OutputStream out) {
        try {
            out.close();
        } catch (IOException | RuntimeException e) {
            // the client went away: nothing left to end
        }
    }

    private static boolean sendRaw(OutputStream out, String s) {
        try {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * vLLM's prompt_logprobs of a choice's prompt: null for the first token, then per token a map from token id to
     * {logprob, rank, decoded_token} — the prompt token itself first, then the row's top k by rank (a top id that is the
     * token itself appears once).
     */
    private ArrayNode promptLogprobs(Reply reply) {
        int[] prompt = reply.g.prompt();
        Engine.PromptLogprobs p = reply.promptLogprobs;
        if (p == null) throw new IllegalStateException("the engine reported no prompt log-probabilities for choice " + reply.index);
        ArrayNode out = JSON.createArrayNode();
        out.addNull();
        for (int i = 1; i < prompt.length; i++) {
            ObjectNode at = out.addObject();
            ObjectNode own = at.putObject(Integer.toString(prompt[i]));
            own.put("logprob", p.logprobs()[i]);
            own.put("rank", p.ranks()[i]);
            own.put("decoded_token", reply.tokenText(prompt[i]));
            int k = Math.min(p.topIds()[i].length, reply.g.promptLogprobs());
            for (int j = 0; j < k; j++) {
                int id = p.topIds()[i][j];
                if (at.has(Integer.toString(id))) continue;
                ObjectNode alt = at.putObject(Integer.toString(id));
                alt.put("logprob", p.topLogprobs()[i][j]);
                alt.put("rank", j + 1);
                alt.put("decoded_token", reply.tokenText(id));
            }
        }
        return out;
    }

    /**
     * The prompt's own logprobs (token i's under the prefix before it, the first none; computed by the engine's prefill,
     * Engine.Request.withPromptLogprobs) before the reply's.
     */
    private ObjectNode echoLogprobs(Reply reply, ObjectNode replyLp) {
        int[] prompt = reply.g.prompt();
        Engine.PromptLogprobs p = reply.promptLogprobs;
        if (p == null) throw new IllegalStateException("the engine reported no prompt log-probabilities for choice " + reply.index);
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens"), tlp = lp.putArray("token_logprobs"), top = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        int offset = 0;
        for (int i = 0; i < prompt.length; i++) {
            String t = reply.tokenText(prompt[i]);
            tokens.add(t);
            offsets.add(offset);
            offset += t.length();
            if (i == 0) { tlp.addNull(); top.addNull(); continue; }
            tlp.add(p.logprobs()[i]);
            ObjectNode alts = top.addObject();
            int k = Math.min(p.topIds()[i].length, reply.g.topLogprobs());        // prompt_logprobs may have asked for more
            for (int j = 0; j < k; j++) alts.put(reply.tokenText(p.topIds()[i][j]), p.topLogprobs()[i][j]);
        }
        for (String k : new String[] {"tokens", "token_logprobs", "top_logprobs"}) ((ArrayNode) lp.get(k)).addAll((ArrayNode) replyLp.get(k));
        for (JsonNode o : replyLp.get("text_offset")) offsets.add(o.asInt() + offset);
        return lp;
    }

    /**
     * What a piece of a chat reply adds: reasoning, content, and tool calls — streamed, as parts (a call's header, its
     * arguments' fragments); whole, as calls.
     */
    private record Piece(String reasoning, String content, List<ToolParser.Part> parts, List<ToolParser.Call> calls) {
        Piece(String reasoning, String content) { this(reasoning, content, List.of(), List.of()); }
        boolean isEmpty() { return reasoning.isEmpty() && content.isEmpty() && parts.isEmpty() && calls.isEmpty(); }
    }

    /** The reply so far: tokens, text (cut at a stop string, as OpenAI returns it) and logprobs. */
    private final class Reply {
        final Gen g;
        final int index;                             // the choice's index
        final boolean isChat;
        final ReasoningParser reasoning;             // null: the reply is not split
        final ToolParser tools;                      // null: calls are not read
        final boolean parallelToolCalls;
        final List<Integer> tokens = new ArrayList<>();
        final List<Engine.Token> events = new ArrayList<>();
        final StringBuilder reasoningSplit = new StringBuilder(), contentSplit = new StringBuilder(), toolInput = new StringBuilder();
        final List<ToolParser.Call> calls = new ArrayList<>();
        String sent = "";
        int held = -1;                               // the text length of the first min_tokens tokens, once they came
        Engine.PromptLogprobs promptLogprobs;        // the prompt's, where echo asked for them
        int idsSent;                                 // tokens whose ids a streamed chunk carried (return_token_ids)
        volatile int cachedTokens;                   // prompt tokens the engine took from the prefix cache (set on its thread)
        boolean chunked;                             // a streamed chunk of this choice was built
        boolean stopped;
        Object stopReason;                           // vLLM's stop_reason: the stop string or stop id that ended it, else null
        boolean cutAtStop;                           // a stop string ended it: its text is final
        long last;                                   // when its last token came (nanoTime)

        Reply(Gen g, int index, boolean isChat, ReasoningParser reasoning, ToolParser tools, boolean parallelToolCalls) {
            this.g = g; this.index = index; this.isChat = isChat; this.reasoning = reasoning; this.tools = tools;
            this.parallelToolCalls = parallelToolCalls;
        }

        /** Adds a token; returns the new text to send (held back while it may still become a stop string). */
        String add(Engine.Token t) {
            if (stopped) return null;
            events.add(t);
            if (g.options().stopIds().contains(t.id())) {      // eos or a stop_token_id: the end of the sequence, not text
                stopped = true;
                if (t.id() != tokenizerEosId()) stopReason = t.id();   // vLLM: null for the tokenizer's EOS, else the id
                if (g.includeStop()) tokens.add(t.id());             // include_stop_str_in_output: its text too (flush gives it)
                return "";
            }
            tokens.add(t.id());
            String full = tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray(), g.skipSpecial());
            int m = g.options().minNewTokens();
            if (held < 0 && tokens.size() >= m) {
                held = m == 0 ? 0 : tokenizer.decode(tokens.subList(0, m).stream().mapToInt(Integer::intValue).toArray(), g.skipSpecial()).length();
            }
            // min_tokens not reached: no stop string yet (vLLM); then one that ends past the first min_tokens' text
            String stop = held < 0 ? null : g.options().stopFound(full, held);
            int cut = stop == null ? -1 : g.options().firstStop(full, held);
            String visible = full;
            if (cut >= 0) {
                stopped = true;
                cutAtStop = true;
                stopReason = stop;
                visible = full.substring(0, g.includeStop() ? cut + stop.length() : cut);
            } else {
                int hold = 0;                                   // a suffix that begins a stop string waits
                for (String s : g.stops()) {
                    for (int k = Math.min(s.length() - 1, full.length()); k > 0; k--) {
                        if (full.endsWith(s.substring(0, k))) { hold = Math.max(hold, k); break; }
                    }
                }
                visible = full.substring(0, full.length() - hold);
                if (visible.endsWith("\uFFFD")) visible = sent;       // an incomplete UTF-8 sequence waits too
            }
            if (!visible.startsWith(sent)) return null;
            String delta = visible.substring(sent.length());
            sent = visible;
            return delta;
        }

        String text() { return sent; }

        /**
         * At the reply's end: the text held back while it might still have become a stop string (and a stop id's text with
         * include_stop_str_in_output), as vLLM's detokenizer releases its stop buffer when the sequence finishes; nothing
         * after a stop string cut the reply.
         */
        String flush() {
            if (cutAtStop) return "";
            String full = tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray(), g.skipSpecial());
            if (!full.startsWith(sent)) return "";
            String delta = full.substring(sent.length());
            sent = full;
            return delta;
        }

        /**
         * A piece of the chat reply's text as reasoning, content and tool calls: the reasoning parser's split (its
         * reasoning dropped where the request says include_reasoning: false, as vLLM does), or all content without one;
         * then the content through the tool parser, if the request reads calls.
         */
        Piece split(String text) {
            ReasoningParser.Delta d = reasoning == null ? new ReasoningParser.Delta("", text) : kept(reasoning.add(text));
            toolInput.append(d.content());
            return record(d, tools == null ? null : List.of(tools.add(d.content())));
        }

        /** What the parsers held back, released at the reply's end (nothing without a parser). */
        Piece finishSplit() {
            ReasoningParser.Delta d = reasoning == null ? new ReasoningParser.Delta("", "") : kept(reasoning.finish());
            toolInput.append(d.content());
            return record(d, tools == null ? null : List.of(tools.add(d.content()), tools.finish()));
        }

        /**
         * The whole reply split (after {@link #finishSplit}), as vLLM's non-streamed parsers give it: a call the stream had
         * to close by force makes none ({@link ToolParser#whole}).
         */
        Piece whole() {
            if (tools == null) return new Piece(reasoningSplit.toString(), contentSplit.toString(), List.of(), List.copyOf(calls));
            ToolParser.Whole w = tools.whole(toolInput.toString(), contentSplit.toString(), List.copyOf(calls));
            return new Piece(reasoningSplit.toString(), w.content(), List.of(), w.calls());
        }

        /**
         * The finish reason as vLLM gives it: "tool_calls" where the reply made calls, except for a named function (the
         * engine's reason, "stop" as OpenAI gives it) and for "required" cut by max_tokens ("length").
         */
        String finishReason(String reason) { return finishReason(reason, calls); }

        /** The same for a reply whose calls are {@code made}. */
        String finishReason(String reason, List<ToolParser.Call> made) {
            if (tools instanceof ToolParser.Forced f && (f.named != null || !reason.equals("stop"))) return reason;
            return made.isEmpty() ? reason : "tool_calls";
        }

        private ReasoningParser.Delta kept(ReasoningParser.Delta d) {
            return g.includeReasoning() ? d : new ReasoningParser.Delta("", d.content());
        }

        /**
         * The piece: {@code d}'s reasoning, and its content or, where calls are read, what the tool parser made of it
         * (without parallel_tool_calls, the first call's parts only); the calls so far take in its parts.
         */
        private Piece record(ReasoningParser.Delta d, List<ToolParser.Delta> read) {
            String content = d.content();
            List<ToolParser.Part> found = new ArrayList<>();
            if (read != null) {
                StringBuilder b = new StringBuilder();
                for (ToolParser.Delta t : read) {
                    b.append(t.content());
                    for (ToolParser.Part p : t.parts()) if (parallelToolCalls || p.index() == 0) found.add(p);
                }
                content = b.toString();
            }
            for (ToolParser.Part p : found) {
                if (p.header()) calls.add(new ToolParser.Call(p.id(), p.name(), p.arguments()));
                else {
                    ToolParser.Call c = calls.get(p.index());
                    calls.set(p.index(), new ToolParser.Call(c.id(), c.name(), c.arguments() + p.arguments()));
                }
            }
            Piece p = new Piece(d.reasoning(), content, found, List.of());
            reasoningSplit.append(p.reasoning());
            contentSplit.append(p.content());
            return p;
        }

        ObjectNode lastLogprobs() {
            if (g.topLogprobs() < 0 || events.isEmpty()) return null;
            return logprobs(events.subList(events.size() - 1, events.size()), 0);
        }

        ObjectNode allLogprobs() { return g.topLogprobs() < 0 ? null : logprobs(events, 0); }

        private ObjectNode logprobs(List<Engine.Token> ts, int offset) {
            ObjectNode lp = JSON.createObjectNode();
            if (isChat) {
                ArrayNode content = lp.putArray("content");
                for (Engine.Token t : ts) {
                    ObjectNode o = content.addObject();
                    String s = tokenText(t.id());
                    o.put("token", s);
                    o.put("logprob", t.logprob());
                    bytes(o, s);
                    ArrayNode top = o.putArray("top_logprobs");
                    for (int i = 0; i < t.topIds().length; i++) {
                        ObjectNode a = top.addObject();
                        String ts2 = tokenText(t.topIds()[i]);
                        a.put("token", ts2);
                        a.put("logprob", t.topLogprobs()[i]);
                        bytes(a, ts2);
                    }
                }
                lp.putNull("refusal");
                return lp;
            }
            ArrayNode tokensN = lp.putArray("tokens"), tlp = lp.putArray("token_logprobs"), top = lp.putArray("top_logprobs");
            ArrayNode offsets = lp.putArray("text_offset");
            int at = offset;
            for (Engine.Token t : ts) {
                String s = tokenText(t.id());
                tokensN.add(s);
                tlp.add(t.logprob());
                offsets.add(at);
                at += s.length();
                ObjectNode alts = top.addObject();
                for (int i = 0; i < t.topIds().length; i++) alts.put(tokenText(t.topIds()[i]), t.topLogprobs()[i]);
            }
            return lp;
        }

        private static void bytes(ObjectNode o, String s) {
            ArrayNode b = o.putArray("bytes");
            for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.add(x & 0xff);
        }

        void choice(ArrayNode choices, String text, ObjectNode logprobs, String finish) {
            choice(choices, new Piece("", text), logprobs, finish);
        }

        /**
         * A choice. Chat with a reasoning parser, as vLLM answers: a message's content and reasoning are null when empty; a
         * streamed delta holds only what it adds (reasoning under both names). Tool calls, as vLLM gives them: the message's
         * tool_calls (its content null when empty), or a delta's parts of calls, each with its call's index in the reply: a
         * header ({@code id}, {@code type}, {@code function.name}, {@code function.arguments: ""}), then fragments of the
         * arguments ({@code function.arguments} alone).
         */
        void choice(ArrayNode choices, Piece d, ObjectNode logprobs, String finish) {
            ObjectNode c = choices.addObject();
            c.put("index", index);
            if (isChat) {
                ObjectNode m = c.putObject(g.stream() ? "delta" : "message");
                if (!g.stream()) m.put("role", "assistant");
                if (reasoning == null && tools == null) {
                    m.put("content", d.content());
                } else {
                    String r = d.reasoning();
                    boolean nullable = (reasoning != null || !calls.isEmpty()) && !(tools instanceof ToolParser.Forced);   // vLLM: "" beside a forced call
                    if (!g.stream()) m.put("content", d.content().isEmpty() && nullable ? null : d.content());
                    else if (!d.content().isEmpty()) m.put("content", d.content());
                    if (reasoning != null && (!g.stream() || !r.isEmpty())) {
                        m.put("reasoning", r.isEmpty() ? null : r);
                        m.put("reasoning_content", r.isEmpty() ? null : r);
                    }
                }
                if (!d.calls().isEmpty()) {
                    ArrayNode tc = m.putArray("tool_calls");
                    for (ToolParser.Call call : d.calls()) {
                        ObjectNode o = tc.addObject();
                        o.put("id", call.id());
                        o.put("type", "function");
                        o.putObject("function").put("name", call.name()).put("arguments", call.arguments());
                    }
                }
                if (!d.parts().isEmpty()) {
                    ArrayNode tc = m.putArray("tool_calls");
                    for (ToolParser.Part part : d.parts()) {
                        ObjectNode o = tc.addObject();
                        o.put("index", part.index());
                        if (part.header()) {
                            o.put("id", part.id());
                            o.put("type", "function");
                            o.putObject("function").put("name", part.name()).put("arguments", part.arguments());
                        } else {
                            o.putObject("function").put("arguments", part.arguments());
                        }
                    }
                }
                if (!g.stream()) m.putNull("refusal");
            } else {
                c.put("text", d.content());
            }
            if (logprobs == null) c.putNull("logprobs");
            else c.set("logprobs", logprobs);
            if (finish == null) c.putNull("finish_reason");
            else c.put("finish_reason", finish);
            // vLLM's stop_reason: on every whole choice and completion chunk, on a chat chunk only where it finishes
            if (!g.stream() || !isChat || finish != null) {
                if (finish != null && stopReason instanceof Integer id) c.put("stop_reason", id);
                else if (finish != null && stopReason instanceof String str) c.put("stop_reason", str);
                else c.putNull("stop_reason");
            }
            if (g.returnTokenIds()) {
                // vLLM's return_token_ids: every sampled id (a stop id too); streamed, each chunk the ids since the last, and a
                // completion's first chunk its prompt's ids (a chat reply has them at the top)
                if (!isChat && (!g.stream() || !chunked)) c.set("prompt_token_ids", ids(g.prompt()));
                int from = g.stream() ? idsSent : 0;
                ArrayNode t = c.putArray("token_ids");
                for (int i = from; i < events.size(); i++) t.add(events.get(i).id());
                idsSent = events.size();
            }
            chunked = true;
        }

        /** A token's text in log-probabilities: decoded, or vLLM's "token_id:N" with return_tokens_as_token_ids. */
        String tokenText(int id) { return g.tokensAsIds() ? "token_id:" + id : tokenizer.decode(new int[] {id}); }
    }

    private static ArrayNode ids(int[] ids) {
        ArrayNode a = JSON.createArrayNode();
        for (int id : ids) a.add(id);
        return a;
    }

    // ---- /v1/embeddings -------------------------------------------------------------------------------

    private void embeddings(Context ctx, JsonNode b) {
        if (encoder == null) throw ApiError.bad("model", "model '" + name + "' is a decoder; embeddings need an encoder model");
        List<int[]> ids = tokenInputs(b.get("input"));     // OpenAI's token arrays, as vLLM takes them; null: text
        List<String> texts = ids == null ? strings(b, "input", 2048) : null;
        String format = b.path("encoding_format").asText("float");
        if (!format.equals("float") && !format.equals("base64")) throw ApiError.bad("encoding_format", "encoding_format must be float or base64");
        int total = ids == null ? tokens("input", texts) : tokenCount(ids);
        int dims = dimensions(b);                           // checked before the pass
        float[][] e = ids == null ? encoder.embed(texts) : encoder.embedIds(ids);   // one packed pass, pooled as the folder says
        if (dims > 0) e = truncated(e, dims, encoder.pooling.normalize());
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < e.length; i++) {
            ObjectNode d = data.addObject();
            d.put("object", "embedding");
            d.put("index", i);
            if (format.equals("float")) {
                ArrayNode v = d.putArray("embedding");
                for (float x : e[i]) v.add(x);
            } else {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4 * e[i].length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (float x : e[i]) buf.putFloat(x);
                d.put("embedding", java.util.Base64.getEncoder().encodeToString(buf.array()));
            }
        }
        root.put("model", name);
        ObjectNode u = root.putObject("usage");
        u.put("prompt_tokens", total);
        u.put("total_tokens", total);
        ctx.contentType("application/json").result(root.toString());
    }

    /**
     * OpenAI's {@code dimensions} as vLLM checks it: 0 when absent; refused in vLLM's words for a model that is not
     * Matryoshka ({@link #matryoshkaDimensions}), or for a size it does not list; at most the vectors' width.
     */
    private int dimensions(JsonNode b) {
        JsonNode v = b.get("dimensions");
        if (v == null || v.isNull()) return 0;
        List<Integer> allowed = matryoshka;
        if (allowed == null) {
            throw ApiError.bad("dimensions", "Model \"" + name + "\" does not support matryoshka representation, changing output dimensions"
                    + " will lead to poor results.");
        }
        if (!v.isInt() || v.asInt() < 1) throw ApiError.bad("dimensions", "dimensions must be greater than 0");
        int d = v.asInt(), width = encoder.pooling.dimension(encoder.model.config.modelWidth());
        if (!allowed.isEmpty() && !allowed.contains(d)) {
            throw ApiError.bad("dimensions", "Model \"" + name + "\" only supports " + allowed + " matryoshka dimensions, use other output"
                    + " dimensions will lead to poor results.");
        }
        if (d > width) throw ApiError.bad("dimensions", "dimensions (" + d + ") is larger than the model's embedding size (" + width + ")");
        return d;
    }

    /** Each vector's first {@code dims} entries, L2-normalized again where the pooling normalizes (vLLM cuts, then normalizes). */
    static float[][] truncated(float[][] e, int dims, boolean normalize) {
        float[][] out = new float[e.length][];
        for (int i = 0; i < e.length; i++) {
            out[i] = java.util.Arrays.copyOf(e[i], dims);
            if (!normalize) continue;
            double sum = 0;
            for (float x : out[i]) sum += (double) x * x;
            double norm = Math.max(Math.sqrt(sum), 1e-12);              // torch's F.normalize eps
            for (int j = 0; j < dims; j++) out[i][j] = (float) (out[i][j] / norm);
        }
        return out;
    }

    // ---- vLLM's /v1/rerank, /v1/score, /classify --------------------------------------------------------

    /** A string or a non-empty array of strings (at most {@code max}). */
    private static List<String> strings(JsonNode b, String key, int max) {
        JsonNode in = b.get(key);
        List<String> out = new ArrayList<>();
        if (in != null && in.isTextual()) {
            out.add(in.asText());
        } else if (in != null && in.isArray() && !in.isEmpty()) {
            for (JsonNode s : in) {
                if (!s.isTextual()) throw ApiError.bad(key, key + " must be a string or an array of strings");
                out.add(s.asText());
            }
        } else {
            throw ApiError.bad(key, key + " must be a string or a non-empty array of strings");
        }
        if (out.size() > max) throw ApiError.bad(key, "at most " + max + " inputs per request, got " + out.size());
        return out;
    }

    /**
     * {@code input} as OpenAI's token arrays: one array of token ids, or a non-empty array of them (at most 2048); null
     * where it is text (a string or strings), for {@link #strings}.
     */
    private static List<int[]> tokenInputs(JsonNode in) {
        if (in == null || !in.isArray() || in.isEmpty()) return null;
        if (in.get(0).isIntegralNumber()) return List.of(tokenIds(in, "input"));
        if (!in.get(0).isArray()) return null;
        if (in.size() > 2048) throw ApiError.bad("input", "at most 2048 inputs per request, got " + in.size());
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            JsonNode x = in.get(i);
            if (!x.isArray() || x.isEmpty()) throw ApiError.bad("input", "input[" + i + "] is not a non-empty array of token ids");
            out.add(tokenIds(x, "input[" + i + "]"));
        }
        return out;
    }

    /** Token inputs' count, each within the prompt limit. */
    private int tokenCount(List<int[]> ids) {
        int total = 0;
        for (int[] x : ids) {
            if (x.length > limits.maxPromptTokens()) throw ApiError.bad("input", "an input has " + x.length + " tokens; this server allows " + limits.maxPromptTokens());
            total += x.length;
        }
        return total;
    }

    /** The texts' token count, each within the prompt limit. */
    private int tokens(String key, List<String> texts) {
        int total = 0;
        for (String t : texts) {
            int n = tokenizer.encode(t).length;
            if (n > limits.maxPromptTokens()) throw ApiError.bad(key, "an input has " + n + " tokens; this server allows " + limits.maxPromptTokens());
            total += n;
        }
        return total;
    }

    private TextEncoder pairModel(String endpoint) {
        if (encoder == null && (reranker == null || endpoint.equals("classify"))) {
            throw ApiError.bad("model", "model '" + name + "' is a decoder; " + endpoint + " needs an encoder model"
                    + (reranker == null ? "" : " (this one reranks: /v1/rerank, /v1/score)"));
        }
        return encoder;
    }

    /** The classifier's labels, or 0 without a classifier head (an embedding model). */
    private int labels() {
        if (encoder == null) return 0;
        var head = encoder.model.weights.classifierHead;
        return head == null || head.classifier() == null ? 0 : (int) head.classifier().shape(0);
    }

    /**
     * Scores of (first[i], second[i]): a one-label cross-encoder's logit through the score activation, or without a
     * classifier the cosine of the two texts' embeddings; a classifier of several labels is refused (use /classify).
     */
    private double[] pairScores(String endpoint, List<String> first, List<String> second, String instruction) {
        TextEncoder enc = pairModel(endpoint);
        if (reranker != null) {                              // P(yes), one packed pass per distinct query, in its pairs' order
            double[] out = new double[first.size()];
            java.util.Map<String, List<Integer>> byQuery = new java.util.LinkedHashMap<>();
            for (int i = 0; i < first.size(); i++) byQuery.computeIfAbsent(first.get(i), k -> new ArrayList<>()).add(i);
            for (var e : byQuery.entrySet()) {
                List<String> docs = new ArrayList<>();
                for (int i : e.getValue()) docs.add(second.get(i));
                double[] sc = reranker.scores(e.getKey(), docs, instruction);
                for (int k = 0; k < sc.length; k++) out[e.getValue().get(k)] = sc[k];
            }
            return out;
        }
        int n = labels();
        double[] out = new double[first.size()];
        if (n == 0) {
            List<String> all = new ArrayList<>(first);
            all.addAll(second);
            float[][] e = enc.embed(all);
            for (int i = 0; i < out.length; i++) out[i] = cosine(e[i], e[first.size() + i]);
            return out;
        }
        if (n != 1) {
            throw ApiError.bad("model", "model '" + name + "' classifies into " + n + " labels; " + endpoint
                    + " needs a one-label cross-encoder or an embedding model (use /classify)");
        }
        List<List<TextEncoder.Label>> l = enc.classifyPairs(first, second);
        for (int i = 0; i < out.length; i++) out[i] = scoreActivation.applyAsDouble(l.get(i).get(0).logit());
        return out;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    /** A decoder reranker's instruction from the request (an extension of vLLM's fields), or null: its default. */
    private String instruction(JsonNode b) {
        JsonNode in = b.get("instruction");
        if (in == null || in.isNull()) return null;
        if (reranker == null) throw ApiError.bad("instruction", "instruction is for a decoder reranker; model '" + name + "' is not one");
        if (!in.isTextual()) throw ApiError.bad("instruction", "instruction must be a string");
        return in.asText();
    }

    /** vLLM's rerank (Jina's and Cohere's shape): {query, documents, top_n, return_documents} → results by score. */
    private void rerank(Context ctx, JsonNode b) {
        pairModel("rerank");
        JsonNode q = b.get("query");
        if (q == null || !q.isTextual()) throw ApiError.bad("query", "query must be a string");
        List<String> docs = strings(b, "documents", 1024);
        int topN = intField(b, "top_n", docs.size());
        if (topN < 1) throw ApiError.bad("top_n", "top_n must be ≥ 1, got " + topN);
        JsonNode rd = b.get("return_documents");
        if (rd != null && !rd.isNull() && !rd.isBoolean()) throw ApiError.bad("return_documents", "return_documents must be a boolean");
        boolean returnDocs = rd == null || rd.isNull() || rd.asBoolean();
        List<String> queries = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) queries.add(q.asText());
        int total = tokens("query", List.of(q.asText())) * docs.size() + tokens("documents", docs);
        double[] scores = pairScores("rerank", queries, docs, instruction(b));
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(scores[y], scores[x]));
        ObjectNode root = JSON.createObjectNode();
        root.put("id", "rerank-" + UUID.randomUUID());
        root.put("model", name);
        root.putObject("usage").put("total_tokens", total);
        ArrayNode results = root.putArray("results");
        for (int k = 0; k < Math.min(topN, order.length); k++) {
            ObjectNode r = results.addObject();
            r.put("index", order[k]);
            if (returnDocs) r.putObject("document").put("text", docs.get(order[k]));
            r.put("relevance_score", scores[order[k]]);
        }
        ctx.contentType("application/json").result(root.toString());
    }

    /** vLLM's list reply: {id: "kind-…", object: "list", created, model}, its data to follow. */
    private ObjectNode listOf(String kind) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", kind + "-" + UUID.randomUUID());
        root.put("object", "list");
        root.put("created", System.currentTimeMillis() / 1000);
        root.put("model", name);
        return root;
    }

    /** vLLM's score: text_1 (a string, or a list) against text_2 (a string, or a list as long) → one score per pair. */
    private void score(Context ctx, JsonNode b) {
        pairModel("score");
        List<String> a = strings(b, "text_1", 1024), c = strings(b, "text_2", 1024);
        if (a.size() == 1 && c.size() > 1) a = java.util.Collections.nCopies(c.size(), a.get(0));
        if (a.size() != c.size()) {
            throw ApiError.bad("text_2", "text_1 has " + a.size() + " texts and text_2 " + c.size() + "; give one text_1, or as many as text_2");
        }
        int total = tokens("text_1", a) + tokens("text_2", c);
        double[] s = pairScores("score", a, c, instruction(b));
        ObjectNode root = listOf("score");
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < s.length; i++) data.addObject().put("index", i).put("object", "score").put("score", s[i]);
        root.putObject("usage").put("prompt_tokens", total).put("total_tokens", total);
        ctx.contentType("application/json").result(root.toString());
    }

    /** vLLM's classify: each input's label (the most probable), its probabilities in label order and num_classes. */
    private void classify(Context ctx, JsonNode b) {
        TextEncoder enc = pairModel("classify");
        if (labels() == 0) throw ApiError.bad("model", "model '" + name + "' has no classifier head; classify needs one");
        List<String> texts = strings(b, "input", 2048);
        int total = tokens("input", texts);
        List<List<TextEncoder.Label>> got = enc.classify(texts);
        ObjectNode root = listOf("classify");
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < got.size(); i++) {
            List<TextEncoder.Label> l = got.get(i);
            double[] probs = new double[l.size()];
            for (TextEncoder.Label x : l) probs[x.id()] = x.probability();
            ObjectNode d = data.addObject();
            d.put("index", i);
            d.put("label", l.get(0).label());
            ArrayNode p = d.putArray("probs");
            for (double x : probs) p.add(x);
            d.put("num_classes", probs.length);
        }
        root.putObject("usage").put("prompt_tokens", total).put("total_tokens", total);
        ctx.contentType("application/json").result(root.toString());
    }

    // ---- fields ---------------------------------------------------------------------------------------

    /**
     * vLLM's bad_words (SamplingParams.update_from_tokenizer): each word, left-stripped, is tokenized without special
     * tokens, and again after a space, the second kept only where its first id differs from the first's and it has
     * as many ids; during generation a sequence's last id is banned when the new tokens end with the rest (see
     * {@link org.transformer4j.model.TokenRules#outputBadWordsIds()}). An id past the vocabulary is refused, as vLLM's
     * check does; a blank word too (vLLM fails on it).
     */
    private java.util.List<java.util.List<Integer>> badWords(JsonNode v, int vocab) {
        if (v == null || v.isNull()) return java.util.List.of();
        if (!v.isArray()) throw ApiError.bad("bad_words", "bad_words must be an array of strings, got " + v);
        java.util.List<String> words = new java.util.ArrayList<>();
        for (JsonNode w : v) {
            if (!w.isTextual()) throw ApiError.bad("bad_words", "bad_words must be an array of strings, got " + w);
            words.add(w.asText());
        }
        java.util.List<java.util.List<Integer>> out;
        try {
            out = org.transformer4j.model.TokenRules.badWordsOf(tokenizer, words);
        } catch (IllegalArgumentException e) {
            throw ApiError.bad("bad_words", e.getMessage());
        }
        java.util.List<Integer> invalid = new java.util.ArrayList<>();
        for (java.util.List<Integer> w : out) for (int id : w) if (id < 0 || id >= vocab) invalid.add(id);
        if (!invalid.isEmpty()) {
            throw ApiError.bad("bad_words", "The model vocabulary size is " + vocab + ", but the following tokens were specified as bad_words: "
                    + invalid + ". All token id values should be integers satisfying: 0 <= token_id < " + vocab + ".");
        }
        return out;
    }

    /**
     * vLLM's allowed_token_ids: null for every id; an empty list or an id outside [0, vocab) is refused with vLLM's
     * words ("allowed_token_ids is not None and empty!", "allowed_token_ids contains out-of-vocab token id!").
     */
    private static Set<Integer> allowedTokenIds(JsonNode v, int vocab) {
        if (v == null || v.isNull()) return null;
        if (!v.isArray()) throw ApiError.bad("allowed_token_ids", "allowed_token_ids must be an array of token ids, got " + v);
        if (v.isEmpty()) throw ApiError.bad("allowed_token_ids", "allowed_token_ids is not None and empty!");
        Set<Integer> out = new LinkedHashSet<>();
        java.util.List<String> invalid = new java.util.ArrayList<>();
        for (JsonNode id : v) {
            if (!id.isIntegralNumber()) throw ApiError.bad("allowed_token_ids", "allowed_token_ids must hold integers, got " + id);
            if (!id.canConvertToInt() || id.asInt() < 0 || id.asInt() >= vocab) invalid.add(id.asText());
            else out.add(id.asInt());
        }
        if (!invalid.isEmpty()) {
            throw ApiError.bad("allowed_token_ids", "allowed_token_ids contains out-of-vocab token id! " + invalid + " (vocabulary size " + vocab + ")");
        }
        return out;
    }

    /**
     * OpenAI's logit_bias: an object from token ids (as strings) to a bias in [−100, 100] added to that token's logit.
     * vLLM clamps a bias outside that range; this server refuses it, as OpenAI's API does.
     */
    private static java.util.Map<Integer, Float> logitBias(JsonNode v, int vocab) {
        if (v == null || v.isNull()) return java.util.Map.of();
        if (!v.isObject()) throw ApiError.bad("logit_bias", "logit_bias must be an object of token ids to numbers, got " + v);
        java.util.Map<Integer, Float> out = new java.util.HashMap<>();
        for (var it = v.fields(); it.hasNext(); ) {
            var e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException x) {
                throw ApiError.bad("logit_bias", "logit_bias key '" + e.getKey() + "' is not a token id");
            }
            if (id < 0 || id >= vocab) throw ApiError.bad("logit_bias", "logit_bias token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            if (!e.getValue().isNumber() || !(e.getValue().asDouble() >= -100 && e.getValue().asDouble() <= 100)) {
                throw ApiError.bad("logit_bias", "logit_bias of token " + id + " must be a number in [-100, 100], got " + e.getValue());
            }
            out.put(id, (float) e.getValue().asDouble());
        }
        return out;
    }

    private static int intField(JsonNode b, String key, int dflt) {
        JsonNode v = b.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw ApiError.bad(key, key + " must be an integer, got " + v);
        return v.asInt();
    }

    private static long longField(JsonNode b, String key) {
        JsonNode v = b.get(key);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiError.bad(key, key + " must be an integer, got " + v);
        return v.asLong();
    }

    private static double numField(JsonNode b, String key, double dflt) {
        JsonNode v = b.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw ApiError.bad(key, key + " must be a number, got " + v);
        return v.asDouble();
    }
}
