// CpuAttention — the CPU twin of the attention kernels: prefill/encoder attention over dense
// row-major arrays, paged split-KV decode, and the paged-cache append. fp32 math (scores,
// exponentials, sums), parallel over (sequence, head); prefill's products use the Vector API when
// CpuKernels does. Where the tensor-core kernel rounds the
// softmax weights P to fp16/bf16 before P·V, the twin rounds them the same way (roundP), so that
// it is "the same computation done naively in that precision" of the design's tolerance rule.
package org.transformer4j.runtime.cpu;

import org.transformer4j.runtime.AttentionOp;

public final class CpuAttention {

    private CpuAttention() {}

    /** Mask kinds, in t4j.h's order. */
    public static final int MASK_NONE = 0;
    public static final int MASK_CAUSAL = 1;
    public static final int MASK_PREFIX_LM = 2;

    /**
     * The positional bias of a score, null when there is none: T5's table (numBuckets, NH) and its bucket parameters, or
     * ALiBi's slopes (NH) ({@code alibi} non-null, {@code table} null): −slopes[h] · |rel| (AttentionOp.alibi).
     */
    public record Bias(float[] table, int numBuckets, int maxDistance, boolean bidirectional, float[] alibi) {

        /** T5's relative bias. */
        public Bias(float[] table, int numBuckets, int maxDistance, boolean bidirectional) {
            this(table, numBuckets, maxDistance, bidirectional, null);
        }

        /** ALiBi with these slopes, one per query head. */
        public static Bias alibi(float[] slopes) { return new Bias(null, 0, 0, false, slopes); }

        /** The bias of head h (of nh) at rel = key position − query position. */
        float at(int rel, int h, int nh, Bucket bucket) {
            if (alibi != null) return -alibi[h] * Math.abs(rel);
            return table[bucket.of(rel, numBuckets, maxDistance, bidirectional) * nh + h];
        }
    }

    /** A bucket function (RelativeBias::bucket), passed in so that this package does not depend on the runtime's. */
    @FunctionalInterface
    public interface Bucket {
        int of(int rel, int numBuckets, int maxDistance, boolean bidirectional);
    }

    /**
     * Prefill attention. Rows are numbered as in the packed layout: sequence b's queries are rows
     * qStart[b] .. qStart[b] + lq[b] − 1 of q, out (rows, NH, HS); its keys rows kStart[b] ..
     * kStart[b] + lk[b] − 1 of k, v (rows, NKV, HS), lk already lowered by key padding.
     * lse (may be null) receives row (b, h, i) at lseIndex(b, h, i) = lseBase[b] + h·lseHeadStride + i.
     * window &gt; 0 (CAUSAL or NONE): the sliding window of {@link AttentionOp.Mask#visible(int, int, int, int)},
     * |key − position| &lt; window; only its keys are scored.
     */
    public static void prefill(int batch, int nh, int nkv, int hs, int[] qStart, int[] lq, int[] kStart, int[] lk,
                               int mask, int[] prefix, float scale, Bias bias, Bucket bucket,
                               CpuKernels.FloatUnaryOperator roundP,
                               float[] q, float[] k, float[] v, float[] out,
                               float[] lse, long[] lseBase, long lseHeadStride) {
        prefill(batch, nh, nkv, hs, qStart, lq, kStart, lk, mask, prefix, 0, scale, bias, bucket, roundP, q, k, v, out, lse,
                lseBase, lseHeadStride);
    }

    /** {@link #prefill} with a sliding window (CAUSAL or NONE; 0: none). */
    public static void prefill(int batch, int nh, int nkv, int hs, int[] qStart, int[] lq, int[] kStart, int[] lk,
                               int mask, int[] prefix, int window, float scale, Bias bias, Bucket bucket,
                               CpuKernels.FloatUnaryOperator roundP,
                               float[] q, float[] k, float[] v, float[] out,
                               float[] lse, long[] lseBase, long lseHeadStride) {
        prefill(batch, nh, nkv, hs, qStart, lq, kStart, lk, mask, prefix, window, scale, 0f, bias, bucket, roundP, q, k, v, out,
                lse, lseBase, lseHeadStride);
    }

