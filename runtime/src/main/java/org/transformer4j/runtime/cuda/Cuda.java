// Cuda — checked calls into the CUDA driver: error names, out-parameter helpers, device count.
package org.transformer4j.runtime.cuda;

import static org.transformer4j.bindings.cuda_h.CUDA_SUCCESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.bindings.T4jException;
import org.transformer4j.bindings.T4jLibrary;
import org.transformer4j.bindings.cuda_h;
import org.transformer4j.bindings.t4j_h;

/** Static helpers; every public runtime class calls the driver through these. */
public final class Cuda {

    private Cuda() {}

    /** Throws {@link CudaException} naming {@code op} unless {@code result} is CUDA_SUCCESS. */
    public static void check(int result, String op) {
        if (result != CUDA_SUCCESS) throw new CudaException(op, result, errorName(result), errorString(result));
    }

    /** Throws {@link CudaException} for a failed libt4j status that carries a CUDA error, else T4jException. */
    public static void checkT4j(int status, String op) {
        if (status == t4j_h.T4J_SUCCESS) return;
        if (status > t4j_h.T4J_STATUS_CUDA_BASE) check(status - t4j_h.T4J_STATUS_CUDA_BASE, op);
        T4jLibrary.check(status, op);
    }

    public static String errorName(int result) { return driverString(result, true); }

    public static String errorString(int result) { return driverString(result, false); }

    private static String driverString(int result, boolean name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            int r = name ? cuda_h.cuGetErrorName(result, p) : cuda_h.cuGetErrorString(result, p);
            MemorySegment s = p.get(ValueLayout.ADDRESS, 0);
            if (r != CUDA_SUCCESS || s.equals(MemorySegment.NULL)) return "CUDA error " + result;
            return s.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (UnsatisfiedLinkError e) {
            return "CUDA error " + result;
        }
    }

    /**
     * Opens the driver (through libt4j, which also checks the version the kernels need) and
     * returns the number of devices. Throws with the one-sentence reason where CUDA is unusable.
     */
    public static int deviceCount() {
        try {
            T4jLibrary.initDriver();
        } catch (T4jException e) {
            if (e.status() == t4j_h.T4J_ERROR_NO_DRIVER) {
                throw new CudaUnavailableException("no CUDA driver is installed (libcuda.so.1 not found)");
            }
            if (e.status() > t4j_h.T4J_STATUS_CUDA_BASE) {
                int code = e.cudaError();
                throw new CudaUnavailableException("the CUDA driver failed to initialise: " + errorName(code) + ": "
                        + errorString(code));
            }
            throw new CudaUnavailableException(e.getMessage().replaceFirst("^t4j_driver_init failed: ", ""));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuInit(0), "cuInit");
            check(cuda_h.cuDeviceGetCount(n), "cuDeviceGetCount");
            return n.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** The driver's CUDA version (cuDriverGetVersion), e.g. 13000. */
    public static int driverVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDriverGetVersion(v), "cuDriverGetVersion");
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** CUDA cannot be used here; the message is one sentence that says why. */
    public static final class CudaUnavailableException extends RuntimeException {
        public CudaUnavailableException(String message) { super(message); }
    }
}
