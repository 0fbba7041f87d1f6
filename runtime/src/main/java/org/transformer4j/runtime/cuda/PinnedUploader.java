// PinnedUploader — host → device loading for CudaBackend: a tensor (e.g. a view of a memory-mapped
// checkpoint) is converted chunk by chunk into one of two pinned staging buffers of fixed size,
// reused for every tensor, and each chunk's asynchronous copy overlaps the conversion of the next.
// Compiled, never run on a GPU (no GPU on the machine it was written on); GpuLoadTest (gpu tag) is its check.
package org.transformer4j.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import org.transformer4j.bindings.cuda_h;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.HostCopy;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Uploader;

/**
 * Host memory held: {@code 2 × chunk} bytes of pinned memory (default 2 × 16 MiB; {@code
 * -Dt4j.staging.mb}), allocated on the first upload and freed by {@link #close}. A buffer is
 * refilled only after the event recorded behind its last copy has completed.
 */
final class PinnedUploader implements Uploader {

    /** 16 MiB: large enough that the per-copy overhead (~10 µs) is under 1% at PCIe/NVLink speeds. */
    static final long DEFAULT_CHUNK_BYTES = 16L << 20;

    private final CudaBackend backend;
    private final long chunkBytes;
    private final MemorySegment[] buffers = new MemorySegment[2];
    private final Event[] inFlight = new Event[2];
    private int next;
    private boolean closed;

    PinnedUploader(CudaBackend backend) {
        this(backend, stagingBytes());
    }

    /** With buffers of {@code chunkBytes} (tests use small ones to go through many chunks). */
    PinnedUploader(CudaBackend backend, long chunkBytes) {
        if (chunkBytes < 8) throw new IllegalArgumentException("staging buffers of " + chunkBytes + " bytes");
        this.backend = backend;
        this.chunkBytes = chunkBytes;
    }

    private static long stagingBytes() {
        long mb = Long.getLong("t4j.staging.mb", DEFAULT_CHUNK_BYTES >> 20);
        if (mb < 1 || mb > 4096) throw new IllegalArgumentException("t4j.staging.mb must be 1..4096, got " + mb);
        return mb << 20;
    }

    @Override
    public Tensor upload(Tensor host, DType dtype) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dtype, "dtype");
        if (closed) throw new IllegalStateException("uploader is closed");
        backend.checkUploadable("upload", host);
        if (!HostCopy.supports(host.dtype(), dtype)) {
            throw new IllegalArgumentException("upload: cannot convert " + host + " to " + dtype);
        }
        Tensor dst = backend.empty(dtype, host.shape());
        try {
            long n = host.numel(), size = dtype.byteSize(), per = chunkBytes / size;
            CudaDevice device = backend.cudaDevice();
            for (long e = 0; e < n; e += per) {
                long k = Math.min(per, n - e);
                int b = next;
                next = 1 - next;
                MemorySegment buf = buffer(b);
                if (inFlight[b] != null) inFlight[b].synchronize();      // its previous copy has left the buffer
                HostCopy.convertParallel(host, dtype, buf, e, k);
                try (var use = backend.streamUse()) {                   // not while another thread captures
                    device.makeCurrent();
                    Cuda.check(cuda_h.cuMemcpyHtoDAsync_v2(dst.deviceAddress() + e * size, buf, k * size, backend.stream().handle()),
                            "cuMemcpyHtoDAsync(" + k * size + " pinned bytes)");
                    if (inFlight[b] == null) inFlight[b] = Event.create(device, false);
                    inFlight[b].record(backend.stream());
                }
            }
            return dst;
        } catch (RuntimeException | Error e) {
            dst.close();                                                   // in stream order: after the copies queued
            throw e;
        }
    }

    @Override
    public Tensor share(Tensor host, DType dtype) { return upload(host, dtype); }

    @Override
    public long availableBytes() {
        return backend.cudaDevice().memoryInfo()[0] + backend.memoryStats().bytesCached();
    }

    private MemorySegment buffer(int b) {
        if (buffers[b] == null) {
            backend.cudaDevice().makeCurrent();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment pp = arena.allocate(ValueLayout.ADDRESS);
                Cuda.check(cuda_h.cuMemHostAlloc(pp, chunkBytes, 0), "cuMemHostAlloc(" + chunkBytes + " bytes of staging)");
                buffers[b] = pp.get(ValueLayout.ADDRESS, 0).reinterpret(chunkBytes);
            }
        }
        return buffers[b];
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException first = null;
        for (int b = 0; b < 2; b++) {
            try {
                if (inFlight[b] != null) {
                    inFlight[b].synchronize();
                    inFlight[b].close();
                }
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
            if (buffers[b] != null) {
                backend.cudaDevice().makeCurrent();
                try {
                    Cuda.check(cuda_h.cuMemFreeHost(buffers[b]), "cuMemFreeHost(staging)");
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
                buffers[b] = null;
            }
        }
        if (first != null) throw first;
    }
}
