// ChatSession — a multi-turn conversation: each user message and each reply joins the history.
// Models with causal input keep one KV cache and encode only the new tokens each turn (decoder-only
// models, and the encoder-decoder with all four steps, which is one); models with bidirectional input
// (encoder-decoder, prefix-LM) re-encode the whole history every turn.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.transformer4j.model.TransformerConfig.Architecture;

/**
 * {@link #tokensEncodedPerTurn()} counts the tokens each turn ran through the model (encoder and
 * decoder): the cost DESIGN.md's last paragraph speaks of. Every turn's reply is the one that
 * generating from the whole history would give ({@code Generator.generate(history + message)}); being
 * incremental only changes what it costs. A turn that fails leaves the session as it was. Not
 * thread-safe; closed sessions refuse further turns.
 */
public final class ChatSession implements AutoCloseable {

    private final Transformer model;
    private final Generator generator;
    private final Generator.Options options;
    private final int capacity;
    private final boolean incremental;
    private final boolean encoderDecoder;
    private final List<Integer> history = new ArrayList<>();
    private final List<Long> encodedPerTurn = new ArrayList<>();
    private KvState cache;                  // incremental sessions: the history but `carry`
    private int[] carry = new int[0];       // incremental sessions: the history's last tokens, not yet in the cache
    private boolean closed;

    /** {@code capacity}: the most tokens the conversation may hold. */
    public ChatSession(Transformer model, Generator.Options options, int capacity) {
        if (model == null || options == null) throw new IllegalArgumentException("a chat session needs a model and options");
        this.model = model;
        this.generator = new Generator(model);
        this.options = options;
        this.capacity = capacity;
        this.incremental = incremental(model.config);
        this.encoderDecoder = model.config.architecture() == Architecture.ENCODER_DECODER;
        if (capacity < 1) throw new IllegalArgumentException("capacity must be ≥ 1, got " + capacity);
        TransformerConfig c = model.config;
        if (c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE && capacity > c.maxPositions()) {
            // checked here so that a turn that passed send()'s checks cannot run out of positions half-way
            throw new IllegalArgumentException("capacity " + capacity + " exceeds the model's " + c.maxPositions() + " learned positions");
        }
        if (encoderDecoder) model.decoderStartId();                           // fail now, not at the first turn
        // an encoder-decoder's cache starts empty: its input rows are prefilled turn by turn (see send)
        if (incremental) {
            cache = encoderDecoder ? new KvState(model, 1, capacity) : model.newState(1, capacity);
            try {
                cache.requireCapacity(capacity, "a chat session of capacity " + capacity + " tokens would");
            } catch (RuntimeException e) {
                cache.close();
                throw e;
            }
        }
    }

    /**
     * Whether a session over a model with this config encodes only new tokens each turn. That needs
     * causal input, so that the history's states do not change when a message follows, and input rows
     * that are rows of the decoder's own cache: true for decoder-only models and for an encoder-decoder
     * with all four steps (the decoder-only model on [input ; target], FourStepsTest), whose input rows
     * are what prefilling them through the one shared stack gives. A prefix-LM and a bidirectional
     * encoder see the new message from every earlier position, so they re-encode the history; so does an
     * encoder-decoder whose encoder is causal (step 4) but whose decoder reads it through a separate
     * cross-attention, a separate stack or its last layer (steps 1–3 off): its history would need an
     * encoder cache of its own, which KvState does not keep.
     */
    public static boolean incremental(TransformerConfig c) {
        return switch (c.architecture()) {
            case DECODER_ONLY -> true;
            case ENCODER_DECODER -> c.causalInput() && c.shareCrossAndSelfAttention() && c.shareEncoderDecoderParams()
                    && c.withinLayerCrossAttention();
            case PREFIX_LM, ENCODER_ONLY -> false;
        };
    }

    /** True when only new tokens are encoded each turn ({@link #incremental(TransformerConfig)}). */
    public boolean incremental() { return incremental; }

    /** Sends a user message (token ids) and returns the reply's tokens. */
    public int[] send(int[] message) {
        return send(message, null);
    }

