// Graph — ops recorded once by Backend.capture and replayed as a unit.
package org.transformer4j.runtime;

/**
 * Work recorded by {@link Backend#capture}. On CUDA a replay is one graph launch on the backend's
 * stream (asynchronous, like any op); on the CPU backend the recorded ops run in order. Replays
 * read the current contents of the tensors the ops were recorded with.
 */
public interface Graph extends AutoCloseable {

    /** Runs the recorded ops again. */
    void replay();

    /** Number of ops recorded (CUDA: kernel launches and copies are counted per op call, not per node). */
    int size();

    /** Releases the graph and the backend memory it kept; waits for a replay in flight first. */
    @Override
    void close();

    /** What a backend throws for {@code what} (a transfer to or from the host, or a wait) while recording. */
    static IllegalStateException notRecordable(String what) {
        return new IllegalStateException(what + " cannot be recorded into a graph: it moves data to or from the host or"
                + " waits for results; do it before or after the capture");
    }

    /** What a backend throws for KvAppendOp / DecodeOp ({@code op}) with host cache lengths while recording. */
    static IllegalArgumentException frozenLengths(String op) {
        return new IllegalArgumentException(op + " with host cacheLengths cannot be recorded into a graph: every replay would"
                + " use the lengths of the capture; pass them as an I32 tensor of the backend, written before each replay");
    }
}
