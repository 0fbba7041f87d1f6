// GenerationConfig — a Hugging Face generation_config.json: the ids that end a reply (eos_token_id, one or a
// list), bos/pad ids and the default sampling (do_sample, temperature, top_k, top_p, min_p, repetition_penalty,
// max_new_tokens) read into a record, and turned into Generator.Options with transformers' defaults for what it
// leaves out.
package org.transformer4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.StrictJson;

/** Absent fields are null (eosTokenIds empty). A malformed file throws a CheckpointException naming it and the field. */
public record GenerationConfig(Path file, Set<Integer> eosTokenIds, Integer bosTokenId, Integer padTokenId, Boolean doSample,
                               Double temperature, Integer topK, Double topP, Integer maxNewTokens, Double repetitionPenalty,
                               Double minP) {

    public GenerationConfig {
        eosTokenIds = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(eosTokenIds));
    }

    /** {@code path}: a generation_config.json, or a model folder holding one. */
    public static GenerationConfig read(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("generation_config.json") : path;
        if (!Files.isRegularFile(file)) throw new CheckpointException(file, "no such file");
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getMessage());
        }
        if (!root.isObject()) throw new CheckpointException(file, "not a JSON object");
        Set<Integer> eos = new LinkedHashSet<>();
        JsonNode e = root.path("eos_token_id");
        if (e.isArray()) for (JsonNode x : e) eos.add(id(file, "eos_token_id", x));
        else if (!e.isMissingNode() && !e.isNull()) eos.add(id(file, "eos_token_id", e));
        return new GenerationConfig(file, eos, optId(file, root, "bos_token_id"), optId(file, root, "pad_token_id"),
                bool(file, root, "do_sample"), number(file, root, "temperature", 0, false), optInt(file, root, "top_k", 0),
                number(file, root, "top_p", 0, true), optInt(file, root, "max_new_tokens", 1), positive(file, root, "repetition_penalty"),
                number(file, root, "min_p", 0, true));
    }

    /** The folder's generation_config.json when it has one. */
    public static Optional<GenerationConfig> readIfPresent(Path dir) throws IOException {
        return Files.isRegularFile(dir.resolve("generation_config.json")) ? Optional.of(read(dir)) : Optional.empty();
    }

    /**
     * Options as transformers' generate would run with this file and nothing else: greedy unless do_sample is
     * true, then temperature (default 1.0), top_k (default 50; 0 = off), top_p (default 1.0) and min_p (default
     * none); repetition_penalty (default 1.0) greedy or sampled, as generate's logits processors apply it; the reply
     * ends at any eos id; max_new_tokens from the file, else {@code defaultMaxNewTokens}.
     */
    public Generator.Options options(int defaultMaxNewTokens, long seed) {
        Generator.Options o = Generator.Options.greedy(maxNewTokens != null ? maxNewTokens : defaultMaxNewTokens);
        if (Boolean.TRUE.equals(doSample)) {
            o = o.sampling(temperature == null ? 1f : temperature.floatValue(), topK == null ? 50 : topK,
                    topP == null ? 1f : topP.floatValue(), seed);
            if (minP != null) o = o.minP(minP.floatValue());
        }
        if (repetitionPenalty != null) o = o.repetitionPenalty(repetitionPenalty.floatValue());
        return eosTokenIds.isEmpty() ? o : o.stopIds(eosTokenIds);
    }

    private static int id(Path file, String field, JsonNode n) throws CheckpointException {
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 0) {
            throw new CheckpointException(file, field + " must be a token id (an integer ≥ 0) or a list of them, got " + n);
        }
        return n.intValue();
    }

    private static Integer optId(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        return n.isMissingNode() || n.isNull() ? null : id(file, field, n);
    }

    private static Integer optInt(Path file, JsonNode root, String field, int min) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min) {
            throw new CheckpointException(file, field + " must be an integer ≥ " + min + ", got " + n);
        }
        return n.intValue();
    }

    private static Double number(Path file, JsonNode root, String field, double min, boolean atMostOne) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isNumber() || !(n.doubleValue() >= min) || (atMostOne && n.doubleValue() > 1) || Double.isInfinite(n.doubleValue())) {
            throw new CheckpointException(file, field + " must be a number ≥ " + min + (atMostOne ? " and ≤ 1" : "") + ", got " + n);
        }
        return n.doubleValue();
    }

    private static Double positive(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isNumber() || !(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue()) || !Float.isFinite((float) n.doubleValue())) {
            throw new CheckpointException(file, field + " must be a number > 0, got " + n);
        }
        return n.doubleValue();
    }

    private static Boolean bool(Path file, JsonNode root, String field) throws CheckpointException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isBoolean()) throw new CheckpointException(file, field + " must be true or false, got " + n);
        return n.booleanValue();
    }
}
