// moe_launch.cpp — validates the mixture-of-experts params (t4j_moe_route / _gather_rows / _moe_combine)
// and launches: the router as one block of 1024 threads, the gather and the combine a block per row.
#include "../common/internal.h"
#include "../common/layout.h"

namespace {

const t4j::FieldLayout kRouteFields[] = {
    T4J_FIELD(t4j_moe_route_params, logits),         T4J_FIELD(t4j_moe_route_params, topk_ids),
    T4J_FIELD(t4j_moe_route_params, topk_weights),   T4J_FIELD(t4j_moe_route_params, expert_offsets),
    T4J_FIELD(t4j_moe_route_params, sorted_tokens),  T4J_FIELD(t4j_moe_route_params, slots),
    T4J_FIELD(t4j_moe_route_params, tokens),         T4J_FIELD(t4j_moe_route_params, logits_row_stride),
    T4J_FIELD(t4j_moe_route_params, experts),        T4J_FIELD(t4j_moe_route_params, top_k),
    T4J_FIELD(t4j_moe_route_params, renormalize),    T4J_FIELD(t4j_moe_route_params, dtype),
    T4J_FIELD(t4j_moe_route_params, correction_bias), T4J_FIELD(t4j_moe_route_params, scoring),
    T4J_FIELD(t4j_moe_route_params, n_group),        T4J_FIELD(t4j_moe_route_params, topk_group),
    T4J_FIELD(t4j_moe_route_params, scale),
};
const t4j::StructRegistration kRouteLayout("t4j_moe_route_params", sizeof(t4j_moe_route_params), kRouteFields,
                                           sizeof(kRouteFields) / sizeof(kRouteFields[0]));

const t4j::FieldLayout kGatherFields[] = {
    T4J_FIELD(t4j_gather_rows_params, out),            T4J_FIELD(t4j_gather_rows_params, x),
    T4J_FIELD(t4j_gather_rows_params, rows),           T4J_FIELD(t4j_gather_rows_params, n),
    T4J_FIELD(t4j_gather_rows_params, x_rows),         T4J_FIELD(t4j_gather_rows_params, cols),
    T4J_FIELD(t4j_gather_rows_params, out_row_stride), T4J_FIELD(t4j_gather_rows_params, x_row_stride),
    T4J_FIELD(t4j_gather_rows_params, dtype),          T4J_FIELD(t4j_gather_rows_params, widen),
};
const t4j::StructRegistration kGatherLayout("t4j_gather_rows_params", sizeof(t4j_gather_rows_params), kGatherFields,
                                            sizeof(kGatherFields) / sizeof(kGatherFields[0]));

const t4j::FieldLayout kCombineFields[] = {
    T4J_FIELD(t4j_moe_combine_params, out),                 T4J_FIELD(t4j_moe_combine_params, y),
    T4J_FIELD(t4j_moe_combine_params, slots),               T4J_FIELD(t4j_moe_combine_params, weights),
    T4J_FIELD(t4j_moe_combine_params, residual),            T4J_FIELD(t4j_moe_combine_params, shared),
    T4J_FIELD(t4j_moe_combine_params, shared_gate),         T4J_FIELD(t4j_moe_combine_params, tokens),
    T4J_FIELD(t4j_moe_combine_params, cols),                T4J_FIELD(t4j_moe_combine_params, slot_rows),
    T4J_FIELD(t4j_moe_combine_params, out_row_stride),      T4J_FIELD(t4j_moe_combine_params, y_row_stride),
    T4J_FIELD(t4j_moe_combine_params, residual_row_stride), T4J_FIELD(t4j_moe_combine_params, shared_row_stride),
    T4J_FIELD(t4j_moe_combine_params, shared_gate_stride),  T4J_FIELD(t4j_moe_combine_params, top_k),
    T4J_FIELD(t4j_moe_combine_params, dtype),
};
const t4j::StructRegistration kCombineLayout("t4j_moe_combine_params", sizeof(t4j_moe_combine_params), kCombineFields,
                                             sizeof(kCombineFields) / sizeof(kCombineFields[0]));

constexpr uint32_t kRouteThreads = 1024;  // moe.cuh's t4j::moe::kRouteThreads
constexpr uint32_t kGatherThreads = 128;  // moe.cuh's t4j::moe::kGatherThreads
constexpr int64_t kMaxRowBlocks = 65535 * 8;  // the grid-stride loops cover the rest

uint32_t blocks_for(int64_t rows) { return static_cast<uint32_t>(rows < kMaxRowBlocks ? rows : kMaxRowBlocks); }

// ~4 columns per thread, 32..512 (as the linear family's bias_act).
uint32_t threads_for(int64_t cols) {
    uint32_t t = 32;
    while (t < 512 && static_cast<int64_t>(t) * 4 < cols) t <<= 1;
    return t;
}

// DeepSeek's fields (ABI 18): the scoring, the bias (either scoring, 4-byte aligned), the groups, the scale (t4j.h).
bool route_scoring_valid(const t4j_moe_route_params* p) {
    const bool sigmoid = p->scoring == T4J_MOE_SIGMOID;
    if (p->scoring != T4J_MOE_SOFTMAX && !sigmoid) return false;
    if (p->correction_bias != nullptr && reinterpret_cast<uintptr_t>(p->correction_bias) % 4 != 0) return false;
    if (p->scale != 0.0f && !(p->scale > 0.0f && p->scale <= 3.4028235e38f)) return false;  // NaN and ∞ fail
    if (p->n_group < 0 || p->n_group > T4J_MOE_MAX_GROUPS) return false;
    if (p->n_group <= 1) return p->topk_group == 0 || p->topk_group == 1;
    if (p->experts % p->n_group != 0) return false;
    const int32_t G = p->experts / p->n_group;
    if (sigmoid && G < 2) return false;  // a group's score is its top-2 sum
    return p->topk_group >= 1 && p->topk_group <= p->n_group && p->top_k <= p->topk_group * G;
}

}  // namespace

