// KvBlocksGpuTest — on the CUDA backend: a KvState asked for a million rows takes device memory as rows
// are written (the allocator's bytes in use), its pool grows under the captured decode step (captured
// again over the new caches; the block table is a device tensor the graph reads) with the logits of the
// full pass; and four threads stepping their own states on one shared CudaBackend with graphs on give
// the logits they give one after another, every state replaying a graph (captures take the stream in
// turn: StreamGate). Written without a GPU: never run on one yet (ci/gpu-check phase "reliability").
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.cuda.CudaBackend;

@Tag("gpu")
class KvBlocksGpuTest {

    /** fp32 on the GPU: split-KV decode against one-pass attention, in another summation order. */
    static final double REL_TOL = 1e-4;

    @Test
    void aMillionRowStateTakesDeviceMemoryAsRowsAreWritten() {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(KvBlocksTest.model(), cuda, 51)) {
            Transformer m = new Transformer(w, cuda);
            int[] seq = Tiny.ids(52, 1, 150)[0];
            float[][] full = m.logits(new int[][] {seq})[0];
            cuda.synchronize();
            long before = cuda.memoryStats().bytesInUse();
            try (KvState st = m.newState(1, 1_000_000)) {
                long made = cuda.memoryStats().bytesInUse() - before;
                // before blocks on demand: 1,000,000 rows × 512 bytes = 512 MB here
                assertTrue(made <= 4 * KvBlocksTest.BLOCK_BYTES + (1 << 20), made + " bytes in use for an empty million-row state");
                float[][] pre = m.prefill(st, 0, Arrays.copyOf(seq, 3));
                assertTrue(ModelGpuTest.relErr(pre, Arrays.copyOf(full, 3)) <= REL_TOL);
                for (int t = 3; t < seq.length; t++) {
                    float[][] got = m.step(st, new int[] {seq[t]});
                    double e = ModelGpuTest.relErr(got, new float[][] {full[t]});
                    assertTrue(e <= REL_TOL, "row " + t + ": relative error " + e);
                }
                assertTrue(st.decodeGraphed(), "captured, and captured again after the pool grew: " + st.decodeGraphFailure());
                assertTrue(st.pool().generation() >= 2, "the pool grew twice (4 → 8 → 16 blocks)");
                long used = cuda.memoryStats().bytesInUse() - before;
                assertTrue(used <= 16 * KvBlocksTest.BLOCK_BYTES + (8 << 20), used + " bytes in use after 150 rows");
            }
        }
    }

    @Test
    void fourThreadsCapturingOnOneBackendGiveTheirSequentialLogits() throws Exception {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(Attack.gpt(), cuda, 53)) {
            Transformer m = new Transformer(w, cuda);
            int threads = 4;
            int[][] seqs = Tiny.ids(54, threads, 40);
            float[][][] sequential = new float[threads][][];
            for (int i = 0; i < threads; i++) sequential[i] = run(m, seqs[i], null);
            ExecutorService exec = Executors.newFixedThreadPool(threads);
            try {
                CyclicBarrier together = new CyclicBarrier(threads);
                List<Future<float[][]>> got = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    int me = i;
                    got.add(exec.submit(() -> run(m, seqs[me], together)));
                }
                for (int i = 0; i < threads; i++) {
                    float[][] g = got.get(i).get(300, TimeUnit.SECONDS);
                    // the same kernels on the same shapes; a tolerance all the same (an op recorded into another
                    // thread's graph, or lost, gives garbage, far above it)
                    double e = ModelGpuTest.relErr(g, sequential[i]);
                    assertTrue(e <= 1e-6, "thread " + i + ": relative error " + e + " against its sequential logits");
                }
            } finally {
                exec.shutdownNow();
            }
        }
    }

    /** Teacher-forced steps of one state; with {@code together}, every step starts with the other threads'. */
    static float[][] run(Transformer m, int[] seq, CyclicBarrier together) throws Exception {
        try (KvState st = m.newState(1, seq.length)) {
            m.prefill(st, 0, Arrays.copyOf(seq, 2));
            float[][] out = new float[seq.length - 2][];
            for (int t = 2; t < seq.length; t++) {
                if (together != null) together.await(60, TimeUnit.SECONDS);
                out[t - 2] = m.step(st, new int[] {seq[t]})[0];
            }
            assertTrue(st.decodeGraphed(), "every state replays its graph (captures wait their turn): " + st.decodeGraphFailure());
            return out;
        }
    }
}
