// AttentionCpuTest — the CPU twin of the attention kernels against the naive float64 oracle (always
// runs, CI has no GPU): every mask kind, cross attention, key padding, packed varlen batches,
// GQA/MQA, T5 bias both ways (and its bucket function against T5's formula on known values),
// Tq = 1, Tq > Tk, lengths off the kernels' 64-row tiles, strided q/k/v, LSE, rows that see no key,
// and paged decode (append + split-KV) equal to prefill on the same data.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.AttentionHarness.Spec;
import org.transformer4j.runtime.AttentionOp.Mask;
import org.transformer4j.runtime.reference.AttentionOracle;

class AttentionCpuTest {

    private static final CpuBackend CPU = new CpuBackend();

    static Stream<Arguments> prefillCases() {
        List<Spec> s = new ArrayList<>();
        for (Mask m : Mask.values()) {
            int[] prefix = m == Mask.PREFIX_LM ? new int[] {9, 0} : null;
            s.add(Spec.of(DType.F32, 4, 2, 32, 2, 37, 37).mask(m, prefix));                      // self attention
            s.add(Spec.of(DType.F32, 2, 2, 64, 1, 130, 130).mask(m, m == Mask.PREFIX_LM ? new int[] {70} : null)); // > two 64-tiles
            s.add(Spec.packed(DType.F32, 4, 1, 32, new int[] {1, 17, 65, 3}, new int[] {1, 17, 65, 3})
                    .mask(m, m == Mask.PREFIX_LM ? new int[] {1, 5, 65, 0} : null));              // varlen, MQA
        }
        s.add(Spec.of(DType.F32, 4, 4, 32, 3, 5, 70).keyLengths(70, 33, 0));                        // cross attention, padded keys, one empty
        s.add(Spec.of(DType.F32, 2, 1, 32, 2, 50, 20).mask(Mask.CAUSAL));                           // Tq > Tk: first 30 rows see nothing
        s.add(Spec.of(DType.F32, 8, 2, 32, 2, 1, 77).mask(Mask.CAUSAL));                            // Tq = 1 (a decode step via prefill)
        s.add(Spec.of(DType.F32, 8, 2, 32, 2, 1, 77));
        s.add(Spec.of(DType.F32, 2, 2, 32, 2, 9, 41).mask(Mask.CAUSAL).keyLengths(41, 12));          // chunk after a prefix, padded keys
        s.add(Spec.packed(DType.F32, 2, 2, 64, new int[] {3, 40, 1}, new int[] {100, 7, 0}));       // packed cross attention, empty sequence
        s.add(Spec.of(DType.F32, 2, 1, 32, 2, 5, 0));                                             // no keys at all: zeros, lse −∞
        s.add(Spec.of(DType.BF16, 2, 1, 64, 1, 0, 9));                                            // no queries: nothing to do
        s.add(Spec.of(DType.F32, 6, 3, 32, 2, 45, 45).mask(Mask.CAUSAL).t5(false));                 // T5 decoder self attention
        s.add(Spec.of(DType.F32, 4, 4, 32, 2, 45, 45).t5(true));                                    // T5 encoder
        s.add(Spec.packed(DType.F32, 2, 2, 32, new int[] {30, 5}, new int[] {30, 5}).mask(Mask.PREFIX_LM, 12, 5).t5(true));
        s.add(Spec.of(DType.F32, 4, 2, 64, 2, 33, 33).mask(Mask.CAUSAL).withStrides());                 // q, k, v views of a fused QKV
        s.add(Spec.packed(DType.F32, 4, 2, 32, new int[] {20, 44}, new int[] {20, 44}).withStrides().mask(Mask.CAUSAL));
        for (int hs : new int[] {96, 128, 256}) s.add(Spec.of(DType.F32, 2, 1, hs, 1, 19, 19).mask(Mask.CAUSAL));
        // every head size 8..256 step 8 (issue 14), each dtype: GQA, causal, a padded key row, a partial 64-row tile
        for (int hs = 8; hs <= 256; hs += 8) {
            for (DType dt : DType.values()) {
                if (dt.isFloatingPoint()) s.add(Spec.of(dt, 4, 2, hs, 2, 67, 67).mask(Mask.CAUSAL).keyLengths(67, 30));
            }
        }
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            s.add(Spec.of(dt, 4, 2, 64, 2, 70, 70).mask(Mask.CAUSAL));
            s.add(Spec.packed(dt, 2, 1, 128, new int[] {5, 66}, new int[] {80, 66}).keyLengths(50, 66));
            s.add(Spec.of(dt, 2, 2, 64, 1, 31, 31).mask(Mask.PREFIX_LM, 10).t5(true));
            s.add(Spec.of(dt, 2, 1, 96, 1, 40, 40).mask(Mask.CAUSAL));
            s.add(Spec.of(dt, 4, 2, 32, 2, 9, 29));
        }
        // DeBERTa's disentangled terms (c2p and p2c gathered at each pair's log-bucket column) against the oracle's own
        // gathers: packed sequences past the last column, a padded batch with key padding, each dtype
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            s.add(Spec.packed(dt, 4, 4, 64, new int[] {70, 5}, new int[] {70, 5}).deberta(16));
            s.add(Spec.of(dt, 2, 1, 32, 2, 45, 45).keyLengths(45, 30).deberta(16));
        }
        // Attention sinks (GPT-OSS): a per-head logit in each row's softmax denominator, with GPT-OSS's causal sliding
        // window and full layers, key padding, GQA, an empty row (its lse is the sink), each dtype
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            s.add(Spec.packed(dt, 4, 2, 64, new int[] {70, 5, 1}, new int[] {70, 5, 1}).mask(Mask.CAUSAL).window(9).sinks());
            s.add(Spec.of(dt, 4, 1, 32, 2, 40, 40).mask(Mask.CAUSAL).keyLengths(40, 0).sinks());
            s.add(Spec.of(dt, 2, 2, 64, 1, 3, 90).mask(Mask.CAUSAL).sinks());                       // a chunk after a prefix
        }
        // ALiBi (BLOOM, MPT, Falcon-RW): −slope · |key position − query position| per head, BLOOM's slopes for 6 heads (the
        // odd extra ones) and a steep 1.5 on every third; causal padded and packed, a chunk after a prefix, a sliding window,
        // bidirectional with key padding (FlashAttention's |distance|), GQA and MQA, each dtype
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            s.add(Spec.packed(dt, 6, 6, 64, new int[] {70, 5, 1}, new int[] {70, 5, 1}).mask(Mask.CAUSAL).alibi());
            s.add(Spec.of(dt, 6, 2, 32, 1, 3, 90).mask(Mask.CAUSAL).alibi());                       // a chunk after a prefix
            s.add(Spec.of(dt, 4, 1, 32, 2, 60, 60).mask(Mask.CAUSAL).window(20).alibi());
            s.add(Spec.of(dt, 4, 4, 64, 2, 45, 45).keyLengths(45, 30).alibi());                    // bidirectional
        }
        // Sliding windows, |key position − query position| < W: bidirectional (NONE; ModernBERT's local layers, W = 65)
        // and causal, each dtype: windows 1, 2, 65 and one past T, padded and packed, key padding, GQA / MQA.
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            s.add(Spec.of(dt, 4, 2, 64, 2, 150, 150).window(65));                                  // key tiles before and after
            s.add(Spec.packed(dt, 4, 1, 32, new int[] {1, 17, 130, 3}, new int[] {1, 17, 130, 3})
                    .keyLengths(1, 10, 130, 0).window(2));                                          // packed, padded keys, an empty one
            s.add(Spec.of(dt, 2, 2, 32, 2, 40, 40).window(1));                                     // the diagonal only
            s.add(Spec.of(dt, 2, 1, 32, 1, 30, 30).window(1000));                                  // W > T: no window at all
            s.add(Spec.of(dt, 4, 4, 32, 3, 5, 70).keyLengths(70, 33, 0).window(9));                // cross-shaped, padded keys
            s.add(Spec.of(dt, 2, 1, 64, 2, 70, 20).window(7));                                     // Tq > Tk: positions below 0
            s.add(Spec.of(dt, 4, 2, 32, 2, 130, 130).mask(Mask.CAUSAL).window(65));                // causal, the same rule
        }
        return s.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("prefillCases")
    void prefillMatchesTheOracle(Spec spec) {
        AttentionHarness.Run r = AttentionHarness.run(CPU, spec, System.nanoTime());
        AttentionHarness.assertCpuMatchesOracle(spec.dtype(), r);
    }

    @Test
    void aBidirectionalWindowAtLeastAsLongAsTheSequenceChangesNothing() {
        // W ≥ T: every key is within W − 1 positions, so the windowed twin gives the unwindowed one's bits; W = 1 sees the diagonal only.
        Spec none = Spec.packed(DType.F32, 4, 2, 32, new int[] {40, 7}, new int[] {40, 7});
        AttentionHarness.Run all = AttentionHarness.run(CPU, none, 3);
        AttentionHarness.Run wide = AttentionHarness.run(CPU, none.window(40), 3);
        org.junit.jupiter.api.Assertions.assertArrayEquals(all.out(), wide.out());
        org.junit.jupiter.api.Assertions.assertArrayEquals(all.lse(), wide.lse());
        AttentionHarness.Run narrower = AttentionHarness.run(CPU, none.window(39), 3);
        assertThrows(AssertionError.class, () -> AttentionHarness.assertCpuMatchesOracle(DType.F32,
                new AttentionHarness.Run(narrower.out(), narrower.lse(), all.refOut(), all.refLse(), all.maxAbsV(), "W 39 vs none")));
    }

    @Test
    void rowsThatSeeNoKeyAreZeroWithLseMinusInfinity() {
        // Causal with Tq = 50 > Tk = 20: query i sits at key position i − 30, so rows 0..29 see nothing.
        AttentionHarness.Run r = AttentionHarness.run(CPU, Spec.of(DType.F32, 1, 1, 32, 1, 50, 20).mask(Mask.CAUSAL), 7);
        for (int i = 0; i < 50; i++) {
            boolean empty = i < 30;
            assertEquals(empty, r.lse()[i] == Float.NEGATIVE_INFINITY, "row " + i);
            for (int d = 0; d < 32; d++) {
                if (empty) assertEquals(0f, r.out()[i * 32 + d], "row " + i);
            }
        }
        assertTrue(Float.isFinite(r.lse()[30]));
    }

    @Test
    void theMasksChangeTheAnswer() {
        // Guards against a harness that compares a kernel with itself: the same data under another mask
        // must disagree with the oracle.
        Spec causal = Spec.of(DType.F32, 2, 2, 32, 1, 20, 20).mask(Mask.CAUSAL);
        AttentionHarness.Run c = AttentionHarness.run(CPU, causal, 11);
        AttentionHarness.Run n = AttentionHarness.run(CPU, causal.mask(Mask.NONE), 11);
        assertThrows(AssertionError.class, () -> AttentionHarness.assertCpuMatchesOracle(DType.F32,
                new AttentionHarness.Run(c.out(), c.lse(), n.refOut(), n.refLse(), n.maxAbsV(), "causal vs none")));
    }

    /**
     * T5's buckets from tables of Hugging Face's values (its float32 formula in numpy, by hand for the round
     * ones): both the runtime's RelativeBias.bucket and the test oracle's own t5Bucket must give them.
     */
    @Test
    void t5BucketsMatchThePublishedFormula() {
        int[][] bidirectional = {{0, 0}, {1, 17}, {-1, 1}, {-7, 7}, {7, 23}, {-8, 8}, {8, 24}, {-9, 8}, {-12, 9}, {-16, 10},
            {16, 26}, {20, 26}, {-20, 10}, {-32, 12}, {33, 28}, {-40, 12}, {63, 29}, {-64, 14}, {64, 30}, {-100, 15},
            {127, 31}, {-128, 15}, {1000, 31}, {-1000, 15}};
        int[][] causal = {{0, 0}, {5, 0}, {1000, 0}, {-1, 1}, {-15, 15}, {-16, 16}, {-20, 17}, {-32, 21}, {-40, 23},
            {-64, 26}, {-100, 30}, {-127, 31}, {-128, 31}, {-1000, 31}};
        for (int[] c : bidirectional) {
            assertEquals(c[1], RelativeBias.bucket(c[0], 32, 128, true), "bidirectional rel " + c[0]);
            assertEquals(c[1], AttentionOracle.t5Bucket(c[0], 32, 128, true), "oracle bidirectional rel " + c[0]);
        }
        for (int[] c : causal) {
            assertEquals(c[1], RelativeBias.bucket(c[0], 32, 128, false), "causal rel " + c[0]);
            assertEquals(c[1], AttentionOracle.t5Bucket(c[0], 32, 128, false), "oracle causal rel " + c[0]);
        }
        // 16 buckets, max_distance 20, every relative position from −45 to 45: each boundary where the
        // float32 log crosses an integer (e.g. −20: log(2.5)/log(2.5)·8 = 8 → clamped to 15; −18 → 15, −17 → 14).
        // Written out from transformers' _relative_position_bucket evaluated in numpy float32 as torch does.
        int[] bidir16 = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            6, 6, 6, 6, 6, 5, 5, 5, 4, 4, 3, 2, 1, 0, 9, 10, 11, 12, 12, 13, 13, 13, 14, 14, 14, 14, 14, 15, 15, 15, 15,
            15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15};
        int[] causal16 = {15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
            15, 15, 15, 15, 14, 14, 13, 12, 12, 11, 10, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        for (int rel = -45; rel <= 45; rel++) {
            assertEquals(bidir16[rel + 45], RelativeBias.bucket(rel, 16, 20, true), "bidirectional 16/20 rel " + rel);
            assertEquals(bidir16[rel + 45], AttentionOracle.t5Bucket(rel, 16, 20, true), "oracle bidirectional 16/20 rel " + rel);
            assertEquals(causal16[rel + 45], RelativeBias.bucket(rel, 16, 20, false), "causal 16/20 rel " + rel);
            assertEquals(causal16[rel + 45], AttentionOracle.t5Bucket(rel, 16, 20, false), "oracle causal 16/20 rel " + rel);
        }
    }

    static Stream<Arguments> decodeCases() {
        List<AttentionHarness.DecodeSpec> s = new ArrayList<>();
        for (int splits : new int[] {1, 3, 7}) {
            s.add(new AttentionHarness.DecodeSpec(DType.F32, 4, 2, 32, new int[] {1, 50, 300}, 1, 16, true, false, false, splits));
            s.add(new AttentionHarness.DecodeSpec(DType.F32, 4, 1, 64, new int[] {16, 97}, 16, 16, true, false, false, splits));
        }
        s.add(new AttentionHarness.DecodeSpec(DType.F32, 4, 4, 32, new int[] {40, 9}, 4, 8, false, false, false, 2));
        s.add(new AttentionHarness.DecodeSpec(DType.F32, 2, 2, 32, new int[] {60, 33}, 3, 16, true, true, false, 4));  // T5 decoder
        s.add(new AttentionHarness.DecodeSpec(DType.F32, 2, 1, 96, new int[] {129}, 2, 32, true, true, true, 5));
        s.add(new AttentionHarness.DecodeSpec(DType.BF16, 4, 2, 64, new int[] {200, 31}, 1, 16, true, false, false, 4));
        s.add(new AttentionHarness.DecodeSpec(DType.F16, 4, 2, 128, new int[] {70}, 8, 16, true, false, false, 3));
        // Paged prefill (issue 19): F16/BF16 decodes of more than MAX_QUERIES queries (a chunk after a prefix)
        s.add(new AttentionHarness.DecodeSpec(DType.BF16, 4, 2, 64, new int[] {90, 40}, 40, 16, true, false, false, 0));
        s.add(new AttentionHarness.DecodeSpec(DType.F16, 2, 2, 32, new int[] {70, 33}, 33, 8, true, true, false, 0));
        // attention sinks: added once per row whatever the splits (one, several, more than the keys), paged prefill too
        for (int splits : new int[] {1, 3, 64}) {
            s.add(new AttentionHarness.DecodeSpec(DType.F32, 4, 2, 64, new int[] {1, 50, 130}, 1, 16, true, false, false, splits).sinks());
        }
        s.add(new AttentionHarness.DecodeSpec(DType.F32, 4, 1, 32, new int[] {20, 97}, 16, 16, true, false, false, 4).sinks());
        s.add(new AttentionHarness.DecodeSpec(DType.BF16, 4, 2, 64, new int[] {200, 31}, 1, 16, true, false, false, 4).sinks());
        s.add(new AttentionHarness.DecodeSpec(DType.F16, 4, 2, 64, new int[] {90, 40}, 40, 16, true, false, false, 0).sinks());
        // ALiBi through the paged cache: one split, several, more than some sequences' keys; not causal; paged prefill
        for (int splits : new int[] {1, 3, 64}) {
            s.add(new AttentionHarness.DecodeSpec(DType.F32, 6, 3, 64, new int[] {1, 50, 130}, 1, 16, true, false, false, splits).alibi());
        }
        s.add(new AttentionHarness.DecodeSpec(DType.F32, 4, 1, 32, new int[] {20, 97}, 3, 16, false, false, false, 2).alibi());
        s.add(new AttentionHarness.DecodeSpec(DType.BF16, 6, 6, 64, new int[] {200, 31}, 2, 16, true, false, false, 4).alibi());
        s.add(new AttentionHarness.DecodeSpec(DType.F16, 4, 2, 64, new int[] {90, 40}, 40, 16, true, false, false, 0).alibi());
        for (int hs = 8; hs <= 256; hs += 8) {                                      // every head size 8..256 step 8 (issue 14)
            s.add(new AttentionHarness.DecodeSpec(hs % 16 == 0 ? DType.BF16 : DType.F32, 4, 2, hs, new int[] {37, 70}, 2, 16,
                    true, false, false, 2));
        }
        // MLA's absorbed decode on the CPU: 16 heads over one latent key of 576 (kv_lora_rank 512 + rope 64), a chunk and a token
        s.add(new AttentionHarness.DecodeSpec(DType.BF16, 16, 1, 576, new int[] {37, 70}, 3, 16, true, false, false, 2));
        s.add(new AttentionHarness.DecodeSpec(DType.F32, 16, 1, 576, new int[] {1, 90}, 1, 16, true, false, false, 1));
        return s.stream().map(Arguments::of);
    }

    static Stream<Arguments> packedDecodeCases() { return AttentionHarness.packedDecodeCases().stream().map(Arguments::of); }

    /**
     * Varlen append and decode (ABI 17): one packed append writes exactly each sequence's rows, and one packed decode gives
     * each sequence the oracle's answer and the bits of a decode of that sequence alone.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("packedDecodeCases")
    void packedDecodeMatchesTheOracleAndEachSequenceAlone(AttentionHarness.PackedDecodeSpec spec) {
        AttentionHarness.PackedDecodeRun r = AttentionHarness.runPackedDecode(CPU, spec, System.nanoTime());
        AttentionHarness.assertCpuMatchesOracle(spec.dtype(), r.run());
        AttentionHarness.assertPackedEqualsSolo(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decodeCases")
    void pagedDecodeMatchesTheOracleAndPrefill(AttentionHarness.DecodeSpec spec) {
        AttentionHarness.DecodeRun d = AttentionHarness.runDecode(CPU, spec, System.nanoTime());
        AttentionHarness.assertCpuMatchesOracle(spec.dtype(), d.run());
        if (spec.dtype() == DType.F32) {
            // Prefill of the same keys (causal bottom-right) answers the same question.
            AttentionHarness.Run asPrefill = new AttentionHarness.Run(d.prefillOut(), d.run().lse(), d.run().refOut(),
                    d.run().refLse(), d.run().maxAbsV(), "prefill of " + d.run().what());
            AttentionHarness.assertCpuMatchesOracle(DType.F32, asPrefill);
            float[] a = d.run().out();
            for (int i = 0; i < a.length; i++) {
                assertEquals(d.prefillOut()[i], a[i], 1e-5 * Math.max(1, Math.abs(a[i])), "decode vs prefill at " + i);
            }
        }
    }
}
