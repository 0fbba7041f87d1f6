// JsonSchemaCompiler — turns the JSON Schema subset that clients send for structured outputs (OpenAI's
// strict-mode subset and a little more) into a JsonAutomaton grammar, and refuses every keyword it
// cannot enforce with a message naming the keyword and where it stands.
package org.transformer4j.model.guided;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.transformer4j.model.guided.JsonAutomaton.Node;

/**
 * Supported: {@code type} (one or a list: object, array, string, number, integer, boolean, null),
 * {@code properties} (in schema order, as xgrammar and llguidance emit them), {@code required},
 * {@code additionalProperties} (false, or absent: no other keys, xgrammar's strict mode; true or a schema
 * only where there are no {@code properties}: an object with any keys), {@code items}, {@code minItems},
 * {@code maxItems}, {@code minLength}, {@code maxLength}, {@code enum}, {@code const}, {@code anyOf} and
 * {@code oneOf} (both enforced as anyOf: a value that matches two oneOf branches is not refused),
 * {@code nullable} (OpenAPI), local {@code $ref}s ({@code #}, {@code #/$defs/...}, {@code #/definitions/...}),
 * not recursive. Annotations (title, description, default, examples, $schema, $id, $comment, deprecated,
 * readOnly, writeOnly) are ignored. Everything else ({@code pattern}, {@code format}, {@code minimum},
 * {@code allOf}, {@code patternProperties}, ...) is an {@link IllegalArgumentException} naming it.
 */
public final class JsonSchemaCompiler {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");

    private static final Set<String> SUPPORTED = Set.of("type", "properties", "required", "additionalProperties", "items",
            "minItems", "maxItems", "minLength", "maxLength", "enum", "const", "anyOf", "oneOf", "nullable", "$ref");

    private final JsonNode root;
    private final Map<String, Node> refs = new HashMap<>();
    private final Set<String> resolving = new LinkedHashSet<>();

    private JsonSchemaCompiler(JsonNode root) { this.root = root; }

    /** The grammar of the values {@code schema} allows; IllegalArgumentException for what it cannot enforce. */
    public static Node compile(JsonNode schema) {
        if (schema == null || schema.isMissingNode()) throw new IllegalArgumentException("no JSON schema");
        return new JsonSchemaCompiler(schema).node(schema, "#");
    }

    /** {@link #compile(JsonNode)} of a schema's JSON text. */
    public static Node compile(String schema) {
        try {
            return compile(JSON.readTree(schema));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the JSON schema is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private Node node(JsonNode s, String at) {
        if (s.isBoolean()) {
            if (s.booleanValue()) return JsonAutomaton.anyJson();
            throw new IllegalArgumentException("the schema at " + at + " is false: no value matches it");
        }
        if (!s.isObject()) throw new IllegalArgumentException("the schema at " + at + " must be an object or a boolean, got " + s.getNodeType());
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!SUPPORTED.contains(k) && !ANNOTATIONS.contains(k)) {
                throw new IllegalArgumentException("unsupported JSON Schema keyword '" + k + "' at " + at
                        + " (structured outputs here enforce type, properties, required, additionalProperties, items, minItems, maxItems,"
                        + " minLength, maxLength, enum, const, anyOf, oneOf, nullable and local $ref)");
            }
        }
        if (s.has("$ref")) {
            if (s.size() > 1 && hasConstraintsBeside(s, "$ref")) throw new IllegalArgumentException("keywords beside $ref at " + at + " are not supported");
            return ref(s.get("$ref"), at);
        }
        List<Node> alternatives = new ArrayList<>();
        String union = s.has("anyOf") ? "anyOf" : s.has("oneOf") ? "oneOf" : null;
        if (union != null) {
            if (hasConstraintsBeside(s, union)) throw new IllegalArgumentException("keywords beside " + union + " at " + at + " are not supported");
            JsonNode list = s.get(union);
            if (!list.isArray() || list.isEmpty()) throw new IllegalArgumentException(union + " at " + at + " must be a non-empty array");
            for (int i = 0; i < list.size(); i++) alternatives.add(node(list.get(i), at + "/" + union + "/" + i));
            return alternatives.size() == 1 ? alternatives.get(0) : new JsonAutomaton.Union(alternatives.toArray(Node[]::new));
        }
        List<String> types = types(s, at);
        if (s.has("enum") || s.has("const")) return literals(s, types, at);
        for (String t : types) alternatives.add(typed(s, t, at));
        if (s.path("nullable").asBoolean(false) && !types.contains("null")) alternatives.add(JsonAutomaton.literals("null"));
        return alternatives.size() == 1 ? alternatives.get(0) : new JsonAutomaton.Union(alternatives.toArray(Node[]::new));
    }

