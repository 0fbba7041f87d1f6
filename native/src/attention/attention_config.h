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

// Paged decode (decode.cuh). A block (split, KV head, sequence) streams its keys through dynamic shared
// memory in tiles (K and V, two cp.async stages, each row padded by 16 bytes so that the lanes' 16-byte
// reads of different rows fall in different banks); all query rows of the GQA group (R = NH / NKV · Tq)
// are scored against each tile, up to kDecodeRowsPerPass per pass, so a K/V element leaves device memory
// once per pass for the whole group. R ≤ 2 (MHA, one or two new tokens): the 4 / R warps of a row split
// each tile's keys and merge their softmax states at the end.
constexpr int kDecodeRowsPerWarp = 4;  // rows a warp holds in registers: 4 × (kRowDims + 2) floats
constexpr int kDecodeRowsPerPass = kRowThreads / 32 * kDecodeRowsPerWarp;
// Shared-memory budget of a block: below the 48 KB that needs no opt-in; 40 KB keeps 32-key tiles at
// HS 128 in 16 bits (2 × 2 × 32 × 272 bytes + the queries) and allows 4 blocks per SM (the register limit
// of __launch_bounds__(128, 4)) on sm_80 and sm_90, 2 on sm_86/sm_89 (100 KB). Bytes in flight per SM are
// about half its shared memory either way (one stage loads while the other is read).
constexpr int kDecodeSmemBudget = 40 * 1024;
constexpr int kDecodeMaxTile = 32;  // keys per tile: at most one per lane

struct DecodeLayout {
    int wpr;        // warps per query row: 4 / R for R ≤ 2, else 1
    int rows_pass;  // query rows per pass: min(R, kDecodeRowsPerPass)
    int pitch;      // elements per K or V row in shared memory: HS + 16 bytes
    int tile;       // keys per tile: a power of two in [wpr, 32]
    int q_off;      // byte offsets in dynamic shared memory: the pass's queries (rows_pass × HS fp32),
    int part_off;   //   the warps' partial o (4 × HS fp32) and (m, l) (4 × 2 fp32) when wpr > 1
    int bytes;      // dynamic shared memory the launcher passes
};

// The layout for head size hs, element size eb (2 or 4) and R rows per block. For hs ≤ kRowMaxHs it stays
// within the budget (the tightest, fp32 at 256: 16 rows, 16 KB of queries and 4-key tiles, 32.6 KB; one row,
// 8-key tiles and the partial states, 39.4 KB); the launcher refuses more than 48 KB all the same.
T4J_HOST_DEVICE constexpr DecodeLayout decode_layout(int hs, int eb, int R) {
    DecodeLayout l{};
    l.wpr = R >= 3 ? 1 : (R == 2 ? 2 : 4);
    l.rows_pass = R < kDecodeRowsPerPass ? R : kDecodeRowsPerPass;
    l.pitch = hs + 16 / eb;
    const int q_bytes = l.rows_pass * hs * 4;
    const int part_bytes = l.wpr > 1 ? (kRowThreads / 32) * (hs + 2) * 4 : 0;
    const int per_key = 2 * 2 * l.pitch * eb;  // K and V, two stages
    int tile = kDecodeMaxTile;
    while (tile > l.wpr && tile * per_key + q_bytes + part_bytes > kDecodeSmemBudget) tile /= 2;
    l.tile = tile;
    l.q_off = tile * per_key;
    l.part_off = l.q_off + q_bytes;
    l.bytes = l.part_off + part_bytes;
    return l;
}

// Dynamic shared memory of a varlen decode (ABI 17, t4j_decode_params.cu_seqlens_q): each block takes the layout of its
// own R = group · Lq_b, as a launch over its sequence alone with Tq = Lq_b does (the same tiles, key slices and merge
// order: the same bits), so the launch passes the largest over Lq_b = 1..tq_max; fewer rows can need more (R ≤ 2 adds
// the warps' partial states and keeps larger key tiles).
T4J_HOST_DEVICE constexpr int decode_varlen_bytes(int hs, int eb, int group, int tq_max) {
    int bytes = 0;
    for (int tq = 1; tq <= tq_max; tq++) {
        const int b = decode_layout(hs, eb, group * tq).bytes;
        bytes = b > bytes ? b : bytes;
    }
    return bytes;
}

// Keys per split of a sequence with L keys: ceil(L / num_splits), at least split_keys (0: no minimum). The
// splits used are ceil(L / chunk) ≤ num_splits; the rest exit at once and the combine skips them, so a
// launch sized for the cache's capacity (a captured graph) runs as many splits as the length needs.
T4J_HOST_DEVICE constexpr int decode_chunk(int L, int num_splits, int split_keys) {
    const int even = (L + num_splits - 1) / num_splits;
    const int chunk = even > split_keys ? even : split_keys;
    return chunk > 0 ? chunk : 1;
}
T4J_HOST_DEVICE constexpr int decode_splits_used(int L, int num_splits, int split_keys) {
    const int used = (L + decode_chunk(L, num_splits, split_keys) - 1) / decode_chunk(L, num_splits, split_keys);
    return used < 1 ? 1 : (used > num_splits ? num_splits : used);
}

}  // namespace t4j
