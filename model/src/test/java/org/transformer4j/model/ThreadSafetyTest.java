// ThreadSafetyTest — one Transformer (one Weights, one CpuBackend) shared by 8 threads, each generating
// for its own prompts (greedy and seeded sampling, batches of one and two, F32 and BF16), gives exactly
// the tokens that the same calls give one after another. The threads' KvStates capture their decode
// steps at the same time; a capture that collides with another falls back to running op by op, and
// the results are still equal (the counts of both kinds are reported). Shared tokenizers likewise.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.transformer4j.model.tokenizer.TiktokenTokenizer;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;

class ThreadSafetyTest {

    static final int THREADS = 8;

    /** Job j: its prompts and options (even j greedy, odd j sampled with seed j; j % 3 == 0 a batch of two). */
    static int[][] job(Generator g, int j) {
        List<int[]> prompts = new ArrayList<>();
        prompts.add(Tiny.ids(100 + j, 1, 3 + j)[0]);
        if (j % 3 == 0) prompts.add(Tiny.ids(200 + j, 1, 9)[0]);
        Generator.Options o = Generator.Options.greedy(12);
        if (j % 2 == 1) o = o.sampling(0.9f, 20, 0.95f, j);
        return g.generate(prompts, o, null);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void concurrentGenerationEqualsSequential(DType dtype) throws Exception {
        try (CpuBackend cpu = new CpuBackend(); Weights f32 = Weights.random(Attack.gpt(), cpu, 77);
             Weights w = dtype == DType.F32 ? f32 : f32.to(dtype)) {
            Transformer m = new Transformer(w, cpu);
            Generator g = new Generator(m);
            int jobs = 2 * THREADS;
            int[][][] sequential = new int[jobs][][];
            for (int j = 0; j < jobs; j++) sequential[j] = job(g, j);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                CyclicBarrier start = new CyclicBarrier(THREADS);
                List<Future<int[][][]>> results = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    results.add(pool.submit((Callable<int[][][]>) () -> {
                        start.await(60, TimeUnit.SECONDS);                                     // all at once
                        int[][][] mine = new int[jobs][][];
                        for (int k = 0; k < jobs; k++) {
                            int j = (k + thread) % jobs;                                        // each thread its own order
                            mine[j] = job(g, j);
                        }
                        return mine;
                    }));
                }
                for (Future<int[][][]> f : results) {
                    int[][][] got = f.get(120, TimeUnit.SECONDS);
                    for (int j = 0; j < jobs; j++) {
                        assertEquals(sequential[j].length, got[j].length);
                        for (int b = 0; b < got[j].length; b++) assertArrayEquals(sequential[j][b], got[j][b], "job " + j + ", sequence " + b);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** KvStates stepping at the same time on one backend: whichever capture collides runs op by op, with the same logits. */
    @Test
    void collidingGraphCapturesFallBackToTheSameLogits() throws Exception {
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(Attack.gpt(), cpu, 78)) {
            Transformer m = new Transformer(w, cpu);
            int[] seq = Tiny.ids(5, 1, 24)[0];
            float[][] want = m.logits(new int[][] {seq})[0];
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                CyclicBarrier step = new CyclicBarrier(THREADS);
                List<Future<Boolean>> graphed = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    graphed.add(pool.submit(() -> {
                        try (KvState st = m.newState(1, seq.length)) {
                            m.prefill(st, 0, java.util.Arrays.copyOf(seq, 4));
                            for (int i = 4; i < seq.length; i++) {
                                step.await(60, TimeUnit.SECONDS);                               // every thread steps together
                                float[] got = m.step(st, new int[] {seq[i]})[0];
                                double d = Tiny.maxDiff(new float[][] {got}, new float[][] {want[i]}, 0);
                                if (d > KvCacheTest.TOL) throw new AssertionError("step " + i + " differs by " + d);
                            }
                            return st.decodeGraphed();
                        }
                    }));
                }
                int captured = 0;
                for (Future<Boolean> f : graphed) if (f.get(120, TimeUnit.SECONDS)) captured++;
                System.out.println("colliding captures: " + captured + " of " + THREADS + " states replayed a graph, the rest ran op by op");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** A capture held open by another thread: the state's own capture fails, it runs op by op, says why, and its logits are right. */
    @Test
    void aStateWhoseCaptureCollidesFallsBackToOpByOp() throws Exception {
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(Attack.gpt(), cpu, 79)) {
            Transformer m = new Transformer(w, cpu);
            int[] seq = Tiny.ids(6, 1, 12)[0];
            float[][] want = m.logits(new int[][] {seq})[0];
            java.util.concurrent.CountDownLatch capturing = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Thread holder = new Thread(() -> cpu.capture(() -> {
                capturing.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }).close());
            holder.start();
            try {
                capturing.await(60, TimeUnit.SECONDS);
                try (KvState st = m.newState(1, seq.length)) {
                    m.prefill(st, 0, java.util.Arrays.copyOf(seq, 4));
                    for (int i = 4; i < seq.length; i++) {
                        float[] got = m.step(st, new int[] {seq[i]})[0];
                        assertTrue(Tiny.maxDiff(new float[][] {got}, new float[][] {want[i]}, 0) <= KvCacheTest.TOL, "step " + i);
                    }
                    assertFalse(st.decodeGraphed(), "its capture collided");
                    assertTrue(st.decodeGraphFailure().contains("a capture is already in progress"), st.decodeGraphFailure());
                }
            } finally {
                release.countDown();
                holder.join(60_000);
            }
        }
    }

    @Test
    void sharedTokenizersEncodeAsTheyDoAlone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("tokenizer.json");
        org.transformer4j.model.tokenizer.FuzzAccess.writeWordPiece(file);
        try (org.transformer4j.model.tokenizer.HfTokenizer wp = org.transformer4j.model.tokenizer.HfTokenizer.load(file)) {
            sharedEncodesAsAlone(wp, false);
        }
        try (TiktokenTokenizer tok = TiktokenTokenizer.gpt2()) {
            sharedEncodesAsAlone(tok, true);
        }
    }

    static void sharedEncodesAsAlone(org.transformer4j.model.tokenizer.Tokenizer tok, boolean roundTrip) throws Exception {
        {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 64; i++) texts.add("Text number " + i + ": naïve café, 東京, " + "ab".repeat(i));
            List<int[]> alone = texts.stream().map(tok::encode).toList();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < texts.size(); i++) {
                            assertArrayEquals(alone.get(i), tok.encode(texts.get(i)));
                            if (roundTrip) assertEquals(texts.get(i), tok.decode(alone.get(i)));
                            else tok.decode(alone.get(i));
                        }
                    }));
                }
                for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
