// CudaVocabTest — embedding, softmax / log-softmax, cross-entropy, sampling and the sampling penalties on
// the GPU against the float64 oracle (tolerance rule) and the CPU twin: embeddings bit-equal to the twin
// (same fp32 sums), bad ids and targets reported by position after the launch, argmax equal to the twin,
// top-k / top-p / min_p never choosing an excluded id, seeded sampling reproducible and (up to rounding at
// a boundary) equal to the CPU twin's draws, penalties bit-equal to the twin (the same rounded fp32 steps).
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.SoftmaxOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.reference.Oracle;

@Tag("gpu")
class CudaVocabTest {

    private final CpuBackend cpu = new CpuBackend();

    /** GPT-2's vocabulary (not a multiple of any block size); -Dt4j.test.small=true (compute-sanitizer runs) uses 1001. */
    private static final int V = Boolean.getBoolean("t4j.test.small") ? 1001 : 50257;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void embeddingEqualsTheCpuTwin(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        SplittableRandom rnd = new SplittableRandom(GpuTests.seed());
        int v = 1000, c = 96, p = 64, b = 3, t = 17;
        int[] ids = new int[b * t];
        int[] types = new int[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(v);
            types[i] = rnd.nextInt(2);
        }
        try (Tensor htok = Tensor.of(dt, GpuTests.random(rnd, v * c, 1), v, c); Tensor hpos = Tensor.of(dt, GpuTests.random(rnd, p * c, 1), p, c);
             Tensor htyp = Tensor.of(dt, GpuTests.random(rnd, 2 * c, 1), 2, c);
             Tensor hids = Tensor.ofInts(ids, b, t); Tensor htypes = Tensor.ofInts(types, b, t);
             Tensor tok = gpu.upload(htok); Tensor pos = gpu.upload(hpos); Tensor typ = gpu.upload(htyp);
             Tensor gids = gpu.upload(hids); Tensor gtypes = gpu.upload(htypes);
             Tensor out = GpuTests.poisoned(gpu, dt, b, t, c); Tensor cout = Tensor.empty(dt, b, t, c)) {
            gpu.embedding(EmbeddingOp.of(gids, tok, pos, out).positionOffset(5).types(gtypes, typ));
            cpu.embedding(EmbeddingOp.of(hids, htok, hpos, cout).positionOffset(5).types(htypes, htyp));
            float[] got = GpuTests.download(gpu, out);
            GpuTests.allWritten(got, "embedding");
            assertArrayEquals(cout.toFloatArray(), got, "same fp32 sums in the same order");
        }
    }

