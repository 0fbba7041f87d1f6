// CudaNormTest — the norm kernels (Java → FFM → libt4j → kernel) against the float64 oracle (the CPU
// twin only as the naive low-precision error of the tolerance rule): dtype × kind × residual (none, out-of-place, in place) × bias × shapes, including
// one column, widths that are no multiple of a warp, and rows too wide for the shared-memory cache.
// Outputs start as NaN so that an element the kernel skips fails the test; inputs are fresh random.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.reference.Oracle;

@Tag("gpu")
class CudaNormTest {

    enum Residual { NONE, SEPARATE_OUT, IN_PLACE }

    /** -Dt4j.test.small=true (compute-sanitizer runs) keeps only small shapes. */
    static Stream<Arguments> cases() {
        boolean small = Boolean.getBoolean("t4j.test.small");
        int[][] shapes = small ? new int[][] {{1, 1}, {3, 37}, {4, 300}}
                : new int[][] {{1, 1}, {3, 37}, {64, 768}, {5, 4099}, {2, 13000}, {257, 512}};
        List<Arguments> out = new ArrayList<>();
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            for (NormOp.Kind kind : NormOp.Kind.values()) {
                for (Residual res : Residual.values()) {
                    for (int[] s : shapes) {
                        boolean bias = kind == NormOp.Kind.LAYER || s[1] % 2 == 1;
                        out.add(Arguments.of(dt, kind, res, bias, s[0], s[1]));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} residual={2} bias={3} ({4} x {5})")
    @MethodSource("cases")
    void matchesOracleAndCpuTwin(DType dt, NormOp.Kind kind, Residual res, boolean withBias, int rows, int cols) {
        CudaBackend gpu = GpuTests.backend();
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        String what = dt + " " + kind + " " + res + " (" + rows + " x " + cols + ") seed " + seed;
        float eps = kind == NormOp.Kind.LAYER ? 1e-5f : 1e-6f;
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, rows * cols, 3), rows, cols);
             Tensor hr = Tensor.of(dt, GpuTests.random(rnd, rows * cols, 3), rows, cols);
             Tensor hw = Tensor.of(dt, GpuTests.random(rnd, cols, 1.5), cols);
             Tensor hb = Tensor.of(dt, GpuTests.random(rnd, cols, 0.5), cols);
             Tensor x = gpu.upload(hx); Tensor r = gpu.upload(hr); Tensor w = gpu.upload(hw); Tensor b = gpu.upload(hb);
             Tensor out = GpuTests.poisoned(gpu, dt, rows, cols);
             Tensor sum = GpuTests.poisoned(gpu, dt, rows, cols);
             Tensor cOut = Tensor.empty(dt, rows, cols); Tensor cSum = Tensor.empty(dt, rows, cols);
             Tensor cR = cpu.upload(hr)) {
            Tensor bias = withBias ? b : null;
            NormOp gpuOp = kind == NormOp.Kind.LAYER ? NormOp.layer(x, w, bias, eps, out) : NormOp.rms(x, w, eps, out).withBias(bias);
            NormOp cpuOp = kind == NormOp.Kind.LAYER ? NormOp.layer(hx, hw, withBias ? hb : null, eps, cOut)
                    : NormOp.rms(hx, hw, eps, cOut).withBias(withBias ? hb : null);
            switch (res) {
                case NONE -> { }
                case SEPARATE_OUT -> {
                    gpuOp = gpuOp.withResidual(r, sum);
                    cpuOp = cpuOp.withResidual(hr, cSum);
                }
                case IN_PLACE -> {
                    gpuOp = gpuOp.withResidual(r, r);          // the residual stream updated in place
                    cpuOp = cpuOp.withResidual(cR, cR);
                }
            }
            gpu.norm(gpuOp);
            cpu.norm(cpuOp);

            float[] xs = hx.toFloatArray();
            float[] rs = hr.toFloatArray();
            float[] ws = hw.toFloatArray();
            float[] bs = withBias ? hb.toFloatArray() : null;
            double[] h = Oracle.hidden(rows, cols, xs, 0, cols, res == Residual.NONE ? null : rs, 0, cols,
                    CpuBackend.rounding(dt));
            double[] ref = kind == NormOp.Kind.LAYER ? Oracle.layerNorm(rows, cols, h, ws, 0, bs, 0, eps)
                    : Oracle.rmsNorm(rows, cols, h, ws, 0, bs, 0, eps);
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, out), cOut.toFloatArray(), ref, what + " out");
            if (res != Residual.NONE) {
                float[] gotSum = GpuTests.download(gpu, res == Residual.IN_PLACE ? r : sum);
                float[] cpuSum = (res == Residual.IN_PLACE ? cR : cSum).toFloatArray();
                GpuTests.allWritten(gotSum, what + " residual_out");
                // h = round(x + r) is one rounding of an exact fp32 sum: bit-identical on both backends.
                assertArrayEquals(cpuSum, gotSum, 0f, what + " residual_out");
            }
        }
    }

    @Test
    void stridedRowsAndLeadingDimensions() {
        CudaBackend gpu = GpuTests.backend();
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        // x is a column slice of a wider buffer: rows are 96 apart but 64 wide; (2, 3, 64) folds to 6 rows.
        try (Tensor wide = Tensor.of(DType.F32, GpuTests.random(rnd, 6 * 96, 2), 2, 3, 96);
             Tensor hw = Tensor.of(DType.F32, GpuTests.random(rnd, 64, 1), 64);
             Tensor dWide = gpu.upload(wide); Tensor w = gpu.upload(hw);
             Tensor out = GpuTests.poisoned(gpu, DType.F32, 2, 3, 64); Tensor cOut = Tensor.empty(DType.F32, 2, 3, 64)) {
            gpu.norm(NormOp.rms(dWide.slice(2, 16, 80), w, 1e-6f, out));
            cpu.norm(NormOp.rms(wide.slice(2, 16, 80), hw, 1e-6f, cOut));
            float[] got = GpuTests.download(gpu, out);
            // float64 oracle on the same view: 6 rows of 64 starting at column 16, 96 apart
            double[] h = Oracle.hidden(6, 64, wide.toFloatArray(), 16, 96, null, 0, 0, null);
            double[] ref = Oracle.rmsNorm(6, 64, h, hw.toFloatArray(), 0, null, 0, 1e-6f);
            GpuTests.withinTolerance(DType.F32, got, cOut.toFloatArray(), ref, "strided rows, seed " + seed);
        }
    }
}
