// PenaltyOptions — the options `t4j generate` and `t4j chat` share for the sampling penalties, min_p and the banning
// rules: --repetition-penalty, --presence-penalty, --frequency-penalty, --min-p, --min-new-tokens and
// --no-repeat-ngram-size, with generation_config.json's repetition_penalty, min_p, min_new_tokens (else min_length)
// and no_repeat_ngram_size as the defaults, as transformers' generate takes them from the folder.
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
     * (else min_length) and no_repeat_ngram_size where not given.
     */
    Generator.Options apply(Generator.Options o, Optional<GenerationConfig> gc) {
        check();
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
