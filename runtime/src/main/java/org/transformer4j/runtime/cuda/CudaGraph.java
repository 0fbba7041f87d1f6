// CudaGraph — work captured from a stream once and replayed with one launch.
package org.transformer4j.runtime.cuda;

import java.lang.foreign.MemorySegment;
import org.transformer4j.bindings.cuda_h;

/** From {@link Stream#endCapture()}; replays the captured kernels and copies with {@link #launch}. */
public final class CudaGraph implements AutoCloseable {

    private final CudaDevice device;
    private final MemorySegment graph;
    private final MemorySegment exec;
    private boolean closed;

    CudaGraph(CudaDevice device, MemorySegment graph, MemorySegment exec) {
        this.device = device;
        this.graph = graph;
        this.exec = exec;
    }

    public void launch(Stream stream) {
        if (closed) throw new IllegalStateException("graph is closed");
        device.makeCurrent();
        Cuda.check(cuda_h.cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        Cuda.check(cuda_h.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
        Cuda.check(cuda_h.cuGraphDestroy(graph), "cuGraphDestroy");
    }
}
