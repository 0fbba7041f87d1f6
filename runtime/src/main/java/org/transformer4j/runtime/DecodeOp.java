// DecodeOp — attention of new queries per sequence against a paged KV cache: a few (Tq 1..16) with
// the keys split over several workers whose partial results are combined (split-KV), or, in F16/BF16,
// a whole prompt or chunk (paged prefill, on tensor cores on CUDA).
package org.transformer4j.runtime;

import java.util.Arrays;

/**
 * Arguments of {@link Backend#decode}. q and out are (B, Tq, NH, HS); sequence b attends to its
 * first {@code cacheLengths[b]} cached keys, which include the Tq new tokens (append them first):
 * query i sits at key position cacheLengths[b] − Tq + i and, when {@code causal}, sees keys up to
 * it. lse (F32 (B, NH, Tq), optional), scale and the T5 bias are as in {@link AttentionOp}.
 * {@code numSplits} splits each sequence's keys into that many ranges (0: the backend chooses).
 * The lengths are host ints or ({@link #lengths(Tensor)}) an I32 (B) tensor of the backend read
 * when the op runs, as in {@link KvAppendOp}; with a tensor the backend sizes the splits for the
 * cache's capacity, since it cannot see the lengths, and (numSplits 0) the CUDA kernel runs only the
 * splits each length needs when it runs (t4j_decode_params.split_keys), so a captured graph replayed
 * at a short length does not pay for the capacity's splits. F16/BF16 take any Tq ≥ 1 ({@link #maxQueries}):
 * above {@link #MAX_QUERIES} the CUDA backend prefills on tensor cores through the block table
 * (t4j.h, ABI 7) and {@code numSplits} is not used. {@link #packed} (ABI 17) takes several sequences' packed rows of
 * different counts — a packed pass's prompt chunks, drafts and decode rows — in one op.
 */
