// CachingAllocator: a stream-ordered caching device-memory allocator (PyTorch's CUDA caching
// allocator, simplified: size classes instead of block splitting). Pure bookkeeping over a
// DeviceMemory; it never touches CUDA itself.
package org.transformer4j.runtime.memory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Objects;

/**
 * Hands out device memory in size classes and keeps freed memory for reuse.
 *
 * <h2>Why reuse is safe without synchronizing</h2>
 * A freed block goes back to the cache of the stream it was allocated on, and is reused only by an
 * allocation on that same stream: any kernel the new owner queues on that stream runs after the
 * kernels the old owner queued, so {@link #free} needs no device call even though those kernels
 * may still be running. A block that was also used on other streams ({@link #recordStream}) is
 * instead held as <em>pending</em> until an event recorded on each of those streams at free time
 * has completed. Handing cached memory back to the device (the size cap, {@link #emptyCache()},
 * the out-of-memory retry, {@link #close()}) synchronizes the device first.
 *
 * <h2>Size classes</h2>
 * Requests are rounded up to at least {@value #MIN_BLOCK_BYTES} bytes and then to one of
 * {@value #CLASSES_PER_DOUBLING} classes per power of two (512, 640, 768, 896, 1024, 1280, ...),
 * so at most 25% of a block is waste; a cached block is reused only for a request of exactly its
 * class.
 *
 * <h2>Out of memory</h2>
 * When the device refuses an allocation the allocator empties its cache (synchronize, release
 * every cached and pending block), retries once, and then throws {@link DeviceOutOfMemoryError}.
 *
 * <h2>Closing</h2>
 * {@link #close()} releases the cache and refuses further allocations. Blocks still live are not
 * an error: freeing one later synchronizes the device and releases it straight to the device.
 *
 * <p>All methods are thread-safe (blocks may be freed from a {@code Cleaner} thread); one lock
 * guards the bookkeeping and is held across device calls, so the device sees one call at a time.
 */
public final class CachingAllocator implements AutoCloseable {

    /** Smallest block (PyTorch's kMinBlockSize): tiny tensors share one class instead of many near-empty buckets. */
    public static final long MIN_BLOCK_BYTES = 512;

    /** Size classes per power of two: 4 bounds waste at 25% while keeping the number of buckets small. */
    public static final int CLASSES_PER_DOUBLING = 4;

    private final DeviceMemory device;
    private final long maxCachedBytes;
    private final Object lock = new Object();

    // Everything below is guarded by lock.

    /** Cached segments by (stream, size class); newest first in each deque. Empty deques are removed. */
    private final HashMap<Bucket, ArrayDeque<Segment>> cache = new HashMap<>();
    /** The same cached segments, oldest first, for the size cap. */
    private final LinkedHashSet<Segment> cacheOrder = new LinkedHashSet<>();
    /** Freed segments waiting for events on other streams, in free order. */
    private final ArrayList<Segment> pending = new ArrayList<>();

    private boolean closed;
    private long bytesInUse;
    private long bytesRequestedInUse;
    private long bytesCached;
    private long bytesPending;
    private long peakBytesInUse;
    private long liveBlocks;
    private long allocations;
    private long frees;
    private long cacheHits;
    private long deviceMallocs;
    private long deviceFrees;
    private long oomRetries;

    /** An allocator with an unlimited cache. */
    public CachingAllocator(DeviceMemory device) {
        this(device, Long.MAX_VALUE);
    }

    /**
     * @param maxCachedBytes cached bytes above which a free releases the oldest cached blocks to the
     *                       device (after a synchronize); {@code Long.MAX_VALUE} for no limit, 0 to
     *                       cache nothing
     */
    public CachingAllocator(DeviceMemory device, long maxCachedBytes) {
        this.device = Objects.requireNonNull(device, "device");
        if (maxCachedBytes < 0) {
            throw new IllegalArgumentException("maxCachedBytes must be >= 0, got " + maxCachedBytes);
        }
        this.maxCachedBytes = maxCachedBytes;
    }

