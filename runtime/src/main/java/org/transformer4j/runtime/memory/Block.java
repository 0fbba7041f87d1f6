// Block: the handle CachingAllocator.allocate returns for one piece of device memory. Each
// allocation gets a fresh handle, so a stale handle (freed, its memory since reused) is always
// recognised and rejected instead of freeing someone else's memory.
package org.transformer4j.runtime.memory;

import java.util.Arrays;

/**
 * A device allocation owned by a {@link CachingAllocator}. The memory stays valid until the
 * block is passed to {@link CachingAllocator#free(Block)}; work queued on {@link #stream()} before
 * that may still use it, since reuse is ordered on that stream.
 */
public final class Block {

    private final CachingAllocator owner;
    private final long address;
    private final long size;
    private final long requested;
    private final long stream;

    // Guarded by the owner's lock.
    private boolean live = true;
    private long[] otherStreams;
    private int otherStreamCount;

    Block(CachingAllocator owner, long address, long size, long requested, long stream) {
        this.owner = owner;
        this.address = address;
        this.size = size;
        this.requested = requested;
        this.stream = stream;
    }

    /** Device address of the first byte. */
    public long address() {
        return address;
    }

    /** Usable bytes: the size class the request was rounded up to. */
    public long size() {
        return size;
    }

    /** Bytes the caller asked for ({@code requested() <= size()}). */
    public long requested() {
        return requested;
    }

    /** The stream the block was allocated on; its memory is reused in this stream's order. */
    public long stream() {
        return stream;
    }

    CachingAllocator owner() {
        return owner;
    }

    boolean live() {
        return live;
    }

    void markFreed() {
        live = false;
    }

    /** Adds {@code s} to the streams that used this block, once. */
    void addOtherStream(long s) {
        for (int i = 0; i < otherStreamCount; i++) {
            if (otherStreams[i] == s) {
                return;
            }
        }
        if (otherStreams == null) {
            otherStreams = new long[2];
        } else if (otherStreamCount == otherStreams.length) {
            otherStreams = Arrays.copyOf(otherStreams, otherStreamCount * 2);
        }
        otherStreams[otherStreamCount++] = s;
    }

    int otherStreamCount() {
        return otherStreamCount;
    }

    long otherStream(int i) {
        return otherStreams[i];
    }

    @Override
    public String toString() {
        return "Block[address=0x" + Long.toHexString(address) + ", size=" + size + ", requested=" + requested
                + ", stream=0x" + Long.toHexString(stream) + "]";
    }
}
