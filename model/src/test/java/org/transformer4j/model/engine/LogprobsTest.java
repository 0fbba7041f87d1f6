// LogprobsTest — Logprobs.top against a sort of every id, on rows full of ties, infinities and NaN.
package org.transformer4j.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LogprobsTest {

    /** The oracle: every id sorted by value (largest first, −0 = +0, NaN above all), ties by the smaller id, the first k. */
    static int[] sorted(double[] row, int k) {
        Comparator<Integer> byValue = (a, b) -> row[a] == row[b] ? 0 : Double.compare(row[b], row[a]);
        return IntStream.range(0, row.length).boxed()
                .sorted(byValue.thenComparing(i -> i))
                .limit(Math.max(0, k)).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void topIsTheFirstKOfASortOfEveryId() {
        Random r = new Random(5);
        double[] specials = {Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NaN, -0.0, 0.0};
        for (int trial = 0; trial < 2000; trial++) {
            int v = 1 + r.nextInt(trial < 1000 ? 12 : 400);
            double[] row = new double[v];
            int kinds = 1 + r.nextInt(6);                                   // few distinct values: many ties
            for (int i = 0; i < v; i++) {
                row[i] = r.nextInt(10) == 0 ? specials[r.nextInt(specials.length)] : trial % 2 == 0 ? r.nextInt(kinds) : r.nextGaussian();
            }
            for (int k : new int[] {0, 1, 2, 5, 20, v - 1, v, v + 3}) {
                assertArrayEquals(sorted(row, Math.min(k, v)), Logprobs.top(row, k), "trial " + trial + " k " + k);
            }
        }
    }
}
