// FakeDeviceMemory: an in-memory DeviceMemory for allocator tests. It hands out unique,
// 256-byte-aligned addresses (never reused, so equal addresses mean the allocator reused a block),
// enforces a capacity, counts every call, and keeps events as objects a test completes by hand
// or that complete on synchronize.
package org.transformer4j.runtime.memory;

import java.util.HashMap;
import java.util.Map;

final class FakeDeviceMemory implements DeviceMemory {

    /** cuMemAlloc's alignment is at least 256 bytes. */
    static final long ALIGNMENT = 256;

    private static final class FakeEvent {
        final long stream;
        boolean done;

        FakeEvent(long stream) {
            this.stream = stream;
        }
    }

    private final long capacity;
    private final Map<Long, Long> live = new HashMap<>();
    private final Map<Long, FakeEvent> events = new HashMap<>();
    private long usedBytes;
    private long nextAddress = 0x7f00_0000_0000L;
    private long nextEvent = 1;
    private boolean completeEventsOnSynchronize = true;
    private boolean failRecordEvent;

    private long mallocs;
    private long failedMallocs;
    private long frees;
    private long synchronizes;
    private long eventsCreated;
    private long eventsDestroyed;

    FakeDeviceMemory(long capacity) {
        this.capacity = capacity;
    }

    FakeDeviceMemory() {
        this(Long.MAX_VALUE);
    }

    @Override
    public synchronized long malloc(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("malloc of " + bytes + " bytes");
        }
        if (bytes > capacity - usedBytes) {
            failedMallocs++;
            return 0;
        }
        long address = nextAddress;
        nextAddress += (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        live.put(address, bytes);
        usedBytes += bytes;
        mallocs++;
        return address;
    }

    @Override
    public synchronized void free(long address) {
        Long bytes = live.remove(address);
        if (bytes == null) {
            throw new IllegalStateException("free of an address that is not allocated: 0x" + Long.toHexString(address));
        }
        usedBytes -= bytes;
        frees++;
    }

    @Override
    public synchronized long freeBytes() {
        return capacity - usedBytes;
    }

    @Override
    public long totalBytes() {
        return capacity;
    }

    @Override
    public synchronized void synchronize() {
        synchronizes++;
        if (completeEventsOnSynchronize) {
            events.values().forEach(e -> e.done = true);
        }
    }

    @Override
    public synchronized long recordEvent(long stream) {
        if (failRecordEvent) {
            throw new IllegalStateException("fake cuEventRecord failure");
        }
        long handle = nextEvent++;
        events.put(handle, new FakeEvent(stream));
        eventsCreated++;
        return handle;
    }

    @Override
    public synchronized boolean eventDone(long event) {
        return event(event).done;
    }

    @Override
    public synchronized void destroyEvent(long event) {
        event(event);
        events.remove(event);
        eventsDestroyed++;
    }

    private FakeEvent event(long handle) {
        FakeEvent e = events.get(handle);
        if (e == null) {
            throw new IllegalStateException("unknown or destroyed event " + handle);
        }
        return e;
    }

    /** Marks every live event recorded on {@code stream} done, as if the stream drained. */
    synchronized void completeStream(long stream) {
        events.values().stream().filter(e -> e.stream == stream).forEach(e -> e.done = true);
    }

    synchronized void completeAllEvents() {
        events.values().forEach(e -> e.done = true);
    }

    synchronized void completeEventsOnSynchronize(boolean on) {
        completeEventsOnSynchronize = on;
    }

    synchronized void failRecordEvent(boolean on) {
        failRecordEvent = on;
    }

    synchronized boolean isLive(long address) {
        return live.containsKey(address);
    }

    synchronized int liveAllocations() {
        return live.size();
    }

    synchronized long usedBytes() {
        return usedBytes;
    }

    synchronized int liveEvents() {
        return events.size();
    }

    synchronized long liveEventsOn(long stream) {
        return events.values().stream().filter(e -> e.stream == stream).count();
    }

    synchronized long mallocs() {
        return mallocs;
    }

    synchronized long failedMallocs() {
        return failedMallocs;
    }

    synchronized long frees() {
        return frees;
    }

    synchronized long synchronizes() {
        return synchronizes;
    }

    synchronized long eventsCreated() {
        return eventsCreated;
    }

    synchronized long eventsDestroyed() {
        return eventsDestroyed;
    }
}