    private static boolean hasConstraintsBeside(JsonNode s, String keyword) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals(keyword) && !ANNOTATIONS.contains(k)) return true;
        }
        return false;
    }

    /** The schema's types: its "type", else what its keywords imply, else all. */
    private static List<String> types(JsonNode s, String at) {
        JsonNode t = s.get("type");
        List<String> out = new ArrayList<>();
        if (t == null) {
            if (s.has("enum") || s.has("const")) return out;
            if (s.has("properties") || s.has("required") || s.has("additionalProperties")) return List.of("object");
            if (s.has("items") || s.has("minItems") || s.has("maxItems")) return List.of("array");
            if (s.has("minLength") || s.has("maxLength")) return List.of("string");
            return List.of("object", "array", "string", "number", "boolean", "null");
        }
        for (JsonNode one : t.isArray() ? t : JSON.createArrayNode().add(t)) {
            if (!one.isTextual()) throw new IllegalArgumentException("type at " + at + " must be a string or an array of strings");
            String name = one.textValue();
            if (!Set.of("object", "array", "string", "number", "integer", "boolean", "null").contains(name)) {
                throw new IllegalArgumentException("unknown type '" + name + "' at " + at);
            }
            if (!out.contains(name)) out.add(name);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("type at " + at + " is an empty list: no value matches it");
        return out;
    }

    private Node typed(JsonNode s, String type, String at) {
        return switch (type) {
            case "object" -> object(s, at);
            case "array" -> {
                Node items = s.has("items") ? node(s.get("items"), at + "/items") : JsonAutomaton.anyJson();
                int min = count(s, "minItems", 0, at), max = count(s, "maxItems", -1, at);
                if (max >= 0 && min > max) throw new IllegalArgumentException("minItems " + min + " > maxItems " + max + " at " + at);
                yield new JsonAutomaton.Arr(items, min, max);
            }
            case "string" -> {
                int min = count(s, "minLength", 0, at), max = count(s, "maxLength", -1, at);
                if (max >= 0 && min > max) throw new IllegalArgumentException("minLength " + min + " > maxLength " + max + " at " + at);
                yield min == 0 && max < 0 ? JsonAutomaton.ANY_STRING : new JsonAutomaton.Str(min, max);
            }
            case "number" -> new JsonAutomaton.Num(false);
            case "integer" -> new JsonAutomaton.Num(true);
            case "boolean" -> JsonAutomaton.literals("true", "false");
            case "null" -> JsonAutomaton.literals("null");
            default -> throw new IllegalStateException(type);
        };
    }

    private Node object(JsonNode s, String at) {
        JsonNode props = s.path("properties");
        JsonNode extra = s.get("additionalProperties");
        if (!props.isMissingNode() && !props.isObject()) throw new IllegalArgumentException("properties at " + at + " must be an object");
        Set<String> required = new LinkedHashSet<>();
        for (JsonNode r : s.path("required")) {
            if (!r.isTextual()) throw new IllegalArgumentException("required at " + at + " must list strings");
            required.add(r.textValue());
        }
        if (props.isMissingNode() || props.isEmpty()) {
            if (!required.isEmpty()) throw new IllegalArgumentException("required at " + at + " names " + required + " but there are no properties");
            if (extra != null && extra.isBoolean() && !extra.booleanValue()) return new JsonAutomaton.Obj(new byte[0][], new Node[0], new boolean[0]);
            return new JsonAutomaton.MapObj(extra == null ? JsonAutomaton.anyJson() : node(extra, at + "/additionalProperties"));
        }
        if (extra != null && !(extra.isBoolean() && !extra.booleanValue())) {
            throw new IllegalArgumentException("additionalProperties other than false beside properties at " + at
                    + " is not supported (strict mode: set additionalProperties to false)");
        }
        if (props.size() > 64) throw new IllegalArgumentException("more than 64 properties at " + at + " are not supported");
        int n = props.size();
        byte[][] keys = new byte[n][];
        Node[] values = new Node[n];
        boolean[] req = new boolean[n];
        int i = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); i++) {
            Map.Entry<String, JsonNode> e = it.next();
            String text = jsonText(JSON.getNodeFactory().textNode(e.getKey()));
            keys[i] = text.substring(1).getBytes(StandardCharsets.UTF_8);          // after the opening quote, closing quote kept
            values[i] = node(e.getValue(), at + "/properties/" + e.getKey());
            req[i] = required.remove(e.getKey());
        }
        if (!required.isEmpty()) throw new IllegalArgumentException("required at " + at + " names " + required + ", which properties lacks");
        return new JsonAutomaton.Obj(keys, values, req);
    }

    private static int count(JsonNode s, String keyword, int absent, String at) {
        JsonNode v = s.get(keyword);
        if (v == null) return absent;
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0) {
            throw new IllegalArgumentException(keyword + " at " + at + " must be a non-negative integer, got " + v);
        }
        return v.intValue();
    }

    /** enum or const: each value's compact JSON text, kept where it has one of the schema's types (if any). */
    private static Node literals(JsonNode s, List<String> types, String at) {
        List<JsonNode> values = new ArrayList<>();
        if (s.has("const")) values.add(s.get("const"));
        else if (s.get("enum").isArray()) s.get("enum").forEach(values::add);
        else throw new IllegalArgumentException("enum at " + at + " must be an array");
        List<byte[]> texts = new ArrayList<>();
        for (JsonNode v : values) if (types.isEmpty() || types.stream().anyMatch(t -> hasType(v, t))) texts.add(jsonText(v).getBytes(StandardCharsets.UTF_8));
        if (texts.isEmpty()) throw new IllegalArgumentException((s.has("const") ? "const" : "enum") + " at " + at + " has no value of type " + types);
        return JsonAutomaton.choice(texts);
    }

    private static boolean hasType(JsonNode v, String t) {
        return switch (t) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber() || v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0;
            case "boolean" -> v.isBoolean();
            default -> v.isNull();
        };
    }

    private static String jsonText(JsonNode v) {
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Node ref(JsonNode ref, String at) {
        if (!ref.isTextual() || !ref.textValue().startsWith("#")) {
            throw new IllegalArgumentException("$ref at " + at + " must be local ('#', '#/$defs/...'), got " + ref);
        }
        String pointer = ref.textValue();
        Node done = refs.get(pointer);
        if (done != null) return done;
        if (!resolving.add(pointer)) throw new IllegalArgumentException("recursive $ref '" + pointer + "' at " + at + " is not supported");
        JsonNode target = pointer.equals("#") ? root : root.at(pointer.substring(1));
        if (target.isMissingNode()) throw new IllegalArgumentException("$ref '" + pointer + "' at " + at + " points nowhere");
        Node n = node(target, pointer);
        resolving.remove(pointer);
        refs.put(pointer, n);
        return n;
    }
}
