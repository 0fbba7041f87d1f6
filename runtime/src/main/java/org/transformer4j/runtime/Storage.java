// Storage — the memory behind a tensor and its views: host memory from an arena, device memory
// from the caching allocator, or memory someone else owns (wrapped, never freed here).
package org.transformer4j.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/** Released at most once, by {@link Tensor#close()} of its owner or by the Cleaner as a safety net. */
public abstract class Storage implements Runnable {

    private final AtomicBoolean released = new AtomicBoolean();
    private final Device device;
    private final long byteSize;

    protected Storage(Device device, long byteSize) {
        this.device = device;
        this.byteSize = byteSize;
    }

    public final Device device() { return device; }

    public final long byteSize() { return byteSize; }

    public final boolean isReleased() { return released.get(); }

    /** Releases the memory once; later calls do nothing. Runs on the Cleaner thread for leaked tensors. */
    @Override
    public final void run() {
        if (released.compareAndSet(false, true)) release();
    }

    protected abstract void release();

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
        }

        /** Borrowed memory: never freed here. */
        Host(MemorySegment borrowed) {
            super(Device.HOST, borrowed.byteSize());
            this.arena = null;
            this.segment = borrowed;
        }

        public MemorySegment segment() { return segment; }

        public boolean isBorrowed() { return arena == null; }

        @Override protected void release() { if (arena != null) arena.close(); }
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

        @Override protected void release() { onRelease.run(); }
    }
}
