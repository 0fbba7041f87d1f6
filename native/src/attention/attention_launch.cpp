// attention_launch.cpp — validates t4j_attention_params, t4j_kv_append_params and
// t4j_decode_params, picks the kernel variant (dtype × head size; tensor cores for F16/BF16) and
// its grid, and registers the three struct layouts for the binding test.
#include <cmath>

#include "../common/internal.h"
#include "../common/layout.h"
#include "attention_config.h"
#include "attention_paged.h"

namespace {

using t4j::kMaxDecodeRows;  // block shapes: attention_config.h, shared with the kernels
using t4j::kRowThreads;
constexpr int32_t kMaxGridYz = 65535;
constexpr int32_t kMaxSplits = 128;

// Every multiple of 8 from 8 to 256, on every path (8: the 16-byte vectors of the 16-bit kernels).
bool head_size_ok(int32_t hs) { return hs >= 8 && hs <= 256 && hs % 8 == 0; }

// The tensor-core instance a head size runs on (attention_kernels.cu), index into the name tables, and
// its size: the smallest instance ≥ hs; the kernel zero-fills the columns past hs. The instances are
// the common sizes (32: small BERTs, 64, 80: Phi-2/StableLM, 96, 128, 256: Gemma); a size between
// them costs at most the next instance's work (e.g. 136 runs as 256, 1.9×), and each instance more
// costs about 1/12 of the attention family's nvcc time per arch.
constexpr int32_t kMmaInstances[] = {32, 64, 80, 96, 128, 256};
int mma_instance(int32_t hs) {
    int i = 0;
    while (kMmaInstances[i] < hs) i++;
    return i;
}
// Blocks per query tile: one per mma_columns (attention_config.h) of the instance's columns.
int32_t mma_column_blocks(int32_t instance_hs) { return instance_hs / t4j::mma_columns(instance_hs); }

// The tensor-core kernel of a 16-bit dtype and head size: dense K/V (t4j_attention) or paged (t4j_decode, Tq > 16).
const char* mma_kernel(bool paged, int32_t dtype, int32_t hs) {
    static const char* const kNames[2][2][6] = {
        {{"t4j_attn_mma_f16_hs32", "t4j_attn_mma_f16_hs64", "t4j_attn_mma_f16_hs80", "t4j_attn_mma_f16_hs96",
          "t4j_attn_mma_f16_hs128", "t4j_attn_mma_f16_hs256"},
         {"t4j_attn_mma_bf16_hs32", "t4j_attn_mma_bf16_hs64", "t4j_attn_mma_bf16_hs80", "t4j_attn_mma_bf16_hs96",
          "t4j_attn_mma_bf16_hs128", "t4j_attn_mma_bf16_hs256"}},
        {{"t4j_attn_paged_f16_hs32", "t4j_attn_paged_f16_hs64", "t4j_attn_paged_f16_hs80", "t4j_attn_paged_f16_hs96",
          "t4j_attn_paged_f16_hs128", "t4j_attn_paged_f16_hs256"},
         {"t4j_attn_paged_bf16_hs32", "t4j_attn_paged_bf16_hs64", "t4j_attn_paged_bf16_hs80", "t4j_attn_paged_bf16_hs96",
          "t4j_attn_paged_bf16_hs128", "t4j_attn_paged_bf16_hs256"}},
    };
    return kNames[paged][dtype == T4J_DTYPE_BF16][mma_instance(hs)];
}

bool aligned16(const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15u) == 0; }

// T5 bias fields: bucket arithmetic needs max_exact ≥ 1 and max_distance > max_exact (log ratio > 0).
bool bias_ok(const float* table, int32_t num_buckets, int32_t max_distance, int32_t bidirectional) {
    if (table == nullptr) return true;
    if (bidirectional != 0 && bidirectional != 1) return false;
    const int32_t n = bidirectional ? num_buckets / 2 : num_buckets;
    const int32_t max_exact = n / 2;
    return num_buckets <= 4096 && max_exact >= 1 && max_distance > max_exact;
}

