// KvBlocksTest — a KvState takes its cache blocks from a block pool as rows are written: a state asked
// for a million rows holds a few blocks' memory until rows arrive, and its memory follows the rows;
// its pool grows under a captured decode step (which is captured again) with the logits of the full
// pass; two states share one pool, on one thread and on several; clear and close give blocks back;
// an exhausted pool is an IllegalStateException naming rows, blocks and budget, and the state goes on.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.engine.BlockManager;
import org.transformer4j.runtime.CpuBackend;

class KvBlocksTest {

    static final CpuBackend CPU = new CpuBackend();

    /** Relative positions: no learned-position cap, so a state may ask for any number of rows. */
    static TransformerConfig model() { return Tiny.decoderOnly(Tiny.t5ish().build(), false); }

    /** Bytes of one block: 2 layers × K,V × 16 rows × 1 KV head × 32 × 4 bytes (F32), computed here independently. */
    static final long BLOCK_BYTES = 2L * 2 * 16 * 32 * 4;

    /** Prefills {@code seq[0, first)}, steps the rest, and checks every row's logits against the full pass. */
    static void teacherForce(Transformer m, KvState st, int b, int[] seq, int first, float[][] full) {
        float[][] pre = m.prefill(st, b, Arrays.copyOf(seq, first));
        assertTrue(Tiny.maxDiff(pre, full, 0) <= KvCacheTest.TOL, "prefill");
        for (int t = first; t < seq.length; t++) {
            float[][] got = m.step(st, new int[] {seq[t]});
            double d = Tiny.maxDiff(got, new float[][] {full[t]}, 0);
            assertTrue(d <= KvCacheTest.TOL, "row " + t + " differs from the full pass by " + d);
        }
    }

    @Test
    void aMillionRowStateTakesMemoryAsRowsAreWritten() {
        try (Weights w = Weights.random(model(), CPU, 31)) {
            Transformer m = new Transformer(w, CPU);
            assertEquals(BLOCK_BYTES, PagedBatch.bytesPerBlock(m));
            int[] seq = Tiny.ids(32, 1, 150)[0];
            float[][] full = m.logits(new int[][] {seq})[0];
            try (KvState st = m.newState(1, 1_000_000)) {
                assertEquals(1_000_000, st.capacity());
                BlockManager pool = st.pool();
                // before: 1,000,000 rows × 512 bytes = 512 MB allocated and zeroed when the state was made
                assertTrue(pool.allocatedBytes() <= 4 * BLOCK_BYTES, pool.allocatedBytes() + " bytes allocated for an empty state");
                assertEquals(0, pool.blocksInUse());
                m.prefill(st, 0, Arrays.copyOf(seq, 40));
                assertEquals(3, st.blocksHeld(0));                                             // 40 rows: 3 blocks of 16
                assertEquals(3, pool.blocksInUse());
                int generation = pool.generation();
                for (int t = 40; t < seq.length; t++) {
                    float[][] got = m.step(st, new int[] {seq[t]});
                    double d = Tiny.maxDiff(got, new float[][] {full[t]}, 0);
                    assertTrue(d <= KvCacheTest.TOL, "row " + t + " differs from the full pass by " + d);
                    long rows = t + 1, blocks = (rows + 15) / 16;
                    assertEquals(blocks, st.blocksHeld(0), "blocks after " + rows + " rows");
                    // memory follows the rows: at most twice the blocks in use (the pool doubles when it grows)
                    assertTrue(pool.allocatedBytes() <= Math.max(4, 2 * blocks) * BLOCK_BYTES, pool.allocatedBytes() + " bytes for " + rows + " rows");
                }
                assertTrue(pool.generation() > generation, "the pool grew under the captured step");
                assertTrue(st.decodeGraphed(), "the steps replayed a graph, captured again after each growth: " + st.decodeGraphFailure());
                assertEquals(10, st.blocksHeld(0));                                            // 150 rows
            }
        }
    }

