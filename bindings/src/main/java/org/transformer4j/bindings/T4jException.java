// T4jException — a libt4j entry point returned an error status; names the op and the status.
package org.transformer4j.bindings;

/** A failed libt4j call. For CUDA driver errors {@link #cudaError()} gives the CUresult. */
public final class T4jException extends RuntimeException {

    private final String op;
    private final int status;

    public T4jException(String op, int status, String description) {
        super(op + " failed: " + description + " (status " + status + ")");
        this.op = op;
        this.status = status;
    }

    public String op() { return op; }

    public int status() { return status; }

    /** The CUresult when the failure came from the CUDA driver, else -1. */
    public int cudaError() { return status > t4j_h.T4J_STATUS_CUDA_BASE ? status - t4j_h.T4J_STATUS_CUDA_BASE : -1; }
}