    /**
     * {@link #prefill} with a sliding window and Gemma 2's soft-capping (softcap &gt; 0: each score
     * z = scale · q·k becomes softcap · tanh(z / softcap) in fp32, before the bias and the mask; 0: none).
     */
    public static void prefill(int batch, int nh, int nkv, int hs, int[] qStart, int[] lq, int[] kStart, int[] lk,
                               int mask, int[] prefix, int window, float scale, float softcap, Bias bias, Bucket bucket,
                               CpuKernels.FloatUnaryOperator roundP,
                               float[] q, float[] k, float[] v, float[] out,
                               float[] lse, long[] lseBase, long lseHeadStride) {
        prefill(batch, nh, nkv, hs, qStart, lq, kStart, lk, mask, prefix, window, scale, softcap, bias, bucket, null, roundP, q, k, v,
                out, lse, lseBase, lseHeadStride);
    }

    /**
     * DeBERTa's disentangled terms: for head h, query row qr at position p and key row kr at position j,
     * {@code c2p[(h·rowsQ + qr)·width + r] + p2c[(h·rowsK + kr)·width + r]} with {@code r = index[p − j + center]}
     * (either table may be null), summed and added to the scaled score after the soft-cap.
     */
    public record Disentangled(float[] c2p, float[] p2c, int width, int rowsQ, int rowsK, int[] index, int center) {}

    /** {@link #prefill} with DeBERTa's disentangled terms (null: none). */
    public static void prefill(int batch, int nh, int nkv, int hs, int[] qStart, int[] lq, int[] kStart, int[] lk,
                               int mask, int[] prefix, int window, float scale, float softcap, Bias bias, Bucket bucket,
                               Disentangled dis, CpuKernels.FloatUnaryOperator roundP,
                               float[] q, float[] k, float[] v, float[] out,
                               float[] lse, long[] lseBase, long lseHeadStride) {
        prefill(batch, nh, nkv, hs, qStart, lq, kStart, lk, mask, prefix, window, scale, softcap, bias, bucket, dis, null, roundP,
                q, k, v, out, lse, lseBase, lseHeadStride);
    }

