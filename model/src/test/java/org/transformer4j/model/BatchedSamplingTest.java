// BatchedSamplingTest — Sampling's batched forms (the serving engine's one penalty op and one sample op per decode
// step) against its per-request forms over each row alone: penalized bits and chosen ids equal, for rows of different
// options (greedy and sampled, penalties or none, a logit bias or none) with ±0 at penalized ids, so that a row
// without a bias of its own must keep −0 (it carries bias −0, not +0).
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class BatchedSamplingTest {

    @Test
    void batchedPenaltiesAndSamplingEqualEachRowAlone() {
        CpuBackend be = new CpuBackend();
        int v = 97;
        Generator.Options[] o = {
            Generator.Options.greedy(5),                                                             // no penalty
            Generator.Options.greedy(5).repetitionPenalty(1.5f),                                     // greedy, no bias
            Generator.Options.greedy(5).sampling(0.9f, 0, 1f, 3).logitBias(Map.of(1, 2f, 2, -3f)),
            Generator.Options.greedy(5).sampling(1.2f, 10, 0.9f, 4).presenceFrequency(0.5f, 0.25f).minP(0.05f),
            Generator.Options.greedy(5).sampling(0.7f, 0, 0.8f, 5).repetitionPenalty(0.8f).logitBias(Map.of(40, 1f)),
        };
        int b = o.length;
        SplittableRandom rnd = new SplittableRandom(17);
        float[] x = new float[b * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * 3;
        Sampling.History[] h = new Sampling.History[b];
        long[] offsets = new long[b];
        for (int r = 0; r < b; r++) {
            int[] prompt = rnd.ints(6, 0, v).toArray();
            h[r] = Sampling.History.of(o[r], prompt);
            for (int id : prompt) x[r * v + id] = id % 2 == 0 ? -0f : 0f;               // ±0 where the penalties read
            int made = 1 + r;
            for (int t = 0; t < made; t++) {
                int id = rnd.nextInt(v);
                if (h[r] != null) h[r].add(id);
                x[r * v + id] = -0f;
            }
            offsets[r] = made;
        }
        assertNull(h[0], "options without penalties keep no history");
        try (Tensor logits = Tensor.ofFloats(x, b, v); Tensor ids = Tensor.empty(DType.I32, b);
             Tensor batched = Sampling.penalized(be, logits, o, h)) {
            be.sample(Sampling.op(o, batched, ids, offsets));
            int[] got = ids.toIntArray();
            int negZero = 0;
            for (int r = 0; r < b; r++) {
                try (Tensor row = Tensor.ofFloats(Arrays.copyOfRange(x, r * v, (r + 1) * v), 1, v); Tensor one = Tensor.empty(DType.I32, 1);
                     Tensor alone = Sampling.penalized(be, row, o[r], new Sampling.History[] {h[r]})) {
                    Tensor read = alone != null ? alone : row;
                    for (int c = 0; c < v; c++) {
                        int want = Float.floatToRawIntBits(read.getFloat(0, c));
                        assertEquals(want, Float.floatToRawIntBits(batched.getFloat(r, c)), "row " + r + " logit " + c + " (" + o[r] + ")");
                        if (want == Float.floatToRawIntBits(-0f)) negZero++;
                    }
                    be.sample(Sampling.op(o[r], read, one, offsets[r]));
                    assertEquals(one.toIntArray()[0], got[r], "row " + r + " id (" + o[r] + ")");
                }
            }
            assertTrue(negZero > 3, "−0 logits must survive where no bias applies: " + negZero);
        }
    }
}
