// attention_mma.cuh — prefill/encoder attention on tensor cores (FlashAttention-2's forward scheme,
// written for this ABI): one thread block = 4 or 8 warps = 64 or 128 query rows of one (sequence,
// head); each warp owns 16 rows. K and V stream through shared memory in tiles of 64 keys (32 at
// instance size 256), two stages deep: cp.async fills tile n+1 while tile n is used. S = Q·Kᵀ
// (K fragments by ldmatrix) and O += P·V (V by ldmatrix.trans) use mma.sync m16n8k16 (bf16/fp16 in,
// fp32 accumulate); the softmax is online (running max m and sum l per row, in the log2 domain), so
// the Tq×Tk matrix exists only as one 16×64 register tile per warp.
// Masks: a tile pair that every row sees whole (inside the causal diagonal, the prefix, the window,
// and the keys) runs without any mask arithmetic; only tiles that straddle an edge test each score;
// tiles no row sees are never loaded (the causal end, the sliding window's start and, bidirectional, its end).
// T5 bias: the block tabulates bias·log2(e) for relative positions −D..D once (D = min(max_distance,
// kT5TableDistance); past max_distance the bucket is saturated), and each key tile copies the
// rows+keys−1 relative positions of its tile pair from it into a per-tile table (with the sliding
// window's −inf), so the inner loop adds one shared-memory word per score.
// Head sizes: the template's HS is the instance size (32, 64, 80, 96, 128, 256); the data's p.HS is
// any multiple of 8 up to it, the columns past p.HS read as zeros (they add nothing to q·k) and are
// never stored. At 256 a block computes half of the output columns (mma_columns), so its accumulators
// stay at 64 registers per thread as at 128; the two halves are neighbouring blocks in x and both
// compute the scores. Query tiles are taken last-first, so that under a causal mask the longest rows
// start first. sm_80+ (the fatbin's oldest target). T4J_HOST_EMULATION swaps the inline-asm
// instructions for native/tools/emulator's host versions (checking without a GPU).
#pragma once

#include "attention.cuh"
#include "attention_config.h"

namespace t4j {

template <typename T>
struct MmaType;
template <>
struct MmaType<__half> {
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<uint32_t*>(&h);
    }
    // d (16×8 fp32) += a (16×16, row) · b (16×8, col)
    static __device__ __forceinline__ void mma(float* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
#ifdef T4J_HOST_EMULATION
        t4j_emu::mma_m16n8k16<__half>(d, a, b0, b1);
#else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
    }
};
template <>
struct MmaType<__nv_bfloat16> {
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t*>(&h);
    }
    static __device__ __forceinline__ void mma(float* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
#ifdef T4J_HOST_EMULATION
        t4j_emu::mma_m16n8k16<__nv_bfloat16>(d, a, b0, b1);
#else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
    }
};

// Four 8×8 16-bit matrices from shared memory: lane 8m + r gives the address of row r of matrix m.
// Plain: B fragments of K (stored [key][dim]); TRANS (.trans): B fragments of V (stored [key][dim]).
template <bool TRANS>
__device__ __forceinline__ void ldmatrix_x4(uint32_t* r, const void* smem_row) {
#ifdef T4J_HOST_EMULATION
    t4j_emu::ldmatrix_x4_any(r, smem_row, TRANS);
#else
    const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem_row));
    if constexpr (TRANS) {
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
    } else {
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
    }
#endif
}

// 16-byte asynchronous global → shared copy (cp.async.cg: through L2 only); src_bytes 0 writes
// zeros and reads nothing. Groups: commit closes the copies issued so far; wait<N> returns when at
// most N groups are still in flight.
__device__ __forceinline__ void attn_cp_async16(void* dst, const void* src, int src_bytes) {
#ifdef T4J_HOST_EMULATION
    t4j_emu::cp_async16(dst, src, src_bytes);
#else
    const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(addr), "l"(src), "r"(src_bytes));
