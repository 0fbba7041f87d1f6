// ProjectionBenchmark — JMH (issue 19, item 2): fused against separate projections, as a block runs them.
// qkv: x (T, C) → Q, K, V with one linear over [q ; k ; v] (N_q + 2·N_kv, C) into (T, N_q + 2·N_kv), or three
// linears. gateUp: the gated MLP's first op, act(x·W_up) ⊙ x·W_gate, with W_up and W_gate the two halves
// of one (2F, C) matrix (cuBLAS path: one GEMM into (T, 2F) + t4j_bias_act; the custom kernel runs both
// products in one pass either way) or two matrices; inputs: both, as a block runs them. Shapes: GPT-2
// small (MHA) and Llama-3.2-1B (GQA 32/8).
// On CUDA each invocation queues 16 projections and waits once; mode AUTO is what the model runs
// (cuBLAS below 64 rows, the custom GEMM from there for F16/BF16).
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
public class ProjectionBenchmark {

    static final int OPS = 16;

    /** Host weights by shape, kept across trials: the GPU check gives this class seconds, the draw is 40 M values. */
    static final java.util.Map<String, float[][]> DATA = new java.util.concurrent.ConcurrentHashMap<>();

    /** Tokens (T). */
    @Param({"1", "128", "2048"})
    int tokens;

    /** "model:C:NH:NKV:HS:F" (no commas: JMH's -p splits on them). */
    @Param({"gpt2:768:12:12:64:3072", "llama-1b:2048:32:8:64:8192"})
    String shape;

    /** true: one GEMM over the fused matrix; false: one per projection. */
    @Param({"true", "false"})
    boolean fused;

    @Param({"AUTO", "CUSTOM", "CUBLAS"})
    String mode;

    @Param({"BF16"})
    String dtype;

    Backend backend;
    Tensor x;
    Tensor wQkv;          // (N_q + 2·N_kv, C)
    Tensor wUpGate;       // (2F, C)
    Tensor[] wApart;      // q, k, v, up, gate: copies of the fused matrices' blocks
    Tensor qkvOut;        // (T, N_q + 2·N_kv)
    Tensor[] qkvApart;    // (T, N_q), (T, N_kv), (T, N_kv)
    Tensor hidden;        // (T, F)
    LinearOp[] qkvOps;
    LinearOp gateUpOp;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        if (backend instanceof CudaBackend cb) cb.gemmMode(GemmMode.valueOf(mode));
        String[] s = shape.split(":");
        int c = Integer.parseInt(s[1]), nq = Integer.parseInt(s[2]) * Integer.parseInt(s[4]);
        int nkv = Integer.parseInt(s[3]) * Integer.parseInt(s[4]), f = Integer.parseInt(s[5]);
        int n = nq + 2 * nkv;
        DType dt = DType.valueOf(dtype);
        float[][] data = DATA.computeIfAbsent(shape, key -> {                          // drawn once per JVM, not per trial
            SplittableRandom rnd = new SplittableRandom(5);
            float scale = (float) (1 / Math.sqrt(c));
            return new float[][] {Util.scaled(Util.random(rnd, n * c), scale), Util.scaled(Util.random(rnd, 2 * f * c), scale)};
        });
        try (Tensor hx = Tensor.of(dt, Util.random(new SplittableRandom(7), tokens * c), tokens, c);
             Tensor hq = Tensor.of(dt, data[0], n, c); Tensor hu = Tensor.of(dt, data[1], 2 * f, c)) {
            x = backend.upload(hx);
            wQkv = backend.upload(hq);
            wUpGate = backend.upload(hu);
            long[][] rows = {{0, nq}, {nq, nq + nkv}, {nq + nkv, n}};
            wApart = new Tensor[5];                                                          // separate copies of the blocks
            for (int i = 0; i < 3; i++) wApart[i] = backend.upload(hq.slice(0, rows[i][0], rows[i][1]));
            wApart[3] = backend.upload(hu.slice(0, 0, f));
            wApart[4] = backend.upload(hu.slice(0, f, 2L * f));
        }
        qkvOut = backend.empty(dt, tokens, n);
        qkvApart = new Tensor[] {backend.empty(dt, tokens, nq), backend.empty(dt, tokens, nkv), backend.empty(dt, tokens, nkv)};
        hidden = backend.empty(dt, tokens, f);
        qkvOps = fused ? new LinearOp[] {LinearOp.of(x, wQkv, qkvOut).transW(true)}
                : new LinearOp[] {LinearOp.of(x, wApart[0], qkvApart[0]).transW(true), LinearOp.of(x, wApart[1], qkvApart[1]).transW(true),
                    LinearOp.of(x, wApart[2], qkvApart[2]).transW(true)};
        gateUpOp = fused
                ? LinearOp.of(x, wUpGate.slice(0, 0, f), hidden).transW(true).activation(Activation.SILU).gate(wUpGate.slice(0, f, 2L * f), null)
                : LinearOp.of(x, wApart[3], hidden).transW(true).activation(Activation.SILU).gate(wApart[4], null);
        if (fused != (gateUpOp.fusedGate() != null)) throw new IllegalStateException("gateUp: fused=" + fused + " but the op says otherwise");
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void qkv() {
        for (int i = 0; i < OPS; i++) for (LinearOp op : qkvOps) backend.linear(op);
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void gateUp() {
        for (int i = 0; i < OPS; i++) backend.linear(gateUpOp);
        backend.synchronize();
    }

    /** Both input-side groups of a block (qkv, then gate+up): what ci/gpu-check times, fused and apart. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public void inputs() {
        for (int i = 0; i < OPS; i++) {
            for (LinearOp op : qkvOps) backend.linear(op);
            backend.linear(gateUpOp);
        }
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, wQkv, wUpGate, qkvOut, hidden}) if (t != null) t.close();
        for (Tensor[] ts : new Tensor[][] {wApart, qkvApart}) if (ts != null) for (Tensor t : ts) if (t != null) t.close();
        backend.close();
    }
}
