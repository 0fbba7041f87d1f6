// t4j_mask_params — layout and accessors of struct t4j_mask_params (structured outputs' token mask,
// native/include/t4j.h, ABI 12), in jextract's shape. StructLayoutTest checks it against the offsets libt4j reports.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

@SuppressWarnings("checkstyle:TypeName")
public final class t4j_mask_params {

    private t4j_mask_params() {}

    // 8 + 8 + 4 × 8 + 4 + 4 = 56 bytes, every field at its natural alignment: no padding to add.
    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("logits"),
            ADDRESS.withName("allowed"),
            JAVA_LONG.withName("rows"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("logits_row_stride"),
            JAVA_LONG.withName("allowed_row_stride"),
            JAVA_INT.withName("dtype"),
            JAVA_INT.withName("reserved"))
        .withName("t4j_mask_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long logits$OFFSET = offset("logits");
    private static final long allowed$OFFSET = offset("allowed");
    private static final long rows$OFFSET = offset("rows");
    private static final long cols$OFFSET = offset("cols");
    private static final long logits_row_stride$OFFSET = offset("logits_row_stride");
    private static final long allowed_row_stride$OFFSET = offset("allowed_row_stride");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long reserved$OFFSET = offset("reserved");

    public static MemorySegment logits(MemorySegment s) { return s.get(ADDRESS, logits$OFFSET); }
    public static void logits(MemorySegment s, MemorySegment v) { s.set(ADDRESS, logits$OFFSET, v); }
    public static MemorySegment allowed(MemorySegment s) { return s.get(ADDRESS, allowed$OFFSET); }
    public static void allowed(MemorySegment s, MemorySegment v) { s.set(ADDRESS, allowed$OFFSET, v); }
    public static long rows(MemorySegment s) { return s.get(JAVA_LONG, rows$OFFSET); }
    public static void rows(MemorySegment s, long v) { s.set(JAVA_LONG, rows$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long logits_row_stride(MemorySegment s) { return s.get(JAVA_LONG, logits_row_stride$OFFSET); }
    public static void logits_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, logits_row_stride$OFFSET, v); }
    public static long allowed_row_stride(MemorySegment s) { return s.get(JAVA_LONG, allowed_row_stride$OFFSET); }
    public static void allowed_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, allowed_row_stride$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static int reserved(MemorySegment s) { return s.get(JAVA_INT, reserved$OFFSET); }
    public static void reserved(MemorySegment s, int v) { s.set(JAVA_INT, reserved$OFFSET, v); }
}
