// Tolerance — DESIGN.md's tolerance rule, written once for every test and the demo: fp32 paths land
// under 1e-5 relative error (‖out − ref‖ / ‖ref‖); a low-precision (F16, BF16) result's max error
// against a float64 reference may be at most 2× the max error of the same computation done naively in
// that precision (the CPU twin), plus a small absolute term.
package org.transformer4j.runtime;

/** Static helpers; {@link #violation} is the rule, the rest its parts. */
public final class Tolerance {

    /** fp32: ‖out − ref‖ / ‖ref‖ must stay below this. */
    public static final double F32_RELATIVE = 1e-5;

    /**
     * The absolute term, as a fraction of max|ref|: it matters only where the naive computation's error
     * happens to be tiny (few roundings, values that round exactly). 1e-5 is fp32's own relative error
     * bound: below every F16/BF16 rounding step (2^-11, 2^-8), so it cannot hide a low-precision bug.
     */
    public static final double ABSOLUTE_FRACTION = 1e-5;

    private Tolerance() {}

    /** The largest error a low-precision result may have: 2 · naiveErr + ABSOLUTE_FRACTION · maxRef. */
    public static double allowed(double naiveErr, double maxRef) {
        return allowed(DType.F32, naiveErr, maxRef, 0);
    }

    /**
     * The same, for paths that store {@code extraRoundings} more intermediates in {@code dt} than the naive
     * twin does: each adds one unit roundoff of {@code dt} times maxRef.
     */
    public static double allowed(DType dt, double naiveErr, double maxRef, int extraRoundings) {
        return 2 * naiveErr + (ABSOLUTE_FRACTION + extraRoundings * unitRoundoff(dt)) * maxRef;
    }

    /** Half the distance between 1 and the next value of dt: 2^-24 (F32), 2^-11 (F16), 2^-8 (BF16). */
    public static double unitRoundoff(DType dt) {
        return switch (dt) {
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> 0x1p-24;
        };
    }

    /**
     * Null when {@code got} follows the rule for {@code dt}, else a sentence saying by how much it does not.
     * {@code naive} is the same computation done naively in {@code dt} (unused for F32). A NaN anywhere fails.
     */
    public static String violation(DType dt, float[] got, float[] naive, double[] ref, int extraRoundings) {
        if (dt == DType.F32) {
            double rel = relativeError(got, ref);
            return rel < F32_RELATIVE ? null : "relative error " + rel + " ≥ " + F32_RELATIVE;
        }
        double err = maxError(got, ref);
        double naiveErr = maxError(naive, ref);
        double bound = allowed(dt, naiveErr, maxAbs(ref), extraRoundings);
        return err <= bound ? null : "max error " + err + " > 2 × " + naiveErr + " (the naive " + dt + " computation's) + "
                + (ABSOLUTE_FRACTION + extraRoundings * unitRoundoff(dt)) + " · max|ref| = " + bound;
    }

    /** ‖got − ref‖ / ‖ref‖ (‖got − ref‖ when ref is all zeros); infinite when got has a NaN. */
    public static double relativeError(float[] got, double[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = got[i] - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
        }
        if (Double.isNaN(num)) return Double.POSITIVE_INFINITY;
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** max |got − ref|; infinite when got has a NaN. */
    public static double maxError(float[] got, double[] ref) {
        double m = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = Math.abs(got[i] - ref[i]);
            if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
            m = Math.max(m, d);
        }
        return m;
    }

    public static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }
}
