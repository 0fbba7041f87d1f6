// DecodeBenchmark — JMH: Backend.decode, one new token per sequence against a paged BF16 KV cache
// (NH 32, NKV 8, HS 128, blocks of 16 rows), cache lengths 1k..32k, batch 1 and 16, splits chosen
// by the backend. Achieved bandwidth = bytes of K and V read (2·B·L·NKV·HS·2) / time; the target is
// 75% of the GPU's copy bandwidth, which this benchmark measures itself in the same JVM (a 256 MiB
// device-to-device copy, bytes read + written; bench/torch_attention.py measures it too when the
// torch phase runs) and prints beside each trial's achieved GB/s. When one op's K/V would fit in L2
// several times, consecutive ops rotate over copies of the cache (other blocks of one pool) so that
// each op reads device memory, not the cache of the previous one.
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
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DecodeBenchmark {

    static final int OPS = 8;
    static final int NH = 32;
    static final int NKV = 8;
    static final int HS = 128;
    static final int BLOCK = 16;
    static final int FILL_BLOCKS = 256;  // one random 8 MiB pattern copied over the cache
    static final long ROTATE_BYTES = 256L << 20;  // K/V bytes the rotating ops cover, ≥ 4× an H100/H200's 50 MB L2
    static final long COPY_BYTES = 256L << 20;
    private static double copyGbs;  // measured once per JVM (JMH -f 0 runs every trial in one)

    @Param({"1024", "4096", "32768"})
    int cacheLen;

    @Param({"1", "16"})
    int batch;

    Backend backend;
    Tensor kc;
    Tensor vc;
    Tensor q;
    Tensor out;
    DecodeOp[] ops;
    long nanos;
    long calls;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        int perSeq = (cacheLen + BLOCK - 1) / BLOCK;
        long opBytes = kvBytes();
        int copies = (int) Math.max(1, Math.min(OPS, (ROTATE_BYTES + opBytes - 1) / opBytes));
        int blocks = ((copies * batch * perSeq + FILL_BLOCKS - 1) / FILL_BLOCKS) * FILL_BLOCKS;
        SplittableRandom rnd = new SplittableRandom(5);
        kc = backend.empty(DType.BF16, blocks, BLOCK, NKV, HS);   // (numBlocks, blockSize, NKV, HS)
        vc = backend.empty(DType.BF16, blocks, BLOCK, NKV, HS);
        try (Tensor h = Tensor.of(DType.BF16, Util.random(rnd, FILL_BLOCKS * BLOCK * NKV * HS), FILL_BLOCKS, BLOCK, NKV, HS);
             Tensor pattern = backend.upload(h)) {
            for (int i = 0; i < blocks; i += FILL_BLOCKS) {
                backend.copy(pattern, kc.slice(0, i, i + FILL_BLOCKS));
                backend.copy(pattern, vc.slice(0, i, i + FILL_BLOCKS));
            }
        }
        int[] lengths = new int[batch];
        java.util.Arrays.fill(lengths, cacheLen);
        try (Tensor h = Tensor.of(DType.BF16, Util.random(rnd, batch * NH * HS), batch, 1, NH, HS)) {  // (B, 1, NH, HS)
            q = backend.upload(h);
        }
        out = backend.empty(DType.BF16, batch, 1, NH, HS);
        ops = new DecodeOp[copies];
        for (int c = 0; c < copies; c++) {  // copy c: blocks c·B·perSeq .. (c + 1)·B·perSeq − 1
            int[] table = new int[batch * perSeq];
            for (int i = 0; i < table.length; i++) table[i] = c * table.length + i;
            ops[c] = DecodeOp.of(q, new PagedKvCache(kc, vc, table, perSeq), lengths, out);
        }
        if (copyGbs == 0) copyGbs = measureCopyGbs(backend);
        backend.synchronize();
    }

    /** Bytes of K and V one decode reads: 2 · B · L · NKV · HS · 2. */
    long kvBytes() {
        return 2L * batch * cacheLen * NKV * HS * 2;
    }

    /** Device-to-device copy bandwidth, bytes read + written, median of 9 timed copies after 2 warm-ups. */
    static double measureCopyGbs(Backend backend) {
        long n = COPY_BYTES / 2;
        try (Tensor src = backend.empty(DType.BF16, n); Tensor dst = backend.empty(DType.BF16, n)) {
            double[] gbs = new double[9];
            for (int i = -2; i < gbs.length; i++) {
                backend.synchronize();
                long t = System.nanoTime();
                backend.copy(src, dst);
                backend.synchronize();
                if (i >= 0) gbs[i] = 2.0 * COPY_BYTES / (System.nanoTime() - t);
            }
            java.util.Arrays.sort(gbs);
            System.out.printf("DecodeBenchmark: device copy %.1f GB/s (read + write of %d MiB, median of %d, %s)%n",
                    gbs[gbs.length / 2], COPY_BYTES >> 20, gbs.length, backend);
            return gbs[gbs.length / 2];
        }
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void decode() {
        long t = System.nanoTime();
        for (int i = 0; i < OPS; i++) backend.decode(ops[i % ops.length]);
        backend.synchronize();
        nanos += System.nanoTime() - t;
        calls += OPS;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (calls > 0) {
            double us = nanos / 1e3 / calls;
            double gbs = kvBytes() / (us * 1e3);
            System.out.printf("DecodeBenchmark: cacheLen %d batch %d: %.2f us/op over %d ops (warm-up included), "
                    + "K/V %.1f GB/s = %.2f of the device copy %.1f GB/s measured in this run (goal at cacheLen >= 4096: >= 0.75)%n",
                    cacheLen, batch, us, calls, gbs, gbs / copyGbs, copyGbs);
        }
        for (Tensor t : new Tensor[] {kc, vc, q, out}) t.close();
        backend.close();
    }
}
