// Storage — the memory behind a tensor and its views: host memory from an arena, device memory
// from the caching allocator, or memory someone else owns (wrapped, never freed here).
package org.transformer4j.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** Released at most once, by {@link Tensor#close()} of its owner or by the Cleaner as a safety net. */
public abstract class Storage implements Runnable {

    /** Host bytes allocated by {@link Host} and not yet released; roots the Cleaner released unclosed. */
    private static final AtomicLong HOST_BYTES_LIVE = new AtomicLong(), RELEASED_UNCLOSED = new AtomicLong();

    private static final boolean TRACE_UNCLOSED = Boolean.getBoolean("t4j.debug.unclosed");

    private final AtomicBoolean released = new AtomicBoolean();
    private final Device device;
    private final long byteSize;
    /** Where this storage was allocated, kept only under -Dt4j.debug.unclosed=true (a stack per tensor is costly). */
    private final Throwable allocatedAt;

    protected Storage(Device device, long byteSize) {
        this.device = device;
        this.byteSize = byteSize;
        this.allocatedAt = TRACE_UNCLOSED ? new Throwable("allocated here") : null;
    }

    public final Device device() { return device; }

    public final long byteSize() { return byteSize; }

    public final boolean isReleased() { return released.get(); }

    /** Releases the memory once; later calls do nothing. Runs on the Cleaner thread for leaked tensors. */
    @Override
    public final void run() {
        releaseOnce();
    }

    /** Releases the memory if no one has; true where this call did. */
    final boolean releaseOnce() {
        if (!released.compareAndSet(false, true)) return false;
        release();
        return true;
    }

    /**
     * Bytes of host memory that tensors allocated (not memory they borrow, such as a mapped checkpoint) and that
     * are not yet released, process-wide: what a leak of closed-too-late tensors raises.
     */
    public static long hostBytesLive() { return HOST_BYTES_LIVE.get(); }

    /**
     * How many tensors that own their memory the Cleaner has released because they were never closed,
     * process-wide since start: code that closes what it makes keeps this still (a test of that reads it before
     * and after). Tensors over borrowed memory are not counted: closing them frees nothing.
     */
    public static long releasedUnclosed() { return RELEASED_UNCLOSED.get(); }

    /** The Cleaner's action for a root tensor: counts the release as a tensor left unclosed. */
    static Runnable onCollect(Storage storage) {
        return () -> {
            if (storage.releaseOnce() && storage.ownsMemory()) {
                RELEASED_UNCLOSED.incrementAndGet();
                if (storage.allocatedAt != null) {
                    System.err.println("t4j: a tensor was never closed; the Cleaner released its " + storage.device() + " memory ("
                            + storage.byteSize() + " bytes)");
                    storage.allocatedAt.printStackTrace();
                }
            }
        };
    }

    protected abstract void release();

    /** Whether releasing frees memory (false for memory borrowed or wrapped from elsewhere, which closing leaves alone). */
    protected abstract boolean ownsMemory();

    /**
     * Host memory; {@code segment} covers the whole allocation. Either allocated here (released by
     * closing its arena) or borrowed from elsewhere, e.g. a memory-mapped file (released by whoever
     * owns it; the segment's own scope makes any later access fail cleanly instead of crashing).
     */
    public static final class Host extends Storage {
        private final Arena arena;
        private final MemorySegment segment;

        Host(long byteSize) {
            super(Device.HOST, byteSize);
            this.arena = Arena.ofShared();
            this.segment = arena.allocate(Math.max(byteSize, 1), 64);
            HOST_BYTES_LIVE.addAndGet(segment.byteSize());
        }

        /** Borrowed memory: never freed here. */
        Host(MemorySegment borrowed) {
            super(Device.HOST, borrowed.byteSize());
            this.arena = null;
            this.segment = borrowed;
        }

        public MemorySegment segment() { return segment; }

        public boolean isBorrowed() { return arena == null; }

        @Override protected boolean ownsMemory() { return arena != null; }

        @Override protected void release() {
            if (arena == null) return;
            arena.close();
            HOST_BYTES_LIVE.addAndGet(-segment.byteSize());
        }
    }

    /**
     * Device memory at {@code address}; {@code onRelease} returns it to its allocator (or does
     * nothing). {@code allocation} is the allocator's own handle (a Block), or null for wrapped memory.
     */
    public static final class DeviceMemoryStorage extends Storage {
        private final long address;
        private final Runnable onRelease;
        private final Object allocation;

        public DeviceMemoryStorage(Device device, long address, long byteSize, Object allocation, Runnable onRelease) {
            super(device, byteSize);
            this.address = address;
            this.onRelease = onRelease;
            this.allocation = allocation;
        }

        public long address() { return address; }

        public Object allocation() { return allocation; }

        @Override protected boolean ownsMemory() { return allocation != null; }

        @Override protected void release() { onRelease.run(); }
    }
}
