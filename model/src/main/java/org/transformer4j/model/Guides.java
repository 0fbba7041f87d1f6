// Guides — the structured-output constraints of a batch of sequences, one each, and the two things a
// decode loop does with them: mask the logits before the sample op, advance past the chosen ids.
package org.transformer4j.model;

import org.transformer4j.model.guided.TokenConstraint;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Tensor;

/** Generator's and TokenStream's per-sequence constraints ({@link Generator.Options#guide()}). */
final class Guides {

    private final Generator.Options options;
    private final TokenConstraint[] each;

    private Guides(Generator.Options options, int batch) {
        this.options = options;
        each = new TokenConstraint[batch];
        for (int b = 0; b < batch; b++) each[b] = options.guide().start();
    }

    /** The constraints of {@code batch} new sequences, or null when the options have none. */
    static Guides start(Generator.Options o, int batch) { return o.guide() == null ? null : new Guides(o, batch); }

    /** Sets to −∞ the logits (B, V) that each running sequence's constraint does not allow (finished rows keep all). */
    void mask(Backend backend, Tensor logits, boolean[] done) {
        TokenConstraint[] running = new TokenConstraint[each.length];
        for (int b = 0; b < each.length; b++) running[b] = done[b] ? null : each[b];
        Sampling.mask(backend, logits, running);
    }

    /** Moves sequence b's constraint past its chosen id (a stop id ends the sequence instead). */
    void advance(int b, int id) {
        if (!options.stopIds().contains(id)) each[b].advance(id);
    }
}