    /** The same, calling {@code listener} with each reply token as it is chosen (streaming); null for none. */
    public int[] send(int[] message, Generator.TokenListener listener) {
        if (closed) throw new IllegalStateException("this chat session is closed");
        if (message == null || message.length == 0) throw new IllegalArgumentException("the message is empty");
        model.checkIds(message);
        long held = (long) history.size() + message.length + options.maxNewTokens();     // long: cannot wrap past the check
        if (held > capacity) {
            throw new IllegalArgumentException("the conversation would hold " + held + " tokens (history " + history.size()
                    + " + message " + message.length + " + reply up to " + options.maxNewTokens() + "), more than the session's "
                    + capacity);
        }
        int[] reply;
        long encoded;
        if (incremental) {
            long before = cache.tokensEncoded();
            reply = sendIncremental(message, listener);
            encoded = cache.tokensEncoded() - before;
        } else {
            int[] prompt = concat(history, message);
            try (KvState st = turnState(prompt)) {
                reply = generateFrom(st, prompt, listener);
                encoded = st.tokensEncoded();
            }
        }
        for (int t : message) history.add(t);
        for (int t : reply) history.add(t);
        encodedPerTurn.add(encoded);
        return reply;
    }

    /**
     * One turn through the kept cache, which holds the history but {@code carry}. Decoder-only: the
     * carry (the last reply token, never fed) and the message are prefilled and the reply generated after
     * them. Encoder-decoder with all four steps: the whole conversation is its input, so the carry (the
     * whole last reply) and the message are prefilled as input rows; the decoder then starts from its
     * start id, as a full re-encoding would, and the start id's and the reply's rows are dropped after the
     * turn, since in the next turn's input the reply follows the message directly. On failure the cache
     * goes back to its rows before the turn (rows past a KvState's length are invisible, and overwritten).
     */
    private int[] sendIncremental(int[] message, Generator.TokenListener listener) {
        int rows = cache.length(0);
        int[] feed = concat(carry, message);
        try {
            float[] lastLogits = model.prefillLast(cache, 0, feed);
            int inputRows = cache.length(0);
            float[][] first = encoderDecoder ? model.step(cache, new int[] {model.decoderStartId()}) : new float[][] {lastLogits};
            int[] last = new int[1];
            int[] conversation = concat(history, message);
            int[] reply = generator.loop(cache, first, histories(conversation), contexts(conversation), options, listener, last)[0];
            if (encoderDecoder) {
                cache.lengths[0] = inputRows;
                carry = reply;
            } else {
                carry = last;
            }
            return reply;
        } catch (RuntimeException e) {
            cache.lengths[0] = rows;
            throw e;
        }
    }

    private KvState turnState(int[] prompt) {
        return encoderDecoder
                ? model.newState(new int[][] {prompt}, options.maxNewTokens())
                : model.newState(1, (long) prompt.length + options.maxNewTokens());
    }

    private int[] generateFrom(KvState st, int[] prompt, Generator.TokenListener listener) {
        float[][] first;
        if (encoderDecoder) {
            first = model.step(st, new int[] {model.decoderStartId()});
        } else {
            first = new float[][] {model.prefillLast(st, 0, prompt)};
        }
        return generator.loop(st, first, histories(prompt), contexts(prompt), options, listener, null)[0];
    }

    /** The turn's penalty history over {@code conversation} (the history and the message; encoder-decoder: the decoder's start id). */
    private Sampling.History[] histories(int[] conversation) {
        Sampling.checkBias(options, model.config.vocabSize());
        return new Sampling.History[] {Sampling.History.of(options, encoderDecoder ? new int[] {model.decoderStartId()} : conversation)};
    }

    /** The turn's input_ids as transformers' generate holds them: the conversation, or the decoder's start id (encoder-decoder). */
    private int[][] contexts(int[] conversation) {
        return new int[][] {encoderDecoder ? new int[] {model.decoderStartId()} : conversation};
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

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int[] concat(List<Integer> history, int[] message) {
        int[] a = new int[history.size() + message.length];
        for (int i = 0; i < history.size(); i++) a[i] = history.get(i);
        System.arraycopy(message, 0, a, history.size(), message.length);
        return a;
    }
}
