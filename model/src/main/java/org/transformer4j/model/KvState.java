// KvState — the per-request state of cached inference: a paged KV cache per decoder layer whose
// blocks come from a block pool as the sequences grow, the rows each sequence holds, and
// (encoder-decoders) the encoder's K/V for cross-attention, computed once.
package org.transformer4j.model;

import java.util.Arrays;
import org.transformer4j.model.engine.BlockManager;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.Tensor;

/**
 * Made by {@link Transformer#newState}; used by {@link Transformer#prefill} and {@link Transformer#step}.
 * Sequence b's rows 0, 16, 32, … live in the blocks listed in row b of the block table (B, maxBlocks);
 * a block is taken from the state's {@link BlockManager} when the first row that needs it is written,
 * so memory follows the rows written, not the capacity asked for. The pool is the state's own
 * (an on-demand pool capped by {@link Transformer#kvBudgetBytes()}, closed with the state) or one
 * shared with other states ({@link Transformer#newState(int, long, BlockManager)}); closing the state,
 * or {@link #clear} of a sequence, gives its blocks back. When the pool has no block left for a row,
 * the call fails with an IllegalStateException naming the rows, the blocks and the budget, before
 * anything runs. {@code lengths[b]} counts its cached rows; under step 1 the first rows are the input's
 * (memory) K/V, so the target's positions continue after them. Lengths advance only after a call has
 * succeeded: rows written by a call that failed lie beyond the length, invisible, and are overwritten.
 * Not thread-safe: one thread at a time per state (states of one model may run in parallel, also
 * over one shared pool). Its capacity is capped by the model's learned positions and by the blocks
 * the pool can ever hold.
 */
public final class KvState implements AutoCloseable {

    /** Rows per cache block: a multiple of the decode kernel's key tile. */
    static final int BLOCK_SIZE = 16;

    final Transformer model;
    final int batch;
    final int maxBlocks;
    final int[] blockTable;                 // (B, maxBlocks): row b's first held[b] entries are its blocks, the rest 0
    final int[] lengths;                    // (B) rows cached per sequence
    /** Cross-attention memory K/V per decoder layer, packed: (totalM, NKV, HS); null without cross-attention. */
    Tensor[] crossK, crossV;
    /** Cumulative memory lengths (B + 1). */
    int[] cuMemory;
    /** Tokens run through the model for this state (encoder and decoder), for the chat-cost table. */
    long tokensEncoded;
    private DecodeStep decodeStep;
    private boolean closed;
    /** The pool the blocks come from; null for a view over caches owned elsewhere ({@link PagedBatch}). */
    private final BlockManager pool;
    private final boolean ownsPool;
    private final Tensor[][] borrowed;      // {K, V} per layer of a view; null otherwise
    private final int[] held;               // (B) blocks held per sequence; null for a view
    /** Advances whenever the block table changes (the decode step then copies it to the device again). */
    private int tableVersion;

    /**
     * Capacity: {@code capacityRows} (long, so that a sum of lengths cannot wrap), capped by the model's
     * learned positions (rows past them can never be used) and by the blocks the pool can ever hold,
     * rounded up to whole blocks. Without {@code shared}, the state makes its own on-demand pool of at
     * most {@link Transformer#kvBudgetBytes()} (IllegalArgumentException where that holds no block).
     * All sizes are computed in long with overflow checks.
     */
    KvState(Transformer model, int batch, long capacityRows, BlockManager shared) {
        model.requireCausal("a KV cache");
        if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1, got " + batch);
        if (capacityRows < 1) throw new IllegalArgumentException("capacity must be ≥ 1 row, got " + capacityRows);
        TransformerConfig c = model.config;
        long rows = c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE ? Math.min(capacityRows, c.maxPositions()) : capacityRows;
        long blocks = Math.min(Math.ceilDiv(rows, BLOCK_SIZE), Integer.MAX_VALUE / BLOCK_SIZE);   // rows stay an int
        if (shared != null) {
            if (shared.model() != model) throw new IllegalArgumentException("the block pool belongs to another Transformer");
            if (shared.isClosed()) throw new IllegalStateException("the block pool is closed");
        }
        long wanted = batch * blocks;                         // < 2^31 · 2^27: no overflow
        BlockManager p = shared != null ? shared : BlockManager.onDemand(model, model.kvBudgetBytes(), wanted);
        blocks = Math.min(blocks, p.numBlocks());
        if (batch * blocks > Integer.MAX_VALUE - 8) {
            if (shared == null) p.close();
            throw new IllegalArgumentException("a block table for " + batch + " sequence(s) of " + blocks + " blocks has more than 2^31"
                    + " entries; ask for fewer rows or sequences");
        }
        this.model = model;
        this.batch = batch;
        this.maxBlocks = (int) blocks;
        this.pool = p;
        this.ownsPool = shared == null;
        this.borrowed = null;
        this.blockTable = new int[(int) (batch * blocks)];
        this.held = new int[batch];
        this.lengths = new int[batch];
    }