#endif
}
__device__ __forceinline__ void attn_cp_async_commit() {
#ifdef T4J_HOST_EMULATION
    t4j_emu::cp_async_commit();
#else
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N>
__device__ __forceinline__ void attn_cp_async_wait() {
#ifdef T4J_HOST_EMULATION
    t4j_emu::cp_async_wait(N);
#else
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// Issues the cp.async copies of key rows [n0, n0 + KEYS) × columns [c0, c0 + COLS) into shared memory
// (KEYS, LD): rows ≥ Lk and columns ≥ hs are zero-filled (0·V stays finite; zero K columns add
// nothing). row(j): key row j's first element. 16-byte vectors: row starts, c0 and hs are multiples
// of 8 elements. base: a valid address for the zero-filled copies, which read nothing.
template <typename T, int COLS, int LD, int KEYS, typename Row>
__device__ __forceinline__ void mma_async_tile(T* dst, Row row, const T* base, int n0, int Lk, int c0, int hs) {
    constexpr int kVecs = COLS / 8;  // 16-byte vectors per row
    for (int idx = threadIdx.x; idx < KEYS * kVecs; idx += blockDim.x) {
        const int r = idx / kVecs;
        const int c = (idx % kVecs) * 8;
        const bool in = n0 + r < Lk && c0 + c < hs;
        attn_cp_async16(dst + r * LD + c, in ? row(n0 + r) + c0 + c : base, in ? 16 : 0);
    }
}

// Two adjacent 16-bit elements (row, col), col even, of a (rows, hs) matrix; zero outside it.
template <typename T>
__device__ __forceinline__ uint32_t mma_word(const T* src, int64_t stride, int row, int col, int rows, int hs) {
    if (row >= rows || col >= hs) return 0u;
    return *reinterpret_cast<const uint32_t*>(src + row * stride + col);
}

// The T5 distance table of head h, entries first, first + step, ... of it: bias·log2(e) of rel = idx − D
// for idx in [0, 2D]. One bucket (a double-precision log, see t5_bucket) per distance, once per block.
__device__ __forceinline__ void t5_fill_distances(float* dist, int D, const t4j_attention_params& p, int h, int first,
                                                  int step) {
    for (int idx = first; idx < 2 * D + 1; idx += step) {
        const int bucket = t5_bucket(idx - D, p.num_buckets, p.max_distance, p.bias_bidirectional);
        dist[idx] = p.rel_bias[bucket * p.NH + h] * kLog2e;
    }
}

// T5 bias · log2(e) at relative position rel from the block's distance table dist (rel −D..D at
// rel + D). From |rel| = max_distance on, the bucket is the last of its side (the float32 log ratio
// is ≥ 1 − 2⁻²² there and n ≤ 4096, so the truncation reaches n − 1), so the table's ends stand for
// everything beyond when D = max_distance; a larger max_distance computes the far buckets directly.
__device__ __forceinline__ float t5_table_bias(const float* dist, int D, int rel, const t4j_attention_params& p, int h) {
    if (rel >= -D && rel <= D) return dist[rel + D];
    if (D == p.max_distance) return dist[rel < 0 ? 0 : 2 * D];
    return p.rel_bias[t5_bucket(rel, p.num_buckets, p.max_distance, p.bias_bidirectional) * p.NH + h] * kLog2e;
}

// One key tile against a warp's 16 query rows: S = Q·Kᵀ, scale (+ soft-cap, + bias table), mask when MASKED, online
// softmax update of (m_run, l_run, o), O += P·V. ks (KEYS, LD) and vs (KEYS, LDV) hold the tile;
// tile_s[(j − n0) − (i − m0) + rows − 1] is the bias (and window) of query i, key j when use_table.
template <typename T, int HS, bool MASKED, bool DIS>
__device__ __forceinline__ void mma_key_tile(const uint32_t (&qf)[HS / 16][4], float (&o)[mma_columns(HS) / 8][4],
                                             float (&m_run)[2], float (&l_run)[2], const T* ks, const T* vs,
                                             const float* tile_s, bool use_table, const t4j_attention_params& p,
                                             const AttnSeq& s, int m0, int n0, int rows, float scale,
                                             const Disentangled<T>& dis) {
    constexpr int KEYS = mma_keys(HS);
    constexpr int DV = mma_columns(HS);
    constexpr int LD = HS + 8;
    constexpr int LDV = DV + 8;
    const int lane = threadIdx.x % 32;
    const int g = lane / 4;
    const int t = lane % 4;
    const int row_lo = m0 + static_cast<int>(threadIdx.x / 32) * 16 + g;
    const int mat = lane / 8;  // ldmatrix: lane supplies row (lane % 8) of matrix (lane / 8)

    // S = Q · Kᵀ: matrices 0, 1 are dims [kk·16, +8), [kk·16 + 8, +8) of keys n·8.., 2 and 3 the same of
    // keys (n + 1)·8..: the b0, b1 of n tiles n and n + 1.
    float sc[KEYS / 8][4];
#pragma unroll
    for (int n = 0; n < KEYS / 8; n++) sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.0f;
    const T* krow = ks + ((mat >> 1) * 8 + lane % 8) * LD + (mat & 1) * 8;
#pragma unroll
    for (int kk = 0; kk < HS / 16; kk++) {
#pragma unroll
        for (int n = 0; n < KEYS / 8; n += 2) {
            uint32_t kb[4];
            ldmatrix_x4<false>(kb, krow + n * 8 * LD + kk * 16);
            MmaType<T>::mma(sc[n], qf[kk], kb[0], kb[1]);
            MmaType<T>::mma(sc[n + 1], qf[kk], kb[2], kb[3]);
        }
    }

    // Scale, or scale and soft-cap (attention.cuh's SoftCap), in a loop of its own: the cap inside the loop
    // below raised HS 64 from 164-168 to 187-193 registers (3 → 2 blocks of 128 threads per SM). Here, as
    // c2 − 2·c2 / (e^(2z/c) + 1) = c2 · tanh(x / c2) (z = scale · q·k, x = z · log2 e, c2 = softcap · log2 e):
    // e^(2z/c) = 2^(q·k · 2·scale / softcap), an exp2f and a fast division, which kept HS 64 at 167-168
    // where tanhf (its polynomial and exponential forms both evaluated) did not. Its error, a few ulp of c2
    // (~1e-5 in the log2 domain at softcap 50), is far below P's rounding to 16 bits. k is kept finite (a
    // subnormal cap): a zero score then stays 0 rather than 0 · inf = NaN.
    if (p.softcap > 0.0f) {
        const float c2 = p.softcap * kLog2e;
        const float k = fminf(fmaxf(2.0f * scale / p.softcap, -FLT_MAX), FLT_MAX);
#pragma unroll
        for (int n = 0; n < KEYS / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) sc[n][e] = c2 - __fdividef(2.0f * c2, exp2f(sc[n][e] * k) + 1.0f);
        }
    } else {
#pragma unroll
        for (int n = 0; n < KEYS / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) sc[n][e] *= scale;
        }
    }
    // DeBERTa's disentangled bias (instances of their own, DIS: in the others this loop took 25-31 registers more, HS 64
    // 168 → 199 on sm_80, nvcc 13.0): each in-range (query, key) pair reads its c2p and p2c entries at its distance's
    // column (attention.cuh's Disentangled), in a loop of its own as the soft-cap's.
    if constexpr (DIS) {
#pragma unroll
        for (int n = 0; n < KEYS / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int i = row_lo + 8 * (e / 2);
                const int j = n0 + n * 8 + 2 * t + (e & 1);
                if (i < s.Lq && j < s.Lk) sc[n][e] += dis(i, j);
            }
        }
    }
    // Bias, mask; the row maxima.
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int n = 0; n < KEYS / 8; n++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int r = e / 2;  // 0: row g, 1: row g + 8
            const int i = row_lo + 8 * r;
            const int j = n0 + n * 8 + 2 * t + (e & 1);
            float x = sc[n][e];
            if (use_table) x += tile_s[(j - n0) - (i - m0) + rows - 1];
            if (MASKED && !attn_visible(p.mask, i, j, s.Lk, s.offset, s.prefix)) x = -INFINITY;
            sc[n][e] = x;
            mx[r] = fmaxf(mx[r], x);
        }
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        const float m_new = fmaxf(m_run[r], mx[r]);
        const float base = m_new == -INFINITY ? 0.0f : m_new;  // a row with no key yet stays at 0
        const float alpha = exp2f(m_run[r] - base);
        m_run[r] = m_new;
        l_run[r] *= alpha;
