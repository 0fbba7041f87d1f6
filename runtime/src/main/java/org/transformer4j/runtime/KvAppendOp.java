// KvAppendOp — writes new key/value rows into a paged KV cache after each sequence's cached rows.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#kvAppend}: k and v (B, Tnew, NKV, HS) (any strides, HS contiguous)
 * go to key positions {@code cacheLengths[b] .. cacheLengths[b] + Tnew − 1} of sequence b.
 * {@code cacheLengths} are the lengths before the append; the caller advances them. They are host
 * ints, or ({@link #of(PagedKvCache, Tensor, Tensor, Tensor)}) an I32 (B) tensor in the backend's
 * memory, read when the op runs: a captured graph then appends at each replay's lengths. Host
 * lengths are checked against the cache before any work; tensor lengths are checked by the CPU
 * backend when the op runs and clamped by the CUDA kernel (rows outside the table are dropped).
 * {@link #packed} appends several sequences' packed rows of different counts in one op (ABI 17).
 */
public record KvAppendOp(PagedKvCache cache, int[] cacheLengths, Tensor k, Tensor v, Tensor lengths, int[] cuSeqlens) {

    public KvAppendOp(PagedKvCache cache, int[] cacheLengths, Tensor k, Tensor v) {
        this(cache, cacheLengths, k, v, null, null);
    }

    public KvAppendOp(PagedKvCache cache, int[] cacheLengths, Tensor k, Tensor v, Tensor lengths) {
        this(cache, cacheLengths, k, v, lengths, null);
    }

    /** Lengths from an I32 (B) tensor of the backend, read when the op runs. */
    public static KvAppendOp of(PagedKvCache cache, Tensor lengths, Tensor k, Tensor v) {
        return new KvAppendOp(cache, null, k, v, lengths);
    }

    /**
     * Varlen append (ABI 17): k and v are (1, ΣT, NKV, HS), rows {@code cu[b] .. cu[b+1] − 1} sequence b's (none where
     * equal), going to positions cacheLengths[b] .. of row b of the cache's block table. Host lengths only.
     */
    public static KvAppendOp packed(PagedKvCache cache, int[] cacheLengths, int[] cu, Tensor k, Tensor v) {
        return new KvAppendOp(cache, cacheLengths, k, v, null, cu == null ? null : cu.clone());
    }

    /** Sequence b of a {@link #packed} op as an op of its own: its rows of k and v, row b of the table, its length. */
    public KvAppendOp sequence(int b) {
        int from = cuSeqlens[b], to = cuSeqlens[b + 1];
        return new KvAppendOp(cache.sequence(b), new int[] {cacheLengths[b]}, k.slice(1, from, to), v.slice(1, from, to));
    }

    /** The lengths the op uses now: the host array, or the tensor's values checked against the cache (CPU backend). */
    int[] currentLengths() {
        if (lengths == null) return cacheLengths;
        int[] now = lengths.toIntArray();
        cache.validate(now.length, now, (int) k.shape(1), "lengths");
        return now;
    }

    /** Validated sizes and strides (elements). */
    public record Shape(int batch, int tnew, int nkv, int hs, long kBatchStride, long kRowStride, long kHeadStride,
                        long vBatchStride, long vRowStride, long vHeadStride) {}

    public Shape validate() {
        if (cache == null) throw new IllegalArgumentException("cache is null");
        Checks.open("k", k);
        Checks.open("v", v);
        Checks.sameShape("k", k, "v", v);
        Checks.sameDType("k", k, "v", v);
        if (k.rank() != 4) throw new IllegalArgumentException("k must be (B, Tnew, NKV, HS), got " + k.shapeString());
        if (k.shape(0) > 65535 || k.shape(1) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("k " + k.shapeString() + " is too large (B ≤ 65535)");
        }
        int batch;
        int tnew = (int) k.shape(1);
        if (cuSeqlens != null) {
            if (k.shape(0) != 1) throw new IllegalArgumentException("a packed append's k must be (1, ΣT, NKV, HS), got " + k.shapeString());
            if (cuSeqlens.length < 2 || cuSeqlens.length - 1 > 65535) {
                throw new IllegalArgumentException("cuSeqlens has " + cuSeqlens.length + " entries; it needs B + 1 with 1 ≤ B ≤ 65535");
            }
            if (lengths != null) throw new IllegalArgumentException("a packed append takes host cacheLengths, not a lengths tensor");
            batch = cuSeqlens.length - 1;
            AttentionOp.offsets("cuSeqlens", cuSeqlens, tnew, "k " + k.shapeString());
            PagedKvCache.checkLengthSource(batch, cacheLengths, null);
            int[] rows = new int[batch];
            for (int b = 0; b < batch; b++) rows[b] = cuSeqlens[b + 1] - cuSeqlens[b];
            cache.validate(batch, cacheLengths, rows, "cacheLengths");
        } else {
            batch = (int) k.shape(0);
            PagedKvCache.checkLengthSource(batch, cacheLengths, lengths);
            cache.validate(batch, cacheLengths, tnew, "cacheLengths");
        }
        Checks.sameDType("kCache", cache.kCache(), "k", k);
        Checks.sameDevice("kCache", cache.kCache(), "k", k);
        Checks.sameDevice("kCache", cache.kCache(), "v", v);
        if (lengths != null) Checks.sameDevice("kCache", cache.kCache(), "lengths", lengths);
        if (k.shape(2) != cache.nkv() || k.shape(3) != cache.headSize()) {
            throw new IllegalArgumentException("k has shape " + k.shapeString() + " but kCache " + cache.kCache().shapeString()
                    + " holds (NKV, HS) = (" + cache.nkv() + ", " + cache.headSize() + ")");
        }
        Checks.lastDimContiguous("k", k);
        Checks.lastDimContiguous("v", v);
        return new Shape(batch, tnew, cache.nkv(), cache.headSize(), k.stride(0), k.stride(1), k.stride(2),
                v.stride(0), v.stride(1), v.stride(2));
    }
}
