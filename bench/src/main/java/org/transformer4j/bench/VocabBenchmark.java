// VocabBenchmark — JMH: the ops at the ends of a forward pass over a GPT-2-sized vocabulary
// (V = 50257, C = 768): the fused embedding gather (token + position) for 8 × 128 tokens; a decode
// step's sampling of one token (greedy, and temperature + top-k 50 + top-p 0.9), whose goal on an
// H100 is under 20 µs; log-softmax and cross-entropy (mean loss back on the host) over 128 rows.
// On CUDA each invocation queues 16 ops and waits once; embedding and cross-entropy wait on every
// call (they read back an error flag, and the mean loss).
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
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.SoftmaxOp;
import org.transformer4j.runtime.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class VocabBenchmark {

    static final int OPS = 16;
    static final int V = 50257;
    static final int C = 768;

    @Param({"embedding", "sample_greedy", "sample_topk_topp", "log_softmax", "cross_entropy"})
    String op;

    @Param({"BF16"})
    String dtype;

    Backend backend;
    Tensor logits;     // (rows, V)
    Tensor scratch;    // (rows, V) log-softmax output
    Tensor ids;        // (rows) I32
    Tensor targets;    // (rows) I32
    Tensor losses;     // (rows) F32
    Tensor table;      // (V, C)
    Tensor positions;  // (1024, C)
    Tensor tokens;     // (8, 128) I32
    Tensor embedded;   // (8, 128, C)
    SampleOp sample;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        DType dt = DType.valueOf(dtype);
        SplittableRandom rnd = new SplittableRandom(4);
        int rows = op.startsWith("sample") ? 1 : 128;  // decode: one row; scoring: 128 positions
        int[] t = new int[128];
        for (int i = 0; i < t.length; i++) t[i] = rnd.nextInt(V);
        int[] tok = new int[8 * 128];
        for (int i = 0; i < tok.length; i++) tok[i] = rnd.nextInt(V);
        try (Tensor hl = Tensor.of(dt, Util.random(rnd, rows * V), rows, V); Tensor ht = Tensor.ofInts(t, 128)) {
            logits = backend.upload(hl);
            targets = backend.upload(ht);
        }
        scratch = backend.empty(dt, rows, V);
        ids = backend.empty(DType.I32, rows);
        losses = backend.empty(DType.F32, rows);
        if (op.equals("embedding")) {
            try (Tensor hv = Tensor.of(dt, Util.random(rnd, V * C), V, C); Tensor hp = Tensor.of(dt, Util.random(rnd, 1024 * C), 1024, C);
                 Tensor hk = Tensor.ofInts(tok, 8, 128)) {
                table = backend.upload(hv);
                positions = backend.upload(hp);
                tokens = backend.upload(hk);
            }
            embedded = backend.empty(dt, 8, 128, C);
        }
        sample = op.equals("sample_greedy") ? SampleOp.greedy(logits, ids)
                : SampleOp.sample(logits, 0.8f, 7, ids).topK(50).topP(0.9f);
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void run() {
        for (int i = 0; i < OPS; i++) {
            switch (op) {
                case "embedding" -> backend.embedding(EmbeddingOp.of(tokens, table, positions, embedded));
                case "sample_greedy", "sample_topk_topp" -> backend.sample(sample.offset(i));
                case "log_softmax" -> backend.softmax(SoftmaxOp.logSoftmax(logits, scratch));
                case "cross_entropy" -> backend.crossEntropy(CrossEntropyOp.of(logits, targets, losses));
                default -> throw new IllegalArgumentException("unknown op " + op);
            }
        }
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor x : new Tensor[] {logits, scratch, ids, targets, losses, table, positions, tokens, embedded}) {
            if (x != null) x.close();
        }
        backend.close();
    }
}
