// t4j_cross_entropy_params — layout and accessors of struct t4j_cross_entropy_params (cross-entropy per row with an ignore index, native/include/t4j.h),
// in jextract's shape. StructLayoutTest checks it against the offsets libt4j reports.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

@SuppressWarnings("checkstyle:TypeName")
public final class t4j_cross_entropy_params {

    private t4j_cross_entropy_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("losses"),
            ADDRESS.withName("logits"),
            ADDRESS.withName("targets"),
            ADDRESS.withName("error_row"),
            JAVA_LONG.withName("rows"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("logits_row_stride"),
            JAVA_INT.withName("ignore_index"),
            JAVA_INT.withName("dtype"))
        .withName("t4j_cross_entropy_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long losses$OFFSET = offset("losses");
    private static final long logits$OFFSET = offset("logits");
    private static final long targets$OFFSET = offset("targets");
    private static final long error_row$OFFSET = offset("error_row");
    private static final long rows$OFFSET = offset("rows");
    private static final long cols$OFFSET = offset("cols");
    private static final long logits_row_stride$OFFSET = offset("logits_row_stride");
    private static final long ignore_index$OFFSET = offset("ignore_index");
    private static final long dtype$OFFSET = offset("dtype");

    private static final AddressLayout PTR = ADDRESS;

    public static MemorySegment losses(MemorySegment s) { return s.get(PTR, losses$OFFSET); }
    public static void losses(MemorySegment s, MemorySegment v) { s.set(PTR, losses$OFFSET, v); }
    public static MemorySegment logits(MemorySegment s) { return s.get(PTR, logits$OFFSET); }
    public static void logits(MemorySegment s, MemorySegment v) { s.set(PTR, logits$OFFSET, v); }
    public static MemorySegment targets(MemorySegment s) { return s.get(PTR, targets$OFFSET); }
    public static void targets(MemorySegment s, MemorySegment v) { s.set(PTR, targets$OFFSET, v); }
    public static MemorySegment error_row(MemorySegment s) { return s.get(PTR, error_row$OFFSET); }
    public static void error_row(MemorySegment s, MemorySegment v) { s.set(PTR, error_row$OFFSET, v); }
    public static long rows(MemorySegment s) { return s.get(JAVA_LONG, rows$OFFSET); }
    public static void rows(MemorySegment s, long v) { s.set(JAVA_LONG, rows$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long logits_row_stride(MemorySegment s) { return s.get(JAVA_LONG, logits_row_stride$OFFSET); }
    public static void logits_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, logits_row_stride$OFFSET, v); }
    public static int ignore_index(MemorySegment s) { return s.get(JAVA_INT, ignore_index$OFFSET); }
    public static void ignore_index(MemorySegment s, int v) { s.set(JAVA_INT, ignore_index$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
}
