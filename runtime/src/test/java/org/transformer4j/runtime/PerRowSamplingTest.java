// PerRowSamplingTest — the CPU twin's per-row mode (ABI 13) of the sample and penalty ops: one op over rows with
// their own parameters gives each row exactly what a scalar op over that row alone (row 0) gives — ids, logprob
// bits and non-finite flags; penalized bits — for mixed greedy / sampled / top-k / top-p / min_p rows, different
// seeds and offsets, odd V, F32 and BF16; the scalar mode keeps its row-index counter; bad per-row input is refused
// naming the row and the field.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PerRowSamplingTest {

    private final CpuBackend cpu = new CpuBackend();

    /** Mixed rows: greedy, plain, top-k, top-p, min_p, all three, one of them repeated with another seed or offset. */
    private static List<SampleOp.Row> mixedRows(SplittableRandom rnd, int n) {
        List<SampleOp.Row> rows = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            long seed = rnd.nextLong(), offset = rnd.nextInt(1000) + ((long) rnd.nextInt(3) << 32);
            rows.add(switch (r % 7) {
                case 0 -> SampleOp.Row.greedy();
                case 1 -> new SampleOp.Row(seed, offset, 1f, 0, 1f, 0f);
                case 2 -> new SampleOp.Row(seed, offset, 0.8f, 1 + rnd.nextInt(40), 1f, 0f);
                case 3 -> new SampleOp.Row(seed, offset, 1.2f, 0, 0.3f + 0.6f * rnd.nextFloat(), 0f);
                case 4 -> new SampleOp.Row(seed, offset, 0.7f, 0, 1f, 0.05f + 0.3f * rnd.nextFloat());
                case 5 -> new SampleOp.Row(seed, offset, 0.9f, 50, 0.9f, 0.02f);
                default -> new SampleOp.Row(seed, 0, 0f, 7, 0.5f, 0.5f);   // temperature 0: argmax whatever the rest says
            });
        }
        return rows;
    }

    private record Out(int[] ids, int[] lpBits, int[] flags) {}

    private Out run(Tensor logits, SampleOp base) {
        int rows = (int) logits.shape(0);
        try (Tensor ids = Tensor.empty(DType.I32, rows); Tensor lp = Tensor.empty(DType.F32, rows); Tensor nf = Tensor.empty(DType.I32, rows)) {
            cpu.sample(new SampleOp(logits, base.temperature(), base.topK(), base.topP(), base.seed(), base.offset(), ids, lp, nf,
                    base.minP(), base.rows()));
            float[] l = lp.toFloatArray();
            int[] bits = new int[rows];
            for (int r = 0; r < rows; r++) bits[r] = Float.floatToRawIntBits(l[r]);
            return new Out(ids.toIntArray(), bits, nf.toIntArray());
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void perRowRowsEqualTheirSoloOps(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(13);
        for (int v : new int[] {1, 7, 1001, 4099}) {
            int n = 23;
            float[] x = new float[n * v];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 3);
            x[9 * v + v / 2] = Float.NaN;                                      // row 9: non-finite
            List<SampleOp.Row> rows = mixedRows(rnd, n);
            try (Tensor logits = Tensor.of(dtype, x, n, v)) {
                Out batched = run(logits, SampleOp.perRow(logits, rows, null));
                int apart = 0;
                for (int r = 0; r < n; r++) {
                    SampleOp.Row row = rows.get(r);
                    try (Tensor one = logits.slice(0, r, r + 1)) {
                        SampleOp solo = new SampleOp(one, row.temperature(), row.topK(), row.topP(), row.seed(), row.offset(), one, null,
                                null, row.minP());
                        Out alone = run(one, solo);
                        String where = dtype + " V " + v + " row " + r + " " + row;
                        assertEquals(alone.ids()[0], batched.ids()[r], where + ": id");
                        assertEquals(alone.lpBits()[0], batched.lpBits()[r], where + ": logprob bits");
                        assertEquals(alone.flags()[0], batched.flags()[r], where + ": non-finite flag");
                        if (row.temperature() > 0 && alone.flags()[0] == 0) {
                            try (Tensor g = Tensor.empty(DType.I32, 1)) {
                                cpu.sample(SampleOp.greedy(one, g));
                                if (g.toIntArray()[0] != alone.ids()[0]) apart++;
                            }
                        }
                    }
                }
                assertEquals(1, batched.flags()[9], "row 9 holds a NaN");
                if (v > 7) assertTrue(apart >= 3, "the sampled rows must not all be their argmax (V " + v + "): " + apart);
            }
        }
    }

    @Test
    void theScalarModeKeepsTheRowIndexInItsCounter() {
        // before ABI 13 and still: scalar rows draw with counter (r, offset), so equal rows differ; per-row rows with the
        // same seed and offset do not
        int n = 16, v = 257;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] row = new float[v];
        for (int i = 0; i < v; i++) row[i] = (float) rnd.nextGaussian();
        float[] x = new float[n * v];
        for (int r = 0; r < n; r++) System.arraycopy(row, 0, x, r * v, v);
        try (Tensor logits = Tensor.ofFloats(x, n, v); Tensor ids = Tensor.empty(DType.I32, n)) {
            cpu.sample(new SampleOp(logits, 1f, 0, 1f, 99, 3, ids, null));
            int[] scalar = ids.toIntArray();
            assertTrue(java.util.Arrays.stream(scalar).distinct().count() > 1, "scalar rows draw with their row index");
            List<SampleOp.Row> same = new ArrayList<>();
            for (int r = 0; r < n; r++) same.add(new SampleOp.Row(99, 3, 1f, 0, 1f, 0f));
            cpu.sample(SampleOp.perRow(logits, same, ids));
            int[] perRow = ids.toIntArray();
            for (int r = 0; r < n; r++) assertEquals(scalar[0], perRow[r], "per-row row " + r + " draws as row 0 does");
            assertNotEquals(-1, scalar[0]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void perRowPenaltiesEqualTheirSoloOps(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(7);
        int n = 5, v = 301, width = 24;
        float[] x = new float[n * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 4);
        int[] ids = new int[n * width], counts = new int[n * width];
        float[] bias = new float[n * width];
        java.util.Arrays.fill(ids, -1);
        for (int r = 0; r < n; r++) {
            int[] perm = rnd.ints(0, v).distinct().limit(width - 2).toArray();
            for (int j = 0; j < perm.length; j++) {
                int e = r * width + j;
                ids[e] = perm[j];
                counts[e] = j % 8 - 1;
                bias[e] = r == 3 ? -0f : (float) rnd.nextGaussian();            // row 3 has no bias of its own
                if (j % 5 == 2) x[r * v + perm[j]] = j % 2 == 0 ? 0f : -0f;      // ±0 at penalized ids
            }
        }
        float[] rep = {1.3f, 0.8f, 1f, 2f, 1.1f}, pres = {0.4f, -1.5f, 0f, 0.25f, 0f}, freq = {0.25f, -0.5f, 0f, 1f, 0.1f};
        try (Tensor logits = Tensor.of(dtype, x, n, v); Tensor batched = Tensor.of(dtype, x, n, v); Tensor ti = Tensor.ofInts(ids, n, width);
             Tensor tc = Tensor.ofInts(counts, n, width); Tensor tb = Tensor.ofFloats(bias, n, width)) {
            float[] before = logits.toFloatArray();
            cpu.penalty(PenaltyOp.perRow(batched, ti, tc, tb, rep, pres, freq));
            int changed = 0;
            for (int r = 0; r < n; r++) {
                try (Tensor one = Tensor.of(dtype, java.util.Arrays.copyOfRange(before, r * v, (r + 1) * v), 1, v);
                     Tensor oi = Tensor.ofInts(java.util.Arrays.copyOfRange(ids, r * width, (r + 1) * width), 1, width);
                     Tensor oc = Tensor.ofInts(java.util.Arrays.copyOfRange(counts, r * width, (r + 1) * width), 1, width);
                     Tensor ob = Tensor.ofFloats(java.util.Arrays.copyOfRange(bias, r * width, (r + 1) * width), 1, width)) {
                    cpu.penalty(new PenaltyOp(one, oi, oc, r == 3 ? null : ob, rep[r], pres[r], freq[r]));
                    for (int c = 0; c < v; c++) {
                        int want = Float.floatToRawIntBits(one.getFloat(0, c)), got = Float.floatToRawIntBits(batched.getFloat(r, c));
                        assertEquals(want, got, dtype + " [" + r + ", " + c + "]");
                        if (want != Float.floatToRawIntBits(before[r * v + c])) changed++;
                    }
                }
            }
            assertTrue(changed > 30, "the penalties must change logits: " + changed);
            // a per-row array of the scalar's value gives the scalar op's bits (the scalar mode itself is unchanged)
            try (Tensor scalar = Tensor.of(dtype, x, n, v); Tensor mixed = Tensor.of(dtype, x, n, v)) {
                cpu.penalty(new PenaltyOp(scalar, ti, tc, tb, 1.3f, 0.4f, 0.25f));
                cpu.penalty(new PenaltyOp(mixed, ti, tc, tb, 1.3f, 0.4f, 0.25f, null, new float[] {0.4f, 0.4f, 0.4f, 0.4f, 0.4f}, null));
                assertArrayEquals(scalar.toFloatArray(), mixed.toFloatArray(), "a per-row array of the scalar's value");
            }
        }
    }

    @Test
    void badPerRowInputIsRefusedNamingTheField() {
        try (Tensor logits = Tensor.ofFloats(new float[6], 2, 3); Tensor ids = Tensor.empty(DType.I32, 2);
             Tensor pi = Tensor.ofInts(new int[] {0, 1}, 2, 1); Tensor pc = Tensor.ofInts(new int[] {1, 1}, 2, 1)) {
            SampleOp.Row ok = SampleOp.Row.greedy();
            rejects(() -> cpu.sample(SampleOp.perRow(logits, List.of(ok), ids)), "rows has 1 entries for logits (2, 3)");
            rejects(() -> cpu.sample(SampleOp.perRow(logits, List.of(ok, new SampleOp.Row(1, 0, 1f, -1, 1f, 0f)), ids)),
                    "rows[1].top-k must be ≥ 1 (or 0");
            rejects(() -> cpu.sample(SampleOp.perRow(logits, List.of(new SampleOp.Row(1, 0, Float.NaN, 0, 1f, 0f), ok), ids)),
                    "rows[0].temperature must be finite");
            rejects(() -> cpu.sample(SampleOp.perRow(logits, List.of(ok, new SampleOp.Row(1, 0, 1f, 0, 0f, 0f)), ids)),
                    "rows[1].top-p must be in (0, 1]");
            rejects(() -> cpu.sample(SampleOp.perRow(logits, List.of(ok, new SampleOp.Row(1, 0, 1f, 0, 1f, 1.5f)), ids)),
                    "rows[1].min-p must be in [0, 1]");
            rejects(() -> cpu.penalty(PenaltyOp.perRow(logits, pi, pc, null, new float[] {1f}, null, null)),
                    "repetitionRows has 1 entries for logits (2, 3)");
            rejects(() -> cpu.penalty(PenaltyOp.perRow(logits, pi, pc, null, new float[] {1f, 0f}, null, null)),
                    "repetitionRows[1] must be finite and > 0");
            rejects(() -> cpu.penalty(PenaltyOp.perRow(logits, pi, pc, null, null, new float[] {Float.NaN, 0f}, null)),
                    "presenceRows[0] must be finite");
            rejects(() -> cpu.penalty(PenaltyOp.perRow(logits, pi, pc, null, null, null, new float[] {0f, 0f, 0f})),
                    "frequencyRows has 3 entries");
        }
    }

    private static void rejects(org.junit.jupiter.api.function.Executable call, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(message), "message '" + e.getMessage() + "' lacks '" + message + "'");
    }
}
