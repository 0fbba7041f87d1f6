// DecodeBenchmark — JMH: Backend.decode, one new token per sequence against a paged BF16 KV cache
// (NH 32, NKV 8, HS 128, blocks of 16 rows), cache lengths 1k..32k, batch 1 and 16, splits chosen
// by the backend. Achieved bandwidth = bytes of K and V read (2·B·L·NKV·HS·2) / time; the target is
// 75% of the GPU's copy bandwidth (bench/torch_attention.py measures it in the same run).
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

    @Param({"1024", "4096", "32768"})
    int cacheLen;

    @Param({"1", "16"})
    int batch;

    Backend backend;
    Tensor kc;
    Tensor vc;
    Tensor q;
    Tensor out;
    DecodeOp op;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.select();
        int perSeq = (cacheLen + BLOCK - 1) / BLOCK;
        int blocks = ((batch * perSeq + FILL_BLOCKS - 1) / FILL_BLOCKS) * FILL_BLOCKS;
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
        int[] table = new int[batch * perSeq];
        for (int i = 0; i < table.length; i++) table[i] = i;
        int[] lengths = new int[batch];
        java.util.Arrays.fill(lengths, cacheLen);
        try (Tensor h = Tensor.of(DType.BF16, Util.random(rnd, batch * NH * HS), batch, 1, NH, HS)) {  // (B, 1, NH, HS)
            q = backend.upload(h);
        }
        out = backend.empty(DType.BF16, batch, 1, NH, HS);
        op = DecodeOp.of(q, new PagedKvCache(kc, vc, table, perSeq), lengths, out);
        backend.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void decode() {
        for (int i = 0; i < OPS; i++) backend.decode(op);
        backend.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {kc, vc, q, out}) t.close();
        backend.close();
    }
}
