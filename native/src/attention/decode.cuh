// decode.cuh — the paged split-KV decode for every dtype on CUDA cores, plus the kernel that combines
// the decode's per-split partial results. A decode block handles one (split, KV head, sequence): K/V
// tiles stream through shared memory (16-byte cp.async, coalesced) and every query row of the GQA group
// (head × Tq ≤ 16) is scored against them. The split count follows the length read on the device
// (t4j_decode_params.split_keys), so a graph captured for the largest count serves any length.
#pragma once

#include "attention_rowwise.cuh"

namespace t4j {

// ---- paged decode ------------------------------------------------------------------------------

template <typename T>
struct PagedKv {
    const T* kc;
    const T* vc;
    const int32_t* table;  // this sequence's (max_blocks_per_seq) block ids
    int block_size, nkv, hs, kvh;
    int num_blocks;
    __device__ int64_t offset(int j) const {
        int64_t blk = table[j / block_size];
        blk = blk < 0 ? 0 : (blk >= num_blocks ? num_blocks - 1 : blk);  // a bad id reads a wrong block, never astray
        return ((blk * block_size + j % block_size) * nkv + kvh) * hs;
    }
    __device__ const T* k(int j) const { return kc + offset(j); }
    __device__ const T* v(int j) const { return vc + offset(j); }
};

// Sequence b's key count. Lengths may live on the device (a CUDA graph replays with new ones), so they are
// clamped to what the table can address rather than trusted; the split and combine kernels clamp alike.
__device__ __forceinline__ int decode_length(const t4j_decode_params& p, int b) {
    const int64_t rows_addressable = static_cast<int64_t>(p.max_blocks_per_seq) * p.block_size;
    const int64_t n = p.cache_lengths[b];
    return static_cast<int>(n < 0 ? 0 : (n > rows_addressable ? rows_addressable : n));
}

// Sequence b's queries: padded, Tq rows of batch b; varlen (ABI 17, cu_seqlens_q), Lq_b packed rows from cu_seqlens_q[b]
// (attention.cuh's varlen_rows clamps bad offsets). Element offsets of its query 0 in q and out, and of head 0, query 0 in
// lse: padded (B, NH, Tq), varlen (NH, total_q). The workspaces keep the padded (num_splits, B, NH, Tq) rows either way.
struct DecodeSeq {
    int tq;                   // queries
    int64_t q_off, out_off;   // query 0's row in q and out
    int64_t lse_off, lse_hs;  // lse of head h, query i: lse_off + h · lse_hs + i
};
__device__ __forceinline__ DecodeSeq decode_seq(const t4j_decode_params& p, int b) {
    DecodeSeq s;
    if (p.cu_seqlens_q != nullptr) {
        const VarlenRows r = varlen_rows(p.cu_seqlens_q, p.B, b, p.Tq);
        s.tq = r.lq;
        s.q_off = r.first * p.q_row_stride;
        s.out_off = r.first * p.out_row_stride;
        s.lse_off = r.first;
        s.lse_hs = r.total;
    } else {
        s.tq = p.Tq;
        s.q_off = b * p.q_batch_stride;
        s.out_off = b * p.out_batch_stride;
        s.lse_off = static_cast<int64_t>(b) * p.NH * p.Tq;
        s.lse_hs = p.Tq;
    }
    return s;
}

// The dimension a lane's accumulator c (of kRowDims) holds in the decode: lane l holds the 4 dimensions
// 4l .. 4l + 3 and, past 128, 128 + 4l .. 128 + 4l + 3, so that it reads a V row 8 bytes (16 in fp32) at a
// time; HS is a multiple of 8, so a lane's group of 4 is either all inside HS or all outside.
__device__ __forceinline__ int decode_dim(int lane, int c) { return 4 * lane + 128 * (c / 4) + c % 4; }

// Writes one decode row: the output itself (one split) or the split's partial result, normalised
// by its own sum, and its lse (the combine weights partials by exp(lse_s − lse)). Attention sinks: with one
// split the row ends here with its head's sink (attention.cuh's attn_sink_end); a split's partial result
// leaves it out, and the combine adds it once.
template <typename T>
__device__ __forceinline__ void decode_finish(const t4j_decode_params& p, const RowState& st, int split, int b, int h,
                                              int i) {
    const int lane = threadIdx.x % 32;
    // Only a row that saw no key (l exactly 0) is empty: a NaN l (a NaN or +inf score) gives a NaN lse,
    // which the combine passes on, as the one-pass attention's row is NaN (the cached path and the
    // full pass agree on non-finite input).
    float lse = st.l == 0.0f ? -INFINITY : (st.m + log2f(st.l)) * kLn2;
    float inv = st.l > 0.0f ? __fdividef(1.0f, st.l) : 0.0f;  // l ≥ 1: no slow path needed
    if (p.num_splits == 1) {
        if (p.sinks != nullptr) attn_sink_end(st.m, st.l, p.sinks[h], inv, lse);
        const DecodeSeq seq = decode_seq(p, b);  // read again here: cheaper than registers across the key loop
        T* out = static_cast<T*>(p.out) + seq.out_off + i * p.out_row_stride + h * p.out_head_stride;
#pragma unroll
        for (int c = 0; c < kRowDims; c++) {
            const int d = decode_dim(lane, c);
            if (d < p.HS) out[d] = from_f32<T>(st.o[c] * inv);
        }
        if (p.lse != nullptr && lane == 0) static_cast<float*>(p.lse)[seq.lse_off + h * seq.lse_hs + i] = lse;
    } else {
        const int64_t row = ((static_cast<int64_t>(split) * p.B + b) * p.NH + h) * p.Tq + i;
        float* wo = p.workspace_o + row * p.HS;
#pragma unroll
        for (int c = 0; c < kRowDims; c++) {
            const int d = decode_dim(lane, c);
            if (d < p.HS) wo[d] = st.o[c] * inv;
        }
        if (lane == 0) p.workspace_lse[row] = lse;
    }
}

#ifdef T4J_HOST_EMULATION
// native/tools/emulator/simt.h provides the host versions (checking without a GPU).
__device__ __forceinline__ void kv_cp_async16(void* dst, const void* src, int src_bytes) { t4j_emu::cp_async16(dst, src, src_bytes); }
__device__ __forceinline__ void kv_cp_async_commit() { t4j_emu::cp_async_commit(); }
template <int N>
__device__ __forceinline__ void kv_cp_async_wait() { t4j_emu::cp_async_wait(N); }
__device__ __forceinline__ unsigned char* decode_smem() { return t4j_emu::dynamic_smem(); }
#else
// 16-byte global → shared copy that skips the registers (sm_80+); src_bytes 0 writes zeros, reads nothing.
__device__ __forceinline__ void kv_cp_async16(void* dst, const void* src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(dst))),
                 "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void kv_cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void kv_cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }
