// StructuredOutput — `t4j generate --json` / `--json-schema FILE`: the JSON constraint over the model's
// vocabulary that the generator applies at each step.
package org.transformer4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.transformer4j.model.guided.JsonConstraint;
import org.transformer4j.model.guided.TokenVocabulary;
import org.transformer4j.model.tokenizer.Tokenizer;

final class StructuredOutput {

    private StructuredOutput() {}

    /** JSON mode when {@code schemaFile} is null, else the values its schema allows; the text ends at one of {@code eos}. */
    static JsonConstraint constraint(Path schemaFile, Tokenizer tok, int vocab, Set<Integer> eos) throws IOException {
        if (eos.isEmpty()) throw new IllegalArgumentException("--json and --json-schema need the model's end-of-sequence id, and none is configured");
        JsonNode schema = null;
        if (schemaFile != null) {
            if (!Files.isRegularFile(schemaFile)) throw new IllegalArgumentException("--json-schema: no such file " + schemaFile);
            try {
                schema = new ObjectMapper().readTree(schemaFile.toFile());
            } catch (IOException e) {
                throw new IllegalArgumentException("--json-schema: " + schemaFile + " is not valid JSON: " + e.getMessage(), e);
            }
        }
        TokenVocabulary v;
        try {
            v = TokenVocabulary.of(tok, vocab);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--json / --json-schema: " + e.getMessage(), e);
        }
        return schema == null ? JsonConstraint.jsonObject(v, eos) : JsonConstraint.schema(schema, v, eos);
    }
}