// DeBERTa's disentangled bias: a span, log buckets that can be taken (mid ≥ 2, log((max_position − 1) / mid) > 0),
// tables of some rows, never with the T5 bias.
bool disentangled_ok(const t4j_attention_params& p) {
    if (p.c2p == nullptr && p.p2c == nullptr) return true;
    if (p.rel_bias != nullptr || p.dis_span < 1 || p.dis_span > (1 << 24) || p.c2p_rows < 0 || p.p2c_rows < 0) return false;
    if (p.dis_buckets > 0 && p.dis_max_position > 0 && (p.dis_buckets / 2 < 2 || p.dis_max_position - 1 <= p.dis_buckets / 2))
        return false;
    return true;
}

// Attention sinks (ABI 11): fp32, so 4-byte aligned (the values are read on the device; any value is accepted).
bool sinks_ok(const float* sinks) { return (reinterpret_cast<uintptr_t>(sinks) & 3u) == 0; }

// ALiBi slopes (ABI 14): fp32, 4-byte aligned, one positional bias only (not with the T5 table or DeBERTa's terms; the
// kernels would add one and drop the other).
bool alibi_ok(const float* slopes, const void* rel_bias, const void* c2p, const void* p2c) {
    if (slopes == nullptr) return true;
    return (reinterpret_cast<uintptr_t>(slopes) & 3u) == 0 && rel_bias == nullptr && c2p == nullptr && p2c == nullptr;
}

// Varlen offsets (ABI 17: t4j_kv_append_params.cu_seqlens, t4j_decode_params.cu_seqlens_q): int32, so 4-byte aligned; their
// values live in device memory and are read (and clamped) by the kernels, never here.
bool offsets_ok(const int32_t* cu) { return (reinterpret_cast<uintptr_t>(cu) & 3u) == 0; }

const t4j::FieldLayout kAttentionFields[] = {
    T4J_FIELD(t4j_attention_params, out),              T4J_FIELD(t4j_attention_params, lse),
    T4J_FIELD(t4j_attention_params, q),                T4J_FIELD(t4j_attention_params, k),
    T4J_FIELD(t4j_attention_params, v),                T4J_FIELD(t4j_attention_params, cu_seqlens_q),
    T4J_FIELD(t4j_attention_params, cu_seqlens_k),     T4J_FIELD(t4j_attention_params, key_lengths),
    T4J_FIELD(t4j_attention_params, prefix_lengths),   T4J_FIELD(t4j_attention_params, rel_bias),
    T4J_FIELD(t4j_attention_params, q_batch_stride),   T4J_FIELD(t4j_attention_params, q_row_stride),
    T4J_FIELD(t4j_attention_params, q_head_stride),    T4J_FIELD(t4j_attention_params, k_batch_stride),
    T4J_FIELD(t4j_attention_params, k_row_stride),     T4J_FIELD(t4j_attention_params, k_head_stride),
    T4J_FIELD(t4j_attention_params, v_batch_stride),   T4J_FIELD(t4j_attention_params, v_row_stride),
    T4J_FIELD(t4j_attention_params, v_head_stride),    T4J_FIELD(t4j_attention_params, out_batch_stride),
    T4J_FIELD(t4j_attention_params, out_row_stride),   T4J_FIELD(t4j_attention_params, out_head_stride),
    T4J_FIELD(t4j_attention_params, B),                T4J_FIELD(t4j_attention_params, NH),
    T4J_FIELD(t4j_attention_params, NKV),              T4J_FIELD(t4j_attention_params, Tq),
    T4J_FIELD(t4j_attention_params, Tk),               T4J_FIELD(t4j_attention_params, HS),
    T4J_FIELD(t4j_attention_params, mask),             T4J_FIELD(t4j_attention_params, scale),
    T4J_FIELD(t4j_attention_params, num_buckets),      T4J_FIELD(t4j_attention_params, max_distance),
    T4J_FIELD(t4j_attention_params, bias_bidirectional), T4J_FIELD(t4j_attention_params, dtype),
    T4J_FIELD(t4j_attention_params, window),           T4J_FIELD(t4j_attention_params, softcap),
    T4J_FIELD(t4j_attention_params, c2p),              T4J_FIELD(t4j_attention_params, p2c),
    T4J_FIELD(t4j_attention_params, c2p_rows),         T4J_FIELD(t4j_attention_params, p2c_rows),
    T4J_FIELD(t4j_attention_params, dis_span),         T4J_FIELD(t4j_attention_params, dis_buckets),
    T4J_FIELD(t4j_attention_params, dis_max_position), T4J_FIELD(t4j_attention_params, dis_reserved),
    T4J_FIELD(t4j_attention_params, sinks),            T4J_FIELD(t4j_attention_params, alibi_slopes),
};
const t4j::StructRegistration kAttentionLayout("t4j_attention_params", sizeof(t4j_attention_params), kAttentionFields,
                                               sizeof(kAttentionFields) / sizeof(kAttentionFields[0]));

