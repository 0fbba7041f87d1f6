// GemmCpuSeconds — fp32 GEMM throughput per CPU-second of the calling thread: CpuGemm.gemm on one
// thread (run it with -XX:ActiveProcessorCount=1) timed by the thread's CPU clock, not the wall
// clock, so that other processes on a shared machine cost little accuracy (they still share the
// caches). bench/cpu-gemm-vs-numpy.sh runs it beside numpy_sgemm.py --cpu-time (OpenBLAS on one
// thread, timed by its process CPU clock). Best of 5 rounds of ~4 GFLOP each per size.
//   java --add-modules jdk.incubator.vector -XX:ActiveProcessorCount=1 -cp benchmarks.jar \
//     org.transformer4j.bench.GemmCpuSeconds 512,1024,2048
package org.transformer4j.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;
import org.transformer4j.runtime.cpu.CpuGemm;

public final class GemmCpuSeconds {

    private GemmCpuSeconds() {}

    public static void main(String[] args) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.println("threads: " + Runtime.getRuntime().availableProcessors());
        for (String size : (args.length > 0 ? args[0] : "512,1024,2048").split(",")) {
            int n = Integer.parseInt(size.trim());
            SplittableRandom rnd = new SplittableRandom(3);
            float[] a = Util.random(rnd, n * n), b = Util.random(rnd, n * n), c = new float[n * n];   // (n, n) each
            int reps = Math.max(2, (int) (4e9 / (2.0 * n * n * n)));
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 6; round++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int r = 0; r < reps; r++) CpuGemm.gemm(1, n, n, n, 1f, a, 0, 0, n, false, b, 0, 0, n, false, 0f, c, 0, 0, n);
                double s = (mx.getCurrentThreadCpuTime() - t0) / 1e9 / reps;
                if (round > 0) best = Math.min(best, s);   // round 0 warms the JIT up
            }
            System.out.printf("transformer4j CpuGemm n=%d: %.1f GFLOP per CPU-second (one thread, best of 5)%n", n, 2.0 * n * n * n / best / 1e9);
        }
    }
}
