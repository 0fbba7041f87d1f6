// moe.cuh — the mixture-of-experts kernels around the grouped expert GEMM (t4j.h, "mixture of
// experts (ABI 9)"):
//   route_tokens    one block: per token (a warp each) fp32 softmax or sigmoid over E (+ correction bias for the choice);
//                   with groups (ABI 18), lane g scores group g (its max, or its top-2 sum) and the
//                   warp keeps the topk_group best, the other groups' experts masked to 0.0; top-k by
//                   repeated warp argmax (ties to the lower id), optional renormalization, × scale; then the expert-major
//                   layout: counts (shared atomics) → exclusive prefix sum → one warp walks the T·k
//                   choices in (t, j) order, 32 at a time, ranking equal experts by __match_any_sync,
//                   so the slots are the same on every run and equal to CpuMoe.sortByExpert's;
//   gather_rows     out[r] = x[rows[r]], bits copied (16-byte vectors where every row allows it);
//   combine_rows    out[t] = Σ_j w[t,j]·y[slot[t,j]] (+ σ(g_t)·shared[t]) (+ residual[t]), fp32, one rounding.
// No host reads and fixed grids: all three can be captured into a CUDA graph.
#pragma once

#include <cstdint>
#include <type_traits>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {
namespace moe {

constexpr int kRouteThreads = 1024;   // one block; a warp per token in the top-k phase
constexpr int kMaxExperts = 1024;     // t4j.h: E ≤ 1024 (the counters and the scan live in shared memory)
constexpr int kExpertsPerLane = kMaxExperts / 32;  // lane l owns experts l, l + 32, ...: one bit each in `taken`

// NaN-propagating max, as Java's Math.max (CpuMoe): one NaN logit makes every p NaN on both sides.
__device__ __forceinline__ float max_nan(float a, float b) { return (a != a || b != b) ? a + b : fmaxf(a, b); }

// The ranking key of a score or choice: NaN as −inf (t4j.h), as CpuMoe.rankKey.
__device__ __forceinline__ float rank_key(float c) { return c != c ? -INFINITY : c; }

// (key, id) is better than (k2, id2): larger key, or an equal key and a lower id.
__device__ __forceinline__ bool better(float key, int id, float k2, int id2) { return key > k2 || (key == k2 && id < id2); }

// One token's row as the router reads it: expert e's score s_e and choice c_e before any group mask.
template <typename T>
struct RouteRow {
    const T* row;          // (E) logits
    const float* bias;     // (E) correction bias, or nullptr
    float mx, inv;         // softmax: the row's max and 1 / Σ e^(x − max)
    bool sigmoid;

    __device__ __forceinline__ float score(int e) const {
        const float x = to_f32(row[e]);
        return sigmoid ? 1.0f / (1.0f + expf(-x)) : expf(x - mx) * inv;
    }
    __device__ __forceinline__ float choice(int e, float s) const { return bias != nullptr ? s + bias[e] : s; }
};

// Warp-wide argmax of (key, id) with its payload w: every lane ends with the winner.
__device__ __forceinline__ void warp_best(float& key, int& id, float& w) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ok = __shfl_xor_sync(0xffffffffu, key, o);
        const float ow = __shfl_xor_sync(0xffffffffu, w, o);
        const int oi = __shfl_xor_sync(0xffffffffu, id, o);
        if (better(ok, oi, key, id)) {
            key = ok;
            w = ow;
            id = oi;
        }
    }
}

// Group-limited routing (t4j.h, ABI 18): lane g < n_group walks group g's G experts and scores it
// (softmax: the largest choice, DeepSeek-V2; sigmoid: the sum of the two largest in fp32, V3; a NaN
// choice counts as −inf); the warp keeps the topk_group best groups (ties to the lower group id).
// Returns the kept groups' bits, the same in every lane.
template <typename T>
__device__ __forceinline__ uint32_t kept_groups(const t4j_moe_route_params& p, const RouteRow<T>& r, int lane) {
    const int G = p.experts / p.n_group;
    float gkey = -INFINITY;
    int gid = 0x7fffffff;  // lanes past n_group: never better than a real group
    if (lane < p.n_group) {
        float top1 = -INFINITY, top2 = -INFINITY;  // the group's two largest choices (NaN as −inf)
        for (int e = lane * G; e < (lane + 1) * G; e++) {
            const float k = rank_key(r.choice(e, r.score(e)));
            if (k > top1) {
                top2 = top1;
                top1 = k;
            } else if (k > top2) {
                top2 = k;
            }
        }
        gkey = rank_key(r.sigmoid ? top1 + top2 : top1);
        gid = lane;
    }
    uint32_t kept = 0;
    for (int j = 0; j < p.topk_group; j++) {
        float key = (kept >> lane) & 1u ? -INFINITY : gkey;
        int id = (kept >> lane) & 1u ? 0x7fffffff : gid;
        float unused = 0.0f;
        warp_best(key, id, unused);
        kept |= 1u << id;
    }
    return kept;
}

