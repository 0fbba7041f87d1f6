// AfterReasoning — a constraint that waits for a reasoning model to stop thinking: every id is allowed (the
// end ids too) until a Watch says the reasoning has ended, then the wrapped constraint runs from its start,
// as vLLM's structured-output manager applies a grammar only once its reasoning parser says the reasoning ended.
package org.transformer4j.model.guided;

import java.util.Arrays;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * A {@link TokenConstraint.Factory} over another one. While a sequence reasons, its mask allows every id (an end
 * id too: a model may stop while thinking, and the reply is then all reasoning) and nothing advances the wrapped
 * constraint; the id that completes the end marker is not given to it either (vLLM's {@code should_advance}); from the
 * next id on, the wrapped constraint's own state, started fresh, decides. A watch that says the reasoning ended
 * before any id (the prompt closed it, e.g. Qwen3's {@code enable_thinking: false}) hands over from the first id.
 * Thread-safe as a factory; each {@link #start}ed state is one sequence's.
 */
public final class AfterReasoning implements TokenConstraint.Factory {

    /** One sequence's view of its reasoning: whether it ended, as the generated ids come. Not thread-safe. */
    public interface Watch {
        /** Whether the reasoning has ended, after the prompt and the ids {@link #add}ed so far. */
        boolean ended();

        /** Reads the next generated id (an end id is never given). */
        void add(int id);
    }

    private final TokenConstraint.Factory inner;
    private final Supplier<? extends Watch> watches;
    private final int vocab;

    /** {@code inner} once the watch that {@code watches} makes for each sequence says the reasoning ended; {@code vocab}: V. */
    public AfterReasoning(TokenConstraint.Factory inner, Supplier<? extends Watch> watches, int vocab) {
        if (inner == null || watches == null) throw new IllegalArgumentException("AfterReasoning needs a constraint and a watch");
        if (vocab < 1) throw new IllegalArgumentException("vocab must be ≥ 1, got " + vocab);
        this.inner = inner;
        this.watches = watches;
        this.vocab = vocab;
    }

    /**
     * A watch for a literal end marker in the reply's text ({@code "</think>"}), which may arrive split across ids:
     * {@code piece} gives each id's text (special tokens as text); the reasoning ends with the id that completes the
     * first occurrence. {@code endedInPrompt}: the prompt already closed the reasoning.
     */
    public static Supplier<Watch> marker(String end, boolean endedInPrompt, IntFunction<String> piece) {
        if (end == null || end.isEmpty()) throw new IllegalArgumentException("the end marker must not be empty");
        return () -> new Watch() {
            private final StringBuilder tail = new StringBuilder();     // the last end.length() - 1 characters read
            private boolean ended = endedInPrompt;

            @Override public boolean ended() { return ended; }

            @Override public void add(int id) {
                if (ended) return;
                tail.append(piece.apply(id));
                if (tail.indexOf(end) >= 0) ended = true;
                else if (tail.length() >= end.length()) tail.delete(0, tail.length() - end.length() + 1);
            }
        };
    }

    @Override public Set<Integer> endIds() { return inner.endIds(); }

    @Override public TokenConstraint start() {
        Watch w = watches.get();
        return w.ended() ? inner.start() : new Run(w);
    }

    /** One sequence: free while it reasons, then the wrapped constraint's state. */
    private final class Run implements TokenConstraint {
        private final Watch watch;
        private TokenConstraint after;          // null while reasoning
        private int[] all;

        Run(Watch watch) { this.watch = watch; }

        @Override public int[] allowed() {
            if (after != null) return after.allowed();
            if (all == null) {
                all = new int[(vocab + 31) >>> 5];
                Arrays.fill(all, -1);
            }
            return all;
        }

        @Override public void advance(int id) {
            if (after != null) { after.advance(id); return; }
            if (id < 0 || id >= vocab) throw new IllegalStateException("token " + id + " is outside the vocabulary [0, " + vocab + ")");
            watch.add(id);
            if (watch.ended()) after = inner.start();       // the marker's own id is reasoning, not the constrained text
        }

        /** While reasoning, an end id may come (vLLM's mask allows every id then). */
        @Override public boolean isComplete() { return after == null || after.isComplete(); }
    }
}
