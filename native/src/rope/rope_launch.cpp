// rope_launch.cpp — validates t4j_rope_params and launches one block per token.
#include "../common/internal.h"
#include "../common/layout.h"

namespace {

const t4j::FieldLayout kRopeFields[] = {
    T4J_FIELD(t4j_rope_params, x),              T4J_FIELD(t4j_rope_params, positions),
    T4J_FIELD(t4j_rope_params, inv_freq),       T4J_FIELD(t4j_rope_params, seq_lens),
    T4J_FIELD(t4j_rope_params, x_batch_stride), T4J_FIELD(t4j_rope_params, x_row_stride),
    T4J_FIELD(t4j_rope_params, x_head_stride),  T4J_FIELD(t4j_rope_params, B),
    T4J_FIELD(t4j_rope_params, T),              T4J_FIELD(t4j_rope_params, H),
    T4J_FIELD(t4j_rope_params, HS),             T4J_FIELD(t4j_rope_params, rotary_dim),
    T4J_FIELD(t4j_rope_params, dynamic),        T4J_FIELD(t4j_rope_params, base),
    T4J_FIELD(t4j_rope_params, factor),         T4J_FIELD(t4j_rope_params, max_positions),
    T4J_FIELD(t4j_rope_params, dtype),          T4J_FIELD(t4j_rope_params, attention_scaling),
    T4J_FIELD(t4j_rope_params, reserved),
};
const t4j::StructRegistration kRopeLayout("t4j_rope_params", sizeof(t4j_rope_params), kRopeFields,
                                          sizeof(kRopeFields) / sizeof(kRopeFields[0]));

constexpr int kRopeThreads = 128;   // rope.cuh's t4j::kRopeThreads
constexpr int kRopeMaxHalf = 256;   // rope.cuh's t4j::kRopeMaxHalf

}  // namespace

extern "C" T4J_API int32_t t4j_rope(const t4j_rope_params* p, void* stream) {
    if (p == nullptr || p->x == nullptr || p->positions == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (!t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->B < 0 || p->T < 0 || p->H < 1 || p->HS < 1) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rotary_dim < 2 || p->rotary_dim % 2 != 0 || p->rotary_dim > p->HS) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rotary_dim / 2 > kRopeMaxHalf) return T4J_ERROR_UNSUPPORTED;
    if (p->x_head_stride < p->HS) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->dynamic == 1) {
        if (p->inv_freq != nullptr || p->seq_lens == nullptr || p->rotary_dim < 4) return T4J_ERROR_INVALID_ARGUMENT;
        if (!(p->base > 0.0f) || !(p->factor >= 1.0f) || p->max_positions < 1) return T4J_ERROR_INVALID_ARGUMENT;
    } else if (p->dynamic == 0) {
        if (p->inv_freq == nullptr || p->seq_lens != nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    } else if (p->dynamic == 2) {
        if (p->inv_freq == nullptr || p->seq_lens == nullptr || p->max_positions < 1) return T4J_ERROR_INVALID_ARGUMENT;
    } else {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    // NaN fails both comparisons; infinity the second
    if (!(p->attention_scaling > 0.0f) || !(p->attention_scaling < 3.0e38f) || p->reserved != 0) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    const int64_t tokens = static_cast<int64_t>(p->B) * p->T;
    if (tokens == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_rope_f32", "t4j_rope_f16", "t4j_rope_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_rope_params*>(p)};
    return t4j::launch(f, t4j::row_grid(tokens), kRopeThreads, 0, stream, args);
}
