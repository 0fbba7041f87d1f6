// MoeOpsTest — the CPU twin of the mixture-of-experts ops against float64 arithmetic written here from
// transformers' routers (softmax over the experts, top-k, renormalization; expert outputs summed by
// weight), plus the layout rules the CUDA kernels share (ties to the lower id, slots in token order).
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.transformer4j.runtime.reference.Oracle;

class MoeOpsTest {

    private final CpuBackend cpu = new CpuBackend();

    /** Float64 routing of one row: indices by falling probability, ties to the lower id; weights alongside. */
    static double[][] route64(float[] logits, int row, int e, int k, boolean renormalize) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < e; i++) max = Math.max(max, logits[row * e + i]);
        double[] p = new double[e];
        double sum = 0;
        for (int i = 0; i < e; i++) sum += p[i] = Math.exp(logits[row * e + i] - max);
        for (int i = 0; i < e; i++) p[i] /= sum;
        Integer[] order = new Integer[e];
        for (int i = 0; i < e; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i));
        double[] ids = new double[k], w = new double[k];
        double total = 0;
        for (int j = 0; j < k; j++) {
            ids[j] = order[j];
            total += w[j] = p[order[j]];
        }
        if (renormalize) for (int j = 0; j < k; j++) w[j] /= total;
        return new double[][] {ids, w};
    }

    /** Logits whose probabilities are at least ~1e-3 apart (distinct ranks in fp32 and float64). */
    static float[] spacedLogits(SplittableRandom rnd, int t, int e) {
        float[] v = new float[t * e];
        for (int r = 0; r < t; r++) {
            List<Integer> perm = new ArrayList<>();
            for (int i = 0; i < e; i++) perm.add(i);
            java.util.Collections.shuffle(perm, new java.util.Random(rnd.nextLong()));
            for (int i = 0; i < e; i++) v[r * e + i] = (float) (perm.get(i) * 0.05 + rnd.nextDouble() * 0.01);
        }
        return v;
    }

    @ParameterizedTest(name = "T={0} E={1} k={2} renormalize={3} {4}")
    @CsvSource({"0, 4, 2, true, F32", "1, 8, 2, true, BF16", "37, 8, 2, false, F16", "300, 64, 8, true, F32", "19, 128, 8, false, BF16",
        "5, 4, 4, true, F32", "9, 3, 1, false, F32"})
    void routeMatchesFloat64AndSortsByExpert(int t, int e, int k, boolean renormalize, DType dt) {
        SplittableRandom rnd = new SplittableRandom(31L * t + e);
        float[] raw = spacedLogits(rnd, t, e);
        try (Tensor logits = Tensor.of(dt, raw, t, e); MoeRouting r = MoeRouting.allocate(cpu, t, e, k)) {
            float[] lf = logits.toFloatArray();                      // as stored (rounded to dt)
            cpu.moeRoute(new MoeRouteOp(logits, k, renormalize, r));
            int[] ids = r.ids().toIntArray(), offsets = r.offsets().toIntArray(), sorted = r.sortedTokens().toIntArray();
            int[] slots = r.slots().toIntArray();
            float[] w = r.weights().toFloatArray();
            int[] count = new int[e];
            for (int i = 0; i < t; i++) {
                double[][] ref = route64(lf, i, e, k, renormalize);
                for (int j = 0; j < k; j++) {
                    assertEquals((int) ref[0][j], ids[i * k + j], "token " + i + " choice " + j);
                    assertEquals(ref[1][j], w[i * k + j], 2e-6 * Math.max(1, ref[1][j]), "weight of token " + i + " choice " + j);
                    count[ids[i * k + j]]++;
                }
            }
            assertEquals(0, offsets[0]);
            for (int x = 0; x < e; x++) assertEquals(count[x], offsets[x + 1] - offsets[x], "expert " + x + "'s slots");
            // Within an expert, slots follow (t, j) order; each slot names its token and is named by one choice.
            int[] seen = new int[t * k];
            Arrays.fill(seen, -1);
            int[] lastChoice = new int[e];
            Arrays.fill(lastChoice, -1);
            for (int c = 0; c < t * k; c++) {
                int x = ids[c], slot = slots[c];
                assertTrue(slot >= offsets[x] && slot < offsets[x + 1], "choice " + c + " lies in expert " + x + "'s range");
                assertEquals(c / k, sorted[slot], "sortedTokens[" + slot + "]");
                assertEquals(-1, seen[slot], "slot " + slot + " taken twice");
                seen[slot] = c;
                assertTrue(slot > lastChoice[x], "expert " + x + "'s slots in token order");
                lastChoice[x] = slot;
            }
        }
    }

    @Test
    void routeBreaksTiesTowardTheLowerExpert() {
        float[] logits = {1f, 2f, 2f, 0f, 2f, 1f};                  // experts 1, 2 and 4 tie
        try (Tensor l = Tensor.ofFloats(logits, 1, 6); MoeRouting r = MoeRouting.allocate(cpu, 1, 6, 3)) {
            cpu.moeRoute(new MoeRouteOp(l, 3, false, r));
            assertArrayEquals(new int[] {1, 2, 4}, r.ids().toIntArray());
        }
    }

    @Test
    void routeRefusesBadArguments() {
        try (Tensor l = Tensor.ofFloats(new float[12], 3, 4); MoeRouting r = MoeRouting.allocate(cpu, 3, 4, 2);
             MoeRouting small = MoeRouting.allocate(cpu, 2, 4, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.moeRoute(new MoeRouteOp(l, 5, true, r)));
            assertTrue(e.getMessage().contains("topK = 5"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.moeRoute(new MoeRouteOp(l, 2, true, small)));
            assertTrue(e.getMessage().contains("ids must have shape (3, 2)"), e.getMessage());
        }
    }

    @Test
    void gatherCopiesRowsAndNamesABadIndex() {
        float[] x = new float[5 * 3];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.25f - 1;
        try (Tensor xt = Tensor.of(DType.BF16, x, 5, 3); Tensor rows = Tensor.ofInts(new int[] {4, 0, 4, 2}, 4);
             Tensor out = Tensor.empty(DType.BF16, 4, 3); Tensor bad = Tensor.ofInts(new int[] {1, 5}, 2);
             Tensor out2 = Tensor.empty(DType.BF16, 2, 3)) {
            cpu.gatherRows(new GatherRowsOp(xt, rows, out));
            float[] xs = xt.toFloatArray(), got = out.toFloatArray();
            int[] idx = {4, 0, 4, 2};
            for (int r = 0; r < 4; r++) for (int c = 0; c < 3; c++) assertEquals(xs[idx[r] * 3 + c], got[r * 3 + c]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.gatherRows(new GatherRowsOp(xt, bad, out2)));
            assertTrue(e.getMessage().contains("rows[1] = 5"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0} gated={1} transW={2}")
    @CsvSource({"F32, false, true", "F32, true, true", "BF16, true, true", "F16, false, false", "F16, true, false", "BF16, false, true"})
    void groupedLinearIsEachGroupsOwnProjection(DType dt, boolean gated, boolean transW) {
        SplittableRandom rnd = new SplittableRandom(dt.ordinal() * 7L + (gated ? 1 : 0));
        int g = 4, n = 12, k = 20, rows = 30;
        int[] offsets = {0, 7, 7, 25, 27};                           // group 1 empty, rows 27..29 past the end
        long[] wShape = transW ? new long[] {g, 2L * n, k} : new long[] {g, k, 2L * n};
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 1), rows, k);
             Tensor fused = Tensor.of(dt, LinearOpTest.random(rnd, g * 2 * n * k, 0.3), wShape);   // [gate ; up] per group
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor out = Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            int d = transW ? 1 : 2;
            Tensor w = fused.slice(d, 0, n), wg = fused.slice(d, n, 2L * n);
            GroupedLinearOp op = GroupedLinearOp.of(x, w, off, out).transW(transW).alpha(0.5f);
            if (gated) op = op.gate(wg).activation(Activation.SILU);
            cpu.groupedLinear(op);
            float[] got = out.toFloatArray();
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                double[] ref = Oracle.linear(to - from, n, k, x.slice(0, from, to).toFloatArray(), w.select(0, grp).toFloatArray(), transW,
                        null, gated ? wg.select(0, grp).toFloatArray() : null, null, null, 0.5, gated ? Activation.SILU.code() : 0);
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            for (int i = 27 * n; i < rows * n; i++) assertTrue(Float.isNaN(got[i]), "row past offsets[G] written at " + i);
        }
    }

    /**
     * GPT-OSS's experts: per-group biases on both products and the clamped SwiGLU, with inputs large enough that the
     * activated branch passes 7 and the gate's product leaves ±7 (the clamps bite), against the float64 oracle.
     */
    @ParameterizedTest(name = "{0} transW={1}")
    @CsvSource({"F32, true", "F32, false", "BF16, true", "F16, false"})
    void groupedLinearWithBiasesAndTheClampedSwiglu(DType dt, boolean transW) {
        SplittableRandom rnd = new SplittableRandom(41 + dt.ordinal());
        int g = 3, n = 16, k = 24, rows = 20;
        int[] offsets = {0, 9, 9, 20};
        long[] wShape = transW ? new long[] {g, 2L * n, k} : new long[] {g, k, 2L * n};
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 2), rows, k);
             Tensor fused = Tensor.of(dt, LinearOpTest.random(rnd, g * 2 * n * k, 1.2), wShape);
             Tensor b = Tensor.of(dt, LinearOpTest.random(rnd, g * n, 2), g, n);
             Tensor bg = Tensor.of(dt, LinearOpTest.random(rnd, g * n, 2), g, n);
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor out = Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            int d = transW ? 1 : 2;
            Tensor w = fused.slice(d, 0, n), wg = fused.slice(d, n, 2L * n);
            cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out).transW(transW).gate(wg).bias(b, bg).activation(Activation.SWIGLU_OAI));
            float[] got = out.toFloatArray();
            int clampedA = 0, clampedG = 0;
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                float[] xs = x.slice(0, from, to).toFloatArray(), ws = w.select(0, grp).toFloatArray(), gs = wg.select(0, grp).toFloatArray();
                float[] bs = b.select(0, grp).toFloatArray(), bgs = bg.select(0, grp).toFloatArray();
                double[] ref = Oracle.linear(to - from, n, k, xs, ws, transW, bs, gs, bgs, null, 1, Activation.SWIGLU_OAI.code());
                double[] a = Oracle.linear(to - from, n, k, xs, ws, transW, bs, null, null, null, 1, 0);
                double[] gl = Oracle.linear(to - from, n, k, xs, gs, transW, bgs, null, null, null, 1, 0);
                for (double v : a) if (v > Activation.SWIGLU_LIMIT) clampedA++;
                for (double v : gl) if (Math.abs(v) > Activation.SWIGLU_LIMIT) clampedG++;
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            assertTrue(clampedA > 10 && clampedG > 10, "the clamps must bite: " + clampedA + " / " + clampedG);
        }
    }

    /**
     * MXFP4 weights (gpt-oss's experts kept as stored): the gate and up matrices as the even and odd rows of one interleaved
     * stack, decoded on the fly, against the float64 oracle on the matrices decoded here from the format's definition (the
     * FP4 table, low nibble first, 2^(scale − 127)); scales from 2^-8 to 2^1, every code.
     */
    @ParameterizedTest(name = "{0} rows x{1} N={2} K={3}")
    @CsvSource({"F32, 1, 8, 64", "BF16, 1, 8, 64", "F32, 5, 72, 64", "BF16, 5, 72, 64",   // x5: 20 and 35 rows (dot tiles)
                "F32, 20, 40, 288", "BF16, 20, 40, 288"})    // x20: 80 rows (dot tiles) and 140 (blocked, K decoded 256 + 32 as packed)
    void mxfp4GroupedLinearDecodesAsTheFormatSays(DType dt, int scale, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(7 + dt.ordinal() + scale);
        int g = 3, rows = 11 * scale;
        int[] offsets = {0, 4 * scale, 4 * scale, 11 * scale};
        byte[] blocks = new byte[g * 2 * n * (k / 32) * 16], scales = new byte[g * 2 * n * (k / 32)];
        for (int i = 0; i < blocks.length; i++) blocks[i] = (byte) rnd.nextInt(256);
        for (int i = 0; i < scales.length; i++) scales[i] = (byte) (119 + rnd.nextInt(10));
        float[] table = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
        float[] dense = new float[g * 2 * n * k];                                     // (G, 2N, K) as the format defines it
        for (int row = 0; row < g * 2 * n; row++) {
            for (int c = 0; c < k; c++) {
                int b = blocks[(row * (k / 32) + c / 32) * 16 + (c % 32) / 2] & 0xff;
                int code = c % 2 == 0 ? b & 15 : b >> 4;
                float v = (code & 8) != 0 ? -table[code & 7] : table[code & 7];
                dense[row * k + c] = v * (float) Math.pow(2, (scales[row * (k / 32) + c / 32] & 0xff) - 127);
            }
        }
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 1), rows, k);
             Tensor tb = Tensor.empty(DType.U8, g, 2L * n, k / 32, 16); Tensor ts = Tensor.empty(DType.U8, g, 2L * n, k / 32);
             Tensor b = Tensor.of(dt, LinearOpTest.random(rnd, g * n, 1), g, n);
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor out = Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            tb.hostSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(blocks));
            ts.hostSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(scales));
            Mxfp4 all = new Mxfp4(tb, ts);
            cpu.groupedLinear(GroupedLinearOp.mxfp4(x, all.everyOtherRow(0), off, out).gate(all.everyOtherRow(1)).bias(b, null)
                    .activation(Activation.SWIGLU_OAI));
            float[] got = out.toFloatArray();
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                float[] w = new float[n * k], wg = new float[n * k];
                for (int j = 0; j < n; j++) {
                    System.arraycopy(dense, ((grp * 2 * n) + 2 * j) * k, w, j * k, k);
                    System.arraycopy(dense, ((grp * 2 * n) + 2 * j + 1) * k, wg, j * k, k);
                }
                double[] ref = Oracle.linear(to - from, n, k, x.slice(0, from, to).toFloatArray(), w, true, b.select(0, grp).toFloatArray(),
                        wg, null, null, 1, Activation.SWIGLU_OAI.code());
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(GroupedLinearOp.mxfp4(x, all.everyOtherRow(0), off, out).activation(Activation.SWIGLU_OAI)));
            assertTrue(e.getMessage().contains("gated form"), e.getMessage());
        }
    }

    /**
     * A residual on the grouped projection (what a LoRA adapter's expand adds into its base projection's output with):
     * out = residual + the group's product on the groups' rows, the residual separate or out itself, against the float64
     * oracle; rows past offsets[G] keep what they held (in place: the old values, bit for bit), a separate residual is not
     * written. Ranks K 8 / 16 / 20, the shrink's N 8 with K 256, gated too.
     */
    @ParameterizedTest(name = "{0} inPlace={1} gated={2} N={3} K={4}")
    @CsvSource({"F32, false, false, 24, 8", "F32, true, false, 24, 16", "BF16, true, false, 40, 8", "F16, true, false, 16, 64",
        "BF16, false, true, 12, 20", "F32, true, true, 12, 20", "F16, false, true, 12, 20", "BF16, true, false, 8, 256",
        "F32, false, false, 8, 256"})
    void groupedLinearAddsItsResidualOnTheGroupsRows(DType dt, boolean inPlace, boolean gated, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(1000L * dt.ordinal() + 10L * n + k + (inPlace ? 1 : 0) + (gated ? 2 : 0));
        int g = 4, rows = 30;
        int[] offsets = {0, 7, 7, 25, 27};                           // group 1 empty, rows 27..29 past the end
        boolean transW = !gated;                                     // LoRA's B as stored (N, r); the gated one (K, N)
        long[] wShape = transW ? new long[] {g, n, k} : new long[] {g, k, n};
        Activation act = gated ? Activation.SILU : Activation.NONE;
        try (Tensor x = Tensor.of(dt, LinearOpTest.random(rnd, rows * k, 1), rows, k);
             Tensor w = Tensor.of(dt, LinearOpTest.random(rnd, g * n * k, 0.5), wShape);
             Tensor wg = Tensor.of(dt, LinearOpTest.random(rnd, g * n * k, 0.5), wShape);
             Tensor off = Tensor.ofInts(offsets, g + 1);
             Tensor res = Tensor.of(dt, LinearOpTest.random(rnd, rows * n, 2), rows, n);
             Tensor out = inPlace ? Tensor.of(dt, res.toFloatArray(), rows, n) : Tensor.empty(dt, rows, n).fill(Float.NaN)) {
            float[] before = res.toFloatArray();                     // as stored (rounded to dt)
            GroupedLinearOp op = GroupedLinearOp.of(x, w, off, out).transW(transW).residual(inPlace ? out : res);
            if (gated) op = op.gate(wg).activation(act);
            cpu.groupedLinear(op);
            float[] got = out.toFloatArray();
            for (int grp = 0; grp < g; grp++) {
                int from = offsets[grp], to = offsets[grp + 1];
                if (from == to) continue;
                double[] ref = Oracle.linear(to - from, n, k, x.slice(0, from, to).toFloatArray(), w.select(0, grp).toFloatArray(), transW,
                        null, gated ? wg.select(0, grp).toFloatArray() : null, null, Arrays.copyOfRange(before, from * n, to * n), 1,
                        act.code());
                LinearOpTest.assertClose(dt, Arrays.copyOfRange(got, from * n, to * n), ref, "group " + grp);
            }
            for (int i = 27 * n; i < rows * n; i++) {
                if (inPlace) assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(got[i]), "row past offsets[G] changed at " + i);
                else assertTrue(Float.isNaN(got[i]), "row past offsets[G] written at " + i);
            }
            if (!inPlace) assertArrayEquals(before, res.toFloatArray(), "the residual was written");
        }
    }

    /** The residual's rules: like out (shape, dtype), out itself or apart from it, and not with MXFP4 weights; each named. */
    @Test
    void groupedLinearRefusesAResidualThatOverlapsOutOrMeetsMxfp4() {
        try (Tensor x = Tensor.ofFloats(new float[3 * 32], 3, 32); Tensor w = Tensor.ofFloats(new float[2 * 4 * 32], 2, 4, 32);
             Tensor off = Tensor.ofInts(new int[] {0, 2, 3}, 3); Tensor wide = Tensor.empty(DType.F32, 3, 8);
             Tensor other = Tensor.empty(DType.F32, 3, 4); Tensor narrow = Tensor.empty(DType.F32, 3, 3);
             Tensor half = Tensor.empty(DType.F16, 3, 4);
             Tensor blocks = Tensor.empty(DType.U8, 2, 4, 1, 16); Tensor scales = Tensor.empty(DType.U8, 2, 4, 1)) {
            Tensor out = wide.slice(1, 0, 4);
            GroupedLinearOp base = GroupedLinearOp.of(x, w, off, out).transW(true);
            base.residual(out).validate();                                                   // out itself
            base.residual(wide.slice(1, 0, 4)).validate();                                   // the same view, another object
            base.residual(other).validate();                                                 // apart
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(base.residual(wide.slice(1, 1, 5))));            // one column over
            assertTrue(e.getMessage().contains("residual") && e.getMessage().contains("not out itself"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(base.residual(wide.slice(1, 4, 8))));
            assertTrue(e.getMessage().contains("shares out's storage"), e.getMessage());      // apart, but one storage: refused too
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(base.residual(narrow)));
            assertTrue(e.getMessage().contains("residual has shape (3, 3) but out has shape (3, 4)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(base.residual(half)));
            assertTrue(e.getMessage().contains("residual has dtype F16"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(GroupedLinearOp.mxfp4(x, new Mxfp4(blocks, scales), off, other).residual(other)));
            assertTrue(e.getMessage().contains("residual is not taken with MXFP4"), e.getMessage());
        }
    }

    @Test
    void theClampedSwigluNeedsTheGatedFormAndBiasesTheirGroups() {
        try (Tensor x = Tensor.ofFloats(new float[6], 3, 2); Tensor w = Tensor.ofFloats(new float[8], 2, 2, 2);
             Tensor off = Tensor.ofInts(new int[] {0, 2, 3}, 3); Tensor out = Tensor.empty(DType.F32, 3, 2);
             Tensor badBias = Tensor.ofFloats(new float[2], 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out).activation(Activation.SWIGLU_OAI)));
            assertTrue(e.getMessage().contains("gated form"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out).bias(badBias, null)));
            assertTrue(e.getMessage().contains("one bias row per group"), e.getMessage());
        }
    }

    @Test
    void groupedLinearRefusesOffsetsPastTheRows() {
        try (Tensor x = Tensor.ofFloats(new float[6], 3, 2); Tensor w = Tensor.ofFloats(new float[8], 2, 2, 2);
             Tensor off = Tensor.ofInts(new int[] {0, 2, 4}, 3); Tensor out = Tensor.empty(DType.F32, 3, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.groupedLinear(GroupedLinearOp.of(x, w, off, out)));
            assertTrue(e.getMessage().contains("past x's 3 rows"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0} residual={1} shared={2} gate={3}")
    @CsvSource({"F32, false, false, false", "F32, true, true, true", "BF16, true, false, false", "F16, false, true, false", "BF16, true, true, true"})
    void combineIsTheWeightedSumOfTheExperts(DType dt, boolean withResidual, boolean withShared, boolean withGate) {
        SplittableRandom rnd = new SplittableRandom(5);
        int t = 6, c = 10, k = 3, s = t * k;
        int[] slots = new int[t * k];
        List<Integer> perm = new ArrayList<>();
        for (int i = 0; i < s; i++) perm.add(i);
        java.util.Collections.shuffle(perm, new java.util.Random(9));
        for (int i = 0; i < s; i++) slots[i] = perm.get(i);
        float[] w = LinearOpTest.random(rnd, t * k, 1);
        try (Tensor y = Tensor.of(dt, LinearOpTest.random(rnd, s * c, 2), s, c); Tensor sl = Tensor.ofInts(slots, t, k);
             Tensor wt = Tensor.ofFloats(w, t, k); Tensor h = Tensor.of(dt, LinearOpTest.random(rnd, t * c, 1), t, c);
             Tensor sh = Tensor.of(dt, LinearOpTest.random(rnd, t * c, 1), t, c); Tensor gate = Tensor.of(dt, LinearOpTest.random(rnd, t, 3), t, 1)) {
            float[] yv = y.toFloatArray(), hv = h.toFloatArray(), sv = sh.toFloatArray(), gv = gate.toFloatArray();
            double[] ref = new double[t * c], mag = new double[t * c];
            for (int i = 0; i < t; i++) {
                double sig = withGate ? 1 / (1 + Math.exp(-gv[i])) : 1;
                for (int x = 0; x < c; x++) {
                    double v = 0, m = 0;
                    for (int j = 0; j < k; j++) {
                        double term = (double) w[i * k + j] * yv[slots[i * k + j] * c + x];
                        v += term;
                        m += Math.abs(term);
                    }
                    if (withShared) { v += sig * sv[i * c + x]; m += Math.abs(sig * sv[i * c + x]); }
                    if (withResidual) { v += hv[i * c + x]; m += Math.abs(hv[i * c + x]); }
                    ref[i * c + x] = v;
                    mag[i * c + x] = m;
                }
            }
            MoeCombineOp op = new MoeCombineOp(y, sl, wt, null, null, null, h);          // out = h
            if (withResidual) op = op.residual(h);                                            // h += experts: aliasing
            if (withShared) op = op.shared(sh, withGate ? gate : null);
            cpu.moeCombine(op);
            LinearOpTest.assertClose(dt, h.toFloatArray(), ref, mag, "combine " + dt);
        }
    }

    /** The four ops as one MoE block, captured on the CPU and replayed with new router logits, equal the eager run. */
    @Test
    void aCapturedMoeBlockReplaysWithNewLogits() {
        SplittableRandom rnd = new SplittableRandom(77);
        int t = 5, c = 8, e = 4, k = 2, f = 6;
        try (Tensor x = Tensor.ofFloats(LinearOpTest.random(rnd, t * c, 1), t, c);
             Tensor logits = Tensor.empty(DType.F32, t, e);
             Tensor up = Tensor.ofFloats(LinearOpTest.random(rnd, e * 2 * f * c, 0.5), e, 2L * f, c);
             Tensor down = Tensor.ofFloats(LinearOpTest.random(rnd, e * c * f, 0.5), e, c, f);
             MoeRouting r = MoeRouting.allocate(cpu, t, e, k);
             Tensor xs = Tensor.empty(DType.F32, t * k, c); Tensor hs = Tensor.empty(DType.F32, t * k, f);
             Tensor ys = Tensor.empty(DType.F32, t * k, c); Tensor out = Tensor.empty(DType.F32, t, c)) {
            Runnable block = () -> {
                cpu.moeRoute(new MoeRouteOp(logits, k, true, r));
                cpu.gatherRows(new GatherRowsOp(x, r.sortedTokens(), xs));
                cpu.groupedLinear(GroupedLinearOp.of(xs, up.slice(1, 0, f), r.offsets(), hs).transW(true)
                        .gate(up.slice(1, f, 2L * f)).activation(Activation.SILU));
                cpu.groupedLinear(GroupedLinearOp.of(hs, down, r.offsets(), ys).transW(true));
                cpu.moeCombine(MoeCombineOp.of(ys, r, out));
            };
            try (Graph graph = cpu.capture(block)) {
                for (int step = 0; step < 3; step++) {
                    logits.copyFrom(spacedLogits(rnd, t, e));
                    graph.replay();
                    float[] replayed = out.toFloatArray();
                    out.fill(Float.NaN);
                    block.run();
                    assertArrayEquals(out.toFloatArray(), replayed, "step " + step);
                    // and the block is what it means: Σ_j w_j · down_e(silu(gate_e x) ⊙ up_e x)
                    float[] lf = logits.toFloatArray(), xv = x.toFloatArray(), uv = up.toFloatArray(), dv = down.toFloatArray();
                    for (int i = 0; i < t; i++) {
                        double[][] ref = route64(lf, i, e, k, true);
                        for (int col = 0; col < c; col++) {
                            double v = 0;
                            for (int j = 0; j < k; j++) {
                                int ex = (int) ref[0][j];
                                double o = 0;
                                for (int q = 0; q < f; q++) {
                                    double gsum = 0, usum = 0;
                                    for (int z = 0; z < c; z++) {
                                        gsum += (double) xv[i * c + z] * uv[(ex * 2 * f + q) * c + z];
                                        usum += (double) xv[i * c + z] * uv[(ex * 2 * f + f + q) * c + z];
                                    }
                                    o += Oracle.activate(Activation.SILU.code(), gsum) * usum * dv[(ex * c + col) * f + q];
                                }
                                v += ref[1][j] * o;
                            }
                            assertEquals(v, replayed[i * c + col], 1e-5, "token " + i + " column " + col);
                        }
                    }
                }
            }
        }
    }
}
