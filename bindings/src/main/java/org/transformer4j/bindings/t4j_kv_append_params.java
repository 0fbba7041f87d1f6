// t4j_kv_append_params — layout and accessors of struct t4j_kv_append_params (paged KV-cache append parameters, native/include/t4j.h),
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
public final class t4j_kv_append_params {

    private t4j_kv_append_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("k_cache"),
            ADDRESS.withName("v_cache"),
            ADDRESS.withName("k"),
            ADDRESS.withName("v"),
            ADDRESS.withName("block_table"),
            ADDRESS.withName("cache_lengths"),
            JAVA_LONG.withName("k_batch_stride"),
            JAVA_LONG.withName("k_row_stride"),
            JAVA_LONG.withName("k_head_stride"),
            JAVA_LONG.withName("v_batch_stride"),
            JAVA_LONG.withName("v_row_stride"),
            JAVA_LONG.withName("v_head_stride"),
            JAVA_INT.withName("B"),
            JAVA_INT.withName("Tnew"),
            JAVA_INT.withName("NKV"),
            JAVA_INT.withName("HS"),
            JAVA_INT.withName("block_size"),
            JAVA_INT.withName("max_blocks_per_seq"),
            JAVA_INT.withName("num_blocks"),
            JAVA_INT.withName("dtype"),
            ADDRESS.withName("cu_seqlens"))
        .withName("t4j_kv_append_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long k_cache$OFFSET = offset("k_cache");
    private static final long v_cache$OFFSET = offset("v_cache");
    private static final long k$OFFSET = offset("k");
    private static final long v$OFFSET = offset("v");
    private static final long block_table$OFFSET = offset("block_table");
    private static final long cache_lengths$OFFSET = offset("cache_lengths");
    private static final long k_batch_stride$OFFSET = offset("k_batch_stride");
    private static final long k_row_stride$OFFSET = offset("k_row_stride");
    private static final long k_head_stride$OFFSET = offset("k_head_stride");
    private static final long v_batch_stride$OFFSET = offset("v_batch_stride");
    private static final long v_row_stride$OFFSET = offset("v_row_stride");
    private static final long v_head_stride$OFFSET = offset("v_head_stride");
    private static final long B$OFFSET = offset("B");
    private static final long Tnew$OFFSET = offset("Tnew");
    private static final long NKV$OFFSET = offset("NKV");
    private static final long HS$OFFSET = offset("HS");
    private static final long block_size$OFFSET = offset("block_size");
    private static final long max_blocks_per_seq$OFFSET = offset("max_blocks_per_seq");
    private static final long num_blocks$OFFSET = offset("num_blocks");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long cu_seqlens$OFFSET = offset("cu_seqlens");

    public static MemorySegment k_cache(MemorySegment s) { return s.get(ADDRESS, k_cache$OFFSET); }
    public static void k_cache(MemorySegment s, MemorySegment v) { s.set(ADDRESS, k_cache$OFFSET, v); }
    public static MemorySegment v_cache(MemorySegment s) { return s.get(ADDRESS, v_cache$OFFSET); }
    public static void v_cache(MemorySegment s, MemorySegment v) { s.set(ADDRESS, v_cache$OFFSET, v); }
    public static MemorySegment k(MemorySegment s) { return s.get(ADDRESS, k$OFFSET); }
    public static void k(MemorySegment s, MemorySegment v) { s.set(ADDRESS, k$OFFSET, v); }
    public static MemorySegment v(MemorySegment s) { return s.get(ADDRESS, v$OFFSET); }
    public static void v(MemorySegment s, MemorySegment v) { s.set(ADDRESS, v$OFFSET, v); }
    public static MemorySegment block_table(MemorySegment s) { return s.get(ADDRESS, block_table$OFFSET); }
    public static void block_table(MemorySegment s, MemorySegment v) { s.set(ADDRESS, block_table$OFFSET, v); }
    public static MemorySegment cache_lengths(MemorySegment s) { return s.get(ADDRESS, cache_lengths$OFFSET); }
    public static void cache_lengths(MemorySegment s, MemorySegment v) { s.set(ADDRESS, cache_lengths$OFFSET, v); }
    public static long k_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, k_batch_stride$OFFSET); }
    public static void k_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, k_batch_stride$OFFSET, v); }
    public static long k_row_stride(MemorySegment s) { return s.get(JAVA_LONG, k_row_stride$OFFSET); }
    public static void k_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, k_row_stride$OFFSET, v); }
    public static long k_head_stride(MemorySegment s) { return s.get(JAVA_LONG, k_head_stride$OFFSET); }
    public static void k_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, k_head_stride$OFFSET, v); }
    public static long v_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, v_batch_stride$OFFSET); }
    public static void v_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, v_batch_stride$OFFSET, v); }
    public static long v_row_stride(MemorySegment s) { return s.get(JAVA_LONG, v_row_stride$OFFSET); }
    public static void v_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, v_row_stride$OFFSET, v); }
    public static long v_head_stride(MemorySegment s) { return s.get(JAVA_LONG, v_head_stride$OFFSET); }
    public static void v_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, v_head_stride$OFFSET, v); }
    public static int B(MemorySegment s) { return s.get(JAVA_INT, B$OFFSET); }
    public static void B(MemorySegment s, int v) { s.set(JAVA_INT, B$OFFSET, v); }
    public static int Tnew(MemorySegment s) { return s.get(JAVA_INT, Tnew$OFFSET); }
    public static void Tnew(MemorySegment s, int v) { s.set(JAVA_INT, Tnew$OFFSET, v); }
    public static int NKV(MemorySegment s) { return s.get(JAVA_INT, NKV$OFFSET); }
    public static void NKV(MemorySegment s, int v) { s.set(JAVA_INT, NKV$OFFSET, v); }
    public static int HS(MemorySegment s) { return s.get(JAVA_INT, HS$OFFSET); }
    public static void HS(MemorySegment s, int v) { s.set(JAVA_INT, HS$OFFSET, v); }
    public static int block_size(MemorySegment s) { return s.get(JAVA_INT, block_size$OFFSET); }
    public static void block_size(MemorySegment s, int v) { s.set(JAVA_INT, block_size$OFFSET, v); }
    public static int max_blocks_per_seq(MemorySegment s) { return s.get(JAVA_INT, max_blocks_per_seq$OFFSET); }
    public static void max_blocks_per_seq(MemorySegment s, int v) { s.set(JAVA_INT, max_blocks_per_seq$OFFSET, v); }
    public static int num_blocks(MemorySegment s) { return s.get(JAVA_INT, num_blocks$OFFSET); }
    public static void num_blocks(MemorySegment s, int v) { s.set(JAVA_INT, num_blocks$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    /** ABI 17: (B + 1) cumulative new-row offsets (varlen append), or NULL. */
    public static MemorySegment cu_seqlens(MemorySegment s) { return s.get(ADDRESS, cu_seqlens$OFFSET); }
    public static void cu_seqlens(MemorySegment s, MemorySegment v) { s.set(ADDRESS, cu_seqlens$OFFSET, v); }
}
