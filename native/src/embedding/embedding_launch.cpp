// embedding_launch.cpp — validates t4j_embedding_params and launches one block per row.
#include <cmath>

#include "../common/internal.h"
#include "../common/layout.h"

namespace {

const t4j::FieldLayout kEmbeddingFields[] = {
    T4J_FIELD(t4j_embedding_params, out),            T4J_FIELD(t4j_embedding_params, ids),
    T4J_FIELD(t4j_embedding_params, token_table),    T4J_FIELD(t4j_embedding_params, position_table),
    T4J_FIELD(t4j_embedding_params, type_ids),       T4J_FIELD(t4j_embedding_params, type_table),
    T4J_FIELD(t4j_embedding_params, error_row),      T4J_FIELD(t4j_embedding_params, positions),
    T4J_FIELD(t4j_embedding_params, rows),
    T4J_FIELD(t4j_embedding_params, cols),           T4J_FIELD(t4j_embedding_params, seq_len),
    T4J_FIELD(t4j_embedding_params, position_offset), T4J_FIELD(t4j_embedding_params, vocab),
    T4J_FIELD(t4j_embedding_params, max_positions),  T4J_FIELD(t4j_embedding_params, type_vocab),
    T4J_FIELD(t4j_embedding_params, out_row_stride), T4J_FIELD(t4j_embedding_params, dtype),
    T4J_FIELD(t4j_embedding_params, token_scale),
};
const t4j::StructRegistration kEmbeddingLayout("t4j_embedding_params", sizeof(t4j_embedding_params),
                                               kEmbeddingFields, sizeof(kEmbeddingFields) / sizeof(kEmbeddingFields[0]));

// ~4 columns per thread, 32..256: a row is a few KiB, many rows run at once.
uint32_t threads_for(int64_t cols) {
    uint32_t t = 32;
    while (t < 256 && static_cast<int64_t>(t) * 4 < cols) t <<= 1;
    return t;
}

}  // namespace

extern "C" T4J_API int32_t t4j_embedding(const t4j_embedding_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->ids == nullptr || p->token_table == nullptr) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (!(p->token_scale >= 0.0f) || !std::isfinite(p->token_scale) || !t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows < 0 || p->cols < 1 || p->vocab < 1 || p->out_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if ((p->type_ids == nullptr) != (p->type_table == nullptr)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->type_ids != nullptr && p->type_vocab < 1) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->positions != nullptr && p->position_table == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->position_table != nullptr) {
        if (p->seq_len < 1 || p->position_offset < 0 || p->max_positions < 1) return T4J_ERROR_INVALID_ARGUMENT;
        if (p->positions == nullptr && p->position_offset + (p->rows < p->seq_len ? p->rows : p->seq_len) > p->max_positions) {
            return T4J_ERROR_INVALID_ARGUMENT;
        }
    }
    if (p->rows == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_embedding_f32", "t4j_embedding_f16", "t4j_embedding_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {const_cast<t4j_embedding_params*>(p)};
    return t4j::launch(f, t4j::row_grid(p->rows), threads_for(p->cols), 0, stream, args);
}
