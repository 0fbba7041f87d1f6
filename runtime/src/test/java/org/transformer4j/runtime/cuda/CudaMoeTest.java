// CudaMoeTest — the mixture-of-experts ops on the GPU against the CPU twin (CpuMoe's definitions): the
// router's picks and slot layout equal to the twin's (continuous logits, so no near-ties; DeepSeek's sigmoid,
// bias, groups and scale, ABI 18, and ERNIE 4.5's softmax with a bias, on spaced grids), its weights
// within fp32 noise; the gather bit-equal; the grouped GEMM (with a residual too: LoRA's expand in place) within each
// dtype's bound and rows past offsets[G] left alone; the combine within one rounding. Several shapes and every dtype; skips without a GPU.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GatherRowsOp;
import org.transformer4j.runtime.GroupedLinearOp;
import org.transformer4j.runtime.MoeCombineOp;
import org.transformer4j.runtime.MoeRouteOp;
import org.transformer4j.runtime.MoeRouting;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Tolerance;
import org.transformer4j.runtime.reference.Oracle;

@Tag("gpu")
class CudaMoeTest {

    private final CpuBackend cpu = new CpuBackend();

    /** Relative difference bound against the CPU twin: fp32 noise, or about two roundings of the dtype. */
    private static double bound(DType dt) {
        return switch (dt) {
            case F32 -> 1e-5;
            case F16 -> 2e-3;
            default -> 1.6e-2;
        };
    }

    private static void close(DType dt, float[] gpu, float[] cpuTwin, String what) {
        GpuTests.allWritten(gpu, what);
        double[] ref = new double[cpuTwin.length];
        for (int i = 0; i < ref.length; i++) ref[i] = cpuTwin[i];
        double rel = Tolerance.relativeError(gpu, ref);
        assertTrue(rel < bound(dt), what + ": relative difference to the CPU twin " + rel + " ≥ " + bound(dt));
    }

    /** The device's routing equals the twin's: the picks and the slot layout exactly, the weights within fp32 noise. */
    private static void sameRouting(CudaBackend gpu, MoeRouting hr, MoeRouting gr, int tokens, String what) {
        assertArrayEquals(hr.ids().toIntArray(), download(gpu, gr.ids()), "ids " + what);
        assertArrayEquals(hr.offsets().toIntArray(), download(gpu, gr.offsets()), "offsets " + what);
        assertArrayEquals(hr.sortedTokens().toIntArray(), download(gpu, gr.sortedTokens()), "sorted tokens " + what);
        assertArrayEquals(hr.slots().toIntArray(), download(gpu, gr.slots()), "slots " + what);
        if (tokens > 0) close(DType.F32, GpuTests.download(gpu, gr.weights()), hr.weights().toFloatArray(), "weights " + what);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void routeEqualsTheCpuTwin(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] cases = {{37, 8, 2, 1}, {300, 64, 8, 0}, {1, 128, 8, 1}, {0, 16, 4, 0}, {5, 1024, 32, 1}};
        for (int[] c : cases) {
            int t = c[0], e = c[1], k = c[2];
            boolean renorm = c[3] == 1;
            String what = dt + " T " + t + " E " + e + " k " + k + (renorm ? " renormalized" : "") + " (seed " + seed + ")";
            try (Tensor hl = Tensor.of(dt, GpuTests.random(rnd, t * e, 4), t, e); Tensor gl = gpu.upload(hl);
                 MoeRouting hr = MoeRouting.allocate(cpu, t, e, k); MoeRouting gr = MoeRouting.allocate(gpu, t, e, k)) {
                cpu.moeRoute(new MoeRouteOp(hl, k, renorm, hr));
                gpu.moeRoute(new MoeRouteOp(gl, k, renorm, gr));
                gpu.synchronize();
                sameRouting(gpu, hr, gr, t, what);
            }
        }
    }

