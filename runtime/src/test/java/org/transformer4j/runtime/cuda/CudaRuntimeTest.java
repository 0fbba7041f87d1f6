// CudaRuntimeTest — the CUDA runtime pieces on a real GPU: host↔device round trips for every dtype,
// device copies, the caching allocator (reuse, out-of-memory message, no growth), events, and a
// CUDA graph captured once and replayed on new inputs.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.memory.AllocatorStats;
import org.transformer4j.runtime.memory.DeviceOutOfMemoryError;

@Tag("gpu")
class CudaRuntimeTest {

    @Test
    void roundTripsEveryDType() {
        CudaBackend gpu = GpuTests.backend();
        SplittableRandom rnd = new SplittableRandom(GpuTests.seed());
        for (DType dt : DType.values()) {
            float[] data = GpuTests.random(rnd, 1000, 100);
            for (int i = 0; i < data.length; i++) {
                data[i] = dt.isFloatingPoint() ? data[i] : dt == DType.U8 ? Math.abs(Math.round(data[i])) : Math.round(data[i]);
            }
            try (Tensor h = Tensor.of(dt, data, 10, 100); Tensor d = gpu.upload(h); Tensor d2 = gpu.empty(dt, 10, 100)) {
                gpu.copy(d, d2);
                try (Tensor back = gpu.toHost(d2)) {
                    assertArrayEquals(h.toFloatArray(), back.toFloatArray(), 0f, dt.toString());
                }
            }
        }
    }

    @Test
    void allocatorReusesMemoryAndNamesTheBytesWhenItRunsOut() {
        CudaBackend gpu = GpuTests.backend();
        AllocatorStats before = gpu.memoryStats();
        for (int i = 0; i < 1000; i++) {
            try (Tensor t = gpu.empty(DType.BF16, 128, 768)) {
                assertTrue(t.deviceAddress() != 0);
            }
        }
        AllocatorStats after = gpu.memoryStats();
        assertTrue(after.deviceMallocs() - before.deviceMallocs() <= 1, "1000 same-size tensors need one cudaMalloc: " + after);
        long huge = 1L << 50;                                        // 1 PiB: no GPU has it
        DeviceOutOfMemoryError e = assertThrows(DeviceOutOfMemoryError.class, () -> gpu.empty(DType.F32, huge / 4));
        assertTrue(e.getMessage().contains(Long.toString(huge)), e.getMessage());
        try (Tensor t = gpu.empty(DType.F32, 16)) {                  // still usable afterwards
            assertTrue(t.deviceAddress() != 0);
        }
    }

    @Test
    void graphReplaysCapturedKernelsOnNewInputs() {
        CudaBackend gpu = GpuTests.backend();
        CpuBackend cpu = new CpuBackend();
        SplittableRandom rnd = new SplittableRandom(GpuTests.seed());
        int rows = 32;
        int cols = 768;
        try (Tensor hw = Tensor.of(DType.F32, GpuTests.random(rnd, cols, 1), cols);
             Tensor w = gpu.upload(hw); Tensor x = gpu.empty(DType.F32, rows, cols); Tensor out = gpu.empty(DType.F32, rows, cols);
             Tensor cOut = Tensor.empty(DType.F32, rows, cols)) {
            NormOp op = NormOp.rms(x, w, 1e-6f, out);
            Stream s = gpu.stream();
            gpu.synchronize();
            s.beginCapture();
            gpu.norm(op);
            try (CudaGraph graph = s.endCapture()) {
                for (int round = 0; round < 3; round++) {
                    try (Tensor hx = Tensor.of(DType.F32, GpuTests.random(rnd, rows * cols, 2), rows, cols);
                         Tensor fresh = gpu.upload(hx)) {
                        gpu.copy(fresh, x);
                        graph.launch(s);
                        cpu.norm(NormOp.rms(hx, hw, 1e-6f, cOut));
                        float[] want = cOut.toFloatArray();
                        double[] ref = new double[want.length];
                        for (int i = 0; i < ref.length; i++) ref[i] = want[i];
                        GpuTests.withinTolerance(DType.F32, GpuTests.download(gpu, out), want, ref, "graph replay " + round);
                    }
                }
            }
        }
    }

    @Test
    void eventsOrderAndTimeWork() {
        CudaBackend gpu = GpuTests.backend();
        CudaDevice dev = gpu.cudaDevice();
        try (Event start = Event.create(dev, true); Event end = Event.create(dev, true);
             Tensor t = gpu.empty(DType.F32, 4096, 4096); Tensor u = gpu.empty(DType.F32, 4096, 4096)) {
            start.record(gpu.stream());
            gpu.copy(t, u);
            end.record(gpu.stream());
            end.synchronize();
            assertTrue(end.isDone());
            float ms = end.elapsedMillis(start);
            assertTrue(ms > 0 && ms < 10_000, "64 MiB device copy took " + ms + " ms");
        }
        assertEquals(gpu.cudaDevice().name(), "cuda:0");
    }
}
