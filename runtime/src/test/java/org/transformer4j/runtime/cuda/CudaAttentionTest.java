// CudaAttentionTest — the attention kernels (Java → FFM → libt4j → kernel) against the float64
// oracle with the design's tolerance rule, the CPU twin on the same data giving the "naive in that
// precision" error: mask × dtype × head size × GQA × T5 bias × shapes (Tq = 1, Tq > Tk, lengths off
// the 64-row tiles, packed varlen, strided q/k/v, fully padded sequences), and paged decode with
// appends, split-KV (1..many splits) and long caches; GPT-OSS's attention sinks on every path. Outputs and lse start as NaN; data is fresh
// random per run (the seed is in every message). -Dt4j.test.small=true (compute-sanitizer runs) keeps a small subset.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.AttentionHarness;
import org.transformer4j.runtime.AttentionHarness.DecodeSpec;
import org.transformer4j.runtime.AttentionHarness.Spec;
import org.transformer4j.runtime.AttentionOp.Mask;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;

@Tag("gpu")
class CudaAttentionTest {

    private static final boolean SMALL = Boolean.getBoolean("t4j.test.small");

    static Stream<Arguments> prefillCases() {
        List<Spec> s = new ArrayList<>();
        int[][] selfShapes = SMALL ? new int[][] {{2, 1}, {1, 65}} : new int[][] {{2, 1}, {1, 65}, {2, 130}, {1, 257}};
        DType[] dtypes = SMALL ? new DType[] {DType.BF16, DType.F32} : new DType[] {DType.BF16, DType.F16, DType.F32};
        for (DType dt : dtypes) {
            for (int hs : SMALL ? new int[] {64} : new int[] {64, 128}) {
                for (int[] gqa : SMALL ? new int[][] {{4, 1}} : new int[][] {{4, 4}, {4, 1}, {8, 2}}) {
                    for (Mask m : Mask.values()) {
                        for (int[] bt : selfShapes) {
                            int t = bt[1];
                            int[] prefix = new int[bt[0]];
                            java.util.Arrays.fill(prefix, t / 3);
                            s.add(Spec.of(dt, gqa[0], gqa[1], hs, bt[0], t, t).mask(m, prefix));
                        }
                    }
                    s.add(Spec.of(dt, gqa[0], gqa[1], hs, 2, 70, 19).mask(Mask.CAUSAL));                  // Tq > Tk
                    s.add(Spec.of(dt, gqa[0], gqa[1], hs, 3, 7, 150).keyLengths(150, 64, 0));             // cross, padded keys
                    s.add(Spec.packed(dt, gqa[0], gqa[1], hs, new int[] {1, 64, 100, 3}, new int[] {1, 64, 100, 3})
                            .mask(Mask.CAUSAL).withStrides());
                    s.add(Spec.packed(dt, gqa[0], gqa[1], hs, new int[] {5, 90, 0}, new int[] {130, 2, 9}));
                }
                s.add(Spec.of(dt, 8, 8, hs, 2, 77, 77).t5(true));                                         // T5 encoder
                s.add(Spec.of(dt, 8, 8, hs, 2, 77, 77).mask(Mask.CAUSAL).t5(false));                      // T5 decoder
                s.add(Spec.of(dt, 8, 8, hs, 1, 9, 200).mask(Mask.CAUSAL).t5(false));                      // chunk after a prefix
                s.add(Spec.packed(dt, 4, 2, hs, new int[] {33, 70}, new int[] {33, 70}).mask(Mask.PREFIX_LM, 10, 70).t5(true));
            }
        }
        if (!SMALL) {
            s.add(Spec.of(DType.BF16, 4, 2, 128, 1, 1031, 1031).mask(Mask.CAUSAL));
            s.add(Spec.of(DType.F16, 4, 4, 64, 1, 600, 2100));
            for (int hs : new int[] {32, 96}) {
                for (DType dt : new DType[] {DType.BF16, DType.F16, DType.F32}) {
                    s.add(Spec.of(dt, 4, 2, hs, 2, 67, 67).mask(Mask.CAUSAL));
                    s.add(Spec.packed(dt, 4, 1, hs, new int[] {1, 130}, new int[] {20, 130}).t5(true));
                }
            }
            s.add(Spec.of(DType.F32, 4, 2, 256, 2, 67, 67).mask(Mask.CAUSAL));
            for (int hs = 8; hs <= 256; hs += 8) {          // every head size (issue 14): instances 32/64/80/96/128/256, padded between
                for (DType dt : new DType[] {DType.BF16, DType.F16, DType.F32}) {
                    s.add(Spec.of(dt, 4, 2, hs, 2, 67, 67).mask(Mask.CAUSAL).keyLengths(67, 30));
                }
            }
        }
        // Sliding windows |key position − query position| < W against the twin: bidirectional (NONE, ModernBERT's local
        // layers, W = 65: 64-row tiles of a 300-row sequence load 3 of 5 key tiles, 128-row ones of 1031 rows 3-4 of 17),
        // windows 1, 2 and past T, packed with key padding, GQA / MQA, T5 bias; and causal.
        for (DType dt : SMALL ? new DType[] {DType.BF16, DType.F32} : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            s.add(Spec.of(dt, 4, 2, 64, 1, 255, 255).window(65));
            s.add(Spec.packed(dt, 4, 1, 128, new int[] {5, 290, 64}, new int[] {130, 290, 64}).keyLengths(100, 290, 20).window(65));
            s.add(Spec.of(dt, 4, 4, 64, 2, 70, 70).window(1));
            s.add(Spec.of(dt, 4, 2, 32, 2, 70, 70).window(2));
            s.add(Spec.of(dt, 4, 2, 96, 1, 130, 130).window(500));
            s.add(Spec.of(dt, 4, 4, 64, 1, 200, 200).t5(true).window(33));
            s.add(Spec.of(dt, 4, 2, 64, 2, 130, 130).mask(Mask.CAUSAL).window(17));
            if (!SMALL) s.add(Spec.of(dt, 8, 2, 64, 1, 1031, 1031).window(65));
        }
        // DeBERTa's disentangled bias on its own instances (ABI 10): t4j_attn_mma_dis_{bf16,f16}_hs64 (head sizes 40-64; 48 on
        // the 64 instance), 64- and 128-row tiles, packed past the relative table's last column, key padding; t4j_attn_rows_dis_f32
        // at any head size, GQA
        for (DType dt : SMALL ? new DType[] {DType.BF16, DType.F32} : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            s.add(Spec.packed(dt, 4, 4, 64, new int[] {130, 37, 1}, new int[] {130, 37, 1}).deberta(16));
            s.add(Spec.of(dt, 2, 2, 64, 1, 300, 300).deberta(16));
            if (dt != DType.F32) s.add(Spec.of(dt, 4, 4, 48, 2, 70, 70).keyLengths(70, 50).deberta(16));
            else s.add(Spec.of(dt, 4, 2, 96, 2, 40, 40).deberta(16));
        }
        s.add(Spec.of(DType.BF16, 8, 4, 256, 2, 130, 130).window(65));                // the 256 instance's two column blocks
        s.add(Spec.of(DType.BF16, 8, 4, 256, 2, 130, 130).mask(Mask.CAUSAL));          // Gemma: BF16 prefill at 256 (two column blocks)
        s.add(Spec.of(DType.BF16, 4, 4, 80, 1, 70, 70));                                // the 80 instance
        s.add(Spec.of(DType.F16, 4, 2, 16, 1, 70, 70).mask(Mask.CAUSAL));               // 16, padded to the 32 instance
        // Attention sinks (GPT-OSS, ABI 11; emulated, never run on a GPU before this test): each tensor-core instance
        // (32/64/80/96/128/256, the 256 one's two column blocks) in both 16-bit dtypes and the fp32 rows kernel, GQA; GPT-OSS's
        // causal sliding window and full layers, packed with a 1-row sequence, key padding to no key at all (zeros, lse = the
        // sink), a chunk after a prefix; 128-row tiles (Tq ≥ 256) with GPT-OSS's window 128
        for (DType dt : SMALL ? new DType[] {DType.BF16, DType.F32} : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            for (int hs : SMALL ? new int[] {64} : new int[] {32, 64, 80, 96, 128, 256}) {
                s.add(Spec.packed(dt, 8, 2, hs, new int[] {70, 5, 1}, new int[] {70, 5, 1}).mask(Mask.CAUSAL).window(9).sinks());
                s.add(Spec.of(dt, 4, 1, hs, 2, 40, 40).mask(Mask.CAUSAL).keyLengths(40, 0).sinks());
            }
            s.add(Spec.of(dt, 2, 2, 64, 1, 3, 90).mask(Mask.CAUSAL).sinks());                        // a chunk after a prefix
            s.add(Spec.of(dt, 8, 2, 64, 1, 300, 300).mask(Mask.CAUSAL).window(128).sinks());         // 128-row tiles, sliding layer
            if (!SMALL) s.add(Spec.of(dt, 4, 4, 64, 2, 260, 260).mask(Mask.CAUSAL).keyLengths(260, 100).sinks());  // full layer
        }
        // ALiBi (BLOOM, MPT, Falcon-RW; ABI 14; emulated, never run on a GPU before this test): each tensor-core instance in
        // both 16-bit dtypes and the fp32 rows kernel, 6 heads (BLOOM's odd extra slopes), causal packed with a 1-row
        // sequence, bidirectional with key padding, a chunk after a prefix, 128-row tiles (the table on whole tiles too)
        for (DType dt : SMALL ? new DType[] {DType.BF16, DType.F32} : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            for (int hs : SMALL ? new int[] {64} : new int[] {32, 64, 80, 96, 128, 256}) {
                s.add(Spec.packed(dt, 6, 6, hs, new int[] {70, 5, 1}, new int[] {70, 5, 1}).mask(Mask.CAUSAL).alibi());
                s.add(Spec.of(dt, 4, 1, hs, 2, 40, 40).keyLengths(40, 17).alibi());
            }
            s.add(Spec.of(dt, 6, 2, 64, 1, 3, 90).mask(Mask.CAUSAL).alibi());                        // a chunk after a prefix
            s.add(Spec.of(dt, 8, 8, 64, 1, 300, 300).mask(Mask.CAUSAL).alibi());                     // 128-row tiles
        }
        return s.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("prefillCases")
    void prefillMatchesOracleWithinTheToleranceRule(Spec spec) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        AttentionHarness.Run g = AttentionHarness.run(gpu, spec, seed);
        AttentionHarness.Run c = AttentionHarness.run(new CpuBackend(), spec, seed);  // same data: the seed fixes it
        check(spec.dtype(), g, c);
    }

