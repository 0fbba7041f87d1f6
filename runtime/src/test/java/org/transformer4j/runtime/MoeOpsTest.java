// MoeOpsTest — the CPU twin of the mixture-of-experts ops against float64 arithmetic written here from
// transformers' routers (softmax over the experts, top-k, renormalization; expert outputs summed by
// weight), plus the layout rules the CUDA kernels share (ties to the lower id, slots in token order).
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.transformer4j.runtime.reference.Oracle;

class MoeOpsTest {

    private final CpuBackend cpu = new CpuBackend();

    /** Float64 routing of one row: indices by falling probability, ties to the lower id; weights alongside. */
    static double[][] route64(float[] logits, int row, int e, int k, boolean renormalize) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < e; i++) max = Math.max(max, logits[row * e + i]);
        double[] p = new double[e];
        double sum = 0;
        for (int i = 0; i < e; i++) sum += p[i] = Math.exp(logits[row * e + i] - max);
        for (int i = 0; i < e; i++) p[i] /= sum;
        Integer[] order = new Integer[e];
        for (int i = 0; i < e; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i));
        double[] ids = new double[k], w = new double[k];
        double total = 0;
        for (int j = 0; j < k; j++) {
            ids[j] = order[j];
            total += w[j] = p[order[j]];
        }
        if (renormalize) for (int j = 0; j < k; j++) w[j] /= total;
        return new double[][] {ids, w};
    }

    /** Logits whose probabilities are at least ~1e-3 apart (distinct ranks in fp32 and float64). */
    static float[] spacedLogits(SplittableRandom rnd, int t, int e) {
        float[] v = new float[t * e];
        for (int r = 0; r < t; r++) {
            List<Integer> perm = new ArrayList<>();
            for (int i = 0; i < e; i++) perm.add(i);
            java.util.Collections.shuffle(perm, new java.util.Random(rnd.nextLong()));
            for (int i = 0; i < e; i++) v[r * e + i] = (float) (perm.get(i) * 0.05 + rnd.nextDouble() * 0.01);
        }
        return v;
    }

    @ParameterizedTest(name = "T={0} E={1} k={2} renormalize={3} {4}")
    @CsvSource({"0, 4, 2, true, F32", "1, 8, 2, true, BF16", "37, 8, 2, false, F16", "300, 64, 8, true, F32", "19, 128, 8, false, BF16",
        "5, 4, 4, true, F32", "9, 3, 1, false, F32"})
    void routeMatchesFloat64AndSortsByExpert(int t, int e, int k, boolean renormalize, DType dt) {
        SplittableRandom rnd = new SplittableRandom(31L * t + e);
        float[] raw = spacedLogits(rnd, t, e);
        try (Tensor logits = Tensor.of(dt, raw, t, e); MoeRouting r = MoeRouting.allocate(cpu, t, e, k)) {
            float[] lf = logits.toFloatArray();                      // as stored (rounded to dt)
            cpu.moeRoute(new MoeRouteOp(logits, k, renormalize, r));
            int[] ids = r.ids().toIntArray(), offsets = r.offsets().toIntArray(), sorted = r.sortedTokens().toIntArray();
            int[] slots = r.slots().toIntArray();
            float[] w = r.weights().toFloatArray();
            int[] count = new int[e];
            for (int i = 0; i < t; i++) {
                double[][] ref = route64(lf, i, e, k, renormalize);
                for (int j = 0; j < k; j++) {
                    assertEquals((int) ref[0][j], ids[i * k + j], "token " + i + " choice " + j);
                    assertEquals(ref[1][j], w[i * k + j], 2e-6 * Math.max(1, ref[1][j]), "weight of token " + i + " choice " + j);
                    count[ids[i * k + j]]++;
                }
            }
            assertEquals(0, offsets[0]);
            for (int x = 0; x < e; x++) assertEquals(count[x], offsets[x + 1] - offsets[x], "expert " + x + "'s slots");
            // Within an expert, slots follow (t, j) order; each slot names its token and is named by one choice.
            int[] seen = new int[t * k];
            Arrays.fill(seen, -1);
            int[] lastChoice = new int[e];
            Arrays.fill(lastChoice, -1);
            for (int c = 0; c < t * k; c++) {
                int x = ids[c], slot = slots[c];
                assertTrue(slot >= offsets[x] && slot < offsets[x + 1], "choice " + c + " lies in expert " + x + "'s range");
                assertEquals(c / k, sorted[slot], "sortedTokens[" + slot + "]");
                assertEquals(-1, seen[slot], "slot " + slot + " taken twice");
                seen[slot] = c;
                assertTrue(slot > lastChoice[x], "expert " + x + "'s slots in token order");
                lastChoice[x] = slot;
            }
        }
    }

    @Test
    void routeBreaksTiesTowardTheLowerExpert() {
        float[] logits = {1f, 2f, 2f, 0f, 2f, 1f};                  // experts 1, 2 and 4 tie
        try (Tensor l = Tensor.ofFloats(logits, 1, 6); MoeRouting r = MoeRouting.allocate(cpu, 1, 6, 3)) {
            cpu.moeRoute(new MoeRouteOp(l, 3, false, r));
            assertArrayEquals(new int[] {1, 2, 4}, r.ids().toIntArray());
        }
    }

    @Test
    void routeRefusesBadArguments() {
        try (Tensor l = Tensor.ofFloats(new float[12], 3, 4); MoeRouting r = MoeRouting.allocate(cpu, 3, 4, 2);
             MoeRouting small = MoeRouting.allocate(cpu, 2, 4, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.moeRoute(new MoeRouteOp(l, 5, true, r)));
            assertTrue(e.getMessage().contains("topK = 5"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.moeRoute(new MoeRouteOp(l, 2, true, small)));
            assertTrue(e.getMessage().contains("ids must have shape (3, 2)"), e.getMessage());
        }
    }

    // ---- DeepSeek's routers (ABI 18) ----

    /**
     * Float64 DeepSeek routing of one row, written from transformers' DeepseekV2Moe.route_tokens_to_experts and
     * DeepseekV3TopkRouter: scores (softmax or sigmoid), choices = scores + bias; with groups, group scores
     * (V2: max; V3: sum of the top 2), the topkGroups best kept (ties: the lower group), masked_fill(0.0) elsewhere;
     * top-k of the choices (ties: the lower id); weights = the masked choices (softmax) or the unbiased scores
     * (sigmoid), / (sum (+ 1e-20 with sigmoid)) when renormalized, × scale. Returns {ids, weights, choices}.
     */
    static double[][] deepSeek64(float[] logits, int row, int e, int k, boolean renormalize, boolean sigmoid, float[] bias,
                                 int groups, int topkGroups, double scale) {
        double[] s = new double[e];
        if (sigmoid) {
            for (int i = 0; i < e; i++) s[i] = 1 / (1 + Math.exp(-(double) logits[row * e + i]));
        } else {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < e; i++) max = Math.max(max, logits[row * e + i]);
            for (int i = 0; i < e; i++) sum += s[i] = Math.exp(logits[row * e + i] - max);
            for (int i = 0; i < e; i++) s[i] /= sum;
        }
        double[] choice = new double[e];
        for (int i = 0; i < e; i++) choice[i] = s[i] + (bias == null ? 0 : bias[i]);
        if (groups > 1) {
            int g = e / groups;
            double[] gs = new double[groups];
            for (int q = 0; q < groups; q++) {
                double[] v = Arrays.copyOfRange(choice, q * g, (q + 1) * g);
                Arrays.sort(v);
                gs[q] = sigmoid ? v[g - 1] + v[g - 2] : v[g - 1];
            }
            Integer[] go = new Integer[groups];
            for (int q = 0; q < groups; q++) go[q] = q;
            Arrays.sort(go, Comparator.<Integer>comparingDouble(q -> -gs[q]).thenComparingInt(q -> q));
            boolean[] kept = new boolean[groups];
            for (int j = 0; j < topkGroups; j++) kept[go[j]] = true;
            for (int i = 0; i < e; i++) if (!kept[i / g]) choice[i] = 0.0;
        }
        Integer[] order = new Integer[e];
        for (int i = 0; i < e; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -choice[i]).thenComparingInt(i -> i));
        double[] ids = new double[k], w = new double[k];
        double total = 0;
        for (int j = 0; j < k; j++) {
            ids[j] = order[j];
            total += w[j] = sigmoid ? s[order[j]] : choice[order[j]];
        }
        for (int j = 0; j < k; j++) {
            if (renormalize) w[j] /= total + (sigmoid ? 1e-20 : 0);
            w[j] *= scale;
        }
        return new double[][] {ids, w, choice};
    }

    /**
     * Logits in ±3 (spaced as {@link #spacedLogits}, so sigmoid scores at least ~1e-3 apart) and, when asked, biases on a
     * shuffled grid 0.01 apart plus noise. Biased choices and group scores are continuous, not spaced: a gap within fp32
     * noise is possible in principle; with the fixed seeds here fp32 and float64 pick alike (a near tie would show as a
     * mismatch naming its token).
     */
    static float[][] deepSeekInputs(SplittableRandom rnd, int t, int e, boolean bias) {
        float[] l = spacedLogits(rnd, t, e);
        for (int i = 0; i < l.length; i++) l[i] = l[i] * 6f / (0.05f * e) - 3f;
        if (!bias) return new float[][] {l, null};
        float[] b = new float[e];
        List<Integer> perm = new ArrayList<>();
        for (int i = 0; i < e; i++) perm.add(i);
        java.util.Collections.shuffle(perm, new java.util.Random(rnd.nextLong()));
        for (int i = 0; i < e; i++) b[i] = (float) ((perm.get(i) - e / 2) * 0.01 + rnd.nextDouble() * 0.001);
        return new float[][] {l, b};
    }

    /** The CPU router against {@link #deepSeek64}: ids exactly, weights within 2e-6 relative; the layout's counts. */
    private void assertDeepSeekRoute(int t, int e, int k, boolean renormalize, boolean sigmoid, boolean withBias, int groups,
                                     int topkGroups, float scale, DType dt, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] in = deepSeekInputs(rnd, t, e, withBias);
        try (Tensor logits = Tensor.of(dt, in[0], t, e); Tensor bias = in[1] == null ? null : Tensor.ofFloats(in[1], e);
             MoeRouting r = MoeRouting.allocate(cpu, t, e, k)) {
            float[] lf = logits.toFloatArray();
            MoeRouteOp op = new MoeRouteOp(logits, k, renormalize, r).groups(groups, topkGroups).scale(scale);
            cpu.moeRoute(sigmoid ? op.sigmoid(bias) : op);
            int[] ids = r.ids().toIntArray(), offsets = r.offsets().toIntArray();
            float[] w = r.weights().toFloatArray();
            int[] count = new int[e];
            for (int i = 0; i < t; i++) {
                double[][] ref = deepSeek64(lf, i, e, k, renormalize, sigmoid, in[1], groups, topkGroups, scale);
                for (int j = 0; j < k; j++) {
                    assertEquals((int) ref[0][j], ids[i * k + j], "token " + i + " choice " + j);
                    assertEquals(ref[1][j], w[i * k + j], 2e-6 * Math.max(1, Math.abs(ref[1][j])), "weight of token " + i + " choice " + j);
                    count[ids[i * k + j]]++;
                }
            }
            for (int x = 0; x < e; x++) assertEquals(count[x], offsets[x + 1] - offsets[x], "expert " + x + "'s slots");
        }
    }

    @ParameterizedTest(name = "V2 T={0} E={1} k={2} groups {3}/{4} renormalize={5} scale {6} {7}")
    @CsvSource({"37, 160, 6, 8, 3, false, 16, F32", "9, 160, 6, 8, 3, false, 16, BF16", "11, 64, 6, 8, 3, false, 1, F16",
        "13, 64, 6, 1, 1, false, 16, F32", "7, 256, 8, 8, 4, true, 2.5, F32", "5, 64, 4, 8, 8, false, 1, BF16"})
    void deepSeekV2SoftmaxRoutingMatchesFloat64(int t, int e, int k, int groups, int topkGroups, boolean renormalize, float scale, DType dt) {
        assertDeepSeekRoute(t, e, k, renormalize, false, false, groups, topkGroups, scale, dt, 7L * t + e + groups);
    }

    @ParameterizedTest(name = "V3 T={0} E={1} k={2} groups {3}/{4} renormalize={5} scale {6} bias={7} {8}")
    @CsvSource({"17, 256, 8, 8, 4, true, 2.5, true, F32", "9, 256, 8, 8, 4, true, 2.5, true, BF16", "12, 64, 6, 8, 3, false, 1, true, F16",
        "10, 64, 8, 8, 4, true, 1.5, false, F32", "6, 64, 8, 1, 1, true, 2.5, true, F32", "8, 64, 7, 4, 3, false, 1, true, F32",
        "3, 1024, 32, 32, 17, true, 2.5, true, F32"})
    void deepSeekV3SigmoidRoutingMatchesFloat64(int t, int e, int k, int groups, int topkGroups, boolean renormalize, float scale,
                                                boolean bias, DType dt) {
        assertDeepSeekRoute(t, e, k, renormalize, true, bias, groups, topkGroups, scale, dt, 11L * t + e + groups);
    }

    // ---- ERNIE 4.5's router: softmax scores with a correction bias for the choice ----

    /**
     * Float64 ERNIE 4.5 routing of one row, written from transformers' Ernie4_5_MoeSparseMoeBlock.forward (not from
     * {@link #deepSeek64}): routing_weights = softmax(router_logits); selected = topk(moe_statics(routing_weights)), i.e. of
     * the softmax plus e_score_correction_bias (ties: the lower id here); weights = gather(routing_weights, selected), the
     * unbiased softmax; / clamp(sum, min = norm_min). The library divides by the plain sum: the clamp only matters when the
     * picked softmax scores sum below norm_min (1e-12), which no input here comes near (asserted). Returns {ids, weights}.
     */
    static double[][] ernie64(float[] logits, int row, int e, int k, float[] bias, double normMin) {
        double[] p = new double[e];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < e; i++) max = Math.max(max, logits[row * e + i]);
        for (int i = 0; i < e; i++) sum += p[i] = Math.exp(logits[row * e + i] - max);
        for (int i = 0; i < e; i++) p[i] /= sum;
        Integer[] order = new Integer[e];
        for (int i = 0; i < e; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -(p[i] + bias[i])).thenComparingInt(i -> i));
        double[] ids = new double[k], w = new double[k];
        double picked = 0;
        for (int j = 0; j < k; j++) {
            ids[j] = order[j];
            picked += w[j] = p[order[j]];
        }
        assertTrue(picked > 1e6 * normMin, "the picked scores sum to " + picked + ": the clamp would matter");
        for (int j = 0; j < k; j++) w[j] /= Math.max(picked, normMin);
        return new double[][] {ids, w};
    }

    /**
     * ERNIE-4.5-21B-A3B's router (E 64, k 6, renormalized, no groups, no scale) on the CPU twin against {@link #ernie64}: ids
     * exactly, weights within 2e-6 relative. Biases 0.002 apart on a shuffled grid (the softmax scores of logits in ±3
     * reach ~0.1): the test also asserts that the bias changed some token's experts, so it is not a plain softmax top-k.
     */
    @ParameterizedTest(name = "ERNIE T={0} E={1} k={2} {3}")
    @CsvSource({"23, 64, 6, F32", "9, 64, 6, BF16", "11, 64, 6, F16", "7, 64, 8, F32", "5, 32, 4, F32"})
    void ernieSoftmaxRoutingWithACorrectionBiasMatchesFloat64(int t, int e, int k, DType dt) {
        SplittableRandom rnd = new SplittableRandom(13L * t + e);
        float[][] in = deepSeekInputs(rnd, t, e, true);
        for (int i = 0; i < e; i++) in[1][i] *= 0.2f;
        try (Tensor logits = Tensor.of(dt, in[0], t, e); Tensor bias = Tensor.ofFloats(in[1], e); MoeRouting r = MoeRouting.allocate(cpu, t, e, k);
             MoeRouting plain = MoeRouting.allocate(cpu, t, e, k)) {
            float[] lf = logits.toFloatArray();
            cpu.moeRoute(new MoeRouteOp(logits, k, true, r).correctionBias(bias));
            cpu.moeRoute(new MoeRouteOp(logits, k, true, plain));
            int[] ids = r.ids().toIntArray(), plainIds = plain.ids().toIntArray(), offsets = r.offsets().toIntArray();
            float[] w = r.weights().toFloatArray();
            int[] count = new int[e];
            boolean moved = false;
            for (int i = 0; i < t; i++) {
                double[][] ref = ernie64(lf, i, e, k, in[1], 1e-12);
                for (int j = 0; j < k; j++) {
                    assertEquals((int) ref[0][j], ids[i * k + j], "token " + i + " choice " + j);
                    assertEquals(ref[1][j], w[i * k + j], 2e-6 * Math.max(1, ref[1][j]), "weight of token " + i + " choice " + j);
                    moved |= ids[i * k + j] != plainIds[i * k + j];
                    count[ids[i * k + j]]++;
                }
            }
            assertTrue(moved, "the bias changed no token's experts");
            for (int x = 0; x < e; x++) assertEquals(count[x], offsets[x + 1] - offsets[x], "expert " + x + "'s slots");
        }
    }

    /** The bias decides the choice only: a biased pick is weighed by its unbiased softmax, not by softmax + bias. */
    @Test
    void ernieWeighsTheBiasedPicksByTheirUnbiasedSoftmax() {
        float[] logits = {2f, 1f, 0f, -1f};
        float[] bias = {0f, 0f, 0f, 1f};       // expert 3 (p 0.032) is picked first; expert 0 (p 0.644) second
        try (Tensor l = Tensor.ofFloats(logits, 1, 4); Tensor b = Tensor.ofFloats(bias, 4); MoeRouting r = MoeRouting.allocate(cpu, 1, 4, 2);
             MoeRouting raw = MoeRouting.allocate(cpu, 1, 4, 2)) {
            cpu.moeRoute(new MoeRouteOp(l, 2, true, r).correctionBias(b));
            cpu.moeRoute(new MoeRouteOp(l, 2, false, raw).correctionBias(b));
            double[][] ref = ernie64(logits, 0, 4, 2, bias, 1e-12);
            assertArrayEquals(new int[] {3, 0}, r.ids().toIntArray());
            double z = Math.exp(2) + Math.exp(1) + 1 + Math.exp(-1), p3 = Math.exp(-1) / z, p0 = Math.exp(2) / z;
            float[] w = r.weights().toFloatArray(), u = raw.weights().toFloatArray();
            for (int j = 0; j < 2; j++) assertEquals(ref[1][j], w[j], 1e-6, "renormalized weight " + j);
            assertEquals(p3 / (p3 + p0), w[0], 1e-6);
            assertArrayEquals(new float[] {(float) p3, (float) p0}, u, 1e-6f, "unrenormalized: the plain softmax at the picks");
        }
    }

    /** V3's masked_fill(0.0): when every kept choice is negative, masked experts (0.0) win, lower ids first, weighed by their sigmoid. */
    @Test
    void maskedZeroBeatsNegativeBiasedChoices() {
        // E 8 in 4 groups of 2; bias −2 makes every choice negative except expert 6's (bias +1).
        float[] logits = {0.5f, 1.0f, -0.5f, 2.0f, 0.0f, 0.25f, -1.0f, 1.5f};
        float[] bias = {-2, -2, -2, -2, -2, -2, 1, -2};
        try (Tensor l = Tensor.ofFloats(logits, 1, 8); Tensor b = Tensor.ofFloats(bias, 8); MoeRouting r = MoeRouting.allocate(cpu, 1, 8, 4)) {
            cpu.moeRoute(new MoeRouteOp(l, 4, false, r).sigmoid(b).groups(4, 2).scale(2f));
            // group scores (top-2 sums): g0 −2.65, g1 −2.74, g2 −2.94, g3 +0.09 → keep g3 and g0; g1 and g2 masked to 0.0
            double[][] ref = deepSeek64(logits, 0, 8, 4, false, true, bias, 4, 2, 2);
            int[] want = {6, 2, 3, 4};   // 6 (c 1.27), then the masked 2, 3, 4 (0.0, lower ids first) over g0's negatives
            assertArrayEquals(want, r.ids().toIntArray());
            for (int j = 0; j < 4; j++) assertEquals(want[j], (int) ref[0][j], "the oracle agrees on choice " + j);
            float[] w = r.weights().toFloatArray();
            for (int j = 0; j < 4; j++) {
                assertEquals(2 / (1 + Math.exp(-logits[want[j]])), w[j], 1e-6, "weight " + j + ": expert " + want[j] + "'s unbiased sigmoid × 2");
            }
        }
        // V2 (softmax): a kept expert whose probability underflows to 0.0 ties with the masked ones; the lower id wins.
        float[] v2 = {-200f, 0f, 1f, -200f};   // groups {0,1} {2,3}: g1 (max p 0.73) kept, g0 masked
        try (Tensor l = Tensor.ofFloats(v2, 1, 4); MoeRouting r = MoeRouting.allocate(cpu, 1, 4, 2)) {
            cpu.moeRoute(new MoeRouteOp(l, 2, false, r).groups(2, 1));
            assertArrayEquals(new int[] {2, 0}, r.ids().toIntArray());         // masked expert 0 (0.0) before kept 3 (p = 0 in fp32)
            float[] w = r.weights().toFloatArray();
            assertEquals(1 / (1 + Math.exp(-1)), w[0], 1e-6);
            assertEquals(0f, w[1], "V2 weighs a masked pick by its masked score");
        }
    }

    /** Equal group scores keep the lower groups; equal choices take the lower experts; V3's weights renormalized. */
    @Test
    void deepSeekTiesGoToTheLowerGroupAndExpert() {
        try (Tensor l = Tensor.ofFloats(new float[16], 1, 16); MoeRouting r = MoeRouting.allocate(cpu, 1, 16, 3)) {
            cpu.moeRoute(new MoeRouteOp(l, 3, true, r).sigmoid(null).groups(4, 2).scale(3f));
            assertArrayEquals(new int[] {0, 1, 2}, r.ids().toIntArray());
            assertArrayEquals(new float[] {1f, 1f, 1f}, r.weights().toFloatArray());  // (0.5 / 1.5) × 3
        }
        float[] logits = {1, 0, 0, 1, 2, 0, 0, 2};   // softmax groups of 4: g0 max = g0's 1, g1 max 2 → g1 first
        try (Tensor l = Tensor.ofFloats(logits, 1, 8); MoeRouting r = MoeRouting.allocate(cpu, 1, 8, 3)) {
            cpu.moeRoute(new MoeRouteOp(l, 3, false, r).groups(2, 1));
            assertArrayEquals(new int[] {4, 7, 5}, r.ids().toIntArray());   // 4 and 7 tie (lower first), then 5 before 6
        }
    }

    @Test
    void deepSeekRouteRefusesBadArguments() {
        try (Tensor l = Tensor.ofFloats(new float[3 * 64], 3, 64); MoeRouting r = MoeRouting.allocate(cpu, 3, 64, 8);
             Tensor bias = Tensor.ofFloats(new float[64], 64); Tensor bias63 = Tensor.ofFloats(new float[63], 63);
             Tensor biasBf16 = Tensor.of(DType.BF16, new float[64], 64); Tensor bias2d = Tensor.ofFloats(new float[64], 1, 64)) {
            MoeRouteOp op = new MoeRouteOp(l, 8, true, r);
            assertRefused(op.groups(3, 1), "groups = 3 must divide the experts E = 64");
            assertRefused(op.groups(64, 1), "groups = 64 must be in 1..32");
            assertRefused(op.groups(0, 0), "groups = 0 must be in 1..32");
            assertRefused(op.groups(8, 0), "topkGroups = 0 must be in 1..groups = 8");
            assertRefused(op.groups(8, 9), "topkGroups = 9 must be in 1..groups = 8");
            assertRefused(op.groups(1, 2), "topkGroups = 2 must be in 1..groups = 1");
            assertRefused(op.groups(16, 1), "topK = 8 exceeds the 4 experts of the topkGroups = 1 kept groups");
            assertRefused(op.sigmoid(bias63), "correctionBias must have shape (64)");
            assertRefused(op.sigmoid(bias2d), "correctionBias must have shape (64)");
            assertRefused(op.sigmoid(biasBf16), "correctionBias must be F32, got BF16");
            assertRefused(op.correctionBias(bias63), "correctionBias must have shape (64)");   // softmax + bias (ERNIE 4.5): checked alike
            assertRefused(op.correctionBias(biasBf16), "correctionBias must be F32, got BF16");
            cpu.moeRoute(new MoeRouteOp(l, 8, true, r, MoeRouteOp.Scoring.SOFTMAX, bias, 1, 1, 1f));   // no longer refused (ABI 18's relaxed rule)
            assertRefused(new MoeRouteOp(l, 8, true, r, null, null, 1, 1, 1f), "scoring is null");
            for (float bad : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) assertRefused(op.scale(bad), "scale = " + bad + " must be finite and > 0");
            try (Tensor l32 = Tensor.ofFloats(new float[32], 1, 32); MoeRouting r32 = MoeRouting.allocate(cpu, 1, 32, 2)) {
                assertRefused(new MoeRouteOp(l32, 2, true, r32).sigmoid(null).groups(32, 4), "SIGMOID groups score their top 2");
                cpu.moeRoute(new MoeRouteOp(l32, 2, true, r32).groups(32, 4));   // softmax groups of one are fine
            }
            try (Tensor closed = Tensor.ofFloats(new float[64], 64)) {
                closed.close();
                assertThrows(IllegalStateException.class, () -> cpu.moeRoute(op.sigmoid(closed)));
            }
        }
    }

    private void assertRefused(MoeRouteOp op, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.moeRoute(op));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void gatherCopiesRowsAndNamesABadIndex() {
        float[] x = new float[5 * 3];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.25f - 1;
        try (Tensor xt = Tensor.of(DType.BF16, x, 5, 3); Tensor rows = Tensor.ofInts(new int[] {4, 0, 4, 2}, 4);
             Tensor out = Tensor.empty(DType.BF16, 4, 3); Tensor bad = Tensor.ofInts(new int[] {1, 5}, 2);
             Tensor out2 = Tensor.empty(DType.BF16, 2, 3)) {
            cpu.gatherRows(new GatherRowsOp(xt, rows, out));
            float[] xs = xt.toFloatArray(), got = out.toFloatArray();
            int[] idx = {4, 0, 4, 2};
            for (int r = 0; r < 4; r++) for (int c = 0; c < 3; c++) assertEquals(xs[idx[r] * 3 + c], got[r * 3 + c]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.gatherRows(new GatherRowsOp(xt, bad, out2)));
            assertTrue(e.getMessage().contains("rows[1] = 5"), e.getMessage());
        }
    }

    /** ABI 20: x's own rows (no indices) widened to F32 hold each stored F16 / BF16 value exactly; the rules are named. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void widenedRowsAreTheStoredValuesExactly(DType dt) {
        SplittableRandom rnd = new SplittableRandom(11 + dt.ordinal());
        int xr = 7, c = 13;
        float[] x = new float[xr * c];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble(-300, 300) * Math.pow(2, rnd.nextInt(-20, 4)));
        x[3] = Float.NaN;
        try (Tensor xt = Tensor.of(dt, x, xr, c); Tensor out = Tensor.empty(DType.F32, 5, c);
             Tensor rows = Tensor.ofInts(new int[] {6, 0}, 2); Tensor picked = Tensor.empty(DType.F32, 2, c)) {
            cpu.gatherRows(GatherRowsOp.widen(xt, out));
            float[] got = out.toFloatArray();
            for (int i = 0; i < 5 * c; i++) {
                float want = dt == DType.BF16 ? org.transformer4j.runtime.cpu.Half.roundToBf16(x[i]) : org.transformer4j.runtime.cpu.Half.roundToF16(x[i]);
                if (i == 3) assertTrue(Float.isNaN(got[i]), "NaN stays NaN");
                else assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), "element " + i);
            }
            cpu.gatherRows(new GatherRowsOp(xt, rows, picked));
            float[] p = picked.toFloatArray(), all = xt.toFloatArray();
            for (int j = 0; j < c; j++) {
                assertEquals(all[6 * c + j], p[j]);
                assertEquals(all[j], p[c + j]);
            }
            try (Tensor tooMany = Tensor.empty(DType.F32, 8, c); Tensor f16Out = Tensor.empty(dt == DType.BF16 ? DType.F16 : DType.BF16, 2, c)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.gatherRows(GatherRowsOp.widen(xt, tooMany)));
                assertTrue(e.getMessage().contains("n ≤ 7"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> cpu.gatherRows(new GatherRowsOp(xt, rows, f16Out)));
                assertTrue(e.getMessage().contains("or F32 (widened)"), e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "{0} gated={1} transW={2}")
    @CsvSource({"F32, false, true", "F32, true, true", "BF16, true, true", "F16, false, false", "F16, true, false", "BF16, false, true"})
    void groupedLinearIsEachGroupsOwnProjection(DType dt, boolean gated, boolean transW) {
        SplittableRandom rnd = new SplittableRandom(dt.ordinal() * 7L + (gated ? 1 : 0));
        int g = 4, n = 12, k = 20, rows = 30;
        int[] offsets = {0, 7, 7, 25, 27};                           // group 1 empty, rows 27..29 past the end
        long[] wShape = transW ? new long[] {g, 2L * n, k} : new long[] {g, k, 2L * n};
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 1), rows, k);
             Tensor fused = Tensor.of(dt, LinearOpTest.random(rnd, g * 2 * n * k, 0.3), wShape);   // [gate ; up] per group
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor out = Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            int d = transW ? 1 : 2;
            Tensor w = fused.slice(d, 0, n), wg = fused.slice(d, n, 2L * n);
            GroupedLinearOp op = GroupedLinearOp.of(x, w, off, out).transW(transW).alpha(0.5f);
            if (gated) op = op.gate(wg).activation(Activation.SILU);
            cpu.groupedLinear(op);
            float[] got = out.toFloatArray();
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                double[] ref = Oracle.linear(to - from, n, k, x.slice(0, from, to).toFloatArray(), w.select(0, grp).toFloatArray(), transW,
                        null, gated ? wg.select(0, grp).toFloatArray() : null, null, null, 0.5, gated ? Activation.SILU.code() : 0);
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            for (int i = 27 * n; i < rows * n; i++) assertTrue(Float.isNaN(got[i]), "row past offsets[G] written at " + i);
        }
    }

    /**
     * GPT-OSS's experts: per-group biases on both products and the clamped SwiGLU, with inputs large enough that the
     * activated branch passes 7 and the gate's product leaves ±7 (the clamps bite), against the float64 oracle.
     */
    @ParameterizedTest(name = "{0} transW={1}")
    @CsvSource({"F32, true", "F32, false", "BF16, true", "F16, false"})
    void groupedLinearWithBiasesAndTheClampedSwiglu(DType dt, boolean transW) {
        SplittableRandom rnd = new SplittableRandom(41 + dt.ordinal());
        int g = 3, n = 16, k = 24, rows = 20;
        int[] offsets = {0, 9, 9, 20};
        long[] wShape = transW ? new long[] {g, 2L * n, k} : new long[] {g, k, 2L * n};
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 2), rows, k);
             Tensor fused = Tensor.of(dt, LinearOpTest.random(rnd, g * 2 * n * k, 1.2), wShape);
             Tensor b = Tensor.of(dt, LinearOpTest.random(rnd, g * n, 2), g, n);
             Tensor bg = Tensor.of(dt, LinearOpTest.random(rnd, g * n, 2), g, n);
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor out = Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            int d = transW ? 1 : 2;
            Tensor w = fused.slice(d, 0, n), wg = fused.slice(d, n, 2L * n);
            cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out).transW(transW).gate(wg).bias(b, bg).activation(Activation.SWIGLU_OAI));
            float[] got = out.toFloatArray();
            int clampedA = 0, clampedG = 0;
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                float[] xs = x.slice(0, from, to).toFloatArray(), ws = w.select(0, grp).toFloatArray(), gs = wg.select(0, grp).toFloatArray();
                float[] bs = b.select(0, grp).toFloatArray(), bgs = bg.select(0, grp).toFloatArray();
                double[] ref = Oracle.linear(to - from, n, k, xs, ws, transW, bs, gs, bgs, null, 1, Activation.SWIGLU_OAI.code());
                double[] a = Oracle.linear(to - from, n, k, xs, ws, transW, bs, null, null, null, 1, 0);
                double[] gl = Oracle.linear(to - from, n, k, xs, gs, transW, bgs, null, null, null, 1, 0);
                for (double v : a) if (v > Activation.SWIGLU_LIMIT) clampedA++;
                for (double v : gl) if (Math.abs(v) > Activation.SWIGLU_LIMIT) clampedG++;
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            assertTrue(clampedA > 10 && clampedG > 10, "the clamps must bite: " + clampedA + " / " + clampedG);
        }
    }

    /**
     * MXFP4 weights (gpt-oss's experts kept as stored): the gate and up matrices as the even and odd rows of one interleaved
     * stack, decoded on the fly, against the float64 oracle on the matrices decoded here from the format's definition (the
     * FP4 table, low nibble first, 2^(scale − 127)); scales from 2^-8 to 2^1, every code.
     */
    @ParameterizedTest(name = "{0} rows x{1} N={2} K={3}")
    @CsvSource({"F32, 1, 8, 64", "BF16, 1, 8, 64", "F32, 5, 72, 64", "BF16, 5, 72, 64",   // x5: 20 and 35 rows (dot tiles)
                "F32, 20, 40, 288", "BF16, 20, 40, 288"})    // x20: 80 rows (dot tiles) and 140 (blocked, K decoded 256 + 32 as packed)
    void mxfp4GroupedLinearDecodesAsTheFormatSays(DType dt, int scale, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(7 + dt.ordinal() + scale);
        int g = 3, rows = 11 * scale;
        int[] offsets = {0, 4 * scale, 4 * scale, 11 * scale};
        byte[] blocks = new byte[g * 2 * n * (k / 32) * 16], scales = new byte[g * 2 * n * (k / 32)];
        for (int i = 0; i < blocks.length; i++) blocks[i] = (byte) rnd.nextInt(256);
        for (int i = 0; i < scales.length; i++) scales[i] = (byte) (119 + rnd.nextInt(10));
        float[] table = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
        float[] dense = new float[g * 2 * n * k];                                     // (G, 2N, K) as the format defines it
        for (int row = 0; row < g * 2 * n; row++) {
            for (int c = 0; c < k; c++) {
                int b = blocks[(row * (k / 32) + c / 32) * 16 + (c % 32) / 2] & 0xff;
                int code = c % 2 == 0 ? b & 15 : b >> 4;
                float v = (code & 8) != 0 ? -table[code & 7] : table[code & 7];
                dense[row * k + c] = v * (float) Math.pow(2, (scales[row * (k / 32) + c / 32] & 0xff) - 127);
            }
        }
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 1), rows, k);
             Tensor tb = Tensor.empty(DType.U8, g, 2L * n, k / 32, 16); Tensor ts = Tensor.empty(DType.U8, g, 2L * n, k / 32);
             Tensor b = Tensor.of(dt, LinearOpTest.random(rnd, g * n, 1), g, n);
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor out = Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            tb.hostSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(blocks));
            ts.hostSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(scales));
            Mxfp4 all = new Mxfp4(tb, ts);
            cpu.groupedLinear(GroupedLinearOp.mxfp4(x, all.everyOtherRow(0), off, out).gate(all.everyOtherRow(1)).bias(b, null)
                    .activation(Activation.SWIGLU_OAI));
            float[] got = out.toFloatArray();
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                float[] w = new float[n * k], wg = new float[n * k];
                for (int j = 0; j < n; j++) {
                    System.arraycopy(dense, ((grp * 2 * n) + 2 * j) * k, w, j * k, k);
                    System.arraycopy(dense, ((grp * 2 * n) + 2 * j + 1) * k, wg, j * k, k);
                }
                double[] ref = Oracle.linear(to - from, n, k, x.slice(0, from, to).toFloatArray(), w, true, b.select(0, grp).toFloatArray(),
                        wg, null, null, 1, Activation.SWIGLU_OAI.code());
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(GroupedLinearOp.mxfp4(x, all.everyOtherRow(0), off, out).activation(Activation.SWIGLU_OAI)));
            assertTrue(e.getMessage().contains("gated form"), e.getMessage());
        }
    }

    /**
     * A residual on the grouped projection (what a LoRA adapter's expand adds into its base projection's output with):
     * out = residual + the group's product on the groups' rows, the residual separate or out itself, against the float64
     * oracle; rows past offsets[G] keep what they held (in place: the old values, bit for bit), a separate residual is not
     * written. Ranks K 8 / 16 / 20, the shrink's N 8 with K 256, gated too.
     */
    @ParameterizedTest(name = "{0} inPlace={1} gated={2} N={3} K={4}")
    @CsvSource({"F32, false, false, 24, 8", "F32, true, false, 24, 16", "BF16, true, false, 40, 8", "F16, true, false, 16, 64",
        "BF16, false, true, 12, 20", "F32, true, true, 12, 20", "F16, false, true, 12, 20", "BF16, true, false, 8, 256",
        "F32, false, false, 8, 256"})
    void groupedLinearAddsItsResidualOnTheGroupsRows(DType dt, boolean inPlace, boolean gated, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(1000L * dt.ordinal() + 10L * n + k + (inPlace ? 1 : 0) + (gated ? 2 : 0));
        int g = 4, rows = 30;
        int[] offsets = {0, 7, 7, 25, 27};                           // group 1 empty, rows 27..29 past the end
        boolean transW = !gated;                                     // LoRA's B as stored (N, r); the gated one (K, N)
        long[] wShape = transW ? new long[] {g, n, k} : new long[] {g, k, n};
        Activation act = gated ? Activation.SILU : Activation.NONE;
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 1), rows, k);
             Tensor w = Tensor.of(dt, LinearOpTest.random(rnd, g * n * k, 0.5), wShape);
             Tensor wg = Tensor.of(dt, LinearOpTest.random(rnd, g * n * k, 0.5), wShape);
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor res = Tensor.of(dt, LinearOpTest.random(rnd, rows * n, 2), rows, n);
             Tensor out = inPlace ? Tensor.of(dt, res.toFloatArray(), rows, n) : Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            float[] before = res.toFloatArray();                     // as stored (rounded to dt)
            GroupedLinearOp op = GroupedLinearOp.of(x, w, off, out).transW(transW).residual(inPlace ? out : res);
            if (gated) op = op.gate(wg).activation(act);
            cpu.groupedLinear(op);
            float[] got = out.toFloatArray();
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                double[] ref = Oracle.linear(to - from, n, k, x.slice(0, from, to).toFloatArray(), w.select(0, grp).toFloatArray(), transW,
                        null, gated ? wg.select(0, grp).toFloatArray() : null, null, Arrays.copyOfRange(before, from * n, to * n), 1,
                        act.code());
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            for (int i = 27 * n; i < rows * n; i++) {
                if (inPlace) assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(got[i]), "row past offsets[G] changed at " + i);
                else assertTrue(Float.isNaN(got[i]), "row past offsets[G] written at " + i);
            }
            if (!inPlace) assertArrayEquals(before, res.toFloatArray(), "the residual was written");
        }
    }

    /** The residual's rules: like out (shape, dtype), out itself or apart from it, and not with MXFP4 weights; each named. */
    @Test
    void groupedLinearRefusesAResidualThatOverlapsOutOrMeetsMxfp4() {
        try (Tensor x = Tensor.ofFloats(new float[3 * 32], 3, 32); Tensor w = Tensor.ofFloats(new float[2 * 4 * 32], 2, 4, 32);
             Tensor off = Tensor.ofInts(new int[] {0, 2, 3}, 3); Tensor wide = Tensor.empty(DType.F32, 3, 8);
             Tensor other = Tensor.empty(DType.F32, 3, 4); Tensor narrow = Tensor.empty(DType.F32, 3, 3);
             Tensor half = Tensor.empty(DType.F16, 3, 4);
             Tensor blocks = Tensor.empty(DType.U8, 2, 4, 1, 16); Tensor scales = Tensor.empty(DType.U8, 2, 4, 1)) {
            Tensor out = wide.slice(1, 0, 4);
            GroupedLinearOp base = GroupedLinearOp.of(x, w, off, out).transW(true);
            base.residual(out).validate();                                                   // out itself
            base.residual(wide.slice(1, 0, 4)).validate();                                   // the same view, another object
            base.residual(other).validate();                                                 // apart
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(base.residual(wide.slice(1, 1, 5))));            // one column over
            assertTrue(e.getMessage().contains("residual") && e.getMessage().contains("not out itself"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(base.residual(wide.slice(1, 4, 8))));
            assertTrue(e.getMessage().contains("shares out's storage"), e.getMessage());      // apart, but one storage: refused too
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(base.residual(narrow)));
            assertTrue(e.getMessage().contains("residual has shape (3, 3) but out has shape (3, 4)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(base.residual(half)));
            assertTrue(e.getMessage().contains("residual has dtype F16"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(GroupedLinearOp.mxfp4(x, new Mxfp4(blocks, scales), off, other).residual(other)));
            assertTrue(e.getMessage().contains("residual is not taken with MXFP4"), e.getMessage());
        }
    }

    @Test
    void theClampedSwigluNeedsTheGatedFormAndBiasesTheirGroups() {
        try (Tensor x = Tensor.ofFloats(new float[6], 3, 2); Tensor w = Tensor.ofFloats(new float[8], 2, 2, 2);
             Tensor off = Tensor.ofInts(new int[] {0, 2, 3}, 3); Tensor out = Tensor.empty(DType.F32, 3, 2);
             Tensor badBias = Tensor.ofFloats(new float[2], 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out).activation(Activation.SWIGLU_OAI)));
            assertTrue(e.getMessage().contains("gated form"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out).bias(badBias, null)));
            assertTrue(e.getMessage().contains("one bias row per group"), e.getMessage());
        }
    }

    @Test
    void groupedLinearRefusesOffsetsPastTheRows() {
        try (Tensor x = Tensor.ofFloats(new float[6], 3, 2); Tensor w = Tensor.ofFloats(new float[8], 2, 2, 2);
             Tensor off = Tensor.ofInts(new int[] {0, 2, 4}, 3); Tensor out = Tensor.empty(DType.F32, 3, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out)));
            assertTrue(e.getMessage().contains("past x's 3 rows"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0} residual={1} shared={2} gate={3}")
    @CsvSource({"F32, false, false, false", "F32, true, true, true", "BF16, true, false, false", "F16, false, true, false", "BF16, true, true, true"})
    void combineIsTheWeightedSumOfTheExperts(DType dt, boolean withResidual, boolean withShared, boolean withGate) {
        SplittableRandom rnd = new SplittableRandom(5);
        int t = 6, c = 10, k = 3, s = t * k;
        int[] slots = new int[t * k];
        List<Integer> perm = new ArrayList<>();
        for (int i = 0; i < s; i++) perm.add(i);
        java.util.Collections.shuffle(perm, new java.util.Random(9));
        for (int i = 0; i < s; i++) slots[i] = perm.get(i);
        float[] w = LinearOpTest.random(rnd, t * k, 1);
        try (Tensor y = Tensor.of(dt, LinearOpTest.random(rnd, s * c, 2), s, c); Tensor sl = Tensor.ofInts(slots, t, k);
             Tensor wt = Tensor.ofFloats(w, t, k); Tensor h = Tensor.of(dt, LinearOpTest.random(rnd, t * c, 1), t, c);
             Tensor sh = Tensor.of(dt, LinearOpTest.random(rnd, t * c, 1), t, c); Tensor gate = Tensor.of(dt, LinearOpTest.random(rnd, t, 3), t, 1)) {
            float[] yv = y.toFloatArray(), hv = h.toFloatArray(), sv = sh.toFloatArray(), gv = gate.toFloatArray();
            double[] ref = new double[t * c], mag = new double[t * c];
            for (int i = 0; i < t; i++) {
                double sig = withGate ? 1 / (1 + Math.exp(-gv[i])) : 1;
                for (int x = 0; x < c; x++) {
                    double v = 0, m = 0;
                    for (int j = 0; j < k; j++) {
                        double term = (double) w[i * k + j] * yv[slots[i * k + j] * c + x];
                        v += term;
                        m += Math.abs(term);
                    }
                    if (withShared) { v += sig * sv[i * c + x]; m += Math.abs(sig * sv[i * c + x]); }
                    if (withResidual) { v += hv[i * c + x]; m += Math.abs(hv[i * c + x]); }
                    ref[i * c + x] = v;
                    mag[i * c + x] = m;
                }
            }
            MoeCombineOp op = new MoeCombineOp(y, sl, wt, null, null, null, h);          // out = h
            if (withResidual) op = op.residual(h);                                            // h += experts: aliasing
            if (withShared) op = op.shared(sh, withGate ? gate : null);
            cpu.moeCombine(op);
            LinearOpTest.assertClose(dt, h.toFloatArray(), ref, mag, "combine " + dt);
        }
    }

    /** The four ops as one MoE block, captured on the CPU and replayed with new router logits, equal the eager run. */
    @Test
    void aCapturedMoeBlockReplaysWithNewLogits() {
        SplittableRandom rnd = new SplittableRandom(77);
        int t = 5, c = 8, e = 4, k = 2, f = 6;
        try (Tensor x = Tensor.ofFloats(LinearOpTest.random(rnd, t * c, 1), t, c);
             Tensor logits = Tensor.empty(DType.F32, t, e);
             Tensor up = Tensor.ofFloats(LinearOpTest.random(rnd, e * 2 * f * c, 0.5), e, 2L * f, c);
             Tensor down = Tensor.ofFloats(LinearOpTest.random(rnd, e * c * f, 0.5), e, c, f);
             MoeRouting r = MoeRouting.allocate(cpu, t, e, k);
             Tensor xs = Tensor.empty(DType.F32, t * k, c); Tensor hs = Tensor.empty(DType.F32, t * k, f);
             Tensor ys = Tensor.empty(DType.F32, t * k, c); Tensor out = Tensor.empty(DType.F32, t, c)) {
            Runnable block = () -> {
                cpu.moeRoute(new MoeRouteOp(logits, k, true, r));
                cpu.gatherRows(new GatherRowsOp(x, r.sortedTokens(), xs));
                cpu.groupedLinear(GroupedLinearOp.of(xs, up.slice(1, 0, f), r.offsets(), hs).transW(true)
                        .gate(up.slice(1, f, 2L * f)).activation(Activation.SILU));
                cpu.groupedLinear(GroupedLinearOp.of(hs, down, r.offsets(), ys).transW(true));
                cpu.moeCombine(MoeCombineOp.of(ys, r, out));
            };
            try (Graph graph = cpu.capture(block)) {
                for (int step = 0; step < 3; step++) {
                    logits.copyFrom(spacedLogits(rnd, t, e));
                    graph.replay();
                    float[] replayed = out.toFloatArray();
                    out.fill(Float.NaN);
                    block.run();
                    assertArrayEquals(out.toFloatArray(), replayed, "step " + step);
                    // and the block is what it means: Σ_j w_j · down_e(silu(gate_e x) ⊙ up_e x)
                    float[] lf = logits.toFloatArray(), xv = x.toFloatArray(), uv = up.toFloatArray(), dv = down.toFloatArray();
                    for (int i = 0; i < t; i++) {
                        double[][] ref = route64(lf, i, e, k, true);
                        for (int col = 0; col < c; col++) {
                            double v = 0;
                            for (int j = 0; j < k; j++) {
                                int ex = (int) ref[0][j];
                                double o = 0;
                                for (int q = 0; q < f; q++) {
                                    double gsum = 0, usum = 0;
                                    for (int z = 0; z < c; z++) {
                                        gsum += (double) xv[i * c + z] * uv[(ex * 2 * f + q) * c + z];
                                        usum += (double) xv[i * c + z] * uv[(ex * 2 * f + f + q) * c + z];
                                    }
                                    o += Oracle.activate(Activation.SILU.code(), gsum) * usum * dv[(ex * c + col) * f + q];
                                }
                                v += ref[1][j] * o;
                            }
                            assertEquals(v, replayed[i * c + col], 1e-5, "token " + i + " column " + col);
                        }
                    }
                }
            }
        }
    }
}
