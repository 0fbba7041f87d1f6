// rope.cuh — rotary position embedding in place on q or k (t4j_rope_params in t4j.h). One thread
// block per token (b, t), grid-stride; the block's threads first form the token's cos/sin pairs
// in shared memory (fp32, times the attention scaling, rounded to the dtype as transformers casts
// them), then rotate every
// head's pairs (i, i + R/2). Standalone: fusing it into the QKV epilogue or the KV append is the
// speed work's choice (docs/ops.md).
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

constexpr int kRopeThreads = 128;
constexpr int kRopeMaxHalf = 256;  // R/2 ≤ 256: head sizes up to 512

// Dynamic NTK's frequency i of a sequence of seq_len positions, in fp32 as transformers computes it
// from a seq_len tensor (modeling_rope_utils._compute_dynamic_ntk_parameters).
__device__ __forceinline__ float rope_dynamic_inv_freq(const t4j_rope_params& p, int seq_len, int i) {
    const float L = static_cast<float>(max(seq_len, p.max_positions));
    const float R = static_cast<float>(p.rotary_dim);
    const float g = p.factor * L / static_cast<float>(p.max_positions) - (p.factor - 1.0f);
    const float base = p.base * powf(g, R / (R - 2.0f));
    return 1.0f / powf(base, static_cast<float>(2 * i) / R);
}

template <typename T>
__device__ __forceinline__ void rope_tokens(const t4j_rope_params& p) {
    __shared__ float cs[2][kRopeMaxHalf];
    const int half = p.rotary_dim / 2;
    const int64_t tokens = static_cast<int64_t>(p.B) * p.T;
    for (int64_t bt = blockIdx.x; bt < tokens; bt += gridDim.x) {
        const int b = static_cast<int>(bt / p.T);
        const int t = static_cast<int>(bt % p.T);
        const float pos = static_cast<float>(p.positions[bt]);
        __syncthreads();  // the previous token's cs is no longer read
        // LongRoPE: the long factors' table once the sequence is past the original max positions
        const float* table = p.dynamic == 2 && p.seq_lens[b] > p.max_positions ? p.inv_freq + half : p.inv_freq;
        for (int i = threadIdx.x; i < half; i += blockDim.x) {
            const float f = p.dynamic == 1 ? rope_dynamic_inv_freq(p, p.seq_lens[b], i) : table[i];
            float s, c;
            sincosf(pos * f, &s, &c);
            cs[0][i] = round_to<T>(c * p.attention_scaling);
            cs[1][i] = round_to<T>(s * p.attention_scaling);
        }
        __syncthreads();
        T* x = static_cast<T*>(p.x) + b * p.x_batch_stride + t * p.x_row_stride;  // (H, HS)
        for (int idx = threadIdx.x; idx < p.H * half; idx += blockDim.x) {
            const int h = idx / half;
            const int i = idx % half;
            T* xh = x + h * p.x_head_stride;
            const float x0 = to_f32(xh[i]);
            const float x1 = to_f32(xh[i + half]);
            const float c = cs[0][i], s = cs[1][i];
            xh[i] = from_f32<T>(x0 * c - x1 * s);
            xh[i + half] = from_f32<T>(x1 * c + x0 * s);
        }
    }
}

}  // namespace t4j
