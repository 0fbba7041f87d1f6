// int4_gemv.cuh — C = act(alpha·A·Wᵀ + bias) [⊙ (alpha·A·W_gateᵀ + bias_gate)] [+ residual] for a few rows of A (M ≤
// kGemvMaxRows: a decode step's) over 4-bit weights (ABI 21, T4J_WEIGHTS_INT4, GPTQ's packing), on CUDA cores. Decode
// reads every weight once and does little math on it, so the weights' bytes set its time: where the tensor-core tile
// GEMM (linear.cuh's INT4 path) loads a 32-wide K slice synchronously per stage and runs 64-row tiles for one row, this
// kernel streams the (K/8, N) code words as they lie — lane l of a warp takes column n0 + l, so each load of a warp is
// 32 consecutive words (128 bytes) — with kGemvUnroll words per lane in flight, and splits K over the block's warps:
//   - block (column tile, batch item): kGemvWarps warps × 32 columns; warp w sums word rows [w·R/W, (w+1)·R/W) of
//     K/8 = R in order, each word decoded to 8 values exactly as the tile GEMM decodes it (int4_decode_word), times
//     the 8 values of A's row m (read as warp-uniform loads: one transaction serves the warp; fp32 FMAs);
//   - the warps' fp32 partial sums (PRODUCTS × M × 32) meet in shared memory and thread (m, lane) adds them in warp
//     order, then applies the MLP epilogue (epilogue.cuh) and writes C once.
// Deterministic: the same M, N, K give the same sums in the same order. Not the tile GEMM's order, so a row's bits
// depend on which of the two its M takes (as split-K already makes them depend on M).
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"
#include "epilogue.cuh"
#include "int4.cuh"
#include "linear_config.h"

namespace t4j {
namespace linear {

// 8 consecutive elements of one row of A as fp32: one 16-byte load where `vec` (16-byte aligned rows), else 8.
template <typename T>
__device__ __forceinline__ void gemv_load8(const T* src, bool vec, float (&x)[8]) {
    if (vec) {
        const uint4 w = *reinterpret_cast<const uint4*>(src);
        const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            x[2 * i] = int4_f32<T>(words[i]);
            x[2 * i + 1] = int4_f32<T>(words[i] >> 16);
        }
    } else {
#pragma unroll
        for (int i = 0; i < 8; i++) x[i] = to_f32(src[i]);
    }
}

static_assert(kGemvThreads >= kGemvMaxRows * kGemvCols, "the epilogue takes one output (row, column) per thread");

template <typename T, bool GATED>
__device__ __forceinline__ void int4_gemv_block(const t4j_linear_params& p) {
    constexpr int P = GATED ? 2 : 1;
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int64_t batch = blockIdx.y;
    const int64_t n = static_cast<int64_t>(blockIdx.x) * kGemvCols + lane;
    const bool col = n < p.n;
    const int rows = static_cast<int>(p.m);  // ≤ kGemvMaxRows (the launcher)
    const T* A = static_cast<const T*>(p.a) + batch * p.stride_a;
    const bool vec = (reinterpret_cast<uintptr_t>(A) & 15u) == 0 && p.lda % 8 == 0;
    const Int4Matrix mats[2] = {
        {static_cast<const uint32_t*>(p.b), static_cast<const __half*>(p.b_scale), static_cast<const uint8_t*>(p.b_zero), p.b_gidx,
         p.ldb, p.b_group_size, p.b_groups},
        {static_cast<const uint32_t*>(GATED ? p.b_gate : p.b), static_cast<const __half*>(GATED ? p.b_gate_scale : p.b_scale),
         static_cast<const uint8_t*>(GATED ? p.b_gate_zero : p.b_zero), GATED ? p.b_gate_gidx : p.b_gidx, p.ldb, p.b_group_size,
         p.b_groups}};
    const int64_t words = p.k / 8;
    const int64_t share = (words + kGemvWarps - 1) / kGemvWarps;
    const int64_t r0 = warp * share < words ? warp * share : words;
    const int64_t r1 = r0 + share < words ? r0 + share : words;

    float acc[P][kGemvMaxRows] = {};
    if (col) {
        for (int64_t r = r0; r < r1; r += kGemvUnroll) {
            uint32_t w[P][kGemvUnroll];
#pragma unroll
            for (int u = 0; u < kGemvUnroll; u++)  // the loads first: kGemvUnroll · P words in flight per lane
#pragma unroll
                for (int q = 0; q < P; q++) w[q][u] = r + u < r1 ? mats[q].codes[(r + u) * p.ldb + n] : 0u;
#pragma unroll
            for (int u = 0; u < kGemvUnroll; u++) {
                if (r + u >= r1) break;
                const int64_t k = (r + u) * 8;
                float v[P][8];
#pragma unroll
                for (int q = 0; q < P; q++) {
                    uint32_t pairs[4];
                    int4_decode_word<T>(mats[q], w[q][u], n, k, pairs);
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        v[q][2 * i] = int4_f32<T>(pairs[i]);
                        v[q][2 * i + 1] = int4_f32<T>(pairs[i] >> 16);
                    }
                }
#pragma unroll
                for (int m = 0; m < kGemvMaxRows; m++) {
                    if (m >= rows) break;
                    float x[8];
                    gemv_load8<T>(A + m * p.lda + k, vec, x);
#pragma unroll
                    for (int q = 0; q < P; q++)
#pragma unroll
                        for (int i = 0; i < 8; i++) acc[q][m] = fmaf(x[i], v[q][i], acc[q][m]);
                }
            }
        }
    }

    __shared__ float partial[kGemvWarps][P][kGemvMaxRows][kGemvCols];
#pragma unroll
    for (int q = 0; q < P; q++)
#pragma unroll
        for (int m = 0; m < kGemvMaxRows; m++) partial[warp][q][m][lane] = acc[q][m];
    __syncthreads();
    const int m = threadIdx.x / kGemvCols;  // threads (m, lane) for m < rows: one output each; the others are done
    if (m >= rows || !col) return;
    float y[P];
#pragma unroll
    for (int q = 0; q < P; q++) {
        float sum = 0.0f;
#pragma unroll
        for (int ww = 0; ww < kGemvWarps; ww++) sum += partial[ww][q][m][lane];
        y[q] = sum;
    }
    const T* bias = static_cast<const T*>(p.bias);
    const T* bias_g = static_cast<const T*>(p.bias_gate);
    const float yv = p.alpha * y[0] + (bias ? to_f32(bias[n]) : 0.0f);
    const float gv = GATED ? p.alpha * y[P - 1] + (bias_g ? to_f32(bias_g[n]) : 0.0f) : 0.0f;
    const T* res = static_cast<const T*>(p.residual);
    const float rv = res ? to_f32(res[batch * p.stride_residual + m * p.ld_residual + n]) : 0.0f;
    T* C = static_cast<T*>(p.c) + batch * p.stride_c;
    C[m * p.ldc + n] = from_f32<T>(epilogue_value(yv, GATED, gv, res != nullptr, rv, p.activation, p.act_limit));
}

}  // namespace linear
}  // namespace t4j
