// CudaMaskTest — the token-mask op on the GPU against the CPU twin, bit for bit (it only copies or writes
// −∞), over Qwen's padded vocabulary and a short odd one, in each dtype, on random logits.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.MaskOp;
import org.transformer4j.runtime.Tensor;

@Tag("gpu")
class CudaMaskTest {

    private final CpuBackend cpu = new CpuBackend();

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void maskEqualsTheCpuTwinBitForBit(DType dt) {
        CudaBackend gpu = GpuTests.backend();
        SplittableRandom rnd = new SplittableRandom(GpuTests.seed());
        for (int[] shape : new int[][] {{4, 151936}, {3, 1001}, {1, 31}}) {
            int rows = shape[0], v = shape[1], w = (v + 31) / 32;
            int[] bits = new int[rows * w];
            for (int i = 0; i < bits.length; i++) bits[i] = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt();
            try (Tensor hx = Tensor.of(dt, GpuTests.random(rnd, rows * v, 3), rows, v); Tensor hb = Tensor.ofInts(bits, rows, w);
                 Tensor x = gpu.upload(hx); Tensor b = gpu.upload(hb)) {
                gpu.mask(new MaskOp(x, b));
                cpu.mask(new MaskOp(hx, hb));
                assertArrayEquals(hx.toFloatArray(), GpuTests.download(gpu, x), dt + " " + rows + " × " + v);
            }
        }
    }
}
