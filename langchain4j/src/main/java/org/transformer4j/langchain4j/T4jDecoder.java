// T4jDecoder — a decoder model (a GPT-2 / T5 folder, or a Transformer you built) with its tokenizer, prompt
// format and default sampling, answering langchain4j chats: chatModel() and streamingChatModel() are two
// views of it. One generation runs at a time (Generator.stream: a TokenStream over one KvState).
package org.transformer4j.langchain4j;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.output.FinishReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.TokenStream;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

/**
 * A decoder for langchain4j. Requests' temperature, top-k, top-p, max output tokens and stop sequences
 * override the defaults set here; tools and JSON response formats are refused. Greedy (temperature 0) by
 * default. Replies end at an end-of-sequence id ({@link #eosIds}: for a folder, every id its generation_config.json lists, else
 * config.json's, and tokenizer_config.json's eos token, as transformers and vLLM take them), a stop string (cut from the
 * text), or the token limit.
 */
public final class T4jDecoder implements AutoCloseable {

    private final Transformer model;
    private final Tokenizer tokenizer;
    private final String name;
    private final PromptFormat format;
    private final Defaults defaults;
    private final List<AutoCloseable> owned;
    private final Generator generator;            // the model's, through its LoRA adapter where one was given
    private final Set<Integer> eosIds;            // end a reply (not part of its text)

    /** Sampling used when a request leaves a parameter unset. */
    record Defaults(int maxNewTokens, double temperature, int topK, double topP, long seed) {}

    private T4jDecoder(Transformer model, Tokenizer tokenizer, String name, PromptFormat format, Defaults defaults, List<AutoCloseable> owned,
                       org.transformer4j.model.LoraSlots slots, String adapter, Set<Integer> eosIds) {
        if (model.config.architecture() == TransformerConfig.Architecture.ENCODER_ONLY) {
            throw new IllegalArgumentException(name + " is an encoder-only model; chat needs a decoder (GPT-2, T5)");
        }
        this.generator = slots == null ? new Generator(model) : new Generator(model).withAdapter(slots, adapter);
        this.model = model;
        this.tokenizer = tokenizer;
        this.name = name;
        this.format = format;
        this.defaults = defaults;
        this.owned = owned;
        Set<Integer> ends = new LinkedHashSet<>(eosIds);
        if (model.config.specialIds().eos() >= 0) ends.add(model.config.specialIds().eos());
        this.eosIds = Set.copyOf(ends);
    }

    /** The ids that end a reply: the model config's end-of-sequence id, and a folder's generation_config.json / config.json list and tokenizer_config.json eos token. */
    public Set<Integer> eosIds() { return eosIds; }

    public static Builder builder() { return new Builder(); }

    /** langchain4j's ChatModel over this decoder. */
    public T4jChatModel chatModel() { return new T4jChatModel(this); }

    /** langchain4j's StreamingChatModel over this decoder (it streams on the calling thread). */
    public T4jStreamingChatModel streamingChatModel() { return new T4jStreamingChatModel(this); }

    public String name() { return name; }

    public Transformer transformer() { return model; }

    public Tokenizer tokenizer() { return tokenizer; }

    public PromptFormat promptFormat() { return format; }

    Defaults defaults() { return defaults; }

    /** One reply: its text, its token ids (end-of-sequence included when it ended the reply), the prompt's size, and why it ended. */
    record Reply(String text, int[] ids, int promptTokens, FinishReason finish) {}

    /** The prompt's ids for {@code messages} under this decoder's format. */
    public int[] promptIds(List<ChatMessage> messages) {
        int[] ids = tokenizer.encode(format.render(messages), format.addSpecialTokens());
        if (ids.length == 0) throw new IllegalArgumentException("the prompt has no tokens under " + tokenizer.name());
        return ids;
    }

