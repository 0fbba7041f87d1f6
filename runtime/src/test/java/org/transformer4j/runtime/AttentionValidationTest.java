// AttentionValidationTest — malformed attention, append and decode ops are rejected in Java, before
// any native call, with a message that names the tensor or field and the shapes.
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class AttentionValidationTest {

    private static final CpuBackend CPU = new CpuBackend();

    private static void rejects(String expected, Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(expected), "message \"" + x.getMessage() + "\" lacks \"" + expected + "\"");
    }

    private static Tensor t(DType dt, long... shape) { return Tensor.empty(dt, shape).fill(0.5f); }

    @Test
    void attentionRejectsBadShapesAndOptions() {
        Tensor q = t(DType.F32, 2, 8, 4, 32);
        Tensor k = t(DType.F32, 2, 8, 2, 32);
        Tensor out = t(DType.F32, 2, 8, 4, 32);
        rejects("head size 1032", () -> CPU.attention(AttentionOp.of(t(DType.BF16, 1, 8, 4, 1032), t(DType.BF16, 1, 8, 4, 1032),
                t(DType.BF16, 1, 8, 4, 1032), t(DType.BF16, 1, 8, 4, 1032))));
        rejects("head size 300", () -> CPU.attention(AttentionOp.of(t(DType.BF16, 1, 8, 4, 300), t(DType.BF16, 1, 8, 4, 300),
                t(DType.BF16, 1, 8, 4, 300), t(DType.BF16, 1, 8, 4, 300))));
        rejects("head size 12", () -> CPU.attention(AttentionOp.of(t(DType.F32, 1, 8, 4, 12), t(DType.F32, 1, 8, 4, 12),
                t(DType.F32, 1, 8, 4, 12), t(DType.F32, 1, 8, 4, 12))));
        rejects("NKV = 3", () -> CPU.attention(AttentionOp.of(q, t(DType.F32, 2, 8, 3, 32), t(DType.F32, 2, 8, 3, 32), out)));
        rejects("prefix length 9", () -> CPU.attention(AttentionOp.of(q, k, k, out).prefixLm(new int[] {3, 9})));
        rejects("prefixLengths", () -> CPU.attention(AttentionOp.of(q, k, k, out).prefixLm(new int[] {3})));
        rejects("keyLengths[1] = 9", () -> CPU.attention(AttentionOp.of(q, k, k, out).keyLengths(new int[] {8, 9})));
        rejects("out has shape", () -> CPU.attention(AttentionOp.of(q, k, k, t(DType.F32, 2, 8, 4, 16))));
        rejects("lse has shape", () -> CPU.attention(AttentionOp.of(q, k, k, out).lse(t(DType.F32, 2, 8, 4))));
        rejects("q must be (B, Tq, NH, HS)", () -> CPU.attention(AttentionOp.of(t(DType.F32, 8, 4, 32), k, k, t(DType.F32, 8, 4, 32))));
        rejects("cuSeqlensQ ends at 7", () -> CPU.attention(AttentionOp.of(t(DType.F32, 8, 4, 32), t(DType.F32, 8, 2, 32),
                t(DType.F32, 8, 2, 32), t(DType.F32, 8, 4, 32)).packed(new int[] {0, 7}, new int[] {0, 8})));
        rejects("decreases", () -> CPU.attention(AttentionOp.of(t(DType.F32, 8, 4, 32), t(DType.F32, 8, 2, 32),
                t(DType.F32, 8, 2, 32), t(DType.F32, 8, 4, 32)).packed(new int[] {0, 5, 4, 8}, new int[] {0, 2, 4, 8})));
        rejects("scale", () -> CPU.attention(AttentionOp.of(q, k, k, out).scale(Float.NaN)));
        rejects("maxDistance 4", () -> CPU.attention(AttentionOp.of(q, k, k, out)
                .bias(new RelativeBias(t(DType.F32, 16, 4), 4, true))));
        rejects("bias table has shape", () -> CPU.attention(AttentionOp.of(q, k, k, out)
                .bias(new RelativeBias(t(DType.F32, 16, 3), 64, true))));
        rejects("lse must be F32", () -> CPU.attention(AttentionOp.of(q, k, k, out).lse(t(DType.F16, 2, 4, 8))));
        rejects("has batch 1 but q", () -> CPU.attention(AttentionOp.of(q, t(DType.F32, 1, 8, 2, 32), t(DType.F32, 1, 8, 2, 32), out)));
    }

    @Test
    void halfPrecisionStridesMustBeMultiplesOfEight() {
        // q as a slice of a (B, T, 4, 68) buffer: row stride 272 is fine, but HS 64 of 68 gives head stride 68.
        Tensor wide = t(DType.BF16, 1, 8, 4, 68);
        Tensor q = wide.slice(3, 0, 64);
        Tensor kv = t(DType.BF16, 1, 8, 4, 64);
        rejects("multiples of 8", () -> CPU.attention(AttentionOp.of(q, kv, kv, t(DType.BF16, 1, 8, 4, 64))));
    }

    @Test
    void cacheOpsRejectTooSmallCachesAndBadTables() {
        Tensor kc = t(DType.F32, 4, 16, 2, 32);     // 4 blocks of 16
        Tensor vc = t(DType.F32, 4, 16, 2, 32);
        PagedKvCache cache = new PagedKvCache(kc, vc, new int[] {0, 1, 2, 3}, 2);   // 2 sequences × 2 blocks = 32 rows each
        Tensor k = t(DType.F32, 2, 5, 2, 32);
        rejects("the cache is too small", () -> CPU.kvAppend(new KvAppendOp(cache, new int[] {28, 0}, k, k)));
        rejects("blockTable[1][0] = 9", () -> CPU.kvAppend(new KvAppendOp(
                new PagedKvCache(kc, vc, new int[] {0, 1, 9, 3}, 2), new int[] {0, 0}, k, k)));
        rejects("cacheLengths has 1", () -> CPU.kvAppend(new KvAppendOp(cache, new int[] {0}, k, k)));
        rejects("k has shape", () -> CPU.kvAppend(new KvAppendOp(cache, new int[] {0, 0}, t(DType.F32, 2, 5, 1, 32),
                t(DType.F32, 2, 5, 1, 32))));
        Tensor q = t(DType.F32, 2, 1, 4, 32);
        Tensor out = t(DType.F32, 2, 1, 4, 32);
        rejects("1 to 16 queries", () -> CPU.decode(DecodeOp.of(t(DType.F32, 2, 17, 4, 32), cache, new int[] {20, 20},
                t(DType.F32, 2, 17, 4, 32))));
        rejects("below Tq", () -> CPU.decode(DecodeOp.of(q, cache, new int[] {0, 3}, out)));
        rejects("the cache is too small", () -> CPU.decode(DecodeOp.of(q, cache, new int[] {33, 3}, out)));
        rejects("must divide NH", () -> CPU.decode(DecodeOp.of(t(DType.F32, 2, 1, 3, 32), cache, new int[] {3, 3},
                t(DType.F32, 2, 1, 3, 32))));
        rejects("numSplits", () -> CPU.decode(DecodeOp.of(q, cache, new int[] {3, 3}, out).splits(129)));
    }

    /** Varlen append and decode (ABI 17): offsets, layouts and each sequence's own room are checked before any work. */
    @Test
    void packedCacheOpsCheckTheirOffsetsAndEachSequencesRoom() {
        Tensor kc = t(DType.F32, 4, 16, 2, 32);
        Tensor vc = t(DType.F32, 4, 16, 2, 32);
        PagedKvCache cache = new PagedKvCache(kc, vc, new int[] {0, 1, 2, 3}, 2);   // 2 sequences × 32 rows
        Tensor k = t(DType.F32, 1, 6, 2, 32);
        rejects("the cache is too small: sequence 1 needs 33 rows", () -> CPU.kvAppend(KvAppendOp.packed(cache, new int[] {0, 28}, new int[] {0, 1, 6}, k, k)));
        rejects("cuSeqlens ends at 5", () -> CPU.kvAppend(KvAppendOp.packed(cache, new int[] {0, 0}, new int[] {0, 1, 5}, k, k)));
        rejects("cuSeqlens decreases", () -> CPU.kvAppend(KvAppendOp.packed(cache, new int[] {0, 0}, new int[] {0, 7, 6}, k, k)));
        rejects("cuSeqlens[0] must be 0", () -> CPU.kvAppend(KvAppendOp.packed(cache, new int[] {0, 0}, new int[] {1, 2, 6}, k, k)));
        rejects("a packed append's k must be (1, ΣT, NKV, HS)", () -> CPU.kvAppend(KvAppendOp.packed(cache, new int[] {0, 0},
                new int[] {0, 1, 5}, t(DType.F32, 2, 5, 2, 32), t(DType.F32, 2, 5, 2, 32))));
        rejects("cacheLengths has 1", () -> CPU.kvAppend(KvAppendOp.packed(cache, new int[] {0}, new int[] {0, 1, 6}, k, k)));
        Tensor q = t(DType.F32, 1, 6, 4, 32);
        Tensor out = t(DType.F32, 1, 6, 4, 32);
        rejects("cacheLengths[1] = 4 is below its 5 queries", () -> CPU.decode(DecodeOp.of(q, cache, new int[] {1, 4}, out).packed(new int[] {0, 1, 6})));
        rejects("cuSeqlensQ ends at 5", () -> CPU.decode(DecodeOp.of(q, cache, new int[] {1, 5}, out).packed(new int[] {0, 1, 5})));
        rejects("1 to 16 queries per sequence in F32", () -> CPU.decode(DecodeOp.of(t(DType.F32, 1, 18, 4, 32), cache, new int[] {1, 17},
                t(DType.F32, 1, 18, 4, 32)).packed(new int[] {0, 1, 18})));
        rejects("a packed decode's q must be (1, ΣTq ≥ 1, NH, HS)", () -> CPU.decode(DecodeOp.of(t(DType.F32, 2, 3, 4, 32), cache,
                new int[] {3, 3}, t(DType.F32, 2, 3, 4, 32)).packed(new int[] {0, 3, 6})));
        rejects("needs a contiguous F32 (4, 6)", () -> CPU.decode(DecodeOp.of(q, cache, new int[] {1, 5}, out).lse(t(DType.F32, 2, 4, 5))
                .packed(new int[] {0, 1, 6})));
        rejects("cuSeqlensQ has 1 entries", () -> CPU.decode(DecodeOp.of(q, cache, new int[] {1, 5}, out).packed(new int[] {6})));
        try (Tensor lengths = Tensor.ofInts(new int[] {1, 5}, 2)) {
            rejects("a packed decode takes host cacheLengths", () -> CPU.decode(DecodeOp.of(q, cache, null, out).lengths(lengths)
                    .packed(new int[] {0, 1, 6})));
        }
    }
}
