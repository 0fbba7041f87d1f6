// linear_launch.cpp — validates t4j_linear_params / t4j_bias_act_params, picks the GEMM instance
// (dtype × gated × B layout × tile size) and its vector-load flags, and launches on a
// (N tiles, M tiles, batch) grid. With group_offsets (a mixture of experts' expert GEMMs): the grouped
// 64-row tensor-core instance (F16/BF16) or the fp32 SIMT one, on (N tiles, capacity tiles, groups).
#include <cstdint>

#include "../common/internal.h"
#include "../common/layout.h"
#include "linear_config.h"

namespace {

using t4j::linear::kBK;
using t4j::linear::TileShape;
using t4j::linear::tile_shape;

uint32_t linear_shared_bytes(const TileShape& t, bool gated, bool trans_b) {
    return t4j::linear::shared_bytes(static_cast<int>(t.bm), static_cast<int>(t.bn), gated, trans_b);
}

// The launch a problem gets: tile size, K split, grid, workspace.
struct Plan {
    TileShape tile;
    bool large;
    int64_t m_tiles;
    int64_t n_tiles;
    int32_t split;
    uint64_t workspace_bytes;  // 0 when split == 1
};

using t4j::linear::kMaxSplit;
using t4j::linear::kMinSlicesPerSplit;

Plan plan_for(const t4j_linear_params* p, int sms) {
    const bool gated = p->gated == 1;
    Plan pl{};
    const TileShape large = tile_shape(true, gated);
    const int64_t large_blocks = ((p->m + large.bm - 1) / large.bm) * ((p->n + large.bn - 1) / large.bn) * p->batch;
    // Large tiles when they fill the GPU at least once over; small ones otherwise (T = 128 makes a
    // single row of 128-row tiles). One wave is a guess until measured on a GPU.
    // INT4 weights (ABI 21) have small-tile instances only.
    pl.large = large_blocks >= sms && p->b_format != T4J_WEIGHTS_INT4;
    pl.tile = pl.large ? large : tile_shape(false, gated);
    pl.m_tiles = (p->m + pl.tile.bm - 1) / pl.tile.bm;
    pl.n_tiles = (p->n + pl.tile.bn - 1) / pl.tile.bn;
    const int64_t blocks = pl.m_tiles * pl.n_tiles * p->batch;
    const int64_t k_slices = (p->k + kBK - 1) / kBK;
    int64_t split = 1;
    if (!pl.large && blocks < sms && blocks > 0) {  // linear.cuh: only the small tiles split K
        split = (sms + blocks - 1) / blocks;
        if (split > k_slices / kMinSlicesPerSplit) split = k_slices / kMinSlicesPerSplit;
        if (split > kMaxSplit) split = kMaxSplit;
        if (split < 2) split = 1;
        if (split > 1) {
            const int64_t per = (k_slices + split - 1) / split;
            split = (k_slices + per - 1) / per;  // no empty splits
        }
        if (p->batch * split > 65535) split = 1;
    }
    pl.split = static_cast<int32_t>(split);
    if (split > 1) {
        const int64_t products = gated ? 2 : 1;
        const int64_t counters = t4j::linear::splitk_counter_bytes(blocks);
        pl.workspace_bytes = static_cast<uint64_t>(counters + products * p->batch * split * p->m * p->n * 4);
    }
    return pl;
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// A T4J_ACT_* value the epilogue knows; T4J_ACT_SWIGLU_OAI (ABI 11) combines the two products, so only gated;
// T4J_ACT_CLAMP (ABI 16) clamps one product, so never gated, and needs a finite limit > 0, which every other activation
// leaves 0 (the field was a reserved 0 before ABI 16). T4J_ACT_RELU2 (ABI 19) goes plain or gated, as ReLU does.
bool valid_act(int32_t a, bool gated, float limit) {
    if (a == T4J_ACT_CLAMP) return !gated && limit > 0.0f && limit <= 3.4028234663852886e38f;  // NaN fails both
    if (limit != 0.0f) return false;
    return (a >= T4J_ACT_NONE && a <= T4J_ACT_SILU) || a == T4J_ACT_RELU2 || (a == T4J_ACT_SWIGLU_OAI && gated);
}

const t4j::FieldLayout kLinearFields[] = {
    T4J_FIELD(t4j_linear_params, c),          T4J_FIELD(t4j_linear_params, a),
    T4J_FIELD(t4j_linear_params, b),          T4J_FIELD(t4j_linear_params, b_gate),
    T4J_FIELD(t4j_linear_params, bias),       T4J_FIELD(t4j_linear_params, bias_gate),
    T4J_FIELD(t4j_linear_params, residual),   T4J_FIELD(t4j_linear_params, m),
    T4J_FIELD(t4j_linear_params, n),          T4J_FIELD(t4j_linear_params, k),
    T4J_FIELD(t4j_linear_params, batch),      T4J_FIELD(t4j_linear_params, lda),
    T4J_FIELD(t4j_linear_params, ldb),        T4J_FIELD(t4j_linear_params, ldc),
    T4J_FIELD(t4j_linear_params, ld_residual), T4J_FIELD(t4j_linear_params, stride_a),
    T4J_FIELD(t4j_linear_params, stride_b),   T4J_FIELD(t4j_linear_params, stride_c),
    T4J_FIELD(t4j_linear_params, stride_residual), T4J_FIELD(t4j_linear_params, workspace),
    T4J_FIELD(t4j_linear_params, workspace_bytes), T4J_FIELD(t4j_linear_params, alpha),
    T4J_FIELD(t4j_linear_params, activation), T4J_FIELD(t4j_linear_params, gated),
    T4J_FIELD(t4j_linear_params, trans_b),    T4J_FIELD(t4j_linear_params, dtype),
    T4J_FIELD(t4j_linear_params, act_limit),  T4J_FIELD(t4j_linear_params, group_offsets),
    T4J_FIELD(t4j_linear_params, stride_bias),     T4J_FIELD(t4j_linear_params, b_scale),
    T4J_FIELD(t4j_linear_params, b_gate_scale),    T4J_FIELD(t4j_linear_params, b_format),
    T4J_FIELD(t4j_linear_params, reserved2),      T4J_FIELD(t4j_linear_params, b_zero),
    T4J_FIELD(t4j_linear_params, b_gate_zero),    T4J_FIELD(t4j_linear_params, b_gidx),
    T4J_FIELD(t4j_linear_params, b_gate_gidx),
    T4J_FIELD(t4j_linear_params, b_group_size),   T4J_FIELD(t4j_linear_params, b_groups),
};
const t4j::StructRegistration kLinearLayout("t4j_linear_params", sizeof(t4j_linear_params), kLinearFields,
                                          sizeof(kLinearFields) / sizeof(kLinearFields[0]));

const t4j::FieldLayout kBiasActFields[] = {
    T4J_FIELD(t4j_bias_act_params, out),             T4J_FIELD(t4j_bias_act_params, x),
    T4J_FIELD(t4j_bias_act_params, gate),            T4J_FIELD(t4j_bias_act_params, bias),
    T4J_FIELD(t4j_bias_act_params, bias_gate),       T4J_FIELD(t4j_bias_act_params, residual),
    T4J_FIELD(t4j_bias_act_params, rows),            T4J_FIELD(t4j_bias_act_params, cols),
    T4J_FIELD(t4j_bias_act_params, out_row_stride),  T4J_FIELD(t4j_bias_act_params, x_row_stride),
    T4J_FIELD(t4j_bias_act_params, gate_row_stride), T4J_FIELD(t4j_bias_act_params, residual_row_stride),
    T4J_FIELD(t4j_bias_act_params, activation),      T4J_FIELD(t4j_bias_act_params, dtype),
    T4J_FIELD(t4j_bias_act_params, act_limit),       T4J_FIELD(t4j_bias_act_params, reserved),
};
const t4j::StructRegistration kBiasActLayout("t4j_bias_act_params", sizeof(t4j_bias_act_params), kBiasActFields,
                                             sizeof(kBiasActFields) / sizeof(kBiasActFields[0]));

// Threads per row of the elementwise epilogue: ~4 columns per thread, 32..512 (as the norm family).
uint32_t threads_for(int64_t cols) {
    uint32_t t = 32;
    while (t < 512 && static_cast<int64_t>(t) * 4 < cols) t <<= 1;
    return t;
}

// INT4 weights (ABI 21, b_format): what the four INT4 instances can read (t4j.h), checked before any launch.
bool valid_int4(const t4j_linear_params* p) {
    const bool gated = p->gated == 1;
    if (p->group_offsets != nullptr || p->dtype == T4J_DTYPE_F32 || p->trans_b != 1 || p->stride_b != 0) return false;
    if (p->b_scale == nullptr || p->b_zero == nullptr) return false;
    if (gated != (p->b_gate_scale != nullptr) || gated != (p->b_gate_zero != nullptr)) return false;
    if ((gated && p->b_gidx != nullptr) != (p->b_gate_gidx != nullptr)) return false;  // the gate's g_idx exactly with W's
    if (p->k % 8 != 0 || p->ldb < p->n || p->b_groups < 1) return false;
    if (p->b_gidx == nullptr) {
        if (p->b_group_size <= 0 || p->b_group_size % 8 != 0) return false;  // one group per word
        if (static_cast<int64_t>(p->b_groups) * p->b_group_size < p->k) return false;  // every k has its group's row
    } else if (p->b_group_size != 0) {
        return false;
    }
    const uintptr_t words = reinterpret_cast<uintptr_t>(p->b) | (gated ? reinterpret_cast<uintptr_t>(p->b_gate) : 0u);
    const uintptr_t halves = reinterpret_cast<uintptr_t>(p->b_scale) | (gated ? reinterpret_cast<uintptr_t>(p->b_gate_scale) : 0u);
    return (words & 3u) == 0 && (halves & 1u) == 0;
}

// The weights' format (ABI 13, b_format): what the MXFP4 instances (and, ABI 21, the INT4 ones) can read, checked before
// any launch (and before the empty problem's early success, so a malformed struct fails the same way at every size);
// the fields of the other formats must be empty.
bool valid_format(const t4j_linear_params* p) {
    const bool int4_fields = p->b_zero != nullptr || p->b_gate_zero != nullptr || p->b_gidx != nullptr || p->b_gate_gidx != nullptr ||
                             p->b_group_size != 0 || p->b_groups != 0;
    if (p->b_format == T4J_WEIGHTS_INT4) return valid_int4(p);
    if (int4_fields) return false;
    if (p->b_format == T4J_WEIGHTS_DENSE) return p->b_scale == nullptr && p->b_gate_scale == nullptr;
    if (p->b_format != T4J_WEIGHTS_MXFP4) return false;                                  // an unknown format
    const bool gated = p->gated == 1;
    if (p->group_offsets == nullptr || p->dtype != T4J_DTYPE_BF16 || p->trans_b != 1) return false;  // the instances
    if (p->b_scale == nullptr || gated != (p->b_gate_scale != nullptr)) return false;
    if (p->k % 32 != 0 || p->ldb % 32 != 0 || p->stride_b % 32 != 0) return false;         // whole blocks per row
    // each thread reads 8 bytes of codes: byte offsets are multiples of 8 past an 8-byte aligned base
    const uintptr_t misaligned = reinterpret_cast<uintptr_t>(p->b) | (gated ? reinterpret_cast<uintptr_t>(p->b_gate) : 0u);
    return (misaligned & 7u) == 0;
}

// A grouped residual (ABI 15) is C itself (same pointer and ldc: each element read by the thread that writes it) or
// lies wholly apart from C's rows (0 .. m−1, ldc apart; the residual's ld_residual apart): a partial overlap would
// let one block read what another has written. Dense weights only.
bool valid_grouped_residual(const t4j_linear_params* p) {
    if (p->residual == nullptr) return true;
    if (p->b_format != T4J_WEIGHTS_DENSE) return false;
    if (p->residual == p->c) return p->ld_residual == p->ldc;
    if (p->m == 0 || p->n == 0) return true;
    const uint64_t es = p->dtype == T4J_DTYPE_F32 ? 4u : 2u;
    const uint64_t c0 = reinterpret_cast<uintptr_t>(p->c), r0 = reinterpret_cast<uintptr_t>(p->residual);
    const uint64_t c1 = c0 + static_cast<uint64_t>((p->m - 1) * p->ldc + p->n) * es;          // one past C's last element
    const uint64_t r1 = r0 + static_cast<uint64_t>((p->m - 1) * p->ld_residual + p->n) * es;  // and the residual's
    return r1 <= c0 || c1 <= r0;
}

// The grouped GEMM (group_offsets set; the common checks passed): no split-K; a residual (ABI 15) with dense weights,
// at the groups' rows like C; the grid's y covers the capacity p->m, z the groups, and each block reads its group's
// rows when it starts.
int32_t linear_grouped(const t4j_linear_params* p, void* stream) {
    if (!valid_grouped_residual(p)) return T4J_ERROR_INVALID_ARGUMENT;
    const bool gated = p->gated == 1;
    const bool trans_b = p->trans_b == 1;
    if (p->m == 0 || p->n == 0) return T4J_SUCCESS;
    t4j::CUfunction f = nullptr;
    if (p->dtype == T4J_DTYPE_F32) {
        const int64_t m_tiles = (p->m + t4j::linear::kF32TileM - 1) / t4j::linear::kF32TileM;
        const int64_t n_tiles = (p->n + t4j::linear::kF32TileN - 1) / t4j::linear::kF32TileN;
        if (m_tiles > 65535 || p->batch > 65535 || n_tiles > 2147483647) return T4J_ERROR_UNSUPPORTED;  // grid limits
        static const char* const kF32Names[2][2] = {{"t4j_linear_f32_grouped_nn", "t4j_linear_f32_grouped_nt"},
                                                    {"t4j_linear_f32_grouped_gated_nn", "t4j_linear_f32_grouped_gated_nt"}};
        int32_t s = t4j::get_kernel(kF32Names[gated][trans_b], &f);
        if (s != T4J_SUCCESS) return s;
        void* args[] = {const_cast<t4j_linear_params*>(p)};
        return t4j::launch_grid(f, static_cast<uint32_t>(n_tiles), static_cast<uint32_t>(m_tiles),
                                static_cast<uint32_t>(p->batch), t4j::linear::kF32TileThreads, 0, stream, args);
    }
    const TileShape t = tile_shape(false, gated);
    const int64_t m_tiles = (p->m + t.bm - 1) / t.bm;
    const int64_t n_tiles = (p->n + t.bn - 1) / t.bn;
    if (m_tiles > 65535 || p->batch > 65535 || n_tiles > 2147483647) return T4J_ERROR_UNSUPPORTED;  // grid limits
    // A group's rows start anywhere: 16-byte loads need a, lda and K 8-element aligned (no batch stride).
    int32_t s = T4J_SUCCESS;
    int32_t va = aligned16(p->a) && p->lda % 8 == 0 && p->k % 8 == 0;
    int32_t vb = aligned16(p->b) && (!gated || aligned16(p->b_gate)) && p->ldb % 8 == 0 && p->stride_b % 8 == 0 &&
                 (trans_b ? p->k : p->n) % 8 == 0;
    int32_t split = 1;
    if (p->b_format == T4J_WEIGHTS_MXFP4) {  // validated in t4j_linear: BF16, trans_b, K % 32, strides, alignment
        s = t4j::get_kernel(gated ? "t4j_linear_bf16_grouped_mxfp4_gated_nt_64" : "t4j_linear_bf16_grouped_mxfp4_nt_64", &f);
        if (s != T4J_SUCCESS) return s;
        vb = 0;  // the packed bytes are read by the decode, not by cp.async
        void* args[] = {const_cast<t4j_linear_params*>(p), &va, &vb, &split};
        return t4j::launch_grid(f, static_cast<uint32_t>(n_tiles), static_cast<uint32_t>(m_tiles), static_cast<uint32_t>(p->batch),
                                t.threads, linear_shared_bytes(t, gated, true), stream, args);
    }
    static const char* const kNames[2][2][2] = {  // [bf16][gated][trans_b]
        {{"t4j_linear_f16_grouped_nn_64", "t4j_linear_f16_grouped_nt_64"},
         {"t4j_linear_f16_grouped_gated_nn_64", "t4j_linear_f16_grouped_gated_nt_64"}},
        {{"t4j_linear_bf16_grouped_nn_64", "t4j_linear_bf16_grouped_nt_64"},
         {"t4j_linear_bf16_grouped_gated_nn_64", "t4j_linear_bf16_grouped_gated_nt_64"}},
    };
    s = t4j::get_kernel(kNames[p->dtype == T4J_DTYPE_BF16][gated][trans_b], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_linear_params*>(p), &va, &vb, &split};
    return t4j::launch_grid(f, static_cast<uint32_t>(n_tiles), static_cast<uint32_t>(m_tiles), static_cast<uint32_t>(p->batch),
                            t.threads, linear_shared_bytes(t, gated, trans_b), stream, args);
}

// INT4 weights and a decode step's few rows (validated, M ≥ 1): the GEMV, one block per 32 columns and batch item.
int32_t linear_int4_gemv(const t4j_linear_params* p, void* stream) {
    const int64_t n_tiles = (p->n + t4j::linear::kGemvCols - 1) / t4j::linear::kGemvCols;
    if (p->batch > 65535 || n_tiles > 2147483647) return T4J_ERROR_UNSUPPORTED;  // grid limits
    static const char* const kNames[2][2] = {  // [bf16][gated]
        {"t4j_linear_f16_int4_gemv", "t4j_linear_f16_int4_gated_gemv"},
        {"t4j_linear_bf16_int4_gemv", "t4j_linear_bf16_int4_gated_gemv"},
    };
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype == T4J_DTYPE_BF16][p->gated == 1], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_linear_params*>(p)};
    return t4j::launch_grid(f, static_cast<uint32_t>(n_tiles), static_cast<uint32_t>(p->batch), 1, t4j::linear::kGemvThreads, 0,
                            stream, args);
}

}  // namespace

