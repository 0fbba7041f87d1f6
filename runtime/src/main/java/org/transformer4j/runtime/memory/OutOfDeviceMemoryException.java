// OutOfDeviceMemoryException: what a DeviceMemory implementation throws when malloc finds no room
// (CUDA_ERROR_OUT_OF_MEMORY). The caching allocator catches it, empties its cache and retries;
// users see DeviceOutOfMemoryError instead.
package org.transformer4j.runtime.memory;

/** The device could not satisfy a {@link DeviceMemory#malloc} request. */
public class OutOfDeviceMemoryException extends Exception {

    private static final long serialVersionUID = 1L;

    private final long requestedBytes;

    public OutOfDeviceMemoryException(long requestedBytes) {
        this(requestedBytes, "device out of memory allocating " + requestedBytes + " bytes");
    }

    public OutOfDeviceMemoryException(long requestedBytes, String message) {
        super(message);
        this.requestedBytes = requestedBytes;
    }

    /** The byte count passed to {@link DeviceMemory#malloc}. */
    public long requestedBytes() {
        return requestedBytes;
    }
}
