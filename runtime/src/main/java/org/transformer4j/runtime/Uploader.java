// Uploader — moves host tensors (typically transposed or sliced views of a memory-mapped
// checkpoint) into a backend one at a time, converting the dtype on the way, through a bounded
// amount of host memory: never a Java array, never a whole-tensor fp32 copy on the host.
package org.transformer4j.runtime;

/**
 * From {@link Backend#uploader()}. On the CPU backend the elements are converted straight into the
 * new tensor's native memory; on CUDA they go through a few pinned staging buffers of fixed size,
 * reused chunk after chunk, and the copies to the device overlap the conversion of the next chunk.
 * One uploader serves one thread; close it when the load is done (that frees the staging memory
 * after the copies in flight complete).
 */
public interface Uploader extends AutoCloseable {

    /**
     * A new contiguous tensor of {@code dtype} in the backend's memory holding {@code host}'s elements
     * in row-major order ({@code host} may have any strides). F32, F16 and BF16 convert among each
     * other (to nearest, ties to even, as {@link Tensor#of}); I32 and I64 copy to their own type only.
     */
    Tensor upload(Tensor host, DType dtype);

    /**
     * As {@link #upload}, except that where the backend can compute on {@code host}'s memory as it is
     * (the CPU backend, {@code host} contiguous and already {@code dtype}) the result is a view of that
     * memory, not a copy: it stays valid exactly as long as that memory (e.g. a mapped file) does, and
     * closing it frees nothing. {@link #isView} says which happened.
     */
    Tensor share(Tensor host, DType dtype);

    /** Whether {@code t}, returned by {@link #share}, is a view of the host memory rather than a copy. */
    static boolean isView(Tensor t) {
        return t.storage() instanceof Storage.Host h && h.isBorrowed();
    }

    /**
     * Bytes of new tensors the backend can still take: on CUDA, free device memory plus what the
     * allocator caches; on the CPU, the host's available memory ({@link HostMemory#available}); -1 when
     * unknown. A load compares its total with this before it allocates anything.
     */
    long availableBytes();

    /** Waits for copies in flight and frees the staging memory; the tensors uploaded stay valid. */
    @Override
    void close();
}
