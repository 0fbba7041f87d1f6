// vocab_launch.cpp — validates the softmax, cross-entropy and sampling params and launches one
// block per row (block size grows with the vocabulary); validates and launches the elementwise
// final logit soft-capping, the sampling penalties and the structured-output token mask.
#include <cmath>

#include "../common/internal.h"
#include "../common/layout.h"

namespace {

const t4j::FieldLayout kSoftmaxFields[] = {
    T4J_FIELD(t4j_softmax_params, out),          T4J_FIELD(t4j_softmax_params, x),
    T4J_FIELD(t4j_softmax_params, rows),         T4J_FIELD(t4j_softmax_params, cols),
    T4J_FIELD(t4j_softmax_params, x_row_stride), T4J_FIELD(t4j_softmax_params, out_row_stride),
    T4J_FIELD(t4j_softmax_params, scale),        T4J_FIELD(t4j_softmax_params, kind),
    T4J_FIELD(t4j_softmax_params, dtype),        T4J_FIELD(t4j_softmax_params, reserved),
};
const t4j::StructRegistration kSoftmaxLayout("t4j_softmax_params", sizeof(t4j_softmax_params), kSoftmaxFields,
                                             sizeof(kSoftmaxFields) / sizeof(kSoftmaxFields[0]));

const t4j::FieldLayout kCrossEntropyFields[] = {
    T4J_FIELD(t4j_cross_entropy_params, losses),       T4J_FIELD(t4j_cross_entropy_params, logits),
    T4J_FIELD(t4j_cross_entropy_params, targets),      T4J_FIELD(t4j_cross_entropy_params, error_row),
    T4J_FIELD(t4j_cross_entropy_params, rows),         T4J_FIELD(t4j_cross_entropy_params, cols),
    T4J_FIELD(t4j_cross_entropy_params, logits_row_stride), T4J_FIELD(t4j_cross_entropy_params, ignore_index),
    T4J_FIELD(t4j_cross_entropy_params, dtype),
};
const t4j::StructRegistration kCrossEntropyLayout("t4j_cross_entropy_params", sizeof(t4j_cross_entropy_params),
                                                  kCrossEntropyFields,
                                                  sizeof(kCrossEntropyFields) / sizeof(kCrossEntropyFields[0]));

const t4j::FieldLayout kSampleFields[] = {
    T4J_FIELD(t4j_sample_params, ids),          T4J_FIELD(t4j_sample_params, logprobs),
    T4J_FIELD(t4j_sample_params, nonfinite),
    T4J_FIELD(t4j_sample_params, logits),       T4J_FIELD(t4j_sample_params, rows),
    T4J_FIELD(t4j_sample_params, cols),         T4J_FIELD(t4j_sample_params, logits_row_stride),
    T4J_FIELD(t4j_sample_params, seed),         T4J_FIELD(t4j_sample_params, offset),
    T4J_FIELD(t4j_sample_params, temperature),  T4J_FIELD(t4j_sample_params, top_p),
    T4J_FIELD(t4j_sample_params, top_k),        T4J_FIELD(t4j_sample_params, dtype),
    T4J_FIELD(t4j_sample_params, min_p),        T4J_FIELD(t4j_sample_params, reserved),
    T4J_FIELD(t4j_sample_params, row_params),
};
const t4j::StructRegistration kSampleLayout("t4j_sample_params", sizeof(t4j_sample_params), kSampleFields,
                                            sizeof(kSampleFields) / sizeof(kSampleFields[0]));

const t4j::FieldLayout kSampleRowFields[] = {
    T4J_FIELD(t4j_sample_row, seed),  T4J_FIELD(t4j_sample_row, offset), T4J_FIELD(t4j_sample_row, temperature),
    T4J_FIELD(t4j_sample_row, top_p), T4J_FIELD(t4j_sample_row, top_k),  T4J_FIELD(t4j_sample_row, min_p),
};
const t4j::StructRegistration kSampleRowLayout("t4j_sample_row", sizeof(t4j_sample_row), kSampleRowFields,
                                               sizeof(kSampleRowFields) / sizeof(kSampleRowFields[0]));

const t4j::FieldLayout kPenaltyFields[] = {
    T4J_FIELD(t4j_penalty_params, logits),     T4J_FIELD(t4j_penalty_params, ids),
    T4J_FIELD(t4j_penalty_params, counts),     T4J_FIELD(t4j_penalty_params, bias),
    T4J_FIELD(t4j_penalty_params, rows),       T4J_FIELD(t4j_penalty_params, cols),
    T4J_FIELD(t4j_penalty_params, logits_row_stride), T4J_FIELD(t4j_penalty_params, width),
    T4J_FIELD(t4j_penalty_params, repetition), T4J_FIELD(t4j_penalty_params, presence),
    T4J_FIELD(t4j_penalty_params, frequency),  T4J_FIELD(t4j_penalty_params, dtype),
    T4J_FIELD(t4j_penalty_params, repetition_rows), T4J_FIELD(t4j_penalty_params, presence_rows),
    T4J_FIELD(t4j_penalty_params, frequency_rows),
};
const t4j::StructRegistration kPenaltyLayout("t4j_penalty_params", sizeof(t4j_penalty_params), kPenaltyFields,
                                             sizeof(kPenaltyFields) / sizeof(kPenaltyFields[0]));

const t4j::FieldLayout kSoftcapFields[] = {
    T4J_FIELD(t4j_softcap_params, x),   T4J_FIELD(t4j_softcap_params, n),
    T4J_FIELD(t4j_softcap_params, cap), T4J_FIELD(t4j_softcap_params, dtype),
};
const t4j::StructRegistration kSoftcapLayout("t4j_softcap_params", sizeof(t4j_softcap_params), kSoftcapFields,
                                             sizeof(kSoftcapFields) / sizeof(kSoftcapFields[0]));

const t4j::FieldLayout kMaskFields[] = {
    T4J_FIELD(t4j_mask_params, logits),             T4J_FIELD(t4j_mask_params, allowed),
    T4J_FIELD(t4j_mask_params, rows),               T4J_FIELD(t4j_mask_params, cols),
    T4J_FIELD(t4j_mask_params, logits_row_stride),  T4J_FIELD(t4j_mask_params, allowed_row_stride),
    T4J_FIELD(t4j_mask_params, dtype),              T4J_FIELD(t4j_mask_params, reserved),
};
const t4j::StructRegistration kMaskLayout("t4j_mask_params", sizeof(t4j_mask_params), kMaskFields,
                                          sizeof(kMaskFields) / sizeof(kMaskFields[0]));

constexpr uint32_t kMaskThreads = 256;           // mask.cuh's t4j::kMaskThreads

constexpr uint32_t kSoftcapThreads = 256;        // softcap.cuh's t4j::kSoftcapThreads
constexpr uint32_t kPenaltyThreads = 256;        // penalty.cuh's t4j::kPenaltyThreads
constexpr int64_t kElementwiseMaxBlocks = 65535 * 8;  // softcap, penalty and mask: the grid-stride loop covers the rest

// ~8 elements per thread, 32..1024 threads: a 50k-vocabulary row gets a full block, which is
// what one decode step (a handful of rows) needs to use the GPU at all.
uint32_t threads_for(int64_t cols) {
    uint32_t t = 32;
    while (t < 1024 && static_cast<int64_t>(t) * 8 < cols) t <<= 1;
    return t;
}

int32_t launch_rows(const char* const names[3], int32_t dtype, int64_t rows, int64_t cols, void* params, void* stream) {
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(names[dtype], &f);
    if (s != T4J_SUCCESS) return s;
    void* args[] = {params};
    return t4j::launch(f, t4j::row_grid(rows), threads_for(cols), 0, stream, args);
}

}  // namespace

