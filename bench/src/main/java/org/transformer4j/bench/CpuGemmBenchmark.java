// CpuGemmBenchmark — JMH: the CPU backend's fp32 GEMM kernel (CpuGemm.gemm on float[], no tensor
// copies) at square n × n × n, the shapes bench/numpy_sgemm.py times with numpy's OpenBLAS sgemm in
// the same run (bench/cpu-gemm-vs-numpy.sh). Score: ms per GEMM; GFLOP/s = 2·n³ / time.
package org.transformer4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.transformer4j.runtime.cpu.CpuGemm;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class CpuGemmBenchmark {

    @Param({"512", "1024", "2048"})
    int n;

    /** "NN": C = A·B, both stored row-major (numpy's a @ b); "NT": B stored (N, K), as a linear layer's weight. */
    @Param({"NN"})
    String layout;

    float[] a;
    float[] b;
    float[] c;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom rnd = new SplittableRandom(3);
        a = Util.random(rnd, n * n);   // (n, n)
        b = Util.random(rnd, n * n);   // (n, n)
        c = new float[n * n];          // (n, n)
    }

    @Benchmark
    public float[] gemm() {
        CpuGemm.gemm(1, n, n, n, 1f, a, 0, 0, n, false, b, 0, 0, n, layout.equals("NT"), 0f, c, 0, 0, n);
        return c;
    }
}
