// ActivationOpTest — the linear op's epilogue alone on the CPU (out = act(x) [⊙ gate] [+ residual]) against float64
// arithmetic written here from the formulas of t4j.h's T4J_ACT_* (erf from Oracle, which shares nothing with the
// kernels): every activation with and without a gate, the clamped SwiGLU with its gate, a residual, the two halves of
// a fused (R, 2N) product as strided inputs, out over x or over the residual; clip_qkv's CLAMP exactly (its bound, ±inf,
// NaN, in place); and its argument checks, each named.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.reference.Oracle;

class ActivationOpTest {

    private final CpuBackend cpu = new CpuBackend();

    /** act(x) in float64, from the formulas (t4j.h's T4J_ACT_*); SWIGLU_OAI's activated branch, min(x, 7)·σ(1.702·min(x, 7)). */
    static double act64(Activation a, double x) {
        return switch (a) {
            case NONE -> x;
            case GELU -> 0.5 * x * (1 + Oracle.erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case RELU -> x > 0 ? x : 0;
            case SILU -> x / (1 + Math.exp(-x));
            case SWIGLU_OAI -> {
                double c = Math.min(x, 7);
                yield c / (1 + Math.exp(-(double) 1.702f * c));     // swiglu_alpha as torch holds it: the float 1.702
            }
            case RELU2 -> x > 0 ? x * x : 0;                        // transformers' ReLUSquaredActivation: square(relu(x))
            case CLAMP -> throw new IllegalArgumentException("CLAMP takes its bound: see clampIsExactInEveryDtype");
        };
    }

    /** What the gated form multiplies by: the gate, or for SWIGLU_OAI clamp(g, −7, 7) + 1. */
    static double gate64(Activation a, double g) {
        return a == Activation.SWIGLU_OAI ? Math.max(-7, Math.min(7, g)) + 1 : g;
    }

    /** out (rows, cols) in float64 from dense x, gate and residual (the last two may be null). */
    static double[] reference(Activation a, float[] x, float[] gate, float[] residual) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = act64(a, x[i]);
            if (gate != null) v *= gate64(a, gate[i]);
            if (residual != null) v += residual[i];
            out[i] = v;
        }
        return out;
    }

    /** The terms' magnitudes, for the bound of a sum that cancels against its residual. */
    static double[] magnitude(Activation a, float[] x, float[] gate, float[] residual) {
        double[] m = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            m[i] = Math.abs(act64(a, x[i]) * (gate == null ? 1 : gate64(a, gate[i]))) + (residual == null ? 0 : Math.abs(residual[i]));
        }
        return m;
    }

    /** Every activation with and without a gate (SWIGLU_OAI only with one), residual or not, in the three dtypes in turn. */
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        DType[] dts = {DType.F32, DType.BF16, DType.F16};
        int i = 0;
        for (Activation a : Activation.values()) {
            for (boolean gated : new boolean[] {false, true}) {
                if (a.gatedOnly() && !gated) continue;
                if (a.limited()) continue;                                   // CLAMP: its own test, with its bound
                for (boolean residual : new boolean[] {false, true}) out.add(Arguments.of(a, gated, residual, dts[i++ % dts.length]));
            }
        }
        out.add(Arguments.of(Activation.SWIGLU_OAI, true, true, DType.F32));  // every dtype for the clamps
        out.add(Arguments.of(Activation.SWIGLU_OAI, true, false, DType.BF16));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} gated={1} residual={2} {3}")
    @MethodSource("cases")
    void isTheEpilogueInFloat64(Activation a, boolean gated, boolean withResidual, DType dt) {
        SplittableRandom rnd = new SplittableRandom(31L * a.ordinal() + (gated ? 7 : 0) + (withResidual ? 3 : 0) + dt.ordinal());
        int rows = 13, cols = 37;
        double scale = a == Activation.SWIGLU_OAI ? 10 : 4;          // past SwiGLU's clamps (±7), GELU's tails
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * cols, scale), rows, cols);
             Tensor g = Tensor.of(dt, LinearOpTest.random(rnd, rows * cols, scale), rows, cols);
             Tensor r = Tensor.of(dt, LinearOpTest.random(rnd, rows * cols, 2), rows, cols);
             Tensor out = Tensor.empty(dt, rows, cols).fill(Float.NaN)) {
            ActivationOp op = ActivationOp.of(x, a, out);
            if (gated) op = op.gate(g);
            if (withResidual) op = op.residual(r);
            cpu.activation(op);
            float[] xs = x.toFloatArray(), gs = gated ? g.toFloatArray() : null, rs = withResidual ? r.toFloatArray() : null;
            LinearOpTest.assertClose(dt, out.toFloatArray(), reference(a, xs, gs, rs), magnitude(a, xs, gs, rs), a + " " + dt);
            if (a == Activation.SWIGLU_OAI) {
                int above = 0, outside = 0;
                for (int i = 0; i < xs.length; i++) {
                    if (xs[i] > Activation.SWIGLU_LIMIT) above++;
                    if (Math.abs(gs[i]) > Activation.SWIGLU_LIMIT) outside++;
                }
                assertTrue(above > 10 && outside > 10, "the clamps must bite: " + above + " / " + outside);
            }
        }
    }

    /**
     * The two halves of a fused [up | gate] product (R, 2N) as strided x and gate; out separate, then out over x itself
     * (the gate's half must stay as it was), then a rank-3 x with the residual as out (out += act(x) ⊙ gate).
     */
    @Test
    void takesColumnViewsAndWritesOverXOrTheResidual() {
        SplittableRandom rnd = new SplittableRandom(99);
        int rows = 6, n = 20;
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            try (Tensor fused = Tensor.of(dt, LinearOpTest.random(rnd, rows * 2 * n, 3), rows, 2L * n);
                 Tensor res = Tensor.of(dt, LinearOpTest.random(rnd, rows * n, 2), rows, n);
                 Tensor out = Tensor.empty(dt, rows, n).fill(Float.NaN)) {
                Tensor up = fused.slice(1, 0, n), gate = fused.slice(1, n, 2L * n);
                float[] ups = up.toFloatArray(), gates = gate.toFloatArray(), rs = res.toFloatArray();
                cpu.activation(ActivationOp.of(up, Activation.SILU, out).gate(gate).residual(res));
                LinearOpTest.assertClose(dt, out.toFloatArray(), reference(Activation.SILU, ups, gates, rs),
                        magnitude(Activation.SILU, ups, gates, rs), "column views " + dt);

                cpu.activation(ActivationOp.of(up, Activation.GELU_TANH, up).gate(gate));             // out = x's own view
                LinearOpTest.assertClose(dt, up.toFloatArray(), reference(Activation.GELU_TANH, ups, gates, null), "out over x " + dt);
                assertArrayEquals(gates, gate.toFloatArray(), "the gate's half was written " + dt);

                try (Tensor x3 = Tensor.of(dt, LinearOpTest.random(rnd, rows * n, 3), 2, rows / 2, n);
                     Tensor g3 = Tensor.of(dt, LinearOpTest.random(rnd, rows * n, 3), 2, rows / 2, n);
                     Tensor acc = Tensor.of(dt, rs, 2, rows / 2, n)) {
                    float[] xs = x3.toFloatArray(), gs = g3.toFloatArray();
                    cpu.activation(ActivationOp.of(x3, Activation.GELU, acc).gate(g3).residual(acc));   // out += act(x) ⊙ gate
                    LinearOpTest.assertClose(dt, acc.toFloatArray(), reference(Activation.GELU, xs, gs, rs), magnitude(Activation.GELU, xs, gs, rs),
                            "rank 3, residual = out " + dt);
                }
            }
        }
    }

    /**
     * CLAMP (OLMo's and MPT's clip_qkv: torch's clamp(min=−c, max=c)) in each dtype: every output the input or ±limit exactly
     * (no rounding: both are values of the dtype), ±inf to ±limit, NaN kept, in place (out = x) and with a residual
     * (clamp, then + r, one rounding).
     */
    @Test
    void relu2IsOneRoundingOfTheSquareInEveryDtype() {
        // max(x, 0)² of an fp32 x is exact in float64; the op rounds it once to fp32 (the epilogue's math) and stores it in
        // the dtype: so each element must be exactly dtype(fp32(x²)) for x > 0, +0 for x ≤ 0, NaN for NaN, +inf past fp32
        SplittableRandom rnd = new SplittableRandom(19);
        int rows = 5, cols = 37;
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            float[] v = LinearOpTest.random(rnd, rows * cols, 6);
            v[0] = Float.NaN;
            v[1] = -0f;
            v[2] = Float.NEGATIVE_INFINITY;
            v[3] = Float.POSITIVE_INFINITY;
            v[4] = dt == DType.F16 ? 300f : 3e19f;                    // the square past the dtype's range: +inf
            v[5] = dt == DType.F16 ? 1e-4f : 1e-30f;                  // the square below the dtype's normals
            try (Tensor x = Tensor.of(dt, v, rows, cols); Tensor out = Tensor.empty(dt, rows, cols).fill(Float.NaN)) {
                float[] xs = x.toFloatArray();
                float[] sq = new float[xs.length];
                int negative = 0;
                for (int i = 0; i < xs.length; i++) {
                    double r = Double.isNaN(xs[i]) ? xs[i] : Math.max((double) xs[i], 0);
                    sq[i] = (float) (r * r);                               // exact in float64, then one rounding to fp32
                    negative += xs[i] < 0 ? 1 : 0;
                }
                assertTrue(negative > 40, "inputs of both signs: " + negative + " negative");
                float[] want;
                try (Tensor w = Tensor.of(dt, sq, rows, cols)) { want = w.toFloatArray(); }   // the store's rounding to dt
                cpu.activation(ActivationOp.of(x, Activation.RELU2, out));
                float[] got = out.toFloatArray();
                for (int i = 0; i < got.length; i++) {
                    assertTrue(Float.floatToIntBits(got[i]) == Float.floatToIntBits(want[i]),
                            dt + " element " + i + ": relu2(" + xs[i] + ") = " + got[i] + ", want " + want[i]);
                }
            }
        }
    }

    @Test
    void clampIsExactInEveryDtype() {
        SplittableRandom rnd = new SplittableRandom(5);
        int rows = 7, cols = 41;
        float limit = 1.25f;
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            float[] v = LinearOpTest.random(rnd, rows * cols, 4);
            v[3] = Float.POSITIVE_INFINITY;
            v[4] = Float.NEGATIVE_INFINITY;
            v[5] = Float.NaN;
            v[6] = limit;
            v[7] = -limit;
            try (Tensor x = Tensor.of(dt, v, rows, cols); Tensor r = Tensor.of(dt, LinearOpTest.random(rnd, rows * cols, 2), rows, cols);
                 Tensor out = Tensor.empty(dt, rows, cols).fill(Float.NaN)) {
                float[] xs = x.toFloatArray(), rs = r.toFloatArray();
                double[] ref = new double[xs.length], sum = new double[xs.length], mag = new double[xs.length];
                int above = 0, below = 0;
                for (int i = 0; i < xs.length; i++) {
                    double c = Double.isNaN(xs[i]) ? xs[i] : Math.max(-limit, Math.min(limit, (double) xs[i]));
                    ref[i] = c;
                    sum[i] = c + rs[i];
                    mag[i] = Math.abs(c) + Math.abs(rs[i]);
                    above += xs[i] > limit ? 1 : 0;
                    below += xs[i] < -limit ? 1 : 0;
                }
                assertTrue(above > 20 && below > 20, "the clamp must bite: " + above + " / " + below);
                cpu.activation(ActivationOp.clamp(x, limit, out));
                float[] got = out.toFloatArray();
                for (int i = 0; i < got.length; i++) {
                    assertTrue(Double.isNaN(ref[i]) ? Float.isNaN(got[i]) : got[i] == ref[i], dt + " element " + i + ": " + xs[i] + " → " + got[i]);
                }
                float[] gotSum;
                try (Tensor acc = Tensor.of(dt, rs, rows, cols)) {
                    cpu.activation(ActivationOp.clamp(x, limit, acc).residual(acc));                 // out += clamp(x)
                    gotSum = acc.toFloatArray();
                }
                for (int i = 0; i < sum.length; i++) {
                    if (Double.isNaN(sum[i])) {
                        assertTrue(Float.isNaN(gotSum[i]), dt + " NaN kept through the residual");
                        sum[i] = 0;
                        mag[i] = 0;
                        gotSum[i] = 0;
                    }
                }
                LinearOpTest.assertClose(dt, gotSum, sum, mag, "clamp + residual " + dt);
                cpu.activation(ActivationOp.clamp(x, limit, x));                                       // in place
                float[] again = x.toFloatArray();
                for (int i = 0; i < again.length; i++) {
                    assertTrue(Float.floatToRawIntBits(again[i]) == Float.floatToRawIntBits(got[i]), dt + " in place, element " + i);
                }
            }
        }
    }

    private static void rejects(Runnable op, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op::run);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message lacks '" + f + "': " + e.getMessage());
    }

    @Test
    void refusesMismatchesNamingThem() {
        try (Tensor x = Tensor.empty(DType.F32, 3, 4); Tensor out = Tensor.empty(DType.F32, 3, 4);
             Tensor wrong = Tensor.empty(DType.F32, 3, 5); Tensor half = Tensor.empty(DType.F16, 3, 4);
             Tensor ints = Tensor.ofInts(new int[12], 3, 4); Tensor wide = Tensor.empty(DType.F32, 3, 8)) {
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.GELU, wrong)), "out has shape (3, 5) but x has shape (3, 4)");
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.SILU, out).gate(wrong)), "gate has shape (3, 5) but x has shape (3, 4)");
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.NONE, out).residual(wrong)),
                    "residual has shape (3, 5) but out has shape (3, 4)");
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.SWIGLU_OAI, out)), "activation SWIGLU_OAI needs a gate");
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.RELU, half)), "out has dtype F16 but x has F32");
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.SILU, out).gate(half)), "gate has dtype F16");
            rejects(() -> cpu.activation(ActivationOp.of(ints, Activation.RELU, out)), "x must be F32, F16 or BF16");
            rejects(() -> cpu.activation(ActivationOp.of(x, null, out)), "activation is null");
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.CLAMP, out)), "CLAMP's limit must be finite and > 0, got 0.0");
            rejects(() -> cpu.activation(ActivationOp.clamp(x, Float.NaN, out)), "CLAMP's limit must be finite and > 0, got NaN");
            rejects(() -> cpu.activation(ActivationOp.clamp(x, Float.POSITIVE_INFINITY, out)), "CLAMP's limit must be finite");
            rejects(() -> cpu.activation(ActivationOp.clamp(x, 2f, out).gate(out)), "CLAMP clamps one product: it takes no gate");
            rejects(() -> cpu.activation(new ActivationOp(x, null, Activation.SILU, null, out, 2f)), "activation SILU takes no limit, got 2.0");
            // a gate one column into out's half of one storage: neither out itself nor apart from it
            Tensor left = wide.slice(1, 0, 4);
            rejects(() -> cpu.activation(ActivationOp.of(x, Activation.SILU, left).gate(wide.slice(1, 1, 5))), "gate", "overlaps out");
            rejects(() -> cpu.activation(ActivationOp.of(wide.slice(1, 2, 6), Activation.GELU, left)), "x", "overlaps out");
            // the other half of the same storage is apart: taken
            cpu.activation(ActivationOp.of(wide.slice(1, 4, 8), Activation.NONE, left));
        }
    }
}
