// KvState — the per-request state of cached inference: a paged KV cache per decoder layer, the rows
// each sequence holds, and (encoder-decoders) the encoder's K/V for cross-attention, computed once.
package org.transformer4j.model;

import java.util.Arrays;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.Tensor;

/**
 * Made by {@link Transformer#newState}; used by {@link Transformer#prefill} and {@link Transformer#step}.
 * Sequence b owns blocks {@code b·maxBlocks .. (b+1)·maxBlocks − 1} of each layer's cache (blockSize
 * rows each). {@code lengths[b]} counts its cached rows; under step 1 the first rows are the input's
 * (memory) K/V, so the target's positions continue after them. Lengths advance only after a call has
 * succeeded: rows written by a call that failed lie beyond the length, invisible, and are overwritten.
 * Not thread-safe: one thread at a time per state (states of one model may run in parallel). Its size
 * is capped by the model's learned positions and refused over {@link Transformer#kvBudgetBytes()}.
 */
public final class KvState implements AutoCloseable {

    /** Rows per cache block: a multiple of the decode kernel's key tile. */
    static final int BLOCK_SIZE = 16;

    final Transformer model;
    final int batch;
    final int maxBlocks;
    final Tensor[] kCache, vCache;          // per decoder layer: (B·maxBlocks, BLOCK_SIZE, NKV, HS), the model's dtype
    final int[] blockTable;                 // (B, maxBlocks)
    final int[] lengths;                    // (B) rows cached per sequence
    /** Cross-attention memory K/V per decoder layer, packed: (totalM, NKV, HS); null without cross-attention. */
    Tensor[] crossK, crossV;
    /** Cumulative memory lengths (B + 1). */
    int[] cuMemory;
    /** Tokens run through the model for this state (encoder and decoder), for the chat-cost table. */
    long tokensEncoded;
    private DecodeStep decodeStep;
    private boolean closed;
    /** Whether the caches belong to someone else (a block pool: {@link PagedBatch}); close then leaves them. */
    private final boolean borrowed;

