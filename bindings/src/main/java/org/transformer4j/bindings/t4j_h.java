// t4j_h — FFM downcalls for every function of native/include/t4j.h, and its constants.
// Written in the shape jextract generates (one holder class per function with DESC and HANDLE),
// so a jextract run over t4j.h can replace this file without touching callers.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

@SuppressWarnings({"unused", "checkstyle:TypeName"})
public final class t4j_h {

    private t4j_h() {}

    public static final int T4J_ABI_VERSION = 21;

    public static final int T4J_SUCCESS = 0;
    public static final int T4J_ERROR_INVALID_ARGUMENT = 1;
    public static final int T4J_ERROR_UNSUPPORTED = 2;
    public static final int T4J_ERROR_NO_DRIVER = 3;
    public static final int T4J_ERROR_DRIVER_TOO_OLD = 4;
    public static final int T4J_ERROR_NO_KERNELS = 5;
    public static final int T4J_ERROR_NO_CONTEXT = 6;
    public static final int T4J_ERROR_KERNEL_NOT_FOUND = 7;
    public static final int T4J_ERROR_OUT_OF_MEMORY = 8;
    public static final int T4J_STATUS_CUDA_BASE = 10000;

    public static final int T4J_DTYPE_F32 = 0;
    public static final int T4J_DTYPE_F16 = 1;
    public static final int T4J_DTYPE_BF16 = 2;
    public static final int T4J_DTYPE_I32 = 3;
    public static final int T4J_DTYPE_I64 = 4;
    public static final int T4J_DTYPE_U8 = 5;

    public static final int T4J_NORM_LAYER = 0;
    public static final int T4J_NORM_RMS = 1;

    public static final int T4J_ATTN_MASK_NONE = 0;
    public static final int T4J_ATTN_MASK_CAUSAL = 1;
    public static final int T4J_ATTN_MASK_PREFIX_LM = 2;

    public static final int T4J_ACT_NONE = 0;
    public static final int T4J_ACT_GELU = 1;
    public static final int T4J_ACT_GELU_TANH = 2;
    public static final int T4J_ACT_RELU = 3;
    public static final int T4J_ACT_SILU = 4;
    public static final int T4J_ACT_SWIGLU_OAI = 5;
    /** ABI 16: clamp(y, -act_limit, act_limit), plain (non-gated) ops only (clip_qkv). */
    public static final int T4J_ACT_CLAMP = 6;
    /** ABI 19: max(x, 0)², plain or gated (transformers' relu2, NVIDIA Nemotron's MLP). */
    public static final int T4J_ACT_RELU2 = 7;
    /** t4j_linear_params.b_format (ABI 13): b holds dtype elements */
    public static final int T4J_WEIGHTS_DENSE = 0;
    /** t4j_linear_params.b_format (ABI 13): b holds MXFP4 codes, b_scale their E8M0 scales */
    public static final int T4J_WEIGHTS_MXFP4 = 1;
    /** ABI 21: group-wise affine 4-bit weights in GPTQ's packing (AWQ / GPTQ checkpoints), decoded in the kernel. */
    public static final int T4J_WEIGHTS_INT4 = 2;

    public static final int T4J_SOFTMAX = 0;
    public static final int T4J_LOG_SOFTMAX = 1;

    /** t4j_moe_route_params.scoring (ABI 18): softmax over the experts */
    public static final int T4J_MOE_SOFTMAX = 0;
    /** t4j_moe_route_params.scoring (ABI 18): a sigmoid per expert (DeepSeek-V3) */
    public static final int T4J_MOE_SIGMOID = 1;
    /** t4j_moe_route_params.n_group's limit (ABI 18) */
    public static final int T4J_MOE_MAX_GROUPS = 32;

    static MethodHandle downcall(String name, FunctionDescriptor desc) {
        MemorySegment symbol = NativeLoader.load().symbols().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libt4j.so does not export " + name));
        return Linker.nativeLinker().downcallHandle(symbol, desc);
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("unexpected checked exception from a downcall", t);
    }

