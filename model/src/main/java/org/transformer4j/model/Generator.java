// Generator — text generation on any decoding architecture: greedy or sampled (temperature, top-k,
// top-p, min-p, seed), repetition / presence / frequency penalties and logit bias, stop ids and stop strings, a
// token limit, a streaming callback or a lazy iterator (TokenStream), and batches of prompts of different lengths
// decoded together through one KvState.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.transformer4j.model.TransformerConfig.Architecture;
import org.transformer4j.model.guided.TokenConstraint;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/**
 * For decoder-only models the prompt is the start of the sequence (include BOS yourself); for a
 * prefix-LM it is the bidirectional prefix; for an encoder-decoder it is the encoder's input and the
 * decoder starts from the config's decoder-start id. Sampling runs in the backend's sample op, whose
 * Philox stream is keyed by the seed and counted by (row, step), so a seed repeats exactly. Beam search
 * (transformers' num_beams &gt; 1) is {@link BeamSearch}; {@link BeamSearch.Options#from} carries these options over.
 */
public final class Generator {

    /**
     * @param maxNewTokens      ≥ 1
     * @param temperature       0: greedy (argmax); > 0: sampling
     * @param topK              0: no limit
     * @param topP              1: no limit
     * @param stopIds           ids that end a sequence (the stop id is returned as its last token)
     * @param stopStrings       texts that end a sequence once the decoded new tokens contain one (the token
     *                          that completes it is returned as the last); needs {@code decoder}
     * @param decoder           ids → text (e.g. {@code tokenizer::decode}), or null without stop strings
     * @param truncate          when a prompt plus maxNewTokens exceeds the model's positions: true keeps the
     *                          prompt's last tokens, false (the default) throws
     * @param repetitionPenalty transformers' repetition_penalty (> 0; 1: none), over the prompt and the new tokens,
     *                          greedy or sampled, as {@code generate} applies it
     * @param presencePenalty   OpenAI's / vLLM's presence_penalty in [−2, 2] (0: none), over the new tokens
     * @param frequencyPenalty  OpenAI's / vLLM's frequency_penalty in [−2, 2] (0: none), over the new tokens
     * @param minP              transformers' min_p in [0, 1] (0: none), when sampling, after top-k and top-p
     * @param logitBias         token id → a finite number added to its logit before everything else (OpenAI's
     *                          logit_bias, transformers' sequence_bias for one-token sequences); ids are checked
     *                          against the model's vocabulary when generation starts
     * @param guide             structured outputs: each sequence's tokens are kept to those its constraint allows
     *                          (e.g. {@link org.transformer4j.model.guided.JsonConstraint}); null: unconstrained
     * @param minNewTokens      transformers' min_new_tokens, vLLM's min_tokens (0: none): the stop ids are banned (−∞)
     *                          until this many new tokens were chosen, and stop strings are not looked for in the text
     *                          of the first minNewTokens tokens (vLLM's rule; transformers' stop strings have none)
     * @param minLength         transformers' min_length (0: none): the stop ids are banned while generate's input_ids
     *                          are shorter — the (fitted) prompt plus the new tokens for a decoder-only model, the
     *                          decoder's start id plus the new tokens for an encoder-decoder
     * @param noRepeatNgramSize transformers' no_repeat_ngram_size (0: none): an id that would complete an n-gram already
     *                          in input_ids (prompt included, as for minLength) is banned
     * @param rules             transformers' forced_bos_token_id, forced_eos_token_id, bad_words_ids, suppress_tokens,
     *                          begin_suppress_tokens and vLLM's allowed_token_ids ({@link TokenRules}; null: none), applied
     *                          through the same mask op; ids are checked against the vocabulary when generation starts
     */
    public record Options(int maxNewTokens, float temperature, int topK, float topP, long seed, Set<Integer> stopIds,
                          Set<String> stopStrings, java.util.function.Function<int[], String> decoder, boolean truncate,
                          float repetitionPenalty, float presencePenalty, float frequencyPenalty, float minP,
                          Map<Integer, Float> logitBias, TokenConstraint.Factory guide, int minNewTokens, int minLength,
                          int noRepeatNgramSize, TokenRules rules) {
        public Options {
            if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be ≥ 1, got " + maxNewTokens);
            if (!(temperature >= 0) || Float.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be finite and ≥ 0, got " + temperature);
            }
            if (topK < 0) throw new IllegalArgumentException("topK must be ≥ 0 (0: no limit), got " + topK);
            if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            stopIds = stopIds == null ? Set.of() : Set.copyOf(stopIds);
            // in the caller's order: the first of them found ends the sequence (vLLM's rule)
            stopStrings = stopStrings == null ? Set.of() : java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(stopStrings));
            if (stopStrings.contains("")) throw new IllegalArgumentException("an empty stop string would stop every sequence at once");
            if (!stopStrings.isEmpty() && decoder == null) {
                throw new IllegalArgumentException("stop strings need a decoder (ids → text), e.g. tokenizer::decode");
            }
            if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
                throw new IllegalArgumentException("repetitionPenalty must be finite and > 0 (1: none), got " + repetitionPenalty);
            }
            if (!(presencePenalty >= -2 && presencePenalty <= 2)) {
                throw new IllegalArgumentException("presencePenalty must be in [-2, 2] (0: none), got " + presencePenalty);
            }
            if (!(frequencyPenalty >= -2 && frequencyPenalty <= 2)) {
                throw new IllegalArgumentException("frequencyPenalty must be in [-2, 2] (0: none), got " + frequencyPenalty);
            }
            if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("minP must be in [0, 1] (0: none), got " + minP);
            logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
            for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
                if (e.getKey() < 0) throw new IllegalArgumentException("logitBias id " + e.getKey() + " is not a token id (< 0)");
                if (!Float.isFinite(e.getValue())) {
                    throw new IllegalArgumentException("logitBias of id " + e.getKey() + " must be finite, got " + e.getValue());
                }
            }
            if (minNewTokens < 0) throw new IllegalArgumentException("minNewTokens must be ≥ 0 (0: none), got " + minNewTokens);
            if (minLength < 0) throw new IllegalArgumentException("minLength must be ≥ 0 (0: none), got " + minLength);
            if (noRepeatNgramSize < 0) {
                throw new IllegalArgumentException("noRepeatNgramSize must be ≥ 0 (0: none), got " + noRepeatNgramSize);
            }
            if (rules == null) rules = TokenRules.NONE;
        }

        /** Without penalties, min_p, logit bias or a guide. */
        public Options(int maxNewTokens, float temperature, int topK, float topP, long seed, Set<Integer> stopIds,
                       Set<String> stopStrings, java.util.function.Function<int[], String> decoder, boolean truncate) {
            this(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, 1f, 0f, 0f, 0f, Map.of(), null, 0, 0, 0, TokenRules.NONE);
        }

        public static Options greedy(int maxNewTokens) { return new Options(maxNewTokens, 0f, 0, 1f, 0, Set.of(), Set.of(), null, false); }

        public Options sampling(float t, int k, float p, long s) {
            return new Options(maxNewTokens, t, k, p, s, stopIds, stopStrings, decoder, truncate, repetitionPenalty, presencePenalty,
                    frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        public Options maxNewTokens(int n) {
            return new Options(n, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty, presencePenalty,
                    frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        public Options stopIds(Set<Integer> ids) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, ids, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        public Options stopStrings(Set<String> texts, java.util.function.Function<int[], String> idsToText) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, texts, idsToText, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        public Options truncate(boolean t) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, t, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        /** transformers' repetition_penalty: > 0, 1 for none. */
        public Options repetitionPenalty(float p) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, p, presencePenalty,
                    frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        /** OpenAI's presence and frequency penalties, each in [−2, 2], 0 for none. */
        public Options presenceFrequency(float presence, float frequency) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty,
                    presence, frequency, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        /** transformers' min_p in [0, 1], 0 for none; used when sampling. */
        public Options minP(float p) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, p, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        /** Token id → a finite number added to its logit (OpenAI's logit_bias); empty for none. */
        public Options logitBias(Map<Integer, Float> bias) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, bias, guide, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        /** Constrained to what {@code f} allows; its end ids join the stop ids (null: unconstrained). */
        public Options guided(TokenConstraint.Factory f) {
            Set<Integer> stops = new java.util.HashSet<>(stopIds);
            if (f != null) stops.addAll(f.endIds());
            return new Options(maxNewTokens, temperature, topK, topP, seed, stops, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, f, minNewTokens, minLength, noRepeatNgramSize, rules);
        }

        /** transformers' min_new_tokens / vLLM's min_tokens, ≥ 0 (0: none). */
        public Options minNewTokens(int n) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, guide, n, minLength, noRepeatNgramSize, rules);
        }

        /** transformers' min_length, counted over input_ids (see the record's doc), ≥ 0 (0: none). */
        public Options minLength(int n) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, guide, minNewTokens, n, noRepeatNgramSize, rules);
        }

        /** transformers' no_repeat_ngram_size, ≥ 0 (0: none). */
        public Options noRepeatNgramSize(int n) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, n, rules);
        }

        /** The rules with {@code r} (null: none): forced BOS / EOS, bad words, suppressed ids, allowed ids; see {@link TokenRules}. */
        public Options rules(TokenRules r) {
            return new Options(maxNewTokens, temperature, topK, topP, seed, stopIds, stopStrings, decoder, truncate, repetitionPenalty,
                    presencePenalty, frequencyPenalty, minP, logitBias, guide, minNewTokens, minLength, noRepeatNgramSize, r);
        }

        /** transformers' forced_bos_token_id (null: none); see {@link TokenRules#forcedBosTokenId()}. */
        public Options forcedBosTokenId(Integer id) { return rules(rules.forcedBos(id)); }

        /** transformers' forced_eos_token_id, one id or several (empty: none); see {@link TokenRules#forcedEosTokenIds()}. */
        public Options forcedEosTokenIds(Set<Integer> ids) { return rules(rules.forcedEos(ids)); }

        /** transformers' bad_words_ids (empty: none); see {@link TokenRules#badWordsIds()}. */
        public Options badWordsIds(List<List<Integer>> words) { return rules(rules.badWords(words)); }

        /** transformers' suppress_tokens (empty: none). */
        public Options suppressTokens(Set<Integer> ids) { return rules(rules.suppress(ids)); }

        /** transformers' begin_suppress_tokens (empty: none); see {@link TokenRules#beginSuppressTokens()}. */
        public Options beginSuppressTokens(Set<Integer> ids) { return rules(rules.beginSuppress(ids)); }

        /** vLLM's bad_words, tokenized (empty: none): matched against the new tokens only; see {@link TokenRules#outputBadWordsIds()}. */
        public Options outputBadWordsIds(List<List<Integer>> words) { return rules(rules.outputBadWords(words)); }

        /** vLLM's allowed_token_ids (null: every id). */
        public Options allowedTokenIds(Set<Integer> ids) { return rules(rules.allowed(ids)); }

        /**
         * Whether ids are banned by a length, n-gram or token rule: min_new_tokens, min_length (with stop ids),
         * no_repeat_ngram_size, or any of {@link #rules()}.
         */
        public boolean banning() {
            return ((minNewTokens > 0 || minLength > 0) && !stopIds.isEmpty()) || noRepeatNgramSize > 0 || rules.any();
        }

        /** Whether the penalty op has work: a repetition, presence or frequency penalty, or a logit bias. */
        public boolean penalized() {
            return repetitionPenalty != 1f || presencePenalty != 0f || frequencyPenalty != 0f || !logitBias.isEmpty();
        }

        /** Whether the new tokens so far (the last one just chosen) end the sequence: a stop id, the limit, or a stop string. */
        boolean ends(List<Integer> generated) {
            return stopIds.contains(generated.get(generated.size() - 1)) || generated.size() >= maxNewTokens || stopsAt(generated);
        }

        /** Whether the new tokens so far end the sequence by a stop string (none in the first minNewTokens tokens' text). */
        public boolean stopsAt(List<Integer> generated) {
            if (stopStrings.isEmpty() || generated.size() <= minNewTokens) return false;
            int[] ids = generated.stream().mapToInt(Integer::intValue).toArray();
            String text = decoder.apply(ids);
            int held = minNewTokens == 0 ? 0 : decoder.apply(Arrays.copyOf(ids, minNewTokens)).length();
            return firstStop(text, held) >= 0;
        }

        /**
         * Where the stop string {@link #stopFound} finds begins in {@code text} (its first occurrence that ends past the
         * first {@code held} characters); −1 where none is found. The server cuts a reply there.
         */
        public int firstStop(String text, int held) {
            String stop = stopFound(text, held);
            return stop == null ? -1 : text.indexOf(stop, Math.max(0, held - stop.length() + 1));
        }

        /**
         * The first of the stop strings, in their given order, that {@code text} contains ending past its first
         * {@code held} characters (the text of the first minNewTokens tokens), or null: vLLM's check_stop_strings, which
         * tries them in the request's order as each token comes (so when two complete with one token, the one listed
         * first wins, wherever it begins).
         */
        public String stopFound(String text, int held) {
            for (String stop : stopStrings) {
                if (text.indexOf(stop, Math.max(0, held - stop.length() + 1)) >= 0) return stop;
            }
            return null;
        }
    }

    /** Called for each new token as it is chosen. */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int sequence, int token);
    }

    private final Transformer model;
    private final LoraSlots lora;                 // per-request adapters (LoraSlots), or null
    private final String adapter;                 // the adapter this generator's sequences run through

    public Generator(Transformer model) {
        this(model, null, null);
    }

    private Generator(Transformer model, LoraSlots lora, String adapter) {
        if (model.config.architecture() == Architecture.ENCODER_ONLY) {
            throw new IllegalArgumentException("an encoder-only model does not generate; use encode, classify or maskedLmLogits");
        }
        this.model = model;
        this.lora = lora;
        this.adapter = adapter;
    }

    /**
     * A generator of the same model whose sequences run through adapter {@code name} of {@code slots} (loaded for this
     * model; the base weights unchanged, see {@link LoraSlots}); null slots: the base model. Each generation holds the
     * adapter's slot until its state is released ({@link LoraSlots#acquire}); one that finds every slot held by other
     * adapters' generations is refused (IllegalStateException) rather than kept waiting.
     */
    public Generator withAdapter(LoraSlots slots, String name) {
        if (slots == null) return new Generator(model);
        if (!slots.contains(name)) throw new IllegalArgumentException("no LoRA adapter named '" + name + "' in " + slots.names());
        if (model.config.architecture() != Architecture.DECODER_ONLY) throw new IllegalArgumentException("LoRA adapters run decoder-only models");
        return new Generator(model, slots, name);
    }

    /**
     * Generates for each prompt; returns the new tokens of each (stop id included when one ended it).
     * A sequence whose logits turn non-finite (NaN, +∞, or none finite) is ended at that step while
     * the others go on; then, once all have ended, a {@link NonFiniteLogitsException} names each such
     * sequence and step and carries every sequence's tokens. Thread-safe: a Generator (and its model)
     * may serve concurrent calls, each with its own KvState.
     */
    public int[][] generate(List<int[]> prompts, Options o, TokenListener listener) {
        Started s = start(prompts, o);
        try (KvState st = s.state()) {
            return loop(st, s.first(), s.histories(), s.contexts(), o, listener, null);
        }
    }

    /**
     * Generates lazily, as an iterator: each {@code next()} returns one new token, and a decode step runs
     * only once the tokens of the previous one have all been taken (a step yields one token per running
     * sequence, in sequence order: the order in which {@link #generate} calls its listener). The prompts
     * are checked and prefilled here, so bad input fails at this call. The stream's KvState is released
     * as soon as the last token has been chosen, when the stream is closed, or when a step fails; use it
     * in try-with-resources, where stopping early is closing it. Not thread-safe.
     */
    public TokenStream stream(List<int[]> prompts, Options o) {
        Started s = start(prompts, o);
        return new TokenStream(this, s.state(), s.first(), s.histories(), s.contexts(), o);
    }

    /** One prompt, as an iterator ({@link #stream(List, Options)}); every token's {@code sequence()} is 0. */
    public TokenStream stream(int[] prompt, Options o) {
        return stream(java.util.Collections.singletonList(prompt), o);             // a null prompt is reported, not an NPE
    }

    /**
     * A generation's state after its prompts ran through the model, the logits (B, V) that choose each first token,
     * each sequence's penalty history (null entries where the options have no penalty), and each sequence's input_ids
     * so far as transformers' generate holds them (decoder-only: the fitted prompt; encoder-decoder: the start id).
     */
    record Started(KvState state, float[][] first, Sampling.History[] histories, int[][] contexts) {}

    /** Checks and fits the prompts, makes their state and runs them through it (the state is closed if that fails). */
    Started start(List<int[]> prompts, Options o) {
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("no prompts");
        if (o == null) throw new IllegalArgumentException("no options (e.g. Generator.Options.greedy(maxNewTokens))");
        Sampling.checkBias(o, model.config.vocabSize());
        int[][] p = new int[prompts.size()][];
        for (int b = 0; b < p.length; b++) p[b] = fit(prompts.get(b), b, o);
        boolean encDec = model.config.architecture() == Architecture.ENCODER_DECODER;
        int start = encDec ? model.decoderStartId() : -1;                                 // fails before any work
        int longest = Arrays.stream(p).mapToInt(a -> a.length).max().orElseThrow();
        KvState st = encDec ? model.newState(p, o.maxNewTokens()) : model.newState(p.length, (long) longest + o.maxNewTokens());
        try {
            if (lora != null) {
                int slot = lora.acquire(adapter);
                if (slot < 0) {
                    throw new IllegalStateException("all " + lora.size() + " LoRA slots hold adapters other generations are using "
                            + lora.resident() + "; adapter '" + adapter + "' needs one of them (make more: LoraSlots' capacity, --max-loras)");
                }
                int[] slots = new int[p.length];
                Arrays.fill(slots, slot);
                st.adapters(lora, slots, slot);
            }
            // blocks come on demand, but a limit the state can never reach is refused before any work
            boolean inputRows = encDec && model.config.shareCrossAndSelfAttention();
            st.requireCapacity((!encDec || inputRows ? (long) longest : 0L) + o.maxNewTokens(),
                    (encDec ? "" : "prompts of up to " + longest + " tokens and ") + o.maxNewTokens() + " new tokens");
            float[][] first = new float[p.length][];
            if (encDec) {                                  // the inputs are encoded: the decoder starts from its start id
                int[] starts = new int[p.length];
                Arrays.fill(starts, start);
                first = model.step(st, starts);
            } else {
                for (int b = 0; b < p.length; b++) first[b] = model.prefillLast(st, b, p[b]);
            }
            Sampling.History[] histories = new Sampling.History[p.length];
            int[][] contexts = new int[p.length][];
            // transformers' processors read the ids generate holds: decoder-only, the prompt; encoder-decoder, the decoder's start id
            for (int b = 0; b < p.length; b++) {
                contexts[b] = encDec ? new int[] {start} : p[b];
                histories[b] = Sampling.History.of(o, contexts[b]);
            }
            return new Started(st, first, histories, contexts);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /** One prompt. */
    public int[] generate(int[] prompt, Options o, TokenListener listener) {
        return generate(java.util.Collections.singletonList(prompt), o, listener)[0];
    }

    /** Checks a prompt and applies the caller's truncation choice. */
    int[] fit(int[] prompt, int b, Options o) {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("prompt " + b + " is empty");
        model.checkIds(prompt);
        TransformerConfig c = model.config;
        if (c.positions() != TransformerConfig.Positions.LEARNED_ABSOLUTE) return prompt;
        boolean encDec = c.architecture() == Architecture.ENCODER_DECODER;
        boolean continues = !encDec || c.shareCrossAndSelfAttention();     // target positions follow the prompt's
        if (!continues && o.maxNewTokens() > c.maxPositions()) {          // the start id and all but the last new token take positions
            throw new IllegalArgumentException(o.maxNewTokens() + " new tokens exceed the decoder's " + c.maxPositions()
                    + " positions (the start id and " + (o.maxNewTokens() - 1) + " fed-back tokens); ask for at most " + c.maxPositions());
        }
        int room = continues ? c.maxPositions() - o.maxNewTokens() : c.maxPositions();
        if (prompt.length <= room) return prompt;
        if (!o.truncate() || room < (continues ? 1 : 2)) {
            throw new IllegalArgumentException("prompt " + b + " has " + prompt.length + " tokens; " + (continues ? "with " + o.maxNewTokens()
                    + " new tokens " : "") + "the model's " + c.maxPositions() + " positions allow " + Math.max(room, 0)
                    + (room >= 1 ? " (or set Options.truncate(true) to keep its " + (continues ? "last " + room
                    : "first " + (room - 1) + " and its last (the closing special token)") + ")" : ""));
        }
        if (!continues) {             // an encoder's input: its head and its closing token, as tokenizer truncation keeps them
            int[] out = Arrays.copyOf(prompt, room);
            out[room - 1] = prompt[prompt.length - 1];
            return out;
        }
        return Arrays.copyOfRange(prompt, prompt.length - room, prompt.length);
    }

    /**
     * Chooses a token per sequence from {@code logits} (B, V), feeds it back through {@link Transformer#step}
     * until every sequence stopped or reached the limit. The last chosen token is not fed (the caller may:
     * a chat session does at its next turn); {@code lastOut}, when given, receives it per sequence.
     */
    int[][] loop(KvState st, float[][] first, Sampling.History[] histories, int[][] contexts, Options o, TokenListener listener,
                 int[] lastOut) {
        int batch = first.length;
        List<List<Integer>> out = new ArrayList<>();
        for (int b = 0; b < batch; b++) out.add(new ArrayList<>());
        boolean[] done = new boolean[batch];
        int[] next = new int[batch];
        java.util.Map<Integer, Integer> failed = new java.util.LinkedHashMap<>();
        Guides guides = Guides.start(o, contexts);
        try (Scratch firstScratch = new Scratch(model.backend)) {
            Tensor logits = firstScratch.uploadRows(first);                                     // (B, V)
            for (int step = 0; ; step++) {
                if (guides != null) guides.mask(model.backend, logits, done);
                int[][] sampled = sample(logits, o, step, histories);
                int[] chosen = sampled[0];
                int running = 0;
                for (int b = 0; b < batch; b++) {
                    if (done[b]) continue;
                    if (sampled[1][b] != 0) {                       // non-finite logits: this sequence ends, no token
                        failed.put(b, step);
                        done[b] = true;
                        continue;
                    }
                    next[b] = chosen[b];
                    if (guides != null) guides.advance(b, chosen[b]);
                    out.get(b).add(chosen[b]);
                    if (histories[b] != null) histories[b].add(chosen[b]);
                    if (listener != null) listener.onToken(b, chosen[b]);
                    if (o.ends(out.get(b))) done[b] = true;
                    else running++;
                }
                if (running == 0) break;
                // finished sequences repeat their last token; their rows are ignored. The logits stay on the backend.
                logits = model.stepOnDevice(st, next).view(batch, model.config.vocabSize());
            }
        }
        if (lastOut != null) System.arraycopy(next, 0, lastOut, 0, batch);
        int[][] result = new int[batch][];
        for (int b = 0; b < batch; b++) result[b] = out.get(b).stream().mapToInt(Integer::intValue).toArray();
        if (!failed.isEmpty()) throw new NonFiniteLogitsException(failed, result);
        return result;
    }

    /**
     * One id per row of logits (B, V), chosen by the backend's sample op, and the op's non-finite flag
     * of each row: {ids, flags}. Both live in one (2, B) tensor, so one copy brings them to the host.
     */
    int[][] sample(Tensor logits, Options o, int step, Sampling.History[] histories) {
        int batch = (int) logits.shape(0);
        try (Scratch s = new Scratch(model.backend)) {
            Tensor both = s.add(model.backend.empty(DType.I32, 2, batch));                    // (2, B): ids, flags
            Tensor ids = both.slice(0, 0, 1).view(batch);
            Tensor flags = both.slice(0, 1, 2).view(batch);
            Tensor penalized = Sampling.penalized(model.backend, logits, o, histories);      // null: no penalty
            if (penalized != null) s.add(penalized);
            model.backend.sample(Sampling.op(o, penalized != null ? penalized : logits, ids, step).nonFinite(flags));
            Tensor h = both.isCuda() ? s.add(model.backend.toHost(both)) : both;
            int[] all = h.toIntArray();
            return new int[][] {Arrays.copyOfRange(all, 0, batch), Arrays.copyOfRange(all, batch, 2 * batch)};
        }
    }
}
