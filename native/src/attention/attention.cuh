// attention.cuh — what every attention kernel shares: the per-sequence view of the params (packed or
// padded layout, key padding, bottom-right query alignment), the visibility rule of each mask kind,
// and T5's relative-position bucket. Device code; the kernels live in attention_mma.cuh (tensor-core
// prefill), attention_rowwise.cuh (fp32 prefill), decode.cuh (paged decode, split combine) and kv_cache.cuh.
#pragma once

#include <cfloat>
#include <cstdint>

#include "t4j.h"
#include "../common/dtype.cuh"

namespace t4j {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// One sequence of the batch as a kernel sees it.
struct AttnSeq {
    int64_t q_first;    // row of q/out where the sequence starts (packed layout), else 0
    int64_t k_first;    // row of k/v where it starts (packed layout), else 0
    int32_t Lq;         // query rows
    int32_t Lk;         // visible key rows (after key padding)
    int32_t offset;     // Lk - Lq: query i sits at key position i + offset
    int32_t prefix;     // prefix-LM: keys below it are visible to every query; else 0
};

// A varlen decode's sequence b (t4j_decode_params.cu_seqlens_q, ABI 17): its first packed row and its query count. The
// offsets live in device memory, so they are clamped as bad block ids are: the rows stay inside [0, cu[B]) and at most
// tq_max (the launch's Tq, which sized the grid, the workspaces and shared memory); valid offsets pass unchanged.
struct VarlenRows {
    int64_t first;  // packed row of query 0
    int32_t lq;     // queries, 0..tq_max
    int32_t total;  // cu[B] (≥ 0): the packed rows, the packed lse's row length
};
__device__ __forceinline__ VarlenRows varlen_rows(const int32_t* cu, int B, int b, int tq_max) {
    const int total = max(cu[B], 0);
    const int first = min(max(cu[b], 0), total);
    const int end = min(max(cu[b + 1], first), total);
    return VarlenRows{first, min(end - first, tq_max), total};
}

__device__ __forceinline__ AttnSeq attn_seq(const t4j_attention_params& p, int b) {
    AttnSeq s;
    if (p.cu_seqlens_q != nullptr && p.cu_seqlens_k == nullptr) {
        // the paged prefill's view of a varlen decode (attention_paged.h): packed queries, keys from the cache
        const VarlenRows r = varlen_rows(p.cu_seqlens_q, p.B, b, p.Tq);
        s.q_first = r.first;
        s.k_first = 0;
        s.Lq = r.lq;
        s.Lk = p.Tk;
    } else if (p.cu_seqlens_q != nullptr) {
        s.q_first = p.cu_seqlens_q[b];
        s.k_first = p.cu_seqlens_k[b];
        s.Lq = p.cu_seqlens_q[b + 1] - p.cu_seqlens_q[b];
        s.Lk = p.cu_seqlens_k[b + 1] - p.cu_seqlens_k[b];
    } else {
        s.q_first = 0;
        s.k_first = 0;
        s.Lq = p.Tq;
        s.Lk = p.Tk;
    }
    if (p.key_lengths != nullptr) s.Lk = min(s.Lk, max(p.key_lengths[b], 0));
    s.offset = s.Lk - s.Lq;
    s.prefix = (p.mask == T4J_ATTN_MASK_PREFIX_LM && p.prefix_lengths != nullptr) ? p.prefix_lengths[b] : 0;
    return s;
}

// K and V rows of one (sequence, KV head) in a dense layout: key j at kb + j · ks (V likewise). The
// row-wise and tensor-core prefills read keys through k(j) / v(j) (a paged cache offers the same).
template <typename T>
struct DenseKv {
    const T* kb;
    const T* vb;
    int64_t ks, vs;
    __device__ const T* k(int j) const { return kb + j * ks; }
    __device__ const T* v(int j) const { return vb + j * vs; }
};

// Whether query i (row of its sequence) sees key j. mask: T4J_ATTN_MASK_*; j < Lk is checked here.
__device__ __forceinline__ bool attn_visible(int mask, int i, int j, int Lk, int offset, int prefix) {
    if (j >= Lk) return false;
    if (mask == T4J_ATTN_MASK_NONE) return true;
    return j <= i + offset || j < prefix;
}

// Sliding-window attention (t4j_attention_params.window; t4j_decode_params.window, causal only): a key at
// rel = key position − query position is hidden when |rel| >= window, so a query sees the keys within
// window − 1 positions of its own on either side. Under CAUSAL (keys after the query already hidden) that is
// transformers' masking_utils.sliding_window_overlay (kv_idx > q_idx − window: `window` keys, itself
// included); under NONE it is ModernBERT's local attention (|i − j| <= local_attention / 2, i.e. window =
// local_attention / 2 + 1). The Java statement is AttentionOp.Mask.visible. The row-wise kernel adds it to
// attn_visible (before side) and its key count (after side); the tensor-core kernel puts it
// in its per-tile relative-position table (−inf), outside its inner loop, which a per-element test made spill
// registers at HS 96 on sm_80, and loads no tile wholly before or after it; decode narrows each split's key range.
__device__ __forceinline__ bool attn_window_hides(int rel, int window) { return window > 0 && (rel <= -window || rel >= window); }
// Its before side alone (the row-wise kernel ends each row at the window instead of testing the after side).
__device__ __forceinline__ bool attn_window_hides_before(int rel, int window) { return window > 0 && rel <= -window; }
// ALiBi (t4j_attention_params.alibi_slopes, t4j_decode_params.alibi_slopes): the bias of a key at rel = key position −
// query position, −slope · |rel|, in the log2 domain the kernels score in (slope2 = slope · log2 e). The tensor-core
// kernel puts it in its per-tile relative-position table like the T5 bias and the window, the row-wise and decode
// kernels add it per key. The CPU twin is CpuAttention's alibi term.
__device__ __forceinline__ float attn_alibi(float slope2, int rel) { return -slope2 * static_cast<float>(rel < 0 ? -rel : rel); }

// Gemma 2's attention logit soft-capping (softcap in t4j_attention_params / t4j_decode_params): the score
// z = scale · (q·k) becomes c · tanh(z / c), before the T5 bias and the mask (transformers' Gemma2
// eager_attention_forward). The kernels score in the log2 domain, x = log2(e) · z, and log2(e) · c · tanh(z / c)
// = c2 · tanh(x / c2) with c2 = c · log2(e): the cap applies to x as it is. SoftCap{softcap} is c2 and 1 / c2
// (at most FLT_MAX: a subnormal cap, which the launchers accept, must not turn a zero score into 0 · inf = NaN);
// the kernels call it under a uniform branch on softcap > 0, so uncapped scores are computed as before.
struct SoftCap {
    float c2, inv;
    __device__ __forceinline__ explicit SoftCap(float softcap)
        : c2(softcap * kLog2e), inv(softcap > 0.0f ? fminf(1.0f / (softcap * kLog2e), FLT_MAX) : 0.0f) {}
    __device__ __forceinline__ float operator()(float x) const { return c2 * tanhf(x * inv); }
};

// Attention sinks (t4j_attention_params.sinks, t4j_decode_params.sinks; GPT-OSS): the end of a row whose softmax
// denominator head h's sink joins with no value. m: the row's max (log2 domain), l: its Σ 2^(x − m), exactly 0 when the
// row saw no key; sink: sinks[h] (natural-log domain). With s2 = sink · log2 e, M = max(m, s2) and r = 2^(m − M), the row's
// Σ 2^(x − m) · v_j is multiplied by inv = r / (l · r + 2^(s2 − M)), which overflows for neither a large sink nor a large
// score, and lse = (M + log2(l · r + 2^(s2 − M))) · ln 2; a row that saw no key gets inv 0 (zeros) and lse = sink. A NaN l
// or sink gives NaN. The kernels call it under a uniform branch on sinks != NULL (rows without sinks end as before); the
// CPU twin is CpuAttention.sinkScale and lseOf, and the split-KV combine adds the sink once (decode_combine).
__device__ __forceinline__ void attn_sink_end(float m, float l, float sink, float& inv, float& lse) {
    if (l == 0.0f) {
        inv = 0.0f;
        lse = sink;
        return;
    }
    const float s2 = sink * kLog2e;
    const float big = fmaxf(m, s2);
    const float r = exp2f(m - big);
    const float den = l * r + exp2f(s2 - big);
    inv = r / den;
    lse = (big + log2f(den)) * kLn2;
}

// Keys [attn_key_begin, attn_key_end) contain every key some query of rows [i0, i1) can see (i1 exclusive):
// the causal / prefix end, and with a sliding window (window > 0) the window's first key of row i0 and its last
// of row i1 − 1 (overflow-free for any window ≥ 1).
__device__ __forceinline__ int attn_key_begin(int i0, int offset, int window) {
    const int pos = i0 + offset;  // key position of the first row
    return window > 0 && pos >= window ? pos - window + 1 : 0;
}
__device__ __forceinline__ int attn_key_end(int mask, int i1, int Lk, int offset, int prefix, int window) {
    int end = Lk;
    if (mask != T4J_ATTN_MASK_NONE) {
        const int causal_end = i1 - 1 + offset + 1;
        end = max(0, min(Lk, max(causal_end, prefix)));
    }
    if (window > 0) {  // the last row's key position + window, in 64 bits: window may be up to 2^31 − 1
        const long long window_end = static_cast<long long>(i1 - 1 + offset) + window;
        if (window_end < end) end = window_end > 0 ? static_cast<int>(window_end) : 0;
    }
    return end;
}

// T5's relative_position_bucket (Raffel et al. 2020; Hugging Face T5Attention), rel = key position −
// query position. Its float32 logarithm is taken as the correctly rounded fp32 value of a double log,
// so that the CPU twin (Java) and every GPU land in the same bucket at exact boundaries (e.g. rel 64
// with 32 bidirectional buckets and max_distance 128, where log ratios are exactly 0.75).
__device__ __forceinline__ int t5_bucket(int rel, int num_buckets, int max_distance, int bidirectional) {
    int bucket = 0;
    int n = num_buckets;
    if (bidirectional) {
        n /= 2;
        if (rel > 0) bucket += n;
        rel = rel < 0 ? -rel : rel;
    } else {
        rel = rel < 0 ? -rel : 0;
    }
    const int max_exact = n / 2;
    if (rel < max_exact) return bucket + rel;
    const float x = static_cast<float>(log(static_cast<double>(static_cast<float>(rel) / static_cast<float>(max_exact))));
    const float d = static_cast<float>(log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
    const int large = max_exact + static_cast<int>(x / d * static_cast<float>(n - max_exact));
    return bucket + min(large, n - 1);
}

// DeBERTa's table column of a distance rel = query position − key position: transformers' make_log_bucket_position
// (distances within ±buckets/2 kept, longer ones sign · (ceil(log(|rel| / mid) / log((max_position − 1) / mid) ·
// (mid − 1)) + mid), mid = buckets / 2; no bucketing when buckets or max_position is ≤ 0), then clamp(bucket + span,
// 0, 2·span − 1). The float32 quotient and logarithms as t5_bucket takes them (correctly rounded values of double logs),
// as the CPU twin (DisentangledBias.bucket) does.
__device__ __forceinline__ int deberta_index(int rel, int span, int buckets, int max_position) {
    int bucket = rel;
    if (buckets > 0 && max_position > 0) {
        const int mid = buckets / 2;
        const int a = rel < 0 ? -rel : rel;
        if (a > mid) {
            const float x = static_cast<float>(a) / static_cast<float>(mid);
            const float lx = static_cast<float>(log(static_cast<double>(x)));
            const float ld = static_cast<float>(log(static_cast<double>(static_cast<float>(static_cast<double>(max_position - 1) / mid))));
            const int lp = static_cast<int>(ceilf(lx / ld * static_cast<float>(mid - 1))) + mid;
            bucket = rel < 0 ? -lp : lp;
        }
    }
    return min(max(bucket + span, 0), 2 * span - 1);
}

// DeBERTa's disentangled bias of one head and sequence (t4j_attention_params.c2p / p2c): query i, key j of the sequence,
// the query at key position i + offset; c2p_base and p2c_base point at the sequence's first row of head h's tables.
template <typename T>
struct Disentangled {
    const T* c2p;   // head h's rows of the sequence, or NULL
    const T* p2c;
    int width, span, buckets, max_position, offset;
    __device__ __forceinline__ float operator()(int i, int j) const {  // log2-domain bias
        const int r = deberta_index(i + offset - j, span, buckets, max_position);
        float x = 0.0f;
        if (c2p != nullptr) x += to_f32(c2p[static_cast<int64_t>(i) * width + r]);
        if (p2c != nullptr) x += to_f32(p2c[static_cast<int64_t>(j) * width + r]);
        return x * kLog2e;
    }
};

// The view above for head h of sequence b (view s); on() false when the op has no disentangled bias.
template <typename T>
__device__ __forceinline__ Disentangled<T> disentangled_view(const t4j_attention_params& p, int b, int h, const AttnSeq& s) {
    Disentangled<T> d;
    const bool packed = p.cu_seqlens_q != nullptr;
    const int64_t w = 2 * static_cast<int64_t>(p.dis_span);
    const int64_t q0 = packed ? s.q_first : static_cast<int64_t>(b) * p.Tq;
    const int64_t k0 = packed ? s.k_first : static_cast<int64_t>(b) * p.Tk;
    d.c2p = p.c2p == nullptr ? nullptr : static_cast<const T*>(p.c2p) + (h * p.c2p_rows + q0) * w;
    d.p2c = p.p2c == nullptr ? nullptr : static_cast<const T*>(p.p2c) + (h * p.p2c_rows + k0) * w;
    d.width = static_cast<int>(w);
    d.span = p.dis_span;
    d.buckets = p.dis_buckets;
    d.max_position = p.dis_max_position;
    d.offset = s.offset;
    return d;
}

}  // namespace t4j
