// Activations — the MLP activations and epilogue on the CPU, the twin of native/src/linear/epilogue.cuh
// (fp32 in and out; erf, tanh and exp evaluated in double, which is within an fp32 rounding of the GPU's
// erff/tanhf/expf). Exact GELU reads erfc from a table of Taylor expansions (a few multiply-adds instead of
// erf's series); tanh GELU and SiLU are x / (1 + e^t) with e^t from range reduction and a Taylor polynomial
// (multiply-adds only, so VectorOps gives the same bits eight lanes at a time).
package org.transformer4j.runtime.cpu;

/**
 * fp32 activations with the codes of t4j.h's T4J_ACT_* (0 none, 1 GELU, 2 GELU tanh, 3 ReLU, 4 SiLU, 5 GPT-OSS's clamped SwiGLU,
 * 6 clip_qkv's clamp to ±limit, 7 squared ReLU).
 */
public final class Activations {

    private Activations() {
    }

    public static final int NONE = 0;
    public static final int GELU = 1;
    public static final int GELU_TANH = 2;
    public static final int RELU = 3;
    public static final int SILU = 4;
    public static final int SWIGLU_OAI = 5;
    public static final int CLAMP = 6;
    public static final int RELU2 = 7;

    /** SWIGLU_OAI's gain and clamp (swiglu_alpha, swiglu_limit). */
    static final double OAI_ALPHA = org.transformer4j.runtime.Activation.SWIGLU_ALPHA, OAI_LIMIT = org.transformer4j.runtime.Activation.SWIGLU_LIMIT;

    /** act(x); CLAMP (which needs its limit) through {@link #apply(int, float, float)}. */
    public static float apply(int act, float x) {
        if (act == CLAMP) throw new IllegalArgumentException("CLAMP needs its limit");
        return apply(act, x, 0f);
    }

