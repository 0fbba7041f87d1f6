// BlockManager — the one owner of KV-cache memory for the serving engine: a pool of fixed-size
// blocks sized by a memory budget, a free list, reference counts, and a prefix cache that lets
// requests with the same prompt start share the blocks that hold it.
package org.transformer4j.model.engine;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import org.transformer4j.model.PagedBatch;
import org.transformer4j.model.Transformer;
import org.transformer4j.runtime.Tensor;

/**
 * Blocks are allocated on demand, one at a time, as a sequence's rows reach them; a block is free
 * again when its last holder releases it. A full block of prompt rows can be published under its
 * whole token prefix (the exact ids, not a hash: no collision can hand a request someone else's
 * K/V); a released published block stays cached, evictable, until the free list runs dry. Sizes
 * are longs with overflow checks; the pool is capped by the budget and by what the model's
 * positions can use. Not thread-safe: the engine's loop is its only user.
 */
public final class BlockManager implements AutoCloseable {

    public static final int BLOCK_SIZE = PagedBatch.BLOCK_SIZE;

    private final Tensor[][] kv;
    private final int numBlocks;
    private final int[] refs;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final Map<PrefixKey, Integer> published = new HashMap<>();
    private final PrefixKey[] keyOf;
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();  // published, refs 0, oldest first
    private long prefixHits;
    private boolean closed;

    /** The exact prompt prefix a published block ends: ids [0, 16·(i+1)). */
    private record PrefixKey(int[] ids) {
        @Override public boolean equals(Object o) { return o instanceof PrefixKey k && Arrays.equals(ids, k.ids); }
        @Override public int hashCode() { return Arrays.hashCode(ids); }
    }

    /**
     * A pool of at most {@code budgetBytes} of KV memory, and no more blocks than {@code maxSequences}
     * sequences of the model's full length need.
     */
    public BlockManager(Transformer model, long budgetBytes, int maxSequences) {
        PagedBatch.requireDecoderOnly(model);
        if (budgetBytes <= 0) throw new IllegalArgumentException("the KV memory budget must be > 0 bytes, got " + budgetBytes);
        if (maxSequences < 1) throw new IllegalArgumentException("maxSequences must be ≥ 1, got " + maxSequences);
        long perBlock = PagedBatch.bytesPerBlock(model);
        long byBudget = budgetBytes / perBlock;
        long positions = model.config.maxPositions() > 0 ? model.config.maxPositions() : 1L << 20;
        long byPositions = Math.multiplyExact((positions + BLOCK_SIZE - 1) / BLOCK_SIZE, (long) maxSequences);
        long n = Math.min(Math.min(byBudget, byPositions), Integer.MAX_VALUE - 1L);
        if (n < 1) {
            throw new IllegalArgumentException("a KV budget of " + budgetBytes + " bytes holds no block (" + perBlock
                    + " bytes each for this model)");
        }
        this.numBlocks = (int) n;
        this.kv = PagedBatch.allocate(model, numBlocks);
        this.refs = new int[numBlocks];
        this.keyOf = new PrefixKey[numBlocks];
        for (int i = 0; i < numBlocks; i++) free.add(i);
    }

    /** The caches ({K, V} per layer) for {@link PagedBatch}. */
    Tensor[][] caches() { return kv; }

    public int numBlocks() { return numBlocks; }

    /** Blocks held by at least one sequence. */
    public int blocksInUse() { return numBlocks - free.size() - evictable.size(); }

    /** Blocks that can be handed out now (free, or cached and evictable). */
    public int available() { return free.size() + evictable.size(); }

    /** Prompt blocks reused from the prefix cache so far. */
    public long prefixHits() { return prefixHits; }

    /** Blocks needed for {@code rows} rows. */
    public static int blocksFor(long rows) {
        return Math.toIntExact((rows + BLOCK_SIZE - 1) / BLOCK_SIZE);
    }

    /** A block for one holder, or -1 when none is left. */
    public int allocate() {
        checkOpen();
        Integer id = free.poll();
        if (id == null) {
            if (evictable.isEmpty()) return -1;
            id = evictable.iterator().next();
            evictable.remove(id);
            published.remove(keyOf[id]);
            keyOf[id] = null;
        }
        refs[id] = 1;
        return id;
    }

    /** Gives up one hold of block id. */
    public void release(int id) {
        if (refs[id] <= 0) throw new IllegalStateException("block " + id + " released more often than held");
        if (--refs[id] == 0) {
            if (keyOf[id] != null) evictable.add(id);
            else free.add(id);
        }
    }

    /** Holders of block id (0: free or cached). */
    public int refCount(int id) { return refs[id]; }

    /** Publishes block id as holding the rows of {@code prefix} (a whole number of blocks, its last block id). */
    public void publish(int[] prefix, int id) {
        if (prefix.length == 0 || prefix.length % BLOCK_SIZE != 0) throw new IllegalArgumentException("a prefix of whole blocks");
        if (keyOf[id] != null) return;
        PrefixKey k = new PrefixKey(prefix.clone());
        if (published.containsKey(k)) return;               // another block already holds these rows
        published.put(k, id);
        keyOf[id] = k;
    }

    /** The block published for {@code prefix}, held once more for the caller, or -1. */
    public int lookup(int[] prefix) {
        Integer id = published.get(new PrefixKey(prefix));
        if (id == null) return -1;
        if (refs[id] == 0) evictable.remove(id);
        refs[id]++;
        prefixHits++;
        return id;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the block manager is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
    }
}
