// MaskOpTest — the token-mask op on the CPU backend against a float64 oracle written from its definition
// (kept ids keep their value bit for bit, the rest become −∞), in each dtype, with NaN and ±∞ among the
// kept logits, a vocabulary that is not a multiple of 32 (bits past V ignored), and its validation.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class MaskOpTest {

    static final CpuBackend CPU = new CpuBackend();

    /** float64 reference: out[r][v] = bit (r, v) ? x[r][v] : −∞. */
    static double[] oracle(float[] x, int[] allowed, int rows, int v) {
        int w = (v + 31) / 32;
        double[] out = new double[rows * v];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < v; i++) {
                long word = allowed[r * w + i / 32] & 0xFFFFFFFFL;
                out[r * v + i] = ((word >> (i % 32)) & 1L) == 1L ? (double) x[r * v + i] : Double.NEGATIVE_INFINITY;
            }
        }
        return out;
    }

    static int[] randomBits(SplittableRandom rnd, int rows, int v) {
        int w = (v + 31) / 32;
        int[] bits = new int[rows * w];
        for (int i = 0; i < bits.length; i++) bits[i] = rnd.nextInt();
        bits[0] = 0;                                      // a word with nothing kept
        bits[Math.min(1, bits.length - 1)] = -1;          // and one with everything kept
        return bits;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void keptLogitsAreUntouchedTheRestMinusInfinity(DType dt) {
        SplittableRandom rnd = new SplittableRandom(11);
        int rows = 3, v = 1000 + 37;                      // not a multiple of 32: the last word's high bits are past V
        float[] x = new float[rows * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 4);
        x[5] = Float.NaN;
        x[70] = Float.POSITIVE_INFINITY;
        x[71] = Float.NEGATIVE_INFINITY;
        int[] bits = randomBits(rnd, rows, v);
        bits[2] |= 1 << (70 - 64) | 1 << (71 - 64);       // the infinities are kept
        bits[0] |= 1 << 5;                                // and the NaN
        try (Tensor t = Tensor.of(dt, x, rows, v); Tensor a = Tensor.ofInts(bits, rows, (v + 31) / 32)) {
            float[] in = t.toFloatArray();                // x in the dtype
            double[] want = oracle(in, bits, rows, v);
            CPU.mask(new MaskOp(t, a));
            float[] got = t.toFloatArray();
            int masked = 0;
            for (int i = 0; i < got.length; i++) {
                if (Double.isNaN(want[i])) assertTrue(Float.isNaN(got[i]), "NaN kept at " + i);
                else assertEquals(want[i], got[i], 0.0, dt + " at " + i);
                if (got[i] == Float.NEGATIVE_INFINITY && in[i] != Float.NEGATIVE_INFINITY) masked++;
            }
            assertTrue(masked > rows * v / 3, "about half masked, got " + masked);
        }
    }

    @Test
    void validationNamesTheTensor() {
        try (Tensor x = Tensor.ofFloats(new float[2 * 40], 2, 40); Tensor ok = Tensor.ofInts(new int[4], 2, 2);
             Tensor shortBits = Tensor.ofInts(new int[2], 2, 1); Tensor floats = Tensor.ofFloats(new float[4], 2, 2);
             Tensor flat = Tensor.ofFloats(new float[40], 40)) {
            CPU.mask(new MaskOp(x, ok));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> CPU.mask(new MaskOp(x, shortBits))).getMessage().contains("(2, 2)"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> CPU.mask(new MaskOp(x, floats))).getMessage().contains("I32"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> CPU.mask(new MaskOp(flat, ok))).getMessage().contains("logits"));
        }
    }
}
