// penalty.cuh — repetition / presence / frequency penalties and an additive logit bias, in place on
// the logits before sampling (t4j_penalty_params in t4j.h). One thread per (row, j) over the rows'
// distinct previous ids: no two threads touch one logit, so no atomics; a grid-stride loop.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

constexpr int kPenaltyThreads = 256;

// The rule of t4j.h, one rounded step at a time (the _rn intrinsics keep nvcc from fusing a product
// and a difference into an FMA, so fp32 logits get the CPU twin's bits).
// bias is applied only where given (x + 0 would turn −0 into +0).
__device__ __forceinline__ float penalized(float x, const float* bias, int32_t count, float repetition, float presence,
                                           float frequency) {
    if (bias != nullptr) x = __fadd_rn(x, *bias);
    if (count >= 0) x = x < 0.0f ? __fmul_rn(x, repetition) : __fdiv_rn(x, repetition);
    if (count > 0) x = __fsub_rn(__fsub_rn(x, __fmul_rn(frequency, static_cast<float>(count))), presence);
    return x;
}

template <typename T>
__device__ __forceinline__ void penalty_elements(const t4j_penalty_params& p) {
    const int64_t n = p.rows * p.width;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += stride) {
        const int32_t id = p.ids[e];
        if (id < 0 || id >= p.cols) continue;
        const int64_t r = e / p.width;
        T* x = static_cast<T*>(p.logits) + r * p.logits_row_stride + id;  // element (r, id) of (rows, V)
        // per-row penalties (ABI 13) where given, else the scalars
        const float repetition = p.repetition_rows != nullptr ? p.repetition_rows[r] : p.repetition;
        const float presence = p.presence_rows != nullptr ? p.presence_rows[r] : p.presence;
        const float frequency = p.frequency_rows != nullptr ? p.frequency_rows[r] : p.frequency;
        *x = from_f32<T>(penalized(to_f32(*x), p.bias != nullptr ? p.bias + e : nullptr, p.counts[e], repetition,
                                   presence, frequency));
    }
}

}  // namespace t4j
