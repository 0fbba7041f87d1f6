// EmbedCommand — `t4j embed --model DIR "sentence" ...`: sentence embeddings from an encoder model
// folder (BERT, T5) through the model layer (mean-pooled, L2-normalised), printed as vectors or as their
// cosine-similarity matrix. The built-in name minilm is all-MiniLM-L6-v2 from langchain4j's jar.
package org.transformer4j.cli;

import java.nio.file.Path;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Print sentence embeddings (the encoder's last hidden state, mean-pooled and L2-normalised), one line "
                + "per sentence, or with --similarity their cosine-similarity matrix. DIR: a BERT or T5 folder."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class EmbedCommand implements Callable<Integer> {

    /** Models known by name rather than by folder. */
    static final List<String> BUILT_IN = List.of("minilm");

    @Option(names = "--model", required = true, paramLabel = "DIR|NAME",
            description = "Model folder, or a built-in name: ${COMPLETION-CANDIDATES}.", completionCandidates = BuiltIn.class)
    String model;

    @Parameters(arity = "1..*", paramLabel = "SENTENCE", description = "Sentences to embed.")
    List<String> sentences;

    @Option(names = "--similarity", description = "Print the cosine-similarity matrix instead of the vectors.")
    boolean similarity;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
            description = "The dtype the model computes in (weights, activations; fp32 accumulation) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    static final class BuiltIn implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() { return BUILT_IN.iterator(); }
    }

    @Override
    public Integer call() throws java.io.IOException {
        ModelInputs.checkTexts("sentence", sentences);
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        float[][] e;
        if (BUILT_IN.contains(model)) {
            try (Backend backend = Backends.select(); Progress bar = Progress.start("loading all-MiniLM-L6-v2", 1, progress)) {
                e = DemoModels.embedWithMiniLm(backend, sentences, dt);            // (N, 384)
                bar.update(1);
            }
            return print(e);
        }
        if (!model.contains("/") && !model.contains(java.io.File.separator) && !java.nio.file.Files.exists(Path.of(model))) {
            throw new IllegalArgumentException("unknown model '" + model + "': give a model folder or one of " + BUILT_IN);
        }
        Path dir = Path.of(model);
        ModelInputs.checkModelFolder(dir);
        try (Backend backend = Backends.select();
             Tokenizer tok = Tokenizers.forModel(dir)) {
            List<int[]> ids = new java.util.ArrayList<>();
            for (String s : sentences) ids.add(tok.encode(s));
            Weights weights;
            try (Progress bar = Progress.start("loading " + dir.getFileName(), 1, progress)) {
                weights = Pretrained.load(dir, backend, dt);
                bar.update(1);
            }
            try (weights) {
                if (weights.config.encoderLayers() == 0) {
                    throw new IllegalArgumentException(dir + " is a " + weights.config.architecture().name().toLowerCase(java.util.Locale.ROOT)
                            .replace('_', '-') + " model; sentence embeddings need an encoder (BERT, T5)");
                }
                e = new Transformer(weights, backend).embedSentences(ids);   // (N, C)
            }
        }
        return print(e);
    }

    /** The vectors, one line each, or with --similarity the cosine matrix. */
    private int print(float[][] e) {
        java.io.PrintStream out = System.out;
        if (!similarity) {
            for (float[] row : e) {
                StringBuilder b = new StringBuilder();
                for (int j = 0; j < row.length; j++) b.append(j == 0 ? "" : " ").append(String.format(java.util.Locale.ROOT, "%.6f", row[j]));
                out.println(b);
            }
            return 0;
        }
        int n = e.length;
        for (int i = 0; i < n; i++) out.printf("[%d] %s%n", i, sentences.get(i));
        StringBuilder head = new StringBuilder("    ");
        for (int j = 0; j < n; j++) head.append(String.format(java.util.Locale.ROOT, " %6s", "[" + j + "]"));
        out.println(head);
        for (int i = 0; i < n; i++) {
            StringBuilder b = new StringBuilder(String.format(java.util.Locale.ROOT, "%-4s", "[" + i + "]"));
            for (int j = 0; j < n; j++) {
                double dot = 0;   // the vectors are unit length: the dot product is the cosine
                for (int c = 0; c < e[i].length; c++) dot += (double) e[i][c] * e[j][c];
                b.append(String.format(java.util.Locale.ROOT, " %6.3f", dot));
            }
            out.println(b);
        }
        return 0;
    }
}
