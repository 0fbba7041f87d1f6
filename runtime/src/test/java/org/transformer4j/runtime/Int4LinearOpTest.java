// Int4LinearOpTest — LinearOp over 4-bit weights (Int4: GPTQ's packing, AWQ's repacked to it) on the CPU twin, against a
// float64 reference that unpacks the words and rounds (q − z)·s to float16 (then to BF16) in its own arithmetic: plain,
// gated, bias, residual, activations, act-order g_idx (clamped where out of range), column views of a fused matrix,
// leading dimensions; and bit for bit against the same op over the dequantized dense matrix (what a dequantizing load
// computes). Malformed ops are refused by name.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

public class Int4LinearOpTest {

    private final CpuBackend cpu = new CpuBackend();

    /** x rounded to nearest-even with {@code bits} significant bits, subnormals below 2^emin, ±inf past maxFinite. */
    static double roundSig(double x, int bits, int emin, double maxFinite) {
        if (x == 0 || !Double.isFinite(x)) return x;
        int e = Math.max(Math.getExponent(x), emin);
        double ulp = Math.scalb(1.0, e - bits + 1);
        double r = Math.rint(x / ulp) * ulp;
        return Math.abs(r) > maxFinite ? Math.copySign(Double.POSITIVE_INFINITY, x) : r;
    }

    /** A weight as AutoAWQ / AutoGPTQ dequantize it (float16), then in the compute dtype. */
    public static double weight(int q, int z, double s, DType dt) {
        double h = roundSig((q - z) * s, 11, -14, 65504.0);
        return dt == DType.BF16 ? roundSig(h, 8, -126, 0x1.fep127) : h;
    }

    /** A random 4-bit W (N, K) stored as rows (K/8, ld) with ld ≥ N, plus its reference decode. */
    public record Packed(Int4 w, int[] codes, float[] scales, int[] zeros, int[] gidx, int ld, int n, int k) {
        int group(int kk) {
            int groups = scales.length / ld;
            return gidx == null ? kk / w.groupSize() : Math.max(0, Math.min(groups - 1, gidx[kk]));
        }

        /** W[row, kk] for rows of the whole (ld-wide) matrix. */
        double at(int row, int kk, DType dt) {
            int q = (codes[(kk / 8) * ld + row] >>> (4 * (kk % 8))) & 15;
            int e = group(kk) * ld + row;
            return weight(q, zeros[e], scales[e], dt);
        }

        public double[] dense(int from, int rows, DType dt) {
            double[] d = new double[rows * k];
            for (int r = 0; r < rows; r++) for (int kk = 0; kk < k; kk++) d[r * k + kk] = at(from + r, kk, dt);
            return d;
        }
    }