__device__ __forceinline__ unsigned char* decode_smem() {
    extern __shared__ __align__(16) unsigned char t4j_decode_smem[];
    return t4j_decode_smem;
}
#endif

// The 16 bytes at p (shared memory) as fp32: 8 16-bit values or 4 fp32.
template <typename T>
__device__ __forceinline__ void decode_vec(const T* p, float* f) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    if constexpr (sizeof(T) == 2) {
        const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const float2 kv = unpack2(words[u], T());
            f[2 * u] = kv.x;
            f[2 * u + 1] = kv.y;
        }
    } else {
        f[0] = __uint_as_float(raw.x);
        f[1] = __uint_as_float(raw.y);
        f[2] = __uint_as_float(raw.z);
        f[3] = __uint_as_float(raw.w);
    }
}

// The 4 values at p (shared memory, 8 or 16 bytes) as fp32 when in, else zeros.
template <typename T>
__device__ __forceinline__ void decode_vec4(const T* p, bool in, float* f) {
    if constexpr (sizeof(T) == 2) {
        const uint2 raw = in ? *reinterpret_cast<const uint2*>(p) : make_uint2(0u, 0u);
        const float2 a = unpack2(raw.x, T()), b = unpack2(raw.y, T());
        f[0] = a.x;
        f[1] = a.y;
        f[2] = b.x;
        f[3] = b.y;
    } else {
        const float4 raw = in ? *reinterpret_cast<const float4*>(p) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        f[0] = raw.x;
        f[1] = raw.y;
        f[2] = raw.z;
        f[3] = raw.w;
    }
}

