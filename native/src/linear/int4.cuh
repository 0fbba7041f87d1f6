// int4.cuh — decoding group-wise affine 4-bit weights (ABI 21, T4J_WEIGHTS_INT4: AWQ's and GPTQ's 4-bit checkpoints
// in GPTQ's packing) into the F16 / BF16 tile the tensor-core GEMM (linear.cuh) reads. A 32-bit word holds 8
// consecutive k of one column n, code i in bits 4i .. 4i + 3; each (group, n) has an F16 scale s and a U8 zero point z.
// The value is (q − z)·s rounded once to F16, as AutoAWQ's and AutoGPTQ's torch dequantization computes it in half
// precision ((q − z) is an integer of at most 9 bits and s has 11, so the fp32 product is exact and __float2half_rn
// rounds it once), then converted to T (BF16: a second rounding, as the weights' copy to BF16 after a dequantizing
// load makes it): the CPU twin (CpuInt4) and the dequantizing loader (IntQuant) give the same bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../common/dtype.cuh"

namespace t4j {
namespace linear {

// One INT4 matrix as t4j_linear_params describes it (b or b_gate with their scales and zero points).
struct Int4Matrix {
    const uint32_t* codes;  // (K/8, ld) words
    const __half* scales;   // (groups, ld)
    const uint8_t* zeros;   // (groups, ld)
    const int32_t* gidx;    // (K) or nullptr
    int64_t ld;
    int32_t group_size;     // > 0 when gidx is nullptr
    int32_t groups;         // ≥ 1
};

// The group of k: gidx[k] (act-order) clamped into [0, groups), so a bad index reads a wrong group, never astray; or
// k / group_size.
__device__ __forceinline__ int64_t int4_group(const Int4Matrix& m, int64_t k) {
    if (m.gidx == nullptr) {
        const int64_t g = k / m.group_size;
        return g < m.groups ? g : m.groups - 1;
    }
    const int32_t g = m.gidx[k];
    return g < 0 ? 0 : (g >= m.groups ? m.groups - 1 : g);
}

// The 16 bits of a T (a register move on the device).
template <typename T>
__device__ __forceinline__ uint32_t int4_bits(T v) {
    uint16_t u;
    std::memcpy(&u, &v, 2);
    return u;
}

// (q − z)·s, rounded once to F16, then to T.
template <typename T>
__device__ __forceinline__ uint32_t int4_value(uint32_t q, uint32_t z, float s) {
    const __half h = __float2half_rn(static_cast<float>(static_cast<int>(q) - static_cast<int>(z)) * s);
    if constexpr (std::is_same_v<T, __half>) {
        return int4_bits(h);
    } else {
        return int4_bits(from_f32<T>(__half2float(h)));
    }
}

// Elements k .. k + 7 of column n (k a multiple of 8, inside K), whose codes are `word`, as 4 words of two T (the lower
// k in the low half).
template <typename T>
__device__ __forceinline__ void int4_decode_word(const Int4Matrix& m, uint32_t word, int64_t n, int64_t k, uint32_t (&out)[4]) {
    if (m.gidx == nullptr) {  // group_size is a multiple of 8: one group for the word
        const int64_t at = int4_group(m, k) * m.ld + n;
        const float s = __half2float(m.scales[at]);
        const uint32_t z = m.zeros[at];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            out[i] = int4_value<T>((word >> (8 * i)) & 15u, z, s) | int4_value<T>((word >> (8 * i + 4)) & 15u, z, s) << 16;
        }
        return;
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        uint32_t pair = 0;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int e = 2 * i + h;
            const int64_t at = int4_group(m, k + e) * m.ld + n;
            pair |= int4_value<T>((word >> (4 * e)) & 15u, m.zeros[at], __half2float(m.scales[at])) << (16 * h);
        }
        out[i] = pair;
    }
}

// The same, reading the word.
template <typename T>
__device__ __forceinline__ void int4_decode8(const Int4Matrix& m, int64_t n, int64_t k, uint32_t (&out)[4]) {
    int4_decode_word<T>(m, m.codes[(k / 8) * m.ld + n], n, k, out);
}

// The fp32 value of the T whose bits are the low 16 of b.
template <typename T>
__device__ __forceinline__ float int4_f32(uint32_t b) {
    const uint16_t u = static_cast<uint16_t>(b);
    T v;
    std::memcpy(&v, &u, 2);
    return to_f32(v);
}

}  // namespace linear
}  // namespace t4j
