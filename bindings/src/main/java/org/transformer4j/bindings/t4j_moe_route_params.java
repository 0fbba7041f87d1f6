// t4j_moe_route_params — layout and accessors of struct t4j_moe_route_params (the mixture-of-experts router, ABI 9; DeepSeek's fields ABI 18; native/include/t4j.h),
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
public final class t4j_moe_route_params {

    private t4j_moe_route_params() {}

    // 6 pointers, 2 int64, 4 int32 (80 bytes), then ABI 18's pointer, 3 int32 and a float = 104 bytes, every
    // field at its natural alignment: no padding to add.
    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("logits"),
            ADDRESS.withName("topk_ids"),
            ADDRESS.withName("topk_weights"),
            ADDRESS.withName("expert_offsets"),
            ADDRESS.withName("sorted_tokens"),
            ADDRESS.withName("slots"),
            JAVA_LONG.withName("tokens"),
            JAVA_LONG.withName("logits_row_stride"),
            JAVA_INT.withName("experts"),
            JAVA_INT.withName("top_k"),
            JAVA_INT.withName("renormalize"),
            JAVA_INT.withName("dtype"),
            ADDRESS.withName("correction_bias"),
            JAVA_INT.withName("scoring"),
            JAVA_INT.withName("n_group"),
            JAVA_INT.withName("topk_group"),
            JAVA_FLOAT.withName("scale"))
        .withName("t4j_moe_route_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long logits$OFFSET = offset("logits");
    private static final long topk_ids$OFFSET = offset("topk_ids");
    private static final long topk_weights$OFFSET = offset("topk_weights");
    private static final long expert_offsets$OFFSET = offset("expert_offsets");
    private static final long sorted_tokens$OFFSET = offset("sorted_tokens");
    private static final long slots$OFFSET = offset("slots");
    private static final long tokens$OFFSET = offset("tokens");
    private static final long logits_row_stride$OFFSET = offset("logits_row_stride");
    private static final long experts$OFFSET = offset("experts");
    private static final long top_k$OFFSET = offset("top_k");
    private static final long renormalize$OFFSET = offset("renormalize");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long correction_bias$OFFSET = offset("correction_bias");
    private static final long scoring$OFFSET = offset("scoring");
    private static final long n_group$OFFSET = offset("n_group");
    private static final long topk_group$OFFSET = offset("topk_group");
    private static final long scale$OFFSET = offset("scale");

    public static MemorySegment logits(MemorySegment s) { return s.get(ADDRESS, logits$OFFSET); }
    public static void logits(MemorySegment s, MemorySegment v) { s.set(ADDRESS, logits$OFFSET, v); }
    public static MemorySegment topk_ids(MemorySegment s) { return s.get(ADDRESS, topk_ids$OFFSET); }
    public static void topk_ids(MemorySegment s, MemorySegment v) { s.set(ADDRESS, topk_ids$OFFSET, v); }
    public static MemorySegment topk_weights(MemorySegment s) { return s.get(ADDRESS, topk_weights$OFFSET); }
    public static void topk_weights(MemorySegment s, MemorySegment v) { s.set(ADDRESS, topk_weights$OFFSET, v); }
    public static MemorySegment expert_offsets(MemorySegment s) { return s.get(ADDRESS, expert_offsets$OFFSET); }
    public static void expert_offsets(MemorySegment s, MemorySegment v) { s.set(ADDRESS, expert_offsets$OFFSET, v); }
    public static MemorySegment sorted_tokens(MemorySegment s) { return s.get(ADDRESS, sorted_tokens$OFFSET); }
    public static void sorted_tokens(MemorySegment s, MemorySegment v) { s.set(ADDRESS, sorted_tokens$OFFSET, v); }
    public static MemorySegment slots(MemorySegment s) { return s.get(ADDRESS, slots$OFFSET); }
    public static void slots(MemorySegment s, MemorySegment v) { s.set(ADDRESS, slots$OFFSET, v); }
    public static long tokens(MemorySegment s) { return s.get(JAVA_LONG, tokens$OFFSET); }
    public static void tokens(MemorySegment s, long v) { s.set(JAVA_LONG, tokens$OFFSET, v); }
    public static long logits_row_stride(MemorySegment s) { return s.get(JAVA_LONG, logits_row_stride$OFFSET); }
    public static void logits_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, logits_row_stride$OFFSET, v); }
    public static int experts(MemorySegment s) { return s.get(JAVA_INT, experts$OFFSET); }
    public static void experts(MemorySegment s, int v) { s.set(JAVA_INT, experts$OFFSET, v); }
    public static int top_k(MemorySegment s) { return s.get(JAVA_INT, top_k$OFFSET); }
    public static void top_k(MemorySegment s, int v) { s.set(JAVA_INT, top_k$OFFSET, v); }
    public static int renormalize(MemorySegment s) { return s.get(JAVA_INT, renormalize$OFFSET); }
    public static void renormalize(MemorySegment s, int v) { s.set(JAVA_INT, renormalize$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static MemorySegment correction_bias(MemorySegment s) { return s.get(ADDRESS, correction_bias$OFFSET); }
    public static void correction_bias(MemorySegment s, MemorySegment v) { s.set(ADDRESS, correction_bias$OFFSET, v); }
    public static int scoring(MemorySegment s) { return s.get(JAVA_INT, scoring$OFFSET); }
    public static void scoring(MemorySegment s, int v) { s.set(JAVA_INT, scoring$OFFSET, v); }
    public static int n_group(MemorySegment s) { return s.get(JAVA_INT, n_group$OFFSET); }
    public static void n_group(MemorySegment s, int v) { s.set(JAVA_INT, n_group$OFFSET, v); }
    public static int topk_group(MemorySegment s) { return s.get(JAVA_INT, topk_group$OFFSET); }
    public static void topk_group(MemorySegment s, int v) { s.set(JAVA_INT, topk_group$OFFSET, v); }
    public static float scale(MemorySegment s) { return s.get(JAVA_FLOAT, scale$OFFSET); }
    public static void scale(MemorySegment s, float v) { s.set(JAVA_FLOAT, scale$OFFSET, v); }
}
