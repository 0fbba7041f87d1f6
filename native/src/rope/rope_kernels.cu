// rope_kernels.cu — the extern "C" entry points of the rope family, one per dtype; the frequency
// source (table or dynamic NTK) is a runtime flag.
#include "rope.cuh"

#define T4J_ROPE_KERNEL(NAME, T) \
    extern "C" __global__ void __launch_bounds__(t4j::kRopeThreads) NAME(const t4j_rope_params p) { t4j::rope_tokens<T>(p); }

T4J_ROPE_KERNEL(t4j_rope_f32, float)
T4J_ROPE_KERNEL(t4j_rope_f16, __half)
T4J_ROPE_KERNEL(t4j_rope_bf16, __nv_bfloat16)