#pragma unroll
        for (int n = 0; n < DV / 8; n++) {
            o[n][2 * r] *= alpha;
            o[n][2 * r + 1] *= alpha;
        }
#pragma unroll
        for (int n = 0; n < KEYS / 8; n++) {
            sc[n][2 * r] = exp2f(sc[n][2 * r] - base);
            sc[n][2 * r + 1] = exp2f(sc[n][2 * r + 1] - base);
            l_run[r] += sc[n][2 * r] + sc[n][2 * r + 1];
        }
    }

    // O += P · V: the C fragments of two adjacent n tiles of S are the A fragment of one k-step.
    const T* vrow = vs + ((mat & 1) * 8 + lane % 8) * LDV + (mat >> 1) * 8;
#pragma unroll
    for (int kk = 0; kk < KEYS / 16; kk++) {
        uint32_t pa[4];
        pa[0] = MmaType<T>::pack(sc[2 * kk][0], sc[2 * kk][1]);
        pa[1] = MmaType<T>::pack(sc[2 * kk][2], sc[2 * kk][3]);
        pa[2] = MmaType<T>::pack(sc[2 * kk + 1][0], sc[2 * kk + 1][1]);
        pa[3] = MmaType<T>::pack(sc[2 * kk + 1][2], sc[2 * kk + 1][3]);
#pragma unroll
        for (int n = 0; n < DV / 16; n++) {
            uint32_t vb[4];
            ldmatrix_x4<true>(vb, vrow + kk * 16 * LDV + n * 16);
            MmaType<T>::mma(o[2 * n], pa, vb[0], vb[1]);
            MmaType<T>::mma(o[2 * n + 1], pa, vb[2], vb[3]);
        }
    }
}

