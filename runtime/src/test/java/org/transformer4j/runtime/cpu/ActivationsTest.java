// ActivationsTest — the table-driven erfc and exact GELU against erfc computed by numerical
// integration (an independent route), across the table's range, its cell edges, both tails and the
// continued fraction beyond; tanh GELU and SiLU against Math.tanh / Math.exp; the Vector API paths
// against the scalar ones, bit for bit.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class ActivationsTest {

    /**
     * erfc(z) = 2/√π ∫_z^(z+9) e^(−t²) dt (the rest is below e^(−81) of it): composite Simpson with
     * 20000 and 40000 panels, extrapolated (Richardson: S₂ + (S₂ − S₁)/15) to error O(h⁶), far below
     * 1e-13 relative (plain Simpson at 20000 panels is off by 1e-12 near z = 4).
     */
    static double erfcByQuadrature(double z) {
        double s1 = simpson(z, 20000), s2 = simpson(z, 40000);
        return 2 / Math.sqrt(Math.PI) * (s2 + (s2 - s1) / 15);
    }

    private static double simpson(double z, int n) {
        double h = 9.0 / n;
        double sum = Math.exp(-z * z) + Math.exp(-(z + 9) * (z + 9));
        for (int i = 1; i < n; i++) {
            double t = z + i * h;
            sum += (i % 2 == 1 ? 4 : 2) * Math.exp(-t * t);
        }
        return sum * h / 3;
    }

    /** GELU in double from the quadrature: x (1 − erfc(z)/2) for x ≥ 0, x/2 · erfc(−z) below, z = x/√2. */
    static double geluReference(double x) {
        double e = erfcByQuadrature(Math.abs(x) / Math.sqrt(2));
        return x >= 0 ? x * (1 - 0.5 * e) : 0.5 * x * e;
    }

    @Test
    void erfcIsWithin1e12RelativeOfTheQuadrature() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        double worst = 0;
        for (int k = 0; k < 1500; k++) {
            // the table's grid points and cell edges (z = (i + 1/2)/32, where the Taylor step is longest), and random z to 7
            double z = k < 400 ? (rnd.nextInt(6 * 32) + (k % 2 == 0 ? 0.5 : 0)) / 32.0 : rnd.nextDouble(0, 7);
            if (k < 400) z = k % 4 < 2 ? Math.nextUp(z) : Math.nextDown(Math.max(z, Double.MIN_VALUE));
            double ref = erfcByQuadrature(z);
            double rel = Math.abs(Activations.erfc(z) - ref) / ref;
            worst = Math.max(worst, rel);
            assertTrue(rel <= 1e-12, "seed " + seed + ": erfc(" + z + ") = " + Activations.erfc(z) + ", quadrature " + ref);
        }
        System.out.printf("erfc: worst relative error %.1e against the quadrature%n", worst);
    }

    @Test
    void geluIsWithinOneFp32RoundingOfTheReferenceAndUsuallyEqual() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 3000, equal = 0;
        for (int k = 0; k < n; k++) {
            float x;
            if (k < 400) {
                // cell edges of the table (z = (i + 1/2)/32) and grid points, either side, both signs
                int i = rnd.nextInt(6 * 32);
                double z = (i + (k % 2 == 0 ? 0.5 : 0)) / 32.0;
                x = (float) ((k % 4 < 2 ? 1 : -1) * z * Math.sqrt(2));
                x = k % 8 < 4 ? Math.nextUp(x) : Math.nextDown(x);
            } else {
                x = (float) (k % 3 == 0 ? rnd.nextGaussian() * 2 : rnd.nextDouble(-10, 10));
            }
            double ref = geluReference(x);
            float got = Activations.gelu(x);
            float want = (float) ref;
            if (got == want) equal++;
            // one fp32 rounding from the exact value (the double error is far below half an ulp)
            assertTrue(Math.abs(got - ref) <= Math.ulp(want), "seed " + seed + ": gelu(" + x + ") = " + got + ", reference " + ref);
        }
        // a double error of 1e-12 lands a different fp32 rounding about once in 10^5
        assertTrue(equal >= n - 3, "seed " + seed + ": only " + equal + " of " + n + " equal to the correctly rounded reference");
    }

    @Test
    void activateGivesTheScalarBitsOnBothPaths() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 4099;   // not a whole number of vectors
        float[] x = new float[n + 6];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 3);
        x[40] = Float.NaN;   // exact GELU: lanes outside the table, the whole vector goes lane by lane
        x[77] = -9.5f;
        x[78] = 12f;
        x[90] = -0f;
        x[91] = Float.POSITIVE_INFINITY;
        x[100] = Float.NEGATIVE_INFINITY;
        x[101] = -1e30f;      // exp's clamp on both sides
        x[102] = 3e38f;
        x[103] = -60f;
        x[104] = 1e-40f;      // subnormal
        boolean saved = CpuKernels.simd();
        try {
            for (int act : new int[] {Activations.GELU, Activations.GELU_TANH, Activations.SILU}) {
                for (boolean simd : new boolean[] {false, true}) {
                    if (simd && !CpuKernels.simdAvailable()) continue;
                    CpuKernels.setSimd(simd);
                    float[] y = x.clone();
                    CpuKernels.activate(act, y, 3, n);
                    for (int i = 0; i < y.length; i++) {
                        float want = i >= 3 && i < 3 + n ? Activations.apply(act, x[i]) : x[i];   // outside [3, 3 + n) untouched
                        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y[i]),
                                "seed " + seed + ", act " + act + ", simd " + simd + ": f(" + x[i] + ") at " + i);
                    }
                }
            }
        } finally {
            CpuKernels.setSimd(saved);
        }
    }

    @Test
    void expIsWithin1e15RelativeOfMathExp() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        double worst = 0;
        for (int k = 0; k < 20000; k++) {
            // the range-reduction edges (t near (j + 1/2) ln 2) and random t across the clamp's range
            double t = k < 2000 ? (rnd.nextInt(-1000, 1000) + 0.5) * Math.log(2) + rnd.nextDouble(-1e-9, 1e-9)
                    : rnd.nextDouble(-700, 700);
            double rel = Math.abs(Activations.exp(t) / Math.exp(t) - 1);
            worst = Math.max(worst, rel);
            assertTrue(rel <= 1e-15, "seed " + seed + ": exp(" + t + ") = " + Activations.exp(t) + ", Math.exp " + Math.exp(t));
        }
        assertEquals(1.0, Activations.exp(0.0));
        assertTrue(Double.isNaN(Activations.exp(Double.NaN)));
        System.out.printf("exp: worst relative error %.1e against Math.exp%n", worst);
    }

    /** x/2 · (1 + tanh(u)) from Math.tanh; in the far negative tail, where 1 + tanh cancels, x · e^(2u) / (1 + e^(2u)) from Math.exp. */
    static double geluTanhReference(double x) {
        double u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        if (u > -3) return 0.5 * x * (1 + Math.tanh(u));
        double e = Math.exp(2 * u);
        return x * e / (1 + e);
    }

    @Test
    void geluTanhAndSiluAreWithinOneFp32RoundingOfMathLibrary() {
        long seed = ThreadLocalRandom.current().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 5000;
        int[] equal = new int[2];
        for (int k = 0; k < n; k++) {
            float x = (float) (k % 3 == 0 ? rnd.nextGaussian() * 2 : rnd.nextDouble(-30, 30));
            double[] ref = {geluTanhReference(x), x / (1 + Math.exp(-(double) x))};
            float[] got = {Activations.geluTanh(x), Activations.silu(x)};
            for (int a = 0; a < 2; a++) {
                float want = (float) ref[a];
                if (got[a] == want) equal[a]++;
                assertTrue(Math.abs(got[a] - ref[a]) <= Math.ulp(want),
                        "seed " + seed + ": " + (a == 0 ? "geluTanh(" : "silu(") + x + ") = " + got[a] + ", reference " + ref[a]);
            }
        }
        assertTrue(equal[0] >= n - 3 && equal[1] >= n - 3,
                "seed " + seed + ": equal to the correctly rounded reference: " + equal[0] + ", " + equal[1] + " of " + n);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Activations.geluTanh(-0f)), "sign of -0");
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Activations.silu(-0f)), "sign of -0");
        assertTrue(Float.isNaN(Activations.geluTanh(Float.NaN)) && Float.isNaN(Activations.silu(Float.NaN)));
        assertEquals(Float.POSITIVE_INFINITY, Activations.geluTanh(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Activations.silu(Float.POSITIVE_INFINITY));
        assertEquals(0f, Math.abs(Activations.geluTanh(-200f)));
        assertEquals(0f, Math.abs(Activations.silu(-200f)));
        assertEquals(1e30f, Activations.geluTanh(1e30f));
    }

    @Test
    void geluSpecialValues() {
        assertEquals(0f, Activations.gelu(0f));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Activations.gelu(-0f)), "sign of -0");
        assertTrue(Float.isNaN(Activations.gelu(Float.NaN)));
        assertEquals(Float.POSITIVE_INFINITY, Activations.gelu(Float.POSITIVE_INFINITY));
        assertEquals(100f, Activations.gelu(100f));
        assertEquals(0.8413447460685429, Activations.gelu(1f), 1e-7);    // Φ(1)
        assertEquals(-0.15865525393145707, Activations.gelu(-1f), 1e-8); // −Φ(−1)
        assertEquals(Activations.GELU, 1);
        assertEquals(Activations.gelu(0.3f), Activations.apply(Activations.GELU, 0.3f));
    }
}
