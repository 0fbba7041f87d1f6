// t4j_embedding_params — layout and accessors of struct t4j_embedding_params (the fused embedding gather, native/include/t4j.h),
// in jextract's shape. StructLayoutTest checks it against the offsets libt4j reports.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

@SuppressWarnings("checkstyle:TypeName")
public final class t4j_embedding_params {

    private t4j_embedding_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("out"),
            ADDRESS.withName("ids"),
            ADDRESS.withName("token_table"),
            ADDRESS.withName("position_table"),
            ADDRESS.withName("type_ids"),
            ADDRESS.withName("type_table"),
            ADDRESS.withName("error_row"),
            ADDRESS.withName("positions"),
            JAVA_LONG.withName("rows"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("seq_len"),
            JAVA_LONG.withName("position_offset"),
            JAVA_LONG.withName("vocab"),
            JAVA_LONG.withName("max_positions"),
            JAVA_LONG.withName("type_vocab"),
            JAVA_LONG.withName("out_row_stride"),
            JAVA_INT.withName("dtype"),
            JAVA_FLOAT.withName("token_scale"))
        .withName("t4j_embedding_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long out$OFFSET = offset("out");
    private static final long ids$OFFSET = offset("ids");
    private static final long token_table$OFFSET = offset("token_table");
    private static final long position_table$OFFSET = offset("position_table");
    private static final long type_ids$OFFSET = offset("type_ids");
    private static final long type_table$OFFSET = offset("type_table");
    private static final long error_row$OFFSET = offset("error_row");
    private static final long positions$OFFSET = offset("positions");
    private static final long rows$OFFSET = offset("rows");
    private static final long cols$OFFSET = offset("cols");
    private static final long seq_len$OFFSET = offset("seq_len");
    private static final long position_offset$OFFSET = offset("position_offset");
    private static final long vocab$OFFSET = offset("vocab");
    private static final long max_positions$OFFSET = offset("max_positions");
    private static final long type_vocab$OFFSET = offset("type_vocab");
    private static final long out_row_stride$OFFSET = offset("out_row_stride");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long token_scale$OFFSET = offset("token_scale");

    private static final AddressLayout PTR = ADDRESS;

    public static MemorySegment out(MemorySegment s) { return s.get(PTR, out$OFFSET); }
    public static void out(MemorySegment s, MemorySegment v) { s.set(PTR, out$OFFSET, v); }
    public static MemorySegment ids(MemorySegment s) { return s.get(PTR, ids$OFFSET); }
    public static void ids(MemorySegment s, MemorySegment v) { s.set(PTR, ids$OFFSET, v); }
    public static MemorySegment token_table(MemorySegment s) { return s.get(PTR, token_table$OFFSET); }
    public static void token_table(MemorySegment s, MemorySegment v) { s.set(PTR, token_table$OFFSET, v); }
    public static MemorySegment position_table(MemorySegment s) { return s.get(PTR, position_table$OFFSET); }
    public static void position_table(MemorySegment s, MemorySegment v) { s.set(PTR, position_table$OFFSET, v); }
    public static MemorySegment type_ids(MemorySegment s) { return s.get(PTR, type_ids$OFFSET); }
    public static void type_ids(MemorySegment s, MemorySegment v) { s.set(PTR, type_ids$OFFSET, v); }
    public static MemorySegment type_table(MemorySegment s) { return s.get(PTR, type_table$OFFSET); }
    public static void type_table(MemorySegment s, MemorySegment v) { s.set(PTR, type_table$OFFSET, v); }
    public static MemorySegment error_row(MemorySegment s) { return s.get(PTR, error_row$OFFSET); }
    public static void error_row(MemorySegment s, MemorySegment v) { s.set(PTR, error_row$OFFSET, v); }
    public static MemorySegment positions(MemorySegment s) { return s.get(PTR, positions$OFFSET); }
    public static void positions(MemorySegment s, MemorySegment v) { s.set(PTR, positions$OFFSET, v); }
    public static long rows(MemorySegment s) { return s.get(JAVA_LONG, rows$OFFSET); }
    public static void rows(MemorySegment s, long v) { s.set(JAVA_LONG, rows$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long seq_len(MemorySegment s) { return s.get(JAVA_LONG, seq_len$OFFSET); }
    public static void seq_len(MemorySegment s, long v) { s.set(JAVA_LONG, seq_len$OFFSET, v); }
    public static long position_offset(MemorySegment s) { return s.get(JAVA_LONG, position_offset$OFFSET); }
    public static void position_offset(MemorySegment s, long v) { s.set(JAVA_LONG, position_offset$OFFSET, v); }
    public static long vocab(MemorySegment s) { return s.get(JAVA_LONG, vocab$OFFSET); }
    public static void vocab(MemorySegment s, long v) { s.set(JAVA_LONG, vocab$OFFSET, v); }
    public static long max_positions(MemorySegment s) { return s.get(JAVA_LONG, max_positions$OFFSET); }
    public static void max_positions(MemorySegment s, long v) { s.set(JAVA_LONG, max_positions$OFFSET, v); }
    public static long type_vocab(MemorySegment s) { return s.get(JAVA_LONG, type_vocab$OFFSET); }
    public static void type_vocab(MemorySegment s, long v) { s.set(JAVA_LONG, type_vocab$OFFSET, v); }
    public static long out_row_stride(MemorySegment s) { return s.get(JAVA_LONG, out_row_stride$OFFSET); }
    public static void out_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_row_stride$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static float token_scale(MemorySegment s) { return s.get(JAVA_FLOAT, token_scale$OFFSET); }
    public static void token_scale(MemorySegment s, float v) { s.set(JAVA_FLOAT, token_scale$OFFSET, v); }
}
