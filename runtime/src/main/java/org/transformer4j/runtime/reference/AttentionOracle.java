// AttentionOracle — naive float64 attention for one sequence, written from the definitions (the
// visibility rule of each mask, T5's bucket formula, softmax), that the attention kernels and their
// CPU twin are compared against (and the demo's self-check). No tiling, no online softmax, nothing
// shared with the kernels.
package org.transformer4j.runtime.reference;

public final class AttentionOracle {

    private AttentionOracle() {}

    /** out (Lq, NH, HS) and lse (NH, Lq) of one sequence; rows that see no key: zeros and −∞. */
    public record Result(double[] out, double[] lse) {}

    /**
     * @param q        (lq, nh, hs) values as stored (already rounded to the dtype)
     * @param k        (lkRows, nkv, hs)
     * @param v        (lkRows, nkv, hs)
     * @param keys     keys that exist (≤ lkRows; key padding lowers it)
     * @param mask     "NONE", "CAUSAL" or "PREFIX_LM"
     * @param prefix   prefix length for PREFIX_LM
     * @param table    T5 bias (numBuckets, nh) or null
     */
    public static Result attention(float[] q, float[] k, float[] v, int lq, int nh, int nkv, int hs, int keys,
                                   String mask, int prefix, double scale,
                                   float[] table, int numBuckets, int maxDistance, boolean bidirectional) {
        return attention(q, k, v, lq, nh, nkv, hs, keys, mask, prefix, 0, scale, table, numBuckets, maxDistance, bidirectional);
    }

    /**
     * The same with a sliding window: window &gt; 0 also hides key j when its distance from the query,
     * |j − position|, is window or more (with CAUSAL: the window keys up to the query; with NONE:
     * window − 1 on either side, ModernBERT's local attention); 0: none.
     */
    public static Result attention(float[] q, float[] k, float[] v, int lq, int nh, int nkv, int hs, int keys,
                                   String mask, int prefix, int window, double scale,
                                   float[] table, int numBuckets, int maxDistance, boolean bidirectional) {
        return attention(q, k, v, lq, nh, nkv, hs, keys, mask, prefix, window, scale, table, numBuckets, maxDistance, bidirectional, null);
    }

    /**
     * DeBERTa's disentangled terms of one sequence (DisentangledSelfAttention's gathers): {@code c2p} (nh, lq, 2·span) and
     * {@code p2c} (nh, lkRows, 2·span), either null; the term of query i (at key position p) and key j is
     * c2p[h, i, r] + p2c[h, j, r] with r = clamp(logBucket(p − j) + span, 0, 2·span − 1).
     */
    public record Disentangled(float[] c2p, float[] p2c, int lkRows, int span, int buckets, int maxPosition) {}

    /** The same with DeBERTa's disentangled terms added to the scaled score (null: none). */
    public static Result attention(float[] q, float[] k, float[] v, int lq, int nh, int nkv, int hs, int keys,
                                   String mask, int prefix, int window, double scale,
                                   float[] table, int numBuckets, int maxDistance, boolean bidirectional, Disentangled dis) {
        return attention(q, k, v, lq, nh, nkv, hs, keys, mask, prefix, window, scale, table, numBuckets, maxDistance, bidirectional, dis,
                null);
    }

    /**
     * The same with attention sinks (null: none), as transformers' gpt_oss eager_attention_forward: head h's logit
     * sinks[h] is one more column of each row's scores, the softmax is taken over the row with it, and the column is
     * dropped (so the weights of the keys sum to less than 1); lse is the log of the whole denominator, sink included
     * (a row that sees no key: zeros and lse = sinks[h]).
     */
    public static Result attention(float[] q, float[] k, float[] v, int lq, int nh, int nkv, int hs, int keys,
                                   String mask, int prefix, int window, double scale,
                                   float[] table, int numBuckets, int maxDistance, boolean bidirectional, Disentangled dis,
                                   float[] sinks) {
        return attention(q, k, v, lq, nh, nkv, hs, keys, mask, prefix, window, scale, table, numBuckets, maxDistance, bidirectional, dis,
                sinks, null);
    }

