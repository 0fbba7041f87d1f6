// StructuredOutputs — the request fields that ask for structured outputs, as vLLM reads them: OpenAI's
// response_format (json_object, json_schema), vLLM's structured_outputs {json, choice, json_object} and its
// older guided_json / guided_choice; each becomes a JsonConstraint over the model's vocabulary, or a 400
// naming the field.
package org.transformer4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.transformer4j.model.guided.JsonAutomaton;
import org.transformer4j.model.guided.JsonConstraint;
import org.transformer4j.model.guided.JsonSchemaCompiler;
import org.transformer4j.model.guided.TokenConstraint;
import org.transformer4j.model.guided.TokenVocabulary;
import org.transformer4j.model.tokenizer.Tokenizer;

/**
 * The vocabulary's token bytes are read once, at the first such request; compiled constraints (and the
 * masks each keeps) are shared by the requests that send the same schema, the last {@link #CACHED} of them.
 * Regular expressions and grammars (vLLM's regex, grammar, structural_tag) are refused with a 400.
 */
final class StructuredOutputs {

    /** Compiled constraints kept: each holds up to JsonConstraint.CACHED_MASKS masks of V / 8 bytes. */
    static final int CACHED = 16;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Tokenizer tokenizer;
    private final int vocab;
    private final Set<Integer> eosIds;
    private TokenVocabulary vocabulary;                          // read at the first structured request
    private final Map<String, JsonConstraint> compiled = new LinkedHashMap<>(16, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<String, JsonConstraint> e) { return size() > CACHED; }
    };

    StructuredOutputs(Tokenizer tokenizer, int vocab, Set<Integer> eosIds) {
        this.tokenizer = tokenizer;
        this.vocab = vocab;
        this.eosIds = eosIds;
    }

    /** The constraint the request asks for, or null for none (also {@code response_format: {"type": "text"}}). */
    TokenConstraint.Factory constraint(JsonNode b) {
        List<String> asked = new ArrayList<>();
        for (String k : List.of("response_format", "structured_outputs", "guided_json", "guided_choice", "guided_regex", "guided_grammar")) {
            if (b.hasNonNull(k) && !(k.equals("response_format") && "text".equals(b.get(k).path("type").asText()))) asked.add(k);
        }
        if (asked.isEmpty()) return null;
        if (asked.size() > 1) throw OpenAiServer.ApiError.bad(asked.get(1), "give one of " + asked + ", not several");
        String field = asked.get(0);
        JsonNode v = b.get(field);
        return switch (field) {
            case "response_format" -> responseFormat(v);
            case "structured_outputs" -> structuredOutputs(v);
            case "guided_json" -> schema("guided_json", v);
            case "guided_choice" -> choice("guided_choice", v);
            default -> throw OpenAiServer.ApiError.bad(field, field + " is not supported here: only JSON (response_format, guided_json) and choices");
        };
    }

    /**
     * The constraint of a request whose tool_choice forces a call ({@code forced}, from {@link #toolChoice}) in place of
     * the request's own: response_format is then not used, as vLLM sets the tool's schema over it; vLLM's
     * structured_outputs and guided_* fields beside a forced call are a 400 (vLLM refuses two kinds of constraint).
     */
    TokenConstraint.Factory constraint(JsonNode b, TokenConstraint.Factory forced) {
        if (forced == null) return constraint(b);
        for (String k : List.of("structured_outputs", "guided_json", "guided_choice", "guided_regex", "guided_grammar")) {
            if (b.hasNonNull(k)) throw OpenAiServer.ApiError.bad(k, k + " cannot be combined with tool_choice \"required\" or a named function, which constrain the reply themselves");
        }
        return forced;
    }

    /**
     * The constraint that forces a call, as vLLM's ChatCompletionRequest._get_json_schema_from_tool builds it: a named
     * function ({@code named}) gives its parameters schema; "required" ({@code named} null) an array, minItems 1, of
     * objects {"name": one tool's name, "parameters": that tool's schema}, anyOf over the tools, each tool's $defs
     * gathered at the top. A tool without parameters takes {"type": "object", "properties": {}} as vLLM does, made strict
     * (additionalProperties false) so that its arguments are {}, as vLLM's comment says they come out. A schema
     * the compiler refuses is a 400 naming the tool and the keyword.
     */
    TokenConstraint.Factory toolChoice(JsonNode tools, String named) {
        ObjectNode root;
        if (named != null) {
            root = null;
            for (JsonNode t : tools) if (named.equals(t.path("function").path("name").asText())) root = parameters(t);
        } else {
            root = JSON.createObjectNode();
            root.put("type", "array").put("minItems", 1);
            ArrayNode anyOf = root.putObject("items").putArray("anyOf");
            ObjectNode defs = JSON.createObjectNode();
            for (JsonNode t : tools) {
                String name = t.path("function").path("name").asText();
                ObjectNode params = parameters(t);
                JsonNode own = params.remove("$defs");
                if (own != null) {
                    for (var e : own.properties()) {
                        if (defs.has(e.getKey()) && !defs.get(e.getKey()).equals(e.getValue())) {
                            throw OpenAiServer.ApiError.bad("tools", "Tool definition '" + e.getKey() + "' has multiple schemas, which is not supported.");
                        }
                        defs.set(e.getKey(), e.getValue());
                    }
                }
                ObjectNode branch = anyOf.addObject().put("type", "object");
                ObjectNode props = branch.putObject("properties");
                props.putObject("name").put("type", "string").putArray("enum").add(name);
                props.set("parameters", params);
                branch.putArray("required").add("name").add("parameters");
            }
            if (!defs.isEmpty()) root.set("$defs", defs);
        }
        ObjectNode schema = root;
        return cached("tools " + schema, () -> {
            for (JsonNode t : tools) {
                String name = t.path("function").path("name").asText();
                if (named != null && !named.equals(name)) continue;
                try {
                    JsonSchemaCompiler.compile(parameters(t));
                } catch (IllegalArgumentException e) {
                    throw OpenAiServer.ApiError.bad("tools", "tool '" + name + "': its parameters schema cannot be enforced for tool_choice: " + e.getMessage());
                }
            }
            try {
                return new JsonConstraint(JsonSchemaCompiler.compile(schema), vocabulary(), eosIds);
            } catch (IllegalArgumentException e) {
                throw OpenAiServer.ApiError.bad("tools", "the tools' schemas cannot be enforced for tool_choice: " + e.getMessage());
            }
        });
    }

    /** A tool's parameters schema (a copy), or vLLM's empty object schema where it has none. */
    private static ObjectNode parameters(JsonNode tool) {
        JsonNode p = tool.path("function").get("parameters");
        if (p == null || !p.isObject() || p.isEmpty()) {
            ObjectNode none = JSON.createObjectNode().put("type", "object");
            none.putObject("properties");
            return none.put("additionalProperties", false);         // {} (our compiler reads an empty properties as any object)
        }
        return ((ObjectNode) p).deepCopy();
    }

    private TokenConstraint.Factory responseFormat(JsonNode v) {
        String type = v.path("type").asText("");
        return switch (type) {
            case "json_object" -> cached("json_object", () -> JsonConstraint.jsonObject(vocabulary(), eosIds));
            case "json_schema" -> {
                JsonNode js = v.path("json_schema");
                if (!js.isObject()) throw OpenAiServer.ApiError.bad("response_format.json_schema", "response_format of type json_schema needs a json_schema object");
                JsonNode schema = js.has("schema") ? js.get("schema") : js.get("json_schema");
                if (schema == null || schema.isNull()) throw OpenAiServer.ApiError.bad("response_format.json_schema.schema", "json_schema needs a schema");
                yield schema("response_format.json_schema.schema", schema);
            }
            default -> throw OpenAiServer.ApiError.bad("response_format.type", "response_format.type must be text, json_object or json_schema, got '" + type + "'");
        };
    }

    private TokenConstraint.Factory structuredOutputs(JsonNode v) {
        if (!v.isObject()) throw OpenAiServer.ApiError.bad("structured_outputs", "structured_outputs must be an object");
        List<String> kinds = new ArrayList<>();
        v.fieldNames().forEachRemaining(k -> { if (!v.get(k).isNull() && !k.equals("disable_any_whitespace") && !k.equals("whitespace_pattern")) kinds.add(k); });
        if (kinds.size() != 1) throw OpenAiServer.ApiError.bad("structured_outputs", "structured_outputs needs exactly one of json, choice, json_object; got " + kinds);
        String k = kinds.get(0);
        return switch (k) {
            case "json" -> schema("structured_outputs.json", v.get(k));
            case "choice" -> choice("structured_outputs.choice", v.get(k));
            case "json_object" -> cached("json_object", () -> JsonConstraint.jsonObject(vocabulary(), eosIds));
            default -> throw OpenAiServer.ApiError.bad("structured_outputs." + k, "structured_outputs." + k + " is not supported here: only json, json_object and choice");
        };
    }

    /** A schema, as an object or as JSON text (vLLM accepts both). */
    private TokenConstraint.Factory schema(String param, JsonNode schema) {
        JsonNode s = schema;
        if (schema.isTextual()) {
            try {
                s = JSON.readTree(schema.textValue());
            } catch (IOException e) {
                throw OpenAiServer.ApiError.bad(param, param + " is not valid JSON: " + e.getMessage());
            }
        }
        JsonNode tree = s;
        return cached("schema " + tree, () -> {
            JsonAutomaton.Node grammar;
            try {
                grammar = JsonSchemaCompiler.compile(tree);
            } catch (IllegalArgumentException e) {
                throw OpenAiServer.ApiError.bad(param, e.getMessage());
            }
            return new JsonConstraint(grammar, vocabulary(), eosIds);
        });
    }

    /** One of these texts, verbatim (vLLM's choice: the text itself, not a JSON string). */
    private TokenConstraint.Factory choice(String param, JsonNode choices) {
        if (!choices.isArray() || choices.isEmpty()) throw OpenAiServer.ApiError.bad(param, param + " must be a non-empty array of strings");
        List<byte[]> texts = new ArrayList<>();
        for (JsonNode c : choices) {
            if (!c.isTextual() || c.textValue().isEmpty()) throw OpenAiServer.ApiError.bad(param, param + " must hold non-empty strings");
            texts.add(c.textValue().getBytes(StandardCharsets.UTF_8));
        }
        return cached("choice " + choices, () -> new JsonConstraint(JsonAutomaton.choice(texts), vocabulary(), eosIds));
    }

    private synchronized TokenConstraint.Factory cached(String key, java.util.function.Supplier<JsonConstraint> make) {
        JsonConstraint c = compiled.get(key);
        if (c == null) {
            c = make.get();
            compiled.put(key, c);
        }
        return c;
    }

    private synchronized TokenVocabulary vocabulary() {
        if (eosIds.isEmpty()) throw OpenAiServer.ApiError.bad(null, "structured outputs need the model's end-of-sequence id, and this server has none");
        if (vocabulary == null) {
            try {
                vocabulary = TokenVocabulary.of(tokenizer, vocab);
            } catch (IOException | IllegalArgumentException e) {
                throw OpenAiServer.ApiError.bad(null, "structured outputs are not available for this tokenizer: " + e.getMessage());
            }
        }
        return vocabulary;
    }
}
