// decode.cuh — the paged split-KV decode for every dtype, one query row per warp on CUDA cores
// (the row machinery of attention_rowwise.cuh), plus the kernel that combines the decode's
// per-split partial results. Decode blocks handle one (split, head, sequence): warps take the
// Tq ≤ 16 query rows.
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

// Writes one decode row: the output itself (one split) or the split's partial result, normalised
// by its own sum, and its lse (the combine weights partials by exp(lse_s − lse)).
template <typename T>
__device__ __forceinline__ void decode_finish(const t4j_decode_params& p, const RowState& st, int split, int b, int h,
                                              int i) {
    const int lane = threadIdx.x % 32;
    // Only a row that saw no key (l exactly 0) is empty: a NaN l (a NaN or +inf score) gives a NaN lse,
    // which the combine passes on, as the one-pass attention's row is NaN (the cached path and the
    // full pass agree on non-finite input).
    const float lse = st.l == 0.0f ? -INFINITY : (st.m + log2f(st.l)) * kLn2;
    const float inv = st.l > 0.0f ? __fdividef(1.0f, st.l) : 0.0f;  // l ≥ 1: no slow path needed
    if (p.num_splits == 1) {
        T* out = static_cast<T*>(p.out) + b * p.out_batch_stride + i * p.out_row_stride + h * p.out_head_stride;
#pragma unroll
        for (int c = 0; c < kRowDims; c++) {
            const int d = lane + 32 * c;
            if (d < p.HS) out[d] = from_f32<T>(st.o[c] * inv);
        }
        if (p.lse != nullptr && lane == 0) static_cast<float*>(p.lse)[(static_cast<int64_t>(b) * p.NH + h) * p.Tq + i] = lse;
    } else {
        const int64_t row = ((static_cast<int64_t>(split) * p.B + b) * p.NH + h) * p.Tq + i;
        float* wo = p.workspace_o + row * p.HS;
#pragma unroll
        for (int c = 0; c < kRowDims; c++) {
            const int d = lane + 32 * c;
            if (d < p.HS) wo[d] = st.o[c] * inv;
        }
        if (lane == 0) p.workspace_lse[row] = lse;
    }
}

