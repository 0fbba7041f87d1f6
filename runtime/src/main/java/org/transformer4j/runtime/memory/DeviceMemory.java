// DeviceMemory: the device operations the caching allocator needs, as a small SPI. The real
// implementation sits over the CUDA driver API (cuMemAlloc, cuMemFree, cuMemGetInfo,
// cuCtxSynchronize, cuEventCreate/cuEventRecord/cuEventQuery/cuEventDestroy); tests use a fake.
package org.transformer4j.runtime.memory;

/**
 * Device memory and the minimum of synchronization that a stream-ordered caching allocator needs.
 * Streams and events are opaque {@code long} handles; stream {@code 0} is the default stream.
 *
 * <p>The allocator calls these methods while holding its own lock, one call at a time; an
 * implementation need not be thread-safe for the allocator's sake, and must never call back into
 * the allocator.
 */
public interface DeviceMemory {

    /**
     * Allocates {@code bytes} of device memory ({@code cuMemAlloc}).
     *
     * @return the device address, or {@code 0} when the device has no room for the request (the
     *         allocator then empties its cache, retries once, and throws {@link DeviceOutOfMemoryError})
     */
    long malloc(long bytes);

    /** Releases memory returned by {@link #malloc} ({@code cuMemFree}). */
    void free(long address);

    /** Free bytes on the device ({@code cuMemGetInfo}'s free), used in error messages. */
    long freeBytes();

    /** Total bytes on the device ({@code cuMemGetInfo}'s total). */
    long totalBytes();

    /** Waits until all work queued on the device, on every stream, is done ({@code cuCtxSynchronize}). */
    void synchronize();

    /** Creates an event, records it on {@code stream} and returns its handle. */
    long recordEvent(long stream);

    /** Whether all work captured by the event has finished ({@code cuEventQuery} returned success). */
    boolean eventDone(long event);

    /** Destroys an event returned by {@link #recordEvent}. */
    void destroyEvent(long event);
}
