// PenaltyOptions — the options `t4j generate` and `t4j chat` share for the sampling penalties, min_p and the banning
// rules: --repetition-penalty, --presence-penalty, --frequency-penalty, --min-p, --min-new-tokens and
// --no-repeat-ngram-size, with generation_config.json's repetition_penalty, min_p, min_new_tokens (else min_length)
// and no_repeat_ngram_size as the defaults, as transformers' generate takes them from the folder; the folder's token rules
// (forced_bos_token_id, forced_eos_token_id, bad_words_ids, suppress_tokens, begin_suppress_tokens) as generate applies
// them, and --bad-words (vLLM's bad_words) on top.
package org.transformer4j.cli;

import java.util.Optional;
import org.transformer4j.model.GenerationConfig;
import org.transformer4j.model.Generator;
import picocli.CommandLine.Option;

final class PenaltyOptions {

    @Option(names = "--repetition-penalty", paramLabel = "P", description = "transformers' repetition penalty over the prompt and the "
            + "reply (greedy too): > 0, 1 is off (default: generation_config.json's repetition_penalty, else 1).")
    Double repetition;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "0",
            description = "OpenAI's presence penalty over the reply's tokens, in [-2, 2] (default: ${DEFAULT-VALUE}).")
    double presence;

    @Option(names = "--frequency-penalty", paramLabel = "P", defaultValue = "0",
            description = "OpenAI's frequency penalty over the reply's tokens, in [-2, 2] (default: ${DEFAULT-VALUE}).")
    double frequency;

    @Option(names = "--min-p", paramLabel = "P", description = "When sampling, keep the tokens at least this times as likely as the "
            + "most likely one, after top-k and top-p: [0, 1], 0 is off (default: generation_config.json's min_p, else 0).")
    Double minP;

    @Option(names = "--min-new-tokens", paramLabel = "N", description = "transformers' min_new_tokens: the end-of-sequence ids are "
            + "banned until N new tokens were generated (default: generation_config.json's min_new_tokens, else its min_length "
            + "counted over the prompt, else 0).")
    Integer minNewTokens;

    @Option(names = "--no-repeat-ngram-size", paramLabel = "N", description = "transformers' no_repeat_ngram_size: no n-gram of N "
            + "tokens occurs twice in the prompt and the reply; 0 is off (default: generation_config.json's, else 0).")
    Integer noRepeatNgramSize;

    @Option(names = "--bad-words", paramLabel = "WORD", description = "vLLM's bad_words: a word the reply may not contain, tokenized "
            + "as vLLM does (bare and after a space); its last token is banned where the reply's last tokens are the rest. "
            + "Repeatable. The folder's generation_config.json bad_words_ids (and its other token rules) apply as well.")
    java.util.List<String> badWords;

    /** Refuses out-of-range values, naming the option. */
    void check() {
        if (repetition != null && (!(repetition > 0) || repetition.isInfinite())) {
            throw new IllegalArgumentException("--repetition-penalty must be > 0 (1 is off), got " + repetition);
        }
        if (!(presence >= -2 && presence <= 2)) throw new IllegalArgumentException("--presence-penalty must be in [-2, 2], got " + presence);
        if (!(frequency >= -2 && frequency <= 2)) throw new IllegalArgumentException("--frequency-penalty must be in [-2, 2], got " + frequency);
        if (minP != null && !(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("--min-p must be in [0, 1], got " + minP);
        if (minNewTokens != null && minNewTokens < 0) throw new IllegalArgumentException("--min-new-tokens must be ≥ 0, got " + minNewTokens);
        if (noRepeatNgramSize != null && noRepeatNgramSize < 0) {
            throw new IllegalArgumentException("--no-repeat-ngram-size must be ≥ 0 (0 is off), got " + noRepeatNgramSize);
        }
    }

    /**
     * {@code o} with these options, and generation_config.json's repetition_penalty, min_p (when sampling), min_new_tokens
     * (else min_length) and no_repeat_ngram_size where not given, and its token rules; --bad-words tokenized with {@code tok}.
     */
    Generator.Options apply(Generator.Options o, Optional<GenerationConfig> gc, org.transformer4j.model.tokenizer.Tokenizer tok) {
        o = apply(o, gc);
        if (badWords == null || badWords.isEmpty()) return o;
        try {
            return o.outputBadWordsIds(org.transformer4j.model.TokenRules.badWordsOf(tok, badWords));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--bad-words: " + e.getMessage(), e);
        }
    }

    /** The same without --bad-words (no tokenizer needed). */
    Generator.Options apply(Generator.Options o, Optional<GenerationConfig> gc) {
        check();
        if (gc.isPresent()) o = o.rules(gc.get().rules());           // forced BOS / EOS, bad words, suppressed ids
        double rep = repetition != null ? repetition : gc.map(GenerationConfig::repetitionPenalty).orElse(1.0);
        Double p = minP != null ? minP : gc.map(GenerationConfig::minP).orElse(null);
        o = o.repetitionPenalty((float) rep).presenceFrequency((float) presence, (float) frequency);
        GenerationConfig.Beam fb = gc.map(GenerationConfig::beam).orElse(null);
        if (minNewTokens != null) o = o.minNewTokens(minNewTokens).minLength(0);     // as generate: min_new_tokens wins
        else if (fb != null && fb.minNewTokens() != null) o = o.minNewTokens(fb.minNewTokens()).minLength(0);
        else if (fb != null && fb.minLength() != null) o = o.minLength(fb.minLength());
        if (noRepeatNgramSize != null) o = o.noRepeatNgramSize(noRepeatNgramSize);
        else if (fb != null && fb.noRepeatNgramSize() != null) o = o.noRepeatNgramSize(fb.noRepeatNgramSize());
        return p != null && o.temperature() > 0 ? o.minP(p.floatValue()) : o;
    }
}
