// HfConfig — a Hugging Face config.json read strictly (duplicate keys, trailing content and wrong
// types are errors naming the file and the field), with typed accessors and HF's defaults where
// transformers has them. The model layer maps these fields onto TransformerConfig.
package org.transformer4j.model.weights;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;

/** The fields of a config.json; every accessor names the file and the field when it is missing or malformed. */
public class HfConfig {

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

    /** Whether the field is written at all, null included (Gemma 2's "final_logit_softcapping": null turns it off). */
    public boolean present(String field) { return root.has(field); }

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

    /** A whole number ≥ 0 (a count that may be none: first_k_dense_replace), or {@code dflt} when absent. */
    public int count(String field, int dflt) throws CheckpointException {
        if (!has(field)) return dflt;
        JsonNode n = required(field);
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) throw bad(field, n, "a whole number ≥ 0");
        return n.intValue();
    }

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

    /**
     * A nested object (rope_scaling, rope_parameters) with the same typed accessors, whose errors name
     * this file and the field as {@code outer.inner}; null when the field is absent or null.
     */
    public HfConfig object(String field) throws CheckpointException {
        if (!has(field)) return null;
        JsonNode n = root.get(field);
        if (!n.isObject()) throw bad(field, n, "an object");
        return new HfConfig(file, n) {
            @Override public CheckpointException error(String problem) { return HfConfig.this.error(field + ": " + problem); }
        };
    }

    /**
     * The first of {@code fields} the config has, else {@code dflt}: a size config classes accept under two names (BLOOM's
     * hidden_size / n_embed, Falcon's num_attention_heads / n_head, GPT-Neo's num_layers / num_hidden_layers).
     */
    public int firstSize(int dflt, String... fields) throws CheckpointException {
        for (String f : fields) if (has(f)) return size(f);
        return dflt;
    }

    /** The field's JSON as it stands (a structure no other accessor reads: GPT-Neo's attention_types), or null when absent. */
    public JsonNode node(String field) { return root.get(field); }

    /** The object's field names, in their order (an object of named entries: compressed-tensors' config_groups). */
    public java.util.List<String> fields() {
        java.util.List<String> out = new java.util.ArrayList<>();
        root.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** A list of strings (layer_types), or null when the field is absent or null. */
    public java.util.List<String> strings(String field) throws CheckpointException {
        if (!has(field)) return null;
        JsonNode n = root.get(field);
        if (!n.isArray()) throw bad(field, n, "a list of strings");
        java.util.List<String> out = new java.util.ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) throw bad(field, n, "a list of strings");
            out.add(e.textValue());
        }
        return out;
    }

    /** A list of finite numbers (LongRoPE's short_factor / long_factor), or null when the field is absent or null. */
    public double[] numbers(String field) throws CheckpointException {
        if (!has(field)) return null;
        JsonNode n = root.get(field);
        if (!n.isArray()) throw bad(field, n, "a list of numbers");
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = n.get(i);
            if (!e.isNumber() || !Double.isFinite(e.doubleValue())) throw bad(field, n, "a list of finite numbers");
            out[i] = e.doubleValue();
        }
        return out;
    }

    /** A token id or the first of a list of them (Llama 3's eos_token_id), -1 when absent or null. */
    public int firstId(String field) throws CheckpointException {
        if (!has(field)) return -1;
        JsonNode n = root.get(field);
        if (n.isArray()) {
            if (n.isEmpty()) return -1;
            n = n.get(0);
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < -1) throw bad(field, root.get(field), "a token id or a list of them");
        return n.intValue();
    }

    // ---- encoder heads (issue 14) ----

    /** problem_type's values, as transformers' PretrainedConfig allows them. */
    public static final java.util.List<String> PROBLEM_TYPES = java.util.List.of("regression", "single_label_classification",
            "multi_label_classification");

    /** {@code problem_type}: one of {@link #PROBLEM_TYPES}, or null when absent (transformers refuses other values too). */
    public String problemType() throws CheckpointException {
        if (!has("problem_type")) return null;
        String t = string("problem_type");
        if (!PROBLEM_TYPES.contains(t)) throw bad("problem_type", root.get("problem_type"), "one of " + PROBLEM_TYPES);
        return t;
    }

    /**
     * The class labels: {@code id2label} in id order (ids must be 0..n-1), else {@code num_labels} labels
     * named LABEL_i as transformers names them, else the default of 2 (LABEL_0, LABEL_1).
     */
    public java.util.List<String> labels() throws CheckpointException {
        if (has("id2label")) {
            JsonNode m = root.get("id2label");
            if (!m.isObject() || m.isEmpty()) throw bad("id2label", m, "an object of id → label");
            String[] out = new String[m.size()];
            var it = m.fields();
            while (it.hasNext()) {
                var e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new CheckpointException(file, "config.json id2label key '" + e.getKey() + "' is not an id");
                }
                if (id < 0 || id >= out.length || out[id] != null || !e.getValue().isTextual()) {
                    throw new CheckpointException(file, "config.json id2label must map ids 0.." + (out.length - 1)
                            + " to strings, once each; got " + e.getKey() + " → " + e.getValue());
                }
                out[id] = e.getValue().textValue();
            }
            if (has("num_labels") && size("num_labels") != out.length) {
                throw new CheckpointException(file, "config.json num_labels " + size("num_labels") + " disagrees with id2label's "
                        + out.length + " labels");
            }
            return java.util.List.of(out);
        }
        int n = size("num_labels", 2);
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) out.add("LABEL_" + i);
        return java.util.List.copyOf(out);
    }

    /** {@code architectures} (e.g. ["BertForMaskedLM"]), empty when absent. */
    public java.util.List<String> architectures() throws CheckpointException {
        if (!has("architectures")) return java.util.List.of();
        JsonNode a = root.get("architectures");
        if (!a.isArray()) throw bad("architectures", a, "an array of class names");
        java.util.List<String> out = new java.util.ArrayList<>();
        for (JsonNode n : a) {
            if (!n.isTextual()) throw bad("architectures", a, "an array of class names");
            out.add(n.textValue());
        }
        return java.util.List.copyOf(out);
    }

    /** An error about this file, for checks that span fields. */
    public CheckpointException error(String problem) { return new CheckpointException(file, problem); }

    private JsonNode required(String field) throws CheckpointException {
        if (!has(field)) throw error("config.json has no '" + field + "'");
        return root.get(field);
    }

    private CheckpointException bad(String field, JsonNode n, String expected) {
        String v = n.toString();
        return error("config.json field '" + field + "' is " + (v.length() > 40 ? v.substring(0, 40) + "…" : v)
                + ", expected " + expected);
    }
}
