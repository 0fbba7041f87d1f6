// CudaLinearTest — the fused linear on the GPU, both paths (the custom tensor-core GEMM with its
// epilogue, and cuBLAS + t4j_bias_act), swept over dtype × shape × epilogue (activation, gated,
// bias, residual, weight layout) against the float64 oracle with the design's tolerance rule;
// outputs are NaN-poisoned first so that an unwritten element fails. Shapes straddle the 64×64 and
// 128×128 tiles (half as wide when gated), reach both tile sizes (the launcher takes the large one
// when it fills the GPU), split K where tiles are few and K long, include T=1, and K not a
// multiple of 8 (the element-load path).
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.ActivationOp;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.reference.Oracle;

@Tag("gpu")
class CudaLinearTest {

    /** -Dt4j.test.small=true (compute-sanitizer runs) keeps only small shapes. */
    static Stream<Arguments> cases() {
        int[][] shapes = Boolean.getBoolean("t4j.test.small")
                ? new int[][] {{1, 1, 1}, {3, 5, 7}, {130, 70, 40}, {64, 129, 24}, {96, 200, 1000}}
                : new int[][] {{1, 1, 1}, {1, 96, 64}, {3, 5, 7}, {130, 70, 40}, {64, 129, 24}, {257, 200, 72}, {128, 384, 256},
                               {200, 136, 100},
                               {96, 200, 1000},    // 8 blocks of 64×64 with K = 1000: split-K (up to 7 splits)
                               {1500, 1800, 72}};  // ≥ 180 blocks of 128×128: the launcher's large-tile kernels (≤ 180 SMs)
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (GemmMode mode : new GemmMode[] {GemmMode.CUSTOM, GemmMode.CUBLAS}) {
            for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                if (mode == GemmMode.CUSTOM && dt == DType.F32) continue;  // rejected; see below
                for (int[] s : shapes) {
                    for (boolean gated : new boolean[] {false, true}) {
                        Activation act = Activation.values()[i % Activation.values().length];
                        out.add(Arguments.of(mode, dt, act, (gated && !act.limited()) || act.gatedOnly(), s[0], s[1], s[2], (i & 1) == 0, (i % 3) != 1,
                                (i % 4) < 2));
                        i++;
                    }
                }
            }
        }
        return out.stream();
    }

    /** CLAMP's bound (clip_qkv) in these cases: below most products' size, so that the clamp bites. */
    private static final float CLAMP_LIMIT = 0.375f;

    @ParameterizedTest(name = "{0} {1} {2} gated={3} M={4} N={5} K={6} transW={7} bias={8} residual={9}")
    @MethodSource("cases")
    void matchesOracle(GemmMode mode, DType dt, Activation act, boolean gated, int m, int n, int k, boolean transW,
                       boolean withBias, boolean withResidual) {
        CudaBackend gpu = GpuTests.backend();
        GemmMode before = gpu.gemmMode();
        gpu.gemmMode(mode);
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] wShape = transW ? new long[] {n, k} : new long[] {k, n};
        float alpha = k % 2 == 0 ? 1f : 0.5f;
        String what = mode + " " + dt + " " + act + (gated ? " gated" : "") + " M=" + m + " N=" + n + " K=" + k + " seed " + seed;
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, m * k, 1), m, k);
             Tensor hw = Tensor.of(dt, GpuTests.random(rnd, k * n, 1), wShape);
             Tensor hwg = Tensor.of(dt, GpuTests.random(rnd, k * n, 1), wShape);
             Tensor hb = Tensor.of(dt, GpuTests.random(rnd, n, 1), n);
             Tensor hbg = Tensor.of(dt, GpuTests.random(rnd, n, 1), n);
             Tensor hr = Tensor.of(dt, GpuTests.random(rnd, m * n, 1), m, n);
             Tensor x = gpu.upload(hx); Tensor w = gpu.upload(hw); Tensor wg = gpu.upload(hwg);
             Tensor b = gpu.upload(hb); Tensor bg = gpu.upload(hbg); Tensor r = gpu.upload(hr);
             Tensor out = GpuTests.poisoned(gpu, dt, m, n); Tensor cout = Tensor.empty(dt, m, n)) {
            LinearOp g = LinearOp.of(x, w, out).transW(transW).activation(act).alpha(alpha);
            LinearOp c = LinearOp.of(hx, hw, cout).transW(transW).activation(act).alpha(alpha);
            if (act.limited()) {                                   // CLAMP (clip_qkv): the op's own bound
                g = g.clamp(CLAMP_LIMIT);
                c = c.clamp(CLAMP_LIMIT);
            }
            if (withBias) {
                g = g.bias(b);
                c = c.bias(hb);
            }
            if (gated) {
                g = g.gate(wg, withBias ? bg : null);
                c = c.gate(hwg, withBias ? hbg : null);
            }
            if (withResidual) {
                g = g.residual(r);
                c = c.residual(hr);
            }
            gpu.linear(g);
            cpu.linear(c);
            double[] ref = Oracle.linear(m, n, k, hx.toFloatArray(), hw.toFloatArray(), transW,
                    withBias ? hb.toFloatArray() : null, gated ? hwg.toFloatArray() : null,
                    gated && withBias ? hbg.toFloatArray() : null, withResidual ? hr.toFloatArray() : null, alpha, act.code(),
                    act.limited() ? CLAMP_LIMIT : 0);
            // The cuBLAS path stores alpha·x·W (and the gate's) in the dtype before the epilogue kernel.
            int extra = mode == GemmMode.CUBLAS && dt != DType.F32 ? (gated ? 2 : 1) : 0;
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, out), cout.toFloatArray(), ref, extra, what);
        } finally {
            gpu.gemmMode(before);
        }
    }

    @Test
    void customModeRejectsF32BeforeLaunch() {
        CudaBackend gpu = GpuTests.backend();
        GemmMode before = gpu.gemmMode();
        gpu.gemmMode(GemmMode.CUSTOM);
        try (Tensor x = gpu.empty(DType.F32, 4, 8); Tensor w = gpu.empty(DType.F32, 8, 8); Tensor y = gpu.empty(DType.F32, 4, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.linear(LinearOp.of(x, w, y)));
            assertTrue(e.getMessage().contains("F16 and BF16, not F32"), e.getMessage());
        } finally {
            gpu.gemmMode(before);
        }
    }

    @Test
    void inPlaceResidualAndStridedQkvViewsOnTheCustomPath() {
        CudaBackend gpu = GpuTests.backend();
        GemmMode before = gpu.gemmMode();
        gpu.gemmMode(GemmMode.CUSTOM);
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int t = 70, c = 64;
        DType dt = DType.BF16;
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, t * c, 1), t, c);
             Tensor hw = Tensor.of(dt, GpuTests.random(rnd, c * 3 * c, 1), c, 3 * c);   // GPT-2 c_attn (C, 3C)
             Tensor hwo = Tensor.of(dt, GpuTests.random(rnd, c * c, 1), c, c);
             Tensor x = gpu.upload(hx); Tensor w = gpu.upload(hw); Tensor wo = gpu.upload(hwo);
             Tensor qkv = GpuTests.poisoned(gpu, dt, t, 3 * c); Tensor cqkv = Tensor.empty(dt, t, 3 * c);
             Tensor h = gpu.upload(hx); Tensor hh = cpu.upload(hx)) {
            gpu.linear(LinearOp.of(x, w, qkv));
            cpu.linear(LinearOp.of(hx, hw, cqkv));
            double[] refQkv = Oracle.linear(t, 3 * c, c, hx.toFloatArray(), hw.toFloatArray(), false, null, null, null, null, 1, 0);
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, qkv), cqkv.toFloatArray(), refQkv, "fused QKV seed " + seed);
            // Second step on the GPU's own V, a strided (T, C) view with row stride 3C, into h in place.
            Tensor v = LinearOp.split(qkv, 3)[2];
            gpu.linear(LinearOp.of(v, wo, h).residual(h));          // h += v · Wo
            try (Tensor gq = gpu.toHost(qkv)) {
                Tensor hv = LinearOp.split(gq, 3)[2];
                cpu.linear(LinearOp.of(hv, hwo, hh).residual(hh));
                double[] ref = Oracle.linear(t, c, c, hv.toFloatArray(), hwo.toFloatArray(), false, null, null, null,
                        hx.toFloatArray(), 1, 0);
                GpuTests.withinTolerance(dt, GpuTests.download(gpu, h), hh.toFloatArray(), ref, "in-place residual seed " + seed);
            }
        } finally {
            gpu.gemmMode(before);
        }
    }

    /**
     * Issue 19: a gated op whose weights are the two halves of one (2N, K) matrix ([up ; gate] fused at load).
     * The cuBLAS path runs one GEMM into (M, 2N) and the epilogue over its halves; the custom kernel reads the
     * two halves as its two weight pointers. Against the float64 oracle and the CPU twin (which fuses too).
     */
    @ParameterizedTest(name = "{0} {1} M={2}")
    @MethodSource("fusedGateCases")
    void gatedOpOverFusedHalvesMatchesOracle(GemmMode mode, DType dt, int m) {
        CudaBackend gpu = GpuTests.backend();
        GemmMode before = gpu.gemmMode();
        gpu.gemmMode(mode);
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 136, k = 72;
        String what = mode + " " + dt + " fused gate M=" + m + " seed " + seed;
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, m * k, 1), m, k);
             Tensor hw = Tensor.of(dt, GpuTests.random(rnd, 2 * n * k, 1), 2 * n, k);        // [up ; gate] (2N, K)
             Tensor hb = Tensor.of(dt, GpuTests.random(rnd, 2 * n, 1), 2 * n);
             Tensor hr = Tensor.of(dt, GpuTests.random(rnd, m * n, 1), m, n);
             Tensor x = gpu.upload(hx); Tensor w = gpu.upload(hw); Tensor b = gpu.upload(hb); Tensor r = gpu.upload(hr);
             Tensor out = GpuTests.poisoned(gpu, dt, m, n); Tensor cout = Tensor.empty(dt, m, n)) {
            LinearOp g = LinearOp.of(x, w.slice(0, 0, n), out).transW(true).activation(Activation.SILU).bias(b.slice(0, 0, n))
                    .gate(w.slice(0, n, 2 * n), b.slice(0, n, 2 * n)).residual(r);
            LinearOp c = LinearOp.of(hx, hw.slice(0, 0, n), cout).transW(true).activation(Activation.SILU).bias(hb.slice(0, 0, n))
                    .gate(hw.slice(0, n, 2 * n), hb.slice(0, n, 2 * n)).residual(hr);
            assertTrue(g.fusedGate() != null && c.fusedGate() != null, "the halves are recognised as one matrix");
            gpu.linear(g);
            cpu.linear(c);
            float[] w2 = hw.toFloatArray(), b2 = hb.toFloatArray();
            double[] ref = Oracle.linear(m, n, k, hx.toFloatArray(), java.util.Arrays.copyOf(w2, n * k), true,
                    java.util.Arrays.copyOf(b2, n), java.util.Arrays.copyOfRange(w2, n * k, 2 * n * k),
                    java.util.Arrays.copyOfRange(b2, n, 2 * n), hr.toFloatArray(), 1f, Activation.SILU.code());
            int extra = mode == GemmMode.CUBLAS && dt != DType.F32 ? 2 : 0;
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, out), cout.toFloatArray(), ref, extra, what);
        } finally {
            gpu.gemmMode(before);
        }
    }

    /**
     * GPT-OSS's clamped SwiGLU (ABI 11; emulated, never run on a GPU before this test) on every path: the custom GEMM's
     * epilogue (64- and 128-row tiles by M), cuBLAS + t4j_bias_act with separate weights, and the fused [up ; gate] GEMM
     * whose two halves t4j_bias_act combines; x wide enough that the activated product passes 7 and the gate's leaves ±7
     * (counted on the float64 oracle's products: the clamps must bite), with biases and a residual.
     */
    @ParameterizedTest(name = "{0} {1} fused={2} M={3}")
    @MethodSource("swigluCases")
    void theClampedSwigluMatchesOracleOnEveryPath(GemmMode mode, DType dt, boolean fused, int m) {
        CudaBackend gpu = GpuTests.backend();
        GemmMode before = gpu.gemmMode();
        gpu.gemmMode(mode);
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 136, k = 72;
        String what = mode + " " + dt + " SWIGLU_OAI" + (fused ? " fused" : "") + " M=" + m + " seed " + seed;
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, m * k, 3), m, k);
             Tensor hw = Tensor.of(dt, GpuTests.random(rnd, 2 * n * k, 1), 2 * n, k);        // [up ; gate] (2N, K)
             Tensor hw2 = Tensor.of(dt, GpuTests.random(rnd, 2 * n * k, 1), 2 * n, k);       // not fused: a second matrix
             Tensor hb = Tensor.of(dt, GpuTests.random(rnd, 2 * n, 1), 2 * n);
             Tensor hr = Tensor.of(dt, GpuTests.random(rnd, m * n, 1), m, n);
             Tensor x = gpu.upload(hx); Tensor w = gpu.upload(hw); Tensor w2 = gpu.upload(hw2); Tensor b = gpu.upload(hb);
             Tensor r = gpu.upload(hr); Tensor out = GpuTests.poisoned(gpu, dt, m, n); Tensor cout = Tensor.empty(dt, m, n)) {
            Tensor gw = w.slice(0, 0, n), gwg = fused ? w.slice(0, n, 2 * n) : w2.slice(0, n, 2 * n);
            Tensor cw = hw.slice(0, 0, n), cwg = fused ? hw.slice(0, n, 2 * n) : hw2.slice(0, n, 2 * n);
            LinearOp g = LinearOp.of(x, gw, out).transW(true).activation(Activation.SWIGLU_OAI).bias(b.slice(0, 0, n))
                    .gate(gwg, b.slice(0, n, 2 * n)).residual(r);
            LinearOp c = LinearOp.of(hx, cw, cout).transW(true).activation(Activation.SWIGLU_OAI).bias(hb.slice(0, 0, n))
                    .gate(cwg, hb.slice(0, n, 2 * n)).residual(hr);
            assertTrue((g.fusedGate() != null) == fused, "fused halves recognised as one matrix, separate ones not");
            gpu.linear(g);
            cpu.linear(c);
            float[] xs = hx.toFloatArray(), wa = cw.toFloatArray(), wg = cwg.toFloatArray(), b2 = hb.toFloatArray();
            float[] ba = java.util.Arrays.copyOf(b2, n), bg = java.util.Arrays.copyOfRange(b2, n, 2 * n);
            double[] ref = Oracle.linear(m, n, k, xs, wa, true, ba, wg, bg, hr.toFloatArray(), 1f, Activation.SWIGLU_OAI.code());
            double[] a = Oracle.linear(m, n, k, xs, wa, true, ba, null, null, null, 1f, 0);
            double[] gl = Oracle.linear(m, n, k, xs, wg, true, bg, null, null, null, 1f, 0);
            int clampedA = 0, clampedG = 0;
            for (double v : a) if (v > Activation.SWIGLU_LIMIT) clampedA++;
            for (double v : gl) if (Math.abs(v) > Activation.SWIGLU_LIMIT) clampedG++;
            assertTrue(clampedA > m && clampedG > m, what + ": the clamps must bite: " + clampedA + " / " + clampedG);
            int extra = mode == GemmMode.CUBLAS && dt != DType.F32 ? 2 : 0;   // the cuBLAS path rounds both products first
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, out), cout.toFloatArray(), ref, extra, what);
        } finally {
            gpu.gemmMode(before);
        }
    }

    /**
     * ActivationOp (the epilogue alone, on t4j_bias_act; never run on a GPU through this op before this test): every
     * activation with and without a gate (SWIGLU_OAI with its gate, x wide enough for its clamps), a residual separate or
     * as out itself, x and gate the two halves of one fused (R, 2N) product, and out over x; against the float64 oracle
     * under the design's rule, the CPU twin as the naive computation.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void activationOpMatchesOracle(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        CpuBackend cpu = new CpuBackend();
        int rows = 37, n = 200;
        int i = 0;
        for (Activation act : Activation.values()) {
            for (boolean gated : new boolean[] {false, true}) {
                if ((act.gatedOnly() && !gated) || (act.limited() && gated)) continue;
                int mode = i++ % 3;                                  // 0: separate residual, 1: residual = out, 2: out over x
                String what = dt + " " + act + (gated ? " gated" : "") + (mode == 0 ? " residual" : mode == 1 ? " residual = out" : " out = x")
                        + " (seed " + seed + ")";
                double scale = act == Activation.SWIGLU_OAI ? 10 : 4;
                try (Tensor hf = Tensor.of(dt, GpuTests.random(rnd, rows * 2 * n, scale), rows, 2L * n);
                     Tensor hr = Tensor.of(dt, GpuTests.random(rnd, rows * n, 2), rows, n);
                     Tensor gf = gpu.upload(hf); Tensor gr = gpu.upload(hr);
                     Tensor hout = mode == 1 ? Tensor.of(dt, hr.toFloatArray(), rows, n) : Tensor.empty(dt, rows, n).fill(Float.NaN);
                     Tensor gout = mode == 1 ? gpu.upload(hr) : GpuTests.poisoned(gpu, dt, rows, n)) {
                    Tensor hx = hf.slice(1, 0, n), hg = hf.slice(1, n, 2L * n), gx = gf.slice(1, 0, n), gg = gf.slice(1, n, 2L * n);
                    float[] xs = hx.toFloatArray(), gs = hg.toFloatArray(), rs = hr.toFloatArray();
                    double[] ref = new double[rows * n];
                    for (int e = 0; e < ref.length; e++) {
                        double v = Oracle.activate(act.code(), xs[e], act.limited() ? CLAMP_LIMIT : 0);
                        if (gated) v *= Oracle.gateFactor(act.code(), gs[e]);
                        if (mode != 2) v += rs[e];
                        ref[e] = v;
                    }
                    Tensor ho = mode == 2 ? hx : hout, go = mode == 2 ? gx : gout;
                    ActivationOp hop = act.limited() ? ActivationOp.clamp(hx, CLAMP_LIMIT, ho) : ActivationOp.of(hx, act, ho);
                    ActivationOp gop = act.limited() ? ActivationOp.clamp(gx, CLAMP_LIMIT, go) : ActivationOp.of(gx, act, go);
                    if (gated) {
                        hop = hop.gate(hg);
                        gop = gop.gate(gg);
                    }
                    if (mode != 2) {
                        hop = hop.residual(mode == 1 ? hout : hr);
                        gop = gop.residual(mode == 1 ? gout : gr);
                    }
                    cpu.activation(hop);
                    gpu.activation(gop);
                    float[] all = GpuTests.download(gpu, gf), was = hf.toFloatArray();   // the fused product, dense
                    float[] got = new float[rows * n];
                    for (int r = 0; r < rows; r++) {
                        for (int c = n; c < 2 * n; c++) {                                    // the gate's half stays as it was
                            int e = r * 2 * n + c;
                            if (Float.floatToRawIntBits(all[e]) != Float.floatToRawIntBits(was[e])) {
                                throw new AssertionError("the gate's half was written at row " + r + " column " + c + ": " + what);
                            }
                        }
                        if (mode == 2) System.arraycopy(all, r * 2 * n, got, r * n, n);       // out over x: the left half
                    }
                    if (mode != 2) got = GpuTests.download(gpu, gout);
                    float[] twin = (mode == 2 ? hx : hout).toFloatArray();
                    GpuTests.withinTolerance(dt, got, twin, ref, what);
                }
            }
        }
    }

    static Stream<Arguments> swigluCases() {
        List<Arguments> out = new ArrayList<>();
        for (boolean fused : new boolean[] {false, true}) {
            out.add(Arguments.of(GemmMode.CUBLAS, DType.F32, fused, 3));
            out.add(Arguments.of(GemmMode.CUBLAS, DType.BF16, fused, 130));
            out.add(Arguments.of(GemmMode.CUBLAS, DType.F16, fused, 1));
            out.add(Arguments.of(GemmMode.CUSTOM, DType.BF16, fused, 130));
            out.add(Arguments.of(GemmMode.CUSTOM, DType.F16, fused, 1500));       // many row tiles
        }
        return out.stream();
    }

    static Stream<Arguments> fusedGateCases() {
        return Stream.of(Arguments.of(GemmMode.CUBLAS, DType.F32, 1), Arguments.of(GemmMode.CUBLAS, DType.BF16, 1),
                Arguments.of(GemmMode.CUBLAS, DType.F16, 130), Arguments.of(GemmMode.CUSTOM, DType.BF16, 130),
                Arguments.of(GemmMode.AUTO, DType.BF16, 3));
    }
}
