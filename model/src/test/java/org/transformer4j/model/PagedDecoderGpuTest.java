// PagedDecoderGpuTest — PagedDecoderTest's scenario on the CUDA backend: the serving engine's captured
// decode steps per batch bucket (real CUDA graphs, the block table a device tensor copied between
// replays, padding rows writing a reserved block) against op-by-op steps of the same sequences. The two
// paths run the matrix products at different M (bucket against B), so cuBLAS may take other kernels:
// within a tolerance, not bit for bit. Written without a GPU: never run on one yet (ci/gpu-check phase "tests").
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.cuda.CudaBackend;

@Tag("gpu")
class PagedDecoderGpuTest {

    /** fp32 on the GPU, other GEMM kernels for other M: relative L2 error per step or block. */
    static final double REL_TOL = 1e-5;

    @Test
    void capturedBucketStepsMatchOpByOpStepsOnCuda() {
        try (CudaBackend cuda = ModelGpuTest.gpu(); Weights w = Weights.random(Tiny.ropeDecoder(), cuda, 21)) {
            PagedDecoderTest.scenario(new Transformer(w, cuda), (want, got, what) -> {
                double e = ModelGpuTest.relErr(new float[][] {got}, new float[][] {want});
                assertTrue(e <= REL_TOL || (Double.isNaN(e) && java.util.Arrays.equals(want, got)), what + ": relative error " + e);
            });
        }
    }
}