    /**
     * {@link #prefill} with attention sinks (null: none): head h's logit sinks[h] joins each row's softmax denominator
     * with no value (see {@link #finishRow}); the lse includes it.
     */
    public static void prefill(int batch, int nh, int nkv, int hs, int[] qStart, int[] lq, int[] kStart, int[] lk,
                               int mask, int[] prefix, int window, float scale, float softcap, Bias bias, Bucket bucket,
                               Disentangled dis, float[] sinks, CpuKernels.FloatUnaryOperator roundP,
                               float[] q, float[] k, float[] v, float[] out,
                               float[] lse, long[] lseBase, long lseHeadStride) {
        int group = nh / nkv;
        boolean vec = CpuKernels.simd();
        int lanes = vec ? VectorOps.V : 1;
        CpuKernels.parallelFor((long) batch * nh, true, bhl -> {
            int bh = (int) bhl;
            int b = bh / nh;
            int h = bh % nh;
            int kvh = h / group;
            int offset = lk[b] - lq[b];
            int pre = mask == MASK_PREFIX_LM ? prefix[b] : 0;
            AttentionOp.Mask rule = AttentionOp.Mask.values()[mask];
            int lkPad = roundUp(lk[b], lanes);
            float[] s = new float[Math.max(1, lkPad)];
            float[] acc = new float[hs];
            int[] vOff = new int[lk[b]];
            float[] w = new float[lk[b]];
            // Vector API: this head's keys transposed and zero-padded, kt (HS, lkPad), so that a
            // query's scores are accumulated along the keys in registers (lanewise, no sums across lanes).
            float[] kt = vec ? new float[hs * lkPad] : null;
            if (vec) {
                for (int j = 0; j < lk[b]; j++) {
                    int ko = ((kStart[b] + j) * nkv + kvh) * hs;
                    for (int d = 0; d < hs; d++) kt[d * lkPad + j] = k[ko + d];
                }
            }
            for (int i = 0; i < lq[b]; i++) {
                int qo = ((qStart[b] + i) * nh + h) * hs;
                // Keys [j0, j1): all of them, or a sliding window's |j − position| < window (either mask)
                int pos = i + offset;
                int j0 = window > 0 ? (int) Math.max(0, (long) pos - window + 1) : 0;
                int j1 = window > 0 ? (int) Math.min(lk[b], (long) pos + window) : lk[b];
                if (vec && j1 > j0) {
                    VectorOps.scores(q, qo, hs, kt, lkPad, s, j0 / lanes * lanes, roundUp(j1, lanes));
                }
                float m = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < lk[b]; j++) {
                    boolean visible = j >= j0 && j < j1 && rule.visible(pos, j, pre, window);
                    if (!visible) {
                        s[j] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    float dot = s[j];
                    if (!vec) {
                        int ko = ((kStart[b] + j) * nkv + kvh) * hs;
                        dot = 0f;
                        for (int d = 0; d < hs; d++) dot += q[qo + d] * k[ko + d];
                    }
                    float x = softcap(dot * scale, softcap);
                    if (bias != null) x += bias.at(j - (i + offset), h, nh, bucket);
                    if (dis != null) {
                        int r = dis.index()[pos - j + dis.center()];
                        float d = 0f;
                        if (dis.c2p() != null) d += dis.c2p()[(h * dis.rowsQ() + qStart[b] + i) * dis.width() + r];
                        if (dis.p2c() != null) d += dis.p2c()[(h * dis.rowsK() + kStart[b] + j) * dis.width() + r];
                        x += d;
                    }
                    s[j] = x;
                    m = Math.max(m, x);
                }
                float sink = sinks == null ? Float.NEGATIVE_INFINITY : sinks[h];
                finishRow(s, lk[b], m, sink, roundP, v, kStart[b], nkv, kvh, hs, acc, out, qo, vec, vOff, w);
                if (lse != null) {
                    lse[(int) (lseBase[b] + h * lseHeadStride + i)] = lseOf(s, lk[b], m, sink);
                }
            }
        });
    }

    /** Gemma 2's soft-capping of a scaled score: cap · tanh(z / cap) in fp32; z itself for cap 0. */
    static float softcap(float z, float cap) {
        return cap > 0 ? cap * (float) Math.tanh(z / cap) : z;
    }

    private static int roundUp(int x, int multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }

    /**
     * out[qo..] = Σ_j exp(s_j − m) v_j / Σ_j exp(s_j − m) over keys with s_j > −∞; zeros when there are none.
     * With vec, the weighted sum of V's rows runs on the Vector API (vOff, w: scratch of n). A sink (−∞: none) joins
     * the denominator: with M = max(m, sink) and l = Σ_j exp(s_j − m), out = acc · e^(m − M) / (l · e^(m − M) + e^(sink − M)),
     * which is acc / (l + e^(sink − m)) when sink ≤ m and never overflows (the kernels' finalization, attention.cuh).
     */
    private static void finishRow(float[] s, int n, float m, float sink, CpuKernels.FloatUnaryOperator roundP, float[] v, int kStart,
                                  int nkv, int kvh, int hs, float[] acc, float[] out, int qo, boolean vec,
                                  int[] vOff, float[] w) {
        java.util.Arrays.fill(acc, 0f);
        float l = 0f;
        int count = 0;
        if (m != Float.NEGATIVE_INFINITY) {
            for (int j = 0; j < n; j++) {
                if (s[j] == Float.NEGATIVE_INFINITY) continue;
                float p = (float) Math.exp(s[j] - m);
                l += p;
                float pr = roundP == null ? p : roundP.applyAsFloat(p);
                int vo = ((kStart + j) * nkv + kvh) * hs;
                if (vec) {
                    vOff[count] = vo;
                    w[count++] = pr;
                } else {
                    for (int d = 0; d < hs; d++) acc[d] += pr * v[vo + d];
                }
            }
        }
        if (vec) {
            VectorOps.weightedRows(w, vOff, count, v, hs, acc);
        }
        float inv = sinkScale(l, m, sink);
        for (int d = 0; d < hs; d++) out[qo + d] = acc[d] * inv;
    }