extern "C" T4J_API int32_t t4j_linear(const t4j_linear_params* p, void* stream) {
    if (p == nullptr || p->c == nullptr || p->a == nullptr || p->b == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if ((p->gated != 0 && p->gated != 1) || (p->trans_b != 0 && p->trans_b != 1)) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    const bool gated = p->gated == 1;
    const bool trans_b = p->trans_b == 1;
    if (gated != (p->b_gate != nullptr) || (!gated && p->bias_gate != nullptr)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!valid_act(p->activation, gated, p->act_limit) || !t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->m < 0 || p->n < 0 || p->k < 0 || p->batch < 1) return T4J_ERROR_INVALID_ARGUMENT;
    // Per-group biases (ABI 11): the grouped GEMM's only.
    if (p->stride_bias < 0 || (p->stride_bias != 0 && p->group_offsets == nullptr)) return T4J_ERROR_INVALID_ARGUMENT;
    const bool int4 = p->b_format == T4J_WEIGHTS_INT4;  // ldb: words between code rows, ≥ N (valid_int4)
    if (p->lda < p->k || p->ldc < p->n || (!int4 && p->ldb < (trans_b ? p->k : p->n))) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->residual != nullptr && p->ld_residual < p->n) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->stride_a < 0 || p->stride_b < 0 || p->stride_c < 0 || p->stride_residual < 0) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->reserved2 != 0 || !valid_format(p)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->group_offsets != nullptr) return linear_grouped(p, stream);
    if (p->batch > 1 && p->stride_c == 0 && p->m > 0 && p->n > 0) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->residual != nullptr && p->residual == p->c && p->ld_residual != p->ldc) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->dtype == T4J_DTYPE_F32) return T4J_ERROR_UNSUPPORTED;  // no fp32 tensor-core path (TF32 would change results)
    if (p->m == 0 || p->n == 0) return T4J_SUCCESS;
    if (int4 && p->m <= t4j::linear::kGemvMaxRows) return linear_int4_gemv(p, stream);

    int sms = 0;
    int32_t s = t4j::sm_count(&sms);
    if (s != T4J_SUCCESS) return s;
    Plan pl = plan_for(p, sms);
    if (pl.split > 1 && (p->workspace == nullptr || p->workspace_bytes < pl.workspace_bytes)) pl.split = 1;
    const TileShape t = pl.tile;
    const bool use_large = pl.large;
    const int64_t m_tiles = pl.m_tiles;
    const int64_t n_tiles = pl.n_tiles;
    if (m_tiles > 65535 || p->batch > 65535 || n_tiles > 2147483647) return T4J_ERROR_UNSUPPORTED;  // grid limits

    // 16-byte cp.async needs 8-element alignment of the base, the rows, the batch stride, and of
    // the extent along the copied dimension (so a chunk is wholly inside or outside).
    const int32_t vec_a = aligned16(p->a) && p->lda % 8 == 0 && p->stride_a % 8 == 0 && p->k % 8 == 0;
    const int32_t vec_b = aligned16(p->b) && (!gated || aligned16(p->b_gate)) && p->ldb % 8 == 0 &&
                          p->stride_b % 8 == 0 && (trans_b ? p->k : p->n) % 8 == 0;

    static const char* const kNames[2][2][2][2] = {  // [large][bf16][gated][trans_b]
        {{{"t4j_linear_f16_nn_64", "t4j_linear_f16_nt_64"}, {"t4j_linear_f16_gated_nn_64", "t4j_linear_f16_gated_nt_64"}},
         {{"t4j_linear_bf16_nn_64", "t4j_linear_bf16_nt_64"}, {"t4j_linear_bf16_gated_nn_64", "t4j_linear_bf16_gated_nt_64"}}},
        {{{"t4j_linear_f16_nn_128", "t4j_linear_f16_nt_128"}, {"t4j_linear_f16_gated_nn_128", "t4j_linear_f16_gated_nt_128"}},
         {{"t4j_linear_bf16_nn_128", "t4j_linear_bf16_nt_128"}, {"t4j_linear_bf16_gated_nn_128", "t4j_linear_bf16_gated_nt_128"}}},
    };
    static const char* const kInt4Names[2][2] = {  // [bf16][gated]
        {"t4j_linear_f16_int4_nt_64", "t4j_linear_f16_int4_gated_nt_64"},
        {"t4j_linear_bf16_int4_nt_64", "t4j_linear_bf16_int4_gated_nt_64"},
    };
    t4j::CUfunction f = nullptr;
    s = t4j::get_kernel(int4 ? kInt4Names[p->dtype == T4J_DTYPE_BF16][gated]
                             : kNames[use_large][p->dtype == T4J_DTYPE_BF16][gated][trans_b],
                        &f);
    if (s != T4J_SUCCESS) return s;
    int32_t va = vec_a;
    int32_t vb = int4 ? 0 : vec_b;  // INT4's packed words are read by the decode, not by cp.async
    int32_t split = pl.split;
    if (split > 1) {
        // Tile counters to zero in stream order before every split launch: a launch aborted
        // half-way (or a workspace reused by another owner) cannot leave a count behind.
        const int64_t counter_bytes = t4j::linear::splitk_counter_bytes(m_tiles * n_tiles * p->batch);
        s = t4j::memset_d32_async(p->workspace, 0, static_cast<size_t>(counter_bytes / 4), stream);
        if (s != T4J_SUCCESS) return s;
    }
    void* args[] = {const_cast<t4j_linear_params*>(p), &va, &vb, &split};
    return t4j::launch_grid(f, static_cast<uint32_t>(n_tiles), static_cast<uint32_t>(m_tiles),
                            static_cast<uint32_t>(p->batch * split), t.threads, linear_shared_bytes(t, gated, trans_b),
                            stream, args);
}

