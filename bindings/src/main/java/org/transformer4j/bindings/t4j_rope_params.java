// t4j_rope_params — layout and accessors of struct t4j_rope_params (rotary position embedding parameters, native/include/t4j.h),
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
public final class t4j_rope_params {

    private t4j_rope_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("x"),
            ADDRESS.withName("positions"),
            ADDRESS.withName("inv_freq"),
            ADDRESS.withName("seq_lens"),
            JAVA_LONG.withName("x_batch_stride"),
            JAVA_LONG.withName("x_row_stride"),
            JAVA_LONG.withName("x_head_stride"),
            JAVA_INT.withName("B"),
            JAVA_INT.withName("T"),
            JAVA_INT.withName("H"),
            JAVA_INT.withName("HS"),
            JAVA_INT.withName("rotary_dim"),
            JAVA_INT.withName("dynamic"),
            JAVA_FLOAT.withName("base"),
            JAVA_FLOAT.withName("factor"),
            JAVA_INT.withName("max_positions"),
            JAVA_INT.withName("dtype"),
            JAVA_FLOAT.withName("attention_scaling"),
            JAVA_INT.withName("reserved"))
        .withName("t4j_rope_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long x$OFFSET = offset("x");
    private static final long positions$OFFSET = offset("positions");
    private static final long inv_freq$OFFSET = offset("inv_freq");
    private static final long seq_lens$OFFSET = offset("seq_lens");
    private static final long x_batch_stride$OFFSET = offset("x_batch_stride");
    private static final long x_row_stride$OFFSET = offset("x_row_stride");
    private static final long x_head_stride$OFFSET = offset("x_head_stride");
    private static final long B$OFFSET = offset("B");
    private static final long T$OFFSET = offset("T");
    private static final long H$OFFSET = offset("H");
    private static final long HS$OFFSET = offset("HS");
    private static final long rotary_dim$OFFSET = offset("rotary_dim");
    private static final long dynamic$OFFSET = offset("dynamic");
    private static final long base$OFFSET = offset("base");
    private static final long factor$OFFSET = offset("factor");
    private static final long max_positions$OFFSET = offset("max_positions");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long attention_scaling$OFFSET = offset("attention_scaling");
    private static final long reserved$OFFSET = offset("reserved");

    public static MemorySegment x(MemorySegment s) { return s.get(ADDRESS, x$OFFSET); }
    public static void x(MemorySegment s, MemorySegment v) { s.set(ADDRESS, x$OFFSET, v); }
    public static MemorySegment positions(MemorySegment s) { return s.get(ADDRESS, positions$OFFSET); }
    public static void positions(MemorySegment s, MemorySegment v) { s.set(ADDRESS, positions$OFFSET, v); }
    public static MemorySegment inv_freq(MemorySegment s) { return s.get(ADDRESS, inv_freq$OFFSET); }
    public static void inv_freq(MemorySegment s, MemorySegment v) { s.set(ADDRESS, inv_freq$OFFSET, v); }
    public static MemorySegment seq_lens(MemorySegment s) { return s.get(ADDRESS, seq_lens$OFFSET); }
    public static void seq_lens(MemorySegment s, MemorySegment v) { s.set(ADDRESS, seq_lens$OFFSET, v); }
    public static long x_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, x_batch_stride$OFFSET); }
    public static void x_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, x_batch_stride$OFFSET, v); }
    public static long x_row_stride(MemorySegment s) { return s.get(JAVA_LONG, x_row_stride$OFFSET); }
    public static void x_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, x_row_stride$OFFSET, v); }
    public static long x_head_stride(MemorySegment s) { return s.get(JAVA_LONG, x_head_stride$OFFSET); }
    public static void x_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, x_head_stride$OFFSET, v); }
    public static int B(MemorySegment s) { return s.get(JAVA_INT, B$OFFSET); }
    public static void B(MemorySegment s, int v) { s.set(JAVA_INT, B$OFFSET, v); }
    public static int T(MemorySegment s) { return s.get(JAVA_INT, T$OFFSET); }
    public static void T(MemorySegment s, int v) { s.set(JAVA_INT, T$OFFSET, v); }
    public static int H(MemorySegment s) { return s.get(JAVA_INT, H$OFFSET); }
    public static void H(MemorySegment s, int v) { s.set(JAVA_INT, H$OFFSET, v); }
    public static int HS(MemorySegment s) { return s.get(JAVA_INT, HS$OFFSET); }
    public static void HS(MemorySegment s, int v) { s.set(JAVA_INT, HS$OFFSET, v); }
    public static int rotary_dim(MemorySegment s) { return s.get(JAVA_INT, rotary_dim$OFFSET); }
    public static void rotary_dim(MemorySegment s, int v) { s.set(JAVA_INT, rotary_dim$OFFSET, v); }
    public static int dynamic(MemorySegment s) { return s.get(JAVA_INT, dynamic$OFFSET); }
    public static void dynamic(MemorySegment s, int v) { s.set(JAVA_INT, dynamic$OFFSET, v); }
    public static float base(MemorySegment s) { return s.get(JAVA_FLOAT, base$OFFSET); }
    public static void base(MemorySegment s, float v) { s.set(JAVA_FLOAT, base$OFFSET, v); }
    public static float factor(MemorySegment s) { return s.get(JAVA_FLOAT, factor$OFFSET); }
    public static void factor(MemorySegment s, float v) { s.set(JAVA_FLOAT, factor$OFFSET, v); }
    public static int max_positions(MemorySegment s) { return s.get(JAVA_INT, max_positions$OFFSET); }
    public static void max_positions(MemorySegment s, int v) { s.set(JAVA_INT, max_positions$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static float attention_scaling(MemorySegment s) { return s.get(JAVA_FLOAT, attention_scaling$OFFSET); }
    public static void attention_scaling(MemorySegment s, float v) { s.set(JAVA_FLOAT, attention_scaling$OFFSET, v); }
    public static int reserved(MemorySegment s) { return s.get(JAVA_INT, reserved$OFFSET); }
    public static void reserved(MemorySegment s, int v) { s.set(JAVA_INT, reserved$OFFSET, v); }
}
