/* t4j.h — the C ABI of transformer4j's native library (libt4j.so).
 *
 * This header is the contract between the CUDA kernels and the Java bindings
 * (bindings/src/main/java/org/transformer4j/bindings). Rules:
 *   - one params struct per op family; fixed-width types only; device pointers as void*;
 *     strides in elements as int64_t;
 *   - every entry point returns an int32_t status (T4J_SUCCESS or an error) and never exits;
 *   - a CUDA driver error is returned as T4J_STATUS_CUDA_BASE + CUresult, so the caller can
 *     name it (t4j_status_string resolves both kinds);
 *   - the library opens libcuda.so.1 at run time: it loads, and reports struct layouts,
 *     on a machine without a CUDA driver.
 * Kernels run in the calling thread's current context, which is the device's primary context
 * in transformer4j (so cuBLAS, JCuda users and our launches share streams and graphs).
 * Shape letters: B batch, T sequence (Tq queries, Tk keys), C model width, NH heads, NKV key/value
 * heads, HS head size, F MLP width, V vocabulary; rows = B*T where an op flattens batch and sequence.
 */
#ifndef T4J_H
#define T4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define T4J_API __declspec(dllexport)
#else
#define T4J_API __attribute__((visibility("default")))
#endif

/* Bumped whenever a struct layout or a function signature changes. The Java side refuses a
 * library whose version differs from the one its bindings were written for. A rule relaxed within
 * a layout keeps the version: 18 also took t4j_moe_route's correction_bias with softmax scoring
 * (ERNIE 4.5), which it first refused; 19 added the activation code T4J_ACT_RELU2; 20 renamed
 * t4j_gather_rows_params.reserved to widen and took rows NULL (identity); 21 added t4j_linear_params' b_zero,
 * b_gate_zero, b_gidx, b_gate_gidx, b_group_size and b_groups for b_format T4J_WEIGHTS_INT4. */
#define T4J_ABI_VERSION 21

/* ---- status codes ------------------------------------------------------------------------- */
#define T4J_SUCCESS                  0
#define T4J_ERROR_INVALID_ARGUMENT   1  /* a null pointer, a bad size or stride, an unknown enum */
#define T4J_ERROR_UNSUPPORTED        2  /* valid, but no kernel variant covers it */
#define T4J_ERROR_NO_DRIVER          3  /* libcuda.so.1 could not be opened */
#define T4J_ERROR_DRIVER_TOO_OLD     4  /* the driver is older than the CUDA version the kernels need */
#define T4J_ERROR_NO_KERNELS         5  /* this build has no fatbin (nvcc was missing) or none was loaded */
#define T4J_ERROR_NO_CONTEXT         6  /* no CUDA context is current on the calling thread */
#define T4J_ERROR_KERNEL_NOT_FOUND   7  /* the fatbin lacks a kernel the launcher asked for */
#define T4J_ERROR_OUT_OF_MEMORY      8  /* host memory */
#define T4J_STATUS_CUDA_BASE     10000  /* + CUresult of the failing driver call */

/* ---- dtypes -------------------------------------------------------------------------------- */
#define T4J_DTYPE_F32   0
#define T4J_DTYPE_F16   1
#define T4J_DTYPE_BF16  2
#define T4J_DTYPE_I32   3
#define T4J_DTYPE_I64   4
#define T4J_DTYPE_U8    5   /* ABI 11: bytes (MXFP4 blocks and E8M0 scales) */

/* ---- library information ------------------------------------------------------------------- */
typedef struct t4j_build_info {
    int32_t abi_version;        /* T4J_ABI_VERSION of the library */
    int32_t has_kernels;        /* 1 when nvcc compiled t4j.fatbin for this build */
    int32_t cuda_version;       /* CUDA toolkit the kernels were built with, e.g. 13000; 0 if none */
    int32_t min_driver_version; /* cuDriverGetVersion() the kernels need, e.g. 13000 (driver 580) */
    char archs[128];            /* e.g. "sm_80 sm_86 sm_89 sm_90a compute_90"; "" if none */
    char nvcc_version[128];     /* e.g. "13.0.88"; "" if none */
    char compiler[128];         /* host compiler of libt4j.so */
} t4j_build_info;

T4J_API int32_t t4j_abi_version(void);
T4J_API int32_t t4j_build_info_get(t4j_build_info* out);
/* A static, NUL-terminated English description of a status (never NULL). */
T4J_API const char* t4j_status_string(int32_t status);

/* Struct layouts, for the binding test: sizeof(struct), offsetof(struct, field), the
 * comma-separated field names in declaration order, and the comma-separated names of every
 * struct of this header. -1 / NULL for unknown names. */
T4J_API int64_t t4j_struct_size(const char* struct_name);
T4J_API int64_t t4j_struct_offset(const char* struct_name, const char* field_name);
T4J_API const char* t4j_struct_fields(const char* struct_name);
T4J_API const char* t4j_struct_list(void);

/* ---- driver and module --------------------------------------------------------------------- */
/* Opens libcuda.so.1 and calls cuInit(0) once. *driver_version receives cuDriverGetVersion()
 * (0 when there is no driver). T4J_ERROR_DRIVER_TOO_OLD when it is below
 * t4j_build_info.min_driver_version. Safe to call repeatedly and from several threads. */
T4J_API int32_t t4j_driver_init(int32_t* driver_version);

/* Hands the library the fatbin image (t4j.fatbin). The bytes are copied; modules are loaded
 * lazily, once per context, on the first launch in that context. Replaces an earlier image only
 * if none has been loaded into a context yet. */
T4J_API int32_t t4j_set_fatbin(const void* image, uint64_t size);

/* ---- normalisation ------------------------------------------------------------------------- */
#define T4J_NORM_LAYER  0   /* (h - mean) / sqrt(var + eps) * weight + bias */
#define T4J_NORM_RMS    1   /* h / sqrt(mean(h^2) + eps) * weight (+ bias if given) */

/* One row per token. h = x + residual (when residual is given, else h = x), rounded to dtype:
 * it is the residual stream's next value and is written to residual_out when that is given.
 * The statistics and the output use fp32 math on the rounded h. All tensors share dtype. */
typedef struct t4j_norm_params {
    void* out;                        /* (rows, cols) normalised output */
    void* residual_out;               /* (rows, cols) h, or NULL */
    const void* x;                    /* (rows, cols) */
    const void* residual;             /* (rows, cols), or NULL */
    const void* weight;               /* (cols) gamma */
    const void* bias;                 /* (cols) beta, or NULL */
    int64_t rows;
    int64_t cols;
    int64_t x_row_stride;             /* elements between consecutive rows; columns are contiguous */
    int64_t residual_row_stride;
    int64_t out_row_stride;
    int64_t residual_out_row_stride;
    float eps;
    int32_t kind;                     /* T4J_NORM_LAYER or T4J_NORM_RMS */
    int32_t dtype;                    /* T4J_DTYPE_F32, _F16 or _BF16 */
    int32_t reserved;                 /* 0 */
} t4j_norm_params;

/* Launches the normalisation on `stream` (a CUstream; NULL is the legacy default stream). */
T4J_API int32_t t4j_norm(const t4j_norm_params* p, void* stream);

