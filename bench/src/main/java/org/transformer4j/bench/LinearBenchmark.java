// LinearBenchmark — JMH: Backend.linear, as a transformer block's MLP (two linears), x (T, C) → act(x·W1 + b1) [⊙ x·W1g] → ·W2 + b2 + x,
// at the MLP shapes of GPT-2 small (= BERT-base, T5-base v1.0: 768 → 3072), GPT-2 medium
// (1024 → 4096), T5-small v1.0 (512 → 2048, ReLU) and Flan-T5-base (768 → 2048, gated GELU-tanh),
// for T ∈ {1, 128, 2048} tokens, on both CUDA GEMM paths: "custom" (the tensor-core GEMM with the
// epilogue fused) and "cublas" (cuBLAS GEMMs + the separate t4j_bias_act kernel), so the two
// compare side by side. GFLOP/s = 2·T·C·F·(2, or 3 when gated) / time. On CUDA each invocation
// queues 16 MLPs and waits once. On the CPU backend "mode" has no effect.
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
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cuda.CudaBackend;
import org.transformer4j.runtime.cuda.GemmMode;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LinearBenchmark {

    static final int OPS = 16;

    /** Tokens (T). */
    @Param({"1", "128", "2048"})
    int tokens;

    /** "model:CxF:activation[:gated]" (no commas: JMH's -p splits on them); the model names the shape. */
    @Param({"gpt2:768x3072:GELU_TANH", "gpt2-medium:1024x4096:GELU_TANH", "t5-small:512x2048:RELU",
            "flan-t5-base:768x2048:GELU_TANH:gated"})
    String mlp;

    @Param({"CUSTOM", "CUBLAS"})
    String mode;

    @Param({"BF16"})
    String dtype;

    Backend backend;
    Tensor x;
    Tensor w1;
    Tensor w1g;
    Tensor b1;
    Tensor w2;
    Tensor b2;
    Tensor hidden;
    Tensor out;
    LinearOp up;
    LinearOp down;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        if (backend instanceof CudaBackend cb) cb.gemmMode(GemmMode.valueOf(mode));
        String[] spec = mlp.split(":");                              // model, CxF, activation[, gated]
        String[] cf = spec[1].split("x");
        int c = Integer.parseInt(cf[0]);
        int f = Integer.parseInt(cf[1]);
        Activation act = Activation.valueOf(spec[2]);
        boolean gated = spec.length > 3 && spec[3].equals("gated");
        DType dt = DType.valueOf(dtype);
        SplittableRandom rnd = new SplittableRandom(3);
        float s1 = (float) (1 / Math.sqrt(c));
        float s2 = (float) (1 / Math.sqrt(f));
        try (Tensor hx = Tensor.of(dt, Util.random(rnd, tokens * c), tokens, c);
             Tensor hw1 = Tensor.of(dt, Util.scaled(Util.random(rnd, f * c), s1), f, c);       // nn.Linear (F, C)
             Tensor hw1g = Tensor.of(dt, Util.scaled(Util.random(rnd, f * c), s1), f, c);
             Tensor hb1 = Tensor.of(dt, Util.random(rnd, f), f);
             Tensor hw2 = Tensor.of(dt, Util.scaled(Util.random(rnd, c * f), s2), c, f);       // (C, F)
             Tensor hb2 = Tensor.of(dt, Util.random(rnd, c), c)) {
            x = backend.upload(hx);                                                       // (T, C)
            w1 = backend.upload(hw1);
            w1g = gated ? backend.upload(hw1g) : null;
            b1 = backend.upload(hb1);
            w2 = backend.upload(hw2);
            b2 = backend.upload(hb2);
        }
        hidden = backend.empty(dt, tokens, f);                                            // (T, F)
        out = backend.empty(dt, tokens, c);                                               // (T, C)
        up = LinearOp.of(x, w1, hidden).transW(true).bias(b1).activation(act);
        if (gated) up = up.gate(w1g, null);
        down = LinearOp.of(hidden, w2, out).transW(true).bias(b2).residual(x);
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void mlp() {
        for (int i = 0; i < OPS; i++) {
            backend.linear(up);
            backend.linear(down);
        }
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w1, w1g, b1, w2, b2, hidden, out}) if (t != null) t.close();
        backend.close();
    }
}
