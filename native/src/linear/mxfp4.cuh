// mxfp4.cuh — decoding MXFP4 weights (the OCP microscaling FP4 format of gpt-oss's experts: per 32 values along K,
// 16 bytes of FP4 (e2m1) codes, low nibble first, and one E8M0 scale byte) into the BF16 tile the tensor-core GEMM
// (linear.cuh) reads. The values are the CPU twin's (CpuMxfp4.decodeRowScalar) bit for bit: FP4[code] · 2^(e/2) ·
// 2^(e − e/2), e = scale − 127, in fp32, two exact products (no factor overflows; the value overflows to ±inf exactly
// where FP4[code] · 2^e does, at scale 255 only), and every such value is exact in BF16 (at most two significant bits;
// the smallest, 0.5 · 2^−127, is a BF16 subnormal), so its BF16 bits are its fp32 bits' upper half.
#pragma once

#include <cstdint>
#ifdef T4J_HOST_EMULATION
#include <cstring>
#endif

namespace t4j {
namespace linear {

__device__ __forceinline__ float mxfp4_bits_to_float(uint32_t b) {
#ifdef T4J_HOST_EMULATION
    float f;
    std::memcpy(&f, &b, 4);
    return f;
#else
    return __uint_as_float(b);
#endif
}
__device__ __forceinline__ uint32_t mxfp4_float_to_bits(float f) {
#ifdef T4J_HOST_EMULATION
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
#else
    return __float_as_uint(f);
#endif
}

// The fp32 value of FP4 (e2m1) code c (0..15): magnitude 0, 0.5 (subnormal e2m1), or 2^(e−1) · (1 + m/2) for exponent
// bits e = 1..3 and mantissa bit m; the sign is bit 3 (code 8 is −0).
__device__ __forceinline__ float fp4_value(uint32_t c) {
    const uint32_t em = c & 7u;
    const uint32_t mag = em < 2u ? em * 0x3F000000u                       // 0, 0.5
                                 : ((em >> 1) + 126u) << 23 | (em & 1u) << 22;  // 1, 1.5, 2, 3, 4, 6
    return mxfp4_bits_to_float(mag | (c & 8u) << 28);
}

// 2^e for e in [−64, 64] (a normal fp32).
__device__ __forceinline__ float mxfp4_pow2(int e) { return mxfp4_bits_to_float(static_cast<uint32_t>(e + 127) << 23); }

// 16 consecutive values of one MXFP4 block: the 8 bytes `codes` (little-endian: byte i is bits 8i..8i+7, its low
// nibble the even value), all under scale byte `scale`, as 8 words of two BF16 (the even value in the low half).
__device__ __forceinline__ void mxfp4_decode16(uint64_t codes, uint32_t scale, uint32_t (&out)[8]) {
    const int e = static_cast<int>(scale) - 127;
    const int first = e / 2;  // truncated toward zero, as Java's e / 2
    const float s1 = mxfp4_pow2(first);
    const float s2 = mxfp4_pow2(e - first);
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const uint32_t byte = static_cast<uint32_t>(codes >> (8 * i)) & 0xFFu;
        const float lo = fp4_value(byte & 15u) * s1 * s2;
        const float hi = fp4_value(byte >> 4) * s1 * s2;
        out[i] = (mxfp4_float_to_bits(lo) >> 16) | (mxfp4_float_to_bits(hi) & 0xFFFF0000u);
    }
}

}  // namespace linear
}  // namespace t4j
