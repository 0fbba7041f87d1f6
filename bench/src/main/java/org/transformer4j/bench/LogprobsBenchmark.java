// LogprobsBenchmark — JMH: the host side of a logprobs request's token (Engine / OpenAiServer): log softmax over a
// vocabulary row and its top-k ids, at Qwen3's vocabulary (151,669) and a small one (32,000), k 5 and 20 (OpenAI's
// largest top_logprobs). "topHeap" is the previous ranking (a heap of boxed ids, every id in and out), kept here as the
// baseline; "top" is Logprobs.top (one pass, an id that does not beat the k-th costs one comparison). Score: µs per row.
package org.transformer4j.bench;

import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.transformer4j.model.engine.Logprobs;

@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LogprobsBenchmark {

    @Param({"151669", "32000"})
    public int vocab;

    @Param({"5", "20"})
    public int k;

    float[] logits;
    double[] logprobs;

    @Setup
    public void setup() {
        Random r = new Random(1);
        logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float) (3 * r.nextGaussian());
        logprobs = Logprobs.logSoftmax(logits);
    }

    @Benchmark
    public double[] logSoftmax() { return Logprobs.logSoftmax(logits); }

    @Benchmark
    public int[] top() { return Logprobs.top(logprobs, k); }

    @Benchmark
    public int[] topHeap() { return heapTop(logprobs, k); }

    /** The ranking Logprobs.top replaced (2026-12-06), as it was. */
    static int[] heapTop(double[] row, int k) {
        k = Math.min(k, row.length);
        PriorityQueue<Integer> heap = new PriorityQueue<>((a, b) -> row[a] != row[b] ? Double.compare(row[a], row[b]) : Integer.compare(b, a));
        for (int i = 0; i < row.length; i++) {
            heap.add(i);
            if (heap.size() > k) heap.poll();
        }
        int[] out = new int[heap.size()];
        for (int i = out.length - 1; i >= 0; i--) out[i] = heap.poll();
        return out;
    }
}
