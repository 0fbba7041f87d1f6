// norm_launch.cpp — validates t4j_norm_params, picks the dtype's kernel and its launch shape.
#include <cmath>

#include "../common/internal.h"
#include "../common/layout.h"
#include "norm_config.h"

namespace {

// Threads per row: about four columns per thread, a warp at least, 512 at most (a row of the
// widest models, 8192, then takes 16 elements per thread, and two blocks still fit an SM).
uint32_t threads_for(int64_t cols) {
    uint32_t t = 32;
    while (t < 512 && static_cast<int64_t>(t) * 4 < cols) t <<= 1;
    return t;
}

const t4j::FieldLayout kNormFields[] = {
    T4J_FIELD(t4j_norm_params, out),          T4J_FIELD(t4j_norm_params, residual_out),
    T4J_FIELD(t4j_norm_params, x),            T4J_FIELD(t4j_norm_params, residual),
    T4J_FIELD(t4j_norm_params, weight),       T4J_FIELD(t4j_norm_params, bias),
    T4J_FIELD(t4j_norm_params, rows),         T4J_FIELD(t4j_norm_params, cols),
    T4J_FIELD(t4j_norm_params, x_row_stride), T4J_FIELD(t4j_norm_params, residual_row_stride),
    T4J_FIELD(t4j_norm_params, out_row_stride), T4J_FIELD(t4j_norm_params, residual_out_row_stride),
    T4J_FIELD(t4j_norm_params, eps),          T4J_FIELD(t4j_norm_params, kind),
    T4J_FIELD(t4j_norm_params, dtype),        T4J_FIELD(t4j_norm_params, reserved),
};
const t4j::StructRegistration kNormLayout("t4j_norm_params", sizeof(t4j_norm_params), kNormFields,
                                          sizeof(kNormFields) / sizeof(kNormFields[0]));

}  // namespace

extern "C" T4J_API int32_t t4j_norm(const t4j_norm_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->x == nullptr || p->weight == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows < 0 || p->cols < 1 || p->reserved != 0) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->kind != T4J_NORM_LAYER && p->kind != T4J_NORM_RMS) return T4J_ERROR_INVALID_ARGUMENT;
    if (!t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (!(p->eps >= 0.0f) || !std::isfinite(p->eps)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->x_row_stride < p->cols || p->out_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->residual != nullptr && p->residual_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->residual_out != nullptr && p->residual_out_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows == 0) return T4J_SUCCESS;

    static const char* const kNames[] = {"t4j_norm_f32", "t4j_norm_f16", "t4j_norm_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;

    const int32_t use_cache = t4j::norm::use_cache(p->cols) ? 1 : 0;
    const uint32_t shared = t4j::norm::shared_bytes(p->cols);
    const uint32_t grid = static_cast<uint32_t>(p->rows < 2147483647 ? p->rows : 2147483647);
    int32_t use_cache_arg = use_cache;
    void* args[] = {const_cast<t4j_norm_params*>(p), &use_cache_arg};
    return t4j::launch(f, grid, threads_for(p->cols), shared, stream, args);
}
