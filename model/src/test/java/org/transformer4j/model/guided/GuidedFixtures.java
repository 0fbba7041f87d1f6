// GuidedFixtures — the real tokenizers the structured-output tests walk (unpacked once per JVM from the
// chat test resources), the schemas they generate for, and an independent JSON Schema validator.
package org.transformer4j.model.guided;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

final class GuidedFixtures {

    /** Strict: duplicate keys and trailing tokens are errors (Jackson's defaults are RFC 8259 otherwise). */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final Map<String, Path> FILES = new ConcurrentHashMap<>();

    private GuidedFixtures() {}

    /** The model's tokenizer.json (qwen3, llama3, gemma3), unpacked from the chat test resources into a temp folder once. */
    static Path tokenizerJson(String model) {
        return FILES.computeIfAbsent(model, m -> {
            try (InputStream in = new org.tukaani.xz.XZInputStream(GuidedFixtures.class.getResourceAsStream("/chat/" + m + "/tokenizer.json.xz"))) {
                Path dir = Files.createTempDirectory("t4j-guided-" + m);
                dir.toFile().deleteOnExit();
                Path f = dir.resolve("tokenizer.json");
                Files.copy(in, f);
                f.toFile().deleteOnExit();
                return f;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not valid JSON: " + e.getMessage() + "\n" + json, e);
        }
    }

    /** The validator's errors for {@code doc} against {@code schema} (Draft 2020-12). */
    static List<String> violations(String schema, JsonNode doc) {
        Schema s = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(tree(schema));
        return s.validate(doc).stream().map(Object::toString).toList();
    }

    /** Schemas of the subset, each used for random generation (keys in JSON text so that the validator reads the same). */
    static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","additionalProperties":false,
             "properties":{
               "name":{"type":"string","maxLength":12},
               "age":{"type":"integer"},
               "email":{"type":["string","null"]},
               "tags":{"type":"array","items":{"type":"string","minLength":1,"maxLength":4},"minItems":1,"maxItems":3},
               "address":{"$ref":"#/$defs/address"},
               "kind":{"enum":["a","b","c\\"d","é☃",1,1.5,null,true]},
               "score":{"type":"number"},
               "ok":{"type":"boolean"},
               "fixed":{"const":{"x":[1,2],"y":"z"}}},
             "required":["name","age","tags","address","kind"],
             "$defs":{"address":{"type":"object","additionalProperties":false,
               "properties":{"city":{"type":"string","minLength":1},"zip":{"anyOf":[{"type":"string","maxLength":5},{"type":"integer"}]}},
               "required":["city"]}}}
            """,
            """
            {"type":"array","maxItems":4,"items":{"type":"object","additionalProperties":false,
              "properties":{"id":{"type":"integer"},"v":{"anyOf":[{"type":"number"},{"type":"null"}]},"note":{"type":["string","null"]}},
              "required":["id"]}}
            """,
            """
            {"type":"object","additionalProperties":{"type":"integer"}}
            """,
            """
            {"type":"string","minLength":2,"maxLength":5}
            """,
            """
            {"anyOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false},
                      {"type":"object","properties":{"a":{"type":"string"},"b":{"type":"boolean"}},"required":["a","b"],"additionalProperties":false}]}
            """);
}
