// VocabOpsTest — the CPU twins of softmax / log-softmax, cross-entropy and sampling
// against float64 references: sums and losses to fp32 accuracy, argmax exactness (ties to the
// smallest id), top-k / top-p / min_p never choosing an excluded id, seeded reproducibility, and a
// chi-square test that sampled frequencies follow the (filtered) softmax on a small vocabulary,
// min_p after top-p as transformers orders them.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.cpu.Activations;
import org.transformer4j.runtime.reference.Oracle;
import org.transformer4j.runtime.cpu.Philox;

class VocabOpsTest {

    private final CpuBackend cpu = new CpuBackend();

    @Test
    void philoxMatchesTheRandom123KnownAnswers() {
        // Random123's kat_vectors for philox4x32_10, first output word.
        assertEquals(0x6627e8d5L, Philox.x0(0L, 0, 0, 0, 0));
        assertEquals(0x408f276dL, Philox.x0(0xffffffffffffffffL, -1, -1, -1, -1));
        assertEquals(0xd16cfe09L, Philox.x0(0x299f31d0a4093822L, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344));
    }

    @Test
    void erfMatchesKnownValues() {
        double[][] v = {{0, 0}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527},
                        {3.5, 0.9999992569016276}, {-1.5, -0.9661051464753108}, {7, 1}};
        for (double[] p : v) assertEquals(p[1], Activations.erf(p[0]), 1e-14, "erf(" + p[0] + ")");
    }

    @Test
    void softmaxAndLogSoftmaxMatchTheOracle() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int cols : new int[] {1, 7, 1000}) {
            int rows = 3;
            try (Tensor x = Tensor.ofFloats(LinearOpTest.random(rnd, rows * cols, 8), rows, cols);
                 Tensor s = Tensor.empty(DType.F32, rows, cols); Tensor l = Tensor.empty(DType.F32, rows, cols)) {
                cpu.softmax(SoftmaxOp.softmax(x, s).scale(0.5f));
                cpu.softmax(SoftmaxOp.logSoftmax(x, l));
                double[] rs = Oracle.softmax(rows, cols, x.toFloatArray(), 0.5, false);
                double[] rl = Oracle.softmax(rows, cols, x.toFloatArray(), 1, true);
                float[] gs = s.toFloatArray(), gl = l.toFloatArray();
                for (int i = 0; i < rs.length; i++) {
                    assertEquals(rs[i], gs[i], 1e-6 * Math.max(rs[i], 1e-3) + 1e-9, "softmax " + i);
                    assertEquals(rl[i], gl[i], 2e-5 * Math.max(1, Math.abs(rl[i])), "log-softmax " + i);
                }
            }
        }
    }

    @Test
    void crossEntropyPerPositionMeanAndPerplexityWithIgnoreIndex() {
        SplittableRandom rnd = new SplittableRandom(9);
        int rows = 6, v = 50;
        int[] targets = {3, -100, 49, 0, -100, 17};
        try (Tensor logits = Tensor.ofFloats(LinearOpTest.random(rnd, rows * v, 4), 2, 3, v);
             Tensor t = Tensor.ofInts(targets, 2, 3); Tensor losses = Tensor.empty(DType.F32, 2, 3)) {
            CrossEntropyOp.Result res = cpu.crossEntropy(CrossEntropyOp.of(logits, t, losses));
            double[] ref = Oracle.crossEntropy(rows, v, logits.toFloatArray(), targets, -100);
            float[] got = losses.toFloatArray();
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                assertEquals(ref[r], got[r], 1e-5 * Math.max(1, ref[r]), "loss at row " + r);
                sum += ref[r];
            }
            assertEquals(4, res.counted());
            assertEquals(sum / 4, res.meanLoss(), 1e-5);
            assertEquals(Math.exp(sum / 4), res.perplexity(), 1e-4 * Math.exp(sum / 4));
        }
        // A caller-chosen ignore index works the same way.
        try (Tensor logits = Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3); Tensor t = Tensor.ofInts(new int[] {2, 0}, 2);
             Tensor losses = Tensor.empty(DType.F32, 2)) {
            CrossEntropyOp.Result res = cpu.crossEntropy(CrossEntropyOp.of(logits, t, losses).ignoreIndex(0));
            assertEquals(1, res.counted());
            assertEquals(0f, losses.toFloatArray()[1]);
        }
    }

    private int[] sample(float[] logits, int rows, int v, SampleOp.Shape unused, java.util.function.UnaryOperator<SampleOp> opts) {
        try (Tensor x = Tensor.ofFloats(logits, rows, v); Tensor ids = Tensor.empty(DType.I32, rows)) {
            cpu.sample(opts.apply(SampleOp.greedy(x, ids)));
            return ids.toIntArray();
        }
    }

    @Test
    void argmaxIsExactAndTiesGoToTheSmallestId() {
        float[] logits = {0, 5, 5, -1, /* row 2 */ -3, -2, -2.5f, -2};
        try (Tensor x = Tensor.ofFloats(logits, 2, 4); Tensor ids = Tensor.empty(DType.I32, 2); Tensor lp = Tensor.empty(DType.F32, 2)) {
            cpu.sample(SampleOp.greedy(x, ids).logprobs(lp));
            assertArrayEquals(new int[] {1, 1}, ids.toIntArray());
            double[] lsm = Oracle.softmax(2, 4, logits, 1, true);
            assertEquals(lsm[1], lp.toFloatArray()[0], 1e-6);
            assertEquals(lsm[5], lp.toFloatArray()[1], 1e-6);
        }
        SplittableRandom rnd = new SplittableRandom(1);
        int rows = 20, v = 5000;
        float[] big = LinearOpTest.random(rnd, rows * v, 10);
        int[] got = sample(big, rows, v, null, op -> op);
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int i = 1; i < v; i++) if (big[r * v + i] > big[r * v + best]) best = i;
            assertEquals(best, got[r], "row " + r);
        }
    }

    @Test
    void topKAndTopPNeverChooseAnExcludedId() {
        SplittableRandom rnd = new SplittableRandom(21);
        int rows = 64, v = 300;
        float[] logits = LinearOpTest.random(rnd, rows * v, 3);
        int[][] ks = {{5, 100}, {0, 90}, {40, 50}, {1, 100}};  // (top-k, top-p %)
        for (int[] kp : ks) {
            float p = kp[1] / 100f;
            for (long seed = 0; seed < 5; seed++) {
                long s = seed;
                int[] ids = sample(logits, rows, v, null, op -> {
                    SampleOp o = new SampleOp(op.logits(), 0.8f, 0, 1f, s, 0, op.ids(), null).topP(p);
                    return kp[0] > 0 ? o.topK(kp[0]) : o;
                });
                for (int r = 0; r < rows; r++) {
                    boolean[] keep = Oracle.kept(Arrays.copyOfRange(logits, r * v, (r + 1) * v), 0.8, kp[0], p);
                    assertTrue(keep[ids[r]], "top-k " + kp[0] + " top-p " + p + " seed " + s + " row " + r + " chose excluded id " + ids[r]);
                }
            }
        }
    }

    @Test
    void minPNeverChoosesAnExcludedId() {
        SplittableRandom rnd = new SplittableRandom(22);
        int rows = 64, v = 300;
        float[] logits = LinearOpTest.random(rnd, rows * v, 3);
        float[][] cases = {{0, 1f, 0.05f}, {0, 1f, 0.5f}, {40, 0.9f, 0.2f}, {0, 0.95f, 1f}};  // (top-k, top-p, min-p)
        for (float[] c : cases) {
            for (long seed = 0; seed < 5; seed++) {
                long s = seed;
                int[] ids = sample(logits, rows, v, null, op -> {
                    SampleOp o = new SampleOp(op.logits(), 0.8f, 0, 1f, s, 0, op.ids(), null).topP(c[1]).minP(c[2]);
                    return c[0] > 0 ? o.topK((int) c[0]) : o;
                });
                for (int r = 0; r < rows; r++) {
                    boolean[] keep = Oracle.kept(Arrays.copyOfRange(logits, r * v, (r + 1) * v), 0.8, (int) c[0], c[1], c[2]);
                    assertTrue(keep[ids[r]], Arrays.toString(c) + " seed " + s + " row " + r + " chose excluded id " + ids[r]);
                }
            }
        }
    }

    @Test
    void minPOneKeepsTheLargestLogitsOnlyAndIgnoresGreedy() {
        float[] logits = {0.5f, 3f, -1f, 3f, 2.9f};
        for (long offset = 0; offset < 50; offset++) {
            long o = offset;
            int id = sample(logits, 1, 5, null, op -> SampleOp.sample(op.logits(), 1.3f, 9, op.ids()).minP(1f).offset(o))[0];
            assertTrue(id == 1 || id == 3, "offset " + o + ": " + id);
        }
        assertEquals(1, sample(logits, 1, 5, null, op -> SampleOp.greedy(op.logits(), op.ids()).minP(0.99f))[0], "argmax, ties to the smaller id");
    }

    @Test
    void sameSeedAndOffsetSameIdsOtherwiseFresh() {
        SplittableRandom rnd = new SplittableRandom(4);
        int rows = 32, v = 100;
        float[] logits = LinearOpTest.random(rnd, rows * v, 1);
        int[] a = sample(logits, rows, v, null, op -> new SampleOp(op.logits(), 1f, 0, 1f, 42, 7, op.ids(), null));
        int[] b = sample(logits, rows, v, null, op -> new SampleOp(op.logits(), 1f, 0, 1f, 42, 7, op.ids(), null));
        int[] c = sample(logits, rows, v, null, op -> new SampleOp(op.logits(), 1f, 0, 1f, 42, 8, op.ids(), null));
        int[] d = sample(logits, rows, v, null, op -> new SampleOp(op.logits(), 1f, 0, 1f, 43, 7, op.ids(), null));
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c), "another offset draws other numbers");
        assertNotEquals(Arrays.toString(a), Arrays.toString(d), "another seed draws other numbers");
    }

    /** The 0.999 quantiles of χ² with 1..5 degrees of freedom. */
    private static final double[] CHI2_999 = {Double.NaN, 10.83, 13.82, 16.27, 18.47, 20.52};

    /**
     * 40,000 draws (one per offset) from a 6-id vocabulary, unfiltered, with top-k and with top-p.
     * Pearson's statistic against the expected counts of the renormalised kept set, compared with
     * the 0.999 quantile of χ² with (kept − 1) degrees of freedom: a correct sampler fails about
     * once in a thousand seeds; the seed is fixed, so the test is deterministic.
     */
    @Test
    void frequenciesFollowTheFilteredSoftmax() {
        float[] logits = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.5f};
        float temperature = 0.7f;
        check(logits, temperature, 0, 1f);
        check(logits, temperature, 4, 1f);      // keeps ids 3, 5, 0, 1
        check(logits, temperature, 0, 0.8f);    // keeps the most likely ids until their mass reaches 0.8
        check(logits, temperature, 0, 1f, 0.2f);     // min_p: probability ≥ 0.2 · the largest keeps ids 3, 5, 0
        check(logits, temperature, 5, 0.95f, 0.1f);  // all three filters
    }

    /**
     * Probabilities 0.5, 0.2, 0.1, 0.1, 0.1 with top-p 0.6 and min-p 0.3: transformers' order (top-p, then min-p)
     * keeps ids 0 and 1 (0.5 + 0.2 reaches 0.6; both are ≥ 0.15); vLLM's (min-p first, then top-p over the
     * renormalised 0.71 / 0.29) would keep id 0 alone. The draws must follow 5 : 2 over ids 0 and 1.
     */
    @Test
    void minPComesAfterTopPAsTransformersOrdersThem() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.2), (float) Math.log(0.1), (float) Math.log(0.1), (float) Math.log(0.1)};
        boolean[] keep = Oracle.kept(logits, 1, 0, 0.6, 0.3);
        assertArrayEquals(new boolean[] {true, true, false, false, false}, keep);
        check(logits, 1f, 0, 0.6f, 0.3f);
    }

    private void check(float[] logits, float temperature, int k, float p) {
        check(logits, temperature, k, p, 0f);
    }

    private void check(float[] logits, float temperature, int k, float p, float minP) {
        int v = logits.length, n = 40_000;
        boolean[] keep = Oracle.kept(logits, temperature, k, p, minP);
        int kept = 0;
        for (boolean b : keep) kept += b ? 1 : 0;
        assertTrue(kept >= 2 && kept < CHI2_999.length + 1, "the test needs 2..6 kept ids, got " + kept);
        double critical = CHI2_999[kept - 1];
        double z = 0;
        for (int i = 0; i < v; i++) if (keep[i]) z += Math.exp(logits[i] / temperature);
        long[] counts = new long[v];
        try (Tensor x = Tensor.ofFloats(logits, 1, v); Tensor ids = Tensor.empty(DType.I32, 1)) {
            for (int draw = 0; draw < n; draw++) {
                SampleOp op = new SampleOp(x, temperature, k, p, 2024, draw, ids, null).minP(minP);
                cpu.sample(op);
                counts[ids.toIntArray()[0]]++;
            }
        }
        double chi2 = 0;
        for (int i = 0; i < v; i++) {
            if (!keep[i]) {
                assertEquals(0, counts[i], "id " + i + " is excluded by top-k " + k + ", top-p " + p + ", min-p " + minP);
                continue;
            }
            double expected = n * Math.exp(logits[i] / temperature) / z;
            chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        assertTrue(chi2 < critical, "chi-square " + chi2 + " ≥ " + critical + " (top-k " + k + ", top-p " + p + ", min-p " + minP + ") for counts "
                + Arrays.toString(counts));
    }
}
