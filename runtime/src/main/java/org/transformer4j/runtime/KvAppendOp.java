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
 */
public record KvAppendOp(PagedKvCache cache, int[] cacheLengths, Tensor k, Tensor v, Tensor lengths) {

    public KvAppendOp(PagedKvCache cache, int[] cacheLengths, Tensor k, Tensor v) {
        this(cache, cacheLengths, k, v, null);
    }

    /** Lengths from an I32 (B) tensor of the backend, read when the op runs. */
    public static KvAppendOp of(PagedKvCache cache, Tensor lengths, Tensor k, Tensor v) {
        return new KvAppendOp(cache, null, k, v, lengths);
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
        int batch = (int) k.shape(0);
        int tnew = (int) k.shape(1);
        PagedKvCache.checkLengthSource(batch, cacheLengths, lengths);
        cache.validate(batch, cacheLengths, tnew, "cacheLengths");
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