extern "C" T4J_API int32_t t4j_linear_workspace_size(const t4j_linear_params* p, uint64_t* bytes) {
    if (p == nullptr || bytes == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    *bytes = 0;
    if (p->m <= 0 || p->n <= 0 || p->k <= 0 || p->batch < 1 || p->dtype == T4J_DTYPE_F32 || p->group_offsets != nullptr) {
        return T4J_SUCCESS;  // grouped GEMMs never split K
    }
    if (p->b_format == T4J_WEIGHTS_INT4 && p->m <= t4j::linear::kGemvMaxRows) return T4J_SUCCESS;  // the GEMV: no split
    int sms = 0;
    int32_t s = t4j::sm_count(&sms);
    if (s != T4J_SUCCESS) return s;
    *bytes = plan_for(p, sms).workspace_bytes;
    return T4J_SUCCESS;
}

extern "C" T4J_API int32_t t4j_bias_act(const t4j_bias_act_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->x == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (!valid_act(p->activation, p->gate != nullptr, p->act_limit) || !t4j::is_float_dtype(p->dtype) || p->reserved != 0) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (p->rows < 0 || p->cols < 1) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->out_row_stride < p->cols || p->x_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->gate != nullptr && p->gate_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->gate == nullptr && p->bias_gate != nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->residual != nullptr && p->residual_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_bias_act_f32", "t4j_bias_act_f16", "t4j_bias_act_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_bias_act_params*>(p)};
    return t4j::launch(f, t4j::row_grid(p->rows), threads_for(p->cols), 0, stream, args);
}
