// PinnedUploaderTest — the CUDA load path (mapped-style host view → pinned staging → device) against
// the same oracle as HostCopyTest: transposed and sliced views, F32/F16/BF16 each way, with staging
// buffers small enough that one tensor takes hundreds of chunks through the two reused buffers.
// Tagged gpu: never run on a GPU so far (written on a machine without one).
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.HostCopyOracle;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Uploader;

@Tag("gpu")
class PinnedUploaderTest {

    @Test
    void viewsArriveOnTheDeviceConvertedAsTheOracleRounds() {
        CudaBackend gpu = GpuTests.backend();
        SplittableRandom rnd = new SplittableRandom(GpuTests.seed());
        DType[] floats = {DType.F32, DType.F16, DType.BF16};
        for (DType from : floats) {
            try (Tensor m = HostCopyOracle.random(rnd, from, 300, 517)) {
                Tensor[] views = {m, m.transpose(0, 1), m.slice(1, 100, 400).transpose(0, 1), m.slice(1, 5, 260)};
                for (DType to : floats) {
                    try (Uploader up = new PinnedUploader(gpu, 4096)) {
                        for (Tensor v : views) {
                            try (Tensor d = up.upload(v, to); Tensor h = gpu.toHost(d)) {
                                assertEquals(to, d.dtype());
                                long n = v.numel();
                                for (long k = 0; k < n; k++) {
                                    double want = HostCopyOracle.expected(HostCopyOracle.read(v, k), to);
                                    float got = HostCopyOracle.read(h, k);
                                    if (Double.compare(want, got) != 0) {
                                        throw new AssertionError(from + " → " + to + " " + v.shapeString() + " element " + k
                                                + ": got " + got + ", expected " + want);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void reportsTheDeviceMemoryALoadCanTake() {
        CudaBackend gpu = GpuTests.backend();
        try (Uploader up = gpu.uploader()) {
            long free = up.availableBytes();
            assertTrue(free > 0 && free <= gpu.cudaDevice().totalMemoryBytes(), "available " + free);
        }
    }
}
