// ExecutorModels — one model per executor JVM: the first task that needs a model loads it (on the backend
// Backends.select() picks there: the executor's GPU when it has one), later tasks of any stage reuse it.
// Models stay loaded until the JVM exits; calls on one model are serialised by the model itself.
package org.transformer4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.transformer4j.langchain4j.T4jEmbeddingModel;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

public final class ExecutorModels {

    private ExecutorModels() {}

    /** A decoder and its tokenizer; {@code generate} calls on it are serialised. */
    public record Decoder(Transformer model, Tokenizer tokenizer) {}

    private static final ConcurrentHashMap<String, Object> MODELS = new ConcurrentHashMap<>();
    private static volatile Backend backend;

    private static synchronized Backend backend() {
        if (backend == null) backend = Backends.select();
        return backend;
    }

    /** The embedding model for a folder or built-in name, loaded once in this JVM. */
    public static T4jEmbeddingModel embedder(String folderOrName, DType dtype) {
        return (T4jEmbeddingModel) MODELS.computeIfAbsent("embed:" + dtype + ":" + folderOrName, k -> {
            try {
                return T4jEmbeddingModel.load(folderOrName, backend(), dtype);
            } catch (IOException e) {
                throw new UncheckedIOException("loading " + folderOrName + " on an executor: " + e.getMessage(), e);
            }
        });
    }

    /** The decoder of a model folder, loaded once in this JVM. */
    public static Decoder decoder(String folder, DType dtype) {
        return (Decoder) MODELS.computeIfAbsent("decode:" + dtype + ":" + folder, k -> {
            try {
                Tokenizer tok = Tokenizers.forModel(Path.of(folder));
                Weights w = Pretrained.load(Path.of(folder), backend(), dtype);
                return new Decoder(new Transformer(w, backend()), tok);
            } catch (IOException e) {
                throw new UncheckedIOException("loading " + folder + " on an executor: " + e.getMessage(), e);
            }
        });
    }
}
