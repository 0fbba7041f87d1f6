// attention_config.h — the attention kernels' block shapes, defined once for the kernels
// (attention_mma.cuh, attention_rowwise.cuh) and the launcher (attention_launch.cpp), so that a
// one-sided edit cannot launch a grid or block the kernels do not expect. Plain C++17.
#pragma once

namespace t4j {

// Tensor-core prefill (attention_mma.cuh).
constexpr int kMmaRows = 64;     // query rows per block: 4 warps × the 16 rows of an mma tile
constexpr int kMmaKeys = 64;     // keys per tile: 32 fp32 scores per thread, 4 k-steps of P·V
constexpr int kMmaThreads = 128;

// Row-wise kernels: fp32 prefill, decode, combine (attention_rowwise.cuh).
constexpr int kRowThreads = 128;  // 4 warps = 4 query rows per block
constexpr int kRowMaxHs = 256;    // 8 dimensions per lane
constexpr int kRowDims = kRowMaxHs / 32;
constexpr int kMaxDecodeRows = 16;  // decode queries per sequence (Tq) one block serves

}  // namespace t4j