// Query rows [m0, m0 + rows) × output columns [dv0, dv0 + DV) of sequence b (view s), head h, against
// the keys kv holds (k(j), v(j): key row j; DenseKv, or a paged cache). q: (Lq, HS) with row stride
// q_row_stride; out likewise; smem: the block's mma_shared_bytes(HS, blockDim.x); p.k, p.v: any valid
// global addresses (the zero-filled copies name them and read nothing).
template <typename T, int HS, bool DIS, typename KV>
__device__ __forceinline__ void attention_mma_rows(const t4j_attention_params& p, int b, int h, const AttnSeq& s,
                                                   const KV& kv, const T* q, T* out, int m0, int dv0,
                                                   unsigned char* smem) {
    constexpr int KEYS = mma_keys(HS);
    constexpr int DV = mma_columns(HS);  // output columns of this block: [dv0, dv0 + DV)
    constexpr int LD = HS + 8;  // +16 bytes per row: the 8 row addresses of an ldmatrix hit distinct banks
    constexpr int LDV = DV + 8;
    T* ks = reinterpret_cast<T*>(smem);      // (stage, KEYS, LD)
    T* vs = ks + kMmaStages * KEYS * LD;     // (stage, KEYS, LDV)
    float* dist_s = reinterpret_cast<float*>(vs + kMmaStages * KEYS * LDV);  // T5 bias·log2(e) by rel + D
    float* tile_s = dist_s + 2 * kT5TableDistance + 1;  // by (j − n0) − (i − m0) + rows − 1
    const int rows = mma_rows(static_cast<int>(blockDim.x));
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int g = lane / 4;  // mma group: rows g and g + 8 of the warp's 16
    const int t = lane % 4;  // column pair within an 8-wide n tile

    // Q fragments stay in registers for the whole key loop: qf[kk] is the A operand of k-step kk,
    // read once from global memory (zero past Lq rows and p.HS columns).
    uint32_t qf[HS / 16][4];
    {
        const int r = m0 + warp * 16 + g;
#pragma unroll
        for (int kk = 0; kk < HS / 16; kk++) {
            qf[kk][0] = mma_word(q, p.q_row_stride, r, kk * 16 + 2 * t, s.Lq, p.HS);
            qf[kk][1] = mma_word(q, p.q_row_stride, r + 8, kk * 16 + 2 * t, s.Lq, p.HS);
            qf[kk][2] = mma_word(q, p.q_row_stride, r, kk * 16 + 8 + 2 * t, s.Lq, p.HS);
            qf[kk][3] = mma_word(q, p.q_row_stride, r + 8, kk * 16 + 8 + 2 * t, s.Lq, p.HS);
        }
    }

    float o[DV / 8][4];  // (16 rows, DV) accumulator fragments
#pragma unroll
    for (int n = 0; n < DV / 8; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float m_run[2] = {-INFINITY, -INFINITY};  // running max (log2 domain) of rows g, g + 8
    float l_run[2] = {0.0f, 0.0f};            // this thread's share of the running sums

    const int row_lo = m0 + warp * 16 + g;  // query rows of this thread: row_lo and row_lo + 8
    const float scale = p.scale * kLog2e;
    const bool t5 = p.rel_bias != nullptr;
    const Disentangled<T> dis = DIS ? disentangled_view<T>(p, b, h, s) : Disentangled<T>{};
    const int D = min(p.max_distance, kT5TableDistance);
    if (t5) t5_fill_distances(dist_s, D, p, h, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x));

    // Keys [key_begin, key_end) hold every key some row of [m0, last] sees (attention.cuh): the causal / prefix
    // end and, under a sliding window, the first key row m0 sees and (bidirectional window) the last key row
    // `last` sees; key tiles wholly before or after the window are never loaded.
    const int last = min(m0 + rows, s.Lq) - 1;
    const int key_end = attn_key_end(p.mask, last + 1, s.Lk, s.offset, s.prefix, p.window);
    const int key_begin = attn_key_begin(m0, s.offset, p.window) / KEYS * KEYS;
    const int tiles = key_end > key_begin ? (key_end - key_begin + KEYS - 1) / KEYS : 0;
    auto k_row = [&](int j) { return kv.k(j); };
    auto v_row = [&](int j) { return kv.v(j); };
    auto issue = [&](int tile) {  // one cp.async group: K and V of key tile `tile` into stage tile % 2
        const int n0 = key_begin + tile * KEYS;
        const int st = tile % kMmaStages;
        mma_async_tile<T, HS, LD, KEYS>(ks + st * KEYS * LD, k_row, static_cast<const T*>(p.k), n0, s.Lk, 0, p.HS);
        mma_async_tile<T, DV, LDV, KEYS>(vs + st * KEYS * LDV, v_row, static_cast<const T*>(p.v), n0, s.Lk, dv0, p.HS);
        attn_cp_async_commit();
    };
    if (tiles > 0) issue(0);

    for (int it = 0; it < tiles; it++) {
        const int n0 = key_begin + it * KEYS;
        if (it + 1 < tiles) {  // stage (it + 1) % 2 was last read in iteration it − 1, before its closing barrier
            issue(it + 1);
            attn_cp_async_wait<1>();  // this tile's group has landed; the next one stays in flight
        } else {
            attn_cp_async_wait<0>();
        }
        // A tile pair every row sees whole: keys inside Lk, below the causal diagonal of row m0 (or inside
        // the prefix), and, with a window, inside the window of the last row (the tile's first key) and of row
        // m0 (its last key: the bidirectional window's after side).
        const bool full = n0 + KEYS <= s.Lk &&
                          (p.mask == T4J_ATTN_MASK_NONE || n0 + KEYS - 1 <= m0 + s.offset || n0 + KEYS <= s.prefix) &&
                          !attn_window_hides(n0 - last - s.offset, p.window) &&
                          !attn_window_hides(n0 + KEYS - 1 - m0 - s.offset, p.window);
        // ALiBi: −slope · |rel| in the tile table (attention.cuh's attn_alibi); its slope is read from the params in the
        // fill loop, not held across the key loop (a register of its own took HS 64 from 168 to 174 on sm_90a: 3 → 2 blocks).
        const bool use_table = t5 || p.alibi_slopes != nullptr || (p.window > 0 && !full);
        if (use_table) {
            if (t5 && it == 0) __syncthreads();  // the distance table is complete (block-uniform branch)
            for (int idx = threadIdx.x; idx < rows + KEYS - 1; idx += blockDim.x) {
                const int rel = n0 - m0 + idx - (rows - 1) - s.offset;
                const float bias = t5                         ? t5_table_bias(dist_s, D, rel, p, h)
                                   : p.alibi_slopes != nullptr ? attn_alibi(p.alibi_slopes[h] * kLog2e, rel)
                                                               : 0.0f;
                tile_s[idx] = attn_window_hides(rel, p.window) ? -INFINITY : bias;
            }
        }
        __syncthreads();  // every thread's copies of this tile and the tile table are visible
        const int st = it % kMmaStages;
        if (full) {
            mma_key_tile<T, HS, false, DIS>(qf, o, m_run, l_run, ks + st * KEYS * LD, vs + st * KEYS * LDV, tile_s, use_table,
                                       p, s, m0, n0, rows, scale, dis);
        } else {
            mma_key_tile<T, HS, true, DIS>(qf, o, m_run, l_run, ks + st * KEYS * LD, vs + st * KEYS * LDV, tile_s, use_table,
                                      p, s, m0, n0, rows, scale, dis);
        }
        __syncthreads();  // this stage and the tile table are no longer read
    }

    // Normalise and store; lse = (m + log2 l) · ln 2. Rows that saw no key: zeros and −inf. With attention sinks, the
    // head's sink joins the denominator (attention.cuh's attn_sink_end; a row that saw no key: zeros and lse = the sink).
    const bool packed = p.cu_seqlens_q != nullptr;
    const bool sinks = p.sinks != nullptr;
    const float sink = sinks ? p.sinks[h] : 0.0f;
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float l = l_run[r];
        l += __shfl_xor_sync(0xffffffffu, l, 1);
        l += __shfl_xor_sync(0xffffffffu, l, 2);
        const int i = row_lo + 8 * r;
        if (i >= s.Lq) continue;
        float inv = l > 0.0f ? 1.0f / l : 0.0f;
        float lse = l > 0.0f ? (m_run[r] + log2f(l)) * kLn2 : -INFINITY;
        if (sinks) attn_sink_end(m_run[r], l, sink, inv, lse);
        T* orow = out + i * p.out_row_stride + dv0 + 2 * t;
#pragma unroll
        for (int n = 0; n < DV / 8; n++) {
            if (dv0 + n * 8 < p.HS) {
                *reinterpret_cast<uint32_t*>(orow + n * 8) = MmaType<T>::pack(o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
            }
        }
        if (p.lse != nullptr && t == 0 && dv0 == 0) {
            float* lse_row = static_cast<float*>(p.lse) +
                             (packed ? h * static_cast<int64_t>(p.cu_seqlens_q[p.B]) + s.q_first
                                     : (static_cast<int64_t>(b) * p.NH + h) * p.Tq);
            lse_row[i] = lse;
        }
    }
}

