// AttentionHarness — builds attention and decode problems on any backend (fresh random data, NaN-
// poisoned outputs, optional strided q/k/v views of one fused QKV buffer, shuffled paged caches),
// runs them, and computes the float64 oracle's answer for the same stored values. Shared by the
// CPU tests (always) and the gpu-tagged CUDA tests.
package org.transformer4j.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.transformer4j.runtime.reference.AttentionOracle;

public final class AttentionHarness {

    private AttentionHarness() {}

    /** T5 bias parameters used by the tests: small enough that short sequences reach every regime (exact, log, saturated). */
    public static final int BUCKETS = 16;
    public static final int MAX_DISTANCE = 20;

    /**
     * One prefill problem. Padded layouts need equal lq (and equal lk) across sequences; strided
     * (q, k, v slices of one (rows, NH + 2·NKV, HS) buffer) needs lq == lk.
     */
    public record Spec(DType dtype, int nh, int nkv, int hs, int[] lq, int[] lk, boolean packed, AttentionOp.Mask mask,
                       int[] prefix, int[] keyLengths, boolean bias, boolean bidirectional, boolean strided, float scale,
                       int window, int disSpan, boolean withSinks, boolean withAlibi) {

        public Spec(DType dtype, int nh, int nkv, int hs, int[] lq, int[] lk, boolean packed, AttentionOp.Mask mask,
                    int[] prefix, int[] keyLengths, boolean bias, boolean bidirectional, boolean strided, float scale,
                    int window, int disSpan) {
            this(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, bias, bidirectional, strided, scale, window, disSpan, false,
                    false);
        }

        public static Spec of(DType dt, int nh, int nkv, int hs, int b, int tq, int tk) {
            int[] lq = new int[b];
            int[] lk = new int[b];
            Arrays.fill(lq, tq);
            Arrays.fill(lk, tk);
            return new Spec(dt, nh, nkv, hs, lq, lk, false, AttentionOp.Mask.NONE, null, null, false, false, false,
                    (float) (1 / Math.sqrt(hs)), 0, 0);
        }

        public static Spec packed(DType dt, int nh, int nkv, int hs, int[] lq, int[] lk) {
            return new Spec(dt, nh, nkv, hs, lq, lk, true, AttentionOp.Mask.NONE, null, null, false, false, false,
                    (float) (1 / Math.sqrt(hs)), 0, 0);
        }

        public Spec mask(AttentionOp.Mask m, int... prefixLengths) {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, m, m == AttentionOp.Mask.PREFIX_LM ? prefixLengths : null,
                    keyLengths, bias, bidirectional, strided, scale, window, disSpan, withSinks, withAlibi);
        }

