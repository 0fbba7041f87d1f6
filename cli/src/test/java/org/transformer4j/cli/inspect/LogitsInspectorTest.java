// LogitsInspectorTest — probabilities, ranks, top-5, losses, mean loss and perplexity computed through
// the CPU backend's softmax and cross-entropy, checked against a float64 oracle written here; bad input.
package org.transformer4j.cli.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class LogitsInspectorTest {

    /** fp32 softmax of logits of magnitude ≤ 8: probabilities within a few ulps of 1, losses within 1e-5 absolute. */
    private static final double PROB_TOL = 1e-6;
    private static final double LOSS_TOL = 1e-5;

    private static Inspection inspect(float[] logits, int[] ids, int v) {
        try (Backend b = new CpuBackend(); Tensor l = Tensor.ofFloats(logits, ids.length, v)) {
            return LogitsInspector.inspect(b, l, ids, id -> "t" + id, ids.length / 2, Optional.empty(), "test", n -> {});
        }
    }

    @Test
    void matchesFloat64Oracle() {
        SplittableRandom rnd = new SplittableRandom(11);
        int t = 9;
        int v = 1000;
        float[] l = new float[t * v];
        for (int i = 0; i < l.length; i++) l[i] = (float) (rnd.nextGaussian() * 3);
        int[] ids = new int[t];
        for (int i = 0; i < t; i++) ids[i] = rnd.nextInt(v);
        ids[3] = argmax(l, 2, v);   // row 2 predicts ids[3]: make one token the model's first choice
        Inspection in = inspect(l, ids, v);

        assertEquals(t, in.positions().size());
        assertFalse(in.positions().get(0).scored());
        double lossSum = 0;
        for (int pos = 1; pos < t; pos++) {
            int row = pos - 1;
            double[] p = softmax64(l, row, v);
            int target = ids[pos];
            Inspection.Position got = in.positions().get(pos);
            assertTrue(got.scored());
            assertEquals(target, got.id());
            assertEquals("t" + target, got.text());
            assertEquals(p[target], got.probability(), PROB_TOL, "probability at " + pos);
            double loss = -Math.log(p[target]);
            lossSum += loss;
            assertEquals(loss, got.loss(), LOSS_TOL, "loss at " + pos);
            int rank = 1;
            for (int j = 0; j < v; j++) if (l[row * v + j] > l[row * v + target]) rank++;
            assertEquals(rank, got.rank(), "rank at " + pos);
            Integer[] order = sortedIds(l, row, v);
            for (int k = 0; k < LogitsInspector.TOP; k++) {
                assertEquals(order[k], got.top().get(k).id(), "alternative " + k + " at " + pos);
                assertEquals(p[order[k]], got.top().get(k).probability(), PROB_TOL);
            }
        }
        assertEquals(1, in.positions().get(3).rank());
        assertEquals(ids[3], in.positions().get(3).top().get(0).id());
        double mean = lossSum / (t - 1);
        assertEquals(t - 1, in.scoredCount());
        assertEquals(mean, in.meanLoss(), LOSS_TOL);
        assertEquals(Math.exp(mean), in.perplexity(), Math.exp(mean) * LOSS_TOL);
        Integer[] last = sortedIds(l, t - 1, v);
        for (int k = 0; k < LogitsInspector.TOP; k++) assertEquals(last[k], in.next().get(k).id());
        assertEquals(4, in.masks().size());
    }

    @Test
    void bf16LogitsAreReadAsStored() {
        SplittableRandom rnd = new SplittableRandom(5);
        int t = 4;
        int v = 300;
        float[] raw = new float[t * v];
        for (int i = 0; i < raw.length; i++) raw[i] = (float) (rnd.nextGaussian() * 3);
        int[] ids = {5, 17, 250, 9};
        Inspection in;
        float[] stored;
        try (Backend b = new CpuBackend(); Tensor l = Tensor.of(org.transformer4j.runtime.DType.BF16, raw, t, v)) {
            stored = l.toFloatArray();   // the bf16 values, the ones the model produced
            in = LogitsInspector.inspect(b, l, ids, id -> "t" + id, 2, Optional.empty(), "bf16", n -> {});
        }
        for (int pos = 1; pos < t; pos++) {
            double[] p = softmax64(stored, pos - 1, v);
            assertEquals(p[ids[pos]], in.positions().get(pos).probability(), PROB_TOL);
            assertEquals(-Math.log(p[ids[pos]]), in.positions().get(pos).loss(), LOSS_TOL);
        }
    }

    @Test
    void tiesRankInTheTokensFavourAndListLowerIdsFirst() {
        int v = 8;
        float[] l = new float[2 * v];   // row 0 all equal: uniform distribution
        Arrays.fill(l, 0.5f);
        Inspection in = inspect(l, new int[] {3, 6}, v);
        Inspection.Position p = in.positions().get(1);
        assertEquals(1, p.rank());
        assertEquals(1.0 / v, p.probability(), PROB_TOL);
        assertEquals(Math.log(v), p.loss(), LOSS_TOL);
        assertEquals(java.util.List.of(0, 1, 2, 3, 4), p.top().stream().map(Inspection.Alternative::id).toList());
    }

    @Test
    void aSingleTokenHasNothingToScore() {
        Inspection in = inspect(new float[] {1, 2, 3, 4, 5, 6}, new int[] {2}, 6);
        assertEquals(0, in.scoredCount());
        assertTrue(Double.isNaN(in.meanLoss()));
        assertEquals(5, in.next().get(0).id());
    }

    @Test
    void fewerThanFiveTokensInTheVocabulary() {
        Inspection in = inspect(new float[] {1, 3, 2, 0, 0, 0}, new int[] {0, 2}, 3);
        assertEquals(java.util.List.of(1, 2, 0), in.positions().get(1).top().stream().map(Inspection.Alternative::id).toList());
        assertEquals(2, in.positions().get(1).rank());
    }

    @Test
    void badInputIsRejectedWithTheReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> inspect(new float[6], new int[] {0, 3}, 3));
        assertEquals("token id 3 at position 1 is outside the vocabulary [0, 3)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> inspect(new float[] {0, Float.NaN, 0, 0}, new int[] {0, 1}, 2));
        assertEquals("logit at position 0, id 1 is NaN; logits must be finite", e.getMessage());
        try (Backend b = new CpuBackend(); Tensor l = Tensor.ofFloats(new float[6], 2, 3); Tensor l1 = Tensor.ofFloats(new float[3], 3)) {
            e = assertThrows(IllegalArgumentException.class,
                    () -> LogitsInspector.inspect(b, l, new int[] {0, 1, 2}, id -> "", 0, Optional.empty(), "x", n -> {}));
            assertEquals("logits (2, 3) must have one row per token id (3)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> LogitsInspector.inspect(b, l, new int[0], id -> "", 0, Optional.empty(), "x", n -> {}));
            assertEquals("no tokens to inspect (ids is empty)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> LogitsInspector.inspect(b, l1, new int[] {0}, id -> "", 0, Optional.empty(), "x", n -> {}));
            assertTrue(e.getMessage().startsWith("logits must be a floating [T, V] tensor"), e.getMessage());
        }
    }

    private static double[] softmax64(float[] l, int row, int v) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) max = Math.max(max, l[row * v + j]);
        double sum = 0;
        double[] p = new double[v];
        for (int j = 0; j < v; j++) sum += p[j] = Math.exp(l[row * v + j] - max);
        for (int j = 0; j < v; j++) p[j] /= sum;
        return p;
    }

    private static Integer[] sortedIds(float[] l, int row, int v) {
        Integer[] ids = new Integer[v];
        for (int j = 0; j < v; j++) ids[j] = j;
        Arrays.sort(ids, (a, b) -> l[row * v + a] != l[row * v + b] ? Float.compare(l[row * v + b], l[row * v + a]) : a - b);
        return ids;
    }

    private static int argmax(float[] l, int row, int v) {
        return sortedIds(l, row, v)[0];
    }
}