    KvState(Transformer model, int batch, long capacityRows) { this(model, batch, capacityRows, null); }

    /**
     * A view over caches owned elsewhere (a block pool): sequence b uses the blocks of row b of
     * {@code blockTable} (B, maxBlocks), and holds {@code lengths[b]} rows. Closing it leaves the caches.
     */
    KvState(Transformer model, Tensor[] kCache, Tensor[] vCache, int[] blockTable, int maxBlocks, int[] lengths) {
        model.requireCausal("a KV cache");
        this.model = model;
        this.batch = lengths.length;
        this.maxBlocks = maxBlocks;
        this.borrowed = new Tensor[][] {kCache, vCache};
        this.blockTable = blockTable;
        this.lengths = lengths;
        this.pool = null;
        this.ownsPool = false;
        this.held = null;
    }

    public int batch() { return batch; }

    // ---- per-request LoRA adapters (LoraSlots): each sequence's slot, −1 the base model -------------------------------
    LoraSlots lora;
    int[] adapterSlots;
    private int heldSlot = -1;                    // a slot acquired for this state, released when it closes

    /**
     * The adapters this state's passes apply ({@code slots[b]}: sequence b's slot, −1 none; sequences ordered by slot,
     * the base model's last); null slots: none. A pass whose rows are all the base model's leaves the adapters' ops out
     * (and runs a gated MLP fused); a captured decode step keeps one graph with them and one without.
     */
    void adapters(LoraSlots set, int[] slots) {
        if (set != null && (slots == null || slots.length != batch)) {
            throw new IllegalArgumentException("adapter slots: one per sequence (" + batch + "), got " + (slots == null ? "none" : slots.length));
        }
        if (set != null) set.offsets(slots, 1);                 // checks the order
        if (lora != null && set != lora) throw new IllegalStateException("this state's passes already run other adapters");
        if (lora == null && set != null && decodeStep != null) {           // its step was made (maybe captured) without them
            decodeStep.close();
            decodeStep = null;
        }
        this.lora = set;
        this.adapterSlots = slots == null ? null : slots.clone();
    }

    /** {@link #adapters(LoraSlots, int[])}, and {@code held} (acquired from the slots by the caller) released when this state closes. */
    void adapters(LoraSlots set, int[] slots, int held) {
        try {
            adapters(set, slots);
        } catch (RuntimeException e) {
            set.release(held);
            throw e;
        }
        heldSlot = held;
    }

    /** The route of a pass over sequences {@code seqs} of this state, {@code rows} rows each (offsets uploaded into s), or null. */
    LoraSlots.Route route(Scratch s, int[] seqs, int rows) {
        int[] each = new int[seqs.length];
        java.util.Arrays.fill(each, rows);
        return route(s, seqs, each);
    }

    /** {@link #route(Scratch, int[], int)} with sequence seqs[i] {@code rows[i]} rows long (a packed pass). */
    LoraSlots.Route route(Scratch s, int[] seqs, int[] rows) {
        if (lora == null) return null;
        int[] slots = new int[seqs.length];
        for (int i = 0; i < seqs.length; i++) slots[i] = adapterSlots[seqs[i]];
        int[] off = lora.offsets(slots, rows);
        if (off[off.length - 1] == 0) return null;             // every row the base model's: the adapters' ops are left out
        return new LoraSlots.Route(lora, s.uploadInts(off, off.length));
    }

    /** Rows each sequence can hold. */
    public int capacity() { return maxBlocks * BLOCK_SIZE; }

    /** Cached rows of sequence b. */
    public int length(int b) { return lengths[b]; }

    public long tokensEncoded() { return tokensEncoded; }

    public boolean isClosed() { return closed; }

    /** The pool this state's blocks come from (its own, or the one it shares); null for a view over the engine's caches. */
    public BlockManager pool() { return pool; }

