// GraphCaptureTest — Backend.capture on the CPU backend, the twin of CUDA graph capture: ops are
// validated and recorded, not run; replays read tensors' current contents; host values are frozen;
// per-replay lengths and positions come as tensors; what cannot be captured is refused.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GraphCaptureTest {

    private static final int B = 3, NH = 4, NKV = 2, HS = 32, BLOCK = 16, MAX_BLOCKS = 4;

    private final CpuBackend cpu = new CpuBackend();

    private static Tensor random(SplittableRandom rnd, long... shape) {
        Tensor t = Tensor.empty(DType.F32, shape);
        float[] v = new float[Math.toIntExact(t.numel())];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        t.copyFrom(v);
        return t;
    }

    private static PagedKvCache cache(int[] table) {
        return new PagedKvCache(Tensor.empty(DType.F32, B * MAX_BLOCKS, BLOCK, NKV, HS),
                Tensor.empty(DType.F32, B * MAX_BLOCKS, BLOCK, NKV, HS), table, MAX_BLOCKS);
    }

    /** Blocks handed out out of order, so that the table matters. */
    private static int[] shuffledTable() {
        int[] table = new int[B * MAX_BLOCKS];
        for (int i = 0; i < table.length; i++) table[i] = (i * 5 + 3) % table.length;
        return table;
    }

    @Test
    void capturedDecodeStepReplaysWithEachStepsLengthsAndMatchesEagerOps() {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] table = shuffledTable();
        PagedKvCache eagerCache = cache(table);
        PagedKvCache graphCache = cache(table);
        // Static inputs of the captured step: this step's new K/V/Q rows and the lengths before / after the append.
        Tensor k = Tensor.empty(DType.F32, B, 1, NKV, HS), v = Tensor.empty(DType.F32, B, 1, NKV, HS);
        Tensor q = Tensor.empty(DType.F32, B, 1, NH, HS), out = Tensor.empty(DType.F32, B, 1, NH, HS);
        Tensor before = Tensor.empty(DType.I32, B), after = Tensor.empty(DType.I32, B);
        Graph graph = cpu.capture(() -> {
            cpu.kvAppend(KvAppendOp.of(graphCache, before, k, v));
            cpu.decode(DecodeOp.of(q, graphCache, null, out).lengths(after));
        });
        assertEquals(2, graph.size());
        int[] lengths = {0, 5, 17};                       // sequences of different lengths, one crossing a block
        for (int b = 1; b < B; b++) {                     // fill both caches' history with the same rows, eagerly
            try (Tensor hk = random(rnd, 1, lengths[b], NKV, HS); Tensor hv = random(rnd, 1, lengths[b], NKV, HS)) {
                int[] one = java.util.Arrays.copyOfRange(table, b * MAX_BLOCKS, (b + 1) * MAX_BLOCKS);
                for (PagedKvCache c : new PagedKvCache[] {eagerCache, graphCache}) {
                    cpu.kvAppend(new KvAppendOp(new PagedKvCache(c.kCache(), c.vCache(), one, MAX_BLOCKS), new int[] {0}, hk, hv));
                }
            }
        }
        for (int step = 0; step < 20; step++) {
            try (Tensor nk = random(rnd, B, 1, NKV, HS); Tensor nv = random(rnd, B, 1, NKV, HS);
                 Tensor nq = random(rnd, B, 1, NH, HS); Tensor ref = Tensor.empty(DType.F32, B, 1, NH, HS)) {
                int[] seen = new int[B];
                for (int b = 0; b < B; b++) seen[b] = lengths[b] + 1;
                cpu.kvAppend(new KvAppendOp(eagerCache, lengths, nk, nv));
                cpu.decode(DecodeOp.of(nq, eagerCache, seen, ref));

                cpu.copy(nk, k);
                cpu.copy(nv, v);
                cpu.copy(nq, q);
                try (Tensor hb = Tensor.ofInts(lengths, B); Tensor ha = Tensor.ofInts(seen, B)) {
                    cpu.copyFromHost(hb, before);
                    cpu.copyFromHost(ha, after);
                }
                out.fill(Float.NaN);
                graph.replay();
                assertArrayEquals(ref.toFloatArray(), out.toFloatArray(), "step " + step + ", seed " + seed);
                lengths = seen;
            }
        }
        assertArrayEquals(eagerCache.kCache().toFloatArray(), graphCache.kCache().toFloatArray(), "seed " + seed);
        graph.close();
        assertThrows(IllegalStateException.class, graph::replay);
    }

    @Test
    void captureRecordsWithoutRunningAndReplaysReadCurrentContents() {
        Tensor x = Tensor.of(DType.F32, new float[] {1, 2, 3, 4}, 1, 4);
        Tensor w = Tensor.of(DType.F32, new float[] {1, 1, 1, 1}, 4);
        Tensor out = Tensor.of(DType.F32, new float[] {7, 7, 7, 7}, 1, 4);
        Graph g = cpu.capture(() -> cpu.norm(NormOp.rms(x, w, 0f, out)));
        assertArrayEquals(new float[] {7, 7, 7, 7}, out.toFloatArray(), "capture must not run the op");
        g.replay();
        double rms = Math.sqrt((1 + 4 + 9 + 16) / 4.0);
        assertEquals(1 / rms, out.toFloatArray()[0], 1e-6);
        x.copyFrom(new float[] {2, 2, 2, 2});
        g.replay();
        assertArrayEquals(new float[] {1, 1, 1, 1}, out.toFloatArray(), 1e-6f);
    }

    @Test
    void hostLengthsAndHostTransfersAreRefusedWhileRecording() {
        PagedKvCache c = cache(shuffledTable());
        Tensor k = Tensor.empty(DType.F32, B, 1, NKV, HS);
        Tensor q = Tensor.empty(DType.F32, B, 1, NH, HS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.capture(() -> cpu.kvAppend(new KvAppendOp(c, new int[B], k, k))));
        assertTrue(e.getMessage().contains("host cacheLengths cannot be recorded"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.capture(() -> cpu.decode(DecodeOp.of(q, c, new int[] {1, 1, 1}, q))));
        assertTrue(e.getMessage().contains("host cacheLengths cannot be recorded"), e.getMessage());
        Tensor h = Tensor.empty(DType.F32, 2);
        for (Runnable r : new Runnable[] {() -> cpu.upload(h), () -> cpu.toHost(h), () -> cpu.copyFromHost(h, h),
                cpu::synchronize}) {
            IllegalStateException s = assertThrows(IllegalStateException.class, () -> cpu.capture(r));
            assertTrue(s.getMessage().contains("cannot be recorded into a graph"), s.getMessage());
        }
        // A failed capture leaves nothing behind: the backend runs ops eagerly again and can capture anew.
        Tensor x = Tensor.of(DType.F32, new float[] {3, 4}, 1, 2);
        Tensor w = Tensor.of(DType.F32, new float[] {1, 1}, 2);
        Tensor out = Tensor.empty(DType.F32, 1, 2);
        cpu.norm(NormOp.rms(x, w, 0f, out));
        assertEquals(3 / Math.sqrt(12.5), out.toFloatArray()[0], 1e-6);
        assertEquals(1, cpu.capture(() -> cpu.norm(NormOp.rms(x, w, 0f, out))).size());
    }

    @Test
    void opsAreValidatedWhenRecorded() {
        Tensor x = Tensor.empty(DType.F32, 1, 4);
        Tensor w = Tensor.empty(DType.F32, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.capture(() -> cpu.norm(NormOp.rms(x, w, 0f, x))));
        assertTrue(e.getMessage().contains("weight") || e.getMessage().contains("gamma") || e.getMessage().contains("(3)"),
                e.getMessage());
    }

    @Test
    void lengthsTensorsAreCheckedWhenTheOpRuns() {
        PagedKvCache c = cache(shuffledTable());
        Tensor k = Tensor.empty(DType.F32, B, 1, NKV, HS);
        Tensor lengths = Tensor.ofInts(new int[] {0, 0, MAX_BLOCKS * BLOCK}, B);   // the last sequence is full
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.kvAppend(KvAppendOp.of(c, lengths, k, k)));
        assertTrue(e.getMessage().contains("the cache is too small: sequence 2"), e.getMessage());
        Tensor q = Tensor.empty(DType.F32, B, 1, NH, HS);
        Tensor zero = Tensor.ofInts(new int[] {1, 0, 1}, B);
        e = assertThrows(IllegalArgumentException.class, () -> cpu.decode(DecodeOp.of(q, c, null, q).lengths(zero)));
        assertTrue(e.getMessage().contains("lengths[1] = 0 is below Tq = 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cpu.decode(DecodeOp.of(q, c, null, q)));
        assertTrue(e.getMessage().contains("no cache lengths: give host cacheLengths or a lengths tensor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.decode(new DecodeOp(q, c, new int[] {1, 1, 1}, q, null, true, 1f, null, 0, zero, 0, 0f, null, null, null)));
        assertTrue(e.getMessage().contains("both host cacheLengths and a lengths tensor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.kvAppend(new KvAppendOp(c, new int[B], k, k, lengths)));
        assertTrue(e.getMessage().contains("both host cacheLengths and a lengths tensor"), e.getMessage());
        Tensor wrong = Tensor.ofInts(new int[] {1, 1}, 2);
        e = assertThrows(IllegalArgumentException.class, () -> cpu.kvAppend(KvAppendOp.of(c, wrong, k, k)));
        assertTrue(e.getMessage().contains("lengths must be a contiguous I32 (3)"), e.getMessage());
    }

    @Test
    void embeddingPositionsTensorMatchesOffsetsAndIsChecked() {
        SplittableRandom rnd = new SplittableRandom(7);
        Tensor tokens = random(rnd, 50, 8), positionTable = random(rnd, 20, 8);
        Tensor ids = Tensor.ofInts(new int[] {3, 41, 7}, 3, 1);
        Tensor positions = Tensor.ofInts(new int[] {0, 12, 19}, 3, 1);
        Tensor out = Tensor.empty(DType.F32, 3, 1, 8);
        cpu.embedding(EmbeddingOp.of(ids, tokens, positionTable, out).positions(positions));
        int[] id = {3, 41, 7}, pos = {0, 12, 19};
        for (int b = 0; b < 3; b++) {
            try (Tensor one = Tensor.ofInts(new int[] {id[b]}, 1, 1); Tensor ref = Tensor.empty(DType.F32, 1, 1, 8)) {
                cpu.embedding(EmbeddingOp.of(one, tokens, positionTable, ref).positionOffset(pos[b]));
                assertArrayEquals(ref.toFloatArray(), out.slice(0, b, b + 1).toFloatArray());
            }
        }
        Tensor bad = Tensor.ofInts(new int[] {0, 20, 1}, 3, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.embedding(EmbeddingOp.of(ids, tokens, positionTable, out).positions(bad)));
        assertTrue(e.getMessage().contains("position 20 at (b=1, t=0) is outside [0, 20)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.embedding(EmbeddingOp.of(ids, tokens, positionTable, out).positions(positions).positionOffset(2)));
        assertTrue(e.getMessage().contains("use one or the other"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.embedding(EmbeddingOp.of(ids, tokens, null, out).positions(positions)));
        assertTrue(e.getMessage().contains("positions given without a positionTable"), e.getMessage());
    }
}