// Grid (num_splits, NKV, B), 4 warps. A block serves every query head of one key/value head (the
// GQA group) so that the group's K/V rows are fetched from memory once and re-read from L1: its
// R = group · Tq rows (head, query) go to warps w, w + 4, ...; when R is 1 or 2, the 4 / R warps of
// a row share its key range and merge their online-softmax states through shared memory, so that
// no warp idles (MHA with one new token).
template <typename T>
__device__ __forceinline__ void decode_split(const t4j_decode_params& p) {
    constexpr int kWarps = kRowThreads / 32;
    __shared__ float qs_all[kWarps][kRowMaxHs];
    __shared__ float part_o[kWarps][kRowMaxHs];  // a warp's unnormalised o, when warps share a row
    __shared__ float part_ml[kWarps][2];         // and its m (log2 domain) and l
    const int split = blockIdx.x;
    const int kvh = blockIdx.y;
    const int b = blockIdx.z;
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    // Lengths may live on the device (a CUDA graph replays with new ones), so they are clamped to
    // what the table can address rather than trusted.
    const int64_t rows_addressable = static_cast<int64_t>(p.max_blocks_per_seq) * p.block_size;
    const int L = static_cast<int>(p.cache_lengths[b] < 0 ? 0
                                   : (p.cache_lengths[b] > rows_addressable ? rows_addressable : p.cache_lengths[b]));
    const int chunk = (L + p.num_splits - 1) / p.num_splits;
    const int j_begin = min(L, split * chunk);
    const int j_split_end = min(L, j_begin + chunk);
    const int group = p.NH / p.NKV;
    const int R = group * p.Tq;  // rows (head of the group, query) of this block
    PagedKv<T> rows{static_cast<const T*>(p.k_cache), static_cast<const T*>(p.v_cache),
                    p.block_table + static_cast<int64_t>(b) * p.max_blocks_per_seq, p.block_size, p.NKV, p.HS, kvh,
                    p.num_blocks};
    float* qs = qs_all[warp];
    const float scale = p.scale * kLog2e;
    const int wpr = R >= 3 ? 1 : kWarps / R;  // warps per row; with wpr > 1 each warp has exactly one row
    const int sub = warp % wpr;

    for (int r = warp / wpr; r < R; r += kWarps / wpr) {
        const int h = kvh * group + r / p.Tq;
        const int i = r % p.Tq;
        const T* q = static_cast<const T*>(p.q) + b * p.q_batch_stride + i * p.q_row_stride + h * p.q_head_stride;
        __syncwarp();
        for (int d = lane; d < p.HS; d += 32) qs[d] = to_f32(q[d]) * scale;
        __syncwarp();
        const int qpos = L - p.Tq + i;  // this query's key position
        const int j_end = p.causal ? min(j_split_end, qpos + 1) : j_split_end;
        // sliding window: keys qpos - window < j (attention.cuh's attn_window_hides)
        const int j_lo = (p.causal && p.window > 0) ? max(j_begin, qpos - p.window + 1) : j_begin;
        const int n = max(0, j_end - j_lo);
        const int per = (n + wpr - 1) / wpr;  // this warp's share: keys [jb, je)
        const int jb = j_lo + min(n, sub * per);
        const int je = j_lo + min(n, (sub + 1) * per);
        RowState st;
        st.m = -INFINITY;
        st.l = 0.0f;
#pragma unroll
        for (int c = 0; c < kRowDims; c++) st.o[c] = 0.0f;
        auto visible = [](int) { return true; };
        if (p.rel_bias != nullptr) {
            const T5Bias bias{p.rel_bias, p.NH, h, qpos, p.num_buckets, p.max_distance, p.bias_bidirectional};
            row_attend<T>(st, qs, p.HS, jb, je, rows, visible, bias);
        } else {
            row_attend<T>(st, qs, p.HS, jb, je, rows, visible, NoBias{});
        }
        if (wpr == 1) {
            decode_finish<T>(p, st, split, b, h, i);
        } else {
#pragma unroll
            for (int c = 0; c < kRowDims; c++) {
                const int d = lane + 32 * c;
                if (d < p.HS) part_o[warp][d] = st.o[c];
            }
            if (lane == 0) {
                part_ml[warp][0] = st.m;
                part_ml[warp][1] = st.l;
            }
        }
    }
    if (wpr > 1) {
        __syncthreads();
        if (sub == 0) {  // the row's first warp merges its wpr warps' states
            RowState st;
            st.m = -INFINITY;
            for (int w = warp; w < warp + wpr; w++) st.m = fmaxf(st.m, part_ml[w][0]);
            st.l = 0.0f;
#pragma unroll
            for (int c = 0; c < kRowDims; c++) st.o[c] = 0.0f;
#pragma unroll 1  // unrolled, sm_90a ptxas spilled 32 bytes
            for (int w = warp; w < warp + wpr; w++) {
                const float f = part_ml[w][0] == -INFINITY ? 0.0f : exp2f(part_ml[w][0] - st.m);
                st.l += f * part_ml[w][1];
#pragma unroll
                for (int c = 0; c < kRowDims; c++) {
                    const int d = lane + 32 * c;
                    if (d < p.HS) st.o[c] += f * part_o[w][d];
                }
            }
            const int r = warp / wpr;
            decode_finish<T>(p, st, split, b, kvh * group + r / p.Tq, r % p.Tq);
        }
    }
}

// Grid (ceil(B·NH·Tq / 4)), 4 warps, one output row per warp: out = Σ_s exp(lse_s − lse) · o_s with
// lse = log Σ_s exp(lse_s). Splits that saw no key have lse_s = −inf and weigh nothing.
template <typename T>
__device__ __forceinline__ void decode_combine(const t4j_decode_params& p) {
    const int lane = threadIdx.x % 32;
    const int64_t rows = static_cast<int64_t>(p.B) * p.NH * p.Tq;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * (kRowThreads / 32) + threadIdx.x / 32;  // (b, h, i)
    if (row >= rows) return;
    const int i = static_cast<int>(row % p.Tq);
    const int h = static_cast<int>((row / p.Tq) % p.NH);
    const int b = static_cast<int>(row / (static_cast<int64_t>(p.Tq) * p.NH));
    float m = -INFINITY;
    bool nan = false;  // fmaxf drops NaN: a NaN split must poison the row, not vanish
    for (int s = 0; s < p.num_splits; s++) {
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
        for (int s = 0; s < p.num_splits; s++) {
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
    }
    const float inv = sum > 0.0f ? __fdividef(1.0f, sum) : 0.0f;  // sum ≥ 1 (the largest split weighs 1)
    T* out = static_cast<T*>(p.out) + b * p.out_batch_stride + i * p.out_row_stride + h * p.out_head_stride;
#pragma unroll
    for (int c = 0; c < kRowDims; c++) {
        const int d = lane + 32 * c;
        if (d < p.HS) out[d] = from_f32<T>(acc[c] * inv);
    }
    if (p.lse != nullptr && lane == 0) {
        static_cast<float*>(p.lse)[row] = sum == 0.0f ? -INFINITY : m + logf(sum);
    }
}

}  // namespace t4j
