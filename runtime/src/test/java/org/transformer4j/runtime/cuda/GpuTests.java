// GpuTests — shared pieces of the `gpu`-tagged tests: the backend (or a skip with the reason),
// random data, NaN poisoning, and the design's tolerance rule.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Tolerance;

final class GpuTests {

    private GpuTests() {}

    private static CudaBackend backend;
    private static Backends.CudaStatus status;

    /**
     * One backend for the whole run; skips the calling test, with the reason, where CUDA is unusable.
     * The probe runs once: it creates and closes a whole backend, and hundreds of tests ask.
     */
    static synchronized CudaBackend backend() {
        if (status == null) status = Backends.cudaStatus();
        Backends.CudaStatus s = status;
        // -Dt4j.test.requireGpu=true (ci/gpu-check sets it): an unusable GPU fails the test instead of skipping it
        if (Boolean.getBoolean("t4j.test.requireGpu")) assertTrue(s.usable(), () -> "no usable GPU (-Dt4j.test.requireGpu=true): " + s.reason());
        assumeTrue(s.usable(), () -> "no usable GPU: " + s.reason());
        if (backend == null) backend = CudaBackend.create(0);
        return backend;
    }

    /** A fresh seed per call, printed in failure messages so a failure can be replayed. */
    static long seed() { return System.nanoTime(); }

    static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return v;
    }

    /** A device tensor whose every element is NaN, so that an element the kernel skips shows. */
    static Tensor poisoned(CudaBackend b, DType dt, long... shape) {
        try (Tensor h = Tensor.empty(dt, shape)) {
            h.fill(Float.NaN);
            return b.upload(h);
        }
    }

    static float[] download(CudaBackend b, Tensor t) {
        try (Tensor h = b.toHost(t)) {
            return h.toFloatArray();
        }
    }

    static void allWritten(float[] got, String what) {
        for (int i = 0; i < got.length; i++) {
            if (Float.isNaN(got[i])) throw new AssertionError(what + ": element " + i + " was not written (still NaN)");
        }
    }

    /** {@link Tolerance#violation}, the design's rule, after checking that every element was written. */
    static void withinTolerance(DType dt, float[] gpu, float[] cpuTwin, double[] ref, String what) {
        withinTolerance(dt, gpu, cpuTwin, ref, 0, what);
    }

    /** The rule with {@code extraRoundings} more roundings to the dtype than the naive twin makes. */
    static void withinTolerance(DType dt, float[] gpu, float[] cpuTwin, double[] ref, int extraRoundings, String what) {
        allWritten(gpu, what);
        String v = Tolerance.violation(dt, gpu, cpuTwin, ref, extraRoundings);
        if (v != null) throw new AssertionError(what + ": " + v);
    }

}
