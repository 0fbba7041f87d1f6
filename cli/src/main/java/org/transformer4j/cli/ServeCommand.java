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
import org.transformer4j.model.LoraSlots;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.chat.ChatTemplate;
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
import picocli.CommandLine.Mixin;
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

    @Option(names = {"--served-model-name", "--name"}, arity = "1..*", paramLabel = "NAME", description = "Model name(s) clients ask"
            + " for, as vLLM's --served-model-name: a request may name any; replies and /v1/models give the first first (default: the"
            + " folder's name, or minilm).")
    java.util.List<String> names;

    @Option(names = "--max-model-len", paramLabel = "N", description = "Context length: a prompt plus its new tokens at most, as vLLM's"
            + " option (1000, 8k = 8000, 8K = 8192; auto or -1: the default). Default: the model's positions (with RoPE scaling's"
            + " extension) or what --kv-memory-mb holds for one sequence, whichever is less.")
    String maxModelLen;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require Authorization: Bearer KEY on every endpoint but /health,"
            + " /ping, /version and /metrics (repeat it for several keys), as vLLM's option; the environment variable T4J_API_KEY"
            + " adds one (keeps it out of the process list).")
    java.util.List<String> apiKeys;

    @Option(names = "--allowed-origins", paramLabel = "JSON", description = "Origins whose web pages may call the server (CORS), a JSON"
            + " list as vLLM's option: '[\"https://app.example\"]', '[\"*\"]' for any. Default: none (vLLM's default is any).")
    String allowedOrigins;

    @Option(names = "--allow-credentials", description = "Let those pages send cookies and Authorization (CORS credentials), as vLLM's option.")
    boolean allowCredentials;

    @Option(names = "--chat-template", paramLabel = "FILE|TEMPLATE", description = "The chat template to use instead of the folder's"
            + " (or for a folder without one), as vLLM's option: a file, or the Jinja template itself (text with {, } or a newline).")
    String chatTemplate;

    @Option(names = "--shutdown-timeout", defaultValue = "0", paramLabel = "SECONDS", description = "On SIGTERM or Ctrl-C, refuse new"
            + " requests (HTTP 503; /health 503) and wait up to this long for those in flight to finish, as vLLM's option"
            + " (default: ${DEFAULT-VALUE}: cut them at once). Give Kubernetes' terminationGracePeriodSeconds more than this.")
    int shutdownTimeout;

    @Option(names = {"--disable-access-log", "--disable-uvicorn-access-log"}, description = "No line per request on standard error"
            + " (client, method, path, status, milliseconds; never the body), as vLLM's option.")
    boolean disableAccessLog;

    @Option(names = "--disable-log-stats", description = "No engine statistics line every 10 s while it works (prompt and generation"
            + " tokens/s, running and waiting requests, KV blocks in use, prefix-cache hits), as vLLM's option.")
    boolean disableLogStats;

    /** Where the access log and the statistics lines go, and how often the latter come (tests change them). */
    java.util.function.Consumer<String> log = System.err::println;
    Duration statsInterval = Duration.ofSeconds(10);

    @Option(names = "--generation-config", defaultValue = "auto", paramLabel = "auto|vllm|DIR", description = "Where requests' sampling"
            + " defaults come from, as vLLM's option: auto, the model folder's generation_config.json (default); vllm, none (temperature 1,"
            + " no top-k, top-p 1, min-p 0, no repetition penalty); or another folder's generation_config.json.")
    String generationConfig;

    @Option(names = "--override-generation-config", paramLabel = "JSON", description = "Sampling defaults set over those, as vLLM's"
            + " option: {\"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95, \"min_p\": 0, \"repetition_penalty\": 1.05} (any of them).")
    String overrideGenerationConfig;

    @Mixin
    LoraOption lora = new LoraOption();

    @Option(names = "--lora-modules", arity = "1..*", paramLabel = "NAME=DIR", description = "PEFT LoRA adapters served beside the"
            + " unmerged base model, as vLLM's --enable-lora --lora-modules: a request whose \"model\" is NAME runs through adapter DIR,"
            + " others through the base; one batch mixes them. Llama-style families (llama, mistral, qwen2, qwen3, gemma, granite, …).")
    java.util.List<String> loraModules;

    @Option(names = "--allow-runtime-lora-updating", description = "Serve vLLM's /v1/load_lora_adapter and /v1/unload_lora_adapter"
            + " (also on with the environment variable VLLM_ALLOW_RUNTIME_LORA_UPDATING=true, as vLLM): adapters loaded into and"
            + " freed from --max-loras slots while serving, each of rank ≤ --max-lora-rank.")
    boolean allowRuntimeLora;

    @Option(names = "--max-loras", paramLabel = "N", description = "LoRA slots on the device: the most adapters one batch runs (default:"
            + " the number of --lora-modules, at least 1). More adapters than slots are swapped in as requests need them. With runtime"
            + " updating every slot holds every projection at --max-lora-rank.")
    Integer maxLoras;

    @Option(names = "--max-cpu-loras", paramLabel = "N", description = "Parsed LoRA adapters kept in host memory (default: --max-loras, as"
            + " vLLM's); the others are read again from their folders when swapped into a slot. At least --max-loras.")
    Integer maxCpuLoras;

    @Option(names = "--max-lora-rank", paramLabel = "R", description = "The largest adapter rank the slots hold with runtime updating"
            + " (default: 16, as vLLM's).")
    int maxLoraRank = 16;

    @Option(names = "--max-num-batched-tokens", paramLabel = "N", description = "Tokens one engine step computes at most (prefill chunks"
            + " and decode rows together), as vLLM's option. Default: 512.")
    Integer maxBatchedTokens;

    @Option(names = "--kv-memory-mb", defaultValue = "1024", description = "KV-cache memory for the engine in MiB (default: ${DEFAULT-VALUE}).")
    long kvMemoryMb;

    @Option(names = {"--max-num-seqs", "--max-running"}, defaultValue = "64", description = "Sequences decoded together at most, as"
            + " vLLM's --max-num-seqs (default: ${DEFAULT-VALUE}).")
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
            + " deepseek_v3 and glm45 (<think> tags as chat_template_kwargs' thinking / enable_thinking say; glm45 thinks by default),"
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
            + " reasoning parser, the default for a gpt-oss folder), deepseek_v3 (DeepSeek-V3, R1-0528), deepseek_v31 (DeepSeek-V3.1),"
            + " glm45 (GLM-4.5, 4.6) and glm47 (GLM-4.7).")
    String toolCallParser;

    @Option(names = "--cache-generated", negatable = true, description = "Keep full blocks of generated tokens in the prefix cache, so"
            + " that the next turn of a chat takes the previous reply's K/V instead of computing it (vLLM's automatic prefix caching)."
            + " Default: on for CUDA; off on the CPU, where it makes such a request's tokens equal a solo run's up to float rounding"
            + " instead of bit for bit.")
    Boolean cacheGenerated;

    @Option(names = "--speculative-config", paramLabel = "JSON", description = "N-gram speculative decoding of greedy requests, as vLLM's"
            + " option of this name: {\"method\": \"ngram\", \"num_speculative_tokens\": K, \"prompt_lookup_max\": N, \"prompt_lookup_min\": M,"
            + " \"disable_by_batch_size\": B} (lookup sizes default to 5, or to each other; speculation while at most B sequences run,"
            + " default 2: the drafts of more sequences make a longer check). Draft models are not supported.")
    String speculativeConfig;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16", description = "The dtype the model computes in (default: ${DEFAULT-VALUE}).")
    String dtype;

    // vLLM's flags that a command line moved from vLLM often carries: taken where they mean what they mean here, refused by
    // name where they would not (instead of picocli's bare "Unknown option")
    @Option(names = "--trust-remote-code", description = "Accepted for vLLM command lines: no remote code runs here (every family is built in).")
    boolean trustRemoteCode;

    @Option(names = "--enable-prefix-caching", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Prompts take the blocks they share with earlier prompts from the prefix cache, as vLLM's automatic prefix"
                    + " caching (default: on); --no-enable-prefix-caching computes every prompt in full, as vLLM's.")
    boolean prefixCaching = true;

    @Option(names = "--enable-chunked-prefill", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Prompts are prefilled in chunks under --max-num-batched-tokens, in one pass with the step's decode rows,"
                    + " as vLLM V1 always does (default: on); --no-enable-chunked-prefill prefills each prompt whole in one step and runs"
                    + " a step's prompts apart from its decode rows, as vLLM V0 scheduled without it: --max-num-batched-tokens (default"
                    + " then the larger of 2048 and the context length) must hold the context length.")
    boolean chunkedPrefill = true;

    @Option(names = {"--tensor-parallel-size", "-tp"}, paramLabel = "N", description = "Accepted as 1 for vLLM command lines; one device only.")
    Integer tensorParallelSize;

    @Option(names = {"--pipeline-parallel-size", "-pp"}, paramLabel = "N", description = "Accepted as 1 for vLLM command lines; one device only.")
    Integer pipelineParallelSize;

    @Option(names = "--gpu-memory-utilization", paramLabel = "F", description = "Refused: give the KV cache's memory with --kv-memory-mb.")
    Double gpuMemoryUtilization;

    /** The vLLM flags above: what they cannot mean here is an IllegalArgumentException naming the flag and what to do. */
    /** The engine's configuration from the options ({@code contextLength} 0: auto; {@code spec}: --speculative-config's, or null). */
    Engine.Config engineConfig(Transformer m, int contextLength, Engine.Speculation spec) {
        Engine.Config c = Engine.Config.defaults(m).kvBudget(kvMemoryMb << 20).limits(maxRunning, maxWaiting).prefixCaching(prefixCaching);
        if (cacheGenerated != null) c = c.cacheGenerated(cacheGenerated);
        if (spec != null) c = c.speculative(spec);
        if (maxBatchedTokens != null) c = c.steps(maxBatchedTokens, Math.min(c.prefillChunk(), maxBatchedTokens));
        if (!chunkedPrefill) {                            // vLLM V0 without chunked prefill: whole prompts, steps apart
            int whole = maxBatchedTokens != null ? maxBatchedTokens
                    : Math.max(2048, contextLength > 0 ? contextLength : Math.max(m.config.contextPositions(), 0));
            c = c.steps(whole, whole).mixedSteps(false);
        }
        return c;
    }

    void checkVllmFlags() {
        if (tensorParallelSize != null && tensorParallelSize != 1) {
            throw new IllegalArgumentException("--tensor-parallel-size " + tensorParallelSize + ": this server runs on one device (1 only)");
        }
        if (pipelineParallelSize != null && pipelineParallelSize != 1) {
            throw new IllegalArgumentException("--pipeline-parallel-size " + pipelineParallelSize + ": this server runs on one device (1 only)");
        }
        if (gpuMemoryUtilization != null) {
            throw new IllegalArgumentException("--gpu-memory-utilization is not supported: give the KV cache's memory with --kv-memory-mb MiB");
        }
    }

    /** Counted down once the server listens ({@link #boundPort} set); counting {@link #stop} down stops it (tests). */
    final CountDownLatch started = new CountDownLatch(1), stop = new CountDownLatch(1);
    volatile int boundPort = -1;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        if (kvMemoryMb < 1 || kvMemoryMb > (Long.MAX_VALUE >> 20)) throw new IllegalArgumentException("--kv-memory-mb must be ≥ 1, got " + kvMemoryMb);
        if (timeoutSeconds < 1) throw new IllegalArgumentException("--timeout-s must be ≥ 1, got " + timeoutSeconds);
        checkVllmFlags();
        Engine.Speculation spec = speculativeConfig == null ? null : speculation(speculativeConfig);   // refused before the model loads
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        if (reasoningParser != null && !reasoningParser.equals("none")) ReasoningParser.named(reasoningParser);   // a bad name fails before loading
        ToolParser.Kind tools = toolCallParser == null ? null : ToolParser.named(toolCallParser);                  // so does this one
        if (enableAutoToolChoice && tools == null) {
            throw new IllegalArgumentException("--enable-auto-tool-choice needs --tool-call-parser (" + String.join(", ", ToolParser.NAMES) + ")");
        }
        int contextLength = contextLength(maxModelLen);                                            // refused before the model loads
        java.util.List<String> keys = keys();
        java.util.List<String> origins = origins(allowedOrigins);
        keys.forEach(OpenAiServer::checkApiKey);
        origins.forEach(OpenAiServer::checkOrigin);
        if (shutdownTimeout < 0) throw new IllegalArgumentException("--shutdown-timeout must be ≥ 0 seconds, got " + shutdownTimeout);
        if (maxBatchedTokens != null && maxBatchedTokens < 1) throw new IllegalArgumentException("--max-num-batched-tokens must be ≥ 1, got " + maxBatchedTokens);
        String name = names == null ? null : names.get(0);
        java.util.Map<String, Path> adapters = loraModules(loraModules);                                // refused before the model loads
        if (!adapters.isEmpty() && lora.dir != null) {
            throw new IllegalArgumentException("--lora merges one adapter into the weights, --lora-modules serves adapters beside the"
                    + " unmerged base model: give one of them");
        }
        boolean loraUpdating = allowRuntimeLora || java.util.Set.of("1", "true", "True", "TRUE")
                .contains(java.util.Objects.requireNonNullElse(environment.apply("VLLM_ALLOW_RUNTIME_LORA_UPDATING"), ""));
        if (maxLoras != null && maxLoras < 1) throw new IllegalArgumentException("--max-loras must be ≥ 1, got " + maxLoras);
        int loraSlots = maxLoras != null ? maxLoras : Math.max(1, adapters.size());
        if (maxCpuLoras != null && maxCpuLoras < loraSlots) {
            throw new IllegalArgumentException("--max-cpu-loras (" + maxCpuLoras + ") must be ≥ --max-loras (" + loraSlots + ")");
        }
        if (maxLoraRank < 1) throw new IllegalArgumentException("--max-lora-rank must be ≥ 1, got " + maxLoraRank);
        if (loraUpdating && lora.dir != null) {
            throw new IllegalArgumentException("--lora merges one adapter into the weights; runtime LoRA updating serves adapters beside the"
                    + " unmerged base model: give one of them");
        }
        if (!adapters.isEmpty() && adapters.containsKey(name == null ? "" : name)) {
            throw new IllegalArgumentException("--lora-modules " + name + "=…: the adapter's name is the served model's own");
        }
        OpenAiServer.Limits limits = new OpenAiServer.Limits(4096, 4096, Duration.ofSeconds(timeoutSeconds), 1);
        try (Backend backend = Backends.select()) {
            if (EmbedCommand.BUILT_IN.contains(model)) {
                generatingOnly("the built-in encoder " + model, true);
                Path dir = Files.createTempDirectory("t4j-minilm");
                Path onnx = dir.resolve(DemoModels.ONNX), tokFile = dir.resolve(DemoModels.TOKENIZER);
                try {
                    DemoModels.copyResource(DemoModels.ONNX, onnx);
                    DemoModels.copyResource(DemoModels.TOKENIZER, tokFile);
                    try (BertOnnxImporter.Result imported = BertOnnxImporter.importFile(onnx);
                         HfTokenizer tok = HfTokenizer.load(tokFile);
                         Weights w = Weights.fromHfBert(DemoModels.miniLmConfig(), imported.weights(), backend, dt)) {
                        return serve(OpenAiServer.encoder(name == null ? model : name, new Transformer(w, backend), tok, limits), keys, origins);
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
                generatingOnly("a sentence-transformers folder", true);
                // an embedding model (BERT-family or decoder-only, e.g. Qwen3-Embedding): its Transformer module without
                // heads, pooled as its Pooling / Dense / Normalize modules say
                SentencePooling pooling = SentencePooling.read(dir);
                try (Tokenizer tok = Tokenizers.forModel(pooling.tokenizerDir(dir)); Weights w = Pretrained.loadEncoder(pooling.modelDir(), backend, dt)) {
                    TextEncoder enc = new TextEncoder(new Transformer(w, backend), tok, pooling);
                    System.err.println("t4j serve: embeddings " + pooling.describe());
                    return serve(OpenAiServer.encoder(served, enc, limits, OpenAiServer.SIGMOID).matryoshkaDimensions(matryoshka(dir)), keys, origins);
                }
            }
            ModelInputs.checkModelFolder(dir);
            ChatTemplate template = chatTemplate == null ? null : chatTemplateOption(chatTemplate, dir);   // before the weights load
            OpenAiServer.SamplingDefaults defaults = samplingDefaults(dir);                                  // so are these
            org.transformer4j.model.LoraAdapter adapter = lora.read();
            ReasoningParser.Kind parser = reasoningParser(dir);
            if (tools != null && tools.name().equals("openai") && (parser == null || !parser.name().equals("gpt_oss"))) {
                throw new IllegalArgumentException("--tool-call-parser openai reads harmony messages: it needs --reasoning-parser gpt_oss"
                        + " (the default for a gpt-oss folder)");
            }
            if (reranker != null && !reranker.equals("qwen3")) {
                throw new IllegalArgumentException("--reranker " + reranker + ": the prompt formats are: qwen3");
            }
            try (Tokenizer tok = Tokenizers.forModel(dir); Weights w = Pretrained.load(dir, backend, dt, adapter)) {
                if (adapter != null) System.err.println("t4j serve: LoRA adapter " + lora.dir + " merged (" + adapter.weights().size() + " weights)");
                Transformer m = new Transformer(w, backend);
                if (reranker != null) {
                    generatingOnly("a reranker", false);
                    if (w.config.architecture() != TransformerConfig.Architecture.DECODER_ONLY) {
                        throw new IllegalArgumentException("--reranker needs a decoder-only folder; " + dir + " holds a "
                                + w.config.architecture() + " model");
                    }
                    return serve(OpenAiServer.reranker(served, org.transformer4j.model.DecoderReranker.qwen3(m, tok), tok, limits), keys, origins);
                }
                if (w.config.architecture() == TransformerConfig.Architecture.ENCODER_ONLY) {
                    generatingOnly("an encoder folder", false);                       // --lora: Pretrained refused it already
                    TextEncoder enc = new TextEncoder(m, tok, SentencePooling.meanNormalized(dir));
                    return serve(OpenAiServer.encoder(served, enc, limits, TextEncoder.crossEncoderActivation(dir)).matryoshkaDimensions(matryoshka(dir)),
                            keys, origins);
                }
                Engine.Config c = engineConfig(m, contextLength, spec);
                int hostCache = maxCpuLoras != null ? maxCpuLoras : loraSlots;
                LoraSlots slots = loraUpdating || !adapters.isEmpty()    // maxRank 0: exactly the modules' projections and ranks
                        ? LoraSlots.load(m, dir, adapters, loraSlots, loraUpdating ? maxLoraRank : 0, hostCache) : null;
                if (slots != null) {
                    System.err.println("t4j serve: LoRA adapters " + slots.names() + " served per request in " + slots.size() + " slot(s) ("
                            + (slots.bytes() >> 10) + " KiB" + (slots.names().size() > slots.size() ? "; swapped in as requests need them" : "")
                            + ")" + (loraUpdating ? "; runtime updating on: /v1/load_lora_adapter, /v1/unload_lora_adapter" : ""));
                }
                try (slots; Engine engine = new Engine(m, c, slots)) {
                    int capacity = engine.maxSequenceRows(), positions = w.config.contextPositions();
                    if (contextLength > capacity) {
                        throw new IllegalArgumentException("--max-model-len " + contextLength + " is more than " + engine.sequenceBound()
                                + " (--kv-memory-mb " + kvMemoryMb + ")");
                    }
                    int ctx = contextLength > 0 ? contextLength : capacity;
                    if (!chunkedPrefill && c.stepTokens() < ctx) {   // vLLM's refusal: a longer prompt could never be prefilled whole
                        throw new IllegalArgumentException("--no-enable-chunked-prefill: --max-num-batched-tokens (" + c.stepTokens()
                                + ") is smaller than the context length (" + ctx + "); raise --max-num-batched-tokens or lower --max-model-len");
                    }
                    System.err.println("t4j serve: context length " + ctx + " tokens (" + (contextLength > 0 ? "--max-model-len; " : "")
                            + (positions > 0 ? "the model's positions " + positions + ", " : "") + "one sequence's KV room " + capacity + ")");
                    if (parser != null) System.err.println("t4j serve: reasoning parser " + parser.name());
                    if (tools != null) {
                        System.err.println("t4j serve: tool-call parser " + tools.name() + (enableAutoToolChoice ? ""
                                : ", unused without --enable-auto-tool-choice (requests with tools and tool_choice \"auto\" get 400)"));
                    }
                    java.util.Map<String, Object> info = tokenizerInfo(dir);
                    if (template != null) {
                        if (info == null) info = new java.util.LinkedHashMap<>();
                        info.put("chat_template", template.source());
                    }
                    OpenAiServer.Limits decoderLimits = new OpenAiServer.Limits(ctx, ctx, limits.timeout(), limits.retryAfterSeconds());
                    java.util.concurrent.ScheduledExecutorService stats = disableLogStats ? null : statsLogger(engine);
                    try {
                        return serve(OpenAiServer.decoder(served, engine, tok, template != null ? hook(template, tok) : chatTemplate(dir, tok), decoderLimits,
                                ChatCommand.eosIds(dir, TokenizerConfig.readIfPresent(dir), tok))
                                .reasoningParser(parser).toolCallParser(enableAutoToolChoice ? tools : null)
                                .samplingDefaults(defaults)
                                .tokenizerInfo(info).maxModelLen(ctx).runtimeLoraUpdating(loraUpdating), keys, origins);
                    } finally {
                        if (stats != null) stats.shutdownNow();
                    }
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
        return template == null ? null : hook(template, tok);
    }

    /**
     * --chat-template's value as vLLM's load_chat_template reads it: text with any of {, } or a newline is the template
     * itself, else a file's path (one that does not exist is an error, not a template); rendered with the folder's
     * tokenizer_config.json variables (bos_token, eos_token, …) where it has them.
     */
    static ChatTemplate chatTemplateOption(String value, Path dir) throws java.io.IOException {
        String source, origin;
        if (value.chars().anyMatch(ch -> ch == '{' || ch == '}' || ch == '\n')) {
            source = value;
            origin = "--chat-template";
        } else {
            Path f = Path.of(value);
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("--chat-template '" + value + "' looks like a path, but no such file exists");
            }
            source = Files.readString(f);
            origin = f.toString();
        }
        java.util.Map<String, Object> vars = TokenizerConfig.readIfPresent(dir).map(TokenizerConfig::templateVariables).orElse(java.util.Map.of());
        return ChatTemplate.of(source, vars, origin);
    }

    /**
     * A template as the server's hook: rendered, then encoded without special tokens (the render carries its own BOS),
     * or with them where the request's add_special_tokens asks (vLLM: the tokenizer's post-processor on top of the
     * template's); continue_final_message renders as transformers does ({@link ChatTemplate#renderContinuing}).
     */
    static org.transformer4j.server.ChatTemplate hook(ChatTemplate template, Tokenizer tok) {
        return new org.transformer4j.server.ChatTemplate() {
            @Override public int[] render(java.util.List<org.transformer4j.server.ChatTemplate.Message> messages, java.util.Map<String, Object> kwargs) {
                java.util.Map<String, Object> vars = new java.util.HashMap<>(kwargs);
                vars.remove(org.transformer4j.server.ChatTemplate.ADD_GENERATION_PROMPT);   // the request's fields, passed as arguments
                boolean continuing = Boolean.TRUE.equals(vars.remove(org.transformer4j.server.ChatTemplate.CONTINUE_FINAL_MESSAGE));
                boolean special = Boolean.TRUE.equals(vars.remove(org.transformer4j.server.ChatTemplate.ADD_SPECIAL_TOKENS));
                // the model's messages (the simple name Message here is the server interface's own)
                java.util.List<org.transformer4j.model.chat.Message> ms = messages.stream()
                        .map(msg -> new org.transformer4j.model.chat.Message(msg.role(), msg.content(), msg.fields())).toList();
                String text = continuing ? template.renderContinuing(ms, vars)
                        : template.render(ms, org.transformer4j.server.ChatTemplate.addGenerationPrompt(kwargs), vars);
                return tok.encode(text, special);
            }

            @Override public boolean continuesFinalMessage() { return true; }

            @Override public boolean addsSpecialTokens() { return true; }
        };
    }

    /** {@code --speculative-config}'s JSON as vLLM reads it for the ngram method; anything else is refused by name. */
    static Engine.Speculation speculation(String json) {
        com.fasterxml.jackson.databind.JsonNode c = json("--speculative-config", json);
        if (!c.isObject()) throw new IllegalArgumentException("--speculative-config must be a JSON object");
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
     * Whether /v1/embeddings takes {@code dimensions}, as vLLM reads config.json: its {@code matryoshka_dimensions} (the
     * sizes allowed), or {@code is_matryoshka} true (any size, returned as an empty list); null otherwise or without one.
     */
    static java.util.List<Integer> matryoshka(Path dir) throws java.io.IOException {
        Path f = dir.resolve("config.json");
        if (!Files.isRegularFile(f)) return null;
        com.fasterxml.jackson.databind.JsonNode cfg = new com.fasterxml.jackson.databind.ObjectMapper().readTree(f.toFile());
        com.fasterxml.jackson.databind.JsonNode dims = cfg.path("matryoshka_dimensions");
        if (dims.isArray() && !dims.isEmpty()) {
            java.util.List<Integer> out = new java.util.ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode d : dims) {
                if (!d.isInt() || d.asInt() < 1) throw new IllegalArgumentException(f + ": matryoshka_dimensions must hold positive integers, got " + d);
                out.add(d.asInt());
            }
            return out;
        }
        return cfg.path("is_matryoshka").asBoolean(false) ? java.util.List.of() : null;
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

    /**
     * Every {@link #statsInterval} while the engine works (or just worked), one line as vLLM's periodic stats: prompt and
     * generation throughput over the interval, running and waiting requests, KV blocks in use, prefix-cache block hits.
     */
    java.util.concurrent.ScheduledExecutorService statsLogger(Engine engine) {
        java.util.concurrent.ScheduledExecutorService s = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "t4j-serve-stats");
            t.setDaemon(true);
            return t;
        });
        long[] last = {System.nanoTime(), engine.prefillRows(), engine.tokensGenerated(), engine.prefixHits()};
        long period = Math.max(1, statsInterval.toMillis());
        s.scheduleAtFixedRate(() -> {
            long now = System.nanoTime(), prompt = engine.prefillRows(), gen = engine.tokensGenerated(), hits = engine.prefixHits();
            double secs = (now - last[0]) / 1e9;
            boolean idle = prompt == last[1] && gen == last[2] && engine.running() == 0 && engine.queued() == 0;
            if (!idle) {
                log.accept(String.format(java.util.Locale.ROOT, "t4j serve: prompt %.1f tokens/s, generation %.1f tokens/s, running %d, waiting %d,"
                        + " KV blocks %.1f%% in use, prefix-cache hits %d blocks", (prompt - last[1]) / secs, (gen - last[2]) / secs,
                        engine.running(), engine.queued(), 100.0 * engine.blocksInUse() / Math.max(1, engine.numBlocks()), hits - last[3]));
            }
            last[0] = now; last[1] = prompt; last[2] = gen; last[3] = hits;
        }, period, period, java.util.concurrent.TimeUnit.MILLISECONDS);
        return s;
    }

    /** --lora-modules' NAME=DIR pairs, in order; a malformed pair, a repeated name or a missing folder is refused by name. */
    static java.util.Map<String, Path> loraModules(java.util.List<String> pairs) {
        java.util.Map<String, Path> out = new java.util.LinkedHashMap<>();
        if (pairs == null) return out;
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) throw new IllegalArgumentException("--lora-modules takes NAME=DIR pairs, got '" + p + "'");
            String n = p.substring(0, eq);
            Path d = Path.of(p.substring(eq + 1));
            if (out.containsKey(n)) throw new IllegalArgumentException("--lora-modules names adapter '" + n + "' twice");
            if (!Files.isDirectory(d)) throw new IllegalArgumentException("--lora-modules " + p + ": " + d + " is not a folder");
            out.put(n, d);
        }
        return out;
    }

    /** Refuses the options that only a generating decoder reads, naming what is served instead ({@code lora} too where asked). */
    private void generatingOnly(String what, boolean lora) {
        java.util.List<String> set = new java.util.ArrayList<>();
        if (maxModelLen != null) set.add("--max-model-len");
        if (lora && this.lora.dir != null) set.add("--lora");
        if (loraModules != null && !loraModules.isEmpty()) set.add("--lora-modules");
        if (allowRuntimeLora) set.add("--allow-runtime-lora-updating");
        if (maxLoras != null) set.add("--max-loras");
        if (maxCpuLoras != null) set.add("--max-cpu-loras");
        if (chatTemplate != null) set.add("--chat-template");
        if (!set.isEmpty()) throw new IllegalArgumentException(String.join(", ", set) + ": for decoder folders that generate; " + what + " is served here");
    }

    /** --generation-config and --override-generation-config, as vLLM applies them: the source's defaults, then the overrides. */
    OpenAiServer.SamplingDefaults samplingDefaults(Path dir) throws java.io.IOException {
        OpenAiServer.SamplingDefaults d = switch (generationConfig == null ? "auto" : generationConfig) {
            case "auto" -> OpenAiServer.SamplingDefaults.of(GenerationConfig.readIfPresent(dir));
            case "vllm" -> OpenAiServer.SamplingDefaults.NONE;
            default -> {
                Path other = Path.of(generationConfig);
                if (!Files.isRegularFile(other.resolve("generation_config.json"))) {
                    throw new IllegalArgumentException("--generation-config " + generationConfig + ": auto, vllm, or a folder with a generation_config.json");
                }
                yield OpenAiServer.SamplingDefaults.of(GenerationConfig.readIfPresent(other));
            }
        };
        if (overrideGenerationConfig == null) return d;
        com.fasterxml.jackson.databind.JsonNode o = json("--override-generation-config", overrideGenerationConfig);
        if (!o.isObject()) throw new IllegalArgumentException("--override-generation-config must be a JSON object");
        java.util.Set<String> known = java.util.Set.of("temperature", "top_k", "top_p", "min_p", "repetition_penalty");
        Double temperature = d.temperature(), topP = d.topP(), minP = d.minP(), rep = d.repetitionPenalty();
        Integer topK = d.topK();
        for (var it = o.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!known.contains(e.getKey())) {
                throw new IllegalArgumentException("--override-generation-config: '" + e.getKey() + "' is not one of " + new java.util.TreeSet<>(known));
            }
            com.fasterxml.jackson.databind.JsonNode v = e.getValue();
            if (!v.isNumber() || (e.getKey().equals("top_k") && !v.canConvertToInt())) {
                throw new IllegalArgumentException("--override-generation-config: " + e.getKey() + " must be a number, got " + v);
            }
            switch (e.getKey()) {
                case "temperature" -> temperature = v.asDouble();
                case "top_k" -> topK = v.asInt();
                case "top_p" -> topP = v.asDouble();
                case "min_p" -> minP = v.asDouble();
                default -> rep = v.asDouble();
            }
        }
        return new OpenAiServer.SamplingDefaults(temperature, topK, topP, minP, rep);
    }

    /** --max-model-len as vLLM reads it: an integer, or one with k / m / g (× 1000ⁿ) or K / M / G (× 1024ⁿ); auto or -1: 0 (the default). */
    static int contextLength(String value) {
        if (value == null || value.equals("auto") || value.equals("-1")) return 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)([kmgKMG]?)").matcher(value.strip());
        if (!m.matches()) throw new IllegalArgumentException("--max-model-len must be a number of tokens (e.g. 8192, 8k, 8K) or auto, got '" + value + "'");
        String unit = m.group(2);
        double scale = unit.isEmpty() ? 1 : Math.pow(Character.isUpperCase(unit.charAt(0)) ? 1024 : 1000, "kmg".indexOf(Character.toLowerCase(unit.charAt(0))) + 1);
        double n = Double.parseDouble(m.group(1)) * scale;
        if (n < 1 || n > Integer.MAX_VALUE || n != Math.floor(n)) {
            throw new IllegalArgumentException("--max-model-len must be a whole number of tokens in [1, " + Integer.MAX_VALUE + "], got '" + value + "'");
        }
        return (int) n;
    }

    /** --api-key's keys, and T4J_API_KEY's. */
    java.util.List<String> keys() {
        java.util.List<String> k = new java.util.ArrayList<>(apiKeys == null ? java.util.List.of() : apiKeys);
        String env = environment.apply("T4J_API_KEY");
        if (env != null && !env.isEmpty()) k.add(env);
        return k;
    }

    /** Reads an environment variable (tests replace it). */
    java.util.function.Function<String, String> environment = System::getenv;

    /** An option's JSON value; IllegalArgumentException naming the option when it does not parse or is empty. */
    static com.fasterxml.jackson.databind.JsonNode json(String option, String value) {
        try {
            com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(value);
            if (n == null || n.isMissingNode()) throw new IllegalArgumentException(option + " is empty; it takes JSON");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(option + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** --allowed-origins's JSON list of strings (null: none). */
    static java.util.List<String> origins(String json) {
        if (json == null) return java.util.List.of();
        com.fasterxml.jackson.databind.JsonNode n = json("--allowed-origins", json);
        if (!n.isArray()) throw new IllegalArgumentException("--allowed-origins must be a JSON list of strings, e.g. '[\"https://app.example\"]'");
        java.util.List<String> out = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode o : n) {
            if (!o.isTextual()) throw new IllegalArgumentException("--allowed-origins: " + o + " is not a string");
            out.add(o.asText());
        }
        return out;
    }

    private int serve(OpenAiServer server, java.util.List<String> keys, java.util.List<String> origins) throws InterruptedException {
        server.apiKeys(keys).cors(origins, allowCredentials).accessLog(disableAccessLog ? null : log);
        if (names != null && names.size() > 1) server.aliases(names.subList(1, names.size()));
        if (!keys.isEmpty()) System.err.println("t4j serve: " + keys.size() + " API key" + (keys.size() == 1 ? "" : "s") + " required (Authorization: Bearer)");
        if (!origins.isEmpty()) System.err.println("t4j serve: CORS for " + origins + (allowCredentials ? " with credentials" : ""));
        CountDownLatch drained = new CountDownLatch(1);
        try (server) {
            int bound = server.start(host, port);
            System.err.println("t4j serve: listening on http://" + host + ":" + bound + "/v1 (Ctrl-C stops)");
            // SIGTERM / Ctrl-C: the JVM halts once its hooks return, so the hook waits for the drain below (and the close)
            Thread hook = new Thread(() -> {
                stop.countDown();
                try {
                    drained.await(shutdownTimeout + 10L, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
            boundPort = bound;
            started.countDown();
            stop.await();
            int left = server.inFlight();
            if (left > 0) {
                System.err.println("t4j serve: stopping; " + (shutdownTimeout > 0 ? "waiting up to " + shutdownTimeout + " s for " + left
                        + " request" + (left == 1 ? "" : "s") + " in flight" : "cutting " + left + " request" + (left == 1 ? "" : "s")
                        + " in flight (--shutdown-timeout 0)"));
            }
            if (!server.drain(Duration.ofSeconds(shutdownTimeout)) && shutdownTimeout > 0) {
                System.err.println("t4j serve: " + server.inFlight() + " request(s) still in flight after " + shutdownTimeout + " s: cut");
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting: the hook is what stopped us
            }
        } finally {
            drained.countDown();
        }
        return 0;
    }
}
