// HostUploader — the Uploader of backends whose memory is host memory (the CPU backend): each
// tensor is converted straight into its new native memory, or shared as it is; for any other
// backend without its own uploader, converted into a native host tensor and uploaded from there.
package org.transformer4j.runtime;

import java.util.Objects;

/** See {@link Uploader}. */
public final class HostUploader implements Uploader {

    private final Backend backend;
    private final boolean hostMemory;

    public HostUploader(Backend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.hostMemory = !backend.device().isCuda();
    }

    @Override
    public Tensor upload(Tensor host, DType dtype) {
        check(host, dtype);
        Tensor t = Tensor.empty(dtype, host.shape());
        try {
            HostCopy.convertParallel(host, dtype, t.hostSegment(), 0, host.numel());
            if (hostMemory) return t;
            try (t) {
                return backend.upload(t);
            }
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
    }

    @Override
    public Tensor share(Tensor host, DType dtype) {
        check(host, dtype);
        if (hostMemory && host.dtype() == dtype && host.isContiguous()) {
            // A tensor of its own over the same bytes: it must not die with host's Tensor object (whose
            // Cleaner marks the storage released), only with the memory itself.
            long bytes = host.numel() * dtype.byteSize();
            return Tensor.wrapHost(host.hostSegment().asSlice(0, bytes), dtype, host.shape());
        }
        return upload(host, dtype);
    }

    private static void check(Tensor host, DType dtype) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dtype, "dtype");
        host.checkOpen();
        if (host.isCuda()) throw new IllegalArgumentException("upload: " + host + " is not a host tensor");
        if (!HostCopy.supports(host.dtype(), dtype)) {
            throw new IllegalArgumentException("upload: cannot convert " + host + " to " + dtype);
        }
    }

    @Override
    public long availableBytes() { return hostMemory ? HostMemory.available() : -1; }

    @Override
    public void close() {}
}
