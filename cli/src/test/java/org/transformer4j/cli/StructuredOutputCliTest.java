// StructuredOutputCliTest — `t4j generate --json` / `--json-schema FILE` refuse, in one line each, what they cannot
// do: a word-level tokenizer (whose tokens have no byte form to walk), a schema file that is missing or not JSON,
// and a schema keyword they cannot enforce. (Constrained generation itself is tested in model and server.)
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StructuredOutputCliTest {

    @Test
    void refusalsAreOneClearLine(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("qwen3"), "qwen3");
        CliProcess.Result words = CliProcess.run(dir, "generate", "--model", model.toString(), "the cat", "--json");
        assertNotEquals(0, words.exit(), words.all());
        assertTrue(words.err().contains("--json / --json-schema") && words.err().contains("byte-level"), words.all());

        CliProcess.Result missing = CliProcess.run(dir, "generate", "--model", model.toString(), "the cat", "--json-schema",
                dir.resolve("nope.json").toString());
        assertNotEquals(0, missing.exit(), missing.all());
        assertTrue(missing.err().contains("no such file"), missing.all());

        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"type\": \"string\", \"format\": \"email\"");
        CliProcess.Result notJson = CliProcess.run(dir, "generate", "--model", model.toString(), "the cat", "--json-schema", bad.toString());
        assertNotEquals(0, notJson.exit(), notJson.all());
        assertTrue(notJson.err().contains("is not valid JSON"), notJson.all());
    }
}
