// Int4LinearBenchmark — JMH: one projection x (T, K) · Wᵀ with W (N, K) stored as an AWQ / GPTQ folder keeps it — 4-bit
// codes, F16 scales and zero points per group of 128 (weights INT4: the GEMM decodes them) — against the same W dense in
// BF16 (weights BF16: what a dequantizing load holds; BF16_CUBLAS: the same through cuBLAS, the peer), side by side in
// one run, on the selected backend (CUDA: the custom kernels for INT4 and BF16, t4j.gemm=custom; the CPU backend: the
// twin, where BF16_CUBLAS is BF16). Shapes: a Llama-8B attention projection
// (4096 × 4096) and its MLP's up projection (14336 × 4096); T = 1 and 16 are decode steps (weight-bound: INT4 reads
// N·K·0.52 bytes against BF16's N·K·2), 512 a prefill chunk (compute-bound). On CUDA each invocation queues 16 and waits once.
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
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cuda.CudaBackend;
import org.transformer4j.runtime.cuda.GemmMode;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class Int4LinearBenchmark {

    static final int GROUP = 128;
    static final int OPS = 16;

    /** Rows of x (T). */
    @Param({"1", "16", "512"})
    int tokens;

    /** "NxK": W's shape (N, K). */
    @Param({"4096x4096", "14336x4096"})
    String shape;

    /** INT4 (packed, decoded in the GEMM), BF16 (dense, this library's GEMM) or BF16_CUBLAS (dense through cuBLAS on CUDA: the peer). */
    @Param({"INT4", "BF16", "BF16_CUBLAS"})
    String weights;

    Backend backend;
    Tensor x;
    Tensor out;
    Tensor w;
    Int4 q;
    LinearOp op;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        if (backend instanceof CudaBackend cb) cb.gemmMode(weights.equals("BF16_CUBLAS") ? GemmMode.CUBLAS : GemmMode.CUSTOM);
        String[] nk = shape.split("x");
        int n = Integer.parseInt(nk[0]), k = Integer.parseInt(nk[1]), groups = k / GROUP;
        SplittableRandom rnd = new SplittableRandom(7);
        try (Tensor hx = Tensor.of(DType.BF16, Util.random(rnd, tokens * k), tokens, k)) {
            x = backend.upload(hx);
        }
        out = backend.empty(DType.BF16, tokens, n);
        // random codes, scales about 1 / (8·sqrt(K)) (values ~ 1/sqrt(K)), zero points 8 (GPTQ's symmetric ones)
        int[] codes = new int[k / 8 * n];
        for (int i = 0; i < codes.length; i++) codes[i] = rnd.nextInt();
        float[] scales = new float[groups * n];
        for (int i = 0; i < scales.length; i++) scales[i] = (float) ((0.5 + rnd.nextDouble()) / (8 * Math.sqrt(k)));
        try (Tensor hc = Tensor.ofInts(codes, k / 8, n); Tensor hs = Tensor.of(DType.F16, scales, groups, n);
             Tensor hz = Tensor.empty(DType.U8, groups, n)) {
            hz.hostSegment().fill((byte) 8);
            if (weights.equals("INT4")) {
                q = new Int4(backend.upload(hc), backend.upload(hs), backend.upload(hz), null, GROUP);
                op = LinearOp.of(x, q, out);
            } else {
                // the same weights dense, as a dequantizing load holds them: (q − 8)·s rounded to F16, then to BF16
                float[] dense = new float[n * k];
                for (int r = 0; r < n; r++) {
                    for (int kk = 0; kk < k; kk++) {
                        int code = (codes[(kk / 8) * n + r] >>> (4 * (kk % 8))) & 15;
                        float sc = Float.float16ToFloat(Float.floatToFloat16(scales[(kk / GROUP) * n + r]));
                        dense[r * k + kk] = Float.float16ToFloat(Float.floatToFloat16((code - 8) * sc));
                    }
                }
                try (Tensor hw = Tensor.of(DType.BF16, dense, n, k)) {
                    w = backend.upload(hw);
                }
                op = LinearOp.of(x, w, out).transW(true);
            }
        }
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void linear() {
        for (int i = 0; i < OPS; i++) backend.linear(op);
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, out, w}) if (t != null) t.close();
        if (q != null) {
            q.codes().close();
            q.scales().close();
            q.zeros().close();
        }
        backend.close();
    }
}
