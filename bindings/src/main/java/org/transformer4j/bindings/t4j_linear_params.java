// t4j_linear_params — layout and accessors of struct t4j_linear_params (the MLP family's GEMM with fused epilogue, native/include/t4j.h),
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
public final class t4j_linear_params {

    private t4j_linear_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("c"),
            ADDRESS.withName("a"),
            ADDRESS.withName("b"),
            ADDRESS.withName("b_gate"),
            ADDRESS.withName("bias"),
            ADDRESS.withName("bias_gate"),
            ADDRESS.withName("residual"),
            JAVA_LONG.withName("m"),
            JAVA_LONG.withName("n"),
            JAVA_LONG.withName("k"),
            JAVA_LONG.withName("batch"),
            JAVA_LONG.withName("lda"),
            JAVA_LONG.withName("ldb"),
            JAVA_LONG.withName("ldc"),
            JAVA_LONG.withName("ld_residual"),
            JAVA_LONG.withName("stride_a"),
            JAVA_LONG.withName("stride_b"),
            JAVA_LONG.withName("stride_c"),
            JAVA_LONG.withName("stride_residual"),
            ADDRESS.withName("workspace"),
            JAVA_LONG.withName("workspace_bytes"),
            JAVA_FLOAT.withName("alpha"),
            JAVA_INT.withName("activation"),
            JAVA_INT.withName("gated"),
            JAVA_INT.withName("trans_b"),
            JAVA_INT.withName("dtype"),
            JAVA_FLOAT.withName("act_limit"),
            ADDRESS.withName("group_offsets"),
            JAVA_LONG.withName("stride_bias"),
            ADDRESS.withName("b_scale"),
            ADDRESS.withName("b_gate_scale"),
            JAVA_INT.withName("b_format"),
            JAVA_INT.withName("reserved2"),
            ADDRESS.withName("b_zero"),
            ADDRESS.withName("b_gate_zero"),
            ADDRESS.withName("b_gidx"),
            ADDRESS.withName("b_gate_gidx"),
            JAVA_INT.withName("b_group_size"),
            JAVA_INT.withName("b_groups"))
        .withName("t4j_linear_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long c$OFFSET = offset("c");
    private static final long a$OFFSET = offset("a");
    private static final long b$OFFSET = offset("b");
    private static final long b_gate$OFFSET = offset("b_gate");
    private static final long bias$OFFSET = offset("bias");
    private static final long bias_gate$OFFSET = offset("bias_gate");
    private static final long residual$OFFSET = offset("residual");
    private static final long m$OFFSET = offset("m");
    private static final long n$OFFSET = offset("n");
    private static final long k$OFFSET = offset("k");
    private static final long batch$OFFSET = offset("batch");
    private static final long lda$OFFSET = offset("lda");
    private static final long ldb$OFFSET = offset("ldb");
    private static final long ldc$OFFSET = offset("ldc");
    private static final long ld_residual$OFFSET = offset("ld_residual");
    private static final long stride_a$OFFSET = offset("stride_a");
    private static final long stride_b$OFFSET = offset("stride_b");
    private static final long stride_c$OFFSET = offset("stride_c");
    private static final long stride_residual$OFFSET = offset("stride_residual");
    private static final long workspace$OFFSET = offset("workspace");
    private static final long workspace_bytes$OFFSET = offset("workspace_bytes");
    private static final long alpha$OFFSET = offset("alpha");
    private static final long activation$OFFSET = offset("activation");
    private static final long gated$OFFSET = offset("gated");
    private static final long trans_b$OFFSET = offset("trans_b");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long act_limit$OFFSET = offset("act_limit");
    private static final long group_offsets$OFFSET = offset("group_offsets");
    private static final long stride_bias$OFFSET = offset("stride_bias");
    private static final long b_scale$OFFSET = offset("b_scale");
    private static final long b_gate_scale$OFFSET = offset("b_gate_scale");
    private static final long b_format$OFFSET = offset("b_format");
    private static final long reserved2$OFFSET = offset("reserved2");
    private static final long b_zero$OFFSET = offset("b_zero");
    private static final long b_gate_zero$OFFSET = offset("b_gate_zero");
    private static final long b_gidx$OFFSET = offset("b_gidx");
    private static final long b_gate_gidx$OFFSET = offset("b_gate_gidx");
    private static final long b_group_size$OFFSET = offset("b_group_size");
    private static final long b_groups$OFFSET = offset("b_groups");

    private static final AddressLayout PTR = ADDRESS;

    public static MemorySegment c(MemorySegment s) { return s.get(PTR, c$OFFSET); }
    public static void c(MemorySegment s, MemorySegment v) { s.set(PTR, c$OFFSET, v); }
    public static MemorySegment a(MemorySegment s) { return s.get(PTR, a$OFFSET); }
    public static void a(MemorySegment s, MemorySegment v) { s.set(PTR, a$OFFSET, v); }
    public static MemorySegment b(MemorySegment s) { return s.get(PTR, b$OFFSET); }
    public static void b(MemorySegment s, MemorySegment v) { s.set(PTR, b$OFFSET, v); }
    public static MemorySegment b_gate(MemorySegment s) { return s.get(PTR, b_gate$OFFSET); }
    public static void b_gate(MemorySegment s, MemorySegment v) { s.set(PTR, b_gate$OFFSET, v); }
    public static MemorySegment bias(MemorySegment s) { return s.get(PTR, bias$OFFSET); }
    public static void bias(MemorySegment s, MemorySegment v) { s.set(PTR, bias$OFFSET, v); }
    public static MemorySegment bias_gate(MemorySegment s) { return s.get(PTR, bias_gate$OFFSET); }
    public static void bias_gate(MemorySegment s, MemorySegment v) { s.set(PTR, bias_gate$OFFSET, v); }
    public static MemorySegment residual(MemorySegment s) { return s.get(PTR, residual$OFFSET); }
    public static void residual(MemorySegment s, MemorySegment v) { s.set(PTR, residual$OFFSET, v); }
    public static long m(MemorySegment s) { return s.get(JAVA_LONG, m$OFFSET); }
    public static void m(MemorySegment s, long v) { s.set(JAVA_LONG, m$OFFSET, v); }
    public static long n(MemorySegment s) { return s.get(JAVA_LONG, n$OFFSET); }
    public static void n(MemorySegment s, long v) { s.set(JAVA_LONG, n$OFFSET, v); }
    public static long k(MemorySegment s) { return s.get(JAVA_LONG, k$OFFSET); }
    public static void k(MemorySegment s, long v) { s.set(JAVA_LONG, k$OFFSET, v); }
    public static long batch(MemorySegment s) { return s.get(JAVA_LONG, batch$OFFSET); }
    public static void batch(MemorySegment s, long v) { s.set(JAVA_LONG, batch$OFFSET, v); }
    public static long lda(MemorySegment s) { return s.get(JAVA_LONG, lda$OFFSET); }
    public static void lda(MemorySegment s, long v) { s.set(JAVA_LONG, lda$OFFSET, v); }
    public static long ldb(MemorySegment s) { return s.get(JAVA_LONG, ldb$OFFSET); }
    public static void ldb(MemorySegment s, long v) { s.set(JAVA_LONG, ldb$OFFSET, v); }
    public static long ldc(MemorySegment s) { return s.get(JAVA_LONG, ldc$OFFSET); }
    public static void ldc(MemorySegment s, long v) { s.set(JAVA_LONG, ldc$OFFSET, v); }
    public static long ld_residual(MemorySegment s) { return s.get(JAVA_LONG, ld_residual$OFFSET); }
    public static void ld_residual(MemorySegment s, long v) { s.set(JAVA_LONG, ld_residual$OFFSET, v); }
    public static long stride_a(MemorySegment s) { return s.get(JAVA_LONG, stride_a$OFFSET); }
    public static void stride_a(MemorySegment s, long v) { s.set(JAVA_LONG, stride_a$OFFSET, v); }
    public static long stride_b(MemorySegment s) { return s.get(JAVA_LONG, stride_b$OFFSET); }
    public static void stride_b(MemorySegment s, long v) { s.set(JAVA_LONG, stride_b$OFFSET, v); }
    public static long stride_c(MemorySegment s) { return s.get(JAVA_LONG, stride_c$OFFSET); }
    public static void stride_c(MemorySegment s, long v) { s.set(JAVA_LONG, stride_c$OFFSET, v); }
    public static long stride_residual(MemorySegment s) { return s.get(JAVA_LONG, stride_residual$OFFSET); }
    public static void stride_residual(MemorySegment s, long v) { s.set(JAVA_LONG, stride_residual$OFFSET, v); }
    public static MemorySegment workspace(MemorySegment s) { return s.get(PTR, workspace$OFFSET); }
    public static void workspace(MemorySegment s, MemorySegment v) { s.set(PTR, workspace$OFFSET, v); }
    public static long workspace_bytes(MemorySegment s) { return s.get(JAVA_LONG, workspace_bytes$OFFSET); }
    public static void workspace_bytes(MemorySegment s, long v) { s.set(JAVA_LONG, workspace_bytes$OFFSET, v); }
    public static float alpha(MemorySegment s) { return s.get(JAVA_FLOAT, alpha$OFFSET); }
    public static void alpha(MemorySegment s, float v) { s.set(JAVA_FLOAT, alpha$OFFSET, v); }
    public static int activation(MemorySegment s) { return s.get(JAVA_INT, activation$OFFSET); }
    public static void activation(MemorySegment s, int v) { s.set(JAVA_INT, activation$OFFSET, v); }
    public static int gated(MemorySegment s) { return s.get(JAVA_INT, gated$OFFSET); }
    public static void gated(MemorySegment s, int v) { s.set(JAVA_INT, gated$OFFSET, v); }
    public static int trans_b(MemorySegment s) { return s.get(JAVA_INT, trans_b$OFFSET); }
    public static void trans_b(MemorySegment s, int v) { s.set(JAVA_INT, trans_b$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static float act_limit(MemorySegment s) { return s.get(JAVA_FLOAT, act_limit$OFFSET); }
    public static void act_limit(MemorySegment s, float v) { s.set(JAVA_FLOAT, act_limit$OFFSET, v); }
    public static MemorySegment group_offsets(MemorySegment s) { return s.get(ADDRESS, group_offsets$OFFSET); }
    public static void group_offsets(MemorySegment s, MemorySegment v) { s.set(ADDRESS, group_offsets$OFFSET, v); }
    public static long stride_bias(MemorySegment s) { return s.get(JAVA_LONG, stride_bias$OFFSET); }
    public static void stride_bias(MemorySegment s, long v) { s.set(JAVA_LONG, stride_bias$OFFSET, v); }
    public static MemorySegment b_scale(MemorySegment s) { return s.get(PTR, b_scale$OFFSET); }
    public static void b_scale(MemorySegment s, MemorySegment v) { s.set(PTR, b_scale$OFFSET, v); }
    public static MemorySegment b_gate_scale(MemorySegment s) { return s.get(PTR, b_gate_scale$OFFSET); }
    public static void b_gate_scale(MemorySegment s, MemorySegment v) { s.set(PTR, b_gate_scale$OFFSET, v); }
    public static int b_format(MemorySegment s) { return s.get(JAVA_INT, b_format$OFFSET); }
    public static void b_format(MemorySegment s, int v) { s.set(JAVA_INT, b_format$OFFSET, v); }
    public static int reserved2(MemorySegment s) { return s.get(JAVA_INT, reserved2$OFFSET); }
    public static void reserved2(MemorySegment s, int v) { s.set(JAVA_INT, reserved2$OFFSET, v); }
    public static MemorySegment b_zero(MemorySegment s) { return s.get(PTR, b_zero$OFFSET); }
    public static void b_zero(MemorySegment s, MemorySegment v) { s.set(PTR, b_zero$OFFSET, v); }
    public static MemorySegment b_gate_zero(MemorySegment s) { return s.get(PTR, b_gate_zero$OFFSET); }
    public static void b_gate_zero(MemorySegment s, MemorySegment v) { s.set(PTR, b_gate_zero$OFFSET, v); }
    public static MemorySegment b_gidx(MemorySegment s) { return s.get(PTR, b_gidx$OFFSET); }
    public static void b_gidx(MemorySegment s, MemorySegment v) { s.set(PTR, b_gidx$OFFSET, v); }
    public static MemorySegment b_gate_gidx(MemorySegment s) { return s.get(PTR, b_gate_gidx$OFFSET); }
    public static void b_gate_gidx(MemorySegment s, MemorySegment v) { s.set(PTR, b_gate_gidx$OFFSET, v); }
    public static int b_group_size(MemorySegment s) { return s.get(JAVA_INT, b_group_size$OFFSET); }
    public static void b_group_size(MemorySegment s, int v) { s.set(JAVA_INT, b_group_size$OFFSET, v); }
    public static int b_groups(MemorySegment s) { return s.get(JAVA_INT, b_groups$OFFSET); }
    public static void b_groups(MemorySegment s, int v) { s.set(JAVA_INT, b_groups$OFFSET, v); }
}
