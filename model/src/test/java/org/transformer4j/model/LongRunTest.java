// LongRunTest — 2,000 generate calls on one model and 2,000 load/close cycles of a model folder, with
// the process's resident memory (RSS, /proc/self/status) and the heap after a GC sampled after a
// warm-up and at the end: growth must stay under the bounds the README states. Tiny models keep each
// run to seconds; the numbers each run measured are printed.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.CpuBackend;

class LongRunTest {

    /** RSS settles after about 500 calls (JIT compilation, malloc arenas): measured from there on. */
    static final int CALLS = 2_000, WARMUP = 500;
    /**
     * Growth allowed over the last 1,500 calls, as the README states: RSS 8 MiB for generate, 16 MiB for
     * load/close (measured: +1.2 and +6.6 MiB, the latter one step of a malloc arena, not a slope); the
     * heap in use after a full GC 2 MiB (measured: under 0.5).
     */
    static final long GENERATE_RSS_BOUND = 8L << 20, LOAD_RSS_BOUND = 16L << 20, HEAP_BOUND = 2L << 20;

    static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    static long heapAfterGc() {
        Runtime r = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) System.gc();
        try {
            Thread.sleep(200);                          // the Cleaner frees unclosed tensors' native memory after a GC
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return r.totalMemory() - r.freeMemory();
    }

    /** RSS, the heap in use after a GC, and the heap the JVM has committed (part of RSS). */
    record Sample(long rss, long heap, long committed) {}

    static Sample sample() {
        long heap = heapAfterGc();
        Sample s = new Sample(rss(), heap, Runtime.getRuntime().totalMemory());
        System.out.printf(java.util.Locale.ROOT, "  sample: RSS %.1f MiB, heap used %.1f MiB, committed %.1f MiB%n",
                s.rss() / 1048576.0, s.heap() / 1048576.0, s.committed() / 1048576.0);
        return s;
    }

    static void check(String what, Sample a, Sample b, long ms, long rssBound) {
        long rssGrowth = b.rss() - a.rss(), heapGrowth = b.heap() - a.heap();
        System.out.printf(java.util.Locale.ROOT, "%s: %d calls after %d warm-up in %d ms; RSS %.1f → %.1f MiB (%+.2f), heap after GC %.1f → %.1f MiB (%+.2f)%n",
                what, CALLS - WARMUP, WARMUP, ms, a.rss() / 1048576.0, b.rss() / 1048576.0, rssGrowth / 1048576.0,
                a.heap() / 1048576.0, b.heap() / 1048576.0, heapGrowth / 1048576.0);
        assertTrue(rssGrowth <= rssBound, what + ": RSS grew by " + rssGrowth + " bytes");
        assertTrue(heapGrowth <= HEAP_BOUND, what + ": the heap after GC grew by " + heapGrowth + " bytes");
    }

    @Test
    void twoThousandGenerateCallsHoldMemorySteady() {
        assumeTrue(rss() > 0, "needs /proc/self/status (Linux)");
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(Attack.gpt(), cpu, 5)) {
            Generator g = new Generator(new Transformer(w, cpu));
            Sample start = null;
            long t0 = 0;
            for (int i = 0; i < CALLS; i++) {
                if (i == WARMUP) {
                    start = sample();
                    t0 = System.nanoTime();
                }
                if (i % 250 == 0 && i > WARMUP) sample();
                Generator.Options o = Generator.Options.greedy(6);
                if (i % 2 == 1) o = o.sampling(0.8f, 10, 0.9f, i);
                g.generate(List.of(Tiny.ids(i, 1, 3 + i % 7)[0], Tiny.ids(i + 1, 1, 4)[0]), o, null);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check("generate", start, sample(), ms, GENERATE_RSS_BOUND);
        }
    }

    @Test
    void twoThousandLoadCloseCyclesHoldMemorySteady(@TempDir Path dir) throws Exception {
        assumeTrue(rss() > 0, "needs /proc/self/status (Linux)");
        try (CpuBackend cpu = new CpuBackend()) {
            try (Weights w = Weights.random(Attack.gpt(), cpu, 6)) {
                PretrainedTest.gpt2Folder(w, dir);
            }
            Sample start = null;
            long t0 = 0;
            for (int i = 0; i < CALLS; i++) {
                if (i == WARMUP) {
                    start = sample();
                    t0 = System.nanoTime();
                }
                if (i % 250 == 0 && i > WARMUP) sample();
                try (Weights loaded = Pretrained.load(dir, cpu)) {
                    if (i % 100 == 0) new Transformer(loaded, cpu).logits(new int[][] {{1, 2, 3}});
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check("load/close", start, sample(), ms, LOAD_RSS_BOUND);
        }
    }
}
