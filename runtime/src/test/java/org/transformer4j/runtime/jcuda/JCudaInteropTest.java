// JCudaInteropTest — pointer and stream conversions between JCuda and transformer4j. The address
// arithmetic needs no GPU (and must not need JCuda's native library); the GPU part allocates with
// JCuda, runs a transformer4j kernel on that memory, and loads t4j.fatbin through JCuda.
package org.transformer4j.runtime.jcuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Device;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cuda.CudaBackend;
import org.transformer4j.runtime.cuda.Stream;

class JCudaInteropTest {

    /** A device that only carries addresses, for conversions that never touch the GPU. */
    private static final Device FAKE = new Device() {
        @Override public boolean isCuda() { return true; }
        @Override public String name() { return "fake-cuda"; }
    };

    @Test
    void pointersConvertBothWaysWithoutTheDriver() {
        long base = 0x7f00_1234_5600L;
        try (Tensor t = Tensor.wrapDevice(FAKE, base, 4096, DType.F32, new long[] {32, 32}, () -> { })) {
            CUdeviceptr p = JCudaInterop.devicePointer(t);
            assertEquals(base, JCudaInterop.address(p));
            assertEquals(base + 256, JCudaInterop.address(p.withByteOffset(256)));
            Tensor row3 = t.slice(0, 3, 4);
            assertEquals(base + 3 * 32 * 4, JCudaInterop.address(JCudaInterop.devicePointer(row3)));
        }
    }

    @Tag("gpu")
    @Test
    void jcudaMemoryRunsTransformer4jKernelsAndLoadsTheFatbin() {
        Backends.CudaStatus status = Backends.cudaStatus();
        // -Dt4j.test.requireGpu=true (ci/gpu-check sets it): an unusable GPU fails the test instead of skipping it
        if (Boolean.getBoolean("t4j.test.requireGpu")) assertTrue(status.usable(), () -> "no usable GPU (-Dt4j.test.requireGpu=true): " + status.reason());
        assumeTrue(status.usable(), () -> "no usable GPU: " + status.reason());
        try (CudaBackend gpu = CudaBackend.create(0)) {
            gpu.cudaDevice().makeCurrent();                         // JCuda then works in the primary context
            int n = 4 * 64;
            CUdeviceptr jx = new CUdeviceptr();
            CUdeviceptr jw = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(jx, (long) n * Sizeof.FLOAT);
            JCudaDriver.cuMemAlloc(jw, 64L * Sizeof.FLOAT);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (i % 7) - 3f;
            float[] w = new float[64];
            java.util.Arrays.fill(w, 2f);
            JCudaDriver.cuMemcpyHtoD(jx, Pointer.to(x), (long) n * Sizeof.FLOAT);
            JCudaDriver.cuMemcpyHtoD(jw, Pointer.to(w), 64L * Sizeof.FLOAT);
            try (Tensor tx = JCudaInterop.wrap(gpu.cudaDevice(), jx, (long) n * Sizeof.FLOAT, DType.F32, 4, 64);
                 Tensor tw = JCudaInterop.wrap(gpu.cudaDevice(), jw, 64L * Sizeof.FLOAT, DType.F32, 64)) {
                gpu.norm(NormOp.rms(tx, tw, 0f, tx));                  // in place, on JCuda's memory
                gpu.synchronize();
            }
            float[] back = new float[n];
            JCudaDriver.cuMemcpyDtoH(Pointer.to(back), jx, (long) n * Sizeof.FLOAT);
            for (int r = 0; r < 4; r++) {
                double ms = 0;
                for (int j = 0; j < 64; j++) ms += Math.pow(x[r * 64 + j], 2) / 64;
                for (int j = 0; j < 64; j++) {
                    assertEquals(x[r * 64 + j] / Math.sqrt(ms) * 2, back[r * 64 + j], 1e-5, "row " + r);
                }
            }
            JCudaDriver.cuMemFree(jx);
            JCudaDriver.cuMemFree(jw);

            CUstream js = JCudaInterop.stream(gpu.stream());
            Stream again = JCudaInterop.wrap(gpu.cudaDevice(), js);
            assertEquals(gpu.stream().address(), again.address());
            again.close();                                          // a wrapped stream is not destroyed
            gpu.stream().synchronize();

            Map<String, CUfunction> kernels = JCudaInterop.loadKernels(gpu.cudaDevice());
            assertTrue(kernels.keySet().containsAll(java.util.Set.of("t4j_norm_f32", "t4j_norm_f16", "t4j_norm_bf16")),
                    kernels.keySet().toString());
        }
    }
}
