// EmbedCommand — `t4j embed --model DIR|minilm "sentence" ...`: its options and input checks. The
// embeddings come from the model layer (issue 5), not connected here yet: the command says so and exits 1.
package org.transformer4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Print sentence embeddings (mean pooling), or with --similarity their cosine-similarity matrix.",
                "Not connected to the model layer yet (it exits 1 saying so): Transformer.embedSentences is there to use."},
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

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    static final class BuiltIn implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() { return BUILT_IN.iterator(); }
    }

    @Override
    public Integer call() {
        ModelInputs.checkTexts("sentence", sentences);
        if (!BUILT_IN.contains(model)) {
            if (!model.contains("/") && !model.contains(java.io.File.separator) && !java.nio.file.Files.exists(Path.of(model))) {
                throw new IllegalArgumentException("unknown model '" + model + "': give a model folder or one of " + BUILT_IN);
            }
            ModelInputs.checkModelFolder(Path.of(model));
        }
        throw ModelInputs.notConnected("");
    }
}