    static Stream<Arguments> decodeCases() {
        List<DecodeSpec> s = new ArrayList<>();
        int[][] lengths = SMALL ? new int[][] {{1, 40}, {300}} : new int[][] {{1, 40}, {300}, {4100, 17}, {16384}};
        DType[] dtypes = SMALL ? new DType[] {DType.BF16, DType.F32} : new DType[] {DType.BF16, DType.F16, DType.F32};
        for (DType dt : dtypes) {
            for (int hs : SMALL ? new int[] {64} : new int[] {64, 128}) {
                for (int[] l : lengths) {
                    boolean longCache = l[0] > 1000;   // keeps the float64 oracle's share of the GPU check short
                    for (int tq : longCache ? new int[] {1} : new int[] {1, 5, 16}) {
                        if (tq > java.util.Arrays.stream(l).min().orElseThrow()) continue;
                        for (int splits : longCache || SMALL ? new int[] {0, 13} : new int[] {1, 0, 13}) {
                            s.add(new DecodeSpec(dt, 8, 2, hs, l, tq, 16, true, false, false, splits));
                        }
                    }
                }
                s.add(new DecodeSpec(dt, 4, 4, hs, new int[] {90, 33}, 3, 32, true, true, false, 4));      // T5 decoder bias
                s.add(new DecodeSpec(dt, 4, 1, hs, new int[] {90, 33}, 2, 8, false, true, true, 3));      // bidirectional, MQA
            }
        }
        for (int hs = 8; hs <= 256; hs += SMALL ? 56 : 8) {     // every head size (issue 14); the small run samples them
            s.add(new DecodeSpec(hs % 16 == 0 ? DType.BF16 : DType.F32, 4, 2, hs, new int[] {37, 70}, 2, 16, true, false, false, 2));
        }
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {  // paged prefill, Tq > 16: tensor cores through the block table (issue 19)
            s.add(new DecodeSpec(dt, 8, 2, 128, new int[] {300, 64}, 64, 16, true, false, false, 0));
            s.add(new DecodeSpec(dt, 4, 4, 64, new int[] {90, 33}, 33, 32, true, true, false, 0));          // T5 decoder bias
            s.add(new DecodeSpec(dt, 4, 1, 80, new int[] {300}, 300, 16, true, false, false, 0));           // a whole prompt, 128-row tiles
        }
        // Attention sinks (ABI 11; emulated, never run on a GPU before this test): added once per row whatever the splits —
        // 1 (the decode kernel ends the row; MHA: after the 4 warps of a row merge), 3, the backend's choice (split_keys:
        // the splits a length needs run), 64 (more splits than some rows' keys); Tq 1 and 5; paged prefill (Tq > 16) on
        // tensor cores with 64- and 128-row tiles
        for (DType dt : dtypes) {
            for (int splits : SMALL ? new int[] {1, 0} : new int[] {1, 3, 0, 64}) {
                s.add(new DecodeSpec(dt, 8, 2, 64, new int[] {1, 50, 300}, 1, 16, true, false, false, splits).sinks());
            }
            s.add(new DecodeSpec(dt, 4, 4, 128, new int[] {90, 33}, 5, 16, true, false, false, 1).sinks());
            s.add(new DecodeSpec(dt, 4, 4, 64, new int[] {90, 7}, 1, 16, true, false, false, 1).sinks());       // 4 warps a row
            if (!SMALL) s.add(new DecodeSpec(dt, 8, 1, 64, new int[] {4100, 17}, 1, 16, true, false, false, 0).sinks());
        }
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            s.add(new DecodeSpec(dt, 8, 2, 64, new int[] {90, 40}, 40, 16, true, false, false, 0).sinks());
            s.add(new DecodeSpec(dt, 4, 1, 64, new int[] {300}, 300, 16, true, false, false, 0).sinks());    // 128-row tiles
        }
        // ALiBi (ABI 14; emulated, never run on a GPU before this test): 1 split, 3, the backend's choice, 64; not causal;
        // paged prefill with 64- and 128-row tiles
        for (DType dt : dtypes) {
            for (int splits : SMALL ? new int[] {1, 0} : new int[] {1, 3, 0, 64}) {
                s.add(new DecodeSpec(dt, 6, 3, 64, new int[] {1, 50, 300}, 1, 16, true, false, false, splits).alibi());
            }
            s.add(new DecodeSpec(dt, 4, 1, 128, new int[] {90, 33}, 5, 16, false, false, false, 2).alibi());
        }
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            s.add(new DecodeSpec(dt, 6, 6, 64, new int[] {90, 40}, 40, 16, true, false, false, 0).alibi());
            s.add(new DecodeSpec(dt, 4, 2, 128, new int[] {300}, 300, 16, true, false, false, 0).alibi());  // 128-row tiles
        }
        return s.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decodeCases")
    void pagedDecodeMatchesOracleWithinTheToleranceRule(DecodeSpec spec) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        AttentionHarness.DecodeRun g = AttentionHarness.runDecode(gpu, spec, seed);
        AttentionHarness.DecodeRun c = AttentionHarness.runDecode(new CpuBackend(), spec, seed);
        check(spec.dtype(), g.run(), c.run());
    }

    /**
     * Output: the design's rule (fp32: relative error &lt; 1e-5; fp16/bf16: max error ≤ 2 × the CPU
     * twin's + 1e-5·max|ref|). lse: fp32 sums of exp2 with hardware ex2/lg2 (≤ 2 ulp each), so
     * |lse − ref| ≤ 1e-4·max(1, |ref|); rows the oracle says see no key must be −∞ and zeros.
     */
    static Stream<Arguments> packedDecodeCases() { return AttentionHarness.packedDecodeCases().stream().map(Arguments::of); }

    /**
     * Varlen paged append and decode (ABI 17; emulated, never run on a GPU before this test): one packed append writes
     * exactly each sequence's rows; one packed decode (split-KV and paged prefill, decode rows beside chunks, empty
     * sequences) is within the tolerance rule of the CPU twin and the oracle, and bit for bit what each sequence's own
     * launch gives with the same splits on the launch's path (t4j.h: a decode row beside a chunk of more than 16 rows takes
     * the paged prefill, which its own launch does not, and is held to the tolerance rule).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("packedDecodeCases")
    void packedDecodeMatchesTheOracleAndEachSequenceAlone(AttentionHarness.PackedDecodeSpec spec) {
        CudaBackend gpu = GpuTests.backend();
        long seed = GpuTests.seed();
        AttentionHarness.PackedDecodeRun g = AttentionHarness.runPackedDecode(gpu, spec, seed);
        AttentionHarness.PackedDecodeRun c = AttentionHarness.runPackedDecode(new CpuBackend(), spec, seed);
        check(spec.dtype(), g.run(), c.run());
        AttentionHarness.assertPackedEqualsSolo(g, spec);
    }

    private static void check(DType dt, AttentionHarness.Run gpu, AttentionHarness.Run cpu) {
        AttentionHarness.emptyRowsAndPoison(gpu);
        GpuTests.withinTolerance(dt, gpu.out(), cpu.out(), gpu.refOut(), gpu.what());
        for (int i = 0; i < gpu.refLse().length; i++) {
            double ref = gpu.refLse()[i];
            if (ref == Double.NEGATIVE_INFINITY) continue;
            double e = Math.abs(gpu.lse()[i] - ref);
            assertTrue(e <= 1e-4 * Math.max(1, Math.abs(ref)), gpu.what() + ": lse[" + i + "] = " + gpu.lse()[i] + " vs " + ref);
        }
    }
}
