// mlp_kernels.cu — the extern "C" entry points of the MLP family: the tensor-core GEMM per
// dtype × gated × B layout (activation, bias, residual and alignment are runtime flags), and the
// stand-alone epilogue per dtype.
#include "bias_act.cuh"
#include "gemm.cuh"

// 1 block per SM by bound: the 64 accumulators + fragments need ~128+ registers; ptxas decides.
#define T4J_GEMM_KERNEL(NAME, T, GATED, TRANS_B)                                                        \
    extern "C" __global__ void __launch_bounds__(t4j::gemm::kThreads) NAME(const t4j_gemm_params p,     \
                                                                           int32_t vec_a, int32_t vec_b) { \
        t4j::gemm::gemm_block<T, GATED, TRANS_B>(p, vec_a, vec_b);                                     \
    }

T4J_GEMM_KERNEL(t4j_gemm_f16_nn, __half, false, false)
T4J_GEMM_KERNEL(t4j_gemm_f16_nt, __half, false, true)
T4J_GEMM_KERNEL(t4j_gemm_f16_gated_nn, __half, true, false)
T4J_GEMM_KERNEL(t4j_gemm_f16_gated_nt, __half, true, true)
T4J_GEMM_KERNEL(t4j_gemm_bf16_nn, __nv_bfloat16, false, false)
T4J_GEMM_KERNEL(t4j_gemm_bf16_nt, __nv_bfloat16, false, true)
T4J_GEMM_KERNEL(t4j_gemm_bf16_gated_nn, __nv_bfloat16, true, false)
T4J_GEMM_KERNEL(t4j_gemm_bf16_gated_nt, __nv_bfloat16, true, true)

#define T4J_BIAS_ACT_KERNEL(NAME, T) \
    extern "C" __global__ void __launch_bounds__(1024) NAME(const t4j_bias_act_params p) { t4j::bias_act_rows<T>(p); }

T4J_BIAS_ACT_KERNEL(t4j_bias_act_f32, float)
T4J_BIAS_ACT_KERNEL(t4j_bias_act_f16, __half)
T4J_BIAS_ACT_KERNEL(t4j_bias_act_bf16, __nv_bfloat16)