const t4j::FieldLayout kAppendFields[] = {
    T4J_FIELD(t4j_kv_append_params, k_cache),        T4J_FIELD(t4j_kv_append_params, v_cache),
    T4J_FIELD(t4j_kv_append_params, k),              T4J_FIELD(t4j_kv_append_params, v),
    T4J_FIELD(t4j_kv_append_params, block_table),    T4J_FIELD(t4j_kv_append_params, cache_lengths),
    T4J_FIELD(t4j_kv_append_params, k_batch_stride), T4J_FIELD(t4j_kv_append_params, k_row_stride),
    T4J_FIELD(t4j_kv_append_params, k_head_stride),  T4J_FIELD(t4j_kv_append_params, v_batch_stride),
    T4J_FIELD(t4j_kv_append_params, v_row_stride),   T4J_FIELD(t4j_kv_append_params, v_head_stride),
    T4J_FIELD(t4j_kv_append_params, B),              T4J_FIELD(t4j_kv_append_params, Tnew),
    T4J_FIELD(t4j_kv_append_params, NKV),            T4J_FIELD(t4j_kv_append_params, HS),
    T4J_FIELD(t4j_kv_append_params, block_size),     T4J_FIELD(t4j_kv_append_params, max_blocks_per_seq),
    T4J_FIELD(t4j_kv_append_params, num_blocks),     T4J_FIELD(t4j_kv_append_params, dtype),
    T4J_FIELD(t4j_kv_append_params, cu_seqlens),
};
const t4j::StructRegistration kAppendLayout("t4j_kv_append_params", sizeof(t4j_kv_append_params), kAppendFields,
                                            sizeof(kAppendFields) / sizeof(kAppendFields[0]));

