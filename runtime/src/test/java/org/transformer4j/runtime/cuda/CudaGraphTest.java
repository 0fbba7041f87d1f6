// CudaGraphTest — Backend.capture on CUDA: a captured decode step (embedding with device positions,
// KV append and split-KV decode with device lengths) replayed with each step's inputs equals the
// same ops run eagerly; memory freed during the capture stays the graph's; what cannot be captured
// is refused and leaves the stream usable.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.Graph;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.Tensor;

@Tag("gpu")
class CudaGraphTest {

    private static final int B = 3, NH = 4, NKV = 2, HS = 64, BLOCK = 16, MAX_BLOCKS = 8, SPLITS = 3;
    private static final int VOCAB = 100, POSITIONS = MAX_BLOCKS * BLOCK;

    private static Tensor host(SplittableRandom rnd, DType dt, long... shape) {
        Tensor t = Tensor.empty(dt, shape);
        t.copyFrom(GpuTests.random(rnd, Math.toIntExact(t.numel()), 1.0));
        return t;
    }

    private static Tensor device(CudaBackend g, SplittableRandom rnd, DType dt, long... shape) {
        try (Tensor h = host(rnd, dt, shape)) {
            return g.upload(h);
        }
    }

    private static void write(CudaBackend g, int[] values, Tensor dst) {
        try (Tensor h = Tensor.ofInts(values, dst.shape())) {
            g.copyFromHost(h, dst);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void capturedDecodeStepEqualsEagerOpsAtEveryStep(DType dt) {
        CudaBackend g = GpuTests.backend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] table = new int[B * MAX_BLOCKS];
        for (int i = 0; i < table.length; i++) table[i] = (i * 7 + 5) % table.length;
        int[] frozenTable = table.clone();
        try (Tensor tokens = device(g, rnd, dt, VOCAB, NKV * HS); Tensor positionTable = device(g, rnd, dt, POSITIONS, NKV * HS);
             Tensor kcE = GpuTests.poisoned(g, dt, B * MAX_BLOCKS, BLOCK, NKV, HS);
             Tensor vcE = GpuTests.poisoned(g, dt, B * MAX_BLOCKS, BLOCK, NKV, HS);
             Tensor kcG = GpuTests.poisoned(g, dt, B * MAX_BLOCKS, BLOCK, NKV, HS);
             Tensor vcG = GpuTests.poisoned(g, dt, B * MAX_BLOCKS, BLOCK, NKV, HS);
             Tensor ids = g.empty(DType.I32, B, 1); Tensor positions = g.empty(DType.I32, B, 1);
             Tensor before = g.empty(DType.I32, B); Tensor after = g.empty(DType.I32, B);
             Tensor x = g.empty(dt, B, 1, NKV * HS); Tensor q = g.empty(dt, B, 1, NH, HS);
             Tensor out = g.empty(dt, B, 1, NH, HS); Tensor ref = g.empty(dt, B, 1, NH, HS);
             Tensor xRef = g.empty(dt, B, 1, NKV * HS)) {
            PagedKvCache graphed = new PagedKvCache(kcG, vcG, table, MAX_BLOCKS);
            // The step: embed (token + position) → use the embedding as K and V → append → decode q against the cache.
            Graph graph = g.capture(() -> {
                g.embedding(EmbeddingOp.of(ids, tokens, positionTable, x).positions(positions));
                Tensor kv = x.view(B, 1, NKV, HS);
                g.kvAppend(KvAppendOp.of(graphed, before, kv, kv));
                g.decode(DecodeOp.of(q, graphed, null, out).lengths(after).splits(SPLITS));
            });
            Arrays.fill(table, 0);   // host values are frozen into the graph: this must not reach it
            int[] lengths = {0, 3, 21};
            for (int step = 0; step < 40; step++) {
                int[] tok = new int[B], pos = new int[B], seen = new int[B];
                for (int b = 0; b < B; b++) {
                    tok[b] = rnd.nextInt(VOCAB);
                    pos[b] = lengths[b];
                    seen[b] = lengths[b] + 1;
                }
                try (Tensor nq = device(g, rnd, dt, B, 1, NH, HS)) {
                    g.copy(nq, q);
                    try (Tensor hid = Tensor.ofInts(tok, B, 1); Tensor did = g.upload(hid)) {
                        PagedKvCache e = new PagedKvCache(kcE, vcE, frozenTable, MAX_BLOCKS);
                        for (int b = 0; b < B; b++) {
                            g.embedding(EmbeddingOp.of(did.slice(0, b, b + 1), tokens, positionTable, xRef.slice(0, b, b + 1))
                                    .positionOffset(pos[b]));
                        }
                        Tensor kv = xRef.view(B, 1, NKV, HS);
                        g.kvAppend(new KvAppendOp(e, lengths, kv, kv));
                        g.decode(DecodeOp.of(q, e, seen, ref).splits(SPLITS));
                    }
                    write(g, tok, ids);
                    write(g, pos, positions);
                    write(g, lengths, before);
                    write(g, seen, after);
                    graph.replay();
                    float[] got = GpuTests.download(g, out);
                    GpuTests.allWritten(got, "step " + step);
                    assertArrayEquals(GpuTests.download(g, ref), got, dt + " step " + step + ", seed " + seed);
                }
                lengths = seen;
            }
            graph.close();
        }
    }

    @Test
    void memoryFreedDuringCaptureStaysTheGraphs() {
        CudaBackend g = GpuTests.backend();
        CpuBackend cpu = new CpuBackend();
        SplittableRandom rnd = new SplittableRandom(GpuTests.seed());
        int rows = 64, cols = 256;
        try (Tensor hx = host(rnd, DType.F32, rows, cols); Tensor hw = host(rnd, DType.F32, cols);
             Tensor x = g.upload(hx); Tensor w = g.upload(hw); Tensor out = g.empty(DType.F32, rows, cols);
             Tensor want = Tensor.empty(DType.F32, rows, cols); Tensor mid = Tensor.empty(DType.F32, rows, cols)) {
            cpu.norm(NormOp.rms(hx, hw, 1e-6f, mid));
            cpu.norm(NormOp.rms(mid, hw, 1e-6f, want));
            Graph graph = g.capture(() -> {
                try (Tensor scratch = g.empty(DType.F32, rows, cols)) {       // closed inside the capture
                    g.norm(NormOp.rms(x, w, 1e-6f, scratch));
                    g.norm(NormOp.rms(scratch, w, 1e-6f, out));
                }
            });
            Tensor[] others = new Tensor[8];                                   // would reuse the scratch block if it were freed
            for (int i = 0; i < others.length; i++) {
                others[i] = g.empty(DType.F32, rows, cols);
                try (Tensor nan = Tensor.empty(DType.F32, rows, cols)) {
                    nan.fill(Float.NaN);
                    g.copyFromHost(nan, others[i]);
                }
            }
            graph.replay();
            float[] got = GpuTests.download(g, out);
            float[] ref = want.toFloatArray();
            double[] r = new double[ref.length];
            for (int i = 0; i < r.length; i++) r[i] = ref[i];
            GpuTests.withinTolerance(DType.F32, got, ref, r, "two norms through a scratch freed during capture");
            for (Tensor t : others) {
                float[] v = GpuTests.download(g, t);
                for (float f : v) assertTrue(Float.isNaN(f), "the replay wrote into memory allocated after the capture");
                t.close();
            }
            graph.close();
        }
    }

    @Test
    void whatCannotBeCapturedIsRefusedAndTheStreamStaysUsable() {
        CudaBackend g = GpuTests.backend();
        try (Tensor k = g.empty(DType.F32, B, 1, NKV, HS); Tensor q = g.empty(DType.F32, B, 1, NH, HS);
             Tensor kc = g.empty(DType.F32, B * MAX_BLOCKS, BLOCK, NKV, HS); Tensor h = Tensor.empty(DType.F32, 4)) {
            int[] table = new int[B * MAX_BLOCKS];
            for (int i = 0; i < table.length; i++) table[i] = i;
            PagedKvCache c = new PagedKvCache(kc, kc, table, MAX_BLOCKS);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.capture(() -> g.kvAppend(new KvAppendOp(c, new int[B], k, k))));
            assertTrue(e.getMessage().contains("host cacheLengths cannot be recorded"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> g.capture(() -> g.decode(DecodeOp.of(q, c, new int[] {1, 1, 1}, q))));
            assertTrue(e.getMessage().contains("host cacheLengths cannot be recorded"), e.getMessage());
            IllegalStateException s = assertThrows(IllegalStateException.class, () -> g.capture(() -> g.upload(h)));
            assertTrue(s.getMessage().contains("cannot be recorded into a graph"), s.getMessage());
            s = assertThrows(IllegalStateException.class, () -> g.capture(g::synchronize));
            assertTrue(s.getMessage().contains("cannot be recorded into a graph"), s.getMessage());
            h.copyFrom(new float[] {1, 2, 3, 4});
            try (Tensor d = g.upload(h)) {                                                   // eager work goes on
                g.copyFromHost(h, d);
                assertArrayEquals(new float[] {1, 2, 3, 4}, GpuTests.download(g, d));
            }
            try (Tensor src = g.upload(h); Tensor dst = g.empty(DType.F32, 4); Graph one = g.capture(() -> g.copy(src, dst))) {
                one.replay();
                assertArrayEquals(new float[] {1, 2, 3, 4}, GpuTests.download(g, dst));
            }
        }
    }
}
