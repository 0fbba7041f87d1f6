// Owned — what this module's models load and close together: a tokenizer and weights opened in order, closed on a
// failure in between, and the models' close() over what they own, the first failure reported.
package org.transformer4j.langchain4j;

import java.io.IOException;
import java.nio.file.Path;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;

final class Owned {

    private Owned() {}

    interface WeightsLoader { Weights load() throws IOException; }

    interface Build<T> { T build(Tokenizer tok, Weights w) throws IOException; }

    /** The tokenizer of {@code tokenizerDir}, then the weights, then {@code build}; what was opened is closed if a later step fails. */
    static <T> T load(Path tokenizerDir, WeightsLoader weights, Build<T> build) throws IOException {
        Tokenizer tok = Tokenizers.forModel(tokenizerDir);
        try {
            Weights w = weights.load();
            try {
                return build.build(tok, w);
            } catch (IOException | RuntimeException e) {
                w.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    /** Closes each of {@code owned}; the first failure is thrown afterwards as an IllegalStateException naming {@code what}. */
    static void closeAll(String what, AutoCloseable... owned) {
        RuntimeException first = null;
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) first = new IllegalStateException("closing " + what + ": " + e.getMessage(), e);
            }
        }
        if (first != null) throw first;
    }
}