    /** What multiplies a row's Σ p_j v_j: 1 / l without a sink (0 when l is 0), else e^(m − M) / (l · e^(m − M) + e^(sink − M)). */
    static float sinkScale(float l, float m, float sink) {
        if (sink == Float.NEGATIVE_INFINITY || m == Float.NEGATIVE_INFINITY) return l > 0f ? 1f / l : 0f;
        float big = Math.max(m, sink);
        float r = (float) Math.exp(m - big);
        return r / (l * r + (float) Math.exp(sink - big));
    }

    private static float lseOf(float[] s, int n, float m, float sink) {
        if (m == Float.NEGATIVE_INFINITY) return sink;
        float l = 0f;
        for (int j = 0; j < n; j++) if (s[j] != Float.NEGATIVE_INFINITY) l += (float) Math.exp(s[j] - m);
        if (sink == Float.NEGATIVE_INFINITY) return m + (float) Math.log(l);
        float big = Math.max(m, sink);
        return big + (float) Math.log(l * (float) Math.exp(m - big) + (float) Math.exp(sink - big));
    }

    /**
     * Decode, split-KV as the GPU does it: sequence b's keys [0, L) split into numSplits ranges of
     * ceil(L / numSplits); each range yields a normalised partial output and its lse; the partials
     * combine with weights exp(lse_s − max lse). q, out (B, Tq, NH, HS) dense; keys[b], values[b]
     * (L_b, NKV, HS) dense, the sequence's rows gathered from the paged cache; lse (B, NH, Tq) or null.
     * window &gt; 0 (causal): keys qpos − window &lt; j only, as decode.cuh narrows each split's range.
     */
    public static void decode(int batch, int tq, int nh, int nkv, int hs, int[] lengths, boolean causal, int window, float scale,
                              Bias bias, Bucket bucket, int numSplits, float[] q, float[][] keys, float[][] values,
                              float[] out, float[] lse) {
        decode(batch, tq, nh, nkv, hs, lengths, causal, window, scale, bias, bucket, numSplits, q, keys, values, null, out, lse);
    }

    /**
     * Where a decode reads its keys and values straight from the paged caches: fp32 (numBlocks,
     * blockSize, NKV, HS) segments and the block table (B × maxBlocks), as the CUDA kernel reads them,
     * instead of copying each sequence's rows out first (at 32 sequences of 48 rows, GPT-2 small's
     * step copied 113 MB of K and V into new arrays). Row j of sequence b is slot
     * table[b · maxBlocks + j / blockSize] · blockSize + j mod blockSize. Vector API only. With the
     * row-by-row order of decodePaged, attention went from 10.6% to 5.6% of a 32-sequence GPT-2-small
     * decode step's CPU samples (JFR, -XX:UseAVX=2, build machine, 2026-12-05).
     */
    public record Paged(java.lang.foreign.MemorySegment k, java.lang.foreign.MemorySegment v, int[] table, int maxBlocks,
                        int blockSize) {
        /** Byte offset of head kvh of row j of sequence b. */
        long offset(int b, int j, int nkv, int kvh, int hs) {
            long slot = (long) table[b * maxBlocks + j / blockSize] * blockSize + j % blockSize;
            return 4L * ((slot * nkv + kvh) * hs);
        }
    }

