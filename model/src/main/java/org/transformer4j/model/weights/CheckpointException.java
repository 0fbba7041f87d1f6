// CheckpointException — a checkpoint file that cannot be used (malformed, wrong keys or shapes, a
// bad config.json): the message names the file and the problem.
package org.transformer4j.model.weights;

import java.io.IOException;
import java.nio.file.Path;

/** A checked error naming the checkpoint file (or folder) and what is wrong with it. */
public class CheckpointException extends IOException {

    private final transient Path file;

    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that was rejected. */
    public Path file() { return file; }
}
