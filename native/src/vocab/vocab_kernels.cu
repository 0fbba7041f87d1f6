// vocab_kernels.cu — the extern "C" entry points of the vocabulary family (softmax / log-softmax,
// cross-entropy, sampling), one per dtype; kinds, ignore index and sampling options are runtime.
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
