// LongRunTest — 2,000 generate calls on one model and 4,000 load/close cycles of a model folder, with
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

    /**
     * RSS rises once after the first full GC of the run (by up to 50 MiB when other tests ran first in
     * the same JVM: the collector touches heap pages the JVM had committed but not used) and then stays
     * flat; so a GC runs at call 500 and the growth is measured over the last 1,000 calls.
     */
    static final int CALLS = Integer.getInteger("t4j.longrun.calls", 2_000), WARMUP = CALLS / 2;
    /** Load/close cycles: RSS settles over the first ~2,000 (malloc returning the copies' memory slowly), so 2,000 more are measured. */
    static final int LOADS = 2 * CALLS, LOAD_WARMUP = LOADS / 2;
    /**
     * Growth allowed over the measured calls, as the README states. RSS rises in rare single steps with no
     * slope (malloc arenas, pages the collector touches for the first time: 15–23 MiB seen in load/close,
     * 10 MiB once in generate), so the largest step of the run is bounded on its own (STEP_BOUND) and the
     * rest of the growth separately: 8 MiB for generate, 24 MiB for load/close. A leak raises every
     * interval, which the median growth per 250 calls (at most 1 MiB) and the rest catch. The heap in use
     * after a full GC may grow 2 MiB.
     */
    static final long GENERATE_RSS_BOUND = 8L << 20, LOAD_RSS_BOUND = 24L << 20, STEP_BOUND = 32L << 20,
            HEAP_BOUND = 2L << 20, SLOPE_BOUND = 1L << 20;

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

    /**
     * From the samples every 250 calls over the measured calls: the largest rise between two samples within
     * STEP_BOUND, the rest of the RSS growth within rssBound, the median growth per 250 calls within
     * SLOPE_BOUND (a leak raises every interval; an arena or a page the collector touches for the first
     * time raises one), the heap in use after a GC within HEAP_BOUND.
     */
    static void check(String what, List<Sample> samples, long ms, long rssBound, int measured) {
        Sample a = samples.get(0), b = samples.get(samples.size() - 1);
        long[] steps = new long[samples.size() - 1];
        for (int i = 0; i < steps.length; i++) steps[i] = samples.get(i + 1).rss() - samples.get(i).rss();
        long[] sorted = steps.clone();
        java.util.Arrays.sort(sorted);
        long median = sorted[sorted.length / 2];
        System.out.printf(java.util.Locale.ROOT, "%s: RSS growth per 250 calls (MiB): %s; median %.2f%n", what,
                java.util.Arrays.stream(steps).mapToObj(x -> String.format(java.util.Locale.ROOT, "%+.2f", x / 1048576.0)).toList(),
                median / 1048576.0);
        assertTrue(median <= SLOPE_BOUND, what + ": RSS grows steadily, median " + median + " bytes per 250 calls");
        long rssGrowth = b.rss() - a.rss(), heapGrowth = b.heap() - a.heap(), largest = sorted[sorted.length - 1];
        System.out.printf(java.util.Locale.ROOT, "%s: %d calls after %d warm-up in %d ms; RSS %.1f → %.1f MiB (%+.2f, largest step %+.2f), heap after GC %.1f → %.1f MiB (%+.2f)%n",
                what, measured, measured, ms, a.rss() / 1048576.0, b.rss() / 1048576.0, rssGrowth / 1048576.0,
                largest / 1048576.0, a.heap() / 1048576.0, b.heap() / 1048576.0, heapGrowth / 1048576.0);
        assertTrue(largest <= STEP_BOUND, what + ": RSS rose by " + largest + " bytes in one interval of 250 calls");
        assertTrue(rssGrowth - Math.max(largest, 0) <= rssBound,
                what + ": RSS grew by " + rssGrowth + " bytes, " + (rssGrowth - Math.max(largest, 0)) + " of them outside its largest step");
        assertTrue(heapGrowth <= HEAP_BOUND, what + ": the heap after GC grew by " + heapGrowth + " bytes");
    }

    /** The rule itself, on made-up samples: one arena-sized step passes, a slope or a huge step fails. */
    @Test
    void theRuleForgivesOneStepAndCatchesASlope() {
        long mib = 1L << 20;
        java.util.function.Function<long[], List<Sample>> rss = v -> java.util.Arrays.stream(v)
                .mapToObj(x -> new Sample(100 * mib + x * mib / 4, 7 * mib, 28 * mib)).toList();
        // quarter MiB units: one 20 MiB step and a little noise
        check("one step", rss.apply(new long[] {0, 1, 81, 81, 82}), 0, GENERATE_RSS_BOUND, 1000);
        // 1.5 MiB every interval: a leak
        fails(rss.apply(new long[] {0, 6, 12, 18, 24}), "grows steadily");
        // two 5 MiB steps besides the largest (20 MiB): 10 MiB outside it, with a flat median
        fails(rss.apply(new long[] {0, 0, 0, 0, 0, 0, 20, 40, 120}), "outside its largest step");
        // one 40 MiB step
        fails(rss.apply(new long[] {0, 0, 160, 160, 160}), "in one interval");
    }

    static void fails(List<Sample> samples, String why) {
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> check("made up", samples, 0, GENERATE_RSS_BOUND, 1000));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void twoThousandGenerateCallsHoldMemorySteady() {
        assumeTrue(rss() > 0, "needs /proc/self/status (Linux)");
        try (CpuBackend cpu = new CpuBackend(); Weights w = Weights.random(Attack.gpt(), cpu, 5)) {
            Generator g = new Generator(new Transformer(w, cpu));
            List<Sample> samples = new java.util.ArrayList<>();
            long t0 = 0;
            for (int i = 0; i < CALLS; i++) {
                if (i == WARMUP) t0 = System.nanoTime();
                if (i == WARMUP / 2) sample();                                  // the first full GC itself raises RSS once
                if (i >= WARMUP && i % 250 == 0) samples.add(sample());
                Generator.Options o = Generator.Options.greedy(6);
                if (i % 2 == 1) o = o.sampling(0.8f, 10, 0.9f, i);
                g.generate(List.of(Tiny.ids(i, 1, 3 + i % 7)[0], Tiny.ids(i + 1, 1, 4)[0]), o, null);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            samples.add(sample());
            check("generate", samples, ms, GENERATE_RSS_BOUND, CALLS - WARMUP);
        }
    }

    @Test
    void fourThousandLoadCloseCyclesHoldMemorySteady(@TempDir Path dir) throws Exception {
        assumeTrue(rss() > 0, "needs /proc/self/status (Linux)");
        try (CpuBackend cpu = new CpuBackend()) {
            try (Weights w = Weights.random(Attack.gpt(), cpu, 6)) {
                PretrainedTest.gpt2Folder(w, dir);
            }
            List<Sample> samples = new java.util.ArrayList<>();
            long t0 = 0;
            for (int i = 0; i < LOADS; i++) {
                if (i == LOAD_WARMUP) t0 = System.nanoTime();
                if (i == LOAD_WARMUP / 2) sample();                                  // the first full GC itself raises RSS once
                if (i >= LOAD_WARMUP && i % 250 == 0) samples.add(sample());
                try (Weights loaded = Pretrained.load(dir, cpu)) {
                    if (i % 100 == 0) new Transformer(loaded, cpu).logits(new int[][] {{1, 2, 3}});
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            samples.add(sample());
            check("load/close", samples, ms, LOAD_RSS_BOUND, LOADS - LOAD_WARMUP);
        }
    }
}
