// ServeCommand — `t4j serve`: the OpenAI-compatible server (server module) over one model: a decoder
// folder through the continuous-batching engine, or an encoder (an encoder folder, a sentence-transformers
// folder, or minilm) for /v1/embeddings and, with a classifier head, /v1/rerank, /v1/score and /classify.
// Runs until interrupted.
package org.transformer4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.transformer4j.model.GenerationConfig;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.chat.ChatTemplate;
import org.transformer4j.model.chat.Message;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.onnx.BertOnnxImporter;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.TokenizerConfig;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.server.OpenAiServer;
import org.transformer4j.server.ReasoningParser;
import org.transformer4j.server.ToolParser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over an OpenAI-compatible HTTP API: /v1/models, /v1/completions, /v1/chat/completions "
                + "(models with a chat template), /v1/embeddings (encoders and sentence-transformers folders, pooled as the folder says),"
                + " /v1/rerank, /v1/score and /classify (vLLM's; cross-encoders and classifiers), /health, /metrics. Decoders run through a "
                + "continuous-batching engine on a paged KV cache. Stops on Ctrl-C."},
        footer = {"", "Exit codes: 0 stopped, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR|minilm", description = "Model folder, or the built-in encoder minilm.")
    String model;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0: any free port).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--name", description = "Model name clients ask for (default: the folder's name, or minilm).")
    String name;

    @Option(names = "--kv-memory-mb", defaultValue = "1024", description = "KV-cache memory for the engine in MiB (default: ${DEFAULT-VALUE}).")
    long kvMemoryMb;

    @Option(names = "--max-running", defaultValue = "64", description = "Sequences decoded together at most (default: ${DEFAULT-VALUE}).")
    int maxRunning;

    @Option(names = "--max-waiting", defaultValue = "256", description = "Requests queued at most; more get HTTP 429 (default: ${DEFAULT-VALUE}).")
    int maxWaiting;

    @Option(names = "--timeout-s", defaultValue = "300", description = "Seconds a request may take (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--reranker", paramLabel = "qwen3", description = "Serve a decoder folder as a yes/no reranker with this prompt"
            + " format (qwen3: Qwen3-Reranker's) on /v1/rerank and /v1/score, instead of generating.")
    String reranker;

    @Option(names = "--reasoning-parser", paramLabel = "NAME", description = "Split chat replies into reasoning (the message's"
            + " reasoning and reasoning_content) and content, as vLLM's option of this name does: qwen3, deepseek_r1 (<think> tags),"
            + " gpt_oss or openai_gptoss (harmony channels), none. Default: gpt_oss for a gpt-oss folder (model_type gpt_oss), else none.")
    String reasoningParser;

    @Option(names = "--enable-auto-tool-choice", description = "Read tool calls out of chat replies when a request has tools and"
            + " tool_choice \"auto\" (the default with tools), as vLLM's option of this name does; needs --tool-call-parser. Without it"
            + " such requests get HTTP 400, as in vLLM. tool_choice \"required\" and named functions need neither option: they are forced"
            + " with guided decoding, as in vLLM.")
    boolean enableAutoToolChoice;

    @Option(names = "--tool-call-parser", paramLabel = "NAME", description = "How tool calls are read, as vLLM's option of this name:"
            + " hermes (Qwen2.5, Qwen3, Hermes: <tool_call> JSON), llama3_json or llama4_json (Llama 3.1/3.2 JSON, maybe after"
            + " <|python_tag|>), mistral ([TOOL_CALLS]), openai (gpt-oss harmony messages to functions.NAME; needs the gpt_oss"
            + " reasoning parser, the default for a gpt-oss folder).")
    String toolCallParser;

    @Option(names = "--cache-generated", negatable = true, description = "Keep full blocks of generated tokens in the prefix cache, so"
            + " that the next turn of a chat takes the previous reply's K/V instead of computing it (vLLM's automatic prefix caching)."
            + " Default: on for CUDA; off on the CPU, where it makes such a request's tokens equal a solo run's up to float rounding"
            + " instead of bit for bit.")
    Boolean cacheGenerated;

    @Option(names = "--speculative-config", paramLabel = "JSON", description = "N-gram speculative decoding of greedy requests, as vLLM's"
            + " option of this name: {\"method\": \"ngram\", \"num_speculative_tokens\": K, \"prompt_lookup_max\": N, \"prompt_lookup_min\": M,"
            + " \"disable_by_batch_size\": B} (lookup sizes default to 5, or to each other; speculation while at most B sequences run,"
            + " default 2: a verify pass is a sequence's own). Draft models are not supported.")
    String speculativeConfig;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16", description = "The dtype the model computes in (default: ${DEFAULT-VALUE}).")
    String dtype;

    /** Counted down once the server listens ({@link #boundPort} set); counting {@link #stop} down stops it (tests). */
    final CountDownLatch started = new CountDownLatch(1), stop = new CountDownLatch(1);
    volatile int boundPort = -1;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        if (kvMemoryMb < 1 || kvMemoryMb > (Long.MAX_VALUE >> 20)) throw new IllegalArgumentException("--kv-memory-mb must be ≥ 1, got " + kvMemoryMb);
        if (timeoutSeconds < 1) throw new IllegalArgumentException("--timeout-s must be ≥ 1, got " + timeoutSeconds);
        Engine.Speculation spec = speculativeConfig == null ? null : speculation(speculativeConfig);   // refused before the model loads
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        if (reasoningParser != null && !reasoningParser.equals("none")) ReasoningParser.named(reasoningParser);   // a bad name fails before loading
        ToolParser.Kind tools = toolCallParser == null ? null : ToolParser.named(toolCallParser);                  // so does this one
        if (enableAutoToolChoice && tools == null) {
            throw new IllegalArgumentException("--enable-auto-tool-choice needs --tool-call-parser (" + String.join(", ", ToolParser.NAMES) + ")");
        }
        OpenAiServer.Limits limits = new OpenAiServer.Limits(4096, 4096, Duration.ofSeconds(timeoutSeconds), 1);
        try (Backend backend = Backends.select()) {
            if (EmbedCommand.BUILT_IN.contains(model)) {
                Path dir = Files.createTempDirectory("t4j-minilm");
                Path onnx = dir.resolve(DemoModels.ONNX), tokFile = dir.resolve(DemoModels.TOKENIZER);
                try {
                    DemoModels.copyResource(DemoModels.ONNX, onnx);
                    DemoModels.copyResource(DemoModels.TOKENIZER, tokFile);
                    try (BertOnnxImporter.Result imported = BertOnnxImporter.importFile(onnx);
                         HfTokenizer tok = HfTokenizer.load(tokFile);
                         Weights w = Weights.fromHfBert(DemoModels.miniLmConfig(), imported.weights(), backend, dt)) {
                        return serve(OpenAiServer.encoder(name == null ? model : name, new Transformer(w, backend), tok, limits));
                    }
                } finally {
                    Files.deleteIfExists(onnx);
                    Files.deleteIfExists(tokFile);
                    Files.deleteIfExists(dir);
                }
            }
            Path dir = Path.of(model);
            String served = name == null ? dir.toAbsolutePath().normalize().getFileName().toString() : name;
            if (SentencePooling.isSentenceTransformers(dir)) {
                // an embedding model (BERT-family or decoder-only, e.g. Qwen3-Embedding): its Transformer module without
                // heads, pooled as its Pooling / Dense / Normalize modules say
                SentencePooling pooling = SentencePooling.read(dir);
                try (Tokenizer tok = Tokenizers.forModel(pooling.tokenizerDir(dir)); Weights w = Pretrained.loadEncoder(pooling.modelDir(), backend, dt)) {
                    TextEncoder enc = new TextEncoder(new Transformer(w, backend), tok, pooling);
                    System.err.println("t4j serve: embeddings " + pooling.describe());
                    return serve(OpenAiServer.encoder(served, enc, limits, OpenAiServer.SIGMOID));
                }
            }
            ModelInputs.checkModelFolder(dir);
            ReasoningParser.Kind parser = reasoningParser(dir);
            if (tools != null && tools.name().equals("openai") && (parser == null || !parser.name().equals("gpt_oss"))) {
                throw new IllegalArgumentException("--tool-call-parser openai reads harmony messages: it needs --reasoning-parser gpt_oss"
                        + " (the default for a gpt-oss folder)");
            }
            if (reranker != null && !reranker.equals("qwen3")) {
                throw new IllegalArgumentException("--reranker " + reranker + ": the prompt formats are: qwen3");
            }
            try (Tokenizer tok = Tokenizers.forModel(dir); Weights w = Pretrained.load(dir, backend, dt)) {
                Transformer m = new Transformer(w, backend);
                if (reranker != null) {
                    if (w.config.architecture() != TransformerConfig.Architecture.DECODER_ONLY) {
                        throw new IllegalArgumentException("--reranker needs a decoder-only folder; " + dir + " holds a "
                                + w.config.architecture() + " model");
                    }
                    return serve(OpenAiServer.reranker(served, org.transformer4j.model.DecoderReranker.qwen3(m, tok), tok, limits));
                }
                if (w.config.architecture() == TransformerConfig.Architecture.ENCODER_ONLY) {
                    TextEncoder enc = new TextEncoder(m, tok, SentencePooling.meanNormalized(dir));
                    return serve(OpenAiServer.encoder(served, enc, limits, TextEncoder.crossEncoderActivation(dir)));
                }
                Engine.Config c = Engine.Config.defaults(m).kvBudget(kvMemoryMb << 20).limits(maxRunning, maxWaiting);
                if (cacheGenerated != null) c = c.cacheGenerated(cacheGenerated);
                if (spec != null) c = c.speculative(spec);
                try (Engine engine = new Engine(m, c)) {
                    if (parser != null) System.err.println("t4j serve: reasoning parser " + parser.name());
                    if (tools != null) {
                        System.err.println("t4j serve: tool-call parser " + tools.name() + (enableAutoToolChoice ? ""
                                : ", unused without --enable-auto-tool-choice (requests with tools and tool_choice \"auto\" get 400)"));
                    }
                    return serve(OpenAiServer.decoder(served, engine, tok, chatTemplate(dir, tok), limits,
                            ChatCommand.eosIds(GenerationConfig.readIfPresent(dir), TokenizerConfig.readIfPresent(dir), tok))
                            .reasoningParser(parser).toolCallParser(enableAutoToolChoice ? tools : null)
                            .samplingDefaults(OpenAiServer.SamplingDefaults.of(GenerationConfig.readIfPresent(dir)))
                            .tokenizerInfo(tokenizerInfo(dir)));
                }
            }
        }
    }

    /**
     * The parser --reasoning-parser names (null for none); by default gpt_oss for a gpt-oss folder, whose replies are always
     * harmony channels (vLLM splits gpt-oss replies so without being asked), and none for others: a Qwen3 folder may be
     * an instruct model that never thinks, whose replies the qwen3 parser would take for unfinished reasoning.
     */
    ReasoningParser.Kind reasoningParser(Path dir) throws java.io.IOException {
        if (reasoningParser != null) return reasoningParser.equals("none") ? null : ReasoningParser.named(reasoningParser);
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) return null;
        return "gpt_oss".equals(org.transformer4j.model.weights.HfConfig.read(config).string("model_type", null))
                ? ReasoningParser.named("gpt_oss") : null;
    }

    /**
     * The folder's chat template (tokenizer_config.json or chat_template.jinja) as the server's hook, or null
     * (HTTP 400 on /v1/chat/completions). The render carries its own BOS, as apply_chat_template's does, so it
     * is encoded without adding special tokens; a template that rejects a conversation throws
     * ChatTemplateException, an IllegalArgumentException, which the server answers with 400.
     */
    static org.transformer4j.server.ChatTemplate chatTemplate(Path dir, Tokenizer tok) throws java.io.IOException {
        ChatTemplate template = TokenizerConfig.readIfPresent(dir).flatMap(TokenizerConfig::template).orElse(null);
        if (template == null) return null;
        return (messages, kwargs) -> {
            java.util.Map<String, Object> vars = new java.util.HashMap<>(kwargs);
            vars.remove(org.transformer4j.server.ChatTemplate.ADD_GENERATION_PROMPT);   // the request's field, passed as the argument
            return tok.encode(template.render(messages.stream().map(msg -> new Message(msg.role(), msg.content(), msg.fields())).toList(),
                    org.transformer4j.server.ChatTemplate.addGenerationPrompt(kwargs), vars), false);
        };
    }

    /** {@code --speculative-config}'s JSON as vLLM reads it for the ngram method; anything else is refused by name. */
    static Engine.Speculation speculation(String json) {
        com.fasterxml.jackson.databind.JsonNode c;
        try {
            c = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("--speculative-config is not valid JSON: " + e.getMessage());
        }
        if (c == null || !c.isObject()) throw new IllegalArgumentException("--speculative-config must be a JSON object");
        java.util.Set<String> known = java.util.Set.of("method", "model", "num_speculative_tokens", "prompt_lookup_min", "prompt_lookup_max",
                "disable_by_batch_size");
        c.fieldNames().forEachRemaining(k -> {
            if (!known.contains(k)) throw new IllegalArgumentException("--speculative-config: '" + k + "' is not supported (known: " + new java.util.TreeSet<>(known) + ")");
        });
        String method = c.path("method").asText(c.path("model").asText(""));
        if (!method.equals("ngram") && !method.equals("[ngram]")) {
            throw new IllegalArgumentException("--speculative-config: method '" + method + "' is not supported; only ngram (prompt lookup) is");
        }
        if (!c.path("num_speculative_tokens").canConvertToInt() || !c.path("num_speculative_tokens").isIntegralNumber()) {
            throw new IllegalArgumentException("--speculative-config needs num_speculative_tokens (an integer ≥ 1)");
        }
        Engine.Speculation sp = Engine.Speculation.ngram(c.get("num_speculative_tokens").asInt(), intOrNull(c, "prompt_lookup_min"),
                intOrNull(c, "prompt_lookup_max"));
        Integer batch = intOrNull(c, "disable_by_batch_size");
        return batch == null ? sp : sp.maxRunning(batch);
    }

    private static Integer intOrNull(com.fasterxml.jackson.databind.JsonNode c, String key) {
        com.fasterxml.jackson.databind.JsonNode v = c.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException("--speculative-config: " + key + " must be an integer, got " + v);
        return v.asInt();
    }

    /**
     * GET /tokenizer_info's answer for a folder, as vLLM builds it from the tokenizer's configuration: tokenizer_config.json's
     * fields (its added_tokens_decoder left out), special tokens written as {"content": …} objects given as their text, and
     * the chat template (from tokenizer_config.json or chat_template.jinja); null without tokenizer_config.json.
     */
    static java.util.Map<String, Object> tokenizerInfo(Path dir) throws java.io.IOException {
        Path f = dir.resolve("tokenizer_config.json");
        if (!java.nio.file.Files.isRegularFile(f)) return null;
        com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode cfg = m.readTree(f.toFile());
        if (cfg == null || !cfg.isObject()) throw new IllegalArgumentException(f + " is not a JSON object");
        java.util.Map<String, Object> info = new java.util.LinkedHashMap<>();
        cfg.fields().forEachRemaining(e -> {
            if (e.getKey().equals("added_tokens_decoder")) return;
            com.fasterxml.jackson.databind.JsonNode v = e.getValue();
            if (e.getKey().endsWith("_token") && v.isObject() && v.path("content").isTextual()) v = v.get("content");
            info.put(e.getKey(), m.convertValue(v, Object.class));
        });
        if (!info.containsKey("chat_template")) {
            TokenizerConfig.readIfPresent(dir).flatMap(TokenizerConfig::template).ifPresent(t -> info.put("chat_template", t.source()));
        }
        return info;
    }

    private int serve(OpenAiServer server) throws InterruptedException {
        try (server) {
            int bound = server.start(host, port);
            System.err.println("t4j serve: listening on http://" + host + ":" + bound + "/v1 (Ctrl-C stops)");
            Thread hook = new Thread(stop::countDown);
            Runtime.getRuntime().addShutdownHook(hook);
            boundPort = bound;
            started.countDown();
            stop.await();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting: the hook is what stopped us
            }
        }
        return 0;
    }
}
