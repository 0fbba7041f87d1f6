// PenaltyOpTest — the CPU twin of the sampling penalties (repetition, presence, frequency, logit bias) against
// the float64 oracle, which works from the token lists themselves (Oracle.penalized) while the op reads each
// row's distinct ids and counts: random rows in F32 and BF16, negative logits, zeros, −0, −∞ and NaN, ids
// repeated in the prompt and the output, bias-only ids, padding; the sign rule and the counting by hand; the
// neutral values leaving every bit alone; a row masked to −∞ staying non-finite for the sampler; bad input.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.transformer4j.runtime.reference.Oracle;

class PenaltyOpTest {

    private final CpuBackend cpu = new CpuBackend();

    /** The op's inputs for rows of token lists: (rows, U) ids (−1 padding), counts (−1: bias only) and bias. */
    private record Lists(int[] ids, int[] counts, float[] bias, int width) {}

    /** Each row's distinct ids in a shuffled order: bias ids count −1, prompt ids 0, generated ids their occurrences. */
    private static Lists encode(int[][] prompts, int[][] generated, List<Map<Integer, Float>> biases, SplittableRandom rnd) {
        int rows = prompts.length;
        List<List<int[]>> entries = new ArrayList<>();                    // per row: {id, count, bias bits}
        int width = 0;
        for (int r = 0; r < rows; r++) {
            Map<Integer, int[]> m = new LinkedHashMap<>();
            if (biases != null) biases.get(r).forEach((id, b) -> m.put(id, new int[] {id, -1, Float.floatToRawIntBits(b)}));
            for (int id : prompts[r]) m.computeIfAbsent(id, k -> new int[] {k, 0, 0})[1] = Math.max(m.get(id)[1], 0);
            for (int id : generated[r]) {
                int[] e = m.computeIfAbsent(id, k -> new int[] {k, 0, 0});
                e[1] = Math.max(e[1], 0) + 1;
            }
            List<int[]> row = new ArrayList<>(m.values());
            java.util.Collections.shuffle(row, new java.util.Random(rnd.nextLong()));
            entries.add(row);
            width = Math.max(width, row.size() + 2);                            // and two padding slots at least
        }
        int[] ids = new int[rows * width], counts = new int[rows * width];
        float[] bias = new float[rows * width];
        java.util.Arrays.fill(ids, -1);
        for (int r = 0; r < rows; r++) {
            List<int[]> row = entries.get(r);
            for (int j = 0; j < row.size(); j++) {
                int slot = r * width + (j < row.size() / 2 ? j : j + 1);       // a padding slot in the middle
                ids[slot] = row.get(j)[0];
                counts[slot] = row.get(j)[1];
                bias[slot] = Float.intBitsToFloat(row.get(j)[2]);
            }
        }
        return new Lists(ids, counts, bias, width);
    }

    private float[] run(DType dt, float[] logits, int rows, int v, Lists l, boolean withBias, float rep, float pres, float freq) {
        try (Tensor x = Tensor.of(dt, logits, rows, v); Tensor ids = Tensor.ofInts(l.ids(), rows, l.width());
             Tensor counts = Tensor.ofInts(l.counts(), rows, l.width());
             Tensor bias = withBias ? Tensor.ofFloats(l.bias(), rows, l.width()) : null) {
            cpu.penalty(new PenaltyOp(x, ids, counts, bias, rep, pres, freq));
            return x.toFloatArray();
        }
    }

