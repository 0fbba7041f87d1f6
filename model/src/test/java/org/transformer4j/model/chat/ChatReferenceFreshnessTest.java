// ChatReferenceFreshnessTest — where node and ci/chat-reference/node_modules are present (after `npm ci` there),
// re-runs make-fixtures.mjs into a temporary folder and checks the checked-in reference.json files are what it
// makes today, so the fixtures cannot drift from the command that documents them. Skipped otherwise, with the reason.
package org.transformer4j.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatReferenceFreshnessTest {

    @Test
    void checkedInFixturesAreWhatTheScriptMakes(@TempDir Path tmp) throws Exception {
        Path script = Path.of("..", "ci", "chat-reference", "make-fixtures.mjs").toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(script.resolveSibling("node_modules")), "no " + script.resolveSibling("node_modules") + " (run npm ci there)");
        Process p;
        try {
            p = new ProcessBuilder("node", script.toString(), tmp.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "node is not on the PATH: " + e.getMessage());
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assumeTrue(p.waitFor(300, TimeUnit.SECONDS), "make-fixtures.mjs did not finish in 300 s");
        assertEquals(0, p.exitValue(), log);
        for (String model : new String[] {"llama3", "qwen3", "gemma3", "gpt-oss"}) {
            try (var in = getClass().getResourceAsStream("/chat/" + model + "/reference.json")) {
                assertEquals(Files.readString(tmp.resolve(model).resolve("reference.json")), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                        model + ": reference.json differs from what ci/chat-reference/make-fixtures.mjs makes now");
            }
        }
    }
}