    /**
     * {@link #decode(int, int, int, int, int, int[], boolean, int, float, Bias, Bucket, int, float[], float[][], float[][], float[], float[])}
     * with the keys and values read from the paged caches where {@code paged} is not null (keys and
     * values then null; needs the Vector API): the same products in the same order, so the same bits.
     */
    public static void decode(int batch, int tq, int nh, int nkv, int hs, int[] lengths, boolean causal, int window, float scale,
                              Bias bias, Bucket bucket, int numSplits, float[] q, float[][] keys, float[][] values, Paged paged,
                              float[] out, float[] lse) {
        decode(batch, tq, nh, nkv, hs, lengths, causal, window, scale, 0f, bias, bucket, numSplits, q, keys, values, paged, out, lse);
    }

    /** The decode above with Gemma 2's soft-capping of each scaled score (softcap &gt; 0; see {@link #prefill}). */
    public static void decode(int batch, int tq, int nh, int nkv, int hs, int[] lengths, boolean causal, int window, float scale,
                              float softcap, Bias bias, Bucket bucket, int numSplits, float[] q, float[][] keys, float[][] values,
                              Paged paged, float[] out, float[] lse) {
        decode(batch, tq, nh, nkv, hs, lengths, causal, window, scale, softcap, bias, bucket, null, numSplits, q, keys, values, paged,
                out, lse);
    }

    /**
     * The decode above with attention sinks (null: none): the split combine takes head h's sink as one more split with
     * lse sinks[h] and a zero output, so it is added once per row whatever the splits.
     */
    public static void decode(int batch, int tq, int nh, int nkv, int hs, int[] lengths, boolean causal, int window, float scale,
                              float softcap, Bias bias, Bucket bucket, float[] sinks, int numSplits, float[] q, float[][] keys,
                              float[][] values, Paged paged, float[] out, float[] lse) {
        if (paged != null) {
            decodePaged(batch, tq, nh, nkv, hs, lengths, causal, window, scale, softcap, bias, bucket, sinks, numSplits, q, paged, out,
                    lse);
            return;
        }
        int group = nh / nkv;
        boolean vec = CpuKernels.simd();
        CpuKernels.parallelFor((long) batch * nh, true, bhl -> {
            int bh = (int) bhl;
            int b = bh / nh;
            int h = bh % nh;
            int kvh = h / group;
            int len = lengths[b];
            int chunk = (len + numSplits - 1) / numSplits;
            float[] partO = new float[numSplits * hs];
            float[] partLse = new float[numSplits];
            float[] s = new float[Math.max(1, chunk)];
            for (int i = 0; i < tq; i++) {
                int qpos = len - tq + i;
                int qo = ((b * tq + i) * nh + h) * hs;
                for (int sp = 0; sp < numSplits; sp++) {
                    int j0 = Math.min(len, sp * chunk);
                    int j1 = Math.min(len, j0 + chunk);
                    if (causal) j1 = Math.min(j1, qpos + 1);
                    if (causal && window > 0) j0 = Math.max(j0, qpos - window + 1);
                    int n = Math.max(0, j1 - j0);
                    float m = Float.NEGATIVE_INFINITY;
                    float[] kb = keys[b];
                    int stride = nkv * hs;
                    int jj4 = 0;
                    if (vec) {              // one vector dot per key (VectorOps.dot's order); the scalar loops below then find none left
                        for (; jj4 < n; jj4++) s[jj4] = VectorOps.dot(q, qo, kb, ((j0 + jj4) * nkv + kvh) * hs, hs);
                    }
                    // four keys at a time: four independent chains of adds (each key's sum still d = 0, 1, …)
                    for (; jj4 + 4 <= n; jj4 += 4) {
                        int ko = ((j0 + jj4) * nkv + kvh) * hs;
                        float d0 = 0f, d1 = 0f, d2 = 0f, d3 = 0f;
                        for (int d = 0; d < hs; d++) {
                            float qd = q[qo + d];
                            d0 += qd * kb[ko + d];
                            d1 += qd * kb[ko + stride + d];
                            d2 += qd * kb[ko + 2 * stride + d];
                            d3 += qd * kb[ko + 3 * stride + d];
                        }
                        s[jj4] = d0;
                        s[jj4 + 1] = d1;
                        s[jj4 + 2] = d2;
                        s[jj4 + 3] = d3;
                    }
                    for (; jj4 < n; jj4++) {
                        int ko = ((j0 + jj4) * nkv + kvh) * hs;
                        float dot = 0f;
                        for (int d = 0; d < hs; d++) dot += q[qo + d] * kb[ko + d];
                        s[jj4] = dot;
                    }
                    for (int jj = 0; jj < n; jj++) {
                        float x = softcap(s[jj] * scale, softcap);
                        if (bias != null) x += bias.at(j0 + jj - qpos, h, nh, bucket);
                        s[jj] = x;
                        m = Math.max(m, x);
                    }
                    float l = 0f;
                    float[] acc = new float[hs];
                    if (m != Float.NEGATIVE_INFINITY) {
                        for (int jj = 0; jj < n; jj++) {
                            float p = (float) Math.exp(s[jj] - m);
                            l += p;
                            int vo = ((j0 + jj) * nkv + kvh) * hs;
                            if (vec) {
                                VectorOps.axpy(acc, 0, p, values[b], vo, hs);
                            } else {
                                for (int d = 0; d < hs; d++) acc[d] += p * values[b][vo + d];
                            }
                        }
                    }
                    float inv = l > 0f ? 1f / l : 0f;
                    for (int d = 0; d < hs; d++) partO[sp * hs + d] = acc[d] * inv;
                    // only a split that saw no key (l exactly 0) is empty; a NaN l (a NaN or +inf score)
                    // gives a NaN lse that poisons the combine, as the one-pass attention's NaN row does
                    partLse[sp] = l == 0f ? Float.NEGATIVE_INFINITY : m + (float) Math.log(l);
                }
                combineSplits(partO, partLse, 0, numSplits, sinks == null ? Float.NEGATIVE_INFINITY : sinks[h], hs, out, qo, lse,
                        (b * nh + h) * tq + i);
            }
        });
    }