// Queues keys [j0, j0 + tile) ∩ [j0, j_hi) of K and V into a stage (tile × pitch elements each): the block's
// 128 threads take consecutive 16-byte pieces of consecutive rows, so a warp reads whole rows, coalesced.
// Keys at or past j_hi are zero-filled (never read from memory; their scores are masked).
template <typename T>
__device__ __forceinline__ void decode_load_tile(const PagedKv<T>& rows, T* ks, T* vs, int j0, int j_hi, int tile,
                                                 int pitch, int HS) {
    constexpr int kVec = 16 / static_cast<int>(sizeof(T));
    const int nv = HS / kVec;  // 16-byte pieces per row
    for (int idx = threadIdx.x; idx < tile * nv; idx += kRowThreads) {
        const int k = idx / nv;
        const int c = (idx - k * nv) * kVec;
        const int j = j0 + k;
        const bool in = j < j_hi;
        const int64_t off = in ? rows.offset(j) + c : 0;
        kv_cp_async16(ks + k * pitch + c, rows.kc + off, in ? 16 : 0);
        kv_cp_async16(vs + k * pitch + c, rows.vc + off, in ? 16 : 0);
    }
}

// Grid (num_splits, NKV, B), 4 warps, dynamic shared memory decode_layout(HS, sizeof(T), R).bytes. A block
// serves every query row (head of the GQA group, query) of one KV head over its split's keys: the keys
// stream through shared memory in tiles (two cp.async stages: tile t + 1 loads while tile t is scored),
// each K/V element is loaded once per pass of up to 16 rows, and warp w holds rows w, w + 4, ... of the
// pass (kDecodeRowsPerWarp of them) in registers. Within a tile a warp scores kpw = tile / wpr keys with
// 32 / kpw lanes per key (each takes every (32 / kpw)-th 16-byte piece of the row; a shuffle sums them),
// then accumulates P·V with lane l holding dimensions 4l .. 4l + 3 (+ 128: decode_dim). With wpr > 1 (R ≤ 2) the wpr warps of a row
// take disjoint key slices of each tile and merge their online-softmax states at the end. Varlen (cu_seqlens_q): the
// block's rows are group × Lq_b and their layout that of R = group · Lq_b (the launcher's shared memory covers every
// Lq_b: decode_varlen_bytes), so a sequence's rows are what a launch over it alone computes; Lq_b = 0 exits.
template <typename T>
__device__ __forceinline__ void decode_split(const t4j_decode_params& p) {
    constexpr int kWarps = kRowThreads / 32;
    constexpr int kVec = 16 / static_cast<int>(sizeof(T));
    const int split = blockIdx.x;
    const int kvh = blockIdx.y;
    const int b = blockIdx.z;
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int L = decode_length(p, b);
    if (split >= decode_splits_used(L, p.num_splits, p.split_keys)) return;  // the whole block: no barrier skipped
    const int tq = decode_seq(p, b).tq;  // this sequence's queries (varlen: Lq_b ≤ Tq), where a padded launch has Tq
    if (tq == 0) return;                  // varlen: a sequence without queries (the whole block)
    const int chunk = decode_chunk(L, p.num_splits, p.split_keys);
    const int j_begin = min(L, split * chunk);
    const int j_split_end = min(L, j_begin + chunk);
    const int group = p.NH / p.NKV;
    const int R = group * tq;  // rows (head of the group, query) of this block: the layout a launch with Tq = tq has
    const DecodeLayout lay = decode_layout(p.HS, static_cast<int>(sizeof(T)), R);
    unsigned char* smem = decode_smem();
    // Stage s: K at (2s) · stage, V at (2s + 1) · stage (pointer arithmetic: a runtime-indexed pointer array
    // went to local memory).
    T* const kv_smem = reinterpret_cast<T*>(smem);
    const int stage = lay.tile * lay.pitch;
    float* qs = reinterpret_cast<float*>(smem + lay.q_off);         // (rows_pass, HS), times scale · log2 e
    float* part_o = reinterpret_cast<float*>(smem + lay.part_off);  // (4, HS) when wpr > 1
    float* part_ml = part_o + kWarps * p.HS;                       // (4, 2)
    PagedKv<T> rows{static_cast<const T*>(p.k_cache), static_cast<const T*>(p.v_cache),
                    p.block_table + static_cast<int64_t>(b) * p.max_blocks_per_seq, p.block_size, p.NKV, p.HS, kvh,
                    p.num_blocks};
    const float scale = p.scale * kLog2e;
    const SoftCap cap(p.softcap);
    const int wpr = lay.wpr;
    const int slots = kWarps / wpr;  // warps (wpr = 1) or warp groups holding different rows
    const int sub = warp % wpr;      // this warp's key slice of each tile
    const int slot = warp / wpr;
    const int kpw = lay.tile / wpr;  // keys this warp scores per tile
    const int lpk = 32 / kpw;        // lanes per key
    const int kt_lane = sub * kpw + lane / lpk;  // the tile key this lane scores
    const int nv = p.HS / kVec;

    for (int pass = 0; pass < R; pass += lay.rows_pass) {
        const int np = min(lay.rows_pass, R - pass);
        __syncthreads();  // the previous pass is done with qs and the stages
        const int64_t q_off = decode_seq(p, b).q_off;  // read per pass: a register less across the key loop
        for (int idx = threadIdx.x; idx < np * p.HS; idx += kRowThreads) {
            const int rr = idx / p.HS, d = idx - rr * p.HS;
            const int r = pass + rr;
            const int h = kvh * group + r / tq, i = r % tq;
            qs[idx] = to_f32(static_cast<const T*>(p.q)[q_off + i * p.q_row_stride + h * p.q_head_stride + d]) * scale;
        }
        // Row rr's visible keys [row_lo, row_hi) within the split (recomputed where needed: cheaper than
        // registers), and the block's union of them.
        const int q0 = L - tq;  // key position of query 0
        auto row_hi = [&](int rr) { return p.causal ? min(j_split_end, q0 + (pass + rr) % tq + 1) : j_split_end; };
        // sliding window: keys qpos - window < j (attention.cuh's attn_window_hides)
        auto row_lo = [&](int rr) {
            return (p.causal && p.window > 0) ? max(j_begin, q0 + (pass + rr) % tq - p.window + 1) : j_begin;
        };
        int block_lo = j_split_end, block_hi = j_begin;
        for (int rr = 0; rr < np; rr++) {
            if (row_lo(rr) < row_hi(rr)) {
                block_lo = min(block_lo, row_lo(rr));
                block_hi = max(block_hi, row_hi(rr));
            }
        }
        RowState st[kDecodeRowsPerWarp];
#pragma unroll
        for (int u = 0; u < kDecodeRowsPerWarp; u++) {
            st[u].m = -INFINITY;
            st[u].l = 0.0f;
#pragma unroll
            for (int c = 0; c < kRowDims; c++) st[u].o[c] = 0.0f;
        }
        const int ntiles = block_hi > block_lo ? (block_hi - block_lo + lay.tile - 1) / lay.tile : 0;
        if (ntiles > 0) {
            decode_load_tile<T>(rows, kv_smem, kv_smem + stage, block_lo, block_hi, lay.tile, lay.pitch, p.HS);
            kv_cp_async_commit();
        }
        for (int t = 0; t < ntiles; t++) {
            const int j0 = block_lo + t * lay.tile;
            if (t + 1 < ntiles) {  // the stage it overwrites was last read before the barrier ending tile t - 1
                T* const next = kv_smem + 2 * ((t + 1) & 1) * stage;
                decode_load_tile<T>(rows, next, next + stage, j0 + lay.tile, block_hi, lay.tile, lay.pitch, p.HS);
                kv_cp_async_commit();
                kv_cp_async_wait<1>();
            } else {
                kv_cp_async_wait<0>();
            }
            __syncthreads();  // tile t (every thread's pieces) and the pass's queries are in shared memory
            const T* ks = kv_smem + 2 * (t & 1) * stage;
            const T* vs = ks + stage;
            // Scores: lane's key kt_lane against each of the warp's rows; lpk lanes share a key.
            float x[kDecodeRowsPerWarp];
#pragma unroll
            for (int u = 0; u < kDecodeRowsPerWarp; u++) x[u] = 0.0f;
            const T* kr = ks + kt_lane * lay.pitch;
            for (int c = lane % lpk; c < nv; c += lpk) {
                float kf[kVec];
                decode_vec<T>(kr + c * kVec, kf);
#pragma unroll
                for (int u = 0; u < kDecodeRowsPerWarp; u++) {
                    const int rr = slot + slots * u;
                    if (rr < np) {  // 16-byte reads of the query (HS a multiple of 8: aligned)
                        const float4* qr = reinterpret_cast<const float4*>(qs + rr * p.HS + c * kVec);
#pragma unroll
                        for (int e = 0; e < kVec / 4; e++) {
                            const float4 qv = qr[e];
                            x[u] += qv.x * kf[4 * e] + qv.y * kf[4 * e + 1] + qv.z * kf[4 * e + 2] + qv.w * kf[4 * e + 3];
                        }
                    }
                }
            }
            const int j = j0 + kt_lane;
#pragma unroll
            for (int u = 0; u < kDecodeRowsPerWarp; u++) {
                const int rr = slot + slots * u;
                if (rr >= np) continue;  // uniform across the warp
                for (int o = lpk / 2; o > 0; o >>= 1) x[u] += __shfl_xor_sync(0xffffffffu, x[u], o);
                if (j >= row_lo(rr) && j < row_hi(rr)) {
                    if (p.softcap > 0.0f) x[u] = cap(x[u]);  // before the bias (attention.cuh)
                    if (p.rel_bias != nullptr) {
                        const int r = pass + rr;
                        const T5Bias bias{p.rel_bias, p.NH, kvh * group + r / tq, L - tq + r % tq, p.num_buckets,
                                          p.max_distance, p.bias_bidirectional};
                        x[u] += bias(j);
                    } else if (p.alibi_slopes != nullptr) {  // ALiBi (attention.cuh's attn_alibi)
                        const int r = pass + rr;
                        x[u] += attn_alibi(p.alibi_slopes[kvh * group + r / tq] * kLog2e, j - (L - tq + r % tq));
                    }
                } else {
                    x[u] = -INFINITY;
                }
                // Online softmax (log2 domain); the lpk lanes of a key hold the same score, one counts it.
                const float m_new = fmaxf(st[u].m, attn_warp_max(x[u]));
                const float base = m_new == -INFINITY ? 0.0f : m_new;
                const float alpha = exp2f(st[u].m - base);
                x[u] = exp2f(x[u] - base);  // from here on: p of the lane's key
                st[u].m = m_new;
                st[u].l = st[u].l * alpha + warp_sum(lane % lpk == 0 ? x[u] : 0.0f);
#pragma unroll
                for (int c = 0; c < kRowDims; c++) st[u].o[c] *= alpha;
            }
            // P·V over the warp's keys of the tile; a row skips keys it does not see (p exactly 0), so a
            // non-finite V of a key hidden from it cannot reach it.
#pragma unroll 1
            for (int kk = 0; kk < kpw; kk++) {
                const T* vr = vs + (sub * kpw + kk) * lay.pitch;
                float vf[kRowDims];
#pragma unroll
                for (int g = 0; g < kRowDims / 4; g++) decode_vec4<T>(vr + 4 * lane + 128 * g, 4 * lane + 128 * g < p.HS, vf + 4 * g);
#pragma unroll
                for (int u = 0; u < kDecodeRowsPerWarp; u++) {
                    if (slot + slots * u >= np) continue;  // uniform across the warp
                    const float pk = __shfl_sync(0xffffffffu, x[u], kk * lpk);
                    if (pk != 0.0f) {
#pragma unroll
                        for (int c = 0; c < kRowDims; c++) st[u].o[c] += pk * vf[c];
                    }
                }
            }
            __syncthreads();  // every warp is done with this stage before tile t + 2 is queued into it
        }
        if (wpr == 1) {
#pragma unroll
            for (int u = 0; u < kDecodeRowsPerWarp; u++) {
                const int rr = slot + slots * u;
                if (rr < np) decode_finish<T>(p, st[u], split, b, kvh * group + (pass + rr) / tq, (pass + rr) % tq);
            }
        } else {  // R ≤ 2: one row per warp group (u = 0), merged by its first warp
            if (slot < np) {
#pragma unroll
                for (int c = 0; c < kRowDims; c++) {
                    const int d = decode_dim(lane, c);
                    if (d < p.HS) part_o[warp * p.HS + d] = st[0].o[c];
                }
                if (lane == 0) {
                    part_ml[2 * warp] = st[0].m;
                    part_ml[2 * warp + 1] = st[0].l;
                }
            }
            __syncthreads();
            if (sub == 0 && slot < np) {
                RowState m;
                m.m = -INFINITY;
                for (int w = warp; w < warp + wpr; w++) m.m = fmaxf(m.m, part_ml[2 * w]);
                m.l = 0.0f;
#pragma unroll
                for (int c = 0; c < kRowDims; c++) m.o[c] = 0.0f;
#pragma unroll 1
                for (int w = warp; w < warp + wpr; w++) {
                    const float f = part_ml[2 * w] == -INFINITY ? 0.0f : exp2f(part_ml[2 * w] - m.m);
                    m.l += f * part_ml[2 * w + 1];
#pragma unroll
                    for (int c = 0; c < kRowDims; c++) {
                        const int d = decode_dim(lane, c);
                        if (d < p.HS) m.o[c] += f * part_o[w * p.HS + d];
                    }
                }
                const int r = pass + slot;
                decode_finish<T>(p, m, split, b, kvh * group + r / tq, r % tq);
            }
        }
    }
}