    /**
     * The same with ALiBi (null: none), as FlashAttention's alibi_slopes: −alibi[h] · |j − position| added to the scaled
     * score of query i (at key position {@code position = i + keys − lq}) and key j. transformers' BLOOM adds
     * alibi[h] · j and MPT alibi[h] · (j − (keys − 1)) instead; under a causal mask the three differ by one constant per
     * row, so the weights and the output are the same (the lse is this definition's).
     */
    public static Result attention(float[] q, float[] k, float[] v, int lq, int nh, int nkv, int hs, int keys,
                                   String mask, int prefix, int window, double scale,
                                   float[] table, int numBuckets, int maxDistance, boolean bidirectional, Disentangled dis,
                                   float[] sinks, float[] alibi) {
        double[] out = new double[lq * nh * hs];
        double[] lse = new double[nh * lq];
        for (int h = 0; h < nh; h++) {
            int kvh = h / (nh / nkv);
            for (int i = 0; i < lq; i++) {
                int position = i + keys - lq;  // queries are the last lq positions of the key sequence
                double[] score = new double[keys];
                boolean[] seen = new boolean[keys];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < keys; j++) {
                    seen[j] = switch (mask) {
                        case "NONE" -> true;
                        case "CAUSAL" -> j <= position;
                        case "PREFIX_LM" -> j <= position || j < prefix;
                        default -> throw new IllegalArgumentException(mask);
                    };
                    long distance = Math.abs((long) j - position);
                    if (window > 0 && distance >= window) seen[j] = false;
                    if (!seen[j]) continue;
                    double dot = 0;
                    for (int d = 0; d < hs; d++) dot += (double) q[(i * nh + h) * hs + d] * k[(j * nkv + kvh) * hs + d];
                    score[j] = scale * dot;
                    if (table != null) score[j] += table[t5Bucket(j - position, numBuckets, maxDistance, bidirectional) * nh + h];
                    if (alibi != null) score[j] -= (double) alibi[h] * distance;
                    if (dis != null) {
                        int w = 2 * dis.span();
                        int r = (int) Math.max(0, Math.min(w - 1L, (long) debertaBucket(position - j, dis.buckets(), dis.maxPosition()) + dis.span()));
                        if (dis.c2p() != null) score[j] += dis.c2p()[(h * lq + i) * w + r];
                        if (dis.p2c() != null) score[j] += dis.p2c()[(h * dis.lkRows() + j) * w + r];
                    }
                    max = Math.max(max, score[j]);
                }
                double sink = sinks == null ? Double.NEGATIVE_INFINITY : sinks[h];
                max = Math.max(max, sink);
                if (max == Double.NEGATIVE_INFINITY) {
                    lse[h * lq + i] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double sum = sinks == null ? 0 : Math.exp(sink - max);
                for (int j = 0; j < keys; j++) if (seen[j]) sum += Math.exp(score[j] - max);
                for (int j = 0; j < keys; j++) {
                    if (!seen[j]) continue;
                    double w = Math.exp(score[j] - max) / sum;
                    for (int d = 0; d < hs; d++) out[(i * nh + h) * hs + d] += w * v[(j * nkv + kvh) * hs + d];
                }
                lse[h * lq + i] = max + Math.log(sum);
            }
        }
        return new Result(out, lse);
    }

    /**
     * transformers' make_log_bucket_position (deberta_v2): relative positions within ±buckets/2 as they are, longer ones
     * sign · (ceil(log(|rel| / mid) / log((maxPosition − 1) / mid) · (mid − 1)) + mid), in float32 like torch.
     */
    public static int debertaBucket(int rel, int buckets, int maxPosition) {
        int mid = buckets / 2;
        if (buckets <= 0 || maxPosition <= 0 || Math.abs(rel) <= mid) return rel;
        float logPos = (float) Math.ceil((float) Math.log((float) Math.abs(rel) / mid) / (float) Math.log((float) ((maxPosition - 1.0) / mid))
                * (mid - 1)) + mid;
        return (int) (Math.signum(rel) * logPos);
    }

    /**
     * T5's relative_position_bucket as Hugging Face transformers writes it (modeling_t5.py), with
     * relative_position = memory position − query position, in float32 like torch.
     */
    public static int t5Bucket(int relativePosition, int numBuckets, int maxDistance, boolean bidirectional) {
        int relativeBuckets = 0;
        if (bidirectional) {
            numBuckets /= 2;
            relativeBuckets += relativePosition > 0 ? numBuckets : 0;
            relativePosition = Math.abs(relativePosition);
        } else {
            relativePosition = -Math.min(relativePosition, 0);
        }
        int maxExact = numBuckets / 2;
        boolean isSmall = relativePosition < maxExact;
        float logRatio = (float) Math.log((float) relativePosition / maxExact);
        float logRange = (float) Math.log((double) maxDistance / maxExact);
        int ifLarge = maxExact + (int) (logRatio / logRange * (numBuckets - maxExact));
        ifLarge = Math.min(ifLarge, numBuckets - 1);
        return relativeBuckets + (isSmall ? relativePosition : ifLarge);
    }
}
