// AttentionBenchmark — JMH: Backend.attention (prefill / encoder) at the shapes: B·T = 16384
// tokens, NH·HS = 2048, T ∈ {512, 2048, 8192}, HS ∈ {64, 128}, causal or not, BF16, on the backend
// that -Dt4j.backend selects. TFLOP/s = 4·B·NH·T²·HS / time (half of it when causal), the
// convention FlashAttention's and PyTorch's numbers use (bench/torch_attention.py times SDPA at the
// same shapes). CUDA-sized: on the CPU backend pass e.g. -p seqLen=512 -p headSize=64.
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
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AttentionBenchmark {

    static final int OPS = 4;
    /** B·T: 16384 for measurements; bench/smoke passes a small value to run it once quickly on the CPU. */
    @Param({"16384"})
    int tokens;
    static final int WIDTH = 2048;     // NH·HS

    @Param({"512", "2048", "8192"})
    int seqLen;

    @Param({"64", "128"})
    int headSize;

    @Param({"true", "false"})
    boolean causal;

    @Param({"BF16"})
    String dtype;

    Backend backend;
    Tensor q;
    Tensor k;
    Tensor v;
    Tensor out;
    AttentionOp op;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        DType dt = DType.valueOf(dtype);
        int b = Math.max(1, tokens / seqLen);
        int nh = WIDTH / headSize;
        SplittableRandom rnd = new SplittableRandom(3);
        Tensor[] t = new Tensor[3];
        for (int i = 0; i < 3; i++) {
            try (Tensor h = Tensor.of(dt, Util.random(rnd, b * seqLen * WIDTH), b, seqLen, nh, headSize)) {  // (B, T, NH, HS)
                t[i] = backend.upload(h);
            }
        }
        q = t[0];
        k = t[1];
        v = t[2];
        out = backend.empty(dt, b, seqLen, nh, headSize);
        op = AttentionOp.of(q, k, v, out);
        if (causal) op = op.causal();
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void attention() {
        for (int i = 0; i < OPS; i++) backend.attention(op);
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {q, k, v, out}) t.close();
        backend.close();
    }
}
