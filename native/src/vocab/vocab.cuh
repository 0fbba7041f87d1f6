// vocab.cuh — row-wise ops over the vocabulary: softmax / log-softmax, cross-entropy with an
// ignore index, and sampling (argmax, temperature, top-k, top-p, min_p, Philox). One thread block per
// row (grid-stride over rows), threads over V. Statistics use the online (max, sum·e^-max) pair,
// so a row is read once for them; no [rows, V] scratch buffer is ever written.
#pragma once

#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"
#include "../common/reduce.cuh"

namespace t4j {
namespace vocab {

// ---- online log-sum-exp ------------------------------------------------------------------------

struct MaxSum {
    float m;  // running max
    float s;  // sum of exp(x - m)
};

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
    if (a.m == -INFINITY) return b;
    if (b.m == -INFINITY) return a;
    const float m = fmaxf(a.m, b.m);
    return MaxSum{m, a.s * __expf(a.m - m) + b.s * __expf(b.m - m)};
}

__device__ __forceinline__ MaxSum add(MaxSum a, float x) {
    if (x <= a.m) return MaxSum{a.m, a.s + __expf(x - a.m)};
    return MaxSum{x, (a.m == -INFINITY ? 0.0f : a.s * __expf(a.m - x)) + 1.0f};
}

// Block-wide merge; every thread gets the result. scratch: 64 floats of shared memory.
__device__ __forceinline__ MaxSum block_max_sum(MaxSum v, float* scratch) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        MaxSum w{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
        v = merge(v, w);
    }
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v.m;
        scratch[32 + warp] = v.s;
    }
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? MaxSum{scratch[lane], scratch[32 + lane]} : MaxSum{-INFINITY, 0.0f};
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            MaxSum w{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
            v = merge(v, w);
        }
        if (lane == 0) {
            scratch[0] = v.m;
            scratch[32] = v.s;
        }
    }
    __syncthreads();
    return MaxSum{scratch[0], scratch[32]};
}

template <typename T>
__device__ __forceinline__ MaxSum row_max_sum(const T* x, int64_t cols, float scale, float* scratch) {
    MaxSum v{-INFINITY, 0.0f};
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) v = add(v, scale * to_f32(x[c]));
    return block_max_sum(v, scratch);
}

// ---- softmax / log-softmax ---------------------------------------------------------------------

template <typename T>
__device__ __forceinline__ void softmax_rows(const t4j_softmax_params& p) {
    __shared__ float scratch[64];
    for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
        const T* x = static_cast<const T*>(p.x) + row * p.x_row_stride;  // (V)
        T* out = static_cast<T*>(p.out) + row * p.out_row_stride;        // (V)
        const MaxSum ms = row_max_sum(x, p.cols, p.scale, scratch);
        const float log_sum = logf(ms.s);
        const float inv_sum = 1.0f / ms.s;
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
            const float z = p.scale * to_f32(x[c]) - ms.m;
            out[c] = from_f32<T>(p.kind == T4J_LOG_SOFTMAX ? z - log_sum : expf(z) * inv_sum);
        }
        __syncthreads();  // out may alias x: the next row's reads come after every write of this one
    }
}

// ---- cross-entropy -------------------------------------------------------------------------------

template <typename T>
__device__ __forceinline__ void cross_entropy_rows(const t4j_cross_entropy_params& p) {
    __shared__ float scratch[64];
    for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
        const int32_t target = p.targets[row];
        if (target == p.ignore_index) {
            if (threadIdx.x == 0) p.losses[row] = 0.0f;
            continue;  // uniform across the block: no barrier is skipped by some threads only
        }
        if (target < 0 || target >= p.cols) {
            if (threadIdx.x == 0) {
                p.losses[row] = __int_as_float(0x7fc00000);  // NaN
                atomicMin(p.error_row, static_cast<int32_t>(row + 1 < 2147483647 ? row + 1 : 2147483647));
            }
            continue;
        }
        const T* x = static_cast<const T*>(p.logits) + row * p.logits_row_stride;  // (V)
        const MaxSum ms = row_max_sum(x, p.cols, 1.0f, scratch);
        if (threadIdx.x == 0) p.losses[row] = ms.m + logf(ms.s) - to_f32(x[target]);
    }
}

