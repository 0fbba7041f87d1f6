// Main — the t4j command: subcommands, exit codes, and one-line errors (stack traces with --verbose).
package org.transformer4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Exit codes: 0 success, 1 failure (one line on stderr), 2 bad usage. */
@Command(name = "t4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "transformer4j: CUDA kernels for transformers, from Java.",
        subcommands = {InfoCommand.class, DemoCommand.class, InspectCommand.class, GenerateCommand.class, ChatCommand.class,
                       EmbedCommand.class, ClassifyCommand.class, FillMaskCommand.class, ServeCommand.class, BenchCommand.class, ConvertCommand.class,
                       CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    /** Held strongly: java.util.logging forgets the level of a logger nobody references. */
    private static final java.util.logging.Logger LIBRARY_LOG = java.util.logging.Logger.getLogger("org.transformer4j");
    /** DJL (the tokenizers) logs through SLF4J, bound to java.util.logging: its GPU probe and platform lines are not ours to show. */
    private static final java.util.logging.Logger DJL_LOG = java.util.logging.Logger.getLogger("ai.djl");
    /** Jinjava (chat templates) logs through SLF4J too: its notices are not the user's business either. */
    private static final java.util.logging.Logger JINJAVA_LOG = java.util.logging.Logger.getLogger("com.hubspot");
    /** Javalin and Jetty (t4j serve) log their start-up at INFO; the command prints where it listens itself. */
    private static final java.util.logging.Logger JAVALIN_LOG = java.util.logging.Logger.getLogger("io.javalin"),
            JETTY_LOG = java.util.logging.Logger.getLogger("org.eclipse.jetty");

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 2;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int run(String... args) {
        // Backend choice is logged at INFO for library users; the command prints it itself.
        if (!java.util.Arrays.asList(args).contains("--verbose")) {
            LIBRARY_LOG.setLevel(java.util.logging.Level.WARNING);
            DJL_LOG.setLevel(java.util.logging.Level.SEVERE);
            JINJAVA_LOG.setLevel(java.util.logging.Level.SEVERE);
            JAVALIN_LOG.setLevel(java.util.logging.Level.WARNING);
            JETTY_LOG.setLevel(java.util.logging.Level.WARNING);
        }
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean verbose = parsed.matchedOptionValue("--verbose", false);
            if (verbose) ex.printStackTrace(cmd.getErr());
            else cmd.getErr().println("t4j " + cmd.getCommandName() + ": " + oneLine(ex));
            return 1;
        });
        int code = cl.execute(args);
        return code == 0 ? outputCheck(cl) : code;
    }

    /**
     * 0, or 1 with a line on stderr when standard output was lost (closed, a full disk such as
     * {@code > /dev/full}, a broken pipe): PrintStream hides write errors, so a command's output could
     * vanish while it reported success.
     */
    static int outputCheck(CommandLine cl) {
        boolean lost = cl.getOut().checkError() | System.out.checkError();   // both flush first
        if (!lost) return 0;
        System.err.println("t4j: could not write to standard output (closed, a full disk, or a broken pipe): the output is lost");
        return 1;
    }

    /** Throws when standard output can no longer be written, so that a long command stops instead of computing into the void. */
    static void checkStdout() {
        if (System.out.checkError()) {
            throw new java.io.UncheckedIOException(new java.io.IOException(
                    "could not write to standard output (closed, a full disk, or a broken pipe): stopped"));
        }
    }

    static String oneLine(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) m = ex.getClass().getSimpleName();
        return m.replace('\n', ' ');
    }

    /** The version from the jar manifest, else "dev". */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"transformer4j " + (v == null ? "dev" : v)};
        }
    }
}