    /** Generates the reply to {@code request}, passing each stable new piece of text to {@code onText}. */
    synchronized Reply reply(ChatRequest request, Consumer<String> onText) {
        ChatRequestParameters p = request.parameters();
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            throw new UnsupportedFeatureException("tools are not supported by " + name);
        }
        if (p.responseFormat() != null && p.responseFormat().type() == ResponseFormatType.JSON) {
            throw new UnsupportedFeatureException("JSON response formats are not supported by " + name);
        }
        int[] prompt = promptIds(request.messages());
        Set<String> stops = new LinkedHashSet<>(format.stopStrings());
        if (p.stopSequences() != null) stops.addAll(p.stopSequences());
        Generator.Options o = Generator.Options.greedy(p.maxOutputTokens() != null ? p.maxOutputTokens() : defaults.maxNewTokens())
                .sampling((float) (p.temperature() != null ? p.temperature() : defaults.temperature()),
                        p.topK() != null ? p.topK() : defaults.topK(),
                        (float) (p.topP() != null ? p.topP() : defaults.topP()), defaults.seed());
        if (!eosIds.isEmpty()) o = o.stopIds(eosIds);
        if (!stops.isEmpty()) o = o.stopStrings(stops, ids -> tokenizer.decode(ids, true));
        List<Integer> ids = new ArrayList<>();
        String emitted = "";
        try (TokenStream tokens = generator.stream(prompt, o)) {
            while (tokens.hasNext()) {
                ids.add(tokens.next().id());
                String text = visible(ids, stops);
                if (text.endsWith("\uFFFD")) continue;                   // a character split across tokens: wait for the rest
                int safe = text.length() - heldBack(text, stops);       // a possible start of a stop string waits too
                if (safe > emitted.length() && text.startsWith(emitted)) {
                    onText.accept(text.substring(emitted.length(), safe));
                    emitted = text.substring(0, safe);
                }
            }
        }
        String text = visible(ids, stops);
        if (text.length() > emitted.length() && text.startsWith(emitted)) onText.accept(text.substring(emitted.length()));
        int last = ids.get(ids.size() - 1);
        boolean stopped = eosIds.contains(last) || !text.equals(tokenizer.decode(strip(ids), true));
        return new Reply(text, ids.stream().mapToInt(Integer::intValue).toArray(), prompt.length,
                stopped ? FinishReason.STOP : ids.size() >= o.maxNewTokens() ? FinishReason.LENGTH : FinishReason.STOP);
    }

    /** The reply's text so far: special tokens skipped, cut before the first stop string. */
    private String visible(List<Integer> ids, Set<String> stops) {
        String text = tokenizer.decode(strip(ids), true);
        int cut = text.length();
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0) cut = Math.min(cut, at);
        }
        return text.substring(0, cut);
    }

    /** The ids without a final end-of-sequence id. */
    private int[] strip(List<Integer> ids) {
        int n = ids.size();
        if (n > 0 && eosIds.contains(ids.get(n - 1))) n--;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = ids.get(i);
        return out;
    }

    /** Length of the longest end of {@code text} that begins some stop string (it may yet complete one). */
    private static int heldBack(String text, Set<String> stops) {
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > best; k--) {
                if (text.endsWith(s.substring(0, k))) { best = k; break; }
            }
        }
        return best;
    }

    @Override
    public void close() { Owned.closeAll(name, owned.toArray(AutoCloseable[]::new)); }

    /** Builds a decoder from a model folder or from a Transformer and Tokenizer you own. */
    public static final class Builder {
        private Path folder;
        private Transformer model;
        private Tokenizer tokenizer;
        private Backend backend;
        private DType dtype = DType.F32;
        private PromptFormat format;
        private int maxNewTokens = 256;
        private double temperature = 0, topP = 1;
        private int topK = 0;
        private long seed = 42;
        private org.transformer4j.model.LoraSlots slots;
        private String adapter;

        private Builder() {}

        /**
         * Replies through LoRA adapter {@code name} of {@code slots}, loaded for the model given to {@link #model} (its
         * base weights unchanged, so several decoders, each with its own adapter, share one model); the decoder does not
         * close them. Only with {@link #model}.
         */
        public Builder adapter(org.transformer4j.model.LoraSlots slots, String name) {
            this.slots = Objects.requireNonNull(slots, "slots");
            this.adapter = Objects.requireNonNull(name, "name");
            return this;
        }

        /** A Hugging Face decoder folder (GPT-2, T5): config.json, safetensors, tokenizer.json or GPT-2's tiktoken. */
        public Builder modelFolder(Path dir) { this.folder = dir; return this; }

        /** A model and tokenizer you built; the decoder does not close them. */
        public Builder model(Transformer model, Tokenizer tokenizer) {
            this.model = Objects.requireNonNull(model, "model");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
            return this;
        }

        /** Where a folder's weights go (not closed by the decoder); default {@code Backends.select()}, owned by it. */
        public Builder backend(Backend b) { this.backend = b; return this; }

        /** The dtype a folder's model computes in (F32, BF16, F16); default F32. */
        public Builder dtype(DType d) { this.dtype = Objects.requireNonNull(d, "dtype"); return this; }

        /**
         * How messages become the prompt; default: a folder's chat template where it has one
         * ({@link PromptFormat#template}), else {@link PromptFormat#PLAIN}.
         */
        public Builder promptFormat(PromptFormat f) { this.format = Objects.requireNonNull(f, "promptFormat"); return this; }

        public Builder maxNewTokens(int n) {
            if (n < 1) throw new IllegalArgumentException("maxNewTokens must be ≥ 1, got " + n);
            this.maxNewTokens = n; return this;
        }

        /** 0 (default): greedy. */
        public Builder temperature(double t) { this.temperature = t; return this; }

        public Builder topK(int k) { this.topK = k; return this; }

        public Builder topP(double p) { this.topP = p; return this; }

        public Builder seed(long s) { this.seed = s; return this; }

        public T4jDecoder build() throws IOException {
            Defaults d = new Defaults(maxNewTokens, temperature, topK, topP, seed);
            Generator.Options.greedy(maxNewTokens).sampling((float) temperature, topK, (float) topP, seed);   // checks the values now
            if ((folder == null) == (model == null)) throw new IllegalStateException("give exactly one of modelFolder(...) and model(...)");
            if (model != null) {
                return new T4jDecoder(model, tokenizer, adapter != null ? adapter : "transformer4j", format == null ? PromptFormat.PLAIN : format, d,
                        List.of(), slots, adapter, Set.of());
            }
            if (slots != null) throw new IllegalStateException("adapter(...) needs the model its slots were loaded for: give model(transformer, tokenizer)");
            if (!Files.isDirectory(folder)) throw new IllegalArgumentException(folder + ": no such model folder");
            List<AutoCloseable> owned = new ArrayList<>();
            Backend b = backend;
            try {
                if (b == null) { b = Backends.select(); owned.add(b); }
                Tokenizer tok = Tokenizers.forModel(folder);
                owned.add(0, tok);
                Weights w = Pretrained.load(folder, b, dtype);
                owned.add(0, w);
                PromptFormat f = format != null ? format
                        : org.transformer4j.model.tokenizer.TokenizerConfig.readIfPresent(folder)
                                .flatMap(org.transformer4j.model.tokenizer.TokenizerConfig::template)
                                .map(PromptFormat::template).orElse(PromptFormat.PLAIN);
                // as transformers and vLLM end a reply: generation_config.json's list (else config.json's), tokenizer_config.json's eos token
                Set<Integer> ends = new LinkedHashSet<>(org.transformer4j.model.GenerationConfig.eosIds(folder));
                org.transformer4j.model.tokenizer.TokenizerConfig.readIfPresent(folder)
                        .map(org.transformer4j.model.tokenizer.TokenizerConfig::eosToken).map(e -> tok.specialTokens().get(e)).ifPresent(ends::add);
                return new T4jDecoder(new Transformer(w, b), tok, folder.getFileName().toString(), f, d, List.copyOf(owned), null, null, ends);
            } catch (IOException | RuntimeException e) {
                for (AutoCloseable c : owned) {
                    try { c.close(); } catch (Exception suppressed) { e.addSuppressed(suppressed); }
                }
                throw e;
            }
        }
    }
}
