// CudaMemory — the caching allocator's device SPI over the CUDA driver of one device.
package org.transformer4j.runtime.cuda;

import static org.transformer4j.bindings.cuda_h.CUDA_ERROR_NOT_READY;
import static org.transformer4j.bindings.cuda_h.CUDA_ERROR_OUT_OF_MEMORY;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.bindings.cuda_h;
import org.transformer4j.runtime.memory.DeviceMemory;

/** cuMemAlloc/cuMemFree/cuMemGetInfo/cuCtxSynchronize and events, in the device's primary context. */
final class CudaMemory implements DeviceMemory {

    private final CudaDevice device;

    CudaMemory(CudaDevice device) { this.device = device; }

    @Override
    public long malloc(long bytes) {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.JAVA_LONG);
            int r = cuda_h.cuMemAlloc_v2(p, bytes);
            if (r == CUDA_ERROR_OUT_OF_MEMORY) return 0;                     // no room: the allocator retries
            Cuda.check(r, "cuMemAlloc(" + bytes + " bytes)");
            return p.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    @Override
    public void free(long address) {
        device.makeCurrent();
        Cuda.check(cuda_h.cuMemFree_v2(address), "cuMemFree");
    }

    @Override
    public long freeBytes() { return device.memoryInfo()[0]; }

    @Override
    public long totalBytes() { return device.memoryInfo()[1]; }

    @Override
    public void synchronize() {
        device.makeCurrent();
        Cuda.check(cuda_h.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    @Override
    public long recordEvent(long stream) {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(cuda_h.cuEventCreate(p, cuda_h.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            MemorySegment event = p.get(ValueLayout.ADDRESS, 0);
            Cuda.check(cuda_h.cuEventRecord(event, MemorySegment.ofAddress(stream)), "cuEventRecord");
            return event.address();
        }
    }

    @Override
    public boolean eventDone(long event) {
        device.makeCurrent();
        int r = cuda_h.cuEventQuery(MemorySegment.ofAddress(event));
        if (r == CUDA_ERROR_NOT_READY) return false;
        Cuda.check(r, "cuEventQuery");
        return true;
    }

    @Override
    public void destroyEvent(long event) {
        device.makeCurrent();
        Cuda.check(cuda_h.cuEventDestroy_v2(MemorySegment.ofAddress(event)), "cuEventDestroy");
    }
}
