// Guides — what a batch of sequences may not choose next, one entry each: a structured output's constraint and the
// ids its Sampling.Bans forbid or force (min_new_tokens, min_length, no_repeat_ngram_size, TokenRules); and the two things a decode loop
// does with them: mask the logits before the sample op (one mask op), advance past the chosen ids.
package org.transformer4j.model;

import org.transformer4j.model.guided.TokenConstraint;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Tensor;

/** Generator's and TokenStream's per-sequence constraints ({@link Generator.Options#guide()}) and bans. */
final class Guides {

    private final Generator.Options options;
    private final TokenConstraint[] each;                 // null when the options have no guide
    private final Sampling.Bans[] bans;

    private Guides(Generator.Options options, int[][] contexts) {
        this.options = options;
        int batch = contexts.length;
        each = options.guide() == null ? null : new TokenConstraint[batch];
        if (each != null) for (int b = 0; b < batch; b++) each[b] = options.guide().start();
        bans = new Sampling.Bans[batch];
        for (int b = 0; b < batch; b++) bans[b] = Sampling.Bans.of(options, contexts[b]);
    }

    /**
     * The constraints and bans of new sequences whose input_ids start as {@code contexts} (B) (decoder-only: the
     * prompts; encoder-decoder: the decoder's start id), or null when the options have neither.
     */
    static Guides start(Generator.Options o, int[][] contexts) {
        return o.guide() == null && !o.banning() ? null : new Guides(o, contexts);
    }

    /** Sets to −∞ the logits (B, V) that each running sequence may not choose (finished rows keep all). */
    void mask(Backend backend, Tensor logits, boolean[] done) {
        TokenConstraint[] running = new TokenConstraint[bans.length];
        Sampling.Bans[] banned = new Sampling.Bans[bans.length];
        for (int b = 0; b < bans.length; b++) {
            if (done[b]) continue;
            running[b] = each == null ? null : each[b];
            banned[b] = bans[b];
        }
        Sampling.mask(backend, logits, running, banned);
    }

    /** Moves sequence b past its chosen id (a stop id ends the sequence instead of advancing its constraint). */
    void advance(int b, int id) {
        if (bans[b] != null) bans[b].add(id);
        if (each != null && !options.stopIds().contains(id)) each[b].advance(id);
    }
}