    /** groupSize 0: act-order (g_idx a shuffled permutation's groups of 32); badGidx: three entries out of range. */
    public static Packed pack(SplittableRandom rnd, int ld, int k, int groupSize, boolean badGidx) {
        int gs = groupSize == 0 ? 32 : groupSize;
        int groups = (k + gs - 1) / gs;
        int[] codes = new int[k / 8 * ld];
        for (int i = 0; i < codes.length; i++) codes[i] = rnd.nextInt();
        float[] scales = new float[groups * ld];
        int[] zeros = new int[groups * ld];
        for (int i = 0; i < scales.length; i++) {
            double mag = 0.004 + rnd.nextDouble() * 0.056;
            scales[i] = Float.float16ToFloat(Float.floatToFloat16((float) (rnd.nextInt(4) == 0 ? -mag : mag)));
            zeros[i] = rnd.nextInt(17);
        }
        int[] gidx = null;
        if (groupSize == 0) {
            int[] perm = new int[k];
            for (int i = 0; i < k; i++) perm[i] = i;
            for (int i = k - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            gidx = new int[k];
            for (int i = 0; i < k; i++) gidx[i] = perm[i] / gs;
            if (badGidx) {
                gidx[1] = -3;
                gidx[k - 1] = groups + 4;
                gidx[k / 2] = Integer.MAX_VALUE;
            }
        }
        Tensor tc = Tensor.ofInts(codes, k / 8, ld);
        Tensor ts = Tensor.of(DType.F16, scales, groups, ld);
        Tensor tz = Tensor.empty(DType.U8, groups, ld);
        for (int i = 0; i < zeros.length; i++) tz.hostSegment().set(ValueLayout.JAVA_BYTE, i, (byte) zeros[i]);
        Tensor tg = gidx == null ? null : Tensor.ofInts(gidx, k);
        return new Packed(new Int4(tc, ts, tz, tg, groupSize), codes, scales, zeros, gidx, ld, ld, k);
    }

    static double act(Activation a, double y) {
        return switch (a) {
            case NONE -> y;
            case RELU -> Math.max(y, 0);
            case SILU -> y / (1 + Math.exp(-y));
            case GELU_TANH -> 0.5 * y * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (y + 0.044715 * y * y * y)));
            default -> throw new IllegalArgumentException(a.toString());
        };
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (DType dt : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            // {M, N, K, groupSize (0: act-order)}
            for (int[] s : new int[][] {{1, 72, 72, 8}, {5, 40, 256, 128}, {33, 130, 64, 16}, {64, 33, 96, 0}, {3, 8, 40, 40}}) {
                Activation a = new Activation[] {Activation.NONE, Activation.SILU, Activation.GELU_TANH, Activation.RELU}[i % 4];
                out.add(Arguments.of(dt, s[0], s[1], s[2], s[3], a, i % 2 == 0, i % 3 == 0, i % 4 == 1));
                i++;
            }
        }
        return out.stream();
    }

    /**
     * The op over column views of one packed matrix (W = columns [0, N), W_gate = [N, 2N) of a (K/8, 2N + 5) stack: a fused
     * projection's parts) against the float64 reference, and bit for bit against the dense op over the decoded weights.
     */
    @ParameterizedTest(name = "{0} M={1} N={2} K={3} group={4} {5} gated={6} bias={7} residual={8}")
    @MethodSource("cases")
    void matchesReferenceAndTheDequantizedOp(DType dt, int m, int n, int k, int groupSize, Activation a, boolean gated, boolean withBias,
                                             boolean withResidual) {
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * n + k + groupSize);
        Packed p = pack(rnd, 2 * n + 5, k, groupSize, false);
        Int4 w = p.w().columns(0, n), wg = p.w().columns(n, 2 * n);
        float[] xs = LinearOpTest.random(rnd, 2 * m * k, 1), bs = LinearOpTest.random(rnd, n, 1), bgs = LinearOpTest.random(rnd, n, 1);
        float[] rs = LinearOpTest.random(rnd, 2 * m * n, 1);
        try (Tensor x = Tensor.of(dt, xs, 2, m, k); Tensor b = Tensor.of(dt, bs, n); Tensor bg = Tensor.of(dt, bgs, n);
             Tensor r = Tensor.of(dt, rs, 2, m, n); Tensor out = Tensor.empty(dt, 2, m, n); Tensor dense = Tensor.empty(dt, 2, m, n);
             Tensor wd = Tensor.of(dt, toFloats(p.dense(0, n, dt)), n, k); Tensor wgd = Tensor.of(dt, toFloats(p.dense(n, n, dt)), n, k)) {
            LinearOp op = LinearOp.of(x, w, out).alpha(0.75f).activation(a).bias(withBias ? b : null).residual(withResidual ? r : null);
            LinearOp ref = LinearOp.of(x, wd, dense).transW(true).alpha(0.75f).activation(a).bias(withBias ? b : null)
                    .residual(withResidual ? r : null);
            if (gated) {
                op = op.gate(wg, withBias ? bg : null);
                ref = ref.gate(wgd, withBias ? bg : null);
            }
            cpu.linear(op);
            cpu.linear(ref);
            float[] got = out.toFloatArray();
            assertArrayEquals(dense.toFloatArray(), got, "the 4-bit op and the op over its dequantized weights, bit for bit");
            double[] w64 = p.dense(0, n, dt), wg64 = p.dense(n, n, dt);
            float[] xr = x.toFloatArray(), br = b.toFloatArray(), bgr = bg.toFloatArray(), rr = r.toFloatArray();
            double[] want = new double[2 * m * n], mag = new double[want.length];
            for (int row = 0; row < 2 * m; row++) {
                for (int j = 0; j < n; j++) {
                    double y = 0, yg = 0, ay = 0;
                    for (int kk = 0; kk < k; kk++) {
                        y += xr[row * k + kk] * w64[j * k + kk];
                        yg += xr[row * k + kk] * wg64[j * k + kk];
                        ay += Math.abs(xr[row * k + kk] * w64[j * k + kk]) + Math.abs(xr[row * k + kk] * wg64[j * k + kk]);
                    }
                    y = 0.75 * y + (withBias ? br[j] : 0);
                    yg = 0.75 * yg + (withBias ? bgr[j] : 0);
                    double v = act(a, y) * (gated ? yg : 1) + (withResidual ? rr[row * n + j] : 0);
                    want[row * n + j] = v;
                    mag[row * n + j] = ay * (gated ? Math.abs(yg) + 1 : 1);
                }
            }
            LinearOpTest.assertClose(dt, got, want, mag, "4-bit op " + dt + " M=" + m + " N=" + n + " K=" + k);
        }
    }

    /** g_idx entries out of [0, groups) read the nearest group (as the kernel clamps them), never past the scales. */
    @Test
    void outOfRangeGroupIndicesAreClamped() {
        SplittableRandom rnd = new SplittableRandom(5);
        Packed p = pack(rnd, 24, 64, 0, true);
        float[] xs = LinearOpTest.random(rnd, 3 * 64, 1);
        try (Tensor x = Tensor.of(DType.F32, xs, 3, 64); Tensor out = Tensor.empty(DType.F32, 3, 24)) {
            cpu.linear(LinearOp.of(x, p.w(), out));
            double[] w64 = p.dense(0, 24, DType.F32);
            double[] want = new double[3 * 24];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 24; j++)
                    for (int kk = 0; kk < 64; kk++) want[i * 24 + j] += xs[i * 64 + kk] * w64[j * 64 + kk];
            LinearOpTest.assertClose(DType.F32, out.toFloatArray(), want, "clamped g_idx");
        }
    }

    /** Every code under every zero point 0..16 and scales across F16's range, as the reference rounds them. */
    @Test
    void decodesEveryCodeAsTheReference() {
        for (DType dt : new DType[] {DType.F16, DType.BF16, DType.F32}) {
            for (float sf : new float[] {0x1p-24f, 0.001234f, 1f / 3, 7.7f, 2000f, -0.031f}) {  // finite (infinities: the emulator's table)
                double s = Float.float16ToFloat(Float.floatToFloat16(sf));
                int[] codes = {0x76543210, 0xfedcba98};  // codes 0..15 along K
                for (int z = 0; z <= 16; z++) {
                    Tensor tz = Tensor.empty(DType.U8, 1, 1);
                    tz.hostSegment().set(ValueLayout.JAVA_BYTE, 0, (byte) z);
                    Int4 w = new Int4(Tensor.ofInts(codes, 2, 1), Tensor.of(DType.F16, new float[] {(float) s}, 1, 1), tz, null, 16);
                    float[] eye = new float[16 * 16];
                    for (int i = 0; i < 16; i++) eye[i * 16 + i] = 1;
                    try (Tensor x = Tensor.of(dt, eye, 16, 16); Tensor out = Tensor.empty(dt, 16, 1)) {
                        cpu.linear(LinearOp.of(x, w, out));
                        float[] got = out.toFloatArray();
                        for (int q = 0; q < 16; q++) {
                            double want = weight(q, z, s, dt);
                            assertTrue(got[q] == want || (Double.isNaN(want) && Float.isNaN(got[q])),
                                    dt + " code " + q + " zero " + z + " scale " + s + ": got " + got[q] + ", want " + want);
                        }
                    }
                }
            }
        }
    }

    @Test
    void malformedOpsAreRefusedByName() {
        SplittableRandom rnd = new SplittableRandom(9);
        Packed p = pack(rnd, 16, 32, 16, false);
        Int4 w = p.w();
        try (Tensor x = Tensor.of(DType.BF16, new float[2 * 32], 2, 32); Tensor out = Tensor.empty(DType.BF16, 2, 16);
             Tensor x40 = Tensor.of(DType.BF16, new float[2 * 40], 2, 40); Tensor wd = Tensor.empty(DType.BF16, 16, 32)) {
            refused(() -> cpu.linear(LinearOp.of(x40, w, out)), "has K=40 but wq");
            refused(() -> cpu.linear(LinearOp.of(x, w, out).transW(false)), "transW must be true");
            refused(() -> cpu.linear(new LinearOp(x, wd, true, null, null, null, Activation.NONE, null, 1f, out, 0f, w, null)),
                    "replace w and wGate");
            refused(() -> cpu.linear(LinearOp.of(x, w, out).activation(Activation.SWIGLU_OAI)), "needs the gated form (wGateQ)");
            refused(() -> cpu.linear(LinearOp.of(x, new Int4(w.codes(), w.scales(), w.zeros(), null, 12), out)), "multiple of 8");
            refused(() -> cpu.linear(LinearOp.of(x, new Int4(w.codes(), w.scales().slice(0, 0, 1), w.zeros().slice(0, 0, 1), null, 16), out)),
                    "do not cover K=32");
            refused(() -> cpu.linear(LinearOp.of(x, new Int4(w.codes(), w.zeros(), w.zeros(), null, 16), out)), "are I32, F16 and U8");
            try (Tensor g = Tensor.ofInts(new int[32], 32)) {
                refused(() -> cpu.linear(LinearOp.of(x, new Int4(w.codes(), w.scales(), w.zeros(), g, 16), out)), "group size must be 0");
            }
            refused(() -> cpu.linear(LinearOp.of(x, w.columns(0, 8), out)), "out has shape");
            refused(() -> cpu.linear(LinearOp.of(x, w.columns(0, 8), out.slice(1, 0, 8)).gate(w.columns(8, 16).columns(0, 4), null)),
                    "must have wq's shape");
        }
    }

    private static void refused(Runnable r, String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(text), "message \"" + e.getMessage() + "\" should contain \"" + text + "\"");
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