extern "C" T4J_API int32_t t4j_moe_route(const t4j_moe_route_params* p, void* stream) {
    if (p == nullptr || p->logits == nullptr || p->topk_ids == nullptr || p->topk_weights == nullptr ||
        p->expert_offsets == nullptr || p->sorted_tokens == nullptr || p->slots == nullptr) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (!t4j::is_float_dtype(p->dtype) || (p->renormalize != 0 && p->renormalize != 1)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->experts < 1 || p->experts > 1024 || p->top_k < 1 || p->top_k > 32 || p->top_k > p->experts) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (p->tokens < 0 || p->logits_row_stride < p->experts) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->tokens * p->top_k > 2147483647) return T4J_ERROR_INVALID_ARGUMENT;  // slots are int32
    if (!route_scoring_valid(p)) return T4J_ERROR_INVALID_ARGUMENT;
    // No early return for T = 0: the kernel still writes the offsets (zeros), as the contract says.
    static const char* const kNames[] = {"t4j_moe_route_f32", "t4j_moe_route_f16", "t4j_moe_route_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_moe_route_params*>(p)};
    return t4j::launch(f, 1, kRouteThreads, 0, stream, args);
}

extern "C" T4J_API int32_t t4j_gather_rows(const t4j_gather_rows_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->x == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (!t4j::is_float_dtype(p->dtype) || (p->widen != 0 && p->widen != 1)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->widen == 1 && p->dtype == T4J_DTYPE_F32) return T4J_ERROR_INVALID_ARGUMENT;  // F32 → F32 is a copy (widen 0)
    if (p->n < 0 || p->x_rows < 1 || p->cols < 1 || p->out_row_stride < p->cols || p->x_row_stride < p->cols) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (p->rows == nullptr && p->n > p->x_rows) return T4J_ERROR_INVALID_ARGUMENT;  // identity rows stay inside x
    const uintptr_t element = p->dtype == T4J_DTYPE_F32 ? 4 : 2;
    const uintptr_t out_element = p->widen ? 4 : element;
    if (reinterpret_cast<uintptr_t>(p->out) % out_element != 0 || reinterpret_cast<uintptr_t>(p->x) % element != 0) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (p->n == 0) return T4J_SUCCESS;
    const char* name = !p->widen ? (element == 4 ? "t4j_gather_rows_b32" : "t4j_gather_rows_b16")
                                 : (p->dtype == T4J_DTYPE_F16 ? "t4j_gather_rows_f16_f32" : "t4j_gather_rows_bf16_f32");
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(name, &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_gather_rows_params*>(p)};
    return t4j::launch(f, blocks_for(p->n), kGatherThreads, 0, stream, args);
}

extern "C" T4J_API int32_t t4j_moe_combine(const t4j_moe_combine_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->y == nullptr || p->slots == nullptr || p->weights == nullptr) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (!t4j::is_float_dtype(p->dtype) || p->top_k < 1 || p->top_k > 32) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->tokens < 0 || p->cols < 1 || p->slot_rows < 1 || p->out_row_stride < p->cols || p->y_row_stride < p->cols) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (p->residual != nullptr && p->residual_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->residual != nullptr && p->residual == p->out && p->residual_row_stride != p->out_row_stride) {
        return T4J_ERROR_INVALID_ARGUMENT;  // aliasing is allowed only exactly
    }
    if (p->shared != nullptr && p->shared_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->shared_gate != nullptr && (p->shared == nullptr || p->shared_gate_stride < 0)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->tokens == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_moe_combine_f32", "t4j_moe_combine_f16", "t4j_moe_combine_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_moe_combine_params*>(p)};
    return t4j::launch(f, blocks_for(p->tokens), threads_for(p->cols), 0, stream, args);
}