// The block's dynamic shared memory (mma_shared_bytes), 16-byte aligned.
__device__ __forceinline__ unsigned char* mma_smem() {
#ifdef T4J_HOST_EMULATION
    return t4j_emu::dynamic_smem();
#else
    extern __shared__ __align__(16) unsigned char attn_smem[];
    return attn_smem;
#endif
}

// The block's first query row m0 (query tiles last-first, so that under a causal mask the longest rows
// start first) and first output column dv0: grid x = query tiles × HS / mma_columns(HS).
template <int HS>
__device__ __forceinline__ void mma_block_origin(int& m0, int& dv0) {
    constexpr int kColumnBlocks = HS / mma_columns(HS);
    const int m_tiles = static_cast<int>(gridDim.x) / kColumnBlocks;
    m0 = (m_tiles - 1 - static_cast<int>(blockIdx.x) / kColumnBlocks) * mma_rows(static_cast<int>(blockDim.x));
    dv0 = static_cast<int>(blockIdx.x % kColumnBlocks) * mma_columns(HS);
}

// K and V rows of one (sequence, KV head) in the paged cache (t4j.h): key position j in block
// table[j / block_size], slot j % block_size, NKV · HS elements per slot. A block id outside
// [0, num_blocks) is clamped, as the decode kernel does: a bad id reads a wrong block, never astray.
template <typename T>
struct MmaPagedKv {
    const T* kb;           // k_cache + kvh · HS
    const T* vb;           // v_cache + kvh · HS
    const int32_t* table;  // this sequence's (max_blocks_per_seq) block ids
    int block_size, num_blocks;
    int64_t slot_stride;   // NKV · HS
    __device__ __forceinline__ int64_t slot(int j) const {
        int64_t blk = table[j / block_size];
        blk = blk < 0 ? 0 : (blk >= num_blocks ? num_blocks - 1 : blk);
        return (blk * block_size + j % block_size) * slot_stride;
    }
    __device__ const T* k(int j) const { return kb + slot(j); }
    __device__ const T* v(int j) const { return vb + slot(j); }
};

