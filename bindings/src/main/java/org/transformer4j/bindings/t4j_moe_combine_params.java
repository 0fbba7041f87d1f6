// t4j_moe_combine_params — layout and accessors of struct t4j_moe_combine_params (the mixture-of-experts combine, ABI 9, native/include/t4j.h),
// in jextract's shape. StructLayoutTest checks it against the offsets libt4j reports.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

@SuppressWarnings("checkstyle:TypeName")
public final class t4j_moe_combine_params {

    private t4j_moe_combine_params() {}

    // 7 pointers, 8 int64, 2 int32 = 128 bytes, every field at its natural alignment: no padding to add.
    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("out"),
            ADDRESS.withName("y"),
            ADDRESS.withName("slots"),
            ADDRESS.withName("weights"),
            ADDRESS.withName("residual"),
            ADDRESS.withName("shared"),
            ADDRESS.withName("shared_gate"),
            JAVA_LONG.withName("tokens"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("slot_rows"),
            JAVA_LONG.withName("out_row_stride"),
            JAVA_LONG.withName("y_row_stride"),
            JAVA_LONG.withName("residual_row_stride"),
            JAVA_LONG.withName("shared_row_stride"),
            JAVA_LONG.withName("shared_gate_stride"),
            JAVA_INT.withName("top_k"),
            JAVA_INT.withName("dtype"))
        .withName("t4j_moe_combine_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long out$OFFSET = offset("out");
    private static final long y$OFFSET = offset("y");
    private static final long slots$OFFSET = offset("slots");
    private static final long weights$OFFSET = offset("weights");
    private static final long residual$OFFSET = offset("residual");
    private static final long shared$OFFSET = offset("shared");
    private static final long shared_gate$OFFSET = offset("shared_gate");
    private static final long tokens$OFFSET = offset("tokens");
    private static final long cols$OFFSET = offset("cols");
    private static final long slot_rows$OFFSET = offset("slot_rows");
    private static final long out_row_stride$OFFSET = offset("out_row_stride");
    private static final long y_row_stride$OFFSET = offset("y_row_stride");
    private static final long residual_row_stride$OFFSET = offset("residual_row_stride");
    private static final long shared_row_stride$OFFSET = offset("shared_row_stride");
    private static final long shared_gate_stride$OFFSET = offset("shared_gate_stride");
    private static final long top_k$OFFSET = offset("top_k");
    private static final long dtype$OFFSET = offset("dtype");

    public static MemorySegment out(MemorySegment s) { return s.get(ADDRESS, out$OFFSET); }
    public static void out(MemorySegment s, MemorySegment v) { s.set(ADDRESS, out$OFFSET, v); }
    public static MemorySegment y(MemorySegment s) { return s.get(ADDRESS, y$OFFSET); }
    public static void y(MemorySegment s, MemorySegment v) { s.set(ADDRESS, y$OFFSET, v); }
    public static MemorySegment slots(MemorySegment s) { return s.get(ADDRESS, slots$OFFSET); }
    public static void slots(MemorySegment s, MemorySegment v) { s.set(ADDRESS, slots$OFFSET, v); }
    public static MemorySegment weights(MemorySegment s) { return s.get(ADDRESS, weights$OFFSET); }
    public static void weights(MemorySegment s, MemorySegment v) { s.set(ADDRESS, weights$OFFSET, v); }
    public static MemorySegment residual(MemorySegment s) { return s.get(ADDRESS, residual$OFFSET); }
    public static void residual(MemorySegment s, MemorySegment v) { s.set(ADDRESS, residual$OFFSET, v); }
    public static MemorySegment shared(MemorySegment s) { return s.get(ADDRESS, shared$OFFSET); }
    public static void shared(MemorySegment s, MemorySegment v) { s.set(ADDRESS, shared$OFFSET, v); }
    public static MemorySegment shared_gate(MemorySegment s) { return s.get(ADDRESS, shared_gate$OFFSET); }
    public static void shared_gate(MemorySegment s, MemorySegment v) { s.set(ADDRESS, shared_gate$OFFSET, v); }
    public static long tokens(MemorySegment s) { return s.get(JAVA_LONG, tokens$OFFSET); }
    public static void tokens(MemorySegment s, long v) { s.set(JAVA_LONG, tokens$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long slot_rows(MemorySegment s) { return s.get(JAVA_LONG, slot_rows$OFFSET); }
    public static void slot_rows(MemorySegment s, long v) { s.set(JAVA_LONG, slot_rows$OFFSET, v); }
    public static long out_row_stride(MemorySegment s) { return s.get(JAVA_LONG, out_row_stride$OFFSET); }
    public static void out_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_row_stride$OFFSET, v); }
    public static long y_row_stride(MemorySegment s) { return s.get(JAVA_LONG, y_row_stride$OFFSET); }
    public static void y_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, y_row_stride$OFFSET, v); }
    public static long residual_row_stride(MemorySegment s) { return s.get(JAVA_LONG, residual_row_stride$OFFSET); }
    public static void residual_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, residual_row_stride$OFFSET, v); }
    public static long shared_row_stride(MemorySegment s) { return s.get(JAVA_LONG, shared_row_stride$OFFSET); }
    public static void shared_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, shared_row_stride$OFFSET, v); }
    public static long shared_gate_stride(MemorySegment s) { return s.get(JAVA_LONG, shared_gate_stride$OFFSET); }
    public static void shared_gate_stride(MemorySegment s, long v) { s.set(JAVA_LONG, shared_gate_stride$OFFSET, v); }
    public static int top_k(MemorySegment s) { return s.get(JAVA_INT, top_k$OFFSET); }
    public static void top_k(MemorySegment s, int v) { s.set(JAVA_INT, top_k$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
}
