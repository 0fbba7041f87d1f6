// attention_paged.h — paged prefill: t4j_decode with more than kMaxDecodeRows queries (a prompt or a
// chunk prefilled into the paged cache) runs on the tensor-core prefill kernel (attention_mma_paged),
// which reads q, out, lse, the mask, bias, window, soft-cap and sinks from this dense view of the decode and
// the keys through the block table. Plain C++17: the launcher and native/tools/emulator share it.
#pragma once

#include <cstdint>

#include "t4j.h"

namespace t4j {

// Query i of sequence b sits at key position cache_lengths[b] − Tq + i (t4j_decode_params; varlen: − Lq_b + i): the
// attention's bottom-right alignment with Lk = cache_lengths[b] (key_lengths), clamped by attn_seq
// to Tk = the rows the block table addresses, as the decode kernel clamps it.
inline t4j_attention_params paged_prefill_view(const t4j_decode_params& d) {
    t4j_attention_params a{};
    a.out = d.out;                     // (B, Tq, NH, HS), varlen (total_q, NH, HS)
    a.lse = d.lse;                     // (B, NH, Tq), varlen (NH, total_q): the attention's layouts
    a.q = d.q;                         // (B, Tq, NH, HS), varlen (total_q, NH, HS)
    a.cu_seqlens_q = d.cu_seqlens_q;   // varlen (ABI 17): packed queries, cu_seqlens_k NULL (attn_seq: keys from the cache)
    a.k = d.k_cache;                   // read through the block table, never through the strides below
    a.v = d.v_cache;
    a.key_lengths = d.cache_lengths;
    a.rel_bias = d.rel_bias;
    a.q_batch_stride = d.q_batch_stride;
    a.q_row_stride = d.q_row_stride;
    a.q_head_stride = d.q_head_stride;
    a.k_row_stride = a.v_row_stride = static_cast<int64_t>(d.NKV) * d.HS;
    a.k_head_stride = a.v_head_stride = d.HS;
    a.out_batch_stride = d.out_batch_stride;
    a.out_row_stride = d.out_row_stride;
    a.out_head_stride = d.out_head_stride;
    a.B = d.B;
    a.NH = d.NH;
    a.NKV = d.NKV;
    a.Tq = d.Tq;
    const int64_t rows = static_cast<int64_t>(d.max_blocks_per_seq) * d.block_size;
    a.Tk = rows > INT32_MAX ? INT32_MAX : static_cast<int32_t>(rows);
    a.HS = d.HS;
    a.mask = d.causal ? T4J_ATTN_MASK_CAUSAL : T4J_ATTN_MASK_NONE;
    a.scale = d.scale;
    a.num_buckets = d.num_buckets;
    a.max_distance = d.max_distance;
    a.bias_bidirectional = d.bias_bidirectional;
    a.dtype = d.dtype;
    a.window = d.window;
    a.softcap = d.softcap;
    a.sinks = d.sinks;                 // one pass over all keys: the kernel ends each row with the sink (attention.cuh)
    a.alibi_slopes = d.alibi_slopes;   // query i at key position i + Lk − Tq = cache_lengths[b] − Tq + i, as decode's
    return a;
}

}  // namespace t4j
