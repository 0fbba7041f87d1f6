// softcap.cuh — Gemma 2's final logit soft-capping in place (t4j_softcap_params in t4j.h):
// x <- cap · tanh(x / cap), in fp32 (tanhf, a true division), rounded once to the dtype. Elementwise
// and memory-bound: a grid-stride loop over the 16-byte vectors (4 fp32 or 8 16-bit elements) that
// start at x's first 16-byte boundary; the fewer than 8 elements before it and after the last whole
// vector go to the first threads of the grid.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

constexpr int kSoftcapThreads = 256;

__device__ __forceinline__ float softcap_value(float v, float cap) { return cap * tanhf(v / cap); }

// One 32-bit word of a vector, capped: one fp32 element or two 16-bit ones (lower address in the low half).
__device__ __forceinline__ uint32_t softcap_word(uint32_t w, float cap, float) {
    return __float_as_uint(softcap_value(__uint_as_float(w), cap));
}
__device__ __forceinline__ uint32_t softcap_half(uint32_t bits, float cap, __half) {
    const float v = __half2float(__ushort_as_half(static_cast<unsigned short>(bits)));
    return __half_as_ushort(__float2half_rn(softcap_value(v, cap)));
}
__device__ __forceinline__ uint32_t softcap_half(uint32_t bits, float cap, __nv_bfloat16) {
    const float v = __uint_as_float(bits << 16);
    return __bfloat16_as_ushort(__float2bfloat16_rn(softcap_value(v, cap)));
}
template <typename T>
__device__ __forceinline__ uint32_t softcap_word(uint32_t w, float cap, T) {
    return softcap_half(w & 0xffffu, cap, T()) | (softcap_half(w >> 16, cap, T()) << 16);
}

// Grid-stride, kSoftcapThreads per block; x is aligned to its element size (the launcher checks it).
template <typename T>
__device__ __forceinline__ void softcap_elements(const t4j_softcap_params& p) {
    constexpr int kVec = 16 / static_cast<int>(sizeof(T));
    T* x = static_cast<T*>(p.x);  // (n)
    const float cap = p.cap;
    const int64_t off = static_cast<int64_t>(reinterpret_cast<uintptr_t>(x) & 15) / static_cast<int64_t>(sizeof(T));
    const int64_t to_boundary = off == 0 ? 0 : kVec - off;
    const int64_t head = to_boundary < p.n ? to_boundary : p.n;              // elements before the first vector
    const int64_t vecs = (p.n - head) / kVec;
    const int64_t rest = head + vecs * kVec;                                 // first element after the last vector
    const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    uint4* v = reinterpret_cast<uint4*>(x + head);  // (vecs)
    for (int64_t i = tid; i < vecs; i += stride) {
        uint4 w = v[i];
        w.x = softcap_word(w.x, cap, T());
        w.y = softcap_word(w.y, cap, T());
        w.z = softcap_word(w.z, cap, T());
        w.w = softcap_word(w.w, cap, T());
        v[i] = w;
    }
    if (tid < head) x[tid] = from_f32<T>(softcap_value(to_f32(x[tid]), cap));
    if (tid < p.n - rest) x[rest + tid] = from_f32<T>(softcap_value(to_f32(x[rest + tid]), cap));
}

}  // namespace t4j
