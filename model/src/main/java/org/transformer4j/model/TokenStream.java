// TokenStream — generation as a lazy iterator (Generator.stream): each next() hands out one new token,
// and a decode step runs only when the previous step's tokens have all been taken; the KvState is
// released on exhaustion, on close, or when a step fails.
package org.transformer4j.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.transformer4j.runtime.Tensor;

/**
 * Yields the same tokens in the same order as {@link Generator#generate} calls its listener: per step,
 * one token for each sequence still running, in sequence order. The first token of each sequence comes
 * from the prompt's logits, so the first {@code next()} runs no step; each later step feeds every
 * sequence's last token (a finished sequence repeats its own; its row is ignored). Once every sequence
 * has stopped, the state is released at once, before the last tokens are taken; {@link #close} releases it
 * early. After {@link #close}, {@link #hasNext} and {@link #next} throw {@link IllegalStateException};
 * after a failed step they throw it too, with the failure as its cause. Not thread-safe.
 */
public final class TokenStream implements Iterator<TokenStream.Token>, AutoCloseable {

    /** One new token: the index of its prompt and the token id. */
    public record Token(int sequence, int id) {}

    private final Transformer model;
    private final Generator generator;
    private final Generator.Options options;
    private final int batch;
    private final List<List<Integer>> generated = new ArrayList<>();
    private final boolean[] done;
    private final Guides guides;                      // structured outputs and bans, or null
    private final int[] last;                       // (B) each sequence's last chosen token: what the next step feeds
    private final ArrayDeque<Token> ready = new ArrayDeque<>();    // id −1: the sequence's logits were non-finite
    private final java.util.Map<Integer, Integer> failedAt = new java.util.HashMap<>();
    /** The decoding state; null once released. Package-private for tests. */
    KvState state;
    private Scratch scratch;            // holds the first logits (later ones belong to the state's step)
    private Tensor logits;                          // (B, V) that choose the next tokens, on the backend
    private final Sampling.History[] histories;   // each sequence's tokens for the penalties (null entries: none)
    private int step;
    private boolean closed;
    private RuntimeException failure;

    /** Takes ownership of {@code state} (closed here if this constructor fails). */
    TokenStream(Generator generator, KvState state, float[][] first, Sampling.History[] histories, int[][] contexts,
                Generator.Options options) {
        this.model = state.model;
        this.histories = histories;
        this.generator = generator;
        this.options = options;
        this.batch = first.length;
        this.state = state;
        this.done = new boolean[batch];
        this.last = new int[batch];
        this.guides = Guides.start(options, contexts);
        for (int b = 0; b < batch; b++) generated.add(new ArrayList<>());
        try {
            scratch = new Scratch(model.backend);
            logits = scratch.uploadRows(first);
        } catch (RuntimeException e) {
            release();
            throw e;
        }
    }

    /** True while tokens remain; may run one decode step (and throws what that step throws). */
    @Override
    public boolean hasNext() {
        checkUsable();
        if (ready.isEmpty() && state != null) advance();
        return !ready.isEmpty();
    }

    /**
     * The next token; where a sequence's logits turned non-finite, throws a {@link NonFiniteLogitsException}
     * naming it and its step in place of its token (that sequence has ended; the stream goes on with the others).
     */
    @Override
    public Token next() {
        if (!hasNext()) throw new NoSuchElementException("the generation has ended: every sequence stopped or reached maxNewTokens");
        Token t = ready.poll();
        if (t.id() < 0) throw new NonFiniteLogitsException(java.util.Map.of(t.sequence(), failedAt.get(t.sequence())), null);
        return t;
    }

    /** Releases the state (if the generation has not ended yet) and refuses further use. Idempotent. */
    @Override
    public void close() {
        closed = true;
        ready.clear();
        release();
    }

    /** Chooses the next token of every running sequence, first feeding the last ones (after the first step). */
    private void advance() {
        try {
            if (step > 0) {
                logits = model.stepOnDevice(state, last).view(batch, model.config.vocabSize());   // the state's step owns them
                if (scratch != null) {                          // the first logits are no longer needed
                    scratch.close();
                    scratch = null;
                }
            }
            if (guides != null) guides.mask(model.backend, logits, done);
            int[][] sampled = generator.sample(logits, options, step, histories);
            int[] chosen = sampled[0];
            step++;
            int running = 0;
            for (int b = 0; b < batch; b++) {
                if (done[b]) continue;
                if (sampled[1][b] != 0) {                   // non-finite logits: b ends here; next() throws in its place
                    done[b] = true;
                    ready.add(new Token(b, -1));
                    failedAt.put(b, step - 1);
                    continue;
                }
                last[b] = chosen[b];
                if (guides != null) guides.advance(b, chosen[b]);
                generated.get(b).add(chosen[b]);
                if (histories[b] != null) histories[b].add(chosen[b]);
                ready.add(new Token(b, chosen[b]));
                if (options.ends(generated.get(b))) done[b] = true;
                else running++;
            }
            if (running == 0) release();
        } catch (RuntimeException e) {
            failure = e;
            ready.clear();
            release();
            throw e;
        }
    }

    private void checkUsable() {
        if (closed) throw new IllegalStateException("this token stream is closed");
        if (failure != null) throw new IllegalStateException("this token stream failed: " + failure, failure);
    }

    private void release() {
        if (scratch != null) {
            scratch.close();
            scratch = null;
            logits = null;
        }
        if (state != null) {
            state.close();
            state = null;
        }
    }
}
