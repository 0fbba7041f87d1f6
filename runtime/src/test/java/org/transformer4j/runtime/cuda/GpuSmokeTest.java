// GpuSmokeTest — the GPU check's first phase (ci/gpu-check, ≤ 60 s): does this machine run the library
// at all? The library loads and a device is usable, then one launch of every kernel family at one small
// shape against the CPU twin (the same host inputs through CpuBackend), one cuBLAS GEMM, one graph
// capture and replay. The full per-family sweeps (CudaNormTest, CudaAttentionTest, ...) follow in
// later phases; this is the quick verdict written before them. Skips like every `gpu` test where no
// GPU is usable, and fails instead under -Dt4j.test.requireGpu=true (what ci/gpu-check sets).
// Never run on a GPU yet (written 2026-12-04 on a machine without one).
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.Graph;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.RopeOp;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.SoftcapOp;
import org.transformer4j.runtime.SoftmaxOp;
import org.transformer4j.runtime.Tensor;

@Tag("gpu")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GpuSmokeTest {

    private static final long SEED = 20261204L;

    /** Host inputs, identical for both backends: uploaded to each, the op run, outputs downloaded. */
    private interface Op {
        void run(Backend b, Tensor[] in, Tensor[] out);
    }

    /**
     * Runs {@code op} on the CPU backend and on CUDA with the same inputs and compares output 0 (and any
     * others): F32 within 1e-4 relative (a smoke bound, far looser than the design's 1e-5 the sweeps use),
     * BF16 within 2e-2 relative.
     */
    private static void twin(String what, Tensor[] hostIn, long[][] outShapes, DType[] outTypes, Op op) {
        CudaBackend g = GpuTests.backend();
        float[][] cpu = runOn(new CpuBackend(), hostIn, outShapes, outTypes, op);
        float[][] gpu = runOn(g, hostIn, outShapes, outTypes, op);
        for (int i = 0; i < cpu.length; i++) {
            GpuTests.allWritten(gpu[i], what + " output " + i);
            if (outTypes[i] == DType.I32) {
                assertArrayEquals(cpu[i], gpu[i], what + " output " + i + " (ids)");
            } else {
                double tol = outTypes[i] == DType.F32 ? 1e-4 : 2e-2;
                double[] ref = new double[cpu[i].length];
                for (int j = 0; j < ref.length; j++) ref[j] = cpu[i][j];
                double rel = org.transformer4j.runtime.Tolerance.relativeError(gpu[i], ref);
                assertTrue(rel < tol, what + " output " + i + ": relative difference to the CPU twin " + rel + " ≥ " + tol);
            }
        }
        for (Tensor t : hostIn) t.close();
    }

    private static float[][] runOn(Backend b, Tensor[] hostIn, long[][] outShapes, DType[] outTypes, Op op) {
        Tensor[] in = new Tensor[hostIn.length];
        Tensor[] out = new Tensor[outShapes.length];
        try {
            for (int i = 0; i < in.length; i++) in[i] = b.upload(hostIn[i]);
            for (int i = 0; i < out.length; i++) {
                out[i] = b.empty(outTypes[i], outShapes[i]);
                try (Tensor nan = Tensor.empty(outTypes[i], outShapes[i])) {
                    if (outTypes[i] != DType.I32) nan.fill(Float.NaN);
                    else nan.fill(-1);
                    b.copyFromHost(nan, out[i]);
                }
            }
            op.run(b, in, out);
            b.synchronize();
            float[][] got = new float[out.length][];
            for (int i = 0; i < out.length; i++) {
                try (Tensor h = b.toHost(out[i])) {
                    got[i] = h.toFloatArray();
                }
            }
            return got;
        } finally {
            for (Tensor t : in) if (t != null) t.close();
            for (Tensor t : out) if (t != null) t.close();
            if (b instanceof CpuBackend) b.close();
        }
    }

    private static Tensor rnd(DType dt, double scale, long... shape) {
        Tensor t = Tensor.empty(dt, shape);
        t.copyFrom(GpuTests.random(new SplittableRandom(SEED + t.numel() + shape.length), Math.toIntExact(t.numel()), scale));
        return t;
    }

    private static Tensor ints(int bound, long... shape) {
        SplittableRandom r = new SplittableRandom(SEED + shape[0]);
        int n = 1;
        for (long d : shape) n = Math.multiplyExact(n, Math.toIntExact(d));
        int[] v = new int[n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextInt(bound);
        return Tensor.ofInts(v, shape);
    }

    private static long[][] shapes(long[]... s) { return s; }

    private static DType[] types(DType... t) { return t; }

    @Test
    @Order(0)
    void libraryLoadsAndADeviceIsUsable() {
        Backends.CudaStatus s = Backends.cudaStatus();
        System.out.println("smoke: CUDA status " + s);
        GpuTests.backend();                     // skips, or fails under -Dt4j.test.requireGpu=true, with the reason
        assertTrue(s.usable(), s.reason());
    }

    @Test
    @Order(1)
    void norm() {
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            twin("layer norm + residual " + dt, new Tensor[] {rnd(dt, 1, 8, 256), rnd(dt, 1, 8, 256), rnd(dt, 0.5, 256), rnd(dt, 0.5, 256)},
                    shapes(new long[] {8, 256}), types(dt),
                    (b, in, out) -> b.norm(NormOp.layer(in[0], in[2], in[3], 1e-5f, out[0]).withResidual(in[1], in[1])));
            twin("rms norm " + dt, new Tensor[] {rnd(dt, 1, 8, 256), rnd(dt, 0.5, 256)}, shapes(new long[] {8, 256}), types(dt),
                    (b, in, out) -> b.norm(NormOp.rms(in[0], in[1], 1e-6f, out[0])));
        }
    }

    @Test
    @Order(2)
    void cublasGemm() {
        twin("cuBLAS gemm F32", new Tensor[] {rnd(DType.F32, 1, 16, 64), rnd(DType.F32, 0.125, 64, 96)}, shapes(new long[] {16, 96}),
                types(DType.F32), (b, in, out) -> b.gemm(GemmOp.of(in[0], in[1], out[0])));
    }

    @Test
    @Order(3)
    void linearThroughTheCustomGemmAndThroughCublas() {
        for (GemmMode mode : new GemmMode[] {GemmMode.CUSTOM, GemmMode.CUBLAS}) {
            CudaBackend g = GpuTests.backend();
            GemmMode before = g.gemmMode();
            g.gemmMode(mode);
            try {
                twin("linear BF16 + bias + GELU-tanh, " + mode, new Tensor[] {rnd(DType.BF16, 1, 64, 128), rnd(DType.BF16, 0.09, 256, 128),
                        rnd(DType.BF16, 0.1, 256)}, shapes(new long[] {64, 256}), types(DType.BF16),
                        (b, in, out) -> b.linear(LinearOp.of(in[0], in[1], out[0]).transW(true).bias(in[2]).activation(Activation.GELU_TANH)));
                // GPT-OSS's clamped SwiGLU (ABI 11): [up ; gate] fused, x wide enough for its clamps
                twin("linear BF16 gated, GPT-OSS's clamped SwiGLU, " + mode, new Tensor[] {rnd(DType.BF16, 3, 64, 128),
                        rnd(DType.BF16, 0.5, 512, 128), rnd(DType.BF16, 1, 512)}, shapes(new long[] {64, 256}), types(DType.BF16),
                        (b, in, out) -> b.linear(LinearOp.of(in[0], in[1].slice(0, 0, 256), out[0]).transW(true)
                                .bias(in[2].slice(0, 0, 256)).gate(in[1].slice(0, 256, 512), in[2].slice(0, 256, 512))
                                .activation(Activation.SWIGLU_OAI)));
            } finally {
                g.gemmMode(before);
            }
        }
    }

    @Test
    @Order(4)
    void embedding() {
        twin("embedding F32", new Tensor[] {ints(100, 2, 5), rnd(DType.F32, 1, 100, 64), rnd(DType.F32, 1, 32, 64)},
                shapes(new long[] {2, 5, 64}), types(DType.F32), (b, in, out) -> b.embedding(EmbeddingOp.of(in[0], in[1], in[2], out[0])));
    }

    @Test
    @Order(5)
    void vocabularyOps() {
        twin("log-softmax F32", new Tensor[] {rnd(DType.F32, 4, 4, 1000)}, shapes(new long[] {4, 1000}), types(DType.F32),
                (b, in, out) -> b.softmax(SoftmaxOp.logSoftmax(in[0], out[0])));
        twin("cross-entropy F32", new Tensor[] {rnd(DType.F32, 4, 4, 1000), ints(1000, 4)}, shapes(new long[] {4}), types(DType.F32),
                (b, in, out) -> b.crossEntropy(CrossEntropyOp.of(in[0], in[1], out[0])));
        twin("greedy sample F32", new Tensor[] {rnd(DType.F32, 4, 4, 1000)}, shapes(new long[] {4}), types(DType.I32),
                (b, in, out) -> b.sample(SampleOp.greedy(in[0], out[0])));
        twin("final logit soft-capping BF16 (cap 3)", new Tensor[] {rnd(DType.BF16, 8, 4, 1000)}, shapes(new long[] {4, 1000}),
                types(DType.BF16), (b, in, out) -> {
                    b.copy(in[0], out[0]);
                    b.softcap(new SoftcapOp(out[0], 3f));
                });
    }

    @Test
    @Order(6)
    void attention() {
        BiConsumer<String, java.util.function.UnaryOperator<AttentionOp>> one = (what, mask) ->
                twin("attention BF16 " + what, new Tensor[] {rnd(DType.BF16, 1, 2, 24, 4, 64), rnd(DType.BF16, 1, 2, 24, 2, 64),
                        rnd(DType.BF16, 1, 2, 24, 2, 64)}, shapes(new long[] {2, 24, 4, 64}), types(DType.BF16),
                        (b, in, out) -> b.attention(mask.apply(AttentionOp.of(in[0], in[1], in[2], out[0]))));
        one.accept("causal", AttentionOp::causal);
        one.accept("bidirectional", op -> op);
        one.accept("causal, sliding window 5", op -> op.causal().window(5));
        one.accept("bidirectional sliding window 5 (ModernBERT's local attention)", op -> op.window(5));
        one.accept("causal, Gemma 2 soft-capping (scale 1, cap 2)", op -> op.causal().scale(1f).softcap(2f));
        twin("attention F32 rows, soft-capping", new Tensor[] {rnd(DType.F32, 1, 2, 24, 4, 64), rnd(DType.F32, 1, 2, 24, 2, 64),
                rnd(DType.F32, 1, 2, 24, 2, 64)}, shapes(new long[] {2, 24, 4, 64}), types(DType.F32),
                (b, in, out) -> b.attention(AttentionOp.of(in[0], in[1], in[2], out[0]).causal().scale(1f).softcap(2f)));
        for (DType dt : new DType[] {DType.BF16, DType.F32}) {          // GPT-OSS's attention sinks (ABI 11), sliding window 5
            twin("attention " + dt + ", sinks", new Tensor[] {rnd(dt, 1, 2, 24, 4, 64), rnd(dt, 1, 2, 24, 2, 64), rnd(dt, 1, 2, 24, 2, 64),
                    rnd(DType.F32, 3, 4)}, shapes(new long[] {2, 24, 4, 64}), types(dt),
                    (b, in, out) -> b.attention(AttentionOp.of(in[0], in[1], in[2], out[0]).causal().window(5).sinks(in[3])));
        }
        for (DType dt : new DType[] {DType.BF16, DType.F32}) {          // ALiBi (ABI 14: BLOOM, MPT, Falcon-RW), causal and not
            twin("attention " + dt + ", alibi", new Tensor[] {rnd(dt, 1, 2, 24, 4, 64), rnd(dt, 1, 2, 24, 2, 64), rnd(dt, 1, 2, 24, 2, 64),
                    rnd(DType.F32, 1, 4)}, shapes(new long[] {2, 24, 4, 64}, new long[] {2, 24, 4, 64}), types(dt, dt),
                    (b, in, out) -> {
                        b.attention(AttentionOp.of(in[0], in[1], in[2], out[0]).causal().alibi(in[3]));
                        b.attention(AttentionOp.of(in[0], in[1], in[2], out[1]).alibi(in[3]));
                    });
        }
    }

    @Test
    @Order(7)
    void rope() {
        int b = 2, t = 6, h = 4, hs = 64;
        float[] inv = new float[hs / 4];
        for (int i = 0; i < inv.length; i++) inv[i] = (float) Math.pow(10000, -4.0 * i / hs);
        twin("rope F32, table, partial rotary", new Tensor[] {rnd(DType.F32, 1, b, t, h, hs), ints(300, b, t),
                Tensor.ofFloats(inv, inv.length)}, shapes(new long[] {b, t, h, hs}), types(DType.F32),
                (be, in, out) -> {
                    be.copy(in[0], out[0]);
                    be.rope(RopeOp.of(out[0], in[1], in[2], hs / 2));
                });
        twin("rope BF16, dynamic NTK", new Tensor[] {rnd(DType.BF16, 1, b, t, h, hs), ints(60, b, t),
                Tensor.ofInts(new int[] {20, 61}, b)}, shapes(new long[] {b, t, h, hs}), types(DType.BF16),
                (be, in, out) -> {
                    be.copy(in[0], out[0]);
                    be.rope(RopeOp.dynamic(out[0], in[1], new RopeOp.Dynamic(10000f, 2f, 32), in[2], hs));
                });
        float[] tables = new float[hs];                                     // LongRoPE: short, then long factors
        for (int i = 0; i < hs / 2; i++) {
            tables[i] = (float) (Math.pow(10000, -2.0 * i / hs) / (1 + 0.1 * i));
            tables[hs / 2 + i] = (float) (Math.pow(10000, -2.0 * i / hs) / (2 + 0.5 * i));
        }
        twin("rope F16, LongRoPE (one sequence short, one long) with attention scaling", new Tensor[] {rnd(DType.F16, 1, b, t, h, hs),
                ints(60, b, t), Tensor.ofInts(new int[] {32, 61}, b), Tensor.ofFloats(tables, 2, hs / 2)},
                shapes(new long[] {b, t, h, hs}), types(DType.F16),
                (be, in, out) -> {
                    be.copy(in[0], out[0]);
                    be.rope(RopeOp.longRope(out[0], in[1], in[3], 32, in[2], hs).scaled(1.19024f));
                });
    }

    @Test
    @Order(7)
    void kvAppendAndDecode() {
        int bsz = 2, nh = 4, nkv = 2, hs = 64, block = 16, maxBlocks = 2;
        int[] table = {3, 0, 1, 2};
        int[] lengths = {5, 17};
        int[] after = {6, 18};
        twin("kv append + decode BF16", new Tensor[] {rnd(DType.BF16, 1, bsz, 1, nh, hs), rnd(DType.BF16, 1, bsz, 1, nkv, hs),
                rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs),
                rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs)}, shapes(new long[] {bsz, 1, nh, hs}), types(DType.BF16),
                (b, in, out) -> {
                    PagedKvCache cache = new PagedKvCache(in[3], in[4], table, maxBlocks);
                    b.kvAppend(new KvAppendOp(cache, lengths, in[1], in[2]));
                    b.decode(DecodeOp.of(in[0], cache, after, out[0]));
                });
        twin("kv append + decode BF16, sliding window 4, 2 splits", new Tensor[] {rnd(DType.BF16, 1, bsz, 1, nh, hs),
                rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs),
                rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs)}, shapes(new long[] {bsz, 1, nh, hs}), types(DType.BF16),
                (b, in, out) -> {
                    PagedKvCache cache = new PagedKvCache(in[3], in[4], table, maxBlocks);
                    b.kvAppend(new KvAppendOp(cache, lengths, in[1], in[2]));
                    b.decode(DecodeOp.of(in[0], cache, after, out[0]).window(4).splits(2));
                });
        twin("kv append + decode BF16, soft-capping, 2 splits", new Tensor[] {rnd(DType.BF16, 1, bsz, 1, nh, hs),
                rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs),
                rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs)}, shapes(new long[] {bsz, 1, nh, hs}), types(DType.BF16),
                (b, in, out) -> {
                    PagedKvCache cache = new PagedKvCache(in[3], in[4], table, maxBlocks);
                    b.kvAppend(new KvAppendOp(cache, lengths, in[1], in[2]));
                    b.decode(DecodeOp.of(in[0], cache, after, out[0]).scale(1f).softcap(2f).splits(2));
                });
        for (int splits : new int[] {1, 2}) {                            // GPT-OSS's attention sinks (ABI 11): once per row
            twin("kv append + decode BF16, sinks, " + splits + " split(s)", new Tensor[] {rnd(DType.BF16, 1, bsz, 1, nh, hs),
                    rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs),
                    rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs), rnd(DType.F32, 3, nh)}, shapes(new long[] {bsz, 1, nh, hs}),
                    types(DType.BF16),
                    (b, in, out) -> {
                        PagedKvCache cache = new PagedKvCache(in[3], in[4], table, maxBlocks);
                        b.kvAppend(new KvAppendOp(cache, lengths, in[1], in[2]));
                        b.decode(DecodeOp.of(in[0], cache, after, out[0]).sinks(in[5]).splits(splits));
                    });
        }
        for (int splits : new int[] {1, 2}) {                            // ALiBi (ABI 14) through the paged cache
            twin("kv append + decode BF16, alibi, " + splits + " split(s)", new Tensor[] {rnd(DType.BF16, 1, bsz, 1, nh, hs),
                    rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz, 1, nkv, hs), rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs),
                    rnd(DType.BF16, 1, bsz * maxBlocks, block, nkv, hs), rnd(DType.F32, 1, nh)}, shapes(new long[] {bsz, 1, nh, hs}),
                    types(DType.BF16),
                    (b, in, out) -> {
                        PagedKvCache cache = new PagedKvCache(in[3], in[4], table, maxBlocks);
                        b.kvAppend(new KvAppendOp(cache, lengths, in[1], in[2]));
                        b.decode(DecodeOp.of(in[0], cache, after, out[0]).alibi(in[5]).splits(splits));
                    });
        }
    }

    @Test
    @Order(8)
    void graphCaptureAndReplay() {
        CudaBackend g = GpuTests.backend();
        try (Tensor hx = rnd(DType.F32, 1, 8, 256); Tensor hw = rnd(DType.F32, 0.5, 256);
             Tensor x = g.upload(hx); Tensor w = g.upload(hw); Tensor eager = g.empty(DType.F32, 8, 256);
             Tensor replayed = g.empty(DType.F32, 8, 256)) {
            g.norm(NormOp.rms(x, w, 1e-6f, eager));
            Graph graph = g.capture(() -> g.norm(NormOp.rms(x, w, 1e-6f, replayed)));
            try {
                assertEquals(1, graph.size(), "ops recorded");
                graph.replay();
                g.synchronize();
                assertArrayEquals(GpuTests.download(g, eager), GpuTests.download(g, replayed), "a replayed norm differs from the same norm run eagerly");
            } finally {
                graph.close();
            }
        }
    }

    @Test
    @Order(9)
    void mixtureOfExperts() {
        // 37 tokens, 8 experts, top 2; gathered rows, grouped expert GEMM, weighted combine with the residual
        twin("MoE route BF16 (E 8, k 2, renormalized)", new Tensor[] {rnd(DType.BF16, 3, 37, 8)},
                shapes(new long[] {37, 2}, new long[] {37, 2}, new long[] {9}, new long[] {74}, new long[] {37, 2}),
                types(DType.I32, DType.F32, DType.I32, DType.I32, DType.I32),
                (b, in, out) -> b.moeRoute(new org.transformer4j.runtime.MoeRouteOp(in[0], 2, true,
                        new org.transformer4j.runtime.MoeRouting(out[0], out[1], out[2], out[3], out[4]))));
        // DeepSeek-V3's router (ABI 18): sigmoid + correction bias, 8 groups keeping 4 by top-2 sums, renormalized, × 2.5
        twin("MoE route BF16, DeepSeek-V3 (E 256, k 8, sigmoid + bias, groups 8/4, × 2.5)",
                new Tensor[] {rnd(DType.BF16, 3, 16, 256), rnd(DType.F32, 0.5, 256)},
                shapes(new long[] {16, 8}, new long[] {16, 8}, new long[] {257}, new long[] {128}, new long[] {16, 8}),
                types(DType.I32, DType.F32, DType.I32, DType.I32, DType.I32),
                (b, in, out) -> b.moeRoute(new org.transformer4j.runtime.MoeRouteOp(in[0], 8, true,
                        new org.transformer4j.runtime.MoeRouting(out[0], out[1], out[2], out[3], out[4])).sigmoid(in[1]).groups(8, 4).scale(2.5f)));
        twin("gather rows BF16", new Tensor[] {rnd(DType.BF16, 1, 37, 96), ints(37, 74)}, shapes(new long[] {74, 96}), types(DType.BF16),
                (b, in, out) -> b.gatherRows(new org.transformer4j.runtime.GatherRowsOp(in[0], in[1], out[0])));
        twin("rows widened BF16 → F32 (the fp32 router's input, ABI 20)", new Tensor[] {rnd(DType.BF16, 3, 37, 96)},
                shapes(new long[] {37, 96}), types(DType.F32),
                (b, in, out) -> b.gatherRows(org.transformer4j.runtime.GatherRowsOp.widen(in[0], out[0])));
        twin("grouped linear BF16, gated SiLU (4 groups, one empty)",
                new Tensor[] {rnd(DType.BF16, 1, 74, 64), rnd(DType.BF16, 0.2, 4, 64, 96), rnd(DType.BF16, 0.2, 4, 64, 96),
                        Tensor.ofInts(new int[] {0, 30, 30, 51, 74}, 5)},
                shapes(new long[] {74, 96}), types(DType.BF16),
                (b, in, out) -> b.groupedLinear(org.transformer4j.runtime.GroupedLinearOp.of(in[0], in[1], in[3], out[0])
                        .gate(in[2]).activation(Activation.SILU)));
        twin("grouped linear F32 (transposed weights)",
                new Tensor[] {rnd(DType.F32, 1, 74, 40), rnd(DType.F32, 0.2, 3, 24, 40), Tensor.ofInts(new int[] {0, 10, 60, 74}, 4)},
                shapes(new long[] {74, 24}), types(DType.F32),
                (b, in, out) -> b.groupedLinear(org.transformer4j.runtime.GroupedLinearOp.of(in[0], in[1], in[2], out[0]).transW(true)));
        twin("grouped linear BF16, GPT-OSS's experts: per-group biases and the clamped SwiGLU",
                new Tensor[] {rnd(DType.BF16, 3, 74, 64), rnd(DType.BF16, 0.5, 4, 64, 96), rnd(DType.BF16, 0.5, 4, 64, 96),
                        Tensor.ofInts(new int[] {0, 30, 30, 51, 74}, 5), rnd(DType.BF16, 2, 4, 96), rnd(DType.BF16, 2, 4, 96)},
                shapes(new long[] {74, 96}), types(DType.BF16),
                (b, in, out) -> b.groupedLinear(org.transformer4j.runtime.GroupedLinearOp.of(in[0], in[1], in[3], out[0])
                        .gate(in[2]).bias(in[4], in[5]).activation(Activation.SWIGLU_OAI)));
        twin("MoE combine BF16 (+ residual)", new Tensor[] {rnd(DType.BF16, 1, 74, 96), ints(74, 37, 2), rnd(DType.F32, 1, 37, 2),
                        rnd(DType.BF16, 1, 37, 96)}, shapes(new long[] {37, 96}), types(DType.BF16),
                (b, in, out) -> b.moeCombine(new org.transformer4j.runtime.MoeCombineOp(in[0], in[1], in[2], in[3], null, null, out[0])));
    }
}
