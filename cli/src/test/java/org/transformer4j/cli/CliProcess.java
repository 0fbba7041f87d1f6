// CliProcess — runs the t4j command as a separate process (this JVM's java, the test classpath, the
// CPU backend), as a user or a script would, and captures its exit code and output.
package org.transformer4j.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

final class CliProcess {

    record Result(int exit, String out, String err) {
        String all() { return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err; }
    }

    private CliProcess() {}

    static Result run(Path workDir, String... args) throws IOException, InterruptedException {
        return runWithInput(workDir, null, args);
    }

    /** The same with {@code stdin} (UTF-8) as the command's standard input; null: /dev/null. */
    static Result runWithInput(Path workDir, String stdin, String... args) throws IOException, InterruptedException {
        return runCommand(workDir, command(args), "t4j " + String.join(" ", args), stdin);
    }

    /** The java command line that runs t4j with {@code args}. */
    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-Dt4j.backend=cpu");
        String cache = System.getProperty("t4j.native.cache");
        if (cache != null) cmd.add("-Dt4j.native.cache=" + cache);
        cmd.add("-cp");
        // surefire passes the test classpath in this property when it starts the JVM through a manifest-only jar
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code cmd} (e.g. a shell around {@link #command}) with stdin from /dev/null, capturing stdout and stderr. */
    static Result runCommand(Path workDir, List<String> cmd, String what) throws IOException, InterruptedException {
        return runCommand(workDir, cmd, what, null);
    }

    /** The same with {@code stdin} (UTF-8) as standard input; null: /dev/null. */
    static Result runCommand(Path workDir, List<String> cmd, String what, String stdin) throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        Process p = new ProcessBuilder(cmd).directory(workDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(stdin == null ? new File("/dev/null") : input(workDir, stdin)))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(what + " did not finish in 180 s");
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                withoutJdkWarning(Files.readString(err, StandardCharsets.UTF_8)));
    }

    private static File input(Path workDir, String stdin) throws IOException {
        Path in = Files.createTempFile(workDir, "stdin", ".txt");
        Files.writeString(in, stdin, StandardCharsets.UTF_8);
        return in.toFile();
    }

    /**
     * The JDK itself prints "WARNING: Using incubator modules: jdk.incubator.vector" first whenever the
     * Vector API module is added (as ./t4j does; no flag silences it); it is not the command's output.
     */
    static String withoutJdkWarning(String err) {
        String w = "WARNING: Using incubator modules: jdk.incubator.vector" + System.lineSeparator();
        return err.startsWith(w) ? err.substring(w.length()) : err;
    }
}
