// AttentionOp — scaled dot-product attention for prefill, encoders and cross attention: masks,
// key padding, packed variable-length batches, grouped-query heads and T5 relative bias, validated.
package org.transformer4j.runtime;

import java.util.Arrays;

/**
 * Arguments of {@link Backend#attention}: {@code out = softmax(scale · q·kᵀ + bias + mask) · v}
 * per sequence and head, fp32 accumulation, the score matrix never stored.
 *
 * <p>Layouts (any strides; the HS dimension contiguous; F16/BF16 strides multiples of 8):
 * <ul>
 * <li>padded: q, out (B, Tq, NH, HS); k, v (B, Tk, NKV, HS); lse F32 (B, NH, Tq) contiguous;
 * <li>packed ({@link #packed}): q, out (totalQ, NH, HS); k, v (totalK, NKV, HS); sequence b is rows
 *     cuSeqlensQ[b] .. cuSeqlensQ[b+1]−1 (same for keys); lse F32 (NH, totalQ).
 * </ul>
 * Per sequence: Lq queries, Lk keys (lowered to {@code keyLengths[b]} when given). Query i sits at
 * key position i + Lk − Lq (bottom-right alignment: a chunk after a cached prefix), so CAUSAL shows
 * key j when j ≤ i + Lk − Lq, PREFIX_LM also every j &lt; prefixLengths[b], NONE every j &lt; Lk.
 * A sliding window ({@link #window}) further hides keys at a distance ≥ window from the query's position.
 * NKV must divide NH (head h reads key/value head h / (NH/NKV)). The T5 bias, when given, adds
 * {@code table[bucket(j − (i + Lk − Lq)), h]}; DeBERTa's disentangled bias ({@link #disentangled}) its
 * content→position and position→content terms. A row that sees no key gets zeros and lse −∞;
 * lse is the natural log of the softmax denominator.
 */
