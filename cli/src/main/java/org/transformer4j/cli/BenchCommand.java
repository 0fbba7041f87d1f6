// BenchCommand — `t4j bench`: its options and checks. The benchmark runs the four architectures at
// GPT-2-small, BERT-base and T5-small shapes through the model layer (issue 5); that connection is not
// written yet, so the command says so and exits 1. Kernel-level benchmarks are in bench/ (JMH) meanwhile.
package org.transformer4j.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Throughput and latency of the four architectures (prefill and decode) at GPT-2-small, BERT-base "
                + "and T5-small shapes on the current backend, as a table or JSON.",
                "Not connected to the model layer yet (it exits 1 saying so); the kernels' JMH benchmarks are in bench/."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class BenchCommand implements Callable<Integer> {

    static final List<String> SHAPES = List.of("gpt2-small", "bert-base", "t5-small");

    @Option(names = "--shape", paramLabel = "NAME", split = ",",
            description = "Shapes to run (default: all of ${COMPLETION-CANDIDATES}).", completionCandidates = Shapes.class)
    List<String> shapes;

    @Option(names = "--batch", defaultValue = "1", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--prompt-tokens", defaultValue = "128", description = "Prefill length (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "128", description = "Decode steps (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    static final class Shapes implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() { return SHAPES.iterator(); }
    }

    @Override
    public Integer call() {
        if (shapes != null) {
            for (String s : shapes) {
                if (!SHAPES.contains(s)) throw new IllegalArgumentException("unknown shape '" + s + "': one of " + SHAPES);
            }
        }
        if (batch < 1) throw new IllegalArgumentException("--batch must be ≥ 1, got " + batch);
        if (promptTokens < 1) throw new IllegalArgumentException("--prompt-tokens must be ≥ 1, got " + promptTokens);
        if (newTokens < 0) throw new IllegalArgumentException("--new-tokens must be ≥ 0, got " + newTokens);
        throw ModelInputs.notConnected("the kernels' JMH benchmarks are in bench/");
    }
}
