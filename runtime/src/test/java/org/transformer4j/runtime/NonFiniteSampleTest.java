// NonFiniteSampleTest — the sample op on rows that hold a NaN, a +inf, only −inf or only NaN, beside a
// finite row: every id stays in [0, V) (before: argmax over all-NaN logits gave 2147483647 and
// sampling gave −1), the flags name exactly the non-finite rows, their logprob is NaN, and the finite
// row gets what it gets alone. The expected ids are written here from SampleOp's contract.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NonFiniteSampleTest {

    static final int V = 300;

    /** Rows: 0 a NaN at id 5, 1 +inf at id 17, 2 all −inf, 3 all NaN, 4 finite; and the finite values used. */
    static float[] logits(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[5 * V];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 3);
        x[5] = Float.NaN;
        x[V + 17] = Float.POSITIVE_INFINITY;
        for (int c = 0; c < V; c++) {
            x[2 * V + c] = Float.NEGATIVE_INFINITY;
            x[3 * V + c] = Float.NaN;
        }
        return x;
    }

    /** The smallest id among the largest non-NaN values of row r (0 when none), written independently of VocabKernels. */
    static int argmaxIgnoringNaN(float[] x, int r) {
        int best = -1;
        for (int c = 0; c < V; c++) {
            float v = x[r * V + c];
            if (Float.isNaN(v)) continue;
            if (best < 0 || v > x[r * V + best]) best = c;
        }
        return Math.max(best, 0);
    }

    static int[][] run(Backend b, float[] x, int rows, float temperature, int topK, float topP) {
        try (Tensor logits = Tensor.ofFloats(x, rows, V); Tensor ids = Tensor.empty(DType.I32, rows);
             Tensor flags = Tensor.empty(DType.I32, rows); Tensor lp = Tensor.empty(DType.F32, rows)) {
            SampleOp op = temperature == 0f ? SampleOp.greedy(logits, ids) : SampleOp.sample(logits, temperature, 99, ids).topP(topP).offset(3);
            if (topK > 0) op = op.topK(topK);
            b.sample(op.logprobs(lp).nonFinite(flags));
            float[] l = lp.toFloatArray();
            int[] lpNaN = new int[rows];
            for (int i = 0; i < rows; i++) lpNaN[i] = Float.isNaN(l[i]) ? 1 : 0;
            return new int[][] {ids.toIntArray(), flags.toIntArray(), lpNaN};
        }
    }

    @ParameterizedTest
    @CsvSource({"0, 0, 1", "0.8, 0, 1", "0.8, 40, 1", "1.2, 0, 0.5", "0.7, 5, 0.9"})
    void nonFiniteRowsAreFlaggedAndTheirIdsStayInTheVocabulary(float temperature, int topK, float topP) {
        try (CpuBackend cpu = new CpuBackend()) {
            float[] x = logits(7);
            int[][] got = run(cpu, x, 5, temperature, topK, topP);
            for (int r = 0; r < 5; r++) {
                assertTrue(got[0][r] >= 0 && got[0][r] < V, "row " + r + ": id " + got[0][r] + " outside [0, " + V + ")");
                boolean nonFinite = r < 4;
                assertEquals(nonFinite ? 1 : 0, got[1][r], "row " + r + "'s flag");
                assertEquals(nonFinite ? 1 : 0, got[2][r], "row " + r + "'s logprob is NaN exactly when it is non-finite");
                if (nonFinite) assertEquals(argmaxIgnoringNaN(x, r), got[0][r], "row " + r + ": argmax over non-NaN logits");
            }
            assertEquals(17, got[0][1], "+inf wins");
            // the finite row is sampled as if it were alone (its Philox counter is its row index: 4)
            float[] alone = new float[5 * V];
            java.util.Arrays.fill(alone, 0f);
            System.arraycopy(x, 4 * V, alone, 4 * V, V);
            assertEquals(run(cpu, alone, 5, temperature, topK, topP)[0][4], got[0][4], "the finite row's id");
        }
    }
}