const t4j::FieldLayout kDecodeFields[] = {
    T4J_FIELD(t4j_decode_params, out),              T4J_FIELD(t4j_decode_params, lse),
    T4J_FIELD(t4j_decode_params, q),                T4J_FIELD(t4j_decode_params, k_cache),
    T4J_FIELD(t4j_decode_params, v_cache),          T4J_FIELD(t4j_decode_params, block_table),
    T4J_FIELD(t4j_decode_params, cache_lengths),    T4J_FIELD(t4j_decode_params, workspace_o),
    T4J_FIELD(t4j_decode_params, workspace_lse),    T4J_FIELD(t4j_decode_params, rel_bias),
    T4J_FIELD(t4j_decode_params, q_batch_stride),   T4J_FIELD(t4j_decode_params, q_row_stride),
    T4J_FIELD(t4j_decode_params, q_head_stride),    T4J_FIELD(t4j_decode_params, out_batch_stride),
    T4J_FIELD(t4j_decode_params, out_row_stride),   T4J_FIELD(t4j_decode_params, out_head_stride),
    T4J_FIELD(t4j_decode_params, B),                T4J_FIELD(t4j_decode_params, NH),
    T4J_FIELD(t4j_decode_params, NKV),              T4J_FIELD(t4j_decode_params, Tq),
    T4J_FIELD(t4j_decode_params, HS),               T4J_FIELD(t4j_decode_params, block_size),
    T4J_FIELD(t4j_decode_params, max_blocks_per_seq), T4J_FIELD(t4j_decode_params, num_blocks),
    T4J_FIELD(t4j_decode_params, num_splits),       T4J_FIELD(t4j_decode_params, causal),
    T4J_FIELD(t4j_decode_params, scale),            T4J_FIELD(t4j_decode_params, num_buckets),
    T4J_FIELD(t4j_decode_params, max_distance),     T4J_FIELD(t4j_decode_params, bias_bidirectional),
    T4J_FIELD(t4j_decode_params, dtype),            T4J_FIELD(t4j_decode_params, window),
    T4J_FIELD(t4j_decode_params, split_keys),       T4J_FIELD(t4j_decode_params, softcap),
    T4J_FIELD(t4j_decode_params, sinks),            T4J_FIELD(t4j_decode_params, alibi_slopes),
    T4J_FIELD(t4j_decode_params, cu_seqlens_q),
};
const t4j::StructRegistration kDecodeLayout("t4j_decode_params", sizeof(t4j_decode_params), kDecodeFields,
                                            sizeof(kDecodeFields) / sizeof(kDecodeFields[0]));

// Paged prefill: a validated t4j_decode with Tq > kMaxDecodeRows, F16/BF16, on the tensor-core kernel that
// reads the cache through the block table (attention_paged.h); the split fields are not used.
int32_t paged_prefill(const t4j_decode_params* p, void* stream) {
    if (!aligned16(p->q) || !aligned16(p->out) || !aligned16(p->k_cache) || !aligned16(p->v_cache))
        return T4J_ERROR_UNSUPPORTED;
    const int64_t strides[] = {p->q_batch_stride, p->q_row_stride, p->q_head_stride,
                               p->out_batch_stride, p->out_row_stride, p->out_head_stride};
    for (int64_t s : strides)
        if (s % 8 != 0) return T4J_ERROR_UNSUPPORTED;
    t4j_attention_params a = t4j::paged_prefill_view(*p);
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(mma_kernel(true, p->dtype, p->HS), &f);
    if (s != T4J_SUCCESS) return s;
    const int32_t threads = t4j::mma_threads(p->Tq);
    const int32_t rows = t4j::mma_rows(threads);
    const int32_t instance = kMmaInstances[mma_instance(p->HS)];
    const int64_t gx = (static_cast<int64_t>(p->Tq) + rows - 1) / rows * mma_column_blocks(instance);
    if (gx > 0x7fffffffLL) return T4J_ERROR_UNSUPPORTED;
    void* args[] = {&a, const_cast<t4j_decode_params*>(p)};
    return t4j::launch_grid(f, static_cast<uint32_t>(gx), static_cast<uint32_t>(p->NH), static_cast<uint32_t>(p->B),
                            static_cast<uint32_t>(threads), static_cast<uint32_t>(t4j::mma_shared_bytes(instance, threads)),
                            stream, args);
}

}  // namespace

