// linear_f32.cuh — the fp32 grouped GEMM (t4j_linear with group_offsets and T4J_DTYPE_F32): a mixture of
// experts' expert projections where the checking path is fp32. cuBLAS cannot read group sizes from
// device memory, so this is a plain SIMT tiled GEMM with the tensor-core kernel's epilogue
// (epilogue.cuh): C = act(alpha·A·op(B[g]) + bias[g]) [⊙ (alpha·A·op(B_gate[g]) + bias_gate[g])]
// [+ residual] (ABI 15: the group's rows of residual, which may be C itself), fp32 throughout (fmaf in
// k order). Block: a 64 × 64 tile of C, 256 threads of 4 × 4 outputs; K in slices of 16 through shared
// memory (A stored k-major, so a thread's 4 rows are one broadcast read). Group g's rows of A, C and
// residual are offsets[g] .. offsets[g+1]-1; blocks past them exit.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "epilogue.cuh"
#include "linear_config.h"

namespace t4j {
namespace linear {

constexpr int kF32BM = kF32TileM;
constexpr int kF32BN = kF32TileN;
constexpr int kF32BK = 16;
constexpr int kF32Threads = kF32TileThreads;  // 16 × 16 threads, each 4 rows × 4 columns of the tile
static_assert(kF32BM == 64 && kF32BN == 64 && kF32Threads == 256, "the thread layout below assumes these");

template <bool GATED, bool TRANS_B>
__device__ __forceinline__ void linear_f32_grouped_block(const t4j_linear_params& p) {
    constexpr int P = GATED ? 2 : 1;
    __shared__ float s_a[kF32BK][kF32BM + 4];       // (BK, BM): A's slice, k-major
    __shared__ float s_b[P][kF32BK][kF32BN + 4];    // (BK, BN) per product
    const int64_t g = blockIdx.z;
    int64_t lo = p.group_offsets[g];
    int64_t hi = p.group_offsets[g + 1];
    lo = lo < 0 ? 0 : (lo > p.m ? p.m : lo);
    hi = hi < lo ? lo : (hi > p.m ? p.m : hi);
    const int64_t M = hi - lo;
    const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kF32BM;
    const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kF32BN;
    if (m0 >= M) return;  // uniform across the block, before any barrier
    const float* A = static_cast<const float*>(p.a) + lo * p.lda;                       // (M, K)
    const float* B[P];                                                                   // (K, N) | (N, K)
    B[0] = static_cast<const float*>(p.b) + g * p.stride_b;
    if (GATED) B[P - 1] = static_cast<const float*>(p.b_gate) + g * p.stride_b;
    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    float acc[P][4][4] = {};
    for (int64_t k0 = 0; k0 < p.k; k0 += kF32BK) {
        __syncthreads();  // every thread is done with the previous slice
#pragma unroll
        for (int i = 0; i < kF32BM * kF32BK / kF32Threads; i++) {
            const int idx = threadIdx.x + i * kF32Threads;
            const int r = idx / kF32BK, kk = idx % kF32BK;  // consecutive threads: consecutive k of a row
            const int64_t gr = m0 + r, gk = k0 + kk;
            s_a[kk][r] = gr < M && gk < p.k ? A[gr * p.lda + gk] : 0.0f;
        }
#pragma unroll
        for (int q = 0; q < P; q++)
#pragma unroll
            for (int i = 0; i < kF32BN * kF32BK / kF32Threads; i++) {
                const int idx = threadIdx.x + i * kF32Threads;
                const int c = TRANS_B ? idx / kF32BK : idx % kF32BN;  // the contiguous dimension fastest
                const int kk = TRANS_B ? idx % kF32BK : idx / kF32BN;
                const int64_t gn = n0 + c, gk = k0 + kk;
                s_b[q][kk][c] = gn < p.n && gk < p.k ? B[q][TRANS_B ? gn * p.ldb + gk : gk * p.ldb + gn] : 0.0f;
            }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kF32BK; kk++) {
            float a[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = s_a[kk][ty * 4 + i];
#pragma unroll
            for (int q = 0; q < P; q++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const float b = s_b[q][kk][tx * 4 + j];
#pragma unroll
                    for (int i = 0; i < 4; i++) acc[q][i][j] = fmaf(a[i], b, acc[q][i][j]);
                }
        }
    }
    const float* bias = p.bias ? static_cast<const float*>(p.bias) + g * p.stride_bias : nullptr;  // group g's rows (ABI 11)
    const float* bias_g = GATED && p.bias_gate ? static_cast<const float*>(p.bias_gate) + g * p.stride_bias : nullptr;
    float* C = static_cast<float*>(p.c) + lo * p.ldc;  // (M, N)
    const float* res = p.residual ? static_cast<const float*>(p.residual) + lo * p.ld_residual : nullptr;  // (M, N), or C itself
    float bv[4], bg[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int64_t col = n0 + tx * 4 + j;
        bv[j] = bias && col < p.n ? bias[col] : 0.0f;
        bg[j] = bias_g && col < p.n ? bias_g[col] : 0.0f;
    }
    // Row by row (one row pointer of C and of the residual live at a time); each residual element is read by the
    // thread that then writes C there, so residual may be C itself.
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int64_t row = m0 + ty * 4 + i;
        if (row >= M) continue;
        float* c_row = C + row * p.ldc;
        const float* r_row = res ? res + row * p.ld_residual : nullptr;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int64_t col = n0 + tx * 4 + j;
            if (col >= p.n) continue;
            const float y = p.alpha * acc[0][i][j] + bv[j];
            const float gv = GATED ? p.alpha * acc[P - 1][i][j] + bg[j] : 0.0f;
            const float r = r_row ? r_row[col] : 0.0f;
            c_row[col] = epilogue_value(y, GATED, gv, r_row != nullptr, r, p.activation, p.act_limit);
        }
    }
}

}  // namespace linear
}  // namespace t4j
