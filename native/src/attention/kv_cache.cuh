// kv_cache.cuh — appends new K/V rows to the paged KV cache: row t of sequence b goes to key
// position cache_lengths[b] + t, i.e. block block_table[b][pos / block_size], slot pos % block_size.
// One thread per element; dtype-agnostic (E is a 2- or 4-byte word). A block id outside
// [0, num_blocks) is skipped (the launcher's caller validated the table; nothing is written astray).
#pragma once

#include <cstdint>

#include "t4j.h"

namespace t4j {

template <typename E>
__device__ __forceinline__ void kv_append(const t4j_kv_append_params& p) {
    const int64_t total = static_cast<int64_t>(p.B) * p.Tnew * p.NKV * p.HS;
    for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
         idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int d = static_cast<int>(idx % p.HS);
        const int kvh = static_cast<int>((idx / p.HS) % p.NKV);
        const int t = static_cast<int>((idx / (static_cast<int64_t>(p.HS) * p.NKV)) % p.Tnew);
        const int b = static_cast<int>(idx / (static_cast<int64_t>(p.HS) * p.NKV * p.Tnew));
        const int pos = p.cache_lengths[b] + t;
        const int page = pos / p.block_size;
        if (pos < 0 || page >= p.max_blocks_per_seq) continue;
        const int64_t blk = p.block_table[static_cast<int64_t>(b) * p.max_blocks_per_seq + page];
        if (blk < 0 || blk >= p.num_blocks) continue;
        const int64_t dst = ((blk * p.block_size + pos % p.block_size) * p.NKV + kvh) * p.HS + d;
        static_cast<E*>(p.k_cache)[dst] =
            static_cast<const E*>(p.k)[b * p.k_batch_stride + t * p.k_row_stride + kvh * p.k_head_stride + d];
        static_cast<E*>(p.v_cache)[dst] =
            static_cast<const E*>(p.v)[b * p.v_batch_stride + t * p.v_row_stride + kvh * p.v_head_stride + d];
    }
}

}  // namespace t4j
