// Stream — a CUDA stream on a device's primary context; also the place where graph capture starts.
package org.transformer4j.runtime.cuda;

import static org.transformer4j.bindings.cuda_h.CUDA_ERROR_NOT_READY;
import static org.transformer4j.bindings.cuda_h.CUDA_SUCCESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.transformer4j.bindings.cuda_h;

/** Owned streams are destroyed by {@link #close()}; wrapped ones (JCuda, other libraries) are not. */
public final class Stream implements AutoCloseable {

    private final CudaDevice device;
    private final MemorySegment handle;
    private final boolean owned;
    private volatile boolean closed;

    private Stream(CudaDevice device, MemorySegment handle, boolean owned) {
        this.device = device;
        this.handle = handle;
        this.owned = owned;
    }

    /** A new non-blocking stream (it does not synchronize with the legacy default stream). */
    public static Stream create(CudaDevice device) {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(cuda_h.cuStreamCreate(p, cuda_h.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            return new Stream(device, p.get(ValueLayout.ADDRESS, 0), true);
        }
    }

    /** A stream someone else created (a raw CUstream address); never destroyed here. */
    public static Stream wrap(CudaDevice device, long cuStream) {
        return new Stream(device, MemorySegment.ofAddress(cuStream), false);
    }

    public CudaDevice device() { return device; }

    /** The CUstream. */
    public MemorySegment handle() {
        if (closed) throw new IllegalStateException("stream is closed");
        return handle;
    }

    public long address() { return handle().address(); }

    public void synchronize() {
        device.makeCurrent();
        Cuda.check(cuda_h.cuStreamSynchronize(handle()), "cuStreamSynchronize");
    }

    /** True when all queued work has finished. */
    public boolean isIdle() {
        device.makeCurrent();
        int r = cuda_h.cuStreamQuery(handle());
        if (r == CUDA_ERROR_NOT_READY) return false;
        Cuda.check(r, "cuStreamQuery");
        return r == CUDA_SUCCESS;
    }

    /** Makes later work on this stream wait for {@code event}. */
    public void waitFor(Event event) {
        device.makeCurrent();
        Cuda.check(cuda_h.cuStreamWaitEvent(handle(), event.handle(), 0), "cuStreamWaitEvent");
    }

    /** Starts capturing this stream's work into a graph (thread-local mode: other threads are unaffected). */
    public void beginCapture() {
        beginCapture(cuda_h.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    }

    /**
     * Starts capturing with a CU_STREAM_CAPTURE_MODE_*: RELAXED lets the capturing thread make
     * calls that are not stream work (cuMemAlloc by the caching allocator, event queries).
     */
    public void beginCapture(int mode) {
        device.makeCurrent();
        Cuda.check(cuda_h.cuStreamBeginCapture_v2(handle(), mode), "cuStreamBeginCapture");
    }

    /** Ends a capture whose work failed, discarding what was captured; never throws. */
    void abortCapture() {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = arena.allocate(ValueLayout.ADDRESS);
            int r = cuda_h.cuStreamEndCapture(handle(), g);   // INVALIDATED after a failed call: the graph is null
            MemorySegment graph = g.get(ValueLayout.ADDRESS, 0);
            if (r == CUDA_SUCCESS && graph.address() != 0) cuda_h.cuGraphDestroy(graph);
        }
    }

    /** Ends the capture and instantiates the graph, ready to {@link CudaGraph#launch} on any stream. */
    public CudaGraph endCapture() {
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(cuda_h.cuStreamEndCapture(handle(), g), "cuStreamEndCapture");
            MemorySegment graph = g.get(ValueLayout.ADDRESS, 0);
            MemorySegment e = arena.allocate(ValueLayout.ADDRESS);
            int r = cuda_h.cuGraphInstantiateWithFlags(e, graph, 0L);
            if (r != CUDA_SUCCESS) {
                cuda_h.cuGraphDestroy(graph);
                Cuda.check(r, "cuGraphInstantiateWithFlags");
            }
            return new CudaGraph(device, graph, e.get(ValueLayout.ADDRESS, 0));
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (owned) {
            device.makeCurrent();
            Cuda.check(cuda_h.cuStreamDestroy_v2(handle), "cuStreamDestroy");
        }
    }
}
