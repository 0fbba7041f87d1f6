// FuzzAccess — hands TokenizerFuzzTest's small WordPiece tokenizer.json to fuzz tests in other packages.
package org.transformer4j.model.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

public final class FuzzAccess {

    private FuzzAccess() {}

    public static void writeWordPiece(Path file) throws IOException { Files.writeString(file, TokenizerFuzzTest.WORDPIECE); }
}