    /** act(x), {@code limit} CLAMP's (0 for the others). */
    public static float apply(int act, float x, float limit) {
        return switch (act) {
            case CLAMP -> clamp(x, limit);
            case GELU -> gelu(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> Math.max(x, 0f);
            case RELU2 -> relu2(x);
            case SILU -> silu(x);
            case SWIGLU_OAI -> swigluOai(x);
            case NONE -> x;
            default -> throw new IllegalArgumentException("unknown activation code " + act);
        };
    }

    /**
     * GELU's tanh form (HF gelu_new / gelu_pytorch_tanh), x/2 · (1 + tanh(√(2/π)(x + 0.044715x³))),
     * evaluated as the equal x / (1 + e^t) with t = −2√(2/π) · x · (1 + 0.044715x²), in double, rounded
     * once to fp32: no cancellation in the negative tail (where 1 + tanh loses its digits). Within one
     * fp32 rounding of the exact value (ActivationsTest checks it against Math.tanh); VectorOps.expActivation
     * gives the same bits. GELU(−∞) is −∞ here (the tanh form gives NaN): both are non-finite.
     */
    public static float geluTanh(float x) {
        double xd = x;
        double t = xd * Math.fma(TANH_B, xd * xd, TANH_A);
        return (float) (xd / (1 + exp(t)));
    }

    /** SiLU, x / (1 + e^−x), in double with {@link #exp}, rounded once to fp32; VectorOps.expActivation gives the same bits. */
    public static float silu(float x) {
        double xd = x;
        return (float) (xd / (1 + exp(-xd)));
    }

    /**
     * SWIGLU_OAI's activated branch: a' = min(a, 7) (NaN stays NaN), a' / (1 + e^(−1.702·a')) in double, rounded once
     * (transformers' gate.clamp(max=limit); gate · sigmoid(gate · alpha), alpha the float 1.702 as torch holds it).
     */
    public static float swigluOai(float x) {
        double a = x > OAI_LIMIT ? OAI_LIMIT : x;
        return (float) (a / (1 + exp(-OAI_ALPHA * a)));
    }

    /**
     * max(x, 0)² in fp32, one rounding, NaN kept: epilogue.cuh's T4J_ACT_RELU2 (ABI 19), transformers' relu2
     * (ReLUSquaredActivation, square(relu(x))) of NVIDIA Nemotron's MLP.
     */
    public static float relu2(float x) {
        float r = x < 0f ? 0f : x;
        return r * r;
    }

    /** clamp(x, −limit, limit) with NaN kept, as epilogue.cuh's T4J_ACT_CLAMP (OLMo's and MPT's clip_qkv). */
    public static float clamp(float x, float limit) {
        return x > limit ? limit : x < -limit ? -limit : x;
    }

    /**
     * What the gated form multiplies the activated branch by: g itself, or for SWIGLU_OAI clamp(g, −7, 7) + 1
     * (transformers' (up.clamp(−limit, limit) + 1)); NaN stays NaN.
     */
    public static float gateFactor(int act, float g) {
        if (act != SWIGLU_OAI) return g;
        float c = g > (float) OAI_LIMIT ? (float) OAI_LIMIT : g < (float) -OAI_LIMIT ? (float) -OAI_LIMIT : g;
        return c + 1f;
    }

    /** −2√(2/π) and −2√(2/π) · 0.044715: t = x · (TANH_A + TANH_B · x²). */
    static final double TANH_A = -2 * Math.sqrt(2 / Math.PI);
    static final double TANH_B = TANH_A * 0.044715;

    /**
     * e^t in double for the activations, to about 1e-15 relative, with multiply-adds only: t clamped to
     * ±700 (the activations are then 0 or x to fp32 either way; NaN stays NaN), k = round(t / ln 2) from
     * the low bits of t·log₂e + 1.5·2⁵² (the add rounds to an integer), r = t − k·ln 2 in two fma steps
     * (|r| ≤ ln 2 / 2), e^r by Horner on its Taylor series to r¹³ (the rest is below 5e-18 of it), times
     * 2^k built from those low bits. VectorOps.expActivation performs the same operations lane by lane.
     */
    static double exp(double t) {
        t = Math.min(Math.max(t, -EXP_CLAMP), EXP_CLAMP);
        double n = Math.fma(t, LOG2E, ROUND);
        double k = n - ROUND;
        double r = Math.fma(-k, LN2_HI, t);
        r = Math.fma(-k, LN2_LO, r);
        double p = EXP_TAYLOR[EXP_DEGREE];
        for (int i = EXP_DEGREE - 1; i >= 0; i--) p = Math.fma(p, r, EXP_TAYLOR[i]);
        return p * Double.longBitsToDouble((Double.doubleToRawLongBits(n) + 1023) << 52);
    }

    static final double EXP_CLAMP = 700;
    static final double LOG2E = 1 / Math.log(2);
    /** 1.5 · 2⁵²: adding it rounds to an integer, which its low mantissa bits then hold. */
    static final double ROUND = 0x1.8p52;
    /** ln 2 in two parts: the nearest double, and the rest (from a 50-digit ln 2). */
    static final double LN2_HI = Math.log(2);
    static final double LN2_LO = new java.math.BigDecimal("0.69314718055994530941723212145817656807550013436025")
            .subtract(new java.math.BigDecimal(LN2_HI)).doubleValue();
    static final int EXP_DEGREE = 13;
    /** 1/i! for i ≤ EXP_DEGREE. */
    static final double[] EXP_TAYLOR = new double[EXP_DEGREE + 1];

    static {
        double f = 1;
        for (int i = 0; i <= EXP_DEGREE; i++) {
            if (i > 0) f *= i;
            EXP_TAYLOR[i] = 1 / f;
        }
    }

    /**
     * Exact GELU, x/2 · (1 + erf(x/√2)), in double, rounded once to fp32: x · (1 − erfc(z)/2) for
     * x ≥ 0 and x/2 · erfc(|z|) below, with z = x/√2, so the negative tail keeps its relative accuracy.
     * Relative error below 1e-12 before the rounding (ActivationsTest checks it).
     */
    public static float gelu(float x) {
        if (Float.isNaN(x)) return x;
        double z = Math.abs(x) * 0.7071067811865476;
        if (x > 0 && z >= ERFC_MAX) return x;   // erfc(z)/2 < 2^-53: 1 − erfc(z)/2 rounds to 1
        double e = erfc(z);
        return (float) (x >= 0 ? x * (1 - 0.5 * e) : 0.5 * x * e);
    }

    /** erfc(z) for z ≥ 0 (not NaN), to 1e-12 relative: the table below 6, erfc's continued fraction beyond. */
    static double erfc(double z) {
        if (z < ERFC_MAX) {
            // the nearest grid point, found in fp32 (as the Vector API path does, where that is cheap)
            int i = (int) ((float) z * ERFC_STEPS + 0.5f);
            double d = z - i * (1.0 / ERFC_STEPS);   // |d| ≤ 1/64 + 1e-6
            int o = i * ERFC_TERMS;
            double e = ERFC_TAYLOR[o + ERFC_TERMS - 1];
            for (int n = ERFC_TERMS - 2; n >= 0; n--) e = e * d + ERFC_TAYLOR[o + n];
            return e;
        }
        return z == Double.POSITIVE_INFINITY ? 0 : erfcFraction(z, 16);   // 16 terms: within 3e-16 for z ≥ 6
    }

    /** Table points per unit of z: the Taylor steps |d| stay within 1/64. */
    static final int ERFC_STEPS = 32;
    /** Coefficients per point (degree 8): the remainder is below 1e-13 of erfc's size on [0, 6] (H_8(6)·(1/64)^9/9!). */
    static final int ERFC_TERMS = 9;
    /** Past 6 (|x| > 8.48) erfc's continued fraction takes over. */
    static final double ERFC_MAX = 6;
    /** (points, ERFC_TERMS): erfc(z_i + d) = Σ_n c[i][n] d^n around z_i = i / ERFC_STEPS, i = 0 .. 6·ERFC_STEPS. */
    static final double[] ERFC_TAYLOR = erfcTaylor();

    /**
     * c[i][0] = erfc(z_i); the n-th derivative of erfc is −(2/√π) (−1)^(n−1) H_(n−1)(z) e^(−z²) with
     * H the (physicists') Hermite polynomials, H_n = 2z H_(n−1) − 2(n−1) H_(n−2), so c[i][n] is that over n!.
     */
    private static double[] erfcTaylor() {
        int points = (int) ERFC_MAX * ERFC_STEPS + 1;
        double[] c = new double[points * ERFC_TERMS];
        for (int i = 0; i < points; i++) {
            double z = (double) i / ERFC_STEPS;
            double g = 2 / Math.sqrt(Math.PI) * Math.exp(-z * z);
            c[i * ERFC_TERMS] = erfcAccurate(z);
            double hPrev = 0, h = 1, factorial = 1;   // h = H_(n−1)(z), hPrev = H_(n−2)(z)
            for (int n = 1; n < ERFC_TERMS; n++) {
                factorial *= n;
                c[i * ERFC_TERMS + n] = ((n - 1) % 2 == 0 ? -g : g) * h / factorial;
                double next = 2 * z * h - 2 * (n - 1) * hPrev;
                hPrev = h;
                h = next;
            }
        }
        return c;
    }

    /** erfc(z) for z ≥ 0 to about 1e-15 relative: 1 − erf below 0.5, else erfc's continued fraction taken 2000 terms deep. */
    static double erfcAccurate(double z) {
        if (z < 0.5) return 1 - erf(z);
        return erfcFraction(z, 2000);
    }

    /** erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail, x > 0. */
    private static double erfcFraction(double x, int terms) {
        double t = x;
        for (int n = terms; n >= 1; n--) t = x + (n / 2.0) / t;
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
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
        return Math.signum(x) * (1 - erfcFraction(ax, 80));
    }
}
