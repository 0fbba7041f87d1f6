// SentencePooling — how a sentence-transformers folder turns token vectors into one sentence vector:
// modules.json (Transformer → Pooling → Normalize), 1_Pooling/config.json (cls, mean, max, last-token;
// include_prompt) and config_sentence_transformers.json (prompts such as e5's "query: "), applied as
// sentence_transformers.models.Pooling and Normalize compute them.
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
 */
public record SentencePooling(Mode mode, boolean includePrompt, boolean normalize, Map<String, String> prompts,
                              String defaultPrompt, Path modelDir) {

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
     * Reads a sentence-transformers folder. modules.json must list a Transformer module, then a Pooling module,
     * and optionally Normalize; other modules (Dense, LayerNorm, …) are refused by name, since skipping them would
     * give wrong vectors.
     */
    public static SentencePooling read(Path dir) throws IOException {
        Path modules = dir.resolve("modules.json");
        JsonNode list = json(modules);
        if (!list.isArray() || list.isEmpty()) throw new CheckpointException(modules, "modules.json is not a non-empty array of modules");
        Path modelDir = null;
        Mode mode = null;
        boolean includePrompt = true, normalize = false;
        for (JsonNode m : list) {
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
                default -> throw new CheckpointException(modules, "module " + type + " is not supported (Transformer, Pooling and"
                        + " Normalize are); its output would be wrong without it");
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
        return new SentencePooling(mode, includePrompt, normalize, Map.copyOf(prompts), defaultPrompt, modelDir);
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

    /** What {@code t4j embed} reports: e.g. "cls pooling, normalized" or "mean pooling (prompt excluded), not normalized". */
    public String describe() {
        return mode.stName + " pooling" + (includePrompt ? "" : " (prompt excluded)") + ", " + (normalize ? "normalized" : "not normalized");
    }
}
