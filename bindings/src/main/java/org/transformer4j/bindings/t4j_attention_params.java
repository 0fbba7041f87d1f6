// t4j_attention_params — layout and accessors of struct t4j_attention_params (attention parameters, native/include/t4j.h),
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
public final class t4j_attention_params {

    private t4j_attention_params() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("out"),
            ADDRESS.withName("lse"),
            ADDRESS.withName("q"),
            ADDRESS.withName("k"),
            ADDRESS.withName("v"),
            ADDRESS.withName("cu_seqlens_q"),
            ADDRESS.withName("cu_seqlens_k"),
            ADDRESS.withName("key_lengths"),
            ADDRESS.withName("prefix_lengths"),
            ADDRESS.withName("rel_bias"),
            JAVA_LONG.withName("q_batch_stride"),
            JAVA_LONG.withName("q_row_stride"),
            JAVA_LONG.withName("q_head_stride"),
            JAVA_LONG.withName("k_batch_stride"),
            JAVA_LONG.withName("k_row_stride"),
            JAVA_LONG.withName("k_head_stride"),
            JAVA_LONG.withName("v_batch_stride"),
            JAVA_LONG.withName("v_row_stride"),
            JAVA_LONG.withName("v_head_stride"),
            JAVA_LONG.withName("out_batch_stride"),
            JAVA_LONG.withName("out_row_stride"),
            JAVA_LONG.withName("out_head_stride"),
            JAVA_INT.withName("B"),
            JAVA_INT.withName("NH"),
            JAVA_INT.withName("NKV"),
            JAVA_INT.withName("Tq"),
            JAVA_INT.withName("Tk"),
            JAVA_INT.withName("HS"),
            JAVA_INT.withName("mask"),
            JAVA_FLOAT.withName("scale"),
            JAVA_INT.withName("num_buckets"),
            JAVA_INT.withName("max_distance"),
            JAVA_INT.withName("bias_bidirectional"),
            JAVA_INT.withName("dtype"),
            JAVA_INT.withName("window"),
            JAVA_FLOAT.withName("softcap"),
            ADDRESS.withName("c2p"),
            ADDRESS.withName("p2c"),
            JAVA_LONG.withName("c2p_rows"),
            JAVA_LONG.withName("p2c_rows"),
            JAVA_INT.withName("dis_span"),
            JAVA_INT.withName("dis_buckets"),
            JAVA_INT.withName("dis_max_position"),
            JAVA_INT.withName("dis_reserved"),
            ADDRESS.withName("sinks"),
            ADDRESS.withName("alibi_slopes"))
        .withName("t4j_attention_params");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long out$OFFSET = offset("out");
    private static final long lse$OFFSET = offset("lse");
    private static final long q$OFFSET = offset("q");
    private static final long k$OFFSET = offset("k");
    private static final long v$OFFSET = offset("v");
    private static final long cu_seqlens_q$OFFSET = offset("cu_seqlens_q");
    private static final long cu_seqlens_k$OFFSET = offset("cu_seqlens_k");
    private static final long key_lengths$OFFSET = offset("key_lengths");
    private static final long prefix_lengths$OFFSET = offset("prefix_lengths");
    private static final long rel_bias$OFFSET = offset("rel_bias");
    private static final long q_batch_stride$OFFSET = offset("q_batch_stride");
    private static final long q_row_stride$OFFSET = offset("q_row_stride");
    private static final long q_head_stride$OFFSET = offset("q_head_stride");
    private static final long k_batch_stride$OFFSET = offset("k_batch_stride");
    private static final long k_row_stride$OFFSET = offset("k_row_stride");
    private static final long k_head_stride$OFFSET = offset("k_head_stride");
    private static final long v_batch_stride$OFFSET = offset("v_batch_stride");
    private static final long v_row_stride$OFFSET = offset("v_row_stride");
    private static final long v_head_stride$OFFSET = offset("v_head_stride");
    private static final long out_batch_stride$OFFSET = offset("out_batch_stride");
    private static final long out_row_stride$OFFSET = offset("out_row_stride");
    private static final long out_head_stride$OFFSET = offset("out_head_stride");
    private static final long B$OFFSET = offset("B");
    private static final long NH$OFFSET = offset("NH");
    private static final long NKV$OFFSET = offset("NKV");
    private static final long Tq$OFFSET = offset("Tq");
    private static final long Tk$OFFSET = offset("Tk");
    private static final long HS$OFFSET = offset("HS");
    private static final long mask$OFFSET = offset("mask");
    private static final long scale$OFFSET = offset("scale");
    private static final long num_buckets$OFFSET = offset("num_buckets");
    private static final long max_distance$OFFSET = offset("max_distance");
    private static final long bias_bidirectional$OFFSET = offset("bias_bidirectional");
    private static final long dtype$OFFSET = offset("dtype");
    private static final long window$OFFSET = offset("window");
    private static final long softcap$OFFSET = offset("softcap");
    private static final long c2p$OFFSET = offset("c2p");
    private static final long p2c$OFFSET = offset("p2c");
    private static final long c2p_rows$OFFSET = offset("c2p_rows");
    private static final long p2c_rows$OFFSET = offset("p2c_rows");
    private static final long dis_span$OFFSET = offset("dis_span");
    private static final long dis_buckets$OFFSET = offset("dis_buckets");
    private static final long dis_max_position$OFFSET = offset("dis_max_position");
    private static final long dis_reserved$OFFSET = offset("dis_reserved");
    private static final long sinks$OFFSET = offset("sinks");
    private static final long alibi_slopes$OFFSET = offset("alibi_slopes");

    public static MemorySegment out(MemorySegment s) { return s.get(ADDRESS, out$OFFSET); }
    public static void out(MemorySegment s, MemorySegment v) { s.set(ADDRESS, out$OFFSET, v); }
    public static MemorySegment lse(MemorySegment s) { return s.get(ADDRESS, lse$OFFSET); }
    public static void lse(MemorySegment s, MemorySegment v) { s.set(ADDRESS, lse$OFFSET, v); }
    public static MemorySegment q(MemorySegment s) { return s.get(ADDRESS, q$OFFSET); }
    public static void q(MemorySegment s, MemorySegment v) { s.set(ADDRESS, q$OFFSET, v); }
    public static MemorySegment k(MemorySegment s) { return s.get(ADDRESS, k$OFFSET); }
    public static void k(MemorySegment s, MemorySegment v) { s.set(ADDRESS, k$OFFSET, v); }
    public static MemorySegment v(MemorySegment s) { return s.get(ADDRESS, v$OFFSET); }
    public static void v(MemorySegment s, MemorySegment v) { s.set(ADDRESS, v$OFFSET, v); }
    public static MemorySegment cu_seqlens_q(MemorySegment s) { return s.get(ADDRESS, cu_seqlens_q$OFFSET); }
    public static void cu_seqlens_q(MemorySegment s, MemorySegment v) { s.set(ADDRESS, cu_seqlens_q$OFFSET, v); }
    public static MemorySegment cu_seqlens_k(MemorySegment s) { return s.get(ADDRESS, cu_seqlens_k$OFFSET); }
    public static void cu_seqlens_k(MemorySegment s, MemorySegment v) { s.set(ADDRESS, cu_seqlens_k$OFFSET, v); }
    public static MemorySegment key_lengths(MemorySegment s) { return s.get(ADDRESS, key_lengths$OFFSET); }
    public static void key_lengths(MemorySegment s, MemorySegment v) { s.set(ADDRESS, key_lengths$OFFSET, v); }
    public static MemorySegment prefix_lengths(MemorySegment s) { return s.get(ADDRESS, prefix_lengths$OFFSET); }
    public static void prefix_lengths(MemorySegment s, MemorySegment v) { s.set(ADDRESS, prefix_lengths$OFFSET, v); }
    public static MemorySegment rel_bias(MemorySegment s) { return s.get(ADDRESS, rel_bias$OFFSET); }
    public static void rel_bias(MemorySegment s, MemorySegment v) { s.set(ADDRESS, rel_bias$OFFSET, v); }
    public static long q_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, q_batch_stride$OFFSET); }
    public static void q_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, q_batch_stride$OFFSET, v); }
    public static long q_row_stride(MemorySegment s) { return s.get(JAVA_LONG, q_row_stride$OFFSET); }
    public static void q_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, q_row_stride$OFFSET, v); }
    public static long q_head_stride(MemorySegment s) { return s.get(JAVA_LONG, q_head_stride$OFFSET); }
    public static void q_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, q_head_stride$OFFSET, v); }
    public static long k_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, k_batch_stride$OFFSET); }
    public static void k_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, k_batch_stride$OFFSET, v); }
    public static long k_row_stride(MemorySegment s) { return s.get(JAVA_LONG, k_row_stride$OFFSET); }
    public static void k_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, k_row_stride$OFFSET, v); }
    public static long k_head_stride(MemorySegment s) { return s.get(JAVA_LONG, k_head_stride$OFFSET); }
    public static void k_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, k_head_stride$OFFSET, v); }
    public static long v_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, v_batch_stride$OFFSET); }
    public static void v_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, v_batch_stride$OFFSET, v); }
    public static long v_row_stride(MemorySegment s) { return s.get(JAVA_LONG, v_row_stride$OFFSET); }
    public static void v_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, v_row_stride$OFFSET, v); }
    public static long v_head_stride(MemorySegment s) { return s.get(JAVA_LONG, v_head_stride$OFFSET); }
    public static void v_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, v_head_stride$OFFSET, v); }
    public static long out_batch_stride(MemorySegment s) { return s.get(JAVA_LONG, out_batch_stride$OFFSET); }
    public static void out_batch_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_batch_stride$OFFSET, v); }
    public static long out_row_stride(MemorySegment s) { return s.get(JAVA_LONG, out_row_stride$OFFSET); }
    public static void out_row_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_row_stride$OFFSET, v); }
    public static long out_head_stride(MemorySegment s) { return s.get(JAVA_LONG, out_head_stride$OFFSET); }
    public static void out_head_stride(MemorySegment s, long v) { s.set(JAVA_LONG, out_head_stride$OFFSET, v); }
    public static int B(MemorySegment s) { return s.get(JAVA_INT, B$OFFSET); }
    public static void B(MemorySegment s, int v) { s.set(JAVA_INT, B$OFFSET, v); }
    public static int NH(MemorySegment s) { return s.get(JAVA_INT, NH$OFFSET); }
    public static void NH(MemorySegment s, int v) { s.set(JAVA_INT, NH$OFFSET, v); }
    public static int NKV(MemorySegment s) { return s.get(JAVA_INT, NKV$OFFSET); }
    public static void NKV(MemorySegment s, int v) { s.set(JAVA_INT, NKV$OFFSET, v); }
    public static int Tq(MemorySegment s) { return s.get(JAVA_INT, Tq$OFFSET); }
    public static void Tq(MemorySegment s, int v) { s.set(JAVA_INT, Tq$OFFSET, v); }
    public static int Tk(MemorySegment s) { return s.get(JAVA_INT, Tk$OFFSET); }
    public static void Tk(MemorySegment s, int v) { s.set(JAVA_INT, Tk$OFFSET, v); }
    public static int HS(MemorySegment s) { return s.get(JAVA_INT, HS$OFFSET); }
    public static void HS(MemorySegment s, int v) { s.set(JAVA_INT, HS$OFFSET, v); }
    public static int mask(MemorySegment s) { return s.get(JAVA_INT, mask$OFFSET); }
    public static void mask(MemorySegment s, int v) { s.set(JAVA_INT, mask$OFFSET, v); }
    public static float scale(MemorySegment s) { return s.get(JAVA_FLOAT, scale$OFFSET); }
    public static void scale(MemorySegment s, float v) { s.set(JAVA_FLOAT, scale$OFFSET, v); }
    public static int num_buckets(MemorySegment s) { return s.get(JAVA_INT, num_buckets$OFFSET); }
    public static void num_buckets(MemorySegment s, int v) { s.set(JAVA_INT, num_buckets$OFFSET, v); }
    public static int max_distance(MemorySegment s) { return s.get(JAVA_INT, max_distance$OFFSET); }
    public static void max_distance(MemorySegment s, int v) { s.set(JAVA_INT, max_distance$OFFSET, v); }
    public static int bias_bidirectional(MemorySegment s) { return s.get(JAVA_INT, bias_bidirectional$OFFSET); }
    public static void bias_bidirectional(MemorySegment s, int v) { s.set(JAVA_INT, bias_bidirectional$OFFSET, v); }
    public static int dtype(MemorySegment s) { return s.get(JAVA_INT, dtype$OFFSET); }
    public static void dtype(MemorySegment s, int v) { s.set(JAVA_INT, dtype$OFFSET, v); }
    public static int window(MemorySegment s) { return s.get(JAVA_INT, window$OFFSET); }
    public static void window(MemorySegment s, int v) { s.set(JAVA_INT, window$OFFSET, v); }
    public static float softcap(MemorySegment s) { return s.get(JAVA_FLOAT, softcap$OFFSET); }
    public static void softcap(MemorySegment s, float v) { s.set(JAVA_FLOAT, softcap$OFFSET, v); }
    public static MemorySegment c2p(MemorySegment s) { return s.get(ADDRESS, c2p$OFFSET); }
    public static void c2p(MemorySegment s, MemorySegment v) { s.set(ADDRESS, c2p$OFFSET, v); }
    public static MemorySegment p2c(MemorySegment s) { return s.get(ADDRESS, p2c$OFFSET); }
    public static void p2c(MemorySegment s, MemorySegment v) { s.set(ADDRESS, p2c$OFFSET, v); }
    public static long c2p_rows(MemorySegment s) { return s.get(JAVA_LONG, c2p_rows$OFFSET); }
    public static void c2p_rows(MemorySegment s, long v) { s.set(JAVA_LONG, c2p_rows$OFFSET, v); }
    public static long p2c_rows(MemorySegment s) { return s.get(JAVA_LONG, p2c_rows$OFFSET); }
    public static void p2c_rows(MemorySegment s, long v) { s.set(JAVA_LONG, p2c_rows$OFFSET, v); }
    public static int dis_span(MemorySegment s) { return s.get(JAVA_INT, dis_span$OFFSET); }
    public static void dis_span(MemorySegment s, int v) { s.set(JAVA_INT, dis_span$OFFSET, v); }
    public static int dis_buckets(MemorySegment s) { return s.get(JAVA_INT, dis_buckets$OFFSET); }
    public static void dis_buckets(MemorySegment s, int v) { s.set(JAVA_INT, dis_buckets$OFFSET, v); }
    public static int dis_max_position(MemorySegment s) { return s.get(JAVA_INT, dis_max_position$OFFSET); }
    public static void dis_max_position(MemorySegment s, int v) { s.set(JAVA_INT, dis_max_position$OFFSET, v); }
    public static int dis_reserved(MemorySegment s) { return s.get(JAVA_INT, dis_reserved$OFFSET); }
    public static void dis_reserved(MemorySegment s, int v) { s.set(JAVA_INT, dis_reserved$OFFSET, v); }
    public static MemorySegment sinks(MemorySegment s) { return s.get(ADDRESS, sinks$OFFSET); }
    public static void sinks(MemorySegment s, MemorySegment v) { s.set(ADDRESS, sinks$OFFSET, v); }
    public static MemorySegment alibi_slopes(MemorySegment s) { return s.get(ADDRESS, alibi_slopes$OFFSET); }
    public static void alibi_slopes(MemorySegment s, MemorySegment v) { s.set(ADDRESS, alibi_slopes$OFFSET, v); }
}