    private static final class t4j_abi_version {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT);
        static final MethodHandle HANDLE = downcall("t4j_abi_version", DESC);
    }

    /** {@code int32_t t4j_abi_version(void)} */
    public static int t4j_abi_version() {
        try {
            return (int) t4j_abi_version.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_build_info_get {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_build_info_get", DESC);
    }

    /** {@code int32_t t4j_build_info_get(t4j_build_info* out)} */
    public static int t4j_build_info_get(MemorySegment out) {
        try {
            return (int) t4j_build_info_get.HANDLE.invokeExact(out);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_status_string {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, JAVA_INT);
        static final MethodHandle HANDLE = downcall("t4j_status_string", DESC);
    }

    /** {@code const char* t4j_status_string(int32_t status)}: a static NUL-terminated string. */
    public static MemorySegment t4j_status_string(int status) {
        try {
            return (MemorySegment) t4j_status_string.HANDLE.invokeExact(status);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_struct_size {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_struct_size", DESC);
    }

    /** {@code int64_t t4j_struct_size(const char* struct_name)} */
    public static long t4j_struct_size(MemorySegment structName) {
        try {
            return (long) t4j_struct_size.HANDLE.invokeExact(structName);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_struct_offset {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_struct_offset", DESC);
    }

    /** {@code int64_t t4j_struct_offset(const char* struct_name, const char* field_name)} */
    public static long t4j_struct_offset(MemorySegment structName, MemorySegment fieldName) {
        try {
            return (long) t4j_struct_offset.HANDLE.invokeExact(structName, fieldName);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_struct_fields {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_struct_fields", DESC);
    }

    /** {@code const char* t4j_struct_fields(const char* struct_name)} */
    public static MemorySegment t4j_struct_fields(MemorySegment structName) {
        try {
            return (MemorySegment) t4j_struct_fields.HANDLE.invokeExact(structName);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_struct_list {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_struct_list", DESC);
    }

    /** {@code const char* t4j_struct_list(void)} */
    public static MemorySegment t4j_struct_list() {
        try {
            return (MemorySegment) t4j_struct_list.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_driver_init {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_driver_init", DESC);
    }

    /** {@code int32_t t4j_driver_init(int32_t* driver_version)} */
    public static int t4j_driver_init(MemorySegment driverVersion) {
        try {
            return (int) t4j_driver_init.HANDLE.invokeExact(driverVersion);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_set_fatbin {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle HANDLE = downcall("t4j_set_fatbin", DESC);
    }

    /** {@code int32_t t4j_set_fatbin(const void* image, uint64_t size)} */
    public static int t4j_set_fatbin(MemorySegment image, long size) {
        try {
            return (int) t4j_set_fatbin.HANDLE.invokeExact(image, size);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_norm {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_norm", DESC);
    }

    /** {@code int32_t t4j_norm(const t4j_norm_params* p, void* stream)} */
    public static int t4j_norm(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_norm.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_linear {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_linear", DESC);
    }

    /** {@code int32_t t4j_linear(const t4j_linear_params* p, void* stream)} */
    public static int t4j_linear(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_linear.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_bias_act {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_bias_act", DESC);
    }

    /** {@code int32_t t4j_bias_act(const t4j_bias_act_params* p, void* stream)} */
    public static int t4j_bias_act(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_bias_act.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_embedding {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_embedding", DESC);
    }

    /** {@code int32_t t4j_embedding(const t4j_embedding_params* p, void* stream)} */
    public static int t4j_embedding(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_embedding.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_softmax {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_softmax", DESC);
    }

    /** {@code int32_t t4j_softmax(const t4j_softmax_params* p, void* stream)} */
    public static int t4j_softmax(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_softmax.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_cross_entropy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_cross_entropy", DESC);
    }

    /** {@code int32_t t4j_cross_entropy(const t4j_cross_entropy_params* p, void* stream)} */
    public static int t4j_cross_entropy(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_cross_entropy.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_sample {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_sample", DESC);
    }

    /** {@code int32_t t4j_sample(const t4j_sample_params* p, void* stream)} */
    public static int t4j_sample(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_sample.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_linear_workspace_size {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_linear_workspace_size", DESC);
    }

    /** {@code int32_t t4j_linear_workspace_size(const t4j_linear_params* p, uint64_t* bytes)} */
    public static int t4j_linear_workspace_size(MemorySegment params, MemorySegment bytes) {
        try {
            return (int) t4j_linear_workspace_size.HANDLE.invokeExact(params, bytes);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_attention {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_attention", DESC);
    }

    /** {@code int32_t t4j_attention(const t4j_attention_params* p, void* stream)} */
    public static int t4j_attention(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_attention.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_kv_append {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_kv_append", DESC);
    }

    /** {@code int32_t t4j_kv_append(const t4j_kv_append_params* p, void* stream)} */
    public static int t4j_kv_append(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_kv_append.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_decode {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_decode", DESC);
    }

    /** {@code int32_t t4j_decode(const t4j_decode_params* p, void* stream)} */
    public static int t4j_decode(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_decode.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_rope {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_rope", DESC);
    }

    /** {@code int32_t t4j_rope(const t4j_rope_params* p, void* stream)} */
    public static int t4j_rope(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_rope.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_penalty {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_penalty", DESC);
    }

    /** {@code int32_t t4j_penalty(const t4j_penalty_params* p, void* stream)} */
    public static int t4j_penalty(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_penalty.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_softcap {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_softcap", DESC);
    }

    /** {@code int32_t t4j_softcap(const t4j_softcap_params* p, void* stream)} */
    public static int t4j_softcap(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_softcap.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_mask {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_mask", DESC);
    }

    /** {@code int32_t t4j_mask(const t4j_mask_params* p, void* stream)} (ABI 12) */
    public static int t4j_mask(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_mask.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_moe_route {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_moe_route", DESC);
    }

    /** {@code int32_t t4j_moe_route(const t4j_moe_route_params* p, void* stream)} (ABI 9) */
    public static int t4j_moe_route(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_moe_route.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_gather_rows {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_gather_rows", DESC);
    }

    /** {@code int32_t t4j_gather_rows(const t4j_gather_rows_params* p, void* stream)} (ABI 9) */
    public static int t4j_gather_rows(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_gather_rows.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final class t4j_moe_combine {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle HANDLE = downcall("t4j_moe_combine", DESC);
    }

    /** {@code int32_t t4j_moe_combine(const t4j_moe_combine_params* p, void* stream)} (ABI 9) */
    public static int t4j_moe_combine(MemorySegment params, MemorySegment stream) {
        try {
            return (int) t4j_moe_combine.HANDLE.invokeExact(params, stream);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
