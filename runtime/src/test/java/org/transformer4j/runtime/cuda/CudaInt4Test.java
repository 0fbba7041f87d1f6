// CudaInt4Test — LinearOp over 4-bit weights (ABI 21, T4J_WEIGHTS_INT4) on the GPU: the INT4 instances (F16, BF16, plain
// and gated; the GEMV for M <= 8, the tile GEMM above) against the float64 oracle over the reference's dequantized weights and the CPU twin, by the design's
// tolerance rule; NaN-poisoned outputs. Shapes: decode's one row (split-K), tile edges, K not a multiple of the 32-wide
// slice, act-order g_idx, column views of a fused matrix, a residual in place. F32 activations are refused by name.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.Int4LinearOpTest;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.reference.Oracle;

@Tag("gpu")
class CudaInt4Test {

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    private static Int4 upload(CudaBackend gpu, Int4 h) {
        return new Int4(gpu.upload(h.codes()), gpu.upload(h.scales()), gpu.upload(h.zeros()), h.gidx() == null ? null : gpu.upload(h.gidx()),
                h.groupSize());
    }

    @ParameterizedTest(name = "{0} M={1} N={2} K={3} group={4} gated={5} {6} residual={7}")
    @CsvSource({
        "BF16, 1, 256, 2048, 128, false, NONE, false",   // decode: the GEMV (M <= 8)
        "F16, 8, 300, 4096, 128, true, SILU, true",      // the GEMV's most rows, gated, residual in place
        "BF16, 9, 256, 2048, 128, false, NONE, false",   // one row more: the tile GEMM with split-K
        "F16, 1, 96, 512, 32, true, SILU, true",
        "BF16, 70, 65, 256, 128, false, GELU_TANH, true",
        "F16, 33, 130, 72, 8, false, RELU, false",       // K = 72: the last slice's words past K are zeros
        "BF16, 65, 33, 128, 0, true, SILU, false",       // act-order g_idx
        "F16, 200, 300, 1024, 64, false, NONE, false",
    })
    void matchesOracleAndTwin(DType dt, int m, int n, int k, int groupSize, boolean gated, Activation act, boolean withResidual) {
        CudaBackend gpu = GpuTests.backend();
        CpuBackend cpu = new CpuBackend();
        long seed = GpuTests.seed();
        SplittableRandom rnd = new SplittableRandom(seed);
        String what = dt + " M=" + m + " N=" + n + " K=" + k + " group " + groupSize + (gated ? " gated" : "") + " seed " + seed;
        Int4LinearOpTest.Packed p = Int4LinearOpTest.pack(rnd, 2 * n + 5, k, groupSize, false);
        Int4 hw = p.w().columns(0, n), hwg = p.w().columns(n, 2 * n);
        Int4 dw = upload(gpu, p.w());
        try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, m * k, 1), m, k); Tensor hr = Tensor.of(dt, GpuTests.random(rnd, m * n, 1), m, n);
             Tensor hb = Tensor.of(dt, GpuTests.random(rnd, n, 1), n);
             Tensor x = gpu.upload(hx); Tensor b = gpu.upload(hb);
             Tensor out = withResidual ? gpu.upload(hr) : GpuTests.poisoned(gpu, dt, m, n); Tensor cout = Tensor.empty(dt, m, n)) {
            LinearOp g = LinearOp.of(x, dw.columns(0, n), out).activation(act).bias(b).alpha(0.5f);
            LinearOp c = LinearOp.of(hx, hw, cout).activation(act).bias(hb).alpha(0.5f);
            if (gated) {
                g = g.gate(dw.columns(n, 2 * n), null);
                c = c.gate(hwg, null);
            }
            if (withResidual) {
                g = g.residual(out);                           // in place: out += …
                c = c.residual(hr);
            }
            gpu.linear(g);
            cpu.linear(c);
            double[] ref = Oracle.linear(m, n, k, hx.toFloatArray(), floats(p.dense(0, n, dt)), true, hb.toFloatArray(),
                    gated ? floats(p.dense(n, n, dt)) : null, null, withResidual ? hr.toFloatArray() : null, 0.5f, act.code(), 0);
            GpuTests.withinTolerance(dt, GpuTests.download(gpu, out), cout.toFloatArray(), ref, what);
        } finally {
            dw.codes().close();
            dw.scales().close();
            dw.zeros().close();
            if (dw.gidx() != null) dw.gidx().close();
        }
    }

    @Test
    void f32ActivationsAreRefusedByName() {
        CudaBackend gpu = GpuTests.backend();
        Int4LinearOpTest.Packed p = Int4LinearOpTest.pack(new SplittableRandom(1), 16, 32, 16, false);
        Int4 dw = upload(gpu, p.w());
        try (Tensor x = gpu.empty(DType.F32, 2, 32); Tensor y = gpu.empty(DType.F32, 2, 16)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.linear(LinearOp.of(x, dw, y)));
            assertTrue(e.getMessage().contains("take F16 or BF16 activations"), e.getMessage());
        } finally {
            dw.codes().close();
            dw.scales().close();
            dw.zeros().close();
        }
    }
}
