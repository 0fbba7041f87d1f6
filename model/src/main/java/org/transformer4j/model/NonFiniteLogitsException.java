// NonFiniteLogitsException — generation met logits that hold a NaN or +∞ (or no finite value) for
// some sequences: those sequences were ended at that step, the others went on to their end.
package org.transformer4j.model;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Thrown by {@link Generator#generate} after every healthy sequence of the batch has finished, by
 * {@link TokenStream#next} in place of the token that the affected sequence would have had, and by
 * {@link ChatSession#send} (whose turn then leaves the session as it was). The sample op flags such
 * rows (see {@code SampleOp}); no token is chosen from them. Usually the weights hold a NaN or ±∞
 * ({@link Pretrained#load} checks), or the activations overflowed the compute dtype.
 */
public final class NonFiniteLogitsException extends ArithmeticException {

    private final Map<Integer, Integer> stepBySequence;
    private final int[][] tokens;

    /**
     * @param stepBySequence each affected sequence and the step (0: the first new token) whose logits were non-finite
     * @param tokens         every sequence's new tokens (an affected one's up to that step), or null (a stream)
     */
    NonFiniteLogitsException(Map<Integer, Integer> stepBySequence, int[][] tokens) {
        super(message(stepBySequence, tokens));
        this.stepBySequence = Map.copyOf(stepBySequence);
        this.tokens = tokens;
    }

    private static String message(Map<Integer, Integer> stepBySequence, int[][] tokens) {
        String where = new TreeMap<>(stepBySequence).entrySet().stream()
                .map(e -> "sequence " + e.getKey() + " at step " + e.getValue())
                .collect(Collectors.joining(", "));
        return "non-finite logits (a NaN or +inf, or no finite value) for " + where + ": "
                + (stepBySequence.size() == 1 ? "that sequence was" : "those sequences were") + " ended there"
                + (tokens != null && tokens.length > stepBySequence.size() ? "; the other sequences went on (tokens())" : "")
                + "; check the weights for NaN/inf (Pretrained.load checks them) or compute in F32";
    }

    /** The affected sequences and the step of each (0: the first new token). */
    public Map<Integer, Integer> stepBySequence() { return stepBySequence; }

    /** Every sequence's new tokens (affected ones up to the failed step), as generate would have returned them; null from a stream. */
    public int[][] tokens() {
        if (tokens == null) return null;
        int[][] copy = new int[tokens.length][];
        for (int i = 0; i < tokens.length; i++) copy[i] = Arrays.copyOf(tokens[i], tokens[i].length);
        return copy;
    }
}
