// OpValidationTest — malformed gemm and norm arguments are rejected before any kernel runs, with
// messages that name the tensor and both shapes (the same checks serve every backend).
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class OpValidationTest {

    private final Backend cpu = new CpuBackend();

    private static void rejects(Executable op, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }

    @Test
    void gemmShapeAndDTypeMismatches() {
        try (Tensor a = Tensor.empty(DType.F32, 4, 3); Tensor b = Tensor.empty(DType.F32, 5, 2);
             Tensor c = Tensor.empty(DType.F32, 4, 2); Tensor bh = Tensor.empty(DType.BF16, 3, 2);
             Tensor c3 = Tensor.empty(DType.F32, 4, 3); Tensor ints = Tensor.empty(DType.I32, 4, 3);
             Tensor c33 = Tensor.empty(DType.F32, 3, 3)) {
            float[] before = c.fill(7f).toFloatArray();
            rejects(() -> cpu.gemm(GemmOp.of(a, b, c)), "K=3", "K=5", "(4, 3)", "(5, 2)");
            rejects(() -> cpu.gemm(GemmOp.of(a, bh, c)), "B has dtype BF16", "A has F32");
            rejects(() -> cpu.gemm(GemmOp.of(a, a, c3).transB(true)), "C has shape (4, 3)", "(4, 4)");
            rejects(() -> cpu.gemm(GemmOp.of(ints, b, c)), "A must be F32, F16 or BF16", "I32");
            rejects(() -> cpu.gemm(GemmOp.of(a.transpose(0, 1), a, c33)), "A", "contiguous last dimension");
            assertArrayEquals(before, c.toFloatArray(), "nothing was written");
        }
        try (Tensor a = Tensor.empty(DType.F32, 2, 4, 3); Tensor b = Tensor.empty(DType.F32, 3, 3, 2);
             Tensor c = Tensor.empty(DType.F32, 2, 4, 2)) {
            rejects(() -> cpu.gemm(GemmOp.of(a, b, c)), "B has batch 3", "A has batch 2");
        }
    }

    @Test
    void normShapeAndDTypeMismatches() {
        try (Tensor x = Tensor.empty(DType.F32, 3, 8); Tensor w = Tensor.empty(DType.F32, 8);
             Tensor w7 = Tensor.empty(DType.F32, 7); Tensor out = Tensor.empty(DType.F32, 3, 8);
             Tensor outBad = Tensor.empty(DType.F32, 8, 3); Tensor wh = Tensor.empty(DType.F16, 8);
             Tensor r = Tensor.empty(DType.F32, 2, 8)) {
            rejects(() -> cpu.norm(NormOp.layer(x, w7, null, 1e-5f, out)), "weight has shape (7)", "x (3, 8)", "(8)");
            rejects(() -> cpu.norm(NormOp.rms(x, w, 1e-6f, outBad)), "out has shape (8, 3)", "x has shape (3, 8)");
            rejects(() -> cpu.norm(NormOp.rms(x, wh, 1e-6f, out)), "weight has dtype F16");
            rejects(() -> cpu.norm(NormOp.rms(x, w, 1e-6f, out).withResidual(r, null)), "residual has shape (2, 8)");
            rejects(() -> cpu.norm(NormOp.rms(x, w, -1f, out)), "eps");
            rejects(() -> cpu.norm(NormOp.rms(x, w, Float.NaN, out)), "eps");
            rejects(() -> cpu.norm(NormOp.rms(x, w, 1e-6f, out).withResidual(null, out)), "residualOut given without residual");
        }
        Tensor closed = Tensor.empty(DType.F32, 3, 8);
        closed.close();
        try (Tensor w = Tensor.empty(DType.F32, 8); Tensor out = Tensor.empty(DType.F32, 3, 8)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> cpu.norm(NormOp.rms(closed, w, 1e-6f, out)));
            assertTrue(e.getMessage().contains("x") && e.getMessage().contains("closed"), e.getMessage());
        }
    }
}
