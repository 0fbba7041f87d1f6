// moe_kernels.cu — the extern "C" entry points of the mixture-of-experts family (moe.cuh): the router
// per logits dtype, the row gather per element width (and widened to F32 per source dtype), the combine per dtype.
#include "moe.cuh"

#define T4J_MOE_KERNELS(SUFFIX, T)                                                                      \
    extern "C" __global__ void __launch_bounds__(t4j::moe::kRouteThreads, 1)                              \
        t4j_moe_route_##SUFFIX(const t4j_moe_route_params p) {                                            \
        t4j::moe::route_tokens<T>(p);                                                                   \
    }                                                                                                   \
    extern "C" __global__ void __launch_bounds__(1024) t4j_moe_combine_##SUFFIX(const t4j_moe_combine_params p) { \
        t4j::moe::combine_rows<T>(p);                                                                   \
    }

T4J_MOE_KERNELS(f32, float)
T4J_MOE_KERNELS(f16, __half)
T4J_MOE_KERNELS(bf16, __nv_bfloat16)

extern "C" __global__ void __launch_bounds__(t4j::moe::kGatherThreads) t4j_gather_rows_b16(const t4j_gather_rows_params p) {
    t4j::moe::gather_rows<2>(p);
}
extern "C" __global__ void __launch_bounds__(t4j::moe::kGatherThreads) t4j_gather_rows_b32(const t4j_gather_rows_params p) {
    t4j::moe::gather_rows<4>(p);
}
extern "C" __global__ void __launch_bounds__(t4j::moe::kGatherThreads) t4j_gather_rows_f16_f32(const t4j_gather_rows_params p) {
    t4j::moe::gather_rows_widened<__half>(p);
}
extern "C" __global__ void __launch_bounds__(t4j::moe::kGatherThreads) t4j_gather_rows_bf16_f32(const t4j_gather_rows_params p) {
    t4j::moe::gather_rows_widened<__nv_bfloat16>(p);
}
