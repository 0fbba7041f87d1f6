// DeviceOutOfMemoryError: the user-facing failure of CachingAllocator.allocate after the cache was
// emptied and the device allocation retried. A RuntimeException (the name follows PyTorch's
// torch.cuda.OutOfMemoryError); the message names every number needed to act on it.
package org.transformer4j.runtime.memory;

import java.util.Locale;

/** A device allocation failed even after the allocator released its cache and retried once. */
public class DeviceOutOfMemoryError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long requestedBytes;
    private final long classBytes;
    private final long deviceFreeBytes;
    private final long deviceTotalBytes;
    private final long bytesInUse;
    private final long bytesCached;
    private final long bytesReleasedBeforeRetry;

    /**
     * @param deviceFreeBytes  free bytes the device reported after the retry failed, or -1 if unknown
     * @param deviceTotalBytes total device bytes, or -1 if unknown
     */
    public DeviceOutOfMemoryError(long requestedBytes, long classBytes, long stream, long deviceFreeBytes,
                                  long deviceTotalBytes, long bytesInUse, long bytesCached,
                                  long bytesReleasedBeforeRetry, Throwable cause) {
        super(message(requestedBytes, classBytes, stream, deviceFreeBytes, deviceTotalBytes, bytesInUse,
                bytesCached, bytesReleasedBeforeRetry), cause);
        this.requestedBytes = requestedBytes;
        this.classBytes = classBytes;
        this.deviceFreeBytes = deviceFreeBytes;
        this.deviceTotalBytes = deviceTotalBytes;
        this.bytesInUse = bytesInUse;
        this.bytesCached = bytesCached;
        this.bytesReleasedBeforeRetry = bytesReleasedBeforeRetry;
    }

    /** Bytes the caller asked for. */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** The size class the request was rounded to: what was asked of the device. */
    public long classBytes() {
        return classBytes;
    }

    /** Free bytes the device reported when the error was raised; -1 if the query failed. */
    public long deviceFreeBytes() {
        return deviceFreeBytes;
    }

    /** Total device bytes; -1 if the query failed. */
    public long deviceTotalBytes() {
        return deviceTotalBytes;
    }

    /** Bytes held by this allocator's live blocks (size-class bytes). */
    public long bytesInUse() {
        return bytesInUse;
    }

    /** Bytes still cached by this allocator when the error was raised. */
    public long bytesCached() {
        return bytesCached;
    }

    /** Cached and pending bytes the allocator returned to the device before its retry. */
    public long bytesReleasedBeforeRetry() {
        return bytesReleasedBeforeRetry;
    }

    private static String message(long requested, long classBytes, long stream, long free, long total,
                                  long inUse, long cached, long released) {
        return "device out of memory: tried to allocate " + bytes(requested)
                + " (size class " + bytes(classBytes) + ") on stream 0x" + Long.toHexString(stream)
                + "; the device has " + (free < 0 ? "an unknown number of bytes" : bytes(free)) + " free"
                + (total < 0 ? "" : " of " + bytes(total) + " total")
                + "; this allocator holds " + bytes(inUse) + " in live blocks and " + bytes(cached)
                + " cached (" + bytes(released) + " were released from its cache before the retry)";
    }

    /** "1342177280 bytes (1.25 GiB)": the exact count for grepping, the rounded one for reading. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return n + " bytes (" + String.format(Locale.ROOT, "%.2f %s", v, units[u]) + ")";
    }
}
