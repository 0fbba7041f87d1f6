// attention_rowwise.cuh — attention one query row per warp, on CUDA cores: the fp32 prefill (the
// checking path: any head size ≤ 256, exact fp32 math), and the row machinery (online softmax over
// chunks of 32 keys, P·V by lane) that the paged decode (decode.cuh) shares.
//
// A warp walks its row's keys in chunks of 32: lane l scores key j0 + l (a dot product over HS
// against the row's query, kept in shared memory), the chunk updates the online softmax (max m,
// sum l), then each lane accumulates the dimensions d ≡ lane (mod 32) of P·V, reading V rows
// coalesced.
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
// visible(j) masks; bias(j) is the log2-domain additive bias (0 without T5 bias); softcap > 0 caps
// each score before the bias (attention.cuh's SoftCap).
template <typename T, typename Rows, typename Visible, typename Bias>
__device__ __forceinline__ void row_attend(RowState& st, const float* qs, int HS, int j_begin, int j_end,
                                           const Rows& rows, const Visible& visible, const Bias& bias, float softcap) {
    const int lane = threadIdx.x % 32;
    const SoftCap cap(softcap);
    for (int j0 = j_begin; j0 < j_end; j0 += 32) {
        const int j = j0 + lane;
        float x = -INFINITY;
        if (j < j_end && visible(j)) {
            x = row_dot(qs, rows.k(j), HS);
            if (softcap > 0.0f) x = cap(x);
            x += bias(j);
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

// ALiBi of key j for a query at key position qpos, log2 domain (slope2 = slope · log2 e; attention.cuh's attn_alibi).
struct AlibiBias {
    float slope2;
    int qpos;
    __device__ float operator()(int j) const { return attn_alibi(slope2, j - qpos); }
};

// DeBERTa's disentangled bias of key j for query row i (attention.cuh's Disentangled), log2 domain.
template <typename T>
struct DisBias {
    Disentangled<T> d;
    int i;
    __device__ float operator()(int j) const { return d(i, j); }
};

// DIS: with DeBERTa's disentangled bias (t4j_attn_rows_dis_f32; in the plain instance it made ptxas spill 12 bytes).
template <typename T, bool DIS = false>
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
    // Keys [0, end): the mask's end. A sliding window's after side is folded into the row's key count (keys at or
    // past its position + window are hidden like padded ones, attn_key_end), its before side into `visible`; a
    // two-sided test in `visible`, or starting the scan at attn_key_begin, made ptxas spill 4-12 bytes (nvcc 13.0,
    // 2026-12-05). Keys before the window are masked, not skipped: this is the fp32 checking path.
    const int Lk = attn_key_end(T4J_ATTN_MASK_NONE, i + 1, s.Lk, s.offset, 0, p.window);
    const int end = attn_key_end(p.mask, i + 1, Lk, s.offset, s.prefix, 0);
    const int mask = p.mask, offset = s.offset, prefix = s.prefix, window = p.window;
    auto visible = [=](int j) { return attn_visible(mask, i, j, Lk, offset, prefix) && !attn_window_hides_before(j - i - offset, window); };
    if constexpr (DIS) {
        const DisBias<T> bias{disentangled_view<T>(p, b, h, s), i};
        row_attend<T>(st, qs, p.HS, 0, end, rows, visible, bias, p.softcap);
    } else if (p.rel_bias != nullptr) {
        const T5Bias bias{p.rel_bias, p.NH, h, i + s.offset, p.num_buckets, p.max_distance, p.bias_bidirectional};
        row_attend<T>(st, qs, p.HS, 0, end, rows, visible, bias, p.softcap);
    } else if (p.alibi_slopes != nullptr) {
        const AlibiBias bias{p.alibi_slopes[h] * kLog2e, i + s.offset};
        row_attend<T>(st, qs, p.HS, 0, end, rows, visible, bias, p.softcap);
    } else {
        row_attend<T>(st, qs, p.HS, 0, end, rows, visible, NoBias{}, p.softcap);
    }

    float inv = st.l > 0.0f ? __fdividef(1.0f, st.l) : 0.0f;  // l ≥ 1: no slow path needed
    float row_lse = st.l > 0.0f ? (st.m + log2f(st.l)) * kLn2 : -INFINITY;
    if (p.sinks != nullptr) attn_sink_end(st.m, st.l, p.sinks[h], inv, row_lse);  // attention sinks (attention.cuh)
#pragma unroll
    for (int c = 0; c < kRowDims; c++) {
        const int d = lane + 32 * c;
        if (d < p.HS) out[d] = from_f32<T>(st.o[c] * inv);
    }
    if (p.lse != nullptr && lane == 0) {
        float* lse = static_cast<float*>(p.lse) + (packed ? h * static_cast<int64_t>(p.cu_seqlens_q[p.B]) + s.q_first
                                                          : (static_cast<int64_t>(b) * p.NH + h) * p.Tq);
        lse[i] = row_lse;
    }
}

}  // namespace t4j
