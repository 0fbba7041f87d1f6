// t4j_sample_row — layout and accessors of struct t4j_sample_row (one row's sampling parameters in
// t4j_sample_params.row_params, ABI 13, native/include/t4j.h), in jextract's shape. StructLayoutTest checks it
// against the offsets libt4j reports.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

@SuppressWarnings("checkstyle:TypeName")
public final class t4j_sample_row {

    private t4j_sample_row() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("seed"),
            JAVA_LONG.withName("offset"),
            JAVA_FLOAT.withName("temperature"),
            JAVA_FLOAT.withName("top_p"),
            JAVA_INT.withName("top_k"),
            JAVA_FLOAT.withName("min_p"))
        .withName("t4j_sample_row");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    /** An array of {@code count} structs. */
    public static MemorySegment allocateArray(long count, SegmentAllocator allocator) {
        return allocator.allocate(MemoryLayout.sequenceLayout(count, $LAYOUT));
    }

    /** Element {@code index} of an array of structs. */
    public static MemorySegment asSlice(MemorySegment array, long index) { return array.asSlice(index * sizeof(), sizeof()); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long seed$OFFSET = offset("seed");
    private static final long offset$OFFSET = offset("offset");
    private static final long temperature$OFFSET = offset("temperature");
    private static final long top_p$OFFSET = offset("top_p");
    private static final long top_k$OFFSET = offset("top_k");
    private static final long min_p$OFFSET = offset("min_p");

    public static long seed(MemorySegment s) { return s.get(JAVA_LONG, seed$OFFSET); }
    public static void seed(MemorySegment s, long v) { s.set(JAVA_LONG, seed$OFFSET, v); }
    public static long offset(MemorySegment s) { return s.get(JAVA_LONG, offset$OFFSET); }
    public static void offset(MemorySegment s, long v) { s.set(JAVA_LONG, offset$OFFSET, v); }
    public static float temperature(MemorySegment s) { return s.get(JAVA_FLOAT, temperature$OFFSET); }
    public static void temperature(MemorySegment s, float v) { s.set(JAVA_FLOAT, temperature$OFFSET, v); }
    public static float top_p(MemorySegment s) { return s.get(JAVA_FLOAT, top_p$OFFSET); }
    public static void top_p(MemorySegment s, float v) { s.set(JAVA_FLOAT, top_p$OFFSET, v); }
    public static int top_k(MemorySegment s) { return s.get(JAVA_INT, top_k$OFFSET); }
    public static void top_k(MemorySegment s, int v) { s.set(JAVA_INT, top_k$OFFSET, v); }
    public static float min_p(MemorySegment s) { return s.get(JAVA_FLOAT, min_p$OFFSET); }
    public static void min_p(MemorySegment s, float v) { s.set(JAVA_FLOAT, min_p$OFFSET, v); }
}
