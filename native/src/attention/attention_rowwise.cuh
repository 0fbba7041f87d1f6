// attention_rowwise.cuh — attention one query row per warp, on CUDA cores: the fp32 prefill (the
// checking path: any head size ≤ 256, exact fp32 math) and the paged split-KV decode for every
// dtype, plus the kernel that combines the decode's per-split partial results.
//
// A warp walks its row's keys in chunks of 32: lane l scores key j0 + l (a dot product over HS
// against the row's query, kept in shared memory), the chunk updates the online softmax (max m,
// sum l), then each lane accumulates the dimensions d ≡ lane (mod 32) of P·V, reading V rows
// coalesced. Decode blocks handle one (split, head, sequence): warps take the Tq ≤ 16 query rows.
#pragma once

#include "attention.cuh"
#include "attention_config.h"
#include "../common/reduce.cuh"

namespace t4j {

// kRowThreads, kRowMaxHs, kRowDims: attention_config.h (shared with the launcher).

__device__ __forceinline__ float attn_warp_max(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

// Online-softmax state of one query row, spread over a warp: o[c] is dimension lane + 32c.
struct RowState {
    float m;  // running max of the log2-domain scores
    float l;  // running sum of exp2(score - m)
    float o[kRowDims];
};

// The two 16-bit values packed in a 32-bit word (lower address first), as fp32.
__device__ __forceinline__ float2 unpack2(uint32_t w, __half) {
    return make_float2(__half2float(__ushort_as_half(static_cast<unsigned short>(w & 0xffffu))),
                       __half2float(__ushort_as_half(static_cast<unsigned short>(w >> 16))));
}
__device__ __forceinline__ float2 unpack2(uint32_t w, __nv_bfloat16) {
    return make_float2(__uint_as_float(w << 16), __uint_as_float(w & 0xffff0000u));
}

// q·k over HS dimensions: q fp32 in shared memory, k a row in global memory. For 16-bit K, 16-byte
// loads where the row is 16-byte aligned (paged caches, dense rows of HS a multiple of 8: the usual
// case), element loads otherwise; fp32 K (the checking path) is read element by element.
template <typename T>
__device__ __forceinline__ float row_dot(const float* qs, const T* kr, int HS) {
    float dot = 0.0f;
    if constexpr (sizeof(T) == 2) {
        if ((reinterpret_cast<uintptr_t>(kr) & 15) == 0 && HS % 8 == 0) {
            for (int d0 = 0; d0 < HS; d0 += 8) {
                const uint4 raw = *reinterpret_cast<const uint4*>(kr + d0);
                const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    const float2 kv = unpack2(words[u], T());
                    dot += qs[d0 + 2 * u] * kv.x + qs[d0 + 2 * u + 1] * kv.y;
                }
            }
            return dot;
        }
    }
    for (int d = 0; d < HS; d++) dot += qs[d] * to_f32(kr[d]);
    return dot;
}

// Scores keys [j_begin, j_end) of one row against `qs` (HS fp32 in shared memory, pre-multiplied
// by scale · log2 e) and folds them into `st`. key_row(j) gives K's and V's row for key j;
// visible(j) masks; bias(j) is the log2-domain additive bias (0 without T5 bias).
template <typename T, typename Rows, typename Visible, typename Bias>
__device__ __forceinline__ void row_attend(RowState& st, const float* qs, int HS, int j_begin, int j_end,
                                           const Rows& rows, const Visible& visible, const Bias& bias) {
    const int lane = threadIdx.x % 32;
    for (int j0 = j_begin; j0 < j_end; j0 += 32) {
        const int j = j0 + lane;
        float x = -INFINITY;
        if (j < j_end && visible(j)) {
            x = row_dot(qs, rows.k(j), HS) + bias(j);
        }
        const float m_new = fmaxf(st.m, attn_warp_max(x));
        const float base = m_new == -INFINITY ? 0.0f : m_new;
        const float alpha = exp2f(st.m - base);
        const float pj = exp2f(x - base);
        st.m = m_new;
        st.l = st.l * alpha + warp_sum(pj);
#pragma unroll
        for (int c = 0; c < kRowDims; c++) st.o[c] *= alpha;
        const int n = min(32, j_end - j0);
#pragma unroll 1  // unrolled, sm_86/sm_89 ptxas spilled 12 bytes in the f32 prefill
        for (int kk = 0; kk < n; kk++) {
            const float pk = __shfl_sync(0xffffffffu, pj, kk);
            if (pk == 0.0f) continue;  // masked (uniform across the warp)
            const T* vr = rows.v(j0 + kk);
#pragma unroll
            for (int c = 0; c < kRowDims; c++) {
                const int d = lane + 32 * c;
                if (d < HS) st.o[c] += pk * to_f32(vr[d]);
            }
        }
    }
}

// ---- fp32 prefill ------------------------------------------------------------------------------

template <typename T>
struct DenseKv {
    const T* kb;
    const T* vb;
    int64_t ks, vs;
    __device__ const T* k(int j) const { return kb + j * ks; }
    __device__ const T* v(int j) const { return vb + j * vs; }
};

struct NoBias {
    __device__ float operator()(int) const { return 0.0f; }
};

// Bias of key j for a query at key position qpos, times log2 e.
struct T5Bias {
    const float* table;
    int nh, h, qpos, num_buckets, max_distance, bidirectional;
    __device__ float operator()(int j) const {
        return table[t5_bucket(j - qpos, num_buckets, max_distance, bidirectional) * nh + h] * kLog2e;
    }
};

template <typename T>
__device__ __forceinline__ void attention_rowwise(const t4j_attention_params& p) {
    __shared__ float qs_all[kRowThreads / 32][kRowMaxHs];
    const int b = blockIdx.z;
    const int h = blockIdx.y;
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int i = blockIdx.x * (kRowThreads / 32) + warp;  // this warp's query row
    const AttnSeq s = attn_seq(p, b);
    if (i >= s.Lq) return;  // warps are independent: no block-wide barrier below
    const int kvh = h / (p.NH / p.NKV);
    const bool packed = p.cu_seqlens_q != nullptr;
    const T* q = static_cast<const T*>(p.q) + (packed ? s.q_first * p.q_row_stride : b * p.q_batch_stride) +
                 h * p.q_head_stride + i * p.q_row_stride;  // (HS)
    DenseKv<T> rows;
    rows.kb = static_cast<const T*>(p.k) + (packed ? s.k_first * p.k_row_stride : b * p.k_batch_stride) +
              kvh * p.k_head_stride;
    rows.vb = static_cast<const T*>(p.v) + (packed ? s.k_first * p.v_row_stride : b * p.v_batch_stride) +
              kvh * p.v_head_stride;
    rows.ks = p.k_row_stride;
    rows.vs = p.v_row_stride;
    T* out = static_cast<T*>(p.out) + (packed ? s.q_first * p.out_row_stride : b * p.out_batch_stride) +
             h * p.out_head_stride + i * p.out_row_stride;  // (HS)

    float* qs = qs_all[warp];
    const float scale = p.scale * kLog2e;
    for (int d = lane; d < p.HS; d += 32) qs[d] = to_f32(q[d]) * scale;
    __syncwarp();

    RowState st;
    st.m = -INFINITY;
    st.l = 0.0f;
#pragma unroll
    for (int c = 0; c < kRowDims; c++) st.o[c] = 0.0f;
    const int end = attn_key_end(p.mask, i + 1, s.Lk, s.offset, s.prefix);
    const int mask = p.mask, Lk = s.Lk, offset = s.offset, prefix = s.prefix;
    auto visible = [=](int j) { return attn_visible(mask, i, j, Lk, offset, prefix); };
    if (p.rel_bias != nullptr) {
        const T5Bias bias{p.rel_bias, p.NH, h, i + s.offset, p.num_buckets, p.max_distance, p.bias_bidirectional};
        row_attend<T>(st, qs, p.HS, 0, end, rows, visible, bias);
    } else {
        row_attend<T>(st, qs, p.HS, 0, end, rows, visible, NoBias{});
    }

    const float inv = st.l > 0.0f ? __fdividef(1.0f, st.l) : 0.0f;  // l ≥ 1: no slow path needed
#pragma unroll
    for (int c = 0; c < kRowDims; c++) {
        const int d = lane + 32 * c;
        if (d < p.HS) out[d] = from_f32<T>(st.o[c] * inv);
    }
    if (p.lse != nullptr && lane == 0) {
        float* lse = static_cast<float*>(p.lse) + (packed ? h * static_cast<int64_t>(p.cu_seqlens_q[p.B]) + s.q_first
                                                          : (static_cast<int64_t>(b) * p.NH + h) * p.Tq);
        lse[i] = st.l > 0.0f ? (st.m + log2f(st.l)) * kLn2 : -INFINITY;
    }
}

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
    const float lse = st.l > 0.0f ? (st.m + log2f(st.l)) * kLn2 : -INFINITY;
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
        const int n = max(0, j_end - j_begin);
        const int per = (n + wpr - 1) / wpr;  // this warp's share: keys [jb, je)
        const int jb = j_begin + min(n, sub * per);
        const int je = j_begin + min(n, (sub + 1) * per);
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
    for (int s = 0; s < p.num_splits; s++) m = fmaxf(m, p.workspace_lse[s * rows + row]);
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
        static_cast<float*>(p.lse)[row] = sum > 0.0f ? m + logf(sum) : -INFINITY;
    }
}

}  // namespace t4j
