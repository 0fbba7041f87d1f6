// t4j_penalty_params — layout and accessors of struct t4j_penalty_params (repetition / presence / frequency penalties
// and logit bias in place on the logits, native/include/t4j.h), in jextract's shape. StructLayoutTest checks it
// against the offsets libt4j reports.
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
public final class t4j_penalty_params {

    private t4j_penalty_params() {}

    // 4 pointers + 4 longs + 3 floats + 1 int = 80 bytes, every field at its natural alignment: no padding to add.
    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("logits"),
            ADDRESS.withName("ids"),
            ADDRESS.withName("counts"),
            ADDRESS.withName("bias"),
            JAVA_LONG.withName("rows"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("logits_row_stride"),
            JAVA_LONG.withName("width"),
            JAVA_FLOAT.withName("repetition"),
            JAVA_FLOAT.withName("presence"),
            JAVA_FLOAT.withName("frequency"),
            JAVA_INT.withName("dtype"),
            ADDRESS.withName("repetition_rows"),
            ADDRESS.withName("presence_rows"),
            ADDRESS.withName("frequency_rows"))
        .withName("t4j_penalty_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long logits$OFFSET = offset("logits");
    private static final long ids$OFFSET = offset("ids");
    private static final long counts$OFFSET = offset("counts");
    private static final long bias$OFFSET = offset("bias");
    private static final long rows$OFFSET = offset("rows");
    private static final long cols$OFFSET = offset("cols");
    private static final long logits_row_stride$OFFSET = offset("logits_row_stride");
    private static final long width$OFFSET = offset("width");
    private static final long repetition$OFFSET = offset("repetition");
    private static final long presence$OFFSET = offset("presence");
    private static final long frequency$OFFSET = offset("frequency");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long repetition_rows$OFFSET = offset("repetition_rows");
    private static final long presence_rows$OFFSET = offset("presence_rows");
    private static final long frequency_rows$OFFSET = offset("frequency_rows");

    public static MemorySegment logits(MemorySegment s) { return s.get(ADDRESS, logits$OFFSET); }
    public static void logits(MemorySegment s, MemorySegment v) { s.set(ADDRESS, logits$OFFSET, v); }
    public static MemorySegment ids(MemorySegment s) { return s.get(ADDRESS, ids$OFFSET); }
    public static void ids(MemorySegment s, MemorySegment v) { s.set(ADDRESS, ids$OFFSET, v); }
    public static MemorySegment counts(MemorySegment s) { return s.get(ADDRESS, counts$OFFSET); }
    public static void counts(MemorySegment s, MemorySegment v) { s.set(ADDRESS, counts$OFFSET, v); }
    public static MemorySegment bias(MemorySegment s) { return s.get(ADDRESS, bias$OFFSET); }
    public static void bias(MemorySegment s, MemorySegment v) { s.set(ADDRESS, bias$OFFSET, v); }
    public static long rows(MemorySegment s) { return s.get(JAVA_LONG, rows$OFFSET); }
    public static void rows(MemorySegment s, long v) { s.set(JAVA_LONG, rows$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long logits_row_stride(MemorySegment s) { return s.get(JAVA_LONG, logits_row_stride$OFFSET); }
    public static void logits_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, logits_row_stride$OFFSET, v); }
    public static long width(MemorySegment s) { return s.get(JAVA_LONG, width$OFFSET); }
    public static void width(MemorySegment s, long v) { s.set(JAVA_LONG, width$OFFSET, v); }
    public static float repetition(MemorySegment s) { return s.get(JAVA_FLOAT, repetition$OFFSET); }
    public static void repetition(MemorySegment s, float v) { s.set(JAVA_FLOAT, repetition$OFFSET, v); }
    public static float presence(MemorySegment s) { return s.get(JAVA_FLOAT, presence$OFFSET); }
    public static void presence(MemorySegment s, float v) { s.set(JAVA_FLOAT, presence$OFFSET, v); }
    public static float frequency(MemorySegment s) { return s.get(JAVA_FLOAT, frequency$OFFSET); }
    public static void frequency(MemorySegment s, float v) { s.set(JAVA_FLOAT, frequency$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static MemorySegment repetition_rows(MemorySegment s) { return s.get(ADDRESS, repetition_rows$OFFSET); }
    public static void repetition_rows(MemorySegment s, MemorySegment v) { s.set(ADDRESS, repetition_rows$OFFSET, v); }
    public static MemorySegment presence_rows(MemorySegment s) { return s.get(ADDRESS, presence_rows$OFFSET); }
    public static void presence_rows(MemorySegment s, MemorySegment v) { s.set(ADDRESS, presence_rows$OFFSET, v); }
    public static MemorySegment frequency_rows(MemorySegment s) { return s.get(ADDRESS, frequency_rows$OFFSET); }
    public static void frequency_rows(MemorySegment s, MemorySegment v) { s.set(ADDRESS, frequency_rows$OFFSET, v); }
}