template <typename T>
__device__ __forceinline__ void route_tokens(const t4j_moe_route_params& p) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    const int E = p.experts;
    const int K = p.top_k;
    const int64_t T_ = p.tokens;
    const bool sigmoid = p.scoring == T4J_MOE_SIGMOID;
    const bool unbiased_w = sigmoid || p.correction_bias != nullptr;  // the weights: s, not the choice c
    const bool grouped = p.n_group > 1 && p.topk_group < p.n_group;  // keeping every group masks nothing
    const int G = p.n_group > 1 ? E / p.n_group : E;
    const float scale = p.scale == 0.0f ? 1.0f : p.scale;

    // ---- top-k per token: a warp per token ----
    for (int64_t t = warp; t < T_; t += warps) {
        RouteRow<T> r{static_cast<const T*>(p.logits) + t * p.logits_row_stride, p.correction_bias, 0.0f, 1.0f, sigmoid};
        if (!sigmoid) {
            float mx = -INFINITY;
            for (int e = lane; e < E; e += 32) mx = max_nan(mx, to_f32(r.row[e]));
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) mx = max_nan(mx, __shfl_xor_sync(0xffffffffu, mx, o));
            float sum = 0.0f;
            for (int e = lane; e < E; e += 32) sum += expf(to_f32(r.row[e]) - mx);
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
            r.mx = mx;
            r.inv = 1.0f / sum;
        }
        const uint32_t kept = grouped ? kept_groups(p, r, lane) : 0xffffffffu;
        uint32_t taken = 0;   // bit i: expert lane + 32 i already chosen
        float total = 0.0f;   // the chosen weights, summed in pick order (fp32, as CpuMoe)
        float my_w = 0.0f;    // lane j keeps pick j
        int my_id = 0;
        for (int j = 0; j < K; j++) {
            float best_key = -INFINITY;
            float best_w = 0.0f;
            int best = 0x7fffffff;
            for (int i = 0, e = lane; e < E; i++, e += 32) {
                if ((taken >> i) & 1u) continue;
                const float s = r.score(e);
                const float c = (kept >> (e / G)) & 1u ? r.choice(e, s) : 0.0f;  // masked_fill(0.0)
                const float key = rank_key(c);
                if (better(key, e, best_key, best)) {  // e ascends: an equal key keeps the lower id
                    best_key = key;
                    best_w = unbiased_w ? s : c;  // V3 and ERNIE weigh by the unbiased score, V2 by the masked one
                    best = e;
                }
            }
            warp_best(best_key, best, best_w);
            if ((best & 31) == lane) taken |= 1u << (best >> 5);
            total += best_w;
            if (lane == j) {
                my_w = best_w;
                my_id = best;
            }
        }
        if (lane < K) {
            const float w = p.renormalize ? my_w / (sigmoid ? total + 1e-20f : total) : my_w;
            p.topk_ids[t * K + lane] = my_id;
            p.topk_weights[t * K + lane] = w * scale;
        }
    }

    // ---- expert-major layout ----
    __shared__ int32_t s_count[kMaxExperts];  // choices per expert, then each expert's next free slot
    for (int e = threadIdx.x; e < E; e += blockDim.x) s_count[e] = 0;
    __syncthreads();  // the zeros, and every topk_ids store of this block, visible to all its threads
    const int64_t choices = T_ * K;
    for (int64_t i = threadIdx.x; i < choices; i += blockDim.x) atomicAdd(&s_count[p.topk_ids[i]], 1);
    __syncthreads();
    if (warp != 0) return;
    // Exclusive prefix sum over the experts, 32 at a time: offsets out, next slot per expert in s_count.
    int32_t running = 0;
    if (lane == 0) p.expert_offsets[0] = 0;
    for (int base = 0; base < E; base += 32) {
        const int e = base + lane;
        const int32_t c = e < E ? s_count[e] : 0;
        int32_t incl = c;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const int32_t up = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= o) incl += up;
        }
        if (e < E) {
            p.expert_offsets[e + 1] = running + incl;
            s_count[e] = running + incl - c;
        }
        running += __shfl_sync(0xffffffffu, incl, 31);
    }
    __syncwarp();
    // Slots in (t, j) order: choice i's slot is its expert's next slot plus the number of earlier
    // choices of the same expert among this group of 32; the last of them advances the expert.
    const uint32_t below = (1u << lane) - 1u;
    for (int64_t first = 0; first < choices; first += 32) {
        const int64_t i = first + lane;
        const int e = i < choices ? p.topk_ids[i] : -1;  // lanes past the end match each other only
        const uint32_t peers = __match_any_sync(0xffffffffu, static_cast<unsigned>(e));
        const int rank = __popc(peers & below);
        const int32_t base = e >= 0 ? s_count[e] : 0;
        __syncwarp();  // every lane has read its expert's next slot before the last of its peers moves it
        if (e >= 0) {
            const int32_t slot = base + rank;
            p.sorted_tokens[slot] = static_cast<int32_t>(i / K);
            p.slots[i] = slot;
            if (rank == __popc(peers) - 1) s_count[e] = base + __popc(peers);
        }
        __syncwarp();
    }
}