    /**
     * DeepSeek's routers (ABI 18) against the twin: V3 (sigmoid + bias, 8 groups keeping 4, renormalized, × 2.5) at its
     * real shape, a bias that makes every kept choice negative (masked experts' 0.0 win), V2 (softmax, group max, × 16),
     * sigmoid alone, the limits (32 groups of 32, k 32), and ERNIE 4.5's softmax with a correction bias for the choice
     * (ABI 18's relaxed rule: E 64, k 6 as ERNIE-4.5-21B-A3B, k 8 as -300B-A47B; the probabilities, at most ~0.05 here,
     * stay below a bias step of 0.125). Inputs keep fp32 near-ties away (see deepSeekLogits), so
     * the picks and the layout must be equal and the weights within fp32 noise.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void deepSeekRouteEqualsTheCpuTwin(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        // T, E, k, sigmoid, bias (0 none, 1 V3-like, 2 negative), groups, topkGroups, renormalize, scale × 10
        int[][] cases = {{64, 256, 8, 1, 1, 8, 4, 1, 25}, {9, 256, 8, 1, 2, 8, 4, 1, 25}, {37, 160, 6, 0, 0, 8, 3, 0, 160},
            {5, 64, 8, 1, 0, 1, 1, 1, 10}, {3, 1024, 32, 1, 1, 32, 17, 1, 25}, {64, 64, 6, 0, 1, 1, 1, 1, 10},
            {17, 64, 8, 0, 1, 1, 1, 1, 10}, {9, 64, 6, 0, 1, 1, 1, 0, 10}};
        for (int[] c : cases) {
            int t = c[0], e = c[1], k = c[2], groups = c[5], topkGroups = c[6];
            boolean sigmoid = c[3] == 1, renorm = c[7] == 1;
            float scale = c[8] / 10f;
            String what = dt + " T " + t + " E " + e + " k " + k + (sigmoid ? " sigmoid" : " softmax") + " bias " + c[4] + " groups "
                    + groups + "/" + topkGroups + (renorm ? " renormalized" : "") + " × " + scale + " (seed " + seed + ")";
            float[] bias = new float[e];
            for (int i = 0; i < e; i++) {
                bias[i] = c[4] == 1 ? 0.125f * ((i * 7) % 9) - 0.5f : (i % 37 == 5 ? 0.5f : -1f - 0.125f * (i % 3));
            }
            try (Tensor hl = Tensor.of(dt, deepSeekLogits(rnd, t, e, sigmoid), t, e); Tensor gl = gpu.upload(hl);
                 Tensor hb = Tensor.ofFloats(bias, e); Tensor gb = gpu.upload(hb);
                 MoeRouting hr = MoeRouting.allocate(cpu, t, e, k); MoeRouting gr = MoeRouting.allocate(gpu, t, e, k)) {
                MoeRouteOp ho = new MoeRouteOp(hl, k, renorm, hr).groups(groups, topkGroups).scale(scale);
                MoeRouteOp go = new MoeRouteOp(gl, k, renorm, gr).groups(groups, topkGroups).scale(scale);
                if (sigmoid) {
                    ho = ho.sigmoid(c[4] == 0 ? null : hb);
                    go = go.sigmoid(c[4] == 0 ? null : gb);
                } else if (c[4] != 0) {                  // ERNIE 4.5: softmax scores, the bias for the choice only
                    ho = ho.correctionBias(hb);
                    go = go.correctionBias(gb);
                }
                cpu.moeRoute(ho);
                gpu.moeRoute(go);
                gpu.synchronize();
                sameRouting(gpu, hr, gr, t, what);
            }
        }
    }

    /**
     * Each row a shuffled grid: sigmoid logits in [0, 0.4) (scores in [0.5, 0.6), 2.4e-4 or more apart even in BF16,
     * closer than the 0.125 steps of the biases, so that a bias step never meets a score difference); softmax
     * logits 0.05 apart (probabilities 5% apart). Equal values after rounding tie exactly, the same on both sides.
     */
    private static float[] deepSeekLogits(SplittableRandom rnd, int t, int e, boolean sigmoid) {
        float[] v = new float[t * e];
        for (int r = 0; r < t; r++) {
            java.util.List<Integer> perm = new java.util.ArrayList<>();
            for (int i = 0; i < e; i++) perm.add(i);
            java.util.Collections.shuffle(perm, new java.util.Random(rnd.nextLong()));
            for (int i = 0; i < e; i++) v[r * e + i] = sigmoid ? 0.4f * perm.get(i) / e : 0.05f * perm.get(i) - 0.025f * e;
        }
        return v;
    }

