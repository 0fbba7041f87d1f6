// OutputLostTest — the t4j command when its standard output is lost: redirected to /dev/full (every
// write fails with ENOSPC) or closed. PrintStream hides such errors; before, the command exited 0 with
// its output gone. Now it exits 1 with a line on stderr, and generate stops generating. Also the
// CLI's own words for prompt truncation (--truncate) where the library's message names its API.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputLostTest {

    @TempDir
    Path dir;

    /** Runs t4j under bash with {@code redirect} applied to its stdout (e.g. "> /dev/full", ">&-"). */
    CliProcess.Result runRedirected(String redirect, String... args) throws Exception {
        List<String> sh = new ArrayList<>(List.of("bash", "-c", "exec \"$@\" " + redirect, "t4j"));
        sh.addAll(CliProcess.command(args));
        return CliProcess.runCommand(dir, sh, "t4j " + String.join(" ", args) + " " + redirect);
    }

    @Test
    void infoToAFullDiskOrAClosedStdoutFails() throws Exception {
        for (String redirect : new String[] {"> /dev/full", ">&-"}) {
            CliProcess.Result r = runRedirected(redirect, "info");
            assertEquals(1, r.exit(), redirect + "\n" + r.all());
            assertTrue(r.err().contains("could not write to standard output"), redirect + "\n" + r.all());
        }
        assertEquals(0, runRedirected("> /dev/null", "info").exit(), "a working stdout still exits 0");
    }

    @Test
    void generateToAFullDiskStopsAndFails() throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 4);
        CliProcess.Result r = runRedirected("> /dev/full", "generate", "--model", model.toString(), "Hello", "--max-new-tokens", "20");
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("could not write to standard output"), r.all());
        assertFalse(r.err().contains("prefill:"), "it stopped rather than reporting a finished generation: " + r.all());
    }

    @Test
    void aPromptTooLongForThePositionsIsToldAboutTruncateInCliWords() throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 5);
        String prompt = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen";
        CliProcess.Result r = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "20");
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("pass --truncate") && !r.err().contains("Options.truncate"), r.all());
        CliProcess.Result t = CliProcess.run(dir, "generate", "--model", model.toString(), prompt, "--max-new-tokens", "20", "--truncate");
        assertEquals(0, t.exit(), t.all());
        assertFalse(t.out().isBlank(), t.all());
        assertTrue(Files.exists(model));
    }
}
