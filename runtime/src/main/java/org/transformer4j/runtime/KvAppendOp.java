// KvAppendOp — writes new key/value rows into a paged KV cache after each sequence's cached rows.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#kvAppend}: k and v (B, Tnew, NKV, HS) (any strides, HS contiguous)
 * go to key positions {@code cacheLengths[b] .. cacheLengths[b] + Tnew − 1} of sequence b.
 * {@code cacheLengths} are the lengths before the append; the caller advances them.
 */
public record KvAppendOp(PagedKvCache cache, int[] cacheLengths, Tensor k, Tensor v) {

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
        cache.validate(batch, cacheLengths, tnew, "cacheLengths");
        Checks.sameDType("kCache", cache.kCache(), "k", k);
        Checks.sameDevice("kCache", cache.kCache(), "k", k);
        Checks.sameDevice("kCache", cache.kCache(), "v", v);
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
