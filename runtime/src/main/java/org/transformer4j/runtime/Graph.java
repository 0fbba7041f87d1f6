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
}
