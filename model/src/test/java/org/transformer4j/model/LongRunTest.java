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

    static final int CALLS = 2_000, WARMUP = 300;
    /** RSS growth allowed after warm-up: the README's bound (8 MiB); the heap's after a full GC: 2 MiB. */
    static final long RSS_BOUND = 8L << 20, HEAP_BOUND = 2L << 20;

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
        return r.totalMemory() - r.freeMemory();
    }

    record Sample(long rss, long heap) {}

    static Sample sample() {
        long heap = heapAfterGc();
        return new Sample(rss(), heap);
    }

    static void check(String what, Sample a, Sample b, long ms) {
        long rssGrowth = b.rss() - a.rss(), heapGrowth = b.heap() - a.heap();
        System.out.printf(java.util.Locale.ROOT, "%s: %d calls after %d warm-up in %d ms; RSS %.1f → %.1f MiB (%+.2f), heap after GC %.1f → %.1f MiB (%+.2f)%n",
                what, CALLS - WARMUP, WARMUP, ms, a.rss() / 1048576.0, b.rss() / 1048576.0, rssGrowth / 1048576.0,
                a.heap() / 1048576.0, b.heap() / 1048576.0, heapGrowth / 1048576.0);
        assertTrue(rssGrowth <= RSS_BOUND, what + ": RSS grew by " + rssGrowth + " bytes");
        assertTrue(heapGrowth <= HEAP_BOUND, what + ": the heap after GC grew by " + heapGrowth + " bytes");
    }

    @Test
    void twoThousandGenerateCallsHoldMemorySteady() {
        assumeTrue(rss() > 0, "needs /proc/self/status (Linux)");
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(NonFiniteTest.gpt(), cpu, 5)) {
            Generator g = new Generator(new Transformer(w, cpu));
            Sample start = null;
            long t0 = 0;
            for (int i = 0; i < CALLS; i++) {
                if (i == WARMUP) {
                    start = sample();
                    t0 = System.nanoTime();
                }
                Generator.Options o = Generator.Options.greedy(6);
                if (i % 2 == 1) o = o.sampling(0.8f, 10, 0.9f, i);
                g.generate(List.of(Tiny.ids(i, 1, 3 + i % 7)[0], Tiny.ids(i + 1, 1, 4)[0]), o, null);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check("generate", start, sample(), ms);
        }
    }

    @Test
    void twoThousandLoadCloseCyclesHoldMemorySteady(@TempDir Path dir) throws Exception {
        assumeTrue(rss() > 0, "needs /proc/self/status (Linux)");
        try (CpuBackend cpu = new CpuBackend()) {
            try (Weights w = Weights.random(NonFiniteTest.gpt(), cpu, 6)) {
                PretrainedTest.gpt2Folder(w, dir);
            }
            Sample start = null;
            long t0 = 0;
            for (int i = 0; i < CALLS; i++) {
                if (i == WARMUP) {
                    start = sample();
                    t0 = System.nanoTime();
                }
                try (Weights loaded = Pretrained.load(dir, cpu)) {
                    if (i % 100 == 0) new Transformer(loaded, cpu).logits(new int[][] {{1, 2, 3}});
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check("load/close", start, sample(), ms);
        }
    }
}