// Grid (ceil(B·NH·Tq / 4)), 4 warps, one output row per warp: out = Σ_s exp(lse_s − lse) · o_s with
// lse = log Σ_s exp(lse_s). Splits that saw no key have lse_s = −inf and weigh nothing. Attention sinks: head h's
// sink is one more split with lse sinks[h] and a zero output, counted once however many splits ran (a row that saw
// no key: zeros and lse = the sink), as the CPU twin's combineSplits. Varlen: the grid covers the padded B × NH × Tq rows
// of the workspaces; a row past its sequence's Lq_b exits, the others go to their packed out row and lse.
template <typename T>
__device__ __forceinline__ void decode_combine(const t4j_decode_params& p) {
    const int lane = threadIdx.x % 32;
    const int64_t rows = static_cast<int64_t>(p.B) * p.NH * p.Tq;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * (kRowThreads / 32) + threadIdx.x / 32;  // (b, h, i)
    if (row >= rows) return;
    const int i = static_cast<int>(row % p.Tq);
    const int h = static_cast<int>((row / p.Tq) % p.NH);
    const int b = static_cast<int>(row / (static_cast<int64_t>(p.Tq) * p.NH));
    const DecodeSeq seq = decode_seq(p, b);
    if (i >= seq.tq) return;  // varlen: a padded row past the sequence's Lq_b queries (no split wrote it)
    const int used = decode_splits_used(decode_length(p, b), p.num_splits, p.split_keys);  // the splits that ran
    const bool sinks = p.sinks != nullptr;
    const float sink = sinks ? p.sinks[h] : -INFINITY;
    float m = sink;    // −inf without sinks
    bool nan = sink != sink;  // fmaxf drops NaN: a NaN split (or sink) must poison the row, not vanish
    for (int s = 0; s < used; s++) {
        const float v = p.workspace_lse[s * rows + row];
        nan = nan || v != v;
        m = fmaxf(m, v);
    }
    if (nan) m = __int_as_float(0x7fc00000);
    float acc[kRowDims];
#pragma unroll
    for (int c = 0; c < kRowDims; c++) acc[c] = 0.0f;
    float sum = 0.0f;
    if (m != -INFINITY) {
        for (int s = 0; s < used; s++) {
            const float lse_s = p.workspace_lse[s * rows + row];
            if (lse_s == -INFINITY) continue;
            const float w = expf(lse_s - m);
            sum += w;
            const float* wo = p.workspace_o + (s * rows + row) * p.HS;
#pragma unroll
            for (int c = 0; c < kRowDims; c++) {
                const int d = lane + 32 * c;
                if (d < p.HS) acc[c] += w * wo[d];
            }
        }
        if (sinks) sum += expf(sink - m);  // the sink: a split with no value, once
    }
    const float inv = sum > 0.0f ? __fdividef(1.0f, sum) : 0.0f;  // sum ≥ 1 (the largest split weighs 1)
    T* out = static_cast<T*>(p.out) + seq.out_off + i * p.out_row_stride + h * p.out_head_stride;
#pragma unroll
    for (int c = 0; c < kRowDims; c++) {
        const int d = lane + 32 * c;
        if (d < p.HS) out[d] = from_f32<T>(acc[c] * inv);
    }
    if (p.lse != nullptr && lane == 0) {
        static_cast<float*>(p.lse)[seq.lse_off + h * seq.lse_hs + i] = sum == 0.0f ? -INFINITY : m + logf(sum);
    }
}

}  // namespace t4j
