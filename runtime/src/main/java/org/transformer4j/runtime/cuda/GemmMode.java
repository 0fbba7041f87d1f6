// GemmMode — which GEMM path CudaBackend.linear takes: the custom tensor-core kernel with its fused
// epilogue, cuBLAS followed by the t4j_bias_act kernel, or a per-shape choice. -Dt4j.gemm selects.
package org.transformer4j.runtime.cuda;

import java.util.Locale;

public enum GemmMode {
    /** Custom kernel for F16/BF16 with M ≥ {@link #AUTO_MIN_ROWS}; cuBLAS + epilogue kernel otherwise. */
    AUTO,
    /** Always the custom kernel; F32 (which it does not cover) is rejected with a message. */
    CUSTOM,
    /** Always cuBLAS for the product, then the epilogue kernel (the baseline). */
    CUBLAS;

    /**
     * Below this many rows the custom kernel's tiles (64 rows at least) are mostly padding (T=1
     * decode uses 1/64 of each mma) and its grid is small, where cuBLAS's GEMV-like kernels do
     * better. A guess until measured on a GPU.
     */
    public static final int AUTO_MIN_ROWS = 64;

    /** {@code -Dt4j.gemm=auto|custom|cublas} (default auto). */
    public static GemmMode fromSystemProperty() {
        String v = System.getProperty("t4j.gemm", "auto").trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "auto" -> AUTO;
            case "custom" -> CUSTOM;
            case "cublas" -> CUBLAS;
            default -> throw new IllegalArgumentException("t4j.gemm must be auto, custom or cublas, got '" + v + "'");
        };
    }
}
