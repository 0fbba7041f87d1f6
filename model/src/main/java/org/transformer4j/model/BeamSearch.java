// BeamSearch — transformers' deterministic beam search (generate(num_beams=N), do_sample false) on any decoding
// architecture: num_beams beams per prompt in one KvState whose rows are reordered each step by sharing KV blocks,
// length_penalty, early_stopping (true / false / "never"), num_return_sequences, and the processors
// repetition_penalty, no_repeat_ngram_size, bad_words_ids, min_length, min_new_tokens, forced_bos_token_id,
// forced_eos_token_id, suppress_tokens and begin_suppress_tokens; a batch of prompts, each with its beams.
package org.transformer4j.model;

import java.util.List;
import java.util.Set;
import org.transformer4j.model.TransformerConfig.Architecture;

/**
 * What it follows: transformers' {@code generation/utils.py} {@code GenerationMixin._beam_search} and its helpers as of
 * 4.5x / 5.x (read at commit 000034a44ef8), and {@code generation/logits_process.py}:
 * <ul>
 * <li>each beam's logits become log-probabilities (log_softmax) and then go through the processors — so a repetition
 *     penalty scales log-probabilities, and min_length / min_new_tokens / no_repeat_ngram_size set −∞;</li>
 * <li>the beam's running score is added; beams 1.. start at −1e9, so the first step draws from beam 0 only;</li>
 * <li>the best K = max(2, 1 + number of EOS ids) · num_beams candidates over (num_beams × V) per prompt;</li>
 * <li>a candidate that ends in an EOS id, or reaches max_new_tokens, among the first num_beams becomes a finished
 *     hypothesis scored {@code sum_logprobs / new_tokens ^ length_penalty} ({@code cur_len + 1 - decoder_prompt_len}
 *     in transformers: the new tokens, EOS included, without the prompt for a decoder-only model and without the
 *     decoder start for an encoder-decoder); each prompt keeps its best num_beams;</li>
 * <li>the next running beams are the best num_beams candidates that did not end;</li>
 * <li>early_stopping TRUE: a prompt takes no more hypotheses once it has num_beams; FALSE: a prompt is settled once
 *     its best running score divided by (new tokens so far) ^ length_penalty no longer beats its worst hypothesis;
 *     NEVER: the same with max_new_tokens as the length when length_penalty &gt; 0; the search ends (for the whole
 *     batch) when every prompt is settled, or every prompt is full under TRUE, or at max_new_tokens;</li>
 * <li>the result: per prompt the best num_return_sequences hypotheses (new tokens, EOS included) and their scores
 *     (transformers' sequences_scores).</li>
 * </ul>
 * Scores are computed in double on the host from the model's logits, which come to the host once per step (R × V
 * floats); the KV cache stays on the backend: beam rows are reordered with {@link KvState#reorder} (full blocks
 * shared by reference count, the partial last block copied on the backend when two beams continue one row). An
 * encoder-decoder's input is encoded once per prompt and its memory serves all the prompt's beams.
 * <p>
 * Not supported, and refused where the options could ask for them: beam sampling (do_sample with num_beams), diverse
 * beam groups, constraints, stop strings, guided decoding, presence / frequency penalties and logit bias (which
 * generate has no equivalent of in beam search here). A batch's prompts must be of one length (transformers pads
 * a batch; its min_length would then count the padding).
 */
public final class BeamSearch {

    /** transformers' early_stopping: true, false (the heuristic) or "never". */
    public enum EarlyStopping {
        FALSE, TRUE, NEVER;

        /** From generation_config.json's value: true, false or "never". */
        public static EarlyStopping of(Object value) {
            if (value instanceof Boolean b) return b ? TRUE : FALSE;
            if ("never".equals(value)) return NEVER;
            throw new IllegalArgumentException("early_stopping must be true, false or \"never\", got " + value);
        }
    }

