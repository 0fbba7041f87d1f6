// StreamGate — who may queue work on a backend's one stream: any number of threads at once, except
// while a graph is being captured, when only the capturing thread may (everything queued on a
// capturing stream, from any thread, goes into the graph instead of running).
package org.transformer4j.runtime.cuda;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A read-write lock: every op that queues work on the stream, waits for it or frees memory in its
 * order holds {@link #op()} (shared) while it does; {@link #capture()} holds the lock exclusively
 * from before cuStreamBeginCapture to after cuStreamEndCapture, so that ops of other threads wait
 * for the capture to end instead of being recorded into it (or breaking it: a synchronize or a
 * pageable copy on a capturing stream invalidates the capture). The capturing thread's own ops
 * re-enter. Why not a capture mode: cuStreamBeginCapture's mode (global, thread-local, relaxed) only
 * governs which potentially unsafe API calls fail during a capture; work that any thread queues on
 * the capturing stream itself is always captured. The lock is reentrant and not fair (a waiting
 * capture still blocks new readers: ReentrantReadWriteLock's writer preference).
 */
final class StreamGate {

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    /** A hold, released by close. */
    interface Hold extends AutoCloseable {
        @Override void close();
    }

    /** Shared use of the stream for one op; waits while another thread captures. */
    Hold op() {
        lock.readLock().lock();
        return lock.readLock()::unlock;
    }

    /**
     * Exclusive use of the stream for a capture; waits for ops of other threads in flight and for
     * another thread's capture. IllegalStateException where this thread already captures (captures do
     * not nest) or is inside an op (it could never get the lock).
     */
    Hold capture() {
        if (lock.isWriteLockedByCurrentThread()) throw new IllegalStateException("a capture is already in progress on this backend");
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("a capture cannot start inside an op of this backend on the same thread");
        }
        lock.writeLock().lock();
        return lock.writeLock()::unlock;
    }

    /** Whether the calling thread is capturing. */
    boolean capturingHere() { return lock.isWriteLockedByCurrentThread(); }

    /** Whether any thread is capturing (for tests and diagnostics). */
    boolean capturing() { return lock.isWriteLocked(); }
}
