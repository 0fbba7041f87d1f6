// Event — a CUDA event: ordering between streams, completion queries, and GPU-side timing.
package org.transformer4j.runtime.cuda;

import static org.transformer4j.bindings.cuda_h.CUDA_ERROR_NOT_READY;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.bindings.cuda_h;

/** Created with or without timing; timing events can measure {@link #elapsedMillis}. */
public final class Event implements AutoCloseable {

    private final CudaDevice device;
    private final MemorySegment handle;
    private boolean closed;

    private Event(CudaDevice device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    public static Event create(CudaDevice device, boolean timing) {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(cuda_h.cuEventCreate(p, timing ? cuda_h.CU_EVENT_DEFAULT : cuda_h.CU_EVENT_DISABLE_TIMING),
                    "cuEventCreate");
            return new Event(device, p.get(ValueLayout.ADDRESS, 0));
        }
    }

    MemorySegment handle() {
        if (closed) throw new IllegalStateException("event is closed");
        return handle;
    }

    public Event record(Stream stream) {
        device.makeCurrent();
        Cuda.check(cuda_h.cuEventRecord(handle(), stream.handle()), "cuEventRecord");
        return this;
    }

    public void synchronize() {
        device.makeCurrent();
        Cuda.check(cuda_h.cuEventSynchronize(handle()), "cuEventSynchronize");
    }

    public boolean isDone() {
        device.makeCurrent();
        int r = cuda_h.cuEventQuery(handle());
        if (r == CUDA_ERROR_NOT_READY) return false;
        Cuda.check(r, "cuEventQuery");
        return true;
    }

    /** Milliseconds of GPU time from {@code start} to this event (both recorded, both with timing). */
    public float elapsedMillis(Event start) {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ms = arena.allocate(ValueLayout.JAVA_FLOAT);
            Cuda.check(cuda_h.cuEventElapsedTime(ms, start.handle(), handle()), "cuEventElapsedTime");
            return ms.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        Cuda.check(cuda_h.cuEventDestroy_v2(handle), "cuEventDestroy");
    }
}