extern "C" T4J_API int32_t t4j_attention(const t4j_attention_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->q == nullptr || p->k == nullptr || p->v == nullptr)
        return T4J_ERROR_INVALID_ARGUMENT;
    if (p->B < 0 || p->NH < 1 || p->NKV < 1 || p->NH % p->NKV != 0 || p->Tq < 0 || p->Tk < 0 || p->HS < 1)
        return T4J_ERROR_INVALID_ARGUMENT;
    if (p->B > kMaxGridYz || p->NH > kMaxGridYz) return T4J_ERROR_UNSUPPORTED;
    if (!t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->mask != T4J_ATTN_MASK_NONE && p->mask != T4J_ATTN_MASK_CAUSAL && p->mask != T4J_ATTN_MASK_PREFIX_LM)
        return T4J_ERROR_INVALID_ARGUMENT;
    if ((p->mask == T4J_ATTN_MASK_PREFIX_LM) != (p->prefix_lengths != nullptr)) return T4J_ERROR_INVALID_ARGUMENT;
    // A sliding window (|key position − query position| < window) with NONE (bidirectional) or CAUSAL; not PREFIX_LM.
    if (p->window < 0 || (p->window > 0 && p->mask == T4J_ATTN_MASK_PREFIX_LM)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!(p->softcap >= 0.0f) || !(p->softcap < 3.0e38f)) return T4J_ERROR_INVALID_ARGUMENT;   // NaN, negative, infinite
    if ((p->cu_seqlens_q == nullptr) != (p->cu_seqlens_k == nullptr)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!std::isfinite(p->scale)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!bias_ok(p->rel_bias, p->num_buckets, p->max_distance, p->bias_bidirectional)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!disentangled_ok(*p)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!sinks_ok(p->sinks)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!alibi_ok(p->alibi_slopes, p->rel_bias, p->c2p, p->p2c)) return T4J_ERROR_INVALID_ARGUMENT;
    const int64_t strides[] = {p->q_batch_stride, p->q_row_stride, p->q_head_stride, p->k_batch_stride,
                               p->k_row_stride,   p->k_head_stride, p->v_batch_stride, p->v_row_stride,
                               p->v_head_stride,  p->out_batch_stride, p->out_row_stride, p->out_head_stride};
    for (int64_t s : strides)
        if (s < 0) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->out_row_stride < p->HS || (p->NH > 1 && p->out_head_stride < p->HS)) return T4J_ERROR_INVALID_ARGUMENT;

    const bool tensor_cores = p->dtype != T4J_DTYPE_F32;
    if (!head_size_ok(p->HS)) return T4J_ERROR_UNSUPPORTED;
    if (tensor_cores) {
        if (!aligned16(p->q) || !aligned16(p->k) || !aligned16(p->v) || !aligned16(p->out)) return T4J_ERROR_UNSUPPORTED;
        for (int64_t s : strides)
            if (s % 8 != 0) return T4J_ERROR_UNSUPPORTED;
    }
    if (p->B == 0 || p->Tq == 0) return T4J_SUCCESS;

    const char* name;
    int32_t column_blocks = 1;
    const bool dis = p->c2p != nullptr || p->p2c != nullptr;
    if (!tensor_cores) {
        name = dis ? "t4j_attn_rows_dis_f32" : "t4j_attn_rows_f32";
    } else {
        // DeBERTa's disentangled bias on tensor cores: the head-size-64 instance only (33..64)
        if (dis && kMmaInstances[mma_instance(p->HS)] != 64) return T4J_ERROR_UNSUPPORTED;
        name = dis ? (p->dtype == T4J_DTYPE_BF16 ? "t4j_attn_mma_dis_bf16_hs64" : "t4j_attn_mma_dis_f16_hs64")
                   : mma_kernel(false, p->dtype, p->HS);
        column_blocks = mma_column_blocks(kMmaInstances[mma_instance(p->HS)]);
    }
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(name, &f);
    if (s != T4J_SUCCESS) return s;
    // Tensor cores: 64- or 128-row query tiles (attention_config.h), K/V stages in dynamic shared memory.
    const int32_t threads = tensor_cores ? t4j::mma_threads(p->Tq) : kRowThreads;
    const int32_t rows_per_block = tensor_cores ? t4j::mma_rows(threads) : kRowThreads / 32;
    const uint32_t shared = tensor_cores ? static_cast<uint32_t>(t4j::mma_shared_bytes(kMmaInstances[mma_instance(p->HS)], threads)) : 0;
    const int64_t tiles = (static_cast<int64_t>(p->Tq) + rows_per_block - 1) / rows_per_block;
    if (tiles * column_blocks > 0x7fffffffLL) return T4J_ERROR_UNSUPPORTED;
    const uint32_t gx = static_cast<uint32_t>(tiles * column_blocks);
    void* args[] = {const_cast<t4j_attention_params*>(p)};
    return t4j::launch_grid(f, gx, static_cast<uint32_t>(p->NH), static_cast<uint32_t>(p->B), static_cast<uint32_t>(threads),
                            shared, stream, args);
}

