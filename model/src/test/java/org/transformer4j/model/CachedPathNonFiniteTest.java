// CachedPathNonFiniteTest — +inf or NaN in an attention bias (fp32, CPU backend): the cached
// prefill/step path gives NaN in exactly the places the full pass does, and the same values elsewhere.
// Before, the split-KV decode treated a split whose softmax sum was NaN as empty (lse −inf), so the
// cached path returned finite, plausible logits where the full pass (and PyTorch) gave NaN.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.transformer4j.runtime.CpuBackend;

class CachedPathNonFiniteTest {

    static final CpuBackend CPU = new CpuBackend();

    /**
     * +inf (or NaN) in one element of layer 0's key bias: the full pass's attention rows turn NaN
     * wherever a query meets it (q·k = ±inf or NaN), as PyTorch's do. The cached path must give NaN in
     * exactly the same places and the same values elsewhere (before: the split-KV decode took a NaN
     * split for an empty one and returned finite logits).
     */
    @ParameterizedTest
    @ValueSource(floats = {Float.POSITIVE_INFINITY, Float.NaN})
    void theCachedPathAndTheFullPassAgreeOnNonFiniteInput(float bad) {
        try (Weights w = Weights.random(Attack.gpt(), CPU, 34)) {
            w.decoder.layers().get(0).self().kb().hostSegment().setAtIndex(ValueLayout.JAVA_FLOAT, 3, bad);
            Transformer m = new Transformer(w, CPU);
            int[] seq = Attack.clean(9, 12, 7);
            float[][] full = m.logits(new int[][] {seq})[0];
            int nanRows = 0;
            try (KvState st = m.newState(1, seq.length)) {
                float[][] cached = new float[seq.length][];
                float[][] pre = m.prefill(st, 0, java.util.Arrays.copyOf(seq, 4));
                System.arraycopy(pre, 0, cached, 0, 4);
                for (int t = 4; t < seq.length; t++) cached[t] = m.step(st, new int[] {seq[t]})[0];
                for (int t = 0; t < seq.length; t++) {
                    boolean anyNaN = false;
                    for (int j = 0; j < Tiny.V; j++) {
                        assertEquals(Float.isNaN(full[t][j]), Float.isNaN(cached[t][j]), "position " + t + ", logit " + j
                                + ": full " + full[t][j] + ", cached " + cached[t][j]);
                        if (!Float.isNaN(full[t][j])) assertEquals(full[t][j], cached[t][j], 1e-4, "position " + t);
                        anyNaN |= Float.isNaN(full[t][j]);
                    }
                    if (anyNaN) nanRows++;
                }
            }
            assertTrue(nanRows > 0, "the attack reached the logits");
        }
    }

}
