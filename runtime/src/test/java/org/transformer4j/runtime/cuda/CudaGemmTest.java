// CudaGemmTest — GEMM through cuBLAS (FFM) against the float64 oracle and the CPU twin: dtype ×
// transposes × shapes (1×1×1, odd sizes, K not a multiple of 8, batched, B shared by the batch),
// alpha/beta, and beta = 0 ignoring a NaN-poisoned C as BLAS promises.
package org.transformer4j.runtime.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.reference.Oracle;

@Tag("gpu")
class CudaGemmTest {

    /** batch (0: rank 2), M, N, K, B shared across the batch. */
    static Stream<Arguments> cases() {
        int[][] shapes = {{0, 1, 1, 1, 0}, {0, 3, 5, 7, 0}, {0, 64, 96, 33, 0}, {0, 128, 3072, 768, 0},
                          {4, 17, 65, 129, 0}, {3, 31, 48, 64, 1}};
        List<Arguments> out = new ArrayList<>();
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) out.add(Arguments.of(dt, s[0], s[1], s[2], s[3], s[4] == 1, (t & 1) != 0, (t & 2) != 0));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} batch={1} M={2} N={3} K={4} sharedB={5} transA={6} transB={7}")
    @MethodSource("cases")
    void matchesOracleAndCpuTwin(DType dt, int batch, int m, int n, int k, boolean sharedB, boolean transA, boolean transB) {
        CudaBackend gpu = GpuTests.backend();
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        int nb = Math.max(batch, 1);
        long[] aShape = matrix(batch, transA ? k : m, transA ? m : k);
        long[] bShape = matrix(sharedB ? 0 : batch, transB ? n : k, transB ? k : n);
        long[] cShape = matrix(batch, m, n);
        float alpha = k % 2 == 0 ? 1f : 0.75f;
        float beta = m % 2 == 1 ? 0f : 0.5f;
        String what = dt + " " + java.util.Arrays.toString(cShape) + " K=" + k + " seed " + seed;
        try (Tensor ha = Tensor.of(dt, GpuTests.random(rnd, nb * m * k, 1), aShape);
             Tensor hb = Tensor.of(dt, GpuTests.random(rnd, (sharedB ? 1 : nb) * k * n, 1), bShape);
             Tensor hc = Tensor.of(dt, GpuTests.random(rnd, nb * m * n, 1), cShape);
             Tensor a = gpu.upload(ha); Tensor b = gpu.upload(hb);
             Tensor c = beta == 0f ? GpuTests.poisoned(gpu, dt, cShape) : gpu.upload(hc);
             Tensor cc = cpu.upload(hc)) {
            gpu.gemm(GemmOp.of(a, b, c).transA(transA).transB(transB).scale(alpha, beta));
            cpu.gemm(GemmOp.of(ha, hb, cc).transA(transA).transB(transB).scale(alpha, beta));
            double[] ref = Oracle.gemm(nb, m, n, k, alpha,
                    ha.toFloatArray(), 0, (long) m * k, (int) aShape[aShape.length - 1], transA,
                    hb.toFloatArray(), 0, sharedB ? 0 : (long) k * n, (int) bShape[bShape.length - 1], transB,
                    beta, hc.toFloatArray(), 0, (long) m * n, n);
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, c), cc.toFloatArray(), ref, what);
        }
    }

    private static long[] matrix(int batch, long rows, long cols) {
        return batch == 0 ? new long[] {rows, cols} : new long[] {batch, rows, cols};
    }
}