// The t4j_attn_mma_* kernels: grid (query tiles × HS / mma_columns, NH, B), blockDim.x 128 or 256
// (mma_threads), mma_shared_bytes(HS, blockDim.x) of dynamic shared memory; DIS: with DeBERTa's disentangled bias
// (t4j_attn_mma_dis_*).
template <typename T, int HS, bool DIS = false>
__device__ __forceinline__ void attention_mma(const t4j_attention_params& p) {
    const int b = blockIdx.z;
    const int h = blockIdx.y;
    int m0, dv0;
    mma_block_origin<HS>(m0, dv0);
    const AttnSeq s = attn_seq(p, b);
    if (m0 >= s.Lq) return;
    const int kvh = h / (p.NH / p.NKV);
    const bool packed = p.cu_seqlens_q != nullptr;
    const T* q = static_cast<const T*>(p.q) + (packed ? s.q_first * p.q_row_stride : b * p.q_batch_stride) +
                 h * p.q_head_stride;  // (Lq, HS), row stride q_row_stride
    T* out = static_cast<T*>(p.out) + (packed ? s.q_first * p.out_row_stride : b * p.out_batch_stride) +
             h * p.out_head_stride;  // (Lq, HS)
    const DenseKv<T> kv{
        static_cast<const T*>(p.k) + (packed ? s.k_first * p.k_row_stride : b * p.k_batch_stride) + kvh * p.k_head_stride,
        static_cast<const T*>(p.v) + (packed ? s.k_first * p.v_row_stride : b * p.v_batch_stride) + kvh * p.v_head_stride,
        p.k_row_stride, p.v_row_stride};  // (Lk, HS) each, rows at k_row_stride / v_row_stride
    attention_mma_rows<T, HS, DIS>(p, b, h, s, kv, q, out, m0, dv0, mma_smem());
}

