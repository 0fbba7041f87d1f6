// attention_mma.cuh — prefill/encoder attention on tensor cores (FlashAttention-2's scheme, written
// for this ABI): one thread block = 4 warps = 64 query rows of one (sequence, head); each warp owns
// 16 rows. K and V stream through shared memory in tiles of 64 keys (32 at instance size 256); S = Q·Kᵀ and O += P·V use
// mma.sync m16n8k16 (bf16/fp16 in, fp32 accumulate); the softmax is online (running max m and sum l
// per row, in the log2 domain), so the Tq×Tk matrix exists only as one 16×64 register tile per warp.
// T5 bias: per key tile, the 127 distinct relative positions of the 64×64 tile pair are bucketed
// once into shared memory. Head sizes: the template's HS is the instance size (32, 64, 80, 96,
// 128, 256); the data's p.HS is any multiple of 8 up to it, the columns past p.HS read as zeros
// (they add nothing to q·k) and are never stored. At 256 a block computes half of the output
// columns (mma_columns), so its accumulators stay at 64 registers per thread as at 128; the two
// halves are neighbouring blocks in x and both compute the scores. sm_80+ (the fatbin's oldest target). T4J_HOST_EMULATION swaps the two
// inline-asm instructions for native/tools/emulator's host versions (checking without a GPU).
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

// Four 8×8 16-bit matrices from shared memory, transposed (B fragments of V, stored [key][dim]).
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t* r, const void* smem_row) {
#ifdef T4J_HOST_EMULATION
    t4j_emu::ldmatrix_x4_trans(r, smem_row);
#else
    const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem_row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
#endif
}

// kMmaRows, kMmaThreads, mma_keys(hs), mma_columns(hs): attention_config.h (shared with the launcher).


// Copies rows [r0, r0 + ROWS) × columns [c0, c0 + COLS) of a (rows, hs) matrix with row stride
// `stride` into shared memory (ROWS, LD), zero-filling rows ≥ rows and columns ≥ hs. 16-byte
// vectors: base, stride, c0 and hs are multiples of 8 elements.
template <typename T, int COLS, int LD, int ROWS>
__device__ __forceinline__ void mma_load_tile(T* dst, const T* src, int64_t stride, int r0, int rows, int c0, int hs) {
    constexpr int kVecs = COLS / 8;  // uint4 per row
    for (int idx = threadIdx.x; idx < ROWS * kVecs; idx += kMmaThreads) {
        const int r = idx / kVecs;
        const int c = (idx % kVecs) * 8;
        uint4 val = make_uint4(0, 0, 0, 0);
        if (r0 + r < rows && c0 + c < hs) val = *reinterpret_cast<const uint4*>(src + (r0 + r) * stride + c0 + c);
        *reinterpret_cast<uint4*>(dst + r * LD + c) = val;
    }
}

// Two adjacent 16-bit elements (row, col), col even, of a (rows, hs) matrix; zero outside it.
template <typename T>
__device__ __forceinline__ uint32_t mma_word(const T* src, int64_t stride, int row, int col, int rows, int hs) {
    if (row >= rows || col >= hs) return 0u;
    return *reinterpret_cast<const uint32_t*>(src + row * stride + col);
}