public record AttentionOp(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Mask mask, int[] prefixLengths,
                          int[] keyLengths, int[] cuSeqlensQ, int[] cuSeqlensK, float scale, RelativeBias bias, int window,
                          float softcap, DisentangledBias disentangled, Tensor sinks, Tensor alibi) {

    public AttentionOp(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Mask mask, int[] prefixLengths,
                       int[] keyLengths, int[] cuSeqlensQ, int[] cuSeqlensK, float scale, RelativeBias bias) {
        this(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, 0, 0f, null, null, null);
    }

    public enum Mask {
        NONE, CAUSAL, PREFIX_LM;

        /**
         * The mask rule, stated once for all Java code (the CPU twin, the model's inspection, the CLI's
         * mask pictures; the kernels' statement is native/src/attention/attention.cuh): whether a query
         * at key position {@code query} may see key {@code key}. Causal: key ≤ query; prefix-LM: that,
         * or key &lt; {@code prefix} (the bidirectional part); none: every key. {@code prefix} is
         * ignored unless PREFIX_LM.
         */
        public boolean visible(int query, int key, int prefix) {
            return switch (this) {
                case NONE -> true;
                case CAUSAL -> key <= query;
                case PREFIX_LM -> key <= query || key < prefix;
            };
        }

        /**
         * The rule with a sliding window ({@code window} &gt; 0; 0: none): also hides every key at a
         * distance {@code |key − query| ≥ window}. With CAUSAL a query then sees at most {@code window}
         * keys, itself included — transformers' masking_utils.sliding_window_overlay
         * ({@code kv_idx > q_idx − window}); with NONE it sees the keys within {@code window − 1}
         * positions on either side — ModernBERT's local attention ({@code |i − j| ≤ local_attention / 2},
         * so {@code window = local_attention / 2 + 1}). PREFIX_LM takes no window ({@link #validate}).
         */
        public boolean visible(int query, int key, int prefix, int window) {
            return visible(query, key, prefix) && (window <= 0 || Math.abs((long) key - query) < window);
        }
    }

    /** Bidirectional attention without padding, scale 1/sqrt(HS). */
    public static AttentionOp of(Tensor q, Tensor k, Tensor v, Tensor out) {
        float scale = q == null || q.rank() == 0 ? 1f : (float) (1.0 / Math.sqrt(q.shape(-1)));
        return new AttentionOp(q, k, v, out, null, Mask.NONE, null, null, null, null, scale, null);
    }

    public AttentionOp causal() { return withMask(Mask.CAUSAL, null); }

    /** Keys below prefixLengths[b] are visible to every query of sequence b; the rest causal. */
    public AttentionOp prefixLm(int[] prefix) { return withMask(Mask.PREFIX_LM, prefix); }

    public AttentionOp withMask(Mask m, int[] prefix) {
        return new AttentionOp(q, k, v, out, lse, m, prefix, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, window, softcap, disentangled, sinks, alibi);
    }

    /** Only the first keyLengths[b] keys of sequence b exist (key padding). */
    public AttentionOp keyLengths(int[] lengths) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, lengths, cuSeqlensQ, cuSeqlensK, scale, bias, window, softcap, disentangled, sinks, alibi);
    }

    /** Packed variable-length layout with cumulative offsets (B + 1 each, starting at 0). */
    public AttentionOp packed(int[] cuQ, int[] cuK) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuQ, cuK, scale, bias, window, softcap, disentangled, sinks, alibi);
    }

    /**
     * Sliding-window attention, with the CAUSAL or NONE mask (not PREFIX_LM): the query at key
     * position p sees only keys j with {@code |j − p| < w} (see {@link Mask#visible(int, int, int, int)}).
     * CAUSAL: the {@code w} keys ending at its own position (Mistral, Gemma 2's local layers); NONE: the
     * keys within {@code w − 1} positions on either side, a bidirectional window (ModernBERT's local
     * layers, {@code w = local_attention / 2 + 1}). Positions are within each sequence (packed layouts
     * too), key padding still applies. 0 turns it off.
     */
    public AttentionOp window(int w) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, w, softcap, disentangled, sinks, alibi);
    }

    /**
     * Gemma 2's attention logit soft-capping (0: none): each score z = scale · q·k becomes
     * {@code cap · tanh(z / cap)} (fp32) before the bias, the mask and the softmax.
     */
    public AttentionOp softcap(float cap) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, window, cap, disentangled, sinks, alibi);
    }

    public AttentionOp lse(Tensor newLse) {
        return new AttentionOp(q, k, v, out, newLse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, window, softcap, disentangled, sinks, alibi);
    }

    public AttentionOp scale(float newScale) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, newScale, bias, window, softcap, disentangled, sinks, alibi);
    }

    public AttentionOp bias(RelativeBias newBias) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, newBias, window, softcap, disentangled, sinks, alibi);
    }

    /**
     * DeBERTa's disentangled relative-position terms ({@link DisentangledBias}), added to the scaled score; null: none.
     * On CUDA (ABI 10) they run in instances of their own: the fp32 row-wise kernel at any head size, the tensor-core
     * kernel at head sizes 40 to 64 (the CUDA backend refuses others in one line); emulated, never run on a GPU.
     */
    public AttentionOp disentangled(DisentangledBias d) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, window, softcap, d, sinks, alibi);
    }

    /**
     * Attention sinks (GPT-OSS; null: none): an F32 (NH) tensor of learned logits, one per query head, that join each
     * query's softmax as one more score with no value: {@code p_j = exp(z_j) / (Σ_k exp(z_k) + exp(sinks[h]))}, so a row's
     * weights sum to less than 1 (transformers' gpt_oss eager_attention_forward: the sink column appended to the masked
     * scores, the softmax taken, the column dropped). The lse then includes the sink's term; a row that sees no key gets
     * zeros and lse = sinks[h]. On CUDA (ABI 11: t4j_attention_params.sinks) every prefill kernel ends each row with it;
     * emulated, never run on a GPU.
     */
    public AttentionOp sinks(Tensor s) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, window, softcap, disentangled, s, alibi);
    }

    /**
     * ALiBi (Press et al. 2022; BLOOM, MPT, Falcon-RW; null: none): an F32 (NH) tensor of slopes, one per query head;
     * {@code −slopes[h] · |j − (i + Lk − Lq)|} is added to the scaled score (after the soft-cap), FlashAttention's
     * alibi_slopes. Under the CAUSAL mask that is {@code slopes[h] · (j − pos)}, which differs from BLOOM's
     * {@code slopes[h] · j} and MPT's {@code slopes[h] · (j − (Lk − 1))} by one constant per row: the same softmax (the lse
     * is this definition's). Not with the T5 bias or DeBERTa's terms. On CUDA (ABI 14: t4j_attention_params.alibi_slopes)
     * every prefill kernel adds it; emulated, never run on a GPU.
     */
    public AttentionOp alibi(Tensor slopes) {
        return new AttentionOp(q, k, v, out, lse, mask, prefixLengths, keyLengths, cuSeqlensQ, cuSeqlensK, scale, bias, window, softcap, disentangled, sinks, slopes);
    }

    /**
     * Head sizes with a kernel, every dtype: every multiple of 8 from 8 to 256 (the tensor-core prefill has
     * instances at 32, 64, 80, 96, 128, 256 and pads other sizes up to the next one; see docs/ops.md).
     */
    public static boolean supportsHeadSize(DType dtype, long hs) {
        return hs >= 8 && hs <= 256 && hs % 8 == 0;
    }

    /**
     * The largest head size the ops take (a multiple of 8): the CPU backend runs any of them; CUDA's kernels stop at 256
     * ({@link #supportsHeadSize}, {@link Backend#maxHeadSize}). 576 is MLA's latent key (DeepSeek's kv_lora_rank 512 +
     * rope 64) that an absorbed decode attends over.
     */
    public static final int MAX_HEAD_SIZE = 1024;

    /** The op-level rule: a multiple of 8 from 8 to {@link #MAX_HEAD_SIZE}. */
    static void checkHeadSize(long hs, Tensor q, String what) {
        if (hs < 8 || hs > MAX_HEAD_SIZE || hs % 8 != 0) {
            throw new IllegalArgumentException("head size " + hs + " of q " + q.shapeString() + " is not supported" + what
                    + " (multiples of 8 from 8 to " + MAX_HEAD_SIZE + "; the CUDA kernels to 256)");
        }
    }

    /** Validated sizes and strides (elements). Packed layouts have zero batch strides; Tq, Tk are the longest. */
    public record Shape(boolean packed, int batch, int nh, int nkv, int tq, int tk, int hs, int totalQ, int totalK,
                        long qBatchStride, long qRowStride, long qHeadStride,
                        long kBatchStride, long kRowStride, long kHeadStride,
                        long vBatchStride, long vRowStride, long vHeadStride,
                        long outBatchStride, long outRowStride, long outHeadStride) {

        /** Query rows of sequence b. */
        public int lq(int b, int[] cuQ) { return packed ? cuQ[b + 1] - cuQ[b] : tq; }

        /** Key rows of sequence b before key padding. */
        public int lk(int b, int[] cuK) { return packed ? cuK[b + 1] - cuK[b] : tk; }
    }

    /** Throws IllegalArgumentException naming the tensor and the shapes when the op is malformed. */
    public Shape validate() {
        if (mask == null) throw new IllegalArgumentException("mask is null (use Mask.NONE)");
        Checks.open("q", q);
        Checks.open("k", k);
        Checks.open("v", v);
        Checks.open("out", out);
        Checks.floating("q", q);
        Checks.sameDType("q", q, "k", k);
        Checks.sameDType("q", q, "v", v);
        Checks.sameDType("q", q, "out", out);
        Checks.sameDevice("q", q, "k", k);
        Checks.sameDevice("q", q, "v", v);
        Checks.sameDevice("q", q, "out", out);
        boolean packed = cuSeqlensQ != null || cuSeqlensK != null;
        if (packed && (cuSeqlensQ == null || cuSeqlensK == null)) {
            throw new IllegalArgumentException("packed layout needs both cuSeqlensQ and cuSeqlensK");
        }
        int rank = packed ? 3 : 4;
        String qLayout = packed ? "(totalQ, NH, HS)" : "(B, Tq, NH, HS)";
        String kLayout = packed ? "(totalK, NKV, HS)" : "(B, Tk, NKV, HS)";
        if (q.rank() != rank) throw new IllegalArgumentException("q must be " + qLayout + ", got " + q.shapeString());
        if (k.rank() != rank) throw new IllegalArgumentException("k must be " + kLayout + ", got " + k.shapeString());
        Checks.sameShape("k", k, "v", v);
        Checks.sameShape("q", q, "out", out);
        long hs = q.shape(-1);
        long nh = q.shape(-2);
        long nkv = k.shape(-2);
        if (k.shape(-1) != hs) {
            throw new IllegalArgumentException("k " + k.shapeString() + " has head size " + k.shape(-1) + " but q "
                    + q.shapeString() + " has " + hs);
        }
        if (nh < 1 || nkv < 1 || nh % nkv != 0) {
            throw new IllegalArgumentException("NKV = " + nkv + " (k " + k.shapeString() + ") must divide NH = " + nh
                    + " (q " + q.shapeString() + ")");
        }
        checkHeadSize(hs, q, " for " + q.dtype());
        if (nh > 65535) throw new IllegalArgumentException("NH = " + nh + " exceeds 65535");
        int batch;
        long tq;
        long tk;
        if (packed) {
            batch = cuSeqlensQ.length - 1;
            if (batch < 0 || cuSeqlensK.length != cuSeqlensQ.length) {
                throw new IllegalArgumentException("cuSeqlensQ has " + cuSeqlensQ.length + " entries and cuSeqlensK "
                        + cuSeqlensK.length + "; both need B + 1 ≥ 1");
            }
            tq = offsets("cuSeqlensQ", cuSeqlensQ, q.shape(0), "q " + q.shapeString());
            tk = offsets("cuSeqlensK", cuSeqlensK, k.shape(0), "k " + k.shapeString());
        } else {
            batch = Math.toIntExact(Math.min(q.shape(0), Integer.MAX_VALUE));
            if (k.shape(0) != q.shape(0)) {
                throw new IllegalArgumentException("k " + k.shapeString() + " has batch " + k.shape(0) + " but q "
                        + q.shapeString() + " has " + q.shape(0));
            }
            tq = q.shape(1);
            tk = k.shape(1);
        }
        if (batch > 65535) throw new IllegalArgumentException("batch " + batch + " exceeds 65535");
        if (tq > Integer.MAX_VALUE || tk > Integer.MAX_VALUE || q.shape(0) > Integer.MAX_VALUE || k.shape(0) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sequence lengths exceed 2^31-1: q " + q.shapeString() + ", k " + k.shapeString());
        }
        if (keyLengths != null) {
            if (keyLengths.length != batch) {
                throw new IllegalArgumentException("keyLengths has " + keyLengths.length + " entries for batch " + batch);
            }
            for (int b = 0; b < batch; b++) {
                long lk = packed ? cuSeqlensK[b + 1] - cuSeqlensK[b] : tk;
                if (keyLengths[b] < 0 || keyLengths[b] > lk) {
                    throw new IllegalArgumentException("keyLengths[" + b + "] = " + keyLengths[b] + " outside [0, " + lk
                            + "] (k " + k.shapeString() + ")");
                }
            }
        }
        if (mask == Mask.PREFIX_LM) {
            if (prefixLengths == null || prefixLengths.length != batch) {
                throw new IllegalArgumentException("PREFIX_LM needs prefixLengths with one entry per sequence (" + batch + "), got "
                        + (prefixLengths == null ? "null" : prefixLengths.length + " entries"));
            }
            for (int b = 0; b < batch; b++) {
                long lk = packed ? cuSeqlensK[b + 1] - cuSeqlensK[b] : tk;
                if (prefixLengths[b] < 0 || prefixLengths[b] > lk) {
                    throw new IllegalArgumentException("prefix length " + prefixLengths[b] + " of sequence " + b
                            + " is outside [0, T = " + lk + "] (k " + k.shapeString() + ")");
                }
            }
        } else if (prefixLengths != null) {
            throw new IllegalArgumentException("prefixLengths given with mask " + mask + "; use PREFIX_LM");
        }
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        if (!(softcap >= 0) || Float.isInfinite(softcap)) {
            throw new IllegalArgumentException("softcap must be finite and ≥ 0 (0: none), got " + softcap);
        }
        if (window < 0) throw new IllegalArgumentException("window " + window + " must be ≥ 0 (0: none)");
        if (window > 0 && mask == Mask.PREFIX_LM) {
            throw new IllegalArgumentException("window " + window + " with the PREFIX_LM mask is not supported (a sliding window "
                    + "needs the CAUSAL or NONE mask)");
        }
        if (bias != null) bias.validate(q, (int) nh);
        if (disentangled != null) {
            disentangled.validate(q, (int) nh, packed ? q.shape(0) : batch * tq, packed ? k.shape(0) : batch * tk);
        }
        if (sinks != null) checkSinks(sinks, q, nh);
        if (alibi != null) checkAlibi(alibi, q, nh, bias != null || disentangled != null);
        if (lse != null) {
            Checks.open("lse", lse);
            Checks.sameDevice("q", q, "lse", lse);
            if (lse.dtype() != DType.F32) throw new IllegalArgumentException("lse must be F32, got " + lse.dtype());
            long[] want = packed ? new long[] {nh, q.shape(0)} : new long[] {batch, nh, tq};
            boolean dense = lse.numel() == 0 || lse.isContiguous();   // an empty tensor has no layout to check
            if (!Arrays.equals(lse.shape(), want) || !dense) {
                throw new IllegalArgumentException("lse has shape " + lse.shapeString() + (dense ? "" : " (strided)")
                        + " but q " + q.shapeString() + " needs contiguous " + Arrays.toString(want).replace('[', '(').replace(']', ')'));
            }
        }
        for (String role : new String[] {"q", "k", "v", "out"}) {
            Tensor t = switch (role) {
                case "q" -> q;
                case "k" -> k;
                case "v" -> v;
                default -> out;
            };
            Checks.lastDimContiguous(role, t);
            if (t.dtype() != DType.F32) {
                for (int d = 0; d < t.rank() - 1; d++) {
                    if (t.shape(d) > 1 && t.stride(d) % 8 != 0) {
                        throw new IllegalArgumentException(role + " " + t + " has stride " + t.stride(d) + " in dimension " + d
                                + "; " + t.dtype() + " attention needs strides that are multiples of 8 elements (16 bytes)");
                    }
                }
            }
        }
        nonOverlapping("out", out);
        long qb = packed ? 0 : stride(q, 0);
        long kb = packed ? 0 : stride(k, 0);
        long vb = packed ? 0 : stride(v, 0);
        long ob = packed ? 0 : stride(out, 0);
        int r = rank;
        return new Shape(packed, batch, (int) nh, (int) nkv, (int) tq, (int) tk, (int) hs,
                (int) q.shape(0), (int) k.shape(0),
                qb, stride(q, r - 3), stride(q, r - 2), kb, stride(k, r - 3), stride(k, r - 2),
                vb, stride(v, r - 3), stride(v, r - 2), ob, stride(out, r - 3), stride(out, r - 2));
    }

    /**
     * The stride of dimension d, or for a dimension of size 1 (whose stride no element uses) the
     * contiguous one, so that the kernels' alignment and overlap rules see a well-formed value.
     */
    private static long stride(Tensor t, int d) {
        if (t.shape(d) != 1) return t.stride(d);
        long s = 1;
        for (int i = d + 1; i < t.rank(); i++) s *= t.shape(i);
        return s;
    }

    /** Checks cumulative offsets and returns the longest sequence. */
    static long offsets(String role, int[] cu, long rows, String tensor) {
        if (cu[0] != 0) throw new IllegalArgumentException(role + "[0] must be 0, got " + cu[0]);
        long longest = 0;
        for (int b = 0; b + 1 < cu.length; b++) {
            if (cu[b + 1] < cu[b]) {
                throw new IllegalArgumentException(role + " decreases at " + (b + 1) + ": " + cu[b] + " then " + cu[b + 1]);
            }
            longest = Math.max(longest, cu[b + 1] - cu[b]);
        }
        if (cu[cu.length - 1] != rows) {
            throw new IllegalArgumentException(role + " ends at " + cu[cu.length - 1] + " but " + tensor + " has " + rows + " rows");
        }
        return longest;
    }

    /** Sinks must be a dense F32 (NH) tensor on q's device. */
    static void checkSinks(Tensor sinks, Tensor q, long nh) {
        Checks.open("sinks", sinks);
        Checks.sameDevice("q", q, "sinks", sinks);
        if (sinks.dtype() != DType.F32 || sinks.rank() != 1 || sinks.shape(0) != nh || !sinks.isContiguous()) {
            throw new IllegalArgumentException("sinks is " + sinks + " but q " + q.shapeString() + " needs a contiguous F32 (" + nh
                    + ") tensor: one logit per query head");
        }
    }

    /** ALiBi slopes must be a dense F32 (NH) tensor on q's device, the only positional bias of the op. */
    static void checkAlibi(Tensor slopes, Tensor q, long nh, boolean otherBias) {
        Checks.open("alibi slopes", slopes);
        Checks.sameDevice("q", q, "alibi slopes", slopes);
        if (slopes.dtype() != DType.F32 || slopes.rank() != 1 || slopes.shape(0) != nh || !slopes.isContiguous()) {
            throw new IllegalArgumentException("alibi slopes is " + slopes + " but q " + q.shapeString() + " needs a contiguous F32 ("
                    + nh + ") tensor: one slope per query head");
        }
        if (otherBias) {
            throw new IllegalArgumentException("alibi slopes with a T5 or disentangled bias: an attention takes one positional bias");
        }
    }

    /** Distinct elements of an output must not share memory (a sufficient test: dims sorted by stride nest). */
    static void nonOverlapping(String role, Tensor t) {
        Integer[] dims = new Integer[t.rank()];
        for (int i = 0; i < dims.length; i++) dims[i] = i;
        Arrays.sort(dims, (a, b) -> Long.compare(t.stride(a), t.stride(b)));
        long span = 1;
        for (int d : dims) {
            if (t.shape(d) <= 1) continue;
            if (t.stride(d) < span) {
                throw new IllegalArgumentException(role + " " + t + " has overlapping elements (strides "
                        + Arrays.toString(t.strides()) + "); give it its own memory");
            }
            span = t.stride(d) * t.shape(d);
        }
    }
}