// ---- sampling ------------------------------------------------------------------------------------
// Filters in transformers' warper order: temperature, top-k, top-p, then min_p (t4j.h).

// Philox4x32-10 (Salmon et al., SC'11), the first output word.
__device__ __forceinline__ uint32_t philox_x0(uint64_t seed, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3) {
    uint32_t k0 = static_cast<uint32_t>(seed);
    uint32_t k1 = static_cast<uint32_t>(seed >> 32);
#pragma unroll
    for (int r = 0; r < 10; r++) {
        const uint32_t lo0 = 0xD2511F53u * c0;
        const uint32_t hi0 = __umulhi(0xD2511F53u, c0);
        const uint32_t lo1 = 0xCD9E8D57u * c2;
        const uint32_t hi1 = __umulhi(0xCD9E8D57u, c2);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return c0;
}

// Order-preserving map of a float to uint32 (larger float, larger key); NaN sorts above +inf.
__device__ __forceinline__ uint32_t order_key(float f) {
    const uint32_t b = __float_as_uint(f);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// Smallest id among equal maxima wins.
__device__ __forceinline__ void better(float& bv, int64_t& bi, float v, int64_t i) {
    if (v > bv || (v == bv && i < bi)) {
        bv = v;
        bi = i;
    }
}

__device__ __forceinline__ int64_t block_argmax(float v, int64_t i, float* fscratch, int64_t* iscratch) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) better(v, i, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, i, o));
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) {
        fscratch[warp] = v;
        iscratch[warp] = i;
    }
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? fscratch[lane] : -INFINITY;
        i = lane < warps ? iscratch[lane] : INT64_MAX;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) better(v, i, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, i, o));
        if (lane == 0) iscratch[0] = i;
    }
    __syncthreads();
    return iscratch[0];
}

// Radix select over the row's order keys, most significant byte first. With MASS false it finds
// the key of the `need`-th largest element (a count); with MASS true, the key of the element at
// which the mass exp((x - m) / temperature), summed from the largest key down, first reaches
// `need`. Only elements with key >= floor_key take part. hist: 256 floats of shared memory;
// warp_hist: 32 × 256 floats, one histogram per warp.
// Logits crowd into a few bins of the top byte (sign and exponent), so lanes of a warp that share
// a bin are combined first (__match_any_sync) and one lane adds for them into its warp's own
// histogram; the warps' histograms are then summed in warp order. No atomics, no contention, and
// every sum has a fixed order: the same row gives the same ids on every run.
// blockDim.x must be a multiple of 32 (the launcher's are).
template <typename T, bool MASS>
__device__ __forceinline__ uint32_t radix_select(const T* x, int64_t cols, float m, float inv_t, uint32_t floor_key,
                                                 float need, float* hist, float (*warp_hist)[256]) {
    uint32_t prefix = 0;
    uint32_t mask = 0;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    float* mine = warp_hist[warp];
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int d = lane; d < 256; d += 32) mine[d] = 0.0f;
        __syncwarp();
        for (int64_t base = 0; base < cols; base += blockDim.x) {  // uniform trip count: whole warps stay together
            const int64_t c = base + threadIdx.x;
            uint32_t bin = 256u;  // "no bin"
            float w = 0.0f;
            if (c < cols) {
                const float v = to_f32(x[c]);
                const uint32_t key = order_key(v);
                if (key >= floor_key && (key & mask) == prefix) {
                    bin = (key >> shift) & 255u;
                    w = MASS ? __expf((v - m) * inv_t) : 1.0f;
                }
            }
            const uint32_t peers = __match_any_sync(0xffffffffu, bin);
            float total;
            if (MASS) {
                total = 0.0f;
#pragma unroll
                for (int j = 0; j < 32; j++) {
                    const float wj = __shfl_sync(0xffffffffu, w, j);
                    if ((peers >> j) & 1u) total += wj;
                }
            } else {
                total = static_cast<float>(__popc(peers));
            }
            if (bin < 256u && lane == __ffs(peers) - 1) mine[bin] += total;  // one leader per bin and warp
            __syncwarp();  // this iteration's adds are seen by the next iteration's leaders
        }
        __syncthreads();
        for (int d = threadIdx.x; d < 256; d += blockDim.x) {
            float h = 0.0f;
            for (int w = 0; w < warps; w++) h += warp_hist[w][d];
            hist[d] = h;
        }
        __syncthreads();
        // Every thread walks the 256 bins the same way, so all agree on the digit.
        float cum = 0.0f;
        int digit = -1;
        int last_nonzero = 0;
        for (int d = 255; d >= 0; d--) {
            const float h = hist[d];
            if (h > 0.0f) last_nonzero = d;
            if (cum + h >= need && h > 0.0f) {
                digit = d;
                break;
            }
            cum += h;
        }
        if (digit < 0) digit = last_nonzero;  // rounding left the target just out of reach
        else need -= cum;
        prefix |= static_cast<uint32_t>(digit) << shift;
        mask |= 255u << shift;
        __syncthreads();  // hist and the warp histograms are rewritten by the next pass
    }
    return prefix;
}

