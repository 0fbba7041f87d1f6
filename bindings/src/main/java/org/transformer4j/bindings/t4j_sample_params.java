// t4j_sample_params — layout and accessors of struct t4j_sample_params (sampling one token per row, native/include/t4j.h),
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
public final class t4j_sample_params {

    private t4j_sample_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("ids"),
            ADDRESS.withName("logprobs"),
            ADDRESS.withName("nonfinite"),
            ADDRESS.withName("logits"),
            JAVA_LONG.withName("rows"),
            JAVA_LONG.withName("cols"),
            JAVA_LONG.withName("logits_row_stride"),
            JAVA_LONG.withName("seed"),
            JAVA_LONG.withName("offset"),
            JAVA_FLOAT.withName("temperature"),
            JAVA_FLOAT.withName("top_p"),
            JAVA_INT.withName("top_k"),
            JAVA_INT.withName("dtype"),
            JAVA_FLOAT.withName("min_p"),
            JAVA_INT.withName("reserved"),
            ADDRESS.withName("row_params"))
        .withName("t4j_sample_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long ids$OFFSET = offset("ids");
    private static final long logprobs$OFFSET = offset("logprobs");
    private static final long nonfinite$OFFSET = offset("nonfinite");
    private static final long logits$OFFSET = offset("logits");
    private static final long rows$OFFSET = offset("rows");
    private static final long cols$OFFSET = offset("cols");
    private static final long logits_row_stride$OFFSET = offset("logits_row_stride");
    private static final long seed$OFFSET = offset("seed");
    private static final long offset$OFFSET = offset("offset");
    private static final long temperature$OFFSET = offset("temperature");
    private static final long top_p$OFFSET = offset("top_p");
    private static final long top_k$OFFSET = offset("top_k");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long min_p$OFFSET = offset("min_p");
    private static final long reserved$OFFSET = offset("reserved");
    private static final long row_params$OFFSET = offset("row_params");

    private static final AddressLayout PTR = ADDRESS;

    public static MemorySegment ids(MemorySegment s) { return s.get(PTR, ids$OFFSET); }
    public static void ids(MemorySegment s, MemorySegment v) { s.set(PTR, ids$OFFSET, v); }
    public static MemorySegment logprobs(MemorySegment s) { return s.get(PTR, logprobs$OFFSET); }
    public static void logprobs(MemorySegment s, MemorySegment v) { s.set(PTR, logprobs$OFFSET, v); }
    public static MemorySegment nonfinite(MemorySegment s) { return s.get(PTR, nonfinite$OFFSET); }
    public static void nonfinite(MemorySegment s, MemorySegment v) { s.set(PTR, nonfinite$OFFSET, v); }
    public static MemorySegment logits(MemorySegment s) { return s.get(PTR, logits$OFFSET); }
    public static void logits(MemorySegment s, MemorySegment v) { s.set(PTR, logits$OFFSET, v); }
    public static long rows(MemorySegment s) { return s.get(JAVA_LONG, rows$OFFSET); }
    public static void rows(MemorySegment s, long v) { s.set(JAVA_LONG, rows$OFFSET, v); }
    public static long cols(MemorySegment s) { return s.get(JAVA_LONG, cols$OFFSET); }
    public static void cols(MemorySegment s, long v) { s.set(JAVA_LONG, cols$OFFSET, v); }
    public static long logits_row_stride(MemorySegment s) { return s.get(JAVA_LONG, logits_row_stride$OFFSET); }
    public static void logits_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, logits_row_stride$OFFSET, v); }
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
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static float min_p(MemorySegment s) { return s.get(JAVA_FLOAT, min_p$OFFSET); }
    public static void min_p(MemorySegment s, float v) { s.set(JAVA_FLOAT, min_p$OFFSET, v); }
    public static int reserved(MemorySegment s) { return s.get(JAVA_INT, reserved$OFFSET); }
    public static void reserved(MemorySegment s, int v) { s.set(JAVA_INT, reserved$OFFSET, v); }
    public static MemorySegment row_params(MemorySegment s) { return s.get(PTR, row_params$OFFSET); }
    public static void row_params(MemorySegment s, MemorySegment v) { s.set(PTR, row_params$OFFSET, v); }
}
