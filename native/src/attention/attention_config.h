// attention_config.h — the attention kernels' block shapes, defined once for the kernels
// (attention_mma.cuh, attention_rowwise.cuh) and the launcher (attention_launch.cpp), so that a
// one-sided edit cannot launch a grid or block the kernels do not expect. Plain C++17.
#pragma once

#if defined(__CUDACC__) || defined(T4J_HOST_EMULATION)
#define T4J_HOST_DEVICE __host__ __device__
#else
#define T4J_HOST_DEVICE
#endif

namespace t4j {

// Tensor-core prefill (attention_mma.cuh). A block is 4 or 8 warps, each owning 16 query rows:
// 64-row tiles for short queries, 128-row tiles (FlashAttention-2's kBlockM) from kMmaTallFrom rows on,
// where each K/V tile in shared memory then serves twice the rows. 8 warps × 16 rows rather than
// FA2's 4 warps × 32: a warp's registers stay those of the 64-row kernel (accumulators of 32 rows
// would need 2 × 64 more at HS 128, past the 255 cap).
constexpr int kMmaThreads = 128;      // 64-row tiles
constexpr int kMmaTallThreads = 256;  // 128-row tiles
constexpr int kMmaTallFrom = 256;     // query rows (Tq) from which the launcher takes 128-row tiles
T4J_HOST_DEVICE constexpr int mma_rows(int threads) { return threads / 32 * 16; }
T4J_HOST_DEVICE constexpr int mma_threads(int tq) { return tq >= kMmaTallFrom ? kMmaTallThreads : kMmaThreads; }
// Keys per tile: 64 (32 fp32 scores per thread, 4 k-steps of P·V); 32 at 256, where two stages of 64
// keys of K (64 × 264 × 2 bytes) and V would pass the 99 KB a block may have on sm_86/sm_89.
T4J_HOST_DEVICE constexpr int mma_keys(int hs) { return hs > 128 ? 32 : 64; }
// Output columns per block: all of them up to 128; 128 at 256 (2 blocks per query tile). The
// launcher multiplies grid x by hs / mma_columns(hs).
T4J_HOST_DEVICE constexpr int mma_columns(int hs) { return hs > 128 ? 128 : hs; }
constexpr int kMmaStages = 2;         // K/V tiles in flight: cp.async fills tile n+1 while tile n is used
// T5 bias: the block tabulates bias · log2(e) for relative positions −D..D, D = min(max_distance, this),
// once (one bucket per distance, not per key); T5's max_distance is 128.
constexpr int kT5TableDistance = 256;
// Dynamic shared memory of a tensor-core block (bytes): the K and V stages (16-bit elements, rows padded
// by 8 elements), the T5 distance table and the per-tile relative-position table.
T4J_HOST_DEVICE constexpr int mma_shared_bytes(int hs, int threads) {
    return kMmaStages * mma_keys(hs) * ((hs + 8) + (mma_columns(hs) + 8)) * 2 +
           (2 * kT5TableDistance + 1 + mma_rows(threads) + mma_keys(hs)) * 4;
}

// Row-wise kernels: fp32 prefill, decode, combine (attention_rowwise.cuh).
constexpr int kRowThreads = 128;  // 4 warps = 4 query rows per block
constexpr int kRowMaxHs = 256;    // 8 dimensions per lane
constexpr int kRowDims = kRowMaxHs / 32;
constexpr int kMaxDecodeRows = 16;  // decode queries per sequence (Tq) one block serves

}  // namespace t4j
