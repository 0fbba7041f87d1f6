// embedding_kernels.cu — the extern "C" entry points of the embedding family, one per dtype;
// position and token-type tables are runtime options.
#include "embedding.cuh"

#define T4J_EMBEDDING_KERNEL(NAME, T) \
    extern "C" __global__ void __launch_bounds__(1024) NAME(const t4j_embedding_params p) { t4j::embedding_rows<T>(p); }

T4J_EMBEDDING_KERNEL(t4j_embedding_f32, float)
T4J_EMBEDDING_KERNEL(t4j_embedding_f16, __half)
T4J_EMBEDDING_KERNEL(t4j_embedding_bf16, __nv_bfloat16)
