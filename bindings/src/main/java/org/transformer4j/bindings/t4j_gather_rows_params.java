// t4j_gather_rows_params — layout and accessors of struct t4j_gather_rows_params (row gather by device indices, ABI 9; identity rows and widening to F32, ABI 20; native/include/t4j.h),
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
public final class t4j_gather_rows_params {

    private t4j_gather_rows_params() {}

    // 3 pointers, 5 int64, 2 int32 = 72 bytes, every field at its natural alignment: no padding to add.
    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("out"),
            ADDRESS.withName("x"),
            ADDRESS.withName("rows"),
            JAVA_LONG.withName("n"),
            JAVA_LONG.withName("x_rows"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("out_row_stride"),
            JAVA_LONG.withName("x_row_stride"),
            JAVA_INT.withName("dtype"),
            JAVA_INT.withName("widen"))
        .withName("t4j_gather_rows_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long out$OFFSET = offset("out");
    private static final long x$OFFSET = offset("x");
    private static final long rows$OFFSET = offset("rows");
    private static final long n$OFFSET = offset("n");
    private static final long x_rows$OFFSET = offset("x_rows");
    private static final long cols$OFFSET = offset("cols");
    private static final long out_row_stride$OFFSET = offset("out_row_stride");
    private static final long x_row_stride$OFFSET = offset("x_row_stride");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long widen$OFFSET = offset("widen");

    public static MemorySegment out(MemorySegment s) { return s.get(ADDRESS, out$OFFSET); }
    public static void out(MemorySegment s, MemorySegment v) { s.set(ADDRESS, out$OFFSET, v); }
    public static MemorySegment x(MemorySegment s) { return s.get(ADDRESS, x$OFFSET); }
    public static void x(MemorySegment s, MemorySegment v) { s.set(ADDRESS, x$OFFSET, v); }
    public static MemorySegment rows(MemorySegment s) { return s.get(ADDRESS, rows$OFFSET); }
    public static void rows(MemorySegment s, MemorySegment v) { s.set(ADDRESS, rows$OFFSET, v); }
    public static long n(MemorySegment s) { return s.get(JAVA_LONG, n$OFFSET); }
    public static void n(MemorySegment s, long v) { s.set(JAVA_LONG, n$OFFSET, v); }
    public static long x_rows(MemorySegment s) { return s.get(JAVA_LONG, x_rows$OFFSET); }
    public static void x_rows(MemorySegment s, long v) { s.set(JAVA_LONG, x_rows$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long out_row_stride(MemorySegment s) { return s.get(JAVA_LONG, out_row_stride$OFFSET); }
    public static void out_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_row_stride$OFFSET, v); }
    public static long x_row_stride(MemorySegment s) { return s.get(JAVA_LONG, x_row_stride$OFFSET); }
    public static void x_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, x_row_stride$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static int widen(MemorySegment s) { return s.get(JAVA_INT, widen$OFFSET); }
    public static void widen(MemorySegment s, int v) { s.set(JAVA_INT, widen$OFFSET, v); }
}
