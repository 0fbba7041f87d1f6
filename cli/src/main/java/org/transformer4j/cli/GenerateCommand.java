// GenerateCommand — `t4j generate --model DIR "prompt"`: its options and input checks. Generation
// itself needs the model layer (issue 5); until it lands the command says so and exits 1.
package org.transformer4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Stream the tokens a model generates after PROMPT; print prefill and decode tokens/s at the end.",
                "Needs the model layer (issue 5), which this build does not have yet."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (Hugging Face layout).")
    Path model;

    @Parameters(paramLabel = "PROMPT", description = "The prompt.")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 is greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample from the k most likely tokens; 0 is off (default).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Sample from the smallest set with this much probability; 1 is off (default).")
    double topP;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    java.util.List<String> stop;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    @Override
    public Integer call() {
        ModelInputs.checkText("prompt", prompt);
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be ≥ 1, got " + maxNewTokens);
        if (!(temperature >= 0) || !Double.isFinite(temperature)) throw new IllegalArgumentException("--temperature must be ≥ 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("--top-k must be ≥ 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        ModelInputs.checkModelFolder(model);
        throw ModelInputs.modelLayerMissing("");
    }
}
