// norm.cuh — LayerNorm and RMSNorm over rows, optionally fused with the residual add.
//
// One thread block per row (grid-stride over rows). Pass 1 forms h = x + residual rounded to the
// storage dtype, writes it to residual_out, keeps it in shared memory as fp32 when the launcher
// provided cols floats of it (norm_config.h), and sums it; pass 2 (LayerNorm) sums squared deviations from the
// mean, which is exact where one-pass E[h^2]-E[h]^2 cancels; pass 3 scales and writes the output.
// Without the shared cache, h is read back from residual_out (which may alias the inputs) or
// recomputed from x and residual.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"
#include "../common/reduce.cuh"
#include "norm_config.h"

namespace t4j {

template <typename T>
__device__ __forceinline__ float norm_load_h(const t4j_norm_params& p, const T* x, const T* res, const T* res_out,
                                             int64_t c) {
    if (res_out != nullptr) return to_f32(res_out[c]);
    float h = to_f32(x[c]);
    if (res != nullptr) h = round_to<T>(h + to_f32(res[c]));
    return h;
}

template <typename T>
__device__ __forceinline__ void norm_rows(const t4j_norm_params& p, int32_t use_cache) {
#ifdef T4J_HOST_EMULATION
    float* cache = reinterpret_cast<float*>(t4j_emu::dynamic_smem());  // native/tools/emulator/simt.h
#else
    extern __shared__ float cache[];  // (cols) when use_cache, else empty
#endif
    __shared__ float scratch[32];
    const int64_t cols = p.cols;
    const bool layer = p.kind == T4J_NORM_LAYER;
    const T* weight = static_cast<const T*>(p.weight);
    const T* bias = static_cast<const T*>(p.bias);

    for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
        const T* x = static_cast<const T*>(p.x) + row * p.x_row_stride;                        // (cols)
        const T* res = p.residual ? static_cast<const T*>(p.residual) + row * p.residual_row_stride : nullptr;
        T* res_out = p.residual_out ? static_cast<T*>(p.residual_out) + row * p.residual_out_row_stride : nullptr;
        T* out = static_cast<T*>(p.out) + row * p.out_row_stride;                               // (cols)

        float sum = 0.0f;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
            float h = to_f32(x[c]);
            if (res != nullptr) h = round_to<T>(h + to_f32(res[c]));
            if (res_out != nullptr) res_out[c] = from_f32<T>(h);
            if (use_cache) cache[c] = h;
            sum += layer ? h : h * h;
        }
        sum = block_sum(sum, scratch);

        float mean = 0.0f;
        float rstd;
        if (layer) {
            mean = sum / static_cast<float>(cols);
            float sq = 0.0f;
            for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
                const float h = use_cache ? cache[c] : norm_load_h<T>(p, x, res, res_out, c);
                const float d = h - mean;
                sq += d * d;
            }
            sq = block_sum(sq, scratch);
            rstd = rsqrtf(sq / static_cast<float>(cols) + p.eps);
        } else {
            rstd = rsqrtf(sum / static_cast<float>(cols) + p.eps);
        }

        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
            const float h = use_cache ? cache[c] : norm_load_h<T>(p, x, res, res_out, c);
            float y = (h - mean) * rstd * to_f32(weight[c]);
            if (bias != nullptr) y += to_f32(bias[c]);
            out[c] = from_f32<T>(y);
        }
        __syncthreads();  // the cache is rewritten by the next row
    }
}

}  // namespace t4j
