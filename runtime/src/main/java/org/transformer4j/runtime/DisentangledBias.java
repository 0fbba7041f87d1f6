// DisentangledBias — DeBERTa's relative-position terms of the attention scores (content→position and
// position→content), gathered inside the attention op from per-row tables by a log bucket of the distance.
package org.transformer4j.runtime;

/**
 * DeBERTa's disentangled attention bias (He et al., "DeBERTa", 2021; {@code DisentangledSelfAttention} of
 * transformers' deberta_v2). For head h, query row i at position p and key row j at position k of the same
 * sequence, with {@code r = index(p − k)}, the op adds {@code c2p[h, i, r] + p2c[h, j, r]} to the scaled score
 * (after the soft-cap, before the mask): {@code c2p} (NH, rowsQ, 2·span) holds each query's products with the
 * relative embeddings' key projections, {@code p2c} (NH, rowsK, 2·span) each key's with their query projections,
 * both already scaled. Either may be null (a {@code pos_att_type} without that term). Rows are numbered as q's
 * and k's are: the packed rows, or {@code b·T + t} for the padded layout. Positions follow {@link AttentionOp}:
 * query i of a sequence sits at key position {@code i + Lk − Lq}.
 *
 * <p>The tables share q's dtype (transformers computes them in the model's dtype) and are contiguous.
 *
 * @param span        the relative embeddings' half size (pos_ebd_size: position_buckets, or max_relative_positions)
 * @param buckets     position_buckets; ≤ 0: distances are not bucketed (only clamped to ±span)
 * @param maxPosition max_relative_positions, the distance the log buckets reach their last bucket at
 */
public record DisentangledBias(Tensor c2p, Tensor p2c, int span, int buckets, int maxPosition) {

    /**
     * transformers' {@code make_log_bucket_position} for one distance {@code rel = query position − key position}:
     * distances within ±buckets/2 keep their value, longer ones share logarithmically wider buckets,
     * {@code sign · (ceil(log(|rel| / mid) / log((maxPosition − 1) / mid) · (mid − 1)) + mid)}, with mid = buckets/2;
     * no bucketing when {@code buckets} or {@code maxPosition} is ≤ 0. The arithmetic is torch's float32 (the
     * quotient and both logarithms rounded to float, the logarithm the correctly rounded value of a double one).
     */
    public static int bucket(int rel, int buckets, int maxPosition) {
        if (buckets <= 0 || maxPosition <= 0) return rel;
        int mid = buckets / 2;
        long abs = Math.abs((long) rel);
        if (abs <= mid) return rel;
        float x = (float) abs / (float) mid;
        float lx = (float) Math.log(x);
        float ld = (float) Math.log((float) ((double) (maxPosition - 1) / mid));
        float v = lx / ld * (float) (mid - 1);
        long lp = (long) Math.ceil(v) + mid;
        return (int) (rel < 0 ? -lp : lp);
    }

    /** The table column of distance {@code rel}: {@code clamp(bucket(rel) + span, 0, 2·span − 1)}. */
    public static int index(int rel, int span, int buckets, int maxPosition) {
        long r = (long) bucket(rel, buckets, maxPosition) + span;
        return (int) Math.max(0, Math.min(2L * span - 1, r));
    }

    /** {@link #index} of this bias's parameters. */
    public int index(int rel) { return index(rel, span, buckets, maxPosition); }

    /** Throws IllegalArgumentException when the tables cannot serve q (rowsQ rows) and k (rowsK rows) with NH heads. */
    void validate(Tensor q, int nh, long rowsQ, long rowsK) {
        if (c2p == null && p2c == null) throw new IllegalArgumentException("disentangled bias has neither c2p nor p2c");
        if (span < 1) throw new IllegalArgumentException("disentangled bias span " + span + " must be ≥ 1");
        if (buckets > 0 && maxPosition > 0 && buckets / 2 < 2) {
            throw new IllegalArgumentException("disentangled bias position_buckets " + buckets + " must be ≥ 4 to bucket by log");
        }
        if (buckets > 0 && maxPosition > 0 && maxPosition - 1 <= buckets / 2) {
            throw new IllegalArgumentException("disentangled bias max_relative_positions " + maxPosition + " must exceed position_buckets/2 + 1 ("
                    + (buckets / 2 + 1) + ")");
        }
        table("c2p", c2p, q, nh, rowsQ);
        table("p2c", p2c, q, nh, rowsK);
    }

    private void table(String role, Tensor t, Tensor q, int nh, long rows) {
        if (t == null) return;
        Checks.open(role, t);
        Checks.sameDevice("q", q, role, t);
        Checks.sameDType("q", q, role, t);
        if (t.rank() != 3 || t.shape(0) != nh || t.shape(1) != rows || t.shape(2) != 2L * span) {
            throw new IllegalArgumentException(role + " has shape " + t.shapeString() + " but needs (NH, rows, 2·span) = (" + nh + ", "
                    + rows + ", " + 2L * span + ")");
        }
        if (!t.isContiguous()) throw new IllegalArgumentException(role + " " + t + " must be contiguous");
    }
}
