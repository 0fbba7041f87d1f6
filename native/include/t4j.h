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
 * heads, HS head size, F MLP width.
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
 * library whose version differs from the one its bindings were written for. */
#define T4J_ABI_VERSION 2

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
 * T5 relative bias (rel_bias given): table[bucket(j - (i + Lk - Lq)), h] is added to the scaled
 * score; bucket() is T5's relative_position_bucket (bidirectional or causal buckets, num_buckets,
 * max_distance) with its float32 logarithm. A query row that sees no key gets zeros and lse −inf.
 * lse is the natural log of the row's softmax denominator: log Σ_j exp(score_j). */
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
    const void* k;                    /* (B, Tnew, NKV, HS) */
    const void* v;                    /* (B, Tnew, NKV, HS) */
    const int32_t* block_table;       /* (B, max_blocks_per_seq) */
    const int32_t* cache_lengths;     /* (B) rows already cached */
    int64_t k_batch_stride, k_row_stride, k_head_stride;
    int64_t v_batch_stride, v_row_stride, v_head_stride;
    int32_t B, Tnew, NKV, HS;
    int32_t block_size, max_blocks_per_seq, num_blocks;
    int32_t dtype;                    /* of caches and new rows */
} t4j_kv_append_params;

T4J_API int32_t t4j_kv_append(const t4j_kv_append_params* p, void* stream);

/* Decode: Tq (1..16) new queries per sequence against its cache_lengths[b] cached keys (which
 * include the new tokens' own keys, appended first). Query i sits at key position
 * cache_lengths[b] - Tq + i; causal masks later keys. The keys are split into num_splits
 * ranges handled by separate thread blocks (split-KV; one block per split, KV head and sequence
 * serves the whole GQA group); with num_splits > 1 the partial outputs
 * and log-sum-exps go to the fp32 workspaces and a second kernel combines them.
 * The T5 bias, scale and lse follow t4j_attention_params. */
typedef struct t4j_decode_params {
    void* out;                        /* (B, Tq, NH, HS), dtype */
    void* lse;                        /* fp32 (B, NH, Tq), or NULL */
    const void* q;                    /* (B, Tq, NH, HS), dtype */
    const void* k_cache;              /* (num_blocks, block_size, NKV, HS) */
    const void* v_cache;              /* (num_blocks, block_size, NKV, HS) */
    const int32_t* block_table;       /* (B, max_blocks_per_seq) */
    const int32_t* cache_lengths;     /* (B) keys per sequence, ≥ Tq */
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
    int32_t reserved;                 /* 0 */
} t4j_decode_params;

T4J_API int32_t t4j_decode(const t4j_decode_params* p, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* T4J_H */
