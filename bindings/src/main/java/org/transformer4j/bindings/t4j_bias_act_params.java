// t4j_bias_act_params — layout and accessors of struct t4j_bias_act_params (the stand-alone MLP epilogue, native/include/t4j.h),
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
public final class t4j_bias_act_params {

    private t4j_bias_act_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("out"),
            ADDRESS.withName("x"),
            ADDRESS.withName("gate"),
            ADDRESS.withName("bias"),
            ADDRESS.withName("bias_gate"),
            ADDRESS.withName("residual"),
            JAVA_LONG.withName("rows"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("out_row_stride"),
            JAVA_LONG.withName("x_row_stride"),
            JAVA_LONG.withName("gate_row_stride"),
            JAVA_LONG.withName("residual_row_stride"),
            JAVA_INT.withName("activation"),
            JAVA_INT.withName("dtype"),
            JAVA_FLOAT.withName("act_limit"),
            JAVA_INT.withName("reserved"))
        .withName("t4j_bias_act_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long out$OFFSET = offset("out");
    private static final long x$OFFSET = offset("x");
    private static final long gate$OFFSET = offset("gate");
    private static final long bias$OFFSET = offset("bias");
    private static final long bias_gate$OFFSET = offset("bias_gate");
    private static final long residual$OFFSET = offset("residual");
    private static final long rows$OFFSET = offset("rows");
    private static final long cols$OFFSET = offset("cols");
    private static final long out_row_stride$OFFSET = offset("out_row_stride");
    private static final long x_row_stride$OFFSET = offset("x_row_stride");
    private static final long gate_row_stride$OFFSET = offset("gate_row_stride");
    private static final long residual_row_stride$OFFSET = offset("residual_row_stride");
    private static final long activation$OFFSET = offset("activation");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long act_limit$OFFSET = offset("act_limit");
    private static final long reserved$OFFSET = offset("reserved");

    private static final AddressLayout PTR = ADDRESS;

    public static MemorySegment out(MemorySegment s) { return s.get(PTR, out$OFFSET); }
    public static void out(MemorySegment s, MemorySegment v) { s.set(PTR, out$OFFSET, v); }
    public static MemorySegment x(MemorySegment s) { return s.get(PTR, x$OFFSET); }
    public static void x(MemorySegment s, MemorySegment v) { s.set(PTR, x$OFFSET, v); }
    public static MemorySegment gate(MemorySegment s) { return s.get(PTR, gate$OFFSET); }
    public static void gate(MemorySegment s, MemorySegment v) { s.set(PTR, gate$OFFSET, v); }
    public static MemorySegment bias(MemorySegment s) { return s.get(PTR, bias$OFFSET); }
    public static void bias(MemorySegment s, MemorySegment v) { s.set(PTR, bias$OFFSET, v); }
    public static MemorySegment bias_gate(MemorySegment s) { return s.get(PTR, bias_gate$OFFSET); }
    public static void bias_gate(MemorySegment s, MemorySegment v) { s.set(PTR, bias_gate$OFFSET, v); }
    public static MemorySegment residual(MemorySegment s) { return s.get(PTR, residual$OFFSET); }
    public static void residual(MemorySegment s, MemorySegment v) { s.set(PTR, residual$OFFSET, v); }
    public static long rows(MemorySegment s) { return s.get(JAVA_LONG, rows$OFFSET); }
    public static void rows(MemorySegment s, long v) { s.set(JAVA_LONG, rows$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long out_row_stride(MemorySegment s) { return s.get(JAVA_LONG, out_row_stride$OFFSET); }
    public static void out_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_row_stride$OFFSET, v); }
    public static long x_row_stride(MemorySegment s) { return s.get(JAVA_LONG, x_row_stride$OFFSET); }
    public static void x_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, x_row_stride$OFFSET, v); }
    public static long gate_row_stride(MemorySegment s) { return s.get(JAVA_LONG, gate_row_stride$OFFSET); }
    public static void gate_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, gate_row_stride$OFFSET, v); }
    public static long residual_row_stride(MemorySegment s) { return s.get(JAVA_LONG, residual_row_stride$OFFSET); }
    public static void residual_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, residual_row_stride$OFFSET, v); }
    public static int activation(MemorySegment s) { return s.get(JAVA_INT, activation$OFFSET); }
    public static void activation(MemorySegment s, int v) { s.set(JAVA_INT, activation$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static float act_limit(MemorySegment s) { return s.get(JAVA_FLOAT, act_limit$OFFSET); }
    public static void act_limit(MemorySegment s, float v) { s.set(JAVA_FLOAT, act_limit$OFFSET, v); }
    public static int reserved(MemorySegment s) { return s.get(JAVA_INT, reserved$OFFSET); }
    public static void reserved(MemorySegment s, int v) { s.set(JAVA_INT, reserved$OFFSET, v); }
}
