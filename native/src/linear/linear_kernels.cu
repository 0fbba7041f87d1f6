// linear_kernels.cu — the extern "C" entry points of the linear family (the MLP's GEMMs): the tensor-core GEMM per
// dtype × gated × B layout × tile size (activation, bias, residual and alignment are runtime
// flags), its grouped form (a mixture of experts' expert GEMMs, 64-row tiles), the fp32 grouped
// SIMT GEMM, and the stand-alone epilogue per dtype.
#include "bias_act.cuh"
#include "int4_gemv.cuh"
#include "linear.cuh"
#include "linear_f32.cuh"

// NAME_<tile>: Large = 128×128 tiles, 256 threads; Small = 64×64 tiles, 128 threads (linear.cuh).
#define T4J_LINEAR_KERNEL(NAME, T, CFG, GATED, TRANS_B)                                                    \
    extern "C" __global__ void __launch_bounds__(t4j::linear::CFG::THREADS, t4j::linear::CFG::MIN_BLOCKS) NAME( \
        const t4j_linear_params p, int32_t vec_a, int32_t vec_b, int32_t split) {                           \
        t4j::linear::linear_block<T, t4j::linear::CFG, GATED, TRANS_B>(p, vec_a, vec_b, split);                \
    }

#define T4J_LINEAR_KERNELS(DT, T)                                                     \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_nn_128, T, Large, false, false)                 \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_nt_128, T, Large, false, true)                  \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_gated_nn_128, T, Large, true, false)            \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_gated_nt_128, T, Large, true, true)             \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_nn_64, T, Small, false, false)                  \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_nt_64, T, Small, false, true)                   \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_gated_nn_64, T, Small, true, false)             \
    T4J_LINEAR_KERNEL(t4j_linear_##DT##_gated_nt_64, T, Small, true, true)

T4J_LINEAR_KERNELS(f16, __half)
T4J_LINEAR_KERNELS(bf16, __nv_bfloat16)

// Grouped (t4j_linear_params.group_offsets): 64-row tiles only, since an expert's share of a batch's
// rows is mostly small (T·k / E) and the small tiles waste least past a group's last row.
#define T4J_LINEAR_GROUPED_KERNEL(NAME, T, GATED, TRANS_B)                                                  \
    extern "C" __global__ void __launch_bounds__(t4j::linear::Small::THREADS, t4j::linear::Small::MIN_BLOCKS) NAME( \
        const t4j_linear_params p, int32_t vec_a, int32_t vec_b, int32_t split) {                           \
        t4j::linear::linear_block<T, t4j::linear::Small, GATED, TRANS_B, true>(p, vec_a, vec_b, split);         \
    }

#define T4J_LINEAR_GROUPED_KERNELS(DT, T)                                        \
    T4J_LINEAR_GROUPED_KERNEL(t4j_linear_##DT##_grouped_nn_64, T, false, false)    \
    T4J_LINEAR_GROUPED_KERNEL(t4j_linear_##DT##_grouped_nt_64, T, false, true)     \
    T4J_LINEAR_GROUPED_KERNEL(t4j_linear_##DT##_grouped_gated_nn_64, T, true, false) \
    T4J_LINEAR_GROUPED_KERNEL(t4j_linear_##DT##_grouped_gated_nt_64, T, true, true)

T4J_LINEAR_GROUPED_KERNELS(f16, __half)
T4J_LINEAR_GROUPED_KERNELS(bf16, __nv_bfloat16)

// Grouped with MXFP4 weights (ABI 13, b_format): BF16 activations, (N, K) weights only, as gpt-oss's experts are
// stored; two instances (up with its gate, and down) to keep the fatbin small.
#define T4J_LINEAR_MXFP4_KERNEL(NAME, GATED)                                                                \
    extern "C" __global__ void __launch_bounds__(t4j::linear::Small::THREADS, t4j::linear::Small::MIN_BLOCKS) NAME( \
        const t4j_linear_params p, int32_t vec_a, int32_t vec_b, int32_t split) {                           \
        t4j::linear::linear_block<__nv_bfloat16, t4j::linear::Small, GATED, true, true, true>(p, vec_a, vec_b, split); \
    }

T4J_LINEAR_MXFP4_KERNEL(t4j_linear_bf16_grouped_mxfp4_nt_64, false)
T4J_LINEAR_MXFP4_KERNEL(t4j_linear_bf16_grouped_mxfp4_gated_nt_64, true)

// INT4 weights (ABI 21, b_format): AWQ's and GPTQ's 4-bit projections, (N, K) as GPTQ packs them, F16 or BF16
// activations; 64-row tiles with split-K, which decode (M of a few rows) needs to fill the GPU with N / 64 tiles.
#define T4J_LINEAR_INT4_KERNEL(NAME, T, GATED)                                                                \
    extern "C" __global__ void __launch_bounds__(t4j::linear::Small::THREADS, t4j::linear::Small::MIN_BLOCKS) NAME( \
        const t4j_linear_params p, int32_t vec_a, int32_t vec_b, int32_t split) {                           \
        t4j::linear::linear_block<T, t4j::linear::Small, GATED, true, false, false, true>(p, vec_a, vec_b, split); \
    }

T4J_LINEAR_INT4_KERNEL(t4j_linear_f16_int4_nt_64, __half, false)
T4J_LINEAR_INT4_KERNEL(t4j_linear_f16_int4_gated_nt_64, __half, true)
T4J_LINEAR_INT4_KERNEL(t4j_linear_bf16_int4_nt_64, __nv_bfloat16, false)
T4J_LINEAR_INT4_KERNEL(t4j_linear_bf16_int4_gated_nt_64, __nv_bfloat16, true)

// INT4 for a decode step's few rows (M ≤ kGemvMaxRows): the SIMT GEMV that streams the code words (int4_gemv.cuh).
#define T4J_LINEAR_INT4_GEMV_KERNEL(NAME, T, GATED)                                                        \
    extern "C" __global__ void __launch_bounds__(t4j::linear::kGemvThreads) NAME(const t4j_linear_params p) { \
        t4j::linear::int4_gemv_block<T, GATED>(p);                                                        \
    }

T4J_LINEAR_INT4_GEMV_KERNEL(t4j_linear_f16_int4_gemv, __half, false)
T4J_LINEAR_INT4_GEMV_KERNEL(t4j_linear_f16_int4_gated_gemv, __half, true)
T4J_LINEAR_INT4_GEMV_KERNEL(t4j_linear_bf16_int4_gemv, __nv_bfloat16, false)
T4J_LINEAR_INT4_GEMV_KERNEL(t4j_linear_bf16_int4_gated_gemv, __nv_bfloat16, true)

#define T4J_LINEAR_F32_GROUPED_KERNEL(NAME, GATED, TRANS_B)                                               \
    extern "C" __global__ void __launch_bounds__(t4j::linear::kF32Threads) NAME(const t4j_linear_params p) { \
        t4j::linear::linear_f32_grouped_block<GATED, TRANS_B>(p);                                          \
    }

T4J_LINEAR_F32_GROUPED_KERNEL(t4j_linear_f32_grouped_nn, false, false)
T4J_LINEAR_F32_GROUPED_KERNEL(t4j_linear_f32_grouped_nt, false, true)
T4J_LINEAR_F32_GROUPED_KERNEL(t4j_linear_f32_grouped_gated_nn, true, false)
T4J_LINEAR_F32_GROUPED_KERNEL(t4j_linear_f32_grouped_gated_nt, true, true)

#define T4J_BIAS_ACT_KERNEL(NAME, T) \
    extern "C" __global__ void __launch_bounds__(1024) NAME(const t4j_bias_act_params p) { t4j::bias_act_rows<T>(p); }

T4J_BIAS_ACT_KERNEL(t4j_bias_act_f32, float)
T4J_BIAS_ACT_KERNEL(t4j_bias_act_f16, __half)
T4J_BIAS_ACT_KERNEL(t4j_bias_act_bf16, __nv_bfloat16)
