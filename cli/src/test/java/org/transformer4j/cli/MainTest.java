// MainTest — `t4j info`, `t4j demo` and bad usage, run in-process on whatever backend is usable here.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {

    private record Run(int exit, String out, String err) {}

    private static synchronized Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void infoNamesBackendKernelsAndDriver() {
        Run r = run("info");
        assertEquals(0, r.exit(), r.err());
        for (String line : new String[] {"native:", "kernels:", "driver:", "cuBLAS:", "backend:"}) {
            assertTrue(r.out().contains(line), line + " missing in:\n" + r.out());
        }
        assertTrue(r.out().contains("CUDA kernels for sm_") || r.out().contains("no CUDA kernels in this build"), r.out());
    }

    @Test
    void demoChecksEveryOpAgainstFloat64() {
        Run r = run("demo", "--seed", "7");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("all ops match the float64 reference"), r.out());
        for (String op : new String[] {"gemm F32", "gemm BF16", "layernorm F32", "layernorm BF16", "rmsnorm   F32",
                                       "rmsnorm   BF16", "linear+gelu F32", "linear+gelu BF16", "argmax F32", "argmax BF16"}) {
            assertTrue(r.out().contains(op), op + " missing in:\n" + r.out());
        }
        assertTrue(!r.out().contains("FAIL"), r.out());
    }

    @Test
    void badUsageExitsTwoAndUnknownBackendIsOneLine() {
        assertEquals(2, run("frobnicate").exit());
        String old = System.getProperty("t4j.backend");
        System.setProperty("t4j.backend", "tpu");
        try {
            Run r = run("demo");
            assertEquals(1, r.exit());
            assertEquals("t4j demo: t4j.backend must be auto, cpu or cuda, got 'tpu'", r.err().strip());
        } finally {
            if (old == null) System.clearProperty("t4j.backend");
            else System.setProperty("t4j.backend", old);
        }
    }
}
