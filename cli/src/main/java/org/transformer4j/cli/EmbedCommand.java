// EmbedCommand — `t4j embed --model DIR "sentence" ...`: sentence embeddings from an encoder model
// folder through the model layer, printed as vectors or as their cosine-similarity matrix. A
// sentence-transformers folder (modules.json) is pooled and normalised as it says; other BERT-family and
// T5 folders are mean-pooled and L2-normalised. Built-in names: the ONNX models of langchain4j's jars
// (minilm, bge-small-en-v1.5, e5-small-v2) when the jar is on the class path, pooled as their model cards say.
// The pooling used is named on stderr.
package org.transformer4j.cli;

import java.nio.file.Path;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.SentencePooling;
import org.transformer4j.model.TextEncoder;
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
        description = {"Print sentence embeddings, one line per sentence, or with --similarity their cosine-similarity matrix. "
                + "DIR: a sentence-transformers folder (pooled and normalised as its modules.json says), or a BERT, RoBERTa, "
                + "XLM-RoBERTa, DistilBERT or T5 folder (mean-pooled, L2-normalised). The pooling used goes to stderr."},
        footer = {"", "Exit codes: 0 success, 1 bad input or failure (one line on stderr), 2 bad usage."})
final class EmbedCommand implements Callable<Integer> {

    /** Models known by name rather than by folder. */
    static final List<String> BUILT_IN = org.transformer4j.model.onnx.OnnxEncoders.BuiltIn.names();

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

    @Option(names = "--prompt", paramLabel = "NAME",
            description = "A prompt of the model (config_sentence_transformers.json's prompts; e5-small-v2: query, passage; "
                    + "bge-small-en-v1.5: query) put before each sentence.")
    String prompt;

    static final class BuiltIn implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() { return BUILT_IN.iterator(); }
    }

    @Override
    public Integer call() throws java.io.IOException {
        ModelInputs.checkTexts("sentence", sentences);
        org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
        float[][] e;
        if (BUILT_IN.contains(model)) return print(builtIn(org.transformer4j.model.onnx.OnnxEncoders.BuiltIn.byName(model), dt));
        if (!model.contains("/") && !model.contains(java.io.File.separator) && !java.nio.file.Files.exists(Path.of(model))) {
            throw new IllegalArgumentException("unknown model '" + model + "': give a model folder or one of " + BUILT_IN);
        }
        Path dir = Path.of(model);
        ModelInputs.checkModelFolder(dir);
        if (SentencePooling.isSentenceTransformers(dir)) return print(sentenceTransformers(dir, dt));
        if (prompt != null) throw new IllegalArgumentException("--prompt: " + dir + " is not a sentence-transformers folder (no modules.json), so it names no prompts");
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
        System.err.println("t4j embed: mean pooling, normalized (not a sentence-transformers folder: no modules.json)");
        return print(e);
    }

    /** A sentence-transformers folder: its Transformer module's weights (heads not loaded), pooled as its Pooling says. */
    private float[][] sentenceTransformers(Path dir, org.transformer4j.runtime.DType dt) throws java.io.IOException {
        SentencePooling pooling = SentencePooling.read(dir);
        pooling.prompt(prompt);                                              // a bad --prompt fails before anything loads
        Path tokDir = pooling.tokenizerDir(dir);
        try (Backend backend = Backends.select(); Tokenizer tok = Tokenizers.forModel(tokDir)) {
            Weights weights;
            try (Progress bar = Progress.start("loading " + dir.getFileName(), 1, progress)) {
                weights = Pretrained.loadEncoder(pooling.modelDir(), backend, dt);
                bar.update(1);
            }
            try (weights) {
                var arch = weights.config.architecture();
                if (arch != org.transformer4j.model.TransformerConfig.Architecture.ENCODER_ONLY
                        && arch != org.transformer4j.model.TransformerConfig.Architecture.DECODER_ONLY) {
                    throw new IllegalArgumentException(dir + ": the Transformer module is a " + arch + " model; sentence-transformers"
                            + " folders here need an encoder-only model (BERT, RoBERTa, MPNet, ModernBERT) or a decoder-only one"
                            + " (Qwen3-Embedding, e5-mistral)");
                }
                float[][] e = new TextEncoder(new Transformer(weights, backend), tok, pooling).embed(sentences, prompt);
                System.err.println("t4j embed: " + pooling.describe() + " (" + dir.resolve("modules.json") + ")"
                        + (prompt != null ? ", prompt '" + prompt + "'" : ""));
                return e;
            }
        }
    }

    /** A built-in ONNX model from a langchain4j jar on the class path, its config derived from the graph. */
    private float[][] builtIn(org.transformer4j.model.onnx.OnnxEncoders.BuiltIn b, org.transformer4j.runtime.DType dt)
            throws java.io.IOException {
        if (!b.available()) {
            throw new IllegalArgumentException("--model " + b.id + ": its ONNX file is not on the class path (add the jar"
                    + " dev.langchain4j:" + b.artifact + ")");
        }
        b.pooling.prompt(prompt);
        Path tmp = java.nio.file.Files.createTempDirectory("t4j-" + b.id);
        try (Backend backend = Backends.select(); Progress bar = Progress.start("loading " + b.id, 1, progress)) {
            var files = b.extract(tmp);
            try (var imported = org.transformer4j.model.onnx.BertOnnxImporter.importFile(files.onnx());
                 Tokenizer tok = org.transformer4j.model.tokenizer.HfTokenizer.load(files.tokenizer());
                 Weights weights = Weights.fromHfBert(org.transformer4j.model.onnx.OnnxEncoders.config(imported, b.onnx, 0),
                         imported.weights(), backend, dt)) {
                bar.update(1);
                float[][] e = new TextEncoder(new Transformer(weights, backend), tok, b.pooling).embed(sentences, prompt);
                System.err.println("t4j embed: " + b.pooling.describe() + " (" + b.id + "'s model card)"
                        + (prompt != null ? ", prompt '" + prompt + "'" : ""));
                return e;
            }
        } finally {
            try (var files = java.nio.file.Files.list(tmp)) {
                for (Path p : files.toList()) java.nio.file.Files.deleteIfExists(p);
            }
            java.nio.file.Files.deleteIfExists(tmp);
        }
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
