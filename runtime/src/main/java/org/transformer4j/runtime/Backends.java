// Backends — picks the backend: CUDA where it is usable, else the CPU; -Dt4j.backend forces one.
package org.transformer4j.runtime;

import java.lang.System.Logger.Level;
import java.util.Locale;
import org.transformer4j.runtime.cuda.Cuda;
import org.transformer4j.runtime.cuda.CudaBackend;

/**
 * {@code -Dt4j.backend=auto|cpu|cuda} (default auto). {@code cuda} where CUDA is unusable fails
 * with one sentence saying why; {@code auto} falls back to the CPU and logs that sentence.
 */
public final class Backends {

    private static final System.Logger LOG = System.getLogger("org.transformer4j");

    private Backends() {}

    /** Whether the CUDA backend can be created here, and if not, why (one sentence). */
    public record CudaStatus(boolean usable, String reason) {}

    /** Probes CUDA without keeping anything open beyond the driver and the device's primary context. */
    public static CudaStatus cudaStatus() {
        try {
            CudaBackend b = CudaBackend.create(0);
            String d = b.description();
            b.close();
            return new CudaStatus(true, d);
        } catch (Cuda.CudaUnavailableException e) {
            return new CudaStatus(false, e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return new CudaStatus(false, "CUDA could not be initialised: " + e.getMessage());
        }
    }

    /** The backend {@code -Dt4j.backend} asks for (default auto). */
    public static Backend select() {
        return select(System.getProperty("t4j.backend", "auto"));
    }

    /** {@code choice} is auto, cpu or cuda (case-insensitive). */
    public static Backend select(String choice) {
        String c = choice == null ? "auto" : choice.trim().toLowerCase(Locale.ROOT);
        switch (c) {
            case "cpu" -> {
                LOG.log(Level.DEBUG, "backend: cpu (asked for with t4j.backend=cpu)");
                return new CpuBackend();
            }
            case "cuda" -> {
                try {
                    Backend b = CudaBackend.create(0);
                    LOG.log(Level.DEBUG, "backend: " + b.description() + " (asked for with t4j.backend=cuda)");
                    return b;
                } catch (Cuda.CudaUnavailableException e) {
                    throw new BackendUnavailableException("the CUDA backend was requested (t4j.backend=cuda) but "
                            + e.getMessage());
                }
            }
            case "auto" -> {
                try {
                    Backend b = CudaBackend.create(0);
                    LOG.log(Level.INFO, "backend: " + b.description());
                    return b;
                } catch (Cuda.CudaUnavailableException e) {
                    LOG.log(Level.INFO, "backend: cpu, because " + e.getMessage());
                    return new CpuBackend();
                } catch (RuntimeException | LinkageError e) {
                    LOG.log(Level.WARNING, "backend: cpu, because CUDA failed to initialise: " + e);
                    return new CpuBackend();
                }
            }
            default -> throw new IllegalArgumentException("t4j.backend must be auto, cpu or cuda, got '" + choice + "'");
        }
    }

    /** The requested backend cannot be used here. */
    public static final class BackendUnavailableException extends RuntimeException {
        public BackendUnavailableException(String message) { super(message); }
    }
}
