// CpuBandwidthBenchmark — JMH: this machine's memory bandwidth as the CPU backend sees it, the
// denominator of the memory-bound goals (norms at ≥ 50% of it; a decode step's floor = weight bytes ÷
// read bandwidth). "read": the Vector API sums a 512 MiB fp32 native segment (far past the caches)
// on every core, each core its own contiguous part; "copy": each core copies its part to a second
// segment (bytes moved = read + written). Score: ms per pass; GB/s = bytes / time.
package org.transformer4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class CpuBandwidthBenchmark {

    static final long BYTES = 512L << 20;
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    Arena arena;
    MemorySegment src;
    MemorySegment dst;
    int threads;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        src = arena.allocate(BYTES, 64);
        dst = arena.allocate(BYTES, 64);
        for (long i = 0; i < BYTES; i += 4) src.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) (i & 1023));
        dst.fill((byte) 1);
        threads = Runtime.getRuntime().availableProcessors();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** Reads all 512 MiB once; returns the sum so that nothing is skipped. */
    @Benchmark
    public float read() {
        return (float) IntStream.range(0, threads).parallel().mapToDouble(t -> sum(part(t))).sum();
    }

    /** Copies all 512 MiB (1 GiB moved). */
    @Benchmark
    public void copy() {
        IntStream.range(0, threads).parallel().forEach(t -> {
            long from = BYTES / threads * t;
            MemorySegment.copy(src, from, dst, from, BYTES / threads);
        });
    }

    private MemorySegment part(int t) {
        return src.asSlice(BYTES / threads * t, BYTES / threads);
    }

    private static float sum(MemorySegment s) {
        ByteOrder le = ByteOrder.nativeOrder();
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        long step = 4L * S.length();
        for (long i = 0, n = s.byteSize(); i + 4 * step <= n; i += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, s, i, le));
            a1 = a1.add(FloatVector.fromMemorySegment(S, s, i + step, le));
            a2 = a2.add(FloatVector.fromMemorySegment(S, s, i + 2 * step, le));
            a3 = a3.add(FloatVector.fromMemorySegment(S, s, i + 3 * step, le));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
