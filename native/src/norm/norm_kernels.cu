// norm_kernels.cu — the extern "C" entry points of the norm family, one per storage dtype.
// Kind (LayerNorm/RMSNorm), residual and bias are runtime flags in t4j_norm_params.
#include "norm.cuh"

#define T4J_NORM_KERNEL(NAME, T)                                                             \
    extern "C" __global__ void __launch_bounds__(1024) NAME(const t4j_norm_params p, int32_t use_cache) { \
        t4j::norm_rows<T>(p, use_cache);                                                     \
    }

T4J_NORM_KERNEL(t4j_norm_f32, float)
T4J_NORM_KERNEL(t4j_norm_f16, __half)
T4J_NORM_KERNEL(t4j_norm_bf16, __nv_bfloat16)
