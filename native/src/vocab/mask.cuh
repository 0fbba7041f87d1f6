// mask.cuh — structured outputs' token mask in place (t4j_mask_params in t4j.h): a logit whose bit in
// its row's I32 bitset is clear becomes -inf, kept logits are not read or written. A grid-stride loop,
// a thread per logit: a warp's 32 threads read one bitset word (one transaction) and write 32
// consecutive logits of the row.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

constexpr int kMaskThreads = 256;

template <typename T>
__device__ __forceinline__ void mask_logits(const t4j_mask_params& p) {
    T* x = static_cast<T*>(p.logits);          // (rows, logits_row_stride)
    const int32_t* bits = p.allowed;           // (rows, allowed_row_stride), id v at bit v % 32 of word v / 32
    const int64_t n = p.rows * p.cols;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const T minus_inf = from_f32<T>(-__int_as_float(0x7f800000));
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
        const int64_t r = i / p.cols;
        const int64_t v = i - r * p.cols;
        const uint32_t w = static_cast<uint32_t>(bits[r * p.allowed_row_stride + (v >> 5)]);
        if (((w >> (v & 31)) & 1u) == 0u) x[r * p.logits_row_stride + v] = minus_inf;
    }
}

}  // namespace t4j
