// kv_cache.cuh — appends new K/V rows to the paged KV cache: row t of sequence b goes to key
// position cache_lengths[b] + t, i.e. block block_table[b][pos / block_size], slot pos % block_size.
// One thread per element; dtype-agnostic (E is a 2- or 4-byte word). A block id outside
// [0, num_blocks) is skipped (the launcher's caller validated the table; nothing is written astray).
// Varlen (ABI 17, cu_seqlens): the new rows are packed, row r is sequence b's row r − cu[b] for the b with
// cu[b] ≤ r < cu[b+1], found by a binary search over the B + 1 offsets (read on the device).
#pragma once

#include <cstdint>

#include "t4j.h"

namespace t4j {

// The sequence of packed row r: the last b in [0, B] with cu[b] ≤ r (so an empty sequence, cu[b] = cu[b+1], is passed
// over), or −1 when r is not inside [cu[b], cu[b+1]) of a b < B (r ≥ cu[B], or offsets that are not non-decreasing):
// such a row is skipped, so bad offsets never make a row land at a negative t or in another sequence's range.
__device__ __forceinline__ int varlen_row_seq(const int32_t* cu, int B, int64_t r) {
    int lo = 0, hi = B;
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (cu[mid] <= r) lo = mid;
        else hi = mid - 1;
    }
    return lo < B && cu[lo] <= r && r < cu[lo + 1] ? lo : -1;
}

template <typename E>
__device__ __forceinline__ void kv_append(const t4j_kv_append_params& p) {
    const bool varlen = p.cu_seqlens != nullptr;
    // padded: (B, Tnew, NKV, HS) elements; varlen: (Tnew, NKV, HS), Tnew = cu_seqlens[B]
    const int64_t total = (varlen ? 1 : static_cast<int64_t>(p.B)) * p.Tnew * p.NKV * p.HS;
    for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
         idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int d = static_cast<int>(idx % p.HS);
        const int kvh = static_cast<int>((idx / p.HS) % p.NKV);
        const int64_t row = idx / (static_cast<int64_t>(p.HS) * p.NKV);  // padded: b · Tnew + t; varlen: the packed row
        int b, t;
        int64_t k_src, v_src;  // the source row's first element
        if (varlen) {
            b = varlen_row_seq(p.cu_seqlens, p.B, row);
            if (b < 0) continue;
            t = static_cast<int>(row - p.cu_seqlens[b]);
            k_src = row * p.k_row_stride;
            v_src = row * p.v_row_stride;
        } else {
            t = static_cast<int>(row % p.Tnew);
            b = static_cast<int>(row / p.Tnew);
            k_src = b * p.k_batch_stride + t * p.k_row_stride;
            v_src = b * p.v_batch_stride + t * p.v_row_stride;
        }
        const int pos = p.cache_lengths[b] + t;
        const int page = pos / p.block_size;
        if (pos < 0 || page >= p.max_blocks_per_seq) continue;
        const int64_t blk = p.block_table[static_cast<int64_t>(b) * p.max_blocks_per_seq + page];
        if (blk < 0 || blk >= p.num_blocks) continue;
        const int64_t dst = ((blk * p.block_size + pos % p.block_size) * p.NKV + kvh) * p.HS + d;
        static_cast<E*>(p.k_cache)[dst] = static_cast<const E*>(p.k)[k_src + kvh * p.k_head_stride + d];
        static_cast<E*>(p.v_cache)[dst] = static_cast<const E*>(p.v)[v_src + kvh * p.v_head_stride + d];
    }
}

}  // namespace t4j
