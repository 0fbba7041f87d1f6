// ChatCommand — `t4j chat --model DIR`: an interactive terminal chat. Reads one user message per line from
// stdin, renders the conversation with the folder's chat template (tokenizer_config.json or
// chat_template.jinja), streams the reply to stdout, keeps the KV cache across turns (only new tokens are
// encoded), and understands /reset and /exit. Sampling defaults come from generation_config.json.
package org.transformer4j.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.transformer4j.model.GenerationConfig;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.chat.ChatTemplate;
import org.transformer4j.model.chat.TemplateChat;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.TokenizerConfig;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model: one message per line on stdin, the reply streamed to stdout. "
                + "/reset forgets the conversation, /exit (or end of input) quits. The folder's chat template "
                + "formats the conversation (without one, messages are plain text); the KV cache is kept across turns. "
                + "Per-turn statistics go to stderr."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class ChatCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (Hugging Face layout).")
    Path model;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system message put first in the conversation.")
    String system;

    @Option(names = "--max-new-tokens", paramLabel = "N",
            description = "Reply length limit (default: generation_config.json's max_new_tokens, else 256).")
    Integer maxNewTokens;

    @Option(names = "--temperature", description = "0 is greedy (default: generation_config.json's sampling, else greedy).")
    Double temperature;

    @Option(names = "--top-k", description = "With --temperature: sample from the k most likely tokens; 0 is off (default: 0).")
    int topK;

    @Option(names = "--top-p", description = "With --temperature: nucleus sampling; 1 is off (default: 1).")
    double topP = 1;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    PenaltyOptions penalties;

    @Option(names = "--context", paramLabel = "TOKENS", defaultValue = "4096",
            description = "Tokens the conversation may hold, at most the model's positions (default: ${DEFAULT-VALUE}).")
    int context;

    @Mixin
    LoraOption lora = new LoraOption();

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16", description = "Compute dtype (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Override
    public Integer call() throws Exception {
        if (maxNewTokens != null && maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be ≥ 1, got " + maxNewTokens);
        if (temperature != null && (!(temperature >= 0) || temperature.isInfinite())) throw new IllegalArgumentException("--temperature must be ≥ 0, got " + temperature);
        if (context < 2) throw new IllegalArgumentException("--context must be ≥ 2, got " + context);
        penalties.check();
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        ModelInputs.checkModelFolder(model);
        Optional<TokenizerConfig> tc = TokenizerConfig.readIfPresent(model);
        ChatTemplate template = tc.flatMap(TokenizerConfig::template).orElse(null);
        Optional<GenerationConfig> gc = GenerationConfig.readIfPresent(model);
        org.transformer4j.model.LoraAdapter adapter = lora.read();   // before the model loads
        try (Backend backend = Backends.select(); Tokenizer tok = Tokenizers.forModel(model); Weights weights = Pretrained.load(model, backend, dt, adapter)) {
            Transformer t = new Transformer(weights, backend);
            Generator.Options o = options(gc, tc, tok);
            TransformerConfig c = t.config;
            int capacity = c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE ? Math.min(context, c.maxPositions()) : context;
            System.err.println("t4j chat: " + model.getFileName() + ", " + (template == null ? "no chat template (plain text turns)" : "chat template from " + tc.get().file().getFileName())
                    + ", " + (o.temperature() == 0 ? "greedy" : String.format(Locale.ROOT, "temperature %.2f top-k %d top-p %.2f", o.temperature(), o.topK(), o.topP()))
                    + ", stop ids " + o.stopIds() + ", context " + capacity + " tokens. /reset, /exit.");
            boolean interactive = System.console() != null;
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            try (TemplateChat chat = new TemplateChat(t, tok, template, o, capacity, system, Map.of())) {
                while (true) {
                    if (interactive) { System.out.print("> "); System.out.flush(); }
                    String line = in.readLine();
                    if (line == null || line.strip().equals("/exit")) break;
                    if (line.isBlank()) continue;
                    if (line.strip().equals("/reset")) {
                        chat.reset();
                        System.err.println("[conversation reset]");
                        continue;
                    }
                    Stream out = new Stream(tok, o.stopIds());
                    TemplateChat.Turn turn;
                    try {
                        turn = chat.send(line, (seq, token) -> out.add(token));
                    } catch (IllegalArgumentException e) {
                        System.out.println();
                        System.err.println("t4j chat: " + Main.oneLine(e) + " (the turn was not taken; /reset starts over)");
                        continue;
                    }
                    out.finish();
                    System.err.println("[" + turn.tokensEncoded() + " tokens encoded, " + turn.contextTokens() + " in context"
                            + (turn.reencodedBecause() == null ? "" : "; re-encoded the conversation: " + turn.reencodedBecause()) + "]");
                }
            }
        }
        return 0;
    }

    /** The command line's sampling where given, else generation_config.json's; stop at the eos ids of both files. */
    private Generator.Options options(Optional<GenerationConfig> gc, Optional<TokenizerConfig> tc, Tokenizer tok) throws java.io.IOException {
        int max = maxNewTokens != null ? maxNewTokens : gc.map(GenerationConfig::maxNewTokens).orElse(256);
        Generator.Options o = gc.isPresent() ? gc.get().options(max, seed) : Generator.Options.greedy(max);
        if (gc.isPresent() && gc.get().beam().numBeams() != null && gc.get().beam().numBeams() > 1) {
            System.err.println("note: " + gc.get().file() + " asks for num_beams " + gc.get().beam().numBeams()
                    + "; chat replies are greedy or sampled (t4j generate --model DIR runs beam search)");
        }
        if (maxNewTokens != null) o = o.maxNewTokens(max);
        if (temperature != null) o = o.sampling(temperature.floatValue(), topK, (float) topP, seed);
        o = penalties.apply(o, gc, tok);
        java.util.Set<Integer> stops = new java.util.LinkedHashSet<>(o.stopIds());
        stops.addAll(eosIds(model, tc, tok));
        return o.stopIds(stops);
    }

    /**
     * The model's end-of-sequence ids: generation_config.json's list, else config.json's (as transformers and vLLM fall back
     * to it: {@link GenerationConfig#eosIds}), and tokenizer_config.json's eos token.
     */
    static Set<Integer> eosIds(java.nio.file.Path dir, Optional<TokenizerConfig> tc, Tokenizer tok) throws java.io.IOException {
        java.util.Set<Integer> ids = new java.util.LinkedHashSet<>(GenerationConfig.eosIds(dir));
        tc.map(TokenizerConfig::eosToken).map(e -> tok.specialTokens().get(e)).ifPresent(ids::add);
        return ids;
    }

    /** Prints the reply's text as it grows (whole characters only); the stop token is not printed. */
    private static final class Stream {
        private final Tokenizer tok;
        private final Set<Integer> stops;
        private final java.util.List<Integer> ids = new java.util.ArrayList<>();
        private String printed = "";

        Stream(Tokenizer tok, Set<Integer> stops) { this.tok = tok; this.stops = stops; }

        void add(int token) {
            if (stops.contains(token)) return;
            ids.add(token);
            String text = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray());
            if (text.endsWith("\uFFFD")) return;
            System.out.print(text.startsWith(printed) ? text.substring(printed.length()) : text);
            System.out.flush();
            printed = text;
        }

        void finish() {
            String text = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray());
            if (text.startsWith(printed)) System.out.print(text.substring(printed.length()));
            System.out.println();
            System.out.flush();
        }
    }
}