    /**
     * The size class a request of {@code bytes} is rounded up to.
     *
     * @throws IllegalArgumentException if {@code bytes < 1} or the class would not fit in a long
     */
    public static long sizeClass(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("allocation size must be >= 1 byte, got " + bytes);
        }
        if (bytes <= MIN_BLOCK_BYTES) {
            return MIN_BLOCK_BYTES;
        }
        long step = Long.highestOneBit(bytes - 1) / CLASSES_PER_DOUBLING;
        try {
            return Math.multiplyExact((bytes - 1) / step + 1, step);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("allocation size too large: " + bytes + " bytes", e);
        }
    }

    /**
     * Returns a block of at least {@code bytes} usable on {@code stream}: a cached block of the same
     * class freed on the same stream if there is one, otherwise new device memory.
     *
     * @throws IllegalArgumentException if {@code bytes < 1} or too large
     * @throws IllegalStateException    if the allocator is closed
     * @throws DeviceOutOfMemoryError   if the device has no room even after the cache was emptied
     */
    public Block allocate(long bytes, long stream) {
        long size = sizeClass(bytes);
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("allocator is closed; cannot allocate " + bytes + " bytes");
            }
            if (!pending.isEmpty()) {
                processPendingEventsLocked();
            }
            long address;
            Segment hit = takeCached(stream, size);
            if (hit != null) {
                cacheHits++;
                address = hit.address;
            } else {
                address = mallocWithRetry(bytes, size, stream);
            }
            allocations++;
            liveBlocks++;
            bytesInUse += size;
            bytesRequestedInUse += bytes;
            peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
            return new Block(this, address, size, bytes, stream);
        }
    }

    /**
     * Gives a block back. Without recorded streams it goes into the cache of its own stream at once
     * (no device call); with recorded streams an event is recorded on each and the block waits as
     * pending until they are all done. After {@link #close()} the device is synchronized and the
     * memory released.
     *
     * @throws IllegalArgumentException if the block belongs to another allocator
     * @throws IllegalStateException    if the block was already freed
     */
    public void free(Block block) {
        checkOwner(block);
        synchronized (lock) {
            if (!block.live()) {
                throw new IllegalStateException("block already freed: " + block);
            }
            block.markFreed();
            frees++;
            liveBlocks--;
            bytesInUse -= block.size();
            bytesRequestedInUse -= block.requested();
            if (closed) {
                device.synchronize();
                releaseToDevice(block.address());
            } else if (block.otherStreamCount() == 0) {
                addToCache(new Segment(block.address(), block.size(), block.stream()));
                enforceCap();
            } else {
                makePending(block);
            }
        }
    }

    /**
     * Notes that work on {@code otherStream} uses the block too, so that its memory is not reused
     * before that work is done. Recording the block's own stream is a no-op.
     *
     * @throws IllegalArgumentException if the block belongs to another allocator
     * @throws IllegalStateException    if the block was already freed
     */
    public void recordStream(Block block, long otherStream) {
        checkOwner(block);
        synchronized (lock) {
            if (!block.live()) {
                throw new IllegalStateException("recordStream on a freed block: " + block);
            }
            if (otherStream != block.stream()) {
                block.addOtherStream(otherStream);
            }
        }
    }

    /**
     * Moves pending blocks whose events have all completed into the cache and destroys those
     * events. {@link #allocate} does this by itself; call it to make memory reusable sooner.
     */
    public void processPendingEvents() {
        synchronized (lock) {
            processPendingEventsLocked();
        }
    }

    /**
     * Returns all cached and pending memory to the device. Synchronizes the device first, and only
     * if there is something to release. Live blocks are untouched.
     */
    public void emptyCache() {
        synchronized (lock) {
            releaseAllLocked();
        }
    }

    /** A consistent snapshot of the counters. */
    public AllocatorStats stats() {
        synchronized (lock) {
            return new AllocatorStats(bytesInUse, bytesRequestedInUse, bytesCached, bytesPending,
                    peakBytesInUse, liveBlocks, cacheOrder.size(), pending.size(), allocations, frees,
                    cacheHits, deviceMallocs, deviceFrees, oomRetries);
        }
    }

    /** Sets the peak to the current bytes in use. */
    public void resetPeak() {
        synchronized (lock) {
            peakBytesInUse = bytesInUse;
        }
    }

    /** The cap given at construction ({@code Long.MAX_VALUE}: none). */
    public long maxCachedBytes() {
        return maxCachedBytes;
    }

    /**
     * Releases the cache (see {@link #emptyCache()}) and refuses further allocations. Live blocks
     * stay valid; freeing one later synchronizes the device and releases it directly. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            releaseAllLocked();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** Segments held in the cache and pending lists: for tests that check nothing accumulates. */
    int trackedBlockCount() {
        synchronized (lock) {
            return cacheOrder.size() + pending.size();
        }
    }

    /** Non-empty (stream, size class) buckets: for tests that check empty buckets are dropped. */
    int bucketCount() {
        synchronized (lock) {
            return cache.size();
        }
    }

    /** Events recorded and not yet destroyed. */
    int outstandingEventCount() {
        synchronized (lock) {
            int n = 0;
            for (Segment s : pending) {
                n += s.eventCount;
            }
            return n;
        }
    }

    private void checkOwner(Block block) {
        Objects.requireNonNull(block, "block");
        if (block.owner() != this) {
            throw new IllegalArgumentException("block belongs to another allocator: " + block);
        }
    }

    private Segment takeCached(long stream, long size) {
        Bucket key = new Bucket(stream, size);
        ArrayDeque<Segment> bucket = cache.get(key);
        if (bucket == null) {
            return null;
        }
        Segment s = bucket.pollFirst();
        if (bucket.isEmpty()) {
            cache.remove(key);
        }
        cacheOrder.remove(s);
        bytesCached -= s.size;
        return s;
    }

    private long mallocWithRetry(long bytes, long size, long stream) {
        long address = deviceMalloc(size);
        if (address != 0) return address;
        oomRetries++;
        long released = releaseAllLocked();
        address = deviceMalloc(size);
        if (address != 0) return address;
        throw new DeviceOutOfMemoryError(bytes, size, stream, queryOrMinusOne(true),
                queryOrMinusOne(false), bytesInUse, bytesCached, released, null);
    }

    /** The device's address, or 0 when it has no room. */
    private long deviceMalloc(long size) {
        long address = device.malloc(size);
        if (address != 0) deviceMallocs++;
        return address;
    }

    private long queryOrMinusOne(boolean free) {
        try {
            return free ? device.freeBytes() : device.totalBytes();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private void addToCache(Segment s) {
        cache.computeIfAbsent(new Bucket(s.stream, s.size), k -> new ArrayDeque<>()).addFirst(s);
        cacheOrder.add(s);
        bytesCached += s.size;
    }

    /** Takes a cached segment (already unlinked from cacheOrder) out of its bucket and the cached bytes. */
    private void removeFromBucket(Segment s) {
        Bucket key = new Bucket(s.stream, s.size);
        ArrayDeque<Segment> bucket = cache.get(key);
        bucket.removeLastOccurrence(s);
        if (bucket.isEmpty()) {
            cache.remove(key);
        }
        bytesCached -= s.size;
    }

    /** Releases the oldest cached segments until the cap holds, synchronizing once if any must go. */
    private void enforceCap() {
        if (bytesCached <= maxCachedBytes) {
            return;
        }
        device.synchronize();
        Iterator<Segment> oldestFirst = cacheOrder.iterator();
        while (bytesCached > maxCachedBytes) {
            Segment s = oldestFirst.next();
            oldestFirst.remove();
            removeFromBucket(s);
            releaseToDevice(s.address);
        }
    }

    private void makePending(Block block) {
        int n = block.otherStreamCount();
        long[] events = new long[n];
        int recorded = 0;
        try {
            for (; recorded < n; recorded++) {
                events[recorded] = device.recordEvent(block.otherStream(recorded));
            }
        } catch (RuntimeException e) {
            // Without events the only safe point of reuse is after a full synchronize.
            for (int i = 0; i < recorded; i++) {
                device.destroyEvent(events[i]);
            }
            device.synchronize();
            addToCache(new Segment(block.address(), block.size(), block.stream()));
            enforceCap();
            return;
        }
        Segment s = new Segment(block.address(), block.size(), block.stream());
        s.events = events;
        s.eventCount = n;
        pending.add(s);
        bytesPending += s.size;
    }

    private void processPendingEventsLocked() {
        boolean moved = false;
        int kept = 0;
        int i = 0;
        try {
            for (; i < pending.size(); i++) {
                Segment s = pending.get(i);
                dropDoneEvents(s);
                if (s.eventCount == 0) {
                    s.events = null;
                    bytesPending -= s.size;
                    addToCache(s);
                    moved = true;
                } else {
                    pending.set(kept++, s);
                }
            }
        } finally {
            // Entries before i were moved to the cache or copied below kept; from i on, untouched.
            pending.subList(kept, i).clear();
        }
        if (moved) {
            enforceCap();
        }
    }

    /** Destroys the segment's completed events; the segment stays consistent if the device throws. */
    private void dropDoneEvents(Segment s) {
        int e = 0;
        while (e < s.eventCount) {
            long event = s.events[e];
            if (device.eventDone(event)) {
                s.events[e] = s.events[--s.eventCount];
                device.destroyEvent(event);
            } else {
                e++;
            }
        }
    }

    /** Synchronizes (if anything is held) and releases every cached and pending segment; returns the bytes released. */
    private long releaseAllLocked() {
        if (cacheOrder.isEmpty() && pending.isEmpty()) {
            return 0;
        }
        device.synchronize();
        long released = 0;
        while (!pending.isEmpty()) {
            Segment s = pending.removeLast();
            bytesPending -= s.size;
            for (int e = 0; e < s.eventCount; e++) {
                device.destroyEvent(s.events[e]);
            }
            s.eventCount = 0;
            s.events = null;
            released += s.size;
            releaseToDevice(s.address);
        }
        Iterator<Segment> it = cacheOrder.iterator();
        while (it.hasNext()) {
            Segment s = it.next();
            it.remove();
            removeFromBucket(s);
            released += s.size;
            releaseToDevice(s.address);
        }
        return released;
    }

    private void releaseToDevice(long address) {
        deviceFrees++;
        device.free(address);
    }

    private record Bucket(long stream, long size) {
    }

    /** Device memory the allocator holds while no block is live on it. Identity equality on purpose. */
    private static final class Segment {
        final long address;
        final long size;
        final long stream;
        long[] events;
        int eventCount;

        Segment(long address, long size, long stream) {
            this.address = address;
            this.size = size;
            this.stream = stream;
        }
    }
}
