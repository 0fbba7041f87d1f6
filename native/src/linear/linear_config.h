// linear_config.h — the tensor-core GEMM's tile shapes, pipeline depth, shared-memory padding and
// workspace layout, defined once for the kernels (linear.cuh) and the launcher (linear_launch.cpp), so
// a one-sided edit cannot make the launcher request less shared memory or workspace than the
// kernel uses. Plain C++17: compiled by nvcc and by the host compiler.
#pragma once

#include <cstdint>

#if defined(__CUDACC__) || defined(T4J_HOST_EMULATION)
#define T4J_HD __host__ __device__
#else
#define T4J_HD
#endif

namespace t4j {
namespace linear {

constexpr int kBK = 32;        // K per stage: two k16 mma steps per barrier
constexpr int kStages = 3;     // cp.async ring depth: 2 slices in flight hide ~1 µs of DRAM latency
constexpr int kPad = 8;        // 16 bytes of padding per shared row: conflict-free ldmatrix

// Block shapes. Large: 128×128, 8 warps (2 × 4), the shape for big grids (T ≥ ~2048): large tiles
// halve global traffic per flop against 64×64. Small: 64×64, 4 warps (2 × 2), for grids the large
// tiles would leave under one wave (T = 128 gives M/128 = 1 row of tiles). The launcher chooses.
// Only small tiles split K: the launcher takes large tiles only when they already fill the GPU,
// and leaving the split-K code out keeps the large kernels at 128 registers (2 blocks per SM).
// MIN_BLOCKS per SM goes to __launch_bounds__ and caps registers at 65536 / (THREADS · MIN_BLOCKS)
// = 128 for both shapes: what the accumulators and fragments need without spilling, and enough
// blocks per SM to overlap one block's epilogue with another's main loop.
template <int BM_, int BN_, int WARPS_M_, int WARPS_N_, bool SPLIT_K_, int MIN_BLOCKS_>
struct Config {
    static constexpr int MIN_BLOCKS = MIN_BLOCKS_;
    static constexpr int BM = BM_;
    static constexpr int BN = BN_;
    static constexpr int WARPS_M = WARPS_M_;
    static constexpr int WARPS_N = WARPS_N_;
    static constexpr int THREADS = WARPS_M_ * WARPS_N_ * 32;
    static constexpr bool SPLIT_K = SPLIT_K_;
};
using Large = Config<128, 128, 2, 4, false, 2>;
using Small = Config<64, 64, 2, 2, true, 4>;

// Per-instance tile shape. Gated blocks compute two products, so they take half the N width
// to keep the same number of fp32 accumulators per thread.
template <typename CFG, bool GATED>
struct Tile {
    static constexpr int BM = CFG::BM;
    static constexpr int BN = GATED ? CFG::BN / 2 : CFG::BN;
    static constexpr int WM = BM / CFG::WARPS_M;  // rows per warp
    static constexpr int WN = BN / CFG::WARPS_N;  // columns per warp and product
    static constexpr int MT = WM / 16;            // m16 tiles per warp
    static constexpr int NT = WN / 8;             // n8 tiles per warp and product
    static constexpr int PRODUCTS = GATED ? 2 : 1;
    static_assert(NT % 2 == 0, "B fragments are loaded two n8 tiles at a time");
};

// Shared-memory elements of one stage: the A tile, then one B tile per product, rows padded.
T4J_HD constexpr int stage_elems(int bm, int bn, bool gated, bool trans_b) {
    return bm * (kBK + kPad) + (gated ? 2 : 1) * (trans_b ? bn * (kBK + kPad) : kBK * (bn + kPad));
}
template <typename CFG, bool GATED, bool TRANS_B>
T4J_HD constexpr int stage_elems() {
    return stage_elems(Tile<CFG, GATED>::BM, Tile<CFG, GATED>::BN, GATED, TRANS_B);
}

// Tile shape of C per block, as the launcher sees it (runtime large / gated).
struct TileShape {
    int64_t bm;
    int64_t bn;  // of C per block: the config's BN, halved when gated
    uint32_t threads;
};
inline TileShape tile_shape(bool large, bool gated) {
    return large ? TileShape{Tile<Large, false>::BM, gated ? Tile<Large, true>::BN : Tile<Large, false>::BN, Large::THREADS}
                 : TileShape{Tile<Small, false>::BM, gated ? Tile<Small, true>::BN : Tile<Small, false>::BN, Small::THREADS};
}

// Dynamic shared memory of one launch: kStages stages of 16-bit elements.
T4J_HD constexpr uint32_t shared_bytes(int bm, int bn, bool gated, bool trans_b) {
    return static_cast<uint32_t>(kStages * stage_elems(bm, bn, gated, trans_b) * 2);
}

// The fp32 grouped SIMT GEMM (linear_f32.cuh): a 64 × 64 tile of C per block of 256 threads.
constexpr int kF32TileM = 64;
constexpr int kF32TileN = 64;
constexpr unsigned kF32TileThreads = 256;

// INT4 GEMV (ABI 21, int4_gemv.cuh): up to kGemvMaxRows rows of x take it instead of the tile GEMM. A block is
// kGemvWarps warps over kGemvCols = 32 columns of C, one column per lane; each warp takes a contiguous share of the K / 8
// word rows (kGemvUnroll words in flight per lane), and the warps' partial sums meet in shared memory. Sized by Little's
// law, not yet measured: N / 32 blocks (128 at N 4096) put about one block on each SM, which then keeps 16 warps × 32
// lanes × 8 words × 4 bytes = 16 KB of codes in flight — what an H100's HBM3 needs per SM to stream at full rate (about
// 3.3 TB/s × 0.7 µs over 132 SMs).
constexpr int kGemvMaxRows = 8;
constexpr int kGemvWarps = 16;
constexpr int kGemvThreads = kGemvWarps * 32;
constexpr int kGemvCols = 32;
constexpr int kGemvUnroll = 8;

// Split-K workspace: [tile counters, int32, padded to 256 bytes][partials, fp32,
// (PRODUCTS, batch, split, M, N)].
T4J_HD inline int64_t splitk_counter_bytes(int64_t tiles) { return (tiles * 4 + 255) / 256 * 256; }

// Each split takes at least this many K slices (256 of K), so its pipeline fill and its partial-tile
// round trip through the workspace stay small next to its math.
constexpr int64_t kMinSlicesPerSplit = 8;
// More splits than this add workspace traffic faster than they add parallelism (a guess until measured).
constexpr int64_t kMaxSplit = 16;

}  // namespace linear
}  // namespace t4j
