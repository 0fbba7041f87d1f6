// epilogue.cuh — the activations of the MLP family and the per-element epilogue that both the
// tensor-core GEMM (linear.cuh) and the stand-alone bias_act kernel apply, so the two agree bit for bit.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

// GPT-OSS's clamped SwiGLU (T4J_ACT_SWIGLU_OAI, ABI 11): transformers' swiglu_alpha (the float 1.702, as torch holds
// it) and swiglu_limit; the CPU twin is Activations.swigluOai and gateFactor.
constexpr float kSwigluAlpha = 1.702f;
constexpr float kSwigluLimit = 7.0f;

// fp32 activation; `act` is a T4J_ACT_* value and `limit` T4J_ACT_CLAMP's act_limit (both validated by the launcher).
__device__ __forceinline__ float activate(float x, int32_t act, float limit) {
    switch (act) {
        case T4J_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
        case T4J_ACT_GELU_TANH: {
            const float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);  // sqrt(2/pi) (x + 0.044715 x^3)
            return 0.5f * x * (1.0f + tanhf(u));
        }
        case T4J_ACT_RELU: return fmaxf(x, 0.0f);
        case T4J_ACT_SILU: return x / (1.0f + expf(-x));
        case T4J_ACT_SWIGLU_OAI: {  // gated only (the launchers check): the activated branch, a' = min(a, 7), NaN kept
            const float a = x > kSwigluLimit ? kSwigluLimit : x;
            return a / (1.0f + expf(-kSwigluAlpha * a));
        }
        case T4J_ACT_CLAMP: return x > limit ? limit : (x < -limit ? -limit : x);  // ABI 16, plain ops only; NaN kept
        case T4J_ACT_RELU2: {  // ABI 19: max(x, 0)^2, NaN kept (NaN < 0 is false), -0 squares to +0
            const float r = x < 0.0f ? 0.0f : x;
            return r * r;
        }
        default: return x;
    }
}

// What the gated form multiplies act(y) by: g itself, or for T4J_ACT_SWIGLU_OAI clamp(g, −7, 7) + 1 (NaN kept).
__device__ __forceinline__ float gate_factor(float g, int32_t act) {
    if (act != T4J_ACT_SWIGLU_OAI) return g;
    return (g > kSwigluLimit ? kSwigluLimit : (g < -kSwigluLimit ? -kSwigluLimit : g)) + 1.0f;
}

// act(y) [* gate_factor(g)] [+ r], with y and g already holding bias; fp32. limit: T4J_ACT_CLAMP's act_limit.
__device__ __forceinline__ float epilogue_value(float y, bool gated, float g, bool has_res, float r, int32_t act, float limit) {
    float v = activate(y, act, limit);
    if (gated) v *= gate_factor(g, act);
    if (has_res) v += r;
    return v;
}

}  // namespace t4j