    /**
     * Capacity: {@code capacityRows} (long, so that a sum of lengths cannot wrap), capped by the model's
     * learned positions (rows past them can never be used) and rounded up to whole blocks; the whole
     * cache must fit {@link Transformer#kvBudgetBytes()}, else IllegalArgumentException naming the bytes.
     * All sizes are computed in long with overflow checks.
     */
    KvState(Transformer model, int batch, long capacityRows) {
        if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1, got " + batch);
        if (capacityRows < 1) throw new IllegalArgumentException("capacity must be ≥ 1 row, got " + capacityRows);
        this.model = model;
        this.batch = batch;
        TransformerConfig c = model.config;
        long rows = c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE ? Math.min(capacityRows, c.maxPositions()) : capacityRows;
        long blocks = Math.ceilDiv(rows, BLOCK_SIZE);
        int layers = model.weights.decoder.layers().size();
        long bytes = cacheBytes(batch, blocks, layers, c.kvHeads(), c.headSize(), model.dtype.byteSize());
        long budget = model.kvBudgetBytes();
        if (bytes > budget || blocks * BLOCK_SIZE > Integer.MAX_VALUE || (long) batch * blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a KV cache for " + batch + " sequence(s) of " + rows + " rows"
                    + (rows < capacityRows ? " (" + capacityRows + " asked, capped by the model's " + c.maxPositions() + " positions)" : "")
                    + " needs " + (bytes == Long.MAX_VALUE ? "more than 2^63" : Long.toString(bytes)) + " bytes (" + layers
                    + " layers × K and V × " + c.kvHeads() + " heads × " + c.headSize() + " × " + model.dtype + "), over the budget of "
                    + budget + " bytes (Transformer.kvBudgetBytes, -Dt4j.kvBudgetBytes); ask for fewer rows or sequences");
        }
        this.maxBlocks = (int) blocks;
        this.kCache = new Tensor[layers];
        this.vCache = new Tensor[layers];
        try {
            for (int l = 0; l < layers; l++) {
                kCache[l] = model.backend.empty(model.dtype, (long) batch * maxBlocks, BLOCK_SIZE, c.kvHeads(), c.headSize());
                vCache[l] = model.backend.empty(model.dtype, (long) batch * maxBlocks, BLOCK_SIZE, c.kvHeads(), c.headSize());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.blockTable = new int[Math.multiplyExact(batch, maxBlocks)];
        for (int i = 0; i < blockTable.length; i++) blockTable[i] = i;
        this.lengths = new int[batch];
        this.borrowed = false;
    }

    /**
     * A view over caches owned elsewhere (a block pool): sequence b uses the blocks of row b of
     * {@code blockTable} (B, maxBlocks), and holds {@code lengths[b]} rows. Closing it leaves the caches.
     */
    KvState(Transformer model, Tensor[] kCache, Tensor[] vCache, int[] blockTable, int maxBlocks, int[] lengths) {
        this.model = model;
        this.batch = lengths.length;
        this.maxBlocks = maxBlocks;
        this.kCache = kCache;
        this.vCache = vCache;
        this.blockTable = blockTable;
        this.lengths = lengths;
        this.borrowed = true;
    }

    public int batch() { return batch; }

    /** Bytes of K and V caches for these sizes, or Long.MAX_VALUE where the product overflows a long. */
    static long cacheBytes(long batch, long blocks, long layers, long kvHeads, long headSize, long dtypeBytes) {
        try {
            long perRow = Math.multiplyExact(Math.multiplyExact(kvHeads, headSize), dtypeBytes);
            long rows = Math.multiplyExact(Math.multiplyExact(batch, blocks), BLOCK_SIZE);
            return Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(rows, perRow), layers), 2);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Rows each sequence can hold. */
    public int capacity() { return maxBlocks * BLOCK_SIZE; }

    /** Cached rows of sequence b. */
    public int length(int b) { return lengths[b]; }

    public long tokensEncoded() { return tokensEncoded; }

    public boolean isClosed() { return closed; }

    /** All sequences' caches of layer l. */
    PagedKvCache cache(int l) { return new PagedKvCache(kCache[l], vCache[l], blockTable, maxBlocks); }

    /** Sequence b's cache of layer l, as a batch of one. */
    PagedKvCache cache(int l, int b) {
        return new PagedKvCache(kCache[l], vCache[l], Arrays.copyOfRange(blockTable, b * maxBlocks, (b + 1) * maxBlocks), maxBlocks);
    }

    /** Sequence b's memory K or V of layer l: (1, Tm_b, NKV, HS). */
    Tensor memory(Tensor[] packed, int l, int b) {
        Tensor rows = packed[l].slice(0, cuMemory[b], cuMemory[b + 1]);
        return rows.view(1, cuMemory[b + 1] - cuMemory[b], packed[l].shape(1), packed[l].shape(2));
    }

    /** The state's decode step (made on first use; see {@link DecodeStep}). */
    DecodeStep decodeStep() {
        if (decodeStep == null) decodeStep = new DecodeStep(model, this, model.decodeGraphs());
        return decodeStep;
    }

    /** Whether this state's steps replay a captured graph now (from its second step, unless graphs are off). */
    public boolean decodeGraphed() { return decodeStep != null && decodeStep.graphed(); }

    /** Why capturing this state's decode step failed (it then runs op by op), or null. */
    public String decodeGraphFailure() { return decodeStep == null ? null : decodeStep.graphFailure(); }

    void checkOpen() {
        if (closed) throw new IllegalStateException("this KvState is closed");
    }

    void checkRoom(int b, int rows) {
        if ((long) lengths[b] + rows > capacity()) {
            throw new IllegalArgumentException("sequence " + b + " holds " + lengths[b] + " rows; " + rows + " more exceed the"
                    + " state's capacity of " + capacity() + " (make the state with a larger capacity)");
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (decodeStep != null) decodeStep.close();
        for (Tensor[] ts : borrowed ? new Tensor[][] {crossK, crossV} : new Tensor[][] {kCache, vCache, crossK, crossV}) {
            if (ts == null) continue;
            for (Tensor t : ts) if (t != null) t.close();
        }
    }
}
