// AllocatorStats: an immutable snapshot of CachingAllocator's counters, taken under its lock so
// that the numbers agree with each other.
package org.transformer4j.runtime.memory;

/**
 * Counters of a {@link CachingAllocator} at one moment. Byte counts are size-class bytes (what
 * the device holds) unless the name says "requested".
 *
 * @param bytesInUse          size-class bytes of live blocks
 * @param bytesRequestedInUse bytes callers asked for, summed over live blocks
 * @param bytesCached         bytes of freed blocks held for reuse
 * @param bytesPending        bytes of freed blocks waiting for events on other streams
 * @param peakBytesInUse      highest {@code bytesInUse} since creation or {@link CachingAllocator#resetPeak()}
 * @param liveBlocks          blocks allocated and not yet freed
 * @param cachedBlocks        blocks in the cache
 * @param pendingBlocks       freed blocks waiting for their events
 * @param allocations         successful {@code allocate} calls
 * @param frees               successful {@code free} calls
 * @param cacheHits           allocations served from the cache
 * @param deviceMallocs       {@link DeviceMemory#malloc} calls that succeeded
 * @param deviceFrees         {@link DeviceMemory#free} calls
 * @param oomRetries          times a device allocation failed and the cache was emptied to retry
 */
public record AllocatorStats(
        long bytesInUse,
        long bytesRequestedInUse,
        long bytesCached,
        long bytesPending,
        long peakBytesInUse,
        long liveBlocks,
        long cachedBlocks,
        long pendingBlocks,
        long allocations,
        long frees,
        long cacheHits,
        long deviceMallocs,
        long deviceFrees,
        long oomRetries) {

    /** Bytes this allocator holds on the device: in use, cached and pending. */
    public long bytesReserved() {
        return bytesInUse + bytesCached + bytesPending;
    }

    /** Device allocations this allocator holds: live, cached and pending blocks. */
    public long blocksReserved() {
        return liveBlocks + cachedBlocks + pendingBlocks;
    }
}
