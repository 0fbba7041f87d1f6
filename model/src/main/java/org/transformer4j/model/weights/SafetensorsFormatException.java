// SafetensorsFormatException — a safetensors file (or its index) that is malformed: the message
// names the file and the problem, so that a user can tell which shard of a checkpoint is broken.
package org.transformer4j.model.weights;

import java.nio.file.Path;

/** A checked error for a malformed safetensors file or {@code model.safetensors.index.json}. */
public class SafetensorsFormatException extends CheckpointException {

    public SafetensorsFormatException(Path file, String problem) {
        super(file, problem);
    }

    public SafetensorsFormatException(Path file, String problem, Throwable cause) {
        super(file, problem, cause);
    }
}
