// bias_act.cuh — the MLP epilogue as its own elementwise kernel: out = act(x + bias)
// [* (gate + bias_gate)] [+ residual] (T4J_ACT_SWIGLU_OAI: the gate's factor clamp(gate + bias_gate, −7, 7) + 1,
// epilogue.cuh; the fused [up ; gate] GEMM's two halves arrive here as x and gate). It follows a cuBLAS GEMM where the custom GEMM is not used
// (F32, small M, -Dt4j.gemm=cublas) and is the "separate bias/activation kernel" the fused GEMM is
// benchmarked against. Grid-stride over rows (blockIdx.x) and columns (threads).
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"
#include "epilogue.cuh"

namespace t4j {

template <typename T>
__device__ __forceinline__ void bias_act_rows(const t4j_bias_act_params& p) {
    const T* bias = static_cast<const T*>(p.bias);
    const T* bias_g = static_cast<const T*>(p.bias_gate);
    const bool gated = p.gate != nullptr;
    const bool has_res = p.residual != nullptr;
    for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
        const T* x = static_cast<const T*>(p.x) + row * p.x_row_stride;                                  // (cols)
        const T* gt = gated ? static_cast<const T*>(p.gate) + row * p.gate_row_stride : nullptr;         // (cols)
        const T* r = has_res ? static_cast<const T*>(p.residual) + row * p.residual_row_stride : nullptr; // (cols)
        T* out = static_cast<T*>(p.out) + row * p.out_row_stride;                                         // (cols)
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
            const float y = to_f32(x[c]) + (bias ? to_f32(bias[c]) : 0.0f);
            const float g = gated ? to_f32(gt[c]) + (bias_g ? to_f32(bias_g[c]) : 0.0f) : 0.0f;
            const float rv = has_res ? to_f32(r[c]) : 0.0f;
            out[c] = from_f32<T>(epilogue_value(y, gated, g, has_res, rv, p.activation, p.act_limit));
        }
    }
}

}  // namespace t4j
