// PagedKvCache — a KV cache in fixed-size blocks: two (numBlocks, blockSize, NKV, HS) tensors and a
// block table that maps each sequence's key positions to blocks. Validated where ops use it.
package org.transformer4j.runtime;

/**
 * Key position j of sequence b lives in block {@code blockTable[b * maxBlocksPerSeq + j / blockSize]},
 * slot {@code j % blockSize}, of {@code kCache} and {@code vCache} (contiguous, same dtype and
 * shape). Block ids index the first dimension. The table is host data: ops check every id they use
 * and the CUDA backend copies the table to the device per op (under graph capture, once, into
 * memory the graph keeps: the table is a constant of the graph).
 * <p>
 * {@code tableTensor}, where given, is an I32 (B·maxBlocksPerSeq) copy of the table in the backend's
 * memory that the caller keeps equal to {@code blockTable}: ops then read the ids from it (both
 * backends), so a captured graph reads its current contents at every replay, and blocks can be
 * added to a sequence between replays. The host table still serves the checks.
 */
public record PagedKvCache(Tensor kCache, Tensor vCache, int[] blockTable, int maxBlocksPerSeq, Tensor tableTensor) {

    /** A cache whose table the ops read from the host array. */
    public PagedKvCache(Tensor kCache, Tensor vCache, int[] blockTable, int maxBlocksPerSeq) {
        this(kCache, vCache, blockTable, maxBlocksPerSeq, null);
    }

    public int numBlocks() { return (int) kCache.shape(0); }

    public int blockSize() { return (int) kCache.shape(1); }

    public int nkv() { return (int) kCache.shape(2); }

    public int headSize() { return (int) kCache.shape(3); }

    /** Sequence b's cache as a batch of one: the same blocks, row b of the host block table. */
    public PagedKvCache sequence(int b) {
        return new PagedKvCache(kCache, vCache, java.util.Arrays.copyOfRange(blockTable, b * maxBlocksPerSeq, (b + 1) * maxBlocksPerSeq),
                maxBlocksPerSeq);
    }

    /** Rows one sequence can hold. */
    public long capacity() { return (long) maxBlocksPerSeq * blockSize(); }

    /** Exactly one of host lengths and an I32 (batch) lengths tensor. */
    static void checkLengthSource(int batch, int[] hostLengths, Tensor lengths) {
        if ((hostLengths == null) == (lengths == null)) {
            throw new IllegalArgumentException(hostLengths == null ? "no cache lengths: give host cacheLengths or a lengths tensor"
                    : "both host cacheLengths and a lengths tensor given; use one");
        }
        if (lengths != null) {
            Checks.open("lengths", lengths);
            if (lengths.dtype() != DType.I32 || lengths.rank() != 1 || lengths.shape(0) != batch || !lengths.isContiguous()) {
                throw new IllegalArgumentException("lengths must be a contiguous I32 (" + batch + "), got " + lengths);
            }
        }
    }

    /**
     * Checks the tensors and that sequences 0..batch-1 may use key positions [0, lengths[b] + extra);
     * with lengths null (a lengths tensor, unknown on the host) only the tensors and the table's size.
     */
    void validate(int batch, int[] lengths, int extra, String lengthsRole) {
        int[] extras = new int[Math.max(batch, 0)];
        java.util.Arrays.fill(extras, extra);
        validate(batch, lengths, extras, lengthsRole);
    }

    /** {@link #validate(int, int[], int, String)} with rows {@code extra[b]} appended to sequence b. */
    void validate(int batch, int[] lengths, int[] extras, String lengthsRole) {
        Checks.open("kCache", kCache);
        Checks.open("vCache", vCache);
        Checks.floating("kCache", kCache);
        Checks.sameDType("kCache", kCache, "vCache", vCache);
        Checks.sameShape("kCache", kCache, "vCache", vCache);
        Checks.sameDevice("kCache", kCache, "vCache", vCache);
        if (kCache.rank() != 4) {
            throw new IllegalArgumentException("kCache must be (numBlocks, blockSize, NKV, HS), got " + kCache.shapeString());
        }
        if (!kCache.isContiguous() || !vCache.isContiguous()) {
            throw new IllegalArgumentException("kCache " + kCache + " and vCache " + vCache + " must be contiguous");
        }
        if (kCache.shape(0) < 1 || kCache.shape(1) < 1 || kCache.shape(0) > Integer.MAX_VALUE || kCache.shape(1) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kCache " + kCache.shapeString() + " needs 1 ≤ numBlocks, blockSize < 2^31");
        }
        if (maxBlocksPerSeq < 1) throw new IllegalArgumentException("maxBlocksPerSeq must be ≥ 1, got " + maxBlocksPerSeq);
        if (blockTable == null || blockTable.length != (long) batch * maxBlocksPerSeq) {
            throw new IllegalArgumentException("blockTable has " + (blockTable == null ? "no" : blockTable.length)
                    + " entries but batch " + batch + " × maxBlocksPerSeq " + maxBlocksPerSeq + " are needed");
        }
        if (tableTensor != null) {
            Checks.open("tableTensor", tableTensor);
            Checks.sameDevice("kCache", kCache, "tableTensor", tableTensor);
            if (tableTensor.dtype() != DType.I32 || tableTensor.rank() != 1 || tableTensor.shape(0) != blockTable.length
                    || !tableTensor.isContiguous()) {
                throw new IllegalArgumentException("tableTensor must be a contiguous I32 (" + blockTable.length + ") like blockTable, got "
                        + tableTensor);
            }
        }
        if (lengths == null) {
            for (int id : blockTable) {
                if (id < 0 || id >= numBlocks()) {
                    throw new IllegalArgumentException("blockTable holds " + id + ", not a block of kCache " + kCache.shapeString());
                }
            }
            return;
        }
        if (lengths.length != batch) {
            throw new IllegalArgumentException(lengthsRole + " has " + lengths.length + " entries for batch " + batch);
        }
        for (int b = 0; b < batch; b++) {
            int extra = extras[b];
            long need = (long) lengths[b] + extra;
            if (lengths[b] < 0) throw new IllegalArgumentException(lengthsRole + "[" + b + "] = " + lengths[b] + " is negative");
            if (need > capacity()) {
                throw new IllegalArgumentException("the cache is too small: sequence " + b + " needs " + need + " rows ("
                        + lengthsRole + " " + lengths[b] + (extra > 0 ? " + " + extra + " appended" : "") + ") but holds "
                        + capacity() + " (" + maxBlocksPerSeq + " blocks of " + blockSize() + ")");
            }
            long pages = (need + blockSize() - 1) / blockSize();
            for (int pg = 0; pg < pages; pg++) {
                int id = blockTable[b * maxBlocksPerSeq + pg];
                if (id < 0 || id >= numBlocks()) {
                    throw new IllegalArgumentException("blockTable[" + b + "][" + pg + "] = " + id + " is not a block of kCache "
                            + kCache.shapeString());
                }
            }
        }
    }
}
