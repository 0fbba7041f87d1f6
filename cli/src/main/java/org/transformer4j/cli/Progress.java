// Progress — a one-line progress bar on stderr for work that takes more than a second: drawn only
// when stderr is a terminal or --progress asks for it, and only once the work has run for a second.
package org.transformer4j.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * {@code try (Progress p = Progress.start("loading", total, enabled)) { ... p.update(done); }}.
 * Frames are redrawn with a carriage return at most every {@link #FRAME_NANOS}; {@link #close} ends the
 * line (only if a frame was drawn, so quick work leaves no trace). Not thread-safe.
 */
public final class Progress implements AutoCloseable, java.util.function.LongConsumer {

    /** Work shorter than this shows no bar at all. */
    static final long DELAY_NANOS = 1_000_000_000L;
    /** 10 redraws a second are smooth enough and cost nothing. */
    static final long FRAME_NANOS = 100_000_000L;
    private static final int WIDTH = 30;

    private final String label;
    private final long total;
    private final PrintStream err;
    private final boolean enabled;
    private final LongSupplier clock;
    private final long started;
    private long lastFrame = Long.MIN_VALUE;
    private long done;
    private boolean drawn;

    Progress(String label, long total, PrintStream err, boolean enabled, LongSupplier clock) {
        if (total < 0) throw new IllegalArgumentException("total must be ≥ 0, got " + total);
        this.label = label;
        this.total = total;
        this.err = err;
        this.enabled = enabled;
        this.clock = clock;
        this.started = clock.getAsLong();
    }

    /** A bar on System.err for {@code total} units, shown when {@code forced} or stderr is a terminal. */
    public static Progress start(String label, long total, boolean forced) {
        return new Progress(label, total, System.err, forced || stderrIsTerminal(), System::nanoTime);
    }

    /** True when the JVM's console is an interactive terminal (stdin and stdout attached; stderr follows them in practice). */
    static boolean stderrIsTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Records that {@code units} of the total are done, and redraws if it is time. */
    public void update(long units) {
        done = Math.min(Math.max(units, 0), total);
        if (!enabled) return;
        long now = clock.getAsLong();
        if (now - started < DELAY_NANOS) return;
        if (drawn && now - lastFrame < FRAME_NANOS && done < total) return;
        lastFrame = now;
        drawn = true;
        err.print("\r" + frame(now));
        err.flush();
    }

    @Override
    public void accept(long units) { update(units); }

    /** {@code label [#####.....]  45%  (450/1000)  3.2 s}. */
    String frame(long now) {
        int filled = total == 0 ? WIDTH : (int) (WIDTH * done / total);
        int pct = total == 0 ? 100 : (int) (100 * done / total);
        return String.format(Locale.ROOT, "%s [%s%s] %3d%%  (%d/%d)  %.1f s", label, "#".repeat(filled),
                ".".repeat(WIDTH - filled), pct, done, total, (now - started) / 1e9);
    }

    /** Draws the final state and ends the line, if a bar was shown. */
    @Override
    public void close() {
        if (!drawn) return;
        err.print("\r" + frame(clock.getAsLong()) + System.lineSeparator());
        err.flush();
        drawn = false;
    }
}