template <typename T, int HS>
__device__ __forceinline__ void attention_mma(const t4j_attention_params& p) {
    constexpr int kMmaKeys = mma_keys(HS);
    constexpr int DV = mma_columns(HS);  // output columns of this block: [dv0, dv0 + DV)
    constexpr int LD = HS + 8;  // +16 bytes per row: fragment loads and ldmatrix rows hit 32 distinct banks
    constexpr int LDV = DV + 8;
    __shared__ __align__(16) T ks[kMmaKeys * LD];   // (keys, HS)
    __shared__ __align__(16) T vs[kMmaKeys * LDV];  // (keys, DV)
    __shared__ float bias_s[kMmaRows + kMmaKeys];   // bias · log2(e) by (j - n0) - (i - m0) + 63

    const int b = blockIdx.z;
    const int h = blockIdx.y;
    const int m0 = static_cast<int>(blockIdx.x / (HS / DV)) * kMmaRows;
    const int dv0 = static_cast<int>(blockIdx.x % (HS / DV)) * DV;
    const AttnSeq s = attn_seq(p, b);
    if (m0 >= s.Lq) return;
    const int kvh = h / (p.NH / p.NKV);
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int g = lane / 4;  // mma group: rows g and g + 8 of the warp's 16
    const int t = lane % 4;  // column pair within an 8-wide n tile

    const bool packed = p.cu_seqlens_q != nullptr;
    const T* q = static_cast<const T*>(p.q) + (packed ? s.q_first * p.q_row_stride : b * p.q_batch_stride) +
                 h * p.q_head_stride;  // (Lq, HS), row stride q_row_stride
    const T* k = static_cast<const T*>(p.k) + (packed ? s.k_first * p.k_row_stride : b * p.k_batch_stride) +
                 kvh * p.k_head_stride;  // (Lk, HS)
    const T* v = static_cast<const T*>(p.v) + (packed ? s.k_first * p.v_row_stride : b * p.v_batch_stride) +
                 kvh * p.v_head_stride;  // (Lk, HS)
    T* out = static_cast<T*>(p.out) + (packed ? s.q_first * p.out_row_stride : b * p.out_batch_stride) +
             h * p.out_head_stride;  // (Lq, HS)

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
    const bool bias = p.rel_bias != nullptr || p.window > 0;  // the window rides in the bias table (attention.cuh)
    const int key_end = attn_key_end(p.mask, min(m0 + kMmaRows, s.Lq), s.Lk, s.offset, s.prefix);

    for (int n0 = 0; n0 < key_end; n0 += kMmaKeys) {
        __syncthreads();  // the previous tile is no longer read
        mma_load_tile<T, HS, LD, kMmaKeys>(ks, k, p.k_row_stride, n0, s.Lk, 0, p.HS);
        mma_load_tile<T, DV, LDV, kMmaKeys>(vs, v, p.v_row_stride, n0, s.Lk, dv0, p.HS);  // zero rows: 0·V stays finite
        if (bias) {
            for (int idx = threadIdx.x; idx < kMmaRows + kMmaKeys - 1; idx += kMmaThreads) {
                const int rel = n0 - m0 + idx - (kMmaRows - 1) - s.offset;
                float b = 0.0f;
                if (p.rel_bias != nullptr) {
                    const int bucket = t5_bucket(rel, p.num_buckets, p.max_distance, p.bias_bidirectional);
                    b = p.rel_bias[bucket * p.NH + h] * kLog2e;
                }
                bias_s[idx] = attn_window_hides(rel, p.window) ? -INFINITY : b;
            }
        }
        __syncthreads();

        // S = Q · Kᵀ for this warp's 16 rows × kMmaKeys keys.
        float sc[kMmaKeys / 8][4];
#pragma unroll
        for (int n = 0; n < kMmaKeys / 8; n++) {
            sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.0f;
            const T* kr = ks + (n * 8 + g) * LD + 2 * t;
#pragma unroll
            for (int kk = 0; kk < HS / 16; kk++) {
                const uint32_t b0 = *reinterpret_cast<const uint32_t*>(kr + kk * 16);
                const uint32_t b1 = *reinterpret_cast<const uint32_t*>(kr + kk * 16 + 8);
                MmaType<T>::mma(sc[n], qf[kk], b0, b1);
            }
        }

        // Scale, bias, mask; the row maxima.
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int n = 0; n < kMmaKeys / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int r = e / 2;  // 0: row g, 1: row g + 8
                const int i = row_lo + 8 * r;
                const int j = n0 + n * 8 + 2 * t + (e & 1);
                float x = sc[n][e] * scale;
                if (bias) x += bias_s[(j - n0) - (i - m0) + kMmaRows - 1];
                if (!attn_visible(p.mask, i, j, s.Lk, s.offset, s.prefix)) x = -INFINITY;
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
            for (int n = 0; n < kMmaKeys / 8; n++) {
                sc[n][2 * r] = exp2f(sc[n][2 * r] - base);
                sc[n][2 * r + 1] = exp2f(sc[n][2 * r + 1] - base);
                l_run[r] += sc[n][2 * r] + sc[n][2 * r + 1];
            }
        }

        // O += P · V: the C fragments of two adjacent n tiles of S are the A fragment of one k-step.
#pragma unroll
        for (int kk = 0; kk < kMmaKeys / 16; kk++) {
            uint32_t pa[4];
            pa[0] = MmaType<T>::pack(sc[2 * kk][0], sc[2 * kk][1]);
            pa[1] = MmaType<T>::pack(sc[2 * kk][2], sc[2 * kk][3]);
            pa[2] = MmaType<T>::pack(sc[2 * kk + 1][0], sc[2 * kk + 1][1]);
            pa[3] = MmaType<T>::pack(sc[2 * kk + 1][2], sc[2 * kk + 1][3]);
            const int mat = lane / 8;  // ldmatrix: lane supplies row (lane % 8) of matrix (lane / 8)
            const T* vrow = vs + (kk * 16 + (mat & 1) * 8 + lane % 8) * LDV + (mat >> 1) * 8;
#pragma unroll
            for (int n = 0; n < DV / 16; n++) {
                uint32_t vb[4];
                ldmatrix_x4_trans(vb, vrow + n * 16);
                MmaType<T>::mma(o[2 * n], pa, vb[0], vb[1]);
                MmaType<T>::mma(o[2 * n + 1], pa, vb[2], vb[3]);
            }
        }
    }

    // Normalise and store; lse = (m + log2 l) · ln 2. Rows that saw no key: zeros and −inf.
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float l = l_run[r];
        l += __shfl_xor_sync(0xffffffffu, l, 1);
        l += __shfl_xor_sync(0xffffffffu, l, 2);
        const int i = row_lo + 8 * r;
        if (i >= s.Lq) continue;
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        T* orow = out + i * p.out_row_stride + dv0 + 2 * t;
#pragma unroll
        for (int n = 0; n < DV / 8; n++) {
            if (dv0 + n * 8 < p.HS) {
                *reinterpret_cast<uint32_t*>(orow + n * 8) = MmaType<T>::pack(o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
            }
        }
        if (p.lse != nullptr && t == 0 && dv0 == 0) {
            const float lse = l > 0.0f ? (m_run[r] + log2f(l)) * kLn2 : -INFINITY;
            float* lse_row = static_cast<float*>(p.lse) +
                             (packed ? h * static_cast<int64_t>(p.cu_seqlens_q[p.B]) + s.q_first
                                     : (static_cast<int64_t>(b) * p.NH + h) * p.Tq);
            lse_row[i] = lse;
        }
    }
}

}  // namespace t4j
