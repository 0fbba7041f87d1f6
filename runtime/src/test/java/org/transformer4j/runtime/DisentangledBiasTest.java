// DisentangledBiasTest — DeBERTa's disentangled attention terms on the CPU backend: the log bucket against
// transformers' values, and the op (packed and padded, both terms or one, key padding, Tq ≠ Tk) against a
// float64 loop written here from DisentangledSelfAttention's gathers; malformed tables are one-line errors.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DisentangledBiasTest {

    private static final CpuBackend CPU = new CpuBackend();

    /**
     * make_log_bucket_position(rel, 256, 512) as transformers computes it: |rel| ≤ 128 keeps rel; beyond,
     * sign · (ceil(log(|rel|/128) / log(511/128) · 127) + 128). Values worked out by hand from that formula
     * (the double logs here are far from any integer boundary): 129 → 129 (0.714 → 1), 200 → 169 (40.94 → 41),
     * 511 → 255 (exactly 127: both logs are of the same float), 512 → 256 (127.18), 1000 → 317 (188.59).
     */
    @Test
    void logBucketsAreTransformersValues() {
        int[][] cases = {{0, 0}, {1, 1}, {-1, -1}, {127, 127}, {128, 128}, {-128, -128}, {129, 129}, {-129, -129}, {200, 169},
                {-200, -169}, {511, 255}, {512, 256}, {1000, 317}};
        for (int[] c : cases) assertEquals(c[1], DisentangledBias.bucket(c[0], 256, 512), "rel " + c[0]);
        for (int rel = -3000; rel <= 3000; rel++) {
            int mid = 128;
            int abs = Math.abs(rel);
            int want = abs <= mid ? rel
                    : (int) Math.signum(rel) * ((int) Math.ceil(Math.log(abs / 128.0) / Math.log(511.0 / 128) * 127) + mid);
            assertEquals(want, DisentangledBias.bucket(rel, 256, 512), "rel " + rel);
        }
        assertEquals(37, DisentangledBias.bucket(37, -1, 512), "no buckets: the distance itself");
        assertEquals(0, DisentangledBias.index(-1000, 256, 256, 512), "clamped below");
        assertEquals(511, DisentangledBias.index(1000, 256, 256, 512), "clamped above");
        assertEquals(15, DisentangledBias.index(40, 8, -1, 16), "no buckets, clamped to 2·span − 1");
    }

    private record Case(int[] lq, int[] lk, boolean packed, int nh, int nkv, int hs, int span, int buckets, int maxPos,
                        boolean c2p, boolean p2c, int[] keyLengths) {}

    @Test
    void packedSequencesAddBothTermsAsTheGathersDo() {
        check(new Case(new int[] {5, 37, 1}, new int[] {5, 37, 1}, true, 4, 2, 16, 8, 16, 64, true, true, null));
    }

    @Test
    void oneTermAlone() {
        check(new Case(new int[] {23}, new int[] {23}, true, 2, 2, 8, 8, 16, 64, true, false, null));
        check(new Case(new int[] {23}, new int[] {23}, true, 2, 2, 8, 8, 16, 64, false, true, null));
    }

    @Test
    void unbucketedDistancesClampToTheSpan() {
        check(new Case(new int[] {30, 12}, new int[] {30, 12}, true, 2, 1, 8, 6, -1, 16, true, true, null));
    }

    @Test
    void paddedLayoutWithKeyPaddingAndMoreKeysThanQueries() {
        check(new Case(new int[] {20, 20}, new int[] {20, 20}, false, 3, 3, 8, 8, 16, 64, true, true, new int[] {20, 13}));
        check(new Case(new int[] {4, 4}, new int[] {19, 19}, false, 2, 2, 8, 8, 16, 64, true, true, null));
    }

    private static void check(Case c) {
        SplittableRandom rnd = new SplittableRandom(7 + c.lq()[0] * 31L + c.nh());
        int n = c.lq().length, tq = max(c.lq()), tk = max(c.lk()), w = 2 * c.span();
        int rowsQ = c.packed() ? sum(c.lq()) : n * tq, rowsK = c.packed() ? sum(c.lk()) : n * tk;
        float[] q = gauss(rnd, rowsQ * c.nh() * c.hs()), k = gauss(rnd, rowsK * c.nkv() * c.hs()), v = gauss(rnd, rowsK * c.nkv() * c.hs());
        float[] c2p = c.c2p() ? gauss(rnd, c.nh() * rowsQ * w) : null, p2c = c.p2c() ? gauss(rnd, c.nh() * rowsK * w) : null;
        float scale = 0.2f;
        try (Tensor qt = c.packed() ? Tensor.ofFloats(q, rowsQ, c.nh(), c.hs()) : Tensor.ofFloats(q, n, tq, c.nh(), c.hs());
             Tensor kt = c.packed() ? Tensor.ofFloats(k, rowsK, c.nkv(), c.hs()) : Tensor.ofFloats(k, n, tk, c.nkv(), c.hs());
             Tensor vt = c.packed() ? Tensor.ofFloats(v, rowsK, c.nkv(), c.hs()) : Tensor.ofFloats(v, n, tk, c.nkv(), c.hs());
             Tensor out = c.packed() ? Tensor.empty(DType.F32, rowsQ, c.nh(), c.hs()) : Tensor.empty(DType.F32, n, tq, c.nh(), c.hs());
             Tensor ct = c2p == null ? null : Tensor.ofFloats(c2p, c.nh(), rowsQ, w);
             Tensor pt = p2c == null ? null : Tensor.ofFloats(p2c, c.nh(), rowsK, w)) {
            int[] cuQ = new int[n + 1], cuK = new int[n + 1];
            for (int b = 0; b < n; b++) {
                cuQ[b + 1] = cuQ[b] + c.lq()[b];
                cuK[b + 1] = cuK[b] + c.lk()[b];
            }
            AttentionOp op = AttentionOp.of(qt, kt, vt, out).scale(scale)
                    .disentangled(new DisentangledBias(ct, pt, c.span(), c.buckets(), c.maxPos()));
            if (c.packed()) op = op.packed(cuQ, cuK);
            if (c.keyLengths() != null) op = op.keyLengths(c.keyLengths());
            CPU.attention(op);
            float[] got = out.toFloatArray();
            double worst = 0;
            int group = c.nh() / c.nkv();
            for (int b = 0; b < n; b++) {
                int q0 = c.packed() ? cuQ[b] : b * tq, k0 = c.packed() ? cuK[b] : b * tk;
                int lq = c.lq()[b], lk = c.keyLengths() == null ? c.lk()[b] : c.keyLengths()[b];
                for (int h = 0; h < c.nh(); h++) {
                    int kh = h / group;
                    for (int i = 0; i < lq; i++) {
                        int p = i + lk - lq;                                          // bottom-right, to the keys left after padding
                        double[] s = new double[lk];
                        double m = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < lk; j++) {
                            double dot = 0;
                            for (int d = 0; d < c.hs(); d++) {
                                dot += (double) q[((q0 + i) * c.nh() + h) * c.hs() + d] * k[((k0 + j) * c.nkv() + kh) * c.hs() + d];
                            }
                            int r = column(p - j, c);
                            double bias = 0;
                            if (c2p != null) bias += c2p[(h * rowsQ + q0 + i) * w + r];          // c2p_att gathered at c2p_pos[i, j]
                            if (p2c != null) bias += p2c[(h * rowsK + k0 + j) * w + r];          // p2c_att[j] at p2c_pos, transposed
                            s[j] = dot * scale + bias;
                            m = Math.max(m, s[j]);
                        }
                        double l = 0;
                        double[] acc = new double[c.hs()];
                        for (int j = 0; j < lk; j++) {
                            double e = Math.exp(s[j] - m);
                            l += e;
                            for (int d = 0; d < c.hs(); d++) acc[d] += e * v[((k0 + j) * c.nkv() + kh) * c.hs() + d];
                        }
                        for (int d = 0; d < c.hs(); d++) {
                            double want = acc[d] / l;
                            worst = Math.max(worst, Math.abs(want - got[((q0 + i) * c.nh() + h) * c.hs() + d]));
                        }
                    }
                }
            }
            assertTrue(worst < 2e-5, c + ": max |CPU − float64| = " + worst);
        }
    }

    /** The gather's column, written from transformers' code: clamp(bucket + span, 0, 2·span − 1), bucket by float64 logs. */
    private static int column(int rel, Case c) {
        int b = rel;
        int mid = c.buckets() / 2;
        if (c.buckets() > 0 && Math.abs(rel) > mid) {
            b = (int) Math.signum(rel) * ((int) Math.ceil(Math.log(Math.abs(rel) / (double) mid)
                    / Math.log((c.maxPos() - 1) / (double) mid) * (mid - 1)) + mid);
        }
        return Math.max(0, Math.min(2 * c.span() - 1, b + c.span()));
    }

    @Test
    void malformedTablesAreOneLineErrors() {
        try (Tensor q = Tensor.empty(DType.F32, 6, 2, 8); Tensor k = Tensor.empty(DType.F32, 6, 2, 8); Tensor v = Tensor.empty(DType.F32, 6, 2, 8);
             Tensor out = Tensor.empty(DType.F32, 6, 2, 8); Tensor bad = Tensor.empty(DType.F32, 2, 5, 16);
             Tensor half = Tensor.empty(DType.BF16, 2, 6, 16)) {
            AttentionOp op = AttentionOp.of(q, k, v, out).packed(new int[] {0, 6}, new int[] {0, 6});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CPU.attention(op.disentangled(new DisentangledBias(bad, null, 8, 16, 64))));
            assertTrue(e.getMessage().contains("c2p has shape (2, 5, 16) but needs (NH, rows, 2·span) = (2, 6, 16)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CPU.attention(op.disentangled(new DisentangledBias(null, half, 8, 16, 64))));
            assertTrue(e.getMessage().contains("p2c"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CPU.attention(op.disentangled(new DisentangledBias(null, null, 8, 16, 64))));
            assertTrue(e.getMessage().contains("neither c2p nor p2c"), e.getMessage());
        }
    }

    private static float[] gauss(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 0.7);
        return a;
    }

    private static int max(int[] a) { return java.util.Arrays.stream(a).max().orElse(0); }

    private static int sum(int[] a) { return java.util.Arrays.stream(a).sum(); }
}