    /**
     * @param numBeams           ≥ 1 beams per prompt
     * @param maxNewTokens       ≥ 1
     * @param eosIds             ids that end a hypothesis (returned as its last token); empty: only the limit ends them
     * @param lengthPenalty      the exponent of the new-token count that a finished score is divided by (finite)
     * @param earlyStopping      see {@link EarlyStopping}
     * @param numReturnSequences 1 … numBeams hypotheses returned per prompt
     * @param noRepeatNgramSize  0: off; n: no n-gram occurs twice in a row's ids (prompt included, decoder-only)
     * @param minNewTokens       0: off; EOS suppressed until that many new tokens
     * @param minLength          0: off; EOS suppressed while the row's ids (the prompt included for a decoder-only model,
     *                           the decoder start for an encoder-decoder) are fewer
     * @param repetitionPenalty  transformers' repetition_penalty on log-probabilities (&gt; 0, 1: none)
     * @param truncate           as {@link Generator.Options#truncate()}
     * @param rules              forced_bos_token_id, forced_eos_token_id, bad_words_ids, suppress_tokens,
     *                           begin_suppress_tokens (and vLLM's allowed_token_ids) on log-probabilities: a forced id
     *                           scores 0 and every other −∞, as transformers' processors set them ({@link TokenRules})
     */
    public record Options(int numBeams, int maxNewTokens, Set<Integer> eosIds, double lengthPenalty, EarlyStopping earlyStopping,
                          int numReturnSequences, int noRepeatNgramSize, int minNewTokens, int minLength, float repetitionPenalty,
                          boolean truncate, TokenRules rules) {
        public Options {
            if (numBeams < 1) throw new IllegalArgumentException("num_beams must be ≥ 1, got " + numBeams);
            if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be ≥ 1, got " + maxNewTokens);
            eosIds = eosIds == null ? Set.of() : Set.copyOf(eosIds);
            for (int e : eosIds) if (e < 0) throw new IllegalArgumentException("EOS id " + e + " is not a token id (< 0)");
            if (!Double.isFinite(lengthPenalty)) throw new IllegalArgumentException("length_penalty must be finite, got " + lengthPenalty);
            if (earlyStopping == null) earlyStopping = EarlyStopping.FALSE;
            if (numReturnSequences < 1 || numReturnSequences > numBeams) {
                throw new IllegalArgumentException("num_return_sequences must be in [1, num_beams = " + numBeams + "], got " + numReturnSequences);
            }
            if (noRepeatNgramSize < 0) throw new IllegalArgumentException("no_repeat_ngram_size must be ≥ 0, got " + noRepeatNgramSize);
            if (minNewTokens < 0) throw new IllegalArgumentException("min_new_tokens must be ≥ 0, got " + minNewTokens);
            if (minLength < 0) throw new IllegalArgumentException("min_length must be ≥ 0, got " + minLength);
            if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
                throw new IllegalArgumentException("repetition_penalty must be finite and > 0 (1: none), got " + repetitionPenalty);
            }
            if (rules == null) rules = TokenRules.NONE;
        }

        /** transformers' defaults: length_penalty 1, early_stopping false, one sequence returned, no processors, no EOS. */
        public static Options of(int numBeams, int maxNewTokens) {
            return new Options(numBeams, maxNewTokens, Set.of(), 1.0, EarlyStopping.FALSE, 1, 0, 0, 0, 1f, false, TokenRules.NONE);
        }

        public Options eosIds(Set<Integer> ids) {
            return new Options(numBeams, maxNewTokens, ids, lengthPenalty, earlyStopping, numReturnSequences, noRepeatNgramSize,
                    minNewTokens, minLength, repetitionPenalty, truncate, rules);
        }

        public Options lengthPenalty(double p) {
            return new Options(numBeams, maxNewTokens, eosIds, p, earlyStopping, numReturnSequences, noRepeatNgramSize,
                    minNewTokens, minLength, repetitionPenalty, truncate, rules);
        }

