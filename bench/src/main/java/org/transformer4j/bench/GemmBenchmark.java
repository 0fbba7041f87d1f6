// GemmBenchmark — JMH: the plain product Backend.gemm (GemmOp), which is cuBLAS on CUDA, not the
// custom tensor-core kernel (that is "linear": LinearBenchmark), at transformer MLP shapes
// (tokens × C → F) on the backend that -Dt4j.backend selects (the Vector API kernels on the CPU). Reports time per GEMM;
// GFLOP/s = 2·T·C·F / time. On CUDA each invocation queues 16 GEMMs and waits once, so the time is
// the GPU's, not the launch's.
package org.transformer4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GemmBenchmark {

    static final int OPS = 16;

    /** Tokens in the batch (T). */
    @Param({"128", "2048"})
    int tokens;

    /** "C,F": BERT-base/GPT-2-small 768,3072; T5-small 512,2048. */
    @Param({"768,3072"})
    String widths;

    @Param({"F32", "BF16"})
    String dtype;

    Backend backend;
    Tensor x;
    Tensor w;
    Tensor y;
    GemmOp op;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        String[] cf = widths.split(",");
        int c = Integer.parseInt(cf[0]);
        int f = Integer.parseInt(cf[1]);
        DType dt = DType.valueOf(dtype);
        SplittableRandom rnd = new SplittableRandom(1);
        try (Tensor hx = Tensor.of(dt, Util.random(rnd, tokens * c), tokens, c);
             Tensor hw = Tensor.of(dt, Util.random(rnd, c * f), c, f)) {
            x = backend.upload(hx);                                   // (T, C)
            w = backend.upload(hw);                                   // (C, F)
        }
        y = backend.empty(dt, tokens, f);                             // (T, F)
        op = GemmOp.of(x, w, y);
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void gemm() {
        for (int i = 0; i < OPS; i++) backend.gemm(op);
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        w.close();
        y.close();
        backend.close();
    }
}
