// ProgressTest — the progress bar on a fake clock: silent when disabled or for work under a second,
// throttled frames after that, a final frame and newline on close.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private long now;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String text() { return bytes.toString(StandardCharsets.UTF_8); }

    @Test
    void disabledWritesNothing() {
        try (Progress p = new Progress("load", 10, err, false, () -> now)) {
            now = 5_000_000_000L;
            p.update(5);
        }
        assertEquals("", text());
    }

    @Test
    void quickWorkLeavesNoTrace() {
        try (Progress p = new Progress("load", 10, err, true, () -> now)) {
            now = 900_000_000L;
            p.update(10);
        }
        assertEquals("", text());
    }

    @Test
    void slowWorkDrawsThrottledFramesAndEndsTheLine() {
        try (Progress p = new Progress("load", 200, err, true, () -> now)) {
            now = 1_200_000_000L;
            p.update(50);
            assertEquals("\rload [#######.......................]  25%  (50/200)  1.2 s", text());
            now += 50_000_000L;   // within the frame interval: not redrawn
            p.update(60);
            assertEquals(1, text().split("\r", -1).length - 1);
            now += 60_000_000L;
            p.update(100);
            assertTrue(text().endsWith("\rload [###############...............]  50%  (100/200)  1.3 s"), text());
            now += 10_000_000L;
            p.update(250);   // clamped to the total
        }
        String[] frames = text().split("\r");
        assertEquals("load [##############################] 100%  (200/200)  1.3 s" + System.lineSeparator(), frames[frames.length - 1]);
    }

    @Test
    void negativeTotalIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Progress("x", -1, err, true, () -> now));
    }
}