    /** Draws n ids from [0, range): small ranges repeat ids. */
    private static int[] tokens(SplittableRandom rnd, int n, int range) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rnd.nextInt(range);
        return t;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void matchesTheFloat64OracleOnRandomRows(DType dt) {
        SplittableRandom rnd = new SplittableRandom(77);
        int rows = 6, v = 500;
        float[][] params = {{1.3f, 0.5f, 0.3f}, {0.7f, -1.2f, -0.4f}, {2f, 2f, 2f}};
        for (float[] pr : params) {
            for (boolean withBias : new boolean[] {false, true}) {
                float[] logits = LinearOpTest.random(rnd, rows * v, 5);
                int[][] prompts = new int[rows][], gen = new int[rows][];
                List<Map<Integer, Float>> biases = new ArrayList<>();
                for (int r = 0; r < rows; r++) {
                    prompts[r] = tokens(rnd, 30, 120);
                    gen[r] = tokens(rnd, 40, 60);
                    Map<Integer, Float> b = new HashMap<>();
                    for (int i = 0; i < 12; i++) b.put(rnd.nextInt(v), (float) (rnd.nextDouble() * 10 - 5));
                    biases.add(b);
                    // specials at penalized ids: zeros of both signs, −∞, NaN
                    logits[r * v + gen[r][0]] = 0f;
                    logits[r * v + gen[r][1]] = -0f;
                    logits[r * v + prompts[r][0]] = Float.NEGATIVE_INFINITY;
                    logits[r * v + gen[r][2]] = Float.NaN;
                }
                try (Tensor rounded = Tensor.of(dt, logits, rows, v)) { logits = rounded.toFloatArray(); }  // the op's input values
                float[] got = run(dt, logits, rows, v, encode(prompts, gen, withBias ? biases : null, rnd), withBias, pr[0], pr[1], pr[2]);
                double u = dt == DType.F32 ? 0 : 0x1p-8;
                for (int r = 0; r < rows; r++) {
                    float[] x = java.util.Arrays.copyOfRange(logits, r * v, (r + 1) * v);
                    double[] want = Oracle.penalized(x, prompts[r], gen[r], withBias ? biases.get(r) : null, pr[0], pr[1], pr[2]);
                    int[] count = new int[v];
                    for (int id : gen[r]) count[id]++;
                    for (int i = 0; i < v; i++) {
                        float g = got[r * v + i];
                        String where = dt + " " + java.util.Arrays.toString(pr) + (withBias ? " bias" : "") + " row " + r + " id " + i;
                        if (Double.isNaN(want[i]) || Double.isInfinite(want[i])) {
                            assertEquals(want[i], g, where);
                            continue;
                        }
                        double b = withBias && biases.get(r).containsKey(i) ? Math.abs(biases.get(r).get(i)) : 0;
                        double scale = (Math.abs(x[i]) + b + Math.abs(pr[2]) * count[i] + Math.abs(pr[1]))
                                * Math.max(pr[0], 1 / pr[0]);
                        assertTrue(Math.abs(g - want[i]) <= 4 * 0x1p-24 * scale + u * Math.abs(want[i]),
                                where + ": " + g + " vs " + want[i]);
                    }
                }
            }
        }
    }

    @Test
    void repetitionDividesWhatIsAtLeastZeroAndMultipliesWhatIsBelow() {
        float[] logits = {2f, -2f, 0f, Float.NEGATIVE_INFINITY, 3f, -3f};
        int[][] prompt = {{0, 1}};
        int[][] gen = {{2, 3, 1}};
        float[] got = run(DType.F32, logits, 1, 6, encode(prompt, gen, null, new SplittableRandom(1)), false, 2f, 0f, 0f);
        assertArrayEquals(new float[] {1f, -4f, 0f, Float.NEGATIVE_INFINITY, 3f, -3f}, got, "ids 4 and 5 were never seen");
    }

    @Test
    void presenceAndFrequencyCountTheGeneratedTokensOnly() {
        float[] logits = {1f, 1f, 1f, 1f};
        int[][] prompt = {{0, 0, 0, 1}};
        int[][] gen = {{1, 2, 2, 2}};
        float[] got = run(DType.F32, logits, 1, 4, encode(prompt, gen, null, new SplittableRandom(2)), false, 1f, 0.5f, 0.25f);
        assertArrayEquals(new float[] {1f, 1f - 0.25f - 0.5f, 1f - 0.75f - 0.5f, 1f}, got, "id 0 is in the prompt only");
    }

    @Test
    void biasIsAddedBeforeTheRepetitionPenaltyAndAloneWhereNothingWasSeen() {
        float[] logits = {1f, -1f, 0.5f};
        Map<Integer, Float> bias = Map.of(0, -3f, 2, 100f);
        float[] got = run(DType.F32, logits, 1, 3, encode(new int[][] {{0}}, new int[][] {{}}, List.of(bias), new SplittableRandom(3)),
                true, 2f, 0f, 0f);
        assertArrayEquals(new float[] {-4f, -1f, 100.5f}, got, "(1 − 3) · 2; untouched; 0.5 + 100 unpenalised");
    }