/* ---- linear: GEMM with fused epilogue (the MLP family) ---------------------------------------- */
#define T4J_ACT_NONE       0
#define T4J_ACT_GELU       1  /* exact: 0.5 x (1 + erf(x / sqrt 2)) (BERT, GPT-2's HF "gelu" is tanh) */
#define T4J_ACT_GELU_TANH  2  /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2, T5 v1.1 gated-gelu) */
#define T4J_ACT_RELU       3
#define T4J_ACT_SILU       4  /* x / (1 + exp(-x)) */
#define T4J_ACT_SWIGLU_OAI 5  /* ABI 11, gated ops only (t4j_linear with gated = 1, t4j_bias_act with a gate; the launchers
                                 return T4J_ERROR_INVALID_ARGUMENT without one): with a = y the activated product and g the
                                 gate's, a' = min(a, 7), out = a'·sigmoid(1.702·a')·(clamp(g, -7, 7) + 1) (GPT-OSS's
                                 experts: transformers' swiglu_alpha 1.702 (the float), swiglu_limit 7); NaN stays NaN */
#define T4J_ACT_CLAMP      6  /* ABI 16, plain (non-gated) ops only: out = clamp(y, -act_limit, act_limit), NaN stays NaN
                                 (the clip_qkv of OLMo, MPT: the q, k, v projections clamped in their own epilogue);
                                 act_limit finite and > 0 (the launchers return T4J_ERROR_INVALID_ARGUMENT otherwise) */
#define T4J_ACT_RELU2      7  /* ABI 19, an added code: max(x, 0)^2 in fp32 (one product, one rounding on store), NaN stays
                                 NaN (transformers' "relu2", ReLUSquaredActivation: NVIDIA Nemotron's plain MLP) */

/* Per batch item, with y = alpha * A·op(B) + bias (fp32 accumulate) and, when gated,
 * g = alpha * A·op(B_gate) + bias_gate from the same pass over A:
 *     C = act(y) [* g] [+ residual], rounded once to dtype on store
 * (T4J_ACT_SWIGLU_OAI, gated only: C = act(y) * (clamp(g, -7, 7) + 1) [+ residual], see its #define;
 * T4J_ACT_CLAMP, not gated: act(y) = clamp(y, -act_limit, act_limit)).
 * A is (M, K) row-major; B is (K, N) row-major, or (N, K) when trans_b (Hugging Face nn.Linear
 * weights); C and residual are (M, N). residual may alias C exactly (same pointer and ldc); A and
 * B must not overlap C. Custom kernel: F16 and BF16 (mma.sync m16n8k16, sm_80+), any M, N, K
 * (16-byte vector loads where rows and pointers are 8-element aligned, element loads otherwise);
 * F32 is T4J_ERROR_UNSUPPORTED (the Java side uses cuBLAS + t4j_bias_act for it). */
typedef struct t4j_linear_params {
    void* c;                    /* (batch, M, N) output */
    const void* a;              /* (batch, M, K) */
    const void* b;              /* (batch, K, N) or (batch, N, K) when trans_b; W0 when gated; MXFP4 codes with b_format (ABI 13) */
    const void* b_gate;         /* like b, the gate's W1; NULL unless gated */
    const void* bias;           /* (N), or NULL */
    const void* bias_gate;      /* (N), or NULL; only when gated */
    const void* residual;       /* (batch, M, N), or NULL */
    int64_t m;
    int64_t n;
    int64_t k;
    int64_t batch;              /* >= 1 */
    int64_t lda;                /* elements between rows of A (>= K) */
    int64_t ldb;                /* elements between rows of B and of b_gate (>= N, or >= K when trans_b; INT4: words
                                   between the code rows and elements between the scales' and zero points' rows, >= N) */
    int64_t ldc;                /* >= N */
    int64_t ld_residual;        /* >= N */
    int64_t stride_a;           /* elements between batch items; 0 broadcasts */
    int64_t stride_b;           /* for b and b_gate; 0 shares the weights across the batch */
    int64_t stride_c;
    int64_t stride_residual;
    void* workspace;            /* device scratch for split-K, or NULL; its counters are zeroed in-stream by every launch */
    uint64_t workspace_bytes;   /* its size; split-K is used only when t4j_linear_workspace_size fits */
    float alpha;
    int32_t activation;         /* T4J_ACT_* */
    int32_t gated;              /* 0 or 1 */
    int32_t trans_b;            /* 0 or 1 */
    int32_t dtype;              /* T4J_DTYPE_F16 or _BF16; T4J_DTYPE_F32 only with group_offsets */
    float act_limit;            /* ABI 16 (was reserved, 0): T4J_ACT_CLAMP's limit, finite and > 0; 0 for every other
                                   activation */
    const int32_t* group_offsets; /* ABI 9: NULL, or (batch + 1) device I32 read when the kernel runs: the
                                     grouped GEMM of a mixture of experts. Item g's rows of A and C are rows
                                     offsets[g] .. offsets[g+1]-1 of a and c (stride_a, stride_c are then
                                     ignored: rows are indexed from a and c directly), its weights b (and
                                     b_gate) + g·stride_b; m is the rows' capacity (0 ≤ offsets[g] ≤
                                     offsets[g+1] ≤ offsets[batch] ≤ m, offsets[0] = 0). No split-K.
                                     A residual (ABI 15; dense weights only, not T4J_WEIGHTS_MXFP4) is read at
                                     the same rows, residual + r·ld_residual for row r (stride_residual ignored),
                                     and must be c itself (same pointer, ld_residual == ldc: LoRA's expand,
                                     out += x·B[g]ᵀ) or not overlap c's m rows; rows past offsets[batch] are
                                     neither read nor written.
                                     F32 runs a SIMT kernel (the checking path), F16/BF16 the tensor-core one. */
    int64_t stride_bias;          /* ABI 11: with group_offsets, elements between group g's bias (and bias_gate) rows:
                                     group g adds bias + g·stride_bias (GPT-OSS's per-expert biases, (batch, N) dense:
                                     stride_bias = N); 0 shares one (N) row. ≥ 0; must be 0 without group_offsets. */
    /* ABI 13, b_format T4J_WEIGHTS_MXFP4 (gpt-oss's experts as published: the OCP microscaling FP4 format, decoded to
       BF16 in the kernel, never stored dense). Grouped (group_offsets), BF16 (dtype), trans_b = 1 only: each W[g] is
       (N, K) with K % 32 == 0; element (g, n, k) is at value index v = g·stride_b + n·ldb + k (ldb, stride_b in values,
       multiples of 32): its FP4 (e2m1) code is the low nibble of byte v / 2 of b when v is even, the high nibble when
       odd (codes 0..15 = ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}, sign in bit 3), its scale 2^(byte − 127) is byte v / 32 of
       b_scale (E8M0; 255 is 2^128, as transformers' torch.ldexp takes it, not NaN). Every value is exact in BF16: the
       smallest, 0.5·2^−127, is a BF16 subnormal, and a value overflows to ±inf exactly where code·2^(s−127) exceeds
       the fp32 range. b (and b_gate) 8-byte aligned; b_gate_scale like b_scale, set exactly when gated. */
    const void* b_scale;          /* ABI 13: U8 E8M0 scales of b with T4J_WEIGHTS_MXFP4; ABI 21: F16 scales with
                                     T4J_WEIGHTS_INT4; else NULL */
    const void* b_gate_scale;     /* ABI 13: the gate's, gated MXFP4 / INT4 only, else NULL */
    int32_t b_format;             /* ABI 13: T4J_WEIGHTS_DENSE (0: b is dtype), T4J_WEIGHTS_MXFP4 or (ABI 21)
                                     T4J_WEIGHTS_INT4 */
    int32_t reserved2;            /* 0 */
    /* ABI 21, b_format T4J_WEIGHTS_INT4: group-wise affine 4-bit weights as GPTQ packs them (AWQ's and GPTQ's 4-bit
       checkpoints, repacked to this layout where AWQ's differs), decoded to dtype in the kernel, never stored dense.
       Not grouped (group_offsets NULL); F16 or BF16 (dtype); trans_b = 1: op(B) = Wᵀ with W (N, K); K % 8 == 0; the
       weights shared by every batch item (stride_b 0). Element (n, k) of W: its code q (0..15) is bits 4·(k % 8) ..
       4·(k % 8) + 3 of the 32-bit word (k / 8)·ldb + n of b (I32, (K/8, ldb): ldb ≥ N words between the code rows);
       its group i is k / b_group_size (b_gidx NULL; b_group_size > 0 and a multiple of 8) or b_gidx[k] (GPTQ's
       act-order g_idx; b_group_size 0; the gate's own b_gate_gidx), clamped into [0, b_groups); its scale s the F16 at i·ldb + n of b_scale, its
       zero point z the U8 at i·ldb + n of b_zero (the effective zero: GPTQ v1 checkpoints store z − 1). Its value is
       (q − z)·s rounded once to F16 (as AutoAWQ's and AutoGPTQ's dequantization compute it in half precision), then
       to dtype (BF16: one more rounding). b and b_gate 4-byte aligned, b_scale and b_gate_scale 2-byte; the gate's
       codes, scales, zero points and g_idx (b_gate, b_gate_scale, b_gate_zero, b_gate_gidx) share ldb and the groups. */
    const void* b_zero;           /* ABI 21: U8 zero points of b with T4J_WEIGHTS_INT4, else NULL */
    const void* b_gate_zero;      /* ABI 21: the gate's, gated INT4 only, else NULL */
    const int32_t* b_gidx;        /* ABI 21: (K) device I32 group of each k with T4J_WEIGHTS_INT4, or NULL */
    const int32_t* b_gate_gidx;   /* ABI 21: the gate's (act-order permutes each matrix's k its own way), set exactly
                                     when gated and b_gidx is, else NULL */
    int32_t b_group_size;         /* ABI 21: k's per group with T4J_WEIGHTS_INT4 and no b_gidx, else 0 */
    int32_t b_groups;             /* ABI 21: rows of b_scale and b_zero with T4J_WEIGHTS_INT4 (≥ 1), else 0 */
} t4j_linear_params;

/* t4j_linear_params.b_format (ABI 13) */
#define T4J_WEIGHTS_DENSE 0
#define T4J_WEIGHTS_MXFP4 1
#define T4J_WEIGHTS_INT4 2 /* ABI 21 */

T4J_API int32_t t4j_linear(const t4j_linear_params* p, void* stream);

/* The workspace t4j_linear would use for p on the current context's device (0: it will not split K).
 * Where the output tiles do not fill the GPU, K is split over several blocks per tile; they leave
 * fp32 partial products in the workspace and the last one to finish (counted in the workspace's
 * first bytes, which each launch zeroes in-stream before it starts) sums them in a fixed order and applies the epilogue, so
 * results do not depend on timing. A workspace may be reused by launches on one stream. */
T4J_API int32_t t4j_linear_workspace_size(const t4j_linear_params* p, uint64_t* bytes);

/* The epilogue alone, for GEMMs done elsewhere (cuBLAS): out = act(x + bias) [* (gate + bias_gate)]
 * [+ residual] over (rows, cols), fp32 math, one rounding to dtype (T4J_ACT_SWIGLU_OAI needs the gate and
 * multiplies by clamp(gate + bias_gate, -7, 7) + 1 instead; T4J_ACT_CLAMP takes no gate and clamps to
 * ±act_limit, ABI 16). out may alias x, gate or
 * residual exactly (same pointer and stride). F32, F16, BF16. */
typedef struct t4j_bias_act_params {
    void* out;                  /* (rows, cols) */
    const void* x;              /* (rows, cols) pre-activation */
    const void* gate;           /* (rows, cols), or NULL */
    const void* bias;           /* (cols), or NULL */
    const void* bias_gate;      /* (cols), or NULL */
    const void* residual;       /* (rows, cols), or NULL */
    int64_t rows;
    int64_t cols;
    int64_t out_row_stride;
    int64_t x_row_stride;
    int64_t gate_row_stride;
    int64_t residual_row_stride;
    int32_t activation;         /* T4J_ACT_* */
    int32_t dtype;
    float act_limit;            /* ABI 16: T4J_ACT_CLAMP's limit, finite and > 0; 0 for every other activation */
    int32_t reserved;           /* ABI 16: 0 */
} t4j_bias_act_params;

T4J_API int32_t t4j_bias_act(const t4j_bias_act_params* p, void* stream);

/* ---- embedding gather ---------------------------------------------------------------------- */
/* out[r] = token_table[ids[r]] (+ position_table[pos(r)]) (+ type_table[type_ids[r]]), summed in
 * fp32, rounded once; pos(r) = positions[r] when positions is given (device-resident positions, so
 * that a captured CUDA graph reads each replay's positions), else position_offset + r % seq_len.
 * Ids and positions outside their table are clamped so that nothing is read out of bounds, and
 * when error_row is given the first such row is recorded with atomicMin as r + 1: error_row[0]
 * for token ids, [1] for type ids, [2] for positions. The caller sets all three to INT32_MAX
 * before the launch and reads them after; with error_row NULL (graph capture: the caller checked
 * the ids on the host) nothing is recorded. Ids are int32. Without positions the launcher checks
 * that position_offset + seq_len <= max_positions. */
typedef struct t4j_embedding_params {
    void* out;                  /* (rows, C) */
    const int32_t* ids;         /* (rows) token ids */
    const void* token_table;    /* (vocab, C) */
    const void* position_table; /* (max_positions, C), or NULL */
    const int32_t* type_ids;    /* (rows), or NULL */
    const void* type_table;     /* (type_vocab, C), or NULL when type_ids is NULL */
    int32_t* error_row;         /* (3) device int32: min over bad rows of (row + 1), or NULL */
    const int32_t* positions;   /* (rows) position of each row, or NULL: position_offset + r % seq_len */
    int64_t rows;               /* B * T */
    int64_t cols;               /* C */
    int64_t seq_len;            /* T: position of row r is position_offset + r % T */
    int64_t position_offset;    /* first position (decode steps continue from the cache length) */
    int64_t vocab;
    int64_t max_positions;
    int64_t type_vocab;
    int64_t out_row_stride;
    int32_t dtype;
    float token_scale;          /* multiplies the token row before the sum (Gemma's sqrt(C) normalizer, given
                                   rounded to the dtype); 0 is read as 1 */
} t4j_embedding_params;

T4J_API int32_t t4j_embedding(const t4j_embedding_params* p, void* stream);

/* ---- over the vocabulary: softmax, log-softmax, cross-entropy, sampling ------------------------ */
#define T4J_SOFTMAX      0
#define T4J_LOG_SOFTMAX  1

/* out = softmax(scale * x) or log_softmax(scale * x) per row; fp32 math. out may alias x. */
typedef struct t4j_softmax_params {
    void* out;                  /* (rows, V) */
    const void* x;              /* (rows, V) */
    int64_t rows;
    int64_t cols;
    int64_t x_row_stride;
    int64_t out_row_stride;
    float scale;
    int32_t kind;               /* T4J_SOFTMAX or T4J_LOG_SOFTMAX */
    int32_t dtype;
    int32_t reserved;
} t4j_softmax_params;

T4J_API int32_t t4j_softmax(const t4j_softmax_params* p, void* stream);

/* losses[r] = logsumexp(logits[r]) - logits[r][targets[r]] in fp32, 0 where targets[r] ==
 * ignore_index; no [rows, V] buffer is written. A target outside [0, V) that is not ignore_index
 * gives loss NaN and *error_row = min(row + 1). */
typedef struct t4j_cross_entropy_params {
    float* losses;              /* (rows) fp32 */
    const void* logits;         /* (rows, V) */
    const int32_t* targets;     /* (rows) */
    int32_t* error_row;         /* (1) device int32, INT32_MAX before the launch: min over bad rows of (row + 1) */
    int64_t rows;
    int64_t cols;
    int64_t logits_row_stride;
    int32_t ignore_index;
    int32_t dtype;
} t4j_cross_entropy_params;

T4J_API int32_t t4j_cross_entropy(const t4j_cross_entropy_params* p, void* stream);

/* One token per row. temperature == 0: argmax (smallest id among equal maxima). Otherwise from
 * softmax(logits / temperature) restricted to: ids whose logit >= the top_k-th largest (top_k 0:
 * all; ties at the boundary are kept), then the highest-probability ids whose mass reaches top_p
 * of what is left (every id with probability >= the boundary id's is kept; 1: all). The uniform
 * number of row r is u = (x0 >> 8) * 2^-24, x0 the first word of Philox4x32-10 with key
 * (seed_lo, seed_hi) and counter (r, offset_lo, offset_hi, 0); the chosen id is the first whose
 * inclusive running mass (in id order, over kept ids) exceeds u times the kept mass (the last kept
 * id if rounding leaves none). logprobs[r] = log_softmax(logits[r])[id] at temperature 1,
 * the model's own log-probability. Every sum has a fixed order, so a launch repeats exactly.
 * min_p (ABI 12; transformers' MinPLogitsWarper, applied after top_p as generate orders its warpers):
 * of the ids top_k and top_p kept, only those with exp((logit − max) / temperature) >= min_p stay,
 * i.e. probability >= min_p times the largest probability (0: off; the largest always stays).
 * A row that holds a NaN or +inf, or no finite logit at all, is non-finite: nonfinite[r] = 1 (else
 * 0), its id is the smallest id among its largest non-NaN logits (0 if every logit is NaN), so that
 * ids never leave [0, V), and its logprob is NaN.
 *
 * Per-row parameters (ABI 13): with row_params != NULL, row r is sampled with row_params[r]'s seed,
 * offset, temperature, top_p, top_k and min_p, and the scalar fields of the same names are not read.
 * Its Philox counter is then (0, offset_lo, offset_hi, 0): counter word c0 is 0, not r, so a row's
 * draw does not depend on where it sits in the batch — row r of a per-row launch gets exactly the
 * id, logprob and flag that row 0 of a scalar launch over that row alone, with the same values, gets
 * (the serving engine batches requests' rows on that rule). A row with temperature 0 is argmax, as in
 * scalar mode. row_params lives in device memory, so the launcher cannot check it: the caller
 * validates (the Java side names the row and field); a row whose parameters are out of the scalar
 * ranges above (temperature negative or not finite, top_p outside (0, 1], top_k < 0, min_p outside
 * [0, 1]) is taken as argmax, so that ids still never leave [0, V). NULL: the scalar behaviour,
 * bit for bit as before ABI 13. */
typedef struct t4j_sample_row {
    uint64_t seed;
    uint64_t offset;
    float temperature;          /* >= 0; 0: argmax */
    float top_p;                /* (0, 1] */
    int32_t top_k;              /* >= 0; 0 disables */
    float min_p;                /* [0, 1]; 0 disables */
} t4j_sample_row;               /* 32 bytes */

typedef struct t4j_sample_params {
    int32_t* ids;               /* (rows) out */
    float* logprobs;            /* (rows) out, or NULL */
    int32_t* nonfinite;         /* (rows) out, or NULL: 1 where the row is non-finite, else 0 */
    const void* logits;         /* (rows, V) */
    int64_t rows;
    int64_t cols;
    int64_t logits_row_stride;
    uint64_t seed;
    uint64_t offset;            /* e.g. the decode step, so each step draws fresh numbers */
    float temperature;          /* >= 0 */
    float top_p;                /* (0, 1] */
    int32_t top_k;              /* >= 0; 0 disables */
    int32_t dtype;
    float min_p;                /* ABI 12: [0, 1]; 0 disables */
    int32_t reserved;           /* 0 */
    const t4j_sample_row* row_params; /* ABI 13: (rows) device array, or NULL (the scalars above) */
} t4j_sample_params;

T4J_API int32_t t4j_sample(const t4j_sample_params* p, void* stream);

/* Penalties in place on the logits before sampling (ABI 12): for row r and each j < width with
 * id = ids[r, j] in [0, V) (other ids, e.g. the padding -1, are skipped), in fp32, rounded once to
 * the dtype, in this order:
 *   x  = logits[r, id] + bias[r, j]                          (bias NULL: + 0; OpenAI's logit_bias)
 *   x  = counts[r, j] >= 0 ? (x < 0 ? x · repetition : x / repetition) : x
 *        (transformers' RepetitionPenaltyLogitsProcessor over the prompt and the generated ids;
 *         counts[r, j] = -1 marks an id that carries a bias only)
 *   x  = counts[r, j] > 0 ? (x − frequency · counts[r, j]) − presence : x
 *        (OpenAI's and vLLM's frequency and presence penalties, over the generated ids only)
 * The ids of a row must be distinct (one thread per (r, j) writes its element: a duplicate races).
 * Products, quotients and differences are each rounded (no contraction into an FMA), so fp32 logits
 * get the bits of the same steps done in fp32 one at a time.
 * Per-row penalties (ABI 13): where repetition_rows (presence_rows, frequency_rows) is not NULL, row r
 * uses repetition_rows[r] in place of repetition (and so on), so that rows of requests with different
 * penalties go in one launch; each row gets the bits a launch over that row alone with those scalars
 * gets. The per-row arrays live in device memory: the caller validates them (the scalar ranges
 * below); NULL: the scalar, bit for bit as before ABI 13. A row that has no bias of its own, in a
 * launch where others have one, can carry bias -0.0f: x + -0 is x for every x (+0 would turn -0 into
 * +0). */
typedef struct t4j_penalty_params {
    void* logits;               /* (rows, V), changed in place */
    const int32_t* ids;         /* (rows, width) distinct ids per row; outside [0, V): skipped */
    const int32_t* counts;      /* (rows, width) occurrences among the generated ids, or -1 (bias only) */
    const float* bias;          /* (rows, width) fp32, or NULL */
    int64_t rows;
    int64_t cols;               /* V */
    int64_t logits_row_stride;
    int64_t width;              /* >= 0 */
    float repetition;           /* > 0, finite; 1: none */
    float presence;             /* finite; 0: none */
    float frequency;            /* finite; 0: none */
    int32_t dtype;              /* of logits */
    const float* repetition_rows; /* ABI 13: (rows) device fp32, or NULL (repetition for every row) */
    const float* presence_rows;   /* ABI 13: (rows) device fp32, or NULL (presence) */
    const float* frequency_rows;  /* ABI 13: (rows) device fp32, or NULL (frequency) */
} t4j_penalty_params;

T4J_API int32_t t4j_penalty(const t4j_penalty_params* p, void* stream);

/* ---- attention ----------------------------------------------------------------------------- */
/* Scaled dot-product attention, softmax(scale · q·kᵀ + bias + mask) · v, computed in tiles with an
 * online softmax and fp32 accumulation: the Tq×Tk score matrix never reaches device memory.
 *
 * Layouts (strides in elements; the HS dimension is contiguous):
 *   padded:  q, out (B, Tq, NH, HS); k, v (B, Tk, NKV, HS); lse (B, NH, Tq) fp32, dense.
 *   packed (cu_seqlens_q and cu_seqlens_k given): sequence b's rows are cu_seqlens[b] ..
 *            cu_seqlens[b+1]-1 of q (total_q, NH, HS) and k, v (total_k, NKV, HS); batch strides
 *            are ignored; Tq, Tk are the longest lengths; lse is (NH, total_q) fp32, dense.
 * Per sequence b: Lq = its query count, Lk = its key count, lowered to key_lengths[b] when given
 * (key padding). Query i sits at key position i + Lk - Lq (bottom-right alignment), so
 *   T4J_ATTN_MASK_NONE:      every key j < Lk is visible (encoders, cross attention);
 *   T4J_ATTN_MASK_CAUSAL:    key j is visible when j <= i + Lk - Lq (a chunk after a cached prefix);
 *   T4J_ATTN_MASK_PREFIX_LM: key j is visible when j < prefix_lengths[b] or j <= i + Lk - Lq.
 * window > 0 (sliding window; NONE or CAUSAL, not PREFIX_LM) further hides key j unless
 * |j - (i + Lk - Lq)| < window. CAUSAL: j > i + Lk - Lq - window, a query sees at most `window` keys,
 * itself included (transformers' masking_utils sliding window); NONE: the keys within window - 1
 * positions on either side (ModernBERT's local attention: window = local_attention / 2 + 1).
 * T5 relative bias (rel_bias given): table[bucket(j - (i + Lk - Lq)), h] is added to the scaled
 * score; bucket() is T5's relative_position_bucket (bidirectional or causal buckets, num_buckets,
 * max_distance) with its float32 logarithm. A query row that sees no key gets zeros and lse −inf.
 * lse is the natural log of the row's softmax denominator: log Σ_j exp(score_j).
 * Attention sinks (ABI 11, sinks given: GPT-OSS): head h's logit sinks[h] joins every row's denominator with
 * no value, p_j = exp(score_j) / (Σ_k exp(score_k) + exp(sinks[h])), so a row's weights sum to less than 1;
 * lse = log(Σ_k exp(score_k) + exp(sinks[h])), and a row that sees no key gets zeros and lse = sinks[h].
 * ALiBi (ABI 14, alibi_slopes given: BLOOM, MPT, Falcon-RW; Press et al. 2022): −alibi_slopes[h] · |j − (i + Lk − Lq)| is
 * added to the scaled score (after the soft-cap), FlashAttention's alibi_slopes. Under CAUSAL it is slopes[h] · (j − pos),
 * which differs from transformers' BLOOM bias slopes[h] · j and MPT's slopes[h] · (j − (Lk − 1)) by one constant per row,
 * so the softmax is the same (lse is not: it is this definition's). Not with rel_bias, c2p or p2c. */
#define T4J_ATTN_MASK_NONE       0
#define T4J_ATTN_MASK_CAUSAL     1
#define T4J_ATTN_MASK_PREFIX_LM  2

typedef struct t4j_attention_params {
    void* out;                        /* (B, Tq, NH, HS) or (total_q, NH, HS), dtype */
    void* lse;                        /* fp32 (B, NH, Tq) or (NH, total_q), or NULL */
    const void* q;                    /* (B, Tq, NH, HS) or (total_q, NH, HS), dtype */
    const void* k;                    /* (B, Tk, NKV, HS) or (total_k, NKV, HS), dtype */
    const void* v;                    /* like k */
    const int32_t* cu_seqlens_q;      /* (B + 1) cumulative query offsets, or NULL (padded layout) */
    const int32_t* cu_seqlens_k;      /* (B + 1), given exactly when cu_seqlens_q is */
    const int32_t* key_lengths;       /* (B) valid keys per sequence (key padding), or NULL */
    const int32_t* prefix_lengths;    /* (B) for T4J_ATTN_MASK_PREFIX_LM, else NULL */
    const float* rel_bias;            /* fp32 (num_buckets, NH) T5 bias table, or NULL */
    int64_t q_batch_stride, q_row_stride, q_head_stride;
    int64_t k_batch_stride, k_row_stride, k_head_stride;
    int64_t v_batch_stride, v_row_stride, v_head_stride;
    int64_t out_batch_stride, out_row_stride, out_head_stride;
    int32_t B, NH, NKV, Tq, Tk, HS;
    int32_t mask;                     /* T4J_ATTN_MASK_* */
    float scale;                      /* multiplies q·k (1/sqrt(HS) usually; T5 uses 1) */
    int32_t num_buckets;              /* T5 bias: buckets (≥ 2; ≥ 4 when bidirectional) */
    int32_t max_distance;             /* T5 bias: distance from which buckets saturate */
    int32_t bias_bidirectional;       /* 1: encoder buckets (past and future); 0: causal buckets */
    int32_t dtype;                    /* T4J_DTYPE_F32, _F16 or _BF16 for q, k, v, out */
    int32_t window;                   /* sliding window: keys at |distance| < window are seen, 0: none */
    float softcap;                    /* ABI 8: > 0: each score z = scale·(q·k) becomes softcap·tanh(z / softcap)
                                         before the T5 bias, the mask and the softmax (Gemma 2's
                                         attn_logit_softcapping); 0: none; finite, ≥ 0 */
    /* ABI 10: DeBERTa's disentangled attention bias (He et al. 2021; transformers' deberta_v2), c2p and p2c both
     * NULL: none; not with rel_bias. For head h, query i of sequence b at key position pos = i + Lk − Lq and key j, with
     * r = clamp(bucket(pos − j) + dis_span, 0, 2·dis_span − 1) — bucket() transformers' make_log_bucket_position of
     * dis_buckets over dis_max_position (its float32 logarithms as T5's are taken), the distance itself when either is
     * ≤ 0 — c2p[h, qrow, r] + p2c[h, krow, r] is added to the scaled score (after the soft-cap), where qrow is the
     * query's row of q (packed: cu_seqlens_q[b] + i; padded: b·Tq + i) and krow the key's likewise. Tables in dtype,
     * dense; either may be NULL (a term the model does not use). */
    const void* c2p;                  /* (NH, c2p_rows, 2·dis_span), or NULL */
    const void* p2c;                  /* (NH, p2c_rows, 2·dis_span), or NULL */
    int64_t c2p_rows, p2c_rows;
    int32_t dis_span, dis_buckets, dis_max_position;
    int32_t dis_reserved;             /* 0 */
    const float* sinks;               /* ABI 11: fp32 (NH) attention sinks, one logit per query head (see above), or NULL */
    const float* alibi_slopes;        /* ABI 14: fp32 (NH) ALiBi slopes, one per query head (see above), or NULL */
} t4j_attention_params;

/* Prefill / encoder attention on `stream`. Head sizes: 32, 64, 96, 128 for F16/BF16 (tensor cores,
 * sm_80+; pointers 16-byte aligned, strides multiples of 8); 32, 64, 96, 128, 256 for F32. */
T4J_API int32_t t4j_attention(const t4j_attention_params* p, void* stream);

/* Paged KV cache: k_cache and v_cache are (num_blocks, block_size, NKV, HS), dense. Sequence b's
 * key position j lives in block block_table[b * max_blocks_per_seq + j / block_size], slot
 * j % block_size. The append writes the Tnew new rows of sequence b at positions
 * cache_lengths[b] .. cache_lengths[b] + Tnew - 1 (cache_lengths: before the append). */
typedef struct t4j_kv_append_params {
    void* k_cache;                    /* (num_blocks, block_size, NKV, HS) */
    void* v_cache;                    /* (num_blocks, block_size, NKV, HS) */
    const void* k;                    /* (B, Tnew, NKV, HS); varlen (Tnew, NKV, HS) (cu_seqlens) */
    const void* v;                    /* (B, Tnew, NKV, HS); varlen (Tnew, NKV, HS) */
    const int32_t* block_table;       /* (B, max_blocks_per_seq) */
    const int32_t* cache_lengths;     /* (B) rows already cached */
    int64_t k_batch_stride, k_row_stride, k_head_stride;
    int64_t v_batch_stride, v_row_stride, v_head_stride;
    int32_t B, Tnew, NKV, HS;
    int32_t block_size, max_blocks_per_seq, num_blocks;
    int32_t dtype;                    /* of caches and new rows */
    const int32_t* cu_seqlens;        /* ABI 17: (B + 1) cumulative new-row offsets, or NULL. Given (varlen append), k and v
                                         are packed (Tnew, NKV, HS) rows, Tnew = cu_seqlens[B] the total (batch strides
                                         ignored): rows cu_seqlens[b] .. cu_seqlens[b+1] − 1 are sequence b's (none where
                                         equal), its row t going to position cache_lengths[b] + t. Offsets are read when the
                                         kernel runs; the caller gives non-decreasing ones from 0 */
} t4j_kv_append_params;

T4J_API int32_t t4j_kv_append(const t4j_kv_append_params* p, void* stream);

/* Decode: Tq new queries per sequence against its cache_lengths[b] cached keys (which
 * include the new tokens' own keys, appended first). Query i sits at key position
 * cache_lengths[b] - Tq + i; causal masks later keys. Varlen (ABI 17, cu_seqlens_q): Lq_b queries
 * for sequence b, packed, at cache_lengths[b] - Lq_b + i, each sequence bit for bit what a launch
 * over it alone with Tq = Lq_b (same num_splits, split_keys) computes on the launch's path: the launch's Tq
 * picks it, so in a launch with Tq > 16 a sequence of ≤ 16 queries (a decode row beside a chunk) gets the
 * paged prefill's arithmetic, equal to its split-KV decode up to rounding. The keys are split into num_splits
 * ranges handled by separate thread blocks (split-KV; one block per split, KV head and sequence
 * serves the whole GQA group; see split_keys); with num_splits > 1 the partial outputs
 * and log-sum-exps go to the fp32 workspaces and a second kernel combines them.
 * The T5 bias, ALiBi, scale, sinks and lse follow t4j_attention_params; window > 0 (causal only) hides keys at
 * positions ≤ query position − window, as in t4j_attention_params.
 * Tq 1..16: the split-KV decode, every dtype. Tq > 16 (ABI 7; F16/BF16, F32 is unsupported): paged
 * prefill — a prompt or chunk appended to the cache attends on tensor cores, reading K/V through
 * the block table; num_splits and the workspaces are then unused; q, out and the caches 16-byte
 * aligned, q/out strides multiples of 8. */
typedef struct t4j_decode_params {
    void* out;                        /* (B, Tq, NH, HS), dtype; varlen (total_q, NH, HS) */
    void* lse;                        /* fp32 (B, NH, Tq), or NULL; varlen (NH, total_q) */
    const void* q;                    /* (B, Tq, NH, HS), dtype; varlen (total_q, NH, HS) */
    const void* k_cache;              /* (num_blocks, block_size, NKV, HS) */
    const void* v_cache;              /* (num_blocks, block_size, NKV, HS) */
    const int32_t* block_table;       /* (B, max_blocks_per_seq) */
    const int32_t* cache_lengths;     /* (B) keys per sequence, ≥ Tq (varlen: ≥ Lq_b) */
    float* workspace_o;               /* fp32 (num_splits, B, NH, Tq, HS) when num_splits > 1 */
    float* workspace_lse;             /* fp32 (num_splits, B, NH, Tq) when num_splits > 1 */
    const float* rel_bias;            /* fp32 (num_buckets, NH), or NULL */
    int64_t q_batch_stride, q_row_stride, q_head_stride;
    int64_t out_batch_stride, out_row_stride, out_head_stride;
    int32_t B, NH, NKV, Tq, HS;
    int32_t block_size, max_blocks_per_seq, num_blocks;
    int32_t num_splits;               /* 1 .. 128 */
    int32_t causal;                   /* 1: causal among the Tq new rows; 0: all cached keys */
    float scale;
    int32_t num_buckets, max_distance, bias_bidirectional;
    int32_t dtype;
    int32_t window;                   /* sliding window, 0: none; needs causal = 1 */
    int32_t split_keys;               /* ≥ 0: each split takes max(ceil(L / num_splits), split_keys) keys, so
                                         ceil(L / that) ≤ num_splits splits run and the others exit (0: all
                                         num_splits, as many as L allows); read with L when the kernel runs,
                                         so a graph captured with the largest num_splits serves any length */
    float softcap;                    /* ABI 8: as t4j_attention_params.softcap */
    const float* sinks;               /* ABI 11: fp32 (NH) attention sinks, or NULL: as t4j_attention_params.sinks, added
                                         once per row (the combine counts the sink as one more split with lse sinks[h] and
                                         no value; with num_splits = 1 the decode kernel finalises the row with it) */
    const float* alibi_slopes;        /* ABI 14: fp32 (NH) ALiBi slopes, or NULL: as t4j_attention_params.alibi_slopes, query i
                                         at key position cache_lengths[b] − Tq + i; not with rel_bias */
    const int32_t* cu_seqlens_q;      /* ABI 17: (B + 1) cumulative query offsets, or NULL (padded layout). Given (varlen
                                         decode: several sequences' chunks, drafts and decode rows in one launch), q and
                                         out are packed (total_q, NH, HS) rows, total_q = cu_seqlens_q[B] (batch strides
                                         ignored): sequence b has Lq_b = cu_seqlens_q[b+1] − cu_seqlens_q[b] ≥ 0 queries,
                                         query i at key position cache_lengths[b] − Lq_b + i (cache_lengths[b] ≥ Lq_b), so
                                         each sequence is what a launch over it alone with Tq = Lq_b computes (on the
                                         launch's path: see t4j_decode above). Tq is then
                                         the longest Lq_b (the caller's bound: it picks the split-KV decode (≤ 16) or the
                                         paged prefill and sizes the grid and the workspaces, laid out as for B × Tq);
                                         lse is (NH, total_q), as t4j_attention_params' packed lse */
} t4j_decode_params;

T4J_API int32_t t4j_decode(const t4j_decode_params* p, void* stream);

/* ---- rotary position embedding -------------------------------------------------------------- */
/* RoPE in place on queries or keys x (B, T, H, HS), as transformers' LlamaRotaryEmbedding and
 * apply_rotary_pos_emb (rotate_half) do it. For token (b, t) at p = positions[b * T + t] and each
 * i < R/2 (R = rotary_dim, even, ≤ HS; dimensions from R on are left alone):
 *   angle = (float)p * inv_freq_b[i];  c = cos(angle), s = sin(angle), both rounded to the dtype;
 *   x[i] <- x[i]·c − x[i + R/2]·s;  x[i + R/2] <- x[i + R/2]·c + x[i]·s   (fp32, rounded once).
 * inv_freq_b is inv_freq (fp32 (R/2), the same for every sequence; default, linear, llama3 and yarn
 * kinds, computed on the host), or with dynamic = 1 (inv_freq NULL) dynamic NTK's, computed in fp32
 * from seq_lens[b]: L = max(seq_lens[b], max_positions), base' = base · (factor·L/max_positions −
 * (factor − 1))^(R/(R−2)), inv_freq_b[i] = 1 / base'^(2i/R), or with dynamic = 2 (LongRoPE, ABI 8)
 * inv_freq's first R/2 (short factors) while seq_lens[b] ≤ max_positions (the original max positions),
 * its second R/2 (long factors) past it. Before rounding, c and s are multiplied in fp32 by
 * attention_scaling (ABI 8; yarn's and LongRoPE's attention factor, 1 for the other kinds), as
 * transformers multiplies cos and sin by attention_scaling before casting them. Positions and lengths
 * are read when the kernel runs (a captured graph replays with new ones). */
typedef struct t4j_rope_params {
    void* x;                          /* (B, T, H, HS), dtype, rotated in place */
    const int32_t* positions;         /* (B, T) dense */
    const float* inv_freq;            /* fp32 (rotary_dim / 2); (2, rotary_dim / 2) when dynamic = 2; NULL when 1 */
    const int32_t* seq_lens;          /* (B) when dynamic is 1 or 2, else NULL */
    int64_t x_batch_stride, x_row_stride, x_head_stride;
    int32_t B, T, H, HS;
    int32_t rotary_dim;               /* R: even, 2 ≤ R ≤ HS (≥ 4 when dynamic) */
    int32_t dynamic;                  /* 0: inv_freq; 1: dynamic NTK frequencies from seq_lens; 2: LongRoPE's
                                         short or long table by seq_lens */
    float base;                       /* dynamic = 1: rope_theta */
    float factor;                     /* dynamic = 1: scaling factor ≥ 1 */
    int32_t max_positions;            /* dynamic = 1: max_position_embeddings; 2: original max positions */
    int32_t dtype;                    /* T4J_DTYPE_F32, _F16 or _BF16 */
    float attention_scaling;          /* > 0, finite: cos and sin × this before rounding (1: none) */
    int32_t reserved;                 /* 0 */
} t4j_rope_params;

T4J_API int32_t t4j_rope(const t4j_rope_params* p, void* stream);

/* ---- logit soft-capping --------------------------------------------------------------------- */
/* Gemma 2's final_logit_softcapping, in place on the logits (ABI 8): each of the n elements of x
 * becomes cap · tanh(x / cap), computed in fp32 and rounded once to the dtype (±inf become ±cap, NaN
 * stays NaN). x is n contiguous elements, aligned to its element size; n = 0 does nothing. The
 * attention's own logit capping is t4j_attention_params.softcap. */
typedef struct t4j_softcap_params {
    void* x;                          /* (n), dtype, capped in place */
    int64_t n;                        /* elements, ≥ 0 */
    float cap;                        /* > 0, finite (Gemma 2: 30) */
    int32_t dtype;                    /* T4J_DTYPE_F32, _F16 or _BF16 */
} t4j_softcap_params;

T4J_API int32_t t4j_softcap(const t4j_softcap_params* p, void* stream);

/* ---- token mask (ABI 12) ------------------------------------------------------------------ */
/* Structured outputs, in place on the logits before sampling: logits[r][v] becomes -inf where bit
 * v % 32 of allowed[r][v / 32] is clear (the low bit first); where it is set the logit is not read or
 * written (NaN stays NaN). Bits past cols are ignored. rows = 0 does nothing. */
typedef struct t4j_mask_params {
    void* logits;                     /* (rows, cols) dtype, masked in place */
    const int32_t* allowed;           /* (rows, ceil(cols / 32)) */
    int64_t rows;                     /* >= 0 */
    int64_t cols;                     /* V, >= 1 */
    int64_t logits_row_stride;        /* >= cols */
    int64_t allowed_row_stride;       /* >= ceil(cols / 32) */
    int32_t dtype;                    /* T4J_DTYPE_F32, _F16 or _BF16 */
    int32_t reserved;                 /* 0 */
} t4j_mask_params;

T4J_API int32_t t4j_mask(const t4j_mask_params* p, void* stream);

/* ---- mixture of experts (ABI 9) ------------------------------------------------------------ */
/* A sparse MoE block (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE) on the device, with no host round trip
 * (a decode step with it can be captured into a graph):
 *   logits = x · W_router                            (t4j_linear)
 *   t4j_moe_route:    top-k experts per token, their weights, and the slots sorted by expert
 *   t4j_gather_rows:  xs[s] = x[sorted_tokens[s]]    (T·k rows, expert by expert)
 *   t4j_linear with group_offsets = expert_offsets: hs = act(xs·W_gate[e]) ⊙ (xs·W_up[e]), ys = hs·W_down[e]
 *   t4j_moe_combine:  out[t] = Σ_j weights[t,j] · ys[slots[t,j]] (+ σ(g_t)·shared[t]) (+ residual[t])
 *
 * Routing, as transformers does it: p = softmax(logits[t]) over all E experts in fp32; the top_k
 * largest p (ties: the lower expert id first), in falling order, with their p as weights; with
 * renormalize (Mixtral always, Qwen/OLMoE's norm_topk_prob) the weights divided by their sum (fp32).
 * Slots: token t's j-th choice e = topk_ids[t,j] takes one slot in expert e's range
 * [expert_offsets[e], expert_offsets[e+1]); within an expert, slots follow the token order (t, then j),
 * so the layout is deterministic. sorted_tokens[slot] = t, slots[t,j] = slot.
 *
 * DeepSeek's and ERNIE 4.5's routers (ABI 18; the appended fields, all zero = the routing above):
 *   scores s_e: softmax as above (T4J_MOE_SOFTMAX) or s_e = 1/(1 + e^(−logit_e)) (T4J_MOE_SIGMOID), fp32;
 *   choice c_e = s_e + correction_bias[e] with either scoring (DeepSeek-V3's sigmoid e_score_correction_bias;
 *     ERNIE 4.5's softmax moe_statics.e_score_correction_bias), else s_e. The bias first went with sigmoid
 *     only; softmax + bias is a relaxed rule, not a layout change, so the ABI stays 18;
 *   with n_group ≥ 2 (group-limited, DeepSeek-V2's group_limited_greedy and V3's noaux_tc): experts form
 *     n_group contiguous groups of G = E / n_group; a group's score is, with softmax, the largest c in
 *     it (V2), with sigmoid, the sum of its two largest c (V3, fp32); the topk_group best groups are
 *     kept (ties: the lower group id) and every expert of the other groups gets c_e = 0.0 (transformers'
 *     masked_fill: a masked expert's 0.0 can beat negative biased choices, and is then picked);
 *   the top_k largest c (ties: the lower expert id), in falling order of c;
 *   weights: softmax without a bias → c at the picks (the masked 0.0 included, as transformers' V2);
 *     sigmoid, or any scoring with a bias → the unbiased s at the picks (V3, ERNIE 4.5); renormalize
 *     divides by their fp32 sum (pick order), with sigmoid plus 1e-20 (V3's norm_topk_prob); then × scale
 *     (routed_scaling_factor; 0 means 1). ERNIE divides by max(sum, moe_norm_min = 1e-12): the same
 *     unless the picked softmax scores sum below 1e-12.
 * A NaN score or choice ranks as −inf, in the experts and in the groups' scores. */
#define T4J_MOE_SOFTMAX 0
#define T4J_MOE_SIGMOID 1
#define T4J_MOE_MAX_GROUPS 32             /* n_group limit: one lane per group in the router's warp */
typedef struct t4j_moe_route_params {
    const void* logits;               /* (T, E), row stride logits_row_stride, dtype */
    int32_t* topk_ids;                /* (T, top_k) out */
    float* topk_weights;              /* (T, top_k) out */
    int32_t* expert_offsets;          /* (E + 1) out: offsets[0] = 0, offsets[E] = T·top_k */
    int32_t* sorted_tokens;           /* (T·top_k) out: the token of each slot */
    int32_t* slots;                   /* (T, top_k) out: the slot of each choice */
    int64_t tokens;                   /* T ≥ 0 (0 writes offsets of zeros) */
    int64_t logits_row_stride;        /* ≥ E */
    int32_t experts;                  /* E, 1..1024 */
    int32_t top_k;                    /* 1..min(E, 32) */
    int32_t renormalize;              /* 0 or 1 */
    int32_t dtype;                    /* of logits: T4J_DTYPE_F32, _F16 or _BF16 */
    const float* correction_bias;     /* (E) F32, or NULL; with either scoring (ABI 18) */
    int32_t scoring;                  /* T4J_MOE_SOFTMAX (0) or T4J_MOE_SIGMOID (1) */
    int32_t n_group;                  /* 0 or 1: no groups; 2..T4J_MOE_MAX_GROUPS dividing E (with sigmoid E / n_group ≥ 2) */
    int32_t topk_group;               /* no groups: 0 or 1; else 1..n_group, and top_k ≤ topk_group · E / n_group */
    float scale;                      /* × every weight, last; 0 means 1, else finite and > 0 */
} t4j_moe_route_params;

T4J_API int32_t t4j_moe_route(const t4j_moe_route_params* p, void* stream);

/* out[r] = x[rows[r]] for r < n (rows read when the kernel runs; an index outside 0..x_rows-1 is
 * clamped into it). Copies bits: no rounding. ABI 20: rows NULL reads row r itself (n <= x_rows), and
 * widen 1 writes each F16 / BF16 value of x to an F32 out, exactly: a router's fp32 logits GEMM over
 * the model's hidden states (transformers' F.linear(x.float(), w.float())) without a host round trip. */
typedef struct t4j_gather_rows_params {
    void* out;                        /* (n, cols), row stride out_row_stride; F32 when widen, else dtype */
    const void* x;                    /* (x_rows, cols), row stride x_row_stride */
    const int32_t* rows;              /* (n) device I32, or NULL (ABI 20): row r */
    int64_t n;                        /* ≥ 0 */
    int64_t x_rows;                   /* ≥ 1 */
    int64_t cols;                     /* ≥ 1 */
    int64_t out_row_stride;           /* ≥ cols */
    int64_t x_row_stride;             /* ≥ cols */
    int32_t dtype;                    /* x's: T4J_DTYPE_F32, _F16 or _BF16 */
    int32_t widen;                    /* ABI 20 (was reserved, 0): 0 copies bits; 1: dtype F16 or BF16, out F32 */
} t4j_gather_rows_params;

T4J_API int32_t t4j_gather_rows(const t4j_gather_rows_params* p, void* stream);

/* out[t] = Σ_{j < top_k} weights[t,j] · y[slots[t,j]]  (j ascending)
 *          + (shared ? (shared_gate ? 1/(1 + e^(−shared_gate[t])) : 1) · shared[t] : 0)
 *          + (residual ? residual[t] : 0)
 * in fp32, rounded once to the dtype. residual may alias out exactly (same pointer and stride).
 * Qwen2-MoE's shared expert: shared = its MLP output, shared_gate = x · shared_expert_gate (one logit
 * per token). Slots are read when the kernel runs and clamped to 0..slot_rows-1. */
typedef struct t4j_moe_combine_params {
    void* out;                        /* (T, cols) */
    const void* y;                    /* (slot_rows, cols): the experts' outputs, in slot order */
    const int32_t* slots;             /* (T, top_k) */
    const float* weights;             /* (T, top_k) fp32 */
    const void* residual;             /* (T, cols), or NULL */
    const void* shared;               /* (T, cols), or NULL */
    const void* shared_gate;          /* (T) logits, element t at t·shared_gate_stride, or NULL (only with shared) */
    int64_t tokens;                   /* T ≥ 0 */
    int64_t cols;                     /* ≥ 1 */
    int64_t slot_rows;                /* ≥ 1 */
    int64_t out_row_stride;
    int64_t y_row_stride;
    int64_t residual_row_stride;
    int64_t shared_row_stride;
    int64_t shared_gate_stride;
    int32_t top_k;                    /* 1..32 */
    int32_t dtype;                    /* of out, y, residual, shared, shared_gate */
} t4j_moe_combine_params;

T4J_API int32_t t4j_moe_combine(const t4j_moe_combine_params* p, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* T4J_H */