    /** Blocks sequence b holds now. */
    public int blocksHeld(int b) { return held == null ? BlockManager.blocksFor(lengths[b]) : held[b]; }

    /** Forgets sequence b's rows and gives its blocks back to the pool. */
    public void clear(int b) {
        checkOpen();
        if (b < 0 || b >= batch) throw new IllegalArgumentException("sequence " + b + " outside the state's batch " + batch);
        if (held == null) throw new IllegalStateException("a view over the engine's caches holds no blocks of its own");
        lengths[b] = 0;
        releaseBlocks(b);
    }

    private void releaseBlocks(int b) {
        for (int i = 0; i < held[b]; i++) {
            pool.release(blockTable[b * maxBlocks + i]);
            blockTable[b * maxBlocks + i] = 0;
        }
        if (held[b] > 0) tableVersion++;
        held[b] = 0;
    }

    int tableVersion() { return tableVersion; }

    /** For a view whose owner rewrote {@link #blockTable} in place: the device copy is refreshed before the next step. */
    void tableChanged() { tableVersion++; }

    /** The pool's generation (its caches are replaced when it grows); 0 for a view. */
    int generation() { return pool == null ? 0 : pool.generation(); }

    /** Holds the pool's caches against growth for one call (after {@link #checkRoom}). */
    BlockManager.Reading hold() { return pool == null ? () -> {} : pool.reading(); }

    private Tensor caches(int kv, int l) { return pool == null ? borrowed[kv][l] : pool.caches()[kv][l]; }

    /** All sequences' caches of layer l; {@code table}, where not null, is the table on the device (see DecodeStep). */
    PagedKvCache cache(int l, Tensor table) { return new PagedKvCache(caches(0, l), caches(1, l), blockTable, maxBlocks, table); }

    /** Sequence b's cache of layer l, as a batch of one. */
    PagedKvCache cache(int l, int b) { return cache(l, null).sequence(b); }

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

    /**
     * IllegalArgumentException where a sequence cannot reach {@code rows} rows (its capacity, capped by
     * the learned positions and the pool), saying what capped it: for callers that know the rows they
     * will need before any work (generation: prompt + maxNewTokens).
     */
    void requireCapacity(long rows, String what) {
        if (rows <= capacity()) return;
        TransformerConfig c = model.config;
        boolean byPositions = c.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE && capacity() >= c.maxPositions();
        throw new IllegalArgumentException(what + " need " + rows + " KV rows per sequence but a state holds at most " + capacity()
                + (byPositions ? " (the model's " + c.maxPositions() + " learned positions)"
                        : ownsPool ? " (" + pool.numBlocks() + " blocks of " + BLOCK_SIZE + " rows, " + PagedBatch.bytesPerBlock(model)
                                + " bytes each: the budget of " + model.kvBudgetBytes() + " bytes, Transformer.kvBudgetBytes, -Dt4j.kvBudgetBytes)"
                        : " (the blocks of its shared pool)"));
    }

    void checkOpen() {
        if (closed) throw new IllegalStateException("this KvState is closed");
    }

    /**
     * Checks that sequence b has room for {@code rows} more rows, and takes the blocks they need from
     * the pool: IllegalArgumentException over the capacity, IllegalStateException when the pool has no
     * block left.
     */
    void checkRoom(int b, int rows) {
        long need = (long) lengths[b] + rows;
        if (need > capacity()) {
            throw new IllegalArgumentException("sequence " + b + " holds " + lengths[b] + " rows; " + rows + " more exceed the"
                    + " state's capacity of " + capacity() + " (make the state with a larger capacity)");
        }
        if (held == null) return;
        int blocks = BlockManager.blocksFor(need);
        while (held[b] < blocks) {
            int id = pool.allocate();
            if (id < 0) {
                throw new IllegalStateException("out of KV blocks: sequence " + b + " needs " + blocks + " blocks for " + need + " rows ("
                        + lengths[b] + " cached + " + rows + " new) and holds " + held[b] + "; all " + pool.numBlocks()
                        + " blocks of its pool (" + PagedBatch.bytesPerBlock(model) + " bytes each"
                        + (ownsPool ? ", within the budget of " + model.kvBudgetBytes() + " bytes (Transformer.kvBudgetBytes, -Dt4j.kvBudgetBytes)"
                                : ", shared with other states") + ") are in use; free sequences (clear, close) or give the pool more memory");
            }
            blockTable[b * maxBlocks + held[b]] = id;
            held[b]++;
            tableVersion++;
        }
    }

