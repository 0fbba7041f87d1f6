// CudaException — a CUDA driver or cuBLAS call failed; names the op and the error.
package org.transformer4j.runtime.cuda;

/** A failed CUDA call: {@link #op()} is what transformer4j was doing, {@link #code()} the CUresult. */
public final class CudaException extends RuntimeException {

    private final String op;
    private final int code;

    public CudaException(String op, int code, String errorName, String description) {
        super(op + " failed: " + errorName + " (" + code + "): " + description);
        this.op = op;
        this.code = code;
    }

    public String op() { return op; }

    public int code() { return code; }
}
