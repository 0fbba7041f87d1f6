// MasksTest — each mask matrix, built from its definition, agrees with what the attention kernel (CPU
// backend) actually lets each query see: with q = k = 0 every visible key gets the same weight, and
// with one-hot values the output row is that weight at exactly the visible keys.
package org.transformer4j.cli.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class MasksTest {

    /** A head size the F32 kernel supports; also the most keys a one-hot value can tell apart. */
    private static final int HS = 32;

    /** [tq, tk]: 1 where the kernel gave key j a non-zero weight for query i. */
    private static float[][] seenByKernel(int tq, int tk, AttentionOp.Mask mask, int prefix) {
        float[] v = new float[tk * HS];
        for (int j = 0; j < tk; j++) v[j * HS + j] = 1;   // value j = e_j
        try (Backend b = new CpuBackend();
             Tensor q = Tensor.ofFloats(new float[tq * HS], 1, tq, 1, HS);
             Tensor k = Tensor.ofFloats(new float[tk * HS], 1, tk, 1, HS);
             Tensor vv = Tensor.ofFloats(v, 1, tk, 1, HS);
             Tensor out = Tensor.ofFloats(new float[tq * HS], 1, tq, 1, HS).fill(Float.NaN)) {
            b.attention(AttentionOp.of(q, k, vv, out).withMask(mask, mask == AttentionOp.Mask.PREFIX_LM ? new int[] {prefix} : null));
            float[] o = out.toFloatArray();
            float[][] seen = new float[tq][tk];
            for (int i = 0; i < tq; i++) {
                int visible = 0;
                for (int j = 0; j < tk; j++) if (o[i * HS + j] > 0) visible++;
                for (int j = 0; j < tk; j++) {
                    float w = o[i * HS + j];
                    if (w > 0) {
                        assertEquals(1.0 / visible, w, 1e-6, "uniform weight at (" + i + ", " + j + ")");
                        seen[i][j] = 1;
                    }
                }
            }
            return seen;
        }
    }

    private static void assertSame(float[][] expected, float[][] got, String what) {
        assertEquals(expected.length, got.length, what);
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) assertEquals(expected[i][j], got[i][j], what + " at (" + i + ", " + j + ")");
        }
    }

    @Test
    void masksAgreeWithTheAttentionKernel() {
        int t = 11;
        assertSame(Masks.causal(t), seenByKernel(t, t, AttentionOp.Mask.CAUSAL, 0), "causal");
        assertSame(Masks.bidirectional(t), seenByKernel(t, t, AttentionOp.Mask.NONE, 0), "bidirectional");
        for (int p : new int[] {0, 1, 4, t}) {
            assertSame(Masks.prefix(t, p), seenByKernel(t, t, AttentionOp.Mask.PREFIX_LM, p), "prefix " + p);
        }
        assertSame(Masks.cross(5, 7), seenByKernel(5, 7, AttentionOp.Mask.NONE, 0), "cross");
    }

    @Test
    void definitionsOnASmallCase() {
        float[][] p = Masks.prefix(4, 2);
        float[][] expected = {{1, 1, 0, 0}, {1, 1, 0, 0}, {1, 1, 1, 0}, {1, 1, 1, 1}};
        assertSame(expected, p, "prefix 2 of 4");
        assertSame(Masks.causal(4), Masks.prefix(4, 0), "prefix 0 is causal");
        assertSame(Masks.bidirectional(4), Masks.prefix(4, 4), "full prefix is bidirectional");
    }

    @Test
    void allSplitsTheTokensIntoInputAndTarget() {
        List<String> toks = new ArrayList<>(List.of("a", "b", "c", "d", "e"));
        List<Inspection.Matrix> m = Masks.all(toks, 2);
        assertEquals(List.of("causal", "bidirectional", "prefix", "cross"), m.stream().map(Inspection.Matrix::title).toList());
        Inspection.Matrix cross = m.get(3);
        assertEquals(List.of("c", "d", "e"), cross.rowLabels());
        assertEquals(List.of("a", "b"), cross.colLabels());
        assertThrows(IllegalArgumentException.class, () -> Masks.all(toks, 6));
        assertThrows(IllegalArgumentException.class, () -> Masks.prefix(3, -1));
    }
}
