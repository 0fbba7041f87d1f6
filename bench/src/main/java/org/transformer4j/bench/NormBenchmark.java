// NormBenchmark — JMH: LayerNorm and RMSNorm fused with the residual add, rows × C, on the backend
// that -Dt4j.backend selects. Bytes moved per op: x, residual, h and out (4·T·C elements); GB/s =
// that / time. On CUDA each invocation queues 16 ops and waits once.
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
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class NormBenchmark {

    static final int OPS = 16;

    @Param({"128", "16384"})
    int rows;

    @Param({"768", "4096"})
    int cols;

    @Param({"LAYER", "RMS"})
    String kind;

    @Param({"F32", "BF16"})
    String dtype;

    Backend backend;
    Tensor x;
    Tensor residual;
    Tensor weight;
    Tensor bias;
    Tensor out;
    Tensor sum;
    NormOp op;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        DType dt = DType.valueOf(dtype);
        SplittableRandom rnd = new SplittableRandom(2);
        try (Tensor hx = Tensor.of(dt, Util.random(rnd, rows * cols), rows, cols);
             Tensor hr = Tensor.of(dt, Util.random(rnd, rows * cols), rows, cols);
             Tensor hw = Tensor.of(dt, Util.random(rnd, cols), cols);
             Tensor hb = Tensor.of(dt, Util.random(rnd, cols), cols)) {
            x = backend.upload(hx);
            residual = backend.upload(hr);
            weight = backend.upload(hw);
            bias = backend.upload(hb);
        }
        out = backend.empty(dt, rows, cols);
        sum = backend.empty(dt, rows, cols);
        NormOp base = NormOp.Kind.valueOf(kind) == NormOp.Kind.LAYER
                ? NormOp.layer(x, weight, bias, 1e-5f, out) : NormOp.rms(x, weight, 1e-6f, out);
        op = base.withResidual(residual, sum);
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void norm() {
        for (int i = 0; i < OPS; i++) backend.norm(op);
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, residual, weight, bias, out, sum}) t.close();
        backend.close();
    }
}
