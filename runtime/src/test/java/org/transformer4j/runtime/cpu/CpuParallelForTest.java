// CpuParallelForTest — CpuKernels.parallelFor, the team of the calling thread and spinning helpers:
// every index runs exactly once (from several calling threads at once, nested calls included), a
// body's exception reaches the caller, and the team works again afterwards.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class CpuParallelForTest {

    /** Runs parallelFor over n indices and checks that each ran exactly once. */
    private static void onceEach(int n, boolean nested) {
        AtomicIntegerArray hits = new AtomicIntegerArray(n);
        CpuKernels.parallelFor(n, true, i -> {
            if (nested) {
                AtomicIntegerArray inner = new AtomicIntegerArray(5);
                CpuKernels.parallelFor(5, true, j -> inner.incrementAndGet((int) j));
                for (int j = 0; j < 5; j++) assertEquals(1, inner.get(j), "nested index " + j);
            }
            hits.incrementAndGet((int) i);
        });
        for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i + " of " + n);
    }

    @Test
    void everyIndexOnceFromSeveralCallersAtOnce() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                long seed = 17 + c;
                done.add(callers.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    for (int call = 0; call < 300; call++) onceEach(1 + rnd.nextInt(200), call % 7 == 0);
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aBodysExceptionReachesTheCallerAndTheTeamWorksAfterwards() {
        IllegalStateException boom = new IllegalStateException("index 37 failed");
        for (int round = 0; round < 20; round++) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> CpuKernels.parallelFor(100, true, i -> {
                if (i == 37) throw boom;
            }));
            assertEquals(boom.getMessage(), e.getMessage());
            onceEach(100, false);
        }
    }
}
