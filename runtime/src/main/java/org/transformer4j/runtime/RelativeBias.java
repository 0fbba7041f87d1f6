// RelativeBias — T5's relative-position attention bias: a learned (numBuckets, NH) fp32 table indexed
// by a bucket of (key position − query position), computed inside the attention kernels.
package org.transformer4j.runtime;

/**
 * T5's relative position bias. {@code table} is F32 (numBuckets, NH), contiguous, in the backend's
 * memory; the bias added to head h's score for query position i and key position j is
 * {@code table[bucket(j − i), h]}. Encoders use bidirectional buckets (half for keys before the
 * query, half for keys after), decoders causal buckets (only keys before it are told apart).
 */
public record RelativeBias(Tensor table, int maxDistance, boolean bidirectional) {

    public int numBuckets() { return (int) table.shape(0); }

    /**
     * T5's {@code relative_position_bucket} (Raffel et al. 2020, as Hugging Face's T5Attention
     * computes it): small distances get a bucket each, larger ones share logarithmically wider
     * buckets up to {@code maxDistance}, beyond which all fall in the last bucket. The logarithm
     * is fp32 as in T5, taken as the correctly rounded value of a double log (the kernels do the
     * same, so boundaries such as 64 with 32 bidirectional buckets land alike everywhere).
     *
     * @param rel key position − query position
     */
    public static int bucket(int rel, int numBuckets, int maxDistance, boolean bidirectional) {
        int bucket = 0;
        int n = numBuckets;
        if (bidirectional) {
            n /= 2;
            if (rel > 0) bucket += n;
            rel = Math.abs(rel);
        } else {
            rel = rel < 0 ? -rel : 0;
        }
        int maxExact = n / 2;
        if (rel < maxExact) return bucket + rel;
        float x = (float) Math.log((float) rel / (float) maxExact);
        float d = (float) Math.log((double) maxDistance / maxExact);
        int large = maxExact + (int) (x / d * (float) (n - maxExact));
        return bucket + Math.min(large, n - 1);
    }

    /** Throws IllegalArgumentException when the table or parameters cannot describe T5 buckets for NH heads. */
    void validate(Tensor like, int nh) {
        Checks.open("bias table", table);
        Checks.sameDevice("q", like, "bias table", table);
        if (table.dtype() != DType.F32) throw new IllegalArgumentException("bias table must be F32, got " + table.dtype());
        if (table.rank() != 2 || table.shape(1) != nh) {
            throw new IllegalArgumentException("bias table has shape " + table.shapeString() + " but needs (numBuckets, " + nh + ")");
        }
        if (!table.isContiguous()) throw new IllegalArgumentException("bias table " + table + " must be contiguous");
        long nb = table.shape(0);
        int n = bidirectional ? (int) nb / 2 : (int) nb;
        if (nb > 4096 || n / 2 < 1) {
            throw new IllegalArgumentException("bias table has " + nb + " buckets; T5 buckets need " + (bidirectional ? 4 : 2)
                    + " to 4096");
        }
        if (maxDistance <= n / 2) {
            throw new IllegalArgumentException("maxDistance " + maxDistance + " must exceed the exact range " + n / 2
                    + " of " + nb + (bidirectional ? " bidirectional" : " causal") + " buckets");
        }
    }
}
