// embedding.cuh — the fused input embedding: token row (× token_scale) + learned position row (+ token
// type row), summed in fp32 and rounded once. One thread block per output row (grid-stride), threads over C.
// Ids outside their table are clamped (no out-of-bounds read) and reported through error_row.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

// Clamps id to [0, n) and records row + 1 in *flag (when there is one) when it was outside.
__device__ __forceinline__ int64_t checked_id(int32_t id, int64_t n, int64_t row, int32_t* flag) {
    if (id < 0 || id >= n) {
        if (flag != nullptr && threadIdx.x == 0) {
            atomicMin(flag, static_cast<int32_t>(row + 1 < 2147483647 ? row + 1 : 2147483647));
        }
        return id < 0 ? 0 : n - 1;
    }
    return id;
}

template <typename T>
__device__ __forceinline__ void embedding_rows(const t4j_embedding_params& p) {
    const T* tok = static_cast<const T*>(p.token_table);     // (vocab, C)
    const T* pos = static_cast<const T*>(p.position_table);  // (max_positions, C) or null
    const T* typ = static_cast<const T*>(p.type_table);      // (type_vocab, C) or null
    const float scale = p.token_scale == 0.0f ? 1.0f : p.token_scale;
    for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
        int32_t* flags = p.error_row;
        const T* t = tok + checked_id(p.ids[row], p.vocab, row, flags) * p.cols;
        const int64_t at = p.positions ? checked_id(p.positions[row], p.max_positions, row, flags ? flags + 2 : nullptr)
                                       : p.position_offset + row % p.seq_len;
        const T* ps = pos ? pos + at * p.cols : nullptr;
        const T* ty = p.type_ids ? typ + checked_id(p.type_ids[row], p.type_vocab, row, flags ? flags + 1 : nullptr) * p.cols
                                 : nullptr;
        T* out = static_cast<T*>(p.out) + row * p.out_row_stride;  // (C)
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
            float v = to_f32(t[c]) * scale;
            if (ps) v += to_f32(ps[c]);
            if (ty) v += to_f32(ty[c]);
            out[c] = from_f32<T>(v);
        }
    }
}

}  // namespace t4j