    /**
     * Beam search's reorder: afterwards sequence r holds what sequence {@code src[r]} held before (its rows and
     * length), for every r at once. Full blocks are shared (one more reference each: they are never written
     * again, since rows are only appended); the last, partly filled block is shared by the first sequence that
     * takes it and copied (one block, on the backend) for each further one, since each will append its own next
     * row to it. Memory thus stays at the blocks the distinct prefixes need plus at most one partial block per
     * sequence, and a step copies at most one block per sequence, whatever the length. Blocks no sequence
     * takes any more go back to the pool. Not for a view over the engine's caches.
     */
    void reorder(int[] src) {
        checkOpen();
        if (held == null) throw new IllegalStateException("a view over the engine's caches holds no blocks of its own to reorder");
        if (src == null || src.length != batch) {
            throw new IllegalArgumentException("reorder takes one source sequence per sequence (" + batch + "), got " + (src == null ? "null" : src.length));
        }
        for (int s : src) if (s < 0 || s >= batch) throw new IllegalArgumentException("source sequence " + s + " outside the state's batch " + batch);
        int[] table = new int[blockTable.length];
        int[] newHeld = new int[batch];
        int[] newLengths = new int[batch];
        boolean[] partialTaken = new boolean[batch];
        java.util.List<int[]> copies = new java.util.ArrayList<>();           // {from block, to row, its block index}
        for (int r = 0; r < batch; r++) {                                      // first the shared blocks: one more reference each
            int s = src[r];
            int len = lengths[s];
            int full = len / BLOCK_SIZE;
            for (int i = 0; i < full; i++) {
                int id = blockTable[s * maxBlocks + i];
                pool.retain(id);
                table[r * maxBlocks + i] = id;
            }
            newHeld[r] = full;
            if (len % BLOCK_SIZE != 0) {
                int id = blockTable[s * maxBlocks + full];
                if (!partialTaken[s]) {
                    partialTaken[s] = true;
                    pool.retain(id);
                    table[r * maxBlocks + full] = id;
                    newHeld[r]++;
                } else {
                    copies.add(new int[] {id, r, full});
                }
            }
            newLengths[r] = len;
        }
        // then the old holds go back (a copied block stays held by its first taker), so that the copies below find
        // the blocks the old layout no longer needs: the state never holds more blocks than the new layout
        for (int b = 0; b < batch; b++) releaseBlocks(b);
        System.arraycopy(table, 0, blockTable, 0, table.length);
        System.arraycopy(newHeld, 0, held, 0, batch);
        System.arraycopy(newLengths, 0, lengths, 0, batch);
        for (int[] c : copies) {
            int fresh = pool.allocate();
            if (fresh < 0) {
                for (int b = 0; b < batch; b++) clear(b);
                throw new IllegalStateException("out of KV blocks: forking a sequence of " + newLengths[c[1]] + " rows into sequence " + c[1]
                        + " needs a copy of its last block and all " + pool.numBlocks() + " blocks of the pool are in use (the state is cleared)");
            }
            blockTable[c[1] * maxBlocks + c[2]] = fresh;
            held[c[1]]++;
            c[1] = fresh;
        }
        if (!copies.isEmpty()) {
            try (var hold = hold()) {                                          // after the allocations: the pool may have grown
                for (int kv = 0; kv < 2; kv++) {
                    for (int l = 0; l < pool.caches()[kv].length; l++) {
                        Tensor c = caches(kv, l);                              // (blocks, BLOCK_SIZE, NKV, HS)
                        if (kv == 1 && c.storage() == caches(0, l).storage()) continue;   // MLA's latent cache: V is K
                        for (int[] fromTo : copies) model.backend.copy(c.slice(0, fromTo[0], fromTo[0] + 1), c.slice(0, fromTo[1], fromTo[1] + 1));
                    }
                }
            }
        }
        tableVersion++;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (heldSlot >= 0 && !lora.isClosed()) lora.release(heldSlot);
        if (decodeStep != null) decodeStep.close();
        if (held != null && !pool.isClosed()) for (int b = 0; b < batch; b++) releaseBlocks(b);
        if (ownsPool) pool.close();
        for (Tensor[] ts : new Tensor[][] {crossK, crossV}) {
            if (ts == null) continue;
            for (Tensor t : ts) if (t != null) t.close();
        }
    }
}
