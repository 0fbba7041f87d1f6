// BlockManager — the one owner of KV-cache memory, for the serving engine and for KvStates: a pool
// of fixed-size blocks sized by a memory budget, a free list, reference counts, and a prefix cache
// that lets requests with the same prompt start share the blocks that hold it.
package org.transformer4j.model.engine;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.transformer4j.model.PagedBatch;
import org.transformer4j.model.Transformer;
import org.transformer4j.runtime.Tensor;

/**
 * Blocks are allocated on demand, one at a time, as a sequence's rows reach them; a block is free
 * again when its last holder releases it. A full block of prompt rows can be published under its
 * exact prefix, as a chain: the key of the block before it (a serial number, never reused) and its
 * own {@value #BLOCK_SIZE} ids — exact, not a hash, so no collision can hand a request someone else's
 * K/V, and each key holds 16 ids whatever the prompt's length (a key of the whole prefix would hold
 * 16·(i+1) ids for block i: 2 GiB of keys for one 128k-token prompt). A released published block stays
 * cached, evictable, until the free list runs dry; evicting it orphans the keys chained after it (no
 * lookup reaches them again; they are evicted in their turn). Sizes are longs with overflow checks;
 * the pool is capped by the budget and by what the model's positions can use.
 * <p>
 * The engine's pool ({@link #BlockManager(Transformer, long, int)}) allocates its memory whole, once.
 * A pool {@link #onDemand} (what {@link Transformer#newState} uses, alone or shared between states)
 * starts with a few blocks and grows when its free list runs dry: the caches are reallocated at
 * twice the size (capped by the budget), the blocks copied over (their ids stay valid) and
 * {@link #generation()} advances, so that a graph captured over the old tensors is captured again.
 * Its memory is thus at most twice what the blocks in use take (and, while growing, the old and new
 * caches together). Calls that read the caches hold {@link #reading()} so that growth, which waits
 * for them, never frees tensors under a running op. Bookkeeping is synchronized: states on
 * different threads may share one pool.
 */
public final class BlockManager implements AutoCloseable {

    public static final int BLOCK_SIZE = PagedBatch.BLOCK_SIZE;

