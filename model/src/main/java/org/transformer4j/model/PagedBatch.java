// PagedBatch — cached inference over KV caches owned by a block pool (the serving engine's block
// manager): a prefill chunk of one sequence or equal chunks of several, or one decode step of many,
// through block tables the caller gives. The public door of the engine (org.transformer4j.model.engine) into the model.
package org.transformer4j.model;

import org.transformer4j.model.TransformerConfig.Architecture;
import org.transformer4j.runtime.Tensor;

/**
 * The caches are per decoder layer (numBlocks, {@link #BLOCK_SIZE}, NKV, HS) tensors in the model's
 * dtype, made by {@link #allocate}; a block table lists, per sequence, the blocks that hold its rows
 * 0, 16, 32, … The calls run exactly the ops of {@link Transformer#prefillLast} and of a
 * {@link KvState}'s decode step, so a sequence served through a pool gives the tokens it gives alone.
 * The decode step here runs op by op (the batch changes every step; a captured graph would freeze
 * the block table, which the runtime keeps on the host).
 */
public final class PagedBatch {

    /** Rows per cache block. */
    public static final int BLOCK_SIZE = KvState.BLOCK_SIZE;

    private PagedBatch() {}

    /** Whether the model can be served through a pool (decoder-only models). */
    public static void requireDecoderOnly(Transformer m) {
        if (m.config.architecture() != Architecture.DECODER_ONLY) {
            throw new IllegalArgumentException("the serving engine runs decoder-only models; this one is "
                    + m.config.architecture());
        }
    }

    /** Bytes one block takes in all layers' K and V caches. */
    public static long bytesPerBlock(Transformer m) {
        TransformerConfig c = m.config;
        long row = Math.multiplyExact(Math.multiplyExact((long) c.kvHeads(), c.headSize()), (long) m.dtype.byteSize());
        return Math.multiplyExact(Math.multiplyExact(row, 2L * BLOCK_SIZE), (long) m.weights.decoder.layers().size());
    }

    /** {K, V} caches per decoder layer for {@code numBlocks} blocks; the caller closes them. */
    public static Tensor[][] allocate(Transformer m, int numBlocks) {
        if (numBlocks < 1) throw new IllegalArgumentException("a pool needs ≥ 1 block, got " + numBlocks);
        TransformerConfig c = m.config;
        int layers = m.weights.decoder.layers().size();
        Tensor[][] kv = new Tensor[2][layers];
        try {
            for (int l = 0; l < layers; l++) {
                kv[0][l] = m.backend.empty(m.dtype, numBlocks, BLOCK_SIZE, c.kvHeads(), c.headSize());
                kv[1][l] = m.backend.empty(m.dtype, numBlocks, BLOCK_SIZE, c.kvHeads(), c.headSize());
            }
        } catch (RuntimeException e) {
            for (Tensor[] ts : kv) for (Tensor t : ts) if (t != null) t.close();
            throw e;
        }
        return kv;
    }

    /**
     * Runs {@code tokens} of one sequence that holds {@code start} rows in the blocks of {@code table}
     * (which must already cover rows up to start + tokens.length), appending their K/V, and returns the
     * last token's logits (V) — {@link Transformer#prefillLast}.
     */
    public static float[] prefill(Transformer m, Tensor[][] kv, int[] table, int start, int[] tokens) {
        KvState st = new KvState(m, kv[0], kv[1], table, table.length, new int[] {start});
        try (st) {
            return m.prefillLast(st, 0, tokens);
        }
    }

    /**
     * Prefill chunks of B sequences in one forward pass: sequence b holds {@code start} rows (the same
     * for all) in the blocks of row b of {@code tables} (B × maxBlocks, covering rows up to start + T)
     * and appends tokens[b] (all T long); returns each one's last-token logits (B, V) —
     * {@link Transformer#prefillLastAll}.
     */
    public static float[][] prefillAll(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int start, int[][] tokens) {
        int[] lengths = new int[tokens.length];
        java.util.Arrays.fill(lengths, start);
        KvState st = new KvState(m, kv[0], kv[1], tables, maxBlocks, lengths);
        try (st) {
            return m.prefillLastAll(st, tokens);
        }
    }

    /**
     * One decode step of B sequences: sequence b feeds {@code tokens[b]} at position {@code lengths[b]}
     * (its cached rows) through the blocks of row b of {@code tables} (B × maxBlocks). The returned step
     * holds the logits (B, V) on the backend until it is closed.
     */
    public static Step decode(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] lengths, int[] tokens) {
        KvState st = new KvState(m, kv[0], kv[1], tables, maxBlocks, lengths.clone());
        try {
            Tensor logits = m.stepOnDevice(st, tokens).view(tokens.length, m.config.vocabSize());
            return new Step(st, logits);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /** A decode step's logits (B, V), valid until {@link #close}. */
    public static final class Step implements AutoCloseable {
        private final KvState state;
        private final Tensor logits;

        Step(KvState state, Tensor logits) { this.state = state; this.logits = logits; }

        public Tensor logits() { return logits; }

        @Override
        public void close() { state.close(); }
    }
}
