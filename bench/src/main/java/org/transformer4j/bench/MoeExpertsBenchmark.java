// MoeExpertsBenchmark — JMH: one gpt-oss-20b expert MLP step on the CPU backend, its experts' weights in MXFP4 as the
// published checkpoint stores them (decoded inside the grouped GEMM: GroupedLinearOp.mxfp4, CpuMxfp4) against the same
// experts dense in BF16 and F32 (decoded at load): the gated up projection with biases and the clamped SwiGLU, then the
// down projection, over the rows the router sent to each expert. Shapes: C = F = 2880 (gpt-oss-20b), E experts each
// with rows/E rows (tokens · top-4 / E): rows 4 is one decode step of one sequence (4 experts, one row each), rows 128 a
// 32-token chunk. Bytes of weights read per step: E · 3 · C · F · (17/32 for MXFP4, 2 for BF16, 4 for F32).
package org.transformer4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GroupedLinearOp;
import org.transformer4j.runtime.Mxfp4;
import org.transformer4j.runtime.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MoeExpertsBenchmark {

    static final int C = 2880, F = 2880, E = 4;

    /** Rows routed to the E experts in all (equal shares). */
    @Param({"4", "128"})
    int rows;

    /** MXFP4 (kept as stored), BF16 or F32 (dense). */
    @Param({"MXFP4", "BF16", "F32"})
    String weights;

    CpuBackend backend;
    Tensor x, hidden, out, offsets, bias, biasGate, downBias, upGate, down, blocksUp, scalesUp, blocksDown, scalesDown;
    GroupedLinearOp up, dn;

    @Setup(Level.Trial)
    public void setup() {
        backend = new CpuBackend();
        boolean q = weights.equals("MXFP4");
        DType dt = q ? DType.F32 : DType.valueOf(weights);
        SplittableRandom rnd = new SplittableRandom(5);
        int[] off = new int[E + 1];
        for (int g = 0; g < E; g++) off[g + 1] = off[g] + rows / E;
        offsets = Tensor.ofInts(off, E + 1);
        x = Tensor.of(dt, Util.random(rnd, rows * C), rows, C);
        hidden = backend.empty(dt, rows, F);
        out = backend.empty(dt, rows, C);
        bias = Tensor.of(dt, Util.random(rnd, E * F), E, F);
        biasGate = Tensor.of(dt, Util.random(rnd, E * F), E, F);
        downBias = Tensor.of(dt, Util.random(rnd, E * C), E, C);
        if (q) {
            blocksUp = bytes(rnd, E, 2L * F, C / 32, 16);
            scalesUp = scales(rnd, E, 2L * F, C / 32);
            blocksDown = bytes(rnd, E, C, F / 32, 16);
            scalesDown = scales(rnd, E, C, F / 32);
            Mxfp4 ug = new Mxfp4(blocksUp, scalesUp);
            up = GroupedLinearOp.mxfp4(x, ug.everyOtherRow(0), offsets, hidden).gate(ug.everyOtherRow(1)).bias(bias, biasGate)
                    .activation(Activation.SWIGLU_OAI);
            dn = GroupedLinearOp.mxfp4(hidden, new Mxfp4(blocksDown, scalesDown), offsets, out).bias(downBias, null);
        } else {
            float s = (float) (1 / Math.sqrt(C));
            upGate = Tensor.of(dt, Util.scaled(Util.random(rnd, E * 2 * F * C), s), E, 2L * F, C);
            down = Tensor.of(dt, Util.scaled(Util.random(rnd, E * C * F), s), E, C, F);
            up = GroupedLinearOp.of(x, upGate.slice(1, 0, F), offsets, hidden).transW(true).gate(upGate.slice(1, F, 2L * F))
                    .bias(bias, biasGate).activation(Activation.SWIGLU_OAI);
            dn = GroupedLinearOp.of(hidden, down, offsets, out).transW(true).bias(downBias, null);
        }
    }

    private static Tensor bytes(SplittableRandom rnd, long... shape) {
        Tensor t = Tensor.empty(DType.U8, shape);
        for (long i = 0; i < t.numel(); i++) t.hostSegment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        return t;
    }

    private static Tensor scales(SplittableRandom rnd, long... shape) {
        Tensor t = Tensor.empty(DType.U8, shape);
        for (long i = 0; i < t.numel(); i++) t.hostSegment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (118 + rnd.nextInt(4)));
        return t;
    }

    @Benchmark
    public void experts() {
        backend.groupedLinear(up);
        backend.groupedLinear(dn);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, hidden, out, offsets, bias, biasGate, downBias, upGate, down, blocksUp, scalesUp, blocksDown, scalesDown}) {
            if (t != null) t.close();
        }
        backend.close();
    }
}
