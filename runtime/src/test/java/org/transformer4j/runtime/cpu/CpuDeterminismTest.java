// CpuDeterminismTest — the CPU kernels give the same bits on every call in a JVM, whether the
// interpreter, C1 or C2 runs them. Each case starts fresh JVMs (so that the first calls really are
// interpreted) running DeterminismProbe, then compares the calls within each JVM and the JVMs with
// each other.
package org.transformer4j.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuDeterminismTest {

    /**
     * Calls per kernel in the compiling JVMs. With -Xbatch (compilation blocks the caller) the Vector
     * API kernels are C2-compiled after a few dozen calls; reduceLanes(ADD), which this test caught,
     * changed bits from there on. The C2 run also checks that they were compiled (PrintCompilation).
     */
    static final int CALLS = 400;

    /**
     * Vector API kernels that the C2 run must have compiled at tier 4 for the comparison to mean
     * anything. Only those that reliably get a compilation of their own: a small kernel that C2
     * inlines into its caller first (attention's weightedRows) never shows up in PrintCompilation.
     */
    static final List<String> VECTOR_KERNELS = List.of("dot", "pass4x4", "axpy", "microKernel", "sum", "sumSq", "sumSqDev", "normOut", "gelu");

    @TempDir
    Path dir;

    @Test
    void vectorApiPathGivesTheSameBitsInterpretedC1AndC2() throws Exception {
        assumeTrue(CpuKernels.simdAvailable(), "the Vector API (jdk.incubator.vector) is not available");
        sameBitsEverywhere(true);
    }

    @Test
    void scalarPathGivesTheSameBitsInterpretedC1AndC2() throws Exception {
        sameBitsEverywhere(false);
    }

    private void sameBitsEverywhere(boolean simd) throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        String path = "-Dt4j.cpu.simd=" + simd;
        Run interpreted = probe(seed, 1, path, "-Xint");
        Run c1 = probe(seed, CALLS, path, "-XX:TieredStopAtLevel=1");
        Run c2 = probe(seed, CALLS, path, "-Xbatch", "-XX:+PrintCompilation");
        assertEquals("simd " + simd, interpreted.report.getLast(), "path of the probe JVM");

        if (simd) {
            for (String m : VECTOR_KERNELS) {
                Pattern tier4 = Pattern.compile("\\s4\\s+org\\.transformer4j\\.runtime\\.cpu\\.VectorOps::" + m + " ");
                assertTrue(c2.stdout.lines().anyMatch(l -> tier4.matcher(l).find()),
                        "the C2 run never compiled VectorOps." + m + " at tier 4, so it compared nothing compiled; raise CALLS");
            }
        }
        for (Run r : List.of(c1, c2)) {
            for (String line : r.report) {
                assertTrue(!line.contains(" differing ") || line.contains(" differing 0 "),
                        "seed " + seed + ", " + r.flags + ": calls after the first gave other bits: " + line);
            }
        }
        assertEquals(interpreted.report, c1.report, "seed " + seed + ": interpreter vs C1 (first call's bits per kernel)");
        assertEquals(interpreted.report, c2.report, "seed " + seed + ": interpreter vs C2 (first call's bits per kernel)");
    }

    /** One probe JVM's report lines, its stdout, and the flags it ran with. */
    private record Run(List<String> report, String stdout, List<String> flags) {}

    private Run probe(long seed, int calls, String... flags) throws IOException, InterruptedException {
        Path report = Files.createTempFile(dir, "probe", ".txt");
        Path out = Files.createTempFile(dir, "probe", ".out");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            cmd.add("--add-modules=jdk.incubator.vector");
        }
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DeterminismProbe.class.getName(),
                Long.toString(seed), Integer.toString(calls), report.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("probe JVM " + List.of(flags) + " did not finish in 120 s");
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "probe JVM " + List.of(flags) + " failed:\n" + stdout);
        return new Run(Files.readAllLines(report), stdout, List.of(flags));
    }
}
