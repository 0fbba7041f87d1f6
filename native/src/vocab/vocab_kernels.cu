// vocab_kernels.cu — the extern "C" entry points of the vocabulary family (softmax / log-softmax,
// cross-entropy, sampling, final logit soft-capping, sampling penalties, the structured-output token mask), one per
// dtype; kinds, ignore index, sampling options and penalties are runtime.
#include "mask.cuh"
#include "penalty.cuh"
#include "softcap.cuh"
#include "vocab.cuh"

#define T4J_VOCAB_KERNELS(SUFFIX, T)                                                                   \
    extern "C" __global__ void __launch_bounds__(1024) t4j_softmax_##SUFFIX(const t4j_softmax_params p) { \
        t4j::vocab::softmax_rows<T>(p);                                                                \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(1024)                                                 \
        t4j_cross_entropy_##SUFFIX(const t4j_cross_entropy_params p) {                                 \
        t4j::vocab::cross_entropy_rows<T>(p);                                                          \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(1024) t4j_sample_##SUFFIX(const t4j_sample_params p) {   \
        t4j::vocab::sample_rows<T>(p);                                                                 \
    }

T4J_VOCAB_KERNELS(f32, float)
T4J_VOCAB_KERNELS(f16, __half)
T4J_VOCAB_KERNELS(bf16, __nv_bfloat16)

// Gemma 2's final_logit_softcapping, in place (softcap.cuh).
#define T4J_SOFTCAP_KERNEL(SUFFIX, T)                                                          \
    extern "C" __global__ void __launch_bounds__(t4j::kSoftcapThreads)                         \
        t4j_softcap_##SUFFIX(const t4j_softcap_params p) {                                     \
        t4j::softcap_elements<T>(p);                                                           \
    }

T4J_SOFTCAP_KERNEL(f32, float)
T4J_SOFTCAP_KERNEL(f16, __half)
T4J_SOFTCAP_KERNEL(bf16, __nv_bfloat16)

// Repetition / presence / frequency penalties and logit bias, in place (penalty.cuh).
#define T4J_PENALTY_KERNEL(SUFFIX, T)                                                          \
    extern "C" __global__ void __launch_bounds__(t4j::kPenaltyThreads)                         \
        t4j_penalty_##SUFFIX(const t4j_penalty_params p) {                                     \
        t4j::penalty_elements<T>(p);                                                           \
    }

T4J_PENALTY_KERNEL(f32, float)
T4J_PENALTY_KERNEL(f16, __half)
T4J_PENALTY_KERNEL(bf16, __nv_bfloat16)

// Structured outputs' token mask, in place (mask.cuh).
#define T4J_MASK_KERNEL(SUFFIX, T)                                                             \
    extern "C" __global__ void __launch_bounds__(t4j::kMaskThreads) t4j_mask_##SUFFIX(const t4j_mask_params p) { \
        t4j::mask_logits<T>(p);                                                                \
    }

T4J_MASK_KERNEL(f32, float)
T4J_MASK_KERNEL(f16, __half)
T4J_MASK_KERNEL(bf16, __nv_bfloat16)