    private static int[] download(CudaBackend gpu, Tensor t) {
        try (Tensor h = gpu.toHost(t)) {
            return h.toIntArray();
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void gatherAndCombineEqualTheCpuTwin(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int t = 29, k = 4, s = t * k;
        for (int c : new int[] {64, 33}) {  // 16-byte vectors, then elements
            int[] rows = new int[s];
            int[] slots = new int[t * k];
            for (int i = 0; i < s; i++) rows[i] = rnd.nextInt(t);
            for (int i = 0; i < slots.length; i++) slots[i] = rnd.nextInt(s);
            String what = dt + " C " + c + " (seed " + seed + ")";
            try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, t * c, 2), t, c); Tensor hrows = Tensor.ofInts(rows, s);
                 Tensor hs = Tensor.ofInts(slots, t, k); Tensor hw = Tensor.of(DType.F32, GpuTests.random(rnd, t * k, 1), t, k);
                 Tensor hsh = Tensor.of(dt, GpuTests.random(rnd, t * c, 2), t, c); Tensor hg = Tensor.of(dt, GpuTests.random(rnd, t, 3), t);
                 Tensor gx = gpu.upload(hx); Tensor grows = gpu.upload(hrows); Tensor gs = gpu.upload(hs); Tensor gw = gpu.upload(hw);
                 Tensor gsh = gpu.upload(hsh); Tensor gg = gpu.upload(hg);
                 Tensor hy = Tensor.empty(dt, s, c); Tensor gy = GpuTests.poisoned(gpu, dt, s, c);
                 Tensor hout = Tensor.empty(dt, t, c); Tensor gout = gpu.upload(hx)) {
                cpu.gatherRows(new GatherRowsOp(hx, hrows, hy));
                gpu.gatherRows(new GatherRowsOp(gx, grows, gy));
                assertArrayEquals(hy.toFloatArray(), GpuTests.download(gpu, gy), "gather " + what);
                if (dt != DType.F32) {                                              // ABI 20: widened to F32, x's own rows and by index
                    try (Tensor hw32 = Tensor.empty(DType.F32, t, c); Tensor gw32 = GpuTests.poisoned(gpu, DType.F32, t, c);
                         Tensor hg32 = Tensor.empty(DType.F32, s, c); Tensor gg32 = GpuTests.poisoned(gpu, DType.F32, s, c)) {
                        cpu.gatherRows(GatherRowsOp.widen(hx, hw32));
                        gpu.gatherRows(GatherRowsOp.widen(gx, gw32));
                        assertArrayEquals(hw32.toFloatArray(), GpuTests.download(gpu, gw32), "widen " + what);
                        cpu.gatherRows(new GatherRowsOp(hx, hrows, hg32));
                        gpu.gatherRows(new GatherRowsOp(gx, grows, gg32));
                        assertArrayEquals(hg32.toFloatArray(), GpuTests.download(gpu, gg32), "gather widened " + what);
                    }
                }
                hout.copyFrom(hx.toFloatArray());
                // residual = out itself (x's copy), shared expert with its sigmoid gate
                cpu.moeCombine(new MoeCombineOp(hy, hs, hw, hout, hsh, hg, hout));
                gpu.moeCombine(new MoeCombineOp(gy, gs, gw, gout, gsh, gg, gout));
                close(dt, GpuTests.download(gpu, gout), hout.toFloatArray(), "combine " + what);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void groupedLinearEqualsTheCpuTwin(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int r = 150, k = 72, n = 88;
        int[] offsets = {0, 3, 3, 80, 141};  // an empty group, one over two 64-row tiles; rows 141.. untouched
        int g = offsets.length - 1;
        for (boolean trans : new boolean[] {false, true}) {
            for (boolean gated : new boolean[] {false, true}) {
                String what = dt + (trans ? " (G, N, K)" : " (G, K, N)") + (gated ? " gated SiLU" : "") + " (seed " + seed + ")";
                long[] ws = trans ? new long[] {g, n, k} : new long[] {g, k, n};
                try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, r * k, 1), r, k);
                     Tensor hw = Tensor.of(dt, GpuTests.random(rnd, g * n * k, 0.3), ws);
                     Tensor hwg = Tensor.of(dt, GpuTests.random(rnd, g * n * k, 0.3), ws); Tensor ho = Tensor.ofInts(offsets, g + 1);
                     Tensor gx = gpu.upload(hx); Tensor gw = gpu.upload(hw); Tensor gwg = gpu.upload(hwg); Tensor go = gpu.upload(ho);
                     Tensor hout = Tensor.empty(dt, r, n); Tensor gout = GpuTests.poisoned(gpu, dt, r, n)) {
                    hout.fill(Float.NaN);
                    GroupedLinearOp hop = GroupedLinearOp.of(hx, hw, ho, hout).transW(trans).alpha(0.5f);
                    GroupedLinearOp gop = GroupedLinearOp.of(gx, gw, go, gout).transW(trans).alpha(0.5f);
                    if (gated) {
                        hop = hop.gate(hwg).activation(Activation.SILU);
                        gop = gop.gate(gwg).activation(Activation.SILU);
                    }
                    cpu.groupedLinear(hop);
                    gpu.groupedLinear(gop);
                    float[] got = GpuTests.download(gpu, gout);
                    float[] want = hout.toFloatArray();
                    int used = offsets[g] * n;
                    for (int i = used; i < got.length; i++) {
                        assertTrue(Float.isNaN(got[i]), "rows past offsets[G] written at element " + i + ": " + what);
                    }
                    close(dt, java.util.Arrays.copyOf(got, used), java.util.Arrays.copyOf(want, used), "grouped linear " + what);
                }
            }
        }
    }

    /**
     * GPT-OSS's experts (ABI 11; emulated, never run on a GPU before this test): per-group biases (G, N) on both products
     * (t4j_linear_params.stride_bias) and the clamped SwiGLU, the weights the two halves of one fused gate_up tensor, x
     * wide enough that both clamps bite; and per-group biases alone on an ungated GELU. Against the CPU twin and, group by
     * group, the float64 oracle (a bias row of the wrong group would miss it by the biases' size).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void groupedLinearWithPerGroupBiasesAndTheClampedSwiglu(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int r = 150, k = 72, n = 88;
        int[] offsets = {0, 3, 3, 80, 141};  // an empty group, one over two 64-row tiles; rows 141.. untouched
        int g = offsets.length - 1;
        for (boolean trans : new boolean[] {false, true}) {
            for (boolean gated : new boolean[] {false, true}) {
                String what = dt + (trans ? " (G, N, K)" : " (G, K, N)") + (gated ? " SWIGLU_OAI" : " GELU") + " group biases (seed "
                        + seed + ")";
                int d = trans ? 1 : 2;                               // fused gate_up: [up | gate] along N
                long[] ws = trans ? new long[] {g, 2L * n, k} : new long[] {g, k, 2L * n};
                try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, r * k, 3), r, k);
                     Tensor hw = Tensor.of(dt, GpuTests.random(rnd, g * 2 * n * k, 0.8), ws);
                     Tensor hb = Tensor.of(dt, GpuTests.random(rnd, g * n, 3), g, n);
                     Tensor hbg = Tensor.of(dt, GpuTests.random(rnd, g * n, 3), g, n); Tensor ho = Tensor.ofInts(offsets, g + 1);
                     Tensor gx = gpu.upload(hx); Tensor gw = gpu.upload(hw); Tensor gb = gpu.upload(hb); Tensor gbg = gpu.upload(hbg);
                     Tensor go = gpu.upload(ho); Tensor hout = Tensor.empty(dt, r, n); Tensor gout = GpuTests.poisoned(gpu, dt, r, n)) {
                    hout.fill(Float.NaN);
                    Tensor hwa = hw.slice(d, 0, n), hwg = hw.slice(d, n, 2L * n);
                    GroupedLinearOp hop = GroupedLinearOp.of(hx, hwa, ho, hout).transW(trans);
                    GroupedLinearOp gop = GroupedLinearOp.of(gx, gw.slice(d, 0, n), go, gout).transW(trans);
                    if (gated) {
                        hop = hop.gate(hwg).bias(hb, hbg).activation(Activation.SWIGLU_OAI);
                        gop = gop.gate(gw.slice(d, n, 2L * n)).bias(gb, gbg).activation(Activation.SWIGLU_OAI);
                    } else {
                        hop = hop.bias(hb, null).activation(Activation.GELU);
                        gop = gop.bias(gb, null).activation(Activation.GELU);
                    }
                    cpu.groupedLinear(hop);
                    gpu.groupedLinear(gop);
                    float[] got = GpuTests.download(gpu, gout);
                    float[] want = hout.toFloatArray();
                    int used = offsets[g] * n;
                    for (int i = used; i < got.length; i++) {
                        assertTrue(Float.isNaN(got[i]), "rows past offsets[G] written at element " + i + ": " + what);
                    }
                    close(dt, java.util.Arrays.copyOf(got, used), java.util.Arrays.copyOf(want, used), "grouped linear " + what);
                    int clampedA = 0, clampedG = 0;
                    for (int grp = 0; grp < g; grp++) {
                        int from = offsets[grp], to = offsets[grp + 1];
                        if (from == to) continue;
                        float[] xs = hx.slice(0, from, to).toFloatArray(), wa = hwa.select(0, grp).toFloatArray();
                        float[] bs = hb.select(0, grp).toFloatArray(), bgs = hbg.select(0, grp).toFloatArray();
                        float[] wgs = gated ? hwg.select(0, grp).toFloatArray() : null;
                        double[] ref = Oracle.linear(to - from, n, k, xs, wa, trans, bs, wgs, gated ? bgs : null, null, 1,
                                (gated ? Activation.SWIGLU_OAI : Activation.GELU).code());
                        close(dt, java.util.Arrays.copyOfRange(got, from * n, to * n), toFloats(ref), "group " + grp + " vs the oracle, " + what);
                        if (gated) {
                            for (double v : Oracle.linear(to - from, n, k, xs, wa, trans, bs, null, null, null, 1, 0)) {
                                if (v > Activation.SWIGLU_LIMIT) clampedA++;
                            }
                            for (double v : Oracle.linear(to - from, n, k, xs, wgs, trans, bgs, null, null, null, 1, 0)) {
                                if (Math.abs(v) > Activation.SWIGLU_LIMIT) clampedG++;
                            }
                        }
                    }
                    if (gated) assertTrue(clampedA > 100 && clampedG > 100, what + ": the clamps must bite: " + clampedA + " / " + clampedG);
                }
            }
        }
    }

    /**
     * A residual on the grouped GEMM (ABI 15; emulated, never run on a GPU before this test): LoRA's expand adding into its
     * base projection's output in place (ranks 8 and 16, B[g] stored (N, r)), its shrink (N = the rank, K 256) in place,
     * and a gated SiLU product onto a separate residual; against the CPU twin and, group by group, the float64 oracle. Rows
     * past offsets[G] keep their old values bit for bit (in place) or their NaN poison; a separate residual is not written.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void groupedLinearWithAResidualEqualsTheCpuTwin(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int r = 150;
        int[] offsets = {0, 3, 3, 80, 141};  // an empty group, one over two 64-row tiles; rows 141.. untouched
        int g = offsets.length - 1;
        int[][] cases = {{88, 8, 1, 0}, {88, 16, 1, 0}, {16, 256, 1, 0}, {88, 72, 0, 1}};  // N, K, in place, gated
        for (int[] c : cases) {
            int n = c[0], k = c[1];
            boolean inPlace = c[2] == 1, gated = c[3] == 1, trans = !gated;
            String what = dt + " N " + n + " K " + k + (inPlace ? " residual = out" : " separate residual") + (gated ? " gated SiLU" : "")
                    + " (seed " + seed + ")";
            long[] ws = trans ? new long[] {g, n, k} : new long[] {g, k, n};
            Activation act = gated ? Activation.SILU : Activation.NONE;
            try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, r * k, 1), r, k);
                 Tensor hw = Tensor.of(dt, GpuTests.random(rnd, g * n * k, 0.3), ws);
                 Tensor hwg = Tensor.of(dt, GpuTests.random(rnd, g * n * k, 0.3), ws); Tensor ho = Tensor.ofInts(offsets, g + 1);
                 Tensor hres = Tensor.of(dt, GpuTests.random(rnd, r * n, 2), r, n);
                 Tensor gx = gpu.upload(hx); Tensor gw = gpu.upload(hw); Tensor gwg = gpu.upload(hwg); Tensor go = gpu.upload(ho);
                 Tensor gres = gpu.upload(hres);
                 Tensor hout = inPlace ? Tensor.of(dt, hres.toFloatArray(), r, n) : Tensor.empty(dt, r, n).fill(Float.NaN);
                 Tensor gout = inPlace ? gpu.upload(hres) : GpuTests.poisoned(gpu, dt, r, n)) {
                float[] before = hres.toFloatArray();
                GroupedLinearOp hop = GroupedLinearOp.of(hx, hw, ho, hout).transW(trans).residual(inPlace ? hout : hres);
                GroupedLinearOp gop = GroupedLinearOp.of(gx, gw, go, gout).transW(trans).residual(inPlace ? gout : gres);
                if (gated) {
                    hop = hop.gate(hwg).activation(act);
                    gop = gop.gate(gwg).activation(act);
                }
                cpu.groupedLinear(hop);
                gpu.groupedLinear(gop);
                float[] got = GpuTests.download(gpu, gout);
                float[] want = hout.toFloatArray();
                int used = offsets[g] * n;
                for (int i = used; i < got.length; i++) {
                    if (inPlace) {
                        assertTrue(Float.floatToRawIntBits(got[i]) == Float.floatToRawIntBits(before[i]), "row past offsets[G] changed at "
                                + i + ": " + what);
                    } else {
                        assertTrue(Float.isNaN(got[i]), "rows past offsets[G] written at element " + i + ": " + what);
                    }
                }
                if (!inPlace) assertArrayEquals(before, GpuTests.download(gpu, gres), "the residual was written: " + what);
                close(dt, java.util.Arrays.copyOf(got, used), java.util.Arrays.copyOf(want, used), "grouped linear " + what);
                for (int grp = 0; grp < g; grp++) {
                    int from = offsets[grp], to = offsets[grp + 1];
                    if (from == to) continue;
                    double[] ref = Oracle.linear(to - from, n, k, hx.slice(0, from, to).toFloatArray(), hw.select(0, grp).toFloatArray(), trans,
                            null, gated ? hwg.select(0, grp).toFloatArray() : null, null, java.util.Arrays.copyOfRange(before, from * n, to * n),
                            1, act.code());
                    close(dt, java.util.Arrays.copyOfRange(got, from * n, to * n), toFloats(ref), "group " + grp + " vs the oracle, " + what);
                }
            }
        }
    }

    /**
     * MXFP4 weights kept as stored (ABI 13: libt4j decodes them per tile): gpt-oss's gated up (gate and up as the even and odd
     * rows of one interleaved stack, the clamped SwiGLU, per-group biases), then its down, against the CPU twin (CpuMxfp4) on
     * the same bytes; an empty group, one over two 64-row tiles, N not a multiple of the tile, rows past offsets[G] untouched.
     * F16 activations are refused by name (an MXFP4 value is exact in BF16, not in F16).
     */
    @org.junit.jupiter.api.Test
    void mxfp4GroupedLinearEqualsTheCpuTwin() {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        DType dt = DType.BF16;
        int r = 150, k = 96, n = 88;
        int[] offsets = {0, 3, 3, 80, 141};
        int g = offsets.length - 1;
        byte[] blocks = new byte[g * 2 * n * (k / 32) * 16], scales = new byte[g * 2 * n * (k / 32)];
        for (int i = 0; i < blocks.length; i++) blocks[i] = (byte) rnd.nextInt(256);
        for (int i = 0; i < scales.length; i++) scales[i] = (byte) (119 + rnd.nextInt(10));
        String what = "MXFP4 " + dt + " (seed " + seed + ")";
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, r * k, 3), r, k);
             Tensor hb = Tensor.of(dt, GpuTests.random(rnd, g * n, 3), g, n); Tensor hbg = Tensor.of(dt, GpuTests.random(rnd, g * n, 3), g, n);
             Tensor tb = Tensor.empty(DType.U8, g, 2L * n, k / 32, 16); Tensor ts = Tensor.empty(DType.U8, g, 2L * n, k / 32);
             Tensor ho = Tensor.ofInts(offsets, g + 1);
             Tensor gx = gpu.upload(hx); Tensor gb = gpu.upload(hb); Tensor gbg = gpu.upload(hbg); Tensor go = gpu.upload(ho);
             Tensor hout = Tensor.empty(dt, r, n); Tensor gout = GpuTests.poisoned(gpu, dt, r, n)) {
            tb.hostSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(blocks));
            ts.hostSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(scales));
            try (Tensor gtb = gpu.upload(tb); Tensor gts = gpu.upload(ts)) {
                org.transformer4j.runtime.Mxfp4 hq = new org.transformer4j.runtime.Mxfp4(tb, ts), gq = new org.transformer4j.runtime.Mxfp4(gtb, gts);
                hout.fill(Float.NaN);
                cpu.groupedLinear(GroupedLinearOp.mxfp4(hx, hq.everyOtherRow(0), ho, hout).gate(hq.everyOtherRow(1)).bias(hb, hbg)
                        .activation(Activation.SWIGLU_OAI));
                gpu.groupedLinear(GroupedLinearOp.mxfp4(gx, gq.everyOtherRow(0), go, gout).gate(gq.everyOtherRow(1)).bias(gb, gbg)
                        .activation(Activation.SWIGLU_OAI));
                float[] got = GpuTests.download(gpu, gout);
                int used = offsets[g] * n;
                for (int i = used; i < got.length; i++) assertTrue(Float.isNaN(got[i]), "rows past offsets[G] written at " + i + ": " + what);
                close(dt, java.util.Arrays.copyOf(got, used), java.util.Arrays.copyOf(hout.toFloatArray(), used), "gated up " + what);
                // down: (N, K) = the even rows alone as an ungated stack, with its own biases
                try (Tensor hout2 = Tensor.empty(dt, r, n); Tensor gout2 = GpuTests.poisoned(gpu, dt, r, n)) {
                    hout2.fill(Float.NaN);
                    cpu.groupedLinear(GroupedLinearOp.mxfp4(hx, hq.everyOtherRow(0), ho, hout2).bias(hb, null).activation(Activation.GELU));
                    gpu.groupedLinear(GroupedLinearOp.mxfp4(gx, gq.everyOtherRow(0), go, gout2).bias(gb, null).activation(Activation.GELU));
                    float[] got2 = GpuTests.download(gpu, gout2);
                    close(dt, java.util.Arrays.copyOf(got2, used), java.util.Arrays.copyOf(hout2.toFloatArray(), used), "ungated " + what);
                }
                try (Tensor gx16 = gpu.upload(Tensor.of(DType.F16, GpuTests.random(rnd, r * k, 1), r, k));
                     Tensor gout16 = GpuTests.poisoned(gpu, DType.F16, r, n)) {
                    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                            () -> gpu.groupedLinear(GroupedLinearOp.mxfp4(gx16, gq.everyOtherRow(0), go, gout16)));
                    assertTrue(e.getMessage().contains("BF16"), e.getMessage());
                }
            }
        }
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
