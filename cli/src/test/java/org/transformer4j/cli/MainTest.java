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

    /**
     * `t4j convert` on a sharded PyTorch folder (model/src/test/resources/torch/phi-sharded, written from PyTorch's
     * serialization code): it names each file it wrote; a second run refuses to overwrite; a pickle that calls a function
     * is one line on stderr, exit 1.
     */
    @Test
    void convertWritesSafetensorsBesideThePickles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path from = java.nio.file.Path.of("..", "model", "src", "test", "resources", "torch").toAbsolutePath().normalize();
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(tmp.resolve("phi"));
        try (var files = java.nio.file.Files.list(from.resolve("phi-sharded"))) {
            for (java.nio.file.Path f : files.toList()) java.nio.file.Files.copy(f, dir.resolve(f.getFileName()));
        }
        Run r = run("convert", dir.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("pytorch_model-00001-of-00002.bin -> model-00001-of-00002.safetensors")
                && r.out().contains("pytorch_model-00002-of-00002.bin -> model-00002-of-00002.safetensors"), r.out());
        assertTrue(java.nio.file.Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
        Run again = run("convert", dir.toString());
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("exists"), again.err());
        assertEquals(0, run("convert", "--overwrite", dir.toString()).exit());
        java.nio.file.Path evil = java.nio.file.Files.createDirectories(tmp.resolve("evil"));
        java.nio.file.Files.copy(from.resolve("malicious.bin"), evil.resolve("pytorch_model.bin"));
        Run bad = run("convert", evil.toString());
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("posix.system") && bad.err().lines().count() == 1, bad.err());
    }
}