    @Test
    void embeddingReportsTheFirstBadIdByPosition() {
        CudaBackend gpu = GpuTests.backend();
        try (Tensor htok = Tensor.of(DType.F32, new float[10 * 4], 10, 4); Tensor tok = gpu.upload(htok);
             Tensor hids = Tensor.ofInts(new int[] {1, 2, 3, 4, -1, 99}, 2, 3); Tensor ids = gpu.upload(hids);
             Tensor out = gpu.empty(DType.F32, 2, 3, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gpu.embedding(EmbeddingOp.of(ids, tok, null, out)));
            assertTrue(e.getMessage().contains("(b=1, t=1)"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void softmaxLogSoftmaxAndCrossEntropyMatchTheOracle(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int rows = 37, v = V;
        int[] targets = new int[rows];
        for (int i = 0; i < rows; i++) targets[i] = i % 5 == 4 ? -100 : rnd.nextInt(v);
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, rows * v, 6), rows, v); Tensor x = gpu.upload(hx);
             Tensor s = GpuTests.poisoned(gpu, dt, rows, v); Tensor l = GpuTests.poisoned(gpu, dt, rows, v);
             Tensor cs = Tensor.empty(dt, rows, v); Tensor cl = Tensor.empty(dt, rows, v);
             Tensor ht = Tensor.ofInts(targets, rows); Tensor t = gpu.upload(ht);
             Tensor losses = GpuTests.poisoned(gpu, DType.F32, rows); Tensor closses = Tensor.empty(DType.F32, rows)) {
            gpu.softmax(SoftmaxOp.softmax(x, s).scale(0.9f));
            gpu.softmax(SoftmaxOp.logSoftmax(x, l));
            cpu.softmax(SoftmaxOp.softmax(hx, cs).scale(0.9f));
            cpu.softmax(SoftmaxOp.logSoftmax(hx, cl));
            float[] xf = hx.toFloatArray();
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, s), cs.toFloatArray(), Oracle.softmax(rows, v, xf, 0.9, false),
                    "softmax seed " + seed);
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, l), cl.toFloatArray(), Oracle.softmax(rows, v, xf, 1, true),
                    "log-softmax seed " + seed);
            CrossEntropyOp.Result g = gpu.crossEntropy(CrossEntropyOp.of(x, t, losses));
            CrossEntropyOp.Result c = cpu.crossEntropy(CrossEntropyOp.of(hx, ht, closses));
            // Losses are fp32 on every path: the fp32 rule applies whatever the logits' dtype.
            GpuTests.withinTolerance(DType.F32, GpuTests.download(gpu, losses), closses.toFloatArray(),
                    Oracle.crossEntropy(rows, v, xf, targets, -100), "cross-entropy seed " + seed);
            assertEquals(c.counted(), g.counted());
            assertEquals(c.meanLoss(), g.meanLoss(), 1e-5 * c.meanLoss());
        }
    }

    @Test
    void crossEntropyReportsABadTargetByRow() {
        CudaBackend gpu = GpuTests.backend();
        try (Tensor hx = Tensor.of(DType.F32, new float[4 * 8], 4, 8); Tensor x = gpu.upload(hx);
             Tensor ht = Tensor.ofInts(new int[] {1, 8, -100, 2}, 4); Tensor t = gpu.upload(ht);
             Tensor losses = gpu.empty(DType.F32, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gpu.crossEntropy(CrossEntropyOp.of(x, t, losses)));
            assertTrue(e.getMessage().contains("target 8 at row 1"), e.getMessage());
        }
    }

    private static int[] ints(CudaBackend gpu, Tensor t) {
        try (Tensor h = gpu.toHost(t)) { return h.toIntArray(); }
    }

    /** Sampling options without tensors, applied to any backend's logits. */
    private record Opts(float temperature, int topK, float topP, long seed, long offset, float minP) {
        Opts(float temperature, int topK, float topP, long seed, long offset) { this(temperature, topK, topP, seed, offset, 0f); }
    }

    private static int[] sampleOn(org.transformer4j.runtime.Backend be, Tensor logits, Opts o, float[] logprobs) {
        try (Tensor ids = be.empty(DType.I32, logits.shape(0)); Tensor lp = be.empty(DType.F32, logits.shape(0))) {
            be.sample(new SampleOp(logits, o.temperature(), o.topK(), o.topP(), o.seed(), o.offset(), ids, lp).minP(o.minP()));
            try (Tensor hi = be.toHost(ids); Tensor hl = be.toHost(lp)) {
                if (logprobs != null) System.arraycopy(hl.toFloatArray(), 0, logprobs, 0, logprobs.length);
                return hi.toIntArray();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void samplingMatchesTheCpuTwin(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int rows = 64, v = V;
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, rows * v, 8), rows, v); Tensor x = gpu.upload(hx)) {
            float[] xf = hx.toFloatArray();
            // argmax: exact, and its log-probability to fp32 accuracy
            float[] glp = new float[rows];
            int[] g = sampleOn(gpu, x, new Opts(0f, 0, 1f, 0, 0), glp);
            assertArrayEquals(sampleOn(cpu, hx, new Opts(0f, 0, 1f, 0, 0), null), g, "argmax seed " + seed);
            double[] lsm = Oracle.softmax(rows, v, xf, 1, true);
            for (int r = 0; r < rows; r++) assertEquals(lsm[r * v + g[r]], glp[r], 1e-4 * Math.max(1, Math.abs(lsm[r * v + g[r]])));
            int[][] filters = {{0, 100, 0}, {50, 100, 0}, {0, 90, 0}, {40, 80, 0}, {1, 100, 0}, {0, 100, 10}, {40, 90, 30}};  // k, p %, min-p %
            for (int[] f : filters) {
                Opts opt = new Opts(0.9f, f[0], f[1] / 100f, seed, 3, f[2] / 100f);
                int[] a = sampleOn(gpu, x, opt, null);
                int[] again = sampleOn(gpu, x, opt, null);
                int[] c = sampleOn(cpu, hx, opt, null);
                assertArrayEquals(a, again, "same seed and offset, same ids: " + Arrays.toString(f));
                int differ = 0;
                for (int r = 0; r < rows; r++) {
                    boolean[] keep = Oracle.kept(Arrays.copyOfRange(xf, r * v, (r + 1) * v), 0.9, f[0], f[1] / 100.0, f[2] / 100.0);
                    assertTrue(keep[a[r]], "filter " + Arrays.toString(f) + " row " + r + " chose excluded id " + a[r]);
                    if (a[r] != c[r]) differ++;
                }
                // The GPU sums in another order and with __expf: a draw may land across a boundary
                // only when u·S is within rounding of a running sum — about once in 10^5 rows.
                assertTrue(differ <= 1, differ + " of " + rows + " rows differ from the CPU twin, filter " + Arrays.toString(f));
            }
        }
    }

    /**
     * Per-row parameters (ABI 13): one launch over rows with their own seed, offset, temperature, top-k, top-p and
     * min_p gives each row exactly (ids, logprob bits, flags) what a scalar launch over that row alone gives on the GPU,
     * and, up to a boundary draw, the CPU twin's per-row ids.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void perRowSamplingEqualsEachRowAlone(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int rows = 20, v = V;
        java.util.List<SampleOp.Row> params = new java.util.ArrayList<>();
        for (int r = 0; r < rows; r++) {
            params.add(r % 5 == 0 ? SampleOp.Row.greedy()
                    : new SampleOp.Row(rnd.nextLong(), rnd.nextInt(100), 0.6f + (r % 4) * 0.2f, r % 3 == 0 ? 40 : 0,
                            r % 4 == 1 ? 0.9f : 1f, r % 6 == 2 ? 0.05f : 0f));
        }
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, rows * v, 8), rows, v); Tensor x = gpu.upload(hx);
             Tensor ids = gpu.empty(DType.I32, rows); Tensor lp = gpu.empty(DType.F32, rows); Tensor nf = gpu.empty(DType.I32, rows);
             Tensor one = gpu.empty(DType.I32, 1); Tensor oneLp = gpu.empty(DType.F32, 1); Tensor oneNf = gpu.empty(DType.I32, 1);
             Tensor cids = Tensor.empty(DType.I32, rows)) {
            gpu.sample(SampleOp.perRow(x, params, ids).logprobs(lp).nonFinite(nf));
            int[] gi = ints(gpu, ids), gf = ints(gpu, nf);
            float[] gl = GpuTests.download(gpu, lp);
            cpu.sample(SampleOp.perRow(hx, params, cids));
            int[] ci = cids.toIntArray();
            int differ = 0;
            for (int r = 0; r < rows; r++) {
                SampleOp.Row p = params.get(r);
                gpu.sample(new SampleOp(x.slice(0, r, r + 1), p.temperature(), p.topK(), p.topP(), p.seed(), p.offset(), one, oneLp, oneNf,
                        p.minP()));
                assertEquals(ints(gpu, one)[0], gi[r], dt + " row " + r + " id, seed " + seed);
                assertEquals(Float.floatToRawIntBits(GpuTests.download(gpu, oneLp)[0]), Float.floatToRawIntBits(gl[r]), dt + " row " + r + " logprob");
                assertEquals(ints(gpu, oneNf)[0], gf[r], dt + " row " + r + " flag");
                if (ci[r] != gi[r]) differ++;
            }
            assertTrue(differ <= 1, differ + " of " + rows + " rows differ from the CPU twin's per-row draws, seed " + seed);
        }
    }

    /** Per-row penalties (ABI 13) on the GPU: bit-equal to the CPU twin's per-row op and to each row's scalar op. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void perRowPenaltiesEqualTheCpuTwinBitForBit(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int rows = 6, v = V, width = 64;
        float[] logits = GpuTests.random(rnd, rows * v, 6);
        int[] ids = new int[rows * width], counts = new int[rows * width];
        float[] bias = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            int[] distinct = rnd.ints(0, v).distinct().limit(width).toArray();
            for (int j = 0; j < width; j++) {
                ids[r * width + j] = j % 13 == 4 ? -1 : distinct[j];
                counts[r * width + j] = j % 8 - 1;
                bias[r * width + j] = r == 2 ? -0f : (float) (rnd.nextDouble() * 8 - 4);
            }
        }
        float[] rep = {1.3f, 0.8f, 1f, 2f, 1.1f, 0.5f}, pres = {0.5f, -2f, 0f, 0.25f, 0f, 1f}, freq = {0.3f, -1.5f, 0f, 1f, 0.1f, 0f};
        try (Tensor hx = Tensor.of(dt, logits, rows, v); Tensor x = gpu.upload(hx);
             Tensor hids = Tensor.ofInts(ids, rows, width); Tensor gids = gpu.upload(hids);
             Tensor hcounts = Tensor.ofInts(counts, rows, width); Tensor gcounts = gpu.upload(hcounts);
             Tensor hbias = Tensor.ofFloats(bias, rows, width); Tensor gbias = gpu.upload(hbias)) {
            float[] before = hx.toFloatArray();
            gpu.penalty(org.transformer4j.runtime.PenaltyOp.perRow(x, gids, gcounts, gbias, rep, pres, freq));
            cpu.penalty(org.transformer4j.runtime.PenaltyOp.perRow(hx, hids, hcounts, hbias, rep, pres, freq));
            float[] got = GpuTests.download(gpu, x);
            assertArrayEquals(hx.toFloatArray(), got, dt + " per-row, seed " + seed);
            for (int r = 0; r < rows; r++) {
                try (Tensor h1 = Tensor.of(dt, Arrays.copyOfRange(before, r * v, (r + 1) * v), 1, v); Tensor g1 = gpu.upload(h1)) {
                    gpu.penalty(new org.transformer4j.runtime.PenaltyOp(g1, gids.slice(0, r, r + 1), gcounts.slice(0, r, r + 1),
                            r == 2 ? null : gbias.slice(0, r, r + 1), rep[r], pres[r], freq[r]));
                    assertArrayEquals(Arrays.copyOfRange(got, r * v, (r + 1) * v), GpuTests.download(gpu, g1), dt + " row " + r + " alone");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void penaltiesEqualTheCpuTwinBitForBit(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int rows = 24, v = V, width = 300;
        float[] logits = GpuTests.random(rnd, rows * v, 6);
        int[] ids = new int[rows * width], counts = new int[rows * width];
        float[] bias = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            java.util.Set<Integer> used = new java.util.HashSet<>();
            for (int j = 0; j < width; j++) {
                int e = r * width + j;
                int id;
                do { id = rnd.nextInt(v); } while (!used.add(id));
                ids[e] = j % 29 == 3 ? -1 : id;                                     // padding here and there
                counts[e] = j % 8 - 1;                                              // -1 bias only, 0 prompt only, 1..6
                bias[e] = (float) (rnd.nextDouble() * 20 - 10);
                if (j % 37 == 5) logits[r * v + id] = j % 2 == 0 ? Float.NEGATIVE_INFINITY : 0f;
            }
        }
        float[][] params = {{1.3f, 0.5f, 0.3f}, {0.8f, -2f, -1.5f}};
        for (float[] pr : params) {
            for (boolean withBias : new boolean[] {false, true}) {
                try (Tensor hx = Tensor.of(dt, logits, rows, v); Tensor x = gpu.upload(hx);
                     Tensor hids = Tensor.ofInts(ids, rows, width); Tensor gids = gpu.upload(hids);
                     Tensor hcounts = Tensor.ofInts(counts, rows, width); Tensor gcounts = gpu.upload(hcounts);
                     Tensor hbias = Tensor.ofFloats(bias, rows, width); Tensor gbias = gpu.upload(hbias)) {
                    gpu.penalty(new org.transformer4j.runtime.PenaltyOp(x, gids, gcounts, withBias ? gbias : null, pr[0], pr[1], pr[2]));
                    cpu.penalty(new org.transformer4j.runtime.PenaltyOp(hx, hids, hcounts, withBias ? hbias : null, pr[0], pr[1], pr[2]));
                    assertArrayEquals(hx.toFloatArray(), GpuTests.download(gpu, x),
                            dt + " " + Arrays.toString(pr) + (withBias ? " bias" : "") + " seed " + seed);
                }
            }
        }
    }
}