    @Test
    void twoStatesSharingAPoolGiveTheirOwnLogitsAndGiveBlocksBack() {
        try (Weights w = Weights.random(model(), CPU, 33); BlockManager pool = BlockManager.onDemand(new Transformer(w, CPU), 1L << 30, 64)) {
            Transformer m = pool.model();
            int[] a = Tiny.ids(34, 1, 70)[0], b = Tiny.ids(35, 1, 45)[0];
            float[][] fullA = m.logits(new int[][] {a})[0], fullB = m.logits(new int[][] {b})[0];
            try (KvState sa = m.newState(1, 200, pool)) {
                try (KvState sb = m.newState(1, 200, pool)) {
                    // interleaved: their blocks alternate in the pool, and the pool grows while both hold blocks
                    m.prefill(sa, 0, Arrays.copyOf(a, 20));
                    m.prefill(sb, 0, Arrays.copyOf(b, 20));
                    for (int t = 20; t < 70; t++) {
                        float[] ga = m.step(sa, new int[] {a[t]})[0];
                        assertTrue(Tiny.maxDiff(new float[][] {ga}, new float[][] {fullA[t]}, 0) <= KvCacheTest.TOL, "a, row " + t);
                        if (t < 45) {
                            float[] gb = m.step(sb, new int[] {b[t]})[0];
                            assertTrue(Tiny.maxDiff(new float[][] {gb}, new float[][] {fullB[t]}, 0) <= KvCacheTest.TOL, "b, row " + t);
                        }
                    }
                    assertEquals(5 + 3, pool.blocksInUse());                                   // 70 rows and 45 rows
                    sb.clear(0);
                    assertEquals(0, sb.length(0));
                    assertEquals(5, pool.blocksInUse());
                    teacherForce(m, sb, 0, b, 7, fullB);                                       // cleared: it starts over
                    assertEquals(8, pool.blocksInUse());
                }
                assertEquals(5, pool.blocksInUse(), "closing b gave its blocks back");
                assertFalse(pool.isClosed(), "a shared pool outlives its states");
            }
            assertEquals(0, pool.blocksInUse());
        }
    }

    @Test
    void statesOnFourThreadsShareAGrowingPool() throws Exception {
        try (Weights w = Weights.random(model(), CPU, 36); BlockManager pool = BlockManager.onDemand(new Transformer(w, CPU), 1L << 30, 256)) {
            Transformer m = pool.model();
            int threads = 4;
            int[][] seqs = Tiny.ids(37, threads, 90);
            float[][][] full = new float[threads][][];
            for (int i = 0; i < threads; i++) full[i] = m.logits(new int[][] {seqs[i]})[0];
            ExecutorService exec = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    int me = i;
                    done.add(exec.submit(() -> {
                        try (KvState st = m.newState(1, 90, pool)) {
                            teacherForce(m, st, 0, seqs[me], 3, full[me]);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get(300, TimeUnit.SECONDS);
            } finally {
                exec.shutdownNow();
            }
            assertTrue(pool.generation() >= 2, "the pool grew while the states ran: generation " + pool.generation());
            assertEquals(0, pool.blocksInUse());
        }
    }

    @Test
    void anExhaustedPoolIsAnErrorNamingRowsBlocksAndBudgetAndTheStateGoesOn() {
        try (Weights w = Weights.random(model(), CPU, 38)) {
            Transformer m = new Transformer(w, CPU).kvBudgetBytes(3 * BLOCK_BYTES + 100);     // three blocks
            int[] a = Tiny.ids(39, 1, 40)[0], b = Tiny.ids(40, 1, 10)[0];
            float[][] fullA = m.logits(new int[][] {a})[0], fullB = m.logits(new int[][] {b})[0];
            try (KvState st = m.newState(2, 48)) {
                assertEquals(48, st.capacity());
                m.prefill(st, 0, Arrays.copyOf(a, 33));                                       // 3 blocks: the whole pool
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.prefill(st, 1, b));
                String msg = e.getMessage();
                assertTrue(msg.contains("out of KV blocks") && msg.contains("10 rows") && msg.contains("all 3 blocks")
                        && msg.contains("budget of " + (3 * BLOCK_BYTES + 100) + " bytes"), msg);
                assertEquals(0, st.length(1));
                // sequence 0 goes on in the blocks it holds, with the right logits
                float[] got = m.prefill(st, 0, new int[] {a[33]})[0];
                assertTrue(Tiny.maxDiff(new float[][] {got}, new float[][] {fullA[33]}, 0) <= KvCacheTest.TOL);
                st.clear(0);
                float[][] gotB = m.prefill(st, 1, b);                                          // its blocks now serve sequence 1
                assertTrue(Tiny.maxDiff(gotB, fullB, 0) <= KvCacheTest.TOL);
            }
            assertThrows(IllegalArgumentException.class, () -> new Transformer(w, CPU).kvBudgetBytes(BLOCK_BYTES - 1).newState(1, 10));
        }
    }
}