    @Test
    void neutralPenaltiesLeaveEveryBitAlone() {
        SplittableRandom rnd = new SplittableRandom(5);
        int v = 64;
        float[] logits = LinearOpTest.random(rnd, v, 3);
        logits[0] = -0f;
        logits[1] = Float.NaN;
        logits[2] = Float.NEGATIVE_INFINITY;
        int[][] prompt = {tokens(rnd, 20, v)};
        int[][] gen = {new int[] {0, 1, 2, 3, 3}};
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            float[] in;
            try (Tensor t = Tensor.of(dt, logits, 1, v)) { in = t.toFloatArray(); }
            float[] got = run(dt, in, 1, v, encode(prompt, gen, null, rnd), false, 1f, 0f, 0f);
            for (int i = 0; i < v; i++) {
                assertEquals(Float.floatToRawIntBits(in[i]), Float.floatToRawIntBits(got[i]), dt + " id " + i);
            }
        }
    }

    @Test
    void aRowMaskedToMinusInfinityStaysNonFiniteForTheSampler() {
        int v = 8;
        float[] logits = new float[v];
        java.util.Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        float[] got = run(DType.F32, logits, 1, v, encode(new int[][] {{1, 2}}, new int[][] {{2, 2, 5}},
                List.of(Map.of(7, 50f)), new SplittableRandom(6)), true, 1.5f, 1f, 1f);
        assertArrayEquals(logits, got, "−∞ + bias, × or ÷ a penalty, minus counts: still −∞");
        try (Tensor x = Tensor.ofFloats(got, 1, v); Tensor ids = Tensor.empty(DType.I32, 1); Tensor flags = Tensor.empty(DType.I32, 1)) {
            cpu.sample(SampleOp.sample(x, 0.8f, 1, ids).minP(0.1f).nonFinite(flags));
            assertEquals(1, flags.toIntArray()[0]);
            assertEquals(0, ids.toIntArray()[0], "ids never leave the vocabulary");
        }
    }

    private static void rejects(Executable op, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }

    @Test
    void badInputIsRefusedNamingTheProblem() {
        try (Tensor x = Tensor.empty(DType.F32, 2, 10).fill(1f); Tensor ids = Tensor.ofInts(new int[] {1, 2, -1, 3, 3, -1}, 2, 3);
             Tensor counts = Tensor.ofInts(new int[] {0, 1, 0, 1, 2, 0}, 2, 3);
             Tensor good = Tensor.ofInts(new int[] {1, 2, -1, 3, 4, -1}, 2, 3);
             Tensor outside = Tensor.ofInts(new int[] {1, 10, -1, 3, 4, -1}, 2, 3);
             Tensor minus2 = Tensor.ofInts(new int[] {1, -2, -1, 3, 4, -1}, 2, 3);
             Tensor narrow = Tensor.ofInts(new int[] {1, 2, 3, 4}, 2, 2);
             Tensor fbias = Tensor.empty(DType.F16, 2, 3); Tensor ints = Tensor.empty(DType.F32, 2, 3)) {
            rejects(() -> cpu.penalty(new PenaltyOp(x, ids, counts, null, 1.2f, 0, 0)), "ids row 1 holds id 3 twice");
            rejects(() -> cpu.penalty(new PenaltyOp(x, outside, counts, null, 1.2f, 0, 0)), "ids[0, 1] = 10", "[0, 10)");
            rejects(() -> cpu.penalty(new PenaltyOp(x, minus2, counts, null, 1.2f, 0, 0)), "ids[0, 1] = -2");
            rejects(() -> cpu.penalty(new PenaltyOp(x, good, narrow, null, 1.2f, 0, 0)), "counts");
            rejects(() -> cpu.penalty(new PenaltyOp(x, good, counts, fbias, 1.2f, 0, 0)), "bias must be F32");
            rejects(() -> cpu.penalty(new PenaltyOp(x, ints, counts, null, 1.2f, 0, 0)), "ids and counts must be I32");
            for (float rep : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
                rejects(() -> cpu.penalty(new PenaltyOp(x, good, counts, null, rep, 0, 0)), "repetition penalty must be finite and > 0");
            }
            rejects(() -> cpu.penalty(new PenaltyOp(x, good, counts, null, 1f, Float.NaN, 0)), "presence penalty must be finite");
            rejects(() -> cpu.penalty(new PenaltyOp(x, good, counts, null, 1f, 0, Float.NEGATIVE_INFINITY)), "frequency penalty must be finite");
            rejects(() -> SampleOp.greedy(x, ids).minP(1.5f), "min-p must be in [0, 1]");
            rejects(() -> SampleOp.greedy(x, ids).minP(Float.NaN), "min-p must be in [0, 1]");
        }
    }
}
