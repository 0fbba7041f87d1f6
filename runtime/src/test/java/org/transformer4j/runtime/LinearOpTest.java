// LinearOpTest — the CPU twin of the fused linear (GEMM + bias + activation [+ gate] [+ residual])
// against the float64 oracle: every activation, gated and plain, both weight layouts, odd sizes
// (1×1×1, T=1, sizes off the GPU's 128/64 tiles, K not a multiple of 8), fp32 and the 16-bit
// dtypes; the fused QKV projection and its split views; the residual aliasing the output.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

class LinearOpTest {

    private final CpuBackend cpu = new CpuBackend();

    static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return v;
    }

    /**
     * The CPU twin rounds once on store: per element, |cpu − ref| ≤ u·|ref| + (fp32 accumulation
     * error ~ K · 2^-24 · Σ|x·w|, bounded here by 1e-5 · max|ref| for these sizes), u the unit
     * roundoff of the dtype (2^-24 F32, 2^-11 F16, 2^-8 BF16).
     */
    static void assertClose(DType dt, float[] got, double[] ref, String what) {
        assertClose(dt, got, ref, ref, what);
    }

    /**
     * As above, with the accumulation term scaled by the terms' magnitude (the same sum over |x|,
     * |w|, |b|, |r|) instead of the result's: a sum that cancels to nearly zero (x·w against the
     * residual, M = N = K = 1) still carries the rounding of its large terms.
     */
    static void assertClose(DType dt, float[] got, double[] ref, double[] magnitude, String what) {
        double u = switch (dt) {
            case F16 -> Math.scalb(1.0, -11);
            case BF16 -> Math.scalb(1.0, -8);
            default -> Math.scalb(1.0, -24);
        };
        double maxRef = 0;
        for (double r : ref) maxRef = Math.max(maxRef, Math.abs(r));
        for (double r : magnitude) maxRef = Math.max(maxRef, Math.abs(r));
        for (int i = 0; i < ref.length; i++) {
            double bound = u * Math.abs(ref[i]) + 1e-5 * maxRef + 1e-30;
            assertTrue(Math.abs(got[i] - ref[i]) <= bound,
                    what + ": element " + i + " is " + got[i] + ", reference " + ref[i] + " (bound " + bound + ")");
        }
    }

    /** CLAMP's bound in these cases: below most products' size, so that the clamp bites. */
    static final float CLAMP_LIMIT = 0.375f;

    static Stream<Arguments> cases() {
        int[][] shapes = {{1, 1, 1}, {1, 96, 64}, {3, 5, 7}, {17, 33, 65}, {130, 70, 40}, {64, 129, 24}};
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (Activation act : Activation.values()) {
            for (boolean gated : new boolean[] {false, true}) {
                if (act.gatedOnly() && !gated) continue;                   // SWIGLU_OAI: the gated form only
                if (act.limited() && gated) continue;                      // CLAMP: the plain form only
                for (int[] s : shapes) {
                    DType dt = DType.values()[i % 3];
                    boolean transW = (i & 1) == 0;
                    boolean bias = (i % 3) != 1;
                    boolean residual = (i % 4) < 2;
                    out.add(Arguments.of(dt, act, gated, s[0], s[1], s[2], transW, bias, residual));
                    i++;
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} gated={2} M={3} N={4} K={5} transW={6} bias={7} residual={8}")
    @MethodSource("cases")
    void cpuTwinMatchesOracle(DType dt, Activation act, boolean gated, int m, int n, int k, boolean transW,
                              boolean withBias, boolean withResidual) {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] wShape = transW ? new long[] {n, k} : new long[] {k, n};
        float alpha = k % 2 == 0 ? 1f : 0.5f;
        try (Tensor x = Tensor.of(dt, random(rnd, m * k, 1), m, k);
             Tensor w = Tensor.of(dt, random(rnd, k * n, 1), wShape);
             Tensor wg = Tensor.of(dt, random(rnd, k * n, 1), wShape);
             Tensor b = Tensor.of(dt, random(rnd, n, 1), n);
             Tensor bg = Tensor.of(dt, random(rnd, n, 1), n);
             Tensor r = Tensor.of(dt, random(rnd, m * n, 1), m, n);
             Tensor out = Tensor.empty(dt, m, n).fill(Float.NaN)) {
            LinearOp op = LinearOp.of(x, w, out).transW(transW).activation(act).alpha(alpha);
            if (act.limited()) op = op.clamp(CLAMP_LIMIT);
            if (withBias) op = op.bias(b);
            if (gated) op = op.gate(wg, withBias ? bg : null);
            if (withResidual) op = op.residual(r);
            cpu.linear(op);
            double[] ref = Oracle.linear(m, n, k, x.toFloatArray(), w.toFloatArray(), transW,
                    withBias ? b.toFloatArray() : null, gated ? wg.toFloatArray() : null,
                    gated && withBias ? bg.toFloatArray() : null, withResidual ? r.toFloatArray() : null, alpha, act.code(),
                    act.limited() ? CLAMP_LIMIT : 0);
            double[] magnitude = Oracle.linear(m, n, k, abs(x.toFloatArray()), abs(w.toFloatArray()), transW,
                    withBias ? abs(b.toFloatArray()) : null, gated ? abs(wg.toFloatArray()) : null,
                    gated && withBias ? abs(bg.toFloatArray()) : null, withResidual ? abs(r.toFloatArray()) : null, alpha, 0);
            assertClose(dt, out.toFloatArray(), ref, magnitude, dt + " " + act + " seed " + seed);
        }
    }

    private static float[] abs(float[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) a[i] = Math.abs(v[i]);
        return a;
    }

    @Test
    void residualMayBeTheOutputItself() {
        SplittableRandom rnd = new SplittableRandom(7);
        int m = 9, n = 12, k = 10;
        try (Tensor x = Tensor.ofFloats(random(rnd, m * k, 1), m, k); Tensor w = Tensor.ofFloats(random(rnd, k * n, 1), k, n);
             Tensor h = Tensor.ofFloats(random(rnd, m * n, 1), m, n)) {
            float[] before = h.toFloatArray();
            cpu.linear(LinearOp.of(x, w, h).activation(Activation.GELU).residual(h));   // h += gelu(x·W)
            double[] ref = Oracle.linear(m, n, k, x.toFloatArray(), w.toFloatArray(), false, null, null, null, before, 1,
                    Activation.GELU.code());
            assertClose(DType.F32, h.toFloatArray(), ref, "in-place residual");
        }
    }

    @Test
    void fusedQkvIsOneProjectionSplitIntoViews() {
        SplittableRandom rnd = new SplittableRandom(11);
        int t = 5, c = 12;
        try (Tensor x = Tensor.ofFloats(random(rnd, t * c, 1), t, c);
             Tensor w = Tensor.ofFloats(random(rnd, c * 3 * c, 1), c, 3 * c);      // GPT-2 c_attn (C, 3C)
             Tensor b = Tensor.ofFloats(random(rnd, 3 * c, 1), 3 * c);
             Tensor qkv = Tensor.empty(DType.F32, t, 3 * c)) {
            cpu.linear(LinearOp.of(x, w, qkv).bias(b));
            Tensor[] parts = LinearOp.split(qkv, 3);
            float[] wf = w.toFloatArray();
            float[] bf = b.toFloatArray();
            for (int p = 0; p < 3; p++) {
                assertEquals(c, parts[p].shape(1));
                assertEquals(3L * c, parts[p].stride(0), "a view, not a copy");
                float[] wp = new float[c * c];
                float[] bp = new float[c];
                for (int i = 0; i < c; i++) {
                    System.arraycopy(wf, i * 3 * c + p * c, wp, i * c, c);
                    bp[i] = bf[p * c + i];
                }
                double[] ref = Oracle.linear(t, c, c, x.toFloatArray(), wp, false, bp, null, null, null, 1, 0);
                assertClose(DType.F32, parts[p].toFloatArray(), ref, "part " + p);
            }
            // A strided view feeds the next projection directly (the attention output projection reads such views).
            try (Tensor w2 = Tensor.ofFloats(random(rnd, c * c, 1), c, c); Tensor y = Tensor.empty(DType.F32, t, c)) {
                cpu.linear(LinearOp.of(parts[2], w2, y));
                double[] ref = Oracle.linear(t, c, c, parts[2].toFloatArray(), w2.toFloatArray(), false, null, null, null, null, 1, 0);
                assertClose(DType.F32, y.toFloatArray(), ref, "strided input");
            }
        }
    }

    @Test
    void logitsAgainstATiedEmbeddingWithScale() {
        SplittableRandom rnd = new SplittableRandom(13);
        int t = 3, c = 16, v = 37;
        try (Tensor h = Tensor.ofFloats(random(rnd, t * c, 1), 1, t, c);
             Tensor emb = Tensor.ofFloats(random(rnd, v * c, 1), v, c);         // (V, C), the input embedding
             Tensor logits = Tensor.empty(DType.F32, 1, t, v)) {
            float scale = (float) (1 / Math.sqrt(c));                          // T5's tied d_model^-0.5
            cpu.linear(LinearOp.of(h, emb, logits).transW(true).alpha(scale));
            double[] ref = Oracle.linear(t, v, c, h.toFloatArray(), emb.toFloatArray(), true, null, null, null, null, scale, 0);
            assertClose(DType.F32, logits.toFloatArray(), ref, "tied logits");
        }
    }
}