    /**
     * The split-KV combine: the numSplits partial outputs of one query and head (partO from element
     * po · hs, their lse from partLse[po]) weighted by exp(lse_s − max lse) into out[oo : oo + hs], and
     * the combined lse into lse[li] where lse is not null.
     */
    private static void combineSplits(float[] partO, float[] partLse, int po, int numSplits, float sink, int hs, float[] out,
                                      int oo, float[] lse, int li) {
        float mx = sink;                                                       // −∞ without a sink
        for (int sp = 0; sp < numSplits; sp++) mx = Math.max(mx, partLse[po + sp]);
        float sum = 0f;
        float[] acc = new float[hs];
        if (mx != Float.NEGATIVE_INFINITY) {
            for (int sp = 0; sp < numSplits; sp++) {
                if (partLse[po + sp] == Float.NEGATIVE_INFINITY) continue;
                float w = (float) Math.exp(partLse[po + sp] - mx);
                sum += w;
                for (int d = 0; d < hs; d++) acc[d] += w * partO[(po + sp) * hs + d];
            }
            if (sink != Float.NEGATIVE_INFINITY) sum += (float) Math.exp(sink - mx);  // the sink: a split with no value
        }
        float inv = sum > 0f ? 1f / sum : 0f;
        for (int d = 0; d < hs; d++) out[oo + d] = acc[d] * inv;
        if (lse != null) lse[li] = sum == 0f ? Float.NEGATIVE_INFINITY : mx + (float) Math.log(sum);
    }