        public Options earlyStopping(EarlyStopping e) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, e, numReturnSequences, noRepeatNgramSize,
                    minNewTokens, minLength, repetitionPenalty, truncate, rules);
        }

        public Options numReturnSequences(int n) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, earlyStopping, n, noRepeatNgramSize,
                    minNewTokens, minLength, repetitionPenalty, truncate, rules);
        }

        public Options noRepeatNgramSize(int n) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, earlyStopping, numReturnSequences, n,
                    minNewTokens, minLength, repetitionPenalty, truncate, rules);
        }

        public Options minNewTokens(int n) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, earlyStopping, numReturnSequences, noRepeatNgramSize,
                    n, minLength, repetitionPenalty, truncate, rules);
        }

        public Options minLength(int n) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, earlyStopping, numReturnSequences, noRepeatNgramSize,
                    minNewTokens, n, repetitionPenalty, truncate, rules);
        }

        public Options repetitionPenalty(float p) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, earlyStopping, numReturnSequences, noRepeatNgramSize,
                    minNewTokens, minLength, p, truncate, rules);
        }

        public Options truncate(boolean t) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, earlyStopping, numReturnSequences, noRepeatNgramSize,
                    minNewTokens, minLength, repetitionPenalty, t, rules);
        }

        /** The token rules (null: none): forced BOS / EOS, bad words, suppressed and allowed ids; see {@link TokenRules}. */
        public Options rules(TokenRules r) {
            return new Options(numBeams, maxNewTokens, eosIds, lengthPenalty, earlyStopping, numReturnSequences, noRepeatNgramSize,
                    minNewTokens, minLength, repetitionPenalty, truncate, r);
        }

        /**
         * Beam options that carry over {@code g}'s token limit, stop ids, repetition penalty, truncation, length and n-gram
         * bans and {@link TokenRules}; refuses,
         * naming the option, what beam search does not do: sampling (temperature &gt; 0: transformers' beam sampling),
         * stop strings, a guide, presence / frequency penalties, logit bias.
         */
        public static Options from(Generator.Options g, int numBeams) {
            if (g.temperature() > 0) {
                throw new IllegalArgumentException("beam sampling (temperature " + g.temperature() + " / do_sample with num_beams "
                        + numBeams + ") is not supported: beam search here is deterministic; use temperature 0 or num_beams 1");
            }
            if (!g.stopStrings().isEmpty()) throw new IllegalArgumentException("stop strings are not supported with num_beams > 1");
            if (g.guide() != null) throw new IllegalArgumentException("guided decoding (a JSON schema) is not supported with num_beams > 1");
            if (g.presencePenalty() != 0 || g.frequencyPenalty() != 0) {
                throw new IllegalArgumentException("presence / frequency penalties are not supported with num_beams > 1");
            }
            if (!g.logitBias().isEmpty()) throw new IllegalArgumentException("logit bias is not supported with num_beams > 1");
            return of(numBeams, g.maxNewTokens()).eosIds(g.stopIds()).repetitionPenalty(g.repetitionPenalty()).truncate(g.truncate())
                    .noRepeatNgramSize(g.noRepeatNgramSize()).minNewTokens(g.minNewTokens()).minLength(g.minLength()).rules(g.rules());
        }
    }

    /** A finished hypothesis: its new tokens (the EOS that ended it included) and its score (sequences_scores). */
    public record Hypothesis(int[] tokens, double score) {
        @Override public String toString() { return java.util.Arrays.toString(tokens) + " " + score; }
    }

    private final Transformer model;

    public BeamSearch(Transformer model) {
        if (model.config.architecture() == Architecture.ENCODER_ONLY) {
            throw new IllegalArgumentException("an encoder-only model does not generate; use encode, classify or maskedLmLogits");
        }
        this.model = model;
    }

    /**
     * Beam search for each prompt (decoder-only: the start of the sequence; encoder-decoder: the encoder's input);
     * returns per prompt its best {@code o.numReturnSequences()} hypotheses, best first. Thread-safe as
     * {@link Generator#generate} is: each call has its own KvState.
     */
    public List<List<Hypothesis>> generate(List<int[]> prompts, Options o) {
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("no prompts");
        if (o == null) throw new IllegalArgumentException("no options (e.g. BeamSearch.Options.of(numBeams, maxNewTokens))");
        for (int e : o.eosIds()) {
            if (e >= model.config.vocabSize()) throw new IllegalArgumentException("EOS id " + e + " is outside the vocabulary of " + model.config.vocabSize());
        }
        o.rules().check(model.config.vocabSize());
        Generator g = new Generator(model);
        Generator.Options fitting = Generator.Options.greedy(o.maxNewTokens()).truncate(o.truncate());
        int[][] p = new int[prompts.size()][];
        for (int b = 0; b < p.length; b++) p[b] = g.fit(prompts.get(b), b, fitting);
        boolean encDec = model.config.architecture() == Architecture.ENCODER_DECODER;
        int n = o.numBeams();
        int rows = Math.multiplyExact(p.length, n);
        int[][] context = new int[p.length][];
        for (int b = 0; b < p.length; b++) {
            context[b] = encDec ? new int[] {model.decoderStartId()} : p[b];
            if (context[b].length != context[0].length) {
                throw new IllegalArgumentException("beam search takes prompts of one length in a batch: prompt 0 has " + context[0].length
                        + " tokens, prompt " + b + " has " + context[b].length + " (run them in separate calls)");
            }
        }
        BeamScorer scorer = new BeamScorer(o, context);
        int longest = p[0].length;
        try (KvState st = encDec ? model.newState(p, o.maxNewTokens(), n) : model.newState(rows, (long) longest + o.maxNewTokens())) {
            boolean inputRows = encDec && model.config.shareCrossAndSelfAttention();
            st.requireCapacity((!encDec || inputRows ? (long) longest : 0L) + o.maxNewTokens(),
                    (encDec ? "" : "prompts of " + longest + " tokens and ") + o.maxNewTokens() + " new tokens");
            int[] firstOfPrompt = new int[rows];
            for (int r = 0; r < rows; r++) firstOfPrompt[r] = r - r % n;
            float[][] logits = new float[rows][];
            if (encDec) {
                st.reorder(firstOfPrompt);                     // step 1's memory rows: the prompt's beams share them
                int[] starts = new int[rows];
                java.util.Arrays.fill(starts, model.decoderStartId());
                logits = model.step(st, starts);
            } else {
                for (int b = 0; b < p.length; b++) {
                    float[] l = model.prefillLast(st, b * n, p[b]);
                    for (int j = 0; j < n; j++) logits[b * n + j] = l;
                }
                st.reorder(firstOfPrompt);
            }
            while (true) {
                BeamScorer.Step s = scorer.advance(logits);
                if (scorer.done()) break;
                st.reorder(s.sources());
                logits = model.step(st, s.tokens());
            }
        }
        return scorer.results();
    }

    /** One prompt: its best {@code o.numReturnSequences()} hypotheses. */
    public List<Hypothesis> generate(int[] prompt, Options o) {
        return generate(java.util.Collections.singletonList(prompt), o).get(0);
    }
}