    private final Transformer model;
    private volatile Tensor[][] kv;
    private final int numBlocks;                // the most blocks the pool may hold
    private int allocatedBlocks;                // blocks whose memory exists (= numBlocks for the engine's pool)
    private volatile int generation;
    private final ReentrantReadWriteLock growth = new ReentrantReadWriteLock();
    private int[] refs;                         // (allocatedBlocks)
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final Map<PrefixKey, Integer> published = new HashMap<>();
    private PrefixKey[] keyOf;                  // (allocatedBlocks) the key a block is published under, or null
    private long[] serialOf;                    // (allocatedBlocks) that key's serial, 0 when unpublished
    private long nextSerial = ROOT + 1;
    /** Root keys of cache salts, least recently used first; at most {@link #MAX_SALTS} (a forgotten salt's blocks are orphaned). */
    private final Map<String, Long> salts = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<String, Long> e) { return size() > MAX_SALTS; }
    };

    /** Cache salts remembered at most. */
    public static final int MAX_SALTS = 65_536;
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();  // published, refs 0, oldest first
    private long prefixHits;
    private boolean closed;

    /** The key before a prompt's first block. */
    public static final long ROOT = 0;

    /** A published block: the serial of the block before it ({@link #ROOT} for a prompt's first) and its own ids. */
    private record PrefixKey(long parent, int[] ids) {
        @Override public boolean equals(Object o) { return o instanceof PrefixKey k && parent == k.parent && Arrays.equals(ids, k.ids); }
        @Override public int hashCode() { return Long.hashCode(parent) * 31 + Arrays.hashCode(ids); }
    }

    /** A block found in the prefix cache ({@link #lookup}): its id, held once more for the caller, and its key's serial. */
    public record Cached(int block, long key) {}

    /**
     * A pool of at most {@code budgetBytes} of KV memory, and no more blocks than {@code maxSequences}
     * sequences of the model's full length need, allocated now.
     */
    public BlockManager(Transformer model, long budgetBytes, int maxSequences) {
        this(model, -1, check(model, budgetBytes, maxSequences));
    }

    private static long check(Transformer model, long budgetBytes, int maxSequences) {
        PagedBatch.requireDecoderOnly(model);
        if (maxSequences < 1) throw new IllegalArgumentException("maxSequences must be ≥ 1, got " + maxSequences);
        long byBudget = blocksInBudget(model, budgetBytes);
        long positions = model.config.contextPositions() > 0 ? model.config.contextPositions() : 1L << 20;
        long byPositions = Math.multiplyExact((positions + BLOCK_SIZE - 1) / BLOCK_SIZE, (long) maxSequences);
        return Math.min(byBudget, byPositions);
    }

    /** Blocks that {@code budgetBytes} holds for this model (at least 1, else IllegalArgumentException). */
    public static long blocksInBudget(Transformer model, long budgetBytes) {
        if (budgetBytes <= 0) throw new IllegalArgumentException("the KV memory budget must be > 0 bytes, got " + budgetBytes);
        long perBlock = PagedBatch.bytesPerBlock(model);
        long n = budgetBytes / perBlock;
        if (n < 1) {
            throw new IllegalArgumentException("a KV budget of " + budgetBytes + " bytes holds no block (" + perBlock
                    + " bytes each for this model)");
        }
        return n;
    }

    /**
     * A pool of at most {@code maxBlocks} blocks (capped by {@code budgetBytes}) whose memory is
     * allocated as blocks are first needed; see the class comment.
     */
    public static BlockManager onDemand(Transformer model, long budgetBytes, long maxBlocks) {
        if (maxBlocks < 1) throw new IllegalArgumentException("a pool needs ≥ 1 block, got " + maxBlocks);
        return new BlockManager(model, INITIAL_BLOCKS, Math.min(blocksInBudget(model, budgetBytes), maxBlocks));
    }

    /** Blocks an on-demand pool starts with. */
    static final int INITIAL_BLOCKS = 4;

    /** A pool of at most maxBlocks blocks, initialBlocks of them allocated now (-1: all). */
    private BlockManager(Transformer model, int initialBlocks, long maxBlocks) {
        this.model = model;
        this.numBlocks = (int) Math.min(maxBlocks, Integer.MAX_VALUE - 1L);
        this.allocatedBlocks = initialBlocks < 0 ? numBlocks : Math.min(numBlocks, initialBlocks);
        this.kv = PagedBatch.allocate(model, allocatedBlocks);
        this.refs = new int[allocatedBlocks];
        this.keyOf = new PrefixKey[allocatedBlocks];
        this.serialOf = new long[allocatedBlocks];
        for (int i = 0; i < allocatedBlocks; i++) free.add(i);
    }

    /**
     * The caches ({K, V} per layer, (allocatedBlocks, BLOCK_SIZE, NKV, HS) each) for {@link PagedBatch}
     * and KvState: valid while the caller holds {@link #reading()} (an on-demand pool may replace them
     * when it grows).
     */
    public Tensor[][] caches() { return kv; }

    /** Advances each time the pool's caches are replaced by larger ones. */
    public int generation() { return generation; }

    /**
     * Holds the caches against growth until closed: take it around every call that reads or writes
     * them, after the blocks it needs are allocated ({@link #allocate} may grow the pool, and waits
     * for holders on other threads).
     */
    public Reading reading() {
        growth.readLock().lock();
        return growth.readLock()::unlock;
    }

    /** A hold of {@link #reading()}. */
    public interface Reading extends AutoCloseable {
        @Override void close();
    }

    /** The model whose K/V the pool holds. */
    public Transformer model() { return model; }

    /** The most blocks the pool may hold. */
    public int numBlocks() { return numBlocks; }

    /** Blocks whose memory is allocated now (all of them for the engine's pool). */
    public synchronized int allocatedBlocks() { return allocatedBlocks; }

    /** Bytes of K/V memory the pool holds now. */
    public long allocatedBytes() { return allocatedBlocks() * PagedBatch.bytesPerBlock(model); }

    /** Blocks held by at least one sequence. */
    public synchronized int blocksInUse() { return allocatedBlocks - free.size() - evictable.size(); }

    /** Blocks that can be handed out now (free, cached and evictable, or not yet allocated). */
    public synchronized int available() { return numBlocks - blocksInUse(); }

    /** Prompt blocks reused from the prefix cache so far. */
    public synchronized long prefixHits() { return prefixHits; }

    public synchronized boolean isClosed() { return closed; }

    /** Blocks needed for {@code rows} rows. */
    public static int blocksFor(long rows) {
        return Math.toIntExact((rows + BLOCK_SIZE - 1) / BLOCK_SIZE);
    }

    /**
     * A block for one holder, or -1 when none is left. May grow an on-demand pool: never call it while
     * holding {@link #reading()}.
     */
    public synchronized int allocate() {
        checkOpen();
        if (free.isEmpty() && evictable.isEmpty() && allocatedBlocks < numBlocks) grow();
        Integer id = free.poll();
        if (id == null) {
            if (evictable.isEmpty()) return -1;
            id = evictable.iterator().next();
            evictable.remove(id);
            published.remove(keyOf[id]);
            keyOf[id] = null;
            serialOf[id] = 0;
        }
        refs[id] = 1;
        return id;
    }

    /**
     * Doubles the allocated blocks (capped by numBlocks): new caches, the old blocks copied in, the old
     * caches closed (on CUDA in stream order, after the ops queued on them). Waits for the holders of
     * {@link #reading()}.
     */
    private void grow() {
        if (growth.getReadHoldCount() > 0) {
            throw new IllegalStateException("the KV pool cannot grow while this thread reads its caches (allocate blocks first)");
        }
        int n = (int) Math.min(numBlocks, Math.max(allocatedBlocks + 1L, 2L * allocatedBlocks));
        growth.writeLock().lock();
        try {
            Tensor[][] old = kv;
            Tensor[][] bigger;
            try {
                bigger = PagedBatch.allocate(model, n);
            } catch (RuntimeException e) {
                throw new IllegalStateException("the KV pool could not grow from " + allocatedBlocks + " to " + n + " blocks ("
                        + Math.multiplyExact((long) n, PagedBatch.bytesPerBlock(model)) + " bytes): " + e.getMessage(), e);
            }
            for (int l = 0; l < old[0].length; l++) {
                boolean oneCache = old[1][l].storage() == old[0][l].storage();                  // MLA's latent cache: V is K's view
                for (int kvi = 0; kvi < (oneCache ? 1 : 2); kvi++) {
                    model.backend.copy(old[kvi][l], bigger[kvi][l].slice(0, 0, allocatedBlocks));
                }
                old[0][l].close();
                old[1][l].close();
            }
            kv = bigger;
            refs = Arrays.copyOf(refs, n);
            keyOf = Arrays.copyOf(keyOf, n);
            serialOf = Arrays.copyOf(serialOf, n);
            for (int i = allocatedBlocks; i < n; i++) free.add(i);
            allocatedBlocks = n;
            generation++;
        } finally {
            growth.writeLock().unlock();
        }
    }

    /** Gives up one hold of block id. */
    public synchronized void release(int id) {
        if (refs[id] <= 0) throw new IllegalStateException("block " + id + " released more often than held");
        if (--refs[id] == 0) {
            if (keyOf[id] != null) evictable.add(id);
            else free.add(id);
        }
    }

    /** One more hold of block id, which the caller's sequence already holds (a beam forked from it shares the block). */
    public synchronized void retain(int id) {
        checkOpen();
        if (id < 0 || id >= refs.length || refs[id] <= 0) throw new IllegalStateException("block " + id + " is not held: nothing to share");
        refs[id]++;
    }

    /** Holders of block id (0: free or cached). */
    public synchronized int refCount(int id) { return refs[id]; }

    /**
     * Publishes block id as holding prompt rows {@code ids[from, from + BLOCK_SIZE)} after the prefix whose last block
     * is published under {@code parent} ({@link #ROOT}: the prompt's first block). Returns the serial the rows are
     * published under — chain the next block to it —, another block's when that one holds these rows already.
     */
    public synchronized long publish(long parent, int[] ids, int from, int id) {
        checkOpen();
        if (parent < ROOT || parent >= nextSerial) throw new IllegalArgumentException("no key " + parent + " was handed out");
        checkRows(ids, from);
        if (id < 0 || id >= refs.length || refs[id] <= 0) throw new IllegalStateException("block " + id + " is not held: nothing to publish");
        PrefixKey k = new PrefixKey(parent, Arrays.copyOfRange(ids, from, from + BLOCK_SIZE));
        Integer other = published.get(k);
        if (other != null) return serialOf[other];           // another block already holds these rows
        if (keyOf[id] != null) {
            throw new IllegalStateException("block " + id + " is published already, under other rows");
        }
        published.put(k, id);
        keyOf[id] = k;
        serialOf[id] = nextSerial++;
        return serialOf[id];
    }

    /**
     * The block published for rows {@code ids[from, from + BLOCK_SIZE)} after the prefix published under {@code parent},
     * held once more for the caller, or null.
     */
    public synchronized Cached lookup(long parent, int[] ids, int from) {
        checkOpen();
        checkRows(ids, from);
        Integer id = published.get(new PrefixKey(parent, Arrays.copyOfRange(ids, from, from + BLOCK_SIZE)));
        if (id == null) return null;
        if (refs[id] == 0) evictable.remove(id);
        refs[id]++;
        prefixHits++;
        return new Cached(id, serialOf[id]);
    }

    /**
     * The key before the first block of prompts salted with {@code salt} (vLLM's cache_salt): blocks chained after it are
     * found only by requests of the same salt. A salt not seen for the last {@link #MAX_SALTS} salts gets a new key.
     */
    public synchronized long saltKey(String salt) {
        if (salt == null) throw new IllegalArgumentException("no salt");
        return salts.computeIfAbsent(salt, x -> nextSerial++);
    }

    /** Blocks published now (held or cached), each holding one key of {@value #BLOCK_SIZE} ids. */
    public synchronized int publishedBlocks() { return published.size(); }

    /** Rows [from, from + BLOCK_SIZE) lie inside {@code ids}, else IllegalArgumentException naming them. */
    private static void checkRows(int[] ids, int from) {
        if (from < 0 || from > ids.length - BLOCK_SIZE) {
            throw new IllegalArgumentException("rows [" + from + ", " + (from + BLOCK_SIZE) + ") are not inside the " + ids.length + " ids");
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the block manager is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
    }
}
