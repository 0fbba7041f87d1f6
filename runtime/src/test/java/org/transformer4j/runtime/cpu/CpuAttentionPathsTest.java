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

    /**
     * Decode reading K and V where they lie in the paged caches (CpuBackend's fp32 path) gives the bits
     * of decode over each sequence's rows copied out first (the path it replaced, still the scalar
     * one): shuffled, scattered block tables, uneven lengths (one row, partial and whole blocks), GQA,
     * several queries per sequence, split-KV and a sliding window; with enough sequences a task takes
     * a whole sequence, with few a single head.
     */
    @ParameterizedTest(name = "sequences={3} tq={0} splits={1} window={2}")
    @CsvSource({"1, 1, 0, 5", "1, 3, 0, 5", "2, 1, 20, 5", "1, 4, 7, 5", "1, 1, 0, 1", "1, 2, 0, 3", "2, 3, 9, 2"})
    void decodeFromThePagedCachesHasTheBitsOfGatheredRows(int tq, int splits, int window, int sequences) {
        assumeTrue(CpuKernels.simd(), "the paged path needs the Vector API");
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int nh = 4, nkv = 2, hs = 32, bs = 16, maxBlocks = 4;
        int[] lengths = java.util.Arrays.copyOf(new int[] {33, 17, 48, 1, 64}, sequences);   // few sequences: a task per head
        int batch = lengths.length;
        int numBlocks = batch * maxBlocks + 3;
        int width = nkv * hs;
        float[] kc = random(rnd, numBlocks * bs * width), vc = random(rnd, numBlocks * bs * width);
        java.util.List<Integer> ids = new java.util.ArrayList<>();
        for (int i = 0; i < numBlocks; i++) ids.add(i);
        java.util.Collections.shuffle(ids, new java.util.Random(seed));
        int[] table = new int[batch * maxBlocks];
        for (int i = 0; i < table.length; i++) table[i] = ids.get(i);
        float[][] keys = new float[batch][], values = new float[batch][];
        for (int b = 0; b < batch; b++) {
            keys[b] = new float[lengths[b] * width];
            values[b] = new float[lengths[b] * width];
            for (int j = 0; j < lengths[b]; j++) {
                int slot = table[b * maxBlocks + j / bs] * bs + j % bs;
                System.arraycopy(kc, slot * width, keys[b], j * width, width);
                System.arraycopy(vc, slot * width, values[b], j * width, width);
            }
        }
        float[] q = random(rnd, batch * tq * nh * hs);
        float scale = (float) (1 / Math.sqrt(hs));
        float[] want = new float[q.length], got = new float[q.length];
        float[] wantLse = new float[batch * nh * tq], gotLse = new float[batch * nh * tq];
        java.util.Arrays.fill(got, Float.NaN);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            java.lang.foreign.MemorySegment ks = arena.allocate(4L * kc.length), vs = arena.allocate(4L * vc.length);
            java.lang.foreign.MemorySegment.copy(kc, 0, ks, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, kc.length);
            java.lang.foreign.MemorySegment.copy(vc, 0, vs, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, vc.length);
            CpuAttention.decode(batch, tq, nh, nkv, hs, lengths, true, window, scale, null, AttentionOracle::t5Bucket, splits,
                    q, keys, values, want, wantLse);
            CpuAttention.decode(batch, tq, nh, nkv, hs, lengths, true, window, scale, null, AttentionOracle::t5Bucket, splits,
                    q, null, null, new CpuAttention.Paged(ks, vs, table, maxBlocks, bs), got, gotLse);
        }
        for (int e = 0; e < want.length; e++) {
            assertTrue(Float.floatToRawIntBits(want[e]) == Float.floatToRawIntBits(got[e]),
                    "seed " + seed + ": output " + e + " " + got[e] + " from the caches vs " + want[e] + " from gathered rows");
        }
        for (int e = 0; e < wantLse.length; e++) {
            assertTrue(Float.floatToRawIntBits(wantLse[e]) == Float.floatToRawIntBits(gotLse[e]), "seed " + seed + ": lse " + e);
        }
        double norm = 0;
        for (float x : want) norm += Math.abs(x);
        assertTrue(norm > 0, "seed " + seed + ": every output is zero");
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        return x;
    }
}
