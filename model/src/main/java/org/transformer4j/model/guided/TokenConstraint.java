// TokenConstraint — what a generator asks of a constrained decoder at each step: the ids allowed now,
// then the id it chose. One per sequence, made by a Factory that a Generator.Options carries.
package org.transformer4j.model.guided;

import java.util.Set;

/**
 * The state of one sequence's constraint. Each step the generator reads {@link #allowed()}, keeps only
 * those logits (the others become −∞) before sampling, and calls {@link #advance} with the id it chose.
 * Not thread-safe: one sequence, one thread at a time.
 */
public interface TokenConstraint {

    /** The ids allowed next as a bitset over the model's vocabulary V: ceil(V / 32) words, id i at bit i % 32 of word i / 32. Read only. */
    int[] allowed();

    /** Moves past {@code id}, which must be allowed (IllegalStateException if not). */
    void advance(int id);

    /** Whether the text so far is complete (an end id may come next). */
    boolean isComplete();

    /** Makes the state of a new sequence; shared by the requests that use the same constraint. Thread-safe. */
    interface Factory {
        TokenConstraint start();

        /** The ids that end a sequence once the constraint is complete (e.g. the model's EOS ids): a generator stops on them. */
        Set<Integer> endIds();
    }
}
