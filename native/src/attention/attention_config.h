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

// Tensor-core prefill (attention_mma.cuh).
constexpr int kMmaRows = 64;     // query rows per block: 4 warps × the 16 rows of an mma tile
constexpr int kMmaThreads = 128;
// Keys per tile: 64 (32 fp32 scores per thread, 4 k-steps of P·V); 32 at 256, where 64 keys of K
// (64 × 264 × 2 bytes) and V would pass the 48 KB of static shared memory.
T4J_HOST_DEVICE constexpr int mma_keys(int hs) { return hs > 128 ? 32 : 64; }
// Output columns per block: all of them up to 128; 128 at 256 (2 blocks per query tile). The
// launcher multiplies grid x by hs / mma_columns(hs).
T4J_HOST_DEVICE constexpr int mma_columns(int hs) { return hs > 128 ? 128 : hs; }

// Row-wise kernels: fp32 prefill, decode, combine (attention_rowwise.cuh).
constexpr int kRowThreads = 128;  // 4 warps = 4 query rows per block
constexpr int kRowMaxHs = 256;    // 8 dimensions per lane
constexpr int kRowDims = kRowMaxHs / 32;
constexpr int kMaxDecodeRows = 16;  // decode queries per sequence (Tq) one block serves

}  // namespace t4j
