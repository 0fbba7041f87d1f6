// ChatSession — a multi-turn conversation: each user message and each reply joins the history.
// Causal (decoder-only) models keep one KV cache and encode only the new tokens each turn; models
// with bidirectional input (encoder-decoder, prefix-LM) re-encode the whole history every turn.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.transformer4j.model.TransformerConfig.Architecture;

/**
 * {@link #tokensEncodedPerTurn()} counts the tokens each turn ran through the model (encoder and
 * decoder): the cost DESIGN.md's last paragraph speaks of. Not thread-safe; closed sessions refuse
 * further turns.
 */
public final class ChatSession implements AutoCloseable {

    private final Transformer model;
    private final Generator generator;
    private final Generator.Options options;
    private final int capacity;
    private final boolean incremental;
    private final List<Integer> history = new ArrayList<>();
    private final List<Long> encodedPerTurn = new ArrayList<>();
    private KvState cache;                  // causal models: the whole conversation so far
    private int pending = -1;               // causal models: the last reply token, not yet in the cache
    private boolean closed;

    /** {@code capacity}: the most tokens the conversation may hold. */
    public ChatSession(Transformer model, Generator.Options options, int capacity) {
        this.model = model;
        this.generator = new Generator(model);
        this.options = options;
        this.capacity = capacity;
        this.incremental = model.config.architecture() == Architecture.DECODER_ONLY;
        if (capacity < 1) throw new IllegalArgumentException("capacity must be ≥ 1, got " + capacity);
        TransformerConfig c = model.config;
        if (c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE && capacity > c.maxPositions()) {
            // checked here so that a turn that passed send()'s checks cannot run out of positions half-way
            throw new IllegalArgumentException("capacity " + capacity + " exceeds the model's " + c.maxPositions() + " learned positions");
        }
        if (incremental) cache = model.newState(1, capacity);
    }

    /** True when only new tokens are encoded each turn (causal models). */
    public boolean incremental() { return incremental; }

    /** Sends a user message (token ids) and returns the reply's tokens. */
    public int[] send(int[] message) {
        if (closed) throw new IllegalStateException("this chat session is closed");
        if (message == null || message.length == 0) throw new IllegalArgumentException("the message is empty");
        model.checkIds(message);
        int held = history.size() + message.length + options.maxNewTokens();
        if (held > capacity) {
            throw new IllegalArgumentException("the conversation would hold " + held + " tokens (history " + history.size()
                    + " + message " + message.length + " + reply up to " + options.maxNewTokens() + "), more than the session's "
                    + capacity);
        }
        int[] reply;
        long encoded;
        if (incremental) {
            int[] feed = pending < 0 ? message : prepend(pending, message);
            long before = cache.tokensEncoded();
            float[][] logits = model.prefill(cache, 0, feed);
            int[] last = new int[1];
            reply = generator.loop(cache, new float[][] {logits[logits.length - 1]}, options, null, last)[0];
            pending = last[0];
            encoded = cache.tokensEncoded() - before;
        } else {
            int[] prompt = concat(history, message);
            try (KvState st = turnState(prompt)) {
                reply = generateFrom(st, prompt);
                encoded = st.tokensEncoded();
            }
        }
        for (int t : message) history.add(t);
        for (int t : reply) history.add(t);
        encodedPerTurn.add(encoded);
        return reply;
    }

    private KvState turnState(int[] prompt) {
        return model.config.architecture() == Architecture.ENCODER_DECODER
                ? model.newState(new int[][] {prompt}, options.maxNewTokens())
                : model.newState(1, prompt.length + options.maxNewTokens());
    }

    private int[] generateFrom(KvState st, int[] prompt) {
        float[][] first;
        if (model.config.architecture() == Architecture.ENCODER_DECODER) {
            TransformerConfig.SpecialIds ids = model.config.specialIds();
            int start = ids.decoderStart() >= 0 ? ids.decoderStart() : ids.bos();
            if (start < 0) throw new IllegalStateException("the config names no decoder-start (or BOS) id");
            first = model.step(st, new int[] {start});
        } else {
            float[][] l = model.prefill(st, 0, prompt);
            first = new float[][] {l[l.length - 1]};
        }
        return generator.loop(st, first, options, null, null)[0];
    }

    /** Tokens run through the model in each turn so far. */
    public List<Long> tokensEncodedPerTurn() { return Collections.unmodifiableList(encodedPerTurn); }

    /** The conversation so far (messages and replies). */
    public int[] history() { return history.stream().mapToInt(Integer::intValue).toArray(); }

    @Override
    public void close() {
        closed = true;
        if (cache != null) cache.close();
    }

    private static int[] prepend(int first, int[] rest) {
        int[] a = new int[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }

    private static int[] concat(List<Integer> history, int[] message) {
        int[] a = new int[history.size() + message.length];
        for (int i = 0; i < history.size(); i++) a[i] = history.get(i);
        System.arraycopy(message, 0, a, history.size(), message.length);
        return a;
    }
}