// Inclusive block-wide prefix sum; scratch: 32 floats. Returns the block total through *total.
__device__ __forceinline__ float block_inclusive_scan(float v, float* scratch, float* total) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const float u = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += u;
    }
    __syncthreads();
    if (lane == 31) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : 0.0f;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const float u = __shfl_up_sync(0xffffffffu, w, o);
            if (lane >= o) w += u;
        }
        scratch[lane] = w;  // inclusive totals of warps 0..lane
    }
    __syncthreads();
    if (warp > 0) v += scratch[warp - 1];
    *total = scratch[warps - 1];
    return v;
}

template <typename T>
__device__ __forceinline__ void sample_rows(const t4j_sample_params& p) {
    __shared__ float scratch[64];
    __shared__ float hist[256];
    __shared__ float warp_hist[32][256];  // 32 KiB: one radix histogram per warp
    __shared__ int64_t iscratch[32];
    __shared__ int64_t found;
    __shared__ t4j_sample_row rowp;
    __shared__ uint32_t row_c0;
    for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
        const T* x = static_cast<const T*>(p.logits) + row * p.logits_row_stride;  // (V)
        // The row's parameters (ABI 13): the scalars, or its own entry of row_params with Philox counter
        // word c0 = 0, so that the draw is the one row 0 of a launch over this row alone gets. Kept in
        // shared memory, read where used (copies held in registers across the row spilled). Written
        // after the previous row's last barrier, read after the reductions' barriers below.
        if (threadIdx.x == 0) {
            if (p.row_params != nullptr) {
                const t4j_sample_row r = p.row_params[row];
                // out of range (the launcher cannot see device memory): argmax, so ids stay in [0, V)
                const bool ok = r.temperature >= 0.0f && r.temperature <= 3.402823466e38f && r.top_p > 0.0f &&
                                r.top_p <= 1.0f && r.top_k >= 0 && r.min_p >= 0.0f && r.min_p <= 1.0f;
                rowp = r;
                if (!ok) rowp.temperature = 0.0f;
                row_c0 = 0u;
            } else {
                rowp = t4j_sample_row{p.seed, p.offset, p.temperature, p.top_p, p.top_k, p.min_p};
                row_c0 = static_cast<uint32_t>(row);
            }
        }
        // log-sum-exp at temperature 1 for the returned log-probability; its max is also the max
        // of x / temperature (times temperature), so it serves the sampling distribution too.
        // The row's statistics, and whether it is non-finite (a NaN or +inf, or no finite logit):
        // such a row gets the argmax over its non-NaN logits, a NaN logprob and its flag set.
        MaxSum part{-INFINITY, 0.0f};
        float poison = 0.0f, finite = 0.0f;
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
            const float v = to_f32(x[c]);
            part = add(part, v);
            if (v != v || v == INFINITY) poison = 1.0f;
            else if (v != -INFINITY) finite = 1.0f;
        }
        const MaxSum ms = block_max_sum(part, scratch);
        const float poisoned = block_sum(poison, scratch);
        const float finites = block_sum(finite, scratch);
        const bool nonfinite = poisoned > 0.0f || !(finites > 0.0f);  // the same in every thread
        int64_t id;
        if (rowp.temperature == 0.0f || nonfinite) {
            float bv = -INFINITY;
            int64_t bi = INT64_MAX;
            for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) better(bv, bi, to_f32(x[c]), c);
            id = block_argmax(bv, bi, scratch, iscratch);
            if (id >= p.cols) id = 0;  // every logit NaN: NaN never wins
        } else {
            const float inv_t = 1.0f / rowp.temperature;
            uint32_t floor_key = 0;
            if (rowp.top_k > 0 && rowp.top_k < p.cols) {
                floor_key = radix_select<T, false>(x, p.cols, ms.m, inv_t, 0u, static_cast<float>(rowp.top_k), hist, warp_hist);
            }
            if (rowp.top_p < 1.0f) {
                float kept = 0.0f;
                for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
                    const float v = to_f32(x[c]);
                    if (order_key(v) >= floor_key) kept += __expf((v - ms.m) * inv_t);
                }
                kept = block_sum(kept, scratch);
                floor_key = radix_select<T, true>(x, p.cols, ms.m, inv_t, floor_key, rowp.top_p * kept, hist, warp_hist);
            }
            // Each thread owns a contiguous segment of ids: its kept mass, one block-wide scan over
            // the segments, then the thread whose segment holds u·S walks it. One pass over the row.
            const int64_t per = (p.cols + blockDim.x - 1) / blockDim.x;
            const int64_t lo = threadIdx.x * per;
            const int64_t hi = lo + per < p.cols ? lo + per : p.cols;
            float seg = 0.0f;
            float last = -1.0f;  // the segment's last kept id; exact as a float below 2^24
            // min_p (ABI 12) keeps, of what top-k and top-p kept, the weights e >= min_p (e of the max is 1)
            for (int64_t c = lo; c < hi; c++) {
                const float v = to_f32(x[c]);
                if (order_key(v) >= floor_key) {
                    const float e = __expf((v - ms.m) * inv_t);
                    if (e >= rowp.min_p) {
                        seg += e;
                        last = static_cast<float>(c);
                    }
                }
            }
            if (threadIdx.x == 0) found = -1;
            float mass;
            const float incl = block_inclusive_scan(seg, scratch, &mass);
            const uint32_t x0 = philox_x0(rowp.seed, row_c0, static_cast<uint32_t>(rowp.offset),
                                          static_cast<uint32_t>(rowp.offset >> 32), 0u);
            const float target = static_cast<float>(x0 >> 8) * (1.0f / 16777216.0f) * mass;
            if (seg > 0.0f && incl > target && incl - seg <= target) {
                float running = incl - seg;
                int64_t pick = static_cast<int64_t>(last);
                for (int64_t c = lo; c < hi; c++) {
                    const float v = to_f32(x[c]);
                    if (order_key(v) < floor_key) continue;
                    const float e = __expf((v - ms.m) * inv_t);
                    if (e < rowp.min_p) continue;
                    running += e;
                    if (e > 0.0f && running > target) {
                        pick = c;
                        break;
                    }
                }
                atomicMin(reinterpret_cast<unsigned long long*>(&found), static_cast<unsigned long long>(pick));
            }
            const int64_t last_kept = block_argmax(last, static_cast<int64_t>(last), scratch, iscratch);  // has a barrier
            id = found >= 0 ? found : last_kept;
        }
        if (threadIdx.x == 0) {
            p.ids[row] = static_cast<int32_t>(id);
            if (p.logprobs != nullptr) p.logprobs[row] = nonfinite ? __int_as_float(0x7fc00000) : to_f32(x[id]) - ms.m - logf(ms.s);
            if (p.nonfinite != nullptr) p.nonfinite[row] = nonfinite ? 1 : 0;
        }
        __syncthreads();
    }
}

}  // namespace vocab
}  // namespace t4j