        public Spec keyLengths(int... lengths) {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, lengths, bias, bidirectional, strided, scale, window, disSpan, withSinks, withAlibi);
        }

        /** T5 bias with scale 1, as T5 runs it. */
        public Spec t5(boolean bidir) {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, true, bidir, strided, 1f, window, disSpan, withSinks, withAlibi);
        }

        public Spec withStrides() {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, bias, bidirectional, true, scale, window, disSpan, withSinks, withAlibi);
        }

        public Spec dtype(DType dt) {
            return new Spec(dt, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, bias, bidirectional, strided, scale, window, disSpan, withSinks, withAlibi);
        }

        /** A sliding window (|key position − query position| &lt; w; with NONE, bidirectional). */
        public Spec window(int w) {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, bias, bidirectional, strided, scale, w, disSpan, withSinks, withAlibi);
        }

        /**
         * DeBERTa's disentangled bias: c2p and p2c tables of 2·span columns, log buckets of {@code span} (= position_buckets)
         * over {@link #DIS_MAX_POSITION}, with DeBERTa's scale 1/sqrt(3·HS); no mask beyond the spec's.
         */
        public Spec deberta(int span) {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, bias, bidirectional, strided,
                    (float) (1 / Math.sqrt(3.0 * hs)), window, span, withSinks, withAlibi);
        }

        /** Attention sinks: one random logit per head (GPT-OSS), some above every score of their rows. */
        public Spec sinks() {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, bias, bidirectional, strided, scale, window,
                    disSpan, true, withAlibi);
        }

        /** ALiBi: BLOOM's slopes for the spec's heads ({@link #alibiSlopes}). */
        public Spec alibi() {
            return new Spec(dtype, nh, nkv, hs, lq, lk, packed, mask, prefix, keyLengths, bias, bidirectional, strided, scale, window,
                    disSpan, withSinks, true);
        }

        int batch() { return lq.length; }

        int totalQ() { return Arrays.stream(lq).sum(); }

        int totalK() { return Arrays.stream(lk).sum(); }

        @Override
        public String toString() {
            return dtype + " NH=" + nh + " NKV=" + nkv + " HS=" + hs + " lq=" + Arrays.toString(lq) + " lk=" + Arrays.toString(lk)
                    + (packed ? " packed" : " padded") + " " + mask + (prefix != null ? Arrays.toString(prefix) : "")
                    + (keyLengths != null ? " keys=" + Arrays.toString(keyLengths) : "")
                    + (bias ? (bidirectional ? " t5-bidirectional" : " t5-causal") : "") + (strided ? " strided" : "")
                    + (window > 0 ? " window=" + window : "") + (disSpan > 0 ? " deberta span=" + disSpan : "")
                    + (withSinks ? " sinks" : "") + (withAlibi ? " alibi" : "");
        }
    }

    /**
     * ALiBi slopes of nh heads as transformers' BLOOM draws them (build_alibi_tensor): 2^(−8i/n) for i = 1..n, n the largest
     * power of two ≤ nh, then for the other heads 2^(−4i/n) at odd i = 1, 3, ...; every third head is made 1.5, steeper than
     * any published slope, so that distant keys drop far below near ones.
     */
    static float[] alibiSlopes(int nh) {
        int n = Integer.highestOneBit(nh);
        float[] s = new float[nh];
        for (int i = 0; i < nh; i++) {
            s[i] = i < n ? (float) Math.pow(2, -8.0 * (i + 1) / n) : (float) Math.pow(2, -4.0 * (2 * (i - n) + 1) / n);
            if (i % 3 == 2) s[i] = 1.5f;
        }
        return s;
    }

    /** Head sinks drawn for a problem: U(−4, 4), so that some rows' sink outweighs all of their keys and some barely count. */
    static float[] sinkValues(SplittableRandom rnd, int nh) {
        return random(rnd, nh, 4.0);
    }

    /** The max_relative_positions of the {@link Spec#deberta} problems (log buckets past span / 2, the last column past this − 1). */
    public static final int DIS_MAX_POSITION = 40;

    /** What a backend produced and what the oracle says: out in q's row order, lse in the op's layout. */
    public record Run(float[] out, float[] lse, double[] refOut, double[] refLse, double maxAbsV, String what) {}

    static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return v;
    }

    private static Tensor poisoned(Backend be, DType dt, long... shape) {
        try (Tensor h = Tensor.empty(dt, shape)) {
            h.fill(Float.NaN);
            return be.upload(h);
        }
    }

    private static float[] download(Backend be, Tensor t) {
        try (Tensor h = be.toHost(t)) {
            return h.toFloatArray();
        }
    }

    public static Run run(Backend be, Spec s, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int b = s.batch();
        int totalQ = s.totalQ();
        int totalK = s.totalK();
        int[] cuQ = new int[b + 1];
        int[] cuK = new int[b + 1];
        for (int i = 0; i < b; i++) {
            cuQ[i + 1] = cuQ[i] + s.lq()[i];
            cuK[i + 1] = cuK[i] + s.lk()[i];
        }
        long[] qShape = s.packed() ? new long[] {totalQ, s.nh(), s.hs()} : new long[] {b, s.lq()[0], s.nh(), s.hs()};
        long[] kShape = s.packed() ? new long[] {totalK, s.nkv(), s.hs()} : new long[] {b, s.lk()[0], s.nkv(), s.hs()};
        float[] qv;
        float[] kv;
        float[] vv;
        List<Tensor> owned = new ArrayList<>();
        Tensor q;
        Tensor k;
        Tensor v;
        try {
            if (s.strided()) {
                int heads = s.nh() + 2 * s.nkv();
                long[] shape = qShape.clone();
                shape[shape.length - 2] = heads;
                Tensor host = Tensor.of(s.dtype(), random(rnd, (int) Tensor.numel(shape), 1.5), shape);
                owned.add(host);
                Tensor dev = be.upload(host);
                owned.add(dev);
                int hd = shape.length - 2;
                q = dev.slice(hd, 0, s.nh());
                k = dev.slice(hd, s.nh(), s.nh() + s.nkv());
                v = dev.slice(hd, s.nh() + s.nkv(), heads);
                qv = host.slice(hd, 0, s.nh()).toFloatArray();
                kv = host.slice(hd, s.nh(), s.nh() + s.nkv()).toFloatArray();
                vv = host.slice(hd, s.nh() + s.nkv(), heads).toFloatArray();
            } else {
                Tensor hq = Tensor.of(s.dtype(), random(rnd, (int) Tensor.numel(qShape), 1.5), qShape);
                Tensor hk = Tensor.of(s.dtype(), random(rnd, (int) Tensor.numel(kShape), 1.5), kShape);
                Tensor hv = Tensor.of(s.dtype(), random(rnd, (int) Tensor.numel(kShape), 1.5), kShape);
                owned.addAll(List.of(hq, hk, hv));
                q = be.upload(hq);
                k = be.upload(hk);
                v = be.upload(hv);
                owned.addAll(List.of(q, k, v));
                qv = hq.toFloatArray();
                kv = hk.toFloatArray();
                vv = hv.toFloatArray();
            }
            float[] table = s.bias() ? random(rnd, BUCKETS * s.nh(), 2.0) : null;
            Tensor out = poisoned(be, s.dtype(), qShape);
            Tensor lse = poisoned(be, DType.F32, s.packed() ? new long[] {s.nh(), totalQ} : new long[] {b, s.nh(), s.lq()[0]});
            owned.addAll(List.of(out, lse));
            AttentionOp op = AttentionOp.of(q, k, v, out).withMask(s.mask(), s.prefix()).keyLengths(s.keyLengths())
                    .lse(lse).scale(s.scale()).window(s.window());
            if (s.packed()) op = op.packed(cuQ, cuK);
            if (table != null) {
                try (Tensor ht = Tensor.ofFloats(table, BUCKETS, s.nh())) {
                    Tensor t = be.upload(ht);
                    owned.add(t);
                    op = op.bias(new RelativeBias(t, MAX_DISTANCE, s.bidirectional()));
                }
            }
            int w = 2 * s.disSpan();
            int rowsQ = s.packed() ? totalQ : b * s.lq()[0], rowsK = s.packed() ? totalK : b * s.lk()[0];
            float[] c2p = null, p2c = null;
            if (s.disSpan() > 0) {                             // tables in q's dtype, their values as stored
                Tensor hc = Tensor.of(s.dtype(), random(rnd, s.nh() * rowsQ * w, 2.0), s.nh(), rowsQ, w);
                Tensor hp = Tensor.of(s.dtype(), random(rnd, s.nh() * rowsK * w, 2.0), s.nh(), rowsK, w);
                owned.addAll(List.of(hc, hp));
                c2p = hc.toFloatArray();
                p2c = hp.toFloatArray();
                Tensor dc = be.upload(hc), dp = be.upload(hp);
                owned.addAll(List.of(dc, dp));
                op = op.disentangled(new DisentangledBias(dc, dp, s.disSpan(), s.disSpan(), DIS_MAX_POSITION));
            }
            float[] sinks = s.withSinks() ? sinkValues(rnd, s.nh()) : null;
            if (sinks != null) {
                try (Tensor hs = Tensor.ofFloats(sinks, s.nh())) {
                    Tensor t = be.upload(hs);
                    owned.add(t);
                    op = op.sinks(t);
                }
            }
            float[] alibi = s.withAlibi() ? alibiSlopes(s.nh()) : null;
            if (alibi != null) {
                try (Tensor ha = Tensor.ofFloats(alibi, s.nh())) {
                    Tensor t = be.upload(ha);
                    owned.add(t);
                    op = op.alibi(t);
                }
            }
            be.attention(op);
            float[] got = download(be, out);
            float[] gotLse = download(be, lse);

            double[] refOut = new double[got.length];
            double[] refLse = new double[gotLse.length];
            int rowQ = s.nh() * s.hs();
            int rowK = s.nkv() * s.hs();
            for (int i = 0; i < b; i++) {
                int keys = s.keyLengths() == null ? s.lk()[i] : Math.min(s.lk()[i], s.keyLengths()[i]);
                AttentionOracle.Disentangled dis = null;
                if (c2p != null) {                             // this sequence's rows of each head's tables
                    int q0 = s.packed() ? cuQ[i] : i * s.lq()[0], k0 = s.packed() ? cuK[i] : i * s.lk()[0];
                    float[] c = new float[s.nh() * s.lq()[i] * w], pk = new float[s.nh() * s.lk()[i] * w];
                    for (int h = 0; h < s.nh(); h++) {
                        System.arraycopy(c2p, (h * rowsQ + q0) * w, c, h * s.lq()[i] * w, s.lq()[i] * w);
                        System.arraycopy(p2c, (h * rowsK + k0) * w, pk, h * s.lk()[i] * w, s.lk()[i] * w);
                    }
                    dis = new AttentionOracle.Disentangled(c, pk, s.lk()[i], s.disSpan(), s.disSpan(), DIS_MAX_POSITION);
                }
                AttentionOracle.Result r = AttentionOracle.attention(
                        Arrays.copyOfRange(qv, cuQ[i] * rowQ, cuQ[i + 1] * rowQ),
                        Arrays.copyOfRange(kv, cuK[i] * rowK, cuK[i + 1] * rowK),
                        Arrays.copyOfRange(vv, cuK[i] * rowK, cuK[i + 1] * rowK),
                        s.lq()[i], s.nh(), s.nkv(), s.hs(), keys, s.mask().name(),
                        s.prefix() == null ? 0 : s.prefix()[i], s.window(), s.scale(), table, BUCKETS, MAX_DISTANCE, s.bidirectional(), dis,
                        sinks, alibi);
                System.arraycopy(r.out(), 0, refOut, cuQ[i] * rowQ, r.out().length);
                for (int h = 0; h < s.nh(); h++) {
                    for (int row = 0; row < s.lq()[i]; row++) {
                        int at = s.packed() ? h * totalQ + cuQ[i] + row : (i * s.nh() + h) * s.lq()[0] + row;
                        refLse[at] = r.lse()[h * s.lq()[i] + row];
                    }
                }
            }
            double maxV = 0;
            for (float x : vv) maxV = Math.max(maxV, Math.abs(x));
            return new Run(got, gotLse, refOut, refLse, maxV, s + " seed " + seed);
        } finally {
            for (Tensor t : owned) t.close();
        }
    }

    /** One paged decode problem: lengths are the keys per sequence after appending the tq new ones. */
    public record DecodeSpec(DType dtype, int nh, int nkv, int hs, int[] lengths, int tq, int blockSize, boolean causal,
                             boolean bias, boolean bidirectional, int splits, boolean withSinks, boolean withAlibi) {
        public DecodeSpec(DType dtype, int nh, int nkv, int hs, int[] lengths, int tq, int blockSize, boolean causal,
                          boolean bias, boolean bidirectional, int splits) {
            this(dtype, nh, nkv, hs, lengths, tq, blockSize, causal, bias, bidirectional, splits, false, false);
        }

        /** With attention sinks (one random logit per head, as {@link Spec#sinks}). */
        public DecodeSpec sinks() {
            return new DecodeSpec(dtype, nh, nkv, hs, lengths, tq, blockSize, causal, bias, bidirectional, splits, true, withAlibi);
        }

        /** With ALiBi ({@link AttentionHarness#alibiSlopes}, as {@link Spec#alibi}). */
        public DecodeSpec alibi() {
            return new DecodeSpec(dtype, nh, nkv, hs, lengths, tq, blockSize, causal, bias, bidirectional, splits, withSinks, true);
        }

        @Override
        public String toString() {
            return "decode " + dtype + " NH=" + nh + " NKV=" + nkv + " HS=" + hs + " L=" + Arrays.toString(lengths) + " Tq=" + tq
                    + " block=" + blockSize + (causal ? " causal" : "") + (bias ? (bidirectional ? " t5-bidir" : " t5-causal") : "")
                    + " splits=" + splits + (withSinks ? " sinks" : "") + (withAlibi ? " alibi" : "");
        }
    }

    /**
     * Appends each sequence's keys in two steps (a shared-length prefix chunk from a strided view,
     * then the tq new rows) to a NaN-poisoned cache with a shuffled block table, decodes, and also
     * runs {@link Backend#attention} (packed, causal per the spec) on the same keys: the Run's
     * {@code lse}/{@code out} are decode's; {@code prefillOut} is attention's.
     */
    public record DecodeRun(Run run, float[] prefillOut) {}

    /**
     * A paged pool for sequences of these lengths: each sequence's table one block wider than its longest needs, three
     * spare blocks in the pool, the table's entries distinct ids in a seeded shuffle.
     */
    private record Pool(int maxBlocks, int numBlocks, int[] table) {
        static Pool of(int[] lengths, int blockSize, long seed) {
            int lmax = Arrays.stream(lengths).max().orElseThrow();
            int maxBlocks = (lmax + blockSize - 1) / blockSize + 1, numBlocks = lengths.length * maxBlocks + 3;
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < numBlocks; i++) ids.add(i);
            Collections.shuffle(ids, new java.util.Random(seed));
            int[] table = new int[lengths.length * maxBlocks];
            for (int i = 0; i < table.length; i++) table[i] = ids.get(i);
            return new Pool(maxBlocks, numBlocks, table);
        }
    }

    public static DecodeRun runDecode(Backend be, DecodeSpec s, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int b = s.lengths().length;
        int lmax = Arrays.stream(s.lengths()).max().orElseThrow();
        int bs = s.blockSize();
        Pool pool = Pool.of(s.lengths(), bs, seed);
        int maxBlocks = pool.maxBlocks(), numBlocks = pool.numBlocks();
        int[] table = pool.table();
        int rowK = s.nkv() * s.hs();
        int rowQ = s.nh() * s.hs();
        List<Tensor> owned = new ArrayList<>();
        try {
            Tensor hk = Tensor.of(s.dtype(), random(rnd, b * lmax * rowK, 1.5), b, lmax, s.nkv(), s.hs());  // (B, Lmax, NKV, HS)
            Tensor hv = Tensor.of(s.dtype(), random(rnd, b * lmax * rowK, 1.5), b, lmax, s.nkv(), s.hs());
            Tensor hq = Tensor.of(s.dtype(), random(rnd, b * s.tq() * rowQ, 1.5), b, s.tq(), s.nh(), s.hs());
            owned.addAll(List.of(hk, hv, hq));
            float[] kAll = hk.toFloatArray();
            float[] vAll = hv.toFloatArray();
            float[] qAll = hq.toFloatArray();
            // The new rows of each sequence, gathered: (B, tq, NKV, HS).
            float[] kNew = new float[b * s.tq() * rowK];
            float[] vNew = new float[b * s.tq() * rowK];
            for (int i = 0; i < b; i++) {
                int from = (i * lmax + s.lengths()[i] - s.tq()) * rowK;
                System.arraycopy(kAll, from, kNew, i * s.tq() * rowK, s.tq() * rowK);
                System.arraycopy(vAll, from, vNew, i * s.tq() * rowK, s.tq() * rowK);
            }
            Tensor hkNew = Tensor.of(s.dtype(), kNew, b, s.tq(), s.nkv(), s.hs());
            Tensor hvNew = Tensor.of(s.dtype(), vNew, b, s.tq(), s.nkv(), s.hs());
            owned.addAll(List.of(hkNew, hvNew));
            Tensor k = be.upload(hk);
            Tensor v = be.upload(hv);
            Tensor q = be.upload(hq);
            Tensor kN = be.upload(hkNew);
            Tensor vN = be.upload(hvNew);
            Tensor kc = poisoned(be, s.dtype(), numBlocks, bs, s.nkv(), s.hs());
            Tensor vc = poisoned(be, s.dtype(), numBlocks, bs, s.nkv(), s.hs());
            Tensor out = poisoned(be, s.dtype(), b, s.tq(), s.nh(), s.hs());
            Tensor lse = poisoned(be, DType.F32, b, s.nh(), s.tq());
            owned.addAll(List.of(k, v, q, kN, vN, kc, vc, out, lse));
            PagedKvCache cache = new PagedKvCache(kc, vc, table, maxBlocks);
            int prefixRows = lmax - s.tq();
            if (prefixRows > 0) {
                be.kvAppend(new KvAppendOp(cache, new int[b], k.slice(1, 0, prefixRows), v.slice(1, 0, prefixRows)));
            }
            int[] before = new int[b];
            for (int i = 0; i < b; i++) before[i] = s.lengths()[i] - s.tq();
            be.kvAppend(new KvAppendOp(cache, before, kN, vN));

            float[] biasTable = s.bias() ? random(rnd, BUCKETS * s.nh(), 2.0) : null;
            RelativeBias bias = null;
            if (biasTable != null) {
                try (Tensor ht = Tensor.ofFloats(biasTable, BUCKETS, s.nh())) {
                    Tensor t = be.upload(ht);
                    owned.add(t);
                    bias = new RelativeBias(t, MAX_DISTANCE, s.bidirectional());
                }
            }
            float scale = s.bias() ? 1f : (float) (1 / Math.sqrt(s.hs()));
            float[] sinkValues = s.withSinks() ? sinkValues(rnd, s.nh()) : null;
            Tensor sinks = null;
            if (sinkValues != null) {
                try (Tensor hs = Tensor.ofFloats(sinkValues, s.nh())) {
                    sinks = be.upload(hs);
                    owned.add(sinks);
                }
            }
            float[] alibiValues = s.withAlibi() ? alibiSlopes(s.nh()) : null;
            Tensor alibi = null;
            if (alibiValues != null) {
                try (Tensor ha = Tensor.ofFloats(alibiValues, s.nh())) {
                    alibi = be.upload(ha);
                    owned.add(alibi);
                }
            }
            be.decode(DecodeOp.of(q, cache, s.lengths().clone(), out).lse(lse).causal(s.causal()).scale(scale).bias(bias)
                    .splits(s.splits()).sinks(sinks).alibi(alibi));
            float[] got = download(be, out);
            float[] gotLse = download(be, lse);

            // The same keys through prefill attention: packed, queries = the last tq positions.
            int[] cuQ = new int[b + 1];
            int[] cuK = new int[b + 1];
            for (int i = 0; i < b; i++) {
                cuQ[i + 1] = cuQ[i] + s.tq();
                cuK[i + 1] = cuK[i] + s.lengths()[i];
            }
            float[] kPacked = new float[cuK[b] * rowK];
            float[] vPacked = new float[cuK[b] * rowK];
            for (int i = 0; i < b; i++) {
                System.arraycopy(kAll, i * lmax * rowK, kPacked, cuK[i] * rowK, s.lengths()[i] * rowK);
                System.arraycopy(vAll, i * lmax * rowK, vPacked, cuK[i] * rowK, s.lengths()[i] * rowK);
            }
            float[] prefill;
            try (Tensor pk = Tensor.of(s.dtype(), kPacked, cuK[b], s.nkv(), s.hs());
                 Tensor pv = Tensor.of(s.dtype(), vPacked, cuK[b], s.nkv(), s.hs());
                 Tensor dk = be.upload(pk); Tensor dv = be.upload(pv);
                 Tensor dq = be.upload(hq.view(b * s.tq(), s.nh(), s.hs()));
                 Tensor pout = poisoned(be, s.dtype(), b * s.tq(), s.nh(), s.hs())) {
                AttentionOp op = AttentionOp.of(dq, dk, dv, pout).packed(cuQ, cuK).scale(scale).bias(bias).sinks(sinks).alibi(alibi)
                        .withMask(s.causal() ? AttentionOp.Mask.CAUSAL : AttentionOp.Mask.NONE, null);
                if (s.dtype() == DType.F32 || AttentionOp.supportsHeadSize(s.dtype(), s.hs())) {
                    be.attention(op);
                    prefill = download(be, pout);
                } else {
                    prefill = null;
                }
            }

            double[] refOut = new double[got.length];
            double[] refLse = new double[gotLse.length];
            for (int i = 0; i < b; i++) {
                int l = s.lengths()[i];
                AttentionOracle.Result r = AttentionOracle.attention(
                        Arrays.copyOfRange(qAll, i * s.tq() * rowQ, (i + 1) * s.tq() * rowQ),
                        Arrays.copyOfRange(kAll, i * lmax * rowK, (i * lmax + l) * rowK),
                        Arrays.copyOfRange(vAll, i * lmax * rowK, (i * lmax + l) * rowK),
                        s.tq(), s.nh(), s.nkv(), s.hs(), l, s.causal() ? "CAUSAL" : "NONE", 0, 0, scale,
                        biasTable, BUCKETS, MAX_DISTANCE, s.bidirectional(), null, sinkValues, alibiValues);
                System.arraycopy(r.out(), 0, refOut, i * s.tq() * rowQ, r.out().length);
                System.arraycopy(r.lse(), 0, refLse, i * s.nh() * s.tq(), r.lse().length);
            }
            double maxV = 0;
            for (float x : vAll) maxV = Math.max(maxV, Math.abs(x));
            return new DecodeRun(new Run(got, gotLse, refOut, refLse, maxV, s + " seed " + seed), prefill);
        } finally {
            for (Tensor t : owned) t.close();
        }
    }

    /**
     * One varlen paged decode problem (ABI 17): sequence b holds {@code lengths[b]} keys after appending its
     * {@code lq[b]} ≥ 0 new rows (lq[b] ≤ lengths[b]); causal, scale 1/√HS; an explicit split count (≥ 1), so that the
     * packed op and each sequence's own op run the same splits.
     */
    public record PackedDecodeSpec(DType dtype, int nh, int nkv, int hs, int[] lq, int[] lengths, int blockSize, int splits, int window,
                                   boolean withSinks, boolean withAlibi) {
        @Override
        public String toString() {
            return "varlen decode " + dtype + " NH=" + nh + " NKV=" + nkv + " HS=" + hs + " Lq=" + Arrays.toString(lq) + " L="
                    + Arrays.toString(lengths) + " block=" + blockSize + " splits=" + splits + (window > 0 ? " window=" + window : "")
                    + (withSinks ? " sinks" : "") + (withAlibi ? " alibi" : "");
        }
    }

    /**
     * Varlen decode problems for every backend: decode rows beside empty sequences, drafts and a 16-query chunk (the split-KV
     * path, every dtype, 1..5 splits, MHA / GQA / MQA, a window, sinks, ALiBi); in F16/BF16 a decode row beside chunks of 17,
     * 64 and 200 rows (the paged prefill: 64- and 128-row tiles) and a whole prompt.
     */
    public static List<PackedDecodeSpec> packedDecodeCases() {
        List<PackedDecodeSpec> s = new ArrayList<>();
        int[] lq = {1, 0, 16, 3, 1}, l = {40, 7, 16, 90, 1};
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int splits : new int[] {1, 3, 5}) s.add(new PackedDecodeSpec(dt, 8, 2, 64, lq, l, 16, splits, 0, false, false));
            s.add(new PackedDecodeSpec(dt, 4, 4, 32, lq, l, 8, 2, 9, false, false));                  // MHA, sliding window
            s.add(new PackedDecodeSpec(dt, 4, 1, 128, lq, l, 16, 3, 0, true, false));                 // MQA, sinks
            s.add(new PackedDecodeSpec(dt, 6, 3, 64, new int[] {2, 1, 5}, new int[] {33, 60, 5}, 16, 2, 0, false, true));  // ALiBi
        }
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            s.add(new PackedDecodeSpec(dt, 8, 2, 64, new int[] {1, 200, 17, 0, 64}, new int[] {50, 230, 17, 10, 300}, 16, 1, 0, false, false));
            s.add(new PackedDecodeSpec(dt, 4, 1, 128, new int[] {300, 1}, new int[] {300, 77}, 16, 1, 0, true, false));
            s.add(new PackedDecodeSpec(dt, 4, 2, 80, new int[] {40, 3, 21}, new int[] {100, 3, 21}, 32, 1, 16, false, true));
        }
        return s;
    }

    /**
     * A varlen run: the packed op's out (ΣLq, NH, HS) and lse (NH, ΣLq) against the oracle ({@code run}, lse laid out as the
     * oracle's per-sequence (NH, Lq_b) blocks one after another), and the same queries decoded one sequence at a time by
     * padded ops on the same backend ({@code soloOut}, {@code soloLse}, in the packed layouts) for bit equality.
     */
    public record PackedDecodeRun(Run run, float[] packedLse, float[] soloOut, float[] soloLse) {}

    /**
     * Appends each sequence's first lengths − lq keys with ops of its own, then every sequence's new rows with ONE packed
     * append (checked: the cache holds exactly the sequences' rows afterwards, every other slot still NaN), decodes them all
     * with ONE packed op, and again sequence by sequence with padded ops.
     */
    public static PackedDecodeRun runPackedDecode(Backend be, PackedDecodeSpec s, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int b = s.lengths().length;
        int bs = s.blockSize();
        Pool pool = Pool.of(s.lengths(), bs, seed);
        int maxBlocks = pool.maxBlocks(), numBlocks = pool.numBlocks();
        int[] table = pool.table();
        int rowK = s.nkv() * s.hs(), rowQ = s.nh() * s.hs();
        int[] cu = new int[b + 1];
        for (int i = 0; i < b; i++) cu[i + 1] = cu[i] + s.lq()[i];
        int total = cu[b];
        float[][] kSeq = new float[b][], vSeq = new float[b][];
        for (int i = 0; i < b; i++) {
            kSeq[i] = rounded(s.dtype(), random(rnd, s.lengths()[i] * rowK, 1.5));
            vSeq[i] = rounded(s.dtype(), random(rnd, s.lengths()[i] * rowK, 1.5));
        }
        float[] qAll = rounded(s.dtype(), random(rnd, total * rowQ, 1.5));
        float[] kNew = new float[total * rowK], vNew = new float[total * rowK];
        for (int i = 0; i < b; i++) {
            int before = s.lengths()[i] - s.lq()[i];
            System.arraycopy(kSeq[i], before * rowK, kNew, cu[i] * rowK, s.lq()[i] * rowK);
            System.arraycopy(vSeq[i], before * rowK, vNew, cu[i] * rowK, s.lq()[i] * rowK);
        }
        float scale = (float) (1 / Math.sqrt(s.hs()));
        float[] sinkValues = s.withSinks() ? sinkValues(rnd, s.nh()) : null;
        float[] alibiValues = s.withAlibi() ? alibiSlopes(s.nh()) : null;
        List<Tensor> owned = new ArrayList<>();
        try {
            Tensor kc = poisoned(be, s.dtype(), numBlocks, bs, s.nkv(), s.hs());
            Tensor vc = poisoned(be, s.dtype(), numBlocks, bs, s.nkv(), s.hs());
            owned.addAll(List.of(kc, vc));
            PagedKvCache cache = new PagedKvCache(kc, vc, table, maxBlocks);
            int[] before = new int[b];
            for (int i = 0; i < b; i++) {
                before[i] = s.lengths()[i] - s.lq()[i];
                if (before[i] == 0) continue;
                PagedKvCache row = cache.sequence(i);
                try (Tensor hk = Tensor.of(s.dtype(), Arrays.copyOf(kSeq[i], before[i] * rowK), 1, before[i], s.nkv(), s.hs());
                     Tensor hv = Tensor.of(s.dtype(), Arrays.copyOf(vSeq[i], before[i] * rowK), 1, before[i], s.nkv(), s.hs());
                     Tensor dk = be.upload(hk); Tensor dv = be.upload(hv)) {
                    be.kvAppend(new KvAppendOp(row, new int[] {0}, dk, dv));
                }
            }
            try (Tensor hk = Tensor.of(s.dtype(), kNew, 1, total, s.nkv(), s.hs()); Tensor hv = Tensor.of(s.dtype(), vNew, 1, total, s.nkv(), s.hs());
                 Tensor dk = be.upload(hk); Tensor dv = be.upload(hv)) {
                be.kvAppend(KvAppendOp.packed(cache, before, cu, dk, dv));
            }
            checkCacheRows(download(be, kc), download(be, vc), table, maxBlocks, bs, rowK, kSeq, vSeq, s);

            Tensor sinks = null, alibi = null;
            if (sinkValues != null) try (Tensor h = Tensor.ofFloats(sinkValues, s.nh())) { sinks = be.upload(h); owned.add(sinks); }
            if (alibiValues != null) try (Tensor h = Tensor.ofFloats(alibiValues, s.nh())) { alibi = be.upload(h); owned.add(alibi); }
            Tensor q, out, lse;
            try (Tensor hq = Tensor.of(s.dtype(), qAll, 1, total, s.nh(), s.hs())) { q = be.upload(hq); }
            owned.add(q);
            out = poisoned(be, s.dtype(), 1, total, s.nh(), s.hs());
            lse = poisoned(be, DType.F32, s.nh(), total);
            owned.addAll(List.of(out, lse));
            DecodeOp op = DecodeOp.of(q, cache, s.lengths().clone(), out).lse(lse).scale(scale).splits(s.splits()).window(s.window())
                    .sinks(sinks).alibi(alibi).packed(cu);
            be.decode(op);
            float[] got = download(be, out), gotLse = download(be, lse);

            float[] soloOut = new float[got.length], soloLse = new float[gotLse.length];
            Arrays.fill(soloOut, Float.NaN);
            Arrays.fill(soloLse, Float.NaN);
            for (int i = 0; i < b; i++) {
                int lq = s.lq()[i];
                if (lq == 0) continue;
                try (Tensor o = poisoned(be, s.dtype(), 1, lq, s.nh(), s.hs()); Tensor l = poisoned(be, DType.F32, 1, s.nh(), lq)) {
                    PagedKvCache row = cache.sequence(i);
                    be.decode(DecodeOp.of(q.slice(1, cu[i], cu[i + 1]), row, new int[] {s.lengths()[i]}, o).lse(l).scale(scale)
                            .splits(s.splits()).window(s.window()).sinks(sinks).alibi(alibi));
                    System.arraycopy(download(be, o), 0, soloOut, cu[i] * rowQ, lq * rowQ);
                    float[] ls = download(be, l);
                    for (int h = 0; h < s.nh(); h++) System.arraycopy(ls, h * lq, soloLse, h * total + cu[i], lq);
                }
            }

            double[] refOut = new double[total * rowQ], refLse = new double[s.nh() * total];
            float[] lseBySequence = new float[s.nh() * total];                  // the packed lse in the oracle's order
            double maxV = 0;
            for (int i = 0; i < b; i++) {
                int lq = s.lq()[i], l = s.lengths()[i];
                for (float x : vSeq[i]) maxV = Math.max(maxV, Math.abs(x));
                if (lq == 0) continue;
                AttentionOracle.Result r = AttentionOracle.attention(Arrays.copyOfRange(qAll, cu[i] * rowQ, cu[i + 1] * rowQ),
                        kSeq[i], vSeq[i], lq, s.nh(), s.nkv(), s.hs(), l, "CAUSAL", 0, s.window(), scale, null, BUCKETS, MAX_DISTANCE,
                        false, null, sinkValues, alibiValues);
                System.arraycopy(r.out(), 0, refOut, cu[i] * rowQ, r.out().length);
                System.arraycopy(r.lse(), 0, refLse, cu[i] * s.nh(), r.lse().length);
                for (int h = 0; h < s.nh(); h++) System.arraycopy(gotLse, h * total + cu[i], lseBySequence, cu[i] * s.nh() + h * lq, lq);
            }
            return new PackedDecodeRun(new Run(got, lseBySequence, refOut, refLse, maxV, s + " seed " + seed), gotLse, soloOut, soloLse);
        } finally {
            for (Tensor t : owned) t.close();
        }
    }

    /** The values a dtype stores (the oracle then sees exactly what the backend holds). */
    private static float[] rounded(DType dt, float[] x) {
        try (Tensor t = Tensor.of(dt, x, x.length)) {
            return t.toFloatArray();
        }
    }

    /** After the appends: sequence i's rows 0 .. lengths[i] − 1 hold its keys and values, every other slot is still NaN. */
    private static void checkCacheRows(float[] k, float[] v, int[] table, int maxBlocks, int bs, int rowK, float[][] kSeq, float[][] vSeq,
                                       PackedDecodeSpec s) {
        boolean[] used = new boolean[k.length / rowK];
        for (int i = 0; i < kSeq.length; i++) {
            for (int j = 0; j < s.lengths()[i]; j++) {
                int slot = table[i * maxBlocks + j / bs] * bs + j % bs;
                used[slot] = true;
                for (int e = 0; e < rowK; e++) {
                    if (Float.compare(k[slot * rowK + e], kSeq[i][j * rowK + e]) != 0 || Float.compare(v[slot * rowK + e], vSeq[i][j * rowK + e]) != 0) {
                        throw new AssertionError(s + ": sequence " + i + " row " + j + " element " + e + " of the cache is "
                                + k[slot * rowK + e] + " / " + v[slot * rowK + e] + ", appended " + kSeq[i][j * rowK + e] + " / "
                                + vSeq[i][j * rowK + e]);
                    }
                }
            }
        }
        for (int slot = 0; slot < used.length; slot++) {
            for (int e = 0; !used[slot] && e < rowK; e++) {
                if (!Float.isNaN(k[slot * rowK + e]) || !Float.isNaN(v[slot * rowK + e])) {
                    throw new AssertionError(s + ": slot " + slot + " belongs to no sequence's rows but was written");
                }
            }
        }
    }

    /** Bit equality of a varlen run's packed results with the sequence-by-sequence ones (the ABI's promise). */
    public static void assertPackedEqualsSolo(PackedDecodeRun r) {
        assertPackedEqualsSolo(r, null);
    }

    /**
     * The same where the packed launch and a sequence's own take one path: with {@code spec} given (CUDA) and its longest
     * sequence past {@link DecodeOp#MAX_QUERIES} (the paged prefill), sequences of at most that many queries — which alone
     * take the split-KV decode — are left to the tolerance rule (t4j.h: the launch's Tq picks the path).
     */
    public static void assertPackedEqualsSolo(PackedDecodeRun r, PackedDecodeSpec spec) {
        boolean[] skip = new boolean[r.soloOut().length];
        boolean[] skipLse = new boolean[r.soloLse().length];
        if (spec != null && Arrays.stream(spec.lq()).max().orElse(0) > DecodeOp.MAX_QUERIES) {
            int total = Arrays.stream(spec.lq()).sum(), rowQ = spec.nh() * spec.hs();
            for (int b = 0, at = 0; b < spec.lq().length; at += spec.lq()[b++]) {
                if (spec.lq()[b] > DecodeOp.MAX_QUERIES) continue;
                Arrays.fill(skip, at * rowQ, (at + spec.lq()[b]) * rowQ, true);
                for (int h = 0; h < spec.nh(); h++) Arrays.fill(skipLse, h * total + at, h * total + at + spec.lq()[b], true);
            }
        }
        for (int i = 0; i < r.soloOut().length; i++) {
            if (skip[i]) continue;
            if (Float.floatToRawIntBits(r.run().out()[i]) != Float.floatToRawIntBits(r.soloOut()[i])) {
                throw new AssertionError(r.run().what() + ": packed out[" + i + "] = " + r.run().out()[i] + " but alone "
                        + r.soloOut()[i]);
            }
        }
        for (int i = 0; i < r.soloLse().length; i++) {
            if (skipLse[i]) continue;
            if (Float.floatToRawIntBits(r.packedLse()[i]) != Float.floatToRawIntBits(r.soloLse()[i])) {
                throw new AssertionError(r.run().what() + ": packed lse[" + i + "] = " + r.packedLse()[i] + " but alone " + r.soloLse()[i]);
            }
        }
    }

    // ---- comparisons ---------------------------------------------------------------------------

    /** Unit roundoff of a storage dtype: half an ulp at 1. */
    public static double unitRoundoff(DType dt) {
        return switch (dt) {
            case F32 -> 0x1p-24;
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> throw new IllegalArgumentException(dt.toString());
        };
    }

    /** Rows that see no key: exact zeros and lse −∞ wherever the oracle says so; every element written. */
    public static void emptyRowsAndPoison(Run r) {
        for (int i = 0; i < r.out().length; i++) {
            if (Float.isNaN(r.out()[i])) throw new AssertionError(r.what() + ": out element " + i + " was not written");
        }
        for (int i = 0; i < r.lse().length; i++) {
            if (Float.isNaN(r.lse()[i])) throw new AssertionError(r.what() + ": lse element " + i + " was not written");
            boolean refEmpty = r.refLse()[i] == Double.NEGATIVE_INFINITY;
            boolean gotEmpty = r.lse()[i] == Float.NEGATIVE_INFINITY;
            if (refEmpty != gotEmpty) {
                throw new AssertionError(r.what() + ": lse[" + i + "] = " + r.lse()[i] + " but the oracle says " + r.refLse()[i]);
            }
        }
    }

    /**
     * The CPU twin against the oracle. F32: ‖out − ref‖/‖ref‖ &lt; 1e-5 (the design's fp32 rule).
     * F16/BF16: the twin rounds each softmax weight (relative error ≤ u) before P·V and rounds the
     * output once, so |out − ref| ≤ u·max|v| + u·max|ref| + fp32 noise (1e-5·max|ref|).
     * lse: fp32 sums of exponentials, |lse − ref| ≤ 1e-5·max(1, |ref|).
     */
    public static void assertCpuMatchesOracle(DType dt, Run r) {
        emptyRowsAndPoison(r);
        double maxRef = 0;
        for (double x : r.refOut()) maxRef = Math.max(maxRef, Math.abs(x));
        if (dt == DType.F32) {
            double num = 0;
            double den = 0;
            for (int i = 0; i < r.refOut().length; i++) {
                double d = r.out()[i] - r.refOut()[i];
                num += d * d;
                den += r.refOut()[i] * r.refOut()[i];
            }
            double rel = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
            if (!(rel < 1e-5)) throw new AssertionError(r.what() + ": relative error " + rel + " ≥ 1e-5");
        } else {
            double u = unitRoundoff(dt);
            double bound = u * r.maxAbsV() + u * maxRef + 1e-5 * maxRef;
            for (int i = 0; i < r.refOut().length; i++) {
                double e = Math.abs(r.out()[i] - r.refOut()[i]);
                if (!(e <= bound)) {
                    throw new AssertionError(r.what() + ": out[" + i + "] = " + r.out()[i] + " vs " + r.refOut()[i] + ", error " + e
                            + " > " + bound);
                }
            }
        }
        for (int i = 0; i < r.refLse().length; i++) {
            double ref = r.refLse()[i];
            if (ref == Double.NEGATIVE_INFINITY) continue;
            double e = Math.abs(r.lse()[i] - ref);
            if (!(e <= 1e-5 * Math.max(1, Math.abs(ref)))) {
                throw new AssertionError(r.what() + ": lse[" + i + "] = " + r.lse()[i] + " vs " + ref);
            }
        }
    }
}
