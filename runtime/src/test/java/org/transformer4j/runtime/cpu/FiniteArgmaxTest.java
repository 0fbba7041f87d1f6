// FiniteArgmaxTest — VectorOps.finiteArgmax (the greedy sampler's one pass with the Vector API)
// against VocabKernels' scalar argmax and nonFinite, which it replaces on that path: ties, signed
// zeros, NaN, ±∞, rows of only −∞, lengths that are not a whole number of vectors.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class FiniteArgmaxTest {

    @Test
    void matchesTheScalarArgmaxAndNonFinite() {
        assumeTrue(CpuKernels.simd(), "the Vector API is off");
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 3f};
        int checked = 0, finite = 0;
        for (int trial = 0; trial < 4000; trial++) {
            int n = 1 + rnd.nextInt(trial < 2000 ? 70 : 50257);
            int off = rnd.nextInt(5);
            float[] x = new float[off + n + 3];
            boolean coarse = rnd.nextBoolean();                       // few distinct values: many ties
            for (int i = 0; i < x.length; i++) x[i] = coarse ? rnd.nextInt(4) - 2 : (float) rnd.nextGaussian();
            if (x.length > 0 && rnd.nextInt(4) == 0) x[off + n] = 1e30f;        // past the row: must not count
            int plants = rnd.nextInt(4);
            for (int p = 0; p < plants; p++) x[off + rnd.nextInt(n)] = specials[rnd.nextInt(specials.length)];
            if (rnd.nextInt(10) == 0) java.util.Arrays.fill(x, off, off + n, Float.NEGATIVE_INFINITY);
            if (rnd.nextInt(10) == 0) {                              // signed zeros as the maximum
                java.util.Arrays.fill(x, off, off + n, -1f);
                x[off + rnd.nextInt(n)] = -0f;
                x[off + rnd.nextInt(n)] = 0f;
            }
            boolean bad = VocabKernels.nonFinite(x, off, n);
            int want = bad ? -1 : VocabKernels.argmax(x, off, n);
            assertEquals(want, VectorOps.finiteArgmax(x, off, n), "seed " + seed + ", trial " + trial + ", n " + n);
            checked++;
            if (!bad) finite++;
        }
        assertEquals(4000, checked);
        org.junit.jupiter.api.Assertions.assertTrue(finite > 1000 && finite < 3900, "seed " + seed + ": " + finite + " finite rows");
    }
}
