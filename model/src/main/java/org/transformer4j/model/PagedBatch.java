// PagedBatch — cached inference over KV caches owned by a block pool (the serving engine's block
// manager): a prefill chunk of one sequence or chunks of several (equal, or packed), or one decode step of many,
// through block tables the caller gives. The public door of the engine (org.transformer4j.model.engine) into the model.
package org.transformer4j.model;

import org.transformer4j.model.TransformerConfig.Architecture;
import org.transformer4j.runtime.Tensor;

/**
 * The caches are per decoder layer (numBlocks, {@link #BLOCK_SIZE}, NKV, HS) tensors in the model's
 * dtype, made by {@link #allocate}; a block table lists, per sequence, the blocks that hold its rows
 * 0, 16, 32, … The calls run exactly the ops of {@link Transformer#prefillLast} and of a
 * {@link KvState}'s decode step, so a sequence served through a pool gives the tokens it gives alone.
 * {@link #decode} runs a step op by op at its own batch size (a fresh state each time);
 * {@link Decoder} keeps one state per batch bucket, whose step is captured once and replayed with
 * the block table in a device tensor, so that the batch may change from step to step.
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

    /** Bytes one block takes in all layers' K and V caches (MLA's latent cache: its one latent row, key and value alike). */
    public static long bytesPerBlock(Transformer m) {
        long[] shape = rowShape(m);
        long row = Math.multiplyExact(Math.multiplyExact(shape[0], shape[1]), (long) m.dtype.byteSize());
        return Math.multiplyExact(Math.multiplyExact(row, (m.latentMla ? 1L : 2L) * BLOCK_SIZE), (long) m.weights.decoder.layers().size());
    }

    /** One cached token's (heads, head size) in a layer: (NKV, HS), or (1, ropeDim + kvLoraRank) for a latent MLA cache. */
    private static long[] rowShape(Transformer m) {
        return m.latentMla ? new long[] {1, Transformer.latentWidth(m.config)} : new long[] {m.config.kvHeads(), m.config.headSize()};
    }

    /** {K, V} caches per decoder layer for {@code numBlocks} blocks; the caller closes them. */
    public static Tensor[][] allocate(Transformer m, int numBlocks) {
        if (numBlocks < 1) throw new IllegalArgumentException("a pool needs ≥ 1 block, got " + numBlocks);
        int layers = m.weights.decoder.layers().size();
        Tensor[][] kv = new Tensor[2][layers];
        try {
            long[] row = rowShape(m);
            for (int l = 0; l < layers; l++) {
                kv[0][l] = m.backend.empty(m.dtype, numBlocks, BLOCK_SIZE, row[0], row[1]);
                // MLA's latent row is its value too: V is a view of K (not owned: closing it frees nothing)
                kv[1][l] = m.latentMla ? kv[0][l].view(numBlocks, BLOCK_SIZE, row[0], row[1])
                        : m.backend.empty(m.dtype, numBlocks, BLOCK_SIZE, row[0], row[1]);
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
        return prefill(m, kv, table, start, tokens, null, -1);
    }

    /** {@link #prefill} through adapter {@code slot} of {@code lora} (−1, or lora null: the base model; see {@link LoraSlots}). */
    public static float[] prefill(Transformer m, Tensor[][] kv, int[] table, int start, int[] tokens, LoraSlots lora, int slot) {
        try (KvState st = single(m, kv, table, start, lora, slot)) {
            return m.prefillLast(st, 0, tokens);
        }
    }

    /** One sequence's state over the pool's caches: its blocks {@code table}, {@code start} rows cached, its adapter. */
    private static KvState single(Transformer m, Tensor[][] kv, int[] table, int start, LoraSlots lora, int slot) {
        return view(m, kv, table, table.length, new int[] {start}, lora, new int[] {slot});
    }

    /**
     * A state over the pool's caches: sequence b in the blocks of row b of {@code tables} (B × maxBlocks) with {@code lengths[b]}
     * rows cached (the array is the state's), through adapter {@code slots[b]} of {@code lora} (null: none); closed again
     * where the adapters are refused.
     */
    private static KvState view(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] lengths, LoraSlots lora, int[] slots) {
        KvState st = new KvState(m, kv[0], kv[1], tables, maxBlocks, lengths);
        try {
            if (lora != null) st.adapters(lora, slots);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
        return st;
    }

    /**
     * {@link #prefill}, returning every row's logits (T, V) on the host: what a prompt's log-probabilities need (the
     * output projection runs on all T rows; the engine asks for it only for requests that want them).
     */
    public static float[][] prefillRows(Transformer m, Tensor[][] kv, int[] table, int start, int[] tokens) {
        return prefillRows(m, kv, table, start, tokens, null, -1);
    }

    /** {@link #prefillRows} through adapter {@code slot} of {@code lora} (see {@link #prefill(Transformer, Tensor[][], int[], int, int[], LoraSlots, int)}). */
    public static float[][] prefillRows(Transformer m, Tensor[][] kv, int[] table, int start, int[] tokens, LoraSlots lora, int slot) {
        try (KvState st = single(m, kv, table, start, lora, slot)) {
            return m.prefill(st, 0, tokens);
        }
    }

    /**
     * Prefill chunks of B sequences in one forward pass: sequence b holds {@code start} rows (the same
     * for all) in the blocks of row b of {@code tables} (B × maxBlocks, covering rows up to start + T)
     * and appends tokens[b] (all T long); returns each one's last-token logits (B, V) —
     * {@link Transformer#prefillLastAll}.
     */
    public static float[][] prefillAll(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int start, int[][] tokens) {
        return prefillAll(m, kv, tables, maxBlocks, start, tokens, null, null);
    }

    /**
     * {@link #prefillAll} with sequence b through adapter {@code slots[b]} of {@code lora} (−1: the base model; sequences
     * ordered by slot, the base model's last; lora null: none).
     */
    public static float[][] prefillAll(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int start, int[][] tokens,
                                       LoraSlots lora, int[] slots) {
        int[] lengths = new int[tokens.length];
        java.util.Arrays.fill(lengths, start);
        try (KvState st = view(m, kv, tables, maxBlocks, lengths, lora, slots)) {
            return m.prefillLastAll(st, tokens);
        }
    }

    /**
     * Prefill chunks of B sequences of any lengths in one forward pass, their rows packed ({@link Transformer#prefillLastPacked}):
     * sequence b holds {@code starts[b]} rows in the blocks of row b of {@code tables} (B × maxBlocks, covering rows up to
     * starts[b] + tokens[b].length) and appends tokens[b]; returns each one's last-token logits (B, V). For the models
     * {@link Transformer#packsPrefill} accepts.
     */
    public static float[][] prefillPacked(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] starts, int[][] tokens) {
        return prefillPacked(m, kv, tables, maxBlocks, starts, tokens, null, null);
    }

    /** {@link #prefillPacked} with sequence b through adapter {@code slots[b]} of {@code lora} (as {@link #prefillAll} takes them). */
    public static float[][] prefillPacked(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] starts, int[][] tokens,
                                          LoraSlots lora, int[] slots) {
        try (KvState st = packedState(m, kv, tables, maxBlocks, starts, tokens, lora, slots)) {
            return m.prefillLastPacked(st, tokens);
        }
    }

    /**
     * {@link #prefillPacked}, returning every row's logits (T_b, V) of the sequences b with {@code allRows[b]} and the last
     * row's (1, V) of the others ({@link Transformer#prefillPacked}): prompts that want their log-probabilities, or several
     * sequences' speculative drafts checked in one pass.
     */
    public static float[][][] prefillPackedRows(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] starts, int[][] tokens,
                                                boolean[] allRows, LoraSlots lora, int[] slots) {
        try (KvState st = packedState(m, kv, tables, maxBlocks, starts, tokens, lora, slots)) {
            return m.prefillPacked(st, tokens, allRows);
        }
    }

    /**
     * {@link #prefillPackedRows} leaving the kept logits on the backend ({@link Transformer.PackedLogits}: sequence b's
     * rows, all of them where {@code allRows[b]}, else its last): an engine step's decode rows (one token each) packed with
     * its prefill chunks are sampled there. Close the result.
     */
    public static Pass prefillPackedOnDevice(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] starts, int[][] tokens,
                                             boolean[] allRows, LoraSlots lora, int[] slots) {
        KvState st = packedState(m, kv, tables, maxBlocks, starts, tokens, lora, slots);
        try {
            return new Pass(st, m.prefillPackedOnDevice(st, tokens, allRows));
        } catch (RuntimeException | Error e) {
            st.close();
            throw e;
        }
    }

    /** A packed pass's logits on the backend, valid until {@link #close}. */
    public static final class Pass implements AutoCloseable {
        private final KvState state;
        private final Transformer.PackedLogits logits;

        Pass(KvState state, Transformer.PackedLogits logits) { this.state = state; this.logits = logits; }

        public Transformer.PackedLogits logits() { return logits; }

        @Override
        public void close() {
            try {
                logits.close();
            } finally {
                state.close();
            }
        }
    }

    private static KvState packedState(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] starts, int[][] tokens,
                                       LoraSlots lora, int[] slots) {
        if (starts == null || tokens == null || starts.length != tokens.length) {
            throw new IllegalArgumentException("prefillPacked takes one start per token array: " + (starts == null ? "null" : starts.length)
                    + " starts, " + (tokens == null ? "null" : tokens.length) + " token arrays");
        }
        return view(m, kv, tables, maxBlocks, starts.clone(), lora, slots);
    }

    /**
     * One decode step of B sequences: sequence b feeds {@code tokens[b]} at position {@code lengths[b]}
     * (its cached rows) through the blocks of row b of {@code tables} (B × maxBlocks). The returned step
     * holds the logits (B, V) on the backend until it is closed.
     */
    public static Step decode(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] lengths, int[] tokens) {
        return decode(m, kv, tables, maxBlocks, lengths, tokens, null, null);
    }

    /** {@link #decode} with sequence b through adapter {@code slots[b]} of {@code lora} (as {@link #prefillAll} takes them). */
    public static Step decode(Transformer m, Tensor[][] kv, int[] tables, int maxBlocks, int[] lengths, int[] tokens, LoraSlots lora,
                              int[] slots) {
        KvState st = view(m, kv, tables, maxBlocks, lengths.clone(), lora, slots);
        try {
            Tensor logits = m.stepOnDevice(st, tokens).view(tokens.length, m.config.vocabSize());
            return new Step(st, logits);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /** A decode step's logits (B, V), valid until {@link #close} (from a {@link Decoder}: until its next step). */
    public static final class Step implements AutoCloseable {
        private final KvState state;                 // null where a Decoder keeps the state
        private final Tensor logits;

        Step(KvState state, Tensor logits) { this.state = state; this.logits = logits; }

        public Tensor logits() { return logits; }

        @Override
        public void close() { if (state != null) state.close(); }
    }

    /**
     * Decode steps of a pool's sequences that run from captured graphs: one {@link KvState} view per
     * batch bucket, kept from step to step, so that its {@link DecodeStep} runs the first step of
     * that bucket op by op, captures the second and replays every later one (on CUDA one graph launch
     * instead of ~100 kernel launches from Java; on the CPU the backend's twin of a graph, which tests
     * the same path). A step of B sequences runs at the smallest bucket ≥ B: rows past B are padding
     * (token 0 at position 0, whose K/V go to row 0 of {@code padBlock} and whose attention reads only
     * that row), their logits never read. Every table is {@code width} blocks wide (the most a sequence
     * can hold) so that a graph never sees a wider one; a row shorter than that repeats its last block,
     * as {@link #decode(Transformer, Tensor[][], int[], int, int[], int[])}'s tables do. B above the
     * largest bucket runs that way, op by op. Each row's tokens are those of the same sequence alone as
     * for {@code decode}: on the CPU bit for bit while the bucket stays below the small-M limit (a
     * row's bits do not depend on the other rows there), on CUDA up to float rounding. One thread at a
     * time (the engine's loop); the caches must stay the same tensors while {@code pool} is used (a
     * new caches array closes the states and starts again).
     */
    public static final class Decoder implements AutoCloseable {
        private final Transformer m;
        private final int[] buckets;
        private final int width;
        private final int padBlock;
        private final KvState[] states;
        private final LoraSlots lora;
        private Tensor[][] kv;
        private boolean closed;

        /**
         * @param buckets  batch sizes to capture, ascending, each ≥ 1
         * @param width    blocks per table row: at least the most blocks one sequence holds
         * @param padBlock a block of the pool that no sequence holds (padding rows write there)
         */
        public Decoder(Transformer m, int[] buckets, int width, int padBlock) { this(m, buckets, width, padBlock, null); }

        /** The same, every step through the adapters of {@code lora} (null: none) as its rows' slots say; padding rows: none. */
        public Decoder(Transformer m, int[] buckets, int width, int padBlock, LoraSlots lora) {
            requireDecoderOnly(m);
            this.lora = lora;
            if (buckets == null || buckets.length == 0) throw new IllegalArgumentException("a decoder needs ≥ 1 batch bucket");
            checkBuckets(buckets);
            if (width < 1) throw new IllegalArgumentException("table width must be ≥ 1 block, got " + width);
            if (padBlock < 0) throw new IllegalArgumentException("padBlock must be a block id ≥ 0, got " + padBlock);
            this.m = m;
            this.buckets = buckets.clone();
            this.width = width;
            this.padBlock = padBlock;
            this.states = new KvState[buckets.length];
        }

        /** IllegalArgumentException unless the batch buckets are ascending and each ≥ 1 (an empty list passes). */
        public static void checkBuckets(int[] buckets) {
            for (int i = 0; i < buckets.length; i++) {
                if (buckets[i] < 1 || (i > 0 && buckets[i] <= buckets[i - 1])) {
                    throw new IllegalArgumentException("batch buckets must be ascending and ≥ 1: " + java.util.Arrays.toString(buckets));
                }
            }
        }

        /** Index of the smallest bucket ≥ b, or buckets.length where b is above them all. */
        private int at(int b) {
            int i = 0;
            while (i < buckets.length && buckets[i] < b) i++;
            return i;
        }

        /** The batch size a step of {@code b} sequences runs at: the smallest bucket ≥ b, else b. */
        public int bucket(int b) {
            int i = at(b);
            return i < buckets.length ? buckets[i] : b;
        }

        /** The state of this bucket, or null where it is none of the buckets or has not run since the caches changed. */
        private KvState state(int bucket) {
            int i = at(bucket);
            return i < buckets.length && buckets[i] == bucket ? states[i] : null;
        }

        /** Whether the bucket's step replays a captured graph now. */
        public boolean graphed(int bucket) {
            KvState st = state(bucket);
            return st != null && st.decodeGraphed();
        }

        /** Why the bucket's capture failed (its steps then run op by op), or null. */
        public String graphFailure(int bucket) {
            KvState st = state(bucket);
            return st == null ? null : st.decodeGraphFailure();
        }

        /**
         * One decode step, as {@link PagedBatch#decode(Transformer, Tensor[][], int[], int, int[], int[])}
         * takes it (tables B × maxBlocks, maxBlocks ≤ width); the logits are valid until the next step.
         */
        public Step decode(Tensor[][] kv, int[] tables, int maxBlocks, int[] lengths, int[] tokens) {
            return decode(kv, tables, maxBlocks, lengths, tokens, null);
        }

        /** The same with sequence b through adapter {@code slots[b]} of the decoder's adapters (null: all the base model). */
        public Step decode(Tensor[][] kv, int[] tables, int maxBlocks, int[] lengths, int[] tokens, int[] slots) {
            if (closed) throw new IllegalStateException("this decoder is closed");
            int b = tokens.length;
            if (slots != null && lora == null) throw new IllegalArgumentException("adapter slots given to a decoder without adapters");
            if (slots != null && slots.length != b) throw new IllegalArgumentException("decode: " + b + " tokens, " + slots.length + " adapter slots");
            if (lora != null && slots == null) {
                slots = new int[b];
                java.util.Arrays.fill(slots, -1);
            }
            if (lengths.length != b || tables.length != b * maxBlocks) {
                throw new IllegalArgumentException("decode: " + b + " tokens, " + lengths.length + " lengths, tables of "
                        + tables.length + " ints for maxBlocks " + maxBlocks);
            }
            if (maxBlocks > width) {
                throw new IllegalArgumentException("a sequence holds " + maxBlocks + " blocks, more than the decoder's table width " + width);
            }
            int bi = at(b);
            if (bi == buckets.length) return PagedBatch.decode(m, kv, tables, maxBlocks, lengths, tokens, lora, slots);
            if (kv != this.kv) {                                 // other caches (a pool that grew): new states
                closeStates();
                this.kv = kv;
            }
            int size = buckets[bi];
            KvState st = states[bi];
            if (st == null) st = states[bi] = new KvState(m, kv[0], kv[1], new int[size * width], width, new int[size]);
            boolean changed = false;
            for (int r = 0; r < size; r++) {
                for (int j = 0; j < width; j++) {
                    int id = r < b ? tables[r * maxBlocks + Math.min(j, maxBlocks - 1)] : padBlock;
                    if (st.blockTable[r * width + j] != id) { st.blockTable[r * width + j] = id; changed = true; }
                }
                st.lengths[r] = r < b ? lengths[r] : 0;
            }
            if (changed) st.tableChanged();
            if (lora != null) {                                  // padding rows: the base model's, after every adapter's
                int[] padded = java.util.Arrays.copyOf(slots, size);
                java.util.Arrays.fill(padded, b, size, -1);
                st.adapters(lora, padded);
            }
            int[] padded = java.util.Arrays.copyOf(tokens, size);   // padding rows feed token 0
            Tensor logits = m.stepOnDevice(st, padded).view(size, m.config.vocabSize());
            return new Step(null, b == size ? logits : logits.slice(0, 0, b));
        }

        private void closeStates() {
            for (int i = 0; i < states.length; i++) {
                if (states[i] != null) states[i].close();
                states[i] = null;
            }
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            closeStates();
        }
    }
}