    /**
     * decode over the paged caches, row by row: a task takes a whole sequence (all its heads) when
     * there are at least two sequences per thread, else one head, and reads each key and value row
     * of its heads once, in order, rather than one head's slice of every row and then the next
     * head's (a row is NKV · HS floats in one place; one head's slices lie a row apart). Each head's
     * scores, exponentials, sums and weighted rows are those of the per-head loop, in its order.
     */
    private static void decodePaged(int batch, int tq, int nh, int nkv, int hs, int[] lengths, boolean causal, int window,
                                    float scale, float softcap, Bias bias, Bucket bucket, float[] sinks, int numSplits, float[] q,
                                    Paged paged, float[] out, float[] lse) {
        if (!CpuKernels.simd()) throw new IllegalStateException("decode from the paged caches needs the Vector API");
        int group = nh / nkv;
        int heads = batch >= 2 * CpuKernels.THREADS ? nh : 1;         // heads per task
        int tasksPerSeq = nh / heads;
        CpuKernels.parallelFor((long) batch * tasksPerSeq, true, t -> {
            int b = (int) (t / tasksPerSeq);
            int h0 = (int) (t % tasksPerSeq) * heads;
            int len = lengths[b];
            int chunk = (len + numSplits - 1) / numSplits;
            int cap = Math.max(1, chunk);
            float[] partO = new float[heads * numSplits * hs];
            float[] partLse = new float[heads * numSplits];
            float[] s = new float[heads * cap];                        // head hh's scores at hh · cap
            float[] m = new float[heads], l = new float[heads];
            float[] acc = new float[heads * hs];
            for (int i = 0; i < tq; i++) {
                int qpos = len - tq + i;
                int q0 = ((b * tq + i) * nh + h0) * hs;                 // head h0 + hh's query at q0 + hh · hs
                for (int sp = 0; sp < numSplits; sp++) {
                    int j0 = Math.min(len, sp * chunk);
                    int j1 = Math.min(len, j0 + chunk);
                    if (causal) j1 = Math.min(j1, qpos + 1);
                    if (causal && window > 0) j0 = Math.max(j0, qpos - window + 1);
                    int n = Math.max(0, j1 - j0);
                    for (int jj = 0; jj < n; jj++) {
                        for (int hh = 0; hh < heads; hh++) {
                            long ko = paged.offset(b, j0 + jj, nkv, (h0 + hh) / group, hs);
                            s[hh * cap + jj] = VectorOps.dot(q, q0 + hh * hs, paged.k(), ko, hs);
                        }
                    }
                    for (int hh = 0; hh < heads; hh++) {
                        float mx = Float.NEGATIVE_INFINITY;
                        for (int jj = 0; jj < n; jj++) {
                            float x = softcap(s[hh * cap + jj] * scale, softcap);
                            if (bias != null) x += bias.at(j0 + jj - qpos, h0 + hh, nh, bucket);
                            s[hh * cap + jj] = x;
                            mx = Math.max(mx, x);
                        }
                        m[hh] = mx;
                        l[hh] = 0f;
                    }
                    java.util.Arrays.fill(acc, 0f);
                    for (int jj = 0; jj < n; jj++) {
                        for (int hh = 0; hh < heads; hh++) {
                            if (m[hh] == Float.NEGATIVE_INFINITY) continue;
                            float p = (float) Math.exp(s[hh * cap + jj] - m[hh]);
                            l[hh] += p;
                            VectorOps.axpy(acc, hh * hs, p, paged.v(), paged.offset(b, j0 + jj, nkv, (h0 + hh) / group, hs), hs);
                        }
                    }
                    for (int hh = 0; hh < heads; hh++) {
                        float inv = l[hh] > 0f ? 1f / l[hh] : 0f;
                        for (int d = 0; d < hs; d++) partO[(hh * numSplits + sp) * hs + d] = acc[hh * hs + d] * inv;
                        partLse[hh * numSplits + sp] = l[hh] == 0f ? Float.NEGATIVE_INFINITY : m[hh] + (float) Math.log(l[hh]);
                    }
                }
                for (int hh = 0; hh < heads; hh++) {
                    combineSplits(partO, partLse, hh * numSplits, numSplits, sinks == null ? Float.NEGATIVE_INFINITY : sinks[h0 + hh], hs,
                            out, q0 + hh * hs, lse, (b * nh + h0 + hh) * tq + i);
                }
            }
        });
    }
}
