// Cublas — a cuBLAS handle bound to one stream, and the strided-batched GEMM transformer4j uses.
package org.transformer4j.runtime.cuda;

import static org.transformer4j.bindings.cublas_h.CUBLAS_COMPUTE_32F;
import static org.transformer4j.bindings.cublas_h.CUBLAS_GEMM_DEFAULT;
import static org.transformer4j.bindings.cublas_h.CUBLAS_OP_N;
import static org.transformer4j.bindings.cublas_h.CUBLAS_OP_T;
import static org.transformer4j.bindings.cublas_h.CUBLAS_STATUS_SUCCESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.bindings.CudaLibraries;
import org.transformer4j.bindings.cublas_h;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GemmOp;

/**
 * cuBLAS through FFM. Row-major C = op(A)·op(B) is computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ,
 * i.e. with A and B swapped and M and N swapped, so no data moves. fp32, fp16 and bf16 all
 * accumulate in fp32 (CUBLAS_COMPUTE_32F; no TF32 for fp32, the default math mode).
 */
final class Cublas implements AutoCloseable {

    private final CudaDevice device;
    private final MemorySegment handle;
    private final Arena scalars = Arena.ofShared();
    private final MemorySegment alpha = scalars.allocate(ValueLayout.JAVA_FLOAT);
    private final MemorySegment beta = scalars.allocate(ValueLayout.JAVA_FLOAT);

    Cublas(CudaDevice device, Stream stream) {
        if (CudaLibraries.cublasProblem().isPresent()) {
            throw new UnsupportedOperationException(CudaLibraries.cublasProblem().get());
        }
        this.device = device;
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            check(cublas_h.cublasCreate_v2(p), "cublasCreate");
            handle = p.get(ValueLayout.ADDRESS, 0);
        }
        check(cublas_h.cublasSetStream_v2(handle, stream.handle()), "cublasSetStream");
    }

    /** Gives cuBLAS a workspace of its own (it then allocates nothing, which graph capture needs). */
    void workspace(long address, long bytes) {
        device.makeCurrent();
        check(cublas_h.cublasSetWorkspace_v2(handle, MemorySegment.ofAddress(address), bytes), "cublasSetWorkspace");
    }

    static int cudaDataType(DType t) {
        return switch (t) {
            case F32 -> cublas_h.CUDA_R_32F;
            case F16 -> cublas_h.CUDA_R_16F;
            case BF16 -> cublas_h.CUDA_R_16BF;
            default -> throw new IllegalArgumentException("cuBLAS GEMM does not take " + t);
        };
    }

    synchronized void gemm(GemmOp op, GemmOp.Shape s) {
        device.makeCurrent();
        alpha.set(ValueLayout.JAVA_FLOAT, 0, op.alpha());
        beta.set(ValueLayout.JAVA_FLOAT, 0, op.beta());
        int type = cudaDataType(op.a().dtype());
        int status = cublas_h.cublasGemmStridedBatchedEx(handle,
                op.transB() ? CUBLAS_OP_T : CUBLAS_OP_N, op.transA() ? CUBLAS_OP_T : CUBLAS_OP_N,
                s.n(), s.m(), s.k(), alpha,
                MemorySegment.ofAddress(op.b().deviceAddress()), type, (int) s.ldb(), s.strideB(),
                MemorySegment.ofAddress(op.a().deviceAddress()), type, (int) s.lda(), s.strideA(),
                beta, MemorySegment.ofAddress(op.c().deviceAddress()), type, (int) s.ldc(), s.strideC(),
                s.batch(), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        check(status, "cublasGemmStridedBatchedEx(" + op.a().dtype() + ", batch=" + s.batch() + ", M=" + s.m() + ", N="
                + s.n() + ", K=" + s.k() + ")");
    }

    private static void check(int status, String op) {
        if (status == CUBLAS_STATUS_SUCCESS) return;
        String text;
        try {
            text = cublas_h.cublasGetStatusString(status).reinterpret(Long.MAX_VALUE).getString(0);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            text = "cuBLAS status " + status;
        }
        throw new CudaException(op, status, "cuBLAS", text);
    }

    @Override
    public synchronized void close() {
        device.makeCurrent();
        check(cublas_h.cublasDestroy_v2(handle), "cublasDestroy");
        scalars.close();
    }
}
