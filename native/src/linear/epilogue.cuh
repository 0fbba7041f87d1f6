// epilogue.cuh — the activations of the MLP family and the per-element epilogue that both the
// tensor-core GEMM (linear.cuh) and the stand-alone bias_act kernel apply, so the two agree bit for bit.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

// fp32 activation; `act` is a T4J_ACT_* value (validated by the launcher).
__device__ __forceinline__ float activate(float x, int32_t act) {
    switch (act) {
        case T4J_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
        case T4J_ACT_GELU_TANH: {
            const float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);  // sqrt(2/pi) (x + 0.044715 x^3)
            return 0.5f * x * (1.0f + tanhf(u));
        }
        case T4J_ACT_RELU: return fmaxf(x, 0.0f);
        case T4J_ACT_SILU: return x / (1.0f + expf(-x));
        default: return x;
    }
}

// act(y) [* g] [+ r], with y and g already holding bias; fp32.
__device__ __forceinline__ float epilogue_value(float y, bool gated, float g, bool has_res, float r, int32_t act) {
    float v = activate(y, act);
    if (gated) v *= g;
    if (has_res) v += r;
    return v;
}

}  // namespace t4j