// The t4j_attn_paged_* kernels: t4j_decode with more than kMaxDecodeRows queries (a prompt or a chunk
// prefilled into the paged cache) on tensor cores. p: the launcher's dense view of the decode
// (attention_paged.h: q, out, lse, mask, bias, window; key_lengths = cache_lengths, Tk = the rows the
// table addresses; varlen: cu_seqlens_q, packed q / out / lse); d: the decode's params, for the cache. Grid
// and block as attention_mma.
template <typename T, int HS>
__device__ __forceinline__ void attention_mma_paged(const t4j_attention_params& p, const t4j_decode_params& d) {
    const int b = blockIdx.z;
    const int h = blockIdx.y;
    int m0, dv0;
    mma_block_origin<HS>(m0, dv0);
    const AttnSeq s = attn_seq(p, b);  // Lk: cache_lengths[b] clamped to the table's rows
    if (m0 >= s.Lq) return;
    const int kvh = h / (p.NH / p.NKV);
    const bool packed = p.cu_seqlens_q != nullptr;  // varlen decode (ABI 17): sequence b's rows from cu_seqlens_q[b]
    const T* q = static_cast<const T*>(p.q) + (packed ? s.q_first * p.q_row_stride : b * p.q_batch_stride) +
                 h * p.q_head_stride;  // (Lq, HS)
    T* out = static_cast<T*>(p.out) + (packed ? s.q_first * p.out_row_stride : b * p.out_batch_stride) +
             h * p.out_head_stride;  // (Lq, HS)
    const MmaPagedKv<T> kv{static_cast<const T*>(d.k_cache) + kvh * d.HS, static_cast<const T*>(d.v_cache) + kvh * d.HS,
                           d.block_table + static_cast<int64_t>(b) * d.max_blocks_per_seq, d.block_size, d.num_blocks,
                           static_cast<int64_t>(d.NKV) * d.HS};
    attention_mma_rows<T, HS, false>(p, b, h, s, kv, q, out, m0, dv0, mma_smem());
}

}  // namespace t4j
