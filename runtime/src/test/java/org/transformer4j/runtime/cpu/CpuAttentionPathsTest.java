// CpuAttentionPathsTest — CpuAttention.prefill on both of its paths (Vector API and scalar loops)
// against AttentionOracle: packed sequences of uneven lengths, every mask, GQA, T5 bias, and head
// sizes that are not a whole number of vectors (which AttentionOp does not allow, prefill does).
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.transformer4j.runtime.reference.AttentionOracle;

class CpuAttentionPathsTest {

    @ParameterizedTest(name = "simd={0} hs={1} mask={2} t5={3}")
    @CsvSource({
        "true, 32, 0, false", "true, 40, 1, false", "true, 64, 2, true", "true, 20, 0, true", "true, 3, 1, false",
        "false, 32, 0, false", "false, 40, 1, false", "false, 64, 2, true", "false, 20, 0, true",
    })
    void prefillMatchesTheOracle(boolean simd, int hs, int mask, boolean t5) {
        if (simd) assumeTrue(CpuKernels.simdAvailable(), "the Vector API (jdk.incubator.vector) is not available");
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int nh = 4, nkv = 2, batch = 5;
        int[] len = {1, 17, 33, 6, 50};   // self attention: lq = lk per sequence
        int[] start = new int[batch];
        int rows = 0;
        for (int b = 0; b < batch; b++) {
            start[b] = rows;
            rows += len[b];
        }
        int[] prefix = mask == CpuAttention.MASK_PREFIX_LM ? new int[] {1, 5, 0, 6, 20} : null;
        float[] q = random(rnd, rows * nh * hs), k = random(rnd, rows * nkv * hs), v = random(rnd, rows * nkv * hs);
        int numBuckets = 8, maxDistance = 20;
        float[] table = t5 ? random(rnd, numBuckets * nh) : null;
        float scale = (float) (1 / Math.sqrt(hs));
        float[] out = new float[rows * nh * hs];
        java.util.Arrays.fill(out, Float.NaN);   // poison: every element must be written
        float[] lse = new float[nh * rows];
        long[] lseBase = new long[batch];
        for (int b = 0; b < batch; b++) lseBase[b] = start[b];

        boolean saved = CpuKernels.simd();
        CpuKernels.setSimd(simd);
        try {
            CpuAttention.prefill(batch, nh, nkv, hs, start, len, start, len, mask, prefix, scale,
                    t5 ? new CpuAttention.Bias(table, numBuckets, maxDistance, true) : null, AttentionOracle::t5Bucket,
                    null, q, k, v, out, lse, lseBase, rows);
        } finally {
            CpuKernels.setSimd(saved);
        }

        String maskName = new String[] {"NONE", "CAUSAL", "PREFIX_LM"}[mask];
        double worst = 0;
        for (int b = 0; b < batch; b++) {
            float[] qb = java.util.Arrays.copyOfRange(q, start[b] * nh * hs, (start[b] + len[b]) * nh * hs);
            float[] kb = java.util.Arrays.copyOfRange(k, start[b] * nkv * hs, (start[b] + len[b]) * nkv * hs);
            float[] vb = java.util.Arrays.copyOfRange(v, start[b] * nkv * hs, (start[b] + len[b]) * nkv * hs);
            AttentionOracle.Result ref = AttentionOracle.attention(qb, kb, vb, len[b], nh, nkv, hs, len[b], maskName,
                    prefix == null ? 0 : prefix[b], scale, table, numBuckets, maxDistance, true);
            for (int e = 0; e < ref.out().length; e++) {
                double got = out[start[b] * nh * hs + e];
                // fp32 sums of len ≤ 50 products of values in [-1, 1]: far inside 1e-5 of the outputs' scale (≤ 1)
                assertTrue(Math.abs(got - ref.out()[e]) <= 1e-5, "seed " + seed + ", sequence " + b + ", element " + e
                        + ": " + got + " vs oracle " + ref.out()[e]);
                worst = Math.max(worst, Math.abs(got - ref.out()[e]));
            }
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < len[b]; i++) {
                    double got = lse[(int) (lseBase[b] + (long) h * rows + i)];
                    double want = ref.lse()[h * len[b] + i];
                    assertTrue(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), "seed " + seed + ": lse " + got + " vs " + want);
                }
            }
        }
        assertTrue(worst > 0 || hs < 4, "seed " + seed + ": bit-exact against a float64 oracle is suspicious");
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        return x;
    }
}
