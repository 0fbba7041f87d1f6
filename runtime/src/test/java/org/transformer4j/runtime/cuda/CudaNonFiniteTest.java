// CudaNonFiniteTest — the CUDA sample kernel on non-finite rows (a NaN, a +inf, all −inf, all NaN)
// beside a finite one, F32 and BF16: ids in [0, V), the same flags and NaN logprobs as the CPU twin,
// the same ids for the non-finite rows (an argmax over non-NaN logits). Written without a GPU: never
// run on one yet (bench/GPU-STATUS.md).
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.SampleOp;
import org.transformer4j.runtime.Tensor;

@Tag("gpu")
class CudaNonFiniteTest {

    static final int V = 300;

    static float[] logits() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        float[] x = new float[5 * V];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 3);
        x[5] = Float.NaN;
        x[V + 17] = Float.POSITIVE_INFINITY;
        for (int c = 0; c < V; c++) {
            x[2 * V + c] = Float.NEGATIVE_INFINITY;
            x[3 * V + c] = Float.NaN;
        }
        return x;
    }

    @ParameterizedTest
    @CsvSource({"F32, 0, 0", "F32, 0.8, 40", "BF16, 0, 0", "BF16, 0.8, 0"})
    void nonFiniteRowsMatchTheCpuTwin(DType dt, float temperature, int topK) {
        CudaBackend gpu = GpuTests.backend();
        try (CpuBackend cpu = new CpuBackend(); Tensor host = Tensor.of(dt, logits(), 5, V); Tensor logits = gpu.upload(host);
             Tensor ids = gpu.empty(DType.I32, 5); Tensor flags = gpu.empty(DType.I32, 5); Tensor lp = gpu.empty(DType.F32, 5);
             Tensor cids = Tensor.empty(DType.I32, 5); Tensor cflags = Tensor.empty(DType.I32, 5); Tensor clp = Tensor.empty(DType.F32, 5)) {
            SampleOp g = temperature == 0f ? SampleOp.greedy(logits, ids) : SampleOp.sample(logits, temperature, 5, ids);
            SampleOp c = temperature == 0f ? SampleOp.greedy(host, cids) : SampleOp.sample(host, temperature, 5, cids);
            if (topK > 0) {
                g = g.topK(topK);
                c = c.topK(topK);
            }
            gpu.sample(g.logprobs(lp).nonFinite(flags));
            cpu.sample(c.logprobs(clp).nonFinite(cflags));
            int[] got;
            int[] gotFlags;
            float[] gotLp;
            try (Tensor h1 = gpu.toHost(ids); Tensor h2 = gpu.toHost(flags); Tensor h3 = gpu.toHost(lp)) {
                got = h1.toIntArray();
                gotFlags = h2.toIntArray();
                gotLp = h3.toFloatArray();
            }
            for (int id : got) assertTrue(id >= 0 && id < V, "id " + id + " outside [0, " + V + ")");
            assertArrayEquals(new int[] {1, 1, 1, 1, 0}, gotFlags);
            assertArrayEquals(cflags.toIntArray(), gotFlags);
            for (int r = 0; r < 4; r++) assertTrue(Float.isNaN(gotLp[r]), "row " + r + " logprob NaN");
            assertTrue(Float.isFinite(gotLp[4]), "the finite row's logprob");
            assertArrayEquals(java.util.Arrays.copyOf(cids.toIntArray(), 4), java.util.Arrays.copyOf(got, 4),
                    "the non-finite rows' ids: an argmax, no rounding involved");
        }
    }
}
