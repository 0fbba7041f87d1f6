// BenchCommand — `t4j bench`: throughput and latency of the four architectures at GPT-2-small (decoder-only
// and prefix-LM), BERT-base (encoder-only) and T5-small (encoder-decoder) shapes, with random weights, on
// the current backend: prefill (one forward pass over the prompt) and decode (greedy steps through the KV
// cache), as a table or JSON. Each number is one timed run after one untimed warm-up run.
package org.transformer4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.transformer4j.model.KvState;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Throughput and latency of the four architectures (prefill and decode) at GPT-2-small, BERT-base "
                + "and T5-small shapes with random weights on the current backend, as a table or JSON.",
                "One timed run per number after one warm-up; the kernels' JMH benchmarks are in bench/."},
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

    @Option(names = "--layers", paramLabel = "N",
            description = "Run N layers per stack instead of the shape's own (a quick check; default: the shape's).")
    Integer layers;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the random weights and ids (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
            description = "The dtype the models compute in (weights, activations, KV cache; fp32 accumulation) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--progress", description = "Show progress bars even when stderr is not a terminal.")
    boolean progress;

    static final class Shapes implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() { return SHAPES.iterator(); }
    }

    /** One architecture at one shape. */
    record Case(String architecture, String shape, TransformerConfig config) {}

    /** Its numbers; decode fields are NaN for the encoder-only model, which does not decode. */
    record Row(Case c, double prefillMs, double decodeMs, int decodeSteps) {
        double prefillTokensPerS(int batch, int prompt) { return batch * prompt / (prefillMs / 1e3); }

        double decodeMsPerToken() { return decodeMs / decodeSteps; }

        double decodeTokensPerS(int batch) { return batch * decodeSteps / (decodeMs / 1e3); }
    }

    @Override
    public Integer call() {
        List<String> chosen = shapes == null ? SHAPES : shapes;
        for (String s : chosen) {
            if (!SHAPES.contains(s)) throw new IllegalArgumentException("unknown shape '" + s + "': one of " + SHAPES);
        }
        if (batch < 1) throw new IllegalArgumentException("--batch must be ≥ 1, got " + batch);
        if (promptTokens < 1) throw new IllegalArgumentException("--prompt-tokens must be ≥ 1, got " + promptTokens);
        if (newTokens < 1) throw new IllegalArgumentException("--new-tokens must be ≥ 1, got " + newTokens);
        if (layers != null && layers < 1) throw new IllegalArgumentException("--layers must be ≥ 1, got " + layers);
        dt = ModelInputs.dtype(dtype);
        List<Case> cases = new ArrayList<>();
        for (String s : chosen) {
            switch (s) {
                case "gpt2-small" -> {
                    cases.add(new Case("decoder-only", s, sized(TransformerConfig.gpt2Small())));
                    cases.add(new Case("prefix-LM", s, sized(TransformerConfig.gpt2Small().toBuilder().prefixLm(true).build())));
                }
                case "bert-base" -> cases.add(new Case("encoder-only", s, sized(TransformerConfig.bertBase())));
                default -> cases.add(new Case("encoder-decoder", s, sized(TransformerConfig.t5Small())));
            }
        }
        for (Case c : cases) {
            if (c.config.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE && promptTokens + newTokens > c.config.maxPositions()) {
                throw new IllegalArgumentException("--prompt-tokens + --new-tokens = " + (promptTokens + newTokens) + " exceeds "
                        + c.shape + "'s " + c.config.maxPositions() + " positions");
            }
        }
        List<Row> rows = new ArrayList<>();
        String backendName;
        try (Backend backend = Backends.select();
             Progress bar = Progress.start("bench", cases.size(), progress)) {
            backendName = backend.description();
            for (Case c : cases) {
                rows.add(run(backend, c));
                bar.update(rows.size());
            }
        }
        if (json) printJson(System.out, backendName, rows);
        else printTable(System.out, backendName, rows);
        return 0;
    }

    private TransformerConfig sized(TransformerConfig c) {
        if (layers == null) return c;
        TransformerConfig.Builder b = c.toBuilder();
        if (c.encoderLayers() > 0) b.encoderLayers(layers);
        if (c.decoderLayers() > 0) b.decoderLayers(layers);
        return b.build();
    }

    private org.transformer4j.runtime.DType dt;

    private Row run(Backend backend, Case c) {
        TransformerConfig cfg = c.config;
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] prompt = new int[batch][promptTokens];
        for (int[] row : prompt) for (int i = 0; i < promptTokens; i++) row[i] = rnd.nextInt(cfg.vocabSize());
        try (Weights w = inDType(Weights.random(cfg, backend, seed))) {
            Transformer m = new Transformer(w, backend);
            once(m, c, prompt, 2);                              // warm-up: JIT, memory pools, cuBLAS handles
            long t0 = System.nanoTime();
            once(m, c, prompt, 0);
            backend.synchronize();
            double prefill = (System.nanoTime() - t0) / 1e6;
            if (cfg.architecture() == TransformerConfig.Architecture.ENCODER_ONLY) return new Row(c, prefill, Double.NaN, 0);
            double decode = decode(m, c, prompt);
            return new Row(c, prefill, decode, newTokens);
        }
    }

    /** {@code w} converted to --dtype (the F32 original closed), or w itself for f32. */
    private Weights inDType(Weights w) {
        if (dt == org.transformer4j.runtime.DType.F32) return w;
        try (w) {
            return w.to(dt);
        }
    }

    /** The prefill of {@code prompt}, then {@code steps} greedy decode steps (0: the prefill alone). */
    private void once(Transformer m, Case c, int[][] prompt, int steps) {
        TransformerConfig cfg = c.config;
        switch (cfg.architecture()) {
            case ENCODER_ONLY -> m.encode(prompt);
            case ENCODER_DECODER -> {
                try (KvState st = m.newState(prompt, Math.max(1, steps) + 1)) {   // encodes the input; the decoder starts next
                    int[] next = new int[prompt.length];
                    java.util.Arrays.fill(next, cfg.specialIds().decoderStart());
                    for (int s = 0; s < steps; s++) next = argmax(m.step(st, next));
                }
            }
            default -> {
                try (KvState st = m.newState(prompt.length, promptTokens + Math.max(1, steps) + 1)) {
                    int[] next = new int[prompt.length];
                    for (int b = 0; b < prompt.length; b++) {
                        float[][] l = m.prefill(st, b, prompt[b]);
                        next[b] = argmax(new float[][] {l[l.length - 1]})[0];
                    }
                    for (int s = 0; s < steps; s++) next = argmax(m.step(st, next));
                }
            }
        }
    }

    /** Milliseconds for {@code newTokens} greedy steps after a prefill (the prefill not counted). */
    private double decode(Transformer m, Case c, int[][] prompt) {
        TransformerConfig cfg = c.config;
        boolean encDec = cfg.architecture() == TransformerConfig.Architecture.ENCODER_DECODER;
        try (KvState st = encDec ? m.newState(prompt, newTokens + 1) : m.newState(prompt.length, promptTokens + newTokens + 1)) {
            int[] next = new int[prompt.length];
            if (encDec) {
                java.util.Arrays.fill(next, cfg.specialIds().decoderStart());
            } else {
                for (int b = 0; b < prompt.length; b++) {
                    float[][] l = m.prefill(st, b, prompt[b]);
                    next[b] = argmax(new float[][] {l[l.length - 1]})[0];
                }
            }
            long t0 = System.nanoTime();
            for (int s = 0; s < newTokens; s++) next = argmax(m.step(st, next));
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    private static int[] argmax(float[][] logits) {
        int[] out = new int[logits.length];
        for (int b = 0; b < logits.length; b++) {
            float[] l = logits[b];
            int best = 0;
            for (int j = 1; j < l.length; j++) if (l[j] > l[best]) best = j;
            out[b] = best;
        }
        return out;
    }

    private void printTable(PrintStream out, String backendName, List<Row> rows) {
        out.printf(Locale.ROOT, "backend: %s; %s, batch %d, prompt %d tokens, %d new tokens%s%n", backendName, ModelInputs.name(dt), batch,
                promptTokens, newTokens, layers == null ? "" : ", " + layers + " layer(s) per stack");
        out.printf(Locale.ROOT, "%-16s %-11s %12s %14s %16s %14s%n", "architecture", "shape", "prefill ms", "prefill tok/s",
                "decode ms/token", "decode tok/s");
        for (Row r : rows) {
            boolean dec = r.decodeSteps > 0;
            out.printf(Locale.ROOT, "%-16s %-11s %12.2f %14.1f %16s %14s%n", r.c.architecture, r.c.shape, r.prefillMs,
                    r.prefillTokensPerS(batch, promptTokens),
                    dec ? String.format(Locale.ROOT, "%.3f", r.decodeMsPerToken()) : "-",
                    dec ? String.format(Locale.ROOT, "%.1f", r.decodeTokensPerS(batch)) : "-");
        }
    }

    private void printJson(PrintStream out, String backendName, List<Row> rows) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode().put("backend", backendName).put("dtype", ModelInputs.name(dt))
                .put("batch", batch).put("promptTokens", promptTokens).put("newTokens", newTokens);
        if (layers == null) root.putNull("layers"); else root.put("layers", layers);
        ArrayNode results = root.putArray("results");
        for (Row r : rows) {
            boolean dec = r.decodeSteps > 0;
            ObjectNode o = results.addObject().put("architecture", r.c.architecture.toString()).put("shape", r.c.shape.toString())
                    .put("prefillMs", num(r.prefillMs)).put("prefillTokensPerS", num(r.prefillTokensPerS(batch, promptTokens)))
                    .put("decodeSteps", r.decodeSteps);
            if (dec) o.put("decodeMsPerToken", num(r.decodeMsPerToken())).put("decodeTokensPerS", num(r.decodeTokensPerS(batch)));
            else o.putNull("decodeMsPerToken").putNull("decodeTokensPerS");
        }
        try {
            out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);                // a tree of strings and numbers always serialises
        }
    }

    /** Four decimals, as the table's precision allows. */
    private static BigDecimal num(double v) { return BigDecimal.valueOf(v).setScale(4, RoundingMode.HALF_UP); }
}