// ---- gather ----

constexpr int kGatherThreads = 128;

// The row that out's row r reads: rows[r] clamped into x (t4j.h), or r itself where rows is NULL (ABI 20).
__device__ __forceinline__ int64_t gather_source(const t4j_gather_rows_params& p, int64_t r) {
    if (p.rows == nullptr) return r;
    int64_t src = p.rows[r];
    return src < 0 ? 0 : (src >= p.x_rows ? p.x_rows - 1 : src);
}

// B: the element's bytes (2 or 4). Grid-stride over rows (blockIdx.x), threads over a row's 16-byte
// vectors when the bases, strides and the row length keep every row 16-byte aligned, else elements.
template <int B>
__device__ __forceinline__ void gather_rows(const t4j_gather_rows_params& p) {
    using E = typename std::conditional<B == 2, uint16_t, uint32_t>::type;
    const E* x = static_cast<const E*>(p.x);
    E* out = static_cast<E*>(p.out);
    constexpr int kVec = 16 / B;
    const bool vec = ((reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(out)) & 15u) == 0 &&
                     p.cols % kVec == 0 && p.x_row_stride % kVec == 0 && p.out_row_stride % kVec == 0;
    for (int64_t r = blockIdx.x; r < p.n; r += gridDim.x) {
        const E* from = x + gather_source(p, r) * p.x_row_stride;  // (cols)
        E* to = out + r * p.out_row_stride;        // (cols)
        if (vec) {
            const uint4* f = reinterpret_cast<const uint4*>(from);
            uint4* d = reinterpret_cast<uint4*>(to);
            for (int64_t c = threadIdx.x; c < p.cols / kVec; c += blockDim.x) d[c] = f[c];
        } else {
            for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) to[c] = from[c];
        }
    }
}

// widen (ABI 20): each F16 / BF16 value T of x's gathered rows to an F32 out, exactly. Rows over blocks,
// elements over threads (the router's hidden states: a few thousand columns per row).
template <typename T>
__device__ __forceinline__ void gather_rows_widened(const t4j_gather_rows_params& p) {
    const T* x = static_cast<const T*>(p.x);
    float* out = static_cast<float*>(p.out);
    for (int64_t r = blockIdx.x; r < p.n; r += gridDim.x) {
        const T* from = x + gather_source(p, r) * p.x_row_stride;  // (cols)
        float* to = out + r * p.out_row_stride;                     // (cols)
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) to[c] = to_f32(from[c]);
    }
}

// ---- combine ----

// Grid-stride over tokens (blockIdx.x), threads over columns. The token's slots (clamped) and weights
// go through shared memory once per row.
template <typename T>
__device__ __forceinline__ void combine_rows(const t4j_moe_combine_params& p) {
    __shared__ int64_t s_slot[32];
    __shared__ float s_w[32];
    __shared__ float s_gate;
    const int K = p.top_k;
    const T* y = static_cast<const T*>(p.y);
    for (int64_t t = blockIdx.x; t < p.tokens; t += gridDim.x) {
        __syncthreads();  // the previous row's readers are done with s_slot / s_w / s_gate
        if (threadIdx.x < static_cast<unsigned>(K)) {
            int64_t s = p.slots[t * K + threadIdx.x];
            s_slot[threadIdx.x] = s < 0 ? 0 : (s >= p.slot_rows ? p.slot_rows - 1 : s);
            s_w[threadIdx.x] = p.weights[t * K + threadIdx.x];
        }
        if (threadIdx.x == 0 && p.shared != nullptr) {
            s_gate = p.shared_gate == nullptr
                         ? 1.0f
                         : 1.0f / (1.0f + expf(-to_f32(static_cast<const T*>(p.shared_gate)[t * p.shared_gate_stride])));
        }
        __syncthreads();
        const T* sh = p.shared ? static_cast<const T*>(p.shared) + t * p.shared_row_stride : nullptr;        // (cols)
        const T* res = p.residual ? static_cast<const T*>(p.residual) + t * p.residual_row_stride : nullptr;  // (cols)
        T* out = static_cast<T*>(p.out) + t * p.out_row_stride;                                              // (cols)
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
            float acc = 0.0f;
            for (int j = 0; j < K; j++) acc += s_w[j] * to_f32(y[s_slot[j] * p.y_row_stride + c]);
            if (sh) acc += s_gate * to_f32(sh[c]);
            if (res) acc += to_f32(res[c]);  // res may be out itself: this thread reads, then writes, element c
            out[c] = from_f32<T>(acc);
        }
    }
}

}  // namespace moe
}  // namespace t4j
