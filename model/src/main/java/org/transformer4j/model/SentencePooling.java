// SentencePooling — how a sentence-transformers folder turns token vectors into one sentence vector:
// modules.json (Transformer → Pooling → Dense… → Normalize), 1_Pooling/config.json (cls, mean, max, last-token;
// include_prompt), each Dense module's config.json and model.safetensors (LaBSE, distiluse, EmbeddingGemma's
// projections) and config_sentence_transformers.json (prompts such as e5's "query: "), applied as
// sentence_transformers.models.Pooling, Dense and Normalize compute them.
package org.transformer4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.StrictJson;

/**
 * A pooling mode, whether the prompt's tokens enter the pool ({@code include_prompt}), whether the
 * vector is L2-normalised (a Normalize module), and the named prompts with the default one.
 *
 * @param modelDir the folder of the Transformer module (where config.json and the weights are)
 * @param dense the Dense modules after the pooling, in order
 * @param maxSeqLength the Transformer module's {@code max_seq_length} (sentence_bert_config.json): longer token sequences
 *                     are cut to it, special tokens kept, as sentence-transformers' tokenizer call truncates them; 0: no
 *                     limit here (the model's positions still bound them)
 */
public record SentencePooling(Mode mode, boolean includePrompt, boolean normalize, Map<String, String> prompts,
                              String defaultPrompt, Path modelDir, List<Dense> dense, int maxSeqLength) {

    /** Checks the limit; copies the Dense list. */
    public SentencePooling {
        dense = dense == null ? List.of() : List.copyOf(dense);
        if (maxSeqLength < 0) throw new IllegalArgumentException("maxSeqLength must be ≥ 0, got " + maxSeqLength);
    }

    /** Without Dense modules or a sequence limit. */
    public SentencePooling(Mode mode, boolean includePrompt, boolean normalize, Map<String, String> prompts, String defaultPrompt,
                           Path modelDir) {
        this(mode, includePrompt, normalize, prompts, defaultPrompt, modelDir, List.of(), 0);
    }

    /**
     * A sentence_transformers.models.Dense module: activation(W · v + b) on the sentence vector, W (out, in) row-major as
     * nn.Linear stores {@code linear.weight}, b ({@code linear.bias}) or null without one.
     */
    public record Dense(int in, int out, float[] weight, float[] bias, Activation activation) {
        /** The activation_function names sentence-transformers writes (the class's import path) that this library computes. */
        public enum Activation {
            IDENTITY("torch.nn.modules.linear.Identity"), TANH("torch.nn.modules.activation.Tanh"),
            RELU("torch.nn.modules.activation.ReLU"), GELU("torch.nn.modules.activation.GELU"),
            SIGMOID("torch.nn.modules.activation.Sigmoid");

            public final String torchName;

            Activation(String torchName) { this.torchName = torchName; }

            double apply(double x) {
                return switch (this) {
                    case IDENTITY -> x;
                    case TANH -> Math.tanh(x);
                    case RELU -> Math.max(x, 0);
                    case GELU -> org.transformer4j.runtime.cpu.Activations.gelu((float) x);           // exact, to fp32 as torch's
                    case SIGMOID -> 1 / (1 + Math.exp(-x));
                };
            }
        }

        double[] apply(double[] v) {
            double[] y = new double[out];
            for (int o = 0; o < out; o++) {
                double a = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) a += (double) weight[o * in + i] * v[i];
                y[o] = activation.apply(a);
            }
            return y;
        }
    }

    /** sentence-transformers' pooling modes that this library computes. */
    public enum Mode {
        CLS("cls"), MEAN("mean"), MAX("max"), LAST_TOKEN("lasttoken");

        public final String stName;

        Mode(String stName) { this.stName = stName; }
    }

    /** Mean pooling then normalisation: what the library did before it read sentence-transformers folders. */
    public static SentencePooling meanNormalized(Path modelDir) {
        return new SentencePooling(Mode.MEAN, true, true, Map.of(), null, modelDir);
    }

    /** {@code mode} with or without Normalize, no prompts (the built-in models, as their model cards say). */
    public static SentencePooling of(Mode mode, boolean normalize, Map<String, String> prompts) {
        return new SentencePooling(mode, true, normalize, Map.copyOf(prompts), null, null);
    }

    /** Whether {@code dir} is a sentence-transformers folder (has modules.json). */
    public static boolean isSentenceTransformers(Path dir) { return Files.isRegularFile(dir.resolve("modules.json")); }

    /**
     * Reads a sentence-transformers folder. modules.json must list a Transformer module, then a Pooling module, then
     * any Dense modules, and optionally Normalize last; other modules (LayerNorm, WordEmbeddings, …) are refused by name,
     * since skipping them would give wrong vectors. A Dense module's weights are read from its model.safetensors
     * (a pytorch_model.bin alone is refused: this library does not unpickle).
     */
    public static SentencePooling read(Path dir) throws IOException {
        Path modules = dir.resolve("modules.json");
        JsonNode list = json(modules);
        if (!list.isArray() || list.isEmpty()) throw new CheckpointException(modules, "modules.json is not a non-empty array of modules");
        Path modelDir = null;
        Mode mode = null;
        boolean includePrompt = true, normalize = false;
        List<Dense> dense = new java.util.ArrayList<>();
        for (JsonNode m : list) {
            if (normalize) throw new CheckpointException(modules, "a module follows Normalize; only Normalize last is supported");
            String type = m.path("type").asText("");
            String path = m.path("path").asText("");
            Path at = path.isEmpty() ? dir : dir.resolve(path).normalize();
            if (!at.startsWith(dir.normalize())) throw new CheckpointException(modules, "module path '" + path + "' leaves the folder");
            switch (type.substring(type.lastIndexOf('.') + 1)) {
                case "Transformer" -> {
                    if (modelDir != null) throw new CheckpointException(modules, "modules.json lists two Transformer modules");
                    modelDir = at;
                }
                case "Pooling" -> {
                    if (modelDir == null) throw new CheckpointException(modules, "the Pooling module comes before a Transformer module");
                    Path cfgFile = at.resolve("config.json");
                    JsonNode cfg = json(cfgFile);
                    mode = poolingMode(cfg, cfgFile);
                    includePrompt = cfg.path("include_prompt").asBoolean(true);
                }
                case "Normalize" -> normalize = true;
                case "Dense" -> {
                    if (mode == null) throw new CheckpointException(modules, "a Dense module comes before the Pooling module");
                    Dense d = dense(at);
                    if (!dense.isEmpty() && dense.get(dense.size() - 1).out() != d.in()) {
                        throw new CheckpointException(at.resolve("config.json"), "in_features " + d.in() + " ≠ the previous Dense module's"
                                + " out_features " + dense.get(dense.size() - 1).out());
                    }
                    dense.add(d);
                }
                default -> throw new CheckpointException(modules, "module " + type + " is not supported (Transformer, Pooling, Dense"
                        + " and Normalize are); its output would be wrong without it");
            }
        }
        if (modelDir == null) throw new CheckpointException(modules, "modules.json lists no sentence_transformers.models.Transformer");
        if (mode == null) throw new CheckpointException(modules, "modules.json lists no sentence_transformers.models.Pooling");
        Map<String, String> prompts = new LinkedHashMap<>();
        String defaultPrompt = null;
        Path stCfg = dir.resolve("config_sentence_transformers.json");
        if (Files.isRegularFile(stCfg)) {
            JsonNode c = json(stCfg);
            JsonNode p = c.path("prompts");
            if (!p.isMissingNode() && !p.isNull()) {
                if (!p.isObject()) throw new CheckpointException(stCfg, "'prompts' is not an object of name → prompt");
                for (var it = p.fields(); it.hasNext(); ) {
                    var e = it.next();
                    if (!e.getValue().isTextual()) throw new CheckpointException(stCfg, "prompt '" + e.getKey() + "' is not a string");
                    prompts.put(e.getKey(), e.getValue().textValue());
                }
            }
            JsonNode d = c.path("default_prompt_name");
            if (d.isTextual()) {
                if (!prompts.containsKey(d.textValue())) {
                    throw new CheckpointException(stCfg, "default_prompt_name '" + d.textValue() + "' is not one of the prompts " + prompts.keySet());
                }
                defaultPrompt = d.textValue();
            }
        }
        int maxSeq = 0;
        Path sb = modelDir.resolve("sentence_bert_config.json");
        if (Files.isRegularFile(sb)) {
            JsonNode m = json(sb).path("max_seq_length");
            if (!m.isMissingNode() && !m.isNull()) {
                if (!m.canConvertToInt() || m.intValue() < 1) throw new CheckpointException(sb, "max_seq_length " + m + " is not a positive integer");
                maxSeq = m.intValue();
            }
        }
        return new SentencePooling(mode, includePrompt, normalize, Map.copyOf(prompts), defaultPrompt, modelDir, dense, maxSeq);
    }

    /**
     * {@code ids} (a text's tokens with the special tokens the tokenizer adds) cut to {@link #maxSeqLength} as
     * sentence-transformers' tokenizer call truncates: the special tokens around the text kept, the text's last tokens
     * dropped. {@code prefix} and {@code suffix} are how many special tokens the tokenizer puts before and after a text
     * ({@link #specialsAround}).
     */
    public int[] truncate(int[] ids, int prefix, int suffix) {
        if (maxSeqLength == 0 || ids.length <= maxSeqLength) return ids;
        int keep = maxSeqLength - prefix - suffix;
        if (keep < 1) throw new IllegalStateException("max_seq_length " + maxSeqLength + " leaves no room beside " + (prefix + suffix) + " special tokens");
        int[] out = new int[maxSeqLength];
        System.arraycopy(ids, 0, out, 0, prefix + keep);
        System.arraycopy(ids, ids.length - suffix, out, prefix + keep, suffix);
        return out;
    }

    /**
     * How many special tokens {@code tokenizer} adds before and after a single text: {prefix, suffix}, found by encoding a
     * probe word with and without them (BERT's [CLS] … [SEP]: {1, 1}; an end-of-text post-processor: {0, 1}).
     */
    public static int[] specialsAround(org.transformer4j.model.tokenizer.Tokenizer tokenizer) {
        String probe = "hello";
        int[] with = tokenizer.encode(probe, true), without = tokenizer.encode(probe, false);
        for (int at = 0; at + without.length <= with.length; at++) {
            if (java.util.Arrays.equals(with, at, at + without.length, without, 0, without.length)) {
                return new int[] {at, with.length - at - without.length};
            }
        }
        throw new IllegalStateException(tokenizer.name() + ": the text's tokens are not a run of its encoding with special tokens;"
                + " max_seq_length cannot be applied");
    }

    /** A Dense module's folder: config.json (in_features, out_features, bias, activation_function) and model.safetensors. */
    private static Dense dense(Path at) throws IOException {
        Path cfgFile = at.resolve("config.json");
        JsonNode cfg = json(cfgFile);
        int in = cfg.path("in_features").asInt(-1), out = cfg.path("out_features").asInt(-1);
        if (in < 1 || out < 1) throw new CheckpointException(cfgFile, "in_features and out_features must be positive integers");
        boolean bias = cfg.path("bias").asBoolean(true);
        String act = cfg.path("activation_function").asText(Dense.Activation.TANH.torchName);   // Dense's default: Tanh
        Dense.Activation activation = null;
        for (Dense.Activation a : Dense.Activation.values()) if (a.torchName.equals(act)) activation = a;
        if (activation == null) {
            throw new CheckpointException(cfgFile, "activation_function '" + act + "' is not one of "
                    + java.util.Arrays.stream(Dense.Activation.values()).map(a -> a.torchName).toList());
        }
        Path file = at.resolve("model.safetensors");
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(at, Files.isRegularFile(at.resolve("pytorch_model.bin"))
                    ? "this Dense module has only pytorch_model.bin; its weights are read from model.safetensors: convert the"
                        + " model folder once with t4j convert (it converts module subfolders too)"
                    : "no model.safetensors");
        }
        try (org.transformer4j.model.weights.SafetensorsFile f = org.transformer4j.model.weights.SafetensorsFile.open(file)) {
            java.util.Set<String> want = bias ? java.util.Set.of("linear.weight", "linear.bias") : java.util.Set.of("linear.weight");
            if (!new java.util.HashSet<>(f.names()).equals(want)) {
                throw new CheckpointException(file, "holds " + new java.util.TreeSet<>(f.names()) + ", expected " + new java.util.TreeSet<>(want));
            }
            float[] w = read(f, file, "linear.weight", out, in);
            float[] b = bias ? read(f, file, "linear.bias", out) : null;
            return new Dense(in, out, w, b, activation);
        }
    }

    private static float[] read(org.transformer4j.model.weights.SafetensorsFile f, Path file, String name, long... shape) throws IOException {
        try (org.transformer4j.runtime.Tensor t = f.tensor(name)) {
            if (!java.util.Arrays.equals(t.shape(), shape)) {
                throw new CheckpointException(file, name + " is " + java.util.Arrays.toString(t.shape()) + ", expected "
                        + java.util.Arrays.toString(shape));
            }
            float[] a = t.toFloatArray();
            for (int i = 0; i < a.length; i++) {
                if (!Float.isFinite(a[i])) throw new CheckpointException(file, name + " holds a non-finite value at element " + i);
            }
            return a;
        }
    }

    private static Mode poolingMode(JsonNode cfg, Path file) throws CheckpointException {
        if (cfg.has("pooling_mode") && cfg.get("pooling_mode").isTextual()) {                 // sentence-transformers 5.x
            String m = cfg.get("pooling_mode").textValue();
            for (Mode x : Mode.values()) if (x.stName.equals(m) || (x == Mode.MEAN && m.equals("mean_tokens"))) return x;
            throw new CheckpointException(file, "pooling_mode '" + m + "' is not one of cls, mean, max, lasttoken");
        }
        Map<String, Mode> flags = Map.of("pooling_mode_cls_token", Mode.CLS, "pooling_mode_mean_tokens", Mode.MEAN,
                "pooling_mode_max_tokens", Mode.MAX, "pooling_mode_lasttoken", Mode.LAST_TOKEN);
        Mode found = null;
        for (var e : flags.entrySet()) {
            if (cfg.path(e.getKey()).asBoolean(false)) {
                if (found != null) throw new CheckpointException(file, "more than one pooling mode is on (" + found.stName + " and "
                        + e.getValue().stName + "); concatenated modes are not supported");
                found = e.getValue();
            }
        }
        for (String other : List.of("pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens")) {
            if (cfg.path(other).asBoolean(false)) throw new CheckpointException(file, other + " is not supported (cls, mean, max, lasttoken are)");
        }
        if (found == null) throw new CheckpointException(file, "no pooling mode is on");
        return found;
    }

    private static JsonNode json(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file, "no such file");
        try {
            return StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getMessage());
        }
    }

    /** The prompt text of {@code name} (null: the default prompt, if any), or "" for none. */
    public String prompt(String name) {
        String n = name != null ? name : defaultPrompt;
        if (n == null) return "";
        String p = prompts.get(n);
        if (p == null) throw new IllegalArgumentException("prompt '" + n + "' is not one of " + prompts.keySet());
        return p;
    }

    /** The sentence vectors' width for a model of width {@code hidden}: the last Dense module's out_features, else hidden. */
    public int dimension(int hidden) { return dense.isEmpty() ? hidden : dense.get(dense.size() - 1).out(); }

    /** Where the folder {@code dir} keeps its tokenizer: dir itself when it holds tokenizer.json, else the Transformer module's folder. */
    public Path tokenizerDir(Path dir) { return Files.isRegularFile(dir.resolve("tokenizer.json")) ? dir : modelDir; }

    /**
     * The sentence vector of one sequence's token vectors h (T, C): rows [from, T) enter mean, max and last-token
     * pooling ({@code from} = the prompt's length when include_prompt is false, else 0); CLS takes row 0 as
     * sentence-transformers does. Then the L2 normalisation when the folder has Normalize (norm at least 1e-12).
     */
    public float[] pool(float[][] h, int from) {
        int t = h.length, c = h[0].length;
        if (from >= t) from = 0;                          // nothing left after the prompt: sentence-transformers would pool zeros
        double[] v = new double[c];
        switch (mode) {
            case CLS -> { for (int j = 0; j < c; j++) v[j] = h[0][j]; }
            case MEAN -> {
                for (int i = from; i < t; i++) for (int j = 0; j < c; j++) v[j] += h[i][j];
                for (int j = 0; j < c; j++) v[j] /= (t - from);
            }
            case MAX -> {
                java.util.Arrays.fill(v, Double.NEGATIVE_INFINITY);
                for (int i = from; i < t; i++) for (int j = 0; j < c; j++) v[j] = Math.max(v[j], h[i][j]);
            }
            case LAST_TOKEN -> { for (int j = 0; j < c; j++) v[j] = h[t - 1][j]; }
        }
        for (Dense d : dense) {
            if (d.in() != v.length) {
                throw new IllegalStateException("the Dense module takes " + d.in() + " features but the sentence vector has " + v.length);
            }
            v = d.apply(v);
        }
        c = v.length;
        double norm = 1;
        if (normalize) {
            double s = 0;
            for (double x : v) s += x * x;
            norm = Math.max(Math.sqrt(s), 1e-12);
        }
        float[] out = new float[c];
        for (int j = 0; j < c; j++) out[j] = (float) (v[j] / norm);
        return out;
    }

    /**
     * What {@code t4j embed} reports: e.g. "cls pooling, normalized", "mean pooling (prompt excluded), not normalized" or
     * "cls pooling, dense 768→768 tanh, normalized".
     */
    public String describe() {
        StringBuilder b = new StringBuilder(mode.stName + " pooling" + (includePrompt ? "" : " (prompt excluded)"));
        for (Dense d : dense) b.append(", dense ").append(d.in()).append('→').append(d.out()).append(' ')
                .append(d.activation().name().toLowerCase(java.util.Locale.ROOT));
        return b.append(", ").append(normalize ? "normalized" : "not normalized").toString();
    }
}
