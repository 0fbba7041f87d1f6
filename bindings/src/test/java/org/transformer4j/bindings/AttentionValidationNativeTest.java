// AttentionValidationNativeTest — t4j_attention, t4j_kv_append and t4j_decode trust nothing they are
// given: malformed params come back as T4J_ERROR_INVALID_ARGUMENT or T4J_ERROR_UNSUPPORTED before
// any driver call, so these run without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class AttentionValidationNativeTest {

    private static final MemorySegment FAKE = MemorySegment.ofAddress(0x10000);  // 16-byte aligned, never dereferenced

    /** A well-formed BF16 prefill with no batch items (validated, then nothing to launch). */
    private static int attentionWith(Consumer<MemorySegment> change) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_attention_params.allocate(arena);
            t4j_attention_params.out(p, FAKE);
            t4j_attention_params.q(p, FAKE);
            t4j_attention_params.k(p, FAKE);
            t4j_attention_params.v(p, FAKE);
            t4j_attention_params.B(p, 0);
            t4j_attention_params.NH(p, 8);
            t4j_attention_params.NKV(p, 2);
            t4j_attention_params.Tq(p, 16);
            t4j_attention_params.Tk(p, 16);
            t4j_attention_params.HS(p, 64);
            long row = 8 * 64;
            t4j_attention_params.q_row_stride(p, row);
            t4j_attention_params.q_head_stride(p, 64);
            t4j_attention_params.k_row_stride(p, 2 * 64);
            t4j_attention_params.k_head_stride(p, 64);
            t4j_attention_params.v_row_stride(p, 2 * 64);
            t4j_attention_params.v_head_stride(p, 64);
            t4j_attention_params.out_row_stride(p, row);
            t4j_attention_params.out_head_stride(p, 64);
            t4j_attention_params.scale(p, 0.125f);
            t4j_attention_params.mask(p, t4j_h.T4J_ATTN_MASK_CAUSAL);
            t4j_attention_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
            change.accept(p);
            return t4j_h.t4j_attention(p, MemorySegment.NULL);
        }
    }

    /** Head size hs with out's strides widened to match (so that only the head size is at fault). */
    private static void withHeadSize(MemorySegment p, int hs) {
        t4j_attention_params.HS(p, hs);
        t4j_attention_params.out_head_stride(p, hs);
        t4j_attention_params.out_row_stride(p, 8L * hs);
    }

    /** DeBERTa's disentangled bias (ABI 10): a span, log buckets that can be taken, never with the T5 bias. */
    @Test
    void disentangledBiasParamsAreChecked() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        Consumer<MemorySegment> v3 = p -> {                                   // deberta-v3-base's: 256 buckets over 512
            t4j_attention_params.mask(p, t4j_h.T4J_ATTN_MASK_NONE);
            t4j_attention_params.c2p(p, FAKE);
            t4j_attention_params.p2c(p, FAKE);
            t4j_attention_params.c2p_rows(p, 16);
            t4j_attention_params.p2c_rows(p, 16);
            t4j_attention_params.dis_span(p, 256);
            t4j_attention_params.dis_buckets(p, 256);
            t4j_attention_params.dis_max_position(p, 512);
        };
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(v3), "deberta-v3-base's");
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(v3.andThen(p -> t4j_attention_params.p2c(p, MemorySegment.NULL))), "c2p alone");
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(v3.andThen(p -> t4j_attention_params.dis_buckets(p, -1))), "unbucketed");
        assertEquals(bad, attentionWith(v3.andThen(p -> t4j_attention_params.rel_bias(p, FAKE))), "with a T5 bias");
        assertEquals(bad, attentionWith(v3.andThen(p -> t4j_attention_params.dis_span(p, 0))), "span 0");
        assertEquals(bad, attentionWith(v3.andThen(p -> t4j_attention_params.c2p_rows(p, -1))), "negative rows");
        assertEquals(bad, attentionWith(v3.andThen(p -> t4j_attention_params.dis_buckets(p, 2))), "mid 1: no log buckets");
        assertEquals(bad, attentionWith(v3.andThen(p -> t4j_attention_params.dis_max_position(p, 100))), "max_position − 1 ≤ mid");
    }

    /** Attention sinks (ABI 11): an fp32 (NH) vector on the device, any values (read by the kernels), 4-byte aligned. */
    @Test
    void sinksAreTakenOnEveryPathAndMustBeAligned() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> t4j_attention_params.sinks(p, FAKE)), "BF16 prefill with sinks");
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> {
            t4j_attention_params.dtype(p, t4j_h.T4J_DTYPE_F32);
            t4j_attention_params.sinks(p, FAKE);
        }), "F32 prefill with sinks");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.sinks(p, MemorySegment.ofAddress(0x10002))), "misaligned sinks");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = slidingDecode(arena);
            t4j_decode_params.sinks(p, FAKE);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "split decode with sinks (GPT-OSS's sliding layer)");
            t4j_decode_params.Tq(p, 40);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "paged prefill with sinks");
            t4j_decode_params.sinks(p, MemorySegment.ofAddress(0x10001));
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "misaligned sinks");
        }
    }

    /**
     * Varlen paged append and decode (ABI 17): cu_seqlens / cu_seqlens_q are int32 (B + 1) offsets on the device, so 4-byte
     * aligned; their values are read (and clamped) by the kernels. Taken by the split decode (Tq ≤ 16) and the paged prefill
     * (Tq > 16: F16/BF16 only, as padded); an append with no sequence has no rows (Tnew is the offsets' total).
     */
    @Test
    void varlenOffsetsAreTakenOnEveryPathAndMustBeAligned() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = slidingDecode(arena);
            t4j_decode_params.cu_seqlens_q(p, FAKE);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "varlen split decode");
            t4j_decode_params.Tq(p, 16);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "varlen split decode, Tq 16");
            t4j_decode_params.Tq(p, 40);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "varlen paged prefill");
            t4j_decode_params.dtype(p, t4j_h.T4J_DTYPE_F32);
            assertEquals(t4j_h.T4J_ERROR_UNSUPPORTED, t4j_h.t4j_decode(p, MemorySegment.NULL), "varlen paged prefill, F32");
            t4j_decode_params.Tq(p, 16);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "varlen split decode, F32");
            t4j_decode_params.cu_seqlens_q(p, MemorySegment.ofAddress(0x10002));
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "misaligned cu_seqlens_q");
            t4j_decode_params.Tq(p, 0);
            t4j_decode_params.cu_seqlens_q(p, FAKE);
            assertEquals(t4j_h.T4J_ERROR_UNSUPPORTED, t4j_h.t4j_decode(p, MemorySegment.NULL), "varlen Tq 0 (no bound)");

            MemorySegment a = emptyAppend(arena);
            t4j_kv_append_params.cu_seqlens(a, FAKE);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "varlen append, no sequences");
            t4j_kv_append_params.Tnew(a, 3);
            assertEquals(bad, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "varlen append, rows without sequences");
            t4j_kv_append_params.cu_seqlens(a, MemorySegment.NULL);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "padded append, B 0");
            t4j_kv_append_params.Tnew(a, 0);
            t4j_kv_append_params.cu_seqlens(a, MemorySegment.ofAddress(0x10001));
            assertEquals(bad, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "misaligned cu_seqlens");
            t4j_kv_append_params.cu_seqlens(a, FAKE);
            t4j_kv_append_params.k_row_stride(a, -1);
            assertEquals(bad, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "varlen append, negative row stride");
        }
    }

    /** A well-formed BF16 split decode (GPT-OSS's sliding layer: GQA 4, 4 splits, window 128), validated before any launch. */
    private static MemorySegment slidingDecode(Arena arena) {
        MemorySegment p = t4j_decode_params.allocate(arena);
        t4j_decode_params.out(p, FAKE);
        t4j_decode_params.q(p, FAKE);
        t4j_decode_params.k_cache(p, FAKE);
        t4j_decode_params.v_cache(p, FAKE);
        t4j_decode_params.block_table(p, FAKE);
        t4j_decode_params.cache_lengths(p, FAKE);
        t4j_decode_params.NH(p, 8);
        t4j_decode_params.NKV(p, 2);
        t4j_decode_params.Tq(p, 1);
        t4j_decode_params.HS(p, 64);
        t4j_decode_params.block_size(p, 16);
        t4j_decode_params.max_blocks_per_seq(p, 4);
        t4j_decode_params.num_blocks(p, 4);
        t4j_decode_params.num_splits(p, 4);
        t4j_decode_params.workspace_o(p, FAKE);
        t4j_decode_params.workspace_lse(p, FAKE);
        t4j_decode_params.scale(p, 0.125f);
        t4j_decode_params.causal(p, 1);
        t4j_decode_params.window(p, 128);
        t4j_decode_params.dtype(p, t4j_h.T4J_DTYPE_BF16);
        return p;
    }

    /** A well-formed padded BF16 append with no sequences (B 0, Tnew 0), validated before any launch. */
    private static MemorySegment emptyAppend(Arena arena) {
        MemorySegment a = t4j_kv_append_params.allocate(arena);
        t4j_kv_append_params.k_cache(a, FAKE);
        t4j_kv_append_params.v_cache(a, FAKE);
        t4j_kv_append_params.k(a, FAKE);
        t4j_kv_append_params.v(a, FAKE);
        t4j_kv_append_params.block_table(a, FAKE);
        t4j_kv_append_params.cache_lengths(a, FAKE);
        t4j_kv_append_params.B(a, 0);
        t4j_kv_append_params.Tnew(a, 0);
        t4j_kv_append_params.NKV(a, 2);
        t4j_kv_append_params.HS(a, 64);
        t4j_kv_append_params.block_size(a, 16);
        t4j_kv_append_params.max_blocks_per_seq(a, 2);
        t4j_kv_append_params.num_blocks(a, 4);
        t4j_kv_append_params.dtype(a, t4j_h.T4J_DTYPE_BF16);
        return a;
    }

    /**
     * ALiBi slopes (ABI 14): an fp32 (NH) vector on the device, 4-byte aligned, taken by every prefill and decode path, never
     * beside the T5 table or DeBERTa's terms (the kernels add one positional bias).
     */
    @Test
    void alibiSlopesAreTakenAloneAndMustBeAligned() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> t4j_attention_params.alibi_slopes(p, FAKE)), "BF16 prefill with ALiBi");
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> {
            t4j_attention_params.dtype(p, t4j_h.T4J_DTYPE_F32);
            t4j_attention_params.mask(p, t4j_h.T4J_ATTN_MASK_NONE);
            t4j_attention_params.alibi_slopes(p, FAKE);
        }), "F32 bidirectional prefill with ALiBi");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.alibi_slopes(p, MemorySegment.ofAddress(0x10002))), "misaligned");
        Consumer<MemorySegment> t5 = p -> {
            t4j_attention_params.rel_bias(p, FAKE);
            t4j_attention_params.num_buckets(p, 32);
            t4j_attention_params.max_distance(p, 128);
        };
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(t5), "the T5 bias alone");
        assertEquals(bad, attentionWith(t5.andThen(p -> t4j_attention_params.alibi_slopes(p, FAKE))), "ALiBi with a T5 bias");
        assertEquals(bad, attentionWith(p -> {
            t4j_attention_params.mask(p, t4j_h.T4J_ATTN_MASK_NONE);
            t4j_attention_params.c2p(p, FAKE);
            t4j_attention_params.c2p_rows(p, 16);
            t4j_attention_params.dis_span(p, 256);
            t4j_attention_params.alibi_slopes(p, FAKE);
        }), "ALiBi with DeBERTa's c2p");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = slidingDecode(arena);
            t4j_decode_params.alibi_slopes(p, FAKE);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "split decode with ALiBi");
            t4j_decode_params.Tq(p, 40);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "paged prefill with ALiBi");
            t4j_decode_params.alibi_slopes(p, MemorySegment.ofAddress(0x10001));
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "misaligned slopes");
            t4j_decode_params.alibi_slopes(p, FAKE);
            t4j_decode_params.rel_bias(p, FAKE);
            t4j_decode_params.num_buckets(p, 32);
            t4j_decode_params.max_distance(p, 128);
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "ALiBi with a T5 bias");
            t4j_decode_params.alibi_slopes(p, MemorySegment.NULL);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "the T5 bias alone");
        }
    }

    @Test
    void malformedAttentionParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        int unsupported = t4j_h.T4J_ERROR_UNSUPPORTED;
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> { }), "well formed");
        assertEquals(bad, t4j_h.t4j_attention(MemorySegment.NULL, MemorySegment.NULL), "null params");
        for (float cap : new float[] {-1f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}) {
            assertEquals(bad, attentionWith(p -> t4j_attention_params.softcap(p, cap)), "softcap " + cap);
        }
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> t4j_attention_params.softcap(p, 50f)), "softcap 50 (Gemma 2)");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.q(p, MemorySegment.NULL)), "null q");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.NKV(p, 3)), "NKV does not divide NH");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.mask(p, 3)), "unknown mask");
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> {
            t4j_attention_params.mask(p, t4j_h.T4J_ATTN_MASK_NONE);
            t4j_attention_params.window(p, 65);
        }), "a bidirectional window (ModernBERT's ±64)");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.window(p, -1)), "negative window");
        assertEquals(bad, attentionWith(p -> {
            t4j_attention_params.mask(p, t4j_h.T4J_ATTN_MASK_PREFIX_LM);
            t4j_attention_params.prefix_lengths(p, FAKE);
            t4j_attention_params.window(p, 4);
        }), "prefix-LM with a window");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.mask(p, t4j_h.T4J_ATTN_MASK_PREFIX_LM)), "prefix-LM without lengths");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.cu_seqlens_q(p, FAKE)), "cu_seqlens_q without _k");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.scale(p, Float.POSITIVE_INFINITY)), "infinite scale");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.k_row_stride(p, -8)), "negative stride");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.out_row_stride(p, 32)), "out rows overlap");
        assertEquals(bad, attentionWith(p -> t4j_attention_params.dtype(p, t4j_h.T4J_DTYPE_I32)), "integer dtype");
        assertEquals(bad, attentionWith(p -> {
            t4j_attention_params.rel_bias(p, FAKE);
            t4j_attention_params.num_buckets(p, 32);
            t4j_attention_params.max_distance(p, 8);
            t4j_attention_params.bias_bidirectional(p, 1);
        }), "max_distance inside the exact range");
        assertEquals(unsupported, attentionWith(p -> withHeadSize(p, 264)), "BF16 head size 264");
        assertEquals(unsupported, attentionWith(p -> withHeadSize(p, 44)), "BF16 head size 44");
        assertEquals(unsupported, attentionWith(p -> t4j_attention_params.q_head_stride(p, 68)), "BF16 stride not a multiple of 8");
        assertEquals(unsupported, attentionWith(p -> t4j_attention_params.q(p, MemorySegment.ofAddress(0x10008))), "misaligned q");
        assertEquals(t4j_h.T4J_SUCCESS, attentionWith(p -> {
            t4j_attention_params.dtype(p, t4j_h.T4J_DTYPE_F32);
            t4j_attention_params.HS(p, 32);
        }), "F32 head size 32");
    }

    @Test
    void malformedDecodeAndAppendParamsAreRejected() {
        int bad = t4j_h.T4J_ERROR_INVALID_ARGUMENT;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = t4j_decode_params.allocate(arena);
            t4j_decode_params.out(p, FAKE);
            t4j_decode_params.q(p, FAKE);
            t4j_decode_params.k_cache(p, FAKE);
            t4j_decode_params.v_cache(p, FAKE);
            t4j_decode_params.block_table(p, FAKE);
            t4j_decode_params.cache_lengths(p, FAKE);
            t4j_decode_params.B(p, 0);
            t4j_decode_params.NH(p, 4);
            t4j_decode_params.NKV(p, 4);
            t4j_decode_params.Tq(p, 1);
            t4j_decode_params.HS(p, 128);
            t4j_decode_params.block_size(p, 16);
            t4j_decode_params.max_blocks_per_seq(p, 4);
            t4j_decode_params.num_blocks(p, 4);
            t4j_decode_params.num_splits(p, 1);
            t4j_decode_params.scale(p, 1f);
            t4j_decode_params.dtype(p, t4j_h.T4J_DTYPE_F16);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "well formed");
            t4j_decode_params.num_splits(p, 4);
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "splits without a workspace");
            t4j_decode_params.num_splits(p, 1);
            t4j_decode_params.Tq(p, 17);   // above 16 queries: paged prefill on tensor cores, 16-bit only (ABI 7)
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "Tq 17, F16 (paged prefill)");
            t4j_decode_params.dtype(p, t4j_h.T4J_DTYPE_F32);
            assertEquals(t4j_h.T4J_ERROR_UNSUPPORTED, t4j_h.t4j_decode(p, MemorySegment.NULL), "Tq 17, F32");
            t4j_decode_params.dtype(p, t4j_h.T4J_DTYPE_F16);
            t4j_decode_params.Tq(p, 1);
            t4j_decode_params.window(p, -1);
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "negative window");
            t4j_decode_params.window(p, 4);
            t4j_decode_params.causal(p, 0);
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "window without causal");
            t4j_decode_params.causal(p, 1);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "causal sliding window");
            t4j_decode_params.window(p, 0);
            t4j_decode_params.split_keys(p, -1);
            assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "negative split_keys");
            t4j_decode_params.split_keys(p, 256);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "split_keys 256");
            for (float cap : new float[] {-1f, Float.NaN, Float.POSITIVE_INFINITY}) {
                t4j_decode_params.softcap(p, cap);
                assertEquals(bad, t4j_h.t4j_decode(p, MemorySegment.NULL), "softcap " + cap);
            }
            t4j_decode_params.softcap(p, 30f);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_decode(p, MemorySegment.NULL), "softcap 30 (Gemma 2)");
            t4j_decode_params.softcap(p, 0f);
            t4j_decode_params.k_cache(p, MemorySegment.ofAddress(0x10008));
            assertEquals(t4j_h.T4J_ERROR_UNSUPPORTED, t4j_h.t4j_decode(p, MemorySegment.NULL), "K cache not 16-byte aligned");
            t4j_decode_params.k_cache(p, FAKE);

            MemorySegment a = emptyAppend(arena);
            t4j_kv_append_params.Tnew(a, 1);
            assertEquals(t4j_h.T4J_SUCCESS, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "well formed");
            t4j_kv_append_params.block_size(a, 0);
            assertEquals(bad, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "block size 0");
            t4j_kv_append_params.block_size(a, 16);
            t4j_kv_append_params.block_table(a, MemorySegment.NULL);
            assertEquals(bad, t4j_h.t4j_kv_append(a, MemorySegment.NULL), "no block table");
        }
    }
}