extern "C" T4J_API int32_t t4j_kv_append(const t4j_kv_append_params* p, void* stream) {
    if (p == nullptr || p->k_cache == nullptr || p->v_cache == nullptr || p->k == nullptr || p->v == nullptr ||
        p->block_table == nullptr || p->cache_lengths == nullptr)
        return T4J_ERROR_INVALID_ARGUMENT;
    if (p->B < 0 || p->Tnew < 0 || p->NKV < 1 || p->HS < 1 || p->block_size < 1 || p->max_blocks_per_seq < 1 ||
        p->num_blocks < 1)
        return T4J_ERROR_INVALID_ARGUMENT;
    if (!t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    // Varlen (ABI 17): Tnew is the offsets' total cu_seqlens[B], so no sequence means no row.
    const bool varlen = p->cu_seqlens != nullptr;
    if (!offsets_ok(p->cu_seqlens) || (varlen && p->B == 0 && p->Tnew != 0)) return T4J_ERROR_INVALID_ARGUMENT;
    const int64_t strides[] = {p->k_batch_stride, p->k_row_stride, p->k_head_stride,
                               p->v_batch_stride, p->v_row_stride, p->v_head_stride};
    for (int64_t s : strides)
        if (s < 0) return T4J_ERROR_INVALID_ARGUMENT;
    // One thread per element: (B, Tnew, NKV, HS), varlen (Tnew, NKV, HS) (kv_cache.cuh finds each row's sequence).
    const int64_t total = (varlen ? 1 : static_cast<int64_t>(p->B)) * p->Tnew * p->NKV * p->HS;
    if (total == 0 || p->B == 0) return T4J_SUCCESS;
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(p->dtype == T4J_DTYPE_F32 ? "t4j_kv_append_b32" : "t4j_kv_append_b16", &f);
    if (s != T4J_SUCCESS) return s;
    const int64_t blocks = (total + 255) / 256;
    void* args[] = {const_cast<t4j_kv_append_params*>(p)};
    return t4j::launch(f, static_cast<uint32_t>(blocks < 65535 * 8 ? blocks : 65535 * 8), 256, 0, stream, args);
}

extern "C" T4J_API int32_t t4j_decode(const t4j_decode_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->q == nullptr || p->k_cache == nullptr || p->v_cache == nullptr ||
        p->block_table == nullptr || p->cache_lengths == nullptr)
        return T4J_ERROR_INVALID_ARGUMENT;
    if (p->B < 0 || p->NH < 1 || p->NKV < 1 || p->NH % p->NKV != 0 || p->HS < 1 || p->window < 0)
        return T4J_ERROR_INVALID_ARGUMENT;
    if (p->Tq < 1) return T4J_ERROR_UNSUPPORTED;
    const bool prefill = p->Tq > kMaxDecodeRows;  // paged prefill on tensor cores: F16/BF16
    if (prefill && p->dtype == T4J_DTYPE_F32) return T4J_ERROR_UNSUPPORTED;
    if (p->B > kMaxGridYz || p->NH > kMaxGridYz) return T4J_ERROR_UNSUPPORTED;
    if (p->block_size < 1 || p->max_blocks_per_seq < 1 || p->num_blocks < 1) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->num_splits < 1 || p->num_splits > kMaxSplits) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->split_keys < 0 || !(p->softcap >= 0.0f) || !(p->softcap < 3.0e38f)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->num_splits > 1 && (p->workspace_o == nullptr || p->workspace_lse == nullptr)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->causal != 0 && p->causal != 1) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->window > 0 && p->causal != 1) return T4J_ERROR_INVALID_ARGUMENT;
    if (!t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!std::isfinite(p->scale)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!bias_ok(p->rel_bias, p->num_buckets, p->max_distance, p->bias_bidirectional)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!sinks_ok(p->sinks)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!alibi_ok(p->alibi_slopes, p->rel_bias, nullptr, nullptr)) return T4J_ERROR_INVALID_ARGUMENT;
    // Varlen (ABI 17): each sequence's Lq_b ≤ Tq and cache_lengths[b] ≥ Lq_b are the caller's, as Tq ≤ cache_lengths[b] is
    // in the padded layout (device values: the kernels clamp the offsets to Tq and the packed rows, a short cache gives
    // query positions below 0 as a padded launch's would).
    if (!offsets_ok(p->cu_seqlens_q)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!head_size_ok(p->HS)) return T4J_ERROR_UNSUPPORTED;
    if (!aligned16(p->k_cache) || !aligned16(p->v_cache)) return T4J_ERROR_UNSUPPORTED;  // 16-byte cp.async rows
    const int64_t strides[] = {p->q_batch_stride, p->q_row_stride, p->q_head_stride,
                               p->out_batch_stride, p->out_row_stride, p->out_head_stride};
    for (int64_t s : strides)
        if (s < 0) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->B == 0) return T4J_SUCCESS;
    if (prefill) return paged_prefill(p, stream);

    static const char* const kSplit[] = {"t4j_decode_f32", "t4j_decode_f16", "t4j_decode_bf16"};
    static const char* const kCombine[] = {"t4j_decode_combine_f32", "t4j_decode_combine_f16", "t4j_decode_combine_bf16"};
    t4j::CUfunction split = nullptr;
    int32_t s = t4j::get_kernel(kSplit[p->dtype], &split);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_decode_params*>(p)};
    const int32_t group = p->NH / p->NKV;
    const int64_t rows_per_block = static_cast<int64_t>(group) * p->Tq;  // ≤ 65535 · 16
    const int eb = p->dtype == T4J_DTYPE_F32 ? 4 : 2;
    // Varlen: each block takes the layout of its own group · Lq_b rows, so the largest over Lq_b ≤ Tq.
    const int bytes = p->cu_seqlens_q != nullptr ? t4j::decode_varlen_bytes(p->HS, eb, group, p->Tq)
                                                 : t4j::decode_layout(p->HS, eb, static_cast<int>(rows_per_block)).bytes;
    if (bytes > 48 * 1024) return T4J_ERROR_UNSUPPORTED;  // cannot happen for HS ≤ 256 (attention_config.h)
    // A block per (split, GQA group, sequence); splits past the ones the length needs exit (split_keys).
    s = t4j::launch_grid(split, static_cast<uint32_t>(p->num_splits), static_cast<uint32_t>(p->NKV),
                       static_cast<uint32_t>(p->B), kRowThreads, static_cast<uint32_t>(bytes), stream, args);
    if (s != T4J_SUCCESS || p->num_splits == 1) return s;
    t4j::CUfunction combine = nullptr;
    s = t4j::get_kernel(kCombine[p->dtype], &combine);
    if (s != T4J_SUCCESS) return s;
    const int64_t rows = static_cast<int64_t>(p->B) * p->NH * p->Tq;  // the workspaces' padded rows (varlen too)
    const int32_t warps = kRowThreads / 32;
    return t4j::launch(combine, static_cast<uint32_t>((rows + warps - 1) / warps), kRowThreads, 0, stream, args);
}
