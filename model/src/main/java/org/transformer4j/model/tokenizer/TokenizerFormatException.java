// TokenizerFormatException — a tokenizer file that cannot be used: the message names the file and
// the problem (including what the underlying library said), as a checked exception.
package org.transformer4j.model.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** A malformed or unreadable tokenizer file. */
public class TokenizerFormatException extends IOException {

    private final transient Path file;

    public TokenizerFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() { return file; }
}
