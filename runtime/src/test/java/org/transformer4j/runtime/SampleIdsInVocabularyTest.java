// SampleIdsInVocabularyTest — whatever the logits hold (NaN, +inf, only −inf, only NaN), the sample op
// returns ids in [0, V), greedy and sampled, F32 and BF16 logits: no caller can receive a token id that
// indexes nothing (before: argmax over all-NaN logits gave 2147483647, sampling gave −1). The flags
// that mark such rows are tested by NonFiniteSampleTest; this test uses only the op's original API.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SampleIdsInVocabularyTest {

    @ParameterizedTest
    @CsvSource({"F32, 0, 0, 1", "F32, 0.8, 0, 1", "F32, 0.8, 40, 0.9", "BF16, 0, 0, 1", "BF16, 1.1, 5, 1"})
    void idsStayInTheVocabulary(DType dt, float temperature, int topK, float topP) {
        int v = 300;
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        float[] x = new float[5 * v];                   // rows: a NaN, a +inf at 17, all −inf, all NaN, finite
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 3);
        x[5] = Float.NaN;
        x[v + 17] = Float.POSITIVE_INFINITY;
        for (int c = 0; c < v; c++) {
            x[2 * v + c] = Float.NEGATIVE_INFINITY;
            x[3 * v + c] = Float.NaN;
        }
        try (CpuBackend cpu = new CpuBackend(); Tensor logits = Tensor.of(dt, x, 5, v);
             Tensor ids = Tensor.empty(DType.I32, 5)) {
            SampleOp op = temperature == 0f ? SampleOp.greedy(logits, ids) : SampleOp.sample(logits, temperature, 4, ids).topP(topP);
            if (topK > 0) op = op.topK(topK);
            cpu.sample(op);
            int[] got = ids.toIntArray();
            for (int r = 0; r < 5; r++) assertTrue(got[r] >= 0 && got[r] < v, "row " + r + ": id " + got[r] + " outside [0, " + v + ")");
            assertEquals(17, got[1], "the +inf logit is the most likely id");
        }
    }
}