public record DecodeOp(Tensor q, PagedKvCache cache, int[] cacheLengths, Tensor out, Tensor lse, boolean causal,
                       float scale, RelativeBias bias, int numSplits, Tensor lengths, int window, float softcap, Tensor sinks, Tensor alibi,
                       int[] cuSeqlensQ) {

    public DecodeOp(Tensor q, PagedKvCache cache, int[] cacheLengths, Tensor out, Tensor lse, boolean causal,
                    float scale, RelativeBias bias, int numSplits) {
        this(q, cache, cacheLengths, out, lse, causal, scale, bias, numSplits, null, 0, 0f, null, null, null);
    }

    /**
     * Sliding window (causal only; 0: none): the query at key position p sees keys p − window + 1 .. p,
     * as {@link AttentionOp#window} and {@link AttentionOp.Mask#visible(int, int, int, int)}.
     */
    public DecodeOp window(int w) { return new DecodeOp(q, cache, cacheLengths, out, lse, causal, scale, bias, numSplits, lengths, w, softcap, sinks, alibi, cuSeqlensQ); }

    /** Gemma 2's attention logit soft-capping (0: none), as {@link AttentionOp#softcap}. */
    public DecodeOp softcap(float cap) {
        return new DecodeOp(q, cache, cacheLengths, out, lse, causal, scale, bias, numSplits, lengths, window, cap, sinks, alibi, cuSeqlensQ);
    }

    /** Attention sinks, F32 (NH) (null: none), as {@link AttentionOp#sinks}: each added once per row, after the splits combine. */
    public DecodeOp sinks(Tensor s) {
        return new DecodeOp(q, cache, cacheLengths, out, lse, causal, scale, bias, numSplits, lengths, window, softcap, s, alibi, cuSeqlensQ);
    }

    /**
     * ALiBi slopes, F32 (NH) (null: none), as {@link AttentionOp#alibi}: query i at key position cacheLengths[b] − Tq + i
     * gains −slopes[h] · |j − that| on key j.
     */
    public DecodeOp alibi(Tensor slopes) {
        return new DecodeOp(q, cache, cacheLengths, out, lse, causal, scale, bias, numSplits, lengths, window, softcap, sinks, slopes, cuSeqlensQ);
    }

    /** Queries per sequence of the split-KV decode, and of any decode in F32. */
    public static final int MAX_QUERIES = 16;

    /** The most queries per sequence a decode of this dtype takes: {@link #MAX_QUERIES} in F32, any in F16/BF16. */
    public static int maxQueries(DType dtype) { return dtype == DType.F32 ? MAX_QUERIES : Integer.MAX_VALUE; }
    public static final int MAX_SPLITS = 128;

    /** Causal decode with scale 1/sqrt(HS), no lse, no bias, splits chosen by the backend. */
    public static DecodeOp of(Tensor q, PagedKvCache cache, int[] cacheLengths, Tensor out) {
        float scale = q == null || q.rank() == 0 ? 1f : (float) (1.0 / Math.sqrt(q.shape(-1)));
        return new DecodeOp(q, cache, cacheLengths, out, null, true, scale, null, 0);
    }

    public DecodeOp lse(Tensor t) { return new DecodeOp(q, cache, cacheLengths, out, t, causal, scale, bias, numSplits, lengths, window, softcap, sinks, alibi, cuSeqlensQ); }

    public DecodeOp causal(boolean c) { return new DecodeOp(q, cache, cacheLengths, out, lse, c, scale, bias, numSplits, lengths, window, softcap, sinks, alibi, cuSeqlensQ); }

    public DecodeOp scale(float s) { return new DecodeOp(q, cache, cacheLengths, out, lse, causal, s, bias, numSplits, lengths, window, softcap, sinks, alibi, cuSeqlensQ); }

    public DecodeOp bias(RelativeBias b) { return new DecodeOp(q, cache, cacheLengths, out, lse, causal, scale, b, numSplits, lengths, window, softcap, sinks, alibi, cuSeqlensQ); }

    /** Lengths from an I32 (B) tensor of the backend, read when the op runs (cacheLengths becomes null). */
    public DecodeOp lengths(Tensor t) { return new DecodeOp(q, cache, null, out, lse, causal, scale, bias, numSplits, t, window, softcap, sinks, alibi, cuSeqlensQ); }

    /** The lengths the op uses now: the host array, or the tensor's values checked against the cache (CPU backend). */
    int[] currentLengths() {
        if (lengths == null) return cacheLengths;
        int[] now = lengths.toIntArray();
        cache.validate(now.length, now, 0, "lengths");
        coverQueries("lengths", now, (int) q.shape(1));
        return now;
    }

    /** Each sequence's keys must include its Tq new tokens' own. */
    private static void coverQueries(String role, int[] lengths, int tq) {
        for (int b = 0; b < lengths.length; b++) {
            if (lengths[b] < tq) {
                throw new IllegalArgumentException(role + "[" + b + "] = " + lengths[b] + " is below Tq = " + tq
                        + ": append the new tokens' keys before decoding");
            }
        }
    }

    /**
     * Varlen (ABI 17): several sequences' new rows in one op, as a packed pass holds them. q and out are (1, ΣTq, NH, HS);
     * rows {@code cu[b] .. cu[b+1] − 1} are sequence b's Lq_b ≥ 0 queries, query i at key position cacheLengths[b] − Lq_b + i,
     * against row b of the cache's block table; lse (given) is F32 (NH, ΣTq). Each sequence gets what {@link #sequence} —
     * an op over it alone — computes: on the CPU bit for bit; on CUDA bit for bit with the same splits where both take one
     * path, and up to rounding where the longest sequence's rows (past {@link #MAX_QUERIES}: the paged prefill) pick
     * another path than a short sequence's own (t4j.h). Host cacheLengths only.
     */
    public DecodeOp packed(int[] cu) {
        return new DecodeOp(q, cache, cacheLengths, out, lse, causal, scale, bias, numSplits, lengths, window, softcap, sinks, alibi,
                cu == null ? null : cu.clone());
    }

    /**
     * Sequence b of a {@link #packed} op as an op of its own: its rows of q and out (1, Lq_b, NH, HS), row b of the
     * block table, its length, and {@code lseRows} (F32 (1, NH, Lq_b), or null) for its lse.
     */
    public DecodeOp sequence(int b, Tensor lseRows) {
        int from = cuSeqlensQ[b], to = cuSeqlensQ[b + 1];
        return new DecodeOp(q.slice(1, from, to), cache.sequence(b), new int[] {cacheLengths[b]}, out.slice(1, from, to), lseRows, causal, scale,
                bias, numSplits, null, window, softcap, sinks, alibi, null);
    }

    public DecodeOp splits(int n) { return new DecodeOp(q, cache, cacheLengths, out, lse, causal, scale, bias, n, lengths, window, softcap, sinks, alibi, cuSeqlensQ); }

    /** Head sizes with a CUDA kernel: every multiple of 8 from 8 to 256 (the ops take up to {@link AttentionOp#MAX_HEAD_SIZE} on the CPU). */
    public static boolean supportsHeadSize(long hs) {
        return hs >= 8 && hs <= 256 && hs % 8 == 0;
    }

    /** Validated sizes and strides (elements). */
    public record Shape(int batch, int tq, int nh, int nkv, int hs, int maxLength, long qBatchStride, long qRowStride,
                        long qHeadStride, long outBatchStride, long outRowStride, long outHeadStride) {}

    public Shape validate() {
        if (cache == null) throw new IllegalArgumentException("cache is null");
        Checks.open("q", q);
        Checks.open("out", out);
        Checks.floating("q", q);
        Checks.sameDType("q", q, "out", out);
        Checks.sameShape("q", q, "out", out);
        Checks.sameDevice("q", q, "out", out);
        if (q.rank() != 4) throw new IllegalArgumentException("q must be (B, Tq, NH, HS), got " + q.shapeString());
        int batch, tq;
        if (cuSeqlensQ != null) {
            if (q.shape(0) != 1 || q.shape(1) < 1 || q.shape(1) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("a packed decode's q must be (1, ΣTq ≥ 1, NH, HS), got " + q.shapeString());
            }
            if (cuSeqlensQ.length < 2 || cuSeqlensQ.length - 1 > 65535) {
                throw new IllegalArgumentException("cuSeqlensQ has " + cuSeqlensQ.length + " entries; it needs B + 1 with 1 ≤ B ≤ 65535");
            }
            if (lengths != null) throw new IllegalArgumentException("a packed decode takes host cacheLengths, not a lengths tensor");
            batch = cuSeqlensQ.length - 1;
            tq = (int) AttentionOp.offsets("cuSeqlensQ", cuSeqlensQ, q.shape(1), "q " + q.shapeString());
        } else {
            if (q.shape(0) > 65535) throw new IllegalArgumentException("batch " + q.shape(0) + " of q exceeds 65535");
            batch = (int) q.shape(0);
            tq = (int) Math.min(q.shape(1), Integer.MAX_VALUE);
        }
        if (tq < 1 || tq > maxQueries(q.dtype())) {
            throw new IllegalArgumentException("decode takes 1 to " + MAX_QUERIES + " queries per sequence in F32, q has "
                    + q.shapeString() + (cuSeqlensQ == null ? "" : " with up to " + tq + " per sequence")
                    + "; use F16/BF16 or attention for longer chunks");
        }
        PagedKvCache.checkLengthSource(batch, cacheLengths, lengths);
        cache.validate(batch, cacheLengths, 0, "cacheLengths");
        Checks.sameDType("q", q, "kCache", cache.kCache());
        Checks.sameDevice("q", q, "kCache", cache.kCache());
        if (lengths != null) Checks.sameDevice("q", q, "lengths", lengths);
        long nh = q.shape(2);
        long hs = q.shape(3);
        int nkv = cache.nkv();
        if (hs != cache.headSize()) {
            throw new IllegalArgumentException("q " + q.shapeString() + " has head size " + hs + " but kCache "
                    + cache.kCache().shapeString() + " has " + cache.headSize());
        }
        if (nh > 65535 || nh % nkv != 0) {
            throw new IllegalArgumentException("NKV = " + nkv + " (kCache " + cache.kCache().shapeString() + ") must divide NH = "
                    + nh + " (q " + q.shapeString() + ")");
        }
        AttentionOp.checkHeadSize(hs, q, " by decode");
        int maxLength;
        if (cacheLengths == null) {
            maxLength = (int) Math.min(Integer.MAX_VALUE, cache.capacity());
        } else {
            if (cuSeqlensQ == null) {
                coverQueries("cacheLengths", cacheLengths, tq);
            } else {
                for (int b = 0; b < batch; b++) {
                    int lq = cuSeqlensQ[b + 1] - cuSeqlensQ[b];
                    if (cacheLengths[b] < lq) {
                        throw new IllegalArgumentException("cacheLengths[" + b + "] = " + cacheLengths[b] + " is below its " + lq
                                + " queries (cuSeqlensQ): append the new tokens' keys before decoding");
                    }
                }
            }
            maxLength = java.util.Arrays.stream(cacheLengths).max().orElse(0);
        }
        if (numSplits < 0 || numSplits > MAX_SPLITS) {
            throw new IllegalArgumentException("numSplits must be 0 (automatic) to " + MAX_SPLITS + ", got " + numSplits);
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        if (!(softcap >= 0) || Float.isInfinite(softcap)) {
            throw new IllegalArgumentException("softcap must be finite and ≥ 0 (0: none), got " + softcap);
        }
        if (window < 0 || window > 0 && !causal) {
            throw new IllegalArgumentException("window " + window + " must be ≥ 0, and > 0 only for causal decoding");
        }
        if (bias != null) bias.validate(q, (int) nh);
        if (sinks != null) AttentionOp.checkSinks(sinks, q, nh);
        if (alibi != null) AttentionOp.checkAlibi(alibi, q, nh, bias != null);
        if (lse != null) {
            Checks.open("lse", lse);
            Checks.sameDevice("q", q, "lse", lse);
            long[] want = cuSeqlensQ == null ? new long[] {batch, nh, tq} : new long[] {nh, q.shape(1)};
            if (lse.dtype() != DType.F32 || !Arrays.equals(lse.shape(), want) || !lse.isContiguous()) {
                throw new IllegalArgumentException("lse is " + lse + " but q " + q.shapeString() + " needs a contiguous F32 "
                        + Arrays.toString(want).replace('[', '(').replace(']', ')'));
            }
        }
        Checks.lastDimContiguous("q", q);
        Checks.lastDimContiguous("out", out);
        AttentionOp.nonOverlapping("out", out);
        return new Shape(batch, tq, (int) nh, nkv, (int) hs, maxLength, q.stride(0), q.stride(1), q.stride(2),
                out.stride(0), out.stride(1), out.stride(2));
    }
}
