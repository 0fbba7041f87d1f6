// attention_kernels.cu — the extern "C" entry points of the attention family. Templates cover
// dtype × head size only where the code needs compile-time sizes (the tensor-core prefill: F16/BF16
// × instance HS 32/64/80/96/128/256; the launcher pads every other multiple of 8 up to the next
// instance, and at 256 splits the output columns over two blocks so the accumulators do not spill);
// masks, bias, packing and GQA are runtime fields of the params. Names:
//   t4j_attn_mma_{f16,bf16}_hs{32,64,80,96,128,256}   prefill on tensor cores
//   t4j_attn_paged_{f16,bf16}_hs{...}    the same reading the paged KV cache (t4j_decode, Tq > 16)
//   t4j_attn_rows_f32                    fp32 prefill, any multiple of 8 ≤ 256 (the checking path)
//   t4j_attn_mma_dis_{f16,bf16}_hs64, t4j_attn_rows_dis_f32   the same with DeBERTa's disentangled bias (head sizes
//                                        33..64 on tensor cores: every published DeBERTa-v2/v3 has 64)
//   t4j_decode_{f32,f16,bf16}            paged split-KV decode, any multiple of 8 ≤ 256
//   t4j_decode_combine_{f32,f16,bf16}    merges the decode's per-split partial results
//   t4j_kv_append_{b16,b32}              paged-cache append by element width
#include "attention_mma.cuh"
#include "attention_paged.h"
#include "attention_rowwise.cuh"
#include "decode.cuh"
#include "kv_cache.cuh"

// Launch bounds (256 threads — the 128-row tiles — at least 1 block per SM): a warp keeps the registers of
// the 64-row kernel (before 128-row tiles, 128 threads with the minimum gave 138-243 registers and no spills,
// where ptxas's own target had spilled 12 bytes at HS 80 on sm_80; nvcc 13.0, 2026-12-04). Occupancy is
// bounded by the accumulators and the shared-memory stages anyway.
#define T4J_ATTN_MMA(NAME, T, HS)                                                                                 \
    extern "C" __global__ void __launch_bounds__(t4j::kMmaTallThreads, 1) NAME(const t4j_attention_params p) { \
        t4j::attention_mma<T, HS>(p);                                                                            \
    }

T4J_ATTN_MMA(t4j_attn_mma_f16_hs32, __half, 32)
T4J_ATTN_MMA(t4j_attn_mma_f16_hs64, __half, 64)
T4J_ATTN_MMA(t4j_attn_mma_f16_hs80, __half, 80)
T4J_ATTN_MMA(t4j_attn_mma_f16_hs96, __half, 96)
T4J_ATTN_MMA(t4j_attn_mma_f16_hs128, __half, 128)
T4J_ATTN_MMA(t4j_attn_mma_f16_hs256, __half, 256)
T4J_ATTN_MMA(t4j_attn_mma_bf16_hs32, __nv_bfloat16, 32)
T4J_ATTN_MMA(t4j_attn_mma_bf16_hs64, __nv_bfloat16, 64)
T4J_ATTN_MMA(t4j_attn_mma_bf16_hs80, __nv_bfloat16, 80)
T4J_ATTN_MMA(t4j_attn_mma_bf16_hs96, __nv_bfloat16, 96)
T4J_ATTN_MMA(t4j_attn_mma_bf16_hs128, __nv_bfloat16, 128)
T4J_ATTN_MMA(t4j_attn_mma_bf16_hs256, __nv_bfloat16, 256)

#define T4J_ATTN_MMA_DIS(NAME, T, HS)                                                                             \
    extern "C" __global__ void __launch_bounds__(t4j::kMmaTallThreads, 1) NAME(const t4j_attention_params p) { \
        t4j::attention_mma<T, HS, true>(p);                                                                      \
    }

T4J_ATTN_MMA_DIS(t4j_attn_mma_dis_f16_hs64, __half, 64)
T4J_ATTN_MMA_DIS(t4j_attn_mma_dis_bf16_hs64, __nv_bfloat16, 64)

// Paged prefill (t4j_decode with Tq > kMaxDecodeRows): the same kernel reading K/V through the block table.
#define T4J_ATTN_PAGED(NAME, T, HS)                                                                          \
    extern "C" __global__ void __launch_bounds__(t4j::kMmaTallThreads, 1)                                  \
        NAME(const t4j_attention_params p, const t4j_decode_params d) {                                     \
        t4j::attention_mma_paged<T, HS>(p, d);                                                              \
    }

T4J_ATTN_PAGED(t4j_attn_paged_f16_hs32, __half, 32)
T4J_ATTN_PAGED(t4j_attn_paged_f16_hs64, __half, 64)
T4J_ATTN_PAGED(t4j_attn_paged_f16_hs80, __half, 80)
T4J_ATTN_PAGED(t4j_attn_paged_f16_hs96, __half, 96)
T4J_ATTN_PAGED(t4j_attn_paged_f16_hs128, __half, 128)
T4J_ATTN_PAGED(t4j_attn_paged_f16_hs256, __half, 256)
T4J_ATTN_PAGED(t4j_attn_paged_bf16_hs32, __nv_bfloat16, 32)
T4J_ATTN_PAGED(t4j_attn_paged_bf16_hs64, __nv_bfloat16, 64)
T4J_ATTN_PAGED(t4j_attn_paged_bf16_hs80, __nv_bfloat16, 80)
T4J_ATTN_PAGED(t4j_attn_paged_bf16_hs96, __nv_bfloat16, 96)
T4J_ATTN_PAGED(t4j_attn_paged_bf16_hs128, __nv_bfloat16, 128)
T4J_ATTN_PAGED(t4j_attn_paged_bf16_hs256, __nv_bfloat16, 256)

extern "C" __global__ void __launch_bounds__(t4j::kRowThreads) t4j_attn_rows_f32(const t4j_attention_params p) {
    t4j::attention_rowwise<float>(p);
}
// As the decode's: stating a minimum of blocks keeps ptxas off its own register target (64), where it spilled 12 bytes.
extern "C" __global__ void __launch_bounds__(t4j::kRowThreads, 4) t4j_attn_rows_dis_f32(const t4j_attention_params p) {
    t4j::attention_rowwise<float, true>(p);
}

// Decode is bandwidth-bound: at least 4 blocks (16 warps) per SM in flight. Stating the minimum also
// keeps ptxas off its own register target, which spilled 12-32 bytes on every arch.
#define T4J_DECODE(SUFFIX, T)                                                                                    \
    extern "C" __global__ void __launch_bounds__(t4j::kRowThreads, 4) t4j_decode_##SUFFIX(const t4j_decode_params p) { \
        t4j::decode_split<T>(p);                                                                                 \
    }                                                                                                            \
    extern "C" __global__ void __launch_bounds__(t4j::kRowThreads)                                              \
        t4j_decode_combine_##SUFFIX(const t4j_decode_params p) {                                                 \
        t4j::decode_combine<T>(p);                                                                               \
    }

T4J_DECODE(f32, float)
T4J_DECODE(f16, __half)
T4J_DECODE(bf16, __nv_bfloat16)

extern "C" __global__ void __launch_bounds__(256) t4j_kv_append_b16(const t4j_kv_append_params p) {
    t4j::kv_append<uint16_t>(p);
}
extern "C" __global__ void __launch_bounds__(256) t4j_kv_append_b32(const t4j_kv_append_params p) {
    t4j::kv_append<uint32_t>(p);
}
