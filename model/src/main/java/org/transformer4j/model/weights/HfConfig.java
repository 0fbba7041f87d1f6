// HfConfig — a Hugging Face config.json read strictly (duplicate keys, trailing content and wrong
// types are errors naming the file and the field), with typed accessors and HF's defaults where
// transformers has them. The model layer maps these fields onto TransformerConfig.
package org.transformer4j.model.weights;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;

/** The fields of a config.json; every accessor names the file and the field when it is missing or malformed. */
public final class HfConfig {

    private final Path file;
    private final JsonNode root;

    private HfConfig(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /** Reads {@code path}: a config.json, or a model folder holding one. */
    public static HfConfig read(Path path) throws CheckpointException {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(file)) throw new CheckpointException(file, "no such file");
        JsonNode root;                                  // a CheckpointException, not a safetensors one: config.json is JSON
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new CheckpointException(file, "config.json is not valid JSON: " + e.getMessage(), e);
        } catch (java.io.IOException e) {
            throw new CheckpointException(file, "cannot read config.json: " + e, e);
        }
        if (!root.isObject()) throw new CheckpointException(file, "config.json is not a JSON object");
        return new HfConfig(file, root);
    }

    public Path file() { return file; }

    /** {@code model_type}: "gpt2", "bert", "t5", ... */
    public String modelType() throws CheckpointException { return string("model_type"); }

    public boolean has(String field) { return root.has(field) && !root.get(field).isNull(); }

    public String string(String field) throws CheckpointException {
        JsonNode n = required(field);
        if (!n.isTextual()) throw bad(field, n, "a string");
        return n.textValue();
    }

    public String string(String field, String dflt) throws CheckpointException { return has(field) ? string(field) : dflt; }

    /** A positive integer that fits in an int (sizes and counts). */
    public int size(String field) throws CheckpointException {
        JsonNode n = required(field);
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() <= 0) throw bad(field, n, "a positive integer");
        return n.intValue();
    }

    public int size(String field, int dflt) throws CheckpointException { return has(field) ? size(field) : dflt; }

    /** The same with a default computed in long (e.g. 4 × n_embd), which must fit an int. */
    public int size(String field, long dflt) throws CheckpointException {
        if (has(field)) return size(field);
        if (dflt < 1 || dflt > Integer.MAX_VALUE) {
            throw new CheckpointException(file, "config.json has no '" + field + "' and its default, " + dflt + ", is not a size (1 to 2^31 − 1)");
        }
        return (int) dflt;
    }

    /** A finite number (epsilons). */
    public double number(String field, double dflt) throws CheckpointException {
        if (!has(field)) return dflt;
        JsonNode n = root.get(field);
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) throw bad(field, n, "a finite number");
        return n.doubleValue();
    }

    public boolean bool(String field, boolean dflt) throws CheckpointException {
        if (!has(field)) return dflt;
        JsonNode n = root.get(field);
        if (!n.isBoolean()) throw bad(field, n, "true or false");
        return n.booleanValue();
    }

    /** An error about this file, for checks that span fields. */
    public CheckpointException error(String problem) { return new CheckpointException(file, problem); }

    private JsonNode required(String field) throws CheckpointException {
        if (!has(field)) throw new CheckpointException(file, "config.json has no '" + field + "'");
        return root.get(field);
    }

    private CheckpointException bad(String field, JsonNode n, String expected) {
        String v = n.toString();
        return new CheckpointException(file, "config.json field '" + field + "' is " + (v.length() > 40 ? v.substring(0, 40) + "…" : v)
                + ", expected " + expected);
    }
}
