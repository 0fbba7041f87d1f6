// t4j_decode_params — layout and accessors of struct t4j_decode_params (split-KV decode parameters, native/include/t4j.h),
// in jextract's shape. StructLayoutTest checks it against the offsets libt4j reports.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

@SuppressWarnings("checkstyle:TypeName")
public final class t4j_decode_params {

    private t4j_decode_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("out"),
            ADDRESS.withName("lse"),
            ADDRESS.withName("q"),
            ADDRESS.withName("k_cache"),
            ADDRESS.withName("v_cache"),
            ADDRESS.withName("block_table"),
            ADDRESS.withName("cache_lengths"),
            ADDRESS.withName("workspace_o"),
            ADDRESS.withName("workspace_lse"),
            ADDRESS.withName("rel_bias"),
            JAVA_LONG.withName("q_batch_stride"),
            JAVA_LONG.withName("q_row_stride"),
            JAVA_LONG.withName("q_head_stride"),
            JAVA_LONG.withName("out_batch_stride"),
            JAVA_LONG.withName("out_row_stride"),
            JAVA_LONG.withName("out_head_stride"),
            JAVA_INT.withName("B"),
            JAVA_INT.withName("NH"),
            JAVA_INT.withName("NKV"),
            JAVA_INT.withName("Tq"),
            JAVA_INT.withName("HS"),
            JAVA_INT.withName("block_size"),
            JAVA_INT.withName("max_blocks_per_seq"),
            JAVA_INT.withName("num_blocks"),
            JAVA_INT.withName("num_splits"),
            JAVA_INT.withName("causal"),
            JAVA_FLOAT.withName("scale"),
            JAVA_INT.withName("num_buckets"),
            JAVA_INT.withName("max_distance"),
            JAVA_INT.withName("bias_bidirectional"),
            JAVA_INT.withName("dtype"),
            JAVA_INT.withName("window"),
            JAVA_INT.withName("split_keys"),
            JAVA_FLOAT.withName("softcap"),
            ADDRESS.withName("sinks"),
            ADDRESS.withName("alibi_slopes"),
            ADDRESS.withName("cu_seqlens_q"))
        .withName("t4j_decode_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long out$OFFSET = offset("out");
    private static final long lse$OFFSET = offset("lse");
    private static final long q$OFFSET = offset("q");
    private static final long k_cache$OFFSET = offset("k_cache");
    private static final long v_cache$OFFSET = offset("v_cache");
    private static final long block_table$OFFSET = offset("block_table");
    private static final long cache_lengths$OFFSET = offset("cache_lengths");
    private static final long workspace_o$OFFSET = offset("workspace_o");
    private static final long workspace_lse$OFFSET = offset("workspace_lse");
    private static final long rel_bias$OFFSET = offset("rel_bias");
    private static final long q_batch_stride$OFFSET = offset("q_batch_stride");
    private static final long q_row_stride$OFFSET = offset("q_row_stride");
    private static final long q_head_stride$OFFSET = offset("q_head_stride");
    private static final long out_batch_stride$OFFSET = offset("out_batch_stride");
    private static final long out_row_stride$OFFSET = offset("out_row_stride");
    private static final long out_head_stride$OFFSET = offset("out_head_stride");
    private static final long B$OFFSET = offset("B");
    private static final long NH$OFFSET = offset("NH");
    private static final long NKV$OFFSET = offset("NKV");
    private static final long Tq$OFFSET = offset("Tq");
    private static final long HS$OFFSET = offset("HS");
    private static final long block_size$OFFSET = offset("block_size");
    private static final long max_blocks_per_seq$OFFSET = offset("max_blocks_per_seq");
    private static final long num_blocks$OFFSET = offset("num_blocks");
    private static final long num_splits$OFFSET = offset("num_splits");
    private static final long causal$OFFSET = offset("causal");
    private static final long scale$OFFSET = offset("scale");
    private static final long num_buckets$OFFSET = offset("num_buckets");
    private static final long max_distance$OFFSET = offset("max_distance");
    private static final long bias_bidirectional$OFFSET = offset("bias_bidirectional");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long window$OFFSET = offset("window");
    private static final long split_keys$OFFSET = offset("split_keys");
    private static final long softcap$OFFSET = offset("softcap");
    private static final long sinks$OFFSET = offset("sinks");
    private static final long alibi_slopes$OFFSET = offset("alibi_slopes");
    private static final long cu_seqlens_q$OFFSET = offset("cu_seqlens_q");

    public static MemorySegment out(MemorySegment s) { return s.get(ADDRESS, out$OFFSET); }
    public static void out(MemorySegment s, MemorySegment v) { s.set(ADDRESS, out$OFFSET, v); }
    public static MemorySegment lse(MemorySegment s) { return s.get(ADDRESS, lse$OFFSET); }
    public static void lse(MemorySegment s, MemorySegment v) { s.set(ADDRESS, lse$OFFSET, v); }
    public static MemorySegment q(MemorySegment s) { return s.get(ADDRESS, q$OFFSET); }
    public static void q(MemorySegment s, MemorySegment v) { s.set(ADDRESS, q$OFFSET, v); }
    public static MemorySegment k_cache(MemorySegment s) { return s.get(ADDRESS, k_cache$OFFSET); }
    public static void k_cache(MemorySegment s, MemorySegment v) { s.set(ADDRESS, k_cache$OFFSET, v); }
    public static MemorySegment v_cache(MemorySegment s) { return s.get(ADDRESS, v_cache$OFFSET); }
    public static void v_cache(MemorySegment s, MemorySegment v) { s.set(ADDRESS, v_cache$OFFSET, v); }
    public static MemorySegment block_table(MemorySegment s) { return s.get(ADDRESS, block_table$OFFSET); }
    public static void block_table(MemorySegment s, MemorySegment v) { s.set(ADDRESS, block_table$OFFSET, v); }
    public static MemorySegment cache_lengths(MemorySegment s) { return s.get(ADDRESS, cache_lengths$OFFSET); }
    public static void cache_lengths(MemorySegment s, MemorySegment v) { s.set(ADDRESS, cache_lengths$OFFSET, v); }
    public static MemorySegment workspace_o(MemorySegment s) { return s.get(ADDRESS, workspace_o$OFFSET); }
    public static void workspace_o(MemorySegment s, MemorySegment v) { s.set(ADDRESS, workspace_o$OFFSET, v); }
    public static MemorySegment workspace_lse(MemorySegment s) { return s.get(ADDRESS, workspace_lse$OFFSET); }
    public static void workspace_lse(MemorySegment s, MemorySegment v) { s.set(ADDRESS, workspace_lse$OFFSET, v); }
    public static MemorySegment rel_bias(MemorySegment s) { return s.get(ADDRESS, rel_bias$OFFSET); }
    public static void rel_bias(MemorySegment s, MemorySegment v) { s.set(ADDRESS, rel_bias$OFFSET, v); }
    public static long q_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, q_batch_stride$OFFSET); }
    public static void q_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, q_batch_stride$OFFSET, v); }
    public static long q_row_stride(MemorySegment s) { return s.get(JAVA_LONG, q_row_stride$OFFSET); }
    public static void q_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, q_row_stride$OFFSET, v); }
    public static long q_head_stride(MemorySegment s) { return s.get(JAVA_LONG, q_head_stride$OFFSET); }
    public static void q_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, q_head_stride$OFFSET, v); }
    public static long out_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, out_batch_stride$OFFSET); }
    public static void out_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_batch_stride$OFFSET, v); }
    public static long out_row_stride(MemorySegment s) { return s.get(JAVA_LONG, out_row_stride$OFFSET); }
    public static void out_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_row_stride$OFFSET, v); }
    public static long out_head_stride(MemorySegment s) { return s.get(JAVA_LONG, out_head_stride$OFFSET); }
    public static void out_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_head_stride$OFFSET, v); }
    public static int B(MemorySegment s) { return s.get(JAVA_INT, B$OFFSET); }
    public static void B(MemorySegment s, int v) { s.set(JAVA_INT, B$OFFSET, v); }
    public static int NH(MemorySegment s) { return s.get(JAVA_INT, NH$OFFSET); }
    public static void NH(MemorySegment s, int v) { s.set(JAVA_INT, NH$OFFSET, v); }
    public static int NKV(MemorySegment s) { return s.get(JAVA_INT, NKV$OFFSET); }
    public static void NKV(MemorySegment s, int v) { s.set(JAVA_INT, NKV$OFFSET, v); }
    public static int Tq(MemorySegment s) { return s.get(JAVA_INT, Tq$OFFSET); }
    public static void Tq(MemorySegment s, int v) { s.set(JAVA_INT, Tq$OFFSET, v); }
    public static int HS(MemorySegment s) { return s.get(JAVA_INT, HS$OFFSET); }
    public static void HS(MemorySegment s, int v) { s.set(JAVA_INT, HS$OFFSET, v); }
    public static int block_size(MemorySegment s) { return s.get(JAVA_INT, block_size$OFFSET); }
    public static void block_size(MemorySegment s, int v) { s.set(JAVA_INT, block_size$OFFSET, v); }
    public static int max_blocks_per_seq(MemorySegment s) { return s.get(JAVA_INT, max_blocks_per_seq$OFFSET); }
    public static void max_blocks_per_seq(MemorySegment s, int v) { s.set(JAVA_INT, max_blocks_per_seq$OFFSET, v); }
    public static int num_blocks(MemorySegment s) { return s.get(JAVA_INT, num_blocks$OFFSET); }
    public static void num_blocks(MemorySegment s, int v) { s.set(JAVA_INT, num_blocks$OFFSET, v); }
    public static int num_splits(MemorySegment s) { return s.get(JAVA_INT, num_splits$OFFSET); }
    public static void num_splits(MemorySegment s, int v) { s.set(JAVA_INT, num_splits$OFFSET, v); }
    public static int causal(MemorySegment s) { return s.get(JAVA_INT, causal$OFFSET); }
    public static void causal(MemorySegment s, int v) { s.set(JAVA_INT, causal$OFFSET, v); }
    public static float scale(MemorySegment s) { return s.get(JAVA_FLOAT, scale$OFFSET); }
    public static void scale(MemorySegment s, float v) { s.set(JAVA_FLOAT, scale$OFFSET, v); }
    public static int num_buckets(MemorySegment s) { return s.get(JAVA_INT, num_buckets$OFFSET); }
    public static void num_buckets(MemorySegment s, int v) { s.set(JAVA_INT, num_buckets$OFFSET, v); }
    public static int max_distance(MemorySegment s) { return s.get(JAVA_INT, max_distance$OFFSET); }
    public static void max_distance(MemorySegment s, int v) { s.set(JAVA_INT, max_distance$OFFSET, v); }
    public static int bias_bidirectional(MemorySegment s) { return s.get(JAVA_INT, bias_bidirectional$OFFSET); }
    public static void bias_bidirectional(MemorySegment s, int v) { s.set(JAVA_INT, bias_bidirectional$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static int window(MemorySegment s) { return s.get(JAVA_INT, window$OFFSET); }
    public static void window(MemorySegment s, int v) { s.set(JAVA_INT, window$OFFSET, v); }
    public static int split_keys(MemorySegment s) { return s.get(JAVA_INT, split_keys$OFFSET); }
    public static void split_keys(MemorySegment s, int v) { s.set(JAVA_INT, split_keys$OFFSET, v); }
    public static float softcap(MemorySegment s) { return s.get(JAVA_FLOAT, softcap$OFFSET); }
    public static void softcap(MemorySegment s, float v) { s.set(JAVA_FLOAT, softcap$OFFSET, v); }
    public static MemorySegment sinks(MemorySegment s) { return s.get(ADDRESS, sinks$OFFSET); }
    public static void sinks(MemorySegment s, MemorySegment v) { s.set(ADDRESS, sinks$OFFSET, v); }
    public static MemorySegment alibi_slopes(MemorySegment s) { return s.get(ADDRESS, alibi_slopes$OFFSET); }
    public static void alibi_slopes(MemorySegment s, MemorySegment v) { s.set(ADDRESS, alibi_slopes$OFFSET, v); }
    /** ABI 17: (B + 1) cumulative query offsets (varlen decode: q, out packed), or NULL. */
    public static MemorySegment cu_seqlens_q(MemorySegment s) { return s.get(ADDRESS, cu_seqlens_q$OFFSET); }
    public static void cu_seqlens_q(MemorySegment s, MemorySegment v) { s.set(ADDRESS, cu_seqlens_q$OFFSET, v); }
}
