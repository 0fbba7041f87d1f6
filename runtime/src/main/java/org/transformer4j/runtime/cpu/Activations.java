// Activations — the MLP activations and epilogue on the CPU, the twin of native/src/mlp/epilogue.cuh
// (fp32 in and out; erf and tanh evaluated in double, which is within an fp32 rounding of the GPU's erff/tanhf).
package org.transformer4j.runtime.cpu;

/** fp32 activations with the codes of t4j.h's T4J_ACT_* (0 none, 1 GELU, 2 GELU tanh, 3 ReLU, 4 SiLU). */
public final class Activations {

    private Activations() {
    }

    public static final int NONE = 0;
    public static final int GELU = 1;
    public static final int GELU_TANH = 2;
    public static final int RELU = 3;
    public static final int SILU = 4;

    public static float apply(int act, float x) {
        return switch (act) {
            case GELU -> (float) (0.5 * x * (1 + erf(x * 0.7071067811865476)));
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))));
            case RELU -> Math.max(x, 0f);
            case SILU -> (float) (x / (1 + Math.exp(-x)));
            case NONE -> x;
            default -> throw new IllegalArgumentException("unknown activation code " + act);
        };
    }

    /**
     * The error function to about 1e-15: its Maclaurin series for |x| ≤ 3 (terms shrink after
     * n ≈ x², cancellation costs at most 3 digits there), the continued fraction of erfc beyond,
     * and ±1 past 6 where erfc is below 1e-17.
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 6) return Math.signum(x);
        if (ax <= 3) {
            double term = x;
            double sum = x;
            double x2 = x * x;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            return 2 / Math.sqrt(Math.PI) * sum;
        }
        // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail
        double t = ax;
        for (int n = 80; n >= 1; n--) t = ax + (n / 2.0) / t;
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t;
        return Math.signum(x) * (1 - erfc);
    }
}