extern "C" T4J_API int32_t t4j_softmax(const t4j_softmax_params* p, void* stream) {
    if (p == nullptr || p->out == nullptr || p->x == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->reserved != 0 || !t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->kind != T4J_SOFTMAX && p->kind != T4J_LOG_SOFTMAX) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows < 0 || p->cols < 1 || p->x_row_stride < p->cols || p->out_row_stride < p->cols) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (!std::isfinite(p->scale)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_softmax_f32", "t4j_softmax_f16", "t4j_softmax_bf16"};
    return launch_rows(kNames, p->dtype, p->rows, p->cols, const_cast<t4j_softmax_params*>(p), stream);
}

extern "C" T4J_API int32_t t4j_cross_entropy(const t4j_cross_entropy_params* p, void* stream) {
    if (p == nullptr || p->losses == nullptr || p->logits == nullptr || p->targets == nullptr || p->error_row == nullptr) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (!t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows < 0 || p->cols < 1 || p->logits_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_cross_entropy_f32", "t4j_cross_entropy_f16", "t4j_cross_entropy_bf16"};
    return launch_rows(kNames, p->dtype, p->rows, p->cols, const_cast<t4j_cross_entropy_params*>(p), stream);
}

extern "C" T4J_API int32_t t4j_sample(const t4j_sample_params* p, void* stream) {
    if (p == nullptr || p->ids == nullptr || p->logits == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (!t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows < 0 || p->cols < 1 || p->cols > (int64_t{1} << 24) || p->logits_row_stride < p->cols) {
        return T4J_ERROR_INVALID_ARGUMENT;  // ids travel as exact floats in one reduction: V <= 2^24
    }
    if (p->reserved != 0) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->row_params == nullptr) {  // with row_params (ABI 13) the scalars are not read; the kernel guards each row
        if (!(p->temperature >= 0.0f) || !std::isfinite(p->temperature)) return T4J_ERROR_INVALID_ARGUMENT;
        if (!(p->top_p > 0.0f && p->top_p <= 1.0f) || p->top_k < 0) return T4J_ERROR_INVALID_ARGUMENT;
        if (!(p->min_p >= 0.0f && p->min_p <= 1.0f)) return T4J_ERROR_INVALID_ARGUMENT;
    } else if (reinterpret_cast<uintptr_t>(p->row_params) % alignof(t4j_sample_row) != 0) {
        return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (p->rows > 4294967295LL) return T4J_ERROR_UNSUPPORTED;  // the Philox counter holds the row in 32 bits
    if (p->rows == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_sample_f32", "t4j_sample_f16", "t4j_sample_bf16"};
    return launch_rows(kNames, p->dtype, p->rows, p->cols, const_cast<t4j_sample_params*>(p), stream);
}

extern "C" T4J_API int32_t t4j_penalty(const t4j_penalty_params* p, void* stream) {
    if (p == nullptr || p->logits == nullptr || !t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows < 0 || p->cols < 1 || p->logits_row_stride < p->cols || p->width < 0) return T4J_ERROR_INVALID_ARGUMENT;
    // a per-row array (ABI 13) replaces its scalar, which is then not read; device arrays are the caller's to check
    if (p->repetition_rows == nullptr && (!(p->repetition > 0.0f) || !std::isfinite(p->repetition))) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->presence_rows == nullptr && !std::isfinite(p->presence)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->frequency_rows == nullptr && !std::isfinite(p->frequency)) return T4J_ERROR_INVALID_ARGUMENT;
    const float* const rows_arrays[] = {p->repetition_rows, p->presence_rows, p->frequency_rows};
    for (const float* a : rows_arrays) {
        if (reinterpret_cast<uintptr_t>(a) % alignof(float) != 0) return T4J_ERROR_INVALID_ARGUMENT;
    }
    if (p->rows > 0 && p->width > INT64_MAX / p->rows) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows == 0 || p->width == 0) return T4J_SUCCESS;
    if (p->ids == nullptr || p->counts == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    static const char* const kNames[] = {"t4j_penalty_f32", "t4j_penalty_f16", "t4j_penalty_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    // A thread per (row, j); rows · width is small (a decode batch times its distinct previous ids).
    const int64_t blocks = (p->rows * p->width + kPenaltyThreads - 1) / kPenaltyThreads;
    void* args[] = {const_cast<t4j_penalty_params*>(p)};
    return t4j::launch(f, static_cast<uint32_t>(blocks < kElementwiseMaxBlocks ? blocks : kElementwiseMaxBlocks), kPenaltyThreads,
                       0, stream, args);
}

extern "C" T4J_API int32_t t4j_softcap(const t4j_softcap_params* p, void* stream) {
    if (p == nullptr || p->x == nullptr || !t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->n < 0 || !(p->cap > 0.0f) || !(p->cap < 3.0e38f)) return T4J_ERROR_INVALID_ARGUMENT;  // NaN, ≤ 0, infinite
    const uintptr_t element = p->dtype == T4J_DTYPE_F32 ? 4 : 2;
    if (reinterpret_cast<uintptr_t>(p->x) % element != 0) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->n == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_softcap_f32", "t4j_softcap_f16", "t4j_softcap_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    // A thread per 16-byte vector (softcap.cuh), + 1 for the elements before x's first 16-byte boundary.
    const int64_t vectors = p->n / static_cast<int64_t>(16 / element) + 1;
    const int64_t blocks = (vectors + kSoftcapThreads - 1) / kSoftcapThreads;
    void* args[] = {const_cast<t4j_softcap_params*>(p)};
    return t4j::launch(f, static_cast<uint32_t>(blocks < kElementwiseMaxBlocks ? blocks : kElementwiseMaxBlocks), kSoftcapThreads,
                       0, stream, args);
}

extern "C" T4J_API int32_t t4j_mask(const t4j_mask_params* p, void* stream) {
    if (p == nullptr || p->logits == nullptr || p->allowed == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->reserved != 0 || !t4j::is_float_dtype(p->dtype)) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows < 0 || p->cols < 1 || p->logits_row_stride < p->cols) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->allowed_row_stride < (p->cols + 31) / 32) return T4J_ERROR_INVALID_ARGUMENT;
    if (p->rows > (int64_t{1} << 62) / p->logits_row_stride) return T4J_ERROR_INVALID_ARGUMENT;   // rows · stride fits
    if (p->rows == 0) return T4J_SUCCESS;
    static const char* const kNames[] = {"t4j_mask_f32", "t4j_mask_f16", "t4j_mask_bf16"};
    t4j::CUfunction f = nullptr;
    int32_t s = t4j::get_kernel(kNames[p->dtype], &f);
    if (s != T4J_SUCCESS) return s;
    const int64_t n = p->rows * p->cols;
    const int64_t blocks = (n + kMaskThreads - 1) / kMaskThreads;
    void* args[] = {const_cast<t4j_mask_params*>(p)};
    return t4j::launch(f, static_cast<uint32_t>(blocks < kElementwiseMaxBlocks ? blocks : kElementwiseMaxBlocks), kMaskThreads, 0, stream, args);
}
