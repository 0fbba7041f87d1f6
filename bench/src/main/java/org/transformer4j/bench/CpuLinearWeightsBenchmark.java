// CpuLinearWeightsBenchmark — JMH: one projection x (T, K) · Wᵀ on the CPU backend with W (N, K) as checkpoints store
// it (transW), in BF16, F16 or F32 (x and out in the same dtype, as LinearOp requires): what a 16-bit model pays per
// linear against an fp32 one. Shapes: a Llama-8B attention projection (4096 × 4096) and its MLP's up projection
// (14336 × 4096); T = 1 is a decode step (the dot path), 128 the dot path's largest M, 512 a prefill chunk (packed path).
// Weight bytes read per call: N · K · (2 or 4).
package org.transformer4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CpuLinearWeightsBenchmark {

    /** Rows of x (T). */
    @Param({"1", "128", "512"})
    int tokens;

    /** "NxK": W's shape (N, K). */
    @Param({"4096x4096", "14336x4096"})
    String shape;

    @Param({"BF16", "F16", "F32"})
    String dtype;

    CpuBackend cpu;
    Tensor x;
    Tensor w;
    Tensor out;
    LinearOp op;

    @Setup(Level.Trial)
    public void setup() {
        cpu = new CpuBackend();
        String[] nk = shape.split("x");
        int n = Integer.parseInt(nk[0]), k = Integer.parseInt(nk[1]);
        DType dt = DType.valueOf(dtype);
        SplittableRandom rnd = new SplittableRandom(5);
        x = Tensor.of(dt, Util.random(rnd, tokens * k), tokens, k);                           // (T, K)
        w = Tensor.of(dt, Util.scaled(Util.random(rnd, n * k), (float) (1 / Math.sqrt(k))), n, k);   // (N, K)
        out = Tensor.empty(dt, tokens, n);                                                   // (T, N)
        op = LinearOp.of(x, w, out).transW(true);
    }

    @Benchmark
    public void linear() {
        cpu.linear(op);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w, out}) t.close();
        cpu.close();
    }
}
