// t4j_softcap_params — layout and accessors of struct t4j_softcap_params (final logit soft-capping parameters,
// native/include/t4j.h), in jextract's shape. StructLayoutTest checks it against the offsets libt4j reports.
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
public final class t4j_softcap_params {

    private t4j_softcap_params() {}

    // 8 + 8 + 4 + 4 = 24 bytes, every field at its natural alignment: no padding to add.
    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("x"),
            JAVA_LONG.withName("n"),
            JAVA_FLOAT.withName("cap"),
            JAVA_INT.withName("dtype"))
        .withName("t4j_softcap_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long x$OFFSET = offset("x");
    private static final long n$OFFSET = offset("n");
    private static final long cap$OFFSET = offset("cap");
    private static final long dtype$OFFSET = offset("dtype");

    public static MemorySegment x(MemorySegment s) { return s.get(ADDRESS, x$OFFSET); }
    public static void x(MemorySegment s, MemorySegment v) { s.set(ADDRESS, x$OFFSET, v); }
    public static long n(MemorySegment s) { return s.get(JAVA_LONG, n$OFFSET); }
    public static void n(MemorySegment s, long v) { s.set(JAVA_LONG, n$OFFSET, v); }
    public static float cap(MemorySegment s) { return s.get(JAVA_FLOAT, cap$OFFSET); }
    public static void cap(MemorySegment s, float v) { s.set(JAVA_FLOAT, cap$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
}
