// SmallMGemm — the CPU GEMM's small-M path on a decode step's products: GPT-2 small's weight
// matrices (fp32, stored (N, K), in native memory as the model holds them) times M rows, through
// CpuGemm.gemmTransBInPlace (what CpuLinear runs for a decode step) where M is below the small-M limit
// and through gemm's packed path above it. Wall time and process CPU time per step (all 12 blocks'
// four projections and the output matrix), so that a loaded machine can still be compared per
// CPU-second. Not a test.
//   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp benchmarks.jar \
//     org.transformer4j.bench.SmallMGemm 1,8,32,64,128,160 [seconds per M]
package org.transformer4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.transformer4j.runtime.cpu.CpuGemm;
import org.transformer4j.runtime.cpu.CpuKernels;

public final class SmallMGemm {

    private SmallMGemm() {}

    /** (N, K) of GPT-2 small's products per block (fused QKV, attention out, MLP up, MLP down), then the output matrix. */
    static final int[][] SHAPES = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}, {50257, 768}};
    static final int LAYERS = 12;

    public static void main(String[] args) {
        int[] ms = Arrays.stream((args.length > 0 ? args[0] : "1,8,32,64,128,160").split(",")).mapToInt(Integer::parseInt).toArray();
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        SplittableRandom rnd = new SplittableRandom(5);
        long weightBytes = 0;
        try (Arena arena = Arena.ofShared()) {
            // The in-place path reads a separate copy per layer, as a decode step does: one matrix per
            // shape read 12 times in a row stays in L3 (7 MB a layer) and measured twice the memory's
            // bandwidth. The packed path (compute-bound) reuses one array per shape.
            MemorySegment[][] w = new MemorySegment[SHAPES.length][];
            float[][] wArr = new float[SHAPES.length][];
            for (int s = 0; s < SHAPES.length; s++) {
                float[] x = Util.random(rnd, SHAPES[s][0] * SHAPES[s][1]);
                wArr[s] = x;
                int copies = s == SHAPES.length - 1 ? 1 : LAYERS;
                w[s] = new MemorySegment[copies];
                for (int l = 0; l < copies; l++) {
                    w[s][l] = arena.allocate(4L * x.length, 64);
                    MemorySegment.copy(x, 0, w[s][l], ValueLayout.JAVA_FLOAT, 0, x.length);
                }
                weightBytes += 4L * x.length * copies;
            }
            System.out.printf("threads %d, Vector API %b, small-M limit %d rows; one step = %d × 4 products + the output matrix, %.1f MB of fp32 weights%n",
                    Runtime.getRuntime().availableProcessors(), CpuKernels.simd(), CpuKernels.smallMRows(), LAYERS, weightBytes / 1e6);
            System.out.println("| M | path | ms/step | ms/row | CPU ms/step | CPU ms/row | GB/s weights (wall) | GFLOP/s per CPU-s |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            for (int m : ms) {
                float[] a = Util.random(rnd, m * 3072);
                float[] c = new float[m * 50257];
                boolean small = m < CpuKernels.smallMRows();
                Runnable step = () -> {
                    for (int s = 0; s < SHAPES.length; s++) {
                        int n = SHAPES[s][0], k = SHAPES[s][1];
                        for (int l = 0; l < (s == SHAPES.length - 1 ? 1 : LAYERS); l++) {
                            if (small) {
                                if (!CpuGemm.gemmTransBInPlace(m, n, k, 1f, a, k, w[s][l], k, c, n, null)) {
                                    throw new IllegalStateException("in-place path declined M=" + m);
                                }
                            } else {
                                CpuGemm.gemm(1, m, n, k, 1f, a, 0, 0, k, false, wArr[s], 0, 0, k, true, 0f, c, 0, 0, n);
                            }
                        }
                    }
                };
                step.run();                                           // warm-up
                long steps = 0;
                long cpu0 = os.getProcessCpuTime(), t0 = System.nanoTime();
                do {
                    step.run();
                    steps++;
                } while (System.nanoTime() - t0 < seconds * 1e9);
                double wall = (System.nanoTime() - t0) / 1e6 / steps, cpu = (os.getProcessCpuTime() - cpu0) / 1e6 / steps;
                double flop = 0;
                for (int s = 0; s < SHAPES.length; s++) flop += 2.0 * m * SHAPES[s][0] * SHAPES[s][1] * (s == SHAPES.length - 1 ? 1 : LAYERS);
                System.out.printf(java.util.Locale.ROOT, "| %d | %s | %.1f | %.2f | %.1f | %.2f | %.1f | %.1f |%n", m, small ? "tiled dot" : "packed",
                        wall, wall / m, cpu, cpu / m, weightBytes / wall / 1e6, flop / cpu / 1e6);
            }
        }
    }
}
